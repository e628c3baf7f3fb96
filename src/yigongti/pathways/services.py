"""Use cases of the time-critical pathways: the only code that writes cases and their time points (the demo
bulk-loads).

- ``open_case``: a patient enters a pathway (from the pre-arrival alert, the one-button green channel, or a
  clinician at the door). One open case per resident and kind: opening again returns (and links) the open one.
- ``record_event``: a time point, once. A repeat (same code, same idempotency key, same source record) returns
  the first row. A time in the future, more than 24 h before the case's earliest time point, or before the 120
  call (except onset, injury, birth) is refused with the reason.
- ``correct_event``: a new row with the reason; the old one stays, inactive, and the audit log has both times.
- ``record_delay``: the reason a target was missed. ``close_case`` needs one for every missed target.

Each checks the actor's right with the case (``permissions.check`` outside the transaction) and writes an audit
event. Times are aware datetimes; pages and the API parse them."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Facility
from yigongti.orgs.permissions import allows, check
from yigongti.residents.models import Resident

from . import events as catalogue
from . import metrics
from .models import ArrivalMode, Case, CaseEvent, CaseStatus, DelayReason, PathwayKind

SKEW = dt.timedelta(minutes=2)  # clocks of phones and devices run a little ahead
BEFORE_FIRST = dt.timedelta(hours=24)
BEFORE_CALL_OK = {"onset", "injury", "birth"}  # what happened before anyone called
PREFIX = {"chest_pain": "XT", "stroke": "CZ", "trauma": "CS", "maternal": "YC", "neonatal": "XS"}


def _aware(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        return timezone.make_aware(at)
    return at


def _fmt(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


# ---- reading a case (pure over its rows) -------------------------------------------------------------------


def active_events(case: Case) -> dict[str, dt.datetime]:
    """The case's time points now in force, by code."""
    return {e.code: e.at for e in case.events.all() if e.active}


def case_metrics(case: Case, *, now: dt.datetime | None = None, live: bool = True) -> list[metrics.Metric]:
    """The case's metrics; while it is open (and ``live``) the unfinished ones run against ``now``."""
    running_now = None
    if live and case.status == CaseStatus.OPEN:
        running_now = now or timezone.now()
    return metrics.case_metrics(case.kind, active_events(case), subtype=case.subtype,
                                arrival_mode=case.arrival_mode, now=running_now)


def missing_delays(case: Case) -> list[metrics.Metric]:
    """Finished metrics over target that have no delay reason yet."""
    given = set(case.delays.values_list("metric", flat=True))
    return [m for m in metrics.missed(case_metrics(case, live=False)) if m.code not in given]


# ---- validation -------------------------------------------------------------------------------------------


def time_problem(case: Case, code: str, at: dt.datetime, *, now: dt.datetime | None = None,
                 ignore: CaseEvent | None = None) -> str | None:
    """Why this time cannot be a time point of the case (None when it can)."""
    now = now or timezone.now()
    if at > now + SKEW:
        return _("时间 %(at)s 晚于当前时间，不能记录未来的时间") % {"at": _fmt(at)}
    times = [e.at for e in case.events.all() if e.active and (ignore is None or e.pk != ignore.pk)]
    earliest = min(times) if times else case.opened_at
    if at < earliest - BEFORE_FIRST:
        return _("时间 %(at)s 比本病例最早的时间点（%(first)s）早 24 小时以上，请核对日期") % {
            "at": _fmt(at), "first": _fmt(earliest)}
    call = case.call
    if call is not None and code not in BEFORE_CALL_OK and at < call.rang_at - SKEW:
        return _("时间 %(at)s 早于120呼救时间（%(call)s）") % {"at": _fmt(at), "call": _fmt(call.rang_at)}
    return None


def _check_time(case: Case, code: str, at: dt.datetime, ignore: CaseEvent | None = None) -> None:
    if problem := time_problem(case, code, at, ignore=ignore):
        raise InvalidInput("invalid_time", problem, field="at")


# ---- open -------------------------------------------------------------------------------------------------


def _next_case_no(kind: str, at: dt.datetime) -> str:
    stem = f"{PREFIX.get(kind, 'LC')}{timezone.localtime(at):%y%m%d}"
    last = (Case.objects.filter(case_no__startswith=stem).order_by("-case_no").values_list("case_no", flat=True)
            .first())
    seq = int(last[len(stem):]) + 1 if last and last[len(stem):].isdigit() else 1
    return f"{stem}{seq:04d}"


