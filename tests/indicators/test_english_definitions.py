"""English pages show the indicators' English definitions and units: every indicator has an English
definition (no Chinese left in it), the dashboard tooltip, the detail page and /referrals/stats/ show it,
and a count's unit names what it counts (referrals, discharges), not "Visits" for every 人次."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.conf import settings
from django.utils import translation

from tests.indicators.world import build_world
from yigongti.indicators.definitions import INDICATORS
from yigongti.indicators.services import refresh_facts
from yigongti.indicators.templatetags.indicator_tags import ind_definition, ind_unit

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


@pytest.fixture
def world(cast):
    build_world(cast)
    refresh_facts()
    return cast


def _english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_every_indicator_has_an_english_definition_without_chinese():
    for ind in INDICATORS.values():
        assert ind.definition_en.strip(), ind.code
        assert not CJK.search(ind.definition_en), (ind.code, ind.definition_en)
        assert not CJK.search(ind.unit_en), (ind.code, ind.unit_en)


def test_units_name_what_is_counted_in_english_and_stay_chinese_in_chinese():
    with translation.override("en"):
        assert ind_unit(INDICATORS["REF_UP"]) == "referrals"
        assert ind_unit(INDICATORS["REF_DOWN"]) == "referrals"
        assert ind_unit(INDICATORS["DISCHARGES"]) == "discharges"
        assert ind_unit(INDICATORS["VISITS"]) == "visits"
        assert ind_definition(INDICATORS["REF_UP"]) == INDICATORS["REF_UP"].definition_en
    with translation.override("zh-hans"):
        assert ind_unit(INDICATORS["REF_UP"]) == "人次"
        assert ind_definition(INDICATORS["REF_UP"]) == "提交的上转单数（按提交月份）"


def test_english_dashboard_and_detail_show_the_english_definition(world, login):
    c = _english(login(world.bureau))
    page = htmllib.unescape(c.get("/indicators/?period=2026-03").content.decode())
    assert f'title="{INDICATORS["N07"].definition_en}"' in page
    assert INDICATORS["N07"].definition not in page
    detail = htmllib.unescape(c.get("/indicators/ALOS/?period=2026-03").content.decode())
    assert INDICATORS["ALOS"].definition_en in detail and INDICATORS["ALOS"].definition not in detail
    assert "Visits" not in c.get("/indicators/DISCHARGES/?period=2026-03").content.decode()


def test_chinese_dashboard_keeps_the_chinese_definition(world, login):
    page = htmllib.unescape(login(world.bureau).get("/indicators/?period=2026-03").content.decode())
    assert f'title="{INDICATORS["N07"].definition}"' in page


def test_english_stats_page_shows_english_definitions_and_units(world, login):
    page = htmllib.unescape(_english(login(world.bureau)).get("/referrals/stats/?period=2026-03").content.decode())
    for code in ("REF_UP", "REF_DOWN_RATE", "REF_SLA"):
        assert INDICATORS[code].definition_en in page, code
        assert INDICATORS[code].definition not in page, code
    up = re.search(r'data-testid="value-REF_UP">[^<]*<small[^>]*>([^<]*)<', page)
    assert up and up.group(1).strip() == "referrals"
    assert "Visits" not in page


def test_api_definitions_carry_english(world, login):
    rows = {r["code"]: r for r in login(world.bureau).get("/api/v1/indicators/definitions").json()}
    assert rows["REF_UP"]["unit_en"] == "referrals" and rows["REF_UP"]["unit"] == "人次"
    assert rows["N07"]["definition_en"] == INDICATORS["N07"].definition_en
    en = _english(login(world.bureau)).get("/api/v1/indicators/figures?period=2026-03").json()
    units = {f["code"]: f["unit"] for f in en["figures"]}
    assert units.get("DISCHARGES") == "discharges"
