"""/api/v1/familydoctor/coverage: key-population contract coverage by township, village or team, and the
unsigned of a key population in a village or team (masked)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Query, Router, Schema

from yigongti.core.actor import Actor

from ..queries import coverage as q

router = Router(tags=["签约覆盖"])


class CoverageQuery(Schema):
    township: str = Field("", max_length=12, description="乡镇（12位区划代码）：按村列出")
    village: str = Field("", max_length=12, description="村（12位区划代码）")
    team: int | None = Field(None, description="团队ID：其责任村")
    by: str = Field("", max_length=8, description="team = 每个团队一行（可与 township 同用）")


class CellOut(Schema):
    population: int
    signed: int
    unsigned: int
    rate: Decimal | None


class RowOut(Schema):
    code: str
    name: str
    cells: dict[str, CellOut]


class CoverageOut(Schema):
    level: str
    goal: Decimal
    rows: list[RowOut]
    total: RowOut


class UnsignedQuery(Schema):
    tag: str = Field("all", max_length=10, description="重点人群标签（all = 全人群）")
    village: str = Field("", max_length=12)
    team: int | None = None


class UnsignedOut(Schema):
    pk: int
    name: str
    sex: str
    age: int
    id_number: str
    village: str
    tags: list[str]
    last_contract_end: dt.date | None


def _row(r: q.Row) -> dict:
    return {"code": r.code, "name": r.name, "cells": {k: {"population": c.population, "signed": c.signed,
                                                          "unsigned": c.unsigned, "rate": c.rate}
                                                      for k, c in r.cells.items()}}


@router.get("", response=CoverageOut)
def get_coverage(request, params: Query[CoverageQuery]):
    cov = q.coverage(Actor.from_request(request), township=params.township, village=params.village, team=params.team,
                     by_team=params.by == "team")
    return {"level": cov.level, "goal": q.GOAL, "rows": [_row(r) for r in cov.rows], "total": _row(cov.total)}


@router.get("/unsigned", response=list[UnsignedOut])
def get_unsigned(request, params: Query[UnsignedQuery]):
    return q.unsigned(Actor.from_request(request), tag=params.tag, village=params.village, team=params.team)
