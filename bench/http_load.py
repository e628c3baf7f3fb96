#!/usr/bin/env python
"""Bench: HTTP latency of the home page, the resident search, the county dashboard and the referral center queue
at 450,000 residents on PostgreSQL, for today's tree and (side by side) an earlier one.

    .venv/bin/python bench/generate_load.py --db postgresql --keep-pg           # loads ygt_bench once
    .venv/bin/python bench/http_load.py                                         # today's tree, --mix full, closed
    .venv/bin/python bench/http_load.py --servers after,before --before-src /tmp/before/src
    .venv/bin/python bench/http_load.py --profile 20                            # py-spy over the workers

What it does:
1. checks that postgresql://postgres@127.0.0.1:5432/ygt_bench holds the demo county (build it with
   generate_load.py --keep-pg);
2. per database used, sets up the logins (current code): ``bench_bureau`` (the county health bureau: the whole
   county; privileged, so it gets a recovery-code device with enough one-use codes for every simulated login —
   the second factor is passed the way a person does, by POSTing a code to /account/two-factor/),
   ``bench_township`` (a physician at the first township health center: that township), and the demo's
   ``referral_center`` account (a nurse of the lead hospital's referral center), all with a known password and
   no axes lock-out; samples search terms from the residents each login can see (name prefixes = surname +
   first given character, and full 18-digit ID numbers);
3. starts a server: ``after`` = ``yigongti serve`` of this tree (its defaults for workers and threads, unless
   ``--workers``/``--threads``), with Redis as the shared cache (YIGONGTI_REDIS_URL, default
   redis://127.0.0.1:6379/1) and bench/_bench_settings.py (the lookup rate limits lifted: 20 clients from one
   address would otherwise be refused after 60 ID searches, as a real account is); ``before`` = ``yigongti
   serve --workers 3`` of another tree (``--before-src``, e.g. ``git archive 9f99e14``) on a copy of the
   database (``ygt_before``, made with ``createdb -T ygt_bench``: that tree writes audit events without the
   key column, which gets a default there);
4. a short single-client probe (sequential requests: server cost without queueing);
5. locust headless (FastHttpUser), ``--users`` users for ``--duration`` s after a warm-up, in mode
   ``closed`` (no think time: 20 requests always in flight) and/or ``think`` (1–3 s between requests);
   with ``--servers after,before`` each server runs in turn in the same invocation (``--rounds`` alternates
   them), so both see the same machine;
6. prints median and p95 per endpoint against the targets (median < 100 ms, p95 < 300 ms), the ratios
   (< 1 meets the target), CPU per request of gunicorn / PostgreSQL / Redis / locust, lock waits, and at the
   end the servers side by side with the after/before ratios.

The mix (``--mix full``; ``--mix search`` is the earlier home + search mix): users are bureau, township and
referral-center users in the proportion 2 : 2 : 1 (8 / 8 / 4 of 20):
  bureau      home ×2, search name ×2, search ID ×2, name HTMX ×1, ID HTMX ×1, dashboard /indicators/ ×2
  township    home ×2, search name ×2, search ID ×2, name HTMX ×1, ID HTMX ×1
  center      queue /referrals/center/ ×3, queue HTMX refresh ×1, home ×1
A search by ID number is a POST of the search form (today's tree keeps ID numbers out of URLs); the earlier
tree is sent it as a GET, as that tree's form did.
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

PG_URL = "postgresql://postgres@127.0.0.1:5432/{db}"
BENCH_DB = "ygt_bench"
PASSWORD = "Bench-Load-Pass-2026"
MEDIAN_TARGET_MS = 100.0
P95_TARGET_MS = 300.0
HERE = Path(__file__).resolve()
VENV_BIN = Path(sys.executable).parent
RECOVERY_CODES = 1500  # one-use second-factor codes for bench_bureau: one per simulated login

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
    FLAVOR = os.environ.get("YGT_FLAVOR", "after")  # "before": the earlier tree (no 2FA, ID search by GET)
    MIX = os.environ.get("YGT_MIX", "full")
    CODES = iter(TERMS["bureau"].get("codes", [])[int(os.environ.get("YGT_CODE_OFFSET", "0")):])
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

        def _csrf(self) -> str | None:
            return next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), None)

        def on_start(self):
            self.client.get("/login/", name="login page")
            r = self.client.post("/login/", data={"username": TERMS[self.login]["username"], "password": PASSWORD,
                                                  "csrfmiddlewaretoken": self._csrf(), "next": "/"}, name="login")
            if FLAVOR == "after" and "/account/two-factor/" in (r.url or ""):
                # the second factor, as a person passes it: one recovery code (the CSRF token rotated at login)
                r = self.client.post("/account/two-factor/?next=/", data={
                    "otp_token": next(CODES), "csrfmiddlewaretoken": self._csrf()}, name="login, second factor")
            r = self.client.get("/", name="home (after login)")
            if 'data-testid="resident-total"' not in r.text and 'data-testid="queue-table"' not in r.text \
                    and self.login != "center":
                raise RuntimeError(f"{self.login}: login did not work ({r.status_code} {r.url})")
            self.terms = TERMS[self.login]

        def _check(self, r, marker: str, htmx: bool):
            if r.status_code != 200 or marker not in r.text:
                r.failure(f"status {r.status_code}, {marker} missing")
            elif htmx and "<html" in r.text[:500].lower():
                r.failure("HTMX request got the full page")

        def _search(self, label, q, htmx, by_id=False):
            headers = {"HX-Request": "true"} if htmx else {}
            name = f"{label} [{self.login}]"
            if by_id and FLAVOR == "after":
                headers["X-CSRFToken"] = self._csrf()
                with self.client.post("/residents/", data={"q": q}, headers=headers, name=name,
                                      catch_response=True) as r:
                    self._check(r, 'data-testid="resident-table"', htmx)
                return
            with self.client.get(f"/residents/?q={q}", headers=headers or None, name=name, catch_response=True) as r:
                self._check(r, 'data-testid="resident-table"', htmx)

        def _home(self):
            with self.client.get("/", name=f"home [{self.login}]", catch_response=True) as r:
                if r.status_code != 200 or "<html" not in r.text[:800].lower():
                    r.failure(f"home: status {r.status_code}")

    class _Searcher(_Base):
        abstract = True

        @task(2)
        def home(self):
            self._home()

        @task(2)
        def search_name(self):
            self._search("search name", random.choice(self.terms["names"]), False)

        @task(2)
        def search_id(self):
            self._search("search id", random.choice(self.terms["ids"]), False, by_id=True)

        @task(1)
        def search_name_htmx(self):
            self._search("search name HTMX", random.choice(self.terms["names"]), True)

        @task(1)
        def search_id_htmx(self):
            self._search("search id HTMX", random.choice(self.terms["ids"]), True, by_id=True)

    class BureauUser(_Searcher):
        login = "bureau"
        weight = 2

        @task(2 if MIX == "full" else 0)
        def dashboard(self):
            with self.client.get("/indicators/", name="dashboard [bureau]", catch_response=True) as r:
                self._check(r, 'data-testid="card-', False)

    class TownshipUser(_Searcher):
        login = "township"
        weight = 2

    class CenterUser(_Base):
        login = "center"
        weight = 1 if MIX == "full" else 0

        @task(3)
        def queue(self):
            with self.client.get("/referrals/center/", name="center queue [center]", catch_response=True) as r:
                self._check(r, 'data-testid="queue-table"', False)

        @task(1)
        def queue_htmx(self):
            with self.client.get("/referrals/center/?tab=pending", headers={"HX-Request": "true"},
                                 name="center queue HTMX [center]", catch_response=True) as r:
                self._check(r, 'data-testid="queue-table"', True)

        @task(1)
        def home(self):
            self._home()

    if MIX != "full":
        del CenterUser  # locust picks up every concrete user class of the module


# ================================================================================================
# Setup inside Django (a subprocess with DATABASE_URL set; always today's code).
# ================================================================================================

def setup_worker(out: str, n_terms: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.settings")
    import django

    django.setup()
    from axes.utils import reset as axes_reset
    from django.core.management import call_command
    from django.db import transaction
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    call_command("migrate", interactive=False, verbosity=0)  # the tree moves on: keep the schema current

    from yigongti.core.actor import Actor
    from yigongti.core.scoping import scope_for
    from yigongti.demo.data import county as C
    from yigongti.orgs.auth_otp import needs_two_factor
    from yigongti.orgs.models import Facility, Region, Role, User
    from yigongti.orgs.services import create_account
    from yigongti.residents.models import Resident

    county = Region.objects.get(code=C.COUNTY[0])
    township = Facility.objects.filter(type__in=["C210", "C220", "B200"]).order_by("code").first()
    plan = {"bureau": ("bench_bureau", Role.BUREAU, None, county),
            "township": ("bench_township", Role.DOCTOR, township, None)}
    terms: dict = {"residents": Resident.objects.count()}
    rng = random.Random(42)
    for key, (username, role, facility, region) in plan.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            user, _ = create_account(actor=Actor.system("bench"), username=username, role=role, facility=facility,
                                     region=region, password=PASSWORD)
        else:
            user.set_password(PASSWORD)
            user.is_active = True
            user.save()
        axes_reset(username=username)
        scope = scope_for(user)
        qs = scope.filter(Resident.objects.all())
        in_scope = qs.count()
        ids = list(qs.values_list("id", flat=True))
        pick = rng.sample(ids, min(len(ids), n_terms * 3))
        rows = list(Resident.objects.filter(id__in=pick).values_list("name", "id_number"))
        rng.shuffle(rows)
        names = [n[:2] for n, _i in rows if len(n) >= 2][:n_terms]
        id_numbers = [i for _n, i in rows if i][:n_terms]
        terms[key] = {"username": username, "scope": list(scope.prefixes or []), "in_scope": in_scope,
                      "where": (facility.name if facility else region.name), "names": names, "ids": id_numbers,
                      "surnames": sorted({n[0] for n in names})}
        if needs_two_factor(user):
            # Recovery codes (django-otp's static device): one-use, so one per simulated login. They start with
            # letters so the verification page takes them for recovery codes, not six-digit TOTP codes.
            codes = [f"bench{i:06d}" for i in range(RECOVERY_CODES)]
            with transaction.atomic():
                StaticDevice.objects.filter(user=user).delete()
                device = StaticDevice.objects.create(user=user, name="bench recovery codes", confirmed=True)
                StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
            terms[key]["codes"] = codes
    center = User.objects.filter(username="referral_center").first()
    if center is not None:
        center.set_password(PASSWORD)
        center.is_active = True
        center.save()
        axes_reset(username=center.username)
        terms["center"] = {"username": center.username, "where": center.facility.name if center.facility else ""}
    Path(out).write_text(json.dumps(terms, ensure_ascii=False, indent=1))


# ================================================================================================
# Driver
# ================================================================================================

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg(sql: str, db: str = BENCH_DB) -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-Atc", sql],
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


def _pids_named(name: str) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() == name:
                    out.append(int(d.name))
            except OSError:
                pass
    return out


def _postgres_cpu(db: str) -> dict[int, float]:
    """CPU of the backends serving the bench database, by pid (a backend that exits between two snapshots is
    lost, so deltas are a lower bound)."""
    pids = [int(p) for p in _pg(f"select pid from pg_stat_activity where datname = '{db}' "
                                "and pid <> pg_backend_pid()", db).split()]
    return {pid: _proc_cpu(pid) for pid in pids}


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU-seconds since boot, all cores."""
    v = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = v[3] + v[4]
    return (sum(v[:8]) - idle) / _clk(), sum(v[:8]) / _clk()


