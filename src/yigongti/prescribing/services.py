"""Prescribing's writes, one function per business verb: create and submit a prescription (the rule engine
decides whether it waits for a pharmacist), review it, dispense it by lot with the 追溯码 scanned, take a
return back into stock, edit the rule pack, draw a month's 点评 sample and classify it.

Each checks its ``prescribing.*`` verb outside the transaction, locks what it moves, checks the move against
``workflow``, writes and appends an audit event. Stock moves only through ``pharmacy.ledger`` inside the same
transaction, so a dispensing either takes every line or nothing."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit, inputs
from yigongti.core.actor import Actor, actor_of
from yigongti.core.carelevel import LEVEL_RANK
from yigongti.core.errors import Conflict, InvalidInput, NotFound, collect
from yigongti.orgs.models import Facility
from yigongti.orgs.permissions import check
from yigongti.pharmacy import ledger
from yigongti.pharmacy.codes import trace_code_error
from yigongti.pharmacy.models import Item, MovementKind, TraceCode, TraceStatus

from . import engine, rulepack, sampling, workflow
from .facts import age_in_months, rx_facts
from .models import (
    CommentClass,
    CommentSample,
    Decision,
    DispensedCode,
    Dispensing,
    DispensingLine,
    Kind,
    Prescription,
    PrescriptionLine,
    Return,
    ReturnLine,
    Review,
    Rule,
    RulePack,
    Severity,
    Source,
    Status,
)

CHRONIC_ICD10 = {"htn": "I10", "t2dm": "E11"}


# ---- parsing ------------------------------------------------------------------------------------------------



def _decimal(raw: Any) -> Decimal | None:
    try:
        d = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _resident(actor, pk):
    from yigongti.residents.models import Resident
    from yigongti.residents.queries import get_resident_for

    if actor.user is None:
        r = Resident.objects.filter(pk=inputs.pk_of(pk)).first()
        if r is None:
            raise NotFound(_("居民档案不存在"))
        return r
    return get_resident_for(actor, inputs.pk_of(pk))


def _conditions(resident) -> list[str]:
    from yigongti.chronic.models import Enrolment, EnrolmentStatus

    out = []
    for condition, icd in Enrolment.objects.filter(resident=resident, status=EnrolmentStatus.MANAGED) \
            .values_list("condition", "diagnosis_icd10"):
        out.append((icd or CHRONIC_ICD10.get(condition, "")).upper())
    return sorted({c for c in out if c})


def _diagnoses(raw: Any, errors: dict) -> list[str]:
    if isinstance(raw, str):
        raw = raw.replace("，", ",").replace(" ", ",").split(",")
    codes = []
    for x in raw or ():
        code = str(x).strip().upper()
        if not code:
            continue
        if not (len(code) >= 3 and code[0].isalpha() and code[1:3].isdigit() and len(code) <= 16):
            errors["diagnoses"] = [_("诊断编码 %(c)s 不是 ICD-10 编码") % {"c": code}]
            continue
        codes.append(code)
    if not codes and "diagnoses" not in errors:
        errors["diagnoses"] = [_("请填写至少一个诊断（ICD-10）")]
    return codes


def _lines(raw: Any, facility: Facility, errors: dict) -> list[dict]:
    rows = list(raw or ())
    if not rows:
        errors["lines"] = [_("处方至少要有一种药品")]
        return []
    ids = {inputs.pk_of(r.get("item")) for r in rows}
    items = {i.pk: i for i in Item.objects.filter(pk__in=ids, community_id=facility.community_id)}
    level = LEVEL_RANK[facility.care_level]
    out = []
    for n, r in enumerate(rows):
        where = f"lines.{n}"
        item = items.get(inputs.pk_of(r.get("item")))
        if item is None:
            errors[f"{where}.item"] = [_("请从本医共体的药品目录中选择药品")]
            continue
        if not item.is_active:
            errors[f"{where}.item"] = [_("%(i)s 已停用") % {"i": item}]
            continue
        if LEVEL_RANK[item.min_level] > level:
            errors[f"{where}.item"] = [_("%(i)s 不在本机构层级的用药目录内") % {"i": item}]
            continue
        dose = _decimal(r.get("dose"))
        if dose is None or dose <= 0 or dose >= 100000:
            errors[f"{where}.dose"] = [_("请填写单次剂量（大于 0 的数字）")]
        unit = str(r.get("unit") or item.min_unit).strip()[:8]
        freq = str(r.get("frequency") or "").strip().lower()
        if freq not in engine.FREQUENCIES:
            errors[f"{where}.frequency"] = [_("请选择用药频次")]
        route = str(r.get("route") or "po").strip().lower()
        if route not in engine.ROUTES:
            errors[f"{where}.route"] = [_("请选择给药途径")]
        try:
            days = int(str(r.get("days") or "").strip())
        except ValueError:
            days = 0
        if not 1 <= days <= 366:
            errors[f"{where}.days"] = [_("用药天数应为 1–366 天")]
        quantity_raw = r.get("quantity")
        quantity = 0
        if quantity_raw not in (None, ""):
            try:
                quantity = int(str(quantity_raw).strip())
            except ValueError:
                quantity = -1
            if not 1 <= quantity <= 9999:
                errors[f"{where}.quantity"] = [_("数量应为 1–9999 的整数（%(u)s）") % {"u": item.package_unit}]
        elif dose is not None and days and (per_day := engine.FREQUENCIES.get(freq)) and unit == item.min_unit:
            quantity = max(1, math.ceil(float(dose) * per_day * days / max(item.pack_size, 1)))
        else:
            errors[f"{where}.quantity"] = [_("请填写数量（%(u)s）") % {"u": item.package_unit}]
        out.append({"seq": n + 1, "item": item, "dose": dose, "unit": unit, "frequency": freq, "route": route,
                    "days": days, "quantity": quantity, "price": item.price})
    return out


# ---- the rule pack ------------------------------------------------------------------------------------------

def pack_for(community, actor=None) -> RulePack:
    """The community's rule pack, installed from the shipped pack the first time it is needed (by whoever
    first needs it: the install is recorded under the system's name, as reference data)."""
    pack = RulePack.objects.filter(community=community).first()
    if pack is not None:
        return pack
    try:
        with transaction.atomic():
            pack = rulepack.install(community)
            audit.record(Actor.system("prescribing"), "create", "rule_pack", pack.pk, community=community.pk,
                         first_needed_by=getattr(actor, "username", ""))
    except IntegrityError:
        pack = RulePack.objects.get(community=community)
    return pack


