"""Who sees which payroll and performance data, and the reads.

Payroll is sensitive. Person rows (one staff member's income) are read by a facility admin for their own facility
and by a community manager for the community's facilities, and every such read is audited; the bureau and the city
see aggregates only (headcount, sums and means by facility), never a person. Scores and schemes are read by the
same roles (a facility admin their own facility's scores)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import actor_of
from yigongti.core.carelevel import care_level
from yigongti.core.errors import Forbidden, NotFound
from yigongti.core.personal import mask_id_number
from yigongti.core.scoping import facility_scope_q
from yigongti.orgs.models import Facility, Role
from yigongti.orgs.permissions import has_role

from . import scoring
from .models import COMPONENTS, PayrollImport, PayrollRecord, Scheme, Score, ScoreRun

READERS = (Role.FACILITY_ADMIN, Role.COMMUNITY_MANAGER, Role.BUREAU, Role.CITY)
PERSON_READERS = (Role.FACILITY_ADMIN, Role.COMMUNITY_MANAGER)


def may_read(user) -> bool:
    """The menu entry and every page's gate."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser) or has_role(user, *READERS)


def gate(user) -> None:
    if not may_read(user):
        raise Forbidden(_("只有机构管理员、医共体管理人员、卫健局和市卫健委可以查看薪酬与绩效"))


def _community_id(user) -> int | None:
    return user.facility.community_id if getattr(user, "facility_id", None) else None


def facilities_visible_to(user) -> QuerySet[Facility]:
    """The facilities whose aggregates (and scores) the user sees."""
    if not may_read(user):
        return Facility.objects.none()
    if has_role(user, Role.FACILITY_ADMIN):
        q = Q(pk=user.facility_id) if user.facility_id else Q(pk__in=[])
    elif has_role(user, Role.COMMUNITY_MANAGER) and _community_id(user):
        q = Q(community_id=_community_id(user))
    elif user.is_superuser and not has_role(user, Role.BUREAU, Role.CITY):
        q = Q(community__isnull=False)
    else:
        q = facility_scope_q(user, "region__code") & Q(community__isnull=False)
    return Facility.objects.filter(q, is_active=True).select_related("region").order_by("code")


def may_read_persons(user, facility: Facility) -> bool:
    """Whether the user may see the staff rows of this facility's payroll."""
    if not has_role(user, *PERSON_READERS):
        return False
    if has_role(user, Role.FACILITY_ADMIN):
        return user.facility_id == facility.pk
    return _community_id(user) is not None and facility.community_id == _community_id(user)


def payroll_years(user) -> list[int]:
    return sorted(set(PayrollRecord.objects.filter(facility__in=facilities_visible_to(user))
                      .values_list("year", flat=True)), reverse=True)


@dataclass
class FacilityPay:
    facility: Facility
    level: str
    n: int
    sums: dict[str, Decimal]
    total: Decimal
    mean: Decimal | None
    may_open: bool = False


def summary_by_facility(user, year: int) -> list[FacilityPay]:
    """Headcount, the components' sums, the total and the mean per facility (aggregates: no person)."""
    facilities = {f.pk: f for f in facilities_visible_to(user)}
    aggs = (PayrollRecord.objects.filter(year=year, facility_id__in=list(facilities)).values("facility_id")
            .annotate(n=Count("pk"), total=Sum("total"), **{c: Sum(c) for c in COMPONENTS}))
    out = []
    for a in aggs:
        f = facilities[a["facility_id"]]
        out.append(FacilityPay(f, str(care_level(f.type).label), a["n"], {c: a[c] or Decimal(0) for c in COMPONENTS},
                               a["total"] or Decimal(0), scoring.mean(a["total"] or Decimal(0), a["n"]),
                               may_read_persons(user, f)))
    return sorted(out, key=lambda r: r.facility.code)


def level_means(rows: Iterable[FacilityPay]) -> list[dict]:
    """The summary's rows by care level (county / township / village): headcount and mean."""
    acc: dict[str, list] = {}
    for r in rows:
        a = acc.setdefault(r.level, [0, Decimal(0)])
        a[0] += r.n
        a[1] += r.total
    return [{"level": k, "n": n, "total": t, "mean": scoring.mean(t, n)} for k, (n, t) in acc.items()]


