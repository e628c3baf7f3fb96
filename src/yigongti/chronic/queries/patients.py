"""Scoped, audited reads of the managed patients (``chronic:patients``, ``chronic:patient``) and their follow-ups.

Every read needs the public-health category (``check_read``), is limited to the reader's area (``core.scoping`` on
the resident's area code), and is audited with the ids it returned; an enrolment out of scope and one that does
not exist look the same (404). Phones and ID numbers are masked here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.core.personal import mask_id_number, mask_phone
from yigongti.core.scoping import scope_for
from yigongti.orgs.permissions import Category, check_read

from .. import rules
from ..models import Condition, Control, Enrolment, EnrolmentStatus, FollowUp

PAGE_SIZE = 50
STATES = ("", "overdue", "uncontrolled", "referred")


@dataclass
class PatientFilter:
    condition: str = ""
    status: str = EnrolmentStatus.MANAGED
    village: str = ""  # 12-digit village code
    state: str = ""  # one of STATES
    q: str = ""  # a name prefix

    @classmethod
    def from_query(cls, data) -> PatientFilter:
        f = cls(condition=data.get("condition", "") or "", status=data.get("status", "") or EnrolmentStatus.MANAGED,
                village=(data.get("village", "") or "").strip(), state=data.get("state", "") or "",
                q=(data.get("q", "") or "").strip()[:20])
        if f.condition and f.condition not in Condition.values:
            raise InvalidInput("invalid_condition", _("病种参数无效"), field="condition")
        if f.status not in (*EnrolmentStatus.values, "all"):
            raise InvalidInput("invalid_status", _("状态参数无效"), field="status")
        if f.state not in STATES:
            raise InvalidInput("invalid_state", _("筛选参数无效"), field="state")
        if f.village and not (len(f.village) == 12 and f.village.isdigit()):
            raise InvalidInput("invalid_village", _("村参数无效（12位区划代码）"), field="village")
        return f


def enrolments_visible_to(user) -> QuerySet[Enrolment]:
    return scope_for(user).filter(Enrolment.objects.all(), "resident__area_code")


def patients_queryset(user, f: PatientFilter, today: dt.date) -> QuerySet[Enrolment]:
    qs = enrolments_visible_to(user).select_related("resident", "village", "facility")
    if f.status != "all":
        qs = qs.filter(status=f.status)
    if f.condition:
        qs = qs.filter(condition=f.condition)
    if f.village:
        qs = qs.filter(village__code=f.village)
    if f.q:
        qs = qs.filter(resident__name__startswith=f.q)
    if f.state == "overdue":
        qs = qs.filter(next_due__lt=today)
    elif f.state == "uncontrolled":
        qs = qs.filter(last_control__in=[Control.UNCONTROLLED, Control.ADVERSE, Control.COMPLICATION])
    elif f.state == "referred":  # the last visit suggested a referral
        qs = qs.filter(Exists(FollowUp.objects.filter(enrolment=OuterRef("pk"), visit_date=OuterRef("last_visit_on"),
                                                      referral_suggested=True)))
    return qs.order_by("next_due", "resident__name", "pk")


def patients_for(actor: Actor, f: PatientFilter | None = None, *, page: int = 1, size: int = PAGE_SIZE,
                 today: dt.date | None = None) -> Page:
    """One page of the reader's managed patients (audited)."""
    check_read(actor, Category.PUBLIC_HEALTH)
    f = f or PatientFilter()
    today = today or timezone.localdate()
    p = slice_page(patients_queryset(actor.user, f, today), page, size)
    audit.record(actor, "view", "chronic_patients", "", filter=f.__dict__, page=p.number,
                 enrolments=[e.pk for e in p.items])
    return p


def get_enrolment(actor: Actor, pk: Any) -> Enrolment:
    """One enrolment the reader may see (audited); out of scope and nonexistent look the same (404)."""
    check_read(actor, Category.PUBLIC_HEALTH)
    try:
        e = enrolments_visible_to(actor.user).select_related("resident", "village", "facility", "doctor").get(
            pk=int(pk))
    except (Enrolment.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "chronic_enrolment", pk)
        raise NotFound(_("慢病管理记录不存在或不在您的管辖范围内")) from None
    audit.record(actor, "view", "chronic_enrolment", e.pk)
    return e


def follow_ups_of(actor: Actor, enrolment: Enrolment, *, limit: int = 200) -> list[FollowUp]:
    """The enrolment's follow-ups, newest first (the enrolment was fetched through ``get_enrolment``)."""
    rows = list(FollowUp.objects.filter(enrolment=enrolment).select_related("facility", "by", "referral")
                .order_by("-visit_date", "-id")[:limit])
    audit.record(actor, "view", "chronic_follow_ups", enrolment.pk, follow_ups=[f.pk for f in rows])
    return rows


def get_follow_up(actor: Actor, pk: Any) -> FollowUp:
    check_read(actor, Category.PUBLIC_HEALTH)
    try:
        fu = scope_for(actor.user).filter(FollowUp.objects.select_related("enrolment__resident", "referral"),
                                          "resident__area_code").get(pk=int(pk))
    except (FollowUp.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "chronic_follow_up", pk)
        raise NotFound(_("随访记录不存在或不在您的管辖范围内")) from None
    audit.record(actor, "view", "chronic_follow_up", fu.pk)
    return fu


def chart(follow_ups: list[FollowUp]) -> dict[str, list]:
    """The series of the patient page's chart (oldest first): dates, SBP, DBP, FBG."""
    rows = sorted(follow_ups, key=lambda f: (f.visit_date, f.pk))
    return {"dates": [f.visit_date.isoformat() for f in rows], "sbp": [f.sbp for f in rows],
            "dbp": [f.dbp for f in rows], "fbg": [float(f.fbg) if f.fbg is not None else None for f in rows]}


def reason_labels(codes: list[str]) -> list[str]:
    return [str(rules.REASONS.get(c, c)) for c in codes]


def masked(e: Enrolment) -> dict[str, str]:
    r = e.resident
    return {"id_number": mask_id_number(r.id_number or ""), "phone": mask_phone(r.phone)}
