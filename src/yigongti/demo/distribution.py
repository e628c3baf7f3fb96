"""The demo's deliveries (线上下单、线下配送): a year of monthly orders from every village clinic, received, moved in
bulk from the distribution center's lots into the villages (``TRANSFER_OUT`` / ``TRANSFER_IN`` with running
balances per lot, and the boxes' 追溯码 moved with them), so that every village clinic holds ≥ 50 kinds — a few
hold fewer, the goal's exceptions; then a handful of open orders in every state through the services, the day's
routes when the county's roads exist, and a few shortages (answered in time, late, open, overdue).

Deliveries draw first-expiry-first-out from the lots the center had received by the delivery day (``demo/
pharmacy.py`` bought the villages' share), so no balance goes below zero and every ledger line's ``balance_after``
is the running balance of its lot at its facility."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import defaultdict

from django.db import connection
from django.utils import timezone

from yigongti.core.actor import Actor
from yigongti.core.carelevel import CareLevel
from yigongti.core.errors import DomainError
from yigongti.distribution.models import (
    LineReceipt,
    OrderLine,
    OrderStatus,
    Pick,
    Shortage,
    ShortageAnswer,
    ShortageStatus,
    VillageOrder,
)
from yigongti.orgs.models import Facility, Role, User
from yigongti.pharmacy.models import DistributionCenter, Item, Movement, StockBalance, TraceCode

from .bulk import analyze, reset_sequences
from .context import DemoContext
from .familydoctor import fast_load, load, next_id

FEW_BELOW = 0.04  # village clinics below the ≥ 50 kinds goal
VILLAGE_SHARE = 0.7  # of the center's stock of village items, what goes to the villages
SYSTEM = Actor.system("demo")


def _month_starts(today: dt.date, n: int) -> list[dt.date]:
    out, m = [], today.replace(day=1)
    for _ in range(n):
        out.append(m)
        m = (m - dt.timedelta(days=1)).replace(day=1)
    return sorted(out)


def build_distribution(ctx: DemoContext) -> None:
    t0 = time.perf_counter()
    rng = ctx.pyrandom("distribution")
    community = ctx.community
    dc = DistributionCenter.objects.filter(community=community).select_related("facility").first()
    if dc is None:
        return
    center = dc.facility
    tz = timezone.get_current_timezone()
    villages = [f for f in Facility.objects.filter(community=community, is_active=True).order_by("code")
                if f.care_level == CareLevel.VILLAGE]
    items = list(Item.objects.filter(community=community, is_active=True, min_level=CareLevel.VILLAGE)
                 .order_by("pk"))
    if not villages or not items:
        return
    doctors = dict(User.objects.filter(role=Role.VILLAGE_DOCTOR, facility__in=villages)
                   .values_list("facility_id", "pk"))
    pharmacist = User.objects.filter(username="pharmacist").values_list("pk", flat=True).first()
    item_ids = {it.pk for it in items}
    # the center's lots of village items: quantity now, expiry, when they arrived
    lots: dict[int, list] = {}
    for lot_id, item_id, qty, exp in StockBalance.objects.filter(facility=center, item_id__in=item_ids) \
            .values_list("lot_id", "item_id", "quantity", "expires_on"):
        lots[lot_id] = [item_id, qty, exp, None]
    for lot_id, at in Movement.objects.filter(facility=center, kind="receipt", lot_id__in=list(lots)) \
            .values_list("lot_id", "at"):
        lots[lot_id][3] = at if lots[lot_id][3] is None else min(at, lots[lot_id][3])
    by_item: dict[int, list[int]] = defaultdict(list)
    for lot_id, (item_id, _q, _exp, _at) in sorted(lots.items(), key=lambda kv: (kv[1][2], kv[0])):
        by_item[item_id].append(lot_id)

    # which kinds each clinic keeps: all of the village catalogue but a few, a few clinics well below 50
    kinds: dict[int, list[int]] = {}
    for v in villages:
        n = rng.randint(36, 47) if rng.random() < FEW_BELOW else min(len(items), rng.randint(52, len(items) + 4))
        kinds[v.pk] = sorted(rng.sample([it.pk for it in items], min(n, len(items))))

    order_id, line_id, pick_id, rec_id, move_id, bal_id = (
        next_id(VillageOrder), next_id(OrderLine), next_id(Pick), next_id(LineReceipt), next_id(Movement),
        next_id(StockBalance))
    orders, olines, picks, receipts, moves = [], [], [], [], []
    village_bal: dict[tuple[int, int], list] = {}  # (facility, lot) -> [item, quantity, expires]
    moved: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # lot -> [(n, village, order)] in order
    today = ctx.today
    for mi, month in enumerate(_month_starts(today, 12)):
        day = month + dt.timedelta(days=9)
        if day >= today:
            continue
        out_at = dt.datetime.combine(day, dt.time(8, 30), tz)

        def usable(lot_id: int, day=day, out_at=out_at) -> bool:
            lot = lots[lot_id]
            return lot[1] > 0 and lot[3] is not None and lot[3] < out_at and lot[2] > day

        # the villages' share of what the center holds this month, spread over them (at least a box each while
        # it lasts; the clinics first in line change every month), the rest kept for the county's own use
        avail = {i: sum(lots[lot][1] for lot in by_item[i] if usable(lot)) for i in item_ids}
        keep = {i: int(a * (1 - VILLAGE_SHARE)) for i, a in avail.items()}
        cap = {i: max(1, int(a * VILLAGE_SHARE / len(villages))) for i, a in avail.items()}
        k = (mi * 53) % len(villages)
        for v in villages[k:] + villages[:k]:
            received_at = out_at + dt.timedelta(hours=rng.randint(3, 30))
            submitted = out_at - dt.timedelta(days=3, hours=rng.randint(0, 20))
            oid = order_id
            lines_here = 0
            for item_id in kinds[v.pk]:
                want = rng.randint(1, 6)
                left = min(want, cap[item_id], avail[item_id] - keep[item_id])
                taken = []
                for lot_id in by_item[item_id]:
                    if left <= 0:
                        break
                    if not usable(lot_id):
                        continue
                    n = min(left, lots[lot_id][1])
                    lots[lot_id][1] -= n
                    avail[item_id] -= n
                    left -= n
                    taken.append((lot_id, n))
                if not taken:
                    continue
                left = want - sum(n for _lot, n in taken)
                got = want - left
                olines.append((line_id, oid, item_id, want, want, got, got, got))  # the center cut to what it had
                receipts.append((rec_id, line_id, got, 0, 0, "", "", doctors.get(v.pk), received_at))
                rec_id += 1
                for lot_id, n in taken:
                    picks.append((pick_id, line_id, lot_id, n, "[]"))
                    pick_id += 1
                    moves.append((move_id, center.pk, item_id, lot_id, "transfer_out", -n, lots[lot_id][1], out_at,
                                  "村卫生室请领配送", f"order:{oid}", v.pk, pharmacist))
                    move_id += 1
                    vb = village_bal.setdefault((v.pk, lot_id), [item_id, 0, lots[lot_id][2]])
                    vb[1] += n
                    moves.append((move_id, v.pk, item_id, lot_id, "transfer_in", n, vb[1], received_at,
                                  "配送中心配送签收", f"order:{oid}", center.pk, doctors.get(v.pk)))
                    move_id += 1
                    moved[lot_id].append((n, v.pk, oid))
                line_id += 1
                lines_here += 1
            if lines_here:
                orders.append((oid, community.pk, v.pk, center.pk, OrderStatus.RECEIVED, "", "", doctors.get(v.pk),
                               submitted, submitted, submitted + dt.timedelta(hours=20), pharmacist,
                               out_at - dt.timedelta(hours=16), pharmacist, out_at, received_at, doctors.get(v.pk)))
                order_id += 1

    # the moved boxes' 追溯码 (the center's codes of each lot, in id order) follow them to the village
    codes_by_lot: dict[int, list[tuple]] = defaultdict(list)
    for row in TraceCode.objects.filter(facility=center, status="in_stock", lot_id__in=list(moved)).order_by("id") \
            .values_list("id", "code", "lot_id", "status", "source", "updated_at").iterator(chunk_size=20000):
        codes_by_lot[row[2]].append(row)
    now = timezone.now()
    new_codes, gone = [], []
    for lot_id, steps in moved.items():
        pool = codes_by_lot.get(lot_id, [])
        k = 0
        for n, village, oid in steps:
            for row in pool[k:k + n]:
                gone.append(row[0])
                new_codes.append((row[0], row[1], lot_id, village, "in_stock", f"order:{oid}", now))
            k += n

    with fast_load():
        load(VillageOrder, ["id", "community", "facility", "center", "status", "note", "reason", "created_by",
                            "created_at", "submitted_at", "approved_at", "approved_by", "picked_at", "picked_by",
                            "dispatched_at", "received_at", "received_by"], orders)
        load(OrderLine, ["id", "order", "item", "suggested", "requested", "approved", "picked", "received"], olines)
        load(Pick, ["id", "line", "lot", "quantity", "trace_codes"], picks)
        load(LineReceipt, ["id", "line", "received", "short", "damaged", "wrong_lot", "note", "by", "at"], receipts)
        load(Movement, ["id", "facility", "item", "lot", "kind", "quantity", "balance_after", "at", "reason",
                        "source", "counterpart", "by"], moves)
        load(StockBalance, ["id", "facility", "item", "lot", "expires_on", "quantity", "updated_at"],
             [(bal_id + i, f, item, lot, exp, q, now) for i, ((f, lot), (item, q, exp)) in
              enumerate(village_bal.items())])
        with connection.cursor() as cur:
            cur.executemany(f'UPDATE "{StockBalance._meta.db_table}" SET quantity = %s WHERE facility_id = %s '
                            "AND lot_id = %s", [(lot[1], center.pk, lot_id) for lot_id, lot in lots.items()
                                                if lot_id in moved])
        for i in range(0, len(gone), 5000):
            TraceCode.objects.filter(pk__in=gone[i:i + 5000]).delete()
        load(TraceCode, ["id", "code", "lot", "facility", "status", "source", "updated_at"], new_codes)
        reset_sequences(VillageOrder, OrderLine, Pick, LineReceipt, Movement, StockBalance, TraceCode)
    analyze(VillageOrder, OrderLine, Movement, StockBalance, TraceCode)
    live = _open_orders(ctx, villages, items, center)
    short = _shortages(ctx, community, villages, items, pharmacist, doctors)
    ctx.extra["distribution"] = {"orders": len(orders) + live, "lines": len(olines), "movements": len(moves),
                                 "trace_codes_moved": len(new_codes), "shortages": short,
                                 "seconds": round(time.perf_counter() - t0, 1)}


def _open_orders(ctx: DemoContext, villages, items, center) -> int:
    """A handful of live orders through the services: submitted, approved, picked (routed), dispatched, partly
    received, a draft, a rejected one."""
    from yigongti.distribution import services

    rng = ctx.pyrandom("distribution-open")
    demo_clinic = User.objects.filter(username="village_doctor").values_list("facility_id", flat=True).first()
    chosen = [v for v in villages if v.pk != demo_clinic]
    rng.shuffle(chosen)
    plan = ["submitted", "submitted", "approved", "picked", "picked", "picked", "dispatched", "partly", "draft",
            "rejected"]
    n = 0
    for v, state in zip(chosen, plan, strict=False):
        lines = {it.pk: rng.randint(2, 8) for it in rng.sample(items, min(6, len(items)))}
        try:
            o = services.create_order(SYSTEM, v, lines, submit=state != "draft")
            n += 1
            if state == "rejected":
                services.reject_order(SYSTEM, o, "本月已足额配送，下月再请领")
                continue
            if state in ("draft", "submitted"):
                continue
            services.approve_order(SYSTEM, o)
            if state == "approved":
                continue
            services.pick_order(SYSTEM, o)
            if state == "picked":
                continue
            services.dispatch_order(SYSTEM, o)
            if state == "partly":
                first, *rest = list(o.lines.order_by("pk"))
                services.receive_line(SYSTEM, first, received=max(first.picked - 1, 0), damaged=min(first.picked, 1),
                                      note="运输途中破损")
                for ln in rest:
                    services.receive_line(SYSTEM, ln, received=ln.picked)
        except DomainError:
            continue
    with contextlib.suppress(DomainError):  # no roads in the county yet: no routes
        services.plan_routes(SYSTEM, center, timezone.localdate(), max_stops=12, time_limit_s=2)
    return n


def _shortages(ctx: DemoContext, community, villages, items, pharmacist, doctors) -> int:
    rng = ctx.pyrandom("distribution-shortages")
    now = ctx.now or timezone.now()
    rows = []
    names = ["硝苯地平控释片", "阿托伐他汀钙片", "格列美脲片", "胰岛素注射液", "布地奈德吸入剂",
             "沙美特罗替卡松粉吸入剂", "复方丹参滴丸", "左氧氟沙星片", "蒙脱石散", "碘伏消毒液",
             "一次性输液器", "速效救心丸"]
    kinds = ["answered", "answered", "answered", "answered", "late", "late", "open", "open", "overdue", "overdue",
             "answered", "answered"]
    sid = next_id(Shortage)
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        v = villages[rng.randrange(len(villages))]
        if kind == "open":
            at = now - dt.timedelta(hours=rng.randint(2, 30))
        else:
            at = now - dt.timedelta(days=rng.randint(3, 60), hours=rng.randint(0, 12))
        due = at + dt.timedelta(hours=48)
        answered = None
        if kind == "answered":
            answered = at + dt.timedelta(hours=rng.randint(2, 40))
        elif kind == "late":
            answered = at + dt.timedelta(hours=rng.randint(55, 100))
        answer = "" if answered is None else rng.choice(ShortageAnswer.values[:3])
        text = {"transfer": "从邻近乡镇卫生院调拨，次日送达", "procurement": "已纳入本周集中采购，预计3天到货",
                "substitute": "建议使用同类替代品种"}.get(answer, "")
        sub = items[(i * 7) % len(items)].pk if answer == "substitute" else None
        rows.append(Shortage(pk=sid + i, community=community, facility=v, drug_name=name,
                             quantity=rng.randint(1, 10), registered_by_id=doctors.get(v.pk), registered_at=at,
                             answer_hours=48, due_at=due,
                             status=ShortageStatus.OPEN if answered is None else ShortageStatus.ANSWERED,
                             answer=answer, answer_text=text, substitute_id=sub,
                             answered_by_id=pharmacist if answered else None, answered_at=answered))
    Shortage.objects.bulk_create(rows)
    reset_sequences(Shortage)
    return len(rows)
