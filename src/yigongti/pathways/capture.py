"""Capture a pathway's time points once, where they happen: the 120 record (``emergency.CallEvent``), the ECG
center (an ECG order acquired, its report, a STEMI critical finding), the laboratory (a troponin result) and the
imaging center (a CT acquired, its report) — recorded on the resident's open case(s) as the system actor.

Other apps are not edited: ``register()`` connects ``post_save`` receivers to their models (bulk loads, like the
demo's, send no signal and record their events themselves). A service that prefers to say it can call
``capture()`` or ``on_call_event()``: each source record is captured once (``source_ref``), so a signal and a
direct call do not double it. ``backfill(case)`` records what had already happened before the case was opened.

A capture never breaks the writer's transaction: a time the case refuses (before the call, in the future) is
logged and skipped."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable

from django.apps import apps
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.db.models.signals import post_save

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError

from . import events as catalogue
from .models import Case, CaseEvent, CaseStatus

log = logging.getLogger(__name__)
SYSTEM = Actor.system("pathways.capture")
TROPONIN = {"CTNI", "CTNT", "HSCTNI", "HSCTNT", "TNI", "TNT", "HS-CTNI", "HS-CTNT"}
STEMI_TEXT = re.compile(r"STEMI|ST段抬高|急性.{0,6}心肌梗死", re.IGNORECASE)
BACKFILL_BEFORE = dt.timedelta(hours=6)


def _record(case: Case, code: str, at: dt.datetime, source: str, source_ref: str, facility=None,
            value: str = "") -> CaseEvent | None:
    from . import services

    if not catalogue.get(case.kind, code) or at is None:
        return None
    try:
        with transaction.atomic():
            return services.record_event(SYSTEM, case, code, at=at, source=source, source_ref=source_ref,
                                         facility=facility, value=value)
    except (DomainError, DatabaseError) as e:
        log.info("pathway capture skipped: case %s %s at %s: %s", case.pk, code, at, e)
        return None


def open_cases(resident_id: int | None, kinds: tuple[str, ...] | None = None):
    if resident_id is None:
        return Case.objects.none()
    qs = Case.objects.filter(resident_id=resident_id, status=CaseStatus.OPEN).select_related("call",
                                                                                              "first_facility")
    return qs.filter(kind__in=kinds) if kinds else qs


def capture(code: str, *, resident, at: dt.datetime, source: str, source_ref: str, facility=None, value: str = "",
            kinds: tuple[str, ...] | None = None) -> list[CaseEvent]:
    """Record ``code`` on each open case of the resident whose kind has that time point."""
    rid = getattr(resident, "pk", resident)
    out = []
    for case in open_cases(rid, kinds):
        if (ev := _record(case, code, at, source, source_ref, facility, value)) is not None:
            out.append(ev)
    return out


# ---- the 120 record ---------------------------------------------------------------------------------------


def call_event_codes(case: Case, kind: str, *, destination_id: int | None, transfer_from_id: int | None
                     ) -> list[str]:
    """Which time points of the case a 120 time point is (pure: ids and codes only)."""
    first_id = case.first_facility_id
    if case.kind == "neonatal":
        return {"ring": ["transfer_request"], "wheels_rolling": ["team_depart"], "on_scene": ["team_arrive"],
                "arrive_hospital": ["door"]}.get(kind, [])
    codes = {"ring": ["call_120"], "fmc": ["fmc"]}.get(kind, [])
    if kind == "ring" and transfer_from_id is not None:
        codes = []  # a facility asking for a transfer is not the patient's call for help
    if kind == "leave_scene" and transfer_from_id is not None and transfer_from_id == first_id:
        codes = ["door_out"]  # a transfer leaves the township's door
    if kind == "arrive_hospital":
        if destination_id is not None and destination_id == first_id and first_id != case.facility_id:
            codes = ["first_door"]
        elif destination_id is None or destination_id == case.facility_id:
            codes = ["door"]
    return codes


def _cases_of_call(call) -> list[Case]:
    ids = {call.pk}
    if call.merged_into_id:
        ids.add(call.merged_into_id)
    cases = list(Case.objects.filter(call_id__in=ids, status=CaseStatus.OPEN).select_related("call"))
    if not cases and call.resident_id:
        cases = list(open_cases(call.resident_id))
    return cases


def on_call_event(event) -> list[CaseEvent]:
    """A 120 time point (``emergency.CallEvent``) onto the call's case(s)."""
    call = event.call
    mission = event.mission
    out = []
    for case in _cases_of_call(call):
        codes = call_event_codes(case, event.kind, destination_id=mission.destination_id if mission else None,
                                 transfer_from_id=call.from_facility_id if call.kind != "emergency" else None)
        for code in codes:
            facility = mission.destination if code in ("door", "first_door") and mission else None
            recorded = _record(case, code, event.at, "emergency", f"callevent:{event.pk}", facility)
            if recorded is not None:
                out.append(recorded)
    return out


