"""Compliance dashboards per center and month, the chain township unit → county center, who sees them, the home
panel — asserted on a month of constructed cases whose every figure is worked out by hand below."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from tests.cast import as_
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.core.idcard import make_id_number
from yigongti.pathways import queries_dashboards as q
from yigongti.pathways import services
from yigongti.pathways.metrics import month_of
from yigongti.pathways.models import Case, PathwayCenter
from yigongti.residents.services import register_resident

NAMES = ["赵一", "钱二", "孙三", "周四", "吴五", "郑六", "王七", "冯八", "陈九", "褚十"]


@dataclass
class Month:
    """The constructed month: ``t0`` (every case opened then), the cases by letter, the two centers."""

    t0: dt.datetime
    month: str
    cases: dict
    center: PathwayCenter  # the county hospital's chest-pain center
    unit: PathwayCenter  # 塔峰镇卫生院's chest-pain unit
    stroke: PathwayCenter


def residents(cast, n: int, start: int = 0) -> list:
    out = []
    for i in range(start, start + n):
        out.append(register_resident({
            "name": NAMES[i], "id_number": make_id_number("431127", dt.date(1950 + i, 5, 1 + i), 40 + i, "M"),
            "phone": f"1387460{i:04d}", "village": cast.village.code}, actor=as_(cast.village_doctor)))
    return out


def make_case(cast, resident, kind: str, t0: dt.datetime, events: dict[str, float], *, subtype: str = "",
              arrival: str = "ems", first=None, delays: dict[str, str] | None = None, call=None) -> Case:
    """A case opened at t0 through the services, its time points ``minutes after t0``, its delay reasons."""
    doctor = as_(cast.county_doctor)
    case = services.open_case(doctor, resident, kind, facility=cast.county_hospital, first_facility=first,
                              arrival_mode=arrival, subtype=subtype, at=t0, call=call)
    for code, minutes in events.items():
        services.record_event(doctor, case, code, at=t0 + dt.timedelta(minutes=minutes))
    for metric, code in (delays or {}).items():
        services.record_delay(doctor, case, metric, code)
    return case


def build_month(ems) -> Month:
    """Chest pain at the county center, opened at t0 (six hours ago):

    A  STEMI via 塔峰镇: FMC→ECG 8, ECG→dx 7, DIDO 25, D2W 70, FMC→wire 130 (missed, transport delay)
    B  STEMI via 塔峰镇: FMC→ECG 15 (missed, no reason), DIDO 45 (missed, no reason), D2W 120 (missed, cath lab
       busy), FMC→wire 200 (missed, no reason)
    C  STEMI by 120 straight to the county: FMC→ECG 5, ECG→dx 4, D2W 60, FMC→wire 90
    D  NSTEMI, came by itself: troponin 25 (missed, imaging delay)
    E  ruled out (left out of everything)
    S  a stroke case (DNT 50) — not a chest-pain figure
    """
    cast = ems.cast
    t0 = timezone.now() - dt.timedelta(hours=6)
    people = residents(cast, 6)
    unit_fac = cast.township_center
    cases = {
        "A": make_case(cast, people[0], "chest_pain", t0,
                       {"fmc": 0, "first_ecg": 8, "ecg_diagnosis": 15, "first_door": 0, "door_out": 25, "door": 60,
                        "wire": 130}, subtype="stemi", arrival="transfer", first=unit_fac,
                       delays={"fmc_to_wire": "transport_delay"}),
        "B": make_case(cast, people[1], "chest_pain", t0,
                       {"fmc": 0, "first_ecg": 15, "ecg_diagnosis": 20, "first_door": 0, "door_out": 45, "door": 80,
                        "wire": 200}, subtype="stemi", arrival="transfer", first=unit_fac,
                       delays={"d2w": "cath_lab_busy"}),
        "C": make_case(cast, people[2], "chest_pain", t0,
                       {"fmc": 0, "first_ecg": 5, "ecg_diagnosis": 9, "door": 30, "wire": 90}, subtype="stemi"),
        "D": make_case(cast, people[3], "chest_pain", t0, {"door": 0, "blood_draw": 5, "troponin": 30},
                       subtype="nstemi", arrival="self", delays={"troponin_tat": "imaging_delay"}),
        "E": make_case(cast, people[4], "chest_pain", t0, {"door": 0, "wire": 200}, subtype="stemi"),
        "S": make_case(cast, people[5], "stroke", t0, {"door": 0, "ct": 20, "needle": 50}, subtype="ischaemic"),
    }
    services.close_case(as_(cast.county_doctor), cases["E"], outcome="ruled_out")
    centers = {(p.facility_id, p.kind): p for p in PathwayCenter.objects.all()}
    return Month(t0, month_of(timezone.localtime(t0)), cases, centers[(cast.county_hospital.pk, "chest_pain")],
                 centers[(unit_fac.pk, "chest_pain")], centers[(cast.county_hospital.pk, "stroke")])


@pytest.fixture
def month(ems) -> Month:
    cache.clear()
    return build_month(ems)


def rows(d) -> dict:
    return {r.code: r for r in d.rows}


def test_the_county_center_month_gives_each_metrics_median_and_share_meeting_target(ems, month):
    d = q.center_dashboard(ems.cast.manager, month.center.pk, month.month)
    s = d.summary
    assert s.cases == 4  # the ruled-out case and the stroke case are not in it
    assert {c: n for c, _label, n in s.by_subtype} == {"stemi": 3, "nstemi": 1}
    assert {c: n for c, _label, n in s.by_arrival} == {"transfer": 2, "ems": 1, "self": 1}
    r = rows(d)
    assert (r["fmc_to_ecg"].month.n, r["fmc_to_ecg"].month.met, r["fmc_to_ecg"].month.median_min) == (3, 2, 8.0)
    assert r["fmc_to_ecg"].share == 66.7
    assert (r["d2w"].month.n, r["d2w"].month.met, r["d2w"].month.median_min, r["d2w"].share) == (3, 2, 70.0, 66.7)
    assert (r["dido"].month.n, r["dido"].month.met, r["dido"].month.median_min, r["dido"].share) == (2, 1, 35.0, 50.0)
    assert (r["fmc_to_wire"].month.n, r["fmc_to_wire"].month.met, r["fmc_to_wire"].month.median_min) == (3, 1, 130.0)
    assert (r["troponin_tat"].month.n, r["troponin_tat"].month.met) == (1, 0)
    assert r["d2n_chest"].month is None and r["d2n_chest"].share is None  # nobody was thrombolysed
    # the trend ends with this month
    assert d.months[-1] == month.month and len(d.months) == 12
    assert r["d2w"].trend[-1] == 66.7 and r["d2w"].trend[:-1] == [None] * 11
    assert d.cases_trend[-1] == 4


def test_the_delay_reasons_of_the_misses_are_broken_down_and_the_missing_ones_counted(ems, month):
    s = q.center_dashboard(ems.cast.manager, month.center.pk, month.month).summary
    assert s.missed == 6 and s.missed_without_reason == 3
    got = {(x.metric, x.code): x.n for x in s.delays}
    assert got == {("fmc_to_ecg", ""): 1, ("dido", ""): 1, ("d2w", "cath_lab_busy"): 1,
                   ("fmc_to_wire", "transport_delay"): 1, ("fmc_to_wire", ""): 1,
                   ("troponin_tat", "imaging_delay"): 1}
    assert {(u.case_no, u.metric, u.minutes) for u in s.unexplained} == {
        (month.cases["B"].case_no, "fmc_to_ecg", 15.0), (month.cases["B"].case_no, "dido", 45.0),
        (month.cases["B"].case_no, "fmc_to_wire", 200.0)}
    labels = {x.code: x.label for x in s.delays}
    assert labels["cath_lab_busy"] == "导管室/手术室占用" and labels[""] == "未填写延误原因"


def test_a_township_unit_sees_the_patients_it_saw_first_and_its_dido(ems, month):
    c = ems.cast
    d = q.center_dashboard(c.township_doctor, month.unit.pk, month.month)
    assert d.summary.cases == 2
    dido = rows(d)["dido"]
    assert (dido.month.n, dido.month.met, dido.month.median_min) == (2, 1, 35.0)
    # a case first seen at one of its village clinics counts for the township too
    extra = residents(c, 1, start=6)[0]
    make_case(c, extra, "chest_pain", month.t0, {"first_door": 0, "door_out": 20, "door": 50}, subtype="stemi",
              arrival="transfer", first=c.village_clinic)
    d = q.center_dashboard(c.township_doctor, month.unit.pk, month.month)
    assert d.summary.cases == 3 and rows(d)["dido"].month.n == 3


def test_the_chain_splits_the_county_centers_cases_by_the_township_unit_that_saw_them(ems, month):
    ch = q.chain(ems.cast.bureau, "chest_pain", month.month)
    assert ch.center == month.center and ch.headline_code == "d2w" and ch.dido_code == "dido"
    unit, direct = ch.rows
    assert unit.unit == month.unit and unit.label == "塔峰镇卫生院"
    assert (unit.cases, unit.transferred) == (2, 2)
    assert (unit.dido.n, unit.dido.met, unit.dido.median_min) == (2, 1, 35.0)
    assert (unit.headline.n, unit.headline.met, unit.headline.median_min) == (2, 1, 95.0)  # D2W 70 and 120
    assert unit.fmc_to_end.median_min == 165.0
    assert direct.unit is None and (direct.cases, direct.transferred) == (2, 0)
    assert direct.dido is None and (direct.headline.n, direct.headline.median_min) == (1, 60.0)


def test_a_stroke_chain_uses_dnt(ems, month):
    ch = q.chain(ems.cast.manager, "stroke", month.month)
    assert ch.headline_code == "dnt" and ch.rows[-1].headline.median_min == 50.0 and ch.rows[-1].cases == 1


def test_who_sees_which_center(ems, month):
    c = ems.cast
    everything = {p.pk for p in PathwayCenter.objects.all()}
    assert {p.pk for p in q.visible_centers(c.manager)} == everything
    assert {p.pk for p in q.visible_centers(c.bureau)} == everything
    assert {p.pk for p in q.visible_centers(c.city)} == everything
    assert [p.pk for p in q.visible_centers(c.township_doctor)] == [month.unit.pk]
    assert {p.pk for p in q.visible_centers(c.county_doctor)} == everything  # its centers and the unit
    for nobody in (c.outsider, c.village_doctor, c.auditor):
        assert q.visible_centers(nobody) == []
    with pytest.raises(Forbidden):
        q.center_dashboard(c.township_doctor, month.center.pk, month.month)
    with pytest.raises(Forbidden):
        q.center_dashboard(c.outsider, month.center.pk, month.month)
    with pytest.raises(Forbidden):
        q.chain(c.outsider, "chest_pain", month.month)


def test_a_bad_or_future_month_is_refused_with_a_reason(ems, month):
    with pytest.raises(InvalidInput, match="YYYY-MM"):
        q.center_dashboard(ems.cast.manager, month.center.pk, "2026-13")
    with pytest.raises(InvalidInput, match="尚未到来"):
        q.center_dashboard(ems.cast.manager, month.center.pk, "2999-01")


def test_an_earlier_month_shows_in_the_trend_not_in_the_month(ems, month):
    earlier = q.months_back(month.month, 2)[0]
    start, _stop = q.month_bounds(earlier)
    Case.objects.filter(pk=month.cases["C"].pk).update(opened_at=start + dt.timedelta(days=3))
    d = q.center_dashboard(ems.cast.manager, month.center.pk, month.month)
    r = rows(d)
    assert d.summary.cases == 3 and r["d2w"].month.n == 2
    assert r["d2w"].trend[-2:] == [100.0, 50.0] and d.cases_trend[-2:] == [1, 3]
    assert r["d2w"].trend_median[-2] == 60.0


def test_the_dashboard_page_shows_the_figures(client, login, ems, month):
    login(ems.cast.manager)
    resp = client.get(reverse("pathways:dashboard"), {"center": month.center.pk, "month": month.month})
    assert resp.status_code == 200
    body = resp.content.decode()
    assert 'data-testid="dashboard-cases">4<' in body
    d2w = body.split('data-testid="metric-d2w"')[1].split("</tr>")[0]
    assert 'data-testid="n">3<' in d2w and 'data-testid="median">70<' in d2w and "66.7%" in d2w
    assert 'data-testid="delay-d2w-cath_lab_busy"' in body and 'data-testid="delay-dido-none"' in body
    assert 'data-testid="dashboard-export-link"' in body  # a community manager may export
    assert 'data-testid="dashboard-chain-link"' in body
    assert 'data-testid="dashboard-unexplained"' not in body  # the manager does not open cases
    login(ems.cast.county_doctor)
    body = client.get(reverse("pathways:dashboard"), {"center": month.center.pk, "month": month.month}).content.decode()
    b = month.cases["B"]
    link = f'href="{reverse("pathways:case", args=[b.pk])}" data-testid="unexplained-{b.pk}-dido"'
    assert link in body
    login(ems.cast.township_doctor)
    body = client.get(reverse("pathways:dashboard"), {"month": month.month}).content.decode()  # its unit only
    assert 'data-testid="dashboard-cases">2<' in body and 'data-testid="dashboard-chain-link"' not in body
    assert client.get(reverse("pathways:dashboard"), {"center": month.center.pk}).status_code == 403
    assert client.get(reverse("pathways:dashboard"), {"center": "x"}).status_code == 400


def test_the_chain_page_and_the_refusals(client, login, ems, month):
    login(ems.cast.bureau)
    resp = client.get(reverse("pathways:chain"), {"kind": "chest_pain", "month": month.month})
    assert resp.status_code == 200
    row = resp.content.decode().split(f'data-testid="chain-row-{month.unit.facility_id}"')[1].split("</tr>")[0]
    assert 'data-testid="cases">2<' in row and "50%（1/2）" in row and 'data-testid="head-median">95<' in row
    assert client.get(reverse("pathways:chain"), {"month": "2999-01"}).status_code == 400
    assert client.get(reverse("pathways:chain"), {"kind": "nothing"}).status_code == 400
    login(ems.cast.outsider)
    assert client.get(reverse("pathways:dashboard")).status_code == 403
    assert client.get(reverse("pathways:chain")).status_code == 403


def test_the_dashboard_api_is_typed_and_scoped(client, login, ems, month):
    login(ems.cast.county_doctor)
    resp = client.get(f"/api/v1/pathways/dashboards/{month.center.pk}", {"month": month.month})
    assert resp.status_code == 200
    data = resp.json()
    assert data["cases"] == 4 and data["missed"] == 6 and data["missed_without_reason"] == 3
    d2w = next(m for m in data["metrics"] if m["code"] == "d2w")
    assert d2w["month"]["median_min"] == 70.0 and d2w["share"] == 66.7 and d2w["target_min"] == 90
    chain = client.get("/api/v1/pathways/dashboards/chain", {"kind": "chest_pain", "month": month.month}).json()
    assert chain["rows"][0]["facility_id"] == month.unit.facility_id and chain["rows"][0]["dido"]["met"] == 1
    centers = client.get("/api/v1/pathways/dashboards/centers").json()
    assert {x["id"] for x in centers} == {p.pk for p in PathwayCenter.objects.all()}
    assert client.get(f"/api/v1/pathways/dashboards/{month.center.pk}", {"month": "2999-01"}).status_code == 422
    login(ems.cast.township_doctor)
    assert client.get(f"/api/v1/pathways/dashboards/{month.center.pk}").status_code == 403


def test_the_home_panel_links_managers_to_the_dashboards(client, login, ems, month):
    from yigongti.orgs.home import home_for
    from yigongti.pathways.home import centers_panel

    c = ems.cast
    panel = centers_panel(as_(c.manager))
    assert panel is not None and panel.kind == "totals"
    item = next(i for i in panel.items if i.testid == f"home-pw-center-{month.center.pk}")
    assert item.url == f"{reverse('pathways:dashboard')}?center={month.center.pk}"
    assert item.value == "67%" and "近30天 4 例" in item.note and "D2W" in item.note  # the last 30 days
    testids = {i.testid for i in panel.items}
    assert f"home-pw-center-{month.unit.pk}" not in testids  # the units are in the chain (1 unit)
    assert next(i for i in panel.items if i.testid == "home-pw-chain").value == 1
    assert {"home-pw-chain", "home-pw-export"} <= testids
    assert centers_panel(as_(c.village_doctor)) is None and centers_panel(as_(c.outsider)) is None
    township = centers_panel(as_(c.township_doctor))
    assert township is not None and township.kind == "todo"
    assert "home-pw-chain" not in {i.testid for i in township.items}
    assert next(i.testid for i in township.items) == f"home-pw-center-{month.unit.pk}"
    assert any(p.key == "pathways.centers" for p in home_for(as_(c.bureau)).totals)
    login(ems.cast.bureau)
    assert 'data-testid="home-pw-chain"' in client.get("/").content.decode()
