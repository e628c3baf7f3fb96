"""English complete: every role walks its main pages in English (switched with the page's own language menu)
and no Chinese UI text is left — only the names that come from the data (residents, places, facilities, staff,
diagnoses, messages written by people or stored when sent). And the English navbar fits on one line at 1440 px."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import build_referral_loop
from yigongti.orgs.models import Department

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

# What the page shows of its own, collected the way a reader meets it: the visible text, the title, and the
# placeholder / title / aria-label texts of the controls.
UI_TEXT = """() => {
  const out = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll('[placeholder],[title],[aria-label]')) {
    for (const a of ['placeholder', 'title', 'aria-label']) { const v = el.getAttribute(a); if (v) out.push(v); }
  }
  return out.join('\\n');
}"""


def data_names() -> list[str]:
    """Every name that comes from the data (longest first, so that 大塘村卫生室 goes before 大塘村)."""
    from django.contrib.auth import get_user_model

    from yigongti.core.models import Notification
    from yigongti.encounters.models import Encounter
    from yigongti.familydoctor.models import (
        Contract,
        PackageService,
        ServiceDelivery,
        ServicePackage,
        Team,
        TeamSession,
    )
    from yigongti.orgs.models import Facility, MedicalCommunity, Region, Staff
    from yigongti.referrals.models import FollowUp, GuidelineRule, Referral, ReferralCenter
    from yigongti.residents.models import Household, Resident

    names: set[str] = {"简体中文"}  # the language menu names each language in itself
    pairs = [(Resident, ["name"]), (Region, ["name"]), (Facility, ["name", "short_name"]),
             (MedicalCommunity, ["name"]), (Staff, ["name"]), (Department, ["name"]), (Household, ["address"]),
             (Referral, ["diagnosis", "reason", "exams", "medications", "rehab_plan", "medication_plan",
                         "decline_reason", "outcome_note", "override_reason", "guideline_warning", "to_external"]),
             (ReferralCenter, ["name"]), (FollowUp, ["note"]), (Notification, ["title", "body"]),
             (GuidelineRule, ["name", "up_criteria", "down_criteria"]), (Encounter, ["main_diagnosis"]),
             # the family doctors' teams and packages as the county named them, and what people typed
             (Team, ["name"]), (ServicePackage, ["name", "description"]), (PackageService, ["name"]),
             (ServiceDelivery, ["note"]), (TeamSession, ["note"]), (Contract, ["end_note", "out_of_area_reason"])]
    for model, fields in pairs:
        for f in fields:
            if f in {x.name for x in model._meta.get_fields()}:
                names.update(v for v in model.objects.values_list(f, flat=True) if v)
    names.update(reference_texts())
    for u in get_user_model().objects.all():
        names.update(x for x in (str(u), u.display_name) if x)
    for r in Resident.objects.all():  # a masked name as auditors see it (张*明)
        names.add(r.name[0] + "*" + r.name[2:] if len(r.name) > 2 else r.name[0] + "*")
    for r in Referral.objects.all():  # the summary the referral carries (stored when it was sent)
        for e in (r.summary or {}).get("encounters", []):
            names.update(str(v) for v in e.values() if v)
    return sorted(names, key=len, reverse=True)


# The column headers of the users' own files, which the import page must quote as they are.
FILE_HEADERS = ["记录号", "姓名", "性别", "出生日期", "身份证号", "联系电话", "现住址", "户号"]


def reference_texts() -> set[str]:
    """Texts quoted from Chinese reference documents, shown as they are: the national indicator definitions
    and the documents they come from, the ICD-10 category names, the starter guideline rules."""
    from yigongti.indicators.definitions import INDICATORS
    from yigongti.referrals import guidelines
    from yigongti.referrals.icd10 import CATEGORY_NAMES

    out = set(FILE_HEADERS) | {v for v in CATEGORY_NAMES.values() if v}
    for ind in INDICATORS.values():
        out.update(v for v in (ind.definition, ind.source, ind.target_source) if v)
    for value in vars(guidelines).values():  # the starter rules and the designated hospitals they name
        if isinstance(value, str):
            out.add(value)
        elif isinstance(value, list | tuple):
            for row in value:
                out.update(x for x in (row if isinstance(row, list | tuple) else [row]) if isinstance(x, str))
    return {t for t in out if CJK.search(t)}


def untranslated(text: str, names: list[str]) -> list[str]:
    """The Chinese left in ``text`` once the data's names are taken out: each line that still has some."""
    for n in names:
        text = text.replace(n, " ")
    return list(dict.fromkeys(line.strip()[:120] for line in text.splitlines() if CJK.search(line)))