class CpuMeter:
    def __init__(self, server_pid: int, db: str):
        self.server_pid, self.db = server_pid, db

    def snapshot(self) -> dict:
        import resource

        pids = [self.server_pid, *_children(self.server_pid)]
        busy, total = _machine_busy()
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"gunicorn": sum(_proc_cpu(p) for p in pids), "postgres": _postgres_cpu(self.db),
                "redis": sum(_proc_cpu(p) for p in _pids_named("redis-server")), "busy": busy,
                "total": total, "waited_children": ru.ru_utime + ru.ru_stime}

    @staticmethod
    def delta(a: dict, b: dict, requests: int) -> dict:
        d = {k: b[k] - a[k] for k in a if k != "postgres"}
        d["postgres"] = sum(cpu - a["postgres"].get(pid, 0.0) for pid, cpu in b["postgres"].items())
        other = d["busy"] - d["gunicorn"] - d["postgres"] - d["redis"] - d["waited_children"]
        per = 1000 / max(requests, 1)
        return {"wall_cpu_capacity_s": d["total"], "busy_share": d["busy"] / d["total"],
                "gunicorn_s": d["gunicorn"], "postgres_s": d["postgres"], "redis_s": d["redis"],
                "locust_s": d["waited_children"], "other_s": other, "gunicorn_ms_per_req": d["gunicorn"] * per,
                "postgres_ms_per_req": d["postgres"] * per, "redis_ms_per_req": d["redis"] * per,
                "locust_ms_per_req": d["waited_children"] * per}


