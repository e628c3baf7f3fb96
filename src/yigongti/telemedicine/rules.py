"""The critical-value table as data (危急值项目表): the county lab center's rules are the community-wide default,
kept by the center's director (``telemedicine.manage_center``); a member facility's admin may override a rule
for the facility, with a reason (``telemedicine.override_critical_rule``). Rules are never edited in place: a new
rule for the same analyte and patients ends the old one the day before it starts (effective dates), so a past
value is always judged by the rule that was in force.

``install_defaults`` loads ``data/critical_rules.json`` (analytes the catalogue has) and
``data/critical_findings.json`` (the ECG and imaging finding lists); the demo and a new community use it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import field_validator

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, NotFound, collect
from yigongti.orgs.models import Facility, MedicalCommunity
from yigongti.orgs.permissions import check
from yigongti.referrals.inputs import Input

from .models import Analyte, Center, CenterKind, CriticalFinding, CriticalRule, Population

DATA = Path(__file__).parent / "data"


@cache
def default_table() -> dict:
    return json.loads((DATA / "critical_rules.json").read_text("utf-8"))


@cache
def finding_list() -> dict:
    return json.loads((DATA / "critical_findings.json").read_text("utf-8"))


class RuleInput(Input):
    analyte: str  # code
    unit: str = ""
    low: Decimal | None = None
    high: Decimal | None = None
    population: str = Population.ALL
    sex: str = ""
    patient_group: str = ""
    first_only: bool = False
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    reason: str = ""
    source: str = ""

    @field_validator("low", "high", "effective_from", "effective_to", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v


def lab_center(community: MedicalCommunity) -> Center | None:
    return Center.objects.filter(community=community, kind=CenterKind.LAB).first()


def rules_in_force(community: MedicalCommunity, on: dt.date | None = None, facility: Facility | None = None):
    """The community's default rules in force on the day, and (with ``facility``) that facility's overrides."""
    on = on or timezone.localdate()
    qs = (CriticalRule.objects.filter(community=community, effective_from__lte=on)
          .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on)).select_related("analyte", "facility"))
    qs = qs.filter(Q(facility__isnull=True) | Q(facility=facility)) if facility is not None else qs
    return qs.order_by("analyte__code", "facility_id", "population", "patient_group")


def _validate(inp: RuleInput, community: MedicalCommunity) -> Analyte:
    errors: dict[str, list[str]] = {}
    analyte = Analyte.objects.filter(code=inp.analyte.strip().upper()).first() or \
        Analyte.objects.filter(code=inp.analyte.strip()).first()
    if analyte is None:
        errors["analyte"] = [_("检验指标不存在")]
    if inp.low is not None and inp.high is not None and inp.low >= inp.high:
        errors["high"] = [_("危急高值应大于危急低值")]
    if inp.population not in Population.values:
        errors["population"] = [_("适用人群无效")]
    if inp.sex not in ("", "M", "F"):
        errors["sex"] = [_("性别无效")]
    if inp.effective_from and inp.effective_to and inp.effective_to < inp.effective_from:
        errors["effective_to"] = [_("失效日期不能早于生效日期")]
    if analyte is not None and inp.unit and inp.unit != analyte.unit and inp.unit not in (analyte.unit_factors or {}):
        errors["unit"] = [_("单位与该指标的单位不一致，且无换算系数")]
    collect(errors)
    assert analyte is not None
    return analyte


def _save(inp: RuleInput, analyte: Analyte, community: MedicalCommunity, facility: Facility | None,
          actor: Actor) -> CriticalRule:
    start = inp.effective_from or timezone.localdate()
    with transaction.atomic():
        # the rule it replaces (same analyte and patients, same owner) ends the day before
        CriticalRule.objects.filter(
            community=community, facility=facility, analyte=analyte, population=inp.population, sex=inp.sex,
            patient_group=inp.patient_group, effective_from__lt=start,
        ).filter(Q(effective_to__isnull=True) | Q(effective_to__gte=start)).update(
            effective_to=start - dt.timedelta(days=1))
        # a rule not yet started for the same patients is superseded outright
        CriticalRule.objects.filter(community=community, facility=facility, analyte=analyte,
                                    population=inp.population, sex=inp.sex, patient_group=inp.patient_group,
                                    effective_from__gte=start).delete()
        rule = CriticalRule.objects.create(
            community=community, facility=facility, analyte=analyte, unit=inp.unit or analyte.unit, low=inp.low,
            high=inp.high, population=inp.population, sex=inp.sex, patient_group=inp.patient_group,
            first_only=inp.first_only, effective_from=start, effective_to=inp.effective_to,
            override_reason=inp.reason if facility is not None else "", source=inp.source[:120],
            created_by=actor.user)
        audit.record(actor, "create", "critical_rule", rule.pk, analyte=analyte.code, low=inp.low, high=inp.high,
                     population=inp.population, facility=facility.pk if facility else None, reason=inp.reason)
    return rule


def set_default_rule(community: MedicalCommunity, data: RuleInput | dict, *, actor: Actor) -> CriticalRule:
    """The lab center's community-wide rule for an analyte and its patients (replaces the one in force)."""
    center = lab_center(community)
    if center is None:
        raise NotFound(_("本医共体尚未设立临床检验中心"))
    check(actor, "telemedicine.manage_center", center)
    inp = RuleInput.parse(data)
    analyte = _validate(inp, community)
    return _save(inp, analyte, community, None, actor)


