"""The five-colour pregnancy risk grade (孕产妇妊娠风险评估与管理工作规范, 国卫办妇幼发〔2017〕35号) as data and
a pure function.

``schedules/pregnancy_risk_2017.json`` lists the factors of the 规范's 评估表 with their colour (yellow 一般风险,
orange 较高风险, red 高风险, purple 传染性疾病) and the derived factors computed from measurements (age, BMI,
height, haemoglobin). ``assess`` takes the factor codes the doctor chose plus the measurements and returns the
grade: the highest colour found, green when none; purple when an infection is found and no factor is orange or
above (with an orange or red factor the colour stays and the infection is still listed). Orange, red and purple
are managed at the county (``county_managed``). No database here."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

CURRENT = "pregnancy_risk_2017.json"
_DIR = Path(__file__).resolve().parent / "schedules"

RANK = {"green": 0, "yellow": 1, "orange": 2, "red": 3}
COUNTY_GRADES = frozenset({"orange", "red", "purple"})


@dataclass(frozen=True)
class Factor:
    code: str
    label: str
    label_en: str
    grade: str
    group: str = "derived"

    @property
    def name(self) -> str:
        return self.label_en if (get_language() or "").startswith("en") else self.label


@dataclass(frozen=True)
class RiskTable:
    edition: str
    source: str
    factors: dict[str, Factor]  # chosen by the doctor, by code
    derived: dict[str, Factor]

    def by_grade(self) -> list[tuple[str, list[Factor]]]:
        """The factors a form offers, grouped by colour (yellow, orange, red, purple)."""
        return [(g, [f for f in self.factors.values() if f.grade == g]) for g in ("yellow", "orange", "red",
                                                                                 "purple")]


@dataclass
class Assessment:
    grade: str  # green | yellow | orange | red | purple
    factors: list[Factor] = field(default_factory=list)  # every factor found, highest first
    unknown: list[str] = field(default_factory=list)  # codes not in the table (refused by the service)
    edition: str = ""

    @property
    def county_managed(self) -> bool:
        return self.grade in COUNTY_GRADES

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.factors]


def parse(data: dict) -> RiskTable:
    factors = {}
    for item in data["items"]:
        if item["grade"] not in RANK and item["grade"] != "purple":
            raise ValueError(f"risk table: {item['code']}: unknown grade {item['grade']!r}")
        if item["code"] in factors:
            raise ValueError(f"risk table: {item['code']} twice")
        factors[item["code"]] = Factor(item["code"], item["label"], item.get("label_en", item["label"]),
                                       item["grade"], item.get("group", ""))
    derived = {code: Factor(code, d["label"], d.get("label_en", d["label"]), d["grade"])
               for code, d in data.get("derived", {}).items()}
    return RiskTable(edition=data["edition"], source=data["source"], factors=factors, derived=derived)


@cache
def table(filename: str = CURRENT) -> RiskTable:
    with open(_DIR / filename, encoding="utf-8") as f:
        return parse(json.load(f))


def derived_codes(*, age: int | None = None, height_cm=None, weight_kg=None, haemoglobin=None) -> list[str]:
    """The factors that follow from measurements (the 评估表's 基本情况 and 贫血 lines)."""
    out = []
    if age is not None:
        if age >= 40:
            out.append("age_40")
        elif age >= 35 or age <= 18:
            out.append("age_35")
    if height_cm is not None:
        h = Decimal(str(height_cm))
        if h <= 145:
            out.append("short")
        if weight_kg is not None and h > 0:
            bmi = Decimal(str(weight_kg)) / (h / 100) ** 2
            if bmi >= 28:
                out.append("bmi_28")
            elif bmi > 25 or bmi < Decimal("18.5"):
                out.append("bmi_25")
    if haemoglobin is not None:
        hb = int(haemoglobin)
        if hb <= 40:
            out.append("anaemia_critical")
        elif hb < 60:
            out.append("anaemia_severe")
        elif hb < 110:
            out.append("anaemia")
    return out


def assess(codes: Iterable[str], *, age: int | None = None, height_cm=None, weight_kg=None, haemoglobin=None,
           rules: RiskTable | None = None) -> Assessment:
    """The grade of a pregnancy from the chosen factor codes and the measurements."""
    rules = rules or table()
    found: list[Factor] = []
    unknown: list[str] = []
    for code in dict.fromkeys(c for c in codes if c):
        f = rules.factors.get(code)
        if f is None:
            unknown.append(code)
        else:
            found.append(f)
    for code in derived_codes(age=age, height_cm=height_cm, weight_kg=weight_kg, haemoglobin=haemoglobin):
        if code in rules.derived:
            found.append(rules.derived[code])
    colour = max((RANK[f.grade] for f in found if f.grade in RANK), default=0)
    infected = any(f.grade == "purple" for f in found)
    grade = next(g for g, r in RANK.items() if r == colour)
    if infected and colour < RANK["orange"]:
        grade = "purple"
    found.sort(key=lambda f: (-(RANK.get(f.grade, 1.5)), f.code))
    return Assessment(grade=grade, factors=found, unknown=unknown, edition=rules.edition)
