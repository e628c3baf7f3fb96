"""Which diagnoses a resident may have followed up online (pure functions over plain rows).

《互联网诊疗监管细则（试行）》 allows internet diagnosis and treatment only as follow-up care (复诊) of a common or
chronic disease already diagnosed at an offline visit to a physical facility: the resident must hold a diagnosis
from an encounter of their own, here within ``WINDOW_DAYS`` (twelve months). A first visit (no such diagnosis) is
refused with the reason; each eligible diagnosis is offered once, from its latest visit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

WINDOW_DAYS = 365
NO_DIAGNOSIS = _("根据《互联网诊疗监管细则（试行）》，线上仅提供复诊服务：您在近 12 个月内没有线下就诊的诊断记录，"
                 "请先到医疗机构线下就诊")
NOT_ELIGIBLE = _("该诊断不在您近 12 个月线下就诊的诊断记录中，线上只能对已确诊的疾病复诊")


@dataclass(frozen=True)
class Row:
    """One diagnosis of one offline visit."""

    encounter_id: int
    visit_date: dt.date
    facility_id: int
    facility_name: str
    icd10: str
    name: str


@dataclass(frozen=True)
class Eligible:
    icd10: str
    name: str
    encounter_id: int
    visit_date: dt.date
    facility_id: int
    facility_name: str


def eligible(rows: Iterable[Row], today: dt.date, window_days: int = WINDOW_DAYS) -> list[Eligible]:
    """The distinct diagnoses (by ICD-10 code) of visits within the window, each from its latest visit, latest
    first."""
    since = today - dt.timedelta(days=window_days)
    best: dict[str, Row] = {}
    for r in rows:
        code = (r.icd10 or "").strip().upper()
        if not code or r.visit_date < since or r.visit_date > today:
            continue
        kept = best.get(code)
        if kept is None or (r.visit_date, r.encounter_id) > (kept.visit_date, kept.encounter_id):
            best[code] = r
    out = [Eligible(code, r.name, r.encounter_id, r.visit_date, r.facility_id, r.facility_name)
           for code, r in best.items()]
    return sorted(out, key=lambda e: (e.visit_date, e.encounter_id), reverse=True)


def find(options: list[Eligible], encounter_id: int, icd10: str) -> Eligible | None:
    code = (icd10 or "").strip().upper()
    return next((e for e in options if e.encounter_id == encounter_id and e.icd10 == code), None)
