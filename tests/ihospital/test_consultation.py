"""Follow-up only, the doctor's queue and the shared record, the e-prescription through the prescribing app, the
pharmacist's review, dispensing at the county pharmacy and the delivery the resident sees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.cast import as_
from tests.ihospital.world import amlodipine, ask, principal_for
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.models import AuditEvent, Job, Notification
from yigongti.ihospital import eligibility, queries, services
from yigongti.ihospital import workflow as wf
from yigongti.ihospital.models import Delivery, OnlineConsultation
from yigongti.prescribing.models import Prescription

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
TODAY = dt.date(2026, 6, 1)


# ---- pure rules --------------------------------------------------------------------------------------------

def test_only_diagnoses_of_the_last_twelve_months_are_offered_once_each_from_their_latest_visit():
    rows = [eligibility.Row(1, TODAY - dt.timedelta(days=300), 7, "塔峰镇卫生院", "I10", "高血压"),
            eligibility.Row(2, TODAY - dt.timedelta(days=30), 7, "塔峰镇卫生院", "i10", "高血压"),
            eligibility.Row(3, TODAY - dt.timedelta(days=400), 8, "县医院", "J45.9", "哮喘"),
            eligibility.Row(4, TODAY - dt.timedelta(days=10), 8, "县医院", "", "")]
    out = eligibility.eligible(rows, TODAY)
    assert [(e.icd10, e.encounter_id) for e in out] == [("I10", 2)]
    assert eligibility.find(out, 2, "i10") is not None and eligibility.find(out, 3, "J45.9") is None


def test_the_workflow_table_allows_only_its_moves():
    assert wf.check_move("requested", "accept") == "accepted"
    assert wf.check_move("prescribed", "reply") == "prescribed"
    with pytest.raises(Conflict):
        wf.check_move("closed", "reply")
    with pytest.raises(InvalidInput):
        wf.check_move("requested", "decline")  # a reason is needed
    assert wf.allowed("requested", "resident") == ["cancel"]
    now = timezone.now()
    assert wf.grants_record("closed", now - dt.timedelta(days=3), now)
    assert not wf.grants_record("closed", now - dt.timedelta(days=8), now)
    assert not wf.grants_record("declined", None, now)
    with pytest.raises(Conflict):
        wf.check_delivery_move("pending", "deliver", "clinic")


# ---- the resident asks ---------------------------------------------------------------------------------------

def test_a_resident_without_an_offline_diagnosis_is_refused_with_the_reason(cast):
    with pytest.raises(InvalidInput) as e:
        services.request_consultation(principal_for(cast.resident), {"encounter": 1, "icd10": "I10", "question": "?"})
    assert e.value.code == "not_follow_up" and "复诊" in e.value.message


def test_an_old_or_anothers_diagnosis_is_not_eligible(ih):
    p = principal_for(ih.c.resident)
    with pytest.raises(InvalidInput):
        services.request_consultation(p, {"encounter": ih.old.pk, "icd10": "J45.9", "question": "喘"})
    with pytest.raises(InvalidInput):  # the neighbour cannot ask about 李建国's visit
        services.request_consultation(principal_for(ih.c.neighbour),
                                      {"encounter": ih.visit.pk, "icd10": "I10", "question": "?"})
    assert {e.icd10 for e in queries.eligible_diagnoses(ih.c.resident)} == {"I10", "E11.9"}


def test_the_request_goes_to_the_township_center_that_diagnosed_it_with_pictures(ih):
    c = ask(ih, files=[PNG])
    assert c.facility_id == ih.c.township_center.pk and c.status == "requested"
    assert c.messages.get().pictures.get().content_type == "image/png"
    assert Notification.objects.filter(recipient=ih.c.township_doctor, kind=services.KIND_NEW).exists()
    with pytest.raises(Conflict):  # one open request per diagnosis
        ask(ih)


def test_pictures_must_be_images_within_the_limit(ih, settings):
    with pytest.raises(InvalidInput) as e:
        ask(ih, files=[b"%PDF-1.4 not a picture"])
    assert e.value.code == "file_type"
    settings.YIGONGTI_IHOSPITAL_IMAGE_MB = 0.0001
    with pytest.raises(InvalidInput) as e:
        ask(ih, files=[PNG + b"\x00" * 200])
    assert e.value.code == "file_too_large"


def test_a_resident_sees_only_their_own_consultations(ih):
    c = ask(ih)
    with pytest.raises(NotFound):
        queries.my_consultation(principal_for(ih.c.neighbour), c.pk)
    with pytest.raises(NotFound):
        services.send_message(principal_for(ih.c.neighbour), c.pk, "hi")
    assert AuditEvent.objects.filter(action="denied", object_type="online_consultation").exists()


# ---- the doctor --------------------------------------------------------------------------------------------

def test_only_a_doctor_of_the_answering_facility_may_consult(ih):
    c = ask(ih)
    with pytest.raises(Forbidden):
        services.accept_consultation(as_(ih.c.county_doctor), c)
    with pytest.raises(NotFound):  # and the county doctor does not even see it
        queries.get_consultation_for(as_(ih.c.county_doctor), c.pk)
    with pytest.raises(NotFound):
        queries.get_consultation_for(as_(ih.c.outsider), c.pk)
    assert [x.pk for x in queries.queue(as_(ih.c.township_doctor))] == [c.pk]


def test_the_consultation_grants_the_shared_record_audited(ih):
    c = ask(ih)
    doctor = as_(ih.c.township_doctor)
    record = queries.shared_record(doctor, queries.get_consultation_for(doctor, c.pk))
    assert {e.pk for e in record} == {ih.visit.pk}
    assert AuditEvent.objects.filter(action="list", object_type="encounter", actor="township_doctor").exists()


def test_the_record_through_the_consultation_is_marked_when_outside_the_doctors_scope(ih):
    from yigongti.ihospital.models import OnlineConsultation

    c = ask(ih)
    OnlineConsultation.objects.filter(pk=c.pk).update(facility=ih.c.other_center)  # a doctor outside the township
    from tests.cast import _account
    from yigongti.orgs.models import Profession, Role

    other = _account("other_doc", Role.DOCTOR, ih.c.other_center, profession=Profession.PHYSICIAN)
    actor = as_(other)
    got = queries.get_consultation_for(actor, c.pk)
    assert queries.shared_record(actor, got) is not None
    assert AuditEvent.objects.filter(actor="other_doc", detail__via_online_consultation=c.pk).exists()
    services.decline_consultation(actor, got, "需线下就诊")
    got.refresh_from_db()
    assert queries.shared_record(actor, got) is None  # a declined request grants nothing


def test_follow_up_becomes_a_reviewed_dispensed_delivered_prescription(ih, django_capture_on_commit_callbacks):
    from yigongti.ihospital.sms import MemorySmsSender

    c = ask(ih)
    doctor, pharmacist = as_(ih.c.township_doctor), as_(ih.pharmacist)
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(doctor, c, "请继续服药", "https://meet.example.cn/room/1")
    phone, text = MemorySmsSender.sent[-1]
    assert phone == ih.c.resident.phone and "回复" in text and "I10" not in text and "高血压" not in text
    c.refresh_from_db()
    assert c.status == "in_consultation" and c.first_reply_at and c.video_url.startswith("https://")
    lines = [dict(amlodipine(ih)[0], days=14, quantity=1)]  # over 7 days: the rule pack sends it to review
    rx = services.prescribe(doctor, c, {"lines": lines})
    c.refresh_from_db()
    assert c.status == "prescribed" and c.prescription_ref == rx.pk
    assert rx.source == "ihospital" and rx.source_ref == f"consultation:{c.pk}" and rx.status == "review_pending"
    d = Delivery.objects.get(consultation=c)
    assert d.status == "pending" and d.clinic_id == ih.c.village_clinic.pk
    with pytest.raises(Conflict):
        services.dispense(pharmacist, c)  # waits for the pharmacist
    services.review(pharmacist, c, "approve")
    services.dispense(pharmacist, c)
    assert Prescription.objects.get(pk=rx.pk).status == "dispensed"
    d.refresh_from_db()
    assert d.from_facility_id == ih.c.county_hospital.pk and d.dispensed_at
    with pytest.raises(Forbidden):
        services.move_delivery(as_(ih.c.village_doctor), d, "ship")
    services.move_delivery(pharmacist, d, "ship")
    d = services.move_delivery(as_(ih.c.village_doctor), d, "deliver")
    again = services.move_delivery(as_(ih.c.village_doctor), d, "deliver")  # a flaky network's second tap
    assert again.delivered_at == d.delivered_at and again.status == "delivered"
    services.move_delivery(as_(ih.c.village_doctor), d, "pick_up")
    c.refresh_from_db()
    assert c.status == "closed"
    steps = queries.timeline(Delivery.objects.get(pk=d.pk))
    assert all(when is not None for _label, when in steps)
    with pytest.raises(Forbidden):  # the other village's doctor cannot touch it
        services.move_delivery(as_(ih.c.other_village_doctor), d, "deliver")


def test_a_home_delivery_needs_an_address_and_closes_when_delivered(ih):
    c = ask(ih)
    with pytest.raises(Conflict):  # a request must be accepted before a prescription
        services.prescribe(as_(ih.c.township_doctor), c, {"lines": amlodipine(ih)})
    services.accept_consultation(as_(ih.c.township_doctor), c)
    rx = services.prescribe(as_(ih.c.township_doctor), c, {"lines": amlodipine(ih)})
    assert rx.status == "submitted"  # seven days of one drug: dispensable without review
    p = principal_for(ih.c.resident)
    with pytest.raises(InvalidInput):
        services.choose_delivery(p, c.pk, "home", "")
    d = services.choose_delivery(p, c.pk, "home", "大塘村 3 组 12 号")
    services.dispense(as_(ih.pharmacist), c)
    services.move_delivery(as_(ih.pharmacist), d, "ship")
    services.move_delivery(as_(ih.pharmacist), d, "deliver")
    c.refresh_from_db()
    assert c.status == "closed"
    with pytest.raises(Conflict):
        services.choose_delivery(p, c.pk, "clinic")


def test_requests_nobody_accepted_expire(ih):
    c = ask(ih)
    assert services.expire_overdue(timezone.now() + dt.timedelta(hours=wf.EXPIRE_HOURS + 1)) == 1
    c.refresh_from_db()
    assert c.status == "expired"


def test_the_indicators_count_consultations_response_and_delivery_times(ih):
    from yigongti.ihospital import indicators
    from yigongti.indicators.definitions import INDICATORS
    from yigongti.indicators.periods import Period
    from yigongti.indicators.queries import Area

    t0 = timezone.now() - dt.timedelta(hours=5)
    c = ask(ih)
    from yigongti.ihospital.models import OnlineConsultation

    OnlineConsultation.objects.filter(pk=c.pk).update(requested_at=t0)
    services.reply(as_(ih.c.township_doctor), c, "好的", now=t0 + dt.timedelta(minutes=30))
    services.prescribe(as_(ih.c.township_doctor), c, {"lines": amlodipine(ih)})
    services.dispense(as_(ih.pharmacist), c, now=t0 + dt.timedelta(hours=1))
    d = Delivery.objects.get(consultation=c)
    services.move_delivery(as_(ih.pharmacist), d, "ship", now=t0 + dt.timedelta(hours=2))
    services.move_delivery(as_(ih.c.village_doctor), d, "deliver", now=t0 + dt.timedelta(hours=4))
    first, last = timezone.localtime(t0).strftime("%Y-%m"), timezone.localdate().strftime("%Y-%m")
    p = Period("month", first, last, last)  # (a run just after midnight on the 1st spans two months)
    county = ih.c.county
    area = Area("county", county.code, county.name, county.prefix)
    assert {"IH_CONSULTS", "IH_RESPONSE_MIN", "IH_DELIVERY_H"} <= set(INDICATORS)
    assert indicators.consults(area, p).value == 1
    assert indicators.response_minutes(area, p).value == Decimal("30.0")
    assert indicators.delivery_hours(area, p).value == Decimal("3.0")
    far = ih.c.far_county
    assert indicators.consults(Area("county", far.code, far.name, far.prefix), p).value == 0


def test_the_worker_expires_a_request_nobody_accepted(ih):
    from yigongti.core import jobs
    from yigongti.ihospital import jobs as ih_jobs

    c = ask(ih)
    OnlineConsultation.objects.filter(pk=c.pk).update(
        requested_at=timezone.now() - dt.timedelta(hours=wf.EXPIRE_HOURS + 1))
    jobs.discover()
    ih_jobs.schedule_expiry()
    ih_jobs.schedule_expiry()  # one job an hour, however many passes
    assert Job.objects.filter(kind=ih_jobs.EXPIRE_JOB).count() == 1
    assert jobs.run_due("test") == 1
    c.refresh_from_db()
    assert c.status == "expired"
