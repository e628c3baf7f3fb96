"""Appending events (the attacks on the chain are in test_audit_chain.py)."""

from django.test import RequestFactory

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.audit import verify_chain
from yigongti.core.models import AuditEvent, AuditHead

from .test_audit_chain import as_owner


def _events(n=5):
    for i in range(n):
        audit.record(Actor(username="tester", role="doctor"), "view", "resident", i + 1, note=f"第{i}次")


def test_an_untouched_chain_verifies(db):
    _events()
    result = verify_chain()
    assert result.ok, result.problems
    assert result.checked == 5


def test_each_event_links_to_the_one_before_and_moves_the_head(db):
    _events(3)
    events = list(AuditEvent.objects.order_by("seq"))
    assert events[0].prev_hash == audit.GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    head = AuditHead.objects.get(pk=1)
    assert (head.last_seq, head.last_hash) == (3, events[-1].hash)


def test_an_event_records_who_from_where_and_a_json_detail(db, cast):
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Firefox")
    request.user = cast.township_doctor
    ev = audit.record(request, "view", "resident", cast.resident.pk, when=audit.timezone.now().date())
    assert (ev.actor, ev.role, ev.facility_id, ev.ip, ev.user_agent) == (
        "township_doctor", "doctor", cast.township_doctor.facility_id, "10.1.2.3", "Firefox")
    assert isinstance(ev.detail["when"], str)
    assert verify_chain().ok


def test_altering_an_event_is_detected(db):
    _events()
    with as_owner() as cur:
        cur.execute("UPDATE core_auditevent SET actor = %s WHERE seq = 3", ["intruder"])
    result = verify_chain()
    assert [(f.kind, f.first) for f in result.findings] == [("edited", 3)]
    assert "事件 3" in result.problems[0] and "篡改" in result.problems[0]


def test_deleting_the_last_event_is_detected(db):
    _events()
    with as_owner() as cur:
        cur.execute("DELETE FROM core_auditevent WHERE seq = 5")
    assert verify_chain().kinds == {"truncated"}
