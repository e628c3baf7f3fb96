"""Who sees which postings: the community's managers all of its community's; the bureau and the city the hosts
in their region; a township's staff the postings hosted by their facility and the clinics under it; an expert
their own. Out of scope and nonexistent look the same (404)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.scoping import facility_scope_q
from yigongti.orgs.models import Facility, Role

from ..models import Posting, PostingDay, PostingStatus, Request, Rota


def hosts_q(user, field: str = "host", *, own: bool = True) -> Q:
    """The host facilities whose postings the user may see."""
    role = getattr(user, "role", None)
    if role == Role.COMMUNITY_MANAGER and user.facility_id and user.facility.community_id:
        return Q(**{f"{field}__community_id": user.facility.community_id})
    if role in (Role.BUREAU, Role.CITY):
        return facility_scope_q(user, f"{field}__region__code")
    # ``own``: rows with a staff (postings, days) also show the expert their own
    q = Q(staff_id=user.staff_id) if own and getattr(user, "staff_id", None) else Q(pk__in=[])
    if user.facility_id and user.facility.is_grassroots:  # a host: its own postings and its village clinics'
        q |= Q(**{f"{field}_id": user.facility_id}) | Q(**{f"{field}__parent_id": user.facility_id})
    return q


def postings_visible_to(user) -> QuerySet[Posting]:
    return (Posting.objects.filter(hosts_q(user)).select_related("staff__work_facility", "host")
            .annotate(n_days=Count("days"), n_confirmed=Count("days", filter=Q(days__confirmed_at__isnull=False))))


def postings_list(actor: Actor, *, month: dt.date | None = None, host: int | None = None,
                  status: str = PostingStatus.ACTIVE, limit: int = 500) -> list[Posting]:
    qs = postings_visible_to(actor.user)
    if status:
        qs = qs.filter(status=status)
    if month is not None:
        nxt = (month + dt.timedelta(days=32)).replace(day=1)
        qs = qs.filter(start__lt=nxt, end__gte=month)
    if host:
        qs = qs.filter(host_id=host)
    rows = list(qs.order_by("-start", "pk")[:limit])
    audit.record(actor, "view", "wf_posting_list", "", n=len(rows))
    return rows


def get_posting_for(actor: Actor, pk) -> Posting:
    p = postings_visible_to(actor.user).filter(pk=pk).first()
    if p is None:
        raise NotFound()
    return p


def get_day_for(user, pk) -> PostingDay:
    """A posting day the user may act on or see: their own (the expert), or one at a host they see."""
    d = (PostingDay.objects.filter(hosts_q(user, "host") | Q(staff_id=getattr(user, "staff_id", None) or -1), pk=pk)
         .select_related("posting", "host", "staff").first())
    if d is None:
        raise NotFound()
    return d


def my_days(user, day: dt.date | None = None) -> list[PostingDay]:
    """The expert's posting days of ``day`` (today)."""
    if not getattr(user, "staff_id", None):
        return []
    day = day or timezone.localdate()
    return list(PostingDay.objects.filter(staff_id=user.staff_id, day=day, posting__status=PostingStatus.ACTIVE)
                .select_related("host", "posting"))


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day - dt.timedelta(days=day.weekday())
    return start, start + dt.timedelta(days=6)


def coming(user, day: dt.date | None = None) -> tuple[dt.date, dt.date, list[PostingDay]]:
    """Who comes to the user's hosts this week (Monday to Sunday around ``day``)."""
    start, stop = week_of(day or timezone.localdate())
    rows = list(PostingDay.objects.filter(hosts_q(user, "host"), day__range=(start, stop),
                                          posting__status=PostingStatus.ACTIVE)
                .select_related("staff__work_facility", "staff__department", "host", "posting")
                .order_by("day", "host__code", "staff__name"))
    return start, stop, rows


def requests_visible_to(user) -> QuerySet[Request]:
    return Request.objects.filter(hosts_q(user, own=False)).select_related("host") if getattr(user, "role", None) \
        != Role.DOCTOR else Request.objects.none()


def rotas_visible_to(user) -> QuerySet[Rota]:
    if getattr(user, "role", None) == Role.COMMUNITY_MANAGER and user.facility_id and user.facility.community_id:
        return Rota.objects.filter(community_id=user.facility.community_id)
    if getattr(user, "role", None) in (Role.BUREAU, Role.CITY):
        return Rota.objects.filter(facility_scope_q(user, "community__region__code"))
    return Rota.objects.none()


def get_rota_for(user, pk) -> Rota:
    r = rotas_visible_to(user).filter(pk=pk).select_related("community").first()
    if r is None:
        raise NotFound()
    return r


def host_choices(user) -> QuerySet[Facility]:
    """Grassroots facilities the user can file for (managers: the community's)."""
    from ..services.postings import is_host

    if getattr(user, "role", None) == Role.COMMUNITY_MANAGER and user.facility_id:
        qs = Facility.objects.filter(community_id=user.facility.community_id)
    elif user.facility_id and user.facility.is_grassroots:
        qs = Facility.objects.filter(Q(pk=user.facility_id) | Q(parent_id=user.facility_id))
    else:
        qs = Facility.objects.none()
    return qs.filter(pk__in=[f.pk for f in qs.only("pk", "type", "is_active") if is_host(f)]).order_by("code")
