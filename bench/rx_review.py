"""Prescription review with the full shipped rule pack: the engine over compiled tables against a naive baseline
(the rules read from the database and compiled for every prescription) in the same run.

    python bench/rx_review.py [--n 20000] [--seed 1] [--single 2000]

A seeded synthetic month of outpatient prescriptions (no Django database; the baseline's database is an SQLite
file holding the pack's rows, read with the standard library as a service would per request): 1–5 lines drawn from
~40 common drugs (ATC coded, some antibiotics of each grade), ages 0–90, weights for children, a few pregnant,
diagnoses from a dozen ICD-10 families, a tenth over the days' supply, kinds normal/emergency/pediatric/chronic,
care levels village/township/county. Prints the p50/p95 per prescription (single, timed one by one), the
prescriptions per second in batch (the 点评 sampling run), the same for the baseline, and the ratios; the issue
asks ≤ 20 ms p95 and ≥ 1,000 /s."""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import setup_django

DRUGS = [  # generic, ATC, strength, antibiotic grade
    ("氨氯地平", "C08CA01", "5mg", ""), ("硝苯地平", "C08CA05", "10mg", ""), ("依那普利", "C09AA02", "10mg", ""),
    ("卡托普利", "C09AA01", "25mg", ""), ("缬沙坦", "C09CA03", "80mg", ""), ("氯沙坦", "C09CA01", "50mg", ""),
    ("美托洛尔", "C07AB02", "25mg", ""), ("普萘洛尔", "C07AA05", "10mg", ""), ("氢氯噻嗪", "C03AA03", "25mg", ""),
    ("螺内酯", "C03DA01", "20mg", ""), ("二甲双胍", "A10BA02", "0.5g", ""), ("格列本脲", "A10BB01", "2.5mg", ""),
    ("格列美脲", "A10BB12", "2mg", ""), ("阿卡波糖", "A10BF01", "50mg", ""), ("阿司匹林", "B01AC06", "100mg", ""),
    ("氯吡格雷", "B01AC04", "75mg", ""), ("华法林", "B01AA03", "2.5mg", ""), ("阿托伐他汀", "C10AA05", "20mg", ""),
    ("辛伐他汀", "C10AA01", "20mg", ""), ("奥美拉唑", "A02BC01", "20mg", ""), ("雷贝拉唑", "A02BC04", "10mg", ""),
    ("铝碳酸镁", "A02AD02", "0.5g", ""), ("对乙酰氨基酚", "N02BE01", "0.5g", ""), ("布洛芬", "M01AE01", "0.2g", ""),
    ("双氯芬酸", "M01AB05", "25mg", ""), ("阿莫西林", "J01CA04", "0.25g", "unrestricted"),
    ("头孢氨苄", "J01DB01", "0.25g", "unrestricted"), ("阿奇霉素", "J01FA10", "0.25g", "restricted"),
    ("克拉霉素", "J01FA09", "0.25g", "restricted"), ("左氧氟沙星", "J01MA12", "0.5g", "restricted"),
    ("头孢曲松", "J01DD04", "1g", "restricted"), ("美罗培南", "J01DH02", "0.5g", "special"),
    ("多西环素", "J01AA02", "0.1g", "unrestricted"), ("氨溴索", "R05CB06", "30mg", ""),
    ("沙丁胺醇", "R03AC02", "0.1mg", ""), ("蒙脱石散", "A07BC05", "3g", ""), ("维生素B1", "A11DA01", "10mg", ""),
    ("氯雷他定", "R06AX13", "10mg", ""), ("地高辛", "C01AA05", "0.25mg", ""), ("呋塞米", "C03CA01", "20mg", ""),
]
DX = ["I10", "E11.9", "J06.9", "J20.9", "K29.7", "M54.5", "I25.1", "J45.9", "N39.0", "K25.3", "M10.0", "N18.5",
      "R51", "Z34.0"]
FREQ = ["qd", "bid", "tid", "qid", "prn", "q8h"]


