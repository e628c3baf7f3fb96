"""Input that used to crash the server (500) or slip through: each answer is now a Chinese 4xx naming what
is wrong. These are the hand-made bad inputs of the probe, one test per cause."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from yigongti.core.models import Job
from yigongti.encounters.models import Encounter
from yigongti.residents.models import Resident

HUGE_PAGE = "999999999999999999"


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _messages(resp) -> list[str]:
    body = resp.json()
    errors = body.get("errors") or []
    if isinstance(errors, dict):
        return [m for ms in errors.values() for m in ms]
    return [e["message"] for e in errors]


# --- page numbers -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/v1/facilities", "/api/v1/staff", "/api/v1/residents", "/api/v1/referrals",
                                 "/api/v1/encounters?resident={resident}"])
def test_a_page_number_past_any_database_integer_is_refused_on_every_api_list(cast, client, login, url):
    login(cast.manager)
    sep = "&" if "?" in url else "?"
    resp = client.get(url.format(resident=cast.resident.pk) + f"{sep}page={HUGE_PAGE}")
    assert resp.status_code == 422
    assert resp["Content-Type"] == "application/problem+json"
    assert _messages(resp) == ["应不大于 10000"]


@pytest.mark.parametrize("url", ["/api/v1/residents/reviews", "/residents/", "/referrals/", "/orgs/staff/",
                                 "/audit/", "/inbox/"])
def test_a_huge_page_number_on_pages_and_unbounded_lists_is_an_empty_page_not_a_crash(cast, client, login, url):
    login(cast.manager if "audit" not in url else cast.auditor)
    resp = client.get(f"{url}?page={HUGE_PAGE}")
    assert resp.status_code == 200, resp.content[:300]
    if url.startswith("/api/"):
        assert resp.json() == []


def test_the_last_allowed_page_is_answered_empty(cast, client, login):
    login(cast.manager)
    resp = client.get("/api/v1/residents?page=10000&page_size=200")
    assert resp.status_code == 200
    assert resp.json()["items"] == [] and resp.json()["has_next"] is False


# --- NUL bytes ---------------------------------------------------------------------------------------------

def test_a_nul_byte_in_a_search_is_refused_in_chinese(cast, client, login):
    login(cast.village_doctor)
    resp = client.get("/api/v1/residents?q=%E6%9D%8E%00")
    assert resp.status_code == 422 and resp.json()["code"] == "nul_byte"
    assert _has_chinese(resp.json()["title"])
    page = client.get("/residents/?q=%00")
    assert page.status_code == 422 and "NUL" in page.content.decode()


@pytest.mark.parametrize("field", ["name", "village", "phone"])
def test_a_nul_byte_in_any_json_field_is_refused_before_it_reaches_the_database(cast, client, login, field):
    login(cast.village_doctor)
    body = {"name": "赵春花", "sex": "F", "birth_date": "1972-08-08", "village": cast.village.code}
    body[field] = body.get(field, "") + "\x00"
    resp = client.post("/api/v1/residents", body, content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "nul_byte"
    assert not Resident.objects.filter(name__startswith="赵春花").exists()


def test_a_nul_byte_in_a_referral_reason_or_a_nested_list_is_refused(cast, client, login):
    login(cast.township_doctor)
    resp = client.post("/api/v1/referrals", {"resident": cast.resident.pk, "icd10": "I63.9", "reason": "胸痛\x00"},
                       content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "nul_byte"
    resp = client.post("/api/v1/referrals", {"resident": cast.resident.pk, "icd10": "I63.9", "reason": "胸痛",
                                             "follow_up_dates": ["2026-12-01\x00"]}, content_type="application/json")
    assert resp.status_code == 422 and resp.json()["code"] == "nul_byte"


def test_a_nul_byte_in_a_form_field_such_as_a_token_name_is_refused(cast, client, login):
    login(cast.county_doctor)
    resp = client.post("/orgs/tokens/new/", {"name": "接口\x00令牌"})
    assert resp.status_code == 422 and "NUL" in resp.content.decode()


# --- bodies ------------------------------------------------------------------------------------------------

def test_a_three_megabyte_json_body_is_413_problem_json(cast, client, login):
    login(cast.village_doctor)
    body = json.dumps({"name": "赵" * (3 * 1024 * 1024 // 3), "village": cast.village.code})
    resp = client.post("/api/v1/residents", body, content_type="application/json")
    assert resp.status_code == 413
    assert resp["Content-Type"] == "application/problem+json" and resp.json()["code"] == "request_too_large"
    assert _has_chinese(resp.json()["title"])


def test_malformed_json_is_a_chinese_400(cast, client, login):
    login(cast.village_doctor)
    resp = client.post("/api/v1/residents", b"{not json", content_type="application/json")
    assert resp.status_code in (400, 422)
    assert _has_chinese(resp.json()["title"])


# --- residents without a village ---------------------------------------------------------------------------

def test_a_resident_known_only_to_the_township_is_served_with_an_empty_village(cast, client, login):
    Resident.objects.filter(pk=cast.resident.pk).update(village=None)
    login(cast.manager)
    resp = client.get(f"/api/v1/residents/{cast.resident.pk}")
    assert resp.status_code == 200 and resp.json()["village_name"] == ""
    listing = client.get("/api/v1/residents?page_size=200")
    assert listing.status_code == 200
    assert {r["id"]: r["village_name"] for r in listing.json()["items"]}[cast.resident.pk] == ""


# --- indicator periods and years ---------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/indicators/?period=abc", "/indicators/?period=2026-13",
                                 "/indicators/report.pdf?period=0000-01", "/indicators/report.xlsx?period=9999-01",
                                 "/indicators/evidence/?year=abc", "/indicators/evidence/?year=99999999999"])
def test_an_unreadable_period_or_year_is_a_chinese_message_not_a_crash(cast, client, login, url):
    login(cast.manager)
    resp = client.get(url)
    assert resp.status_code == 400, resp.content[:300]
    text = resp.content.decode()
    assert "统计期" in text or "年度" in text


@pytest.mark.parametrize("period", ["abc", "2026-13", "0000-01", "2026-Q5"])
def test_the_figures_api_refuses_an_unreadable_period_with_422(cast, client, login, period):
    login(cast.manager)
    resp = client.get(f"/api/v1/indicators/figures?period={period}")
    assert resp.status_code == 422 and resp.json()["code"] == "bad_period"


# --- dates -------------------------------------------------------------------------------------------------

def _encounter(**kw):
    return {"type": "outpatient", "admit_date": "2026-10-08", "main_icd10": "I10", **kw}


@pytest.mark.parametrize("admit", ["0181-03-01", "1899-12-31", "7022-01-01"])
def test_an_encounter_outside_1900_to_tomorrow_is_refused_naming_the_date(cast, client, login, admit):
    login(cast.village_doctor)
    resp = client.post("/api/v1/encounters", _encounter(resident=cast.resident.pk, admit_date=admit),
                       content_type="application/json")
    assert resp.status_code == 422
    assert "admit_date" in resp.json()["errors"] and _has_chinese(resp.json()["errors"]["admit_date"][0])
    assert not Encounter.objects.exists()


def test_tomorrow_is_the_latest_admit_date_accepted(cast, client, login):
    login(cast.village_doctor)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    ok = client.post("/api/v1/encounters", _encounter(resident=cast.resident.pk, admit_date=tomorrow.isoformat()),
                     content_type="application/json")
    assert ok.status_code == 201, ok.content
    later = client.post("/api/v1/encounters",
                        _encounter(resident=cast.resident.pk, admit_date=(tomorrow + dt.timedelta(days=1)).isoformat()),
                        content_type="application/json")
    assert later.status_code == 422


def test_a_discharge_in_another_millennium_is_refused(cast, client, login):
    login(cast.county_doctor)
    resp = client.post("/api/v1/encounters", _encounter(resident=cast.resident.pk, type="inpatient",
                                                        discharge_date="3026-10-09"), content_type="application/json")
    assert resp.status_code == 422 and "discharge_date" in resp.json()["errors"]


def test_a_birth_date_before_1900_is_refused(cast, client, login):
    login(cast.village_doctor)
    resp = client.post("/api/v1/residents", {"name": "赵春花", "sex": "F", "birth_date": "1850-01-01",
                                             "village": cast.village.code}, content_type="application/json")
    assert resp.status_code == 422 and "birth_date" in resp.json()["errors"]


def test_imported_settlement_dates_are_bounded_too():
    from yigongti.encounters.importers import ImportReport, parse_settlements

    report = ImportReport("settlements")
    rows = parse_settlements([{"settlement_no": "S1", "id_number": "", "residence_area": "431127100201",
                               "scheme": "resident", "type": "inpatient", "facility_code": "X", "facility_name": "X",
                               "facility_county": "431127", "facility_level": "county", "admit_date": "0181-01-02",
                               "settle_date": "2026-10-02", "total_cost": "100", "fund_paid": "50",
                               "self_pay": "50", "main_icd10": "I10"}], report)
    assert rows == [] and any(e.field == "admit_date" and "1900" in e.message for e in report.errors)


# --- money -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "message"), [("1e30", "金额超出范围（应小于 100 亿元）"), ("NaN", "应为有限的数字"),
                                                ("-5", "金额不能为负")])
def test_an_amount_out_of_range_says_so_in_our_words(cast, client, login, value, message):
    login(cast.village_doctor)
    resp = client.post("/api/v1/encounters", _encounter(resident=cast.resident.pk, total_cost=value),
                       content_type="application/json")
    assert resp.status_code == 422
    assert _messages(resp) == [message]


# --- library messages --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field", "message"), [
    ({"admit_date": "2026-02-30"}, "admit_date", "日期格式应为 YYYY-MM-DD"),
    ({"admit_date": "yesterday"}, "admit_date", "日期格式应为 YYYY-MM-DD"),
    ({"resident": "abc"}, "resident", "应为整数"),
    ({"tcm": "perhaps"}, "tcm", "应为 true 或 false"),
    ({"type": None}, "type", "应为文本"),
])
def test_validation_errors_are_worded_in_chinese_per_field(cast, client, login, body, field, message):
    login(cast.village_doctor)
    resp = client.post("/api/v1/encounters", {**_encounter(resident=cast.resident.pk), **body},
                       content_type="application/json")
    assert resp.status_code == 422
    assert {"field": field, "message": message} in resp.json()["errors"]


def test_a_query_parameter_that_is_not_a_number_is_worded_in_chinese(cast, client, login):
    login(cast.manager)
    resp = client.get("/api/v1/residents?page=abc")
    assert resp.status_code == 422
    assert resp.json()["errors"] == [{"field": "page", "message": "应为整数"}]


def test_every_message_of_a_garbage_body_is_ours(cast, client, login):
    login(cast.township_doctor)
    garbage = {"resident": [1], "direction": 5, "urgency": {}, "to_facility": "x", "icd10": None, "reason": 1.5,
               "follow_up_dates": ["20261301", 7], "draft": "maybe"}
    resp = client.post("/api/v1/referrals", garbage, content_type="application/json")
    assert resp.status_code == 422
    messages = _messages(resp)
    assert messages and all(_has_chinese(m) for m in messages), messages


def test_every_operation_documents_the_problem_answers(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            assert {"401", "403", "404", "409", "413", "422", "429"} <= set(map(str, op["responses"])), (method, path)
    assert "Problem" in schema["components"]["schemas"]


# --- long-running work -------------------------------------------------------------------------------------

def test_the_web_refresh_queues_the_work_for_the_worker_instead_of_running_it(cast, client, login, monkeypatch):
    from yigongti.indicators import services

    def boom(*a, **k):
        raise AssertionError("the web request must not rebuild the facts itself")

    monkeypatch.setattr(services, "refresh_facts", boom)
    login(cast.manager)
    resp = client.post("/indicators/refresh/")
    assert resp.status_code == 302
    job = Job.objects.get(kind="indicators.refresh_facts", key__startswith="web-")
    assert job.status == "due"
    page = client.get("/indicators/")
    assert "已安排刷新指标事实" in page.content.decode()


def test_json_nested_past_the_parser_recursion_limit_is_a_400_not_a_crash(cast, client, login):
    login(cast.village_doctor)
    resp = client.post("/api/v1/residents", "[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert resp.status_code == 400 and resp.json()["code"] == "too_deep"


@pytest.mark.parametrize("url", ["/api/v1/encounters/imports/settlements", "/api/v1/residents/imports"])
def test_an_upload_that_is_not_utf8_is_told_in_our_words_without_a_temporary_file_name(cast, client, login, url):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(cast.manager)
    bad = SimpleUploadedFile("名单.csv", "姓名,身份证号\n".encode() + b"\xff\xfe\xc3\x28 broken\n" * 50, "text/csv")
    resp = client.post(url, {"file": bad, "source_system": "his"})
    body = resp.content.decode()
    assert resp.status_code < 500, body[:300]
    assert "UTF8" not in body and "utf-8' codec" not in body and "/tmp" not in body and "tmp" not in body.lower()


@pytest.mark.parametrize("header", ["HTTP_USER_AGENT", "HTTP_IDEMPOTENCY_KEY"])
def test_a_nul_byte_in_a_stored_header_is_refused(cast, client, login, header):
    login(cast.village_doctor)
    resp = client.post("/api/v1/residents", {"name": "赵春花", "sex": "F", "birth_date": "1972-08-08",
                                             "village": cast.village.code}, content_type="application/json",
                       **{header: "curl\x00/8"})
    assert resp.status_code == 400 and resp.json()["code"] == "nul_byte"
    assert not Resident.objects.filter(name="赵春花").exists()


def test_a_broken_multipart_body_or_too_many_fields_is_a_chinese_400(cast, client, login):
    login(cast.manager)
    broken = client.generic("POST", "/api/v1/residents/imports", b"--xx\r\nContent-Disposition: form-data; name=",
                            content_type="multipart/form-data; boundary=xx")
    assert broken.status_code in (400, 422) and _has_chinese(broken.json()["title"])
    many = client.get("/api/v1/residents?" + "&".join(f"f{i}=1" for i in range(1500)))
    assert many.status_code == 400 and many.json()["code"] == "bad_request"


@pytest.mark.parametrize("follow_up", ["0181-01-01", "7022-01-01"])
def test_a_follow_up_date_outside_a_year_back_to_two_years_ahead_is_refused(cast, client, login, follow_up):
    login(cast.township_doctor)
    resp = client.post("/api/v1/referrals", {"resident": cast.resident.pk, "direction": "up", "icd10": "I63.9",
                                             "reason": "突发右侧肢体无力", "to_facility": cast.county_hospital.pk,
                                             "follow_up_dates": [follow_up]}, content_type="application/json")
    assert resp.status_code == 422
    assert any("随访日期" in m for m in resp.json()["errors"]["follow_up_dates"]), resp.json()


def test_the_date_ranges_are_one_rule():
    from yigongti.core.validation import BIRTH, CLINICAL, PLANNED, date_bounds, date_problem

    today = timezone.localdate()
    assert date_bounds(CLINICAL) == (dt.date(1900, 1, 1), today + dt.timedelta(days=1))
    assert date_bounds(BIRTH) == (dt.date(1900, 1, 1), today)
    assert date_problem(today + dt.timedelta(days=1), BIRTH, "出生日期") == f"出生日期不能晚于 {today:%Y-%m-%d}"
    lo, hi = date_bounds(PLANNED)
    assert date_problem(lo, PLANNED) is None and date_problem(hi + dt.timedelta(days=1), PLANNED)
