"""The referral indicators come from the indicator engine: hand-counted referrals on top of the world of
tests/indicators/world.py, refreshed into the monthly facts, read on the dashboard and /referrals/stats/.

Referrals (R#), 2026, Beijing time (the facts count them in the *local* month of submission):
 R1 up   resident  塔峰镇卫生院→县医院 green    submitted 03-03 10:00:00        due 10:15   answered 10:14:59.9 accepted
 R2 up   neighbour 石桥村卫生室→县医院 routine  submitted 03-10 09:00:00.25      due 11:00:00.25, escalated then,
                                                answered 11:30:59.999999 declined
 R3 up   neighbour 石桥村卫生室→县医院 urgent   submitted 03-25 08:00  due 08:30, escalated 08:30, not answered
 R4 down resident  县医院→大塘村卫生室 (no center)  submitted 03-20 14:00
 R5 up   resident  submitted 04-01 00:10 Beijing = 03-31 16:10 UTC → April, not March
 R6 up   resident  draft, never submitted → nowhere
 R7 up   far_resident 郸城县人民医院→(county)  submitted 03-08 → 郸城县 (411625), not ours
 R8 down resident  submitted 05-06 → May, after the last encounter (04-03): the refresh must still cover May

Response minutes are whole minutes, floored: R1 14:59.9 → 14, R2 2:30:59.749999 → 150.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.indicators.world import build_world
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import Area, figures
from yigongti.indicators.services import refresh_facts
from yigongti.indicators.snapshot import live_long_form
from yigongti.referrals.models import Referral

BJ = ZoneInfo("Asia/Shanghai")


def _t(month, day, h, m, s=0, us=0):
    return dt.datetime(2026, month, day, h, m, s, us, tzinfo=BJ)


def _ref(c, who, direction, frm, to, submitted, status="submitted", urgency="routine", due=None, answered=None,
         escalated=None, center=True, to_level="county"):
    r = getattr(c, who)
    level = frm.care_level.value
    return Referral.objects.create(
        direction=direction, status=status, urgency=urgency, resident=r, area_code=r.area_code,
        center=c.center if center else None, from_facility=frm, from_level=level, referred_by=c.township_doctor,
        to_facility=to, to_level=to_level, icd10="I63.9", reason="测试", submitted_at=submitted, due_at=due,
        answered_at=answered, escalated_at=escalated)


@pytest.fixture
def referred(ref):
    build_world(ref)
    h, c, v, ov = ref.county_hospital, ref.township_center, ref.village_clinic, ref.other_clinic
    _ref(ref, "resident", "up", c, h, _t(3, 3, 10, 0), "accepted", "green", due=_t(3, 3, 10, 15),
         answered=_t(3, 3, 10, 14, 59, 900000))  # R1
    _ref(ref, "neighbour", "up", ov, h, _t(3, 10, 9, 0, 0, 250000), "declined", due=_t(3, 10, 11, 0, 0, 250000),
         escalated=_t(3, 10, 11, 0, 0, 250000), answered=_t(3, 10, 11, 30, 59, 999999))  # R2
    _ref(ref, "neighbour", "up", ov, h, _t(3, 25, 8, 0), urgency="urgent", due=_t(3, 25, 8, 30),
         escalated=_t(3, 25, 8, 30))  # R3
    _ref(ref, "resident", "down", h, v, _t(3, 20, 14, 0), "accepted", center=False, to_level="village")  # R4
    _ref(ref, "resident", "up", c, h, _t(4, 1, 0, 10))  # R5
    _ref(ref, "resident", "up", c, h, None, "draft")  # R6
    _ref(ref, "far_resident", "up", ref.far_hospital, None, _t(3, 8, 9, 0), to_level="city")  # R7
    _ref(ref, "resident", "down", h, v, _t(5, 6, 9, 0), "accepted", center=False, to_level="village")  # R8
    refresh_facts()
    return ref


def _rows(**where):
    return {(r["county"], r["month"], r["indicator"]): (r["numerator"], r["denominator"], r["value"])
            for r in live_long_form() if all(r[k] == v for k, v in where.items())}


def test_each_referral_indicator_of_the_county_in_march_is_the_hand_counted_one(referred):
    got = {k[2]: v for k, v in _rows(county="431127", month="2026-03").items() if k[2].startswith("REF_")}
    assert got == {
        "REF_UP": (Decimal(3), None, Decimal(3)),  # R1 R2 R3 (R5 is April's, R7 郸城's)
        "REF_DOWN": (Decimal(1), None, Decimal(1)),  # R4
        # 3 up ÷ 3 grassroots visits (E1 E2 E3) × 1000
        "REF_UP_RATE": (Decimal(3), Decimal(3), Decimal("1000.00")),
        # 1 down ÷ 1 county-hospital discharge in March (E8; E6 leaves in April, E7 is the township's)
        "REF_DOWN_RATE": (Decimal(1), Decimal(1), Decimal("100.00")),
        "REF_DOWN_SHARE": (Decimal(1), Decimal(4), Decimal("25.00")),  # R4 ÷ (R1 R2 R3 R4)
        "REF_ACCEPT": (Decimal(1), Decimal(2), Decimal("50.00")),  # R1 of the answered R1 R2 (R4 had no center)
        "REF_SLA": (Decimal(1), Decimal(2), Decimal("50.00")),  # R1 by 10:15; R2 half an hour late
        "REF_RESPONSE": (Decimal(164), Decimal(2), Decimal("82.00")),  # (14 + 150) ÷ 2
        "REF_OVERDUE": (Decimal(2), None, Decimal(2)),  # R2 R3 escalated
    }


def test_referrals_count_in_the_local_month_and_the_patients_county(referred):
    assert _rows(county="431127", month="2026-04")[("431127", "2026-04", "REF_UP")][2] == 1  # R5 at 00:10 on 1 April
    assert _rows(county="411625", month="2026-03")[("411625", "2026-03", "REF_UP")][2] == 1  # R7
    assert _rows(county="431127", month="2026-05")[("431127", "2026-05", "REF_DOWN")][2] == 1  # R8
    # a referral after the last encounter does not stretch the stays still in hospital: April's occupied
    # bed-days are E6 04-01→04-03 (2) + E10 04-01→04-04 (3, until the day after the data's last date)
    # + E11 (admitted and discharged on 04-01: one bed-day)
    assert _rows(county="431127", month="2026-04")[("431127", "2026-04", "BED_OCC")][0] == 6


def test_below_the_county_referrals_follow_where_patients_live(referred):
    cards = {c.indicator.code: c for c in figures(Area("township", "431127100000", "塔峰镇", "431127100"),
                                                   parse_period("2026-03"), ["REF_UP", "REF_DOWN", "REF_UP_RATE"])}
    # 塔峰镇's resident: R1 up, R4 down; grassroots visits by residence E1 E2 → 1 ÷ 2 × 1000
    assert cards["REF_UP"].value.value == 1 and cards["REF_DOWN"].value.value == 1
    assert cards["REF_UP_RATE"].value.value == Decimal("500.00")


def test_the_dashboard_has_a_two_way_referral_section(referred, login):
    html = login(referred.bureau).get("/indicators/?period=2026-03&area=county:431127000000").content.decode()
    assert "双向转诊" in html
    assert 'data-testid="value-REF_RESPONSE">82.00' in html
    assert 'data-testid="card-REF_SLA" data-status="red"' in html  # 50 % against ≥ 95 %
    detail = login(referred.bureau).get("/indicators/REF_UP/?period=2026-03&area=county:431127000000")
    assert detail.status_code == 200 and 'data-testid="drill-records"' not in detail.content.decode()
    assert login(referred.bureau).get("/indicators/REF_UP/records/?period=2026-03").status_code == 404


def test_the_stats_page_reads_the_engine(referred, login):
    page = login(referred.bureau).get("/referrals/stats/?period=2026-03").content.decode()
    assert 'data-testid="value-REF_UP">3 ' in page and 'data-testid="value-REF_RESPONSE">82.00 ' in page
    assert "164 / 2" in page


def test_a_center_member_s_stats_open_on_the_center_s_community(referred, login):
    from yigongti.referrals.indicators import figures as referral_figures

    area, _period, cards = referral_figures(referred.desk, "", "2026-03")
    assert area.kind == "community" and area.code == str(referred.community.pk)
    got = {c.indicator.code: c.value for c in cards}
    assert got["REF_UP"].value == 3  # R1 R2 R3, not the hospital's own (zero) up-referrals
    assert (got["REF_ACCEPT"].numerator, got["REF_ACCEPT"].denominator) == (1, 2)
    page = login(referred.desk).get("/referrals/stats/?period=2026-03").content.decode()
    assert 'data-testid="value-REF_UP">3 ' in page and "164 / 2" in page
