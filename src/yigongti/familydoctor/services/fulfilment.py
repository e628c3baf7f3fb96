"""Fulfilment of contracts (履约): the contract year's schedule and the record of each delivered service.

``schedule_contract`` writes a contract's ``ScheduledService`` rows from its package (``schedule.plan_services``);
the contract services call it on sign and renew. ``record_delivery`` is the manual entry (a team member records
a service: which, when, by whom, where, optionally in a 118 session); ``record_from_source`` is called by the
other apps' services after they wrote a follow-up, a check, a visit or a dose, and counts it as a delivery when the
resident's active contract has a service of that kind. A delivery fills the first open scheduled slot of its
service (earliest due first); a delivery beyond the plan is kept (it counts as done, not as planned)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import actor_of
from yigongti.core.errors import InvalidInput, NotFound
from yigongti.orgs.models import Facility, Staff
from yigongti.orgs.permissions import check

from ..models import PLACES as PLACE_LABELS
from ..models import (
    Contract,
    ContractStatus,
    DeliverySource,
    PackageService,
    ScheduledService,
    ServiceDelivery,
    ServiceKind,
    TeamSession,
)
from ..schedule import applies, plan_services

log = logging.getLogger(__name__)

PLACES = list(PLACE_LABELS)  # the stored values (Chinese); ``PLACE_LABELS`` shows them


def resident_tags(resident) -> set[str]:
    return set(resident.tags.values_list("tag", flat=True))


def schedule_contract(contract: Contract) -> int:
    """Create the contract's ScheduledService rows for its term (idempotent: existing slots are kept, only the
    missing (service, seq) are added). Returns the number of rows created."""
    services = list(PackageService.objects.filter(package_id=contract.package_id))
    plan = plan_services(services, resident_tags(contract.resident), contract.start, contract.end)
    have = set(ScheduledService.objects.filter(contract=contract).values_list("service_id", "seq"))
    rows = [ScheduledService(contract=contract, service=p.service, seq=p.seq, due_from=p.due_from, due_by=p.due_by)
            for p in plan if (p.service.pk, p.seq) not in have]
    ScheduledService.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _refresh_due(resident_id: int) -> None:
    """Tell the due engine (H7's familydoctor.due) that the resident's work changed; tolerate its absence."""
    try:
        from .. import due
    except ImportError:  # pragma: no cover - the due engine is another module
        return
    refresh = getattr(due, "refresh_resident", None)
    if refresh is None:
        return
    try:
        transaction.on_commit(lambda: refresh(resident_id))
    except Exception:  # pragma: no cover - never lose a delivery for a stale due list
        log.exception("due refresh failed for resident %s", resident_id)


def _fill_slot(delivery: ServiceDelivery) -> ScheduledService | None:
    """Mark the first open scheduled slot of the delivery's service done. The contract row is locked first, so two
    deliveries of one contract at once take consecutive slots (locking only the slot, the second would find the
    first's slot taken after its wait and, with LIMIT 1, no slot at all)."""
    Contract.objects.select_for_update().filter(pk=delivery.contract_id).values_list("pk", flat=True).first()
    slot = (ScheduledService.objects.select_for_update()
            .filter(contract_id=delivery.contract_id, service_id=delivery.service_id, delivery__isnull=True)
            .order_by("due_by", "seq").first())
    if slot is not None:
        slot.delivery = delivery
        slot.save(update_fields=["delivery"])
    return slot


def service_for(contract: Contract, kind: str, tags: set[str]) -> PackageService | None:
    """The package's service of that kind that applies to the resident (the one with an open slot first)."""
    candidates = [s for s in PackageService.objects.filter(package_id=contract.package_id, kind=kind)
                  if applies(s.tags, tags)]
    if not candidates:
        return None
    open_ids = set(ScheduledService.objects.filter(contract=contract, service__in=candidates, delivery__isnull=True)
                   .values_list("service_id", flat=True))
    for s in candidates:
        if s.pk in open_ids:
            return s
    return candidates[0]


def contract_in_force(resident, on: dt.date) -> Contract | None:
    """The resident's contract covering ``on`` (the active one first; a renewed or expired one for a record dated
    in its term; an ended one only up to its end date)."""
    qs = (Contract.objects.filter(resident=resident, start__lte=on, end__gte=on)
          .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=on)).select_related("package"))
    contracts = list(qs[:3])
    return next((c for c in contracts if c.status == ContractStatus.ACTIVE), contracts[0] if contracts else None)


