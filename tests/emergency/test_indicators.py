"""The 120 indicators: answered within 10 s, out within 3 minutes, response times by priority and township, on-scene
and hand-over times, ambulances per 30,000 residents, the negative-pressure share, pre-hospital records; targets
from 国卫医发〔2020〕19号, configurable."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import override_settings
from django.utils import timezone

from yigongti.emergency import indicators as em
from yigongti.emergency.models import Call, CallEvent, Mission, PrehospitalRecord
from yigongti.encounters.models import PopulationByAge
from yigongti.indicators.definitions import INDICATORS
from yigongti.indicators.periods import Period
from yigongti.indicators.queries import Area

_seq = iter(range(1, 10_000))


def _period() -> Period:
    m = timezone.localdate().strftime("%Y-%m")
    return Period("month", m, m, m)


def _start() -> dt.datetime:
    """A moment inside this month, early enough that a mission's time points stay in it."""
    today = timezone.localdate()
    return timezone.make_aware(dt.datetime.combine(today.replace(day=1), dt.time(1)))


def _call(ems, region, *, answer_s: float, priority: int = 2, vehicle: str | None = None, out_s: float = 60,
          travel_min: float = 10, scene_min: float = 12, transport_min: float = 15, handover_min: float = 8,
          at: dt.datetime | None = None, record: bool = True) -> Call:
    """A call with its time points written as the dispatcher's and the crew's services would have."""
    ring = at or _start() + dt.timedelta(minutes=next(_seq))
    call = Call.objects.create(call_no=f"120-T{next(_seq):06d}", area_code=region.code, region=region,
                               priority=priority, rang_at=ring, status="closed", taken_by=ems.dispatcher)
    answer = ring + dt.timedelta(seconds=answer_s)
    CallEvent.objects.create(call=call, kind="ring", at=ring)
    CallEvent.objects.create(call=call, kind="answer", at=answer)
    if vehicle is None:
        return call
    order = answer + dt.timedelta(seconds=90)
    m = Mission.objects.create(call=call, vehicle=ems.vehicles[vehicle], status="completed", dispatched_at=order)
    t = {"dispatch_order": order, "wheels_rolling": order + dt.timedelta(seconds=out_s)}
    t["on_scene"] = t["wheels_rolling"] + dt.timedelta(minutes=travel_min)
    t["fmc"] = t["on_scene"] + dt.timedelta(minutes=1)
    t["leave_scene"] = t["on_scene"] + dt.timedelta(minutes=scene_min)
    t["arrive_hospital"] = t["leave_scene"] + dt.timedelta(minutes=transport_min)
    t["handover"] = t["arrive_hospital"] + dt.timedelta(minutes=handover_min)
    for kind, when in t.items():
        CallEvent.objects.create(call=call, mission=m, kind=kind, at=when)
    if record:
        PrehospitalRecord.objects.create(mission=m, impression="急性胸痛")
    return call


def _county(cast) -> Area:
    return Area("county", cast.county.code, cast.county.name, cast.county.prefix)


def test_answered_within_10_seconds_is_the_share_of_calls_answered_in_time(ems):
    cast = ems.cast
    for seconds in (4, 9.5, 14):
        _call(ems, cast.village, answer_s=seconds)
    v = em.answered(_county(cast), _period())
    assert (v.numerator, v.denominator, v.value) == (2, 3, Decimal("66.67"))
    assert v.indicator.target == 95 and v.status == "red"
    far = cast.far_county
    assert em.answered(Area("county", far.code, far.name, far.prefix), _period()).denominator == 0


def test_out_within_3_minutes_counts_dispatch_order_to_wheels_rolling(ems):
    cast = ems.cast
    _call(ems, cast.village, answer_s=5, vehicle="A1", out_s=100)
    _call(ems, cast.village, answer_s=5, vehicle="A2", out_s=179)
    _call(ems, cast.other_village, answer_s=5, vehicle="B1", out_s=240)
    v = em.out_3min(_county(cast), _period())
    assert (v.numerator, v.denominator) == (2, 3)
    # the township station's own figure: its one mission, late
    station = Area("facility", ems.township_station.facility.code, "总市急救站", cast.other_township.prefix,
                   facility_key=ems.township_station.facility.code)
    v = em.out_3min(station, _period())
    assert (v.numerator, v.denominator, v.value) == (0, 1, Decimal("0.00"))


