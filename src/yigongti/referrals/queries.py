"""Scoped reads of referrals. A referral is visible to the staff of the facility that sent it, of the
facility that receives it, and to the members of the community's referral center; managers and the
bureau see counts (``indicators.py``, ``outflow.py``), not patients.

The receiving side may read the patient's shared record through an active referral even where the
patient lies outside its normal scope; every such read is audited as ``via_referral``. Reading a referral
needs the referral category of ``orgs.permissions.READS`` (a pharmacist of the receiving hospital does not read
its referrals), the patient's shared record the clinical category."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Window
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden, NotFound
from yigongti.core.exports import EXPORT_LIMIT
from yigongti.core.idcard import looks_like_id_number
from yigongti.core.paging import Page, slice_page
from yigongti.core.scoping import scope_for
from yigongti.encounters.models import Encounter, EncounterType
from yigongti.orgs.models import Department, Facility, Region, RegionLevel, Staff, User
from yigongti.orgs.permissions import Category, can_read, check_read
from yigongti.residents.queries import qualified_facility_names, township_choices

from . import workflow
from .models import (
    DepartmentCapacity,
    Direction,
    FollowUp,
    FollowUpKind,
    FollowUpStatus,
    GuidelineRule,
    Referral,
    ReferralCenter,
    Status,
)
from .permissions import center_ids_of

RELATED = ("resident", "from_facility", "to_facility", "to_department", "referred_by", "answered_by")
# The lists join only the three relations every row shows and fetch the others (often null) in one query each:
# PostgreSQL's planner spends ~10 ms on the six-way join of RELATED and ~0.6 ms on three (the plan then runs in
# ~0.5 ms), on every queue refresh and home page.
LIST_JOINED = RELATED[:3]
LIST_PREFETCHED = RELATED[3:]


def _with_related(qs: QuerySet[Referral]) -> QuerySet[Referral]:
    return qs.select_related(*LIST_JOINED).prefetch_related(*LIST_PREFETCHED)


class _ByIds:
    """A list's rows in two steps, for ``slice_page``: the page's ids by the list's filter and order (a narrow
    query on the indexes), then those rows with their relations by primary key. In one step PostgreSQL sorted
    the whole filtered set with every joined column (a parallel scan of the referrals, ~25–60 ms for a county
    hospital's to-dos); in two, ~1–6 ms."""

    def __init__(self, qs: QuerySet[Referral]):
        self.qs = qs
        self.count: int | None = None  # the whole list's length, read with the ids (None if the page is empty)

    def __getitem__(self, window: slice) -> list[Referral]:
        pairs = list(self.qs.prefetch_related(None).annotate(_total=Window(Count("pk")))
                     .values_list("pk", "_total")[window])
        if not pairs:
            return []
        self.count = pairs[0][1]
        ids = [pk for pk, _n in pairs]
        rows = {r.pk: r for r in self.qs.filter(pk__in=ids).order_by()}
        return [rows[pk] for pk in ids if pk in rows]


def _page(qs: QuerySet[Referral], page: int, size: int) -> Page:
    """``slice_page`` of a referral list with its count, in two queries (ids and count, then the rows)."""
    rows = _ByIds(qs)
    result = slice_page(rows, page, size)
    result.count = rows.count if rows.count is not None else qs.count()
    return result
FILTER_CHOICES_TTL = 300  # seconds: a facility new to the referral lists appears in the filter within five minutes


def referrals_visible_to(user) -> QuerySet[Referral]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Referral.objects.none()
    q = Q(pk__in=[])
    if user.facility_id:
        q |= Q(from_facility_id=user.facility_id) | Q(to_facility_id=user.facility_id)
    centers = center_ids_of(user)
    if centers:
        q |= Q(center_id__in=centers)
    return Referral.objects.filter(q)


def get_referral_for(actor: Actor, pk) -> Referral:
    """One referral the user may see, with its patient; the read is audited (and counts as a read of the
    patient's record through the referral when the patient lies outside the user's own scope)."""
    check_read(actor, Category.REFERRAL)
    user = actor.user
    try:
        r = referrals_visible_to(user).select_related(
            *RELATED, "to_doctor", "center", "source_referral", "guideline_rule", "resident__village__parent"
        ).get(pk=int(pk))
    except (Referral.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "referral", pk)
        raise NotFound(_("转诊单不存在或无权访问")) from None
    audit.record(actor, "view", "referral", r.pk, resident=r.resident_id)
    if not scope_for(user).contains(r.area_code):
        audit.record(actor, "view", "resident", r.resident_id, via_referral=r.pk)
    return r


def check_visible(actor: Actor, pk) -> None:
    """404 (audited) unless the referral is one the user may see: the door of every move, before the service
    says whether this user may make it (so a refusal names who may, and unseen referrals cannot be probed)."""
    try:
        visible = referrals_visible_to(actor.user).filter(pk=int(pk)).exists()
    except (ValueError, TypeError):
        visible = False
    if not visible:
        audit.record(actor, "denied", "referral", pk)
        raise NotFound(_("转诊单不存在或无权访问"))


def shared_record(actor: Actor, r: Referral, limit: int = 20) -> list[Encounter] | None:
    """The patient's recent encounters at every level, live, for the parties of an active referral (None when
    the referral no longer grants it and the patient is outside the user's scope, or the user's role does not
    read clinical records: the page then shows no record rather than refusing the referral). Audited."""
    user = actor.user
    if user is not None and not can_read(user, Category.CLINICAL):
        return None
    own = scope_for(user).contains(r.area_code)
    if not own and r.status not in workflow.ACTIVE:
        return None
    since = timezone.localdate() - dt.timedelta(days=365)
    rows = list(Encounter.objects.filter(resident_id=r.resident_id, admit_date__gte=since)
                .select_related("facility", "department").order_by("-admit_date", "-id")[:limit])
    audit.record(actor, "list", "encounter", "", resident=r.resident_id, ids=[e.pk for e in rows],
                 **({} if own else {"via_referral": r.pk}))
    return rows


@dataclass
class ReferralFilter:
    """The filter of the referral lists: the patient's name (汉字 prefix, pinyin or initials), township and
    village (of the patient's home), and a facility on either end of the referral."""

    q: str = ""
    township: str = ""  # 12-digit township code
    village: str = ""  # 12-digit village code
    facility: str = ""  # a facility's id, sending or receiving

    @classmethod
    def from_query(cls, data) -> ReferralFilter:
        return cls(q=data.get("q", "").strip()[:40], township=data.get("township", "")[:12],
                   village=data.get("village", "")[:12], facility=data.get("facility", "")[:12])

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def filter_referrals(qs: QuerySet, f: ReferralFilter | None, via: str = "") -> QuerySet:
    """``qs`` (of referrals, or of rows that point at one through ``via``, e.g. ``"referral__"``) narrowed."""
    if f is None:
        return qs
    q = f.q.strip()
    if q and not looks_like_id_number(q):  # the list does not show ID numbers, so it is not searched by one
        if q.isascii() and q.replace(" ", "").isalpha():
            text = q.replace(" ", "").lower()
            qs = qs.filter(Q(**{f"{via}resident__name_initials__startswith": text})
                           | Q(**{f"{via}resident__name_pinyin__startswith": text}))
        else:
            qs = qs.filter(**{f"{via}resident__name__startswith": q})
    if f.township:
        qs = qs.filter(**{f"{via}area_code__startswith": f.township[:9]}) if len(f.township) == 12 else qs.none()
    if f.village:
        qs = qs.filter(**{f"{via}area_code": f.village})
    if f.facility:
        pk = int(f.facility) if f.facility.isdigit() else None
        qs = (qs.filter(Q(**{f"{via}from_facility_id": pk}) | Q(**{f"{via}to_facility_id": pk}))
              if pk is not None else qs.none())
    return qs


def filter_choices(user) -> dict:
    """The choices of the referral lists' filter: townships and villages of the user's scope (as on the resident
    list), and the facilities the user's referrals went from or to, each qualified by its township.

    Cached per account (the shared cache) for FILTER_CHOICES_TTL: the referral center's queue renders it on
    every refresh, and collecting the facilities scans the community's referrals (~60 ms at county scale)."""
    key = f"referrals:filter_choices:{getattr(user, 'pk', None)}"
    choices = cache.get(key)
    if choices is None:
        choices = _filter_choices(user)
        cache.set(key, choices, FILTER_CHOICES_TTL)
    return choices


def _filter_choices(user) -> dict:
    # a role that reads no referrals (a pharmacist) is not told which facilities its colleagues refer to
    visible = referrals_visible_to(user) if can_read(user, Category.REFERRAL) else Referral.objects.none()
    ids = set(visible.values_list("from_facility_id", flat=True).distinct()) | set(
        visible.exclude(to_facility__isnull=True).values_list("to_facility_id", flat=True).distinct())
    facilities = list(Facility.objects.filter(pk__in=ids).order_by("code"))
    labels = qualified_facility_names(facilities)
    villages = scope_for(user).filter(Region.objects.filter(level=RegionLevel.VILLAGE), "code").order_by("code")
    return {"townships": township_choices(user),
            "villages": [(c, f"{t or ''} {n}") for c, n, t in villages.values_list("code", "name", "parent__name")],
            "facilities": [(str(fac.pk), labels.get(fac.pk, fac.name)) for fac in facilities]}


def _center_queue_qs(actor: Actor, tab: str, f: ReferralFilter | None) -> QuerySet[Referral]:
    check_read(actor, Category.REFERRAL)
    user = actor.user
    qs = _with_related(Referral.objects.filter(center_id__in=center_ids_of(user)))
    if tab == "pending":
        qs = qs.filter(status=Status.SUBMITTED).order_by("priority", "submitted_at")
    elif tab == "overdue":
        qs = qs.filter(status=Status.SUBMITTED, escalated_at__isnull=False).order_by("priority", "submitted_at")
    elif tab == "today":
        start = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time()))
        qs = qs.filter(answered_at__gte=start).order_by("-answered_at")
    else:
        qs = qs.exclude(status=Status.DRAFT).order_by("-submitted_at")
    return filter_referrals(qs, f)