def evaluate(p: Prescription, lines: Sequence[PrescriptionLine], pack: RulePack) -> engine.Result:
    return engine.evaluate(rx_facts(p, lines, p.facility.care_level), rulepack.tables_for(pack))


# ---- prescriptions ------------------------------------------------------------------------------------------

def create_prescription(actor, data: Mapping[str, Any], *, submit: bool = True) -> Prescription:
    """Write a prescription for a resident (see /tmp/api_prescribing.md for ``data``) and, with ``submit``,
    submit it: the rule engine's risk decides whether it waits for a pharmacist (``review_pending``) or can
    be dispensed at once (``submitted``)."""
    from yigongti.encounters.models import Encounter

    actor = actor_of(actor)
    errors: dict[str, list[str]] = {}
    fpk = data.get("facility") or actor.facility_id
    facility = Facility.objects.filter(pk=inputs.pk_of(fpk), is_active=True).select_related("community").first()
    if facility is None or facility.community_id is None:
        raise InvalidInput("no_facility", _("请选择本医共体的开方机构"), field="facility")
    check(actor, "prescribing.prescribe", facility)
    resident = _resident(actor, data.get("resident"))
    encounter = None
    if data.get("encounter") not in (None, ""):
        encounter = Encounter.objects.filter(pk=inputs.pk_of(data.get("encounter")), resident=resident).first()
        if encounter is None:
            errors["encounter"] = [_("就诊记录不属于该居民")]
    source = str(data.get("source") or (Source.ENCOUNTER if encounter else Source.RESIDENT))
    if source not in Source.values:
        errors["source"] = [_("未知的处方来源")]
    now = timezone.now()
    today = timezone.localdate()
    age_months = age_in_months(resident.birth_date, today)
    kind = str(data.get("kind") or (Kind.PEDIATRIC if age_months < 14 * 12 else Kind.NORMAL))
    if kind not in Kind.values:
        errors["kind"] = [_("请选择处方类别")]
    diagnoses = _diagnoses(data.get("diagnoses"), errors)
    weight = None
    if data.get("weight_kg") not in (None, ""):
        weight = _decimal(data.get("weight_kg"))
        if weight is None or not Decimal("0.3") <= weight <= Decimal("300"):
            errors["weight_kg"] = [_("体重应为 0.3–300 kg")]
            weight = None
    pregnant = str(data.get("pregnant") or "").lower() in ("1", "true", "on", "yes")
    if pregnant and resident.sex != "F":
        errors["pregnant"] = [_("男性居民不能标记为妊娠")]
    lines = _lines(data.get("lines"), facility, errors)
    collect(errors, "invalid_prescription")
    staff_id = getattr(actor.user, "staff_id", None) if actor.user is not None else None
    with transaction.atomic():
        p = Prescription.objects.create(
            community_id=facility.community_id, facility=facility, resident=resident, area_code=resident.area_code,
            encounter=encounter, source=source, source_ref=str(data.get("source_ref") or "")[:40],
            doctor=actor.user, doctor_staff_id=staff_id, kind=kind, diagnoses=diagnoses,
            age_years=age_months // 12, age_months=age_months, sex=resident.sex, weight_kg=weight,
            pregnant=pregnant, conditions=_conditions(resident),
            days_reason=str(data.get("days_reason") or "").strip()[:200], prescribed_at=now,
            has_antibiotic=any(x["item"].antibiotic for x in lines),
            amount=sum((x["price"] * x["quantity"] for x in lines), Decimal("0")))
        PrescriptionLine.objects.bulk_create([PrescriptionLine(prescription=p, **x) for x in lines])
        audit.record(actor, "create", "prescription", p.pk, resident=resident.pk, facility=facility.pk,
                     source=source, lines=len(lines))
    if submit:
        p = submit_prescription(actor, p)
    return p


