"""The village ledger (《村卫生所两病患者管理台账》): every managed hypertension and diabetes patient of one village,
as the page the village doctor works from (due, overdue, last BP/FBG, control) and as the rows of its Excel export.

Reads are scoped (``core.scoping``: the village must lie in the reader's area), need the public-health read
category and are audited. The page is one query for its rows (the ledger's state is kept on ``Enrolment`` by the
follow-up service, the year's visit count is a correlated subquery on the ``(enrolment, visit_date)`` index) and
one aggregate for the counts above it — never a query per patient. The village filter rides the
``Enrolment(village, condition, status)`` index."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.core.personal import mask_id_number, mask_phone
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Region, RegionLevel
from yigongti.orgs.permissions import Category, can, check_read

from ..models import Condition, Control, Enrolment, EnrolmentStatus, FollowUp, VisitMode

DUE_SOON_DAYS = 7  # "due" on the ledger: the next visit falls within the coming week (overdue ones included)
PAGE_SIZE = 100  # the API's page; the phone page shows PAGE_SIZE_PAGE
PAGE_SIZE_PAGE = 50
STATUSES = ("all", "overdue", "due", "uncontrolled", "never")


def villages_for(user) -> list[Region]:
    """The villages the user works for: their teams' villages (``familydoctor.queries.teams.villages_of_user``; a
    village doctor also their clinic's village), else (on no team yet) the villages of their care area; the
    user's own clinic's village first. Kept on the user object for the request (a page's selector and its
    default village both ask)."""
    cached = getattr(user, "_yigongti_fd_villages", None)
    if cached is not None:
        return cached
    from yigongti.familydoctor.queries.teams import villages_of_user

    out = list(villages_of_user(user)) if user is not None else []
    if not out:
        scope = scope_for(user)
        if scope.empty:
            return []
        out = list(scope.filter(Region.objects.filter(level=RegionLevel.VILLAGE), "code").order_by("code")[:1000])
    facility = getattr(user, "facility", None)
    own = getattr(facility, "region_id", None) if facility is not None else None
    out.sort(key=lambda r: (r.pk != own, r.code))
    if user is not None:
        user._yigongti_fd_villages = out
    return out


def village_for(actor: Actor, code: str) -> Region:
    """The village of a ``?village=`` parameter, if the reader may see it; another village's code and a made-up
    one look the same (404, audited). Roles that may not read public-health records are refused first (403)."""
    check_read(actor, Category.PUBLIC_HEALTH)
    code = (code or "").strip()
    if not (len(code) == 12 and code.isdigit()):
        raise InvalidInput("invalid_village", _("村参数无效（12位区划代码）"), field="village")
    region = Region.objects.filter(code=code, level=RegionLevel.VILLAGE).first()
    if region is None or not scope_for(actor.user).contains(region.code):
        audit.record(actor, "denied", "chronic_ledger", code)
        raise NotFound(_("该村不存在或不在您的管辖范围内"))
    return region


def default_village(actor: Actor, code: str = "") -> Region | None:
    """The village asked for, else the first of the reader's villages (None: the reader has none)."""
    if code:
        return village_for(actor, code)
    villages = villages_for(actor.user)
    return villages[0] if villages else None


@dataclass
class LedgerFilter:
    condition: str = ""  # htn / t2dm / "" (both)
    status: str = "all"  # one of STATUSES
    q: str = ""  # a name prefix

    @classmethod
    def from_query(cls, data) -> LedgerFilter:
        condition = data.get("condition", "") or ""
        status = data.get("status", "") or "all"
        if condition and condition not in Condition.values:
            raise InvalidInput("invalid_condition", _("病种参数无效"), field="condition")
        if status not in STATUSES:
            raise InvalidInput("invalid_status", _("状态参数无效"), field="status")
        return cls(condition, status, (data.get("q", "") or "").strip()[:20])