# ---- the ECG center, the laboratory, imaging --------------------------------------------------------------


def _is_ct(order) -> bool:
    return order.kind == "imaging" and (order.item.modality or "").upper() == "CT"


def on_order(order) -> list[CaseEvent]:
    """An order acquired: an ECG → first_ecg; a CT → ct (cta for an aortic dissection / PE); a lab specimen of a
    chest-pain patient is the blood draw only when its troponin comes (``on_lab_result``). A lab order saved with
    its results (the lab bulk-creates them, which sends no signal) brings its troponin."""
    if order.kind == "lab":
        if not open_cases(order.resident_id, ("chest_pain",)).exists():
            return []
        found: list[CaseEvent] = []
        for result in order.results.select_related("analyte", "order"):
            found += on_lab_result(result)
        return found
    if order.acquired_at is None:
        return []
    ref = f"order:{order.pk}"
    if order.kind == "ecg":
        out = capture("first_ecg", resident=order.resident_id, at=order.acquired_at, source="telemedicine",
                      source_ref=ref, facility=order.facility, kinds=("chest_pain",))
        for ev in out:
            if ev.case.ecg_order_id is None:
                Case.objects.filter(pk=ev.case_id, ecg_order__isnull=True).update(ecg_order=order)
        return out
    if _is_ct(order):
        out = []
        for case in open_cases(order.resident_id, ("stroke", "trauma", "chest_pain")):
            code = "cta" if case.kind == "chest_pain" else "ct"
            if (got := _record(case, code, order.acquired_at, "imaging", ref, order.facility)) is not None:
                out.append(got)
        return out
    return []


def _stemi(case: Case, value: str) -> None:
    if case.kind == "chest_pain" and not case.subtype:
        Case.objects.filter(pk=case.pk, subtype="").update(subtype="stemi", diagnosis=value[:200])


def on_report(report) -> list[CaseEvent]:
    """A signed report: an ECG's → ecg_diagnosis (a STEMI conclusion sets the subtype); a CT's → ct_report."""
    order = report.order
    value = (report.conclusion or "")[:120]
    if order.kind == "ecg":
        out = capture("ecg_diagnosis", resident=order.resident_id, at=report.signed_at, source="telemedicine",
                      source_ref=f"report:{report.pk}", value=value, kinds=("chest_pain",))
        if STEMI_TEXT.search(report.conclusion or ""):
            for ev in out:
                _stemi(ev.case, value)
        return out
    if _is_ct(order):
        return capture("ct_report", resident=order.resident_id, at=report.signed_at, source="imaging",
                       source_ref=f"report:{report.pk}", value=value, kinds=("stroke",))
    return []