def override_rule(facility: Facility, data: RuleInput | dict, *, actor: Actor) -> CriticalRule:
    """A member facility's own rule for an analyte and its patients, beating the community default there;
    the reason is required (kept on the rule and in the audit trail)."""
    check(actor, "telemedicine.override_critical_rule", facility)
    inp = RuleInput.parse(data)
    if facility.community_id is None:
        raise InvalidInput("no_community", _("该机构不属于医共体"))
    if not inp.reason.strip():
        raise InvalidInput("reason_required", _("覆盖医共体默认危急值须填写理由"), field="reason")
    community = MedicalCommunity.objects.get(pk=facility.community_id)
    analyte = _validate(inp, community)
    return _save(inp, analyte, community, facility, actor)


def retire_rule(pk: int, *, actor: Actor) -> CriticalRule:
    """End a rule today (a default by the lab center's director, an override by its facility's admin)."""
    rule = CriticalRule.objects.select_related("facility").filter(pk=pk).first()
    if rule is None:
        raise NotFound()
    if rule.facility is not None:
        check(actor, "telemedicine.override_critical_rule", rule.facility)
    else:
        center = lab_center(rule.community)
        check(actor, "telemedicine.manage_center", center)
    today = timezone.localdate()
    with transaction.atomic():
        CriticalRule.objects.filter(pk=pk).update(effective_to=max(today - dt.timedelta(days=1),
                                                                   rule.effective_from))
        audit.record(actor, "update", "critical_rule", pk, move="retire")
    rule.refresh_from_db()
    return rule


def install_findings() -> int:
    """The ECG and imaging finding lists (add new codes, refresh names; readers' marks keep their codes)."""
    data = finding_list()
    have = set(CriticalFinding.objects.values_list("code", flat=True))
    new = []
    for f in data["findings"]:
        source = data["sources"].get(f["kind"], "")[:120]
        if f["code"] in have:
            CriticalFinding.objects.filter(code=f["code"]).update(name=f["name"], stemi=f["stemi"], source=source)
        else:
            new.append(CriticalFinding(kind=f["kind"], code=f["code"], name=f["name"], stemi=f["stemi"],
                                       source=source))
    CriticalFinding.objects.bulk_create(new)
    return len(new)


def default_rules(community: MedicalCommunity, analytes: dict[str, Analyte], start: dt.date,
                  by=None) -> list[CriticalRule]:
    """Unsaved rows of the default table for the analytes the catalogue has (the demo bulk-creates them)."""
    table = default_table()
    rows = []
    for r in table["rules"]:
        a = analytes.get(r["analyte"])
        if a is None:
            continue
        rows.append(CriticalRule(
            community=community, analyte=a, unit=r.get("unit") or a.unit,
            low=Decimal(r["low"]) if r.get("low") else None, high=Decimal(r["high"]) if r.get("high") else None,
            population=r.get("population", "all"), sex=r.get("sex", ""), patient_group=r.get("patient_group", ""),
            first_only=bool(r.get("first_only")), effective_from=start,
            source=table["sources"].get(r.get("source", ""), "")[:120], created_by=by))
    return rows


def install_defaults(community: MedicalCommunity, *, actor: Actor, start: dt.date | None = None) -> int:
    """Load the default table (for analytes the catalogue has, where the community has no rule for the analyte
    yet) and the finding lists. Returns the number of rules added."""
    center = lab_center(community)
    check(actor, "telemedicine.manage_center", center)
    start = start or dt.date(timezone.localdate().year, 1, 1)
    with transaction.atomic():
        install_findings()
        covered = set(CriticalRule.objects.filter(community=community).values_list("analyte__code", flat=True))
        analytes = {a.code: a for a in Analyte.objects.exclude(code__in=covered)}
        rows = default_rules(community, analytes, start, actor.user)
        CriticalRule.objects.bulk_create(rows)
        audit.record(actor, "create", "critical_rule", "", community=community.pk, count=len(rows),
                     source="data/critical_rules.json")
    return len(rows)
