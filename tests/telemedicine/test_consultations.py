"""Remote consultation: a township doctor asks, the consultation center schedules, the specialist answers; the
consultation grants the specialist the resident's shared record (audited) while open and a week after."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.cast import _account, as_
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.models import AuditEvent, Notification
from yigongti.orgs.models import Profession, Role
from yigongti.telemedicine import consultations as svc
from yigongti.telemedicine.attachments import Upload
from yigongti.telemedicine.models import Attachment, CenterMember, Consultation, ConsultationStatus
from yigongti.telemedicine.queries import consultations as queries

pytestmark = pytest.mark.django_db

S = ConsultationStatus
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF"


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.YIGONGTI_TM_ATTACHMENT_DIR = tmp_path / "tm"


@pytest.fixture
def cons(centers):
    """The cast and its centers, a nurse at the consultation desk, and a member specialist who works at the other
    township's center (whose own scope does not hold the cast's resident)."""
    c = centers.cast
    desk = _account("consult_desk", Role.NURSE, c.county_hospital, profession=Profession.NURSE)
    CenterMember.objects.create(center=centers.consultation, user=desk)
    far = _account("visiting_expert", Role.DOCTOR, c.other_center, profession=Profession.PHYSICIAN)
    CenterMember.objects.create(center=centers.consultation, user=far)
    return SimpleNamespace(cast=c, centers=centers, desk=desk, far=far, specialist=c.county_doctor)


def _request(cons, by=None, **extra):
    c = cons.cast
    data = {"resident": c.resident.pk, "item": cons.centers.items["CONS-CARD"].pk, "urgency": "urgent",
            "question": "反复胸闷1月，心电图 T 波改变，是否需冠脉造影？", "summary": "66岁男性，高血压10年。", **extra}
    return svc.request_consultation(data, files=[Upload("ecg.png", PNG)], actor=as_(by or c.township_doctor))


def _schedule(cons, consultation, specialist=None, at=None):
    at = at or timezone.now() + dt.timedelta(hours=2)
    return svc.schedule_consultation(consultation.pk, {"specialist": (specialist or cons.specialist).pk,
                                                       "scheduled_at": at.isoformat(),
                                                       "video_url": "https://meet.lanshan.example/r/123"},
                                     actor=as_(cons.desk))


# ---- the rules, pure -------------------------------------------------------------------------------------

def test_the_grant_runs_while_open_and_a_week_after_the_opinion_only():
    now = timezone.now()
    assert svc.grants_record(S.REQUESTED, None, now) and svc.grants_record(S.SCHEDULED, None, now)
    assert svc.grants_record(S.ANSWERED, now - dt.timedelta(days=6, hours=23), now)
    assert not svc.grants_record(S.ANSWERED, now - dt.timedelta(days=7, minutes=1), now)
    assert not svc.grants_record(S.CANCELLED, None, now) and not svc.grants_record(S.DECLINED, None, now)


def test_closed_consultations_cannot_move_and_unsafe_links_are_refused():
    assert svc.check_move(S.REQUESTED, "schedule") == S.SCHEDULED
    assert svc.check_move(S.SCHEDULED, "schedule") == S.SCHEDULED  # rescheduling
    for status in (S.ANSWERED, S.CANCELLED, S.DECLINED):
        with pytest.raises(Conflict):
            svc.check_move(status, "answer")
    for bad in ("javascript:alert(1)", "file:///etc/passwd", "meet.example", "https://"):
        with pytest.raises(InvalidInput):
            svc.check_video_url(bad)
    assert svc.check_video_url(" https://meet.example/x ") == "https://meet.example/x"


# ---- requesting ------------------------------------------------------------------------------------------

def test_township_doctor_requests_a_consultation_with_a_file_and_the_center_is_told(cons):
    c = cons.cast
    con = _request(cons)
    assert con.accession_no.startswith("C") and con.status == S.REQUESTED
    assert con.center == cons.centers.consultation and con.facility == c.township_center
    assert con.area_code == c.resident.area_code
    a = Attachment.objects.get(consultation=con)
    assert a.content_type == "image/png" and a.name == "ecg.png" and a.size == len(PNG)
    for member in (cons.desk, cons.centers.reader, cons.far):
        assert Notification.objects.filter(recipient=member, kind=svc.KIND_REQUESTED).exists()
    assert AuditEvent.objects.filter(object_type="consultation", action="create", object_id=str(con.pk)).exists()


def test_a_retry_with_the_same_key_returns_the_first_request(cons):
    c = cons.cast
    data = {"resident": c.resident.pk, "question": "会诊"}
    first = svc.request_consultation(data, "k-1", actor=as_(c.township_doctor))
    again = svc.request_consultation(data, "k-1", actor=as_(c.township_doctor))
    assert first.pk == again.pk and Consultation.objects.count() == 1


def test_village_doctor_cannot_ask_about_another_villages_resident(cons):
    c = cons.cast
    with pytest.raises(NotFound):
        svc.request_consultation({"resident": c.neighbour.pk, "question": "会诊"}, actor=as_(c.village_doctor))
    with pytest.raises(Forbidden):
        svc.request_consultation({"resident": c.resident.pk, "question": "会诊"}, actor=as_(c.manager))


def test_bad_requests_name_the_field(cons):
    c = cons.cast
    with pytest.raises(InvalidInput) as e:
        svc.request_consultation({"resident": c.resident.pk, "question": "  "}, actor=as_(c.township_doctor))
    assert e.value.field == "question"
    with pytest.raises(InvalidInput) as e:
        svc.request_consultation({"resident": c.resident.pk, "question": "会诊"},
                                 files=[Upload("x.png", b"MZ\x90\x00 an executable")], actor=as_(c.township_doctor))
    assert e.value.field == "files" and "x.png" in e.value.message
    with pytest.raises(InvalidInput) as e:
        svc.request_consultation({"resident": c.resident.pk, "question": "会诊", "urgency": "asap"},
                                 actor=as_(c.township_doctor))
    assert e.value.field == "urgency"
    with pytest.raises(InvalidInput) as e:
        svc.request_consultation({"resident": "abc", "question": "会诊"}, actor=as_(c.township_doctor))
    assert e.value.field == "resident"
    assert not Consultation.objects.exists() and not Attachment.objects.exists()


# ---- scheduling and answering --------------------------------------------------------------------------------

def test_the_center_schedules_and_the_requester_and_the_specialist_are_told(cons):
    c = cons.cast
    con = _schedule(cons, _request(cons))
    assert con.status == S.SCHEDULED and con.specialist == cons.specialist
    assert con.video_url.startswith("https://")
    for who in (c.township_doctor, cons.specialist):
        n = Notification.objects.get(recipient=who, kind=svc.KIND_SCHEDULED)
        assert n.url == f"/centers/consultations/{con.pk}/"
    again = _schedule(cons, con, specialist=cons.centers.reviewer)  # rescheduled to another specialist
    assert again.specialist == cons.centers.reviewer


def test_only_the_center_schedules_and_only_doctors_of_its_hospital_are_invited(cons):
    c = cons.cast
    con = _request(cons)
    at = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    with pytest.raises(Forbidden):
        svc.schedule_consultation(con.pk, {"specialist": cons.specialist.pk, "scheduled_at": at},
                                  actor=as_(c.township_doctor))
    with pytest.raises(InvalidInput) as e:
        svc.schedule_consultation(con.pk, {"specialist": c.township_doctor.pk, "scheduled_at": at},
                                  actor=as_(cons.desk))
    assert e.value.field == "specialist"
    with pytest.raises(InvalidInput) as e:
        svc.schedule_consultation(con.pk, {"specialist": cons.specialist.pk, "scheduled_at": "2020-01-01T08:00"},
                                  actor=as_(cons.desk))
    assert e.value.field == "scheduled_at"
    with pytest.raises(InvalidInput) as e:
        svc.schedule_consultation(con.pk, {"specialist": cons.specialist.pk, "scheduled_at": at,
                                           "video_url": "javascript:alert(1)"}, actor=as_(cons.desk))
    assert e.value.field == "video_url"
    assert Consultation.objects.get(pk=con.pk).status == S.REQUESTED


def test_the_specialist_answers_and_the_requester_reads_the_opinion_in_the_inbox(cons):
    c = cons.cast
    con = _schedule(cons, _request(cons))
    with pytest.raises(Forbidden):
        svc.answer_consultation(con.pk, "建议转诊", actor=as_(cons.centers.reviewer))  # not the invited one
    with pytest.raises(InvalidInput):
        svc.answer_consultation(con.pk, " ", actor=as_(cons.specialist))
    done = svc.answer_consultation(con.pk, "考虑不稳定型心绞痛，建议上转行冠脉造影。", actor=as_(cons.specialist))
    assert done.status == S.ANSWERED and done.answered_at is not None
    n = Notification.objects.get(recipient=c.township_doctor, kind=svc.KIND_ANSWERED)
    assert c.resident.name in n.title and "冠脉造影" in n.body
    with pytest.raises(Conflict):
        svc.answer_consultation(con.pk, "再次", actor=as_(cons.specialist))


def test_the_center_director_may_answer_in_writing_without_a_meeting(cons):
    con = _request(cons)
    done = svc.answer_consultation(con.pk, "书面意见：继续观察。", actor=as_(cons.centers.reader))
    assert done.status == S.ANSWERED and done.specialist == cons.centers.reader


def test_cancel_and_decline_need_a_reason_and_close_the_consultation(cons):
    c = cons.cast
    con = _request(cons)
    with pytest.raises(InvalidInput):
        svc.cancel_consultation(con.pk, "", actor=as_(c.township_doctor))
    with pytest.raises(Forbidden):
        svc.cancel_consultation(con.pk, "不需要了", actor=as_(c.other_village_doctor))
    gone = svc.cancel_consultation(con.pk, "患者已自行前往县医院", actor=as_(c.township_doctor))
    assert gone.status == S.CANCELLED and gone.closed_reason == "患者已自行前往县医院"
    other = _request(cons)
    back = svc.decline_consultation(other.pk, "请按胸痛绿色通道直接转诊", actor=as_(cons.desk))
    assert back.status == S.DECLINED
    assert Notification.objects.filter(recipient=c.township_doctor, kind=svc.KIND_CLOSED).exists()
    with pytest.raises(Conflict):
        _schedule(cons, back)


# ---- who reads what ------------------------------------------------------------------------------------

def test_the_specialist_outside_the_scope_reads_the_record_through_the_consultation_audited(cons):
    con = _schedule(cons, _request(cons), specialist=cons.far)
    actor = as_(cons.far)
    seen = queries.get_consultation_for(actor, con.pk)
    assert AuditEvent.objects.filter(actor="visiting_expert", object_type="resident", action="view",
                                     detail__via_consultation=con.pk).exists()
    shared = queries.shared_record(actor, seen)
    assert shared is not None
    assert AuditEvent.objects.filter(actor="visiting_expert", object_type="encounter", action="list",
                                     detail__via_consultation=con.pk).exists()
    svc.answer_consultation(con.pk, "意见", actor=actor)
    Consultation.objects.filter(pk=con.pk).update(answered_at=timezone.now() - dt.timedelta(days=8))
    later = queries.get_consultation_for(actor, con.pk)
    assert queries.shared_record(actor, later) is None  # the grant ended a week after the opinion


def test_outsiders_and_managers_see_no_consultation(cons):
    c = cons.cast
    con = _request(cons)
    with pytest.raises(NotFound):
        queries.get_consultation_for(as_(c.outsider), con.pk)
    with pytest.raises(NotFound):
        queries.get_consultation_for(as_(c.other_village_doctor), con.pk)
    with pytest.raises(Forbidden):
        queries.get_consultation_for(as_(c.manager), con.pk)
    assert queries.get_consultation_for(as_(c.township_doctor), con.pk).pk == con.pk


def test_lists_the_queue_urgent_first_and_the_specialists_own(cons):
    c = cons.cast
    routine = _request(cons, urgency="routine")
    urgent = _request(cons, urgency="emergency")
    queue = queries.list_consultations(as_(cons.desk), "queue").items
    assert [x.pk for x in queue] == [urgent.pk, routine.pk]
    _schedule(cons, routine)
    assert [x.pk for x in queries.list_consultations(as_(cons.specialist), "assigned").items] == [routine.pk]
    assert {x.pk for x in queries.list_consultations(as_(c.township_doctor), "mine").items} == {routine.pk, urgent.pk}
    assert queries.list_consultations(as_(c.village_doctor), "mine").items == []


# ---- pages and API -----------------------------------------------------------------------------------------

def test_the_resident_page_offers_the_request_and_the_form_submits_with_files(cons, client, login):
    c = cons.cast
    login(c.township_doctor)
    page = client.get(f"/residents/{c.resident.pk}/").content.decode()
    assert 'data-testid="panel-consultations"' in page
    assert f"/centers/consultations/new/?resident={c.resident.pk}" in page
    form = client.get(f"/centers/consultations/new/?resident={c.resident.pk}")
    assert form.status_code == 200 and c.resident.name in form.content.decode()
    resp = client.post("/centers/consultations/new/", {
        "resident": c.resident.pk, "urgency": "routine", "question": "血糖控制不佳，调整方案？",
        "files": [SimpleUploadedFile("a.pdf", PDF, "application/pdf")]})
    con = Consultation.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/centers/consultations/{con.pk}/"
    empty = client.post("/centers/consultations/new/", {"resident": c.resident.pk, "question": ""})
    assert empty.status_code == 200 and 'data-testid="error-question"' in empty.content.decode()


def test_the_attachment_is_served_to_the_parties_only_and_audited(cons, client, login):
    c = cons.cast
    con = _request(cons)
    a = Attachment.objects.get(consultation=con)
    login(cons.desk)
    resp = client.get(f"/centers/attachments/{a.pk}/")
    assert resp.status_code == 200 and b"".join(resp.streaming_content) == PNG
    assert resp["Content-Type"] == "image/png" and resp["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(actor="consult_desk", object_type="attachment", object_id=str(a.pk)).exists()
    login(c.outsider)
    assert client.get(f"/centers/attachments/{a.pk}/").status_code == 404


def test_detail_page_shows_the_moves_each_party_may_make(cons, client, login):
    c = cons.cast
    con = _request(cons)
    login(cons.desk)
    page = client.get(f"/centers/consultations/{con.pk}/").content.decode()
    assert 'data-testid="schedule-form"' in page and 'data-testid="answer-form"' not in page
    resp = client.post(f"/centers/consultations/{con.pk}/schedule/", {
        "specialist": cons.specialist.pk, "scheduled_at": (timezone.localtime() + dt.timedelta(hours=1)
                                                           ).strftime("%Y-%m-%dT%H:%M")})
    assert resp.status_code == 302 and Consultation.objects.get(pk=con.pk).status == S.SCHEDULED
    login(cons.specialist)
    page = client.get(f"/centers/consultations/{con.pk}/").content.decode()
    assert 'data-testid="answer-form"' in page and 'data-testid="shared-record"' in page
    bad = client.post(f"/centers/consultations/{con.pk}/answer/", {"opinion": ""}, follow=True)
    assert bad.status_code == 200 and Consultation.objects.get(pk=con.pk).status == S.SCHEDULED
    login(c.township_doctor)
    page = client.get(f"/centers/consultations/{con.pk}/").content.decode()
    assert 'data-testid="cancel"' in page and 'data-testid="schedule-form"' not in page


def test_api_request_schedule_answer_and_problems(cons, client, login):
    c = cons.cast
    login(c.township_doctor)
    resp = client.post("/api/v1/telemedicine/consultations", json.dumps(
        {"resident": c.resident.pk, "question": "会诊", "urgency": "urgent"}), content_type="application/json")
    assert resp.status_code == 201, resp.content
    pk = resp.json()["id"]
    assert resp.json()["status"] == "requested" and resp.json()["attachments"] == []
    bad = client.post("/api/v1/telemedicine/consultations", json.dumps({"resident": c.resident.pk, "question": ""}),
                      content_type="application/json")
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    up = client.post(f"/api/v1/telemedicine/consultations/{pk}/attachments",
                     {"files": [SimpleUploadedFile("p.png", PNG, "image/png")]})
    assert up.status_code == 200 and up.json()[0]["content_type"] == "image/png"
    login(cons.desk)
    at = (timezone.now() + dt.timedelta(hours=3)).isoformat()
    resp = client.post(f"/api/v1/telemedicine/consultations/{pk}/schedule", json.dumps(
        {"specialist": cons.specialist.pk, "scheduled_at": at}), content_type="application/json")
    assert resp.status_code == 200 and resp.json()["status"] == "scheduled"
    assert client.get("/api/v1/telemedicine/consultations?tab=scheduled").json()["items"][0]["id"] == pk
    login(cons.specialist)
    resp = client.post(f"/api/v1/telemedicine/consultations/{pk}/answer", json.dumps({"opinion": "建议上转"}),
                       content_type="application/json")
    assert resp.status_code == 200 and resp.json()["opinion"] == "建议上转"
    login(c.outsider)
    assert client.get(f"/api/v1/telemedicine/consultations/{pk}").status_code == 404


def test_the_home_page_shows_the_queue_the_specialists_own_and_new_opinions(cons, client, login):
    c = cons.cast
    con = _schedule(cons, _request(cons))
    login(cons.desk)
    assert 'data-testid="home-tm-consult-waiting"' in client.get("/").content.decode()
    login(cons.specialist)
    assert 'data-testid="home-tm-consult-assigned"' in client.get("/").content.decode()
    svc.answer_consultation(con.pk, "意见", actor=as_(cons.specialist))
    login(c.township_doctor)
    assert f'data-testid="home-tm-consult-{con.pk}"' in client.get("/").content.decode()
