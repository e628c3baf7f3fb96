"""Scoped, audited reads of the settlement lists (结算清单), the out-of-county filings and the pay-later accounts.

Who sees which list: the insurance officer the facilities of the county (their region's scope), the clinicians
and the admin of a facility their own facility's. These are person-level settlement data: reading needs the
settlement category of ``orgs.permissions.READS``; every list and every opened record is audited. Names are
shown in full to the facility that treated the patient and masked (张*明) to everyone else."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.core.personal import mask_name
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Facility, Role
from yigongti.orgs.permissions import Category, check_read, has_role

from .. import pay_later
from ..models import CaseGroup, CasePayment, Discharge, GroupStatus, OutOfCountyFiling, PayLater

FACILITY_ROLES = (Role.DOCTOR, Role.NURSE, Role.FACILITY_ADMIN, Role.VILLAGE_DOCTOR, Role.PHARMACIST)
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
INCOMPLETE = "incomplete"
UNGROUPED = "ungrouped"
STATUSES = ((GroupStatus.GROUPED, _("已入组")), (GroupStatus.UNGROUPABLE, _("无法入组")),
            (INCOMPLETE, _("清单不完整")), (UNGROUPED, _("未分组")))


def _active(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def facilities_of(user) -> QuerySet[Facility]:
    """The facilities whose settlement lists and accounts the user may see."""
    if not _active(user):
        return Facility.objects.none()
    if has_role(user, Role.INSURANCE_OFFICER):
        scope = scope_for(user)
        return Facility.objects.none() if scope.unrestricted else Facility.objects.filter(scope.q("region__code"))
    if has_role(user, *FACILITY_ROLES) and user.facility_id:
        return Facility.objects.filter(pk=user.facility_id)
    return Facility.objects.none()


def discharges_visible_to(user) -> QuerySet[Discharge]:
    return Discharge.objects.filter(facility__in=facilities_of(user))


def shown_name(user, facility_id: int | None, name: str) -> str:
    """The patient's name as this reader sees it: in full at the treating facility, else masked."""
    if user is not None and getattr(user, "facility_id", None) == facility_id and facility_id is not None:
        return name
    return mask_name(name or "")


# ---- settlement lists ----------------------------------------------------------------------------------------

@dataclass
class CaseFilter:
    facility: str = ""  # a facility id
    month: str = ""  # YYYY-MM of the discharge
    status: str = ""  # grouped / ungroupable / incomplete / ungrouped (under the payment version)
    drg: str = ""

    @classmethod
    def from_query(cls, data) -> CaseFilter:
        def get(name: str) -> str:
            return str(data.get(name, "") or "").strip()

        return cls(facility=get("facility")[:12], month=get("month")[:7], status=get("status")[:12],
                   drg=get("drg")[:6].upper())

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def filter_discharges(qs: QuerySet[Discharge], f: CaseFilter, version: str) -> QuerySet[Discharge]:
    if f.facility:
        qs = qs.filter(facility_id=int(f.facility)) if f.facility.isdigit() else qs.none()
    if f.month:
        m = MONTH_RE.match(f.month)
        if m and 1 <= int(m.group(2)) <= 12:
            qs = qs.filter(discharge_date__year=int(m.group(1)), discharge_date__month=int(m.group(2)))
        else:
            qs = qs.none()
    groups = CaseGroup.objects.filter(discharge=OuterRef("pk"), version=version)
    if f.status == INCOMPLETE:
        qs = qs.exclude(problems=[])
    elif f.status == UNGROUPED:
        qs = qs.exclude(Exists(groups))
    elif f.status in GroupStatus.values:
        qs = qs.filter(Exists(groups.filter(status=f.status)))
    elif f.status:
        qs = qs.none()
    if f.drg:
        qs = qs.filter(Exists(groups.filter(drg=f.drg)))
    return qs


def case_list(actor: Actor, f: CaseFilter, page: int = 1, size: int = 25, *, version: str) -> Page:
    """One page of the settlement lists the user may see, newest discharge first, each with its group under
    ``version`` (``d.group``) and the name shown (``d.shown_name``); audited with the ids shown."""
    check_read(actor, Category.SETTLEMENT)
    qs = filter_discharges(discharges_visible_to(actor.user), f, version)
    qs = (qs.select_related("facility", "resident").order_by("-discharge_date", "-pk")
          .prefetch_related(Prefetch("groups", queryset=CaseGroup.objects.filter(version=version), to_attr="_g")))
    result = slice_page(qs, page, size)
    for d in result.items:
        d.group = d._g[0] if d._g else None
        d.shown_name = shown_name(actor.user, d.facility_id, d.resident.name if d.resident else "")
    audit.record(actor, "list", "discharge", "", query=f.as_dict(), page=result.number,
                 ids=[d.pk for d in result.items])
    return result


def get_discharge_for(actor: Actor, pk) -> Discharge:
    """One settlement list the user may see, with its groups (``d.by_version``) and payments; audited."""
    check_read(actor, Category.SETTLEMENT)
    try:
        d = (discharges_visible_to(actor.user).select_related("facility", "resident", "encounter")
             .prefetch_related("groups", "payments").get(pk=int(pk)))
    except (Discharge.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "discharge", pk)
        raise NotFound(_("结算清单不存在或无权访问")) from None
    d.by_version = {g.version: g for g in d.groups.all()}  # type: ignore[attr-defined]
    d.shown_name = shown_name(  # type: ignore[attr-defined]
        actor.user, d.facility_id, d.resident.name if d.resident else "")
    audit.record(actor, "view", "discharge", d.pk, resident=d.resident_id)
    return d


