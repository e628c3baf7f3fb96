"""The ECG page (12 leads, 10 s, 500 Hz) against the target p95 ≤ 300 ms, beside a naive baseline.

    python bench/tm_ecg_page.py                       # a throw-away SQLite database in a temporary directory
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/h_ecg_bench python bench/tm_ecg_page.py   # (created empty)
    python bench/tm_ecg_page.py --n 200

It builds the tests' small cast and the five centers, a village doctor's ECG order and its uploaded DICOM
recording, then signs in as the center's reader with Django's test client (the whole stack: middleware,
session, scope check, audit event per request, template) and times after one warm-up:

* ours: the ECG page (HTML with the metadata and the samples embedded as base64 of the stored int16) — the one
  request the browser makes; the samples endpoint alone (int16, 120 KB) and the API's samples (base64 JSON);
* the baseline: the naive endpoint a first version would write — the same scoped, audited read, then the
  samples as JSON floats in mV, lead by lead (``{"I": [0.012, …], …}``), which the browser then draws.

It prints p50/p95/max and the payload of each, and the ratio baseline/ours at p95.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TARGET_MS = 300


def _naive_view(request, pk: int):
    """The baseline: the same read (scope + audit), the samples converted to float mV and sent as JSON."""
    import numpy as np
    from django.http import HttpResponse

    from yigongti.core.actor import Actor
    from yigongti.telemedicine.queries import ecg as q

    r = q.recording_for(Actor.from_request(request), pk, part="naive")
    arr = np.frombuffer(bytes(r.samples), dtype="<i2").reshape(len(r.leads), -1) * (r.microvolts_per_unit / 1000)
    body = {"rate": r.sample_rate, "leads": {lead: [round(float(v), 4) for v in arr[i]]
                                              for i, lead in enumerate(r.leads)}}
    return HttpResponse(json.dumps(body), content_type="application/json")


def _urlconf():
    """The project's URLs plus the baseline endpoint (a module made here, for ROOT_URLCONF)."""
    import types

    from django.urls import include, path

    mod = types.ModuleType("bench_ecg_urls")
    mod.urlpatterns = [path("bench/naive-ecg/<int:pk>", _naive_view), path("", include("yigongti.urls"))]
    sys.modules["bench_ecg_urls"] = mod
    return "bench_ecg_urls"


def _prepare():
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from tests.cast import as_, build_cast
    from tests.telemedicine.conftest import build_centers, make_order
    from yigongti.telemedicine import ecg
    from yigongti.telemedicine.ecg.simulate import twelve_lead
    from yigongti.telemedicine.ecg.write import dicom_ecg

    cast = build_cast()
    centers = build_centers(cast)
    order = make_order(centers, "ECG12", by=cast.village_doctor, resident=cast.resident, urgency="emergency")
    samples, rate, uv = twelve_lead(42, stemi="inferior")
    data = dicom_ecg(samples, rate, uv, order.accession_no, {"id": str(cast.resident.pk), "name": "bench"})
    ecg.receive_file(order.pk, data, "bench.dcm", actor=as_(cast.village_doctor))
    return centers.reader, order


def _time(client, urls: list[str], n: int) -> tuple[list[float], int]:
    size = 0
    for u in urls:  # warm-up
        r = client.get(u)
        assert r.status_code == 200, (u, r.status_code)
        size += len(r.content)
    out = []
    for _ in range(n):
        t = time.perf_counter()
        for u in urls:
            r = client.get(u)
            assert r.status_code == 200
        out.append((time.perf_counter() - t) * 1000)
    return out, size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="tm-ecg-bench-")
    os.environ.setdefault("YIGONGTI_DATA_DIR", tmp.name)
    from _common import bench_env, setup_django

    bench_env(os.environ)  # type: ignore[arg-type]
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.ROOT_URLCONF = _urlconf()
    reader, order = _prepare()
    client = Client()
    client.force_login(reader)
    from tests.twofactor import pass_two_factor

    pass_two_factor(client, reader)
    page = f"/centers/ecg/{order.pk}/"
    rows = {
        "ours: ECG page (samples embedded)": [page],
        "ours: samples endpoint (int16)": [f"/centers/ecg/{order.pk}/samples"],
        "ours: API samples (base64 JSON)": [f"/api/v1/telemedicine/ecg/{order.pk}/samples"],
        "baseline: naive float JSON": [f"/bench/naive-ecg/{order.pk}"],
    }
    print(f"{connection.vendor}; 12 leads × 10 s × 500 Hz; {args.n} timed requests after one warm-up; "
          f"target p95 ≤ {TARGET_MS} ms")
    print(f"{'':34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'bytes':>9}")
    p95s = {}
    for label, urls in rows.items():
        times, size = _time(client, urls, args.n)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        p95s[label] = p95
        print(f"{label:34} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f} {size:9,}")
    ours, base = p95s["ours: ECG page (samples embedded)"], p95s["baseline: naive float JSON"]
    print(f"p95 ours {ours:.1f} ms ({'meets' if ours <= TARGET_MS else 'MISSES'} the {TARGET_MS} ms target); "
          f"baseline {base:.1f} ms; baseline/ours = {base / ours:.1f}×")
    tmp.cleanup()


if __name__ == "__main__":
    main()
