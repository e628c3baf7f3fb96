"""The distribution app's writes, one function per business verb: a clinic creates and submits an order, the
center approves (cutting quantities), rejects, picks first-expiry-first-out, plans the day's routes and dispatches;
the clinic confirms each line; a clinic registers a shortage and the center answers it.

Each checks its ``distribution.*`` verb (outside the transaction, so a refusal keeps its audit event), locks the
order row, asks ``workflow.check_move``, writes, and appends an audit event. Stock moves only through
``pharmacy.ledger`` inside the same transaction: nothing at approval or picking (a pick chooses lots and 追溯码 and
reserves them against other picks), ``TRANSFER_OUT`` at the center on dispatch, ``TRANSFER_IN`` at the clinic on
receipt of what arrived. A line confirmed twice (a flaky village network resending) finds its receipt under the
line's lock and changes nothing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, collect
from yigongti.orgs.models import Facility
from yigongti.orgs.permissions import check
from yigongti.pharmacy import ledger
from yigongti.pharmacy.models import Item, MovementKind, StockBalance, TraceCode, TraceStatus

from . import queries, routing, workflow
from .models import (
    ANSWER_HOURS,
    DeliveryRun,
    DeliveryStop,
    LineReceipt,
    OrderLine,
    OrderStatus,
    Pick,
    RunStatus,
    Shortage,
    ShortageAnswer,
    ShortageStatus,
    VillageOrder,
)

MAX_LINE = 9999
SERVICE_MINUTES = 10  # unloading and signing at a stop
DEPART = dt.time(8, 30)


def _user(actor: Actor):
    return actor.user


def _int(raw: Any, field: str, errors: dict, *, maximum: int = MAX_LINE) -> int | None:
    if raw in (None, ""):
        return 0
    try:
        n = int(str(raw).strip())
    except (TypeError, ValueError):
        errors[field] = [_("请填写整数")]
        return None
    if n < 0:
        errors[field] = [_("数量不能为负数")]
        return None
    if n > maximum:
        errors[field] = [_("数量不能超过 %(n)s") % {"n": maximum}]
        return None
    return n


def _move(order: VillageOrder, action: str) -> str:
    try:
        return workflow.check_move(order.status, action)
    except workflow.MoveNotAllowed as e:
        raise Conflict(e.code, e.message) from e


def _locked(order: VillageOrder) -> VillageOrder:
    return VillageOrder.objects.select_for_update().select_related("facility", "center").get(pk=order.pk)


# ---- the clinic's order --------------------------------------------------------------------------------------

def create_order(actor: Actor, facility: Facility, quantities: Mapping[Any, Any], *, note: str = "",
                 submit: bool = False) -> VillageOrder:
    """A new order of ``facility`` from ``quantities`` (item id → boxes; zero lines are left out), with the
    suggested quantity of each line kept beside what was asked. Only items of the facility's catalogue."""
    check(actor, "distribution.order", facility)
    center = queries.center_of(facility.community_id)
    if center is None or facility.community_id is None:
        raise InvalidInput("no_center", _("本医共体尚未设置药品配送中心"))
    if center.pk == facility.pk:
        raise InvalidInput("center_orders_itself", _("配送中心不能向自己请领"))
    errors: dict[str, list[str]] = {}
    wanted: dict[int, int] = {}
    for key, raw in quantities.items():
        try:
            item_id = int(getattr(key, "pk", key))
        except (TypeError, ValueError):
            errors[str(key)] = [_("品种不正确")]
            continue
        n = _int(raw, f"qty_{item_id}", errors)
        if n:
            wanted[item_id] = n
    allowed = dict(queries.catalogue_for(facility).filter(pk__in=wanted).values_list("pk", "generic_name"))
    for item_id in wanted:
        if item_id not in allowed:
            errors[f"qty_{item_id}"] = [_("该品种不在本机构可配备的目录内")]
    if not wanted and not errors:
        errors["__all__"] = [_("请至少填写一个品种的请领数量")]
    collect(errors)
    suggested = {r["item"].pk: r["suggested"] for r in queries.order_form_rows(facility)
                 if r["item"].pk in wanted}
    now = timezone.now()
    with transaction.atomic():
        order = VillageOrder.objects.create(
            community_id=facility.community_id, facility=facility, center=center, note=note.strip()[:200],
            created_by=_user(actor), created_at=now)
        OrderLine.objects.bulk_create([OrderLine(order=order, item_id=i, requested=n, suggested=suggested.get(i, 0))
                                       for i, n in sorted(wanted.items())])
        audit.record(actor, "create", "village_order", order.pk, facility=facility.pk, lines=len(wanted))
    return submit_order(actor, order) if submit else order


