"""The demo step on the cast's community: last year's payroll with the grassroots below the lead hospital (N06
within 0.6–0.8), three schemes, last month scored; the example file it writes imports cleanly."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.cast import SYSTEM
from yigongti.demo.context import DemoContext
from yigongti.demo.performance import build_performance, payroll_workbook, score_performance
from yigongti.performance import payroll
from yigongti.performance.models import PayrollRecord, Scheme, ScoreRun

pytestmark = pytest.mark.django_db


def test_the_demo_payroll_gives_a_plausible_n06_and_a_scored_month(cast, pf, tmp_path):
    from yigongti.indicators.periods import parse_period
    from yigongti.indicators.queries import REGISTRY_FIGURES, Area
    from yigongti.orgs.models import Facility, Staff

    today = dt.date.today()
    ctx = DemoContext(seed=1, population=450_000, today=today, community=cast.community,
                      facilities={f.code: f for f in Facility.objects.all()})
    build_performance(ctx)
    score_performance(ctx)
    year = today.year - 1
    assert PayrollRecord.objects.filter(year=year).count() == Staff.objects.filter(
        work_facility__community=cast.community, is_active=True).count()
    county = Area("county", cast.county.code, cast.county.name, cast.county.prefix)
    v = REGISTRY_FIGURES["N06"](county, parse_period(str(year)))
    assert v.value is not None and 0.5 <= float(v.value) <= 0.9
    assert Scheme.objects.filter(community=cast.community).count() == 3
    month = ctx.extra["performance"]["month"]
    runs = ScoreRun.objects.filter(month=month)
    assert runs.count() == 3 and all(r.scores.exists() for r in runs)
    # the example file of the same staff imports without a problem and replaces the year's rows
    path = tmp_path / "demo.xlsx"
    path.write_bytes(payroll_workbook(ctx, year))
    batch = payroll.import_payroll(path, "demo.xlsx", year, actor=SYSTEM, community=cast.community)
    assert not batch.problems and batch.replaced == batch.matched > 0
