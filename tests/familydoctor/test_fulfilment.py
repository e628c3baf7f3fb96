"""familydoctor.services.fulfilment: the contract year's schedule, manual deliveries, deliveries from other apps."""

import datetime as dt

import pytest

from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.familydoctor.models import (
    Contract,
    DeliverySource,
    ScheduledService,
    ServiceDelivery,
    ServiceKind,
    TeamSession,
)
from yigongti.familydoctor.services import fulfilment

START = dt.date(2026, 1, 1)


def make_contract(care, resident, *, package=None, team=None, number=None, start=START):
    c = Contract.objects.create(
        number=number or f"QY{resident.pk:06d}", resident=resident, team=team or care.team,
        package=package or care.basic, village=resident.village, signed_on=start, start=start,
        end=start.replace(year=start.year + 1) - dt.timedelta(days=1), doctor=care.cast.village_doctor.staff)
    fulfilment.schedule_contract(c)
    return c


def test_schedule_follows_the_package_and_the_residents_tags(care):
    grandpa = make_contract(care, care.grandfather)  # htn + elderly: FU×4, HC×1, CONS×1, EDU×2
    mother = make_contract(care, care.mother)  # maternal: CONS×1, EDU×2
    assert ScheduledService.objects.filter(contract=grandpa).count() == 8
    assert ScheduledService.objects.filter(contract=mother).count() == 3
    fu = ScheduledService.objects.filter(contract=grandpa, service=care.services["FU"]).order_by("seq")
    assert [s.due_by for s in fu][-1] == dt.date(2026, 12, 31)
    assert fulfilment.schedule_contract(grandpa) == 0  # idempotent


def test_record_from_source_fills_the_first_open_slot_once(care):
    c = make_contract(care, care.grandfather)
    kw = {"resident": care.grandfather, "kind": ServiceKind.FOLLOW_UP, "on": dt.date(2026, 3, 2),
              "by": care.cast.village_doctor.staff, "facility": care.cast.village_doctor.facility,
              "source": DeliverySource.CHRONIC, "source_id": "chronic.followup:1"}
    d = fulfilment.record_from_source(**kw)
    assert d is not None and d.contract == c and d.service == care.services["FU"]
    slot = ScheduledService.objects.get(delivery=d)
    assert slot.seq == 1
    again = fulfilment.record_from_source(**kw)
    assert again.pk == d.pk and ServiceDelivery.objects.count() == 1
    d2 = fulfilment.record_from_source(**{**kw, "source_id": "chronic.followup:2"})
    assert ScheduledService.objects.get(delivery=d2).seq == 2


def test_record_from_source_without_contract_or_service_returns_none(care):
    kw = {"kind": ServiceKind.FOLLOW_UP, "on": dt.date(2026, 3, 2), "by": None, "facility": None,
              "source": DeliverySource.CHRONIC, "source_id": "x:1"}
    assert fulfilment.record_from_source(resident=care.grandmother, **kw) is None  # no contract
    make_contract(care, care.mother)  # basic package, but FU only for htn/t2dm
    assert fulfilment.record_from_source(resident=care.mother, **kw) is None
    assert fulfilment.record_from_source(resident=care.mother, **{**kw, "kind": ServiceKind.TCM}) is None
    assert ServiceDelivery.objects.count() == 0


def test_team_member_records_a_delivery_in_a_session(care):
    c = make_contract(care, care.grandfather)
    vd = care.cast.village_doctor
    s = TeamSession.objects.create(team=care.team, date=dt.date(2026, 5, 6), starts=dt.time(8), ends=dt.time(17),
                                   village=care.cast.village)
    d = fulfilment.record_delivery(vd, c, {"service": care.services["EDU"].pk, "delivered_on": "2026-05-06",
                                           "place": "入户", "session": s.pk, "note": "低盐饮食"})
    assert d.by == vd.staff and d.session == s and d.source == DeliverySource.MANUAL
    assert ScheduledService.objects.get(delivery=d).seq == 1


@pytest.mark.parametrize("data,field", [
    ({"service": 0, "delivered_on": "2026-05-06"}, "service"),
    ({"delivered_on": "2099-01-01"}, "delivered_on"),
    ({"delivered_on": "2025-05-06"}, "delivered_on"),
    ({"delivered_on": "6 May"}, "delivered_on"),
    ({"delivered_on": "2026-05-06", "session": 999999}, "session"),
])
def test_bad_delivery_input_names_the_field(care, data, field):
    c = make_contract(care, care.grandfather)
    data = {"service": care.services["EDU"].pk, **data}
    with pytest.raises(InvalidInput) as e:
        fulfilment.record_delivery(care.cast.village_doctor, c, data)
    assert field in e.value.errors
    assert ServiceDelivery.objects.count() == 0


def test_only_team_members_record(care):
    c = make_contract(care, care.grandfather)
    with pytest.raises(Forbidden):
        fulfilment.record_delivery(care.cast.other_village_doctor, c,
                                   {"service": care.services["EDU"].pk, "delivered_on": "2026-05-06"})


def test_a_record_dated_outside_every_contract_is_not_counted(care):
    make_contract(care, care.grandfather)  # 2026
    kw = {"resident": care.grandfather, "kind": ServiceKind.FOLLOW_UP, "by": None, "facility": None,
              "source": DeliverySource.CHRONIC}
    assert fulfilment.record_from_source(on=dt.date(2025, 12, 30), source_id="f:1", **kw) is None
    assert fulfilment.record_from_source(on=dt.date(2026, 1, 2), source_id="f:2", **kw) is not None