def submit_order(actor: Actor, order: VillageOrder) -> VillageOrder:
    check(actor, "distribution.order", order)
    with transaction.atomic():
        o = _locked(order)
        o.status = _move(o, "submit")
        o.submitted_at = timezone.now()
        o.save(update_fields=["status", "submitted_at"])
        audit.record(actor, "submit", "village_order", o.pk)
    return o


def cancel_order(actor: Actor, order: VillageOrder, reason: str) -> VillageOrder:
    check(actor, "distribution.order", order)
    if workflow.missing_reason("cancel", reason):
        raise InvalidInput("reason_required", workflow.missing_reason("cancel", reason), field="reason")
    with transaction.atomic():
        o = _locked(order)
        o.status = _move(o, "cancel")
        o.reason = reason.strip()[:200]
        o.save(update_fields=["status", "reason"])
        audit.record(actor, "cancel", "village_order", o.pk, reason=o.reason)
    return o


# ---- the center: approve, reject, pick ---------------------------------------------------------------------

def approve_order(actor: Actor, order: VillageOrder, approved: Mapping[Any, Any] | None = None) -> VillageOrder:
    """Approve, each line at its requested quantity or cut (``approved``: line id → boxes, ≤ requested)."""
    check(actor, "distribution.approve", order)
    approved = approved or {}
    with transaction.atomic():
        o = _locked(order)
        target = _move(o, "approve")
        lines = list(o.lines.select_for_update().order_by("pk"))
        errors: dict[str, list[str]] = {}
        for line in lines:
            raw = approved.get(line.pk, approved.get(str(line.pk)))
            n = line.requested if raw in (None, "") else _int(raw, f"line_{line.pk}", errors)
            if n is not None and n > line.requested:
                errors[f"line_{line.pk}"] = [_("核准数量不能超过请领数量 %(n)s") % {"n": line.requested}]
            line.approved = n
        if all((line.approved or 0) == 0 for line in lines) and not errors:
            errors["__all__"] = [_("核准数量全部为 0，请改为驳回")]
        collect(errors)
        OrderLine.objects.bulk_update(lines, ["approved"])
        o.status, o.approved_at, o.approved_by = target, timezone.now(), _user(actor)
        o.save(update_fields=["status", "approved_at", "approved_by"])
        audit.record(actor, "approve", "village_order", o.pk,
                     cut={str(line.pk): line.approved for line in lines if line.approved != line.requested})
    return o


def reject_order(actor: Actor, order: VillageOrder, reason: str) -> VillageOrder:
    check(actor, "distribution.approve", order)
    if workflow.missing_reason("reject", reason):
        raise InvalidInput("reason_required", workflow.missing_reason("reject", reason), field="reason")
    with transaction.atomic():
        o = _locked(order)
        o.status = _move(o, "reject")
        o.reason, o.approved_at, o.approved_by = reason.strip()[:200], timezone.now(), _user(actor)
        o.save(update_fields=["status", "reason", "approved_at", "approved_by"])
        audit.record(actor, "reject", "village_order", o.pk, reason=o.reason)
    return o


def _reserved(center_id: int, item_ids: Iterable[int], exclude_order: int) -> tuple[dict[int, int], set[str]]:
    """Boxes per lot, and 追溯码, held by other picked orders not yet dispatched."""
    picks = Pick.objects.filter(line__order__center_id=center_id, line__order__status=OrderStatus.PICKED,
                                line__item_id__in=list(item_ids)).exclude(line__order_id=exclude_order)
    by_lot = dict(picks.values("lot_id").annotate(n=Sum("quantity")).values_list("lot_id", "n"))
    codes = {c for row in picks.values_list("trace_codes", flat=True) for c in (row or [])}
    return by_lot, codes


