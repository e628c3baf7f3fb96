"""HL7 v2 ORU^R01 ingest over MLLP, with ACKs and critical-value detection, on PostgreSQL.

    python bench/hl7_ingest.py                      # DATABASE_URL defaults to postgresql://…/h_h3_bench
    python bench/hl7_ingest.py --messages 3000 --connections 4 --probes 100

What it does:

1. Resets the bench database and builds the tests' small community (``tests/cast.py``) with its five centers
   (``tests/telemedicine/conftest.py``), loads the default critical-value table (``rules.install_defaults``:
   K < 2.8 / > 6.2 mmol/L …) and bulk-creates one CHEM order per message (K, Na, GLU in mg/dL — converted —, Cr).
2. Starts the real listener, ``yigongti hl7 listen``, as a separate process on port 26090.
3. **Throughput**: ``--connections`` senders, each on its own MLLP connection in original acknowledgement mode
   (send a message, wait for its ACK, send the next — what an analyser or a LIS interface engine does). One
   message in ten carries a critical potassium (6.8 mmol/L), so the critical-value loop (rule choice, the
   CriticalValue, its events, the inbox notification, the escalation job) runs inside the measured ingest. Every
   ACK must be AA; the rows are counted afterwards. Also run with one connection.
4. **Critical → inbox latency**: while the load runs, a probe connection sends ``--probes`` critical messages one
   by one; a separate database connection polls the ordering doctor's inbox every 5 ms, and the latency is from
   the moment the probe's first byte is written to the socket to the moment the notification row is visible.

Baselines (quoted by the issue): Medplum's HL7 listener in its original-ack mode manages about 4 messages/s; the
critical value phoned through by hand takes a mean 21.7 min at 三级 and 38.2 min at 二级 hospitals.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [HERE, ROOT, os.path.join(ROOT, "src")]
from _common import bench_env  # noqa: E402

PORT = 26090
MEDPLUM_MSGS_PER_S = 4.0
TARGET_MSGS_PER_S = 200.0
TARGET_P95_S = 2.0
PHONE_MINUTES = {"三级": 21.7, "二级": 38.2}
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/h_h3_bench"


def _ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup(n_orders: int):
    """A fresh community with its centers, the default critical table and ``n_orders`` open CHEM orders."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("flush", interactive=False, verbosity=0, include_audit_log=True)  # a throw-away bench database
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]
    from django.utils import timezone

    from tests.cast import build_cast
    from tests.telemedicine.conftest import build_centers
    from yigongti.core.actor import Actor
    from yigongti.telemedicine import rules, workflow
    from yigongti.telemedicine.models import Order

    cast = build_cast()
    centers = build_centers(cast)
    n_rules = rules.install_defaults(cast.community, actor=Actor.system("bench"))
    now = timezone.now()
    item, doctor, resident = centers.items["CHEM"], cast.township_doctor, cast.resident
    orders = [Order(accession_no=f"LB{i:08d}", center=centers.lab, item=item, kind="lab", resident=resident,
                    area_code=resident.area_code, facility=cast.township_center, ordered_by=doctor,
                    urgency="routine", priority=2, ordered_at=now, due_at=workflow.due_at(now, 24 * 60))
              for i in range(n_orders)]
    Order.objects.bulk_create(orders, batch_size=2000)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return cast, n_rules


def _message(i: int, critical: bool, control: str) -> str:
    from yigongti.telemedicine.hl7.sample import oru

    k = "6.8" if critical else "4.1"
    return oru(f"LB{i:08d}", [("K", k, "mmol/L", "3.5-5.3"), ("NA", "139", "mmol/L"), ("GLU", "101", "mg/dL"),
                              ("CR", "78", "umol/L")], control_id=control, patient_name="测试患者")


def _start_listener(env: dict, processes: int, log: str) -> subprocess.Popen:
    """``yigongti hl7 listen`` (its errors in ``log``)."""
    p = subprocess.Popen([sys.executable, "-m", "yigongti", "hl7", "listen", "--port", str(PORT), "--processes",
                          str(processes)], env=env,
                         stdout=subprocess.DEVNULL, stderr=open(log, "w"))  # noqa: SIM115
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            time.sleep(1.0)  # the other processes bind too
            return p
        except OSError:
            if p.poll() is not None:
                raise RuntimeError(open(log).read()) from None  # noqa: SIM115
            time.sleep(0.05)
    p.terminate()
    raise RuntimeError("listener did not start")


def _cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes (Linux /proc), 0 for one that is gone."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return total


def _children(pid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(name))
            except (OSError, IndexError, ValueError):
                continue
    return out


BENCH_APP = "hl7-bench"  # application_name of this script's own connections (the probe's inbox polling …)


