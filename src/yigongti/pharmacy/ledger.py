"""The stock ledger's primitives: every change of a balance is one locked row update and one ``Movement``.

These are for the services of ``pharmacy`` and of the apps beside it (distribution, prescribing, the internet
hospital). They check no permission — the calling service has asked ``orgs.permissions`` already — and must
run inside the caller's transaction (``transaction.atomic``), which they require.

Concurrency: a balance row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's IMMEDIATE transactions
serialise writers) before it is read, and the database's ``quantity >= 0`` constraint is the last guard, so
two dispensers racing for the last box end with one movement and one ``OutOfStock``, never a negative balance.
Balances of several lots are locked in primary-key order, so two transfers cannot deadlock each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.errors import Conflict, InvalidInput

from .models import Lot, Movement, MovementKind, StockBalance

OUT_KINDS = {MovementKind.TRANSFER_OUT, MovementKind.DISPENSE, MovementKind.ISSUE, MovementKind.SUPPLIER_RETURN,
             MovementKind.EXPIRED}
IN_KINDS = {MovementKind.RECEIPT, MovementKind.TRANSFER_IN, MovementKind.RETURN}


class OutOfStock(Conflict):
    def __init__(self, message: str):
        super().__init__("out_of_stock", message)


@dataclass(frozen=True)
class Taken:
    """What a first-expiry-first-out take drew from one lot."""

    lot: Lot
    quantity: int
    movement: Movement


def _require_atomic() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("pharmacy.ledger must run inside the calling service's transaction")


def _locked_balance(facility, lot: Lot) -> StockBalance:
    balance, _created = StockBalance.objects.select_for_update().get_or_create(
        facility=facility, lot=lot, defaults={"item_id": lot.item_id, "expires_on": lot.expires_on})
    return balance


def post(*, facility, lot: Lot, quantity: int, kind: str, at: dt.datetime | None = None, reason: str = "",
         source: str = "", counterpart=None, by=None) -> Movement:
    """Change the balance of ``lot`` at ``facility`` by ``quantity`` (signed) and write the ledger line."""
    _require_atomic()
    if quantity == 0:
        raise InvalidInput("zero_quantity", _("数量不能为 0"), field="quantity")
    if (kind in OUT_KINDS and quantity > 0) or (kind in IN_KINDS and quantity < 0):
        raise InvalidInput("wrong_sign", _("出入库方向与数量不符"), field="quantity")
    balance = _locked_balance(facility, lot)
    after = balance.quantity + quantity
    if after < 0:
        raise OutOfStock(_("%(item)s 批号 %(lot)s 库存不足：现有 %(have)s，需要 %(need)s") % {
            "item": lot.item, "lot": lot.number, "have": balance.quantity, "need": -quantity})
    balance.quantity = after
    balance.save(update_fields=["quantity", "updated_at"])
    return Movement.objects.create(
        facility=facility, item_id=lot.item_id, lot=lot, kind=kind, quantity=quantity, balance_after=after,
        at=at or timezone.now(), reason=reason, source=source, counterpart=counterpart, by=by)


def on_hand(facility, item, *, usable_on: dt.date | None = None) -> int:
    """The quantity of ``item`` at ``facility`` in lots not expired on ``usable_on`` (today by default)."""
    day = usable_on or timezone.localdate()
    rows = StockBalance.objects.filter(facility=facility, item=item, quantity__gt=0, expires_on__gte=day)
    return sum(rows.values_list("quantity", flat=True))


def take_fefo(*, facility, item, quantity: int, kind: str, at: dt.datetime | None = None, reason: str = "",
              source: str = "", counterpart=None, by=None, usable_on: dt.date | None = None) -> list[Taken]:
    """Take ``quantity`` (> 0) of ``item`` from ``facility``, first-expiry-first-out over unexpired lots."""
    _require_atomic()
    if quantity <= 0:
        raise InvalidInput("bad_quantity", _("数量必须大于 0"), field="quantity")
    day = usable_on or timezone.localdate()
    balances = list(StockBalance.objects.select_for_update().select_related("lot", "lot__item")
                    .filter(facility=facility, item=item, quantity__gt=0, expires_on__gte=day)
                    .order_by("pk"))
    have = sum(b.quantity for b in balances)
    if have < quantity:
        raise OutOfStock(_("%(item)s 库存不足：可用 %(have)s，需要 %(need)s") % {
            "item": item, "have": have, "need": quantity})
    taken: list[Taken] = []
    left = quantity
    for balance in sorted(balances, key=lambda b: (b.expires_on, b.pk)):
        if left == 0:
            break
        n = min(left, balance.quantity)
        movement = post(facility=facility, lot=balance.lot, quantity=-n, kind=kind, at=at, reason=reason,
                        source=source, counterpart=counterpart, by=by)
        taken.append(Taken(balance.lot, n, movement))
        left -= n
    return taken


def transfer(*, from_facility, to_facility, lots: Iterable[tuple[Lot, int]], at: dt.datetime | None = None,
             reason: str = "", source: str = "", by=None) -> list[tuple[Movement, Movement]]:
    """Move quantities of given lots from one facility to another: an out line and an in line per lot."""
    _require_atomic()
    pairs = []
    for lot, n in sorted(lots, key=lambda pair: pair[0].pk):
        out = post(facility=from_facility, lot=lot, quantity=-n, kind=MovementKind.TRANSFER_OUT, at=at,
                   reason=reason, source=source, counterpart=to_facility, by=by)
        into = post(facility=to_facility, lot=lot, quantity=n, kind=MovementKind.TRANSFER_IN, at=at,
                    reason=reason, source=source, counterpart=from_facility, by=by)
        pairs.append((out, into))
    return pairs


def count(*, facility, lot: Lot, counted: int, at: dt.datetime | None = None, reason: str = "", source: str = "",
          by=None) -> Movement | None:
    """A stocktake line: the difference between ``counted`` and the balance becomes an adjustment (or nothing)."""
    _require_atomic()
    if counted < 0:
        raise InvalidInput("bad_count", _("盘点数量不能为负数"), field="counted")
    balance = _locked_balance(facility, lot)
    diff = counted - balance.quantity
    if diff == 0:
        return None
    return post(facility=facility, lot=lot, quantity=diff, kind=MovementKind.ADJUST, at=at,
                reason=reason or _("盘点差异"), source=source, by=by)
