"""CMI and the efficiency indices of DRG evaluation, per facility and per department, and the share of 基层病组
cases treated at grassroots.

For a unit (a facility, or a department of one), over its grouped cases whose DRG has a weight:

* CMI (病例组合指数) = Σ weights ÷ cases;
* cost efficiency index (费用消耗指数) = Σ actual total cost ÷ Σ expected cost, the expected cost of a case being
  its DRG's mean cost (``DrgWeight.avg_cost``); below 1 the unit treats the same case mix for less;
* time efficiency index (时间消耗指数) = Σ length of stay ÷ Σ its DRGs' mean stays (``avg_los``).

基层病组 share = cases of 基层病组 treated at township or village level ÷ all cases of 基层病组.
The functions here are pure; ``efficiency_of`` reads the year through ``queries.payment``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from yigongti.core.actor import Actor
from yigongti.core.carelevel import GRASSROOTS_LEVELS

from .models import DrgWeight
from .queries import payment as reads


@dataclass(frozen=True)
class UnitIndex:
    key: Hashable
    cases: int  # discharges of the unit in the year
    rated: int  # of which grouped, with a weight
    cmi: float | None
    cost_index: float | None
    time_index: float | None
    total_cost: float
    expected_cost: float


def indices(cases: Iterable[tuple[Hashable, float | None, float, float, float, float]]) -> list[UnitIndex]:
    """Pure: ``cases`` are (unit, weight or None, cost, los, DRG mean cost, DRG mean los)."""
    acc: dict[Hashable, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0, 0.0, 0.0, 0.0])
    for key, weight, cost, los, avg_cost, avg_los in cases:
        a = acc[key]
        a[0] += 1
        if weight is None:
            continue
        a[1] += 1
        a[2] += weight
        a[3] += cost
        a[4] += avg_cost
        a[5] += los
        a[6] += avg_los
    out = []
    for key, (n, rated, w, cost, exp_cost, los, exp_los) in acc.items():
        out.append(UnitIndex(key, int(n), int(rated), round(w / rated, 4) if rated else None,
                             round(cost / exp_cost, 4) if exp_cost else None,
                             round(los / exp_los, 4) if exp_los else None, round(cost, 2), round(exp_cost, 2)))
    return out


def grassroots_share(cases: Iterable[tuple[bool, str]]) -> tuple[int, int, float | None]:
    """Pure: ``cases`` are (is a 基层病组, care level); returns (treated at grassroots, all, share)."""
    at, total = 0, 0
    for flagged, level in cases:
        if flagged:
            total += 1
            at += level in GRASSROOTS_LEVELS
    return at, total, (round(at / total, 4) if total else None)


def efficiency_of(actor: Actor, year: int, version: str | None = None) -> dict:
    """The year's indices per member facility and per department, and the 基层病组 share (scoped reads)."""
    version = version or reads.payment_version()
    facilities = reads.member_facilities(actor)
    cases = reads.load_year(year, version, facilities=facilities)
    weights = {w.drg: (float(w.weight), float(w.avg_cost), float(w.avg_los), w.grassroots)
               for w in DrgWeight.objects.filter(year=year, version=version)}
    names = {f.pk: (f.short_name or f.name, f.care_level.value) for f in facilities}
    by_facility, by_dept, flagged = [], [], []
    for i in range(len(cases)):
        w = weights.get(cases.drg[i]) if cases.grouped[i] else None
        row = (w[0] if w else None, float(cases.cost[i]), float(cases.los[i]), w[1] if w else 0.0,
               w[2] if w else 0.0)
        by_facility.append((cases.facility[i], *row))
        by_dept.append(((cases.facility[i], cases.department[i] or "—"), *row))
        flagged.append((bool(w and w[3]), cases.level[i]))
    fac = sorted(indices(by_facility), key=lambda u: -u.cases)
    dep = sorted(indices(by_dept), key=lambda u: (names.get(u.key[0], ("", ""))[0], -u.cases))  # type: ignore[index]
    at, total, share = grassroots_share(flagged)
    unknown = ("?", "")
    return {
        "year": year, "version": version, "cases": len(cases),
        "facilities": [{"facility": u.key, "name": names.get(u.key, unknown)[0],  # type: ignore[call-overload]
                        "level": names.get(u.key, unknown)[1], **_row(u)} for u in fac],  # type: ignore[call-overload]
        "departments": [{"facility": u.key[0], "name": names.get(u.key[0], unknown)[0],  # type: ignore[index]
                         "department": u.key[1], **_row(u)} for u in dep],  # type: ignore[index]
        "grassroots": {"at_grassroots": at, "cases": total, "share": share},
    }


def _row(u: UnitIndex) -> dict:
    return {"cases": u.cases, "rated": u.rated, "cmi": u.cmi, "cost_index": u.cost_index,
            "time_index": u.time_index, "total_cost": u.total_cost, "expected_cost": u.expected_cost}

