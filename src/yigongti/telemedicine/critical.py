"""The critical-value (危急值) loop as plain functions over plain data: which rule applies to a lab value, whether
the value is critical, whether a read-back repeats it, when the acknowledgement is due, who is told next when it
is not, which moves the loop allows. No database here: ``services/critical.py`` looks the facts up and writes.

Rule choice (``choose_rule``): among the rules of the analyte that are in force on the day and fit the patient
(population by age in days — neonate ≤ 28 d, child < 18 y, adult —, sex, patient group), a member facility's
override beats the community default (the county lab center's table); then the more specific rule wins (a patient
group, a population, a sex). A rule in another unit applies through the analyte's unit factors; a rule whose unit
cannot be converted is ignored (never a false alarm from mixed units).

The escalation ladder (``LADDER``) is data: level 0 the ordering doctor (or the facility's clinicians), 1 the
facility director (the township's for a village clinic), 2 the center's county duty doctor, 3 a 120 alert — only
for a patient at home."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

NEONATE_DAYS = 28
ADULT_YEARS = 18

# statuses (the values of models.CriticalStatus; repeated here so the module stays free of Django)
NOTIFIED, ESCALATED, ACKNOWLEDGED, ACTIONED, CLOSED = "notified", "escalated", "acknowledged", "actioned", "closed"
UNACKNOWLEDGED = (NOTIFIED, ESCALATED)
OPEN = (NOTIFIED, ESCALATED, ACKNOWLEDGED, ACTIONED)

# move → (statuses it starts from, status it leads to); ``action`` from ACTIONED records a further action
MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (UNACKNOWLEDGED, ACKNOWLEDGED),
    "action": ((ACKNOWLEDGED, ACTIONED), ACTIONED),
    "close": ((ACTIONED,), CLOSED),
    "escalate": (UNACKNOWLEDGED, ESCALATED),
}


def allowed(move: str, status: str) -> bool:
    starts, _to = MOVES[move]
    return status in starts


# ---- the patient and the rules --------------------------------------------------------------------------


def age_in_days(birth: dt.date | None, on: dt.date) -> int | None:
    return None if birth is None else (on - birth).days


def population_of(age_days: int | None) -> str:
    """neonate (≤ 28 days), child (< 18 years) or adult; an unknown age counts as adult."""
    if age_days is None:
        return "adult"
    if age_days <= NEONATE_DAYS:
        return "neonate"
    return "child" if age_days < ADULT_YEARS * 365.25 else "adult"


@dataclass(frozen=True)
class Patient:
    age_days: int | None
    sex: str = ""  # "M" / "F"
    groups: frozenset[str] = frozenset()  # patient groups: 血液科, 抗凝治疗 … (resident tags, the order's context)

    @property
    def population(self) -> str:
        return population_of(self.age_days)


@dataclass(frozen=True)
class Rule:
    id: int | None
    analyte: str  # analyte code (or id as text)
    unit: str
    low: Decimal | None = None  # critical when value < low
    high: Decimal | None = None  # critical when value > high
    population: str = "all"
    sex: str = ""
    patient_group: str = ""
    first_only: bool = False
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    facility_id: int | None = None  # None: the community default


def in_force(rule: Rule, on: dt.date) -> bool:
    if rule.effective_from is not None and on < rule.effective_from:
        return False
    return rule.effective_to is None or on <= rule.effective_to


def fits(rule: Rule, patient: Patient) -> bool:
    if rule.population not in ("", "all") and rule.population != patient.population:
        return False
    if rule.sex and rule.sex != patient.sex:
        return False
    return not rule.patient_group or rule.patient_group in patient.groups


def _specificity(rule: Rule, facilities: Sequence[int]) -> tuple[int, int, int, int]:
    # a nearer facility's override beats a farther one's (the clinic's own, then its township's), both beat default
    place = len(facilities) - facilities.index(rule.facility_id) if rule.facility_id in facilities else 0
    return (place, int(bool(rule.patient_group)), int(rule.population not in ("", "all")), int(bool(rule.sex)))


def choose_rule(rules: Iterable[Rule], patient: Patient, on: dt.date, facilities: Sequence[int] = ()) -> Rule | None:
    """The one rule that decides for this patient on this day. ``facilities`` are the ordering facility and then
    its parent (a village clinic's township): their overrides apply; other facilities' are ignored."""
    candidates = [r for r in rules if in_force(r, on) and fits(r, patient)
                  and (r.facility_id is None or r.facility_id in facilities)]
    if not candidates:
        return None
    return max(candidates, key=lambda r: _specificity(r, list(facilities)))


def convert(limit: Decimal | None, rule_unit: str, value_unit: str, factors: dict[str, float | str]
            ) -> Decimal | bool | None:
    """The rule's limit in the value's unit (``factors``: the analyte's unit → factor to its own unit, which is
    the value's); ``False`` when the units cannot be converted."""
    if limit is None:
        return None
    if _norm_unit(rule_unit) == _norm_unit(value_unit) or not rule_unit:
        return limit
    for unit, factor in factors.items():
        if _norm_unit(unit) == _norm_unit(rule_unit):
            return limit * Decimal(str(factor))
    return False


def _norm_unit(u: str) -> str:
    return (u or "").strip().replace("µ", "u").replace("μ", "u").replace("×", "x").lower()


@dataclass(frozen=True)
class Verdict:
    rule: Rule
    flag: str  # "LL" / "HH"
    limit: Decimal


def judge(value: Decimal | None, unit: str, rule: Rule, factors: dict[str, float | str] | None = None
          ) -> Verdict | None:
    """Whether the value (in ``unit``) is critical under the rule: strictly below ``low`` or above ``high``."""
    if value is None:
        return None
    low = convert(rule.low, rule.unit, unit, factors or {})
    high = convert(rule.high, rule.unit, unit, factors or {})
    if low is False or high is False:
        return None
    if isinstance(low, Decimal) and value < low:
        return Verdict(rule, "LL", low)
    if isinstance(high, Decimal) and value > high:
        return Verdict(rule, "HH", high)
    return None


def judge_text(text: str, rule: Rule) -> Verdict | None:
    """A qualitative result (cTnI 阳性, "+", "POS") is critical under a rule with neither limit."""
    if rule.low is not None or rule.high is not None:
        return None
    t = (text or "").strip().lower()
    if t in ("阳性", "+", "++", "+++", "pos", "positive", "reactive", "detected") or t.startswith("阳性"):
        return Verdict(rule, "HH", Decimal(0))
    return None


def evaluate(value: Decimal | None, value_text: str, unit: str, rules: Iterable[Rule], patient: Patient,
             on: dt.date, facilities: Sequence[int] = (), factors: dict[str, float | str] | None = None,
             had_critical_before: bool = False) -> Verdict | None:
    """The critical verdict on one lab value, or None. ``had_critical_before``: the patient already had a
    critical value of this analyte (a first-only rule then stays silent)."""
    rule = choose_rule(rules, patient, on, facilities)
    if rule is None:
        return None
    if rule.first_only and had_critical_before:
        return None
    return judge(value, unit, rule, factors) if value is not None else judge_text(value_text, rule)


def describe(name: str, value: Decimal | None, value_text: str, unit: str, verdict: Verdict) -> str:
    """危急值 text, e.g. "血钾 2.5 mmol/L（危急低值 <2.8）"."""
    shown = value_text or (_plain(value) if value is not None else "")
    if verdict.rule.low is None and verdict.rule.high is None:
        return f"{name} {shown}".strip()
    side = "危急低值 <" if verdict.flag == "LL" else "危急高值 >"
    return f"{name} {shown} {unit}（{side}{_plain(verdict.limit)}）".replace("  ", " ")


def _plain(d: Decimal) -> str:
    return format(d.normalize(), "f")


# ---- read-back -----------------------------------------------------------------------------------------

_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def read_back_problem(read_back: str, value: Decimal | None, value_text: str = "") -> str:
    """Why the read-back does not repeat the value ("" when it does; "missing" / "mismatch"): for a number, the
    same number must be said (2.5 = 2.50); for a finding or a qualitative result, something must be said."""
    said = (read_back or "").strip()
    if not said:
        return "missing"
    if value is None:
        return ""
    for m in _NUM.findall(said):
        try:
            if Decimal(m) == value:
                return ""
        except InvalidOperation:
            continue
    return "mismatch"


def plain(d: Decimal) -> str:
    """A decimal as people say it: 2.5000 → "2.5", 100 → "100"."""
    return _plain(d)


# ---- timing and the ladder -----------------------------------------------------------------------------


def ack_limit_minutes(urgency: str, ack_minutes: int, ack_emergency_minutes: int) -> int:
    return ack_emergency_minutes if urgency == "emergency" else ack_minutes


def ack_due(notified_at: dt.datetime, urgency: str, ack_minutes: int, ack_emergency_minutes: int) -> dt.datetime:
    return notified_at + dt.timedelta(minutes=ack_limit_minutes(urgency, ack_minutes, ack_emergency_minutes))


@dataclass(frozen=True)
class Step:
    level: int
    who: str  # ordering / director / county_duty / alert_120
    label: str
    home_only: bool = False


LADDER: tuple[Step, ...] = (
    Step(0, "ordering", "申请医生（或机构值班医生）"),
    Step(1, "director", "机构负责人（村卫生室由乡镇卫生院负责人）"),
    Step(2, "county_duty", "县级中心值班医生"),
    Step(3, "alert_120", "120 预警（患者在家）", home_only=True),
)


def next_step(level: int, at_home: bool) -> Step | None:
    """Who is told after ``level`` when nobody acknowledged (None: the top of the ladder)."""
    for step in LADDER:
        if step.level > level and (at_home or not step.home_only):
            return step
    return None


def is_due(status: str, ack_due_at: dt.datetime | None, now: dt.datetime) -> bool:
    return status in UNACKNOWLEDGED and ack_due_at is not None and ack_due_at <= now


# ---- indicators over plain rows ------------------------------------------------------------------------


@dataclass
class Row:
    """One critical value, for the indicators: its times (None when the step did not happen)."""

    detected_at: dt.datetime
    notified_at: dt.datetime | None = None
    ack_due_at_first: dt.datetime | None = None  # the first (level 0) limit
    acknowledged_at: dt.datetime | None = None
    action_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    level: int = 0


@dataclass
class Summary:
    total: int = 0
    notified: int = 0
    timely: int = 0  # acknowledged within the first limit
    acknowledged: int = 0
    actioned: int = 0
    closed: int = 0
    escalated: int = 0
    median_ack_minutes: float | None = None
    median_action_minutes: float | None = None
    rates: dict[str, float | None] = field(default_factory=dict)


def _ratio(a: int, b: int) -> float | None:
    return round(100.0 * a / b, 1) if b else None


def summarise(rows: Iterable[Row]) -> Summary:
    """通报率 (notified / all), 通报及时率 (acknowledged within the limit / notified), acknowledgement and closure
    rates, escalations, median minutes detected → acknowledged and → action."""
    s = Summary()
    acks: list[float] = []
    acts: list[float] = []
    for r in rows:
        s.total += 1
        s.notified += r.notified_at is not None
        s.escalated += r.level > 0
        if r.acknowledged_at is not None:
            s.acknowledged += 1
            acks.append((r.acknowledged_at - r.detected_at).total_seconds() / 60)
            if r.ack_due_at_first is None or r.acknowledged_at <= r.ack_due_at_first:
                s.timely += 1
        if r.action_at is not None:
            s.actioned += 1
            acts.append((r.action_at - r.detected_at).total_seconds() / 60)
        s.closed += r.closed_at is not None
    s.median_ack_minutes = round(statistics.median(acks), 1) if acks else None
    s.median_action_minutes = round(statistics.median(acts), 1) if acts else None
    s.rates = {"notified": _ratio(s.notified, s.total), "timely": _ratio(s.timely, s.notified),
               "acknowledged": _ratio(s.acknowledged, s.total), "closed": _ratio(s.closed, s.total),
               "escalated": _ratio(s.escalated, s.total)}
    return s
