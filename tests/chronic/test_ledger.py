"""The village ledger (两病患者管理台账): the page the village doctor works from, its counts and filters, its scope,
its constant number of queries, the Excel export in the villages' columns, the API and the home panel."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from tests.cast import as_
from yigongti.chronic import ledger_export
from yigongti.chronic.models import Control, Decision, Enrolment, FollowUp, RegularMedicine, VisitMode
from yigongti.chronic.queries import ledger as q
from yigongti.core.audit import AuditEvent
from yigongti.core.errors import Forbidden, InvalidInput, NotFound
from yigongti.residents.models import Resident

pytestmark = pytest.mark.django_db


def enrol(care, resident, condition="htn", *, next_due=None, last=None, control="", streak=0, village=None,
          facility=None, enrolled_on=dt.date(2021, 1, 4)):
    cast = care.cast
    sbp, dbp, fbg = last if last else (None, None, None)
    return Enrolment.objects.create(
        resident=resident, condition=condition, diagnosed_on=dt.date(2020, 5, 1), enrolled_on=enrolled_on,
        facility=facility or cast.village_clinic, village=village or cast.village, status="managed",
        last_visit_on=(next_due - dt.timedelta(days=90)) if last and next_due else None,
        last_sbp=sbp, last_dbp=dbp, last_fbg=fbg, last_control=control, uncontrolled_streak=streak,
        next_due=next_due)


def visit(e, on, sbp=132, dbp=84, fbg=None, mode=VisitMode.CLINIC, referral=False):
    return FollowUp.objects.create(enrolment=e, resident=e.resident, visit_date=on, mode=mode,
                                   facility=e.facility, sbp=sbp, dbp=dbp, fbg=fbg, control=Control.CONTROLLED,
                                   decision=Decision.ROUTINE, next_visit_on=on + dt.timedelta(days=90),
                                   referral_suggested=referral)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def ledger(care, today):
    """李建国 htn overdue 10 days (uncontrolled twice), 赵桂兰 htn due in 3 days + t2dm never visited; 王秀英 in the
    other village (managed by the other clinic)."""
    c = care.cast
    gf = enrol(care, care.grandfather, next_due=today - dt.timedelta(days=10), last=(162, 98, None),
               control=Control.UNCONTROLLED, streak=2)
    gm = enrol(care, care.grandmother, next_due=today + dt.timedelta(days=3), last=(128, 80, None),
               control=Control.CONTROLLED)
    gm_dm = enrol(care, care.grandmother, "t2dm", enrolled_on=today - dt.timedelta(days=3))  # enrolled, no visit
    far = enrol(care, c.neighbour, next_due=today - dt.timedelta(days=40), village=c.other_village,
                facility=c.other_clinic)
    return {"gf": gf, "gm": gm, "gm_dm": gm_dm, "far": far}


def test_the_ledger_shows_the_villages_patients_most_urgent_first(care, ledger, today):
    lg = q.ledger_for(as_(care.cast.village_doctor), care.cast.village)
    rows = lg.page.items
    assert [r.enrolment_id for r in rows] == [ledger[k].pk for k in ("gf", "gm_dm", "gm")]  # most urgent first
    assert {r.enrolment_id for r in rows} == {ledger["gf"].pk, ledger["gm"].pk, ledger["gm_dm"].pk}
    gf = rows[0]
    assert (gf.state, gf.days, gf.last_bp, gf.control_label) == ("overdue", 10, "162/98", "控制不满意")
    assert gf.phone == "138****1234" and "*" in gf.id_number
    states = {r.enrolment_id: r.state for r in rows}
    assert states[ledger["gm"].pk] == "due" and states[ledger["gm_dm"].pk] == "never"
    s = lg.summary
    assert (s.patients, s.htn, s.t2dm, s.overdue, s.due, s.uncontrolled, s.never) == (2, 2, 1, 1, 3, 1, 1)


@pytest.mark.parametrize(("status", "expected"), [("overdue", {"gf"}), ("due", {"gf", "gm", "gm_dm"}),
                                                  ("uncontrolled", {"gf"}), ("never", {"gm_dm"}),
                                                  ("all", {"gf", "gm", "gm_dm"})])
def test_the_status_filters(care, ledger, status, expected):
    lg = q.ledger_for(as_(care.cast.village_doctor), care.cast.village, q.LedgerFilter(status=status))
    assert {r.enrolment_id for r in lg.page.items} == {ledger[k].pk for k in expected}


def test_condition_and_name_filters(care, ledger):
    actor = as_(care.cast.village_doctor)
    assert [r.enrolment_id for r in q.ledger_for(actor, care.cast.village, q.LedgerFilter(condition="t2dm"))
            .page.items] == [ledger["gm_dm"].pk]
    assert {r.enrolment_id for r in q.ledger_for(actor, care.cast.village, q.LedgerFilter(q="赵")).page.items} == {
        ledger["gm"].pk, ledger["gm_dm"].pk}
    with pytest.raises(InvalidInput) as e:
        q.LedgerFilter.from_query({"condition": "copd"})
    assert e.value.field == "condition"
    with pytest.raises(InvalidInput):
        q.LedgerFilter.from_query({"status": "late"})


def test_this_years_face_to_face_visits_are_counted(care, ledger, today):
    e = ledger["gm"]
    visit(e, today.replace(month=1, day=2))
    visit(e, today.replace(month=1, day=3), mode=VisitMode.PHONE)  # phone visits do not count
    visit(e, today.replace(year=today.year - 1, month=12, day=30))  # last year's neither
    rows = {r.enrolment_id: r for r in q.ledger_for(as_(care.cast.village_doctor), care.cast.village).page.items}
    assert rows[e.pk].visits_this_year == 1


def test_another_village_is_out_of_scope_and_looks_missing(care, ledger):
    c = care.cast
    with pytest.raises(NotFound):
        q.village_for(as_(c.other_village_doctor), c.village.code)
    with pytest.raises(NotFound):
        q.village_for(as_(c.village_doctor), "431127999999")
    with pytest.raises(InvalidInput):
        q.village_for(as_(c.village_doctor), "abc")
    assert AuditEvent.objects.filter(action="denied", object_type="chronic_ledger").count() == 2


def test_a_manager_cannot_read_the_ledger(care, ledger):
    with pytest.raises(Forbidden):
        q.ledger_for(as_(care.cast.manager), care.cast.village)


def test_the_township_doctor_sees_the_village_and_the_read_is_audited(care, ledger):
    lg = q.ledger_for(as_(care.cast.township_doctor), care.cast.village)
    assert len(lg.page.items) == 3
    ev = AuditEvent.objects.filter(action="view", object_type="chronic_ledger").latest("id")
    assert ev.object_id == care.cast.village.code
    assert sorted(ev.detail["enrolments"]) == sorted(r.enrolment_id for r in lg.page.items)


def _more_patients(care, n):
    from tests.care import _person

    for i in range(n):
        r = _person(f"病人{i}", "M", dt.date(1950, 1, 1 + i), care.cast.village, None, 100 + i, ["htn"])
        e = enrol(care, r, next_due=timezone.localdate() + dt.timedelta(days=i))
        visit(e, timezone.localdate() - dt.timedelta(days=5))


def test_the_page_costs_the_same_queries_for_3_or_23_patients(care, ledger, login, client):
    login(care.cast.village_doctor)
    url = f"/chronic/ledger/?village={care.cast.village.code}"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _more_patients(care, 20)
    with CaptureQueriesContext(connection) as many:
        resp = client.get(url)
    assert resp.status_code == 200
    assert resp.content.decode().count('data-testid="ledger-row"') == 23
    assert _work(many) == _work(few)


def _work(ctx) -> int:
    """The queries of a request but the session's own bookkeeping (saved on the first request only)."""
    return len([x for x in ctx.captured_queries if "django_session" not in x["sql"] and "SAVEPOINT" not in x["sql"]])