class LockSampler(threading.Thread):
    """Polls pg_stat_activity: how many app backends are active and how many wait on a lock."""

    def __init__(self, db: str, interval: float = 0.1):
        super().__init__(daemon=True)
        self.db, self.interval, self.stop, self.samples = db, interval, threading.Event(), []

    def run(self):
        import psycopg

        with psycopg.connect(PG_URL.format(db=self.db), autocommit=True) as conn:
            me = conn.info.backend_pid
            while not self.stop.is_set():
                rows = conn.execute(
                    "select state, wait_event_type, wait_event, left(query, 60) from pg_stat_activity "
                    "where datname = %s and pid <> %s and backend_type = 'client backend'",
                    (self.db, me)).fetchall()
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


class _Codes:
    """The bureau's one-use recovery codes, handed out in order across the probe and every locust run."""

    def __init__(self, codes: list[str]):
        self.codes, self.next = codes, 0

    def take(self, n: int = 1) -> int:
        start = self.next
        self.next += n
        if self.next > len(self.codes):
            raise SystemExit("out of bench recovery codes: raise RECOVERY_CODES")
        return start


def _login(base: str, login: str, terms: dict, flavor: str, codes: _Codes):
    import urllib.parse
    import urllib.request
    from http.cookiejar import CookieJar

    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    csrf = lambda: next(c.value for c in jar if c.name == "csrftoken")  # noqa: E731
    opener.open(base + "/login/").read()
    data = urllib.parse.urlencode({"username": terms[login]["username"], "password": PASSWORD,
                                   "csrfmiddlewaretoken": csrf(), "next": "/"}).encode()
    t = time.perf_counter()
    r = opener.open(base + "/login/", data)
    ms = 1000 * (time.perf_counter() - t)
    if flavor == "after" and "/account/two-factor/" in r.geturl():
        code = terms[login]["codes"][codes.take()]
        r = opener.open(base + "/account/two-factor/?next=/",
                        urllib.parse.urlencode({"otp_token": code, "csrfmiddlewaretoken": csrf()}).encode())
    assert r.geturl().rstrip("/") == base, f"{login}: login failed ({r.geturl()})"
    return opener, csrf, ms