def submit_prescription(actor, prescription: Prescription) -> Prescription:
    """Run the rule pack; a risk at or above the pack's level waits for a pharmacist, the rest is dispensable."""
    actor = actor_of(actor)
    check(actor, "prescribing.prescribe", prescription.facility)
    pack = pack_for(prescription.facility.community, actor)
    with transaction.atomic():
        p = Prescription.objects.select_for_update().select_related("facility").get(pk=prescription.pk)
        lines = list(p.lines.select_related("item"))
        result = evaluate(p, lines, pack)
        to = Status.REVIEW_PENDING if engine.needs_review(result, pack.review_at) else Status.SUBMITTED
        workflow.require(p.status, to)
        p.status, p.risk = to, result.risk
        p.findings = [f.as_dict() for f in result.findings]
        p.submitted_at = timezone.now()
        p.save(update_fields=["status", "risk", "findings", "submitted_at"])
        audit.record(actor, "submit", "prescription", p.pk, risk=p.risk, status=to)
    return p


def review_prescription(actor, prescription: Prescription, *, decision: str, reason: str = "") -> Prescription:
    """A pharmacist's 审核: approve (then it can be dispensed) or reject with a reason."""
    actor = actor_of(actor)
    check(actor, "prescribing.review", prescription)
    reason = (reason or "").strip()[:300]
    if decision not in Decision.values:
        raise InvalidInput("bad_decision", _("请选择审核结论"), field="decision")
    if decision == Decision.REJECT and not reason:
        raise InvalidInput("no_reason", _("审核不通过须填写理由"), field="reason")
    with transaction.atomic():
        p = Prescription.objects.select_for_update().get(pk=prescription.pk)
        to = Status.APPROVED if decision == Decision.APPROVE else Status.REJECTED
        if p.status != Status.REVIEW_PENDING:
            raise Conflict("not_pending", _("该处方不在待审核状态（%(s)s）") % {"s": p.get_status_display()})
        workflow.require(p.status, to)
        Review.objects.create(prescription=p, pharmacist=actor.user, decision=decision, reason=reason,
                              at=timezone.now())
        p.status = to
        p.save(update_fields=["status"])
        audit.record(actor, "review", "prescription", p.pk, decision=decision)
    return p


def _codes(raw: Sequence[str] | str) -> list[str]:
    if isinstance(raw, str):
        raw = raw.replace(",", "\n").split()
    seen: list[str] = []
    for c in raw or ():
        c = str(c).strip()
        if c and c not in seen:
            seen.append(c)
    return seen


