"""Issue #12's "Done when", in the browser on a small demo county: the village doctor signs a household of their
village to the family-doctor team (members picked, the basic package, a signature on the tablet), records a
hypertension follow-up whose second uncontrolled reading in a row suggests a referral (the rules' live check
says so before saving), and exports the village's 两病 ledger; then the community manager sees last month's
team assessment and the key-population coverage by township on the home dashboard, opens the 月通报 and the
township's coverage down to its villages, and the bureau finds the contract indicators on the indicator
dashboard."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _password(logins, username: str) -> str:
    return next(row["password"] for row in logins if row["username"] == username)


def _draw_signature(page) -> None:
    canvas = page.locator("[data-signature-pad]")
    box = canvas.bounding_box()
    assert box is not None
    x, y = box["x"] + 30, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 12):
        page.mouse.move(x + 18 * k, y + (14 if k % 2 else -14), steps=3)
    page.mouse.up()


def _follow_up(page, enrolment_pk: int, on: dt.date, sbp: int, dbp: int, expect_decision: str) -> None:
    page.goto(f"/chronic/patients/{enrolment_pk}/follow-up/")
    form = page.locator("[data-testid=fu-form]")
    form.locator("#fu-date").fill(on.isoformat())
    form.locator("#fu-mode").select_option("clinic")
    form.locator("#fu-sbp").fill(str(sbp))
    form.locator("#fu-dbp").fill(str(dbp))
    form.locator("#fu-hr").fill("78")
    form.locator("#fu-w").fill("64")
    form.locator("#fu-h").fill("165")
    form.locator("#fu-h").dispatch_event("change")
    # the rules' live check, before anything is saved
    expect(page.locator("[data-testid=fu-check-decision]")).to_contain_text(expect_decision)
    form.locator("[data-testid=fu-save]").click()
    expect(page.locator("[data-testid=patient-message]")).to_contain_text(expect_decision)


def test_village_doctor_signs_follows_up_and_exports_then_the_manager_sees_the_month(page, screenshot):
    from django.core.cache import cache
    from django.utils import timezone
    from openpyxl import load_workbook

    from tests.browser.conftest import login_through_form
    from yigongti.chronic.models import Enrolment, FollowUp
    from yigongti.demo.build import build_demo
    from yigongti.familydoctor.models import Contract, MonthlyAssessment
    from yigongti.orgs.models import User
    from yigongti.residents.models import Household

    logins = build_demo(population=3000, seed=7)
    today = timezone.localdate()
    vd = User.objects.get(username="village_doctor")
    village = vd.facility.region
    unsigned = [h for h in Household.objects.filter(village=village).order_by("id")
                if not Contract.objects.filter(resident__household=h, status="active").exists()]
    assert unsigned, "the demo leaves households of the village to sign"
    household = max(unsigned, key=lambda h: h.members.count())
    members = list(household.members.order_by("id"))
    enrolment = (Enrolment.objects.filter(village=village, condition="htn", status="managed")
                 .filter(last_visit_on__lt=today - dt.timedelta(days=1)).order_by("id").first())
    assert enrolment is not None, "the demo manages hypertension patients in the village"

    login_through_form(page, "village_doctor", _password(logins, "village_doctor"))

    # 1. sign the household: every unsigned member checked, the basic package, the resident signs on the tablet
    page.goto(f"/familydoctor/sign/?household={household.pk}")
    form = page.locator("[data-testid=sign-form]")
    expect(form).to_be_visible()
    for m in members:
        expect(form.locator(f"[data-testid=sign-member-{m.pk}]")).to_be_checked()
    form.locator("#ck-tablet").check()
    _draw_signature(page)
    screenshot("fd-sign-household")
    form.locator("[data-testid=sign-submit]").click()
    expect(page.locator("[data-testid=contract-status]")).to_be_visible()
    expect(page.locator("[data-testid=contract-signature]")).to_be_visible()
    signed = Contract.objects.filter(resident__in=members, status="active")
    assert signed.count() == len(members)
    assert len({c.household_batch for c in signed}) == 1 and signed.first().consent_signature.startswith("<svg")
    assert all(c.team.villages.filter(village=village).exists() for c in signed)

    # 2. two uncontrolled readings in a row: the first adjusts (review in 2 weeks), the second suggests a referral
    if enrolment.uncontrolled_streak == 0:
        _follow_up(page, enrolment.pk, today - dt.timedelta(days=1), 158, 96, "调整用药")
    _follow_up(page, enrolment.pk, today, 162, 98, "转诊")
    last = FollowUp.objects.filter(enrolment=enrolment).order_by("-visit_date", "-id").first()
    assert last.visit_date == today and last.decision == "refer" and last.referral_suggested
    assert "second_uncontrolled" in last.reasons and last.next_visit_on == today + dt.timedelta(days=14)
    expect(page.locator("[data-testid=referral-suggested]").first).to_be_visible()
    expect(page.locator("[data-testid=last-control]")).to_contain_text("控制不满意")
    screenshot("fd-follow-up-refer")

    # 3. the village's 两病 ledger, on the page and as the Excel the villages keep
    page.goto("/chronic/ledger/")
    row = page.locator(f"[data-testid=ledger-row][data-enrolment='{enrolment.pk}']")
    expect(row.locator("[data-testid=ledger-bp]")).to_contain_text("162/98")
    with page.expect_download() as dl:
        page.locator("[data-testid=ledger-export]").click()
    assert dl.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()), read_only=True)
    cells = {str(v) for ws in book.worksheets for r in ws.iter_rows(values_only=True) for v in r if v is not None}
    assert enrolment.resident.name in cells
    screenshot("fd-ledger")

    # 4. the manager's dashboard: last month's team assessment and the key-population coverage by township
    page.context.clear_cookies()  # sign out
    cache.clear()  # the home panels cache their counts for a few minutes
    login_through_form(page, "manager", _password(logins, "manager"))
    page.goto("/")
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    best = MonthlyAssessment.objects.filter(month=month).order_by("rank", "team_id").first()
    assert best is not None
    panel = page.locator("[data-testid=home-familydoctor-assessment]")
    expect(panel.locator(f"[data-testid=home-fd-top-{best.team_id}]")).to_contain_text(best.team.name)
    coverage = page.locator("[data-testid=home-familydoctor-coverage]")
    expect(coverage.locator("[data-testid=home-fd-coverage-elderly]")).to_contain_text("%")
    expect(coverage.locator("[data-testid=home-fd-coverage-all]")).to_be_visible()
    screenshot("fd-manager-home")

    # the 月通报 of that month, the team's drill-down, then the township's coverage down to its villages
    panel.locator("[data-testid=home-familydoctor-assessment-all]").click()
    expect(page.locator("[data-testid=assessment-row]").first).to_be_visible()
    assert page.locator("[data-testid=assessment-row]").count() == MonthlyAssessment.objects.filter(
        month=month).count()
    page.goto("/familydoctor/coverage/")
    expect(page.locator("[data-testid=coverage-row]").first).to_be_visible()
    expect(page.locator("[data-testid=coverage-total]")).to_contain_text("%")
    page.locator("[data-testid=coverage-row] a", has_text=village.parent.name).click()
    expect(page.locator("[data-testid=coverage-row]", has_text=village.name)).to_be_visible()
    expect(page.locator("[data-testid=coverage-unsigned]").first).to_be_visible()  # the remainder to chase
    screenshot("fd-coverage-township")

    # the bureau: the contract indicators on the indicator dashboard
    page.context.clear_cookies()  # sign out
    login_through_form(page, "bureau", _password(logins, "bureau"))
    page.goto("/indicators/")
    expect(page.locator("[data-testid=card-FD_KEY]")).to_be_visible()
    expect(page.locator("[data-testid=card-FD_CONTRACT]")).to_be_visible()
    screenshot("fd-indicators")