def probe(base: str, terms: dict, rounds: int, flavor: str, mix: str, codes: _Codes) -> dict:
    """Single client, sequential: server cost per endpoint without concurrency."""
    import urllib.parse
    import urllib.request

    out: dict = {}
    q = urllib.parse.quote
    logins = ["bureau", "township"] + (["center"] if mix == "full" and "center" in terms else [])
    for login in logins:
        opener, csrf, ms = _login(base, login, terms, flavor, codes)
        out[f"login (argon2) [{login}]"] = [ms]

        def timed(label, path, headers=None, form=None, opener=opener, login=login):
            data = urllib.parse.urlencode(form).encode() if form is not None else None
            req = urllib.request.Request(base + path, data=data, headers=headers or {})
            t = time.perf_counter()
            body = opener.open(req).read()
            out.setdefault(f"{label} [{login}]", []).append(1000 * (time.perf_counter() - t))
            return body

        timed("home, first (cold cache in that worker)", "/")
        for i in range(rounds):
            timed("home", "/")
            if login == "center":
                timed("center queue", "/referrals/center/")
                timed("center queue HTMX", "/referrals/center/?tab=pending", {"HX-Request": "true"})
                continue
            name = terms[login]["names"][i % len(terms[login]["names"])]
            idn = terms[login]["ids"][i % len(terms[login]["ids"])]
            timed("search name", "/residents/?q=" + q(name))
            timed("search name HTMX", "/residents/?q=" + q(name), {"HX-Request": "true"})
            if flavor == "after":
                timed("search id", "/residents/", {"X-CSRFToken": csrf()}, {"q": idn})
                timed("search id HTMX", "/residents/", {"X-CSRFToken": csrf(), "HX-Request": "true"}, {"q": idn})
            else:
                timed("search id", "/residents/?q=" + q(idn))
                timed("search id HTMX", "/residents/?q=" + q(idn), {"HX-Request": "true"})
            if login == "bureau" and mix == "full":
                timed("dashboard", "/indicators/")
    return out


def _profile_summary(raw: Path, top: int = 40) -> str:
    """py-spy's raw (collapsed) stacks → the share of samples in which each function is on the stack
    (inclusive) and at the top of it (self), for the functions that matter."""
    incl: dict[str, int] = {}
    selfc: dict[str, int] = {}
    callers: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = [f for f in stack.split(";") if f]
        names = []
        for f in frames:
            func, _, where = f.partition(" (")
            where = where.rstrip(")")
            path = where.rsplit(":", 1)[0]
            short = path.split("site-packages/")[-1].split("src/")[-1]
            names.append(f"{func} ({short})")
        for name in set(names):
            incl[name] = incl.get(name, 0) + count
        if names:
            selfc[names[-1]] = selfc.get(names[-1], 0) + count
            app = next((x for x in reversed(names[:-1]) if "(yigongti/" in x), "?")
            pair = f"{names[-1]}  ←  {app}"
            callers[pair] = callers.get(pair, 0) + count
    if not total:
        return "(no samples)"
    lines = [f"py-spy (--gil: samples holding the GIL, i.e. Python CPU): {total} samples over the workers; "
             "inclusive % / self %, leaving out the request plumbing (frames on > 60% of the samples)"]
    for name, n in sorted(incl.items(), key=lambda kv: -kv[1])[:top * 3]:
        if n / total <= 0.6:
            lines.append(f"  {100 * n / total:5.1f} {100 * selfc.get(name, 0) / total:5.1f}  {name}")
    lines = lines[:top + 1]
    lines.append("callers of the hottest self-time functions (their nearest application frame):")
    for name, n in sorted(callers.items(), key=lambda kv: -kv[1])[:15]:
        lines.append(f"  {100 * n / total:5.1f}  {name}")
    lines.append("top self time:")
    for name, n in sorted(selfc.items(), key=lambda kv: -kv[1])[:25]:
        lines.append(f"  {100 * n / total:5.1f}  {name}")
    return "\n".join(lines)


