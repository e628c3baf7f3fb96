"""一键呼叫 (the one-button green channel): a township or village doctor facing a suspected STEMI or stroke presses
one button, and together the platform

1. submits a green-channel up-referral to the county center (``referrals.services.submit_referral``, urgency
   green — the referral center answers within its green-channel SLA),
2. asks 120 for the transfer (``emergency.services.calls.create_transfer``, kind 一键呼叫, priority I — the call is
   on the dispatcher's board at once, located at the doctor's facility),
3. sends the county team the pre-arrival alert with the patient's ECG (``emergency.services.alerts``),
4. opens the patient's pathway case at the county center (``pathways.services.open_case``, arrival by transfer,
   the township as the first facility).

Pressing again (a double tap, a retry after the network came back, a colleague at the same moment) while the first
is under way returns the same four; a press that fails part way leaves nothing behind (one transaction)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, NotFound
from yigongti.core.scoping import scope_for
from yigongti.orgs.permissions import check

# kind → (label, ICD-10, diagnosis, the pre-hospital impression code whose needs pick the center)
KINDS: dict[str, tuple[Any, str, Any, str]] = {
    "chest_pain": (gettext_lazy("胸痛（疑似STEMI）"), "I21.9", gettext_lazy("急性ST段抬高型心肌梗死（疑似）"), "stemi"),
    "stroke": (gettext_lazy("卒中（疑似急性脑卒中）"), "I63.9", gettext_lazy("急性缺血性脑卒中（疑似）"),
               "stroke_ischaemic"),
}
OPEN_WITHIN = dt.timedelta(hours=12)  # an open one-button call younger than this is the same press
ECG_WITHIN = dt.timedelta(hours=6)  # the resident's ECG attached when none is named


@dataclass
class GreenChannel:
    referral: Any
    call: Any
    alert: Any
    case: Any


def resident_in_scope(actor: Actor, resident):
    from yigongti.residents.models import Resident

    if not isinstance(resident, Resident):
        resident = Resident.objects.filter(pk=resident, merged_into__isnull=True).first()
    if resident is None or (actor.user is not None and not scope_for(actor.user).contains(resident.area_code)):
        raise NotFound(_("居民档案不存在或不在您的管辖范围内"))
    return resident


def ecg_for(resident, ecg_order: Any):
    from yigongti.telemedicine.models import CenterKind, Order

    if ecg_order is not None and not isinstance(ecg_order, Order):
        ecg_order = Order.objects.filter(pk=ecg_order).first()
        if ecg_order is None:
            raise InvalidInput("unknown_ecg", _("心电图申请单不存在"), field="ecg_order")
    if ecg_order is not None:
        if ecg_order.resident_id != resident.pk or ecg_order.kind != CenterKind.ECG:
            raise InvalidInput("unknown_ecg", _("所选心电图不属于该患者"), field="ecg_order")
        return ecg_order
    since = timezone.now() - ECG_WITHIN
    return (Order.objects.filter(resident=resident, kind=CenterKind.ECG, ordered_at__gte=since)
            .exclude(status="cancelled").order_by("-ordered_at").first())


def county_center(actor: Actor, kind: str):
    """The receiving center for this pathway: the community's best by capability, then road time from here."""
    from yigongti.emergency.services import prehospital

    facility = actor.user.facility
    pathway, subtype = prehospital.pathway_of(KINDS[kind][3])
    ranked = [d for d in prehospital.rank_destinations(facility.community_id, pathway, subtype,
                                                         prehospital.facility_node(facility))
              if d.facility.pk != facility.pk and d.meets]
    if not ranked:
        raise InvalidInput("no_center", _("医共体内没有可接收该患者的救治中心"), field="kind")
    return ranked[0]


def new_key() -> str:
    """A key for the confirm form: a double tap or a resubmission posts the same one."""
    import secrets

    return secrets.token_hex(8)


def _bundle(call) -> GreenChannel:
    from yigongti.emergency.models import PreArrivalAlert
    from yigongti.pathways.models import Case

    alert = PreArrivalAlert.objects.filter(call=call).select_related("facility").order_by("sent_at").first()
    case = Case.objects.filter(call=call).order_by("-opened_at").first()
    return GreenChannel(call.referral, call, alert, case)


