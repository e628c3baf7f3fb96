"""The registry of diagnostic devices (诊断设备): each facility's ECG machines, imaging modalities, analysers and
slide scanners, with what identifies them when they send (the DICOM AE title, the analyser id of HL7 MSH-3/4),
so that the centers know who sends what and N05 (the share of village clinics with an ECG machine) is
computable.

``validate_device`` is pure (rules over the typed input); ``register_device``, ``update_device`` and
``set_device_active`` are the only writers (``telemedicine.register_device``: the facility's admin, or its
township's for a village clinic). Devices are not person-level data: their reads are scoped by facility
(``queries/devices.py``), not audited."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from pydantic import Field, field_validator

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, NotFound
from yigongti.orgs.models import Facility
from yigongti.orgs.permissions import check
from yigongti.referrals.inputs import Input

from .models import Device, DeviceKind

# DICOM modalities a registered device may produce (PS3.3 C.7.3.1.1.1), by kind; the first is the default.
MODALITIES: dict[str, tuple[str, ...]] = {
    DeviceKind.ECG: ("ECG",),
    DeviceKind.MODALITY: ("DX", "CR", "CT", "MR", "US", "MG", "RF", "XA", "NM", "PT", "ES"),
    DeviceKind.ANALYSER: ("",),
    DeviceKind.SCANNER: ("SM",),
}
# DICOM AE title: 1–16 characters of the default repertoire, no backslash or control characters (PS3.5 6.2)
AE_TITLE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")
ANALYSER_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")

MESSAGES = {"facility": gettext_lazy("机构无效"), "installed_on": gettext_lazy("日期格式应为 YYYY-MM-DD"),
            "kind": gettext_lazy("请选择设备类别")}


class DeviceInput(Input):
    facility: int | None = Field(None, description="所在机构 id（缺省：本人所在机构）")
    kind: str = Field(..., description="ecg 心电图机 / modality 影像设备 / analyser 检验分析仪 / "
                                       "scanner 病理切片扫描仪")
    modality: str = Field("", max_length=8, description="DICOM 模态：ECG、DX、CR、CT、MR、US、SM（缺省按类别）")
    manufacturer: str = Field("", max_length=60)
    model: str = Field("", max_length=60)
    serial: str = Field("", max_length=60)
    ae_title: str = Field("", max_length=16, description="DICOM AE Title（影像设备必填）")
    analyser_id: str = Field("", max_length=40, description="仪器编号：HL7 MSH-3/MSH-4 中的发送方标识（分析仪必填）")
    installed_on: dt.date | None = None

    @field_validator("facility", "installed_on", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v


def _parse(data: DeviceInput | Mapping[str, Any]) -> DeviceInput:
    try:
        return DeviceInput.parse(data)
    except InvalidInput as e:
        errors = {k: [str(MESSAGES.get(k, _("格式无效或过长")))] for k in e.errors}
        first = next(iter(errors))
        raise InvalidInput("invalid_input", errors[first][0], field=first, errors=errors) from None


def normalised(inp: DeviceInput) -> DeviceInput:
    """The input as stored: the kind's default modality, modality upper-case, the analyser id as sent."""
    modality = (inp.modality or MODALITIES.get(inp.kind, ("",))[0]).upper()
    return inp.model_copy(update={"modality": modality, "ae_title": inp.ae_title.strip()})


def validate_device(inp: DeviceInput, today: dt.date) -> dict[str, list[str]]:
    """The rules of one device row (pure): the kind, the modality the kind allows, the identifier the kind sends
    by (an AE title for imaging modalities, an analyser id for analysers), a start date not in the future."""
    errors: dict[str, list[str]] = {}
    if inp.kind not in DeviceKind.values:
        return {"kind": [_("请选择设备类别")]}
    allowed = MODALITIES[inp.kind]
    if inp.kind == DeviceKind.MODALITY and inp.modality not in allowed:
        errors["modality"] = [_("影像设备的模态应为 %(list)s 之一") % {"list": "、".join(allowed)}]
    elif inp.kind != DeviceKind.MODALITY and inp.modality not in allowed:
        errors["modality"] = [_("该类别设备的模态应为 %(m)s") % {"m": allowed[0] or _("空")}]
    if inp.ae_title and not AE_TITLE.match(inp.ae_title):
        errors["ae_title"] = [_("AE Title 为 1–16 个英文字母、数字或符号，不含反斜杠")]
    if inp.kind in (DeviceKind.MODALITY, DeviceKind.SCANNER) and not inp.ae_title:
        errors["ae_title"] = [_("影像设备须填写 AE Title（中心据此识别发送方）")]
    if inp.kind == DeviceKind.ANALYSER:
        if not inp.analyser_id:
            errors["analyser_id"] = [_("检验分析仪须填写仪器编号（HL7 消息中的发送方标识）")]
        elif not ANALYSER_ID.match(inp.analyser_id):
            errors["analyser_id"] = [_("仪器编号只能包含英文字母、数字和 _ . -")]
    elif inp.analyser_id:
        errors["analyser_id"] = [_("只有检验分析仪有仪器编号")]
    if inp.installed_on and inp.installed_on > today:
        errors["installed_on"] = [_("启用日期不能晚于今天")]
    if not (inp.model or inp.serial):
        errors["model"] = [_("请填写型号或序列号")]
    return errors


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        first = next(iter(errors))
        raise InvalidInput("invalid_input", errors[first][0], field=first, errors=errors)