def run_locust(base: str, terms_file: Path, tmp: Path, mode: str, users: int, duration: int, warmup: int,
               meter: CpuMeter, flavor: str, mix: str, code_offset: int, db: str, profile_s: int = 0,
               server_pid: int = 0, tag: str = "") -> dict:
    out = tmp / f"samples-{tag}-{mode}.json"
    env = dict(os.environ, YGT_LOCUST_TERMS=str(terms_file), YGT_LOCUST_OUT=str(out), YGT_WARMUP_S=str(warmup),
               YGT_THINK="0" if mode == "closed" else "1-3", YGT_FLAVOR=flavor, YGT_MIX=mix,
               YGT_CODE_OFFSET=str(code_offset))
    for k in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH"):
        env.pop(k, None)
    cmd = [str(VENV_BIN / "locust"), "-f", str(HERE), "--headless", "--host", base, "-u", str(users),
           "-r", str(users), "-t", f"{duration + warmup}s", "--only-summary",
           "--csv", str(tmp / f"locust-{tag}-{mode}"), "--loglevel", "WARNING"]
    audit_before = int(_pg("select count(*) from core_auditevent", db) or 0)
    sampler = LockSampler(db)
    t0 = time.time()
    sampler.start()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(warmup)
    load0 = os.getloadavg()[0]
    cpu0 = meter.snapshot()
    spy = None
    if profile_s:
        raw = tmp / f"pyspy-{tag}-{mode}.txt"
        spy = subprocess.Popen([str(VENV_BIN / "py-spy"), "record", "-p", str(server_pid), "--subprocesses", "--gil",
                                "--nonblocking", "-r", "50", "-d", str(profile_s), "-f", "raw", "-o", str(raw)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(duration)
    cpu1 = meter.snapshot()  # locust's own CPU is only known once it has exited: see below
    out_s, err_s = proc.communicate()
    cpu2 = meter.snapshot()
    sampler.stop.set()
    sampler.join()
    prof = ""
    if spy is not None:
        _o, spy_err = spy.communicate()
        prof = _profile_summary(raw) if raw.exists() else f"py-spy wrote nothing: {spy_err[-800:]}"
    if not out.exists():
        print(out_s[-3000:], err_s[-3000:])
        raise SystemExit("locust did not write its samples")
    samples = json.loads(out.read_text())
    lock = LockSampler(db)
    lock.samples = sampler.samples[int(warmup / sampler.interval):]
    audit_after = int(_pg("select count(*) from core_auditevent", db) or 0)
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
            "audit_events": audit_after - audit_before, "lock": lock.summary(), "recording_from": t0 + warmup,
            "cpu": cpu, "load_before": load0, "load_after": os.getloadavg()[0], "profile": prof,
            "locust_stderr_tail": err_s[-1500:] if proc.returncode else ""}


def _table(title, header, rows) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                              for i, (c, w) in enumerate(zip(r, widths, strict=True)))
    return "\n".join([title, fmt(header), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)])


KINDS = ["home", "search name [", "search id [", "search name HTMX", "search id HTMX", "dashboard", "center queue ["]


def _order(name: str) -> tuple:
    return (next((i for i, k in enumerate(KINDS) if name.startswith(k)), 9), name)


def _measured(res: dict) -> dict[str, list]:
    return {n: v for n, v in res["by_name"].items() if not n.startswith(("login", "home (after"))}


def _stats(v: list[float]) -> tuple[float, float]:
    return statistics.median(v), _pct(v, 0.95)