def _validate_open(kind: str, subtype: str, arrival_mode: str, risk_colour: str) -> None:
    if kind not in PathwayKind.values:
        raise InvalidInput("invalid_kind", _("救治通道无效"), field="kind")
    if subtype and subtype not in catalogue.SUBTYPES.get(kind, ()):
        raise InvalidInput("invalid_subtype", _("分型与救治通道不符"), field="subtype")
    if arrival_mode not in ArrivalMode.values:
        raise InvalidInput("invalid_arrival_mode", _("来院方式无效"), field="arrival_mode")
    if risk_colour and (kind != PathwayKind.MATERNAL or risk_colour not in catalogue.RiskColour.values):
        raise InvalidInput("invalid_risk_colour", _("妊娠风险分级无效（仅用于危重孕产妇）"), field="risk_colour")


def _check_resident(actor: Actor, resident: Resident, facility: Facility, first_facility: Facility | None) -> None:
    """A clinician opens a case for a resident of their scope, or for the patient in front of them (at their own
    facility, treating or first)."""
    user = actor.user
    if user is None:
        return
    if scope_for(user).contains(resident.area_code):
        return
    if user.facility_id in (facility.pk, first_facility.pk if first_facility else None):
        return
    audit.record(actor, "denied", "resident", resident.pk, attempted="pathways.open_case")
    raise Forbidden(_("该居民不在您的服务范围内"), code="out_of_scope")


def _link(case: Case, **links) -> list[str]:
    changed = []
    for name, value in links.items():
        if value and not getattr(case, name):
            setattr(case, name, value)
            changed.append(name)
    if changed:
        case.save(update_fields=changed)
    return changed


def open_case(actor: Actor, resident: Resident, kind: str, *, facility: Facility,
              first_facility: Facility | None = None, call=None, referral=None, ecg_order=None,
              arrival_mode: str = ArrivalMode.EMS, subtype: str = "", at: dt.datetime | None = None,
              idempotency_key: str = "", risk_colour: str = "", diagnosis: str = "") -> Case:
    """A patient enters a pathway at ``facility`` (the treating center). When the resident already has an open
    case of this kind that the actor is involved in, that case is returned with the new links (call, referral,
    ECG) added: the alert and the green channel of one patient meet in one case (a hospital elsewhere that the
    patient walked into opens its own). The call's and the ECG's time points already known are captured at once
    (``capture.backfill``)."""
    check(actor, "pathways.open_case", resident)
    _validate_open(kind, subtype, arrival_mode, risk_colour)
    _check_resident(actor, resident, facility, first_facility)
    key = (idempotency_key or "").strip()[:64]
    if key and actor.user is not None and (done := Case.objects.filter(opened_by=actor.user,
                                                                        idempotency_key=key).first()):
        return done
    now = timezone.now()
    opened_at = _aware(at)
    if opened_at > now + SKEW:
        raise InvalidInput("invalid_time", _("建档时间不能晚于当前时间"), field="at")
    if opened_at < now - dt.timedelta(days=30):
        raise InvalidInput("invalid_time", _("建档时间早于30天前，请核对日期"), field="at")
    with transaction.atomic():
        # one open case per patient and kind: the alert and the green channel of one patient may open at once
        Resident.objects.select_for_update().filter(pk=resident.pk).first()
        existing = (Case.objects.filter(resident=resident, kind=kind, status=CaseStatus.OPEN)
                    .select_related("first_facility").order_by("-opened_at").first())
        if existing is not None and allows(actor, "pathways.record_event", existing):
            changed = _link(existing, call=call, referral=referral, ecg_order=ecg_order,
                            first_facility=first_facility, subtype=subtype, risk_colour=risk_colour,
                            diagnosis=diagnosis)
            if changed:
                audit.record(actor, "update", "pathway_case", existing.pk, linked=changed)
            case, fresh = existing, bool(changed)
        else:
            case = _create_case(actor, resident, kind, facility, first_facility, call, referral, ecg_order,
                                arrival_mode, subtype, opened_at, key, risk_colour, diagnosis)
            fresh = True
    if fresh:
        _backfill(case)
    return case


