"""The fund ledger page and the forecast for the demo county: p50/p95 against the 200 ms target, side by side
with a simple baseline that computes the same figures straight from the settlements on every request.

    python bench/insurance_ledger.py --population 450000 -n 40          # a temporary SQLite database
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/h_ledger python bench/insurance_ledger.py --keep ...

It builds the demo county (``demo.build``: two years of settlements, the insurance step posts the ledger and
sets the budgets; if that step did not, the bench posts and sets them itself), signs in as the demo's
``insurance`` account with Django's test client (the whole stack: middleware, session, template) and times:

* ``ledger page``: ``GET /insurance/`` — the figures come from ``LedgerEntry`` and are cached under the
  ledger's version; ``ledger page, cold``: the same after every post (the version moved, nothing cached);
* ``forecast API``: ``GET /api/v1/insurance/budget/forecast``;
* ``baseline``: the same figures (months, levels, the 15 costliest groups, the seasonal history and the
  forecast) aggregated from ``InsuranceSettlement`` on each request, without the ledger or a cache — the
  computation alone, no page around it, so it is a lower bound of a page built that way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests.twofactor
from _common import bench_env

TARGET_MS = 200


def _percentiles(ms: list[float]) -> tuple[float, float]:
    ms = sorted(ms)
    return statistics.median(ms), ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]


def baseline(community, year: int, scheme: str) -> dict:
    """The page's figures straight from the settlements (what the ledger saves each request)."""
    import datetime as dt

    from django.db.models import Sum
    from django.db.models.functions import ExtractMonth, ExtractYear

    from yigongti.encounters.models import InsuranceSettlement
    from yigongti.insurance import forecast as fc
    from yigongti.insurance.budget import county_code, current_budget
    from yigongti.insurance.ledger import group_expression, level_expression, payment_version

    qs = InsuranceSettlement.objects.filter(residence_county=county_code(community), scheme=scheme)
    this = qs.filter(settle_date__gte=dt.date(year, 1, 1), settle_date__lt=dt.date(year + 1, 1, 1))
    monthly: dict[int, list[Decimal]] = {}
    for r in (qs.filter(settle_date__lt=dt.date(year + 1, 1, 1))
              .annotate(y=ExtractYear("settle_date"), m=ExtractMonth("settle_date"))
              .values("y", "m").annotate(f=Sum("fund_paid")).order_by()):
        monthly.setdefault(r["y"], [Decimal(0)] * 12)[r["m"] - 1] = r["f"]
    months = monthly.pop(year, [Decimal(0)] * 12)
    levels = list(this.annotate(lvl=level_expression()).values("lvl").annotate(f=Sum("fund_paid")).order_by())
    groups = list(this.annotate(grp=group_expression(payment_version())).exclude(grp="").values("grp")
                  .annotate(f=Sum("fund_paid")).order_by("-f")[:15])
    budget = current_budget(community, year, scheme)
    actual = {m + 1: v for m, v in enumerate(months) if v}
    return {"months": months, "levels": levels, "groups": groups,
            "forecast": fc.forecast(year, actual, monthly, budget.amount if budget else None)}


def _time(fn, n: int) -> list[float]:
    fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--population", type=int, default=450_000)
    ap.add_argument("-n", type=int, default=40, help="timed requests per figure after one warm-up")
    ap.add_argument("--skip-insurance-step", action="store_true",
                    help="build the demo without its insurance step (the bench then posts and budgets itself)")
    ap.add_argument("--keep", action="store_true", help="use the configured database (DATABASE_URL) as it is; "
                                                        "build the demo only if it is empty")
    args = ap.parse_args()
    tmp = None
    if not args.keep:
        tmp = tempfile.TemporaryDirectory(prefix="ygt-ledger-")
        os.environ["YIGONGTI_DATA_DIR"] = tmp.name
        os.environ.pop("DATABASE_URL", None)
    bench_env(os.environ)  # type: ignore[arg-type]
    from _common import load_demo, setup_django

    setup_django()
    from django.core.management import call_command

    from yigongti.encounters.models import InsuranceSettlement

    call_command("migrate", interactive=False, verbosity=0)
    if not args.keep or not InsuranceSettlement.objects.exists():
        if args.skip_insurance_step:
            from yigongti.demo import build

            build.STEPS[:] = [s for s in build.STEPS if s.__name__ != "build_insurance"]
        built = load_demo(args.population)
        print(f"demo county of {args.population:,} residents built in {built:.0f} s")
    run(args.n)
    if tmp is not None:
        tmp.cleanup()


def run(n: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from yigongti.core.actor import Actor
    from yigongti.encounters.models import InsuranceSettlement
    from yigongti.insurance import budget as budgets
    from yigongti.insurance import ledger
    from yigongti.insurance.models import Budget, LedgerEntry
    from yigongti.orgs.models import MedicalCommunity, User

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    community = MedicalCommunity.objects.order_by("pk").first()
    assert community is not None, "no community: build the demo first"
    year = timezone.localdate().year
    actor = Actor.system("bench")
    if not LedgerEntry.objects.filter(community=community, year=year).exists():
        t = time.perf_counter()
        for y in (year - 1, year):
            ledger.post_year(community, y, actor=actor)
        print(f"posted {year - 1} and {year} in {time.perf_counter() - t:.1f} s")
    if not Budget.objects.filter(community=community, year=year, scheme="resident").exists():
        budgets.set_budget(community, year, "resident", {"growth_rate": "0.03", "withholding_rate": "0.05",
                                                         "prealloc": "seasonal", "retained_share": "0.6",
                                                         "overspend_cap": "0.1", "overspend_share": "0.5"},
                           actor=actor)
    settlements = InsuranceSettlement.objects.count()
    entries = LedgerEntry.objects.filter(community=community).count()
    print(f"{connection.vendor}; {settlements:,} settlements; {entries:,} ledger rows; {n} timed requests "
          f"after one warm-up")
    officer = User.objects.filter(role="insurance_officer").order_by("pk").first()
    assert officer is not None, "the demo has no insurance officer"
    client = Client()
    client.force_login(officer)
    from tests.twofactor import pass_two_factor

    pass_two_factor(client, officer)
    page = f"/insurance/?year={year}&scheme=resident"
    api = f"/api/v1/insurance/budget/forecast?year={year}&scheme=resident"

    def get(url):
        def fetch():
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code)
        return fetch

    def cold():
        ledger.bump_version(community.pk)
        get(page)()

    rows = [("ledger page", _time(get(page), n)), ("ledger page, cold", _time(cold, max(n // 4, 5))),
            ("forecast API", _time(get(api), n)),
            ("baseline (from settlements)", _time(lambda: baseline(community, year, "resident"), max(n // 10, 3)))]
    print(f"{'figure':30} {'p50 ms':>8} {'p95 ms':>8}   target p95 ≤ {TARGET_MS} ms")
    p95 = {}
    for label, ms in rows:
        p50, p95[label] = _percentiles(ms)
        print(f"{label:30} {p50:8.1f} {p95[label]:8.1f}")
    base = p95["baseline (from settlements)"]
    print(f"baseline p95 ÷ ledger page p95 = {base / p95['ledger page']:.1f}×; "
          f"÷ cold page p95 = {base / p95['ledger page, cold']:.1f}×")


if __name__ == "__main__":
    main()