def report(res: dict) -> None:
    rows = []
    meas = _measured(res)
    for name in sorted(meas, key=_order):
        v = meas[name]
        med, p95 = _stats(v)
        ok = "yes" if med < MEDIAN_TARGET_MS and p95 < P95_TARGET_MS else "NO"
        rows.append([name, len(v), res["errors"].get(name, 0), f"{med:.0f}", f"{med / MEDIAN_TARGET_MS:.2f}",
                     f"{p95:.0f}", f"{p95 / P95_TARGET_MS:.2f}", f"{_pct(v, 0.99):.0f}", f"{max(v):.0f}", ok])
    allv = [ms for v in meas.values() for ms in v]
    med, p95 = _stats(allv)
    fails = sum(n for k, n in res["errors"].items() if k in meas)
    rows.append(["ALL (aggregated)", len(allv), fails, f"{med:.0f}",
                 f"{med / MEDIAN_TARGET_MS:.2f}", f"{p95:.0f}", f"{p95 / P95_TARGET_MS:.2f}", f"{_pct(allv, 0.99):.0f}",
                 f"{max(allv):.0f}", "yes" if med < MEDIAN_TARGET_MS and p95 < P95_TARGET_MS else "NO"])
    print(_table(f"\n[{res['tag']}] locust, mode={res['mode']}, mix={res['mix']}, {res['users']} users, "
                 f"{res['duration']} s measured (after {res['warmup']} s warm-up), {res['server']} — "
                 f"{res['rps']:.0f} req/s; ms; ratio = figure / target (median {MEDIAN_TARGET_MS:.0f}, "
                 f"p95 {P95_TARGET_MS:.0f}); load average {res['load_before']:.1f} → {res['load_after']:.1f}",
                 ["endpoint [login]", "n", "fail", "median", "ratio", "p95", "ratio", "p99", "max", "target met"],
                 rows))
    other_errors = {k: n for k, n in res["errors"].items() if k not in meas}
    if other_errors:
        print(f"errors outside the measured endpoints (logins): {other_errors}")
    lk = res["lock"]
    print(f"audit events written: {res['audit_events']:,} ({res['audit_events'] / res['duration_total']:.0f}/s); "
          f"pg_stat_activity ({lk['samples']} samples @100 ms): mean active backends {lk['mean_active']:.2f}, "
          f"mean waiting on a lock {lk['mean_lock_waiting']:.2f} "
          f"(audit statements {lk['mean_lock_waiting_audit']:.2f}), "
          f"samples with ≥1 lock waiter {100 * lk['share_samples_with_lock_wait']:.0f}%, "
          f"mean idle-in-transaction {lk['mean_idle_in_tx']:.2f}")
    c = res["cpu"]
    print(f"CPU during the measured {res['duration']} s (2 cores = {c['wall_cpu_capacity_s']:.0f} CPU-s): machine busy "
          f"{100 * c['busy_share']:.0f}%; gunicorn {c['gunicorn_s']:.1f} s "
          f"({c['gunicorn_ms_per_req']:.1f} ms/request), "
          f"PostgreSQL ≥{c['postgres_s']:.1f} s (≥{c['postgres_ms_per_req']:.1f} ms/req), Redis {c['redis_s']:.1f} s "
          f"({c['redis_ms_per_req']:.2f} ms/req), locust ≈{c['locust_s']:.1f} s ({c['locust_ms_per_req']:.1f} ms/req), "
          f"other processes on the box {c['other_s']:.1f} s")
    if res.get("profile"):
        print(res["profile"])


def side_by_side(runs: list[dict]) -> None:
    """One table: each endpoint's median and p95 per server, and the after / before ratios."""
    by_tag: dict[str, list[dict]] = {}
    for r in runs:
        by_tag.setdefault(r["tag"], []).append(r)
    if "after" not in by_tag or "before" not in by_tag:
        return
    for mode in sorted({r["mode"] for r in runs}):
        pooled = {}
        for tag, rs in by_tag.items():
            acc: dict[str, list] = {}
            for r in rs:
                if r["mode"] == mode:
                    for n, v in _measured(r).items():
                        acc.setdefault(n, []).extend(v)
            pooled[tag] = acc
        names = sorted(set(pooled["after"]) | set(pooled["before"]), key=_order)
        rows = []
        for n in [*names, "ALL"]:
            a = pooled["after"].get(n) if n != "ALL" else [x for v in pooled["after"].values() for x in v]
            b = pooled["before"].get(n) if n != "ALL" else [x for v in pooled["before"].values() for x in v]
            if not a or not b:
                rows.append([n, *(["—"] * 6)])
                continue
            (am, ap), (bm, bp) = _stats(a), _stats(b)
            rows.append([n, f"{bm:.0f}", f"{am:.0f}", f"{am / bm:.2f}", f"{bp:.0f}", f"{ap:.0f}", f"{ap / bp:.2f}"])
        rps = {t: statistics.mean(r["rps"] for r in rs if r["mode"] == mode) for t, rs in by_tag.items()}
        cpu = {t: statistics.mean(r["cpu"]["gunicorn_ms_per_req"] for r in rs if r["mode"] == mode)
               for t, rs in by_tag.items()}
        print(_table(f"\nside by side, mode={mode} (samples pooled over rounds): before {rps['before']:.0f} req/s, "
                     f"gunicorn {cpu['before']:.1f} CPU-ms/req; after {rps['after']:.0f} req/s, "
                     f"{cpu['after']:.1f} CPU-ms/req (ratio {cpu['after'] / cpu['before']:.2f})",
                     ["endpoint [login]", "p50 before", "p50 after", "ratio", "p95 before", "p95 after", "ratio"],
                     rows))


