"""Writes of the indicators app: refreshing the monthly facts, filing evidence, scheduling jobs."""

from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.carelevel import care_level_sql
from yigongti.core.errors import InvalidInput
from yigongti.orgs.permissions import check

from .definitions import EVIDENCE_ITEMS
from .measures import (
    DIMENSIONS,
    MEASURES,
    Dialect,
    bed_measures_sql,
    encounter_measures_sql,
    months_between,
    referral_measures_sql,
    settlement_measures_sql,
)
from .models import EvidenceItem, EvidenceStatus, MonthlyFact

# a facility's care level from its WS 218 type, as SQL generated from core.carelevel's rules
LEVEL_SQL = care_level_sql("f.type")

# The live database seen through the canonical columns of measures.py.
LIVE_ENCOUNTERS = f"""(SELECT e.id AS encounter_id, e.residence_county, e.area_code AS residence_area,
  r.code AS unit_area, f.code AS facility_key, {LEVEL_SQL} AS facility_level, substr(r.code, 1, 6) AS facility_county,
  e.type, e.admit_date, e.discharge_date, e.total_cost, e.drug_cost, e.herbal_cost, e.material_cost, e.insurance_paid,
  e.tcm, e.surgery
  FROM encounters_encounter e JOIN orgs_facility f ON f.id = e.facility_id JOIN orgs_region r ON r.id = f.region_id)"""
LIVE_SETTLEMENTS = """(SELECT s.id AS settlement_id, s.residence_county, s.area_code AS residence_area,
  s.facility_code AS facility_key, s.facility_level, s.facility_county, s.type, s.settle_date, s.total_cost,
  s.fund_paid,
  CASE WHEN s.reverses_no <> '' THEN s.reverses_no END AS reverses
  FROM encounters_insurancesettlement s)"""
LIVE_BEDS = f"""(SELECT f.code AS facility_key, r.code AS unit_area, {LEVEL_SQL} AS facility_level,
  substr(r.code, 1, 6) AS facility_county, f.open_beds FROM orgs_facility f JOIN orgs_region r ON r.id = f.region_id
  WHERE f.is_active)"""
LIVE_REFERRALS = f"""(SELECT x.id AS referral_id, x.area_code AS unit_area, f.code AS facility_key,
  {LEVEL_SQL} AS facility_level, substr(r.code, 1, 6) AS facility_county, substr(x.area_code, 1, 6) AS residence_county,
  x.direction, x.status, x.center_id, x.submitted_at, x.due_at, x.answered_at, x.escalated_at
  FROM referrals_referral x JOIN orgs_facility f ON f.id = x.from_facility_id JOIN orgs_region r ON r.id = f.region_id
  WHERE x.submitted_at IS NOT NULL)"""


def _dialect() -> Dialect:
    return Dialect("postgresql" if connection.vendor == "postgresql" else "sqlite")


def data_range() -> tuple[dt.date, dt.date] | None:
    """The first and last day with an encounter, a discharge or a settlement."""
    with connection.cursor() as cur:
        cur.execute("SELECT min(admit_date), max(COALESCE(discharge_date, admit_date)) FROM encounters_encounter")
        lo, hi = cur.fetchone()
        cur.execute("SELECT min(settle_date), max(settle_date) FROM encounters_insurancesettlement")
        slo, shi = cur.fetchone()
    lows = [_as_date(x) for x in (lo, slo) if x]
    highs = [_as_date(x) for x in (hi, shi) if x]
    return (min(lows), max(highs)) if lows else None


def referral_range() -> tuple[dt.date, dt.date] | None:
    """The first and last local day a referral was submitted on."""
    from django.db.models import Max, Min
    from django.utils import timezone

    from yigongti.referrals.models import Referral

    got = Referral.objects.filter(submitted_at__isnull=False).aggregate(lo=Min("submitted_at"), hi=Max("submitted_at"))
    if got["lo"] is None:
        return None
    return timezone.localdate(got["lo"]), timezone.localdate(got["hi"])


