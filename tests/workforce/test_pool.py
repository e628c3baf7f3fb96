"""The talent pool: the managers set the posts; a county-hospital doctor assigned to a township (县管乡用) and a
township nurse to a village clinic (乡聘村用), asked for by the township admin, approved by a manager who did not
ask (the work facility follows, the establishment stays), ended; the staffing against the posts; the page."""


import pytest

from tests.cast import PASSWORD, SYSTEM, as_
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.orgs.models import Profession, Role, Staff
from yigongti.orgs.services import create_account
from yigongti.workforce.models import AssignmentKind, AssignmentStatus
from yigongti.workforce.queries import pool as pq
from yigongti.workforce.services import pool as ps


@pytest.fixture
def tp(cast):
    admin = create_account(actor=SYSTEM, username="tp_admin", role=Role.FACILITY_ADMIN, password=PASSWORD,
                           facility=cast.township_center)[0]
    manager2 = create_account(actor=SYSTEM, username="tp_manager2", role=Role.COMMUNITY_MANAGER, password=PASSWORD,
                              facility=cast.county_hospital)[0]
    nurse = Staff.objects.create(name="护士甲", sex="F", profession=Profession.NURSE,
                                 work_facility=cast.township_center, establishment_facility=cast.township_center)
    return admin, manager2, nurse


def test_assignments_follow_the_approval_and_the_staffing_counts_them(cast, tp):
    admin, manager2, nurse = tp
    ps.set_posts(as_(cast.manager), cast.township_center, {"category": "nurse", "posts": "3"})
    with pytest.raises(Forbidden):
        ps.set_posts(as_(admin), cast.township_center, {"category": "nurse", "posts": "9"})
    doctor = cast.county_doctor.staff
    a = ps.request_assignment(as_(admin), {"staff": doctor.pk, "to_facility": cast.township_center.pk,
                                           "start": "2026-12-01", "end": "2027-11-30"})
    assert a.kind == AssignmentKind.COUNTY_TO_TOWNSHIP and a.status == AssignmentStatus.PENDING
    with pytest.raises(Conflict):
        ps.request_assignment(as_(cast.manager), {"staff": doctor.pk, "to_facility": cast.village_clinic.pk,
                                                  "start": "2026-12-01"})
    with pytest.raises(InvalidInput):
        ps.request_assignment(as_(admin), {"staff": nurse.pk, "to_facility": cast.township_center.pk,
                                           "start": "2026-12-01"})
    ps.decide_assignment(as_(cast.manager), a, True)
    doctor.refresh_from_db()
    assert doctor.work_facility_id == cast.township_center.pk
    assert doctor.establishment_facility_id == cast.county_hospital.pk
    b = ps.request_assignment(as_(cast.manager), {"staff": nurse.pk, "to_facility": cast.village_clinic.pk,
                                                  "start": "2026-12-01"})
    assert b.kind == AssignmentKind.TOWNSHIP_TO_VILLAGE
    with pytest.raises(Forbidden):
        ps.decide_assignment(as_(cast.manager), b, True)  # their own request
    ps.decide_assignment(as_(manager2), b, True)
    lines = {(x.facility.pk, x.category): x for x in pq.staffing(cast.manager)}
    nurses = lines[cast.township_center.pk, "nurse"]
    assert (nurses.posts, nurses.establishment, nurses.working, nurses.out, nurses.vacant) == (3, 1, 0, 1, 2)
    assert lines[cast.township_center.pk, "physician"].came == 1
    assert {s.pk for s in pq.pool(as_(cast.manager))} == {doctor.pk, nurse.pk}
    ps.end_assignment(as_(cast.manager), pq.get_assignment_for(cast.manager, a.pk))
    doctor.refresh_from_db()
    assert doctor.work_facility_id == cast.county_hospital.pk
    assert pq.get_assignment_for(cast.manager, a.pk).status == AssignmentStatus.ENDED


def test_the_pool_page(cast, tp, login, client):
    admin, _m2, nurse = tp
    login(admin)
    r = client.get(f"/workforce/pool/?facility={cast.township_center.pk}")
    assert r.status_code == 200 and nurse.name in r.content.decode()
    r = client.post(f"/workforce/pool/?facility={cast.township_center.pk}",
                    {"action": "assign", "staff": nurse.pk, "to_facility": cast.village_clinic.pk, "start": ""})
    assert r.status_code == 200 and "请填写日期" in r.content.decode()
    r = client.post(f"/workforce/pool/?facility={cast.township_center.pk}",
                    {"action": "assign", "staff": nurse.pk, "to_facility": cast.village_clinic.pk,
                     "start": "2026-12-01"})
    assert r.status_code == 302
    login(cast.manager)
    assert "乡聘村用" in client.get("/workforce/pool/").content.decode()


def test_the_assignments_api(cast, tp, login, client):
    admin, _m2, nurse = tp
    login(admin)
    body = {"staff": nurse.pk, "to_facility": cast.village_clinic.pk, "start": "2026-12-01"}
    r = client.post("/api/v1/workforce/assignments", body, content_type="application/json")
    assert r.status_code == 201 and r.json()["kind"] == "township_village"
    r = client.post("/api/v1/workforce/assignments", body, content_type="application/json")
    assert r.status_code == 409 and r["Content-Type"] == "application/problem+json"
    r = client.post("/api/v1/workforce/assignments", {**body, "to_facility": cast.far_hospital.pk},
                    content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "invalid_assignment"
    assert [a["staff_id"] for a in client.get("/api/v1/workforce/assignments?status=pending").json()] == [nurse.pk]