def bundle_for(actor: Actor, call_pk: int) -> GreenChannel:
    """One press (by its 120 call) for the sending facility (or the township above it), the receiving hospital
    and the dispatchers; audited."""
    from yigongti.emergency.models import Call, CallKind

    call = (Call.objects.filter(pk=call_pk, kind=CallKind.GREEN_CHANNEL)
            .select_related("referral__to_facility", "from_facility", "resident").first())
    user = actor.user
    if call is None or user is None:
        raise NotFound(_("一键呼叫记录不存在或无权查看"))
    parties = {call.from_facility_id, call.from_facility.parent_id if call.from_facility is not None else None,
               call.referral.to_facility_id if call.referral is not None else None} - {None}
    if not (user.role == "dispatcher" or user.facility_id in parties):
        raise NotFound(_("一键呼叫记录不存在或无权查看"))
    audit.record(actor, "view", "green_channel", call.pk, resident=call.resident_id)
    return _bundle(call)


def open_press(actor: Actor, resident, kind: str) -> GreenChannel | None:
    """The press already under way for this resident and pathway (from any facility: the village doctor and the
    township doctor pressing for one patient start one transfer), if any."""
    from yigongti.emergency.models import Call, CallKind, CallStatus

    call = (Call.objects.filter(kind=CallKind.GREEN_CHANNEL, resident=resident, complaint_code=kind,
                                status__in=(CallStatus.OPEN, CallStatus.DISPATCHED),
                                rang_at__gte=timezone.now() - OPEN_WITHIN)
            .select_related("referral").order_by("-rang_at").first())
    return None if call is None else _bundle(call)


def press(actor: Actor, resident, *, kind: str = "chest_pain", encounter=None, ecg_order=None, note: str = "",
          idempotency_key: str = "") -> GreenChannel:
    """一键呼叫: the green-channel referral, the 120 transfer, the county team's alert with the ECG and the
    pathway case, all in one go (see the module's docstring): all four or none (one transaction), one press at a
    time per resident (the resident's row is locked, so two doctors' or two taps' presses make one)."""
    from yigongti.residents.models import Resident

    check(actor, "pathways.green_channel", resident)
    if kind not in KINDS:
        raise InvalidInput("invalid_kind", _("一键呼叫仅用于胸痛（STEMI）或卒中"), field="kind")
    resident = resident_in_scope(actor, resident)
    ecg = ecg_for(resident, ecg_order)
    key = (idempotency_key or "").strip()[:40] or f"{resident.pk}-{kind}-{timezone.localtime():%y%m%d%H%M}"
    with transaction.atomic():
        Resident.objects.select_for_update().filter(pk=resident.pk).values_list("pk", flat=True).first()
        before = open_press(actor, resident, kind)
        done = _press(actor, resident, kind, before, ecg, (note or "").strip()[:500], key)
        audit.record(actor, "create" if before is None else "update", "green_channel", done.call.pk,
                     resident=resident.pk, kind=kind, referral=done.referral.pk, alert=done.alert.pk,
                     case=done.case.pk, ecg_order=ecg.pk if ecg is not None else None,
                     encounter=getattr(encounter, "pk", encounter))
    return done


def _press(actor: Actor, resident, kind: str, before: GreenChannel | None, ecg, note: str, key: str
           ) -> GreenChannel:
    from yigongti.emergency.services import alerts, calls, prehospital
    from yigongti.referrals.services import submit_referral

    from . import services as pathway_services

    facility = actor.user.facility
    label, icd10, diagnosis, impression = KINDS[kind]
    if before is not None and before.referral is not None and before.referral.to_facility is not None:
        to_facility = before.referral.to_facility
    else:
        to_facility = county_center(actor, kind).facility
    reason = note or _("一键呼叫：%(what)s，请求绿色通道上转") % {"what": label}
    referral = before.referral if before is not None and before.referral is not None else submit_referral({
        "resident": resident.pk, "direction": "up", "urgency": "green", "to_facility": to_facility.pk,
        "icd10": icd10, "diagnosis": str(diagnosis), "reason": reason, "meets_up_criteria": True,
        "ecg_changes": kind == "chest_pain", "exams": _("十二导联心电图（远程心电）") if ecg is not None else ""},
        f"gc-{key}", actor=actor)
    call = before.call if before is not None else calls.create_transfer(
        actor, resident=resident, from_facility=facility, priority=1,
        chief_complaint=f"{label}{('：' + note) if note else ''}"[:200], complaint_code=kind, referral=referral,
        destination=to_facility, kind="green_channel", special_needs=("monitoring",))
    pathway, subtype = prehospital.pathway_of(impression)
    alert = alerts.send_call_alert(actor, call, to_facility, pathway=pathway, impression=str(diagnosis),
                                   ecg_order=ecg)
    case = before.case if before is not None and before.case is not None else pathway_services.open_case(
        actor, resident, kind, facility=to_facility, first_facility=facility, call=call, referral=referral,
        ecg_order=ecg, arrival_mode="transfer", subtype=subtype, idempotency_key=f"gc-{key}")
    return GreenChannel(referral, call, alert, case)
