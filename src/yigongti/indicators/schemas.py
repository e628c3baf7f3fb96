from __future__ import annotations

from decimal import Decimal

from ninja import Schema


class IndicatorDef(Schema):
    code: str
    name: str
    name_en: str
    dimension: str
    kind: str
    unit: str
    direction: str
    target: Decimal | None
    target_high: Decimal | None  # upper bound of a two-sided band (BED_OCC)
    target_origin: str  # the document the target comes from, or 本地默认值 (a local default)
    definition: str
    definition_en: str  # the definition in English
    unit_en: str  # the unit in English, e.g. "discharges" (empty: the translation of ``unit``)
    source: str
    alias_of: str | None
    refine: str  # what later issues will refine


class AliasOut(Schema):
    code: str
    name: str
    value: Decimal | None


class FigureOut(Schema):
    code: str
    name: str
    unit: str
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    target: Decimal | None
    status: str
    trend: list[tuple[str, Decimal | None]]
    note: str  # a partial period, why a growth figure is missing, a missing input column …
    aliases: list[AliasOut] = []


class FiguresOut(Schema):
    area: str
    area_name: str
    period: str
    period_label: str
    coverage: str  # '' when the data covers the whole period, else the months it covers
    figures: list[FigureOut]


class RankingRow(Schema):
    rank: int | None
    key: str
    name: str
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    status: str
