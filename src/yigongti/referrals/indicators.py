"""The referral indicators as the referral pages see them.

They are declared once in ``indicators.definitions`` (dimension 双向转诊, ``REFERRAL_CODES``) and computed
by the indicator engine from the monthly facts (source 'ref', ``indicators.measures.referral_measures_sql``),
like every other indicator, so the dashboard, the monthly report and /referrals/stats/ give the same
figures. This module only chooses the area and the period."""

from __future__ import annotations

from yigongti.indicators import queries
from yigongti.indicators.definitions import INDICATORS, REFERRAL_CODES
from yigongti.indicators.models import MonthlyFact
from yigongti.indicators.periods import Period, parse_period

from .models import ReferralCenter
from .permissions import center_ids_of

REFERRAL_INDICATORS = [INDICATORS[c] for c in REFERRAL_CODES]


def default_period() -> Period:
    """The year to date of the latest month with referrals in the facts (of any data without them)."""
    last = (MonthlyFact.objects.filter(source="ref").order_by("-month").values_list("month", flat=True).first()
            or queries.latest_month())
    return parse_period(f"{last}-ytd")


def default_area(user) -> queries.Area:
    """The staff of a referral center answer the whole community's up-referrals, so their stats open on
    the center's community, not on the hospital it sits in (which only ever receives); everyone else
    opens on the dashboard's default area."""
    ids = center_ids_of(user)
    if ids:
        center = (ReferralCenter.objects.select_related("community__region").filter(pk__in=ids)
                  .order_by("pk").first())
        if center is not None:
            c = center.community
            return queries.Area("community", str(c.pk), c.name, c.region.prefix)
    return queries.default_area(user)


def figures(user, area_key: str = "", period_key: str = "") -> tuple[queries.Area, Period, list[queries.Card]]:
    """The referral cards of an area the user may see (default: their own, or their center's community)
    for a period."""
    home = default_area(user)
    area = home if not area_key or area_key == home.key else queries.resolve_area(user, area_key)
    period = parse_period(period_key) if period_key else default_period()
    return area, period, queries.figures(area, period, REFERRAL_CODES)
