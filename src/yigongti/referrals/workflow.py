"""The referral's rules as plain data and functions (no database): the transition table, what the guideline
says about a diagnosis at a level, the green channel, and the appointment slots of a day.

    draft → submitted → accepted / redirected / declined → arrived → completed
                         accepted / redirected → no_show (the patient never came)
    draft, submitted, accepted, redirected → cancelled;  submitted, accepted, redirected → expired
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import LEVEL_RANK, CareLevel, PregnancyRisk, Status

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Move(NamedTuple):
    """One entry of the transition table. ``starts``/``target`` say when the move may happen; ``verb`` is the
    permission (``orgs.permissions``) that says who; ``answers`` moves stamp who answered, ``closes`` moves
    stamp the end; ``reason`` moves need a written reason (``reason_label`` says which); ``by_person`` is False
    for the worker's moves."""

    starts: frozenset[str]
    target: str
    label: StrOrPromise
    verb: str = ""
    answers: bool = False
    closes: bool = False
    reason_label: StrOrPromise = ""
    by_person: bool = True


# The follow-up plan a down-referral proposes by default: days after the referral (the form prefills it).
DOWN_FOLLOW_UP_DAYS = (7, 30, 90)

_ANSWERABLE = frozenset({Status.SUBMITTED})
_AWAITING_PATIENT = frozenset({Status.ACCEPTED, Status.REDIRECTED})

# One table of allowed moves (indexable as (starts, target, …)).
TRANSITIONS: dict[str, Move] = {
    "submit": Move(frozenset({Status.DRAFT}), Status.SUBMITTED, gettext_lazy("提交"), "referrals.submit"),
    "accept": Move(_ANSWERABLE, Status.ACCEPTED, gettext_lazy("接收"), "referrals.accept", answers=True),
    "redirect": Move(_ANSWERABLE, Status.REDIRECTED, gettext_lazy("改派"), "referrals.redirect", answers=True,
                     reason_label=gettext_lazy("改派理由")),
    "decline": Move(_ANSWERABLE, Status.DECLINED, gettext_lazy("拒绝"), "referrals.decline", answers=True, closes=True,
                    reason_label=gettext_lazy("拒绝理由")),
    "arrive": Move(_AWAITING_PATIENT, Status.ARRIVED, gettext_lazy("登记到达"), "referrals.arrive"),
    # The people who check patients in also record that one never came.
    "no_show": Move(_AWAITING_PATIENT, Status.NO_SHOW, gettext_lazy("登记未到诊"), "referrals.arrive", closes=True),
    "complete": Move(frozenset({Status.ARRIVED}), Status.COMPLETED, gettext_lazy("完成"), "referrals.complete",
                     closes=True),
    "cancel": Move(frozenset({Status.DRAFT, Status.SUBMITTED, Status.ACCEPTED, Status.REDIRECTED}), Status.CANCELLED,
                   gettext_lazy("取消"), "referrals.cancel", closes=True, reason_label=gettext_lazy("取消理由")),
    "expire": Move(frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.REDIRECTED}), Status.EXPIRED,
                   gettext_lazy("过期关闭"), closes=True, by_person=False),
}
ACTION_LABELS = {a: m.label for a, m in TRANSITIONS.items()}
ANSWERS = tuple(a for a, m in TRANSITIONS.items() if m.answers)
# The moves a person makes (``expire`` and ``escalate`` are the worker's).
MOVES = tuple(a for a, m in TRANSITIONS.items() if m.by_person)
# While a referral is in one of these, the receiving side may read the patient's shared record.
ACTIVE = frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.REDIRECTED, Status.ARRIVED})
OPEN = ACTIVE | {Status.DRAFT}
CLOSED = frozenset({m.target for m in TRANSITIONS.values() if m.closes})
# Follow-ups of a down-referral may be recorded once the clinic has taken the patient.
FOLLOWING = frozenset({Status.ACCEPTED, Status.ARRIVED, Status.COMPLETED})
# An up-referred patient may be sent back down once the receiving hospital has them.
REFER_DOWN_FROM = frozenset({Status.ARRIVED, Status.COMPLETED})


class MoveNotAllowed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def allowed_actions(status: str) -> list[str]:
    return [a for a, m in TRANSITIONS.items() if status in m.starts]