def pick_order(actor: Actor, order: VillageOrder, *, today: dt.date | None = None,
               chosen: Mapping[Any, list[tuple[int, int]]] | None = None) -> VillageOrder:
    """Choose the lots of each approved line at the center, first-expiry-first-out over unexpired stock not held by
    another pick, and as many 追溯码 of each lot as boxes. A line the center cannot fill is picked short (the
    clinic sees the approved and picked figures); an order of which nothing can be picked is refused.
    ``chosen`` (line id → [(lot id, boxes)]) overrides FEFO for those lines: the pharmacist's own choice of lots,
    each unexpired, free at the center, of the line's item, in all at most the approved quantity."""
    check(actor, "distribution.pick", order)
    day = today or timezone.localdate()
    with transaction.atomic():
        o = _locked(order)
        target = _move(o, "pick")
        lines = list(o.lines.select_for_update().select_related("item").order_by("pk"))
        items = [line.item_id for line in lines]
        balances = list(StockBalance.objects.select_for_update().select_related("lot")
                        .filter(facility_id=o.center_id, item_id__in=items, quantity__gt=0, expires_on__gte=day)
                        .order_by("pk"))
        held, held_codes = _reserved(o.center_id, items, o.pk)
        by_item: dict[int, list[StockBalance]] = defaultdict(list)
        for b in sorted(balances, key=lambda b: (b.expires_on, b.lot.number, b.pk)):
            by_item[b.item_id].append(b)
        picks: list[Pick] = []
        chosen = {int(k): v for k, v in (chosen or {}).items()}
        errors: dict[str, list[str]] = {}
        for line in lines:
            left = line.approved or 0
            line.picked = 0
            wanted = chosen.get(line.pk)
            asked: dict[int, int] | None = None
            if wanted is not None:
                by_lot = {b.lot_id: b for b in by_item[line.item_id]}
                order_of = {lot_id: i for i, (lot_id, _n) in enumerate(wanted)}
                by_item[line.item_id] = sorted((by_lot[int(lot)] for lot, _n in wanted if int(lot) in by_lot),
                                               key=lambda b: order_of.get(b.lot_id, 0))
                asked = {int(lot): int(n) for lot, n in wanted}
                if any(int(lot) not in by_lot for lot in asked):
                    errors[f"line_{line.pk}"] = [_("所选批号不在配送中心的可用库存中（或已过期）")]
                elif sum(asked.values()) > left:
                    errors[f"line_{line.pk}"] = [_("所选数量超过核准数量 %(n)s") % {"n": left}]
                elif any(n > by_lot[lot].quantity - held.get(lot, 0) for lot, n in asked.items()):
                    errors[f"line_{line.pk}"] = [_("所选批号的可用数量不足")]
                left = sum(asked.values())
            for b in by_item[line.item_id]:
                if left <= 0:
                    break
                free = b.quantity - held.get(b.lot_id, 0)
                n = min(left, free, asked.get(b.lot_id, 0) if asked is not None else free)
                if n <= 0:
                    continue
                codes = list(TraceCode.objects.filter(facility_id=o.center_id, lot_id=b.lot_id,
                                                      status=TraceStatus.IN_STOCK)
                             .exclude(code__in=held_codes).order_by("code").values_list("code", flat=True)[:n])
                picks.append(Pick(line=line, lot=b.lot, quantity=n, trace_codes=codes))
                line.picked += n
                left -= n
        collect(errors)
        if not picks:
            raise ledger.OutOfStock(_("配送中心没有可拣的库存（未过期、未被其他请领单占用）"))
        Pick.objects.bulk_create(picks)
        OrderLine.objects.bulk_update(lines, ["picked"])
        o.status, o.picked_at, o.picked_by = target, timezone.now(), _user(actor)
        o.save(update_fields=["status", "picked_at", "picked_by"])
        audit.record(actor, "pick", "village_order", o.pk, picks=len(picks),
                     short={str(line.pk): (line.approved or 0) - line.picked for line in lines
                            if line.picked < (line.approved or 0)})
    return o


# ---- routes and dispatch -----------------------------------------------------------------------------------

def _depart(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, DEPART, tzinfo=timezone.get_current_timezone())


