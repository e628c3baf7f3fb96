"""Validation of a referral as a pure function (no database): the service looks up the facts (where the
patient would go, whether the community has a center, whether the source referral is ours) and this module
says which fields are wrong and why, in Chinese. Tested without a database (tests/referrals/test_validation.py)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Protocol

from django.utils.translation import gettext as _

from yigongti.core.icd10 import ICD10_RE
from yigongti.core.validation import PLANNED, check_date

from . import workflow
from .inputs import ReferralInput
from .models import LEVEL_RANK, CareLevel, Direction, DischargeMode, PregnancyRisk, TreatmentResult, Urgency

# 医保定点医药机构编码 (国家医保信息业务编码): H + 6-digit region code + 5 digits.
INSURANCE_FACILITY_RE = re.compile(r"^H\d{11}$")
MAX_FOLLOW_UPS = 24


@dataclass(frozen=True)
class Facts:
    """What the service found in the database for a referral input."""

    origin_level: str
    target_level: str = ""  # the receiving facility's level, or the external hospital's ("" if none)
    target_in_community: bool = True  # the chosen facility is an active member of the origin's community
    outside_county: bool = False  # sent to a hospital outside the county (to_external)
    has_center: bool = True  # the community has a referral center (needed for up-referrals)
    source_ok: bool = True  # the source referral exists and came to the origin
    source_ready: bool = True  # the source referral's patient has reached the origin (arrived or completed)


@dataclass(frozen=True)
class Checked:
    """The outcome of validation: the urgency to use (green by diagnosis when none was chosen), and why the
    referral belongs to the green channel ("" if it does not)."""

    urgency: str
    green_reason: str


def resolve_urgency(inp: ReferralInput) -> Checked:
    green = workflow.green_channel(inp.icd10, ecg_changes=inp.ecg_changes, major_trauma=inp.major_trauma) \
        if inp.direction == Direction.UP else ""
    urgency = inp.urgency or (Urgency.GREEN if green else Urgency.ROUTINE)
    return Checked(urgency, green)


def validate_referral(inp: ReferralInput, facts: Facts) -> tuple[dict[str, list[str]], Checked]:
    """Every problem of the input, by field, and the resolved urgency."""
    errors: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    checked = resolve_urgency(inp)
    if inp.urgency and inp.urgency not in Urgency.values:
        bad("urgency", _("紧急程度无效"))
    if checked.green_reason and checked.urgency != Urgency.GREEN and not inp.routine_reason:
        bad("routine_reason", _("%(why)s默认走绿色通道；按%(urgency)s转诊请填写理由")
            % {"why": checked.green_reason, "urgency": Urgency(checked.urgency).label}
            if checked.urgency in Urgency.values else _("请填写不走绿色通道的理由"))
    if not facts.source_ok:
        bad("source_referral", _("原转诊单不存在或不是转入本机构的"))
    elif not facts.source_ready:
        bad("source_referral", _("原转诊患者尚未到院，不能下转"))
    if not ICD10_RE.match(inp.icd10):
        bad("icd10", _("请填写有效的 ICD-10 编码（如 I63.9）"))
    if not inp.reason:
        bad("reason", _("请填写转诊理由"))
    if inp.pregnancy_risk and inp.pregnancy_risk not in PregnancyRisk.values:
        bad("pregnancy_risk", _("妊娠风险分级无效"))
    for field, msgs in destination_errors(inp.direction, inp, facts, inp.icd10, inp.pregnancy_risk).items():
        for m in msgs:
            bad(field, m)
    dates = sorted(set(inp.follow_up_dates))
    for d in dates:
        check_date(d, errors, "follow_up_dates", PLANNED, _("随访日期"))
    if len(dates) > MAX_FOLLOW_UPS:
        bad("follow_up_dates", _("随访日期最多安排 %(n)s 次") % {"n": MAX_FOLLOW_UPS})
    if inp.direction == Direction.DOWN:
        if not dates:
            bad("follow_up_dates", _("请至少安排一次随访日期"))
        if not (inp.rehab_plan or inp.medication_plan):
            bad("rehab_plan", _("请填写康复计划或用药方案"))
    return errors, checked


class Destination(Protocol):
    to_facility: int | None
    to_external: str
    insurance_filing_no: str
    insurance_target_code: str


def destination_errors(direction: str, inp: Destination, facts: Facts, icd10: str = "", pregnancy_risk: str = ""
                       ) -> dict[str, list[str]]:
    """Problems of where the patient is sent (a submission and a redirection): the level for the direction, the
    pregnancy risk colour, and the 转外就医备案 of a hospital outside the county."""
    errors: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    _target(direction, inp, facts, bad)
    if pregnancy_risk in PregnancyRisk.values and (problem := workflow.pregnancy_problem(
            icd10, pregnancy_risk, facts.target_level)):
        bad("to_facility", problem)
    if facts.outside_county:
        if inp.insurance_target_code and not INSURANCE_FACILITY_RE.match(inp.insurance_target_code.upper()):
            bad("insurance_target_code", _("医保定点机构编码应为 H 加 11 位数字（如 H43112400001）"))
        if inp.insurance_filing_no and not inp.insurance_target_code:
            bad("insurance_target_code", _("已备案时请填写转入机构的医保编码"))
    return errors


def _target(direction: str, inp: Destination, facts: Facts, bad) -> None:
    if direction not in Direction.values:
        bad("direction", _("转诊方向无效"))
        return
    if direction == Direction.UP and not facts.has_center:
        bad("to_facility", _("本医共体尚未设置转诊服务中心"))
    if inp.to_facility:
        if not facts.target_in_community or not facts.target_level:
            bad("to_facility", _("接收机构须是本医共体的成员机构"))
            return
        mine, theirs = LEVEL_RANK[facts.origin_level], LEVEL_RANK[facts.target_level]
        if direction == Direction.UP and theirs <= mine:
            bad("to_facility", _("上转的接收机构须高于本机构层级"))
        if direction == Direction.DOWN and theirs >= mine:
            bad("to_facility", _("下转的接收机构须是下级基层机构"))
        return
    if inp.to_external and direction == Direction.UP:
        if facts.target_level not in (CareLevel.CITY, CareLevel.PROVINCE):
            bad("to_level", _("县外医院的层级应为市级或省级"))
        return
    bad("to_facility", _("请选择接收机构"))


def external_level(to_level: str) -> str:
    return to_level or CareLevel.CITY


# ---- completing ------------------------------------------------------------------------------------

# The outcome codes of before (one field mixing 离院方式 and result), read as (离院方式, 治疗结果).
LEGACY_OUTCOMES = {"cured": ("1", "cured"), "improved": ("1", "improved"), "down": ("3", "improved"),
                   "up": ("2", ""), "discharged_self": ("4", ""), "died": ("5", "died"), "other": ("9", "other")}


def completion(outcome: str, treatment_result: str) -> tuple[str, str, dict[str, list[str]]]:
    """(离院方式, 治疗结果, errors) of a completion; a death is both."""
    outcome, result = (outcome or "").strip(), (treatment_result or "").strip()
    if outcome in LEGACY_OUTCOMES:
        outcome, legacy = LEGACY_OUTCOMES[outcome]
        result = result or legacy
    errors: dict[str, list[str]] = {}
    if outcome not in DischargeMode.values:
        errors["outcome"] = [_("请选择离院方式")]
    if result and result not in TreatmentResult.values:
        errors["treatment_result"] = [_("治疗结果无效")]
    if outcome == DischargeMode.DIED:
        result = TreatmentResult.DIED
    elif result == TreatmentResult.DIED:
        errors["treatment_result"] = [_("治疗结果为死亡时，离院方式应为“死亡”")]
    return outcome, result, errors


def appointment_problem(when: dt.datetime | None, free: list[dt.datetime]) -> str:
    if when is not None and when not in free:
        return "请从接收科室的可预约时间中选择"
    return ""