def test_response_time_is_ring_to_the_first_vehicle_on_scene_by_priority_and_township(ems):
    cast = ems.cast
    near = _call(ems, cast.village, answer_s=5, priority=1, vehicle="A1", out_s=60, travel_min=8)
    _call(ems, cast.village, answer_s=5, priority=3, vehicle="A2", out_s=60, travel_min=14)
    _call(ems, cast.other_village, answer_s=5, priority=1, vehicle="B1", out_s=60, travel_min=30)
    # a second vehicle sent to the first call later does not change its response
    m2 = Mission.objects.create(call=near, vehicle=ems.vehicles["A3"], status="completed",
                                dispatched_at=near.rang_at + dt.timedelta(minutes=5))
    CallEvent.objects.create(call=near, mission=m2, kind="on_scene", at=near.rang_at + dt.timedelta(minutes=40))
    # ring → answer 5 s, → order 90 s, → out 60 s, + travel
    base = (5 + 90 + 60) / 60
    v = em.response(_county(cast), _period())
    assert v.value == Decimal(str(round(base + (8 + 14 + 30) / 3, 2)))
    assert "I级" in v.extra["note"] and "III级" in v.extra["note"]
    by_priority = {r.key: r for r in em.response_by(_county(cast), _period(), by="priority")}
    assert by_priority["1"].n == 2 and by_priority["3"].n == 1 and by_priority["4"].n == 0
    assert by_priority["1"].mean_min == round(base + 19, 1)
    towns = em.response_by(_county(cast), _period(), by="township")
    assert [r.label for r in towns] == [cast.other_township.name, cast.township.name]  # slowest first
    assert towns[0].mean_min == round(base + 30, 1)


def test_on_scene_and_handover_times_are_means_of_the_missions(ems):
    cast = ems.cast
    _call(ems, cast.village, answer_s=5, vehicle="A1", scene_min=10, handover_min=6)
    _call(ems, cast.village, answer_s=5, vehicle="A2", scene_min=20, handover_min=20)
    assert em.on_scene(_county(cast), _period()).value == Decimal("15.00")
    handover = em.handover(_county(cast), _period())
    assert handover.value == Decimal("13.00") and handover.status == "green"  # ≤ 15 min, the local default


def test_ambulances_per_30000_residents_and_the_negative_pressure_share(ems):
    cast = ems.cast
    for sex, n in (("M", 31_000), ("F", 29_000)):
        PopulationByAge.objects.create(area_code=cast.county.code, year=2026, sex=sex, age_from=40, population=n)
    v = em.ambulances(_county(cast), _period())
    assert (v.numerator, v.denominator, v.value) == (5, 60_000, Decimal("2.50"))
    assert v.status == "green"
    share = em.negative_pressure(_county(cast), _period())
    assert (share.numerator, share.denominator, share.value) == (1, 5, Decimal("20.00"))
    assert share.status == "red"  # 19号文: ≥ 40 %
    ems.vehicles["N1"].active = False
    ems.vehicles["N1"].save()
    assert em.negative_pressure(_county(cast), _period()).numerator == 0


def test_prehospital_record_rate_counts_missions_that_reached_the_patient(ems):
    cast = ems.cast
    _call(ems, cast.village, answer_s=5, vehicle="A1")
    _call(ems, cast.village, answer_s=5, vehicle="A2", record=False)
    _call(ems, cast.village, answer_s=5)  # no vehicle: not counted
    v = em.records(_county(cast), _period())
    assert (v.numerator, v.denominator) == (1, 2)


def test_the_indicators_are_registered_with_their_19hao_targets():
    for code in em.FIGURES:
        ind = INDICATORS[code]
        assert ind.kind == "registry" and ind.definition and ind.definition_en
    assert INDICATORS["EM_OUT_3MIN"].target == 95 and "19号" in INDICATORS["EM_OUT_3MIN"].target_origin
    assert INDICATORS["EM_RESPONSE"].direction == "lower"


@override_settings(YIGONGTI_EMERGENCY_TARGETS={"EM_OUT_3MIN": 90, "EM_RESPONSE": None})
def test_targets_are_configurable(ems):
    _call(ems, ems.cast.village, answer_s=5, vehicle="A1", out_s=200)
    v = em.out_3min(_county(ems.cast), _period())
    assert v.indicator.target == 90 and v.indicator.target_source == em.CONFIGURED
    assert em.response(_county(ems.cast), _period()).indicator.target is None


def test_pure_helpers_refuse_negative_intervals():
    t0 = timezone.now()
    assert em.seconds_between({"a": t0, "b": t0 - dt.timedelta(seconds=1)}, "a", "b") is None
    assert em.seconds_between({"a": t0}, "a", "b") is None
    assert em.share_within([5, 10, 11, None], 10) == (2, 3)
    assert em.response_seconds({"ring": t0}, [{"on_scene": t0 + dt.timedelta(minutes=9)},
                                              {"on_scene": t0 + dt.timedelta(minutes=7)}]) == 420
    assert em.per_30k(3, 0) is None and em.per_30k(15, 450_000) == Decimal("1.00")