@pytest.fixture
def county(cast):
    """A referral center, a department, a referral that went up and came down with follow-ups, one waiting,
    and a little month of care behind the indicators."""
    from tests.indicators.world import build_world
    from yigongti.indicators.services import refresh_facts

    build_referral_loop(cast)
    Department.objects.create(facility=cast.county_hospital, code="03", name="神经内科", beds=40)
    build_world(cast)
    refresh_facts()
    return cast


@pytest.fixture
def family(county):
    return family_doctors(county)


def family_doctors(cast) -> dict:
    """The family doctors' side of the county: a household signed on a tablet, a contract about to end, a
    delivered service, a 118 session, last month's assessment, and the due lists rebuilt (a follow-up, a
    pregnancy's visits, a child's checks and doses, the contracts to renew)."""
    import datetime as dt

    from django.utils import timezone

    from tests.care import _person, build_care
    from tests.cast import as_
    from yigongti.chronic.services.enrolment import enrol
    from yigongti.familydoctor.assessment import parse_month
    from yigongti.familydoctor.due import recompute
    from yigongti.familydoctor.models import Contract
    from yigongti.familydoctor.services import contracts, fulfilment, sessions
    from yigongti.familydoctor.services.assessment import compute_month
    from yigongti.publichealth.services.maternal import register_pregnancy

    care = build_care(cast)
    today = timezone.localdate()
    vd = as_(cast.village_doctor)
    signature = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 90 30"><path d="M5 20 L40 5 L85 25"/></svg>'
    signed = contracts.sign_household(vd, care.household, [{"resident": r.pk} for r in (
        care.grandfather, care.grandmother, care.child)], {"consent_kind": "tablet", "consent_signature": signature})
    elder = _person("周立新", "M", dt.date(1950, 3, 8), cast.village, None, 71, ["elderly"])
    start = today - dt.timedelta(days=350)
    ending = Contract.objects.create(number="QY-EN-0001", resident=elder, team=care.team, package=care.basic,
                                     village=cast.village, signed_on=start, start=start,
                                     end=start + dt.timedelta(days=364), doctor=cast.village_doctor.staff)
    fulfilment.schedule_contract(ending)
    enrol(vd, care.grandfather, "htn", enrolled_on=today - dt.timedelta(days=60))
    register_pregnancy(vd, care.mother, {"lmp": (today - dt.timedelta(days=100)).isoformat()})
    session = sessions.log_session(vd, care.team, {"date": today.isoformat(), "starts": "08:00", "ends": "16:30",
                                                   "village": cast.village.pk})
    fulfilment.record_delivery(vd, signed[0], {"service": care.services["CONS"].pk, "place": "入户",
                                               "delivered_on": today.isoformat(), "session": session.pk,
                                               "note": "血压复测"})
    month = parse_month("", today)
    compute_month(as_(cast.manager), month)
    recompute(today)
    return {"care": care, "contract": signed[0], "ending": ending, "month": f"{month:%Y-%m}"}


def _in_english(browser, live_server, username, width=1280):
    from tests.browser.conftest import login_through_form

    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": width, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    login_through_form(pg, username)
    pg.wait_for_load_state("load")
    with pg.expect_navigation():
        pg.select_option("select[name=language]", "en")  # the page's own language menu
    assert pg.locator("html").get_attribute("lang") == "en"
    return ctx, pg


def _fd_pages(c, fd: dict) -> dict[str, list[str]]:
    """The family doctors' pages of each role that uses them."""
    team, k, end, month = fd["care"].team.pk, fd["contract"].pk, fd["ending"].pk, fd["month"]
    village, township = c.village.code, c.township.code
    return {
        "village_doctor": ["/familydoctor/", "/familydoctor/day/", "/familydoctor/day/?kind=vaccine",
                           "/familydoctor/contracts/", f"/familydoctor/contracts/{k}/",
                           f"/familydoctor/sign/?household={fd['care'].household.pk}",
                           f"/familydoctor/contracts/{end}/renew/", f"/familydoctor/contracts/{k}/end/",
                           "/familydoctor/ledger/", f"/familydoctor/contracts/{k}/deliver/", "/familydoctor/sessions/",
                           f"/familydoctor/sessions/new/?team={team}", "/familydoctor/coverage/",
                           f"/familydoctor/coverage/unsigned/?tag=elderly&village={village}",
                           f"/residents/{fd['care'].grandmother.pk}/"],
        "township_doctor": ["/familydoctor/", "/familydoctor/teams/", f"/familydoctor/teams/{team}/",
                            "/familydoctor/ledger/", "/familydoctor/assessment/"],
        "manager": ["/familydoctor/", "/familydoctor/teams/", f"/familydoctor/teams/{team}/",
                    "/familydoctor/coverage/", f"/familydoctor/coverage/?township={township}",
                    f"/familydoctor/assessment/?month={month}",
                    f"/familydoctor/assessment/teams/{team}/?month={month}", "/familydoctor/ranking/"],
        "bureau": ["/familydoctor/coverage/", f"/familydoctor/assessment/?month={month}"],
    }