def _create_case(actor, resident, kind, facility, first_facility, call, referral, ecg_order, arrival_mode,
                 subtype, opened_at, key, risk_colour, diagnosis) -> Case:
    for _attempt in range(20):
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    case_no=_next_case_no(kind, opened_at), kind=kind, subtype=subtype, resident=resident,
                    area_code=resident.area_code, facility=facility, first_facility=first_facility,
                    arrival_mode=arrival_mode, call=call, referral=referral, ecg_order=ecg_order,
                    risk_colour=risk_colour, diagnosis=diagnosis[:200], opened_by=actor.user, opened_at=opened_at,
                    idempotency_key=key if actor.user is not None else "")
                audit.record(actor, "create", "pathway_case", case.pk, resident=resident.pk, kind=kind,
                             subtype=subtype, facility=facility.pk, case_no=case.case_no)
                return case
        except IntegrityError:
            if key and actor.user is not None and (done := Case.objects.filter(opened_by=actor.user,
                                                                                idempotency_key=key).first()):
                return done
    raise Conflict("case_no_busy", _("病例号生成冲突，请重试"))


def _backfill(case: Case) -> None:
    from . import capture

    capture.backfill(case)


# ---- time points ------------------------------------------------------------------------------------------


def _existing_event(case: Case, code: str, key: str, source: str, source_ref: str) -> CaseEvent | None:
    if key and (ev := case.events.filter(idempotency_key=key).first()):
        return ev
    if source_ref and (ev := case.events.filter(source=source, source_ref=source_ref, code=code).first()):
        return ev
    return case.events.filter(code=code, active=True).first()


def record_event(actor: Actor, case: Case, code: str, *, at: dt.datetime | None = None, source: str = "manual",
                 source_ref: str = "", value: str = "", facility: Facility | None = None,
                 idempotency_key: str = "") -> CaseEvent:
    """Record a time point once: a repeat, a replay (same idempotency key) or the same source record again returns
    the row already there; a different time for a recorded point is a correction (``correct_event``)."""
    check(actor, "pathways.record_event", case)
    d = catalogue.get(case.kind, code)
    if d is None:
        raise InvalidInput("unknown_event", _("“%(code)s”不是该救治通道的时间节点") % {"code": code}, field="code")
    key = (idempotency_key or "").strip()[:64]
    if done := _existing_event(case, code, key, source, source_ref):
        return done
    if case.status != CaseStatus.OPEN:
        raise Conflict("case_closed", _("病例已结束，不能再记录时间节点"))
    when = _aware(at)
    _check_time(case, code, when)
    if facility is None:
        if d.at_first_facility and case.first_facility_id:
            facility = case.first_facility
        elif actor.user is not None and actor.user.facility_id:
            facility = actor.user.facility
        else:
            facility = case.facility
    try:
        with transaction.atomic():
            ev = CaseEvent.objects.create(case=case, code=code, at=when, facility=facility, source=source[:16],
                                          source_ref=source_ref[:60], value=value[:120], recorded_by=actor.user,
                                          idempotency_key=key)
            audit.record(actor, "create", "pathway_event", ev.pk, case=case.pk, code=code, at=when.isoformat(),
                         source=source, source_ref=source_ref)
    except IntegrityError:
        # a concurrent capture of the same point won (the one-active-row-per-code constraint)
        if done := _existing_event(case, code, key, source, source_ref):
            return done
        raise
    return ev


def correct_event(actor: Actor, event: CaseEvent, *, at: dt.datetime, reason: str, value: str | None = None
                  ) -> CaseEvent:
    """Replace a time point by a new row with the reason; the old row stays, inactive."""
    case = event.case
    check(actor, "pathways.correct_event", case)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidInput("reason_required", _("更正时间节点须写明理由"), field="reason")
    when = _aware(at)
    _check_time(case, event.code, when, ignore=event)
    with transaction.atomic():
        old = CaseEvent.objects.select_for_update().filter(pk=event.pk).first()
        if old is None or not old.active:
            raise Conflict("already_corrected", _("该时间节点已被更正，请刷新后重试"))
        old.active = False
        old.save(update_fields=["active"])
        new = CaseEvent.objects.create(case=case, code=old.code, at=when, facility=old.facility, source="correction",
                                       source_ref=old.source_ref, value=old.value if value is None else value[:120],
                                       replaces=old, reason=reason[:200], recorded_by=actor.user)
        audit.record(actor, "correct", "pathway_event", new.pk, case=case.pk, code=old.code, replaces=old.pk,
                     old_at=old.at.isoformat(), new_at=when.isoformat(), reason=reason[:200])
    return new


