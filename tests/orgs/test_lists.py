"""The staff list: page numbers and a page jump, filters by township and work facility, and an Excel export of
the rows the page shows (no ID number or phone of the staff), formula-safe and audited."""

import io
import re

import pytest
from openpyxl import load_workbook

from yigongti.core.idcard import make_id_number
from yigongti.core.models import AuditEvent
from yigongti.orgs.models import Profession, Staff


def _staff(facility, n, name=None):
    import datetime as dt

    return Staff.objects.create(name=name or f"护士{n:03d}", sex="F", profession=Profession.NURSE,
                                work_facility=facility, establishment_facility=facility,
                                id_number=make_id_number("431127", dt.date(1990, 1, 1), n, "F"),
                                phone=f"139{n:08d}")


@pytest.fixture
def crowd(cast):
    """60 nurses at 塔峰镇卫生院, 10 at 总市镇卫生院 (one named like a formula), 5 at the far county's hospital."""
    cast.ours = [_staff(cast.township_center, n) for n in range(60)]
    cast.theirs = [_staff(cast.other_center, 100 + n) for n in range(9)]
    cast.theirs.append(_staff(cast.other_center, 200, name="=cmd|' /C calc'!A0"))
    cast.far = [_staff(cast.far_hospital, 300 + n) for n in range(5)]
    return cast


def _ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'data-staff="(\d+)"', html)}


def _county_staff():
    return set(Staff.objects.filter(work_facility__region__code__startswith="431127").values_list("pk", flat=True))


def test_the_staff_list_has_page_numbers_and_page_two_shows_the_rest(crowd, client, login):
    login(crowd.county_doctor)
    first = client.get("/orgs/staff/").content.decode()
    total = len(_county_staff())
    assert f"共 {total} 条" in first and 'data-testid="page-numbers"' in first and 'href="?page=2"' in first
    second = client.get("/orgs/staff/?page=2").content.decode()
    assert len(_ids(first)) == 50 and _ids(first) | _ids(second) == _county_staff()
    assert 'aria-current="page">2<' in second


def test_the_page_jump_keeps_the_search(crowd, client, login):
    login(crowd.county_doctor)
    html = client.get("/orgs/staff/?q=护士").content.decode()
    jump = html[html.index('data-testid="page-jump"'):]
    jump = jump[:jump.index("</form>")]
    assert 'name="q" value="护士"' in jump and 'max="2"' in jump
    landed = client.get("/orgs/staff/", {"q": "护士", "page": 2}).content.decode()
    assert len(_ids(landed)) == 69 - 50  # 60 + 9 nurses named 护士…, 50 on the first page


def test_township_and_facility_filters_narrow_the_staff_list(crowd, client, login):
    login(crowd.county_doctor)
    by_town = _ids(client.get(f"/orgs/staff/?township={crowd.other_township.code}").content.decode())
    assert {s.pk for s in crowd.theirs} <= by_town
    assert not by_town & {s.pk for s in crowd.ours}
    by_facility = _ids(client.get(f"/orgs/staff/?facility={crowd.other_center.pk}").content.decode())
    assert by_facility == {s.pk for s in crowd.theirs}
    html = client.get("/orgs/staff/").content.decode()
    assert "总市镇" in html[html.index('data-testid="filter-township"'):]


def test_the_staff_export_holds_the_filtered_county_rows_without_identifiers(crowd, client, login):
    login(crowd.county_doctor)
    resp = client.get(f"/orgs/staff/export/?facility={crowd.other_center.pk}")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    names = [r[0] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(s.name for s in crowd.theirs)
    text = " ".join(str(v) for r in ws.iter_rows(values_only=True) for v in r)
    for s in crowd.theirs:
        assert s.id_number not in text and s.phone not in text
    formula = [c for row in ws.iter_rows() for c in row if str(c.value).startswith("=cmd")]
    assert formula and all(c.data_type == "s" for c in formula)
    event = AuditEvent.objects.filter(action="export", object_type="staff").latest("id")
    assert event.actor_id == crowd.county_doctor.pk
    assert sorted(event.detail["ids"]) == sorted(s.pk for s in crowd.theirs)


def test_the_export_of_the_whole_list_never_crosses_the_county(crowd, client, login):
    login(crowd.county_doctor)
    ws = load_workbook(io.BytesIO(client.get("/orgs/staff/export/").content)).active
    assert ws.max_row - 1 == len(_county_staff())
    event = AuditEvent.objects.filter(action="export", object_type="staff").latest("id")
    assert set(event.detail["ids"]) == _county_staff()
    html = client.get("/orgs/staff/").content.decode()
    assert 'href="/orgs/staff/export/?"' in html and "最多导出 5000 条" in html


def test_an_auditor_who_reads_no_persons_cannot_export_the_staff(crowd, client, login):
    login(crowd.auditor)
    assert client.get("/orgs/staff/export/").status_code == 403
    assert AuditEvent.objects.filter(action="denied", actor_id=crowd.auditor.pk).exists()
    assert not AuditEvent.objects.filter(action="export", object_type="staff").exists()