def payments_of(d: Discharge) -> list[CasePayment]:
    return sorted(d.payments.all(), key=lambda p: p.method)


def facility_choices(user) -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in facilities_of(user).order_by("code").values_list("pk", "name")]


def month_choices(user, limit: int = 24) -> list[str]:
    days = (discharges_visible_to(user).dates("discharge_date", "month", order="DESC")[:limit])
    return [f"{d:%Y-%m}" for d in days]


# ---- out-of-county filings -----------------------------------------------------------------------------------

@dataclass
class FilingFilter:
    status: str = ""  # active / revoked
    q: str = ""  # the resident's name (prefix)

    @classmethod
    def from_query(cls, data) -> FilingFilter:
        return cls(status=str(data.get("status", "") or "")[:8], q=str(data.get("q", "") or "").strip()[:40])

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def filings_visible_to(user) -> QuerySet[OutOfCountyFiling]:
    """Filings of the residents within the user's scope (an unrestricted scope sees none: no county)."""
    scope = scope_for(user)
    if scope.unrestricted or not _active(user):
        return OutOfCountyFiling.objects.none()
    return OutOfCountyFiling.objects.filter(scope.q("resident__area_code"))


def filing_list(actor: Actor, f: FilingFilter, page: int = 1, size: int = 25) -> Page:
    check_read(actor, Category.SETTLEMENT)
    qs = filings_visible_to(actor.user).select_related("resident", "filed_by").order_by("-filed_at", "-pk")
    if f.status in OutOfCountyFiling.Status.values:
        qs = qs.filter(status=f.status)
    elif f.status:
        qs = qs.none()
    if f.q:
        qs = qs.filter(resident__name__startswith=f.q)
    result = slice_page(qs, page, size)
    audit.record(actor, "list", "out_of_county_filing", "", query=f.as_dict(), page=result.number,
                 ids=[x.pk for x in result.items])
    return result


def get_filing_for(actor: Actor, pk) -> OutOfCountyFiling:
    check_read(actor, Category.SETTLEMENT)
    try:
        filing = filings_visible_to(actor.user).select_related("resident").get(pk=int(pk))
    except (OutOfCountyFiling.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "out_of_county_filing", pk)
        raise NotFound(_("备案不存在或无权访问")) from None
    audit.record(actor, "view", "out_of_county_filing", filing.pk, resident=filing.resident_id)
    return filing


# ---- pay-later accounts --------------------------------------------------------------------------------------

@dataclass
class PayLaterFilter:
    status: str = "unsettled"  # open / overdue / settled / unsettled (open or overdue) / "" all
    facility: str = ""

    @classmethod
    def from_query(cls, data) -> PayLaterFilter:
        return cls(status=str(data.get("status", "unsettled"))[:10], facility=str(data.get("facility", "") or "")[:12])

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def pay_later_visible_to(user) -> QuerySet[PayLater]:
    return PayLater.objects.filter(encounter__facility__in=facilities_of(user))


def pay_later_list(actor: Actor, f: PayLaterFilter, page: int = 1, size: int = 25,
                   today: dt.date | None = None) -> Page:
    """One page of accounts, oldest due first; each with ``status_now`` and the name shown; audited."""
    check_read(actor, Category.SETTLEMENT)
    qs = pay_later_visible_to(actor.user).filter(pay_later.status_q(f.status, today))
    if f.facility:
        qs = qs.filter(encounter__facility_id=int(f.facility)) if f.facility.isdigit() else qs.none()
    qs = qs.select_related("encounter__facility", "encounter__resident").order_by("due_date", "pk")
    result = slice_page(qs, page, size)
    for a in result.items:
        a.status_now = pay_later.status_of(a, today)
        e = a.encounter
        a.shown_name = shown_name(actor.user, e.facility_id, e.resident.name if e.resident else "")
    audit.record(actor, "list", "pay_later", "", query=f.as_dict(), page=result.number,
                 ids=[a.pk for a in result.items])
    return result


def get_pay_later_for(actor: Actor, pk) -> PayLater:
    check_read(actor, Category.SETTLEMENT)
    try:
        a = pay_later_visible_to(actor.user).select_related("encounter__facility", "encounter__resident").get(
            pk=int(pk))
    except (PayLater.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "pay_later", pk)
        raise NotFound(_("先诊疗后付费记录不存在或无权访问")) from None
    audit.record(actor, "view", "pay_later", a.pk, resident=a.encounter.resident_id)
    return a


def encounter_for_pay_later(actor: Actor, pk):
    """An encounter at a facility the user sees, to open an account for (404, audited, otherwise)."""
    from yigongti.encounters.models import Encounter

    qs = Encounter.objects.all() if actor.is_system else Encounter.objects.filter(
        facility__in=facilities_of(actor.user))
    try:
        return qs.select_related("facility").get(pk=int(pk))
    except (Encounter.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "encounter", pk)
        raise NotFound(_("就诊记录不存在或无权访问")) from None
