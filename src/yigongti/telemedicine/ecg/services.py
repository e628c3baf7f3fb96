"""The use cases of remote ECG: a township or village receives the recording of an order (an upload of the
electrocardiograph's DICOM or HL7 aECG file), the platform keeps the original file under the data directory,
the samples (int16) and the automatic measurements, and marks the order acquired for the ECG center's worklist.
The only writer of ``EcgRecording``.

``register()`` fills ``KIND_PANELS["ecg"]``: the order page's ECG (the 12 leads, the measurements, the links to
the full page and to the upload form)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, NotFound
from yigongti.core.uploads import human_size, max_upload_bytes
from yigongti.orgs.permissions import check

from ..models import CenterKind, Device, DeviceKind, EcgRecording, Order, OrderStatus
from . import read as ecg_read

MAX_FILE_BYTES = 20 * 1024 * 1024  # a 10 s 12-lead DICOM is ~120 KB; an aECG XML ~200 KB; 60 s at 1 kHz < 20 MB
CLOSED = (OrderStatus.REPORTED, OrderStatus.REVIEWED, OrderStatus.CANCELLED)


def ecg_dir() -> Path:
    return Path(settings.DATA_DIR) / "ecg"


def _order(pk: int | Order) -> Order:
    if isinstance(pk, Order):
        return pk
    try:
        order = Order.objects.select_related("center", "facility", "resident").filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        order = None
    if order is None:
        raise NotFound(_("申请单不存在"))
    return order


def _device(order: Order, device_pk: int | None) -> Device | None:
    if not device_pk:
        return None
    device = Device.objects.filter(pk=device_pk, kind=DeviceKind.ECG, active=True).first()
    if device is None or device.facility_id != order.facility_id:
        raise InvalidInput("unknown_device", _("心电图机不存在或不属于申请机构"), field="device")
    return device


def _parse(data: bytes, filename: str) -> ecg_read.Recording:
    limit = min(max_upload_bytes() * 2, MAX_FILE_BYTES)
    if not data:
        raise InvalidInput("file_missing", _("请选择心电图文件（DICOM 或 HL7 aECG）"), field="file")
    if len(data) > limit:
        raise InvalidInput("file_too_large", _("文件过大（%(size)s），上限 %(limit)s")
                           % {"size": human_size(len(data)), "limit": human_size(limit)}, field="file")
    try:
        return ecg_read.read(data, filename)
    except ecg_read.EcgFileError as e:
        raise InvalidInput("ecg_file", str(e), field="file") from None


def _measure(rec: ecg_read.Recording) -> dict[str, Any]:
    from .measure import measure

    try:
        values = measure(rec.samples, rec.sample_rate, rec.microvolts_per_unit)
    except (ValueError, FloatingPointError, IndexError):  # never refuse a recording for its measurements
        values = {}
    return {**values, "version": 1}


def _store(order: Order, rec: ecg_read.Recording, data: bytes) -> str:
    """The original file under ``DATA_DIR/ecg/<yyyy>/``, written atomically; the relative path."""
    suffix = ".xml" if rec.source_format == "aecg" else ".dcm"
    folder = ecg_dir() / timezone.localdate().strftime("%Y")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{order.accession_no}-{secrets.token_hex(6)}{suffix}"
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, folder / name)
    return f"{folder.name}/{name}"


def _acquired_at(order: Order, rec: ecg_read.Recording, now: dt.datetime) -> dt.datetime:
    """The recording's own time when it is plausible (not in the future, not days before the order)."""
    when = rec.acquired_at
    if when is not None and order.ordered_at - dt.timedelta(hours=12) <= when <= now + dt.timedelta(minutes=5):
        return min(when, now)
    return now


def receive_file(order_pk: int | Order, data: bytes, filename: str = "", *, actor: Actor,
                 device: int | None = None) -> EcgRecording:
    """上传心电图: the recording of an ECG order from the ordering facility (or the center). A file that is not a
    12-lead ECG, or carries another order's accession number, is refused with the reason; a new upload replaces
    the recording until the order is reported."""
    order = _order(order_pk)
    check(actor, "telemedicine.acquire", order)
    if order.kind != CenterKind.ECG:
        raise InvalidInput("not_ecg", _("该申请单不是心电图检查"), field="file")
    if order.status in CLOSED:
        raise Conflict("order_closed", _("申请单已报告或已取消，不能再上传心电图"))
    rec = _parse(data, filename)
    if rec.accession_no and rec.accession_no.strip() != order.accession_no:
        raise InvalidInput("wrong_accession", _("文件中的申请单号 %(file)s 与本申请单 %(order)s 不一致，请核对患者")
                           % {"file": rec.accession_no.strip()[:20], "order": order.accession_no}, field="file")
    the_device = _device(order, device)
    measurements = _measure(rec)
    path = _store(order, rec, data)
    now = timezone.now()
    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
        if locked.status in CLOSED:
            raise Conflict("order_closed", _("申请单已报告或已取消，不能再上传心电图"))
        fields = {"device": the_device, "source_format": rec.source_format, "file": path,
                  "sop_instance_uid": rec.sop_instance_uid[:64], "sample_rate": rec.sample_rate,
                  "n_samples": int(rec.samples.shape[1]), "leads": rec.leads,
                  "microvolts_per_unit": rec.microvolts_per_unit,
                  "samples": rec.samples.astype("<i2").tobytes(), "measurements": measurements,
                  "acquired_at": _acquired_at(order, rec, now)}
        recording, created = EcgRecording.objects.update_or_create(order=locked, defaults=fields)
        from ..services.orders import mark_acquired

        mark_acquired(locked, actor=actor, at=recording.acquired_at, device=the_device)
        audit.record(actor, "create" if created else "update", "telemedicine_ecg", recording.pk, order=order.pk,
                     accession=order.accession_no, format=rec.source_format, seconds=round(rec.seconds, 1),
                     rate=measurements.get("rate"))
    return recording


def register() -> None:
    from ..queries.ecg import order_panel
    from ..registry import KIND_PANELS

    KIND_PANELS["ecg"] = order_panel