def record_from_source(*, resident, kind: ServiceKind | str, on: dt.date, by: Staff | None, facility,
                       source: DeliverySource | str, source_id: str, note: str = "") -> ServiceDelivery | None:
    """Count another app's record as a delivery of the resident's contract in force on ``on`` (idempotent by
    (source, source_id)); None when no contract covers that day or its package has no service of that kind.
    No permission check (the caller checked); never raises for "no contract"."""
    source_id = str(source_id)[:40]
    if source_id:
        existing = ServiceDelivery.objects.filter(source=source, source_id=source_id).first()
        if existing is not None:
            return existing
    contract = contract_in_force(resident, on)
    if contract is None:
        return None
    service = service_for(contract, str(kind), resident_tags(resident))
    if service is None:
        return None
    try:
        with transaction.atomic():
            delivery = ServiceDelivery.objects.create(
                contract=contract, service=service, delivered_on=on, by=by,
                facility=facility if isinstance(facility, Facility) or facility is None else None,
                place=(facility.name[:60] if isinstance(facility, Facility) else ""),
                source=source, source_id=source_id, note=(note or "")[:300])
            _fill_slot(delivery)
    except IntegrityError:  # the same source record counted at the same time by another request
        return ServiceDelivery.objects.filter(source=source, source_id=source_id).first()
    _refresh_due(resident.pk)
    return delivery


def as_pk(value: Any) -> int:
    """A primary key from form or JSON input; 0 when it is not a positive integer (matches no row)."""
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return 0
    return n if n > 0 else 0


def _parse_date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise InvalidInput("invalid_date", _("日期格式不正确"), field=field) from None


def record_delivery(actor, contract: Contract, data: Mapping[str, Any]) -> ServiceDelivery:
    """A team member records a delivered service of a contract (manual entry, 手工登记).

    ``data``: service (PackageService pk of the contract's package), delivered_on, by (Staff pk, a team member;
    default the actor's staff), place, facility (pk, optional), session (TeamSession pk of the contract's team,
    optional; its date must be the delivery date), note."""
    actor = actor_of(actor)
    check(actor, "familydoctor.record_service", contract)
    user = actor.user
    errors: dict[str, list[str]] = {}
    service = None
    try:
        service = PackageService.objects.get(pk=as_pk(data.get("service")), package_id=contract.package_id)
    except PackageService.DoesNotExist:
        errors["service"] = [_("请选择本协议服务包中的服务项目")]
    on = None
    try:
        on = _parse_date(data.get("delivered_on"), "delivered_on")
    except InvalidInput as e:
        errors["delivered_on"] = [e.message]
    if on is not None:
        if on > timezone.localdate():
            errors["delivered_on"] = [_("服务日期不能晚于今天")]
        elif on < contract.start or on > contract.end:
            errors["delivered_on"] = [_("服务日期不在协议期内（%(start)s 至 %(end)s）")
                                      % {"start": contract.start, "end": contract.end}]
    by = None
    by_id = data.get("by") or getattr(user, "staff_id", None)
    if by_id:
        by = Staff.objects.filter(pk=as_pk(by_id)).first()
        if by is None or not contract.team.members.filter(staff=by).exists():
            errors["by"] = [_("服务人须是本团队成员")]
    session = None
    if data.get("session"):
        session = TeamSession.objects.filter(pk=as_pk(data.get("session")), team_id=contract.team_id).first()
        if session is None:
            errors["session"] = [_("118服务日不存在或不属于本团队")]
        elif on is not None and session.date != on:
            errors["session"] = [_("118服务日的日期与服务日期不一致")]
    facility = None
    if data.get("facility"):
        facility = Facility.objects.filter(pk=as_pk(data.get("facility"))).first()
        if facility is None:
            errors["facility"] = [_("服务机构不存在")]
    place = str(data.get("place") or "").strip()[:60]
    if errors:
        first = next(iter(errors))
        raise InvalidInput("invalid_delivery", errors[first][0], field=first, errors=errors)
    if contract.status != ContractStatus.ACTIVE and not (on and contract.start <= on <= contract.end):
        raise InvalidInput("contract_closed", _("协议已结束，不能登记服务"), field="contract")
    assert service is not None and on is not None
    with transaction.atomic():
        delivery = ServiceDelivery.objects.create(
            contract=contract, service=service, delivered_on=on, by=by,
            facility=facility or (session.place if session else None),
            place=place or (session.place.name[:60] if session and session.place else ""), session=session,
            source=DeliverySource.MANUAL, source_id="", note=str(data.get("note") or "")[:300],
            recorded_by=user)
        slot = _fill_slot(delivery)
        audit.record(actor, "create", "fd_delivery", delivery.pk,
                     contract=contract.pk, service=service.code, on=str(on), slot=slot.pk if slot else None)
    _refresh_due(contract.resident_id)
    return delivery


def get_contract(actor, pk: int) -> Contract:
    contract = Contract.objects.select_related("team", "package", "resident").filter(pk=pk).first()
    if contract is None:
        raise NotFound("not_found", _("协议不存在"))
    return contract