class _BackendCpu:
    """CPU of the listener's PostgreSQL backends over a run: every backend of the bench database that is not
    this script's own is sampled every 0.2 s on a separate connection, so one that exits during the run (the
    listener reconnects every CONN_MAX_AGE seconds) keeps what it had used; each counts from its CPU at the
    start (the applier connections already served the warm-up and the one-connection run)."""

    def __init__(self, url: str):
        import psycopg

        self.conn = psycopg.connect(url, autocommit=True, application_name=BENCH_APP)
        self.start = self._read()
        self.last = dict(self.start)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _read(self) -> dict[int, float]:
        pids = [r[0] for r in self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name <> %s AND backend_type = 'client backend'", (BENCH_APP,))]
        return {pid: _cpu_seconds([pid]) for pid in pids}

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            for pid, cpu in self._read().items():
                self.last[pid] = max(cpu, self.last.get(pid, 0.0))

    def seconds(self) -> float:
        self.stop.set()
        self.thread.join()
        for pid, cpu in self._read().items():
            self.last[pid] = max(cpu, self.last.get(pid, 0.0))
        self.conn.close()
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.last.items())


def _senders(indices: list[list[int]], tag: str, before_close=None) -> tuple[float, list[float], list[str]]:
    """Each list of message indices sent on its own connection; (wall seconds, ACK latencies, ACK codes)."""
    from yigongti.telemedicine.hl7.ack import ack_code
    from yigongti.telemedicine.hl7.mllp import MllpClient

    latencies: list[float] = []
    codes: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(len(indices) + 1)
    done = threading.Barrier(len(indices) + 1)

    def run(chunk: list[int]) -> None:
        prepared = [_message(i, i % 10 == 0, f"{tag}-{i}") for i in chunk]
        with MllpClient("127.0.0.1", PORT, timeout=60) as client:
            ready.wait()
            mine, my_codes = [], []
            for raw in prepared:
                t = time.perf_counter()
                ack = client.send(raw)
                mine.append(time.perf_counter() - t)
                my_codes.append(ack_code(ack))
            done.wait()  # every connection still open (their database backends alive) while the CPU is read
            done.wait()
        with lock:
            latencies.extend(mine)
            codes.extend(my_codes)

    threads = [threading.Thread(target=run, args=(c,)) for c in indices]
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.perf_counter()
    done.wait()
    wall = time.perf_counter() - t0
    if before_close is not None:
        before_close()
    done.wait()
    for t in threads:
        t.join()
    return wall, latencies, codes


