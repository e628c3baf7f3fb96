"""The public-health overview (queries.overview, publichealth:home), the home panel and the resident page's
public-health panel: figures by the documented definitions, scoped, aggregates for the managers."""

import datetime as dt

import pytest

from tests.care import _person
from tests.cast import as_
from yigongti.core.errors import Forbidden
from yigongti.core.models import AuditEvent
from yigongti.core.validation import today
from yigongti.publichealth import home, resident_panel
from yigongti.publichealth.queries import overview as q
from yigongti.publichealth.services import checks, immunisation


def _check(care, resident):
    return checks.record_check(as_(care.cast.village_doctor), resident, {
        "date": today().isoformat(), "purpose": "elderly", "sbp": "130", "dbp": "80"})


def test_figures_follow_the_definitions(care):
    _check(care, care.grandfather)
    o = q.overview(as_(care.public_health), on=today(), fresh=True)
    in_town = [r for r in care.cast.residents() if r.area_code.startswith(care.cast.township.code[:9])]
    assert o.population >= len(in_town) + 3  # the cast's resident plus the household
    assert o.complete_records <= o.population and o.record_rate is not None
    assert o.active_records >= 1  # the check just recorded
    assert o.elderly_checked == 1 and o.elderly >= 2 and 0 < o.elderly_rate < 100
    assert o.children >= 1 and o.vaccines is not None and o.vaccines["overdue"] >= 1


def test_scoped_to_the_reader_and_refused_to_the_auditor(care):
    _check(care, care.grandfather)
    other = q.overview(as_(care.cast.other_village_doctor), on=today(), fresh=True)
    assert other.elderly_checked == 0 and other.population >= 1
    county = q.overview(as_(care.cast.bureau), on=today(), fresh=True)
    assert county.elderly_checked == 1 and county.population > other.population
    with pytest.raises(Forbidden):
        q.overview(as_(care.cast.auditor), on=today())


def test_the_home_page_for_staff_and_the_bureau(care, client, login):
    login(care.nurse)
    r = client.get("/publichealth/")
    body = r.content.decode()
    assert r.status_code == 200 and 'data-testid="ph-overview"' in body and "/publichealth/immunisation/" in body
    client.logout()
    login(care.cast.bureau)
    body = client.get("/publichealth/").content.decode()
    assert 'data-testid="ph-elderly-rate"' in body and "/publichealth/immunisation/" not in body  # no person lists
    client.logout()
    login(care.cast.auditor)
    assert client.get("/publichealth/").status_code == 403


def test_the_home_panel_counts_overdue_vaccines_and_unchecked_elderly(care):
    baby = _person("周小宝", "M", today() - dt.timedelta(days=30), care.cast.village, care.household, 63)
    panel = home.panel(as_(care.cast.village_doctor))
    items = {i.testid: i for i in panel.items}
    assert items["home-ph-vaccine-overdue"].value >= 2 and "overdue=1" in items["home-ph-vaccine-overdue"].url
    assert items["home-ph-elderly-unchecked"].value >= 1
    assert home.panel(as_(care.cast.auditor)) is None
    assert home.panel(as_(care.cast.bureau)).items[0].url == ""  # managers: totals, no lists
    assert baby.pk


def test_the_resident_panel_shows_checks_and_the_vaccine_card(care):
    _check(care, care.grandfather)
    rows, _more = resident_panel.rows(as_(care.cast.village_doctor), care.grandfather)
    assert any("健康体检" in r.text and "130/80" in r.text for r in rows)
    baby = _person("周小妹", "F", today() - dt.timedelta(days=100), care.cast.village, care.household, 64)
    immunisation.record_dose(as_(care.nurse), baby, {"vaccine": "HepB", "dose": 1, "given_on": baby.birth_date})
    rows, _more = resident_panel.rows(as_(care.cast.village_doctor), baby)
    card = next(r for r in rows if "预防接种" in r.text)
    assert "1" in card.text and card.alert and f"/card/{baby.pk}/" in card.url  # BCG overdue
    assert AuditEvent.objects.filter(object_type="public_health_summary", object_id=str(baby.pk)).exists()
    assert resident_panel.rows(as_(care.cast.other_village_doctor), baby) is None
    assert resident_panel.rows(as_(care.cast.bureau), baby) is None


def test_the_resident_page_renders_the_panel(care, client, login):
    login(care.cast.village_doctor)
    r = client.get(f"/residents/{care.grandfather.pk}/")
    assert r.status_code == 200 and "公共卫生服务" in r.content.decode()
