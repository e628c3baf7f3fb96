# ruff: noqa: F811  (pytest fixtures imported from tests/referrals/conftest.py are arguments by name)
"""Messages composed at run time (services, permissions, validation) are in the reader's language.

zh-Hans stays the default everywhere (the Chinese texts are asserted by every other test); a page in English
(the language cookie) and an API client that chose English (the cookie or ``Accept-Language: en``) get English.
What may stay Chinese in an English message is data: a person's, a facility's or a guideline rule's name."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.utils import translation

from tests.cast import as_
from tests.referrals.conftest import ref, sent, up  # noqa: F401  (the referral fixtures, used by name)
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.referrals.models import GuidelineRule

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def english(text: str, *data: str) -> str:
    """``text`` with the data pieces taken out; fails when Chinese is left."""
    rest = str(text)
    for d in data:
        rest = rest.replace(str(d), "")
    assert rest.strip() and not CJK.search(rest), text
    return str(text)


def in_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def en():
    with translation.override("en"):
        yield


# ---- referral moves and guideline warnings ------------------------------------------------------------------

def test_a_guideline_warning_is_english_in_english(ref, en):
    with pytest.raises(InvalidInput) as e:
        up(ref, icd10="I10", diagnosis="原发性高血压", urgency="routine")
    assert e.value.code == "guideline_warning"
    rules = [d for r in GuidelineRule.objects.all() for d in (r.name, r.up_criteria) if d]
    assert "Per the referral guideline" in english(e.value.message, *rules)


def test_the_warning_stored_on_the_sheet_stays_chinese(ref, en):
    r = up(ref, icd10="I10", diagnosis="原发性高血压", urgency="urgent", override_reason="血压 196/118 mmHg")
    assert r.guideline_warning.startswith("按转诊指南")


def test_the_referral_form_page_shows_the_warning_in_english(ref, client, login):
    login(ref.township_doctor)
    in_english(client)
    form = {"resident": ref.resident.pk, "direction": "up", "urgency": "routine", "to_facility": ref.county_hospital.pk,
            "icd10": "I10", "diagnosis": "原发性高血压", "reason": "血压控制不佳", "idempotency_key": "k-en-1"}
    html = client.post("/referrals/new/", form).content.decode()
    assert "Per the referral guideline" in html and "稳定期宜在" not in html


def test_a_submitted_referral_is_confirmed_in_english(ref, client, login):
    login(ref.township_doctor)
    in_english(client)
    form = {"resident": ref.resident.pk, "direction": "up", "urgency": "urgent", "to_facility": ref.county_hospital.pk,
            "icd10": "I10", "diagnosis": "原发性高血压", "reason": "血压控制不佳", "idempotency_key": "k-en-2",
            "override_reason": "血压 196/118 mmHg"}
    html = client.post("/referrals/new/", form, follow=True).content.decode()
    assert "The referral has been submitted" in html and "转诊单已提交" not in html


def test_a_move_that_is_no_longer_possible_is_explained_in_english(ref, en):
    from yigongti.referrals import workflow
    from yigongti.referrals.services import accept_referral

    with pytest.raises(workflow.MoveNotAllowed) as e:
        workflow.check_move("submitted", "arrive")
    assert "is not possible" in english(e.value.message)
    r = up(ref)
    accept_referral(r.pk, {}, actor=as_(ref.desk))
    with pytest.raises(Exception) as e:
        accept_referral(r.pk, {}, actor=as_(ref.desk2))
    assert e.value.code == "already_answered"
    assert "already handled by center_desk" in english(e.value.message)


def test_the_api_answers_in_chinese_unless_the_client_chose_english(ref, client, login):
    r = up(ref)
    from yigongti.referrals.services import accept_referral

    accept_referral(r.pk, {}, actor=as_(ref.desk))
    login(ref.desk2)
    url = f"/api/v1/referrals/{r.pk}/accept"
    zh = client.post(url, {}, content_type="application/json")
    assert zh.status_code == 409 and "已由" in zh.json()["title"] and zh["Content-Language"] == "zh-hans"
    asked = client.post(url, {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert asked.status_code == 409 and asked["Content-Language"] == "en"
    english(asked.json()["title"])
    assert "Accept-Language" in asked["Vary"]
    chinese_first = client.post(url, {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-CN,en;q=0.5")
    assert "已由" in chinese_first.json()["title"]
    by_cookie = in_english(client).post(url, {}, content_type="application/json")
    english(by_cookie.json()["title"])


def test_a_page_move_refused_by_status_shows_an_english_message(ref, client, login):
    r = up(ref)
    from yigongti.referrals.services import accept_referral

    accept_referral(r.pk, {}, actor=as_(ref.desk))
    login(ref.desk2)
    in_english(client)
    page = client.post(f"/referrals/{r.pk}/accept/", {}, follow=True).content.decode()
    assert "already handled by center_desk" in page and "无需重复操作" not in page


def test_a_missing_reason_is_asked_for_in_english(ref, en):
    from yigongti.referrals.services import perform

    r = up(ref)
    with pytest.raises(InvalidInput) as e:
        perform(r.pk, "decline", {"reason": ""}, actor=as_(ref.desk))
    assert e.value.code == "reason_required" and english(e.value.message).startswith("Please fill in")


# ---- permission refusals ---------------------------------------------------------------------------------------

def test_a_verb_refusal_is_english_and_its_chinese_is_unchanged(ref):
    from yigongti.orgs.permissions import VERBS, check

    r = up(ref)
    with translation.override("en"), pytest.raises(Forbidden) as e:
        check(as_(ref.village_doctor), "referrals.accept", r)
    english(e.value.message)
    with translation.override("zh-hans"):
        with pytest.raises(Forbidden) as e:
            check(as_(ref.village_doctor), "referrals.accept", r)
        assert e.value.message == VERBS["referrals.accept"].message and e.value.message.startswith("只有转诊服务中心")


def test_every_refusal_message_has_an_english_text(en):
    from yigongti.orgs.permissions import READ_MESSAGES, VERBS

    for v in VERBS.values():
        english(v.message)
    for m in READ_MESSAGES.values():
        english(m)


def test_a_read_refusal_over_the_api_is_english_when_asked(ref, client, login):
    r = up(ref)
    login(ref.auditor)
    zh = client.get(f"/api/v1/referrals/{r.pk}")
    assert zh.status_code == 403 and zh.json()["title"] == "您的角色不能查看转诊单"
    en = client.get(f"/api/v1/referrals/{r.pk}", HTTP_ACCEPT_LANGUAGE="en")
    assert en.status_code == 403 and english(en.json()["title"]) == "Your role cannot view referrals"


# ---- form and validation errors --------------------------------------------------------------------------------

def test_referral_form_errors_are_english(ref, client, login):
    login(ref.township_doctor)
    in_english(client)
    form = {"resident": ref.resident.pk, "direction": "up", "urgency": "routine", "to_facility": ref.county_hospital.pk,
            "icd10": "XX", "reason": "", "idempotency_key": "k-en-2"}
    html = client.post("/referrals/new/", form).content.decode()
    assert "Enter a valid ICD-10 code" in html and "请填写有效的 ICD-10 编码" not in html
    assert "Enter the reason for referral" in html


def test_referral_validation_over_the_api_is_english_when_asked(ref, client, login):
    login(ref.township_doctor)
    body = {"resident": ref.resident.pk, "to_facility": ref.county_hospital.pk, "icd10": "XX", "reason": "x"}
    r = client.post("/api/v1/referrals", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 422
    for msgs in r.json()["errors"].values():
        for m in msgs:
            english(m)
    missing = client.post("/api/v1/referrals", {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert missing.status_code == 422 and english(missing.json()["title"])
    assert {e["message"] for e in missing.json()["errors"]} == {"Required"}


def test_a_bad_bed_and_an_implausible_date_are_english(en):
    from yigongti.core.validation import date_problem

    assert english(date_problem(dt.date(1800, 1, 1), label="预约时间")).endswith("earlier than 1900-01-01")
    assert english(date_problem(dt.date(1800, 1, 1)))


def test_resident_form_errors_are_english(cast, client, login):
    login(cast.village_doctor)
    in_english(client)
    html = client.post("/residents/new/", {"name": "赵六", "id_number": "43112719580314001", "sex": "M",
                                          "village": cast.village.code}).content.decode()
    assert "身份证号应为18位" not in html and "ID number" in html


def test_resident_service_errors_are_english(cast, en):
    from yigongti.residents.services import register_resident

    with pytest.raises(InvalidInput) as e:
        register_resident({"name": "赵六", "village": "431127999999", "tags": ["nope"]}, actor=as_(cast.village_doctor))
    for msgs in e.value.errors.values():
        for m in msgs:
            english(m, "nope")


def test_resident_search_problems_are_english(en):
    from yigongti.residents.candidates import make_probe

    p = make_probe(name="李", birth_date="1958/3/x", id_number="4311271958031400", phone="12")
    assert p.problems
    for m in p.problems:
        english(m, "1958/3/x", "12")


# ---- import and indicator messages ----------------------------------------------------------------------------

def test_an_import_batch_is_described_in_english(en):
    from yigongti.residents.importing import describe_batch
    from yigongti.residents.models import BatchStatus, ImportBatch

    assert english(describe_batch(ImportBatch(status=BatchStatus.FAILED, failure=""))) == \
        "Import failed: no reason recorded"
    committed = ImportBatch(status=BatchStatus.COMMITTED, summary={"committed": {"create": 4, "link": 3}})
    assert english(describe_batch(committed)).startswith("Committed: ")
    staged = ImportBatch(status=BatchStatus.DISCARDED, summary={"total": 7, "create": 7})
    english(describe_batch(staged))


def test_a_bad_period_is_english(en):
    from yigongti.indicators.periods import parse_period

    with pytest.raises(InvalidInput) as e:
        parse_period("2026-13x")
    english(e.value.message, "2026-13x")


# ---- notifications and the outflow chart ---------------------------------------------------------------------

def test_the_inbox_shows_an_english_headline_for_a_chinese_title(cast, client, login):
    from yigongti.core.notify import notify

    notify([cast.township_doctor], "referral_accepted", "转诊已接收：李建国 → 蓝山县中心医院")
    login(cast.township_doctor)
    assert "转诊已接收" in client.get("/inbox/").content.decode()
    html = in_english(client).get("/inbox/").content.decode()
    assert "A referral you sent was accepted" in html
    assert 'data-testid="stored-title">转诊已接收' in html  # the stored title (with the names) follows


def test_the_outflow_chart_axis_is_labelled_in_the_page_language(cast, client, login):
    login(cast.bureau)
    assert 'data-axis="人次"' in client.get("/referrals/outflow/").content.decode()
    assert 'data-axis="Visits"' in in_english(client).get("/referrals/outflow/").content.decode()


def test_indicator_figures_over_the_api_follow_the_clients_language(cast, client, login):
    login(cast.bureau)
    url = "/api/v1/indicators/figures?period=2026-03"
    zh = client.get(url).json()["figures"]
    assert any(CJK.search(f["name"]) for f in zh)
    figures = client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["figures"]
    assert figures
    for f in figures:
        english(f["name"])
        if f["note"]:
            english(f["note"])


def test_an_import_file_missing_columns_is_refused_in_english_when_asked(cast, client, login):
    import io

    login(cast.bureau)
    f = io.BytesIO("settlement_no,金额\nX1,10\n".encode())
    f.name = "wrong.csv"
    r = client.post("/api/v1/encounters/imports/settlements", {"file": f}, HTTP_ACCEPT_LANGUAGE="en")
    body = r.json()
    assert r.status_code == 422 and body["code"] == "missing_columns"
    assert english(body["title"], "金额").startswith("The file lacks required columns: ")
    english(body["errors"]["file"][0])
