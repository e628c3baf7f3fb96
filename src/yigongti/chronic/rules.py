"""The 规范's classification and next step of a hypertension or type-2 diabetes follow-up, as pure functions.

The thresholds are data (``rules_data/standard_2017.json``, with its edition and source), so a new edition of the
国家基本公共卫生服务规范 is a data change. ``classify_and_decide`` takes one visit's readings and the patient's
recent history (age, how many uncontrolled visits in a row before this one) and returns the classification
(控制满意 / 控制不满意 / 不良反应 / 并发症), the step (routine, adjust and review in 2 weeks, refer up, urgent
referral), the rule codes that fired (``REASONS``) and the date of the next visit:

- urgent criteria (BP ≥ 180/110, FBG ≥ 16.7 or ≤ 3.9 mmol/L, heart rate > 100, pregnancy with raised BP or
  glucose, a danger sign) → urgent referral now, follow up within 2 weeks;
- a new or worse complication → refer up, follow up within 2 weeks;
- uncontrolled (BP ≥ 140/90, ≥ 150/90 at 65+; FBG ≥ 7.0) or an adverse drug reaction: the first time → adjust,
  review within 2 weeks; the second time in a row → refer up, follow up within 2 weeks;
- otherwise controlled → the next routine visit (a quarter later: at least 4 a year).

Nothing here touches the database."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .models import Condition, Control, Decision

DATA = Path(__file__).parent / "rules_data" / "standard_2017.json"

# Rule codes (FollowUp.reasons) and how pages name them.
REASONS = {
    "controlled": _("血压/血糖控制满意，无不良反应和新发并发症"),
    "bp_uncontrolled": _("血压控制不满意（≥140/90 mmHg）"),
    "bp_uncontrolled_elderly": _("血压控制不满意（65岁及以上 ≥150/90 mmHg）"),
    "fbg_uncontrolled": _("空腹血糖控制不满意（≥7.0 mmol/L）"),
    "adverse_reaction": _("药物不良反应"),
    "first_uncontrolled": _("第一次控制不满意或不良反应：调整用药，2周内随访"),
    "second_uncontrolled": _("连续两次控制不满意或不良反应难以控制：转诊"),
    "new_complication": _("新发或加重并发症：转诊"),
    "bp_urgent": _("血压 ≥180/110 mmHg：紧急转诊"),
    "fbg_high_urgent": _("空腹血糖 ≥16.7 mmol/L：紧急转诊"),
    "fbg_low_urgent": _("血糖 ≤3.9 mmol/L：紧急转诊"),
    "heart_rate_urgent": _("心率超过100次/分：紧急转诊"),
    "pregnancy_bp_urgent": _("妊娠期血压升高：紧急转诊"),
    "pregnancy_fbg_urgent": _("妊娠期血糖高于正常：紧急转诊"),
    "danger_sign": _("危急症状：紧急转诊"),
}


@dataclass(frozen=True)
class Standard:
    edition: str
    edition_en: str
    source: str
    enrol_min_age: int
    routine_days: int
    review_days: int
    bp_target: tuple[int, int]
    bp_target_elderly: tuple[int, int]
    elderly_age: int
    fbg_target: Decimal
    urgent: dict[str, Any]
    danger_signs: list[dict[str, Any]]
    symptoms: list[dict[str, Any]]

    @property
    def edition_label(self) -> str:
        """The edition's name in the active language."""
        return self.edition_en if (get_language() or "").startswith("en") else self.edition

    def signs_for(self, condition: str) -> list[dict[str, Any]]:
        return [s for s in self.danger_signs if condition in s["conditions"]]

    def symptoms_for(self, condition: str) -> list[dict[str, Any]]:
        return [s for s in self.symptoms if condition in s["conditions"]]


def parse_standard(raw: Mapping[str, Any]) -> Standard:
    bp = raw["bp"]
    return Standard(
        edition=raw["edition"], edition_en=raw.get("edition_en", raw["edition"]), source=raw["source"],
        enrol_min_age=int(raw["enrol_min_age"]), routine_days=int(raw["routine_interval_days"]),
        review_days=int(raw["review_interval_days"]),
        bp_target=(int(bp["target"]["sbp_below"]), int(bp["target"]["dbp_below"])),
        bp_target_elderly=(int(bp["target_elderly"]["sbp_below"]), int(bp["target_elderly"]["dbp_below"])),
        elderly_age=int(bp["elderly_age"]), fbg_target=Decimal(str(raw["fbg"]["target_below"])),
        urgent={k: (Decimal(str(v)) if isinstance(v, float) else v) for k, v in raw["urgent"].items()},
        danger_signs=list(raw["danger_signs"]), symptoms=list(raw["symptoms"]))


@lru_cache(maxsize=1)
def standard() -> Standard:
    """The edition in force (loaded once)."""
    return parse_standard(json.loads(DATA.read_text(encoding="utf-8")))


def danger_sign_codes() -> set[str]:
    return {s["code"] for s in standard().danger_signs}


def symptom_codes() -> set[str]:
    return {s["code"] for s in standard().symptoms}


