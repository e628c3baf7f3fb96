"""纳入管理: 35+, a confirmed diagnosis, one managed enrolment per condition, in the doctor's area; candidates from
encounters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.cast import as_
from yigongti.chronic.models import Condition, Enrolment, EnrolmentStatus
from yigongti.chronic.services import enrolment as svc
from yigongti.core.audit import AuditEvent
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.encounters.models import Diagnosis, Encounter

HTN, DM = Condition.HYPERTENSION, Condition.DIABETES


def encounter(resident, facility, icd10, on, main=True):
    e = Encounter.objects.create(resident=resident, area_code=resident.area_code, residence_county="431127",
                                 facility=facility, type="outpatient", admit_date=on,
                                 main_icd10=icd10 if main else "J06.9", main_diagnosis="诊断",
                                 total_cost=0, drug_cost=0, material_cost=0, exam_cost=0, other_cost=0,
                                 insurance_paid=0, self_pay=0)
    if not main:
        Diagnosis.objects.create(encounter=e, seq=2, icd10=icd10, name="次要诊断")
    return e


def test_village_doctor_enrols_a_resident_of_their_village(care):
    cast = care.cast
    today = timezone.localdate()
    e = svc.enrol(as_(cast.village_doctor), care.grandfather, HTN, enrolled_on=today - dt.timedelta(days=3))
    assert (e.status, e.facility, e.village, e.doctor) == (EnrolmentStatus.MANAGED, cast.village_clinic,
                                                            cast.village, cast.village_doctor.staff)
    assert e.diagnosis_icd10 == "I10" and e.next_due == e.enrolled_on
    assert AuditEvent.objects.filter(object_type="chronic_enrolment", object_id=str(e.pk)).exists()


def test_a_resident_under_35_is_refused(care):
    with pytest.raises(InvalidInput) as exc:
        svc.enrol(as_(care.cast.village_doctor), care.mother, HTN)
    assert "resident" in exc.value.errors


def test_dates_in_the_future_or_a_diagnosis_after_enrolment_are_refused(care):
    today = timezone.localdate()
    with pytest.raises(InvalidInput) as exc:
        svc.enrol(as_(care.cast.village_doctor), care.grandfather, HTN, enrolled_on=today + dt.timedelta(days=1))
    assert "enrolled_on" in exc.value.errors
    with pytest.raises(InvalidInput) as exc:
        svc.enrol(as_(care.cast.village_doctor), care.grandfather, HTN, enrolled_on=today - dt.timedelta(days=5),
                  diagnosed_on=today)
    assert "diagnosed_on" in exc.value.errors


def test_a_diagnosis_code_of_another_condition_is_refused(care):
    with pytest.raises(InvalidInput) as exc:
        svc.enrol(as_(care.cast.village_doctor), care.grandfather, DM, icd10="I10")
    assert "icd10" in exc.value.errors


def test_one_managed_enrolment_per_condition_but_both_conditions_allowed(care):
    actor = as_(care.cast.village_doctor)
    svc.enrol(actor, care.grandmother, HTN)
    svc.enrol(actor, care.grandmother, DM)
    with pytest.raises(Conflict):
        svc.enrol(actor, care.grandmother, HTN)
    assert Enrolment.objects.filter(resident=care.grandmother).count() == 2


def test_another_villages_doctor_and_a_nurse_cannot_enrol(care):
    with pytest.raises(Forbidden):
        svc.enrol(as_(care.cast.other_village_doctor), care.grandfather, HTN)
    with pytest.raises(Forbidden):
        svc.enrol(as_(care.nurse), care.grandfather, HTN)


def test_enrolment_from_an_encounter_takes_its_date_and_code(care):
    cast = care.cast
    enc = encounter(care.grandfather, cast.township_center, "I11.900", timezone.localdate() - dt.timedelta(days=40))
    e = svc.enrol(as_(cast.township_doctor), care.grandfather, HTN, encounter=enc)
    assert (e.diagnosed_on, e.diagnosis_icd10, e.source_encounter) == (enc.admit_date, "I11.900", enc)
    assert e.facility == cast.township_center


def test_ending_an_enrolment_needs_a_reason_and_frees_the_condition(care):
    actor = as_(care.cast.village_doctor)
    e = svc.enrol(actor, care.grandfather, HTN, enrolled_on=timezone.localdate() - dt.timedelta(days=30))
    with pytest.raises(InvalidInput):
        svc.end_enrolment(actor, e, reason="bored")
    ended = svc.end_enrolment(actor, e, reason="moved")
    assert (ended.status, ended.end_reason, ended.next_due) == (EnrolmentStatus.ENDED, "moved", None)
    with pytest.raises(Conflict):
        svc.end_enrolment(actor, e, reason="moved")
    svc.enrol(actor, care.grandfather, HTN)  # managed again (e.g. came back)


def test_candidates_are_the_35_plus_with_a_diagnosis_in_encounters_not_yet_managed(care):
    cast = care.cast
    day = timezone.localdate() - dt.timedelta(days=10)
    encounter(care.grandfather, cast.township_center, "I10.x00", day)
    encounter(care.grandmother, cast.township_center, "E11.900", day, main=False)  # a secondary diagnosis
    encounter(care.mother, cast.township_center, "I10.x00", day)  # under 35
    encounter(cast.neighbour, cast.other_center, "I10.x00", day)  # another township
    found = {(c.resident_id, c.condition) for c in svc.candidates(as_(cast.village_doctor))}
    assert found == {(care.grandfather.pk, HTN), (care.grandmother.pk, DM)}
    svc.enrol(as_(cast.village_doctor), care.grandfather, HTN)
    found = {(c.resident_id, c.condition) for c in svc.candidates(as_(cast.village_doctor), condition=HTN)}
    assert found == set()
    assert AuditEvent.objects.filter(object_type="chronic_candidates").exists()


def test_candidates_need_the_public_health_read_right(care):
    with pytest.raises(Forbidden):
        svc.candidates(as_(care.cast.auditor))
