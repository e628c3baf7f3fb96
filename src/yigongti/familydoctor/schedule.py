"""The contract year's plan of a package's services (pure: no database).

``plan_services`` spreads each service's ``times_per_year`` evenly over the contract term: the term
``start..end`` (inclusive) is cut into ``n`` consecutive windows of (nearly) equal length and the ``seq``-th
delivery is due within the ``seq``-th window. A service with ``tags`` applies only to residents carrying at least
one of them (``[]``: every signed member of the package). A term shorter than a year (a contract ended early, a
partial first year) is cut the same way, so the plan always fits inside the contract."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Planned:
    service: Any  # a PackageService (or anything with ``times_per_year`` and ``tags``)
    seq: int  # 1-based
    due_from: dt.date
    due_by: dt.date


def applies(service_tags: Iterable[str] | None, tags: set[str]) -> bool:
    """Whether a service restricted to ``service_tags`` applies to a resident with ``tags``."""
    wanted = set(service_tags or [])
    return not wanted or bool(wanted & set(tags))


def windows(start: dt.date, end: dt.date, times: int) -> list[tuple[dt.date, dt.date]]:
    """``times`` consecutive, non-overlapping windows covering ``start..end`` inclusive (each at least a day;
    when the term is shorter than ``times`` days the extra visits share the last day)."""
    if end < start:
        raise ValueError("end before start")
    if times <= 0:
        return []
    days = (end - start).days + 1
    out = []
    for i in range(times):
        lo = min(days - 1, (i * days) // times)
        hi = max(lo, min(days - 1, ((i + 1) * days) // times - 1))
        out.append((start + dt.timedelta(days=lo), start + dt.timedelta(days=hi)))
    return out


def plan_services(services: Iterable[Any], tags: set[str], start: dt.date, end: dt.date) -> list[Planned]:
    """The planned deliveries of ``services`` for a resident with ``tags`` over ``start..end``, by due date."""
    plan: list[Planned] = []
    for service in services:
        if not applies(getattr(service, "tags", None), tags):
            continue
        for seq, (lo, hi) in enumerate(windows(start, end, int(service.times_per_year or 0)), start=1):
            plan.append(Planned(service, seq, lo, hi))
    plan.sort(key=lambda p: (p.due_by, getattr(p.service, "code", ""), p.seq))
    return plan