def check_move(status: str, action: str, answered_by: str = "", answered_at: str = "") -> str:
    """The status ``action`` leads to from ``status``, or MoveNotAllowed with a message a person can act on."""
    if action not in TRANSITIONS:
        raise MoveNotAllowed("unknown_action", _("未知的转诊操作：%(action)s") % {"action": action})
    move = TRANSITIONS[action]
    if status in move.starts:
        return move.target
    label = Status(status).label
    if move.answers and status in (Status.ACCEPTED, Status.REDIRECTED, Status.DECLINED):
        who = f"{answered_by}" if answered_by else _("其他人员")
        when = _("于 %(when)s ") % {"when": answered_at} if answered_at else ""
        raise MoveNotAllowed("already_answered", _("该转诊单已由 %(who)s %(when)s处理（%(status)s），无需重复操作")
                             % {"who": who, "when": when, "status": label})
    raise MoveNotAllowed("transition_not_allowed", _("转诊单当前状态为“%(status)s”，不能%(action)s")
                         % {"status": label, "action": move.label})


def missing_reason(action: str, reason: str) -> str:
    """The message when a move that needs a reason has none ("" when fine)."""
    label = TRANSITIONS[action].reason_label
    return _("请填写%(what)s") % {"what": label} if label and not (reason or "").strip() else ""


# ---- guideline rules ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    id: int | None
    name: str
    icd10_from: str
    icd10_to: str
    level: str  # where the stable patient is managed
    up_criteria: str = ""
    down_criteria: str = ""
    treat_level: str = CareLevel.COUNTY  # where a patient who meets the up-referral criteria is treated
    designated: str = ""  # a designated hospital that must receive (结核病定点医院)

    def covers(self, icd10: str) -> bool:
        code = icd10.upper().replace(".", "")
        lo, hi = self.icd10_from.replace(".", ""), self.icd10_to.replace(".", "")
        return lo <= code[:len(lo)] and code[:len(hi)] <= hi

    @property
    def specificity(self) -> tuple[int, int]:
        """Narrower ranges, then longer codes, are more specific (I21–I22 beats I20–I25, E11.1 beats E11)."""
        return (_category(self.icd10_to) - _category(self.icd10_from), -len(self.icd10_from))


def _category(code: str) -> int:
    digits = code[1:3]
    return (ord(code[0].upper()) - 64) * 100 + (int(digits) if digits.isdigit() else 0)


@dataclass(frozen=True)
class Advice:
    rule: Rule | None
    warning: str = ""  # needs an override reason to proceed
    note: str = ""  # information for the doctor (designated hospital, risk colour)
    meets_up: bool = False  # the up-referral meets the rule's 上转指征 (ticked, or by the pregnancy risk colour)


def rule_for(icd10: str, rules: list[Rule]) -> Rule | None:
    matching = [r for r in rules if icd10 and r.covers(icd10)]
    return min(matching, key=lambda r: r.specificity) if matching else None


# 孕产妇妊娠风险 (国卫办妇幼发〔2017〕35号): yellow is cared for at 二级 hospitals and above (up-referral criteria
# met); orange, red and purple must be cared for at county level or above (red preferably at 三级 hospitals).
PREGNANCY_MEETS_UP = frozenset({PregnancyRisk.YELLOW, PregnancyRisk.ORANGE, PregnancyRisk.RED, PregnancyRisk.PURPLE})
PREGNANCY_COUNTY_OR_ABOVE = frozenset({PregnancyRisk.ORANGE, PregnancyRisk.RED, PregnancyRisk.PURPLE})


def is_pregnancy(icd10: str) -> bool:
    return (icd10 or "").upper().startswith("O")


def pregnancy_problem(icd10: str, risk: str, to_level: str) -> str:
    """Why a pregnancy of this risk colour may not go to ``to_level`` ("" when it may)."""
    if is_pregnancy(icd10) and risk in PREGNANCY_COUNTY_OR_ABOVE and to_level \
            and LEVEL_RANK[to_level] < LEVEL_RANK[CareLevel.COUNTY]:
        return _("%(risk)s孕产妇须在县级及以上医疗机构管理和住院分娩") % {"risk": PregnancyRisk(risk).label}
    return ""


