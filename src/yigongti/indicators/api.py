from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router

from . import queries
from .definitions import INDICATORS
from .periods import parse_period
from .schemas import FiguresOut, IndicatorDef, RankingRow
from .templatetags.indicator_tags import ind_name, ind_unit, note_text

router = Router(tags=["监测指标"])


@router.get("/definitions", response=list[IndicatorDef])
def definitions(request):
    """Every indicator as declared: numerator, denominator, unit, direction, target and source."""
    return list(INDICATORS.values())


@router.get("/figures", response=FiguresOut)
def figures(request, period: str = "", area: str = ""):
    """All indicators of an area (``county:431127000000``, ``township:…``, ``facility:CODE`` …) for a
    period (``2026-10``, ``2026-Q3``, ``2026``, ``2026-10-ytd``); value null when the denominator is zero."""
    a = queries.resolve_area(request.user, area or None)
    p = parse_period(period) if period else queries.default_period()
    cards = queries.figures(a, p)
    return {"area": a.key, "area_name": a.name, "period": p.key, "period_label": p.label,
            "coverage": queries.period_coverage(p),
            "figures": [{"code": c.indicator.code, "name": ind_name(c.indicator), "unit": ind_unit(c.indicator),
                         "value": c.value.value, "numerator": c.value.numerator, "denominator": c.value.denominator,
                         "target": c.indicator.target, "status": c.status, "trend": c.trend, "note": note_text(c.note),
                         "aliases": [{"code": x.indicator.code, "name": ind_name(x.indicator), "value": x.value}
                                     for x in c.aliases]}
                        for c in cards]}


@router.get("/ranking/{code}", response=list[RankingRow])
def ranking(request, code: str, period: str = "", area: str = "", by: str = "child"):
    """Townships (or facilities with ``by=facility``) ranked by one indicator (月考核)."""
    a = queries.resolve_area(request.user, area or None)
    p = parse_period(period) if period else queries.default_period()
    if code not in INDICATORS:
        from yigongti.core.errors import NotFound

        raise NotFound(_("指标不存在"), code="unknown_indicator")
    return queries.ranking(a, p, code, by="facility" if by == "facility" else "child")
