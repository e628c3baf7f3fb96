"""随访: the service refuses impossible readings and bad dates, asks to confirm unlikely ones, applies the 规范's
decision, keeps the ledger state on the enrolment and suggests a referral on the second uncontrolled visit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.cast import as_
from yigongti.chronic.models import Control, Decision, FollowUp
from yigongti.chronic.services import enrolment as enrol_svc
from yigongti.chronic.services import followups as svc
from yigongti.core.actor import Actor
from yigongti.core.audit import AuditEvent
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.referrals.models import Referral, Status
from yigongti.referrals.services import setup_center


def days_ago(n):
    return (timezone.localdate() - dt.timedelta(days=n)).isoformat()


@pytest.fixture
def center(care):
    """The community's referral center (where up-referrals go)."""
    return setup_center(care.cast.community, actor=Actor.system("test"), members=[care.cast.county_doctor])


@pytest.fixture
def enrolment(care):
    return enrol_svc.enrol(as_(care.cast.village_doctor), care.grandfather, "htn",
                           enrolled_on=timezone.localdate() - dt.timedelta(days=120))


@pytest.fixture
def dm_enrolment(care):
    return enrol_svc.enrol(as_(care.cast.village_doctor), care.grandmother, "t2dm",
                           enrolled_on=timezone.localdate() - dt.timedelta(days=120))


def test_a_controlled_visit_schedules_the_next_in_a_quarter_and_updates_the_ledger(care, enrolment):
    fu = svc.record_follow_up(as_(care.cast.village_doctor), enrolment, {
        "visit_date": days_ago(1), "sbp": "138", "dbp": "86", "heart_rate": "72", "weight_kg": "70",
        "height_cm": "170", "adherence": "regular", "medication": [{"name": "氨氯地平片", "dose": "5mg",
                                                                      "frequency": "qd"}]})
    assert (fu.control, fu.decision, fu.referral_id) == (Control.CONTROLLED, Decision.ROUTINE, None)
    assert str(fu.bmi) == "24.2" and fu.by == care.cast.village_doctor.staff
    enrolment.refresh_from_db()
    assert (enrolment.last_sbp, enrolment.last_dbp, enrolment.last_control) == (138, 86, Control.CONTROLLED)
    assert enrolment.next_due == fu.visit_date + dt.timedelta(days=90) == fu.next_visit_on
    assert enrolment.uncontrolled_streak == 0
    assert AuditEvent.objects.filter(object_type="chronic_follow_up", object_id=str(fu.pk)).exists()


def test_impossible_readings_are_refused_with_the_field_named_and_nothing_saved(care, enrolment):
    with pytest.raises(InvalidInput) as exc:
        svc.record_follow_up(as_(care.cast.village_doctor), enrolment, {"sbp": "300", "dbp": "20"})
    assert {"sbp", "dbp"} <= set(exc.value.errors)
    assert not FollowUp.objects.exists()


def test_impossible_glucose_is_refused(care, dm_enrolment):
    with pytest.raises(InvalidInput) as exc:
        svc.record_follow_up(as_(care.cast.village_doctor), dm_enrolment, {"fbg": "80"})
    assert "fbg" in exc.value.errors


def test_unlikely_readings_need_confirmation_then_start_the_urgent_path(care, enrolment):
    actor = as_(care.cast.village_doctor)
    data = {"visit_date": days_ago(0), "sbp": "200", "dbp": "120"}
    with pytest.raises(svc.Unlikely) as exc:
        svc.record_follow_up(actor, enrolment, data)
    assert exc.value.code == "unlikely_values" and {"sbp", "dbp"} <= set(exc.value.errors)
    assert not FollowUp.objects.exists()
    fu = svc.record_follow_up(actor, enrolment, data, confirm_unlikely=True)
    assert fu.unlikely_confirmed and fu.decision == Decision.URGENT and fu.referral_suggested
    assert "bp_urgent" in fu.reasons


def test_a_visit_before_enrolment_or_in_the_future_is_refused(care, enrolment):
    actor = as_(care.cast.village_doctor)
    for when in (days_ago(121), days_ago(-1)):
        with pytest.raises(InvalidInput) as exc:
            svc.record_follow_up(actor, enrolment, {"visit_date": when, "sbp": 130, "dbp": 80})
        assert "visit_date" in exc.value.errors


def test_hypertension_needs_blood_pressure_and_diabetes_glucose(care, enrolment, dm_enrolment):
    actor = as_(care.cast.village_doctor)
    with pytest.raises(InvalidInput) as exc:
        svc.record_follow_up(actor, enrolment, {"heart_rate": 70})
    assert {"sbp", "dbp"} <= set(exc.value.errors)
    with pytest.raises(InvalidInput) as exc:
        svc.record_follow_up(actor, dm_enrolment, {"sbp": 130, "dbp": 80})
    assert "fbg" in exc.value.errors


def test_second_uncontrolled_visit_suggests_a_draft_referral_up(care, enrolment, center):
    actor = as_(care.cast.village_doctor)
    first = svc.record_follow_up(actor, enrolment, {"visit_date": days_ago(20), "sbp": 156, "dbp": 94})
    assert first.decision == Decision.ADJUST and first.next_visit_on == first.visit_date + dt.timedelta(days=14)
    enrolment.refresh_from_db()
    assert enrolment.uncontrolled_streak == 1
    second = svc.record_follow_up(actor, enrolment, {"visit_date": days_ago(6), "sbp": 152, "dbp": 92})
    assert second.decision == Decision.REFER and second.referral_suggested
    assert "second_uncontrolled" in second.reasons
    ref = Referral.objects.get(pk=second.referral_id)
    assert (ref.status, ref.resident_id, ref.direction) == (Status.DRAFT, care.grandfather.pk, "up")
    enrolment.refresh_from_db()
    assert enrolment.uncontrolled_streak == 2 and enrolment.next_due == second.visit_date + dt.timedelta(days=14)


