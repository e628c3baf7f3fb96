"""Contract, key-population, fulfilment, renewal and 118 indicators; on the dashboard."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from yigongti.familydoctor.models import Contract, ScheduledService, ServiceDelivery, TeamSession
from yigongti.indicators import queries
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import Area

pytestmark = pytest.mark.django_db
COUNTY = Area("county", "431127000000", "蓝山县", "431127")
D = dt.date


def fig(code, period="2026-06"):
    return {c.indicator.code: c.value for c in queries.figures(COUNTY, parse_period(period), [code])}[code]


def _contract(care, r, start, number, **kw):
    return Contract.objects.create(number=number, resident=r, team=care.team, package=care.basic, village=r.village,
                                   signed_on=start, start=start, end=start + dt.timedelta(days=364), **kw)


def test_contract_rates(care):
    _contract(care, care.grandfather, D(2026, 1, 1), "A")
    _contract(care, care.grandmother, D(2024, 1, 1), "OLD", status="expired")  # not in force
    k = fig("FD_KEY_elderly")
    assert (k.numerator, k.denominator, k.value) == (1, 2, Decimal("50.00"))
    assert fig("FD_CONTRACT").numerator == 1
    assert fig("FD_KEY").numerator == 1


def test_fulfilment_renewal_and_118(care):
    old = _contract(care, care.grandmother, D(2025, 6, 10), "R1", status="renewed")  # ends 2026-06-09
    _contract(care, care.grandmother, D(2026, 6, 10), "R2", renewed_from=old)
    _contract(care, care.mother, D(2025, 6, 1), "E1", status="expired")  # ends 2026-05-31: May
    c = _contract(care, care.grandfather, D(2026, 1, 1), "F1")
    s1 = ScheduledService.objects.create(contract=c, service=care.services["CONS"], seq=1, due_from=D(2026, 6, 1),
                                         due_by=D(2026, 6, 20))
    ScheduledService.objects.create(contract=c, service=care.services["EDU"], seq=1, due_from=D(2026, 6, 1),
                                    due_by=D(2026, 6, 25))
    s1.delivery = ServiceDelivery.objects.create(contract=c, service=care.services["CONS"],
                                                 delivered_on=D(2026, 6, 5))
    s1.save()
    assert fig("FD_FULFIL").value == Decimal("50.00")
    r = fig("FD_RENEWAL")
    assert (r.numerator, r.denominator) == (1, 1)
    TeamSession.objects.create(team=care.team, date=D(2026, 6, 3), starts=dt.time(8), ends=dt.time(17))
    TeamSession.objects.create(team=care.team, date=D(2026, 6, 10), starts=dt.time(8), ends=dt.time(12))
    assert fig("FD_118").value == 1


def test_on_the_dashboard(care, client, login):
    login(care.cast.bureau)
    html = client.get("/indicators/?period=2026-06").content.decode()
    assert "FD_KEY" in html or "重点人群签约率" in html
    assert "规范管理率" in html and "0–6岁儿童健康管理率" in html