@dataclass(frozen=True)
class Reading:
    """What one visit observed. Readings not taken are ``None``."""

    condition: str = Condition.HYPERTENSION
    sbp: int | None = None
    dbp: int | None = None
    fbg: Decimal | None = None
    heart_rate: int | None = None
    adverse_reaction: bool = False
    new_complication: bool = False
    pregnant: bool = False
    danger_signs: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, data: Reading | Mapping[str, Any]) -> Reading:
        if isinstance(data, Reading):
            return data
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if values.get("fbg") is not None:
            values["fbg"] = Decimal(str(values["fbg"]))
        values["danger_signs"] = tuple(values.get("danger_signs") or ())
        return cls(**values)


@dataclass(frozen=True)
class Outcome:
    control: Control
    decision: Decision
    reasons: list[str]
    next_visit_on: dt.date
    refer: bool
    urgent: bool


def urgent_reasons(r: Reading, s: Standard) -> list[str]:
    """The urgent-referral criteria the reading meets (both conditions' criteria apply to any reading taken)."""
    u, out = s.urgent, []
    if (r.sbp is not None and r.sbp >= u["sbp_at_least"]) or (r.dbp is not None and r.dbp >= u["dbp_at_least"]):
        out.append("bp_urgent")
    if r.fbg is not None and r.fbg >= u["fbg_at_least"]:
        out.append("fbg_high_urgent")
    if r.fbg is not None and r.fbg <= u["fbg_at_most"]:
        out.append("fbg_low_urgent")
    if r.heart_rate is not None and r.heart_rate > u["heart_rate_above"]:
        out.append("heart_rate_urgent")
    if r.pregnant and ((r.sbp is not None and r.sbp >= u["pregnancy_sbp_at_least"])
                       or (r.dbp is not None and r.dbp >= u["pregnancy_dbp_at_least"])):
        out.append("pregnancy_bp_urgent")
    if r.pregnant and r.fbg is not None and r.fbg >= u["pregnancy_fbg_at_least"]:
        out.append("pregnancy_fbg_urgent")
    known = {d["code"] for d in s.danger_signs}
    if any(code in known for code in r.danger_signs):
        out.append("danger_sign")
    return out


def off_target(r: Reading, age: int, s: Standard) -> list[str]:
    """Why the condition is not controlled: BP for hypertension, fasting glucose for diabetes."""
    if r.condition == Condition.DIABETES:
        return ["fbg_uncontrolled"] if r.fbg is not None and r.fbg >= s.fbg_target else []
    elderly = age >= s.elderly_age
    sbp_t, dbp_t = s.bp_target_elderly if elderly else s.bp_target
    if (r.sbp is not None and r.sbp >= sbp_t) or (r.dbp is not None and r.dbp >= dbp_t):
        return ["bp_uncontrolled_elderly" if elderly else "bp_uncontrolled"]
    return []


def classify_and_decide(reading: Reading | Mapping[str, Any], *, age: int, previous_uncontrolled: int,
                        visit_date: dt.date, rules: Standard | None = None) -> Outcome:
    """The 规范's 分类干预 for one visit. ``previous_uncontrolled`` is the number of uncontrolled (or adverse
    reaction) visits in a row just before this one (``Enrolment.uncontrolled_streak``)."""
    s = rules or standard()
    r = Reading.of(reading)
    off = off_target(r, age, s)
    reasons = list(off)
    if r.adverse_reaction:
        reasons.append("adverse_reaction")
    if r.new_complication:
        control = Control.COMPLICATION
    elif off:
        control = Control.UNCONTROLLED
    elif r.adverse_reaction:
        control = Control.ADVERSE
    else:
        control = Control.CONTROLLED
    review = visit_date + dt.timedelta(days=s.review_days)
    urgent = urgent_reasons(r, s)
    if urgent:
        return Outcome(control, Decision.URGENT, reasons + urgent, review, True, True)
    if r.new_complication:
        return Outcome(control, Decision.REFER, [*reasons, "new_complication"], review, True, False)
    if off or r.adverse_reaction:
        if previous_uncontrolled >= 1:
            return Outcome(control, Decision.REFER, [*reasons, "second_uncontrolled"], review, True, False)
        return Outcome(control, Decision.ADJUST, [*reasons, "first_uncontrolled"], review, False, False)
    return Outcome(control, Decision.ROUTINE, ["controlled"],
                   visit_date + dt.timedelta(days=s.routine_days), False, False)


def next_streak(previous_uncontrolled: int, outcome: Outcome) -> int:
    """``Enrolment.uncontrolled_streak`` after this visit: uncontrolled or adverse visits in a row."""
    bad = bool(set(outcome.reasons) & {"bp_uncontrolled", "bp_uncontrolled_elderly", "fbg_uncontrolled",
                                        "adverse_reaction"})
    return previous_uncontrolled + 1 if bad else 0


def at_target(condition: str, *, age: int, sbp: int | None, dbp: int | None, fbg: Decimal | float | None,
              rules: Standard | None = None) -> bool:
    """Whether a last reading meets the target (the 控制率's numerator); a reading not taken is not at target."""
    s = rules or standard()
    if condition == Condition.DIABETES:
        return fbg is not None and Decimal(str(fbg)) < s.fbg_target
    if sbp is None or dbp is None:
        return False
    sbp_t, dbp_t = s.bp_target_elderly if age >= s.elderly_age else s.bp_target
    return sbp < sbp_t and dbp < dbp_t