def _months_with_data(span, ref_span) -> list[str]:
    spans = [s for s in (span, ref_span) if s]
    if not spans:
        return []
    return months_between(min(s[0] for s in spans), max(s[1] for s in spans))


def data_months() -> list[str]:
    """Every month that has an encounter, a discharge, a settlement or a submitted referral."""
    return _months_with_data(data_range(), referral_range())


def _as_date(x) -> dt.date:
    return x if isinstance(x, dt.date) else dt.date.fromisoformat(str(x)[:10])


def refresh_facts(months: list[str] | None = None) -> dict:
    """Rebuild the monthly facts of the given months (default: every month with data) in one
    transaction, inside the database (INSERT … SELECT), so nothing big crosses into Python."""
    t0 = time.perf_counter()
    span, ref_span = data_range(), referral_range()
    months = months or _months_with_data(span, ref_span)
    if not months or (span is None and ref_span is None):
        MonthlyFact.objects.all().delete()
        return {"months": 0, "rows": 0, "seconds": 0.0}
    d = _dialect()
    cols = ", ".join(DIMENSIONS + MEASURES)
    # beds stay occupied until the encounters' last day, however late the last referral came
    as_of = (span[1] + dt.timedelta(days=1)).isoformat() if span else None
    with transaction.atomic(), connection.cursor() as cur:
        MonthlyFact.objects.filter(month__in=months).delete()
        for sql in (encounter_measures_sql(d, LIVE_ENCOUNTERS, months, as_of=as_of),
                    settlement_measures_sql(d, LIVE_SETTLEMENTS, months),
                    bed_measures_sql(d, LIVE_BEDS, months),
                    referral_measures_sql(d, LIVE_REFERRALS, months, settings.TIME_ZONE)):
            cur.execute(f"INSERT INTO indicators_monthlyfact ({cols}) SELECT {cols} FROM ({sql}) q")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE indicators_monthlyfact")
    from django.core.cache import cache

    # cached figures are keyed by this version: a refresh makes every earlier answer unreachable
    cache.set("indicators:version", time.time_ns(), None)
    cache.delete_many(["indicators:latest_month", "indicators:latest_complete_month"])
    rows = MonthlyFact.objects.filter(month__in=months).count()
    return {"months": len(months), "rows": rows, "seconds": round(time.perf_counter() - t0, 2)}


def record_evidence(community, year: int, indicator: str, item: str, status: str, evidence: str = "", *,
                    actor: Actor) -> EvidenceItem:
    """填报: a manager records how far one checklist item of N01–N03 is implemented."""
    check(actor, "indicators.record_evidence", community)
    user = actor.user
    items = dict(EVIDENCE_ITEMS.get(indicator, []))
    if item not in items:
        raise InvalidInput("unknown_item", _("该指标没有这个佐证条目"), field="item")
    if status not in EvidenceStatus.values:
        raise InvalidInput("bad_status", _("落实情况无效"), field="status")
    with transaction.atomic():
        row, _created = EvidenceItem.objects.select_for_update().get_or_create(
            community=community, year=year, indicator=indicator, item=item)
        row.status, row.evidence, row.updated_by = status, evidence.strip()[:4000], user
        row.save()
        audit.record(actor, "update", "evidence", row.pk, indicator=indicator, item=item, status=status)
    return row


def request_refresh(*, actor: Actor) -> None:
    """Ask the worker to rebuild the facts now (the nightly job does it anyway). Rebuilding can take minutes on
    a county: the worker does it, never a web request; one request a minute is enough."""
    check(actor, "indicators.refresh")
    from django.utils import timezone

    from yigongti.core.jobs import schedule

    from .jobs import REFRESH

    schedule(REFRESH, key=f"web-{timezone.now():%Y%m%d%H%M}")
    audit.record(actor, "update", "indicator_facts", "", requested="refresh")
