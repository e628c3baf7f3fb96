"""The demo county's indicator values, as the dashboard shows them (issue 9 §1: values before and after).

    export YIGONGTI_DATA_DIR=$(mktemp -d)
    .venv/bin/yigongti migrate && .venv/bin/yigongti generate --population 30000
    .venv/bin/python bench/indicator_values_demo.py --period 2026 [--period 2026-10] [--json out.json]

Prints one line per indicator: code, value, status and the note the card carries (coverage, missing
data). With ``--compare before.json`` it prints the earlier run's value beside each one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from _common import setup_django


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--period", action="append", default=None)
    ap.add_argument("--json", default=None, help="write the values to this file")
    ap.add_argument("--compare", default=None, help="an earlier --json output to print beside")
    args = ap.parse_args()
    setup_django()
    from yigongti.indicators import queries
    from yigongti.indicators.periods import parse_period
    from yigongti.indicators.services import refresh_facts
    from yigongti.orgs.models import Region

    refresh_facts()
    county = Region.objects.filter(level="county", medicalcommunity__isnull=False).order_by("code").first() \
        or Region.objects.filter(level="county").order_by("code").first()
    area = queries._region_area(county)
    before: dict = {}
    if args.compare:
        with open(args.compare, encoding="utf-8") as fh:
            before = json.load(fh)
    out: dict[str, dict[str, dict]] = {}
    for key in args.period or ["2026"]:
        period = parse_period(key)
        out[key] = {}
        print(f"== {county.name} {key}")
        for card in queries.figures(area, period):
            v = card.value.value
            note = getattr(card, "note", "") or ""
            out[key][card.indicator.code] = {"value": None if v is None else str(v), "status": card.status,
                                             "note": note}
            was = before.get(key, {}).get(card.indicator.code)
            side = f"  (before: {was['value']} {was['status']})" if was else ""
            print(f"{card.indicator.code:22s} {'—' if v is None else v!s:>14s} {card.status:6s}{side}  {note}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