def synthetic(n: int, seed: int):
    from yigongti.prescribing.engine import LineFacts, RxFacts

    r = random.Random(seed)
    out = []
    for _i in range(n):
        months = r.choice([r.randint(2, 14 * 12), r.randint(18 * 12, 90 * 12), r.randint(40 * 12, 85 * 12)])
        kind = "pediatric" if months < 14 * 12 else r.choice(["normal"] * 6 + ["emergency", "chronic"])
        lines = []
        for seq in range(1, r.choice([1, 2, 2, 3, 3, 4, 5]) + 1):
            g, atc, strength, ab = r.choice(DRUGS)
            days = r.choice([3, 5, 7, 7, 14, 28, 84]) if kind == "chronic" else r.choice([1, 3, 3, 5, 7, 7, 10])
            lines.append(LineFacts(seq, seq, g, atc, ab, strength, "片", r.choice([0.5, 1, 1, 2, 3]), "片",
                                   r.choice(FREQ), "po", days))
        out.append(RxFacts(kind=kind, age_months=months, lines=tuple(lines),
                           weight_kg=round(3 + months * 0.2, 1) if months < 14 * 12 else None,
                           pregnant=months > 18 * 12 and r.random() < 0.03,
                           diagnoses=tuple(r.sample(DX, r.choice([1, 1, 2]))),
                           conditions=tuple(r.sample(["I10", "E11", "N18.5", "J45"], r.choice([0, 0, 1]))),
                           days_reason="行动不便" if r.random() < 0.05 else "",
                           care_level=r.choice(["village", "township", "county"])))
    return out


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000, help="prescriptions in the batch")
    ap.add_argument("--single", type=int, default=2000, help="prescriptions timed one by one")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    setup_django()
    from yigongti.prescribing import engine, rulepack

    print(f"load before: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    rows = rulepack.shipped_rows()
    rxs = synthetic(a.n, a.seed)
    t = time.perf_counter()
    tables = engine.compile_rules(rows)
    compile_ms = (time.perf_counter() - t) * 1000

    # the baseline's database: the pack as rows, read and compiled for every prescription
    fd, path = tempfile.mkstemp(suffix=".sqlite3")
    os.close(fd)
    db = sqlite3.connect(path)
    db.execute("create table rule (code text, kind text, params text, severity int, message text, enabled int)")
    db.executemany("insert into rule values (?, ?, ?, ?, ?, ?)",
                   [(r["code"], r["kind"], json.dumps(r["params"], ensure_ascii=False),
                     rulepack.severity_of(r["severity"]), r["message"], 1) for r in rows])
    db.commit()

    def naive(rx):
        got = db.execute("select code, kind, params, severity, message, enabled from rule where enabled = 1")
        t2 = engine.compile_rules({"code": c, "kind": k, "params": json.loads(p), "severity": s, "message": m,
                                   "enabled": bool(e)} for c, k, p, s, m, e in got)
        return engine.evaluate(rx, t2)

    # same answers
    for rx in rxs[:200]:
        assert engine.evaluate(rx, tables) == naive(rx)
    single = []
    for rx in rxs[:a.single]:
        t = time.perf_counter()
        engine.evaluate(rx, tables)
        single.append((time.perf_counter() - t) * 1000)
    base_single = []
    for rx in rxs[:a.single]:
        t = time.perf_counter()
        naive(rx)
        base_single.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    flagged = sum(engine.needs_review(engine.evaluate(rx, tables), engine.MODERATE) for rx in rxs)
    batch_s = time.perf_counter() - t
    nb = min(a.n, 3000)
    t = time.perf_counter()
    for rx in rxs[:nb]:
        naive(rx)
    base_s = time.perf_counter() - t
    os.unlink(path)
    ours_rate, base_rate = a.n / batch_s, nb / base_s
    print(f"pack: {tables.size} rules, compiled once in {compile_ms:.1f} ms; {a.n} prescriptions, "
          f"{sum(len(r.lines) for r in rxs) / a.n:.1f} lines each, {flagged / a.n:.1%} held for review")
    print(f"{'':28}{'engine (compiled tables)':>26}{'baseline (DB + compile each)':>32}{'ratio':>8}")
    print(f"{'single p50 (ms)':28}{statistics.median(single):>26.4f}{statistics.median(base_single):>32.3f}"
          f"{statistics.median(base_single) / statistics.median(single):>8.0f}×")
    print(f"{'single p95 (ms)':28}{pct(single, 0.95):>26.4f}{pct(base_single, 0.95):>32.3f}"
          f"{pct(base_single, 0.95) / pct(single, 0.95):>8.0f}×")
    print(f"{'batch (prescriptions/s)':28}{ours_rate:>26,.0f}{base_rate:>32,.0f}{ours_rate / base_rate:>8.0f}×")
    print(f"targets: p95 ≤ 20 ms {'PASS' if pct(single, 0.95) <= 20 else 'FAIL'}; "
          f"≥ 1,000/s {'PASS' if ours_rate >= 1000 else 'FAIL'}")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