def set_subtype(actor: Actor, case: Case, subtype: str, *, diagnosis: str = "", risk_colour: str = "") -> Case:
    """The working diagnosis is confirmed (STEMI, ischaemic stroke …): the metrics follow the subtype. A critical
    maternal case also takes its pregnancy risk colour (妊娠风险分级) here."""
    check(actor, "pathways.record_event", case)
    if subtype not in catalogue.SUBTYPES.get(case.kind, ()):
        raise InvalidInput("invalid_subtype", _("分型与救治通道不符"), field="subtype")
    if risk_colour and (case.kind != PathwayKind.MATERNAL or risk_colour not in catalogue.RiskColour.values):
        raise InvalidInput("invalid_risk_colour", _("妊娠风险分级无效（仅用于危重孕产妇）"), field="risk_colour")
    old = case.subtype
    case.subtype = subtype
    fields = ["subtype"]
    if diagnosis:
        case.diagnosis = diagnosis[:200]
        fields.append("diagnosis")
    if risk_colour:
        case.risk_colour = risk_colour
        fields.append("risk_colour")
    case.save(update_fields=fields)
    audit.record(actor, "update", "pathway_case", case.pk, subtype=subtype, old_subtype=old,
                 risk_colour=case.risk_colour)
    return case


# ---- delays, closing --------------------------------------------------------------------------------------


def record_delay(actor: Actor, case: Case, metric: str, code: str, *, note: str = "") -> DelayReason:
    """Why the case missed this target (one reason per metric; giving it again replaces it)."""
    check(actor, "pathways.record_delay", case)
    if metric not in {d.code for d in metrics.definitions(case.kind)}:
        raise InvalidInput("unknown_metric", _("该救治通道没有这项指标"), field="metric")
    if code not in catalogue.DelayCode.values:
        raise InvalidInput("invalid_delay_code", _("请选择延误原因"), field="code")
    note = (note or "").strip()
    if code == catalogue.DelayCode.OTHER and not note:
        raise InvalidInput("note_required", _("选择“其他”时须填写说明"), field="note")
    with transaction.atomic():
        delay, created = DelayReason.objects.update_or_create(
            case=case, metric=metric, defaults={"code": code, "note": note[:200], "by": actor.user})
        audit.record(actor, "create" if created else "update", "pathway_delay", delay.pk, case=case.pk,
                     metric=metric, code=code)
    return delay


def close_case(actor: Actor, case: Case, *, outcome: str, diagnosis: str = "", at: dt.datetime | None = None
               ) -> Case:
    """End a case with its outcome. A missed target needs its delay reason first; ``ruled_out`` cancels the case
    (the working diagnosis was excluded) and needs none."""
    check(actor, "pathways.close_case", case)
    if outcome not in catalogue.Outcome.values:
        raise InvalidInput("invalid_outcome", _("请选择转归"), field="outcome")
    if case.status != CaseStatus.OPEN:
        raise Conflict("case_closed", _("病例已结束"))
    when = _aware(at)
    if when > timezone.now() + SKEW:
        raise InvalidInput("invalid_time", _("结束时间不能晚于当前时间"), field="at")
    cancelled = outcome == catalogue.Outcome.RULED_OUT
    if not cancelled and (missing := missing_delays(case)):
        names = "、".join(m.label for m in missing)
        raise InvalidInput("delay_reason_required", _("以下指标未达标，请先填写延误原因：%(names)s") % {"names": names},
                           field="outcome")
    with transaction.atomic():
        case.status = CaseStatus.CANCELLED if cancelled else CaseStatus.CLOSED
        case.outcome = outcome
        case.closed_at = when
        if diagnosis:
            case.diagnosis = diagnosis[:200]
        case.save(update_fields=["status", "outcome", "closed_at", "diagnosis"])
        audit.record(actor, "close", "pathway_case", case.pk, outcome=outcome, status=case.status)
    return case
