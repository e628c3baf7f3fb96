"""The indicator drill-downs (the encounters and settlements behind a figure): page numbers and a page jump, the
facility filter, and an Excel export of only the rows the page shows, patients masked as shown, audited."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook

from tests.indicators.world import _enc, build_world
from yigongti.core.models import AuditEvent
from yigongti.encounters.models import Encounter
from yigongti.indicators.services import refresh_facts

AREA = "area=county:431127000000&period=2026-03"


@pytest.fixture
def world(cast):
    build_world(cast)
    # 60 more outpatient visits of 王秀英 at 总市镇卫生院 in March: the drill-down runs to a second page
    cast.extra = [_enc(cast, "neighbour", cast.other_center, "outpatient", dt.date(2026, 3, 1 + n % 28), total="50")
                  for n in range(60)]
    refresh_facts()
    return cast


def _sheet(resp):
    assert resp.status_code == 200
    return load_workbook(io.BytesIO(resp.content)).active


def test_the_encounter_drill_down_pages_and_jumps(world, login):
    c = login(world.bureau)
    first = c.get(f"/indicators/VISITS/records/?{AREA}")
    html = first.content.decode()
    assert len(first.context["page"].items) == 50 and first.context["page"].has_next
    assert 'data-testid="page-numbers"' in html and "page=2" in html
    jump = html[html.index('data-testid="page-jump"'):]
    jump = jump[:jump.index("</form>")]
    assert 'name="area" value="county:431127000000"' in jump and 'name="period" value="2026-03"' in jump
    second = c.get(f"/indicators/VISITS/records/?{AREA}&page=2")
    assert second.context["page"].number == 2 and second.context["page"].items
    assert not {e.pk for e in first.context["page"].items} & {e.pk for e in second.context["page"].items}


def test_the_facility_filter_narrows_the_drill_down(world, login):
    c = login(world.bureau)
    r = c.get(f"/indicators/VISITS/records/?{AREA}&facility={world.township_center.code}")
    items = r.context["page"].items
    assert items and {e.facility_id for e in items} == {world.township_center.pk}


def test_the_encounter_export_is_the_scoped_masked_list_and_is_audited(world, login):
    c = login(world.village_doctor)
    shown = c.get(f"/indicators/VISITS/records/?{AREA}").context["page"].items
    ws = _sheet(c.get(f"/indicators/VISITS/records/export/?{AREA}"))
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(shown) == 2  # 大塘村's two, none of the 60 of 总市镇
    text = " ".join(str(v) for r in ws.iter_rows(values_only=True) for v in r)
    assert "李建国" not in text and "李**" in text
    assert world.resident.id_number not in text and world.resident.masked_id_number in text
    event = AuditEvent.objects.filter(action="export", object_type="encounter").latest("id")
    assert event.actor_id == world.village_doctor.pk and sorted(event.detail["ids"]) == sorted(e.pk for e in shown)


def test_the_bureau_export_holds_every_row_not_just_the_page(world, login):
    c = login(world.bureau)
    ws = _sheet(c.get(f"/indicators/VISITS/records/export/?{AREA}"))
    event = AuditEvent.objects.filter(action="export", object_type="encounter").latest("id")
    assert ws.max_row - 1 == len(event.detail["ids"]) > 50
    html = c.get(f"/indicators/VISITS/records/?{AREA}").content.decode()
    assert re.search(r'href="/indicators/VISITS/records/export/\?area=county%3A431127000000&amp;period=2026-03"', html)
    assert "最多导出 5000 条" in html


def test_the_settlement_export_is_masked_and_audited(world, login):
    c = login(world.bureau)
    shown = c.get(f"/indicators/N11/records/?{AREA}").context["page"].items
    ws = _sheet(c.get(f"/indicators/N11/records/export/?{AREA}"))
    assert ws.max_row - 1 == len(shown) == 6
    text = " ".join(str(v) for r in ws.iter_rows(values_only=True) for v in r)
    assert "李建国" not in text and "王秀英" not in text
    event = AuditEvent.objects.filter(action="export", object_type="settlement").latest("id")
    assert sorted(event.detail["ids"]) == sorted(s.pk for s in shown)


def test_an_auditor_cannot_export_a_drill_down(world, login):
    c = login(world.auditor)
    assert c.get(f"/indicators/VISITS/records/export/?{AREA}").status_code == 403
    denied = AuditEvent.objects.filter(action="denied", actor_id=world.auditor.pk).latest("id")
    assert denied.detail["attempted"] == "read:demographics"
    assert not AuditEvent.objects.filter(action="export").exists()


def test_an_auditor_cannot_open_the_drill_down_page_either(world, login):
    c = login(world.auditor)
    for url in (f"/indicators/VISITS/records/?{AREA}", f"/indicators/N09/records/?{AREA}"):
        r = c.get(url)
        assert r.status_code == 403 and "李建国" not in r.content.decode(), url
    assert AuditEvent.objects.filter(action="denied", actor_id=world.auditor.pk,
                                     detail__attempted="read:demographics").count() == 2
    assert not AuditEvent.objects.filter(action="list", object_type__in=["encounter", "settlement"]).exists()


def test_the_area_filter_narrows_the_drill_down_to_a_township(world, login):
    c = login(world.bureau)
    r = c.get(f"/indicators/VISITS/records/?area=township:{world.other_township.code}&period=2026-03")
    items = r.context["page"].items
    assert items and {e.facility.region.code[:9] for e in items} == {world.other_township.code[:9]}
    html = r.content.decode()
    assert f'value="township:{world.township.code}"' in html  # the other townships are offered
    ws = _sheet(c.get(f"/indicators/VISITS/records/export/?area=township:{world.other_township.code}&period=2026-03"))
    event = AuditEvent.objects.filter(action="export", object_type="encounter").latest("id")
    assert ws.max_row - 1 == len(event.detail["ids"])
    exported = Encounter.objects.filter(pk__in=event.detail["ids"]).select_related("facility__region")
    assert {e.pk for e in world.extra} <= set(event.detail["ids"])
    assert {e.facility.region.code[:9] for e in exported} == {world.other_township.code[:9]}
