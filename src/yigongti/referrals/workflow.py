"""The referral's rules as plain data and functions (no database): the transition table, who may make
each move, and what the guideline says about a diagnosis at a level.

    draft → submitted → accepted / redirected / declined → arrived → completed
    draft, submitted, accepted, redirected → cancelled;  submitted, accepted, redirected → expired
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import LEVEL_RANK, CareLevel, Status

# One dict of allowed moves: action → (statuses it may start from, status it leads to).
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "submit": (frozenset({Status.DRAFT}), Status.SUBMITTED),
    "accept": (frozenset({Status.SUBMITTED}), Status.ACCEPTED),
    "redirect": (frozenset({Status.SUBMITTED}), Status.REDIRECTED),
    "decline": (frozenset({Status.SUBMITTED}), Status.DECLINED),
    "arrive": (frozenset({Status.ACCEPTED, Status.REDIRECTED}), Status.ARRIVED),
    "complete": (frozenset({Status.ARRIVED}), Status.COMPLETED),
    "cancel": (frozenset({Status.DRAFT, Status.SUBMITTED, Status.ACCEPTED, Status.REDIRECTED}), Status.CANCELLED),
    "expire": (frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.REDIRECTED}), Status.EXPIRED),
}
ACTION_LABELS = {"submit": "提交", "accept": "接收", "redirect": "改派", "decline": "拒绝", "arrive": "登记到达",
                 "complete": "完成", "cancel": "取消", "expire": "过期关闭"}
ANSWERS = ("accept", "redirect", "decline")
# While a referral is in one of these, the receiving side may read the patient's shared record.
ACTIVE = frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.REDIRECTED, Status.ARRIVED})
OPEN = ACTIVE | {Status.DRAFT}


class MoveNotAllowed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def allowed_actions(status: str) -> list[str]:
    return [a for a, (starts, _to) in TRANSITIONS.items() if status in starts]


def check_move(status: str, action: str, answered_by: str = "", answered_at: str = "") -> str:
    """The status ``action`` leads to from ``status``, or MoveNotAllowed with a message a person can act on."""
    if action not in TRANSITIONS:
        raise MoveNotAllowed("unknown_action", f"未知的转诊操作：{action}")
    starts, target = TRANSITIONS[action]
    if status in starts:
        return target
    label = Status(status).label
    if action in ANSWERS and status in (Status.ACCEPTED, Status.REDIRECTED, Status.DECLINED):
        who = f"{answered_by}" if answered_by else "其他人员"
        when = f"于 {answered_at} " if answered_at else ""
        raise MoveNotAllowed("already_answered", f"该转诊单已由 {who} {when}处理（{label}），无需重复操作")
    raise MoveNotAllowed("transition_not_allowed",
                         f"转诊单当前状态为“{label}”，不能{ACTION_LABELS[action]}")


# ---- guideline rules ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    id: int | None
    name: str
    icd10_from: str
    icd10_to: str
    level: str
    up_criteria: str = ""
    down_criteria: str = ""

    def covers(self, icd10: str) -> bool:
        code = icd10.upper().replace(".", "")
        lo, hi = self.icd10_from.replace(".", ""), self.icd10_to.replace(".", "")
        return lo <= code[:len(lo)] and code[:len(hi)] <= hi

    @property
    def specificity(self) -> tuple[int, int]:
        """Narrower ranges, then longer codes, are more specific (I21–I22 beats I20–I25)."""
        return (_category(self.icd10_to) - _category(self.icd10_from), -len(self.icd10_from))


def _category(code: str) -> int:
    digits = code[1:3]
    return (ord(code[0].upper()) - 64) * 100 + (int(digits) if digits.isdigit() else 0)


@dataclass(frozen=True)
class Advice:
    rule: Rule | None
    warning: str = ""


def rule_for(icd10: str, rules: list[Rule]) -> Rule | None:
    matching = [r for r in rules if icd10 and r.covers(icd10)]
    return min(matching, key=lambda r: r.specificity) if matching else None


def advise(icd10: str, direction: str, from_level: str, to_level: str, rules: list[Rule]) -> Advice:
    """What the guideline says about moving this diagnosis from ``from_level`` to ``to_level``."""
    rule = rule_for(icd10, rules)
    if rule is None:
        return Advice(None)
    where = CareLevel(rule.level).label
    if direction == "up" and LEVEL_RANK[from_level] >= LEVEL_RANK[rule.level]:
        hint = f"；上转指征：{rule.up_criteria}" if rule.up_criteria else ""
        return Advice(rule, f"按转诊指南，{rule.name}（{icd10}）宜在{where}诊治，可留在本级{hint}")
    # Down: conditions treated higher up come back for rehabilitation when the rule says when (下转指征);
    # without such criteria the guideline does not expect them below its level.
    if direction == "down" and LEVEL_RANK[to_level] < LEVEL_RANK[rule.level] and not rule.down_criteria:
        return Advice(rule, f"按转诊指南，{rule.name}（{icd10}）宜在{where}及以上诊治，下转至{CareLevel(to_level).label}需说明理由")
    return Advice(rule)