def dispense(actor, prescription: Prescription, *, facility: Facility | int | None = None,
             trace_codes: Sequence[str] | str = (), at: dt.datetime | None = None) -> Dispensing:
    """Dispense every line from ``facility``'s stock (the prescription's facility by default): the scanned
    boxes' lots first, the rest first-expiry-first-out. A bad 追溯码 is refused with the reason; a shortage
    raises ``OutOfStock``; a prescription dispensed by someone else meanwhile is a Conflict."""
    actor = actor_of(actor)
    f = facility if isinstance(facility, Facility) else (
        Facility.objects.filter(pk=inputs.pk_of(facility)).first() if facility else prescription.facility)
    if f is None:
        raise InvalidInput("no_facility", _("请选择发药机构"), field="facility")
    check(actor, "prescribing.dispense", f)
    if f.community_id != prescription.community_id:
        raise InvalidInput("other_community", _("发药机构不属于本医共体"), field="facility")
    codes = _codes(trace_codes)
    for c in codes:
        reason = trace_code_error(c)
        if reason:
            raise InvalidInput("bad_trace_code", f"{c}：{reason}", field="trace_codes")
    at = at or timezone.now()
    source = f"prescription:{prescription.pk}"
    with transaction.atomic():
        p = Prescription.objects.select_for_update().get(pk=prescription.pk)
        if p.status in (Status.DISPENSED, Status.PARTLY_RETURNED, Status.RETURNED):
            raise Conflict("already_dispensed", _("该处方已发药"))
        if p.status == Status.REVIEW_PENDING:
            raise Conflict("review_pending", _("该处方须经药师审核通过后才能发药"))
        workflow.require(p.status, Status.DISPENSED)
        lines = list(p.lines.select_related("item"))
        need = {x.pk: x.quantity for x in lines}
        by_item = defaultdict(list)
        for x in lines:
            by_item[x.item_id].append(x)
        traces = {t.code: t for t in TraceCode.objects.select_for_update().select_related("lot")
                  .filter(code__in=codes)}
        scanned: dict[int, list[TraceCode]] = defaultdict(list)  # line pk → boxes
        for c in codes:
            t = traces.get(c)
            why = ""
            if t is None:
                why = _("追溯码未入库登记")
            elif t.facility_id != f.pk:
                why = _("该盒药品不在本机构库存")
            elif t.status != TraceStatus.IN_STOCK:
                why = _("该盒药品状态为“%(s)s”，不能发出") % {"s": t.get_status_display()}
            elif t.lot.item_id not in by_item:
                why = _("该盒药品（%(i)s）不在本处方中") % {"i": t.lot.item}
            else:
                line = next((x for x in by_item[t.lot.item_id] if len(scanned[x.pk]) < need[x.pk]), None)
                if line is None:
                    why = _("扫码数量超过处方数量")
                else:
                    scanned[line.pk].append(t)
            if why:
                raise InvalidInput("bad_trace_code", f"{c}：{why}", field="trace_codes")
        d = Dispensing.objects.create(prescription=p, facility=f, by=actor.user, at=at)
        for x in lines:
            per_lot: dict[int, list[TraceCode]] = defaultdict(list)
            for t in scanned[x.pk]:
                per_lot[t.lot_id].append(t)
            taken = []
            for boxes in per_lot.values():
                mv = ledger.post(facility=f, lot=boxes[0].lot, quantity=-len(boxes), kind=MovementKind.DISPENSE,
                                 at=at, reason=_("处方发药"), source=source, by=actor.user)
                taken.append((boxes[0].lot, len(boxes), mv, boxes))
            rest = x.quantity - len(scanned[x.pk])
            if rest:
                for tk in ledger.take_fefo(facility=f, item=x.item, quantity=rest, kind=MovementKind.DISPENSE,
                                           at=at, reason=_("处方发药"), source=source, by=actor.user):
                    taken.append((tk.lot, tk.quantity, tk.movement, []))
            for lot, n, mv, boxes in taken:
                dl = DispensingLine.objects.create(dispensing=d, line=x, lot=lot, quantity=n, movement=mv)
                DispensedCode.objects.bulk_create([DispensedCode(line=dl, trace=t) for t in boxes])
        TraceCode.objects.filter(pk__in=[t.pk for t in traces.values()]).update(
            status=TraceStatus.DISPENSED, source=source, updated_at=timezone.now())
        p.status, p.dispensed_at = Status.DISPENSED, at
        p.save(update_fields=["status", "dispensed_at"])
        audit.record(actor, "dispense", "prescription", p.pk, facility=f.pk, codes=len(codes))
    return d


