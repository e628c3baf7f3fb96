"""The fleet: stations and vehicles listed for the community; a vehicle's detail with its status history and crew;
kept by the station's facility admin or the community's managers (permissions by object), never by a crew or an
admin of another facility; maintenance only while the vehicle is free."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.cast import _account, as_
from tests.emergency.test_missions import send
from tests.emergency.test_missions_crew_page import login
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.emergency.models import CrewMember, EventKind, Vehicle, VehicleStatus
from yigongti.emergency.queries import fleet as q
from yigongti.emergency.services import fleet, missions
from yigongti.orgs.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(ems):
    return {"command": _account("command_admin", Role.FACILITY_ADMIN, ems.command.facility),
            "township": _account("station_admin", Role.FACILITY_ADMIN, ems.township_station.facility)}


def test_the_station_admin_adds_and_edits_a_vehicle_of_their_station(ems, admins):
    v = fleet.create_vehicle(as_(admins["command"]), ems.command,
                             {"call_sign": "A9", "plate": "湘M·12099", "kind": "negative_pressure",
                              "equipment": ["ecg12", "ventilator"]})
    assert v.status == VehicleStatus.AVAILABLE and (v.lon, v.lat) == (ems.command.lon, ems.command.lat)
    fleet.update_vehicle(as_(admins["command"]), v, {"gps_device_id": "GPS-0099", "equipment": ["ecg12"]})
    v.refresh_from_db()
    assert v.gps_device_id == "GPS-0099" and v.equipment == ["ecg12"] and v.call_sign == "A9"


def test_an_admin_of_another_facility_or_a_crew_cannot_keep_the_vehicle(ems, admins):
    a1 = ems.vehicles["A1"]
    for user in (admins["township"], ems.crew_a1, ems.dispatcher):
        with pytest.raises(Forbidden):
            fleet.update_vehicle(as_(user), a1, {"plate": "湘M·00000"})
        with pytest.raises(Forbidden):
            fleet.set_vehicle_status(as_(user), a1, VehicleStatus.MAINTENANCE, "刹车异响")
    with pytest.raises(Forbidden):
        fleet.create_vehicle(as_(admins["township"]), ems.command, {"call_sign": "X1", "plate": "湘M·X0001"})
    a1.refresh_from_db()
    assert a1.plate == "湘M·12001" and a1.status == VehicleStatus.AVAILABLE


def test_the_community_manager_keeps_every_station(ems):
    b1 = ems.vehicles["B1"]
    fleet.set_vehicle_status(as_(ems.cast.manager), b1, VehicleStatus.MAINTENANCE, "年检")
    b1.refresh_from_db()
    assert b1.status == VehicleStatus.MAINTENANCE
    fleet.update_station(as_(ems.cast.manager), ems.township_station, {"name": "总市镇急救站"})
    ems.township_station.refresh_from_db()
    assert ems.township_station.name == "总市镇急救站"


def test_bad_vehicle_input_is_refused_with_every_field(ems, admins):
    with pytest.raises(InvalidInput) as e:
        fleet.create_vehicle(as_(admins["command"]), ems.command, {"call_sign": "", "plate": "", "kind": "tank",
                                                                   "equipment": ["laser"]})
    assert set(e.value.errors) == {"call_sign", "plate", "kind", "equipment"}
    with pytest.raises(InvalidInput) as e:
        fleet.create_vehicle(as_(admins["command"]), ems.command, {"call_sign": "A1", "plate": "湘M·55555"})
    assert e.value.code == "duplicate_vehicle"
    with pytest.raises(InvalidInput) as e:
        fleet.update_station(as_(admins["command"]), ems.command, {"lat": 123.0})
    assert e.value.field == "lat"


def test_maintenance_needs_a_reason_and_a_free_vehicle(ems):
    mgr = as_(ems.cast.manager)
    with pytest.raises(InvalidInput):
        fleet.set_vehicle_status(mgr, ems.vehicles["A2"], VehicleStatus.MAINTENANCE, "")
    send(ems, "A1")
    with pytest.raises(Conflict) as e:
        fleet.set_vehicle_status(mgr, ems.vehicles["A1"], VehicleStatus.MAINTENANCE, "轮胎")
    assert e.value.code == "on_mission"
    with pytest.raises(Conflict):
        fleet.update_vehicle(mgr, ems.vehicles["A1"], {"active": False})
    v = fleet.set_vehicle_status(mgr, ems.vehicles["A2"], VehicleStatus.MAINTENANCE, "更换氧气瓶")
    with pytest.raises(Conflict):
        missions.prepare_dispatch(v)  # a vehicle in maintenance is not sent
    assert fleet.set_vehicle_status(mgr, v, VehicleStatus.AVAILABLE).status == VehicleStatus.AVAILABLE


def test_crew_seats(ems, admins):
    admin = as_(admins["command"])
    a2 = ems.vehicles["A2"]
    seat = fleet.add_crew(admin, a2, {"role": "doctor", "user": ems.crew_a1.pk})
    assert seat.name and seat.user == ems.crew_a1
    with pytest.raises(InvalidInput):
        fleet.add_crew(admin, a2, {"role": "doctor", "user": ems.crew_a1.pk})  # already on it
    with pytest.raises(InvalidInput):
        fleet.add_crew(admin, a2, {"role": "pilot", "name": "张三"})
    with pytest.raises(InvalidInput):
        fleet.add_crew(admin, a2, {"role": "driver", "user": ems.dispatcher.pk})
    driver = fleet.add_crew(admin, a2, {"role": "driver", "name": "司机乙"})
    assert fleet.set_on_shift(admin, driver, False).on_shift is False
    fleet.remove_crew(admin, driver)
    assert not CrewMember.objects.filter(pk=driver.pk).exists()
    with pytest.raises(Forbidden):
        fleet.remove_crew(as_(admins["township"]), seat)


def test_the_status_history_shows_dispatch_steps_and_maintenance(ems):
    m = send(ems, "A2")
    crew = as_(ems.crew_a1)
    missions.step(crew, m, EventKind.ON_SCENE)
    missions.step(crew, m, EventKind.AVAILABLE)
    fleet.set_vehicle_status(as_(ems.cast.manager), ems.vehicles["A2"], VehicleStatus.MAINTENANCE, "更换轮胎")
    rows = q.status_history(Vehicle.objects.get(pk=ems.vehicles["A2"].pk))
    assert [r.status for r in rows] == ["maintenance", "available", "on_scene", "dispatched"]
    assert rows[0].reason == "更换轮胎" and rows[2].call_no == m.call.call_no and rows[3].what == "调度派车"


def test_the_fleet_pages(ems, admins, client):
    send(ems, "A1")
    login(client, ems.dispatcher)
    html = client.get(reverse("emergency:fleet")).content.decode()
    assert "蓝山县急救中心" in html and "总市急救站" in html and "湘M·12101" in html
    assert 'data-testid="fleet-manage"' not in html  # the dispatcher sees, does not keep
    detail = client.get(reverse("emergency:vehicle", args=[ems.vehicles["A1"].pk])).content.decode()
    assert "出车" in detail and "急救医生甲" in detail and 'data-testid="vehicle-edit-form"' not in detail
    assert client.post(reverse("emergency:vehicle", args=[ems.vehicles["A2"].pk]),
                       {"action": "status", "status": "maintenance", "reason": "x"}).status_code == 403
    login(client, ems.cast.outsider)
    assert "蓝山县急救中心" not in client.get(reverse("emergency:fleet")).content.decode()
    assert client.get(reverse("emergency:vehicle", args=[ems.vehicles["A1"].pk])).status_code == 404
    login(client, ems.cast.village_doctor)
    assert client.get(reverse("emergency:fleet")).status_code == 403


def test_the_station_admin_keeps_the_vehicle_from_its_page(ems, admins, client):
    login(client, admins["command"])
    url = reverse("emergency:vehicle", args=[ems.vehicles["A2"].pk])
    assert 'data-testid="vehicle-edit-form"' in client.get(url).content.decode()
    r = client.post(url, {"action": "edit", "call_sign": "A2", "plate": "湘M·12002", "kind": "monitoring",
                          "equipment": ["ecg12", "monitor"], "gps_device_id": "T-2", "active": "true"}, follow=True)
    assert "车辆信息已保存" in r.content.decode()
    a2 = Vehicle.objects.get(pk=ems.vehicles["A2"].pk)
    assert a2.kind == "monitoring" and a2.equipment == ["ecg12", "monitor"] and a2.gps_device_id == "T-2"
    r = client.post(url, {"action": "status", "status": "maintenance", "reason": ""}, follow=True)
    assert "请填写维修原因" in r.content.decode()
    client.post(url, {"action": "crew_add", "name": "护士丙", "role": "nurse"})
    assert CrewMember.objects.filter(vehicle=a2, name="护士丙").exists()
    station = reverse("emergency:station", args=[ems.command.pk])
    r = client.post(station, {"action": "vehicle_new", "call_sign": "A7", "plate": "湘M·12007", "kind": "basic"},
                    follow=True)
    assert "车辆已添加" in r.content.decode() and Vehicle.objects.filter(call_sign="A7").exists()
    # not the township station's
    r = client.post(reverse("emergency:station", args=[ems.township_station.pk]),
                    {"action": "vehicle_new", "call_sign": "B7", "plate": "湘M·12107"})
    assert r.status_code == 403 and not Vehicle.objects.filter(call_sign="B7").exists()


def test_the_fleet_api(ems, admins, client):
    api = "/api/v1/emergency/fleet"
    login(client, admins["township"])
    stations = client.get(f"{api}/stations").json()
    assert {s["name"] for s in stations} >= {"总市急救站"}
    b1 = ems.vehicles["B1"]
    r = client.post(f"{api}/vehicles/{b1.pk}/status", {"status": "maintenance", "reason": "保养"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "maintenance"
    r = client.patch(f"{api}/vehicles/{ems.vehicles['A1'].pk}", {"plate": "湘M·99999"},
                     content_type="application/json")
    assert r.status_code == 403 and r["Content-Type"] == "application/problem+json"
    r = client.post(f"{api}/vehicles/{b1.pk}/crew", {"role": "driver", "name": "司机丁"},
                    content_type="application/json")
    assert r.status_code == 201
    member = r.json()["id"]
    assert client.patch(f"{api}/crew/{member}", {"on_shift": False}, content_type="application/json") \
        .json()["on_shift"] is False
    assert client.delete(f"{api}/crew/{member}").status_code == 204


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_crew_and_fleet_page_as_every_role_answers_without_a_server_error(ems, admins, client, lang):
    m = send(ems, "A1")
    v, s = ems.vehicles["A1"], ems.command
    pages = [reverse("emergency:crew"), reverse("emergency:crew_mission", args=[m.pk]), reverse("emergency:crew_poll"),
             reverse("emergency:crew_sw"), reverse("emergency:crew_manifest"), reverse("emergency:fleet"),
             reverse("emergency:station", args=[s.pk]), reverse("emergency:vehicle", args=[v.pk])]
    api = ["/api/v1/emergency/vehicles", f"/api/v1/emergency/vehicles/{v.pk}", "/api/v1/emergency/missions/current",
           f"/api/v1/emergency/missions/{m.pk}", "/api/v1/emergency/fleet/stations",
           f"/api/v1/emergency/fleet/vehicles/{v.pk}/crew"]
    c = ems.cast
    players = [ems.dispatcher, ems.crew_a1, ems.crew_b1, c.manager, c.bureau, c.city, c.village_doctor, c.auditor,
               c.outsider, c.county_doctor, admins["command"], admins["township"]]
    bad = []
    for user in players:
        login(client, user)
        client.cookies["django_language"] = lang
        for url in pages + api:
            code = client.get(url).status_code
            if code not in (200, 204, 302, 403, 404):
                bad.append((user.username, url, code))
    client.logout()
    for url in pages:
        if client.get(url).status_code not in (302, 200):
            bad.append(("anonymous", url))
    assert not bad, bad