def _pages(c, fd: dict) -> dict[str, list[str]]:
    pages = _main_pages(c)
    for username, urls in _fd_pages(c, fd).items():
        pages[username] = pages[username] + urls
    return pages


def _main_pages(c) -> dict[str, list[str]]:
    res = c.resident.pk
    return {
        "village_doctor": ["/", "/referrals/", f"/referrals/{c.down.pk}/", "/residents/", f"/residents/{res}/",
                           "/residents/find/", f"/encounters/residents/{res}/", "/inbox/", "/indicators/",
                           "/account/password/"],
        "township_doctor": ["/", "/referrals/?box=out", f"/referrals/{c.waiting.pk}/", "/referrals/new/",
                            "/referrals/rules/", "/orgs/facilities/", "/orgs/staff/"],
        "center_desk": ["/", "/referrals/center/", "/referrals/center/?tab=all", f"/referrals/{c.first.pk}/"],
        "county_doctor": ["/", "/referrals/?box=in", f"/referrals/{c.first.pk}/"],
        "bureau": ["/", "/indicators/?period=2026-03", "/indicators/N07/?period=2026-03", "/indicators/evidence/",
                   "/referrals/stats/", "/referrals/outflow/", "/residents/", "/residents/imports/",
                   "/encounters/imports/", f"/orgs/facilities/{c.township_center.pk}/", "/orgs/tokens/"],
        "manager": ["/", "/residents/reviews/", "/indicators/"],
        "city": ["/", "/indicators/", "/orgs/facilities/"],
        "auditor": ["/", "/audit/"],
    }


def test_every_role_sees_its_main_pages_entirely_in_english(county, family, browser, live_server):
    names = data_names()
    problems: dict[str, list[str]] = {}
    for username, urls in _pages(county, family).items():
        ctx, pg = _in_english(browser, live_server, username)
        try:
            for url in urls:
                resp = pg.goto(url)
                assert resp.status < 400, f"{username} {url}: {resp.status}"
                found = untranslated(pg.evaluate(UI_TEXT), names)
                if found:
                    problems[f"{username} {url}"] = found
        finally:
            ctx.close()
    report = "\n".join(f"{where}:\n    " + "\n    ".join(found) for where, found in problems.items())
    assert not problems, "Chinese UI text left in English:\n" + report


@pytest.mark.parametrize("username", ["bureau", "manager", "village_doctor", "auditor"])
def test_the_english_navbar_fits_on_one_line_at_1440_px(cast, browser, live_server, username):
    ctx, pg = _in_english(browser, live_server, username, width=1440)
    try:
        nav = pg.evaluate("""() => {
            const n = document.querySelector('nav.app-navbar');
            const brand = n.querySelector('.navbar-brand').getBoundingClientRect();
            const items = [...n.querySelectorAll('.nav-link, .navbar-text, .btn, select')]
                .filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect());
            return {height: n.getBoundingClientRect().height, brandTop: brand.top,
                    tops: items.map(r => r.top), bottoms: items.map(r => r.bottom),
                    scroll: document.documentElement.scrollWidth};
        }""")
        assert nav["height"] <= 64, f"navbar is {nav['height']} px high: it wraps"
        assert max(nav["tops"]) < min(nav["bottoms"]), "navbar items sit on more than one line"
        assert nav["scroll"] <= 1440
    finally:
        ctx.close()


def test_form_errors_refusals_and_messages_are_english_too(cast, browser, live_server):
    """A village doctor in English: the resident form's errors, a refused record and the success message."""
    names = data_names()
    ctx, pg = _in_english(browser, live_server, "village_doctor")
    try:
        pg.goto("/residents/new/")
        pg.fill("#id_name", "赵小红")
        pg.fill("#id_id_number", "431127199001010000")  # a wrong check digit
        pg.fill("#id_phone", "123")
        pg.click("form[method=post] button.btn-primary")
        errors = pg.locator("[data-testid^=error-]").all_inner_texts()
        assert any("check digit" in e for e in errors), errors
        assert any("phone number" in e for e in errors), errors
        assert not untranslated("\n".join(errors), names)

        resp = pg.goto(f"/residents/{cast.neighbour.pk}/")  # another village's resident
        assert resp.status == 404
        assert "outside your area" in pg.inner_text("[data-testid=error]")

        pg.goto("/residents/new/")
        pg.fill("#id_name", "赵小红")
        pg.select_option("#id_sex", "F")
        pg.fill("#id_birth_date", "1990-01-01")
        pg.select_option("#id_village", cast.village.code)
        pg.click("form[method=post] button.btn-primary")
        pg.wait_for_selector("[role=alert]")
        assert "Record created" in pg.inner_text("[role=alert]")
    finally:
        ctx.close()