def center_queue(actor: Actor, tab: str = "pending", page: int = 1, size: int = 25,
                 f: ReferralFilter | None = None, *, brief: bool = False) -> Page:
    """The referral center's queue: unanswered referrals of the whole community, green channel first, then
    the longest waiting; other tabs show what was answered today, the overdue and all. ``brief``: without the
    receiving department and the staff (the queue page does not show them)."""
    qs = _center_queue_qs(actor, tab, f)
    if brief:
        qs = qs.prefetch_related(None)
    result = _page(qs, page, size)
    audit.record(actor, "list", "referral", "", tab=tab, query=f.as_dict() if f else {},
                 ids=[r.pk for r in result.items])
    return result


def queue_counts(user) -> dict[str, int]:
    """Waiting, overdue and green-channel referrals of the user's centers (one query)."""
    qs = Referral.objects.filter(center_id__in=center_ids_of(user), status=Status.SUBMITTED)
    return qs.aggregate(pending=Count("id"), overdue=Count("id", filter=Q(escalated_at__isnull=False)),
                        green=Count("id", filter=Q(urgency="green")))


def _my_referrals_qs(actor: Actor, box: str, f: ReferralFilter | None) -> QuerySet[Referral]:
    user = actor.user
    fid = user.facility_id if user is not None else None
    qs = _with_related(Referral.objects.all())
    if not fid or not can_read(user, Category.REFERRAL):
        qs = qs.none()
    elif box == "out":
        qs = qs.filter(from_facility_id=fid).order_by("-id")
    elif box == "in":
        qs = qs.filter(to_facility_id=fid).exclude(status=Status.DRAFT).order_by("-submitted_at")
    else:
        qs = qs.filter(
            Q(to_facility_id=fid, status__in=[Status.ACCEPTED, Status.REDIRECTED, Status.ARRIVED])
            | Q(to_facility_id=fid, status=Status.SUBMITTED, center__isnull=True)
            | Q(from_facility_id=fid, status=Status.DRAFT)).order_by("priority", "submitted_at")
    return filter_referrals(qs, f)