def return_dispensed(actor, prescription: Prescription, *, lines: Mapping[int, int] | None = None,
                     reason: str, trace_codes: Sequence[str] | str = ()) -> Return:
    """Take dispensed boxes back (``lines``: dispensing line pk → quantity; None: all that is left): each is
    a RETURN on the ledger of the dispensing facility; the scanned boxes go back in stock."""
    actor = actor_of(actor)
    d = Dispensing.objects.filter(prescription=prescription).select_related("facility").first()
    if d is None:
        raise Conflict("not_dispensed", _("该处方尚未发药"))
    check(actor, "prescribing.dispense", d.facility)
    reason = (reason or "").strip()[:200]
    if not reason:
        raise InvalidInput("no_reason", _("请填写退药原因"), field="reason")
    codes = _codes(trace_codes)
    source = f"prescription:{prescription.pk}"
    with transaction.atomic():
        p = Prescription.objects.select_for_update().get(pk=prescription.pk)
        dls = {x.pk: x for x in DispensingLine.objects.select_for_update().select_related("lot")
               .filter(dispensing=d).order_by("pk")}
        want = {pk: x.quantity - x.returned for pk, x in dls.items() if x.quantity > x.returned} if lines is None else {
            inputs.pk_of(k): int(v) for k, v in lines.items() if int(v)}
        errors = {}
        for pk, n in want.items():
            x = dls.get(pk)
            if x is None:
                errors[f"lines.{pk}"] = [_("不是本处方的发药明细")]
            elif not 0 < n <= x.quantity - x.returned:
                errors[f"lines.{pk}"] = [_("退药数量应为 1–%(n)s") % {"n": x.quantity - x.returned}]
        collect(errors, "invalid_return")
        want = {k: v for k, v in want.items() if v > 0}
        if not want:
            raise InvalidInput("nothing_to_return", _("没有可退的药品"), field="lines")
        to = Status.RETURNED if all(want.get(pk, 0) == x.quantity - x.returned for pk, x in dls.items()) \
            else Status.PARTLY_RETURNED
        workflow.require(p.status, to)
        dc = {c.trace.code: c for c in DispensedCode.objects.select_related("trace")
              .filter(line__dispensing=d, returned=False, trace__code__in=codes)}
        for c in codes:
            if c not in dc:
                raise InvalidInput("bad_trace_code", _("%(c)s：不是本处方发出的药品") % {"c": c},
                                   field="trace_codes")
            if dc[c].line_id not in want:
                raise InvalidInput("bad_trace_code", _("%(c)s：所在明细未退药") % {"c": c}, field="trace_codes")
        r = Return.objects.create(prescription=p, by=actor.user, at=timezone.now(), reason=reason)
        for pk, n in want.items():
            x = dls[pk]
            mv = ledger.post(facility=d.facility, lot=x.lot, quantity=n, kind=MovementKind.RETURN, reason=reason,
                             source=source, by=actor.user)
            ReturnLine.objects.create(ret=r, dispensing_line=x, quantity=n, movement=mv)
            x.returned += n
            x.save(update_fields=["returned"])
        if dc:
            DispensedCode.objects.filter(pk__in=[c.pk for c in dc.values()]).update(returned=True)
            TraceCode.objects.filter(pk__in=[c.trace_id for c in dc.values()]).update(
                status=TraceStatus.IN_STOCK, facility=d.facility, source=f"return:{r.pk}", updated_at=timezone.now())
        p.status = to
        p.save(update_fields=["status"])
        audit.record(actor, "return", "prescription", p.pk, quantity=sum(want.values()))
    return r


# ---- rules --------------------------------------------------------------------------------------------------