def payroll_rows(actor, facility: Facility, year: int) -> list[dict]:
    """One facility's staff rows of a year (name, masked ID number, components): audited."""
    actor = actor_of(actor)
    user = actor.user
    if user is None or not may_read_persons(user, facility):
        audit.record(actor, "denied", "payroll", facility.pk, year=year)
        raise Forbidden(_("只有本机构的机构管理员或医共体管理人员可以查看个人薪酬"))
    rows = list(PayrollRecord.objects.filter(year=year, facility=facility).select_related("staff")
                .order_by("staff__name"))
    audit.record(actor, "read", "payroll", facility.pk, year=year, rows=len(rows))
    return [{"staff_id": r.staff_id, "name": r.staff.name, "id_number": mask_id_number(r.staff.id_number),
             "profession": r.staff.get_profession_display(), **{c: getattr(r, c) for c in COMPONENTS},
             "total": r.total} for r in rows]


def imports_visible_to(user) -> QuerySet[PayrollImport]:
    if not has_role(user, *PERSON_READERS):
        return PayrollImport.objects.none()
    qs = PayrollImport.objects.filter(community_id=_community_id(user) or 0)
    if has_role(user, Role.FACILITY_ADMIN):
        qs = qs.filter(uploaded_by=user)
    return qs.select_related("uploaded_by")


def get_import_for(user, pk) -> PayrollImport:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    b = imports_visible_to(user).filter(pk=pk).first()
    if b is None:
        raise NotFound()
    return b


# ---- schemes and scores --------------------------------------------------------------------------------------

def schemes_visible_to(user) -> QuerySet[Scheme]:
    if not may_read(user):
        return Scheme.objects.none()
    communities = facilities_visible_to(user).values("community_id")
    return Scheme.objects.filter(community_id__in=communities).select_related("facility").order_by("level", "pk")


def get_scheme_for(user, pk) -> Scheme:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    s = schemes_visible_to(user).filter(pk=pk).first()
    if s is None:
        raise NotFound()
    return s


def runs_visible_to(user) -> QuerySet[ScoreRun]:
    return ScoreRun.objects.filter(scheme__in=schemes_visible_to(user)).select_related("scheme")


def months_scored(user) -> list[str]:
    return sorted({f"{m:%Y-%m}" for m in runs_visible_to(user).values_list("month", flat=True)}, reverse=True)


def month_scores(user, month) -> list[dict]:
    """Each scheme's run of the month with its facilities' scores (the user's facilities only), best first."""
    visible = set(facilities_visible_to(user).values_list("pk", flat=True))
    out = []
    for run in runs_visible_to(user).filter(month=month).order_by("scheme__level", "scheme_id"):
        rows = list(run.scores.filter(department__isnull=True, facility_id__in=visible).select_related("facility")
                    .order_by("-total", "facility__code"))
        full = sum((Decimal(ln["weight"]) for ln in rows[0].lines), Decimal(0)) if rows else Decimal(0)
        out.append({"run": run, "rows": rows, "full": full,
                    "performance": sum((r.performance for r in rows), Decimal(0)),
                    "guaranteed": sum((r.guaranteed for r in rows), Decimal(0))})
    return out


def get_run_for(user, pk) -> ScoreRun:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
    run = runs_visible_to(user).filter(pk=pk).first()
    if run is None:
        raise NotFound()
    return run


def facility_scores(user, run: ScoreRun, facility_id) -> tuple[Score, list[Score]]:
    """The drill-down: a facility's score with its lines, and its departments' scores."""
    try:
        fid = int(facility_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not facilities_visible_to(user).filter(pk=fid).exists():
        raise NotFound()
    top = run.scores.filter(facility_id=fid, department__isnull=True).select_related("facility").first()
    if top is None:
        raise NotFound()
    depts = list(run.scores.filter(facility_id=fid, department__isnull=False).select_related("department")
                 .order_by("-total", "department__code"))
    return top, depts


def n06_for(user, year: int):
    """N06 of the user's default area (their county, community or township) for a payroll year; None for a
    facility-level account (N06 compares levels, not one facility)."""
    from yigongti.core.errors import DomainError
    from yigongti.indicators.periods import parse_period
    from yigongti.indicators.queries import default_area

    from .indicators import n06

    try:
        area = default_area(user)
    except DomainError:
        return None
    if area.kind == "facility":
        return None
    return n06(area, parse_period(str(year)))