def plan_routes(actor: Actor, center: Facility, day: dt.date, *, max_stops: int = 12, capacity: int | None = None,
                time_limit_s: float = 5.0, graph=None) -> list[DeliveryRun]:
    """The day's routes for every picked order of the center not yet dispatched: one stop per clinic, OR-Tools over
    the road travel times, the nearest-neighbour baseline's length kept beside it. Plans of the day not yet
    dispatched are replaced."""
    from . import roads

    check(actor, "distribution.dispatch", center)
    if max_stops < 1 or max_stops > 60:
        raise InvalidInput("bad_max_stops", _("每车站点数须在 1 到 60 之间"), field="max_stops")
    orders = list(VillageOrder.objects.filter(center=center, status=OrderStatus.PICKED)
                  .select_related("facility__region").prefetch_related("lines").order_by("pk"))
    if not orders:
        raise InvalidInput("nothing_to_route", _("没有已拣货待发车的请领单"))
    stops = sorted({o.facility_id: o.facility for o in orders}.values(), key=lambda f: f.code)
    load = queries.lines_by_facility(orders)
    graph, nodes, seconds = roads.matrix(center, stops, graph)
    demands = [0] + [load[f.pk] for f in stops] if capacity else None
    plan = routing.solve(seconds.tolist(), max_stops=max_stops, demands=demands, capacity=capacity,
                         time_limit_s=time_limit_s)
    base = routing.nearest_neighbour(seconds.tolist(), max_stops=max_stops, demands=demands, capacity=capacity)
    base_m = sum(sum(roads.leg_paths(graph, [nodes[0], *[nodes[i] for i in r], nodes[0]])[1])
                 for r in base.routes)
    by_facility = defaultdict(list)
    for o in orders:
        by_facility[o.facility_id].append(o)
    with transaction.atomic():
        stale = DeliveryRun.objects.select_for_update().filter(center=center, day=day, status=RunStatus.PLANNED)
        VillageOrder.objects.filter(run__in=stale).update(run=None)
        stale.delete()
        runs = []
        for k, route in enumerate(plan.routes, start=1):
            path, legs = roads.leg_paths(graph, [nodes[0], *[nodes[i] for i in route], nodes[0]])
            at = _depart(day)
            run = DeliveryRun.objects.create(center=center, day=day, vehicle=_("配送车%(n)s") % {"n": k},
                                             solver=plan.solver, distance_m=round(sum(legs), 1),
                                             duration_s=round(routing.route_cost(seconds.tolist(), route), 1),
                                             baseline_distance_m=round(base_m, 1), departs_at=at, path=path,
                                             created_by=_user(actor))
            prev = 0
            for seq, (node, leg) in enumerate(zip(route, legs, strict=False), start=1):
                at = at + dt.timedelta(seconds=float(seconds[prev][node])) + (
                    dt.timedelta(minutes=SERVICE_MINUTES) if seq > 1 else dt.timedelta())
                DeliveryStop.objects.create(run=run, sequence=seq, facility=stops[node - 1], leg_m=round(leg, 1),
                                            eta=at)
                VillageOrder.objects.filter(pk__in=[o.pk for o in by_facility[stops[node - 1].pk]]).update(run=run)
                prev = node
            runs.append(run)
        audit.record(actor, "plan", "delivery_run", runs[0].pk if runs else "", day=str(day), runs=len(runs),
                     stops=len(stops), solver=plan.solver, cost_s=round(plan.cost), baseline_s=round(base.cost))
    return runs


def _dispatch_locked(actor: Actor, o: VillageOrder, now: dt.datetime) -> None:
    o.status = _move(o, "dispatch")
    for pick in Pick.objects.filter(line__order=o).select_related("lot").order_by("lot_id", "pk"):
        ledger.post(facility=o.center, lot=pick.lot, quantity=-pick.quantity, kind=MovementKind.TRANSFER_OUT,
                    at=now, reason=_("村卫生室请领配送"), source=f"order:{o.pk}", counterpart=o.facility,
                    by=_user(actor))
        if pick.trace_codes:
            TraceCode.objects.filter(code__in=pick.trace_codes, facility_id=o.center_id,
                                     status=TraceStatus.IN_STOCK).update(
                facility=o.facility, status=TraceStatus.IN_TRANSIT, source=f"order:{o.pk}", updated_at=now)
    o.dispatched_at = now
    o.save(update_fields=["status", "dispatched_at"])
    audit.record(actor, "dispatch", "village_order", o.pk, run=o.run_id)


def dispatch_order(actor: Actor, order: VillageOrder) -> VillageOrder:
    """The picked lots leave the center's stock (``TRANSFER_OUT``), their 追溯码 go ``in_transit``."""
    check(actor, "distribution.dispatch", order)
    with transaction.atomic():
        o = _locked(order)
        _dispatch_locked(actor, o, timezone.now())
    return o


def dispatch_run(actor: Actor, run: DeliveryRun) -> DeliveryRun:
    """Dispatch every order on the run (all or none)."""
    check(actor, "distribution.dispatch", run.center)
    now = timezone.now()
    with transaction.atomic():
        r = DeliveryRun.objects.select_for_update().get(pk=run.pk)
        if r.status != RunStatus.PLANNED:
            raise Conflict("already_done", _("该车次已发车"))
        for o in VillageOrder.objects.select_for_update().select_related("facility", "center") \
                .filter(run=r).order_by("pk"):
            if o.status == OrderStatus.PICKED:
                _dispatch_locked(actor, o, now)
        r.status = RunStatus.DISPATCHED
        r.save(update_fields=["status"])
        audit.record(actor, "dispatch", "delivery_run", r.pk)
    return r


