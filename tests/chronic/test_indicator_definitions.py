"""规范管理率 and 控制率 at their edges (国家基本公共卫生服务规范 第三版 glossary): who is "managed in the year", the
4 face-to-face visits counted within the year only, the last visit of the year deciding control, a managed patient
without a visit counted in the denominator; and the control test is the rules' own (a new edition moves both)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.cache import cache

from yigongti.chronic import indicators, rules
from yigongti.chronic.models import Enrolment, FollowUp
from yigongti.indicators import queries
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import Area

pytestmark = pytest.mark.django_db
COUNTY = Area("county", "431127000000", "蓝山县", "431127")
D = dt.date


def fig(code, period="2026-06"):
    cache.clear()  # figures are cached: read them afresh after each change
    return {c.indicator.code: c.value for c in queries.figures(COUNTY, parse_period(period), [code])}[code]


ENROLLED = D(2025, 1, 1)


def _enrol(care, resident, condition="htn", on=ENROLLED):
    c = care.cast
    return Enrolment.objects.create(resident=resident, condition=condition, enrolled_on=on,
                                    facility=c.village_clinic, village=c.village)


def _visit(e, on, sbp=None, dbp=None, fbg=None, mode="clinic"):
    return FollowUp.objects.create(enrolment=e, resident=e.resident, visit_date=on, mode=mode, facility=e.facility,
                                   sbp=sbp, dbp=dbp, fbg=fbg, control="controlled", decision="routine",
                                   next_visit_on=on + dt.timedelta(days=90))


def test_visits_of_last_year_do_not_make_this_year_standard(care):
    e = _enrol(care, care.grandfather)
    for day in (D(2025, 10, 1), D(2025, 12, 20), D(2026, 2, 1), D(2026, 4, 1)):
        _visit(e, day, 130, 80)
    assert (fig("CH_HTN_STD").numerator, fig("CH_HTN_STD").denominator) == (0, 1)
    _visit(e, D(2026, 5, 1), 130, 80)
    _visit(e, D(2026, 6, 1), 130, 80)
    assert fig("CH_HTN_STD").numerator == 1
    assert fig("CH_HTN_STD", "2026-05").numerator == 0  # year to the period's end: 3 visits by 31 May


def test_managed_in_the_year_excludes_later_enrolments_and_ended_before_the_year(care):
    _enrol(care, care.grandfather, on=D(2026, 7, 2))             # after the period
    gm = _enrol(care, care.grandmother)
    gm.status, gm.ended_on, gm.end_reason = "ended", D(2025, 12, 31), "moved"  # ended before 1 January
    gm.save()
    assert fig("CH_HTN_STD").denominator == 0 and fig("CH_HTN_STD").value is None
    assert fig("CH_HTN_STD", "2026-07").denominator == 1


def test_control_counts_the_unvisited_in_the_denominator_and_the_last_visit_decides(care):
    gf = _enrol(care, care.grandfather)  # 68 in 2026
    _enrol(care, care.grandmother)       # no visit this year
    _visit(gf, D(2026, 2, 1), 130, 80)
    _visit(gf, D(2026, 5, 1), 150, 85)  # 65+: 150 is not < 150
    v = fig("CH_HTN_CTRL")
    assert (v.numerator, v.denominator) == (0, 2)
    _visit(gf, D(2026, 6, 20), 149, 89)
    assert fig("CH_HTN_CTRL").numerator == 1
    assert fig("CH_HTN_CTRL", "2026-05").numerator == 0  # the last visit up to the period's end


def test_glucose_control_at_7_0_is_not_at_target(care):
    e = _enrol(care, care.grandmother, "t2dm")
    _visit(e, D(2026, 3, 1), fbg=Decimal("7.0"))
    assert fig("CH_DM_CTRL").numerator == 0
    _visit(e, D(2026, 6, 1), fbg=Decimal("6.9"))
    assert fig("CH_DM_CTRL").numerator == 1


def test_the_indicator_uses_the_thresholds_of_the_rules_in_force(monkeypatch):
    assert indicators.at_target("htn", 139, 89, None, 60) and not indicators.at_target("htn", 140, 80, None, 60)
    assert indicators.at_target("htn", 149, 89, None, 65) and not indicators.at_target("htn", None, 80, None, 70)
    raw = json.loads(rules.DATA.read_text(encoding="utf-8"))
    raw["bp"]["target"] = {"sbp_below": 130, "dbp_below": 80}
    monkeypatch.setattr(rules, "standard", lambda: rules.parse_standard(raw))
    assert not indicators.at_target("htn", 135, 78, None, 60)  # the new edition's target


@pytest.mark.parametrize("sign", [d["code"] for d in json.loads(rules.DATA.read_text(encoding="utf-8"))[
    "danger_signs"]])
def test_every_danger_sign_of_the_data_means_urgent_referral(sign):
    s = rules.standard()
    condition = next(d for d in s.danger_signs if d["code"] == sign)["conditions"][0]
    reading = {"condition": condition, "sbp": 130, "dbp": 80, "fbg": Decimal("6.0"), "danger_signs": [sign]}
    o = rules.classify_and_decide(reading, age=60, previous_uncontrolled=0, visit_date=D(2026, 6, 15))
    assert o.urgent and o.refer and "danger_sign" in o.reasons


def test_seen_in_3_months_for_the_month_in_progress_looks_back_from_today(care, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: D(2026, 6, 15))
    e = _enrol(care, care.grandfather)
    _visit(e, D(2026, 3, 20), 130, 80)  # 87 days before the 15th; 102 days before 30 June
    v = fig("CH_RECENT")
    assert (v.numerator, v.denominator) == (1, 1)
    assert fig("CH_RECENT", "2026-05").numerator == 1  # a past month: its own end (31 May)
