"""The resident page and list as people use them: places and facilities by name, the person's open referrals,
follow-ups and recent encounters, pinyin search, page numbers, filters and an Excel export."""

from __future__ import annotations

import datetime as dt
import io
import re

from openpyxl import load_workbook

from tests.cast import SYSTEM, as_
from tests.referrals.conftest import ref, sent, up  # noqa: F401  (fixtures)
from yigongti.core.idcard import make_id_number
from yigongti.core.models import AuditEvent
from yigongti.encounters.models import Encounter
from yigongti.orgs.models import Facility, FacilityType, Region, RegionLevel, Role
from yigongti.orgs.services import create_account
from yigongti.residents.models import Resident, name_search_keys


def _people(cast, n, village=None, prefix="周"):
    village = village or cast.village
    rows = [Resident(name=f"{prefix}{chr(0x5b50 + i)}{chr(0x660e + i % 3)}", sex="M",
                     birth_date=dt.date(1960, 1, 1 + i % 28), village=village, area_code=village.code)
            for i in range(n)]
    for r in rows:
        r.name_pinyin, r.name_initials = name_search_keys(r.name)
    Resident.objects.bulk_create(rows)


# --- places and facilities by name -------------------------------------------------------------------

def test_the_resident_page_names_places_and_never_shows_a_12_digit_code(cast, client, login):
    login(cast.township_doctor)
    page = client.get(f"/residents/{cast.resident.pk}/").content.decode()
    place = page.split('data-testid="place"')[1].split("</dd>")[0]
    assert "塔峰镇" in place and "大塘村" in place
    assert not re.search(r"\d{12}", place)
    # filed under the township only (an import that named no village): the township's name
    r = Resident.objects.create(name="欧阳明", sex="M", birth_date=dt.date(1970, 1, 1), area_code=cast.township.code)
    page = client.get(f"/residents/{r.pk}/").content.decode()
    place = page.split('data-testid="place"')[1].split("</dd>")[0]
    assert "塔峰镇" in place and cast.township.code not in page
    assert r.place == "蓝山县塔峰镇"


def test_the_registration_desk_is_shown_by_the_facilitys_name(cast, client, login):
    login(cast.village_doctor)
    page = client.get(f"/residents/{cast.resident.pk}/").content.decode()
    table = page.split('data-testid="source-records"')[1]
    assert "大塘村卫生室" in table and cast.village_clinic.code not in table


def test_facilities_with_the_same_name_are_qualified_by_their_township(cast, client, login):
    twin_village = Region.objects.create(code="431127101202", name="大塘村", level=RegionLevel.VILLAGE,
                                         parent=cast.other_township)
    Facility.objects.create(code="431127101202D600", name="大塘村卫生室", type=FacilityType.VILLAGE_CLINIC,
                            region=twin_village, community=cast.community, parent=cast.other_center)
    login(cast.county_doctor)
    page = client.get("/residents/").content.decode()
    options = page.split('data-testid="filter-facility"')[1].split("</select>")[0]
    assert "大塘村卫生室（塔峰镇）" in options and "大塘村卫生室（总市镇）" in options
    assert "塔峰镇卫生院<" in options  # a unique name stays as it is


# --- filters, pinyin, page numbers -------------------------------------------------------------------

def test_the_list_filters_by_township_village_and_facility(cast, client, login):
    login(cast.county_doctor)
    by_town = client.get("/api/v1/residents", {"township": cast.township.code}).json()["items"]
    assert [r["id"] for r in by_town] == [cast.resident.pk]
    by_facility = client.get("/api/v1/residents", {"facility": cast.other_center.pk}).json()["items"]
    assert [r["id"] for r in by_facility] == [cast.neighbour.pk]
    page = client.get("/residents/", {"facility": cast.other_clinic.pk}).content.decode()
    assert "王秀英" in page and "李建国" not in page
    # a facility outside the user's scope filters to nothing rather than widening the scope
    login(cast.village_doctor)
    assert client.get("/api/v1/residents", {"facility": cast.other_center.pk}).json()["items"] == []


def test_names_are_found_by_pinyin_and_by_initials(cast, client, login):
    login(cast.township_doctor)
    for q in ("lijianguo", "ljg", "LiJian", "li jian"):
        found = client.get("/api/v1/residents", {"q": q}).json()["items"]
        assert [r["id"] for r in found] == [cast.resident.pk], q
    page = client.post("/residents/", {"q": "ljg"}).content.decode()
    assert "李建国" in page
    assert client.get("/api/v1/residents", {"q": "wxy"}).json()["items"] == []  # 王秀英 is another township's


