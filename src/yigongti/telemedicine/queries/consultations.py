"""Scoped reads of remote consultations. A consultation is visible to the requesting facility (and its township
center, for a village clinic's request), to the members of the consultation center and to the invited
specialist; reading one needs the clinical category (managers and the bureau see counts, not patients).

The specialist reads the resident's shared record through the consultation while it grants it
(``consultations.grants_record``) even where the resident lies outside the specialist's own scope; every such
read is audited as ``via_consultation``, as ``referrals.queries.shared_record`` does with ``via_referral``."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.core.scoping import scope_for
from yigongti.encounters.models import Encounter
from yigongti.orgs.permissions import Category, can, can_read, check_read
from yigongti.residents.panels import Row

from .. import consultations as rules
from ..models import Attachment, CenterMember, Consultation, ConsultationStatus, Order, OrderStatus, Urgency

S = ConsultationStatus
RELATED = ("resident", "facility", "requested_by", "specialist", "center", "item", "specialty")
URGENCY_RANK = Case(When(urgency=Urgency.EMERGENCY, then=Value(0)), When(urgency=Urgency.URGENT, then=Value(1)),
                    default=Value(2), output_field=IntegerField())


def center_ids_of(user) -> list[int]:
    if user is None or not getattr(user, "pk", None):
        return []
    return list(CenterMember.objects.filter(user_id=user.pk).values_list("center_id", flat=True))


def consultations_visible_to(user) -> QuerySet[Consultation]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Consultation.objects.none()
    q = Q(specialist_id=user.pk) | Q(requested_by_id=user.pk)
    if user.facility_id:
        q |= Q(facility_id=user.facility_id) | Q(facility__parent_id=user.facility_id)
    centers = center_ids_of(user)
    if centers:
        q |= Q(center_id__in=centers)
    return Consultation.objects.filter(q)


def get_consultation_for(actor: Actor, pk) -> Consultation:
    """One consultation the user may see, audited (also as a read of the resident through the consultation when
    the resident lies outside the user's own scope)."""
    check_read(actor, Category.CLINICAL)
    try:
        c = consultations_visible_to(actor.user).select_related(*RELATED, "encounter", "resident__village__parent"
                                                                 ).get(pk=int(pk))
    except (Consultation.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "consultation", pk)
        raise NotFound(_("会诊不存在或无权访问")) from None
    audit.record(actor, "view", "consultation", c.pk, resident=c.resident_id)
    if not scope_for(actor.user).contains(c.area_code):
        audit.record(actor, "view", "resident", c.resident_id, via_consultation=c.pk)
    return c


def grants(c: Consultation, now: dt.datetime | None = None) -> bool:
    return rules.grants_record(c.status, c.answered_at, now or timezone.now())


def shared_record(actor: Actor, c: Consultation, limit: int = 20) -> dict | None:
    """The resident's recent encounters at every level and the reports of the shared centers, live, for the
    parties of a consultation that still grants them (None otherwise: the page then shows no record). Audited,
    with ``via_consultation`` when the resident is outside the reader's own scope."""
    user = actor.user
    if user is not None and not can_read(user, Category.CLINICAL):
        return None
    own = scope_for(user).contains(c.area_code)
    if not own and not grants(c):
        return None
    since = timezone.localdate() - dt.timedelta(days=365)
    encounters = list(Encounter.objects.filter(resident_id=c.resident_id, admit_date__gte=since)
                      .select_related("facility", "department").order_by("-admit_date", "-id")[:limit])
    reports = list(Order.objects.filter(resident_id=c.resident_id, status__in=[OrderStatus.REPORTED,
                                                                                OrderStatus.REVIEWED],
                                        reported_at__date__gte=since)
                   .select_related("item", "facility", "report").order_by("-reported_at")[:limit])
    via = {} if own else {"via_consultation": c.pk}
    audit.record(actor, "list", "encounter", "", resident=c.resident_id, ids=[e.pk for e in encounters], **via)
    audit.record(actor, "list", "telemedicine_report", "", resident=c.resident_id, ids=[o.pk for o in reports],
                 **via)
    return {"encounters": encounters, "reports": reports}


def attachments_of(c: Consultation) -> list[Attachment]:
    return list(Attachment.objects.filter(consultation=c).select_related("uploaded_by").order_by("uploaded_at"))


TABS = ("queue", "scheduled", "assigned", "mine", "done")


def default_tab(user) -> str:
    if center_ids_of(user):
        return "queue"
    if Consultation.objects.filter(specialist_id=user.pk, status__in=rules.OPEN).exists():
        return "assigned"
    return "mine"


def list_consultations(actor: Actor, tab: str = "mine", page: int = 1, size: int = 25) -> Page:
    """A list of consultations: ``queue`` the center's requests to schedule (急诊 first, then the longest
    waiting), ``scheduled`` the center's scheduled ones by time, ``assigned`` the specialist's open ones by time,
    ``mine`` the requests of the user's facility, ``done`` the center's answered and closed ones. Audited."""
    check_read(actor, Category.CLINICAL)
    user = actor.user
    qs = consultations_visible_to(user).select_related(*RELATED)
    centers = center_ids_of(user)
    if tab == "queue":
        qs = qs.filter(center_id__in=centers, status=S.REQUESTED).annotate(rank=URGENCY_RANK).order_by(
            "rank", "requested_at")
    elif tab == "scheduled":
        qs = qs.filter(center_id__in=centers, status=S.SCHEDULED).order_by("scheduled_at")
    elif tab == "assigned":
        qs = qs.filter(specialist_id=user.pk, status__in=rules.OPEN).order_by("scheduled_at", "requested_at")
    elif tab == "done":
        qs = qs.filter(center_id__in=centers).exclude(status__in=rules.OPEN).order_by("-requested_at")
    else:
        fid = user.facility_id if user is not None else None
        qs = qs.filter(Q(facility_id=fid) | Q(facility__parent_id=fid) | Q(requested_by_id=getattr(user, "pk", None))
                       ).order_by("-requested_at")
    result = slice_page(qs, page, size)
    audit.record(actor, "list", "consultation", "", tab=tab, ids=[c.pk for c in result.items])
    now = timezone.now()
    for c in result.items:
        c.due = rules.due_at(c.requested_at, c.center, c.urgency)
        c.overdue = c.status in rules.OPEN and c.due < now
    return result


def queue_counts(user) -> dict[str, int]:
    """Requests waiting to be scheduled by the user's centers, and the user's open consultations as specialist."""
    from django.db.models import Count

    centers = center_ids_of(user)
    row = Consultation.objects.filter(center_id__in=centers, status=S.REQUESTED).aggregate(n=Count("id"))
    mine = Consultation.objects.filter(specialist_id=getattr(user, "pk", None), status__in=rules.OPEN).count()
    return {"waiting": row["n"], "assigned": mine}


def resident_panel(actor: Actor, resident) -> tuple[list[Row], str] | None:
    """The resident page's consultations the reader may see (audited), and the link to request one."""
    user = actor.user
    if user is not None and not can_read(user, Category.CLINICAL):
        return None
    rows_qs = (consultations_visible_to(user) if user is not None else Consultation.objects.all())
    found = list(rows_qs.filter(resident=resident).select_related("center", "specialist")
                 .order_by("-requested_at")[:5])
    audit.record(actor, "list", "consultation", "", resident=resident.pk, ids=[c.pk for c in found], panel=True)
    rows = [Row(c.requested_at, f"{c.accession_no} · {c.question[:40]}",
                reverse("telemedicine:consultation", args=[c.pk]), c.get_status_display(),
                alert=c.status == S.ANSWERED and c.answered_at is not None
                and c.answered_at > timezone.now() - dt.timedelta(days=3)) for c in found]
    if user is not None and can(user, "telemedicine.request_consultation", resident):
        new = reverse("telemedicine:consultation_new")
        rows.append(Row(None, _("＋ 申请远程会诊"), f"{new}?resident={resident.pk}"))
    return rows, ""


def home_panel(actor: Actor):
    """The home page's consultations: waiting to be scheduled (the center), the specialist's open ones, and the
    opinions that came back to the user's requests in the last three days (audited when it lists any)."""
    from yigongti.orgs.home import Item, Panel

    user = actor.user
    if user is None or not can_read(user, Category.CLINICAL):
        return None
    counts = queue_counts(user)
    url = reverse("telemedicine:consultations")
    items = []
    if center_ids_of(user):
        items.append(Item(_("待安排的会诊申请"), f"{url}?tab=queue", counts["waiting"],
                          tone="warning" if counts["waiting"] else "", testid="home-tm-consult-waiting"))
    if counts["assigned"]:
        items.append(Item(_("我的会诊（专家）"), f"{url}?tab=assigned", counts["assigned"], tone="primary",
                          testid="home-tm-consult-assigned"))
    since = timezone.now() - dt.timedelta(days=3)
    answered = list(Consultation.objects.filter(requested_by_id=user.pk, status=S.ANSWERED, answered_at__gte=since)
                    .select_related("resident").order_by("-answered_at")[:5])
    if answered:
        audit.record(actor, "list", "consultation", "", panel="home", ids=[c.pk for c in answered])
    items += [Item(f"{c.resident.name} · {_('会诊意见')}", reverse("telemedicine:consultation", args=[c.pk]),
                   timezone.localtime(c.answered_at).strftime("%m-%d %H:%M") if c.answered_at else "",
                   testid=f"home-tm-consult-{c.pk}") for c in answered]
    if not items:
        return None
    return Panel("telemedicine.consultations", _("远程会诊"), items=items, url=url)
