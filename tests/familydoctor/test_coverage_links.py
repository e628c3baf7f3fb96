"""The unsigned list links each resident to the sign form by its URL name (no hard-coded path), the coverage
drill-down links resolve, and FD_FULFIL leaves out the slots of a contract ended early (as the assessment does)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import resolve

from yigongti.familydoctor.models import Contract, ScheduledService, ServiceDelivery
from yigongti.indicators import queries
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import Area

pytestmark = pytest.mark.django_db
COUNTY = Area("county", "431127000000", "蓝山县", "431127")
D = dt.date


def test_the_unsigned_rows_link_to_the_sign_form_of_the_resident(care, client, login):
    login(care.cast.village_doctor)
    html = client.get(f"/familydoctor/coverage/unsigned/?tag=elderly&village={care.cast.village.code}").content
    links = re.findall(r'href="([^"]*\?resident=(\d+))"', html.decode())
    assert links, "no sign link"
    for href, pk in links:
        assert resolve(href.split("?")[0]).view_name == "familydoctor:sign"
        r = client.get(href.replace("&amp;", "&"))
        assert r.status_code == 200 and int(pk) in {care.grandfather.pk, care.grandmother.pk}


def test_every_drill_down_link_of_the_coverage_page_answers(care, client, login):
    login(care.cast.manager)
    html = client.get("/familydoctor/coverage/").content.decode()
    hrefs = set(re.findall(r'href="(/familydoctor/coverage/\?[^"]+)"', html))
    assert hrefs
    for href in hrefs:
        assert client.get(href.replace("&amp;", "&")).status_code == 200, href


def test_fulfilment_rate_leaves_out_the_slots_after_an_early_end(care):
    start = D(2026, 1, 1)
    c = Contract.objects.create(number="X1", resident=care.grandfather, team=care.team, package=care.basic,
                                village=care.grandfather.village, signed_on=start, start=start,
                                end=start + dt.timedelta(days=364), status="ended", ended_on=D(2026, 6, 10),
                                end_reason="moved")
    done = ScheduledService.objects.create(contract=c, service=care.services["CONS"], seq=1, due_from=D(2026, 5, 1),
                                           due_by=D(2026, 6, 5))
    ScheduledService.objects.create(contract=c, service=care.services["EDU"], seq=1, due_from=D(2026, 5, 1),
                                    due_by=D(2026, 6, 25))  # due after the contract ended: not expected
    done.delivery = ServiceDelivery.objects.create(contract=c, service=care.services["CONS"],
                                                   delivered_on=D(2026, 6, 4))
    done.save()
    cache.clear()
    v = {x.indicator.code: x.value for x in queries.figures(COUNTY, parse_period("2026-06"), ["FD_FULFIL"])}[
        "FD_FULFIL"]
    assert (v.numerator, v.denominator, v.value) == (1, 1, Decimal("100.00"))


def test_coverage_by_team_one_row_per_team_with_its_villages_figures(care, client, login):
    from yigongti.core.actor import Actor
    from yigongti.familydoctor.queries import coverage as q

    start = D(2026, 6, 1)
    Contract.objects.create(number="T1", resident=care.grandfather, team=care.team, package=care.basic,
                            village=care.grandfather.village, signed_on=start, start=start,
                            end=start + dt.timedelta(days=364))
    manager = Actor.from_user(care.cast.manager)
    cov = q.coverage(manager, by_team=True)
    assert cov.level == "team"
    rows = {r.code: r for r in cov.rows}
    mine = rows[str(care.team.pk)]
    assert mine.name == care.team.name and mine.drill == {"team": str(care.team.pk)}
    # the team's row is the same as the team's own drill-down total
    alone = q.coverage(manager, team=care.team.pk).total
    assert {t: (c.population, c.signed) for t, c in mine.cells.items()} == {
        t: (c.population, c.signed) for t, c in alone.cells.items()}
    assert (mine.cell("elderly").signed, mine.cell("elderly").population) == (1, 2)
    assert str(care.other_team.pk) in rows  # 总市镇's team
    only = q.coverage(manager, by_team=True, township=care.cast.township.code)
    assert [r.code for r in only.rows] == [str(care.team.pk)]
    login(care.cast.manager)
    html = client.get("/familydoctor/coverage/?by=team").content.decode()
    assert care.team.name in html and f"?team={care.team.pk}" in html
    assert 'data-testid="coverage-by-team"' in client.get("/familydoctor/coverage/").content.decode()
    api = client.get("/api/v1/familydoctor/coverage?by=team").json()
    assert api["level"] == "team" and str(care.team.pk) in [r["code"] for r in api["rows"]]


def test_the_month_in_progress_counts_only_what_is_already_due(care, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: D(2026, 6, 15))
    start = D(2026, 1, 1)
    c = Contract.objects.create(number="P1", resident=care.grandfather, team=care.team, package=care.basic,
                                village=care.grandfather.village, signed_on=start, start=start,
                                end=start + dt.timedelta(days=364))
    s1 = ScheduledService.objects.create(contract=c, service=care.services["CONS"], seq=1, due_from=D(2026, 6, 1),
                                         due_by=D(2026, 6, 10))
    ScheduledService.objects.create(contract=c, service=care.services["EDU"], seq=1, due_from=D(2026, 6, 1),
                                    due_by=D(2026, 6, 25))  # not due yet on the 15th
    s1.delivery = ServiceDelivery.objects.create(contract=c, service=care.services["CONS"],
                                                 delivered_on=D(2026, 6, 9))
    s1.save()
    old = Contract.objects.create(number="P0", resident=care.grandmother, team=care.team, package=care.basic,
                                  village=care.grandmother.village, signed_on=D(2025, 6, 28), start=D(2025, 6, 28),
                                  end=D(2026, 6, 27))  # its term is not over on the 15th: not yet "not renewed"
    cache.clear()
    got = {x.indicator.code: x.value for x in queries.figures(COUNTY, parse_period("2026-06"),
                                                                  ["FD_FULFIL", "FD_RENEWAL"])}
    assert (got["FD_FULFIL"].numerator, got["FD_FULFIL"].denominator) == (1, 1)
    assert got["FD_RENEWAL"].denominator == 0
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: D(2026, 7, 5))
    cache.clear()
    got = {x.indicator.code: x.value for x in queries.figures(COUNTY, parse_period("2026-06"),
                                                                  ["FD_FULFIL", "FD_RENEWAL"])}
    assert (got["FD_FULFIL"].numerator, got["FD_FULFIL"].denominator) == (1, 2)
    assert (got["FD_RENEWAL"].numerator, got["FD_RENEWAL"].denominator) == (0, 1)
    assert old.pk