def my_referrals(actor: Actor, box: str = "todo", page: int = 1, size: int = 25,
                 f: ReferralFilter | None = None, *, brief: bool = False) -> Page:
    """A facility's referrals: ``todo`` (to receive, check in, follow up), ``in`` (received), ``out`` (sent).
    ``brief``: without the receiving department and the staff (the home page's lines do not show them)."""
    qs = _my_referrals_qs(actor, box, f)
    if brief:
        qs = qs.prefetch_related(None)
    result = _page(qs, page, size)
    audit.record(actor, "list", "referral", "", box=box, query=f.as_dict() if f else {},
                 ids=[r.pk for r in result.items])
    return result


def export_referrals(actor: Actor, f: ReferralFilter, *, box: str = "", tab: str = "") -> list[Referral]:
    """The rows of a referral list (``box`` of the facility's list or ``tab`` of the center's queue) for an Excel
    export: the same scoped query as the page, at most ``EXPORT_LIMIT`` rows, audited with every id it carries."""
    check_read(actor, Category.REFERRAL)
    if tab:
        if not center_ids_of(actor.user):
            audit.record(actor, "denied", "referral", "", attempted="export:center")
            raise Forbidden(_("只有转诊服务中心的工作人员可以导出转诊中心工作台"))
        qs = _center_queue_qs(actor, tab, f)
    else:
        qs = _my_referrals_qs(actor, box or "todo", f)
    rows = list(qs[:EXPORT_LIMIT])
    audit.record(actor, "export", "referral", "", box=box, tab=tab, query=f.as_dict(), count=len(rows),
                 ids=[r.pk for r in rows], format="xlsx")
    return rows


