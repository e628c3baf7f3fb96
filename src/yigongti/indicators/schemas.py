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
    definition: str
    source: str
    alias_of: str | None


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
    note: str


class FiguresOut(Schema):
    area: str
    area_name: str
    period: str
    period_label: str
    figures: list[FigureOut]


class RankingRow(Schema):
    rank: int | None
    key: str
    name: str
    value: Decimal | None
    numerator: Decimal | None
    denominator: Decimal | None
    status: str
