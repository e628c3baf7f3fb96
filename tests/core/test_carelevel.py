"""A facility's care level comes from its WS 218 type in one place (core.carelevel)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from yigongti.core.carelevel import CareLevel, care_level, care_level_sql, is_grassroots
from yigongti.core.scoping import facility_prefix
from yigongti.orgs.models import Facility, FacilityType, Ownership


@pytest.mark.parametrize(("code", "level"), [
    ("A100", "county"), ("A210", "county"), ("A500", "county"), ("G100", "county"), ("E300", "county"),
    ("B100", "township"), ("C100", "township"), ("C210", "township"), ("C220", "township"),
    ("B200", "village"), ("D100", "village"), ("D200", "village"), ("D300", "village"), ("D400", "village"),
    ("D600", "village"),
])
def test_ws218_codes_map_to_care_levels(code, level):
    assert care_level(code) == level
    assert is_grassroots(code) == (level in ("township", "village"))


def test_there_is_no_private_hospital_type():
    # 民营 is ownership, not a type: WS 218 has no A900
    assert "A900" not in FacilityType.values
    assert Ownership.PRIVATE.label == "民营"


def test_the_sql_and_the_function_agree(db):
    from django.db import connection

    with connection.cursor() as cur:
        for code in [*FacilityType.values, "X999"]:
            cur.execute(f"SELECT {care_level_sql('t.code')} FROM (SELECT %s AS code) t", [code])
            assert cur.fetchone()[0] == care_level(code), code


def test_facility_care_level_and_scope_follow_the_type(cast):
    clinic = Facility.objects.create(code="431127100D20001", name="塔峰诊所", type=FacilityType.CLINIC,
                                     ownership=Ownership.PRIVATE, region=cast.village, community=cast.community)
    assert clinic.care_level == CareLevel.VILLAGE and clinic.is_grassroots
    assert facility_prefix(clinic) == cast.village.code
    center = Facility.objects.create(code="431127100C21001", name="中心卫生院",
                                     type=FacilityType.CENTRAL_TOWNSHIP_CENTER, region=cast.township,
                                     community=cast.community)
    assert center.care_level == CareLevel.TOWNSHIP and facility_prefix(center) == cast.township.code[:9]
    assert cast.county_hospital.care_level == CareLevel.COUNTY and not cast.county_hospital.is_grassroots


def test_the_data_migration_moves_the_old_codes(cast):
    # rows written under the earlier types: A900 (民营医院) and B200 meaning 乡镇卫生院
    Facility.objects.filter(pk=cast.county_hospital.pk).update(type="A900")
    Facility.objects.filter(pk=cast.township_center.pk).update(type="B200")
    Facility.objects.filter(pk=cast.other_center.pk).update(type="B200", name="总市镇中心卫生院")
    migration = importlib.import_module("yigongti.orgs.migrations.0002_ws218_types")
    migration.to_ws218(apps, None)
    got = {f.pk: (f.type, f.ownership) for f in Facility.objects.all()}
    assert got[cast.county_hospital.pk] == ("A100", "private")
    assert got[cast.township_center.pk] == ("C220", "public")
    assert got[cast.other_center.pk] == ("C210", "public")


def test_the_api_and_the_page_show_ownership_and_care_level(cast, client, login):
    login(cast.bureau)
    items = client.get("/api/v1/facilities", {"page_size": 50}).json()["items"]
    by_code = {f["code"]: f for f in items}
    assert by_code["431127100B200"]["type"] == "C220" and by_code["431127100B200"]["care_level"] == "township"
    assert by_code["431127100201D600"]["care_level"] == "village"
    assert by_code["431127A100001"]["ownership"] == "public" and by_code["431127A100001"]["care_level"] == "county"
    page = client.get(f"/orgs/facilities/{cast.township_center.pk}/").content.decode()
    assert 'data-testid="care-level">乡镇卫生院<' in page and "公立" in page