def advise(icd10: str, direction: str, from_level: str, to_level: str, rules: list[Rule], *,
           meets_up: bool = False, pregnancy_risk: str = "") -> Advice:
    """What the guideline says about moving this diagnosis from ``from_level`` to ``to_level``.

    Up: a stable patient managed at this level or below needs an override reason, unless the referring doctor
    states that the rule's own 上转指征 are met (or the pregnancy risk colour is yellow or higher). Down:
    conditions treated higher up come back for rehabilitation when the rule says when (下转指征)."""
    rule = rule_for(icd10, rules)
    if rule is None:
        return Advice(None)
    note = _("须转至%(hospital)s") % {"hospital": rule.designated} if rule.designated and direction == "up" else ""
    if is_pregnancy(icd10) and pregnancy_risk:
        meets_up = meets_up or pregnancy_risk in PREGNANCY_MEETS_UP
        if pregnancy_risk == PregnancyRisk.RED:
            note = _("红色高风险孕产妇宜转至三级医院（市级）救治")
    where = CareLevel(rule.level).label
    if direction == "up":
        if meets_up:
            treat = CareLevel(rule.treat_level)
            if LEVEL_RANK[to_level] < LEVEL_RANK[treat]:
                return Advice(rule, _("按转诊指南，%(rule)s（%(icd10)s）达上转指征时宜在%(treat)s及以上诊治，"
                                      "转至%(to)s需说明理由")
                              % {"rule": rule.name, "icd10": icd10, "treat": treat.label,
                                 "to": CareLevel(to_level).label}, note, True)
            return Advice(rule, "", note, True)
        if LEVEL_RANK[from_level] >= LEVEL_RANK[rule.level]:
            hint = (_("；上转指征：%(criteria)s（符合时请勾选“符合上转指征”）") % {"criteria": rule.up_criteria}
                    if rule.up_criteria else "")
            return Advice(rule, _("按转诊指南，%(rule)s（%(icd10)s）稳定期宜在%(where)s管理，可留在本级%(hint)s")
                          % {"rule": rule.name, "icd10": icd10, "where": where, "hint": hint}, note)
        return Advice(rule, "", note)
    if direction == "down":
        if pregnancy_problem(icd10, pregnancy_risk, to_level):
            return Advice(rule, pregnancy_problem(icd10, pregnancy_risk, to_level))
        if LEVEL_RANK[to_level] < LEVEL_RANK[rule.level] and not rule.down_criteria:
            return Advice(rule, _("按转诊指南，%(rule)s（%(icd10)s）宜在%(where)s及以上诊治，下转至%(to)s需说明理由")
                          % {"rule": rule.name, "icd10": icd10, "where": where, "to": CareLevel(to_level).label})
    return Advice(rule)


# ---- green channel -----------------------------------------------------------------------------------

# Diagnoses that go through the green channel (胸痛中心、卒中中心、创伤中心) unless the doctor says why not.
GREEN_CHANNEL = (("I21", "I21", gettext_lazy("急性心肌梗死（胸痛中心）")),
                 ("I60", "I64", gettext_lazy("急性脑卒中（卒中中心）")))


def green_channel(icd10: str, *, ecg_changes: bool = False, major_trauma: bool = False) -> str:
    """Why this up-referral belongs to the green channel ("" when it does not): I21, I60–I64; R07.4 (chest pain)
    with ECG changes; an injury (S/T codes) marked as major trauma (ISS ≥ 16)."""
    code = (icd10 or "").upper().replace(".", "")
    for lo, hi, why in GREEN_CHANNEL:
        if lo <= code[:3] <= hi:
            return str(why)
    if code.startswith("R074") and ecg_changes:
        return _("胸痛伴心电图缺血性改变（胸痛中心）")
    if code[:1] in ("S", "T") and major_trauma:
        return _("严重创伤（ISS≥16，创伤中心）")
    return ""


# ---- appointment slots -------------------------------------------------------------------------------

MORNING, AFTERNOON = dt.time(8, 30), dt.time(14, 30)


def day_slots(day: dt.date, daily: int, minutes: int, tz: dt.tzinfo) -> list[dt.datetime]:
    """The appointment times a department offers on ``day``: half from 08:30, the rest from 14:30."""
    morning = (daily + 1) // 2
    out = []
    for i in range(daily):
        start, k = (MORNING, i) if i < morning else (AFTERNOON, i - morning)
        out.append(dt.datetime.combine(day, start, tzinfo=tz) + dt.timedelta(minutes=minutes * k))
    return out


def free_slots(days: list[dt.date], daily: int, minutes: int, taken: set[dt.datetime], now: dt.datetime,
               tz: dt.tzinfo) -> list[dt.datetime]:
    """The future slots of these days that no open referral holds."""
    return [s for d in days for s in day_slots(d, daily, minutes, tz) if s > now and s not in taken]


def bed_labels(beds: int) -> list[str]:
    return [f"{n}床" for n in range(1, beds + 1)]


def free_beds(beds: int, occupied: int, held: set[str]) -> list[str]:
    """Bed labels to offer: the department's beds not held by an open referral, as many as are free after the
    admitted patients (who carry no bed number here)."""
    free = max(beds - occupied - len(held), 0)
    return [b for b in bed_labels(beds) if b not in held][:free]


# ---- 医保 转外就医备案 ---------------------------------------------------------------------------------

def reimbursement_basis(outside_county: bool, filing_no: str) -> str:
    """Which reimbursement rate applies: a filed referral outside the county is paid at the referral rate; an
    unfiled one at the lower rate of 未经转诊备案的异地就医."""
    if not outside_county:
        return "县域内转诊：按县域内就医比例报销"
    if filing_no:
        return "已办理转外就医备案：按转诊转外就医比例报销"
    return "未办理转外就医备案：按未备案异地就医比例报销（比例降低）"
