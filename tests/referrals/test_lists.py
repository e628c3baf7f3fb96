"""The referral lists (the facility's boxes and the center's queue): page numbers and a page jump, filters by
township, village, facility and the patient's name in pinyin, and an Excel export of only the rows the page
would show, masked as shown, formula-safe and audited."""

import io
import re

import pytest
from openpyxl import load_workbook

from tests.cast import PASSWORD, SYSTEM
from yigongti.core.models import AuditEvent
from yigongti.orgs.models import Role
from yigongti.orgs.services import create_account
from yigongti.referrals.models import Referral


def _ref(c, who, frm, to, n, diagnosis="脑梗死", center=True):
    r = getattr(c, who)
    from django.utils import timezone

    return Referral.objects.create(
        direction="up", status="submitted", urgency="routine", resident=r, area_code=r.area_code,
        center=c.center if center else None, from_facility=frm, from_level=frm.care_level.value,
        referred_by=c.township_doctor, to_facility=to, to_level="county", icd10="I63.9", diagnosis=diagnosis,
        reason="测试", submitted_at=timezone.now() - timezone.timedelta(minutes=n))


@pytest.fixture
def many(ref):
    """20 referrals of 李建国 (塔峰镇) from 塔峰镇卫生院, 10 of 王秀英 (总市镇) from 石桥村卫生室, all to the county
    hospital; one of the far county's, which nobody here may see; one diagnosis that looks like a formula."""
    h = ref.county_hospital
    ref.ours = [_ref(ref, "resident", ref.township_center, h, n) for n in range(20)]
    ref.theirs = [_ref(ref, "neighbour", ref.other_clinic, h, 100 + n) for n in range(9)]
    ref.theirs.append(_ref(ref, "neighbour", ref.other_clinic, h, 200, diagnosis='=HYPERLINK("http://x","点我")'))
    ref.far = _ref(ref, "far_resident", ref.far_hospital, ref.far_hospital, 1, center=False)
    return ref


def _ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'data-referral="(\d+)"', html)}


def _sheet(resp):
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(resp.content)).active


def test_the_received_list_has_page_numbers_and_page_two_shows_the_rest(many, client, login):
    login(many.county_doctor)
    first = client.get("/referrals/?box=in").content.decode()
    assert 'data-testid="page-numbers"' in first and "共 30 条" in first
    assert 'href="?box=in&amp;page=2"' in first  # the number link keeps the box
    assert len(_ids(first)) == 25
    second = client.get("/referrals/?box=in&page=2").content.decode()
    assert len(_ids(second)) == 5 and not _ids(first) & _ids(second)
    assert 'aria-current="page">2<' in second


def test_the_page_jump_carries_the_filter_and_lands_on_the_page(many, client, login):
    more = [_ref(many, "resident", many.township_center, many.county_hospital, 300 + n) for n in range(10)]
    login(many.county_doctor)
    html = client.get(f"/referrals/?box=in&facility={many.township_center.pk}").content.decode()
    jump = html[html.index('data-testid="page-jump"'):]
    jump = jump[:jump.index("</form>")]
    assert 'name="box" value="in"' in jump and f'name="facility" value="{many.township_center.pk}"' in jump
    assert 'max="2"' in jump and 'name="page"' in jump
    # what the jump box submits: the same filter and the page typed
    landed = client.get("/referrals/", {"box": "in", "facility": many.township_center.pk, "page": 2}).content.decode()
    assert len(_ids(landed)) == 5 and _ids(landed) <= {r.pk for r in many.ours + more}
    one_page = client.get(f"/referrals/?box=in&facility={many.other_clinic.pk}").content.decode()
    assert 'data-testid="page-jump"' not in one_page  # 10 rows: nothing to jump to


def test_a_township_filter_narrows_the_list_to_its_patients(many, client, login):
    login(many.county_doctor)
    html = client.get(f"/referrals/?box=in&township={many.other_township.code}").content.decode()
    assert _ids(html) == {r.pk for r in many.theirs}
    assert 'data-testid="filter-township"' in html and "总市镇" in html


def test_village_facility_and_pinyin_filters_narrow_the_list(many, client, login):
    login(many.county_doctor)
    theirs = {r.pk for r in many.theirs}
    assert _ids(client.get(f"/referrals/?box=in&village={many.other_village.code}").content.decode()) == theirs
    assert _ids(client.get(f"/referrals/?box=in&facility={many.other_clinic.pk}").content.decode()) == theirs
    assert _ids(client.get("/referrals/?box=in&q=wxy").content.decode()) == theirs  # 王秀英's initials
    assert _ids(client.get("/referrals/?box=in&q=wangxiu").content.decode()) == theirs
    html = client.get("/referrals/?box=in").content.decode()
    assert "石桥村卫生室" in html[html.index('data-testid="filter-facility"'):]


def test_the_export_holds_only_the_filtered_scoped_rows_and_is_audited(many, client, login):
    login(many.county_doctor)
    ws = _sheet(client.get(f"/referrals/export/?box=in&township={many.other_township.code}"))
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert {int(r[0].lstrip("#")) for r in rows} == {r.pk for r in many.theirs}
    text = " ".join(str(v) for r in ws.iter_rows(values_only=True) for v in r)
    for person in many.residents():
        assert person.id_number not in text
        assert not person.phone or person.phone not in text
    assert "张伟" not in text  # the far county's referral is not ours to see
    event = AuditEvent.objects.filter(action="export", object_type="referral").latest("id")
    assert event.actor_id == many.county_doctor.pk
    assert sorted(event.detail["ids"]) == sorted(r.pk for r in many.theirs)
    assert event.detail["query"] == {"township": many.other_township.code}


