"""The fund ledger (基金台账): every settlement of the county's insureds posted by month, member facility, level,
scheme, settlement type and disease group.

* Who: the settlements whose ``residence_county`` is the community's county — in the community, at other
  facilities of the county, outside the county and at pharmacies.
* Level: the indicators' definitions (``indicators/measures.py``, N08/N09): a pharmacy purchase is
  ``pharmacy``; care at a county/township/village facility *of the insured's own county* keeps its level;
  anything else is ``out_of_county``.
* Facility: the member facility whose code the settlement carries, else null (outside the community).
* Disease group: the DRG of the stay under the payment version when the discharge has been grouped
  (``CaseGroup`` of ``Discharge.encounter`` = the settlement's encounter), else the ICD-10 category (the first
  three characters of the main diagnosis), else "".
* Month: of the settlement date; a reversal (冲销/退费) row subtracts its amounts and one case, so a stay
  reversed and settled again counts once, as in the indicators.

Posting a month replaces its rows (idempotent, in one transaction) with one aggregate query, and moves the
community's ledger version, which keys the cached figures of the ledger page.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, CharField, F, IntegerField, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, NullIf, Substr
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.carelevel import IN_COUNTY_LEVELS
from yigongti.core.errors import InvalidInput
from yigongti.encounters.models import FacilityLevel, InsuranceSettlement, SettlementType
from yigongti.orgs import permissions
from yigongti.orgs.models import Facility, MedicalCommunity

from .budget import county_code, month_index, month_start
from .models import CaseGroup, GroupStatus, LedgerEntry

OUT = FacilityLevel.OUT_OF_COUNTY.value
PHARMACY = FacilityLevel.PHARMACY.value
GRASSROOTS = (FacilityLevel.TOWNSHIP.value, FacilityLevel.VILLAGE.value)


def payment_version() -> str:
    """The CHS-DRG version the region pays on (see ``rulepacks.payment_version``)."""
    from .rulepacks import payment_version as registered

    return registered()


# --- the version of a community's ledger (keys the cached page figures) --------------------------------------

def _version_key(community_id: int) -> str:
    return f"insurance:ledger-version:{community_id}"


def ledger_version(community_id: int) -> str:
    key = _version_key(community_id)
    v = cache.get(key)
    if v is None:
        v = uuid.uuid4().hex[:12]
        cache.add(key, v, None)
        v = cache.get(key) or v
    return str(v)


def bump_version(community_id: int) -> None:
    cache.set(_version_key(community_id), uuid.uuid4().hex[:12], None)


# --- posting --------------------------------------------------------------------------------------------------

def level_expression():
    """The ledger level of a settlement row (the indicators' in-county rule)."""
    return Case(
        When(type=SettlementType.PHARMACY, then=Value(PHARMACY)),
        When(Q(facility_level__in=IN_COUNTY_LEVELS) & Q(facility_county=F("residence_county")),
             then=F("facility_level")),
        default=Value(OUT), output_field=CharField())


def group_expression(version: str):
    drg = Subquery(CaseGroup.objects.filter(discharge__encounter_id=OuterRef("encounter_id"), version=version,
                                            status=GroupStatus.GROUPED).values("drg")[:1])
    grouped = Case(When(type=SettlementType.INPATIENT, encounter_id__isnull=False, then=NullIf(drg, Value(""))),
                   default=Value(None), output_field=CharField())
    return Coalesce(grouped, Substr("main_icd10", 1, 3), Value(""), output_field=CharField())


def aggregate(community: MedicalCommunity, start: dt.date, end: dt.date, version: str | None = None) -> list[dict]:
    """The ledger rows of the settlements settled in [start, end): one aggregate query, grouped by month in SQL
    (``m`` = the month's number 1–12; a range across a year's end repeats the numbers)."""
    version = version or payment_version()
    one = Case(When(reverses_no="", then=Value(1)), default=Value(-1), output_field=IntegerField())
    first = month_start(start)
    months = 0
    while month_start(first, months) < end:
        months += 1
    rows = list(
        InsuranceSettlement.objects
        .filter(residence_county=county_code(community), settle_date__gte=start, settle_date__lt=end)
        .annotate(i=month_index(first, months), lvl=level_expression(), grp=group_expression(version))
        .values("i", "scheme", "facility_code", "lvl", "type", "grp")
        .annotate(n=Sum(one), total=Sum("total_cost"), fund=Sum("fund_paid"))
        .order_by())
    for r in rows:
        r["m"] = (first.month - 1 + r.pop("i")) % 12 + 1
    return rows


ENTRY_FIELDS = ("community", "year", "month", "scheme", "facility", "facility_code", "level", "settlement_type",
                "group", "cases", "total_cost", "fund_paid")


def _entries(community: MedicalCommunity, year: int, rows: list[dict]) -> list[tuple]:
    """The LedgerEntry rows (values in ``ENTRY_FIELDS`` order) of the aggregate's rows."""
    members = dict(Facility.objects.filter(community=community).values_list("code", "pk"))
    return [(community.pk, year, r["m"], r["scheme"],
             members.get(r["facility_code"]) if r["lvl"] not in (OUT, PHARMACY) else None,
             r["facility_code"][:30], r["lvl"], r["type"], (r["grp"] or "")[:12], r["n"] or 0,
             r["total"] or Decimal(0), r["fund"] or Decimal(0))
            for r in rows]


def _insert(entries: list[tuple]) -> None:
    """Insert the ledger rows: one prepared INSERT run over them all (ints, text and Decimals the drivers take
    as they are), not a model instance and a compiled statement per 2,000 rows (most of a year's posting)."""
    from django.db import connection

    meta = LedgerEntry._meta
    fields = {f.name: f for f in meta.concrete_fields}
    cols = ", ".join(connection.ops.quote_name(fields[n].column) for n in ENTRY_FIELDS)
    sql = (f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({cols}) "
           f"VALUES ({', '.join(['%s'] * len(ENTRY_FIELDS))})")
    with connection.cursor() as cur:
        for i in range(0, len(entries), 5000):
            cur.executemany(sql, entries[i:i + 5000])


def _check_period(year: int, month: int | None = None) -> None:
    if not 2000 <= year <= 2100:
        raise InvalidInput("invalid_year", _("年度不正确"), field="year")
    if month is not None and not 1 <= month <= 12:
        raise InvalidInput("invalid_month", _("月份应为 1–12"), field="month")


def _post(community: MedicalCommunity, year: int, months: list[int], *, actor: Actor) -> int:
    permissions.check(actor, "insurance.post_ledger", None)
    start = dt.date(year, months[0], 1)
    end = dt.date(year + 1, 1, 1) if months[-1] == 12 else dt.date(year, months[-1] + 1, 1)
    rows = aggregate(community, start, end)
    entries = _entries(community, year, rows)
    with transaction.atomic():
        LedgerEntry.objects.filter(community=community, year=year, month__in=months).delete()
        _insert(entries)
        audit.record(actor, "post_ledger", "medicalcommunity", community.pk, year=year,
                     months=months if len(months) < 12 else "all", rows=len(entries))
        transaction.on_commit(lambda: bump_version(community.pk))
    return len(entries)


def post_month(community: MedicalCommunity, year: int, month: int, *, actor: Actor) -> int:
    """Post one month's settlements to the ledger, replacing what it held; returns the number of rows."""
    _check_period(year, month)
    return _post(community, year, [month], actor=actor)


def post_year(community: MedicalCommunity, year: int, *, actor: Actor) -> int:
    """Post the twelve months of a year (one aggregate query for the year)."""
    _check_period(year)
    return _post(community, year, list(range(1, 13)), actor=actor)


def posted_months(community: MedicalCommunity, year: int) -> list[int]:
    return sorted(set(LedgerEntry.objects.filter(community=community, year=year)
                      .values_list("month", flat=True).distinct()))
