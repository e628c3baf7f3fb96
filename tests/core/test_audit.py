from django.db import connection
from click.testing import CliRunner

from yigongti.cli import main
from yigongti.core import audit
from yigongti.core.audit import Actor, verify_chain
from yigongti.core.models import AuditEvent


def _events(n=5):
    for i in range(n):
        audit.record(Actor(username="tester", role="doctor"), "view", "resident", i + 1, note=f"第{i}次")


def test_an_untouched_chain_verifies(db):
    _events()
    result = verify_chain()
    assert result.ok, result.problems
    assert result.checked == 5


def test_altering_an_event_is_detected(db):
    _events()
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditevent SET actor = %s WHERE seq = 3", ["intruder"])
    result = verify_chain()
    assert not result.ok
    assert any("事件 3" in p and "篡改" in p for p in result.problems)


def test_deleting_an_event_in_the_middle_is_detected(db):
    _events()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditevent WHERE seq = 2")
    result = verify_chain()
    assert any("缺失" in p for p in result.problems)


def test_deleting_the_last_event_is_detected(db):
    _events()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditevent WHERE seq = 5")
    assert not verify_chain().ok


def test_events_cannot_be_changed_through_the_orm(db):
    _events(1)
    ev = AuditEvent.objects.get(seq=1)
    ev.actor = "x"
    try:
        ev.save()
    except PermissionError:
        pass
    else:
        raise AssertionError("save of an existing event must fail")
    assert AuditEvent.objects.get(seq=1).actor == "tester"


def test_audit_verify_command_exits_nonzero_on_tampering(transactional_db):
    _events(3)
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "审计链完整" in ok.output
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditevent SET detail = %s WHERE seq = 1", ['{"note": "改过"}'])
    bad = runner.invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "篡改" in bad.output
