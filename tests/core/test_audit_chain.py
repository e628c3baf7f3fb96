"""The keyed audit chain against an intruder who can write the database but holds neither the key nor the
witness file: every attack the probe made (rewrite with recomputed hashes, truncation) and the plain ones
(edit, delete, insert, wrong key) must each be reported as what it is.

The append-only triggers would stop the attacks outright, so each test first switches them off the way an
intruder with the owner's rights would (``as_owner``) — on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
from contextlib import contextmanager

import pytest
from click.testing import CliRunner
from django.db import DatabaseError, connection, transaction

from yigongti.cli import main
from yigongti.core import audit, jobs
from yigongti.core.actor import Actor
from yigongti.core.audit import legacy_hash, verify_chain
from yigongti.core.models import AuditEvent, AuditHead

DOCTOR = Actor(username="township_doctor", role="doctor", facility_id=7, ip="10.0.0.8")
OTHER_KEY = "another-key-that-nobody-configured-0123456789"


@contextmanager
def as_owner():
    """An intruder with the table owner's rights turns the append-only triggers off (and back on after)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        else:
            cur.execute("DROP TRIGGER core_auditevent_no_update")
            cur.execute("DROP TRIGGER core_auditevent_no_delete")
        try:
            yield cur
        finally:
            if connection.vendor == "postgresql":
                cur.execute("ALTER TABLE core_auditevent ENABLE TRIGGER USER")
            else:
                audit.install_triggers()


def _events(n: int) -> list[AuditEvent]:
    out = []
    for i in range(n):
        action = "unmask" if i % 10 == 4 else "view"
        out.append(audit.record(DOCTOR, action, "resident", i + 1, note=f"第{i}次"))
    return out


