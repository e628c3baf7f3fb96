"""Village doctors on the cast: the township keeps the licence and training, the doctor checks in at the clinic
(far away: flagged) and asks for leave, the township approves; the sheet scores a month from the check-ins and
the public-health records plus the typed items; ranks; API problem+json; the pages."""

import datetime as dt
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.utils import timezone

from tests.cast import PASSWORD, SYSTEM, as_
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.orgs.models import Role
from yigongti.orgs.services import create_account
from yigongti.workforce.models import ClinicCheckIn, Holiday, LeaveStatus, Site
from yigongti.workforce.queries import village as vq
from yigongti.workforce.services import village as vs


@pytest.fixture
def vd(cast):
    admin = create_account(actor=SYSTEM, username="vd_admin", role=Role.FACILITY_ADMIN, password=PASSWORD,
                           facility=cast.township_center)[0]
    other_admin = create_account(actor=SYSTEM, username="vd_other_admin", role=Role.FACILITY_ADMIN,
                                 password=PASSWORD, facility=cast.other_center)[0]
    Site.objects.create(facility=cast.village_clinic, lon=112.19, lat=25.37)
    sheet = vs.create_sheet(as_(cast.manager), cast.community, {"name": "乡村医生考核表", "pass_mark": "60"})
    for data in ({"code": "att", "name": "出勤", "method": "attendance", "max_points": "30"},
                 {"code": "ph", "name": "公卫任务", "method": "public_health", "max_points": "30", "target": "4"},
                 {"code": "sat", "name": "居民满意度", "method": "entered", "max_points": "20"},
                 {"code": "drug", "name": "药品管理", "method": "entered", "max_points": "10"},
                 {"code": "rec", "name": "档案质量", "method": "entered", "max_points": "10"}):
        vs.add_item(as_(cast.manager), sheet, data)
    return SimpleNamespace(admin=admin, other_admin=other_admin, sheet=sheet, doctor=cast.village_doctor.staff,
                           other=cast.other_village_doctor.staff)


def test_licence_and_training_are_the_townships(cast, vd):
    lic = vs.set_licence(as_(vd.admin), vd.doctor, {"number": "湘4311270001", "issued_on": "2022-03-01"})
    assert lic.valid_until == dt.date(2027, 2, 28)
    with pytest.raises(Forbidden):
        vs.set_licence(as_(vd.other_admin), vd.doctor, {"number": "X", "issued_on": "2022-03-01"})
    with pytest.raises(Conflict) as e:
        vs.set_licence(as_(vd.other_admin), vd.other, {"number": "湘4311270001", "issued_on": "2022-03-01"})
    assert e.value.code == "licence_number_used"
    with pytest.raises(InvalidInput):
        vs.set_licence(as_(vd.admin), vd.doctor, {"number": "", "issued_on": "2022-03-01"})
    with pytest.raises(InvalidInput):
        vs.set_licence(as_(vd.admin), cast.county_doctor.staff, {"number": "Y", "issued_on": "2022-03-01"})
    vs.record_training(as_(vd.admin), vd.doctor, {"on": "2026-03-02", "hours": "6", "topic": "高血压规范管理"})
    with pytest.raises(InvalidInput):
        vs.record_training(as_(vd.admin), vd.doctor, {"on": "2026-03-02", "hours": "abc", "topic": "x"})
    assert vq.training_hours([vd.doctor.pk], 2026) == {vd.doctor.pk: D(6)}
    vs.set_licence(as_(vd.admin), vd.doctor, {"number": "湘4311270001", "issued_on": "2021-12-01",
                                             "valid_until": (timezone.localdate() + dt.timedelta(days=30)).isoformat()})
    assert [s.pk for s in vq.due_for_renewal(vd.admin)] == [vd.doctor.pk]


def test_check_in_flags_a_far_position_and_only_once_a_day(cast, vd):
    with pytest.raises(Forbidden):
        vs.clinic_check_in(as_(cast.township_doctor), {})
    row = vs.clinic_check_in(as_(cast.village_doctor), {"lon": 112.30, "lat": 25.37})
    assert row.flagged and row.distance_m > 1000
    with pytest.raises(Conflict):
        vs.clinic_check_in(as_(cast.village_doctor), {})
    near = vs.clinic_check_in(as_(cast.other_village_doctor), {})
    assert not near.flagged and near.distance_m is None


def test_leave_asked_by_the_doctor_decided_by_the_township_counts_in_attendance(cast, vd):
    month = dt.date(2026, 11, 1)
    leave = vs.request_leave(as_(cast.village_doctor), {"kind": "sick", "start": "2026-11-02", "end": "2026-11-06",
                                                       "reason": "感冒"})
    with pytest.raises(Conflict):
        vs.request_leave(as_(cast.village_doctor), {"kind": "annual", "start": "2026-11-05", "end": "2026-11-09"})
    with pytest.raises(InvalidInput):
        vs.request_leave(as_(cast.village_doctor), {"kind": "x", "start": "2026-11-09", "end": "2026-11-08"})
    with pytest.raises(Forbidden):
        vs.decide_leave(as_(vd.other_admin), leave, True)
    assert vs.decide_leave(as_(vd.admin), leave, True).status == LeaveStatus.APPROVED
    with pytest.raises(Conflict):
        vs.decide_leave(as_(vd.admin), leave, False)
    Holiday.objects.create(day=dt.date(2026, 11, 30), name="测试假日")
    for d in (9, 10, 11):
        ClinicCheckIn.objects.create(staff=vd.doctor, facility=cast.village_clinic, day=dt.date(2026, 11, d),
                                     checked_in_at=timezone.now())
    a = vq.month_attendance([vd.doctor.pk], month, today=dt.date(2026, 12, 4))[vd.doctor.pk]
    assert (a.working, a.leave, a.present) == (20, 5, 3)
    assert a.rate == D("20.0")