def test_an_urgent_referral_can_be_submitted_now_from_the_follow_up(care, enrolment, center):
    actor = as_(care.cast.village_doctor)
    fu = svc.record_follow_up(actor, enrolment, {"sbp": 186, "dbp": 112, "danger_signs": ["chest_pain"]})
    assert fu.decision == Decision.URGENT and fu.referral is not None
    ref = svc.submit_suggested_referral(actor, fu)
    assert ref.status == Status.SUBMITTED


def test_without_a_referral_center_the_referral_is_only_suggested(care, enrolment):
    actor = as_(care.cast.village_doctor)
    fu = svc.record_follow_up(actor, enrolment, {"sbp": 186, "dbp": 100})
    assert fu.referral_suggested and fu.referral_id is None and fu.decision == Decision.URGENT


def test_a_nurse_records_a_follow_up_but_a_referral_is_only_suggested(care, enrolment, center):
    svc.record_follow_up(as_(care.nurse), enrolment, {"visit_date": days_ago(20), "sbp": 156, "dbp": 94})
    fu = svc.record_follow_up(as_(care.nurse), enrolment, {"visit_date": days_ago(5), "sbp": 160, "dbp": 96})
    assert fu.referral_suggested and fu.decision == Decision.REFER and fu.referral_id is None


def test_another_villages_doctor_cannot_record(care, enrolment):
    with pytest.raises(Forbidden):
        svc.record_follow_up(as_(care.cast.other_village_doctor), enrolment, {"sbp": 130, "dbp": 80})


def test_a_retry_with_the_same_key_returns_the_first_follow_up(care, enrolment):
    actor = as_(care.cast.village_doctor)
    data = {"visit_date": days_ago(2), "sbp": 130, "dbp": 80}
    a = svc.record_follow_up(actor, enrolment, data, idempotency_key="k1")
    b = svc.record_follow_up(actor, enrolment, data, idempotency_key="k1")
    assert a.pk == b.pk and FollowUp.objects.count() == 1


def test_a_visit_entered_late_does_not_move_the_ledger_back(care, enrolment):
    actor = as_(care.cast.village_doctor)
    svc.record_follow_up(actor, enrolment, {"visit_date": days_ago(3), "sbp": 130, "dbp": 80})
    late = svc.record_follow_up(actor, enrolment, {"visit_date": days_ago(60), "sbp": 150, "dbp": 95})
    assert late.decision == Decision.ADJUST
    enrolment.refresh_from_db()
    assert enrolment.last_sbp == 130 and enrolment.last_control == Control.CONTROLLED


def test_an_ended_enrolment_takes_no_follow_up(care, enrolment):
    actor = as_(care.cast.village_doctor)
    enrol_svc.end_enrolment(actor, enrolment, reason="died")
    with pytest.raises(Conflict):
        svc.record_follow_up(actor, enrolment, {"sbp": 130, "dbp": 80})


def test_unknown_codes_and_a_pregnant_man_are_refused(care, enrolment):
    with pytest.raises(InvalidInput) as exc:
        svc.record_follow_up(as_(care.cast.village_doctor), enrolment, {
            "sbp": 130, "dbp": 80, "danger_signs": ["xx"], "symptoms": ["yy"], "pregnant": True, "salt": "lots"})
    assert {"danger_signs", "symptoms", "pregnant", "salt"} <= set(exc.value.errors)


def test_preview_decides_without_writing(care, enrolment):
    outcome, warnings = svc.preview(enrolment, {"sbp": "182", "dbp": "100"})
    assert outcome.decision == Decision.URGENT and not warnings
    assert not FollowUp.objects.exists()


def test_a_follow_up_counts_as_a_delivered_contract_service(care, enrolment):
    from yigongti.familydoctor.models import Contract, ServiceDelivery

    today = timezone.localdate()
    contract = Contract.objects.create(number="QY-T-0001", resident=care.grandfather, team=care.team,
                                       package=care.basic, village=care.cast.village, signed_on=today,
                                       start=today - dt.timedelta(days=30), end=today + dt.timedelta(days=334))
    fu = svc.record_follow_up(as_(care.cast.village_doctor), enrolment, {"sbp": 130, "dbp": 80})
    d = ServiceDelivery.objects.get(source="chronic", source_id=f"followup:{fu.pk}")
    assert (d.contract, d.service, d.delivered_on) == (contract, care.services["FU"], fu.visit_date)


def test_due_list_is_refreshed_after_commit(care, enrolment, django_capture_on_commit_callbacks, monkeypatch):
    calls = []
    monkeypatch.setattr("yigongti.familydoctor.due.refresh_resident", lambda rid, today=None: calls.append(rid))
    with django_capture_on_commit_callbacks(execute=True):
        svc.record_follow_up(as_(care.cast.village_doctor), enrolment, {"sbp": 130, "dbp": 80})
    assert calls == [care.grandfather.pk]


def test_two_visits_on_one_day_with_different_keys_are_both_kept(care, enrolment):
    actor = as_(care.cast.village_doctor)
    data = {"visit_date": days_ago(2), "sbp": 150, "dbp": 95}
    a = svc.record_follow_up(actor, enrolment, data, idempotency_key="morning")
    b = svc.record_follow_up(actor, enrolment, {**data, "sbp": 138, "dbp": 85}, idempotency_key="afternoon")
    assert a.pk != b.pk and FollowUp.objects.count() == 2