# ---- the clinic's receipt ----------------------------------------------------------------------------------

def receive_line(actor: Actor, line: OrderLine, *, received: Any, damaged: Any = 0, wrong_lot: str = "",
                 note: str = "", today: dt.date | None = None) -> LineReceipt:
    """Confirm one line: ``received`` boxes go on the clinic's shelf (``TRANSFER_IN``, lot by lot in pick order),
    ``damaged`` are recorded and written off, the rest of what was picked is short. A second confirmation of the
    same line returns the first receipt and moves nothing. The last line closes the order (received, or partly
    received when anything was short, damaged or of another lot)."""
    order = line.order
    check(actor, "distribution.receive", order)
    day = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    good = _int(received, "received", errors)
    bad = _int(damaged, "damaged", errors)
    collect(errors)
    assert good is not None and bad is not None
    wrong_lot = (wrong_lot or "").strip()[:40]
    with transaction.atomic():
        o = _locked(order)
        ln = OrderLine.objects.select_for_update().get(pk=line.pk, order=o)
        existing = LineReceipt.objects.filter(line=ln).first()
        if existing is not None:  # a retry: counted once
            return existing
        if o.status != OrderStatus.DISPATCHED:
            _move(o, "receive")
        if good + bad > ln.picked:
            raise InvalidInput("over_picked", _("实收 %(good)s + 破损 %(bad)s 超过配送数量 %(n)s") % {
                "good": good, "bad": bad, "n": ln.picked}, field="received")
        now = timezone.now()
        left_good, left_bad = good, bad
        for pick in ln.picks.select_related("lot").order_by("lot__expires_on", "pk"):
            n = min(left_good, pick.quantity)
            if n and pick.lot.expires_on < day:
                raise InvalidInput("expired_lot", _("批号 %(lot)s 已过期（%(date)s），不能入库，请登记为破损退回") % {
                    "lot": pick.lot.number, "date": pick.lot.expires_on}, field="received")
            if n:
                ledger.post(facility=o.facility, lot=pick.lot, quantity=n, kind=MovementKind.TRANSFER_IN, at=now,
                            reason=_("配送中心配送签收"), source=f"order:{o.pk}", counterpart=o.center,
                            by=_user(actor))
            codes = list(pick.trace_codes or [])
            d = min(left_bad, pick.quantity - n)
            if codes:
                TraceCode.objects.filter(code__in=codes[:n], status=TraceStatus.IN_TRANSIT).update(
                    facility=o.facility, status=TraceStatus.IN_STOCK, updated_at=now)
                TraceCode.objects.filter(code__in=codes[n:], status=TraceStatus.IN_TRANSIT).update(
                    status=TraceStatus.WRITTEN_OFF, updated_at=now)
            left_good -= n
            left_bad -= d
        receipt = LineReceipt.objects.create(line=ln, received=good, damaged=bad, short=ln.picked - good - bad,
                                             wrong_lot=wrong_lot, note=note.strip()[:200], by=_user(actor), at=now)
        ln.received = good
        ln.save(update_fields=["received"])
        audit.record(actor, "receive", "village_order_line", ln.pk, order=o.pk, received=good, damaged=bad,
                     short=receipt.short, wrong_lot=wrong_lot)
        pending = o.lines.filter(receipt__isnull=True).exists()
        if not pending:
            # partly: anything approved that is not on the shelf (picked short, short, damaged) or of another lot
            missing = any(ln2.received is None or ln2.received < (ln2.approved or 0) for ln2 in o.lines.all()) \
                or LineReceipt.objects.filter(line__order=o).exclude(wrong_lot="").exists()
            o.status = _move(o, "receive_partly" if missing else "receive")
            o.received_at, o.received_by = now, _user(actor)
            o.save(update_fields=["status", "received_at", "received_by"])
            audit.record(actor, "receive", "village_order", o.pk, status=o.status)
    return receipt


