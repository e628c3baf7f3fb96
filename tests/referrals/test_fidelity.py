"""Referral fidelity (issue 9 §4), through the services, the pages and the API: 上转指征 without an override, the
green channel, pregnancy risk colours, 病案首页 outcomes and the no-show, the down-referral SLA and follow-ups, the
printable 转诊单, booking from the receiving department's capacity, and the 转外就医备案 outside the county."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.cast import SYSTEM, as_
from tests.referrals.conftest import up
from yigongti.core.errors import InvalidInput, NotFound
from yigongti.core.jobs import run_due
from yigongti.core.models import Job
from yigongti.orgs.models import Department
from yigongti.referrals import queries, services
from yigongti.referrals.models import DepartmentCapacity, FollowUp, GuidelineRule, Referral

API = "/api/v1/referrals"


def _arrived(ref, **over):
    r = up(ref, **over)
    services.accept_referral(r.pk, actor=as_(ref.desk))
    return services.arrive_referral(r.pk, actor=as_(ref.county_doctor))


def _down(ref, source, **over):
    data = {"resident": ref.resident.pk, "direction": "down", "to_facility": ref.village_clinic.pk, "icd10": "I63.9",
            "diagnosis": "脑梗死恢复期", "reason": "病情稳定", "rehab_plan": "步行训练",
            "follow_up_dates": [(timezone.localdate() + dt.timedelta(days=d)).isoformat() for d in (7, 30)],
            "source_referral": source.pk}
    data.update(over)
    return services.submit_referral(data, actor=as_(ref.county_doctor))


# ---- 上转指征 ---------------------------------------------------------------------------------------------------

def test_an_up_referral_meeting_the_rules_criteria_is_submitted_without_an_override(ref):
    with pytest.raises(InvalidInput) as e:
        up(ref, icd10="J18.9", diagnosis="肺炎", urgency="urgent")
    assert e.value.code == "guideline_warning"
    r = up(ref, icd10="J18.9", diagnosis="重症肺炎", urgency="urgent", meets_up_criteria=True)
    assert r.status == "submitted" and r.meets_up_criteria and r.guideline_warning == "" and r.override_reason == ""


def test_the_live_check_and_the_api_say_that_the_criteria_are_met(ref, client, login):
    login(ref.township_doctor)
    page = client.get("/referrals/new/guideline/", {"icd10": "J18.9", "direction": "up", "meets_up_criteria": "1",
                                                    "to_facility": ref.county_hospital.pk}).content.decode()
    assert 'data-testid="guideline-ok"' in page and "符合上转指征" in page
    body = client.get(f"{API}/guideline", {"icd10": "J18.9", "meets_up_criteria": "true"}).json()
    assert body["warning"] == "" and body["meets_up"]
    assert (body["level"], body["treat_level"]) == ("township", "county")
    r = client.post(API, {"resident": ref.resident.pk, "to_facility": ref.county_hospital.pk, "icd10": "J18.9",
                          "reason": "CURB-65 3 分", "urgency": "urgent", "meets_up_criteria": True},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["meets_up_criteria"] is True


def test_reinstalling_the_starter_rules_updates_them_and_retires_the_old_pneumonia_rule(ref):
    GuidelineRule.objects.create(name="肺炎", icd10_from="J12", icd10_to="J18", level="county",
                                 source=GuidelineRule.objects.first().source)
    GuidelineRule.objects.filter(name="2型糖尿病伴酮症酸中毒").update(level="township")
    assert services.install_starter_rules(actor=SYSTEM) == 0
    assert not GuidelineRule.objects.get(name="肺炎").active
    assert GuidelineRule.objects.get(name="2型糖尿病伴酮症酸中毒").level == "county"
    assert up(ref, icd10="E11.1", diagnosis="糖尿病酮症酸中毒", urgency="urgent").guideline_warning == ""


# ---- green channel ---------------------------------------------------------------------------------------------

def test_a_myocardial_infarction_without_an_urgency_goes_green_and_routine_needs_a_reason(ref, client, login):
    login(ref.township_doctor)
    body = {"resident": ref.resident.pk, "to_facility": ref.county_hospital.pk, "icd10": "I21.0", "reason": "胸痛2小时"}
    r = client.post(API, body, content_type="application/json")
    assert r.status_code == 201 and r.json()["urgency"] == "green"
    r = client.post(API, {**body, "urgency": "routine"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"]["routine_reason"]
    r = client.post(API, {**body, "urgency": "routine", "routine_reason": "发病10天，病情稳定"},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["routine_reason"] == "发病10天，病情稳定"


def test_chest_pain_with_ecg_changes_and_major_trauma_default_to_green_on_the_page(ref, client, login):
    login(ref.township_doctor)
    form = {"resident": ref.resident.pk, "direction": "up", "urgency": "", "to_facility": ref.county_hospital.pk,
            "icd10": "R07.4", "diagnosis": "胸痛", "reason": "胸痛伴 ST 段抬高", "ecg_changes": "1"}
    assert client.post("/referrals/new/", {**form, "idempotency_key": "g1"}).status_code == 302
    assert Referral.objects.get(idempotency_key="g1").urgency == "green"
    page = client.post("/referrals/new/", {**form, "icd10": "S06.5", "major_trauma": "1", "urgency": "urgent",
                                           "idempotency_key": "g2"}).content.decode()
    assert 'data-testid="error-routine_reason"' in page and "创伤" in page
    assert "green-channel" in client.get("/referrals/new/guideline/", {"icd10": "I63.9"}).content.decode()


# ---- pregnancy risk --------------------------------------------------------------------------------------------

def test_an_orange_pregnancy_cannot_go_to_a_township_and_yellow_goes_to_the_county_without_override(
        ref, client, login):
    login(ref.village_doctor)
    body = {"resident": ref.resident.pk, "to_facility": ref.township_center.pk, "icd10": "O14.1", "reason": "血压高",
            "urgency": "urgent", "pregnancy_risk": "orange"}
    r = client.post(API, body, content_type="application/json")
    assert r.status_code == 422 and "县级及以上" in r.json()["errors"]["to_facility"][0]
    r = client.post(API, {**body, "pregnancy_risk": "yellow"}, content_type="application/json")
    assert r.status_code == 422 and "县级医院及以上" in r.json()["title"]  # yellow: 二级 hospitals and above
    r = client.post(API, {**body, "pregnancy_risk": "yellow", "to_facility": ref.county_hospital.pk},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["guideline_warning"] == "" and r.json()["pregnancy_risk"] == "yellow"


# ---- outcomes and no-show --------------------------------------------------------------------------------------

def test_completion_records_the_discharge_code_and_the_treatment_result(ref, client, login):
    r = _arrived(ref)
    login(ref.county_doctor)
    bad = client.post(f"{API}/{r.pk}/complete", {"outcome": "8"}, content_type="application/json")
    assert bad.status_code == 422
    done = client.post(f"{API}/{r.pk}/complete", {"outcome": "3", "treatment_result": "improved"},
                       content_type="application/json").json()
    assert (done["status"], done["outcome"], done["treatment_result"]) == ("completed", "3", "improved")
    page = client.get(f"/referrals/{r.pk}/").content.decode()
    assert "医嘱转社区卫生服务机构/乡镇卫生院 · 好转" in page


def test_a_death_is_recorded_as_discharge_code_5_on_the_page(ref, client, login):
    r = _arrived(ref)
    login(ref.county_doctor)
    client.post(f"/referrals/{r.pk}/complete/", {"outcome": "5"})
    r.refresh_from_db()
    assert (r.status, r.outcome, r.treatment_result) == ("completed", "5", "died")


def test_a_patient_who_never_came_ends_as_a_no_show(ref, client, login, sent):
    r = services.accept_referral(up(ref).pk, actor=as_(ref.desk))
    login(ref.township_doctor)
    assert client.post(f"{API}/{r.pk}/no-show").status_code == 403  # only the receiving side records it
    login(ref.county_doctor)
    assert client.post(f"{API}/{r.pk}/no-show").json()["status"] == "no_show"
    assert ref.township_doctor.notifications.filter(kind="referral_no_show").exists()
    other = services.accept_referral(up(ref).pk, actor=as_(ref.desk))
    assert services.expire_stale(now=other.answered_at + dt.timedelta(days=8)) == 1
    other.refresh_from_db()
    assert other.status == "no_show" and other.closed_at is not None


# ---- down-referral SLA and follow-ups --------------------------------------------------------------------------

def test_a_down_referral_has_its_own_sla_and_escalates_to_the_clinic_and_the_township(ref, sent):
    down = _down(ref, _arrived(ref))
    assert down.due_at - down.submitted_at == dt.timedelta(hours=ref.center.sla_down_hours)
    assert Job.objects.filter(kind="referral_escalate", key=f"referral:{down.pk}").exists()
    run_due(now=down.submitted_at + dt.timedelta(hours=25))
    down.refresh_from_db()
    assert down.escalated_at is not None and down.status == "submitted"
    for user in (ref.village_doctor, ref.township_doctor, ref.county_doctor, ref.supervisor):
        assert user.notifications.filter(kind="referral_overdue").exists(), user


def test_the_72_hour_expiry_never_closes_a_down_referral_with_pending_follow_ups(ref):
    down = _down(ref, _arrived(ref))
    assert services.expire_stale(now=down.submitted_at + dt.timedelta(hours=80)) == 0
    assert Referral.objects.get(pk=down.pk).status == "submitted"
    FollowUp.objects.filter(referral=down).update(status="missed")
    assert services.expire_stale(now=down.submitted_at + dt.timedelta(hours=80)) == 1


def test_an_up_referral_from_the_township_schedules_a_follow_up_two_weeks_later(ref, client, login):
    r = up(ref)
    fu = r.follow_ups.get(kind="after_up")
    assert fu.due_date == timezone.localdate() + dt.timedelta(days=14)
    with pytest.raises(NotFound):  # the sending side follows up, not the hospital
        services.record_follow_up(r.pk, fu.pk, note="x", actor=as_(ref.county_doctor))
    FollowUp.objects.filter(pk=fu.pk).update(due_date=timezone.localdate() - dt.timedelta(days=1))
    login(ref.township_doctor)
    page = client.get("/referrals/?box=todo").content.decode()
    assert 'data-testid="follow-up-overdue"' in page and 'data-testid="overdue-follow-up-count"' in page
    assert queries.overdue_follow_up_count(ref.township_doctor) == 1
    client.post(f"/referrals/{r.pk}/follow-ups/{fu.pk}/", {"note": "已住院，病情稳定", "status": "done"})
    fu.refresh_from_db()
    assert fu.status == "done" and fu.done_by == ref.township_doctor


def test_overdue_follow_ups_are_marked_in_the_api(ref, client, login):
    down = _down(ref, _arrived(ref))
    FollowUp.objects.filter(referral=down).update(due_date=timezone.localdate() - dt.timedelta(days=3))
    login(ref.village_doctor)
    fus = client.get(f"{API}/{down.pk}").json()["follow_ups"]
    assert fus and all(f["is_overdue"] for f in fus)


# ---- printable sheet -------------------------------------------------------------------------------------------

def test_the_printable_sheet_carries_the_referral_number_and_its_qr_code(ref, client, login):
    r = up(ref)
    login(ref.township_doctor)
    a4 = client.get(f"/referrals/{r.pk}/print/").content.decode()
    assert r.number in a4 and "<svg" in a4 and "size: A4" in a4 and "双向转诊（上转）单" in a4
    thermal = client.get(f"/referrals/{r.pk}/print/?size=80mm").content.decode()
    assert "size: 80mm auto" in thermal
    assert "<svg" in client.get(f"{API}/{r.pk}/print", {"size": "80mm"}).content.decode()
    svg = client.get(f"{API}/{r.pk}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml" and svg.content.startswith(b"<svg")
    login(ref.outsider)
    assert client.get(f"/referrals/{r.pk}/print/").status_code == 404


# ---- booking from capacity -------------------------------------------------------------------------------------

def test_accepting_books_a_free_slot_and_bed_of_the_department_not_a_typed_one(ref, client, login):
    neuro = Department.objects.create(facility=ref.county_hospital, code="03", name="神经内科", beds=2)
    DepartmentCapacity.objects.create(department=neuro, daily_slots=2)
    first, second = up(ref), up(ref)
    cap = queries.capacity_of(neuro)
    assert cap.beds == ["1床", "2床"] and len(cap.slots) >= 2
    with pytest.raises(InvalidInput) as e:
        services.accept_referral(first.pk, department=neuro.pk, appointment_at="2026-12-25T03:17", bed="神经内科 12床",
                                 actor=as_(ref.desk))
    assert set(e.value.errors) == {"appointment_at", "bed"}
    services.accept_referral(first.pk, department=neuro.pk, appointment_at=cap.slots[0].isoformat(), bed="1床",
                             actor=as_(ref.desk))
    left = queries.capacity_of(neuro)
    assert cap.slots[0] not in left.slots and left.beds == ["2床"]
    login(ref.desk)
    api = client.get(f"{API}/{second.pk}/capacity", {"department": neuro.pk}).json()
    assert api["beds"] == ["2床"] and len(api["slots"]) == len(left.slots)
    html = client.get(f"/referrals/{second.pk}/capacity/", {"department": neuro.pk}).content.decode()
    assert 'data-testid="appointment"' in html and "2床" in html and "1床" not in html
    r = client.post(f"{API}/{second.pk}/accept", {"department": neuro.pk, "bed": "1床"},
                    content_type="application/json")
    assert r.status_code == 422 and "空床" in r.json()["errors"]["bed"][0]


# ---- outside the county: 转外就医备案 ------------------------------------------------------------------------

def test_a_referral_outside_the_county_records_the_insurance_filing_that_sets_the_rate(ref, client, login):
    login(ref.township_doctor)
    body = {"resident": ref.resident.pk, "to_external": "湘雅医院", "to_level": "province", "icd10": "C34.9",
            "reason": "需胸腔镜手术", "urgency": "urgent", "meets_up_criteria": True,
            "insurance_filing_no": "ZWJY4311272026000123", "insurance_target_code": "H43010200001"}
    bad = client.post(API, {**body, "insurance_target_code": "43010200001"}, content_type="application/json")
    assert bad.status_code == 422 and "insurance_target_code" in bad.json()["errors"]
    r = client.post(API, body, content_type="application/json").json()
    assert r["insurance_filing_no"] == "ZWJY4311272026000123" and r["insurance_target_code"] == "H43010200001"
    page = client.get(f"/referrals/{r['id']}/").content.decode()
    assert "已办理转外就医备案" in page and "ZWJY4311272026000123" in page
    unfiled = client.post(API, {**body, "insurance_filing_no": "", "insurance_target_code": ""},
                          content_type="application/json").json()
    assert "未办理转外就医备案" in client.get(f"/referrals/{unfiled['id']}/").content.decode()


def test_the_center_records_the_filing_when_it_redirects_outside_the_county(ref, client, login):
    r = up(ref)
    login(ref.desk)
    client.post(f"/referrals/{r.pk}/redirect/", {
        "to_external": "永州市中心医院", "to_level": "city", "reason": "需介入取栓",
        "insurance_filing_no": "ZW2026-77", "insurance_target_code": "h43110200001"})
    r.refresh_from_db()
    assert (r.status, r.insurance_filing_no, r.insurance_target_code) == ("redirected", "ZW2026-77", "H43110200001")


def test_the_page_form_refuses_an_orange_pregnancy_to_the_township(ref, client, login):
    login(ref.village_doctor)
    form = {"resident": ref.resident.pk, "direction": "up", "urgency": "urgent", "to_facility": ref.township_center.pk,
            "icd10": "O14.1", "diagnosis": "妊娠期高血压", "reason": "血压 160/110", "pregnancy_risk": "orange",
            "idempotency_key": "preg-1"}
    page = client.post("/referrals/new/", form).content.decode()
    assert 'data-testid="error-to_facility"' in page and "县级及以上" in page and 'value="orange" selected' in page
    assert client.post("/referrals/new/", {**form, "to_facility": ref.county_hospital.pk}).status_code == 302
    assert Referral.objects.get(idempotency_key="preg-1").pregnancy_risk == "orange"


def test_the_live_check_and_the_api_give_the_same_advice_from_one_service(ref, client, login):
    login(ref.county_doctor)
    page = client.get("/referrals/new/guideline/", {"icd10": "I21.0", "direction": "down",
                                                    "to_facility": ref.village_clinic.pk}).content.decode()
    assert "green-channel" not in page  # sent down, a heart attack is no green-channel case
    down = client.get(f"{API}/guideline", {"icd10": "I21.0", "direction": "down", "to_level": "village"}).json()
    assert down["green_channel"] == ""
    assert client.get(f"{API}/guideline", {"icd10": "I21.0"}).json()["green_channel"]
    outside = client.get(f"{API}/guideline", {"icd10": "I63.9", "to_level": "moon"})
    assert outside.status_code == 422 and outside.json()["code"] == "invalid_level"
    # an outside hospital of no stated level is advised as the city's
    assert services.destination_level("up", to_external="湘雅医院") == "city"
    assert services.destination_level("up", to_facility=str(ref.county_hospital.pk)) == "county"
    assert services.destination_level("down") == "township"
    with pytest.raises(InvalidInput) as e:
        services.guideline_advice(None, "I63.9", "up", "county")
    assert e.value.code == "no_facility"
