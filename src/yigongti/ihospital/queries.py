"""Reads of the internet hospital, each scoped and audited.

Resident side: the principal reads only its own resident's diagnoses, consultations, pictures, prescription and
delivery. Staff side: a doctor sees the consultations of their own facility (the queue); the consultation grants
its doctor the resident's shared record (``workflow.grants_record``), read live and audited, with
``via_online_consultation`` when the resident lies outside the doctor's own scope (as referrals grant
``via_referral``); pharmacists see the community's consultations that have a prescription and the deliveries;
a village doctor the deliveries to their clinic."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.scoping import scope_for
from yigongti.encounters.models import Diagnosis, Encounter
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import Category, can_read, has_role
from yigongti.residents.models import Resident

from . import eligibility
from . import workflow as wf
from .models import Delivery, Message, OnlineConsultation, Picture
from .principal import ResidentPrincipal

RELATED = ("resident", "facility", "doctor", "encounter__facility")


# ---- the resident's own ------------------------------------------------------------------------------------

def eligible_diagnoses(resident: Resident, today: dt.date | None = None) -> list[eligibility.Eligible]:
    today = today or timezone.localdate()
    since = today - dt.timedelta(days=eligibility.WINDOW_DAYS)
    visits = list(Encounter.objects.filter(resident_id=resident.pk, admit_date__gte=since)
                  .values_list("pk", "admit_date", "facility_id", "facility__name", "main_icd10", "main_diagnosis"))
    rows = [eligibility.Row(pk, day, fid, fname, icd or "", name or "") for pk, day, fid, fname, icd, name in visits]
    by_pk = {v[0]: v for v in visits}
    for enc, icd, name in Diagnosis.objects.filter(encounter_id__in=list(by_pk)).values_list(
            "encounter_id", "icd10", "name"):
        v = by_pk[enc]
        rows.append(eligibility.Row(enc, v[1], v[2], v[3], icd, name))
    return eligibility.eligible(rows, today)


def my_eligible(p: ResidentPrincipal) -> list[eligibility.Eligible]:
    out = eligible_diagnoses(p.resident)
    audit.record(p.actor, "list", "encounter", "", resident=p.resident_id, purpose="ihospital_eligible",
                 n=len(out))
    return out


def my_consultations(p: ResidentPrincipal) -> list[OnlineConsultation]:
    rows = list(OnlineConsultation.objects.filter(resident_id=p.resident_id)
                .select_related("facility", "doctor", "delivery").order_by("-requested_at")[:50])
    audit.record(p.actor, "list", "online_consultation", "", resident=p.resident_id, n=len(rows))
    return rows


def my_consultation(p: ResidentPrincipal, pk) -> OnlineConsultation:
    try:
        c = OnlineConsultation.objects.select_related(*RELATED).get(pk=int(pk), resident_id=p.resident_id)
    except (OnlineConsultation.DoesNotExist, TypeError, ValueError):
        audit.record(p.actor, "denied", "online_consultation", pk, resident=p.resident_id)
        raise NotFound(_("问诊不存在")) from None
    audit.record(p.actor, "view", "online_consultation", c.pk, resident=p.resident_id)
    return c


def messages_of(c: OnlineConsultation) -> list[Message]:
    return list(Message.objects.filter(consultation=c).select_related("author")
                .prefetch_related("pictures").order_by("at", "id"))


def picture_of(c: OnlineConsultation, picture_pk) -> Picture:
    try:
        return Picture.objects.get(pk=int(picture_pk), message__consultation_id=c.pk)
    except (Picture.DoesNotExist, TypeError, ValueError):
        raise NotFound(_("图片不存在")) from None


def delivery_of(c: OnlineConsultation) -> Delivery | None:
    return Delivery.objects.filter(consultation=c).select_related("clinic", "from_facility").first()


def timeline(d: Delivery | None) -> list[tuple[str, dt.datetime | None]]:
    """(label, when) of each step the resident sees on the phone."""
    if d is None:
        return []
    last = _("已取药") if d.mode == wf.DeliveryMode.CLINIC else _("已送达")
    steps = [(_("已发药"), d.dispensed_at), (str(wf.DeliveryStatus.SHIPPED.label), d.shipped_at),
             (str(wf.DeliveryStatus.DELIVERED.label), d.delivered_at)]
    if d.mode == wf.DeliveryMode.CLINIC:
        steps.append((last, d.picked_up_at))
    return steps


# ---- staff -------------------------------------------------------------------------------------------------

def consultations_visible_to(user) -> QuerySet[OnlineConsultation]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return OnlineConsultation.objects.none()
    if has_role(user, Role.DOCTOR) and user.facility_id:
        return OnlineConsultation.objects.filter(facility_id=user.facility_id)
    if has_role(user, Role.PHARMACIST) and user.facility_id:
        return OnlineConsultation.objects.filter(facility__community_id=user.facility.community_id,
                                                 prescription_ref__isnull=False)
    if has_role(user, Role.VILLAGE_DOCTOR) and user.facility_id:
        return OnlineConsultation.objects.filter(delivery__clinic_id=user.facility_id)
    return OnlineConsultation.objects.none()


def may_see_queue(user) -> bool:
    staff = has_role(user, Role.DOCTOR, Role.PHARMACIST, Role.VILLAGE_DOCTOR)
    return staff and bool(getattr(user, "facility_id", None))


def queue(actor: Actor, tab: str = "open") -> list[OnlineConsultation]:
    qs = consultations_visible_to(actor.user).select_related("resident", "facility", "doctor")
    if tab == "open":
        qs = qs.filter(status__in=wf.OPEN)
    rows = list(qs.order_by("status", "requested_at")[:200] if tab == "open" else qs.order_by("-requested_at")[:200])
    audit.record(actor, "list", "online_consultation", "", ids=[c.pk for c in rows][:50], tab=tab)
    return rows


def get_consultation_for(actor: Actor, pk) -> OnlineConsultation:
    """One consultation the user may see, audited (also as a read of the resident through the consultation when the
    resident lies outside the user's own scope)."""
    try:
        c = consultations_visible_to(actor.user).select_related(*RELATED).get(pk=int(pk))
    except (OnlineConsultation.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "online_consultation", pk)
        raise NotFound(_("问诊不存在或无权访问")) from None
    audit.record(actor, "view", "online_consultation", c.pk, resident=c.resident_id)
    if not scope_for(actor.user).contains(c.area_code):
        audit.record(actor, "view", "resident", c.resident_id, via_online_consultation=c.pk)
    return c


def grants(c: OnlineConsultation, now: dt.datetime | None = None) -> bool:
    return wf.grants_record(c.status, c.closed_at, now or timezone.now())


def shared_record(actor: Actor, c: OnlineConsultation, limit: int = 20) -> list[Encounter] | None:
    """The resident's encounters of the last year at every level, with their diagnoses, for the consultation's
    doctors while it grants them (None otherwise, or for a role that does not read clinical records). Audited."""
    user = actor.user
    if user is None or not can_read(user, Category.CLINICAL):
        return None
    own = scope_for(user).contains(c.area_code)
    if not own and not grants(c):
        return None
    since = timezone.localdate() - dt.timedelta(days=365)
    rows = list(Encounter.objects.filter(resident_id=c.resident_id, admit_date__gte=since)
                .select_related("facility", "department").prefetch_related("diagnoses")
                .order_by("-admit_date", "-id")[:limit])
    audit.record(actor, "list", "encounter", "", resident=c.resident_id, ids=[e.pk for e in rows],
                 **({} if own else {"via_online_consultation": c.pk}))
    return rows


def deliveries_visible_to(user) -> QuerySet[Delivery]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.facility_id:
        return Delivery.objects.none()
    if has_role(user, Role.PHARMACIST):
        return Delivery.objects.filter(consultation__facility__community_id=user.facility.community_id)
    if has_role(user, Role.VILLAGE_DOCTOR):
        return Delivery.objects.filter(clinic_id=user.facility_id)
    if has_role(user, Role.DOCTOR):
        return Delivery.objects.filter(consultation__facility_id=user.facility_id)
    return Delivery.objects.none()


def delivery_board(actor: Actor, status: str = "") -> list[Delivery]:
    qs = deliveries_visible_to(actor.user).select_related("consultation__resident", "clinic", "from_facility")
    if status:
        qs = qs.filter(status=status)
    rows = list(qs.order_by("status", "-created_at")[:300])
    audit.record(actor, "list", "ihospital_delivery", "", ids=[d.pk for d in rows][:50])
    return rows


def get_delivery_for(actor: Actor, pk) -> Delivery:
    try:
        d = deliveries_visible_to(actor.user).select_related("consultation__resident", "consultation__facility",
                                                               "clinic").get(pk=int(pk))
    except (Delivery.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "ihospital_delivery", pk)
        raise NotFound(_("配送记录不存在或无权访问")) from None
    audit.record(actor, "view", "ihospital_delivery", d.pk, resident=d.consultation.resident_id)
    return d


def queue_count(user) -> int:
    return consultations_visible_to(user).filter(Q(status=wf.Status.REQUESTED)).count()
