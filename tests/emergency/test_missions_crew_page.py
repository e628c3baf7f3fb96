"""The crew's phone page: the current mission with the address and the patient summary the crew may see (audited),
ONE big button with a stable text and ``data-step``, each press redrawing the panel with the step's time; a press
twice records one event; a refused time shows its reason; the poll reloads only when something changed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.emergency.test_missions import send, status_of
from yigongti.core.models import AuditEvent
from yigongti.emergency.models import CallEvent, EventKind, VehicleStatus
from yigongti.emergency.services import missions

pytestmark = pytest.mark.django_db
E = EventKind


def login(client, user):
    from tests.twofactor import pass_two_factor

    client.force_login(user)
    pass_two_factor(client, user)
    return client


def press(client, mission, kind, **extra):
    return client.post(reverse("emergency:crew_step", args=[mission.pk]), {"kind": kind, "key": f"k-{kind}", **extra},
                       HTTP_HX_REQUEST="true")


def test_the_crew_sees_the_mission_the_address_the_patient_and_one_button(ems, client):
    m = send(ems)
    html = login(client, ems.crew_a1).get(reverse("emergency:crew")).content.decode()
    assert 'data-testid="crew-page"' in html and m.call.call_no in html
    assert "大塘村" in html and "大塘村村委会旁" in html and "胸痛2小时" in html
    assert "李建国" in html and "高血压" in html  # the patient's name and chronic condition (resident tag htn)
    buttons = re.findall(r'<button[^>]*data-step="([a-z_]+)"[^>]*>([^<]+)</button>', html)
    assert buttons == [("crew_ack", "确认接单")]
    assert AuditEvent.objects.filter(action="read", object_type="resident", object_id=str(ems.cast.resident.pk),
                                     detail__via="emergency_mission").count() == 1


def test_each_press_records_the_step_and_offers_the_next_one(ems, client):
    m = send(ems)
    login(client, ems.crew_a1)
    for kind, label in [(E.CREW_ACK, "出车"), (E.WHEELS_ROLLING, "到达现场"), (E.ON_SCENE, "接触患者"),
                        (E.FMC, "离开现场"), (E.LEAVE_SCENE, "到达医院"), (E.ARRIVE_HOSPITAL, "交接完成"),
                        (E.HANDOVER, "恢复待命")]:
        html = press(client, m, kind).content.decode()
        nxt = re.findall(r'data-step="([a-z_]+)"[^>]*>([^<]+)</button>', html)
        assert len(nxt) == 1 and nxt[0][1] == label, (kind, nxt)
        ev = CallEvent.objects.get(mission=m, kind=kind)
        assert timezone.localtime(ev.at).strftime("%H:%M:%S") in html
    html = press(client, m, E.AVAILABLE).content.decode()
    assert 'data-testid="crew-done"' in html and "data-step=" not in html
    assert status_of(ems, "A1") == VehicleStatus.AVAILABLE


def test_the_time_of_the_press_from_the_phone_is_kept(ems, client):
    m = send(ems)
    pressed = timezone.now() - dt.timedelta(minutes=2)
    press(login(client, ems.crew_a1), m, E.CREW_ACK, at=pressed.isoformat())
    assert CallEvent.objects.get(mission=m, kind=E.CREW_ACK).at == pressed


def test_a_double_press_records_one_event(ems, client):
    m = send(ems)
    login(client, ems.crew_a1)
    press(client, m, E.CREW_ACK)
    html = press(client, m, E.CREW_ACK).content.decode()
    assert CallEvent.objects.filter(mission=m).count() == 1
    assert 'data-testid="crew-error"' not in html


def test_a_future_time_is_refused_with_its_reason_on_the_page(ems, client):
    m = send(ems)
    later = timezone.now() + dt.timedelta(hours=1)
    html = press(login(client, ems.crew_a1), m, E.CREW_ACK, at=later.isoformat()).content.decode()
    assert 'data-testid="crew-error"' in html and "未来" in html
    assert not CallEvent.objects.exists()
    html = press(client, m, E.CREW_ACK, at="yesterday").content.decode()
    assert "时间格式不正确" in html


def test_a_step_out_of_order_shows_why(ems, client):
    m = send(ems)
    html = press(login(client, ems.crew_a1), m, E.HANDOVER).content.decode()
    assert "不能记录" in html and not CallEvent.objects.exists()


def test_another_crew_cannot_open_or_press_the_mission(ems, client):
    m = send(ems, "A1")
    login(client, ems.crew_b1)
    assert client.get(reverse("emergency:crew_mission", args=[m.pk])).status_code == 404
    assert press(client, m, E.CREW_ACK).status_code == 404
    assert not CallEvent.objects.exists()
    html = client.get(reverse("emergency:crew")).content.decode()
    assert 'data-testid="crew-idle"' in html and "B1" in html


def test_a_stations_admin_sees_no_mission_to_step_and_no_patient(ems, client):
    from tests.cast import _account
    from yigongti.orgs.models import Role

    send(ems, "A1")
    admin = _account("command_admin", Role.FACILITY_ADMIN, ems.command.facility)
    resp = login(client, admin).get(reverse("emergency:crew"))
    html = resp.content.decode()
    assert resp.status_code == 200 and 'data-testid="crew-idle"' in html and "李建国" not in html


def test_without_htmx_the_press_redirects_to_the_mission(ems, client):
    m = send(ems)
    resp = login(client, ems.crew_a1).post(reverse("emergency:crew_step", args=[m.pk]), {"kind": "crew_ack"})
    assert resp.status_code == 302 and resp["Location"] == reverse("emergency:crew_mission", args=[m.pk])


def test_the_poll_reloads_only_when_something_changed(ems, client):
    m = send(ems)
    login(client, ems.crew_a1)
    html = client.get(reverse("emergency:crew")).content.decode()
    state = re.search(r'crew/poll/\?state=([^"]+)"', html).group(1)
    poll = reverse("emergency:crew_poll") + "?state=" + state
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204
    press(client, m, E.CREW_ACK)  # the crew's own press does not reload its page
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204
    missions.step(missions.Actor.from_user(ems.dispatcher), m, E.WHEELS_ROLLING)  # the dispatcher on its behalf
    resp = client.get(poll, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and resp["HX-Refresh"] == "true"


def test_the_page_works_offline_as_a_small_app(ems, client):
    login(client, ems.crew_a1)
    sw = client.get(reverse("emergency:crew_sw"))
    assert sw.status_code == 200 and sw["Content-Type"].startswith("application/javascript")
    assert sw["Service-Worker-Allowed"] == "/emergency/crew/" and "emergency/crew.js" in sw.content.decode()
    manifest = client.get(reverse("emergency:crew_manifest")).json()
    assert manifest["start_url"] == "/emergency/crew/" and manifest["display"] == "standalone"
