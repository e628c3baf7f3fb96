"""A resident's 120 calls on the resident page: for the roles that may read the emergency summary, within their
scope, audited; merged duplicates left out."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.cast import _account, as_
from yigongti.core.models import AuditEvent
from yigongti.emergency import resident_panel
from yigongti.emergency.models import Call, Mission
from yigongti.orgs.models import Role
from yigongti.residents import panels


def _call(ems, resident, minutes_ago: int, **kw) -> Call:
    cast = ems.cast
    return Call.objects.create(call_no=f"120-P{minutes_ago:06d}", resident=resident, area_code=resident.area_code,
                               region=cast.village, chief_complaint="胸痛 1 小时", priority=1,
                               rang_at=timezone.now() - dt.timedelta(minutes=minutes_ago), taken_by=ems.dispatcher,
                               **kw)


def test_the_resident_page_lists_the_residents_120_calls_newest_first(ems):
    cast = ems.cast
    old = _call(ems, cast.resident, 600, status="closed")
    Mission.objects.create(call=old, vehicle=ems.vehicles["A1"], status="completed",
                           dispatched_at=old.rang_at + dt.timedelta(minutes=2), destination=cast.county_hospital)
    new = _call(ems, cast.resident, 20, status="dispatched")
    _call(ems, cast.resident, 19, status="merged", merged_into=new)
    _call(ems, cast.neighbour, 30, status="closed")  # someone else's
    rows, _more = resident_panel.calls_panel(as_(cast.village_doctor), cast.resident)
    assert [r.when for r in rows] == [new.rang_at, old.rang_at]
    assert rows[0].alert and "I级" in rows[0].text
    assert "A1" in rows[1].text and cast.county_hospital.name in rows[1].text
    assert AuditEvent.objects.filter(object_type="emergency_call", action="view").exists()
    shown = {p.key for p in panels.panels_for(as_(cast.village_doctor), cast.resident)}
    assert "emergency" in shown


def test_a_reader_outside_the_scope_sees_no_calls(ems):
    cast = ems.cast
    _call(ems, cast.resident, 60, status="closed")
    rows, _more = resident_panel.calls_panel(as_(cast.outsider), cast.resident)
    assert rows == []
    # the other township's doctor: the resident lives outside that township
    other = _account("other_township_doctor", Role.DOCTOR, cast.other_center)
    assert resident_panel.resident_calls(as_(other), cast.resident) == []


def test_a_role_without_the_emergency_summary_gets_no_panel(ems):
    cast = ems.cast
    _call(ems, cast.resident, 60, status="closed")
    pharmacist = _account("pharmacist_x", Role.PHARMACIST, cast.county_hospital)
    assert resident_panel.calls_panel(as_(pharmacist), cast.resident) is None
    assert resident_panel.timeline_entries(as_(pharmacist), cast.resident) == []
    entries = resident_panel.timeline_entries(as_(cast.county_doctor), cast.resident)
    assert len(entries) == 1 and entries[0]["critical"]


def test_the_resident_page_shows_the_panel(ems, client, login):
    cast = ems.cast
    call = _call(ems, cast.resident, 45, status="closed")
    login(cast.village_doctor)
    page = client.get(f"/residents/{cast.resident.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "120呼救记录" in html and call.call_no in html
