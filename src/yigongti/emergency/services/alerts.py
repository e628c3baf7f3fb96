"""The pre-arrival alert (院前预警): the receiving hospital's team (its doctors and nurses) is told what is coming —
the working impression, the 12-lead ECG (a link to the ECG center's order) and when it arrives — and the patient's
pathway (chest pain, stroke …) is opened before the door, with the time points already known (first medical
contact, first ECG). A clinician of the receiving hospital acknowledges it.

The only writer of ``PreArrivalAlert``; reads of alerts (the receiving hospital's list, one alert) are here too,
scoped to the reader's facility and audited."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, NotFound
from yigongti.core.notify import notify
from yigongti.orgs.models import Facility, Role, User
from yigongti.orgs.permissions import can, check

from ..models import Call, CallEvent, EventKind, Mission, PreArrivalAlert, PrehospitalRecord
from . import prehospital

log = logging.getLogger("yigongti.emergency")

ALERT_KIND = "ems_pre_arrival"
ACK_KIND = "ems_alert_ack"
RECENT_HOURS = 24


def team_of(facility: Facility) -> list[User]:
    """The receiving team: the active doctors and nurses of the facility."""
    return list(User.objects.filter(facility=facility, role__in=(Role.DOCTOR, Role.NURSE), is_active=True)
                .select_related("staff"))


def _patient_line(call: Call, record: PrehospitalRecord | None) -> str:
    resident = (record.resident if record is not None and record.resident_id else None) or call.resident
    if resident is None:
        return call.patient_description or _("身份未明患者")
    age = ""
    if resident.birth_date:
        today = timezone.localdate()
        years = today.year - resident.birth_date.year - ((today.month, today.day)
                                                         < (resident.birth_date.month, resident.birth_date.day))
        age = _("%(n)d岁") % {"n": years}
    return f"{resident.name} {resident.get_sex_display()} {age}".strip()


def _message(alert: PreArrivalAlert, call: Call, record: PrehospitalRecord | None) -> tuple[str, str]:
    if alert.mission is not None:
        who = alert.mission.vehicle.call_sign
    else:
        who = call.from_facility.name if call.from_facility is not None else "120"
    eta = ""
    if alert.eta_at is not None:
        minutes = max(0, round((alert.eta_at - timezone.now()).total_seconds() / 60))
        eta = _("，预计 %(m)d 分钟后（%(t)s）到达") % {
            "m": minutes, "t": timezone.localtime(alert.eta_at).strftime("%H:%M")}
    title = _("【预警】%(who)s 送来 %(patient)s：%(what)s%(eta)s") % {
        "who": who, "patient": _patient_line(call, record), "what": alert.impression or call.chief_complaint,
        "eta": eta}
    lines = [_("受理号 %(no)s，主诉：%(c)s") % {"no": call.call_no, "c": call.chief_complaint or "—"}]
    if alert.ecg_order_id:
        lines.append(_("十二导联心电图：%(url)s") % {"url": reverse("telemedicine:order", args=[alert.ecg_order_id])})
    return title, "\n".join(lines)


def pickup_s(call: Call) -> float:
    """How long the recommended ambulance needs to reach a call not yet dispatched (0 when unknown)."""
    try:
        from ..recommend import recommend

        first = recommend(call, limit=1)
    except Exception:  # no graph, no vehicle: the ETA is the transport alone
        log.warning("no recommendation for call %s", call.pk, exc_info=True)
        return 0.0
    return float(first[0].eta_s) if first and first[0].eta_s is not None else 0.0


def _eta_at(call: Call, mission: Mission | None, facility: Facility, now: dt.datetime) -> dt.datetime | None:
    """From where the ambulance is to the hospital; before dispatch, the pickup and then the transport."""
    if mission is not None:
        eta = prehospital.mission_eta_s(mission, facility)
    else:
        eta = prehospital.eta_between(call.node_id, prehospital.facility_node(facility))
        eta = None if eta is None else eta + pickup_s(call)
    return None if eta is None else now + dt.timedelta(seconds=eta)


def send_alert(actor: Actor, mission: Mission, *, facility: Facility | None = None) -> PreArrivalAlert:
    """发送预警: tell the receiving hospital (the one given, else the mission's destination, else the first of
    ``destinations``) what is coming, with the ECG and the ETA, and open the patient's pathway case there. Sending
    again to the same hospital refreshes the ETA and the ECG of the same alert (no second message unless the ECG
    is new)."""
    check(actor, "emergency.send_alert", mission)
    if facility is None:
        facility = mission.destination
    if facility is None:
        ranked = prehospital.destinations(mission)
        if not ranked:
            raise InvalidInput("no_destination", _("请先选择送往医院"), field="facility")
        facility = ranked[0].facility
    if mission.destination_id != facility.pk:
        prehospital.choose_destination(actor, mission, facility)
    record = PrehospitalRecord.objects.filter(mission=mission).select_related("resident").first()
    kind, _subtype = prehospital.pathway_of(record.impression_code if record else "")
    alert = _upsert(actor, mission.call, facility, mission=mission, record=record, pathway=kind)
    open_pathway(actor, alert)
    return alert


def _upsert(actor: Actor, call: Call, facility: Facility, *, mission: Mission | None, record: PrehospitalRecord | None,
            pathway: str, ecg_order=None, impression: str = "") -> PreArrivalAlert:
    now = timezone.now()
    ecg_order = ecg_order or (record.ecg_order if record is not None else None)
    impression = (impression or (record.impression if record is not None else "") or call.chief_complaint)[:200]
    eta_at = _eta_at(call, mission, facility, now)
    with transaction.atomic():
        Call.objects.select_for_update().filter(pk=call.pk).first()  # one alert per call and hospital
        alert = PreArrivalAlert.objects.filter(call=call, facility=facility).first()
        if alert is None and mission is not None:
            alert = PreArrivalAlert.objects.filter(mission=mission, facility=facility).first()
        created = alert is None
        news = created or (ecg_order is not None and alert is not None and alert.ecg_order_id != ecg_order.pk)
        if created:
            alert = PreArrivalAlert.objects.create(
                mission=mission, call=call, facility=facility, pathway=pathway, impression=impression,
                eta_at=eta_at, ecg_order=ecg_order, sent_by=actor.user, sent_at=now)
        else:
            assert alert is not None
            alert.mission = mission or alert.mission
            alert.call = call
            alert.pathway = pathway or alert.pathway
            alert.impression = impression or alert.impression
            alert.eta_at = eta_at or alert.eta_at
            alert.ecg_order = ecg_order or alert.ecg_order
            alert.save(update_fields=["mission", "call", "pathway", "impression", "eta_at", "ecg_order"])
        audit.record(actor, "create" if created else "update", "ems_alert", alert.pk, call=call.pk,
                     facility=facility.pk, pathway=pathway, ecg_order=alert.ecg_order_id,
                     resident=call.resident_id)
        if news:
            title, body = _message(alert, call, record)
            notify(team_of(facility), ALERT_KIND, title, body, reverse("emergency:alert", args=[alert.pk]),
                   urgent=True, public_title=_("您有一条120急救预警，患者即将到达"))
    return alert


def send_call_alert(actor: Actor, call: Call, facility: Facility, *, pathway: str, impression: str = "",
                    ecg_order=None) -> PreArrivalAlert:
    """The alert of a call not yet dispatched (the one-button green channel from a township or a village): the
    county team hears of the patient and sees the ECG at once; the mission joins it when the crew sends its own."""
    return _upsert(actor, call, facility, mission=None, record=None, pathway=pathway, ecg_order=ecg_order,
                   impression=impression)


def case_of(alert: PreArrivalAlert):
    """The pathway case the alert opened (None before, or without a patient or a pathway)."""
    from yigongti.pathways.models import Case

    call_id = alert.call_id or (alert.mission.call_id if alert.mission is not None else None)
    if not alert.pathway or call_id is None:
        return None
    return (Case.objects.filter(call_id=call_id, kind=alert.pathway, facility_id=alert.facility_id)
            .order_by("-opened_at").first())


def _known_events(alert: PreArrivalAlert) -> list[tuple[str, dt.datetime, str, str]]:
    """(code, at, source_ref, value) of the time points the 120 record already holds."""
    out = []
    call = alert.call or (alert.mission.call if alert.mission is not None else None)
    if call is not None and call.kind == "emergency":
        out.append(("call_120", call.rang_at, f"call:{call.pk}", ""))
    if alert.mission_id:
        fmc = CallEvent.objects.filter(mission_id=alert.mission_id, kind=EventKind.FMC).first()
        if fmc is not None:
            out.append(("fmc", fmc.at, f"callevent:{fmc.pk}", ""))
    if alert.ecg_order_id:
        from yigongti.telemedicine.models import EcgRecording

        rec = EcgRecording.objects.filter(order_id=alert.ecg_order_id).first()
        if rec is not None:
            out.append(("first_ecg", rec.acquired_at, f"order:{alert.ecg_order_id}", ""))
    return out


def open_pathway(actor: Actor, alert: PreArrivalAlert, *, first_facility: Facility | None = None, referral=None,
                 arrival_mode: str = "ems", idempotency_key: str = ""):
    """Open (or find) the patient's pathway case at the receiving hospital and record the time points already
    known. None without a patient or a pathway."""
    from yigongti.pathways import events
    from yigongti.pathways import services as pathway_services

    call = alert.call or (alert.mission.call if alert.mission is not None else None)
    resident = call.resident if call is not None else None
    if not alert.pathway or call is None or resident is None:
        return None
    record = PrehospitalRecord.objects.filter(mission_id=alert.mission_id).first() if alert.mission_id else None
    _kind, subtype = prehospital.pathway_of(record.impression_code if record else "")
    from yigongti.pathways.models import Case

    # the crew's clinician opens it; the system on the alert's behalf for a dispatcher, or to join the case the
    # patient already has (the crew is not involved in it, so the pathways would open a second one for them)
    already = Case.objects.filter(resident=resident, kind=alert.pathway, status="open").exists()
    who = actor if not already and actor.user is not None and can(actor.user, "pathways.open_case", resident) \
        else Actor.system("emergency.alerts")
    case = case_of(alert)
    if case is None:
        case = pathway_services.open_case(
            who, resident, alert.pathway, facility=alert.facility, first_facility=first_facility, call=call,
            referral=referral, ecg_order=alert.ecg_order, arrival_mode=arrival_mode, subtype=subtype,
            at=alert.sent_at, idempotency_key=idempotency_key or f"ems-alert-{alert.pk}")
    elif alert.ecg_order_id and case.ecg_order_id is None:
        type(case).objects.filter(pk=case.pk).update(ecg_order_id=alert.ecg_order_id)
    system = Actor.system("emergency.alerts")
    for code, at, ref, value in _known_events(alert):
        if not events.is_known(case.kind, code) or case.events.filter(code=code, active=True).exists():
            continue
        pathway_services.record_event(system, case, code, at=at, source="emergency", source_ref=ref, value=value)
    return case


def ack_alert(actor: Actor, alert: PreArrivalAlert) -> PreArrivalAlert:
    """确认预警: a doctor or nurse of the receiving hospital acknowledges (once; later presses keep the first);
    the sender hears it."""
    check(actor, "emergency.ack_alert", alert)
    with transaction.atomic():
        locked = PreArrivalAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is not None:
            return locked
        locked.acknowledged_by, locked.acknowledged_at = actor.user, timezone.now()
        locked.save(update_fields=["acknowledged_by", "acknowledged_at"])
        audit.record(actor, "update", "ems_alert", locked.pk, move="ack")
        if locked.sent_by_id:
            who = (actor.user.display_name or actor.user.get_username()) if actor.user else ""
            title = _("%(f)s 已确认预警（%(who)s）") % {"f": locked.facility.name, "who": who}
            notify([locked.sent_by], ACK_KIND, title, "", reverse("emergency:alert", args=[locked.pk]))
    return locked


# ---- reads ---------------------------------------------------------------------------------------------------

def _base():
    return PreArrivalAlert.objects.select_related(
        "facility", "mission__vehicle", "mission__destination", "mission__call__resident", "call__resident",
        "call__from_facility", "ecg_order", "sent_by", "acknowledged_by")


def _with_call(alert: PreArrivalAlert) -> PreArrivalAlert:
    """Alerts written before ``call`` existed (or bulk-loaded without it) read their mission's call."""
    if alert.call_id is None and alert.mission is not None:
        alert.call = alert.mission.call
    return alert