def receive_order(actor: Actor, order: VillageOrder, lines: Mapping[Any, Mapping[str, Any]]) -> VillageOrder:
    """Confirm several lines at once (line id → {received, damaged, wrong_lot, note}); lines already confirmed
    are skipped, so the whole request may be resent."""
    by_pk = {ln.pk: ln for ln in order.lines.all()}
    errors: dict[str, list[str]] = {}
    for key in lines:
        if int(key) not in by_pk:
            errors[f"line_{key}"] = [_("该明细不属于本请领单")]
    collect(errors)
    for key, data in lines.items():
        receive_line(actor, by_pk[int(key)], received=data.get("received"), damaged=data.get("damaged", 0),
                     wrong_lot=str(data.get("wrong_lot") or ""), note=str(data.get("note") or ""))
    return VillageOrder.objects.get(pk=order.pk)


# ---- the shortage registry ---------------------------------------------------------------------------------

def register_shortage(actor: Actor, facility: Facility, data: Mapping[str, Any]) -> Shortage:
    """缺药登记 of ``facility``: an item of the catalogue or a drug by name, how much, optionally for a patient
    (a resident of the facility's area, by id)."""
    check(actor, "distribution.register_shortage", facility)
    if facility.community_id is None:
        raise InvalidInput("no_community", _("该机构不属于医共体"))
    from yigongti.core.scoping import facility_prefix
    from yigongti.residents.models import Resident

    errors: dict[str, list[str]] = {}
    item = None
    if data.get("item") not in (None, ""):
        try:
            item = Item.objects.filter(pk=int(data["item"]), community_id=facility.community_id).first()
        except (TypeError, ValueError):
            item = None
        if item is None:
            errors["item"] = [_("品种不存在")]
    name = str(data.get("drug_name") or (str(item) if item else "")).strip()[:100]
    if not name:
        errors["drug_name"] = [_("请填写药品名称或选择品种")]
    qty = _int(data.get("quantity") or 1, "quantity", errors)
    resident = None
    if data.get("resident") not in (None, ""):
        try:
            rid = int(data["resident"])
        except (TypeError, ValueError):
            rid = 0
        resident = Resident.objects.filter(pk=rid, merged_into__isnull=True,
                                           area_code__startswith=facility_prefix(facility)).first()
        if resident is None:
            errors["resident"] = [_("患者须是本机构服务范围内的居民")]
    collect(errors)
    now = timezone.now()
    with transaction.atomic():
        s = Shortage.objects.create(community_id=facility.community_id, facility=facility, item=item,
                                    drug_name=name, quantity=qty or 1, resident=resident,
                                    note=str(data.get("note") or "").strip()[:200], registered_by=_user(actor),
                                    registered_at=now, answer_hours=ANSWER_HOURS,
                                    due_at=now + dt.timedelta(hours=ANSWER_HOURS))
        audit.record(actor, "create", "shortage", s.pk, facility=facility.pk, drug=name,
                     resident=resident.pk if resident else None)
    return s


def answer_shortage(actor: Actor, shortage: Shortage, data: Mapping[str, Any]) -> Shortage:
    """The center's answer: transfer, procurement, a substitute item (named), or not available, with a text."""
    check(actor, "distribution.answer_shortage", shortage)
    errors: dict[str, list[str]] = {}
    kind = str(data.get("answer") or "")
    if kind not in ShortageAnswer.values:
        errors["answer"] = [_("请选择答复方式")]
    text = str(data.get("answer_text") or "").strip()[:200]
    substitute = None
    if kind == ShortageAnswer.SUBSTITUTE:
        try:
            substitute = Item.objects.filter(pk=int(data.get("substitute") or 0),
                                             community_id=shortage.community_id).first()
        except (TypeError, ValueError):
            substitute = None
        if substitute is None:
            errors["substitute"] = [_("请选择替代品种")]
    if not text and kind != ShortageAnswer.SUBSTITUTE:
        errors["answer_text"] = [_("请填写答复内容（如调拨来源、预计到货时间）")]
    collect(errors)
    with transaction.atomic():
        s = Shortage.objects.select_for_update().get(pk=shortage.pk)
        if s.status != ShortageStatus.OPEN:
            raise Conflict("already_answered", _("该缺药登记已于 %(when)s 答复") % {
                "when": timezone.localtime(s.answered_at).strftime("%Y-%m-%d %H:%M") if s.answered_at else ""})
        s.status, s.answer, s.answer_text, s.substitute = ShortageStatus.ANSWERED, kind, text, substitute
        s.answered_by, s.answered_at = _user(actor), timezone.now()
        s.save()
        audit.record(actor, "answer", "shortage", s.pk, answer=kind, hours=round(s.answer_hours_taken or 0, 1))
    return s
