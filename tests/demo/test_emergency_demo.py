"""The demo county's year of 120 calls is consistent with its population, encounters, ECG center and referrals:
every mission's time points in order, no vehicle on two missions at once, slower responses in the mountain
townships, and chest-pain, stroke and trauma cases tied to their calls, some meeting and some missing targets."""

import datetime as dt
import itertools
import statistics
from collections import Counter, defaultdict

from yigongti.demo.build import build_demo, demo_now
from yigongti.emergency.models import (
    Call,
    CallEvent,
    CrewMember,
    Mission,
    PreArrivalAlert,
    PrehospitalRecord,
    Station,
    Vehicle,
)
from yigongti.encounters.models import Encounter
from yigongti.orgs.models import User
from yigongti.pathways import metrics
from yigongti.pathways.models import Case, CaseEvent, DelayReason, PathwayCenter

TODAY = dt.date(2026, 11, 20)
MISSION_ORDER = ["dispatch_order", "crew_ack", "wheels_rolling", "on_scene", "fmc", "leave_scene",
                 "arrive_hospital", "handover", "available"]
CALL_ORDER = ["ring", "answer", "address_confirmed", "priority"]


def test_the_demo_county_runs_its_120_network_for_a_year(transactional_db):
    logins = build_demo(population=3000, seed=7, today=TODAY)
    now = demo_now(TODAY)
    names = {row["username"] for row in logins}
    assert {"crew", "crew_township", "dispatcher"} <= names

    # stations: the command center, the county hospital's sub-center, three township stations
    kinds = Counter(Station.objects.values_list("kind", flat=True))
    assert kinds == {"command": 1, "sub_center": 1, "station": 3}
    assert Station.objects.filter(kind="sub_center", facility__type="A100").exists()
    assert not Station.objects.filter(node__isnull=True).exists()
    vehicles = Vehicle.objects.all()
    assert vehicles.count() >= 6 and vehicles.filter(kind="negative_pressure").count() in (1, 2)
    assert all(CrewMember.objects.filter(vehicle=v).exists() for v in vehicles)
    crew = CrewMember.objects.get(user__username="crew")
    assert crew.role == "doctor" and crew.vehicle.station.kind == "command"
    nurse = CrewMember.objects.get(user__username="crew_township")
    assert nurse.role == "nurse" and nurse.vehicle.station.kind == "station"
    assert nurse.vehicle.station.facility_id == User.objects.get(username="crew_township").facility_id

    centers = PathwayCenter.objects.all()
    assert set(centers.filter(facility__type="A100").values_list("kind", flat=True)) == {
        "chest_pain", "stroke", "trauma", "maternal", "neonatal"}
    units = centers.filter(kind="chest_pain", level="unit")
    assert 3 <= units.count() <= 5 and all(u.facility.care_level == "township" for u in units)

    # calls: every one rang and was answered, most within 10 s; the day's rhythm; priorities mixed
    calls = Call.objects.all()
    assert calls.count() > 80
    call_events: dict[int, dict[str, dt.datetime]] = defaultdict(dict)
    for call_id, kind, at in CallEvent.objects.filter(mission__isnull=True).values_list("call_id", "kind", "at"):
        assert kind not in call_events[call_id], "a call's time point is recorded once"
        call_events[call_id][kind] = at
    assert set(call_events) == set(calls.values_list("pk", flat=True))
    within = 0
    for ev in call_events.values():
        seen = [ev[k] for k in CALL_ORDER if k in ev]
        assert seen == sorted(seen) and "ring" in ev and "answer" in ev
        within += (ev["answer"] - ev["ring"]).total_seconds() <= 10
    assert 0.88 < within / len(call_events) < 1.0
    hours = Counter(c.hour for c in (r.astimezone(dt.timezone(dt.timedelta(hours=8)))
                                     for r in calls.values_list("rang_at", flat=True)))
    assert sum(hours[h] for h in (2, 3, 4)) < sum(hours[h] for h in (9, 10, 11))
    assert set(calls.values_list("priority", flat=True)) == {1, 2, 3, 4}
    assert calls.filter(status="merged", merged_into__isnull=False).exists() or calls.count() < 150
    for dup in calls.filter(status="merged").select_related("merged_into"):  # the same incident, minutes later
        assert dup.merged_into.area_code == dup.area_code and dup.merged_into.missions.exists()
        assert dt.timedelta(0) < dup.rang_at - dup.merged_into.rang_at < dt.timedelta(minutes=6)
    assert calls.filter(status="cancelled").exists() and calls.filter(kind="transfer").exists()
    transfers = calls.exclude(kind="emergency")
    assert not transfers.filter(destination__isnull=True).exists()  # a transfer says where it goes
    assert not calls.filter(kind="emergency", destination__isnull=False).exists()
    assert not calls.filter(rang_at__gt=now).exists()

    # missions: every time point once, in the workflow's order, after the call was graded, none in the future
    mission_events: dict[int, dict[str, dt.datetime]] = defaultdict(dict)
    for mid, kind, at in CallEvent.objects.filter(mission__isnull=False).values_list("mission_id", "kind", "at"):
        assert kind not in mission_events[mid]
        mission_events[mid][kind] = at
    missions = list(Mission.objects.select_related("call", "vehicle"))
    assert len(missions) > 60
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for m in missions:
        ev = mission_events[m.pk]
        seen = [ev[k] for k in MISSION_ORDER if k in ev]
        assert seen == sorted(seen), m.pk
        assert ev["dispatch_order"] == m.dispatched_at >= call_events[m.call_id]["priority"]
        assert max(seen) <= now
        if m.status == "completed":
            assert "available" in ev and m.call.closed_at == ev["available"]
            assert ("arrive_hospital" in ev) == (m.destination_id is not None)
        busy[m.vehicle_id].append((ev["dispatch_order"], ev.get("available", now)))
    for spans in busy.values():  # a vehicle runs one mission at a time
        spans.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    # at the demo's now: an ambulance with a STEMI patient, the county team alerted; one call still being taken
    live = [m for m in missions if m.status == "active"]
    assert len(live) == 1 and live[0].vehicle.status in ("on_scene", "transporting")
    assert live[0].vehicle.positions.count() > 3
    alert = PreArrivalAlert.objects.get(mission=live[0])
    assert alert.acknowledged_at is None and alert.eta_at > now and alert.pathway == "chest_pain"
    assert Case.objects.get(call=live[0].call, status="open").subtype == "stemi"
    assert calls.filter(status="open").count() == 1
    assert Vehicle.objects.filter(status="available").count() == vehicles.count() - 1

    # response times: plausible, slower in the mountain townships (乡) than in the county seat's
    response: dict[str, list[float]] = defaultdict(list)
    for m in missions:
        ev = mission_events[m.pk]
        if "on_scene" in ev and m.call.kind == "emergency":
            minutes = (ev["on_scene"] - call_events[m.call_id]["ring"]).total_seconds() / 60
            assert 2 < minutes < 150
            response[m.call.area_code[:9]].append(minutes)
    from yigongti.orgs.models import Region

    towns = {r.code[:9]: r.name for r in Region.objects.filter(level="township")}
    mountain = [x for k, v in response.items() if towns[k].endswith("乡") for x in v]
    seat = [x for k, v in response.items() if towns[k] == "塔峰镇" for x in v]
    assert mountain and seat and statistics.median(mountain) > statistics.median(seat) + 5

    # consistent with the encounters: a transported emergency patient has a visit there that day
    transported = [m for m in missions if m.destination_id and m.call.kind == "emergency" and m.status == "completed"]
    matched = sum(1 for m in transported if Encounter.objects.filter(
        resident_id=m.call.resident_id, facility_id=m.destination_id,
        admit_date=m.call.rang_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()).exists())
    assert matched / len(transported) > 0.97
    # a pre-hospital record with vital signs for (almost) every mission that reached the patient
    reached = [m for m in missions if "fmc" in mission_events[m.pk]]
    written = PrehospitalRecord.objects.filter(mission__in=[m.pk for m in reached]).count()
    assert 0.95 < written / len(reached) <= 1
    assert not PrehospitalRecord.objects.exclude(mission__in=[m.pk for m in reached]).exists()
    assert not PrehospitalRecord.objects.filter(vitals__isnull=True).exists()

    # pathway cases tied to their calls, the ECG center and the referrals
    cases = list(Case.objects.select_related("call", "ecg_order", "referral"))
    kinds = Counter(c.kind for c in cases)
    assert kinds["chest_pain"] and kinds["stroke"]
    assert Case.objects.filter(ecg_order__isnull=False, subtype="stemi").exists()
    assert Case.objects.filter(referral__isnull=False, arrival_mode="transfer").exists()
    per_case: dict[int, dict[str, dt.datetime]] = defaultdict(dict)
    for case_id, code, at in CaseEvent.objects.filter(active=True).values_list("case_id", "code", "at"):
        per_case[case_id][code] = at
    met = missed = explained = 0
    for c in cases:
        assert c.call is not None and c.resident_id == c.call.resident_id
        mission = c.call.missions.get()
        ev, mine = mission_events[mission.pk], per_case[c.pk]
        if mission.status == "active":  # under way: first contact and the ECG so far, no door yet
            assert "door" not in mine and mine["fmc"] == ev["fmc"] and c.status == "open"
            continue
        assert mine["door"] == ev["arrive_hospital"] and mine["call_120"] == c.call.rang_at
        if c.arrival_mode == "transfer":
            assert mine["door_out"] == ev["leave_scene"] and mine["first_door"] < mine["door_out"]
            assert c.first_facility_id == c.call.from_facility_id
        if c.referral_id is not None:  # the ambulance reached the county about when the referral says
            assert abs((mine["door"] - c.referral.arrived_at).total_seconds()) < 40 * 60
        if c.ecg_order is not None:
            assert c.ecg_order.resident_id == c.resident_id and mine["first_ecg"] == c.ecg_order.acquired_at
            assert mission.record.ecg_order_id == c.ecg_order_id
        elif c.arrival_mode == "ems":
            assert mine["fmc"] == ev["fmc"]
        assert max(mine.values()) <= now
        assert PreArrivalAlert.objects.filter(mission=mission, facility=c.facility, pathway=c.kind,
                                              sent_at__lte=ev["arrive_hospital"]).exists()
        result = metrics.case_metrics(c.kind, mine, subtype=c.subtype, arrival_mode=c.arrival_mode)
        met += sum(1 for r in result if r.met)
        late = {r.code for r in metrics.missed(result)}
        missed += len(late)
        reasons = set(DelayReason.objects.filter(case=c).values_list("metric", flat=True))
        assert reasons <= late
        explained += len(reasons)
    assert met > missed > 0 and explained / missed > 0.6
    assert Case.objects.filter(status="closed", outcome__in=["discharged", "died"]).exists()