def on_critical(cv) -> list[CaseEvent]:
    """An ECG critical finding suggesting STEMI: the diagnosis time when no report has given it yet."""
    if cv.kind != "ecg" or cv.finding_id is None or not cv.finding.stemi:
        return []
    out = capture("ecg_diagnosis", resident=cv.resident_id, at=cv.detected_at, source="telemedicine",
                  source_ref=f"critical:{cv.pk}", value=cv.description[:120], kinds=("chest_pain",))
    for case in open_cases(cv.resident_id, ("chest_pain",)):
        _stemi(case, cv.description)
    return out


def on_study(study) -> list[CaseEvent]:
    """A CT study matched to its order (when the order itself carries no acquisition time)."""
    order = study.order
    if order is None or (study.modality or "").upper() != "CT" or order.acquired_at is not None:
        return []
    out = []
    for case in open_cases(order.resident_id, ("stroke", "trauma", "chest_pain")):
        code = "cta" if case.kind == "chest_pain" else "ct"
        if (ev := _record(case, code, study.received_at, "imaging", f"order:{order.pk}", order.facility)):
            out.append(ev)
    return out


def is_troponin(analyte) -> bool:
    code = (analyte.code or "").upper()
    abbr = (analyte.abbreviation or "").upper()
    return code in TROPONIN or abbr in TROPONIN or "肌钙蛋白" in (analyte.name or "")


def on_lab_result(result) -> list[CaseEvent]:
    if not is_troponin(result.analyte):
        return []
    order = result.order
    value = f"{result.value_text or result.value or ''} {result.unit}".strip()
    out = capture("troponin", resident=order.resident_id, at=result.observed_at, source="lab",
                  source_ref=f"labresult:{result.pk}", value=value[:120], kinds=("chest_pain",))
    if order.acquired_at is not None:
        capture("blood_draw", resident=order.resident_id, at=order.acquired_at, source="lab",
                source_ref=f"order:{order.pk}", kinds=("chest_pain",))
    return out


# ---- backfill ---------------------------------------------------------------------------------------------


def backfill(case: Case) -> None:
    """Capture what already happened: the call's 120 time points, the resident's ECG/CT/troponin of the hours
    before the case was opened."""
    call = case.call
    if call is not None:
        CallEvent = apps.get_model("emergency", "CallEvent")
        for event in CallEvent.objects.filter(call=call).select_related("call", "mission").order_by("at"):
            on_call_event(event)
    Order = apps.get_model("telemedicine", "Order")
    since = min([case.opened_at] + ([call.rang_at] if call is not None else [])) - BACKFILL_BEFORE
    which = Q(resident_id=case.resident_id, acquired_at__gte=since)
    if case.ecg_order_id:
        which |= Q(pk=case.ecg_order_id)
    for order in Order.objects.filter(which).select_related("item", "facility").order_by("acquired_at"):
        on_order(order)
        report = getattr(order, "report", None) if order.kind in ("ecg", "imaging") else None
        if report is not None:
            on_report(report)
        if order.kind == "ecg":
            for cv in order.critical_values.select_related("finding"):
                on_critical(cv)


# ---- signals ----------------------------------------------------------------------------------------------


def _safe(fn):
    def receiver(sender, instance, raw=False, **kwargs):
        if raw:  # fixtures
            return
        try:
            fn(instance)
        except Exception:  # a capture must never break the writer
            log.exception("pathway capture failed for %s %s", sender.__name__, instance.pk)

    return receiver


_RECEIVERS: dict[str, Callable[..., None]] = {}


def register() -> None:
    hooks = [("emergency", "CallEvent", on_call_event), ("telemedicine", "Order", on_order),
             ("telemedicine", "Report", on_report), ("telemedicine", "LabResult", on_lab_result),
             ("telemedicine", "CriticalValue", on_critical), ("telemedicine", "ImagingStudy", on_study)]
    for app_label, model_name, fn in hooks:
        model = apps.get_model(app_label, model_name)
        receiver = _RECEIVERS.setdefault(model_name, _safe(fn))
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"pathways.capture.{model_name}")
