"""The whole up-and-down loop in the browser: a township doctor refers a stroke patient up through the green
channel, the referral center accepts, the county department checks the patient in and completes with a
down-referral to the village clinic, and the village doctor receives it and records a follow-up."""

import pytest
from playwright.sync_api import expect

from tests.cast import PASSWORD, SYSTEM
from yigongti.orgs.models import Department, Role
from yigongti.orgs.services import create_account
from yigongti.referrals.models import FollowUp, Referral

pytestmark = pytest.mark.browser


@pytest.fixture
def as_user(browser, live_server):
    pages = []

    def _open(username):
        ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
        pg = ctx.new_page()
        pg.set_default_timeout(15_000)
        from tests.browser.conftest import login_through_form

        login_through_form(pg, username)  # with the second factor for privileged accounts
        pages.append(ctx)
        return pg

    yield _open
    for ctx in pages:
        ctx.close()


def _shot(pg, name):
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_whole_referral_loop_up_and_down(cast, as_user):
    from yigongti.referrals.services import install_starter_rules, setup_center

    desk = create_account(username="center_desk", role=Role.NURSE, password=PASSWORD,
                          facility=cast.county_hospital, actor=SYSTEM)[0]
    setup_center(cast.community, members=[desk], actor=SYSTEM)
    install_starter_rules(actor=SYSTEM)
    Department.objects.create(facility=cast.county_hospital, code="03", name="神经内科", beds=40)

    # 1. the township doctor refers 李建国 up; the guideline warns about hypertension, not about a stroke
    pg = as_user("township_doctor")
    pg.click("nav >> text=双向转诊")
    pg.click("[data-testid=new-referral]")
    pg.fill("[data-testid=patient-search]", "李建国")
    pg.locator("[data-testid=patient-results] input[name=resident]").first.check()
    pg.check("[data-testid=urgency-green]")
    pg.select_option("[data-testid=to-facility]", label="蓝山县中心医院")
    pg.fill("[data-testid=icd10]", "I10")
    expect(pg.locator("[data-testid=guideline-warning]")).to_contain_text("稳定期宜在乡镇卫生院管理")
    _shot(pg, "referral-1-guideline-warning")
    pg.fill("[data-testid=icd10]", "I63.9")
    expect(pg.locator("[data-testid=guideline-ok]")).to_contain_text("脑卒中")
    pg.fill("[data-testid=diagnosis]", "急性脑梗死")
    pg.fill("[data-testid=reason]", "突发右侧肢体无力、言语不清 1 小时，NIHSS 6 分")
    pg.click("[data-testid=submit-referral]")
    expect(pg.locator("h1 [data-testid=status]")).to_have_text("待接收")
    _shot(pg, "referral-2-submitted")
    up = Referral.objects.get(direction="up")

    # 2. the referral center sees it at the top of its queue and accepts into neurology
    pg = as_user("center_desk")
    pg.click("nav >> text=双向转诊")
    row = pg.locator(f"[data-testid=queue-table] tr[data-referral='{up.pk}']")
    expect(row).to_contain_text("绿色通道")
    expect(row).to_contain_text("李建国")
    _shot(pg, "referral-3-center-queue")
    row.locator("[data-testid=open-referral]").click()
    pg.select_option("[data-testid=accept-department]", label="神经内科")
    slot = pg.locator("[data-testid=appointment] option").nth(1)  # the first free slot of neurology
    expect(slot).to_be_attached()
    pg.select_option("[data-testid=appointment]", slot.get_attribute("value"))
    pg.select_option("[data-testid=bed]", index=1)
    pg.click("[data-testid=accept]")
    expect(pg.locator("h1 [data-testid=status]")).to_have_text("已接收")
    expect(pg.locator("[data-testid=target]")).to_contain_text("神经内科")
    expect(pg.locator("[data-testid=target]")).to_contain_text("1床")

    # 3. the county department checks the patient in, then completes with a down-referral to the village
    pg = as_user("county_doctor")
    pg.goto("/referrals/")
    pg.click(f"[data-testid=referral-table] tr[data-referral='{up.pk}'] a")
    expect(pg.locator("[data-testid=summary]")).to_be_visible()
    pg.click("[data-testid=arrive]")
    expect(pg.locator("h1 [data-testid=status]")).to_have_text("已到达")
    pg.select_option("[data-testid=outcome]", "3")  # 离院方式：医嘱转社区/乡镇卫生院
    pg.click("[data-testid=complete-and-refer-down]")
    pg.select_option("[data-testid=to-facility]", label="大塘村卫生室")
    pg.fill("[data-testid=rehab-plan]", "右侧肢体功能训练，每周 3 次；防跌倒")
    pg.fill("[data-testid=medication-plan]", "阿司匹林肠溶片 100mg qd；阿托伐他汀 20mg qn")
    _shot(pg, "referral-4-down-form")
    pg.click("[data-testid=submit-referral]")
    expect(pg.locator("h1 [data-testid=status]")).to_have_text("待接收")
    down = Referral.objects.get(direction="down")
    assert Referral.objects.get(pk=up.pk).status == "completed" and down.source_referral_id == up.pk

    # 4. the village doctor finds it in the to-do list, receives it and records the first follow-up
    pg = as_user("village_doctor")
    pg.click("nav >> text=双向转诊")
    row = pg.locator(f"[data-testid=referral-table] tr[data-referral='{down.pk}']")
    expect(row).to_contain_text("李建国")
    _shot(pg, "referral-5-village-todo")
    row.locator("a").first.click()
    pg.click("[data-testid=accept]")
    pg.click("[data-testid=arrive]")
    pg.locator("[data-testid=follow-up-note]").first.fill("血压 138/84，可扶拐行走 50 米，服药规律")
    pg.locator("[data-testid=record-follow-up]").first.click()
    expect(pg.locator("[data-testid=follow-ups]")).to_contain_text("扶拐行走")
    _shot(pg, "referral-6-follow-up")
    assert FollowUp.objects.filter(referral=down, status="done").count() == 1
