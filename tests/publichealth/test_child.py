"""Children 0–6 (services.child, queries.child, the pages and /api/v1/publichealth/child): visits dated before the
birth or in the future refused, out-of-window visits flagged (超窗), measurements checked, due/overdue lists by
the schedule, scope and audit."""

import datetime as dt

import pytest

from tests.cast import as_
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.core.validation import today
from yigongti.publichealth.models import ChildVisit
from yigongti.publichealth.queries import child as q
from yigongti.publichealth.services import child as services
from yigongti.residents.models import Resident

D = dt.timedelta


@pytest.fixture
def baby(care):
    Resident.objects.filter(pk=care.child.pk).update(birth_date=today() - D(days=100))  # month_3 window 91–120
    care.child.refresh_from_db()
    return care.child


def test_a_visit_is_recorded_in_its_window_with_age_and_edition(care, baby):
    v = services.record_child_visit(as_(care.cast.village_doctor), baby, {
        "kind": "month_3", "date": today().isoformat(), "weight_kg": "6.2", "length_cm": "61", "development_ok": "1",
        "feeding": "breast"})
    assert (v.age_days, v.window, v.development_ok, v.schedule_edition) == (100, "ok", True, "BPHS-3-2017-child")
    assert v.facility == care.cast.village_clinic
    assert AuditEvent.objects.filter(action="create", object_type="child_visit", object_id=str(v.pk)).exists()
    again = services.record_child_visit(as_(care.cast.village_doctor), baby, {"kind": "month_3",
                                                                              "date": today().isoformat()})
    assert again.pk == v.pk
    with pytest.raises(Conflict):
        services.record_child_visit(as_(care.cast.village_doctor), baby, {"kind": "month_3",
                                                                          "date": (today() - D(days=1)).isoformat()})


def test_out_of_window_is_saved_and_flagged(care, baby):
    v = services.record_child_visit(as_(care.cast.village_doctor), baby, {
        "kind": "month_1", "date": (today() - D(days=40)).isoformat()})  # day 60: 满月 is 28–30
    assert v.window == "late" and ChildVisit.objects.filter(pk=v.pk).exists()


@pytest.mark.parametrize("kw,field", [
    ({"date": (dt.date.today() + D(days=1)).isoformat()}, "date"),
    ({"date": (dt.date.today() - D(days=101)).isoformat()}, "date"),  # before the birth
    ({"kind": "month_99"}, "kind"),
    ({"weight_kg": "90"}, "weight_kg"),
    ({"head_cm": "abc"}, "head_cm"),
    ({"feeding": "juice"}, "feeding"),
])
def test_bad_visits_are_refused_with_the_field_named(care, baby, kw, field):
    with pytest.raises(InvalidInput) as e:
        services.record_child_visit(as_(care.cast.village_doctor), baby, {"kind": "month_3",
                                                                          "date": today().isoformat(), **kw})
    assert field in e.value.errors
    assert not ChildVisit.objects.exists()


def test_children_lists_are_scoped_with_due_and_overdue(care, baby):
    vd = as_(care.cast.village_doctor)
    rows = q.list_children(vd).items
    assert [r.child.pk for r in rows] == [baby.pk]
    plan = {p.window.code: p.status for p in rows[0].plan}
    assert plan["month_3"] == "due" and plan["month_1"] == "missed" and plan["month_6"] == "upcoming"
    assert [r.child.pk for r in q.list_children(vd, due="due").items] == [baby.pk]
    assert not q.list_children(vd, due="overdue").items
    services.record_child_visit(vd, baby, {"kind": "month_3", "date": today().isoformat()})
    assert not q.list_children(vd, due="todo").items
    assert not q.list_children(as_(care.cast.other_village_doctor)).items
    assert AuditEvent.objects.filter(action="list", object_type="child").exists()
    Resident.objects.filter(pk=baby.pk).update(birth_date=today() - D(days=130))
    assert [r.child.pk for r in q.list_children(vd, due="overdue").items] == []  # month_3 done
    assert q.counts(care.cast.village_doctor)["children"] == 1


def test_pages_and_api(care, baby, client, login):
    login(care.cast.village_doctor)
    assert baby.name in client.get("/publichealth/children/").content.decode()
    r = client.get(f"/publichealth/children/{baby.pk}/visit/")
    assert r.status_code == 200 and 'value="month_3" selected' in r.content.decode()
    r = client.post(f"/publichealth/children/{baby.pk}/visit/", {"kind": "month_3",
                                                                 "date": (today() + D(days=3)).isoformat()})
    assert r.status_code == 422
    r = client.post(f"/publichealth/children/{baby.pk}/visit/", {"kind": "month_3", "date": today().isoformat(),
                                                                 "weight_kg": "6.1"})
    assert r.status_code == 302
    page = client.get(f"/publichealth/children/{baby.pk}/").content.decode()
    assert 'data-testid="plan-month_3" data-status="done"' in page
    r = client.post(f"/api/v1/publichealth/child/{baby.pk}/visits", {"kind": "month_1", "date": today().isoformat()},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["window"] == "late"
    r = client.post(f"/api/v1/publichealth/child/{baby.pk}/visits", {"kind": "month_6", "date": "2000-01-01"},
                    content_type="application/json")
    assert r.status_code == 422 and "date" in r.json()["errors"]
    got = client.get(f"/api/v1/publichealth/child/{baby.pk}").json()
    assert {v["kind"]: v["window"] for v in got["visits"]} == {"month_3": "ok", "month_1": "late"}
    listed = client.get("/api/v1/publichealth/child?due=todo").json()
    assert listed["count"] == 0
    assert client.get("/api/v1/publichealth/child").json()["items"][0]["child"]["id"] == baby.pk
