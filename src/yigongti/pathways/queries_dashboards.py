"""Reads behind the pathways' dashboards: monthly compliance per center (each metric's median, the share meeting
its target, the delay reasons of the misses), the chain from the township units (胸痛救治单元) to the county
center (cases, DIDO at the township, door-to-wire at the county), and the figures the indicator engine and the
home panel show.

Counts and minutes only, never a patient: managers, the bureau and the city see the centers of their area; a
center's clinicians see their own center (and, at a county center, the units that send it patients). The
figures come from ``metrics.case_metrics`` over each case's active time points (one query for the cases, one
for their events, one for their delay reasons); a case counts in the month it was opened (local time).
Ruled-out cases (``cancelled``) are left out."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.errors import Forbidden, InvalidInput, NotFound
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role

from . import events as catalogue
from . import metrics as m
from .models import Case, CaseEvent, CaseStatus, CenterLevel, DelayReason, PathwayCenter

MANAGING = (Role.COMMUNITY_MANAGER, Role.BUREAU, Role.CITY)
TREATING = (Role.DOCTOR, Role.NURSE)
TREND_MONTHS = 12
# the chain's last column: the treating center's headline metric, per kind
HEADLINE = {"chest_pain": "d2w", "stroke": "dnt", "trauma": "door_to_theatre", "maternal": "ddi",
            "neonatal": "door_to_nicu"}
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# ---- plain data ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFacts:
    """What the dashboards need of one case: no name, no ID number."""

    id: int
    case_no: str
    kind: str
    subtype: str
    arrival_mode: str
    facility_id: int
    first_facility_id: int | None
    first_parent_id: int | None  # the township above a village clinic that saw the patient first
    opened_at: dt.datetime
    events: dict[str, dt.datetime] = field(default_factory=dict)
    delays: dict[str, str] = field(default_factory=dict)  # metric code → delay code

    @property
    def month(self) -> str:
        return m.month_of(timezone.localtime(self.opened_at))

    def metrics(self) -> list[m.Metric]:
        return m.case_metrics(self.kind, self.events, subtype=self.subtype, arrival_mode=self.arrival_mode)

    def first_seen_at(self, facility_id: int) -> bool:
        return facility_id in (self.first_facility_id, self.first_parent_id)


@dataclass(frozen=True)
class DelayCount:
    metric: str
    metric_label: str
    code: str  # "" = missed without a reason yet
    label: str
    n: int


@dataclass
class MetricRow:
    code: str
    label: str
    target_min: float | None
    month: m.Compliance | None
    trend: list[float | None]  # share meeting the target (0–100) per month of the trend, oldest first
    trend_median: list[float | None]

    @property
    def share(self) -> float | None:
        rate = self.month.rate if self.month else None
        return round(rate * 100, 1) if rate is not None else None


@dataclass(frozen=True)
class Unexplained:
    """A missed target still without its delay reason (for the center's own clinicians: the case to open)."""

    case_id: int
    case_no: str
    metric: str
    metric_label: str
    minutes: float
    target_min: float


@dataclass
class Summary:
    """One month of one group of cases (a center, a unit's transfers …)."""

    cases: int
    by_subtype: list[tuple[str, str, int]]  # (code, label, n)
    by_arrival: list[tuple[str, str, int]]
    compliance: dict[str, m.Compliance]
    delays: list[DelayCount]
    missed: int
    missed_without_reason: int
    unexplained: list[Unexplained] = field(default_factory=list)


@dataclass
class CenterDashboard:
    center: PathwayCenter
    month: str
    months: list[str]
    summary: Summary
    rows: list[MetricRow]
    cases_trend: list[int]


@dataclass
class ChainRow:
    label: str
    facility_id: int | None  # the unit's facility; None for the center's direct cases
    unit: PathwayCenter | None
    cases: int
    transferred: int
    dido: m.Compliance | None
    headline: m.Compliance | None
    fmc_to_end: m.Compliance | None  # chest pain: FMC → wire (total ischaemic time in the system)


@dataclass
class Chain:
    kind: str
    month: str
    center: PathwayCenter
    headline_code: str
    headline_label: str
    dido_code: str
    rows: list[ChainRow]


# ---- pure functions (tested without the database) --------------------------------------------------------------


def summarise(cases: Sequence[CaseFacts]) -> Summary:
    """The month's figures of a group of cases: counts, each metric's compliance, the delay reasons of the
    misses (and how many misses still lack a reason)."""
    subtypes = Counter(c.subtype for c in cases)
    arrivals = Counter(c.arrival_mode for c in cases)
    per_case = [(c, c.metrics()) for c in cases]
    reasons: Counter[tuple[str, str]] = Counter()
    labels: dict[str, str] = {}
    missed = without = 0
    unexplained = []
    for c, metrics in per_case:
        for x in metrics:
            if x.met is not False or x.running:
                continue
            missed += 1
            labels[x.code] = x.label
            code = c.delays.get(x.code, "")
            without += not code
            reasons[(x.code, code)] += 1
            if not code and x.minutes is not None and x.target_min is not None:
                unexplained.append(Unexplained(c.id, c.case_no, x.code, x.label, x.minutes, x.target_min))
    order = {d.code: i for i, d in enumerate(m.DEFS)}
    delays = [DelayCount(metric, labels[metric], code, delay_label(code), n)
              for (metric, code), n in sorted(reasons.items(), key=lambda kv: (order.get(kv[0][0], 99), -kv[1],
                                                                                 kv[0][1]))]
    return Summary(
        cases=len(cases),
        by_subtype=[(s, subtype_label(s), n) for s, n in subtypes.most_common()],
        by_arrival=[(a, arrival_label(a), n) for a, n in arrivals.most_common()],
        compliance=m.compliance(x for _c, x in per_case), delays=delays, missed=missed,
        missed_without_reason=without, unexplained=unexplained)


def delay_label(code: str) -> str:
    if not code:
        return _("未填写延误原因")
    try:
        return str(catalogue.DelayCode(code).label)
    except ValueError:
        return code


def subtype_label(code: str) -> str:
    if not code:
        return _("未分型")
    try:
        return str(catalogue.Subtype(code).label)
    except ValueError:
        return code


def arrival_label(code: str) -> str:
    from .models import ArrivalMode

    try:
        return str(ArrivalMode(code).label)
    except ValueError:
        return code


def months_back(month: str, n: int) -> list[str]:
    """The ``n`` months ending with ``month`` (YYYY-MM), oldest first."""
    y, mo = int(month[:4]), int(month[5:])
    out = []
    for _i in range(n):
        out.append(f"{y:04d}-{mo:02d}")
        y, mo = (y - 1, 12) if mo == 1 else (y, mo - 1)
    return out[::-1]


def month_bounds(first: str, last: str | None = None) -> tuple[dt.datetime, dt.datetime]:
    """[start of ``first``, start of the month after ``last``) in local time."""
    last = last or first
    tz = timezone.get_current_timezone()
    start = dt.datetime(int(first[:4]), int(first[5:]), 1, tzinfo=tz)
    y, mo = int(last[:4]), int(last[5:])
    stop = dt.datetime(y + (mo == 12), mo % 12 + 1, 1, tzinfo=tz)
    return start, stop


def current_month() -> str:
    return m.month_of(timezone.localtime())


def parse_month(value: str | None, *, field_name: str = "month") -> str:
    """A YYYY-MM month, not after the current one ("" → the current month)."""
    value = (value or "").strip()
    if not value:
        return current_month()
    if not MONTH_RE.match(value):
        raise InvalidInput("invalid_month", _("月份格式应为 YYYY-MM，例如 2026-11"), field=field_name)
    if value > current_month():
        raise InvalidInput("future_month", _("不能查看尚未到来的月份"), field=field_name)
    return value


def headline_of(kind: str) -> str:
    return HEADLINE.get(kind, "")


def dido_of(kind: str) -> str:
    """The kind's door-in-door-out metric (first_door → door_out at the transferring facility)."""
    for d in m.DEFS:
        if d.kind == kind and d.start == "first_door" and d.end == "door_out":
            return d.code
    return ""


def chain_rows(cases: Sequence[CaseFacts], *, center_facility_id: int, units: Sequence[PathwayCenter],
               kind: str) -> list[ChainRow]:
    """The center's cases of a month split by where they were first seen: one row per township unit (its
    transfers), one for the cases that came straight to the center; per row the DIDO at the township and the
    center's headline metric (door-to-wire for chest pain)."""
    head, dido = headline_of(kind), dido_of(kind)
    fmc_end = "fmc_to_wire" if kind == "chest_pain" else ""
    treated = [c for c in cases if c.facility_id == center_facility_id]
    groups: dict[int | None, list[CaseFacts]] = defaultdict(list)
    unit_ids = [u.facility_id for u in units]
    for c in treated:
        where = next((fid for fid in unit_ids if c.first_seen_at(fid)), None)
        groups[where].append(c)

    def row(label: str, unit: PathwayCenter | None, group: list[CaseFacts]) -> ChainRow:
        comp = m.compliance(c.metrics() for c in group)
        return ChainRow(label, unit.facility_id if unit else None, unit, len(group),
                        sum(c.arrival_mode == "transfer" for c in group), comp.get(dido), comp.get(head),
                        comp.get(fmc_end) if fmc_end else None)

    rows = [row(u.facility.name, u, groups.get(u.facility_id, [])) for u in units]
    rows.append(row(_("直接到本中心（120/自行来院/其他医院）"), None, groups.get(None, [])))
    return rows


# ---- who sees which center ---------------------------------------------------------------------------------------


def visible_centers(user, kind: str | None = None) -> list[PathwayCenter]:
    """The centers (and township units) whose figures this user may see: managers, the bureau and the city those
    of their area; a center's doctors and nurses their own facility's, and at a county center the units of the
    same kind in its community (the chain)."""
    qs = PathwayCenter.objects.filter(active=True).select_related("facility", "facility__region")
    if kind:
        qs = qs.filter(kind=kind)
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if has_role(user, *MANAGING) or user.is_superuser:
        scope = scope_for(user)
        return list(qs.filter(scope.q("facility__region__code")).order_by("kind", "level", "facility__code"))
    if not has_role(user, *TREATING) or user.facility_id is None:
        return []
    own = list(qs.filter(facility_id=user.facility_id))
    if not own:
        return []
    extra = Q(pk__in=[])
    community = user.facility.community_id
    for c in own:
        if c.level == CenterLevel.CENTER and community is not None:
            extra |= Q(kind=c.kind, level=CenterLevel.UNIT, facility__community_id=community)
    return list(qs.filter(Q(facility_id=user.facility_id) | extra).order_by("kind", "level", "facility__code"))


def center_for(user, pk: int) -> PathwayCenter:
    for c in visible_centers(user):
        if c.pk == pk:
            return c
    if PathwayCenter.objects.filter(pk=pk).exists():
        raise Forbidden(_("您无权查看该救治中心的质控数据"))
    raise NotFound(_("没有这个救治中心"))


def works_at(user, center: PathwayCenter) -> bool:
    """The user is one of the center's own doctors or nurses (who may open its cases and give delay reasons)."""
    return has_role(user, *TREATING) and user.facility_id is not None and user.facility_id == center.facility_id


def may_view(user) -> bool:
    return bool(visible_centers(user))


# ---- loading -----------------------------------------------------------------------------------------------------


def load_cases(filters: Q, start: dt.datetime, stop: dt.datetime) -> list[CaseFacts]:
    """The cases opened in [start, stop) matching ``filters``, with their active time points and delay reasons."""
    rows = list(Case.objects.filter(filters, opened_at__gte=start, opened_at__lt=stop)
                .exclude(status=CaseStatus.CANCELLED)
                .values_list("pk", "case_no", "kind", "subtype", "arrival_mode", "facility_id", "first_facility_id",
                             "first_facility__parent_id", "opened_at").order_by("opened_at"))
    ids = [r[0] for r in rows]
    evs: dict[int, dict[str, dt.datetime]] = defaultdict(dict)
    delays: dict[int, dict[str, str]] = defaultdict(dict)
    for chunk in _chunks(ids, 900):
        for case_id, code, at in CaseEvent.objects.filter(case_id__in=chunk, active=True).values_list(
                "case_id", "code", "at"):
            evs[case_id][code] = at
        for case_id, metric, code in DelayReason.objects.filter(case_id__in=chunk).values_list(
                "case_id", "metric", "code"):
            delays[case_id][metric] = code
    return [CaseFacts(pk, no, kind, sub, arrival, fac, first, parent, opened, evs.get(pk, {}), delays.get(pk, {}))
            for pk, no, kind, sub, arrival, fac, first, parent, opened in rows]


def _chunks(ids: list[int], n: int) -> Iterable[list[int]]:
    for i in range(0, len(ids), n):
        yield ids[i:i + n]


def center_q(center: PathwayCenter) -> Q:
    """A center's cases: those it treated; for a township unit also those it saw first and sent on (they are its
    DIDO), including those first seen at its village clinics."""
    q = Q(kind=center.kind, facility_id=center.facility_id)
    if center.level == CenterLevel.UNIT:
        q |= Q(kind=center.kind, first_facility_id=center.facility_id)
        q |= Q(kind=center.kind, first_facility__parent_id=center.facility_id)
    return q


# ---- the pages' reads --------------------------------------------------------------------------------------------


def center_dashboard(user, center_pk: int, month: str | None = None) -> CenterDashboard:
    """One center's month: counts, each metric's median and share meeting its target (with a 12-month trend),
    the delay reasons of the misses."""
    center = center_for(user, center_pk)
    month = parse_month(month)
    months = months_back(month, TREND_MONTHS)
    start, stop = month_bounds(months[0], month)
    cases = load_cases(center_q(center), start, stop)
    by_month: dict[str, list[CaseFacts]] = defaultdict(list)
    for c in cases:
        by_month[c.month].append(c)
    trend = {mo: m.compliance(c.metrics() for c in by_month.get(mo, [])) for mo in months}
    summary = summarise(by_month.get(month, []))
    rows = []
    for d in m.definitions(center.kind):
        comp = summary.compliance.get(d.code)
        shares = [_share(trend[mo].get(d.code)) for mo in months]
        medians = [trend[mo][d.code].median_min if d.code in trend[mo] else None for mo in months]
        rows.append(MetricRow(d.code, str(d.label), m.target_of(d), comp, shares, medians))
    return CenterDashboard(center, month, months, summary, rows, [len(by_month.get(mo, [])) for mo in months])


def _share(c: m.Compliance | None) -> float | None:
    if c is None or c.rate is None:
        return None
    return round(c.rate * 100, 1)


def chain(user, kind: str = "chest_pain", month: str | None = None, center_pk: int | None = None) -> Chain:
    """The township units → the county center for one kind and month."""
    if kind not in catalogue.KINDS:
        raise InvalidInput("invalid_kind", _("没有这种救治通道"), field="kind")
    month = parse_month(month)
    visible = visible_centers(user, kind)
    centers = [c for c in visible if c.level == CenterLevel.CENTER]
    if center_pk is not None:
        centers = [c for c in centers if c.pk == center_pk]
    if not centers:
        if not visible_centers(user):
            raise Forbidden(_("您无权查看救治链质控数据"))
        raise NotFound(_("该通道没有可查看的救治中心"))
    center = centers[0]
    units = list(PathwayCenter.objects.filter(kind=kind, level=CenterLevel.UNIT, active=True,
                                                     facility__community_id=center.facility.community_id)
             .select_related("facility").order_by("facility__code")) if center.facility.community_id else []
    start, stop = month_bounds(month)
    cases = load_cases(Q(kind=kind, facility_id=center.facility_id), start, stop)
    head = headline_of(kind)
    head_def = m.BY_CODE.get(head)
    return Chain(kind, month, center, head, str(head_def.label) if head_def else "", dido_of(kind),
                 chain_rows(cases, center_facility_id=center.facility_id, units=units, kind=kind))


# ---- the indicator engine and the home panel ------------------------------------------------------------------


def area_cases(area, start: dt.datetime, stop: dt.datetime, kind: str) -> list[CaseFacts]:
    """The cases of a kind treated in an indicator area (``indicators.queries.Area``): a facility area its own,
    a region area those of the treating facilities located in it."""
    if area.kind == "facility":
        where = Q(facility__code=area.facility_key)
    else:
        where = Q(facility__region__code__startswith=area.prefix)
    return load_cases(where & Q(kind=kind), start, stop)


def center_recent_headline(center: PathwayCenter, days: int = 30) -> tuple[int, m.Compliance | None]:
    """(cases, the headline metric's compliance) of a center's last ``days`` days, for the home panel."""
    stop = timezone.now()
    start = stop - dt.timedelta(days=days)
    cases = load_cases(center_q(center), start, stop)
    code = headline_of(center.kind) if center.level == CenterLevel.CENTER else dido_of(center.kind)
    return len(cases), m.compliance(c.metrics() for c in cases).get(code)