@dataclass
class LedgerRow:
    """One patient × condition of the ledger, as plain values (masked as the reader may see them)."""

    enrolment_id: int
    resident_id: int
    name: str
    sex: str
    age: int
    id_number: str
    phone: str
    condition: str
    diagnosed_on: dt.date | None
    enrolled_on: dt.date
    visits_this_year: int
    last_visit_on: dt.date | None
    last_bp: str
    last_fbg: str
    control: str
    uncontrolled_streak: int
    next_due: dt.date | None
    state: str  # overdue / due / never / ok
    days: int | None  # days overdue (positive) or until due (negative: not yet)
    medicines: list[str] = field(default_factory=list)  # the export fills it
    links: dict[str, str] = field(default_factory=dict)  # the page fills them (follow_up, patient, medicines)
    notes: dict[str, str] = field(default_factory=dict)  # the page's texts of the row, rendered once in Python

    @property
    def condition_label(self) -> str:
        return str(Condition(self.condition).label)

    @property
    def control_label(self) -> str:
        return str(Control(self.control).label) if self.control in Control.values else ""

    @property
    def sex_label(self) -> str:
        return _("男") if self.sex == "M" else (_("女") if self.sex == "F" else "")

    @property
    def days_overdue(self) -> int:
        return self.days if self.days is not None and self.days > 0 else 0


@dataclass
class Summary:
    patients: int = 0
    htn: int = 0
    t2dm: int = 0
    overdue: int = 0
    due: int = 0
    uncontrolled: int = 0
    never: int = 0


@dataclass
class Ledger:
    village: Region
    today: dt.date
    filter: LedgerFilter
    page: Page
    summary: Summary


VALUES = ("pk", "resident_id", "resident__name", "resident__sex", "resident__birth_date", "resident__id_number",
          "resident__phone", "condition", "diagnosed_on", "enrolled_on", "last_visit_on", "last_sbp", "last_dbp",
          "last_fbg", "last_control", "uncontrolled_streak", "next_due", "visits_year")


def visits_this_year(year_start: dt.date) -> Coalesce:
    """Face-to-face follow-ups since ``year_start`` of the outer enrolment (the 规范's "4 a year")."""
    sub = (FollowUp.objects.filter(enrolment=OuterRef("pk"), visit_date__gte=year_start)
           .exclude(mode=VisitMode.PHONE).order_by().values("enrolment").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))


def _state_q(status: str, today: dt.date) -> Q:
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    if status == "overdue":
        return Q(next_due__lt=today)
    if status == "due":
        return Q(next_due__lte=soon) | Q(next_due__isnull=True)
    if status == "uncontrolled":
        return Q(last_control__in=[Control.UNCONTROLLED, Control.ADVERSE, Control.COMPLICATION])
    if status == "never":
        return Q(last_visit_on__isnull=True)
    return Q()


def managed_in_village(user, village: Region) -> QuerySet[Enrolment]:
    """The village's managed enrolments the user may see (by the village column's index, then the scope)."""
    qs = Enrolment.objects.filter(village_id=village.pk, status=EnrolmentStatus.MANAGED)
    return scope_for(user).filter(qs, "resident__area_code")


def ledger_queryset(user, village: Region, f: LedgerFilter, today: dt.date) -> QuerySet:
    qs = managed_in_village(user, village)
    if f.condition:
        qs = qs.filter(condition=f.condition)
    if f.q:
        qs = qs.filter(resident__name__startswith=f.q)
    qs = qs.filter(_state_q(f.status, today))
    year_start = today.replace(month=1, day=1)
    return (qs.annotate(visits_year=visits_this_year(year_start))
            .order_by(Coalesce("next_due", "enrolled_on"), "resident__name", "resident_id", "condition")
            .values(*VALUES))


