"""Mutual recognition: recent results of a recognised item in the community, within its window, come first; the
doctor recognises one (no order, the cost saved) or orders a repeat with a reason."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.cast import as_
from tests.telemedicine.conftest import make_order
from yigongti.core.errors import Forbidden, InvalidInput, NotFound
from yigongti.telemedicine import catalog, recognition
from yigongti.telemedicine.models import Order
from yigongti.telemedicine.services import orders as svc

pytestmark = pytest.mark.django_db


def _result(centers, code, *, by, days_ago=0):
    c = centers.cast
    order = make_order(centers, code, by=by, resident=c.resident)
    svc.sign_report(order.pk, {"conclusion": "未见异常"}, actor=as_(centers.reader))
    if days_ago:
        Order.objects.filter(pk=order.pk).update(reported_at=order.ordered_at - dt.timedelta(days=days_ago))
    return order


def test_results_from_any_facility_in_the_window_are_offered(centers):
    c = centers.cast
    township = _result(centers, "CBC", by=c.township_doctor, days_ago=2)
    _result(centers, "CBC", by=c.county_doctor, days_ago=10)  # outside the 7-day window
    _result(centers, "DX-CHEST", by=c.county_doctor)  # another item
    rows = recognition.recent_for(as_(c.village_doctor), c.resident.pk, centers.items["CBC"].pk)
    assert [o.pk for o in rows] == [township.pk]


def test_items_off_the_list_offer_nothing(centers):
    c = centers.cast
    _result(centers, "TROP", by=c.township_doctor)
    assert recognition.recent_for(as_(c.village_doctor), c.resident.pk, centers.items["TROP"].pk) == []
    make_order(centers, "TROP", by=c.village_doctor, resident=c.resident, repeat_reason="")  # no reason needed


def test_recognising_records_the_saving_and_needs_a_result_in_the_window(centers):
    c = centers.cast
    prior = _result(centers, "CT-HEAD", by=c.county_doctor, days_ago=30)
    item = centers.items["CT-HEAD"]
    rec = recognition.recognise_result(c.resident.pk, item.pk, prior.pk, actor=as_(c.village_doctor))
    assert rec.saved_amount == item.price and rec.facility == c.village_clinic
    old = _result(centers, "CT-HEAD", by=c.county_doctor, days_ago=400)
    with pytest.raises(InvalidInput):
        recognition.recognise_result(c.resident.pk, item.pk, old.pk, actor=as_(c.village_doctor))
    with pytest.raises(NotFound):
        recognition.recognise_result(c.resident.pk, item.pk, prior.pk, actor=as_(c.other_village_doctor))
    with pytest.raises(Forbidden):
        recognition.recognise_result(c.resident.pk, item.pk, prior.pk, actor=as_(c.manager))


def test_the_window_and_list_are_data_the_director_keeps(centers):
    c = centers.cast
    catalog.save_item(centers.lab, {"code": "TROP", "name": "心肌肌钙蛋白 I", "recognised": True,
                                    "validity_days": 1}, actor=as_(centers.reader))
    prior = _result(centers, "TROP", by=c.township_doctor)
    assert [o.pk for o in recognition.recent_for(as_(c.village_doctor), c.resident.pk,
                                                 centers.items["TROP"].pk)] == [prior.pk]
    with pytest.raises(InvalidInput):
        catalog.save_item(centers.lab, {"code": "TROP", "name": "x", "recognised": True}, actor=as_(centers.reader))
    with pytest.raises(Forbidden):
        catalog.save_item(centers.lab, {"code": "NEW", "name": "x"}, actor=as_(centers.reviewer))
    t = catalog.save_template(centers.lab, {"name": "血常规正常", "item": centers.items["CBC"].pk,
                                            "conclusion": "血常规未见异常"}, actor=as_(centers.reader))
    catalog.delete_template(centers.lab, t.pk, actor=as_(centers.reader))
    with pytest.raises(InvalidInput):
        catalog.save_template(centers.lab, {"name": "x", "item": centers.items["ECG12"].pk, "conclusion": "y"},
                              actor=as_(centers.reader))
