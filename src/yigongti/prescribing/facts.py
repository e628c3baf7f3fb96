"""Plain facts of a prescription for the engine (``engine.RxFacts``), from the rows or from a form's values."""

from __future__ import annotations

import datetime as dt

from . import engine


def age_in_months(birth: dt.date, on: dt.date) -> int:
    months = (on.year - birth.year) * 12 + on.month - birth.month
    if on.day < birth.day:
        months -= 1
    return max(months, 0)


def line_facts(seq: int, item, *, dose, unit: str, frequency: str, route: str, days: int) -> engine.LineFacts:
    return engine.LineFacts(seq=seq, item_id=item.pk, generic=item.generic_name, atc=item.atc,
                            antibiotic=item.antibiotic or "", strength=item.strength, min_unit=item.min_unit,
                            dose=float(dose), unit=unit, frequency=frequency, route=route, days=int(days))


def rx_facts(p, lines, care_level: str) -> engine.RxFacts:
    """Facts of a Prescription and its lines (PrescriptionLine rows with their items loaded)."""
    return engine.RxFacts(
        kind=p.kind, age_months=p.age_months, weight_kg=float(p.weight_kg) if p.weight_kg is not None else None,
        sex=p.sex, pregnant=p.pregnant, diagnoses=tuple(p.diagnoses), conditions=tuple(p.conditions),
        days_reason=p.days_reason, care_level=care_level,
        lines=tuple(line_facts(x.seq, x.item, dose=x.dose, unit=x.unit, frequency=x.frequency, route=x.route,
                               days=x.days) for x in lines))
