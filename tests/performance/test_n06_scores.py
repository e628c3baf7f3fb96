"""N06 from the payroll through the indicator registry (the dashboard's card shows a value, no longer pending), the
scheme's validation, and a month scored: lines, departments, the guaranteed and the performance parts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.cast import SYSTEM, as_
from tests.performance.conftest import YEAR, money
from tests.performance.world import ITEMS, LAST_MONTH, performance_objects
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.performance import services
from yigongti.performance.models import Score, ScoreRun

pytestmark = pytest.mark.django_db


def _county(c):
    from yigongti.indicators.queries import Area

    return Area("county", c.county.code, c.county.name, c.county.prefix)


def test_n06_is_the_grassroots_mean_over_the_lead_hospitals(cast, pf):
    from yigongti.indicators.periods import parse_period
    from yigongti.indicators.queries import REGISTRY_FIGURES, figures

    performance_objects(cast)
    # lead hospital: 100,000 each; grassroots (township and village staff): 80,000 each
    v = REGISTRY_FIGURES["N06"](_county(cast), parse_period(str(YEAR)))
    assert (v.numerator, v.denominator, v.value) == (money(80000), money(100000), Decimal("0.80"))
    assert f"{YEAR} 年薪酬" in v.extra["note"]
    # a month of this year shows last year's ratio; the dashboard's card has the value
    card = next(k for k in figures(_county(cast), parse_period(f"{YEAR + 1}-01"), codes=["N06"]))
    assert card.value.value == Decimal("0.80") and card.indicator.kind == "registry"


def test_n06_without_payroll_has_no_value_and_says_why(cast, pf):
    from yigongti.indicators.periods import parse_period
    from yigongti.indicators.queries import REGISTRY_FIGURES

    v = REGISTRY_FIGURES["N06"](_county(cast), parse_period(str(YEAR)))
    assert v.value is None and v.extra["note"] == "未导入年度薪酬"


def test_a_month_is_scored_by_facility_and_department_with_the_split(cast, pf):
    run = performance_objects(cast)["run"]
    top = run.scores.get(facility=cast.township_center, department__isnull=True)
    lines = {ln["key"]: ln for ln in top.lines}
    assert lines["workload:visits"]["actual"] == "3"
    assert Decimal(lines["workload:visits"]["points"]) == Decimal("30.00")
    assert Decimal(lines["satisfaction:satisfaction"]["points"]) == Decimal("40.00")  # 95 ≥ 90, capped at 1
    assert lines["indicator:DRUG_RATIO"]["note"]  # no facts refreshed: no data, no points
    assert top.total == Decimal("70.00") and top.headcount == 4  # with the cast's township doctor
    other = run.scores.get(facility=cast.other_center, department__isnull=True)
    assert other.total == Decimal("10.00")  # 1 visit of 4, no satisfaction entered
    # 二类绩效: 100,000 shared by score × headcount (the other center has no staff: nothing)
    assert top.performance == money(100000) and other.performance == 0
    # 一类保障: a month of the basic pay of last year's payroll (4 × 40,000 ÷ 12)
    assert top.guaranteed == money("13333.33") and run.payroll_year == YEAR and run.guaranteed == money("13333.33")
    depts = {s.department.code: s for s in run.scores.filter(department__isnull=False, facility=cast.township_center)}
    assert set(depts) == {"QK", "ZY"}
    assert depts["QK"].headcount == 2 and depts["ZY"].headcount == 1
    assert sum(s.performance for s in depts.values()) == top.performance
    assert depts["QK"].total > depts["ZY"].total  # the visits were all at 全科 (target halved between the two)


def test_scoring_a_month_again_replaces_its_run(cast, pf):
    o = performance_objects(cast)
    again = services.score_month(SYSTEM, o["scheme"], LAST_MONTH)
    assert ScoreRun.objects.count() == 1 and again.pk != o["run"].pk
    assert not Score.objects.filter(run=o["run"]).exists()


def test_a_scheme_with_bad_items_is_refused_with_every_reason(cast):
    bad = [dict(ITEMS[0], weight="0"), dict(ITEMS[1], measure="N07"), ITEMS[2], ITEMS[2]]
    with pytest.raises(InvalidInput) as e:
        services.save_scheme(as_(cast.manager), None, {"name": "", "level": "township"}, bad)
    assert {"name", "item_0", "item_1", "scheme_items"} <= set(e.value.errors)
    with pytest.raises(InvalidInput) as e:
        services.save_scheme(as_(cast.manager), None, {"name": "空方案", "level": "township"}, [])
    assert "至少" in e.value.errors["scheme_items"][0]


@pytest.mark.parametrize("who", ["township_doctor", "bureau", "city"])
def test_only_the_communitys_managers_edit_schemes_and_score(cast, pf, who):
    o = performance_objects(cast)
    user = getattr(cast, who)
    with pytest.raises(Forbidden):
        services.save_scheme(as_(user), o["scheme"], {"name": "x", "level": "township"}, ITEMS)
    with pytest.raises(Forbidden):
        services.score_month(as_(user), o["scheme"], LAST_MONTH)
    with pytest.raises(Forbidden):
        services.score_month(as_(pf.admin), o["scheme"], LAST_MONTH)


def test_satisfaction_is_entered_by_the_facilitys_admin_in_range(cast, pf):
    s = services.enter_satisfaction(as_(pf.admin), {"facility": cast.village_clinic.pk, "month": f"{LAST_MONTH:%Y-%m}",
                                                    "score": "88.5"})
    assert s.score == Decimal("88.50")
    with pytest.raises(Forbidden):
        services.enter_satisfaction(as_(pf.other_admin), {"facility": cast.township_center.pk,
                                                          "month": f"{LAST_MONTH:%Y-%m}", "score": "90"})
    with pytest.raises(InvalidInput) as e:
        services.enter_satisfaction(as_(pf.admin), {"facility": cast.township_center.pk, "month": "2999-01",
                                                    "score": "120"})
    assert set(e.value.errors) == {"month", "score"}
