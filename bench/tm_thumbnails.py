"""A study's thumbnails through the platform against fetching the previews from Orthanc per request.

    python bench/tm_thumbnails.py [--slices 24] [--rounds 30]

Starts its own Orthanc (scripts/orthanc, ports 28142/24342, a temporary directory), builds the test cast and its
centers in a scratch database (SQLite in memory, or DATABASE_URL's server with a test_ database), orders a CT
head for a resident, sends a synthetic study of ``--slices`` slices to Orthanc and syncs it (the sync renders the
thumbnails into the platform's cache, as the worker does). Then, ``--rounds`` times:

- ours: the ordering doctor's browser asks the platform for the study's thumbnails — one sheet of all of them,
  as the order page shows them (Django's test client: the whole stack — session, the access the page checked,
  the audit of the first look, the disk cache); each thumbnail alone is timed too;
- baseline: the same thumbnails as Orthanc's ``/instances/{id}/preview`` straight from the PACS, one request
  per image (what a page that proxied Orthanc on every request would at least pay, before any scope check).

It prints p50/p95 per study (all thumbnails) and per image, the target (a study's thumbnails p95 ≤ 300 ms) and
the ratio baseline/ours.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
TARGET_MS = 300
HTTP_PORT, DICOM_PORT = "28142", "24342"


def _pcts(xs: list[float]) -> tuple[float, float]:
    xs = sorted(xs)
    return statistics.median(xs), xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--slices", type=int, default=24)
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="tm_thumbs_"))
    os.environ["YIGONGTI_DATA_DIR"] = str(tmp / "data")
    from _common import bench_env

    env = bench_env({**os.environ, "YIGONGTI_ORTHANC_DIR": str(tmp / "orthanc"),
                     "YIGONGTI_ORTHANC_HTTP_PORT": HTTP_PORT, "YIGONGTI_ORTHANC_DICOM_PORT": DICOM_PORT,
                     "YIGONGTI_ORTHANC_STABLE_AGE": "1"})
    os.environ.update(env)
    script = str(ROOT / "scripts" / "orthanc")
    subprocess.run([script, "start"], env=env, check=True)
    try:
        out = subprocess.run([script, "env"], env=env, check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            k, v = line.removeprefix("export ").split("=", 1)
            os.environ[k] = v
        run(args)
    finally:
        subprocess.run([script, "stop"], env=env, check=False)


def run(args) -> None:
    from _common import setup_django

    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        _measure(args, Client)
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


def _measure(args, client_class) -> None:
    from tests.cast import build_cast
    from tests.telemedicine.conftest import build_centers, make_order
    from tests.twofactor import pass_two_factor
    from yigongti.telemedicine import dicomgen, imaging, pacs
    from yigongti.telemedicine.models import ImagingStudy

    cast: Any = build_cast()
    centers = build_centers(cast)
    order = make_order(centers, "CT-HEAD", by=cast.township_doctor, resident=cast.resident)
    c = pacs.client()
    assert c is not None
    files = dicomgen.study(order.accession_no, str(cast.resident.pk), cast.resident.name, "CT", args.slices)
    study_id = ""
    for f in files:
        study_id = c.upload(f)["ParentStudy"]
    t = time.perf_counter()
    while not c.get_json(f"/studies/{study_id}").get("IsStable"):
        time.sleep(0.2)
        if time.perf_counter() - t > 30:
            raise SystemExit("Orthanc did not call the study stable")
    t = time.perf_counter()
    imaging.sync_studies()
    sync_ms = (time.perf_counter() - t) * 1000
    study = ImagingStudy.objects.get(order=order)
    n = len(study.instances)

    client = client_class()
    client.force_login(cast.township_doctor)
    pass_two_factor(client, cast.township_doctor)
    page = f"/centers/orders/{order.pk}/"
    sheet = f"/centers/imaging/studies/{study.pk}/thumbnails.jpg"
    each = [f"/centers/imaging/studies/{study.pk}/i/{i}/160.jpg" for i in range(n)]
    assert client.get(page).status_code == 200  # the order page grants the study's images for a while
    for u in [sheet, *each]:  # warm-up (and the one audited first look)
        assert client.get(u).status_code == 200

    ours, ours_each = [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        r = client.get(sheet)
        ours.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200 and r.content[:2] == b"\xff\xd8"
        for u in each:
            t1 = time.perf_counter()
            r = client.get(u)
            ours_each.append((time.perf_counter() - t1) * 1000)
            assert r.status_code == 200

    base, base_each = [], []
    for iid in study.instances[:2]:
        c.preview(iid)  # warm-up
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for iid in study.instances:
            t1 = time.perf_counter()
            data = c.preview(iid)
            base_each.append((time.perf_counter() - t1) * 1000)
            assert data
        base.append((time.perf_counter() - t0) * 1000)

    o50, o95 = _pcts(ours)
    b50, b95 = _pcts(base)
    oe50, oe95 = _pcts(ours_each)
    be50, be95 = _pcts(base_each)
    db = connection_vendor()
    print(f"study: CT head, {n} slices 128×128; {args.rounds} rounds; database {db}; sync (with thumbnail warm-up) "
          f"{sync_ms:.0f} ms")
    print(f"{'':38}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'ours: the study thumbnails (platform)':38}{o50:10.1f}{o95:10.1f}   target p95 ≤ {TARGET_MS} ms: "
          f"{'met' if o95 <= TARGET_MS else 'MISSED'}")
    print(f"{'baseline: previews from Orthanc':38}{b50:10.1f}{b95:10.1f}")
    print(f"{'ours one thumbnail alone':38}{oe50:10.2f}{oe95:10.2f}")
    print(f"{'baseline per image':38}{be50:10.2f}{be95:10.2f}")
    print(f"ratio baseline/ours (study p95): {b95 / o95:.1f}×")


def connection_vendor() -> str:
    from django.db import connection

    return connection.vendor


if __name__ == "__main__":
    main()
