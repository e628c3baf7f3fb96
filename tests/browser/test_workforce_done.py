"""Issue 15's "Done when", in the browser on a small demo county: the community's manager plans next month's
postings (generates the rota from the townships' requests with CP-SAT, publishes it); the county doctor posted
today checks in on a phone; the township admin confirms, and the 凡晋必下 ledger counts the day; a village doctor
checks in at the clinic and the township admin scores a village doctor's last month (the computed items filled,
the entered ones typed, the total and the ranks shown); the manager registers an ECG machine at a village clinic
without one, and after the indicator refresh N05 moves on the dashboard; N04, N05 and N06 show values."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _password(logins, username: str) -> str:
    return next(row["password"] for row in logins if row["username"] == username)


@pytest.fixture
def as_user(browser, live_server):
    contexts = []

    def _open(username, password, viewport=None):
        from tests.browser.conftest import login_through_form

        ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
        pg = ctx.new_page()
        pg.set_default_timeout(30_000)
        login_through_form(pg, username, password)
        if viewport:
            pg.wait_for_load_state("load")
            pg.set_viewport_size(viewport)
        contexts.append(ctx)
        return pg

    yield _open
    for ctx in contexts:
        ctx.close()


def _card_value(page, code: str) -> str:
    return page.inner_text(f"[data-testid=value-{code}]").strip()


def _number(text: str) -> float | None:
    m = re.match(r"^-?[\d,]+(\.\d+)?", text)
    return float(m.group(0).replace(",", "")) if m else None


def test_workforce_done_on_the_demo_county(as_user, screenshot):
    from django.core.cache import cache
    from django.utils import timezone

    from yigongti.assets.categories import ecg_q
    from yigongti.assets.models import Asset
    from yigongti.core.carelevel import CareLevel, type_q
    from yigongti.demo.build import build_demo
    from yigongti.indicators.services import refresh_facts
    from yigongti.orgs.models import Facility, User
    from yigongti.telemedicine.models import Device
    from yigongti.workforce.models import Assessment, Posting, PostingDay
    from yigongti.workforce.queries import village as vq

    logins = build_demo(population=3000, seed=7)
    today = timezone.localdate()
    nxt = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    manager = User.objects.get(username="manager")
    county = manager.facility.community.region

    # 1. the manager plans next month: the rota from the townships' requests, published into postings
    page = as_user("manager", _password(logins, "manager"))
    page.goto("/workforce/rota/")
    page.fill("#g-month", nxt.strftime("%Y-%m"))
    page.click("[data-testid=wf-generate] button")
    expect(page.locator("[data-testid=wf-rota-share]")).to_contain_text("满足需求")
    screenshot("wf-done-rota")
    before = Posting.objects.filter(start__gte=nxt).count()
    page.click("[data-testid=wf-publish]")
    expect(page.locator(".alert-success, .alert")).to_contain_text("已发布")
    assert Posting.objects.filter(start__gte=nxt).count() > before

    # 2. the county doctor posted today checks in on the phone; the township admin confirms; the ledger counts it
    doctor = User.objects.get(username="county_doctor")
    day = PostingDay.objects.get(staff_id=doctor.staff_id, day=today)
    ledger_before = PostingDay.objects.filter(staff_id=doctor.staff_id, confirmed_at__isnull=False).count()
    expert = as_user("county_doctor", _password(logins, "county_doctor"), PHONE)
    expert.goto("/workforce/check-in/")
    expert.click("[data-testid=wf-check-in] button")
    expect(expert.locator("[data-testid=wf-check-in]")).to_contain_text("已签到")
    assert expert.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    admin = as_user("township_admin", _password(logins, "township_admin"))
    admin.goto("/workforce/week/")
    admin.locator(f"form:has(input[name=day][value='{day.pk}']) button").click()
    expect(admin.locator(".alert").first).to_contain_text("已确认到岗")
    page.goto("/workforce/ledger/")
    row = page.locator("[data-testid=wf-ledger] tbody tr", has_text=doctor.staff.name).first
    assert int(row.locator("td").nth(3).inner_text()) == ledger_before + 1
    screenshot("wf-done-ledger")

    # 3. a village doctor checks in at the clinic; the township admin scores a village doctor's last month
    vd = as_user("village_doctor", _password(logins, "village_doctor"), PHONE)
    vd.goto("/workforce/village/me/")
    vd.click("[data-testid=vd-me] form.wf-check-in button")
    expect(vd.locator("[data-testid=vd-checked]")).to_contain_text("今天已签到")
    assert vd.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    last = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    target = vq.doctors_visible_to(User.objects.get(username="township_admin")).order_by("pk").first()
    assert target is not None and not Assessment.objects.filter(staff=target, month=last).exists()
    admin.goto(f"/workforce/village/assess/?month={last:%Y-%m}")
    line = admin.locator(f"[data-testid=vd-assess] tr[data-staff='{target.pk}']")
    line.locator("input[name=i_satisfaction]").fill("14")
    line.locator("input[name=i_drugs]").fill("13")
    line.locator("input[name=i_records]").fill("12")
    line.locator("button").click()
    expect(admin.locator(".alert").first).to_contain_text("考核得分")
    total = admin.inner_text(f"[data-testid=vd-total-{target.pk}]")
    assert _number(total) and _number(total) > 39  # 14 + 13 + 12 typed, plus the computed items
    a = Assessment.objects.get(staff=target, month=last)
    assert a.points["attendance"]["points"] and a.points["satisfaction"]["points"] == "14.0"
    screenshot("wf-done-assess")

    # 4. an ECG machine registered at a village clinic without one moves N05 (after the indicator refresh)
    refresh_facts()
    cache.clear()
    dash = f"/indicators/?period={today:%Y-%m}&area=county:{county.code}"
    page.goto(dash)
    n05_before = _number(_card_value(page, "N05"))
    assert n05_before is not None and n05_before < 100
    with_ecg = set(Asset.objects.filter(ecg_q()).values_list("facility_id", flat=True)) | \
        set(Device.objects.filter(kind="ecg", active=True).values_list("facility_id", flat=True))
    clinic = (Facility.objects.filter(type_q(CareLevel.VILLAGE), community=manager.facility.community,
                                      is_active=True).exclude(pk__in=with_ecg).order_by("code").first())
    assert clinic is not None, "the demo leaves some village clinics without an ECG machine"
    page.goto("/assets/new/")
    page.fill("[name=number]", "YLSB-N05-0001")
    page.select_option("[name=category]", "07")
    page.fill("[name=name]", "心电图机")
    page.fill("[name=model]", "ECG-1200")
    page.fill("[name=price]", "12000")
    page.fill("[name=purchased_on]", (today - dt.timedelta(days=10)).isoformat())
    page.fill("[name=accepted_on]", (today - dt.timedelta(days=3)).isoformat())
    page.select_option("[name=facility]", str(clinic.pk))
    if page.locator("[name=useful_life_years]").count():
        page.fill("[name=useful_life_years]", "6")
    page.click("[data-testid=asset-submit]")
    expect(page.locator("body")).to_contain_text("YLSB-N05-0001")
    refresh_facts()  # the dashboard's refresh (the worker's job), which the registry figures follow
    cache.clear()
    page.goto(dash)
    n05_after = _number(_card_value(page, "N05"))
    assert n05_after is not None and n05_after > n05_before
    screenshot("wf-done-dashboard")

    # 5. N04–N06 show values, not "pending"
    for code in ("N04", "N05", "N06"):
        assert page.locator(f"[data-testid=value-{code}]").count(), code
        assert _number(_card_value(page, code)) is not None, code