def _probe(indices: list[int], doctor_id: int, out: list[float], codes: list[str]) -> None:
    """Send critical messages one at a time; the inbox is polled on another connection."""
    from django.db import connection

    from yigongti.core.models import Notification
    from yigongti.telemedicine.hl7.ack import ack_code
    from yigongti.telemedicine.hl7.mllp import MllpClient

    with MllpClient("127.0.0.1", PORT, timeout=60) as client:
        for i in indices:
            acc = f"LB{i:08d}"
            raw = _message(i, True, f"probe-{i}")
            inbox = Notification.objects.filter(kind="critical_value", recipient_id=doctor_id, body__contains=acc)
            t0 = time.perf_counter()
            client.sock.sendall(b"\x0b" + raw.encode() + b"\x1c\r")
            seen = None
            while seen is None and time.perf_counter() - t0 < 30:
                if inbox.exists():
                    seen = time.perf_counter() - t0
                else:
                    time.sleep(0.005)
            codes.append(ack_code(client.receive()))
            out.append(seen if seen is not None else float("inf"))
            time.sleep(0.02)
    connection.close()


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=3000, help="messages of the multi-connection run")
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--single", type=int, default=600, help="messages of the one-connection run")
    ap.add_argument("--probes", type=int, default=100)
    ap.add_argument("--processes", type=int, default=2, help="listener processes (yigongti hl7 listen --processes)")
    args = ap.parse_args()

    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.settings")
    data_dir = tempfile.mkdtemp(prefix="h3-hl7-bench-")
    os.environ.setdefault("YIGONGTI_DATA_DIR", data_dir)
    os.environ.setdefault("YIGONGTI_NOTIFIERS", "")
    os.environ["PGAPPNAME"] = BENCH_APP  # libpq: this script's own connections, left out of the CPU count
    bench_env(os.environ)  # type: ignore[arg-type]
    _ensure_database(os.environ["DATABASE_URL"])
    warm = 50
    total = warm + args.single + args.messages + args.probes
    t = time.perf_counter()
    cast, n_rules = _setup(total)
    print(f"set-up: {total:,} CHEM orders, {n_rules} default critical rules, {time.perf_counter() - t:.1f} s "
          f"({os.environ['DATABASE_URL'].split('@')[-1]})")

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.join(ROOT, "src"), ROOT])}
    env.pop("PGAPPNAME", None)  # the listener's connections are the ones measured
    log = os.path.join(data_dir, "listener.log")
    listener = _start_listener(env, args.processes, log)
    load = os.getloadavg()
    print(f"listener: {args.processes} process(es) on port {PORT}; load average before the runs {load[0]:.1f} "
          f"on {os.cpu_count()} cores")
    try:
        from django.db import connection

        connection.close()
        _senders([list(range(warm))], "warm")
        base = warm
        wall1, lat1, codes1 = _senders([list(range(base, base + args.single))], "one")
        base += args.single
        chunks = [list(range(base + c, base + args.messages, args.connections)) for c in range(args.connections)]
        probe_idx = list(range(base + args.messages, total))
        probe_lat: list[float] = []
        probe_codes: list[str] = []
        prober = threading.Thread(target=_probe, args=(probe_idx, cast.township_doctor.pk, probe_lat, probe_codes))
        prober.start()
        workers = _children(listener.pid) if args.processes > 1 else [listener.pid]
        cpu0 = _cpu_seconds(workers)
        backends = _BackendCpu(os.environ["DATABASE_URL"])
        cpu: dict[str, float] = {}

        def read_cpu() -> None:
            cpu["listener"] = _cpu_seconds(workers) - cpu0
            cpu["postgres"] = backends.seconds()

        wallc, latc, codesc = _senders(chunks, "many", read_cpu)
        prober.join()
    finally:
        listener.terminate()
        listener.wait(20)
    errors = open(log).read().count("Traceback")  # noqa: SIM115
    if errors:
        print(f"listener log: {errors} tracebacks ({log})")

    from yigongti.telemedicine.models import CriticalValue, Hl7Message, LabResult

    bad = [c for c in codes1 + codesc + probe_codes if c != "AA"]
    n_msgs = Hl7Message.objects.filter(status="applied").count()
    n_results = LabResult.objects.count()
    n_crit = CriticalValue.objects.count()
    expected_crit = sum(1 for i in range(total) if i % 10 == 0 and i < base + args.messages) + args.probes
    print(f"applied messages {n_msgs:,} (sent {total:,}), lab results {n_results:,} (expected {4 * total:,}), "
          f"critical values {n_crit:,} (expected {expected_crit:,}), non-AA ACKs {len(bad)}")

    rate1, ratec = args.single / wall1, args.messages / wallc
    print()
    print(f"{'ORU^R01 + ACK over MLLP (original mode)':44} {'msg/s':>8} {'ACK p50 ms':>11} {'ACK p95 ms':>11} "
          f"{'vs Medplum 4/s':>15}")
    print(f"{'1 connection':44} {rate1:8.0f} {_pct(lat1, 50) * 1000:11.1f} {_pct(lat1, 95) * 1000:11.1f} "
          f"{rate1 / MEDPLUM_MSGS_PER_S:14.0f}×")
    label = f"{args.connections} connections + the latency probe"
    print(f"{label:44} {ratec:8.0f} {_pct(latc, 50) * 1000:11.1f} {_pct(latc, 95) * 1000:11.1f} "
          f"{ratec / MEDPLUM_MSGS_PER_S:14.0f}×")
    print(f"target ≥ {TARGET_MSGS_PER_S:.0f} msg/s: {'met' if ratec >= TARGET_MSGS_PER_S else 'NOT met'}")
    per_msg = (cpu["listener"] + cpu["postgres"]) / args.messages
    cores = os.cpu_count() or 1
    print(f"CPU per message (multi-connection run): listener {cpu['listener'] / args.messages * 1000:.1f} ms + "
          f"PostgreSQL backends {cpu['postgres'] / args.messages * 1000:.1f} ms = {per_msg * 1000:.1f} ms; "
          f"capacity of {cores} otherwise idle cores ≈ {cores / per_msg:.0f} msg/s "
          f"({cores / per_msg / MEDPLUM_MSGS_PER_S:.0f}× Medplum)")
    print()
    finite = [x for x in probe_lat if x != float("inf")]
    p95 = _pct(probe_lat, 95)
    print(f"critical ORU → ordering doctor's inbox, {len(probe_lat)} probes under the load above: "
          f"p50 {_pct(finite, 50) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {max(probe_lat) * 1000:.0f} ms "
          f"(target p95 ≤ {TARGET_P95_S:.0f} s: {'met' if p95 <= TARGET_P95_S else 'NOT met'})")
    for level, minutes in PHONE_MINUTES.items():
        print(f"  vs phoned through by hand at {level} hospitals, mean {minutes} min: "
              f"{minutes * 60 / max(statistics.mean(finite), 1e-9):,.0f}× faster (mean vs mean)")
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