def follow_ups_of(user) -> QuerySet[FollowUp]:
    """Planned follow-ups the user's facility owes: of the down-referrals it received (the plan), and of the
    up-referrals it sent (the follow-up two weeks later, 《国家基本公共卫生服务规范》)."""
    if user is None or not user.facility_id:
        return FollowUp.objects.none()
    fid = user.facility_id
    plan = Q(kind=FollowUpKind.PLAN, referral__to_facility_id=fid,
             referral__status__in=[Status.SUBMITTED, *workflow.FOLLOWING])
    after_up = Q(kind=FollowUpKind.AFTER_UP, referral__from_facility_id=fid,
                 referral__status__in=[*workflow.ACTIVE, Status.COMPLETED, Status.NO_SHOW])
    return FollowUp.objects.filter(plan | after_up, status=FollowUpStatus.PLANNED)


def due_follow_ups(user, within_days: int = 7) -> QuerySet[FollowUp]:
    """The facility's planned follow-ups due within a week, the overdue first (each row has ``is_overdue``)."""
    return (follow_ups_of(user).filter(due_date__lte=timezone.localdate() + dt.timedelta(days=within_days))
            .select_related("referral__resident").order_by("due_date"))


def follow_up_page(actor: Actor, page: int = 1, size: int = 25, f: ReferralFilter | None = None) -> Page:
    """Every planned follow-up the facility owes, the earliest (so the overdue) first, filtered like the
    referral lists; the patients shown are audited."""
    check_read(actor, Category.REFERRAL)
    qs = filter_referrals(follow_ups_of(actor.user), f, via="referral__")
    qs = qs.select_related("referral__resident", "referral__from_facility", "referral__to_facility")
    qs = qs.order_by("due_date", "id")
    result = slice_page(qs, page, size, count=qs.count())
    audit.record(actor, "list", "follow_up", "", query=f.as_dict() if f else {}, ids=[x.pk for x in result.items],
                 residents=sorted({x.referral.resident_id for x in result.items}))
    return result


def export_follow_ups(actor: Actor, f: ReferralFilter) -> list[FollowUp]:
    """The follow-up list as filtered, for an Excel export (at most ``EXPORT_LIMIT`` rows), audited with ids."""
    check_read(actor, Category.REFERRAL)
    qs = filter_referrals(follow_ups_of(actor.user), f, via="referral__").select_related("referral__resident")
    rows = list(qs.order_by("due_date", "id")[:EXPORT_LIMIT])
    audit.record(actor, "export", "follow_up", "", query=f.as_dict(), count=len(rows), ids=[x.pk for x in rows],
                 residents=sorted({x.referral.resident_id for x in rows}), format="xlsx")
    return rows


def overdue_follow_up_count(user) -> int:
    """How many of the facility's follow-ups are past their date (the badge of the referral menu)."""
    return follow_ups_of(user).filter(due_date__lt=timezone.localdate()).count()


def guideline_rules() -> QuerySet[GuidelineRule]:
    return GuidelineRule.objects.order_by("icd10_from")


def active_rules() -> list[workflow.Rule]:
    """The active guideline rules as plain data for ``workflow.advise``."""
    return [workflow.Rule(r.pk, r.name, r.icd10_from, r.icd10_to, r.level, r.up_criteria, r.down_criteria,
                          r.treat_level or "county", r.designated)
            for r in GuidelineRule.objects.filter(active=True)]


def center_for(facility: Facility) -> ReferralCenter | None:
    """The referral center of the facility's community (None outside a community or before it is set up)."""
    if facility.community_id is None:
        return None
    return ReferralCenter.objects.filter(community_id=facility.community_id).select_related("facility").first()


def center_users(center_id: int, supervisors: bool = False) -> list[User]:
    qs = User.objects.filter(referral_centers__center_id=center_id, is_active=True)
    if supervisors:
        qs = qs.filter(referral_centers__is_supervisor=True)
    return list(qs.select_related("staff"))


def facility_doctors(facility_id: int | None, limit: int = 20) -> list[User]:
    if facility_id is None:
        return []
    return list(User.objects.filter(facility_id=facility_id, is_active=True,
                                    role__in=["doctor", "village_doctor", "nurse"]).select_related("staff")[:limit])


