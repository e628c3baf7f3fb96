#!/usr/bin/env python
"""Bench: HTTP latency of the home page and the resident search at 450,000 residents on PostgreSQL.

    /work/venv/bin/python bench/generate_load.py --db postgresql --keep-pg   # loads ygt_bench once
    /work/venv/bin/python bench/http_load.py [--workers 3] [--users 20] [--duration 60] [--modes closed,think]

What it does:
1. checks that postgresql://postgres@127.0.0.1:5432/ygt_bench holds the demo county (build it with
   generate_load.py --keep-pg, or pass --build here);
2. creates two bench logins with a known password (``bench_bureau``: the county health bureau, scope =
   the whole county; ``bench_township``: a physician at the first township health center, scope = that
   township), clears any axes lock-outs, and samples search terms from the loaded residents
   (two-character name prefixes = surname + first given character, and full 18-digit ID numbers,
   drawn at random from the residents each login can see, so frequent names are frequent here too);
3. starts ``yigongti serve --workers N`` (gunicorn, gthread, 2 threads per worker) with
   DATABASE_URL and a temporary YIGONGTI_DATA_DIR, and waits for it;
4. a single-client probe: one logged-in client per login, sequential requests, to show the
   server-side cost of each endpoint without queueing (the first home page per login is the
   cold-cache figure; counts are cached for 300 s per worker process);
5. runs locust headless (FastHttpUser) with ``--users`` users for ``--duration`` seconds after a
   warm-up (logins: every user GETs /login/ for the csrftoken cookie and POSTs the form once), in
   one or both modes:
     closed — no think time: every user fires its next request as soon as the previous answers
              (wrk-style; 20 requests always in flight; measures saturation on this 2-core box,
              where locust and PostgreSQL share the cores with gunicorn);
     think  — each user waits 1–3 s between requests (20 interactive users);
   while a sampler polls pg_stat_activity every 100 ms to measure lock waits (the audit chain's head
   row is locked FOR UPDATE by every resident search);
6. prints median and p95 per endpoint against the targets (median < 100 ms, p95 < 300 ms) and the
   ratios (< 1 meets the target), plus throughput, audit events written and lock-wait samples.

Endpoints (per login: bureau = whole county, township = one township):
  home                GET /
  search name         GET /residents/?q=<surname+char>
  search id           GET /residents/?q=<18-digit ID number>
  search name (HTMX)  same URL with HX-Request: true (the partial the search box swaps in)
  search id (HTMX)    same
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PG_URL = "postgresql://postgres@127.0.0.1:5432/ygt_bench"
PASSWORD = "Bench-Load-Pass-2026"
MEDIAN_TARGET_MS = 100.0
P95_TARGET_MS = 300.0
HERE = Path(__file__).resolve()
VENV_BIN = Path(sys.executable).parent

# ================================================================================================
# Locust side: this same file is the locustfile (imported by locust with YGT_LOCUST_TERMS set).
# ================================================================================================
if os.environ.get("YGT_LOCUST_TERMS"):
    import gevent
    from locust import between, constant, events, task
    from locust.contrib.fasthttp import FastHttpUser

    TERMS = json.loads(Path(os.environ["YGT_LOCUST_TERMS"]).read_text())
    WARMUP_S = float(os.environ.get("YGT_WARMUP_S", "10"))
    THINK = os.environ.get("YGT_THINK", "0")
    SAMPLES: list = []
    _state = {"recording": False}

    @events.test_start.add_listener
    def _start(environment, **_kw):
        def begin():
            environment.stats.reset_all()
            _state["recording"] = True
        gevent.spawn_later(WARMUP_S, begin)

    @events.request.add_listener
    def _on_request(request_type, name, response_time, response_length, exception=None, **_kw):
        if _state["recording"]:
            SAMPLES.append((name, response_time, exception is None, time.time()))

    @events.quitting.add_listener
    def _quit(environment, **_kw):
        Path(os.environ["YGT_LOCUST_OUT"]).write_text(json.dumps(SAMPLES))

    class _Base(FastHttpUser):
        abstract = True
        login = ""
        wait_time = constant(0) if THINK == "0" else between(*map(float, THINK.split("-")))

        def on_start(self):
            self.client.get("/login/", name="login page")
            token = None
            for c in self.client.cookiejar:
                if c.name == "csrftoken":
                    token = c.value
            self.client.post("/login/", data={"username": TERMS[self.login]["username"], "password": PASSWORD,
                                              "csrfmiddlewaretoken": token, "next": "/"}, name="login")
            r = self.client.get("/", name="home (after login)")
            if 'data-testid="resident-total"' not in r.text:
                raise RuntimeError(f"{self.login}: login did not work")
            self.terms = TERMS[self.login]

        def _search(self, label, q, htmx):
            headers = {"HX-Request": "true"} if htmx else None
            with self.client.get(f"/residents/?q={q}", headers=headers, name=f"{label} [{self.login}]",
                                 catch_response=True) as r:
                if r.status_code != 200 or 'data-testid="resident-table"' not in r.text:
                    r.failure(f"status {r.status_code}")
                elif htmx and "<html" in r.text[:500].lower():
                    r.failure("HTMX request got the full page")

        @task(2)
        def home(self):
            with self.client.get("/", name=f"home [{self.login}]", catch_response=True) as r:
                if 'data-testid="resident-total"' not in r.text:
                    r.failure("not the home page")

        @task(2)
        def search_name(self):
            self._search("search name", random.choice(self.terms["names"]), False)

        @task(2)
        def search_id(self):
            self._search("search id", random.choice(self.terms["ids"]), False)

        @task(1)
        def search_name_htmx(self):
            self._search("search name HTMX", random.choice(self.terms["names"]), True)

        @task(1)
        def search_id_htmx(self):
            self._search("search id HTMX", random.choice(self.terms["ids"]), True)

    class BureauUser(_Base):
        login = "bureau"

    class TownshipUser(_Base):
        login = "township"


# ================================================================================================
# Setup inside Django (a subprocess with DATABASE_URL set).
# ================================================================================================

def setup_worker(out: str, n_terms: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.settings")
    import django

    django.setup()
    from axes.utils import reset as axes_reset
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)  # the tree moves on: keep the schema current

    from yigongti.core.audit import Actor
    from yigongti.core.scoping import scope_for
    from yigongti.demo.data import county as C
    from yigongti.orgs.models import Facility, Region, Role, User
    from yigongti.orgs.services import create_account
    from yigongti.residents.models import Resident

    county = Region.objects.get(code=C.COUNTY[0])
    township = Facility.objects.filter(type="B200").order_by("code").first()
    plan = {"bureau": ("bench_bureau", Role.BUREAU, None, county),
            "township": ("bench_township", Role.DOCTOR, township, None)}
    terms: dict = {"residents": Resident.objects.count()}
    rng = random.Random(42)
    for key, (username, role, facility, region) in plan.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user, _ = create_account(Actor(username="bench"), username=username, role=role, facility=facility,
                                     region=region, password=PASSWORD)
        else:
            user.set_password(PASSWORD)
            user.is_active = True
            user.save()
        axes_reset(username=username)
        scope = scope_for(user)
        qs = scope.filter(Resident.objects.all())
        in_scope = qs.count()
        # random residents of the scope: their name prefixes and ID numbers
        ids = list(qs.values_list("id", flat=True))
        pick = rng.sample(ids, min(len(ids), n_terms * 3))
        rows = list(Resident.objects.filter(id__in=pick).values_list("name", "id_number"))
        rng.shuffle(rows)
        names = [n[:2] for n, _i in rows if len(n) >= 2][:n_terms]
        id_numbers = [i for _n, i in rows if i][:n_terms]
        terms[key] = {"username": username, "scope": list(scope.prefixes or []), "in_scope": in_scope,
                      "where": (facility.name if facility else region.name), "names": names, "ids": id_numbers,
                      "surnames": sorted({n[0] for n in names})}
    Path(out).write_text(json.dumps(terms, ensure_ascii=False, indent=1))


def _django_env(data_dir: Path) -> dict:
    env = dict(os.environ)
    env.update(DATABASE_URL=PG_URL, YIGONGTI_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="yigongti.settings")
    env.pop("YGT_LOCUST_TERMS", None)
    return env


# ================================================================================================
# Driver
# ================================================================================================

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg(sql: str) -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "ygt_bench", "-Atc", sql],
                          capture_output=True, text=True).stdout.strip()


def _clk() -> float:
    return os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    """utime + stime of one live process, seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _clk()
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _postgres_cpu() -> dict[int, float]:
    """CPU of the backends serving ygt_bench, by pid (other databases on the server are not counted;
    a backend that exits between two snapshots is lost, so deltas are a lower bound)."""
    pids = [int(p) for p in _pg("select pid from pg_stat_activity where datname = 'ygt_bench' "
                                "and pid <> pg_backend_pid()").split()]
    return {pid: _proc_cpu(pid) for pid in pids}


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU-seconds since boot, all cores."""
    v = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = v[3] + v[4]
    return (sum(v[:8]) - idle) / _clk(), sum(v[:8]) / _clk()


class CpuMeter:
    def __init__(self, server_pid: int):
        self.server_pid = server_pid

    def snapshot(self) -> dict:
        import resource

        pids = [self.server_pid, *_children(self.server_pid)]
        busy, total = _machine_busy()
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"gunicorn": sum(_proc_cpu(p) for p in pids), "postgres": _postgres_cpu(), "busy": busy,
                "total": total, "waited_children": ru.ru_utime + ru.ru_stime}

    @staticmethod
    def delta(a: dict, b: dict, requests: int) -> dict:
        d = {k: b[k] - a[k] for k in a if k != "postgres"}
        d["postgres"] = sum(cpu - a["postgres"].get(pid, 0.0) for pid, cpu in b["postgres"].items())
        other = d["busy"] - d["gunicorn"] - d["postgres"] - d["waited_children"]
        per = 1000 / max(requests, 1)
        return {"wall_cpu_capacity_s": d["total"], "busy_share": d["busy"] / d["total"],
                "gunicorn_s": d["gunicorn"], "postgres_s": d["postgres"], "locust_s": d["waited_children"],
                "other_s": other, "gunicorn_ms_per_req": d["gunicorn"] * per, "postgres_ms_per_req": d["postgres"] * per,
                "locust_ms_per_req": d["waited_children"] * per}


class LockSampler(threading.Thread):
    """Polls pg_stat_activity: how many app backends are active and how many wait on a lock."""

    def __init__(self, interval: float = 0.1):
        super().__init__(daemon=True)
        self.interval, self.stop, self.samples = interval, threading.Event(), []

    def run(self):
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            me = conn.info.backend_pid
            while not self.stop.is_set():
                rows = conn.execute(
                    "select state, wait_event_type, wait_event, left(query, 60) from pg_stat_activity "
                    "where datname = 'ygt_bench' and pid <> %s and backend_type = 'client backend'", (me,)).fetchall()
                active = [r for r in rows if r[0] == "active"]
                lock = [r for r in active if r[1] == "Lock"]
                self.samples.append((len(active), len(lock), sum(1 for r in lock if "audit" in (r[3] or "").lower()),
                                     sum(1 for r in rows if r[0] == "idle in transaction")))
                time.sleep(self.interval)

    def summary(self) -> dict:
        s = self.samples or [(0, 0, 0, 0)]
        return {"samples": len(s), "mean_active": statistics.mean(x[0] for x in s),
                "mean_lock_waiting": statistics.mean(x[1] for x in s),
                "mean_lock_waiting_audit": statistics.mean(x[2] for x in s),
                "share_samples_with_lock_wait": sum(1 for x in s if x[1]) / len(s),
                "mean_idle_in_tx": statistics.mean(x[3] for x in s)}


def _pct(values: list[float], p: float) -> float:
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def probe(base: str, terms: dict, rounds: int) -> dict:
    """Single client, sequential: server cost per endpoint without concurrency."""
    import re
    import urllib.parse
    import urllib.request
    from http.cookiejar import CookieJar

    out: dict = {}
    for login in ("bureau", "township"):
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        html = opener.open(base + "/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        data = urllib.parse.urlencode({"username": terms[login]["username"], "password": PASSWORD,
                                       "csrfmiddlewaretoken": token, "next": "/"}).encode()
        t = time.perf_counter()
        r = opener.open(base + "/login/", data)
        out[f"login (argon2) [{login}]"] = [1000 * (time.perf_counter() - t)]
        assert r.geturl().rstrip("/") == base, f"{login}: login failed ({r.geturl()})"

        def timed(label, path, headers=None):
            req = urllib.request.Request(base + path, headers=headers or {})
            t = time.perf_counter()
            body = opener.open(req).read()
            out.setdefault(f"{label} [{login}]", []).append(1000 * (time.perf_counter() - t))
            return body

        timed("home, first (cold cache in that worker)", "/")
        q = urllib.parse.quote
        for i in range(rounds):
            timed("home", "/")
            timed("search name", "/residents/?q=" + q(terms[login]["names"][i % len(terms[login]["names"])]))
            timed("search id", "/residents/?q=" + q(terms[login]["ids"][i % len(terms[login]["ids"])]))
            timed("search name HTMX", "/residents/?q=" + q(terms[login]["names"][i % len(terms[login]["names"])]),
                  {"HX-Request": "true"})
            timed("search id HTMX", "/residents/?q=" + q(terms[login]["ids"][i % len(terms[login]["ids"])]),
                  {"HX-Request": "true"})
            timed("(extra) search surname only", "/residents/?q=" + q(terms[login]["surnames"][i % len(
                terms[login]["surnames"])]))
            timed("(extra) resident list, no filter", "/residents/")
    return out


def run_locust(base: str, terms_file: Path, tmp: Path, mode: str, users: int, duration: int, warmup: int,
               meter: CpuMeter) -> dict:
    out = tmp / f"samples-{mode}.json"
    env = dict(os.environ, YGT_LOCUST_TERMS=str(terms_file), YGT_LOCUST_OUT=str(out), YGT_WARMUP_S=str(warmup),
               YGT_THINK="0" if mode == "closed" else "1-3")
    cmd = [str(VENV_BIN / "locust"), "-f", str(HERE), "--headless", "--host", base, "-u", str(users),
           "-r", str(users), "-t", f"{duration + warmup}s", "--only-summary", "--csv", str(tmp / f"locust-{mode}"),
           "--loglevel", "WARNING"]
    audit_before = int(_pg("select count(*) from core_auditevent") or 0)
    sampler = LockSampler()
    t0 = time.time()
    sampler.start()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(warmup)
    cpu0 = meter.snapshot()
    time.sleep(duration)
    cpu1 = meter.snapshot()  # locust's own CPU is only known once it has exited: see below
    out_s, err_s = proc.communicate()
    cpu2 = meter.snapshot()
    sampler.stop.set()
    sampler.join()
    if not out.exists():
        print(out_s[-3000:], err_s[-3000:])
        raise SystemExit("locust did not write its samples")
    samples = json.loads(out.read_text())
    t_rec = t0 + warmup
    lock = LockSampler()
    lock.samples = sampler.samples[int(warmup / sampler.interval):]
    audit_after = int(_pg("select count(*) from core_auditevent") or 0)
    by_name: dict[str, list] = {}
    errors: dict[str, int] = {}
    for name, ms, ok, _at in samples:
        by_name.setdefault(name, []).append(ms)
        if not ok:
            errors[name] = errors.get(name, 0) + 1
    span = (max(s[3] for s in samples) - min(s[3] for s in samples)) if samples else 1
    cpu1 = dict(cpu1, waited_children=cpu0["waited_children"])  # locust exits later: scale its total
    cpu = CpuMeter.delta(cpu0, cpu1, len(samples))
    locust_total = cpu2["waited_children"] - cpu0["waited_children"]
    cpu["locust_s"] = locust_total * duration / (duration + warmup)
    cpu["locust_ms_per_req"] = 1000 * cpu["locust_s"] / max(len(samples), 1)
    cpu["other_s"] -= cpu["locust_s"]
    return {"mode": mode, "by_name": by_name, "errors": errors, "requests": len(samples), "rps": len(samples) / span,
            "audit_events": audit_after - audit_before, "lock": lock.summary(), "recording_from": t_rec, "cpu": cpu,
            "locust_stderr_tail": err_s[-1500:] if proc.returncode else ""}


def _table(title, header, rows) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                              for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([title, fmt(header), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)])


def _order(name: str) -> tuple:
    kinds = ["home", "search name [", "search id [", "search name HTMX", "search id HTMX"]
    return (next((i for i, k in enumerate(kinds) if name.startswith(k)), 9), name)


def report(res: dict) -> None:
    rows = []
    for name in sorted(res["by_name"], key=_order):
        v = res["by_name"][name]
        if name.startswith(("login", "home (after")):
            continue
        med, p95 = statistics.median(v), _pct(v, 0.95)
        ok = "yes" if med < MEDIAN_TARGET_MS and p95 < P95_TARGET_MS else "NO"
        rows.append([name, len(v), res["errors"].get(name, 0), f"{med:.0f}", f"{med / MEDIAN_TARGET_MS:.2f}",
                     f"{p95:.0f}", f"{p95 / P95_TARGET_MS:.2f}", f"{_pct(v, 0.99):.0f}", f"{max(v):.0f}", ok])
    allv = [ms for n, v in res["by_name"].items() if not n.startswith(("login", "home (after")) for ms in v]
    med, p95 = statistics.median(allv), _pct(allv, 0.95)
    rows.append(["ALL (aggregated)", len(allv), sum(res["errors"].values()), f"{med:.0f}",
                 f"{med / MEDIAN_TARGET_MS:.2f}", f"{p95:.0f}", f"{p95 / P95_TARGET_MS:.2f}", f"{_pct(allv, 0.99):.0f}",
                 f"{max(allv):.0f}", "yes" if med < MEDIAN_TARGET_MS and p95 < P95_TARGET_MS else "NO"])
    print(_table(f"\nlocust, mode={res['mode']}, {res['users']} users, {res['duration']} s measured "
                 f"(after {res['warmup']} s warm-up), gunicorn {res['workers']} workers × 2 threads"
                 f"{', variant ' + res['variant'] if res['variant'] != 'none' else ''} — "
                 f"{res['rps']:.0f} req/s; times in ms; ratio = figure / target (median {MEDIAN_TARGET_MS:.0f}, "
                 f"p95 {P95_TARGET_MS:.0f})",
                 ["endpoint [login]", "n", "fail", "median", "ratio", "p95", "ratio", "p99", "max", "target met"],
                 rows))
    lk = res["lock"]
    print(f"audit events written: {res['audit_events']:,} ({res['audit_events'] / res['duration_total']:.0f}/s); "
          f"pg_stat_activity ({lk['samples']} samples @100 ms): mean active backends {lk['mean_active']:.2f}, "
          f"mean waiting on a lock {lk['mean_lock_waiting']:.2f} (audit statements {lk['mean_lock_waiting_audit']:.2f}), "
          f"samples with ≥1 lock waiter {100 * lk['share_samples_with_lock_wait']:.0f}%, "
          f"mean idle-in-transaction {lk['mean_idle_in_tx']:.2f}")
    c = res["cpu"]
    print(f"CPU during the measured {res['duration']} s (2 cores = {c['wall_cpu_capacity_s']:.0f} CPU-s): machine busy "
          f"{100 * c['busy_share']:.0f}%; gunicorn {c['gunicorn_s']:.1f} s ({c['gunicorn_ms_per_req']:.1f} ms/request), "
          f"PostgreSQL ≥{c['postgres_s']:.1f} s (≥{c['postgres_ms_per_req']:.1f} ms/req), locust ≈{c['locust_s']:.1f} s "
          f"({c['locust_ms_per_req']:.1f} ms/req), other processes on the box {c['other_s']:.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=int, default=60, help="measured seconds per mode (after warm-up)")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--modes", default="closed,think")
    ap.add_argument("--probe-rounds", type=int, default=20)
    ap.add_argument("--build", action="store_true", help="(re)build ygt_bench first via generate_load.py")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--variant", default="none", choices=["none", "noaudit", "oneshot"],
                    help="A/B experiment on the audit append (bench/_wsgi_variants.py); none = yigongti serve")
    ap.add_argument("--verify-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--setup-worker", help=argparse.SUPPRESS)
    ap.add_argument("--terms", type=int, default=50, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.setup_worker:
        setup_worker(a.setup_worker, a.terms)
        return
    if a.verify_worker:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.settings")
        import django

        django.setup()
        from yigongti.core.audit import verify_chain

        r = verify_chain()
        print(f"{'intact' if r.ok else 'BROKEN'}: {r.checked} events checked; {r.problems[:3]}")
        return
    if a.build:
        subprocess.run([sys.executable, str(HERE.parent / "generate_load.py"), "--db", "postgresql", "--keep-pg"],
                       check=True)
    n = _pg("select count(*) from residents_resident")
    if not n or int(n) < 1000:
        raise SystemExit("ygt_bench is not loaded: run bench/generate_load.py --db postgresql --keep-pg "
                         "(or pass --build)")
    with tempfile.TemporaryDirectory(prefix="ygt-http-") as tmp_s:
        tmp = Path(tmp_s)
        data_dir = tmp / "data"
        data_dir.mkdir()
        env = _django_env(data_dir)
        terms_file = tmp / "terms.json"
        subprocess.run([sys.executable, str(HERE), "--setup-worker", str(terms_file), "--terms", str(a.terms)],
                       env=env, check=True)
        terms = json.loads(terms_file.read_text())
        print(f"residents in ygt_bench: {terms['residents']:,}; bureau scope {terms['bureau']['scope']} "
              f"({terms['bureau']['in_scope']:,} residents), township scope {terms['township']['scope']} "
              f"= {terms['township']['where']} ({terms['township']['in_scope']:,} residents)")
        print(f"sample name prefixes: bureau {terms['bureau']['names'][:8]}, township {terms['township']['names'][:8]}")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(tmp / "gunicorn.log", "w")
        if a.variant == "none":
            cmd = [str(VENV_BIN / "yigongti"), "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(a.workers)]
        else:  # the same gunicorn arguments as `yigongti serve`, with bench/_wsgi_variants.py's app
            env["YGT_BENCH_VARIANT"] = a.variant
            cmd = [str(VENV_BIN / "gunicorn"), "_wsgi_variants:application", "--pythonpath", str(HERE.parent),
                   "--bind", f"127.0.0.1:{port}", "--workers", str(a.workers), "--threads", "2",
                   "--access-logfile", "-", "--timeout", "120"]
        server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(HERE.parent.parent))
        meter = CpuMeter(server.pid)
        try:
            import urllib.request

            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/login/", timeout=2)
                    break
                except OSError:
                    time.sleep(0.2)
            else:
                raise SystemExit("server did not start: " + (tmp / "gunicorn.log").read_text()[-2000:])
            print(f"{Path(cmd[0]).name} {' '.join(cmd[1:])} on {base} (pid {server.pid})"
                  f"{'  [variant ' + a.variant + ']' if a.variant != 'none' else ''}; load average before: "
                  f"{os.getloadavg()[0]:.2f}")
            results: dict = {"terms": {k: v for k, v in terms.items() if k != "residents"}}
            pr = probe(base, terms, a.probe_rounds)
            results["probe"] = pr
            rows = [[k, len(v), f"{statistics.median(v):.0f}", f"{_pct(v, 0.95):.0f}", f"{max(v):.0f}"]
                    for k, v in pr.items()]
            print(_table(f"\nsingle-client probe (sequential, no concurrency; {a.probe_rounds} rounds; ms)",
                         ["endpoint [login]", "n", "median", "p95", "max"], rows))
            for mode in a.modes.split(","):
                res = run_locust(base, terms_file, tmp, mode, a.users, a.duration, a.warmup, meter)
                res.update(users=a.users, duration=a.duration, warmup=a.warmup, workers=a.workers,
                           duration_total=a.duration + a.warmup, variant=a.variant)
                results[mode] = res
                report(res)
                if res["locust_stderr_tail"]:
                    print("locust stderr:", res["locust_stderr_tail"])
            v = subprocess.run([sys.executable, str(HERE), "--verify-worker"], env=env, capture_output=True, text=True)
            print(f"\naudit chain after the run (verify_chain): {v.stdout.strip() or v.stderr[-500:]}")
            if a.json:
                Path(a.json).write_text(json.dumps(results, ensure_ascii=False))
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()


if __name__ == "__main__":
    main()