def test_the_page(care, ledger, login, client):
    login(care.cast.village_doctor)
    resp = client.get("/chronic/ledger/")  # the village doctor's own village by default
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "李建国" in html and "王秀英" not in html
    assert "162/98" in html and "逾期 10 天" in html
    assert f"/chronic/medicines/{ledger['gf'].pk}/" in html
    assert f"/chronic/patients/{ledger['gf'].pk}/follow-up/" in html  # the follow-up form, one tap away
    overdue = client.get("/chronic/ledger/", {"status": "overdue"}).content.decode()
    assert "李建国" in overdue and "赵桂兰" not in overdue
    assert client.get("/chronic/ledger/", {"village": care.cast.other_village.code}).status_code == 404
    assert client.get("/chronic/ledger/", {"status": "nope"}).status_code == 400


def test_roles_without_the_public_health_read_get_403_on_every_page(care, ledger, login, client):
    for user in (care.cast.manager, care.cast.bureau, care.cast.auditor):
        login(user)
        for url in ("/chronic/ledger/", "/chronic/delivery/", f"/chronic/medicines/{ledger['gf'].pk}/",
                    f"/chronic/ledger/export.xlsx?village={care.cast.village.code}"):
            assert client.get(url).status_code == 403, (user.username, url)


def test_the_page_in_english(care, ledger, login, client):
    login(care.cast.village_doctor)
    resp = client.get("/chronic/ledger/", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 200


def _sheet(body: bytes):
    return load_workbook(io.BytesIO(body))


def test_the_export_has_the_ledgers_columns_and_one_row_per_patient_and_condition(care, ledger, today):
    gm = ledger["gm"]
    visit(ledger["gm_dm"], today.replace(month=2, day=10), sbp=None, dbp=None, fbg=Decimal("6.4"))
    visit(gm, today.replace(month=2, day=11), sbp=128, dbp=80)
    visit(gm, today.replace(month=3, day=20), sbp=126, dbp=78)  # the quarter's last one is shown
    visit(gm, today.replace(month=4, day=5), mode=VisitMode.PHONE, sbp=130, dbp=82)
    RegularMedicine.objects.create(enrolment=gm, name="氨氯地平片", dose="5mg", frequency="qd",
                                   since=dt.date(2024, 1, 1))
    RegularMedicine.objects.create(enrolment=gm, name="卡托普利片", dose="25mg", frequency="tid",
                                   since=dt.date(2023, 1, 1), until=dt.date(2023, 12, 31))  # stopped
    wb = _sheet(ledger_export.export_xlsx(as_(care.cast.village_doctor), care.cast.village, year=today.year))
    ws = wb.worksheets[0]
    assert "大塘村" in ws.cell(1, 1).value
    _groups, names = ledger_export.header()
    assert [ws.cell(3, c).value for c in range(1, len(names) + 1)] == names
    assert names[:10] == ["序号", "姓名", "性别", "年龄", "身份证号", "联系电话", "病种", "确诊时间", "纳入管理时间",
                          "本年随访次数"]
    assert ws.cell(2, 11).value == "第一季度"
    rows = {(ws.cell(r, 2).value, ws.cell(r, 7).value): [ws.cell(r, c).value for c in range(1, len(names) + 1)]
            for r in range(4, ws.max_row + 1)}
    assert set(rows) == {("李建国", "高血压"), ("赵桂兰", "高血压"), ("赵桂兰", "2型糖尿病")}
    g = rows[("赵桂兰", "高血压")]
    col = {n: i for i, n in enumerate(names)}
    assert g[col["本年随访次数"]] == 2  # face to face only
    assert g[10:13] == [f"{today.year}-03-20", "126/78", None]  # Q1: the last visit of the quarter
    if today.month >= 4:
        assert g[13].endswith("（电话）")
    assert g[col["用药"]] == "氨氯地平片 5mg qd"
    assert rows[("赵桂兰", "2型糖尿病")][12] == "6.4"
    assert g[col["身份证号"]].startswith("43") and g[col["身份证号"]].endswith("*")
    gf = rows[("李建国", "高血压")]
    assert gf[col["联系电话"]] == "138****1234"
    assert "逾期10天" in gf[-1] and "连续2次控制不满意" in gf[-1]
    assert wb.worksheets[1].title == "说明"
    ev = AuditEvent.objects.filter(action="export", object_type="chronic_ledger").latest("id")
    assert ev.detail["unmasked"] is False and len(ev.detail["enrolments"]) == 3


def test_a_reader_with_the_unmask_privilege_gets_full_numbers_and_it_is_audited(care, ledger):
    wb = _sheet(ledger_export.export_xlsx(as_(care.cast.county_doctor), care.cast.village))
    ws = wb.worksheets[0]
    numbers = {ws.cell(r, 5).value for r in range(4, ws.max_row + 1)}
    assert care.grandfather.id_number in numbers
    assert AuditEvent.objects.filter(action="export", object_type="chronic_ledger").latest("id").detail["unmasked"]


def test_the_export_costs_three_queries_plus_the_audit_whatever_the_size(care, ledger):
    actor = as_(care.cast.village_doctor)
    ledger_export.collect(actor, care.cast.village)  # the user's permissions are cached by the first
    with CaptureQueriesContext(connection) as few:
        ledger_export.collect(actor, care.cast.village)
    _more_patients(care, 15)
    with CaptureQueriesContext(connection) as many:
        rows, _ = ledger_export.collect(actor, care.cast.village)
    assert len(rows) == 18
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_export_download_and_a_bad_year(care, ledger, login, client):
    login(care.cast.village_doctor)
    resp = client.get("/chronic/ledger/export.xlsx", {"village": care.cast.village.code})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxml")
    assert "filename*=UTF-8''" in resp["Content-Disposition"]
    assert _sheet(resp.content).worksheets[0].max_row == 3 + 3
    assert client.get("/chronic/ledger/export.xlsx", {"village": care.cast.village.code,
                                                       "year": "1900"}).status_code == 400
    assert client.get("/chronic/ledger/export.xlsx", {"village": care.cast.other_village.code}).status_code == 404


def test_the_api(care, ledger, login, client):
    login(care.cast.village_doctor)
    data = client.get("/api/v1/chronic/ledger", {"status": "overdue"}).json()
    assert data["village"] == care.cast.village.code
    assert [i["enrolment_id"] for i in data["items"]] == [ledger["gf"].pk]
    assert data["items"][0]["state"] == "overdue" and data["summary"]["overdue"] == 1
    assert client.get("/api/v1/chronic/ledger", {"village": care.cast.other_village.code}).status_code == 404
    assert client.get("/api/v1/chronic/ledger", {"status": "x"}).status_code == 422
    x = client.get("/api/v1/chronic/ledger/export", {"village": care.cast.village.code})
    assert x.status_code == 200 and _sheet(x.content).worksheets[0].cell(3, 2).value == "姓名"


def test_the_home_panel_counts_this_weeks_follow_ups(care, ledger, login, client):
    from yigongti.chronic.home import follow_ups_panel

    panel = follow_ups_panel(as_(care.cast.village_doctor))
    assert panel is not None
    values = {i.testid: i.value for i in panel.items}
    assert values == {"home-chronic-overdue": 1, "home-chronic-due": 2}
    assert follow_ups_panel(as_(care.cast.manager)) is None
    login(care.cast.village_doctor)
    assert 'data-testid="home-chronic-overdue"' in client.get("/").content.decode()


def test_villages_for_the_village_doctor_start_with_their_own(care):
    villages = q.villages_for(care.cast.village_doctor)
    assert villages and villages[0] == care.cast.village
    assert care.cast.other_village not in villages
    assert Resident.objects.filter(village=villages[0]).exists()


def test_the_ledger_follows_the_follow_up_service(care):
    """Enrolled and followed up through H3's services: two uncontrolled readings in a row show on the ledger and in
    the export (uncontrolled twice, a referral suggested)."""
    from yigongti.chronic.services.enrolment import enrol as enrol_service
    from yigongti.chronic.services.followups import record_follow_up

    today = timezone.localdate()
    actor = as_(care.cast.village_doctor)
    e = enrol_service(actor, care.grandfather, "htn", enrolled_on=today - dt.timedelta(days=60))
    assert q.ledger_for(actor, care.cast.village).page.items[0].state in ("overdue", "never", "due")
    for days, (sbp, dbp) in ((30, (165, 100)), (10, (168, 102))):
        record_follow_up(actor, e, {"visit_date": (today - dt.timedelta(days=days)).isoformat(), "sbp": sbp,
                                    "dbp": dbp, "heart_rate": 80})
    row = q.ledger_for(actor, care.cast.village).page.items[0]
    assert (row.last_bp, row.control, row.uncontrolled_streak) == ("168/102", "uncontrolled", 2)
    assert row.last_visit_on == today - dt.timedelta(days=10) and row.visits_this_year >= 1
    rows, _unmask = ledger_export.collect(actor, care.cast.village)
    assert "连续2次控制不满意" in ledger_export.remark(rows[0])