def may_see(user, alert: PreArrivalAlert) -> bool:
    """The receiving hospital's staff, the sender, the dispatchers and the crew of the mission."""
    if user is None or not user.is_authenticated:
        return False
    if user.facility_id is not None and user.facility_id == alert.facility_id:
        return True
    if alert.sent_by_id == user.pk or user.role == Role.DISPATCHER:
        return True
    if alert.mission is not None:
        from ..permissions import is_crew

        return is_crew(user, alert.mission.vehicle)
    return False


def alert_for(actor: Actor, pk: int) -> PreArrivalAlert:
    alert = _base().filter(pk=pk).first()
    if alert is None or not may_see(actor.user, alert):
        raise NotFound(_("预警不存在或无权查看"))
    _with_call(alert)
    audit.record(actor, "view", "ems_alert", alert.pk, resident=alert.call.resident_id if alert.call_id else None)
    return alert


def incoming(actor: Actor, *, hours: int = RECENT_HOURS, limit: int = 50) -> list[PreArrivalAlert]:
    """The alerts to the reader's hospital in the last hours: not yet acknowledged first, then newest."""
    user = actor.user
    if user is None or user.facility_id is None:
        return []
    since = timezone.now() - dt.timedelta(hours=hours)
    rows = [_with_call(a) for a in _base().filter(facility_id=user.facility_id, sent_at__gte=since)
            .order_by("acknowledged_at", "-sent_at")[:limit]]
    rows.sort(key=lambda a: (a.acknowledged_at is not None, -a.sent_at.timestamp()))
    if rows:
        audit.record(actor, "view", "ems_alert", "", ids=[a.pk for a in rows], facility=user.facility_id)
    return rows


def receives_alerts(user) -> bool:
    """Whether the user's facility receives pre-arrival alerts (runs a pathway center or has had an alert)."""
    if user is None or user.facility_id is None or user.role not in (Role.DOCTOR, Role.NURSE):
        return False
    from yigongti.pathways.models import PathwayCenter

    return (PathwayCenter.objects.filter(facility_id=user.facility_id, active=True).exists()
            or PreArrivalAlert.objects.filter(facility_id=user.facility_id).exists())
