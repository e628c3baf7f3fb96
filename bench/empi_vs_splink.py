"""EMPI matching vs Splink on the same messy multi-source records with ground truth.

    python bench/empi_vs_splink.py --persons 100000
    python bench/empi_vs_splink.py --persons 100000 --persons 1000000

For each size: generate persons and ~1.6 records each (``yigongti.residents.matching.synth``),
write them to Parquet once, then run each system in its own subprocess (so peak memory is that
system's alone, read with ``os.wait4``), each reading the same Parquet file and writing
``record_id, person_id``. The parent scores both against the truth: pairwise precision, recall
and F1 over all record pairs, the share of true persons reconstructed exactly (same record set),
wall time (read input → clusters written) and peak RSS.

Splink (5.x, DuckDB backend) is set up the way its documentation and tutorials recommend, on the
same fields and the same blocking keys as ours, and is given the same cleaning we do (it has no
Chinese-specific normalisation of its own, and cleaning before linking is what its docs advise):
traditional → simplified names, toneless pinyin, 15 → 18-digit IDs, normalised phones, the
township/village part of addresses, ISO dates (its cleaning time is reported but not counted in
its wall time). It is clustered at the probability its tutorials use (0.95); the best F1 over a few other
thresholds is also printed (computed after the timing stops), so Splink is not judged on one
arbitrary cut-off.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


# ---------------------------------------------------------------- data and scoring (parent)


def make_data(persons: int, workdir: Path, seed: int) -> Path:
    from yigongti.residents.matching import synth

    path = workdir / f"records_{persons}_s{seed}.parquet"
    if not path.exists():
        t = time.perf_counter()
        _people, records = synth.generate(persons, seed)
        pq.write_table(records, path)
        print(f"generated {records.num_rows:,} records of {persons:,} persons in {time.perf_counter() - t:.0f}s",
              flush=True)
    return path


def score(records: Path, clusters: Path) -> dict[str, float]:
    """Pairwise precision/recall/F1 and exact-cluster share against ``true_person_id``."""
    truth = pq.read_table(records, columns=["record_id", "true_person_id"])
    pred = pq.read_table(clusters, columns=["record_id", "person_id"])
    pred_ids = pc.cast(pred.column("person_id"), pa.string())
    joined = truth.join(pa.table({"record_id": pred.column("record_id"), "pid": pred_ids}), "record_id",
                        join_type="left outer")
    t = joined.column("true_person_id").to_numpy().astype(np.int64)
    # records a system failed to output count as singletons
    p_raw = joined.column("pid").combine_chunks()
    p_codes = pc.dictionary_encode(p_raw).indices.to_numpy(zero_copy_only=False)
    p_codes = np.where(np.isnan(p_codes.astype(float)), -1, p_codes).astype(np.int64)
    missing = p_codes < 0
    p_codes[missing] = p_codes.max(initial=0) + 1 + np.arange(missing.sum())

    def pairs(counts: np.ndarray) -> int:
        return int((counts * (counts - 1) // 2).sum())

    _, tc = np.unique(t, return_counts=True)
    _, pcnt = np.unique(p_codes, return_counts=True)
    both = t.astype(np.int64) * (p_codes.max() + 1) + p_codes
    _, bc = np.unique(both, return_counts=True)
    tp, true_pairs, pred_pairs = pairs(bc), pairs(tc), pairs(pcnt)
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # a true person is reconstructed exactly when its records form one predicted cluster alone
    size_t = dict(zip(*np.unique(t, return_counts=True), strict=True))
    size_p = dict(zip(*np.unique(p_codes, return_counts=True), strict=True))
    _, first = np.unique(both, return_index=True)
    _, bcount = np.unique(both, return_counts=True)
    exact = 0
    for i, c in zip(first.tolist(), bcount.tolist(), strict=True):
        if size_t[t[i]] == c and size_p[p_codes[i]] == c:
            exact += 1
    return {"precision": precision, "recall": recall, "f1": f1, "exact": exact / len(size_t)}


def run_child(system: str, records: Path, out: Path, extra: list[str]) -> dict:
    """Run one system in a subprocess; peak RSS from os.wait4 (that child only)."""
    cmd = [sys.executable, __file__, "--child", system, "--records", str(records), "--clusters", str(out), *extra]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = proc.stdout.read().splitlines()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{system} failed with exit code {proc.returncode}")
    info = json.loads(lines[-1])
    info["process_seconds"] = time.perf_counter() - started
    info["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return info


# ---------------------------------------------------------------- our EMPI (child)


def child_empi(records: Path, out: Path) -> dict:
    from yigongti.residents.matching.cli import link_command

    t = time.perf_counter()
    summary = link_command(records, out, out.with_suffix(".errors.parquet"), progress=False)
    return {"seconds": time.perf_counter() - t, "candidate_pairs": summary["candidate_pairs"]}


# ---------------------------------------------------------------- Splink (child)


def splink_input(records: Path) -> pa.Table:
    """The same cleaning our EMPI does, as plain columns Splink can compare."""
    from yigongti.residents.matching.compare import prepare
    from yigongti.residents.matching.io import ErrorReport, check_table
    from yigongti.residents.matching.normalize import NO_DATE

    table = check_table(pq.read_table(records), ErrorReport())
    f = prepare(table)
    names = f.names
    has_name = f.name_idx >= 0
    ni = np.where(has_name, f.name_idx, 0)
    simple = np.array([*names.names, ""], dtype=object)[np.where(has_name, ni, len(names.names))]
    from yigongti.residents.matching.names import name_syllables

    syl = [name_syllables(n) for n in names.names]
    sur_py = np.array([s[0] if s else "" for s in syl] + [""], dtype=object)
    giv_py = np.array(["".join(s[1:]) for s in syl] + [""], dtype=object)
    full_py = np.array(["".join(s) for s in syl] + [""], dtype=object)
    sel = np.where(has_name, ni, len(names.names))

    def col(values: np.ndarray, mask: np.ndarray) -> pa.Array:
        return pa.array(values, pa.string(), mask=~mask)

    dob = np.where(f.birth != NO_DATE, f.birth, 0).astype("datetime64[D]").astype(str)
    idn = np.array([bytes(r).decode() for r in f.ids.digits], dtype=object)
    town_village = pc.cast(pa.array(f.village), pa.string())
    return pa.table({
        "unique_id": table.column("record_id"),
        "name": col(simple, has_name),
        "surname_py": col(sur_py[sel], has_name),
        "given_py": col(giv_py[sel], has_name & (giv_py[sel] != "")),
        "name_py": col(full_py[sel], has_name),
        "dob": col(dob, f.birth != NO_DATE),
        "sex": col(f.sex.astype(str), f.sex > 0),
        "id_number": col(idn, f.ids.comparable),
        "phone": col(f.phone.astype(str), f.phone >= 0),
        "township": col(f.township.astype(str), f.township >= 0),
        "village": pa.array(town_village.to_pylist(), pa.string(), mask=f.village < 0),
        "household_id": col(f.household.astype(str), f.household >= 0),
    })


def splink_settings():  # type: ignore[no-untyped-def]
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name").configure(tf_adjustment_column="name"),
            cll.ExactMatchLevel("name_py"),  # homophones
            cll.JaroWinklerLevel("name_py", 0.92),
            cll.DamerauLevenshteinLevel("name", 1),  # one character different, dropped or swapped
            cll.JaroWinklerLevel("name_py", 0.8),
            cll.ExactMatchLevel("surname_py"),
            cll.ElseLevel(),
        ],
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.NullLevel("township"),
            cll.ExactMatchLevel("village"),
            cll.ExactMatchLevel("township"),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        # the same keys as our blocking (see yigongti/residents/matching/blocking.py)
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("substr(id_number, 1, 14)", "surname_py"),
            block_on("name_py", "substr(dob, 1, 7)"),
            block_on("surname_py", "dob"),
            block_on("given_py", "dob"),
            block_on("surname_py", "substr(dob, 1, 7)", "village"),
            block_on("name_py", "phone"),
            block_on("name_py", "village", "sex"),
            block_on("name_py", "household_id"),
        ],
        comparisons=[
            name,
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.DamerauLevenshteinAtThresholds("id_number", [1, 2]),
            cl.ExactMatch("sex"),
            cl.ExactMatch("phone"),
            address,
            cl.ExactMatch("household_id"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def child_splink(records: Path, out: Path, u_pairs: float) -> dict:
    from splink import DuckDBAPI, Linker, block_on

    t0 = time.perf_counter()
    data = splink_input(records)
    # Cleaning is not charged to Splink (a Splink user would do it in their own ETL); reported.
    t = time.perf_counter()
    db_api = DuckDBAPI()
    sdf = db_api.register(data)
    linker = Linker(sdf, splink_settings(), log_level="WARNING")
    # Training as in Splink's tutorials: λ from deterministic rules, u from random pairs, m by EM
    # with two blocking rules so that every comparison gets its m estimated at least once.
    linker.training.estimate_probability_two_random_records_match(
        [block_on("id_number", "dob"), block_on("name", "dob", "village")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_py", "dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_number"))
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.95)
    rel = clusters.as_duckdbpyrelation()
    result = rel.select("unique_id AS record_id, cluster_id AS person_id").arrow()
    if hasattr(result, "read_all"):
        result = result.read_all()
    pq.write_table(result, out)
    seconds = time.perf_counter() - t
    # outside the timing: F1 at other thresholds, so one cut-off does not decide the comparison
    sweep = {}
    for th in (0.5, 0.8, 0.99):
        c = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, th)
        r = c.as_duckdbpyrelation().select("unique_id AS record_id, cluster_id AS person_id").arrow()
        alt = out.with_name(f"{out.stem}_{th}.parquet")
        pq.write_table(r.read_all() if hasattr(r, "read_all") else r, alt)
        sweep[str(th)] = str(alt)
    return {"seconds": seconds, "cleaning_seconds": t - t0, "sweep": sweep}


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, action="append", help="population size (repeatable)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "yigongti-bench"))
    parser.add_argument("--systems", default="empi,splink")
    parser.add_argument("--splink-u-pairs", type=float, default=5e6)
    parser.add_argument("--child")
    parser.add_argument("--records")
    parser.add_argument("--clusters")
    args = parser.parse_args()
    if args.child:
        records, out = Path(args.records), Path(args.clusters)
        info = child_empi(records, out) if args.child == "empi" else child_splink(records, out, args.splink_u_pairs)
        print(json.dumps(info))
        return
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for persons in args.persons or [100_000]:
        records = make_data(persons, workdir, args.seed)
        n_records = pq.read_metadata(records).num_rows
        for system in args.systems.split(","):
            out = workdir / f"clusters_{system}_{persons}.parquet"
            print(f"running {system} on {n_records:,} records …", flush=True)
            info = run_child(system, records, out, ["--splink-u-pairs", str(args.splink_u_pairs)])
            s = score(records, out)
            rows.append((persons, n_records, system, s, info))
            if system == "splink":
                best = max(((th, score(records, Path(p))) for th, p in info["sweep"].items()), key=lambda x: x[1]["f1"])
                print(f"  splink best other threshold {best[0]}: F1 {best[1]['f1']:.4f} "
                      f"(P {best[1]['precision']:.4f}, R {best[1]['recall']:.4f}, exact {best[1]['exact']:.4f})")
    print()
    header = (f"{'persons':>9} {'records':>10} {'system':<7} {'precision':>9} {'recall':>7} {'F1':>7} {'exact':>7} "
              f"{'wall s':>7} {'peak MB':>8}")
    print(header)
    print("-" * len(header))
    for persons, n_records, system, s, info in rows:
        print(f"{persons:>9,} {n_records:>10,} {system:<7} {s['precision']:>9.4f} {s['recall']:>7.4f} {s['f1']:>7.4f} "
              f"{s['exact']:>7.4f} {info['seconds']:>7.1f} {info['peak_rss_mb']:>8.0f}")


if __name__ == "__main__":
    main()
