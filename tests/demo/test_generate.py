import datetime as dt
from collections import Counter

from yigongti.core.idcard import parse_id_number
from yigongti.demo.build import build_demo
from yigongti.orgs.models import Facility, Region, Staff, User
from yigongti.residents.models import Household, Resident, ResidentTag


def _snapshot():
    # the county's people (ids 1..N); later demo steps add provisional persons through the index import
    return list(Resident.objects.filter(pk__lte=3000).order_by("id").values_list(
        "name", "sex", "birth_date", "id_number", "area_code"))


def test_the_demo_county_is_complete_valid_and_deterministic(transactional_db):
    logins = build_demo(population=3000, seed=7)
    first = _snapshot()
    assert len(first) == 3000

    # the community's shape as in the seeds
    types = Counter(Facility.objects.values_list("type", flat=True))
    assert types["A100"] == types["A210"] == types["G100"] == 1
    assert types["B200"] == 15 and 150 <= types["D600"] <= 200 and types["E300"] == 4
    assert Region.objects.filter(level="village").count() == types["D600"]
    assert Staff.objects.count() > 2000
    assert Staff.objects.exclude(work_facility=models_F("establishment_facility")).exists()  # 岗编分离

    # every ID number is valid and agrees with sex and birth date
    for name, sex, birth, id_number, area in first:
        if id_number:
            parsed = parse_id_number(id_number)
            assert (parsed.sex, parsed.birth_date) == (sex, birth)
            assert parsed.region_code in ("431127", "432927")
        assert area.startswith("431127")
    assert Resident.objects.filter(id_number__startswith="432927").exists()
    assert Household.objects.count() > 800
    tags = Counter(ResidentTag.objects.values_list("tag", flat=True))
    elderly = sum(1 for *_, b, _i, _a in [(r[0], r[1], r[2], r[3], r[4]) for r in first]
                  if (dt.date(2026, 10, 31) - b).days // 365 >= 65)
    assert tags["elderly"] == elderly
    assert 0.05 < tags["htn"] / 3000 < 0.25

    # the logins work and passwords are not fixed
    assert {"bureau", "village_doctor", "township_doctor", "county_doctor", "manager", "auditor"} <= {
        row["username"] for row in logins}
    again = build_demo(population=3000, seed=7)
    assert _snapshot() == first
    assert {r["password"] for r in again}.isdisjoint({r["password"] for r in logins})
    assert User.objects.get(username="village_doctor").facility.type == "D600"


def models_F(name):
    from django.db.models import F

    return F(name)
