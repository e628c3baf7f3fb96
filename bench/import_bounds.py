"""Reading an upload before and after the import bounds (issue 8 §5): an .xlsx "bomb" of identical rows.

    python bench/import_bounds.py                  # 1,000,001 rows (the probe's file), baseline capped at 300 s
    python bench/import_bounds.py --rows 200000    # smaller, quicker

Each reader runs in its own subprocess (peak RSS from ``os.wait4`` is that reader's alone):

* **baseline** — the reader as it was (``openpyxl`` read-only, every row into a list, then the row count
  compared with the limit), copied below so that it runs on the same file;
* **bounded, default** — ``core.uploads.read_sheet`` with the defaults: the sheet's uncompressed size is
  checked in the zip directory and the file is refused unopened;
* **bounded, zip limit lifted** — the same with ``YIGONGTI_IMPORT_MAX_UNZIPPED_MB=500``, so that only the row
  count stops it: streaming, it stops at row 10,001.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_bomb(path: Path, rows: int) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.spreadsheets import write_xlsx_bomb  # the same file the import tests refuse

    write_xlsx_bomb(path, rows, compresslevel=9)


BASELINE = """
import openpyxl, sys
wb = openpyxl.load_workbook(sys.argv[1], read_only=True, data_only=True)
rows = list(wb.worksheets[0].iter_rows(values_only=True))
header = [str(h).strip() if h is not None else "" for h in rows[0]]
cols = {h: [None if r[i] is None else str(r[i]) for r in rows[1:]] for i, h in enumerate(header) if h}
print("read", len(rows) - 1, "rows, then refused:", len(rows) - 1 > 10_000)
"""

BOUNDED = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yigongti.settings")
import django; django.setup()
from yigongti.core.errors import InvalidInput
from yigongti.core.uploads import read_sheet
import time
t0 = time.perf_counter()
try:
    read_sheet(sys.argv[1], max_rows=10_000)
    outcome = "accepted"
except InvalidInput as e:
    outcome = "refused: " + e.message
print(f"{time.perf_counter() - t0:.3f} s in read_sheet (after Django set-up); {outcome}")
"""


def run(code: str, path: Path, env: dict, timeout: int) -> tuple[float, float, str]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=ROOT
    )
    deadline = t0 + timeout
    while True:
        pid, _status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            _pid, _status, usage = os.wait4(proc.pid, 0)
            return time.perf_counter() - t0, usage.ru_maxrss / 1024, f"killed after {timeout} s"
        time.sleep(0.05)
    out = proc.stdout.read().decode().strip().splitlines()
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, (out[-1] if out else "")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_001)
    ap.add_argument("--baseline-timeout", type=int, default=300)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="yigongti-bench-"))
    path = tmp / "bomb.xlsx"
    build_bomb(path, args.rows)
    sheet = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size
    print(f"{args.rows:,} identical rows: {path.stat().st_size / 1e6:.2f} MB on disk, sheet XML {sheet / 1e6:.0f} MB")
    env = {**os.environ, "YIGONGTI_DATA_DIR": str(tmp), "PYTHONPATH": str(ROOT / "src")}
    results = [
        ("baseline (all rows read)", *run(BASELINE, path, env, args.baseline_timeout)),
        ("bounded, default limits", *run(BOUNDED, path, env, 120)),
        ("bounded, zip limit lifted", *run(BOUNDED, path, {**env, "YIGONGTI_IMPORT_MAX_UNZIPPED_MB": "500"}, 120)),
    ]
    print(f"{'reader':28} {'wall s':>8} {'peak MB':>8}  outcome")
    for name, secs, mb, outcome in results:
        print(f"{name:28} {secs:8.2f} {mb:8.0f}  {outcome[:110]}")
    base = results[0][1]
    for name, secs, _mb, _o in results[1:]:
        print(f"baseline / {name}: {base / secs:.0f}× the time")


if __name__ == "__main__":
    main()
