"""The resident index in the browser: search before registering, import, review, merge and unmerge."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_village_doctor import login
from yigongti.residents.models import MatchReview, Resident

pytestmark = pytest.mark.browser

CSV = ("record_id,source_system,name,sex,birth_date,id_number,phone,address,household_id\n"
       "V1,,李见国,男,1958-03-15,,13900000000,,\n"  # homophone, a day off, a new phone: uncertain
       "V2,,周桂香,女,1949-12-01,,,塔峰镇大塘村,\n")  # nobody like her: a new person


def test_a_desk_finds_the_existing_person_before_registering(cast, page, screenshot):
    login(page, "village_doctor")
    page.goto("/residents/find/")
    page.fill("input[name=name]", "李建郭")  # typed with a homophone
    page.fill("input[name=birth_date]", "1958-03-14")
    page.click("[data-testid=find-form] button")
    card = page.locator("[data-testid=candidate]").first
    expect(card).to_contain_text("李建国")
    expect(card).to_contain_text("姓名拼音相同")
    screenshot("registration-search")
    # someone new: the search finds nobody and the form opens prefilled
    page.fill("input[name=name]", "欧阳娜娜")
    page.fill("input[name=birth_date]", "2001-02-03")
    page.click("[data-testid=find-form] button")
    expect(page.locator("[data-testid=no-candidate]")).to_be_visible()
    page.click("[data-testid=create-new]")
    assert page.input_value("#id_name") == "欧阳娜娜"


def test_a_manager_imports_reviews_merges_and_unmerges(cast, page, screenshot, tmp_path):
    login(page, "manager")
    page.goto("/residents/imports/")
    f = tmp_path / "public-health.csv"
    f.write_text(CSV, encoding="utf-8")
    page.fill("input[name=source_system]", "公卫档案")
    page.set_input_files("input[name=file]", str(f))
    page.click("text=上传并预览")
    expect(page.locator("[data-testid=batch-status]")).to_have_text("待确认")
    assert Resident.objects.count() == 3  # nothing changed before commit
    screenshot("import-preview")
    page.click("[data-testid=commit]")
    expect(page.locator("[data-testid=batch-status]")).to_have_text("已入库")

    page.goto("/residents/reviews/")
    page.click("text=比对")
    expect(page.locator("[data-testid=side-by-side]")).to_contain_text("李见国")
    screenshot("review-side-by-side")
    page.click("[data-testid=same]")
    review = MatchReview.objects.get()
    assert review.status == "linked"

    page.goto(f"/residents/{cast.resident.pk}/")
    expect(page.locator("[data-testid=source-records]")).to_contain_text("V1")
    page.click("[data-testid=unmerge]")
    expect(page.locator("[data-testid=source-records]")).not_to_contain_text("V1")
    assert Resident.objects.get(pk=review.person_id).merged_into_id is None
    screenshot("after-unmerge")