def test_the_township_scores_a_month_from_the_records_and_ranks_it(cast, vd):
    month = dt.date(2026, 11, 1)
    for d in range(2, 28):
        if dt.date(2026, 11, d).weekday() < 5:
            ClinicCheckIn.objects.create(staff=vd.doctor, facility=cast.village_clinic, day=dt.date(2026, 11, d),
                                         checked_in_at=timezone.now())
    entered = {"sat": "18", "drug": "9", "rec": "8"}
    a = vs.score_month(as_(vd.admin), vd.doctor, "2026-11", entered)
    # attendance 20/21 → 28.6; no public-health task → 0; (28.6 + 0 + 18 + 9 + 8) / 100
    assert a.points["att"]["points"] == "28.6" and a.points["ph"]["points"] == "0.0"
    assert a.total == D("63.6")
    with pytest.raises(InvalidInput) as e:
        vs.score_month(as_(vd.admin), vd.doctor, "2026-11", {"sat": "25", "drug": "9"})
    assert set(e.value.errors) == {"sat", "rec"}
    with pytest.raises(Forbidden):
        vs.score_month(as_(vd.other_admin), vd.doctor, "2026-11", entered)
    vs.score_month(as_(vd.other_admin), vd.other, "2026-11", {"sat": "20", "drug": "10", "rec": "10"})
    r = vq.ranked(month, cast.community.pk)
    assert (r[vd.doctor.pk].township_rank, r[vd.doctor.pk].county_rank) == (1, 1)
    assert (r[vd.other.pk].township_rank, r[vd.other.pk].county_rank) == (1, 2)
    years = vq.years_of(vd.doctor, vd.sheet.pass_mark, 2026)
    assert years.results[1].passed and years.licence == "incomplete"


def test_public_health_tasks_come_from_the_family_doctor_and_public_health_records(cast, vd):
    from yigongti.publichealth.models import HealthCheck

    HealthCheck.objects.create(resident=cast.resident, date=dt.date(2026, 11, 3), by=vd.doctor,
                               facility=cast.village_clinic)
    assert vq.tasks_done([vd.doctor.pk], dt.date(2026, 11, 1)) == {vd.doctor.pk: 1}


def test_api_attendance_check_in_and_scoring_with_problem_json(cast, vd, login, client):
    login(cast.village_doctor)
    r = client.post("/api/v1/workforce/attendance/check-in", {"lon": 112.19, "lat": 25.37},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["flagged"] is False
    r = client.post("/api/v1/workforce/attendance/check-in", {}, content_type="application/json")
    assert r.status_code == 409 and r["Content-Type"] == "application/problem+json"
    login(vd.admin)
    r = client.get("/api/v1/workforce/attendance")
    assert [row["staff_id"] for row in r.json()] == [vd.doctor.pk] and r.json()[0]["present"] >= 0
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    r = client.post("/api/v1/workforce/assessments", {"staff": vd.doctor.pk, "month": month,
                                                      "points": {"sat": 30}}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "invalid_assessment"
    r = client.post("/api/v1/workforce/assessments", {"staff": vd.doctor.pk, "month": month,
                                                      "points": {"sat": 15, "drug": 8, "rec": 7}},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["township_rank"] == 1
    assert client.get(f"/api/v1/workforce/assessments?month={month}").json()[0]["staff_id"] == vd.doctor.pk
    r = client.post("/api/v1/workforce/assessments", {"staff": vd.other.pk, "month": month, "points": {}},
                    content_type="application/json")
    assert r.status_code == 404


def test_pages(cast, vd, login, client):
    login(cast.village_doctor)
    r = client.get("/workforce/village/me/")
    assert "村卫生室签到" in r.content.decode() and "geolocation=(self)" in r["Permissions-Policy"]
    assert client.post("/workforce/village/me/", {"action": "check_in", "lon": "", "lat": ""}).status_code == 302
    r = client.post("/workforce/village/me/", {"action": "leave", "kind": "sick", "start": "2026-11-09",
                                               "end": "2026-11-01"})
    assert r.status_code == 200 and "结束日期不能早于开始日期" in r.content.decode()
    login(vd.admin)
    for url in ("/workforce/village/", f"/workforce/village/{vd.doctor.pk}/", "/workforce/village/assess/",
                "/workforce/village/sheet/"):
        assert client.get(url).status_code == 200, url
    assert client.get(f"/workforce/village/{vd.other.pk}/").status_code == 404
    r = client.post(f"/workforce/village/{vd.doctor.pk}/", {"action": "licence", "number": "", "issued_on": "x"})
    assert r.status_code == 200 and "请填写执业证书编号" in r.content.decode()
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    r = client.post(f"/workforce/village/assess/?month={month}", {"staff": vd.doctor.pk, "month": month,
                                                                  "i_sat": "99", "i_drug": "5", "i_rec": "5"})
    assert r.status_code == 200 and 'value="99"' in r.content.decode()
    r = client.post(f"/workforce/village/assess/?month={month}", {"staff": vd.doctor.pk, "month": month,
                                                                  "i_sat": "19", "i_drug": "5", "i_rec": "5"})
    assert r.status_code == 302
    assert "考核得分" in client.get(r["Location"]).content.decode()
