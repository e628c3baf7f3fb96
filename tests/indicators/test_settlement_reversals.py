"""冲销/退费 rows in a settlement import: negative amounts linked to the original, so a stay that was
reversed and settled again counts once in N10/N11 (and its money once in N08/N09)."""

from __future__ import annotations

from decimal import Decimal

from tests.cast import as_
from yigongti.encounters.models import InsuranceSettlement
from yigongti.encounters.services import import_rows
from yigongti.indicators import queries
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import Area
from yigongti.indicators.services import refresh_facts

COUNTY = Area("county", "431127000000", "蓝山县", "431127")
HEAD = ("结算流水号,参保地区划,类别,机构编码,机构所在县,机构层级,入院日期,出院日期,结算日期,总费用,统筹支付,"
        "原结算流水号\n")
# R1 settled, reversed the next day (R1X) and settled again with a corrected bill (R1B); R2 an ordinary
# stay outside the county.
GOOD = HEAD + """R1,431127100201,住院,431127A100001,431127,县级,2026-09-01,2026-09-08,2026-09-08,5000,3500,
R1X,431127100201,住院,431127A100001,431127,县级,2026-09-01,2026-09-08,2026-09-09,-5000,-3500,R1
R1B,431127100201,住院,431127A100001,431127,县级,2026-09-01,2026-09-08,2026-09-09,5200,3600,
R2,431127100201,住院,H43010500001,430105,县外,2026-09-02,2026-09-12,2026-09-12,20000,12000,
"""


def _import(tmp_path, text, who):
    path = tmp_path / "settlements.csv"
    path.write_text(text, encoding="utf-8")
    return import_rows("settlements", str(path), "settlements.csv", actor=as_(who))


def test_a_reversed_and_resettled_stay_counts_once(cast, tmp_path):
    rep = _import(tmp_path, GOOD, cast.bureau)
    assert rep.imported == 4 and not rep.errors
    assert InsuranceSettlement.objects.get(settlement_no="R1X").is_reversal
    refresh_facts()
    cards = {c.indicator.code: c.value for c in queries.figures(COUNTY, parse_period("2026-09"), ["N10", "N11", "N08"])}
    # stays in the county: R1 + R1X (−1) + R1B = 1 of 2 → 50.00 % (counting rows it would be 3 of 4)
    assert (cards["N11"].numerator, cards["N11"].denominator, cards["N11"].value) == (
        Decimal(1), Decimal(2), Decimal("50.00"))
    # cost per in-county stay: 5000 − 5000 + 5200 = 5200 over 1
    assert cards["N10"].value == Decimal("5200.00")
    # fund: in county 3500 − 3500 + 3600 = 3600 of 15600 → 23.08 %
    assert cards["N08"].value == Decimal("23.08")


def test_bad_reversals_are_row_errors(cast, tmp_path):
    _import(tmp_path, GOOD, cast.bureau)
    bad = HEAD + """B1,431127100201,住院,431127A100001,431127,县级,2026-09-01,2026-09-08,2026-09-10,-100,-50,
B2,431127100201,住院,431127A100001,431127,县级,2026-09-01,2026-09-08,2026-09-10,-5000,-3500,NOPE
B3,431127100201,住院,431127A100001,431127,县级,2026-09-01,2026-09-08,2026-09-10,-5000,-3500,R1
B4,431127100201,住院,431127A100001,431127,县级,2026-09-01,2026-09-08,2026-09-10,-100,-50,R1B
B5,431127100201,住院,431127A100001,431127,县级,2026-09-01,2026-09-08,2026-09-10,100,50,R2
"""
    rep = _import(tmp_path, bad, cast.bureau)
    assert rep.imported == 0
    messages = " ".join(e.message for e in rep.errors)
    assert "负数金额只用于冲销/退费行" in messages  # B1: negative without an original
    assert "原结算流水号 NOPE 不存在" in messages  # B2
    assert "结算 R1 已被冲销，不能再次冲销" in messages  # B3
    assert "冲销金额应与原结算 R1B 相反（总费用 -5200.00，统筹支付 -3600.00）" in messages  # B4: partial
    assert "冲销/退费行的金额应为负数" in messages  # B5