def receiving_choices(r: Referral) -> tuple[list[Department], list[Staff]]:
    """The clinical departments and doctors of the receiving facility that the accept and redirect forms offer
    (none for a hospital outside the county)."""
    if r.to_facility_id is None:
        return [], []
    departments = list(Department.objects.filter(facility_id=r.to_facility_id, is_clinical=True))
    doctors = list(Staff.objects.filter(work_facility_id=r.to_facility_id, is_active=True,
                                        profession__in=["physician", "village_doctor", "assistant"]
                                        ).select_related("department").order_by("department_id", "name")[:300])
    return departments, doctors


def receiving_department(r: Referral, department_id: str) -> Department | None:
    """A department of the receiving facility, or None (not a number, another facility's, or an external one)."""
    if r.to_facility_id is None or not department_id.isdigit():
        return None
    return Department.objects.filter(pk=int(department_id), facility_id=r.to_facility_id).first()


def target_facilities(user, direction: str) -> list[Facility]:
    """Facilities of the user's community a referral in this direction may go to."""
    if user is None or not user.facility_id or not user.facility.community_id:
        return []
    from .models import LEVEL_RANK

    mine = LEVEL_RANK[user.facility.care_level]
    qs = Facility.objects.filter(community_id=user.facility.community_id, is_active=True).exclude(type="E300")
    return [f for f in qs.order_by("code")
            if (LEVEL_RANK[f.care_level] > mine if direction == Direction.UP else LEVEL_RANK[f.care_level] < mine)]


# ---- receiving capacity ----------------------------------------------------------------------------

HOLDING = (Status.ACCEPTED, Status.REDIRECTED, Status.ARRIVED)  # referrals that hold a slot or a bed
BOOKING_DAYS = 7


@dataclass(frozen=True)
class Capacity:
    department: Department
    slots: list[dt.datetime]  # free appointment times of the next week
    beds: list[str]  # free beds to offer
    beds_total: int
    occupied: int  # admitted patients in the department now


def capacity_of(department: Department, now: dt.datetime | None = None, exclude: int | None = None) -> Capacity:
    """The free appointment slots (next 7 days) and free beds of a receiving department. ``exclude`` is the
    referral being answered (its own earlier booking does not count against it)."""
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    cap = DepartmentCapacity.objects.filter(department=department).first()
    daily = cap.daily_slots if cap else DepartmentCapacity.DEFAULT_DAILY_SLOTS
    minutes = cap.slot_minutes if cap else 30
    today = timezone.localdate(now)
    days = [today + dt.timedelta(days=i) for i in range(BOOKING_DAYS)]
    holding = Referral.objects.filter(to_department=department, status__in=HOLDING)
    if exclude:
        holding = holding.exclude(pk=exclude)
    taken = {t for t in holding.values_list("appointment_at", flat=True) if t is not None}
    held = set(holding.exclude(bed="").values_list("bed", flat=True))
    occupied = Encounter.objects.filter(department=department, type=EncounterType.INPATIENT,
                                        discharge_date__isnull=True, admit_date__lte=today).count()
    return Capacity(department, workflow.free_slots(days, daily, minutes, taken, now, tz),
                    workflow.free_beds(department.beds, occupied, held), department.beds, occupied)


def queue_summary(user) -> dict:
    """The referral center's waiting referrals by urgency, the overdue and the longest wait (counts only, for
    the home page; one grouped query on the queue's index)."""
    from django.db.models import Count, Min

    qs = Referral.objects.filter(center_id__in=center_ids_of(user), status=Status.SUBMITTED).order_by()
    by = dict(qs.values_list("urgency").annotate(n=Count("id")).values_list("urgency", "n"))
    agg = qs.aggregate(overdue=Count("id", filter=Q(escalated_at__isnull=False)), oldest=Min("submitted_at"))
    return {"by_urgency": by, "pending": sum(by.values()), "overdue": agg["overdue"], "oldest": agg["oldest"]}


def awaiting_answer(actor: Actor, limit: int = 8) -> tuple[list[Referral], int]:
    """Referrals the user's facility sent that the other side has not answered yet (audited list)."""
    user = actor.user
    if user is None or not user.facility_id or not can_read(user, Category.REFERRAL):
        return [], 0
    qs = Referral.objects.filter(from_facility_id=user.facility_id, status=Status.SUBMITTED).select_related(
        *LIST_JOINED)  # the home page's lines: patient, diagnosis, where to
    by_ids = _ByIds(qs.order_by("priority", "submitted_at"))
    rows = by_ids[:limit]
    audit.record(actor, "list", "referral", "", box="awaiting_answer", ids=[r.pk for r in rows])
    return rows, by_ids.count or 0