def summary_of(user, village: Region, today: dt.date) -> Summary:
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    bad = [Control.UNCONTROLLED, Control.ADVERSE, Control.COMPLICATION]
    agg = managed_in_village(user, village).aggregate(
        patients=Count("resident_id", distinct=True),
        htn=Count("pk", filter=Q(condition=Condition.HYPERTENSION)),
        t2dm=Count("pk", filter=Q(condition=Condition.DIABETES)),
        overdue=Count("pk", filter=Q(next_due__lt=today)),
        due=Count("pk", filter=Q(next_due__lte=soon) | Q(next_due__isnull=True)),
        uncontrolled=Count("pk", filter=Q(last_control__in=bad)),
        never=Count("pk", filter=Q(last_visit_on__isnull=True)))
    return Summary(**{k: v or 0 for k, v in agg.items()})


def _state(next_due: dt.date | None, last_visit: dt.date | None, today: dt.date) -> tuple[str, int | None]:
    if next_due is None:
        return ("never" if last_visit is None else "due"), None
    days = (today - next_due).days
    if days > 0:
        return "overdue", days
    if -days <= DUE_SOON_DAYS:
        return "due", days
    return "ok", days


def _age(birth: dt.date | None, today: dt.date) -> int:
    if birth is None:
        return 0
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def to_row(v: dict, today: dt.date, *, unmask: bool) -> LedgerRow:
    sbp, dbp, fbg = v["last_sbp"], v["last_dbp"], v["last_fbg"]
    state, days = _state(v["next_due"], v["last_visit_on"], today)
    number = v["resident__id_number"] or ""
    return LedgerRow(
        enrolment_id=v["pk"], resident_id=v["resident_id"], name=v["resident__name"], sex=v["resident__sex"],
        age=_age(v["resident__birth_date"], today), id_number=number if unmask else mask_id_number(number),
        phone=mask_phone(v["resident__phone"]), condition=v["condition"], diagnosed_on=v["diagnosed_on"],
        enrolled_on=v["enrolled_on"], visits_this_year=v["visits_year"] or 0, last_visit_on=v["last_visit_on"],
        last_bp=f"{sbp}/{dbp}" if sbp and dbp else "", last_fbg=f"{fbg}" if fbg is not None else "",
        control=v["last_control"] or "", uncontrolled_streak=v["uncontrolled_streak"] or 0, next_due=v["next_due"],
        state=state, days=days)


def may_unmask(user) -> bool:
    return can(user, "residents.unmask")


def ledger_for(actor: Actor, village: Region, f: LedgerFilter | None = None, *, page: int = 1,
               size: int = PAGE_SIZE, today: dt.date | None = None) -> Ledger:
    """One page of the village's ledger and its counts (audited: the village, the filter and the ids shown)."""
    check_read(actor, Category.PUBLIC_HEALTH)
    f = f or LedgerFilter()
    today = today or timezone.localdate()
    rows = slice_page(ledger_queryset(actor.user, village, f, today), page, size)
    rows.items = [to_row(v, today, unmask=False) for v in rows.items]
    summary = summary_of(actor.user, village, today)
    rows.count = None
    audit.record(actor, "view", "chronic_ledger", village.code, filter=f.__dict__, page=rows.number,
                 enrolments=[r.enrolment_id for r in rows.items])
    return Ledger(village, today, f, rows, summary)


def due_this_week(actor: Actor, *, today: dt.date | None = None) -> dict[str, int]:
    """The home panel's counts over the reader's villages: follow-ups overdue and due within the week."""
    if actor.user is None:
        return {"overdue": 0, "due": 0}
    today = today or timezone.localdate()
    villages = [v.pk for v in villages_for(actor.user)]
    if not villages:
        return {"overdue": 0, "due": 0}
    qs = scope_for(actor.user).filter(
        Enrolment.objects.filter(village_id__in=villages, status=EnrolmentStatus.MANAGED), "resident__area_code")
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    agg = qs.aggregate(overdue=Count("pk", filter=Q(next_due__lt=today)),
                       due=Count("pk", filter=Q(next_due__gte=today, next_due__lte=soon) | Q(next_due__isnull=True)))
    return {k: v or 0 for k, v in agg.items()}
