"""Key-population contract coverage (queries.coverage, the pages, the API and the home panel)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.familydoctor.models import Contract
from yigongti.familydoctor.queries import coverage as q

pytestmark = pytest.mark.django_db


def _sign(care, resident, number):
    start = care.today - dt.timedelta(days=10)
    return Contract.objects.create(number=number, resident=resident, team=care.team, package=care.basic,
                                   village=resident.village, signed_on=start, start=start,
                                   end=start + dt.timedelta(days=364))


def test_coverage_by_township_then_village_with_the_unsigned(care):
    _sign(care, care.grandfather, "C1")
    manager = Actor.from_user(care.cast.manager)
    cov = q.coverage(manager)
    assert cov.level == "township"
    tafeng = next(r for r in cov.rows if r.code == care.cast.township.code)
    elderly = tafeng.cell("elderly")
    assert (elderly.signed, elderly.population) == (1, 2)  # grandfather signed, grandmother not
    assert elderly.rate == Decimal("50.0")
    assert cov.total.cell("elderly").population >= 2
    # drill-down: the township's villages
    down = q.coverage(manager, **tafeng.drill)
    assert [r.code for r in down.rows] == [care.cast.village.code]
    assert down.rows[0].cell("htn").population == 2
    from yigongti.core.errors import Forbidden

    with pytest.raises(Forbidden):  # counts yes, names no
        q.unsigned(manager, tag="elderly", village=care.cast.village.code)
    unsigned = q.unsigned(Actor.from_user(care.cast.village_doctor), tag="elderly", village=care.cast.village.code)
    assert [u.name for u in unsigned] == ["赵桂兰"]
    assert "*" in unsigned[0].id_number and care.grandmother.id_number not in unsigned[0].id_number
    by_team = q.coverage(manager, team=care.team.pk)
    assert by_team.total.cell("elderly").population == 2


def test_coverage_is_scoped(care):
    other = q.coverage(Actor.from_user(care.cast.other_village_doctor))
    assert care.cast.township.code not in [r.code for r in other.rows]
    with pytest.raises(InvalidInput):
        q.unsigned(Actor.from_user(care.cast.village_doctor), tag="nonsense", village=care.cast.village.code)
    with pytest.raises(InvalidInput):
        q.coverage(Actor.from_user(care.cast.manager), township="12x")


def test_pages_in_both_languages(care, client, login):
    login(care.cast.manager)
    r = client.get("/familydoctor/coverage/")
    assert r.status_code == 200 and "重点人群签约覆盖" in r.content.decode()
    r = client.get(f"/familydoctor/coverage/?township={care.cast.township.code}")
    assert 'data-testid="coverage-unsigned"' in r.content.decode()
    assert client.get(f"/familydoctor/coverage/unsigned/?tag=elderly&village={care.cast.village.code}"
                      ).status_code == 403
    login(care.cast.village_doctor)
    r = client.get(f"/familydoctor/coverage/unsigned/?tag=elderly&village={care.cast.village.code}")
    assert r.status_code == 200 and "赵桂兰" in r.content.decode()
    assert care.grandmother.id_number not in r.content.decode()
    r = client.get("/familydoctor/coverage/?township=bad")
    assert r.status_code in (200, 400, 422) and r.status_code != 500
    r = client.get("/familydoctor/coverage/", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200


def test_api_and_home_panel(care, client, login):
    _sign(care, care.grandfather, "C1")
    login(care.cast.township_doctor)
    r = client.get("/api/v1/familydoctor/coverage")
    assert r.status_code == 200
    body = r.json()
    assert body["goal"] == "100" or Decimal(str(body["goal"])) == 100
    assert body["total"]["cells"]["elderly"]["signed"] == 1
    r = client.get(f"/api/v1/familydoctor/coverage/unsigned?tag=elderly&village={care.cast.village.code}")
    assert [x["name"] for x in r.json()] == ["赵桂兰"]
    from yigongti.familydoctor.home_coverage import coverage_panel

    panel = coverage_panel(Actor.from_user(care.cast.township_doctor))
    assert panel is not None and any(i.testid == "home-fd-coverage-elderly" for i in panel.items)
