"""Suggested order quantities (建议请领量), a pure function over plain numbers — tested without the database.

For each item of the village catalogue the clinic needs, for the next ``cover_days`` (a month by default):
the larger of what it used (its DISPENSE/ISSUE movements of the last months, as a daily rate) and what its chronic
patients' regular medicines need (units per day × days ÷ pack size, boxes rounded up), brought up to the item's
maximum when one is set: suggested = min(need, maximum) − on hand, never below zero; with a minimum and no
consumption, at least what lifts the stock to the minimum."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Need:
    item_id: int
    on_hand: int = 0  # boxes (package units), unexpired
    used: int = 0  # boxes dispensed or issued in the look-back window
    used_days: int = 90  # the window's length
    chronic_units_per_day: Decimal = Decimal(0)  # minimum units a day over the clinic's chronic patients
    pack_size: int = 1
    minimum: int = 0
    maximum: int | None = None


def chronic_boxes(units_per_day: Decimal, pack_size: int, days: int) -> int:
    """Boxes the regular medicines need for ``days`` (units_per_day × days ÷ pack_size, rounded up)."""
    if units_per_day <= 0:
        return 0
    return math.ceil(Decimal(units_per_day) * days / max(pack_size, 1))


def suggested(need: Need, cover_days: int = 30) -> int:
    """The boxes to order so that the clinic holds what it needs for ``cover_days``, within its maximum."""
    consumption = math.ceil(need.used * cover_days / max(need.used_days, 1)) if need.used > 0 else 0
    target = max(consumption, chronic_boxes(need.chronic_units_per_day, need.pack_size, cover_days), need.minimum)
    if need.maximum is not None:
        target = min(target, need.maximum)
    return max(target - max(need.on_hand, 0), 0)


def suggest_all(needs: list[Need], cover_days: int = 30) -> dict[int, int]:
    return {n.item_id: suggested(n, cover_days) for n in needs}