def update_rule(actor, rule: Rule, data: Mapping[str, Any]) -> Rule:
    """A pharmacist's edit of one rule (params as JSON text or a dict, severity, message, enabled). The rule
    is compiled before it is saved, so a bad figure is refused with the reason; the pack's version moves."""
    import json

    actor = actor_of(actor)
    check(actor, "prescribing.rules", rule.pack)
    params = data.get("params", rule.params)
    if isinstance(params, str):
        try:
            params = json.loads(params)
        except ValueError:
            raise InvalidInput("bad_params", _("参数须为 JSON 对象"), field="params") from None
    if not isinstance(params, dict):
        raise InvalidInput("bad_params", _("参数须为 JSON 对象"), field="params")
    try:
        severity = int(data.get("severity", rule.severity))
    except (TypeError, ValueError):
        severity = -1
    message = str(data.get("message", rule.message) or "").strip()[:200]
    enabled = data.get("enabled", rule.enabled)
    enabled = enabled if isinstance(enabled, bool) else str(enabled).lower() in ("1", "true", "on", "yes")
    row = {"code": rule.code, "kind": rule.kind, "params": params, "severity": severity, "message": message}
    try:
        engine.compile_rule(row)
    except engine.RuleError as e:
        raise InvalidInput(e.code, e.message, field="severity" if e.code == "bad_severity" else "params") from None
    if not message:
        raise InvalidInput("no_message", _("请填写提示语"), field="message")
    with transaction.atomic():
        r = Rule.objects.select_for_update().get(pk=rule.pk)
        before = {"params": r.params, "severity": r.severity, "enabled": r.enabled}
        r.params, r.severity, r.message, r.enabled, r.updated_by = params, severity, message, enabled, actor.user
        r.save()
        RulePack.objects.filter(pk=r.pack_id).update(version=r.pack.version + 1, updated_at=timezone.now())
        audit.record(actor, "update", "rule", r.pk, code=r.code, before=before)
    return r


def set_review_level(actor, pack: RulePack, level: int) -> RulePack:
    actor = actor_of(actor)
    check(actor, "prescribing.rules", pack)
    if level not in (Severity.LOW, Severity.MODERATE, Severity.HIGH, Severity.CRITICAL):
        raise InvalidInput("bad_level", _("请选择需审核的风险等级"), field="review_at")
    with transaction.atomic():
        RulePack.objects.filter(pk=pack.pk).update(review_at=level, version=pack.version + 1)
        audit.record(actor, "update", "rule_pack", pack.pk, review_at=level)
    pack.refresh_from_db()
    return pack


# ---- 点评 ---------------------------------------------------------------------------------------------------

def draw_sample(actor, community, month: dt.date, *, seed: int | None = None) -> list[CommentSample]:
    """Draw the month's 点评 sample of each facility of the community (``sampling.sample_size``: ≥ 1‰ and
    ≥ 100, all when fewer), seeded by the month so that a redraw gives the same prescriptions. Idempotent:
    prescriptions already drawn are kept."""
    actor = actor_of(actor)
    check(actor, "prescribing.comment", community)
    month = month.replace(day=1)
    start, stop = sampling.month_bounds(month)
    rows = list(Prescription.objects.filter(community=community, prescribed_at__gte=start, prescribed_at__lt=stop)
                .exclude(status__in=[Status.DRAFT, Status.REJECTED]).order_by("pk")
                .values_list("pk", "facility_id", "doctor_id"))
    by_facility: dict[int, list[int]] = defaultdict(list)
    doctor = {}
    for pk, fid, did in rows:
        by_facility[fid].append(pk)
        doctor[pk] = did
    chosen = sampling.draw(by_facility, seed=seed if seed is not None else month.year * 100 + month.month)
    with transaction.atomic():
        have = set(CommentSample.objects.filter(month=month, community=community).values_list("prescription_id",
                                                                                              flat=True))
        new = [CommentSample(community=community, facility_id=fid, month=month, prescription_id=pk,
                             doctor_id=doctor[pk]) for fid, pks in chosen.items() for pk in pks if pk not in have]
        CommentSample.objects.bulk_create(new)
        audit.record(actor, "create", "comment_sample", f"{community.pk}:{month:%Y-%m}", drawn=len(new))
    return list(CommentSample.objects.filter(month=month, community=community))


def classify_sample(actor, sample: CommentSample, *, classification: str, findings: Sequence[str] = (),
                    note: str = "") -> CommentSample:
    """The pharmacist's 点评 of one sampled prescription: 合理 or one of the three irrational classes."""
    actor = actor_of(actor)
    check(actor, "prescribing.comment", sample)
    if classification not in CommentClass.values or not classification:
        raise InvalidInput("bad_class", _("请选择点评结果"), field="classification")
    if classification != CommentClass.RATIONAL and not (note.strip() or findings):
        raise InvalidInput("no_note", _("不合理处方须写明问题"), field="note")
    with transaction.atomic():
        s = CommentSample.objects.select_for_update().get(pk=sample.pk)
        s.classification, s.findings, s.note = classification, list(findings)[:20], note.strip()[:300]
        s.reviewer, s.reviewed_at = actor.user, timezone.now()
        s.save()
        audit.record(actor, "comment", "prescription", s.prescription_id, classification=classification)
    return s