def _rewrite_from(seq: int, cur, hasher) -> None:
    """What the probe did: change one event, then recompute every later hash and move the head."""
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else audit.GENESIS
    for ev in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        if ev.seq == seq:
            ev.actor = "intruder"
        ev.prev_hash = prev
        ev.hash = hasher(prev, ev)
        cur.execute("UPDATE core_auditevent SET actor = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                    [ev.actor, ev.prev_hash, ev.hash, ev.seq])
        prev = ev.hash
    AuditHead.objects.filter(pk=1).update(last_hash=prev)


def _cut_after(seq: int, cur) -> None:
    cur.execute("DELETE FROM core_auditevent WHERE seq > %s", [seq])
    last = AuditEvent.objects.get(seq=seq)
    AuditHead.objects.filter(pk=1).update(last_seq=seq, last_hash=last.hash)


def test_an_untouched_chain_verifies_against_its_witness(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _events(250)
    result = verify_chain()
    assert result.ok, result.problems
    assert (result.checked, result.anchors_checked) == (250, 2)  # every 100 events: 100 and 200


def test_events_are_signed_with_the_configured_key_not_plain_sha256(db):
    ev = _events(1)[0]
    assert ev.key_id == audit.keyring().current_id
    assert ev.hash != legacy_hash(ev.prev_hash, ev)


def test_rewriting_an_event_and_recomputing_the_later_hashes_is_detected(db):
    _events(60)
    with as_owner() as cur:
        _rewrite_from(15, cur, legacy_hash)  # the probe's move: plain SHA-256 from event 15 on
    result = verify_chain()
    assert result.kinds == {"edited"}
    [f] = result.findings
    assert (f.first, f.last) == (15, 60)
    assert "普通 SHA-256" in f.message and "共 46 条" in f.message


def test_rewriting_with_a_guessed_key_is_detected_too(db):
    _events(20)
    with as_owner() as cur:
        _rewrite_from(5, cur, lambda prev, ev: audit.keyed_hash(b"guessed-key" * 4, prev, ev))
    result = verify_chain()
    assert result.kinds == {"edited"}
    assert (result.findings[0].first, result.findings[0].last) == (5, 20)


def test_cutting_the_last_100_events_and_moving_the_head_is_detected(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _events(250)
    with as_owner() as cur:
        _cut_after(150, cur)
    result = verify_chain()
    assert result.kinds == {"truncated"}
    [f] = result.findings
    assert (f.first, f.last) == (151, 200)
    assert "见证文件" in f.message and "只到事件 150" in f.message


def test_cutting_a_few_events_after_the_workers_anchor_is_detected(db):
    _events(30)
    jobs.schedule(audit.ANCHOR_JOB)
    assert jobs.run_due() == 1  # what `yigongti worker` runs every few minutes
    with as_owner() as cur:
        _cut_after(27, cur)
    result = verify_chain()
    assert result.kinds == {"truncated"}
    assert (result.findings[0].first, result.findings[0].last) == (28, 30)


def test_cutting_the_tail_without_moving_the_head_is_detected_without_a_witness(db):
    _events(10)
    with as_owner() as cur:
        cur.execute("DELETE FROM core_auditevent WHERE seq > 7")
    result = verify_chain()
    assert result.kinds == {"truncated"}
    assert "链头记录到事件 10" in result.findings[0].message


def test_deleting_an_event_in_the_middle_is_detected(db):
    _events(10)
    with as_owner() as cur:
        cur.execute("DELETE FROM core_auditevent WHERE seq IN (4, 5)")
    result = verify_chain()
    assert result.kinds == {"deleted"}
    assert (result.findings[0].first, result.findings[0].last) == (4, 5)


def test_editing_an_event_is_detected(db):
    _events(10)
    with as_owner() as cur:
        cur.execute("UPDATE core_auditevent SET detail = %s WHERE seq = 3", [json.dumps({"note": "改过"})])
    result = verify_chain()
    assert result.kinds == {"edited"}
    assert (result.findings[0].first, result.findings[0].last) == (3, 3)


def test_inserting_an_event_is_detected(db):
    _events(10)
    with as_owner() as cur:
        # Make room after event 6 (two steps: the sequence number is unique) and slip a forged event in.
        cur.execute("UPDATE core_auditevent SET seq = -seq - 1 WHERE seq > 6")
        cur.execute("UPDATE core_auditevent SET seq = -seq WHERE seq < 0")
        six = AuditEvent.objects.get(seq=6)
        forged = AuditEvent(seq=7, at=six.at, actor="county_doctor", role="doctor", action="view",
                            object_type="resident", object_id="99", detail={}, prev_hash=six.hash,
                            key_id=six.key_id)
        forged.hash = legacy_hash(forged.prev_hash, forged)
        forged.save(force_insert=True)
        AuditHead.objects.filter(pk=1).update(last_seq=11)
    result = verify_chain()
    assert result.kinds == {"inserted"}
    assert (result.findings[0].first, result.findings[0].last) == (7, 7)


def test_an_event_appended_behind_the_heads_back_is_an_insertion(db):
    last = _events(5)[-1]
    forged = AuditEvent(seq=6, at=last.at, actor="x", action="view", object_type="resident", object_id="1",
                        detail={}, prev_hash=last.hash, key_id=last.key_id, hash="0" * 64)
    forged.save(force_insert=True)
    result = verify_chain()
    assert "inserted" in result.kinds
    assert any(f.kind == "inserted" and f.first == 6 for f in result.findings)


def test_a_wrong_key_is_reported_as_a_key_mismatch(db, settings):
    _events(8)
    settings.YIGONGTI_AUDIT_KEY = OTHER_KEY
    result = verify_chain()
    assert result.kinds == {"key_mismatch"}
    [f] = result.findings
    assert (f.first, f.last) == (1, 8)
    assert "密钥环中没有这把密钥" in f.message


def test_rotating_the_key_keeps_older_events_verifiable(db, settings, tmp_path):
    settings.YIGONGTI_AUDIT_KEY = ""
    settings.YIGONGTI_AUDIT_KEY_FILE = tmp_path / "audit_key"
    _events(3)
    old, new = audit.rotate_key()
    assert old != new
    _events(2)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.key_id for e in events] == [old] * 3 + [new] * 3
    assert events[3].action == "key_rotate" and events[3].detail == {"previous_key": old, "key": new}
    assert verify_chain().ok
    assert stat.S_IMODE(os.stat(settings.YIGONGTI_AUDIT_KEY_FILE).st_mode) == 0o600

    # Losing the retired key loses the proof for what it signed, and says so.
    lines = settings.YIGONGTI_AUDIT_KEY_FILE.read_text().splitlines()
    settings.YIGONGTI_AUDIT_KEY_FILE.write_text(lines[-1] + "\n")
    settings.YIGONGTI_AUDIT_KEY_FILE = settings.YIGONGTI_AUDIT_KEY_FILE  # forget the cached keyring
    result = verify_chain()
    assert result.kinds == {"key_mismatch"}
    assert (result.findings[0].first, result.findings[0].last) == (1, 3)


def test_a_key_from_the_environment_rotates_through_the_retired_list(db, settings):
    settings.YIGONGTI_AUDIT_KEY = OTHER_KEY
    _events(2)
    with pytest.raises(Exception, match="YIGONGTI_AUDIT_RETIRED_KEYS"):
        audit.rotate_key()
    settings.YIGONGTI_AUDIT_RETIRED_KEYS = [OTHER_KEY]
    settings.YIGONGTI_AUDIT_KEY = "the-new-key-after-rotation-0123456789abcdef"
    _events(2)
    assert verify_chain().ok


def test_a_short_key_is_refused(db, settings):
    settings.YIGONGTI_AUDIT_KEY = "short"
    with pytest.raises(Exception, match="至少 32"):
        audit.record(DOCTOR, "view", "resident", 1)


def _legacy_chain(n: int) -> None:
    """Events as the platform wrote them before the chain was keyed (plain SHA-256, no key id)."""
    prev = audit.GENESIS
    for i in range(1, n + 1):
        ev = AuditEvent(seq=i, at=audit.timezone.now(), actor="old", role="doctor", action="view",
                        object_type="resident", object_id=str(i), detail={"i": i}, prev_hash=prev, key_id="")
        ev.hash = legacy_hash(prev, ev)
        ev.save(force_insert=True)
        prev = ev.hash
    AuditHead.objects.update_or_create(pk=1, defaults={"last_seq": n, "last_hash": prev})


def test_legacy_events_stay_verifiable_once_sealed_by_the_migration(db):
    _legacy_chain(5)
    seal = audit.seal_legacy()
    assert seal.seq == 6 and seal.action == "seal" and seal.detail["legacy_intact"] is True
    _events(3)
    assert verify_chain().ok


def test_rewriting_a_sealed_legacy_event_with_sha256_is_detected(db):
    _legacy_chain(5)
    audit.seal_legacy()
    with as_owner() as cur:
        _rewrite_from(2, cur, legacy_hash)  # legacy 2..5 re-hashed, seal and later "re-hashed" too
    assert not verify_chain().ok


def test_downgrading_keyed_events_to_unkeyed_sha256_is_detected(db):
    _events(6)
    with as_owner() as cur:
        prev = AuditEvent.objects.get(seq=3).hash
        for ev in AuditEvent.objects.filter(seq__gt=3).order_by("seq"):
            ev.key_id, ev.prev_hash = "", prev
            ev.hash = legacy_hash(prev, ev)
            cur.execute("UPDATE core_auditevent SET key_id = '', prev_hash = %s, hash = %s WHERE seq = %s",
                        [ev.prev_hash, ev.hash, ev.seq])
            prev = ev.hash
    result = verify_chain()
    assert result.kinds == {"key_mismatch"}
    assert (result.findings[0].first, result.findings[0].last) == (4, 6)


def test_the_orm_cannot_update_or_delete_events(db):
    _events(3)
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(seq=1).update(actor="x")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(seq=1).delete()
    ev = AuditEvent.objects.get(seq=2)
    ev.actor = "x"
    with pytest.raises(PermissionError):
        ev.save()
    # Below the model, the database itself refuses: the base manager, and raw SQL.
    for attempt in (lambda: AuditEvent._base_manager.filter(seq=1).update(actor="x"),
                    lambda: AuditEvent._base_manager.filter(seq=1)._raw_delete(connection.alias),
                    lambda: connection.cursor().execute("UPDATE core_auditevent SET actor = 'x'"),
                    lambda: connection.cursor().execute("DELETE FROM core_auditevent")):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert list(AuditEvent.objects.order_by("seq").values_list("actor", flat=True)) == ["township_doctor"] * 3
    assert audit.triggers_present() is True


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE and roles are PostgreSQL's")
def test_postgresql_refuses_truncate_and_the_app_role_cannot_change_events(db):
    _events(2)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("TRUNCATE core_auditevent")
    with connection.cursor() as cur:
        cur.execute("CREATE ROLE yigongti_app_test NOLOGIN")  # rolled back with the test
        for sql in audit.app_role_sql("yigongti_app_test", connection.settings_dict["NAME"]):
            cur.execute(sql)
        cur.execute("SET ROLE yigongti_app_test")
        try:
            audit.record(DOCTOR, "view", "resident", 3)  # the application still appends
            for sql in ("UPDATE core_auditevent SET actor = 'x'", "DELETE FROM core_auditevent",
                        "TRUNCATE core_auditevent", "ALTER TABLE core_auditevent DISABLE TRIGGER USER"):
                with pytest.raises(DatabaseError, match=r"permission denied|must be owner"), transaction.atomic():
                    cur.execute(sql)
        finally:
            cur.execute("RESET ROLE")
    assert verify_chain().ok


def test_the_witness_file_is_private_and_append_only(db, settings, monkeypatch):
    calls = []
    monkeypatch.setattr(audit.subprocess, "run", lambda args, **kw: calls.append(args))
    monkeypatch.setattr(audit.os, "geteuid", lambda: 0)
    settings.YIGONGTI_AUDIT_WITNESS_CHATTR = True
    _events(3)
    audit.anchor_now()
    audit.anchor_now()  # the head has not moved: nothing more is written
    path = settings.YIGONGTI_AUDIT_WITNESS
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(path.read_text().splitlines()) == 1
    assert calls == [["chattr", "+a", str(path)]]


def test_a_forged_witness_line_is_reported(db, settings):
    _events(3)
    audit.anchor_now()
    path = settings.YIGONGTI_AUDIT_WITNESS
    line = json.loads(path.read_text())
    line["seq"] = 2
    path.write_text(json.dumps(line) + "\n")
    result = verify_chain()
    assert result.kinds == {"edited"} and "签名不符" in result.findings[0].message


def test_a_new_database_beside_an_old_witness_is_not_silently_accepted(db, settings):
    _events(3)
    audit.append_witness(audit.signed({"type": "anchor", "seq": 900, "hash": "ab" * 32, "at": "2026-01-01",
                                       "chain": "cd" * 32}))
    result = verify_chain()
    assert result.kinds == {"truncated"} and "另一条链" in result.findings[0].message


def test_the_worker_schedules_anchoring_once_per_slot(db):
    audit.schedule_anchor()
    audit.schedule_anchor()
    from yigongti.core.models import Job

    assert Job.objects.filter(kind=audit.ANCHOR_JOB).count() == 1


def test_record_costs_no_more_queries_on_an_anchoring_event(db, settings, django_assert_max_num_queries):
    settings.YIGONGTI_AUDIT_ANCHOR_EVERY = 2
    _events(1)
    with django_assert_max_num_queries(5):  # savepoint, lock head, insert, move head, release
        audit.record(DOCTOR, "view", "resident", 2)


# ------------------------------------------------------------------------------------------ commands


def test_verify_command_names_what_it_found(transactional_db):
    _events(5)
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "审计链完整" in ok.output
    with as_owner() as cur:
        cur.execute("UPDATE core_auditevent SET detail = %s WHERE seq = 1", [json.dumps({"note": "改过"})])
        cur.execute("DELETE FROM core_auditevent WHERE seq = 3")
    bad = runner.invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "[被篡改] 事件 1" in bad.output and "[被删除] 事件 3" in bad.output


def test_an_export_on_write_once_storage_catches_truncation_after_the_witness_is_lost(db, settings, tmp_path):
    _events(40)
    runner = CliRunner()
    assert runner.invoke(main, ["audit", "anchor"]).exit_code == 0
    out = tmp_path / "anchors.jsonl"
    res = runner.invoke(main, ["audit", "export", "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines[-1]["type"] == "export" and lines[-1]["lines"] == len(lines) - 1
    with as_owner() as cur:
        _cut_after(30, cur)
    settings.YIGONGTI_AUDIT_WITNESS.unlink()  # the intruder also removed the local witness
    assert verify_chain().ok  # …so only the exported copy can tell
    result = verify_chain(witnesses=[out])
    assert result.kinds == {"truncated"}
    # Removing the telling line from the export breaks the export's own signature.
    out.write_text("\n".join(x for x in out.read_text().splitlines() if '"seq": 40' not in x) + "\n")
    assert "edited" in verify_chain(witnesses=[out]).kinds


def test_an_events_export_is_signed(db, tmp_path):
    _events(3)
    out = tmp_path / "events.jsonl"
    assert CliRunner().invoke(main, ["audit", "export", "--events", "--out", str(out)]).exit_code == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["seq"] for x in lines[:-1]] == [1, 2, 3]
    assert lines[-1]["mac"] and lines[-1]["what"] == "events"


def test_grant_app_role_prints_the_statements(db):
    res = CliRunner().invoke(main, ["audit", "grant-app-role", "yigongti_app"])
    if connection.vendor != "postgresql":
        assert res.exit_code != 0 and "PostgreSQL" in res.output
        return
    assert 'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON core_auditevent FROM "yigongti_app"' in res.output


def test_flush_outside_the_tests_refuses_to_wipe_the_log(db, monkeypatch):
    from django.core import mail
    from django.core.management import CommandError, call_command

    _events(2)
    monkeypatch.delattr(mail, "outbox")  # as outside the test suite
    with pytest.raises(CommandError, match="只追加"):
        call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
    assert AuditEvent.objects.count() == 2


def test_the_demos_deliberate_wipe_leaves_a_signed_reset_line_in_the_witness(db, monkeypatch, settings):
    from django.core import mail
    from django.core.management import call_command

    _events(5)
    audit.anchor_now()
    monkeypatch.delattr(mail, "outbox")
    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True, include_audit_log=True)
    assert AuditEvent.objects.count() == 0 and audit.triggers_present() is True
    reset = json.loads(settings.YIGONGTI_AUDIT_WITNESS.read_text().splitlines()[-1])
    assert reset["type"] == "reset" and reset["seq"] == 5 and reset["mac"]
    _events(3)  # the new chain
    result = verify_chain()
    assert result.ok, result.problems
    assert any("整体清空重建" in n for n in result.notes)


def test_the_migration_seals_an_existing_unkeyed_chain(transactional_db):
    """Migration 0005 on a database that already holds plain SHA-256 events: they stay, are sealed by one
    keyed event, verify, and are then protected by the triggers."""
    from importlib import import_module

    from django.db.migrations.executor import MigrationExecutor

    before = import_module("yigongti.core.migrations.0005_audit_keyed").Migration.dependencies[0]
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        _migrate_a_legacy_chain(executor, before)
    finally:  # whatever happened, leave the schema as the other tests expect it
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def _migrate_a_legacy_chain(executor, before) -> None:
    from django.db.migrations.executor import MigrationExecutor

    old = executor.loader.project_state(before).apps
    Event, Head = old.get_model("core", "AuditEvent"), old.get_model("core", "AuditHead")
    prev = audit.GENESIS
    for i in range(1, 4):
        ev = Event(seq=i, at=audit.timezone.now(), actor="old", role="doctor", action="view",
                   object_type="resident", object_id=str(i), detail={"i": i}, ip="", user_agent="", prev_hash=prev)
        ev.key_id = ""  # what legacy_hash reads; the old table has no such column
        ev.hash = legacy_hash(prev, ev)
        ev.save(force_insert=True)
        prev = ev.hash
    Head.objects.create(pk=1, last_seq=3, last_hash=prev)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.key_id for e in events[:3]] == ["", "", ""] and events[3].action == "seal"
    assert events[3].detail == {"legacy_through": 3, "legacy_head": prev, "legacy_intact": True}
    audit.record(DOCTOR, "view", "resident", 1)
    assert verify_chain().ok
    assert audit.triggers_present() is True


def test_the_nightly_verification_alerts_the_auditors_when_the_chain_is_broken(cast):
    from yigongti.core.models import Notification

    audit.schedule_verification()
    assert jobs.Job.objects.filter(kind=audit.VERIFY_JOB).count() == 1
    assert audit.verify_job(None)["ok"] is True
    assert not Notification.objects.filter(kind="audit_chain").exists()
    _events(4)
    with as_owner() as cur:
        cur.execute("UPDATE core_auditevent SET actor = 'x' WHERE seq = (SELECT max(seq) - 1 FROM core_auditevent)")
    out = audit.verify_job(None)
    assert out["ok"] is False
    alert = Notification.objects.get(kind="audit_chain")
    assert alert.recipient == cast.auditor and alert.urgent and "被篡改" in alert.title
    assert AuditEvent.objects.filter(action="verify", actor="worker").count() == 2
