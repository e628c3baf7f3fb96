"""Chronic care and public health in English: a village doctor, a township doctor and a nurse walk the chronic
ledger, a patient, the follow-up form, the regular medicines, the pregnancies, a pregnancy, the children, a child,
the immunisation list and a vaccine card, the health checks and the public-health overview in English, and no
Chinese UI text is left — only what comes from the data (people, places, facilities, teams, medicines, vaccine
sites) is stripped the way test_english.py strips it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from tests.browser.conftest import login_through_form
from tests.browser.test_english import UI_TEXT, data_names, untranslated
from tests.care import _person
from tests.cast import as_

pytestmark = pytest.mark.browser


def care_names() -> list[str]:
    """The names of the shared data plus what the care apps store as typed: teams, packages, medicines (name,
    specification), vaccine lots and sites, follow-up notes."""
    from yigongti.chronic.models import RegularMedicine
    from yigongti.familydoctor.models import PackageService, ServicePackage, Team
    from yigongti.publichealth.models import VaccineDose

    names = set(data_names())
    for model, fields in ((Team, ["name"]), (ServicePackage, ["name"]), (PackageService, ["name"]),
                          (RegularMedicine, ["name", "strength"]), (VaccineDose, ["lot", "site"])):
        for f in fields:
            if f in {x.name for x in model._meta.get_fields()}:
                names.update(v for v in model.objects.values_list(f, flat=True) if v)
    return sorted(names, key=len, reverse=True)


@pytest.fixture
def world(care):
    """Two managed patients with follow-ups (one uncontrolled twice), a regular medicine, a pregnancy with a
    visit and a risk grade, a child's check, a baby's first doses, an elderly health check."""
    from yigongti.chronic.services import enrolment as enrol_svc
    from yigongti.chronic.services import followups as fu_svc
    from yigongti.chronic.services import medicines as med_svc
    from yigongti.publichealth.services import checks as check_svc
    from yigongti.publichealth.services import child as child_svc
    from yigongti.publichealth.services import immunisation as imm_svc
    from yigongti.publichealth.services import maternal as mat_svc

    today = timezone.localdate()
    vd, td = as_(care.cast.village_doctor), as_(care.cast.township_doctor)

    def ago(n: int) -> str:
        return (today - dt.timedelta(days=n)).isoformat()

    htn = enrol_svc.enrol(vd, care.grandfather, "htn", enrolled_on=today - dt.timedelta(days=200))
    dm = enrol_svc.enrol(vd, care.grandmother, "t2dm", enrolled_on=today - dt.timedelta(days=200))
    fu_svc.record_follow_up(vd, htn, {"visit_date": ago(60), "sbp": "162", "dbp": "98", "heart_rate": "76",
                                      "adherence": "intermittent"})
    fu_svc.record_follow_up(vd, htn, {"visit_date": ago(10), "sbp": "158", "dbp": "96", "heart_rate": "78",
                                      "adherence": "regular"})
    fu_svc.record_follow_up(vd, dm, {"visit_date": ago(5), "fbg": "6.4", "sbp": "128", "dbp": "80"})
    med_svc.add_medicine(vd, htn, {"name": "氨氯地平片"})
    pregnancy = mat_svc.register_pregnancy(vd, care.mother, {"lmp": ago(100)})
    mat_svc.grade_risk(td, pregnancy, {"factors": ["twins"]})
    child_svc.record_child_visit(vd, care.child, {"kind": "month_24", "date": today.isoformat()})
    baby = _person("李小妹", "F", today - dt.timedelta(days=100), care.cast.village, care.household, 61, ["child"])
    imm_svc.record_dose(as_(care.nurse), baby, {"vaccine": "HepB", "dose": 1, "given_on": baby.birth_date.isoformat(),
                                                "lot": "202601A", "site": "左上臂"})
    check = check_svc.record_check(vd, care.grandfather, {
        "date": ago(3), "purpose": "elderly", "sbp": "132", "dbp": "84", "heart_rate": "72", "height_cm": "165",
        "weight_kg": "60", "fbg": "5.6"})
    return {"htn": htn, "dm": dm, "pregnancy": pregnancy, "baby": baby, "check": check}


def _pages(care, w) -> dict[str, list[str]]:
    htn, p, baby = w["htn"], w["pregnancy"].pk, w["baby"].pk
    child, mother, grandfather = care.child.pk, care.mother.pk, care.grandfather.pk
    return {
        "village_doctor": [
            "/", "/chronic/ledger/", "/chronic/patients/", "/chronic/candidates/", f"/chronic/patients/{htn.pk}/",
            f"/chronic/patients/{htn.pk}/follow-up/", f"/chronic/patients/{w['dm'].pk}/follow-up/",
            f"/chronic/medicines/{htn.pk}/", "/chronic/delivery/", f"/residents/{grandfather}/",
            f"/residents/{mother}/", f"/residents/{child}/",
            "/publichealth/", "/publichealth/checks/", f"/publichealth/checks/new/?resident={grandfather}",
            f"/publichealth/checks/{w['check'].pk}/", "/publichealth/pregnancies/", f"/publichealth/pregnancies/{p}/",
            f"/publichealth/pregnancies/{p}/visit/", f"/publichealth/pregnancies/new/?resident={mother}",
            "/publichealth/children/", f"/publichealth/children/{child}/", f"/publichealth/children/{child}/visit/",
            "/publichealth/immunisation/", f"/publichealth/immunisation/card/{baby}/"],
        "township_doctor": ["/", "/publichealth/", f"/publichealth/pregnancies/{p}/", "/chronic/patients/"],
        "care_nurse": ["/", "/publichealth/immunisation/", f"/publichealth/immunisation/card/{baby}/",
                       f"/publichealth/immunisation/vaccinate/{baby}/"],
    }


def test_chronic_and_public_health_pages_are_entirely_english(care, world, page, live_server):
    names = care_names()
    host = live_server.url.split("//")[1].split(":")[0]
    problems: dict[str, list[str]] = {}
    for username, urls in _pages(care, world).items():
        page.context.clear_cookies()
        login_through_form(page, username)
        page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "domain": host,
                                   "path": "/"}])
        for url in urls:
            resp = page.goto(url)
            assert resp.status < 400, f"{username} {url}: {resp.status}"
            assert page.locator("html").get_attribute("lang") == "en", url
            found = untranslated(page.evaluate(UI_TEXT), names)
            if found:
                problems[f"{username} {url}"] = found
    report = "\n".join(f"{where}:\n    " + "\n    ".join(found) for where, found in problems.items())
    assert not problems, "Chinese UI text left in English:\n" + report


def test_a_follow_up_typed_in_english_shows_the_decision_and_its_reasons_in_english(care, world, page, live_server):
    """The follow-up form's live check (the rules' reasons, the decision) and the saved visit read in English."""
    names = care_names()
    host = live_server.url.split("//")[1].split(":")[0]
    login_through_form(page, "village_doctor")
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "domain": host, "path": "/"}])
    dm = world["dm"]
    page.goto(f"/chronic/patients/{dm.pk}/follow-up/")
    page.fill("[name=fbg]", "8.2")
    page.fill("[name=sbp]", "150")
    page.fill("[name=dbp]", "92")
    page.select_option("[name=adherence]", "intermittent")
    page.wait_for_selector("[data-testid=fu-check-decision]")
    found = untranslated(page.evaluate(UI_TEXT), names)
    assert not found, found
    with page.expect_navigation():
        page.click("[data-testid=fu-save]")
    text = page.evaluate(UI_TEXT)
    assert not untranslated(text, names), untranslated(text, names)
    assert "follow up within 2 weeks" in text.lower() or "uncontrolled" in text.lower(), text[:2000]
