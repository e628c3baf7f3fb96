"""Indicators other apps contribute (the insurance fund's budget execution, CMI …): declared with the same
``Indicator`` data as the built-in ones (kind ``registry``: computed from the app's own live tables, not from
the monthly facts), each with the function that computes its figure for an area and a period. They are shown
on the dashboard after the built-in ones, under their own dimension, and in the monthly report.

    from yigongti.indicators import registry
    registry.register(indicator, figure)          # in the app's AppConfig.ready

``figure(area, period) -> Value`` runs inside ``queries.figures`` and is cached with the cards (it may lag its
tables by up to ``queries.CACHE_SECONDS``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .definitions import INDICATORS, Indicator, Value

Figure = Callable[[Any, Any], Value]  # (queries.Area, periods.Period) -> Value

# the dimensions of contributed indicators, shown after the built-in ones (in the order registered)
DIMENSIONS: list[str] = []


def register(ind: Indicator, figure: Figure) -> None:
    """Add (or, under the same code, replace) an indicator computed by ``figure``."""
    from . import queries

    if ind.kind != "registry":
        raise ValueError(f"{ind.code}: contributed indicators are of kind 'registry' (computed from live tables)")
    if not (ind.definition and ind.definition_en and ind.name_en):
        raise ValueError(f"{ind.code}: a contributed indicator needs its definition in Chinese and English")
    INDICATORS[ind.code] = ind
    queries.REGISTRY_FIGURES[ind.code] = figure  # type: ignore[assignment]  # (Area, Period) -> Value
    queries.ALIASES.setdefault(ind.code, [])
    if ind.code not in queries.DISPLAY_ORDER:
        queries.DISPLAY_ORDER.append(ind.code)
    if ind.dimension not in DIMENSIONS:
        DIMENSIONS.append(ind.dimension)