def test_a_formula_in_a_diagnosis_stays_text_in_the_export(many, client, login):
    login(many.county_doctor)
    ws = _sheet(client.get("/referrals/export/?box=in"))
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if str(c.value).startswith("I63.9 =HYPERLINK")]
    assert cells and all(c.data_type == "s" for c in cells)
    formula = [c for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formula == []


def test_the_page_says_what_the_export_is_and_its_cap(many, client, login):
    login(many.county_doctor)
    html = client.get("/referrals/?box=in&q=wxy").content.decode()
    assert 'href="/referrals/export/?box=in&amp;q=wxy"' in html
    assert "最多导出 5000 条" in html


def test_a_role_that_reads_no_referrals_cannot_export_them(many, client, login):
    pharmacist = create_account(username="pharmacist", role=Role.PHARMACIST, password=PASSWORD,
                                facility=many.county_hospital, actor=SYSTEM)[0]
    login(pharmacist)
    resp = client.get("/referrals/export/?box=in")
    assert resp.status_code == 403
    assert AuditEvent.objects.filter(action="denied", actor_id=pharmacist.pk).exists()
    assert not AuditEvent.objects.filter(action="export", object_type="referral").exists()


def test_the_center_queue_pages_filters_and_exports(many, client, login):
    login(many.desk)
    html = client.get("/referrals/center/?tab=pending").content.decode()
    assert len(_ids(html)) == 25 and 'href="?tab=pending&amp;page=2"' in html
    assert len(_ids(client.get("/referrals/center/?tab=pending&page=2").content.decode())) == 5
    narrowed = client.get(f"/referrals/center/?tab=pending&facility={many.other_clinic.pk}").content.decode()
    assert _ids(narrowed) == {r.pk for r in many.theirs}
    ws = _sheet(client.get(f"/referrals/export/?tab=pending&facility={many.other_clinic.pk}"))
    assert ws.max_row == 11
    event = AuditEvent.objects.filter(action="export", object_type="referral").latest("id")
    assert event.detail["tab"] == "pending" and len(event.detail["ids"]) == 10


def test_a_doctor_outside_the_center_cannot_export_its_queue(many, client, login):
    login(many.county_doctor)
    assert client.get("/referrals/export/?tab=pending").status_code == 403
    assert not AuditEvent.objects.filter(action="export", object_type="referral").exists()


def test_the_outsider_exports_none_of_our_referrals(many, client, login):
    login(many.outsider)
    ws = _sheet(client.get("/referrals/export/?box=in"))
    ids = {int(r[0].lstrip("#")) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert ids <= {many.far.pk}


@pytest.fixture
def follow_ups(ref):
    """30 planned follow-ups of down-referrals the 塔峰镇 center received: 20 of 李建国 (塔峰镇), 10 of 王秀英
    (总市镇); one the center does not owe (another facility's)."""
    import datetime as dt

    from yigongti.referrals.models import FollowUp

    def down(who, n, to=None):
        r = getattr(ref, who)
        referral = Referral.objects.create(
            direction="down", status="submitted", resident=r, area_code=r.area_code, from_facility=ref.county_hospital,
            from_level="county", referred_by=ref.county_doctor, to_facility=to or ref.township_center,
            to_level="township", icd10="I63.9", diagnosis="脑梗死恢复期", reason="测试")
        return FollowUp.objects.create(referral=referral, due_date=dt.date(2026, 12, 1) + dt.timedelta(days=n))

    ref.ours_fu = [down("resident", n) for n in range(20)]
    ref.theirs_fu = [down("neighbour", 30 + n) for n in range(10)]
    ref.elsewhere_fu = down("neighbour", 1, to=ref.other_center)
    return ref


def _fu_ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'data-follow-up="(\d+)"', html)}


def test_the_follow_up_list_pages_and_filters(follow_ups, client, login):
    login(follow_ups.township_doctor)
    first = client.get("/referrals/?box=follow").content.decode()
    assert len(_fu_ids(first)) == 25 and "共 30 条" in first and 'href="?box=follow&amp;page=2"' in first
    second = client.get("/referrals/?box=follow&page=2").content.decode()
    assert _fu_ids(second) == {x.pk for x in follow_ups.theirs_fu[5:]}  # the earliest first
    narrowed = client.get(f"/referrals/?box=follow&township={follow_ups.other_township.code}").content.decode()
    assert _fu_ids(narrowed) == {x.pk for x in follow_ups.theirs_fu}
    assert follow_ups.elsewhere_fu.pk not in _fu_ids(first) | _fu_ids(second)


def test_the_follow_up_export_holds_only_what_the_center_owes_and_is_audited(follow_ups, client, login):
    login(follow_ups.township_doctor)
    ws = _sheet(client.get("/referrals/export/?box=follow&q=lijianguo"))
    assert ws.max_row == 21 and {r[3] for r in ws.iter_rows(min_row=2, values_only=True)} == {"李建国"}
    event = AuditEvent.objects.filter(action="export", object_type="follow_up").latest("id")
    assert sorted(event.detail["ids"]) == sorted(x.pk for x in follow_ups.ours_fu)
    assert follow_ups.resident.id_number not in " ".join(str(v) for r in ws.iter_rows(values_only=True) for v in r)


def test_the_api_list_takes_the_same_filter_and_counts(many, client, login):
    login(many.county_doctor)
    body = client.get(f"/api/v1/referrals?box=in&township={many.other_township.code}").json()
    assert {r["id"] for r in body["items"]} == {r.pk for r in many.theirs} and body["count"] == 10
    body = client.get("/api/v1/referrals?box=in&q=ljg&page=1&page_size=5").json()
    assert body["count"] == 20 and body["has_next"] and len(body["items"]) == 5