def _facility(actor: Actor, pk: int | None) -> Facility:
    pk = pk or actor.facility_id
    facility = Facility.objects.filter(pk=pk, is_active=True).first() if pk else None
    if facility is None:
        raise InvalidInput("invalid_input", _("请选择设备所在机构"), field="facility")
    return facility


def _unique(inp: DeviceInput, exclude: int | None = None) -> None:
    """A clear refusal when another device already sends by this AE title or analyser id (the constraint is the
    last word; this names the other device's facility)."""
    others = Device.objects.exclude(pk=exclude) if exclude else Device.objects.all()
    errors: dict[str, list[str]] = {}
    for field in ("ae_title", "analyser_id"):
        value = getattr(inp, field)
        other = others.filter(**{field: value}).select_related("facility").first() if value else None
        if other is not None:
            errors[field] = [_("已被 %(facility)s 的设备使用") % {"facility": other.facility.name}]
    if errors:
        first = next(iter(errors))
        raise Conflict("device_identifier_taken", errors[first][0], field=first, errors=errors)


def _values(inp: DeviceInput) -> dict[str, Any]:
    return {"kind": inp.kind, "modality": inp.modality, "manufacturer": inp.manufacturer, "model": inp.model,
            "serial": inp.serial, "ae_title": inp.ae_title, "analyser_id": inp.analyser_id,
            "installed_on": inp.installed_on}


def register_device(data: DeviceInput | Mapping[str, Any], *, actor: Actor) -> Device:
    """Register a device of a facility (the actor's own, or a village clinic of the actor's township)."""
    inp = normalised(_parse(data))
    facility = _facility(actor, inp.facility)
    check(actor, "telemedicine.register_device", facility)
    _raise(validate_device(inp, timezone.localdate()))
    _unique(inp)
    try:
        with transaction.atomic():
            device = Device.objects.create(facility=facility, **_values(inp))
            audit.record(actor, "create", "device", device.pk, facility=facility.pk, kind=device.kind,
                         ae_title=device.ae_title, analyser_id=device.analyser_id)
    except IntegrityError:  # a concurrent registration took the identifier
        raise Conflict("device_identifier_taken", _("AE Title 或仪器编号已被其他设备使用"), field="ae_title") from None
    return device


def _locked(pk: int) -> Device:
    try:
        return Device.objects.select_for_update().select_related("facility").get(pk=int(pk))
    except (Device.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("设备不存在或无权访问")) from None


def update_device(pk: int, data: DeviceInput | Mapping[str, Any], *, actor: Actor) -> Device:
    """Change a device's details (it stays at its facility: a device moving is retired here, registered there)."""
    current = Device.objects.filter(pk=pk).select_related("facility").first()
    if current is None:
        raise NotFound(_("设备不存在或无权访问"))
    check(actor, "telemedicine.register_device", current.facility)
    inp = normalised(_parse({**(data.model_dump() if isinstance(data, DeviceInput) else dict(data)),
                             "facility": current.facility_id}))
    _raise(validate_device(inp, timezone.localdate()))
    _unique(inp, exclude=current.pk)
    try:
        with transaction.atomic():
            device = _locked(pk)
            before = {field: getattr(device, field) for field in _values(inp)}
            for field, value in _values(inp).items():
                setattr(device, field, value)
            device.save()
            changed = {k: str(v) for k, v in _values(inp).items() if before.get(k) != v}
            audit.record(actor, "update", "device", device.pk, facility=device.facility_id, changed=changed)
    except IntegrityError:
        raise Conflict("device_identifier_taken", _("AE Title 或仪器编号已被其他设备使用"), field="ae_title") from None
    return device


def set_device_active(pk: int, active: bool, *, actor: Actor, reason: str = "") -> Device:
    """Retire a device (停用: it no longer sends; its past orders keep pointing at it) or bring it back."""
    current = Device.objects.filter(pk=pk).select_related("facility").first()
    if current is None:
        raise NotFound(_("设备不存在或无权访问"))
    check(actor, "telemedicine.register_device", current.facility)
    with transaction.atomic():
        device = _locked(pk)
        if device.active == active:
            raise Conflict("device_unchanged", _("设备已在用") if active else _("设备已停用"))
        device.active = active
        device.save(update_fields=["active"])
        audit.record(actor, "update", "device", device.pk, active=active, reason=reason[:200])
    return device


# ---- who sends what: lookups for the receivers (HL7 listener, PACS sync, ECG upload) ----------------------

def by_ae_title(ae_title: str) -> Device | None:
    """The active device that sends as this DICOM AE title (the source AE of a study in Orthanc)."""
    ae = (ae_title or "").strip()
    return Device.objects.filter(ae_title=ae, active=True).select_related("facility").first() if ae else None


def by_analyser_id(analyser_id: str) -> Device | None:
    """The active analyser that sends as this id (HL7 MSH-3 sending application or MSH-4 sending facility)."""
    key = (analyser_id or "").strip()
    return Device.objects.filter(analyser_id=key, active=True).select_related("facility").first() if key else None


def register() -> None:
    """The menu entry of the device registry: facility admins register, the centers look up (managers and the
    bureau reach it from their home page's 危急值闭环 panel; their menu is full)."""
    from yigongti.core import menu
    from yigongti.orgs.models import Role
    from yigongti.orgs.permissions import has_role

    def visible(u) -> bool:
        return has_role(u, Role.FACILITY_ADMIN) or (
            getattr(u, "is_authenticated", False) and u.diagnosis_centers.exists())

    menu.register(pgettext_lazy("menu", "诊断设备"), "telemedicine:devices", order=63, visible=visible)
