"""Scoped, audited reads of ECG recordings: whoever may see the order (the patient's scope, the readers of the
ECG center, the ordering facility) and whose role reads clinical records sees its recording; every look is an
audit event. The samples go to the browser as they are stored (int16, little-endian, lead after lead) with the
gain beside them, so the 12 leads of 10 s are 120 KB (160 KB as base64 in the page) and need no conversion on
the server."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import NotFound
from yigongti.core.scoping import scope_for
from yigongti.orgs.permissions import Category, can, can_read, check_read

from ..models import CenterKind, EcgRecording, Order, OrderStatus

# the order of the measurements on the page, with their labels and units
MEASURES = [("rhythm", _lazy("心律"), ""), ("rate", _lazy("心率"), _lazy("次/分")), ("pr", "PR", "ms"),
            ("qrs", "QRS", "ms"), ("qt", "QT", "ms"), ("qtc", "QTc", "ms"), ("axis", _lazy("电轴"), "°")]


def _visible_orders(user):
    try:
        from .orders import orders_visible_to
    except ImportError:  # the orders queries are another helper's module; the plain rule meanwhile
        from django.db.models import Q

        q = scope_for(user).q("area_code") | Q(facility_id=user.facility_id)
        return Order.objects.filter(q | Q(center__members__user=user)).distinct()
    return orders_visible_to(user)


def _fetch(actor: Actor, pk: Any, *related: str, defer: tuple[str, ...] = ()) -> Order:
    check_read(actor, Category.CLINICAL)
    qs = Order.objects.all() if actor.user is None else _visible_orders(actor.user)
    try:
        order = qs.select_related(*related).defer(*defer).filter(pk=int(pk), kind=CenterKind.ECG).first()
    except (TypeError, ValueError):
        order = None
    if order is None:
        audit.record(actor, "denied", "telemedicine_order", pk)
        raise NotFound(_("申请单不存在或不在您的管辖范围内"))
    return order


PAGE_RELATED = ("resident", "facility", "center", "item", "ordered_by")


def ecg_order_for(actor: Actor, pk: Any) -> Order:
    """An ECG order the user may see (clinical read); 404 for one out of scope or not an ECG (audited)."""
    return _fetch(actor, pk, *PAGE_RELATED)


def recording_for(actor: Actor, order_pk: Any, *, part: str = "page", samples: bool = True) -> EcgRecording:
    """The recording of an ECG order with its order (one query), audited (``part``: the page, the samples, the
    API); ``samples=False`` leaves the 120 KB of samples in the database (the API's metadata)."""
    related = ("ecg",) if part in ("samples", "api_samples", "naive") else (*PAGE_RELATED, "ecg")
    order = _fetch(actor, order_pk, *related, defer=() if samples else ("ecg__samples",))
    try:
        recording = order.ecg
    except EcgRecording.DoesNotExist:
        raise NotFound(_("该申请单尚未上传心电图")) from None
    audit.record(actor, "view", "telemedicine_ecg", recording.pk, order=order.pk, part=part)
    return recording


def samples_bytes(recording: EcgRecording) -> bytes:
    return bytes(recording.samples)


def meta(recording: EcgRecording, *, embed: bool = True) -> dict[str, Any]:
    """What the drawing needs (the JSON the page embeds): the leads, the rate, the gain and the samples as base64
    of the stored int16 (160 KB of text: one request draws the page, no second round trip from a village's
    mobile link); without ``embed`` the browser fetches them from ``samples_url``."""
    out: dict[str, Any] = {"leads": recording.leads, "rate": recording.sample_rate, "n": recording.n_samples,
                           "uv": recording.microvolts_per_unit,
                           "samples_url": reverse("telemedicine:ecg_samples", args=[recording.order_id])}
    if embed:
        out["data"] = base64.b64encode(samples_bytes(recording)).decode("ascii")
    return out


def measurement_rows(recording: EcgRecording | None) -> list[dict[str, Any]]:
    values = (recording.measurements if recording is not None else {}) or {}
    return [{"key": key, "label": label, "unit": unit, "value": values.get(key)} for key, label, unit in MEASURES]


@dataclass
class StSummary:
    elevated: list[str]
    depressed: list[str]


def st_summary(recording: EcgRecording | None, threshold_mv: float = 0.1) -> StSummary:
    """Leads whose ST at J+60 ms is ≥ 0.1 mV up or down (assistance, the reader decides)."""
    st = ((recording.measurements if recording is not None else {}) or {}).get("st") or {}
    return StSummary([lead for lead, v in st.items() if v is not None and v >= threshold_mv and lead != "aVR"],
                     [lead for lead, v in st.items() if v is not None and v <= -threshold_mv and lead != "aVR"])


def may_upload(user, order: Order) -> bool:
    return order.status in (OrderStatus.ORDERED, OrderStatus.ACQUIRED, OrderStatus.IN_PROGRESS) and can(
        user, "telemedicine.acquire", order)


def order_panel(actor: Actor, order: Order) -> dict[str, Any]:
    """``KIND_PANELS["ecg"]``: the context of ``telemedicine/kinds/_ecg.html`` on the order page (the order page
    has checked and audited the order; the recording's look is audited here)."""
    user = actor.user
    recording = EcgRecording.objects.filter(order=order).first()
    if recording is not None:
        if user is None or can_read(user, Category.CLINICAL):
            audit.record(actor, "view", "telemedicine_ecg", recording.pk, order=order.pk, part="panel")
        else:
            recording = None
    return {"ecg": recording, "ecg_meta": meta(recording) if recording else None,
            "ecg_measurements": measurement_rows(recording), "ecg_st": st_summary(recording),
            "ecg_may_upload": user is not None and may_upload(user, order), "ecg_order": order}