def test_a_renamed_resident_is_found_by_the_new_names_pinyin(cast):
    r = cast.resident
    r.name = "李建华"
    r.save(update_fields=["name"])
    r.refresh_from_db()
    assert (r.name_pinyin, r.name_initials) == ("lijianhua", "ljh")


def test_long_lists_have_page_numbers_and_a_page_jump(cast, client, login):
    _people(cast, 80)
    login(cast.village_doctor)
    page = client.get("/residents/", {"page": 2}).content.decode()
    nav = page.split('data-testid="page-numbers"')[1].split("</nav>")[0]
    assert 'aria-current="page">2<' in nav
    assert "page=4" in nav  # the last page (81 residents, 25 a page)
    assert 'data-testid="page-jump"' in nav
    jumped = client.get("/residents/", {"page": 4}).content.decode()
    assert jumped.count("<tr data-area") == 6
    filtered = client.get("/residents/", {"sex": "M"}).content.decode()
    assert "sex=M&amp;page=2" in filtered.split('data-testid="page-numbers"')[1]


# --- Excel export -------------------------------------------------------------------------------------

def test_the_export_is_the_users_list_masked_formula_safe_and_audited(cast, client, login):
    Resident.objects.create(name="=HYPERLINK(\"http://x\")", sex="F", birth_date=dt.date(1980, 1, 1),
                            village=cast.village, area_code=cast.village.code, phone="13900001111")
    login(cast.village_doctor)
    r = client.get("/residents/export.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][1] == "姓名" and len(rows) == 3  # header, 李建国, the formula-named one: no one else's
    names = {row[1] for row in rows[1:]}
    assert names == {"李建国", "=HYPERLINK(\"http://x\")"}
    cells = {c.value: c for c in ws["B"]}
    assert cells["=HYPERLINK(\"http://x\")"].data_type == "s"  # text, never a formula
    flat = repr(rows)
    assert cast.resident.id_number not in flat and cast.resident.phone not in flat and "13900001111" not in flat
    ev = AuditEvent.objects.get(action="export", object_type="resident")
    assert ev.detail["count"] == 2 and cast.resident.pk in ev.detail["ids"]


# --- the person's referrals, follow-ups and encounters -------------------------------------------------

def _encounter(cast, day, diagnosis):
    return Encounter.objects.create(resident=cast.resident, area_code=cast.resident.area_code,
                                    residence_county="431127", facility=cast.township_center, type="outpatient",
                                    admit_date=day,
                                    main_icd10="I10", main_diagnosis=diagnosis)


def test_the_resident_page_shows_open_referrals_follow_ups_and_recent_encounters(ref, client, login):  # noqa: F811
    from yigongti.referrals import services

    _encounter(ref, dt.date(2026, 10, 1), "原发性高血压")
    past, later = dt.date.today() - dt.timedelta(days=20), dt.date.today() + dt.timedelta(days=40)
    referral = up(ref)
    accepted = services.accept_referral(referral.pk, actor=as_(ref.desk))
    services.arrive_referral(accepted.pk, actor=as_(ref.county_doctor))
    services.complete_referral(referral.pk, outcome="down", actor=as_(ref.county_doctor))
    down = services.submit_referral({
        "resident": ref.resident.pk, "direction": "down", "to_facility": ref.village_clinic.pk, "icd10": "I63.9",
        "diagnosis": "脑梗死恢复期", "reason": "病情稳定", "rehab_plan": "步行训练", "medication_plan": "阿司匹林",
        "follow_up_dates": [past.isoformat(), later.isoformat()], "source_referral": referral.pk},
        actor=as_(ref.county_doctor))
    login(ref.village_doctor)
    page = client.get(f"/residents/{ref.resident.pk}/").content.decode()
    referrals = page.split('data-testid="panel-referrals"')[1].split("</section>")[0]
    assert f"/referrals/{down.pk}/" in referrals and "脑梗死恢复期" in referrals
    follow_ups = page.split('data-testid="panel-follow_ups"')[1].split("</section>")[0]
    assert f"{past:%Y-%m-%d}" in follow_ups and "已逾期" in follow_ups and f"{later:%Y-%m-%d}" in follow_ups
    encounters = page.split('data-testid="panel-encounters"')[1].split("</section>")[0]
    assert "原发性高血压" in encounters and "塔峰镇卫生院" in encounters
    assert AuditEvent.objects.filter(actor="village_doctor", object_type="referral", detail__panel="open").exists()
    assert AuditEvent.objects.filter(actor="village_doctor", object_type="encounter", detail__panel="recent").exists()


def test_roles_without_clinical_reads_see_no_clinical_panels(cast, client, login):
    _encounter(cast, dt.date(2026, 10, 1), "原发性高血压")
    pharmacist = create_account(username="pharmacist", role=Role.PHARMACIST, password="Ceshi-mima-2026",
                                facility=cast.township_center, actor=SYSTEM)[0]
    login(pharmacist)
    page = client.get(f"/residents/{cast.resident.pk}/").content.decode()
    assert "原发性高血压" not in page and 'data-testid="panel-encounters"' not in page
    assert 'data-testid="panel-referrals"' not in page


# --- ID numbers at every entry point -------------------------------------------------------------------

def _wide(text):
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


def test_full_width_digits_and_hyphens_are_normalised_the_same_at_every_entry_point(cast, client, login):
    login(cast.village_doctor)
    number = cast.resident.id_number
    typed = _wide(number[:6]) + "－" + number[6:14] + " - " + number[14:]
    found = client.post("/api/v1/residents/candidates", {"id_number": typed}, content_type="application/json").json()
    assert found["candidates"][0]["resident_id"] == cast.resident.pk and found["problems"] == []
    listed = client.post("/api/v1/residents/search", {"q": typed}, content_type="application/json").json()["items"]
    assert [r["id"] for r in listed] == [cast.resident.pk]
    new = make_id_number("431127", dt.date(1990, 4, 5), 88, "F")
    r = client.post("/api/v1/residents", {"name": "邓小梅", "id_number": _wide(new), "village": cast.village.code},
                    content_type="application/json")
    assert r.status_code == 201
    assert Resident.objects.get(name="邓小梅").id_number == new
    page = client.post("/residents/new/", {"name": "邓小梅", "id_number": new[:9] + "-" + new[9:], "sex": "F",
                                           "village": cast.village.code}).content.decode()
    assert "该身份证号已" in page  # the form normalised it to the same number


def test_a_superscript_digit_is_a_clear_error_never_a_crash(cast, client, login):
    login(cast.village_doctor)
    bad = cast.resident.id_number[:8] + "²" + cast.resident.id_number[9:]
    r = client.post("/api/v1/residents", {"name": "邓小梅", "id_number": bad, "village": cast.village.code},
                    content_type="application/json")
    assert r.status_code == 422 and "无法识别的字符「²」" in r.json()["errors"]["id_number"][0]
    found = client.post("/api/v1/residents/candidates", {"id_number": bad, "name": "李建国"},
                        content_type="application/json")
    assert found.status_code == 200 and "无法识别的字符" in found.json()["problems"][0]
    page = client.post("/residents/new/", {"name": "邓小梅", "id_number": bad, "sex": "F",
                                           "village": cast.village.code})
    assert page.status_code == 200 and "无法识别的字符" in page.content.decode()
    assert client.post("/residents/", {"q": bad}).status_code == 200


def test_taiwan_residence_permits_are_accepted(cast, client, login):
    login(cast.village_doctor)
    number = make_id_number("830000", dt.date(1988, 8, 8), 41, "M")
    r = client.post("/api/v1/residents", {"name": "陈志明", "id_number": number, "village": cast.village.code},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    saved = Resident.objects.get(pk=r.json()["id"])  # birth date and sex read from the permit's number
    assert (saved.id_number, saved.birth_date, saved.sex) == (number, dt.date(1988, 8, 8), "M")


def test_a_birth_year_before_1900_is_accepted_with_a_warning(cast, client, login):
    login(cast.village_doctor)
    number = make_id_number("431127", dt.date(1899, 6, 1), 5, "F")
    found = client.post("/api/v1/residents/candidates", {"id_number": number},
                        content_type="application/json").json()
    assert any("早于1900年" in p for p in found["problems"])
    r = client.post("/residents/new/", {"name": "百岁婆", "id_number": number, "sex": "F",
                                        "village": cast.village.code},
                    follow=True)
    assert Resident.objects.filter(name="百岁婆").exists()
    assert "早于1900年" in r.content.decode()


def test_the_panels_qualify_a_facility_name_that_two_facilities_share(ref, client, login):  # noqa: F811
    twin_village = Region.objects.create(code="431127101202", name="大塘村", level=RegionLevel.VILLAGE,
                                         parent=ref.other_township)
    Facility.objects.create(code="431127101202D600", name="大塘村卫生室", type=FacilityType.VILLAGE_CLINIC,
                            region=twin_village, community=ref.community, parent=ref.other_center)
    Encounter.objects.create(resident=ref.resident, area_code=ref.resident.area_code, residence_county="431127",
                             facility=ref.village_clinic, type="outpatient", admit_date=dt.date(2026, 9, 1),
                             main_icd10="I10", main_diagnosis="原发性高血压")
    login(ref.village_doctor)
    page = client.get(f"/residents/{ref.resident.pk}/").content.decode()
    encounters = page.split('data-testid="panel-encounters"')[1].split("</section>")[0]
    assert "大塘村卫生室（塔峰镇）" in encounters