def _clone_before_db(db: str) -> None:
    """The earlier tree gets its own copy of the loaded county (it writes audit events without the key column,
    and its chain must not be mixed into ygt_bench's)."""
    if _pg("select 1", db) == "1":
        return
    print(f"copying {BENCH_DB} to {db} for the earlier tree …", flush=True)
    _pg(f"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{BENCH_DB}' "
        "and pid <> pg_backend_pid()", "postgres")
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "-T", BENCH_DB, db], check=True)
    _pg("ALTER TABLE core_auditevent ALTER COLUMN key_id SET DEFAULT ''", db)


def _start_server(flavor: str, a, port: int, env: dict, log) -> tuple[subprocess.Popen, list[str]]:
    if flavor == "after":
        cmd = [str(VENV_BIN / "yigongti"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        if a.workers:
            cmd += ["--workers", str(a.workers)]
        if a.threads:
            cmd += ["--threads", str(a.threads)]
    else:
        cmd = [sys.executable, "-c", "from yigongti.cli import main; main()", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(a.before_workers)]
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(HERE.parent.parent))
    return server, cmd


def _server_env(flavor: str, a, data_dir: Path, db: str) -> dict:
    sys.path.insert(0, str(HERE.parent))
    from _common import bench_env

    env = bench_env(dict(os.environ))
    env.update(DATABASE_URL=PG_URL.format(db=db), YIGONGTI_DATA_DIR=str(data_dir))
    env.pop("YGT_LOCUST_TERMS", None)
    if flavor == "after":
        env.update(DJANGO_SETTINGS_MODULE="_bench_settings", PYTHONPATH=str(HERE.parent),
                   # logins all come from 127.0.0.1; they succeed, but a slip must not lock the whole bench out
                   YIGONGTI_LOGIN_CLIENT_LIMIT="100000")
        if a.redis:
            env["YIGONGTI_REDIS_URL"] = a.redis
    else:
        env.update(DJANGO_SETTINGS_MODULE="yigongti.settings", PYTHONPATH=a.before_src)
        env.pop("YIGONGTI_REDIS_URL", None)
    return env


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--servers", default="after", help="after, before, or both in turn: after,before")
    ap.add_argument("--before-src", default="/tmp/before/src", help="src/ of the earlier tree (git archive)")
    ap.add_argument("--before-db", default="ygt_before")
    ap.add_argument("--before-workers", type=int, default=3, help="the earlier bench's serve --workers 3 (2 threads)")
    ap.add_argument("--workers", type=int, default=0, help="after: serve --workers (0 = its default)")
    ap.add_argument("--threads", type=int, default=0, help="after: serve --threads (0 = its default)")
    ap.add_argument("--redis", default=os.environ.get("YIGONGTI_REDIS_URL", "redis://127.0.0.1:6379/1"),
                    help="after: YIGONGTI_REDIS_URL ('' for the file cache)")
    ap.add_argument("--mix", default="full", choices=["full", "search"])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--duration", type=int, default=60, help="measured seconds per mode (after warm-up)")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--modes", default="closed")
    ap.add_argument("--rounds", type=int, default=1, help="alternate the servers this many times")
    ap.add_argument("--probe-rounds", type=int, default=5)
    ap.add_argument("--profile", type=int, default=0, help="py-spy record the after server's workers for N s")
    ap.add_argument("--json", help="also write the raw results here")
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
    n = _pg("select count(*) from residents_resident")
    if not n or int(n) < 1000:
        raise SystemExit("ygt_bench is not loaded: run bench/generate_load.py --db postgresql --keep-pg")
    servers = [s for s in a.servers.split(",") if s]
    if "before" in servers:
        _clone_before_db(a.before_db)
    dbs = {"after": BENCH_DB, "before": a.before_db}
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results: dict = {"runs": []}
    with tempfile.TemporaryDirectory(prefix="ygt-http-") as tmp_s:
        tmp = Path(tmp_s)
        terms_files: dict[str, Path] = {}
        codes: dict[str, _Codes] = {}
        for flavor in dict.fromkeys(servers):  # setup with today's code, once per database
            data_dir = tmp / f"data-{flavor}"
            data_dir.mkdir()
            env = _server_env("after", a, data_dir, dbs[flavor])
            env["DJANGO_SETTINGS_MODULE"] = "yigongti.settings"
            terms_file = tmp / f"terms-{flavor}.json"
            subprocess.run([sys.executable, str(HERE), "--setup-worker", str(terms_file), "--terms", str(a.terms)],
                           env=env, check=True)
            terms_files[flavor] = terms_file
            terms = json.loads(terms_file.read_text())
            codes[flavor] = _Codes(terms["bureau"].get("codes", []))
            print(f"[{flavor}] {dbs[flavor]}: {terms['residents']:,} residents; bureau scope "
                  f"{terms['bureau']['scope']} ({terms['bureau']['in_scope']:,}), township "
                  f"{terms['township']['where']} ({terms['township']['in_scope']:,}); center account "
                  f"{terms.get('center', {}).get('username', '—')}")
        for rnd in range(a.rounds):
            for flavor in servers:
                db = dbs[flavor]
                terms = json.loads(terms_files[flavor].read_text())
                data_dir = tmp / f"data-{flavor}"
                env = _server_env(flavor, a, data_dir, db)
                port = _free_port()
                base = f"http://127.0.0.1:{port}"
                log = open(tmp / f"gunicorn-{flavor}-{rnd}.log", "w")  # noqa: SIM115 (closed in finally)
                server, cmd = _start_server(flavor, a, port, env, log)
                meter = CpuMeter(server.pid, db)
                try:
                    import urllib.request

                    for _ in range(150):
                        try:
                            urllib.request.urlopen(base + "/login/", timeout=2)
                            break
                        except OSError:
                            time.sleep(0.2)
                    else:
                        raise SystemExit("server did not start: " + (tmp / f"gunicorn-{flavor}-{rnd}.log")
                                         .read_text()[-2000:])
                    time.sleep(1)
                    workers = _children(server.pid)
                    desc = (f"{flavor}: {Path(cmd[0]).name} {' '.join(cmd[1:])}".replace(
                        "-c from yigongti.cli import main; main()", f"(PYTHONPATH={a.before_src}) yigongti") +
                        f" — {len(workers)} workers" + (f", cache {env.get('YIGONGTI_REDIS_URL') or 'file'}"
                                                        if flavor == "after" else ", per-process cache"))
                    print(f"\n== round {rnd + 1}, {desc} on {base}; load average {os.getloadavg()[0]:.2f}", flush=True)
                    if rnd == 0 and a.probe_rounds:
                        pr = probe(base, terms, a.probe_rounds, flavor, a.mix, codes[flavor])
                        results[f"probe-{flavor}"] = pr
                        rows = [[k, len(v), f"{statistics.median(v):.0f}", f"{_pct(v, 0.95):.0f}", f"{max(v):.0f}"]
                                for k, v in pr.items()]
                        print(_table(f"\n[{flavor}] single-client probe (sequential; {a.probe_rounds} rounds; ms)",
                                     ["endpoint [login]", "n", "median", "p95", "max"], rows))
                    for mode in a.modes.split(","):
                        offset = codes[flavor].take(a.users + 5)
                        res = run_locust(base, terms_files[flavor], tmp, mode, a.users, a.duration, a.warmup, meter,
                                         flavor, a.mix, offset, db, a.profile if flavor == "after" else 0,
                                         server.pid, f"{flavor}{rnd}")
                        res.update(users=a.users, duration=a.duration, warmup=a.warmup, server=desc, tag=flavor,
                                   duration_total=a.duration + a.warmup, mix=a.mix)
                        results["runs"].append(res)
                        report(res)
                        if res["locust_stderr_tail"]:
                            print("locust stderr:", res["locust_stderr_tail"])
                    if flavor == "after" and rnd == a.rounds - 1:
                        v = subprocess.run([sys.executable, str(HERE), "--verify-worker"], env=dict(
                            env, DJANGO_SETTINGS_MODULE="yigongti.settings"), capture_output=True, text=True)
                        print(f"\naudit chain of {db} after the run (verify_chain): "
                              f"{v.stdout.strip() or v.stderr[-500:]}")
                finally:
                    server.terminate()
                    try:
                        server.wait(20)
                    except subprocess.TimeoutExpired:
                        server.kill()
                    log.close()
        side_by_side(results["runs"])
        print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if a.json:
            Path(a.json).write_text(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
