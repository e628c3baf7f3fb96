"""Use cases of the fleet (站点和车辆): a station's details, its vehicles (type, plate, equipment, GPS terminal), the
hand-set statuses (维修 in and out, never during a mission) and the crew seats. The station's facility admin or the
community's managers keep them (``emergency.manage_fleet``, checked against the station of the object)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import Field

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.orgs.models import Role, User
from yigongti.orgs.permissions import check
from yigongti.referrals.inputs import Input

from .. import workflow
from ..models import CrewMember, CrewRole, Station, StationKind, Vehicle, VehicleKind, VehicleStatus
from .missions import bump_board

EQUIPMENT = {"ecg12": gettext_lazy("十二导联心电图机"), "defibrillator": gettext_lazy("除颤仪"),
             "monitor": gettext_lazy("监护仪"), "ventilator": gettext_lazy("呼吸机"),
             "incubator": gettext_lazy("转运暖箱"), "suction": gettext_lazy("吸引器"),
             "aed": gettext_lazy("自动体外除颤器"), "infusion_pump": gettext_lazy("输液泵")}


class StationInput(Input):
    name: str | None = Field(None, description="站点名称")
    kind: str | None = Field(None, description="command 指挥中心 / sub_center 急救分中心 / station 急救站")
    lon: float | None = Field(None, description="经度")
    lat: float | None = Field(None, description="纬度")
    active: bool | None = Field(None, description="在用")


class VehicleInput(Input):
    call_sign: str | None = Field(None, description="车辆呼号")
    plate: str | None = Field(None, description="车牌号")
    kind: str | None = Field(None, description="basic / monitoring / negative_pressure / neonatal")
    equipment: list[str] | None = Field(None, description="车载设备编码")
    gps_device_id: str | None = Field(None, description="定位终端编号")
    active: bool | None = Field(None, description="在用")


class CrewInput(Input):
    name: str = Field("", description="姓名（缺省取账号姓名）")
    role: str = Field(..., description="doctor / nurse / driver / stretcher")
    user: int | None = Field(None, description="账号 id（医生、护士用出车页面时填写）")
    on_shift: bool = True


def _station_errors(inp: StationInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if inp.name is not None and not inp.name:
        errors["name"] = [_("请填写站点名称")]
    if inp.kind is not None and inp.kind not in StationKind.values:
        errors["kind"] = [_("站点类别无效")]
    if inp.lon is not None and not -180 <= inp.lon <= 180:
        errors["lon"] = [_("经度应在 -180 到 180 之间")]
    if inp.lat is not None and not -90 <= inp.lat <= 90:
        errors["lat"] = [_("纬度应在 -90 到 90 之间")]
    return errors


def _vehicle_errors(inp: VehicleInput, creating: bool) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if (creating or inp.call_sign is not None) and not inp.call_sign:
        errors["call_sign"] = [_("请填写车辆呼号")]
    if (creating or inp.plate is not None) and not inp.plate:
        errors["plate"] = [_("请填写车牌号")]
    if inp.kind is not None and inp.kind not in VehicleKind.values:
        errors["kind"] = [_("车型无效")]
    unknown = [e for e in inp.equipment or [] if e not in EQUIPMENT]
    if unknown:
        errors["equipment"] = [_("未知的车载设备：%(codes)s") % {"codes": "、".join(unknown)}]
    return errors


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        field, msgs = next(iter(errors.items()))
        raise InvalidInput("invalid_input", msgs[0], field=field, errors=errors)


def _changes(obj: Any, inp: Input) -> dict[str, Any]:
    return {k: v for k, v in inp.model_dump().items() if v is not None and getattr(obj, k) != v}


def update_station(actor: Actor, station: Station, data: StationInput | Mapping[str, Any]) -> Station:
    """修改站点: name, kind, position (the nearest road node follows), in use."""
    inp = StationInput.parse(data)
    check(actor, "emergency.manage_fleet", station)
    _raise(_station_errors(inp))
    changes = _changes(station, inp)
    if not changes:
        return station
    with transaction.atomic():
        s = Station.objects.select_for_update().get(pk=station.pk)
        for k, v in changes.items():
            setattr(s, k, v)
        fields = list(changes)
        if "lon" in changes or "lat" in changes:
            from .missions import _nearest_node

            s.node_id = _nearest_node(s.lon, s.lat)
            fields.append("node")
        s.save(update_fields=fields)
        audit.record(actor, "update", "emergency_station", s.pk, **changes)
    return s


def _unique(fn):
    try:
        return fn()
    except IntegrityError:
        raise InvalidInput("duplicate_vehicle", _("车辆呼号或车牌号已被其他车辆使用"), field="plate") from None


def create_vehicle(actor: Actor, station: Station, data: VehicleInput | Mapping[str, Any]) -> Vehicle:
    """新增车辆 at a station, available, at the station's position."""
    inp = VehicleInput.parse(data)
    check(actor, "emergency.manage_fleet", station)
    _raise(_vehicle_errors(inp, creating=True))
    now = timezone.now()

    def create() -> Vehicle:
        with transaction.atomic():
            v = Vehicle.objects.create(station=station, call_sign=inp.call_sign or "", plate=inp.plate or "",
                                       kind=inp.kind or VehicleKind.BASIC, equipment=inp.equipment or [],
                                       gps_device_id=inp.gps_device_id or "",
                                       active=True if inp.active is None else inp.active,
                                       lon=station.lon, lat=station.lat, node_id=station.node_id,
                                       status=VehicleStatus.AVAILABLE, status_at=now)
            audit.record(actor, "create", "emergency_vehicle", v.pk, station=station.pk, call_sign=v.call_sign,
                         plate=v.plate, kind=v.kind)
        return v

    return _unique(create)


def update_vehicle(actor: Actor, vehicle: Vehicle, data: VehicleInput | Mapping[str, Any]) -> Vehicle:
    """修改车辆: call sign, plate, type, equipment, GPS terminal, in use (not while on a mission)."""
    inp = VehicleInput.parse(data)
    check(actor, "emergency.manage_fleet", vehicle.station)
    _raise(_vehicle_errors(inp, creating=False))
    changes = _changes(vehicle, inp)
    if not changes:
        return vehicle

    def update() -> Vehicle:
        with transaction.atomic():
            v = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
            if changes.get("active") is False and v.status in workflow.ON_MISSION:
                raise Conflict("on_mission", _("车辆正在执行任务，不能停用"))
            for k, val in changes.items():
                setattr(v, k, val)
            v.save(update_fields=list(changes))
            audit.record(actor, "update", "emergency_vehicle", v.pk, **changes)
        return v

    return _unique(update)


def set_vehicle_status(actor: Actor, vehicle: Vehicle, status: str, reason: str = "") -> Vehicle:
    """送修 / 修复: a free vehicle into maintenance (with the reason) and back to available."""
    check(actor, "emergency.manage_fleet", vehicle.station)
    reason = (reason or "").strip()
    if status == VehicleStatus.MAINTENANCE and not reason:
        raise InvalidInput("reason_required", _("请填写维修原因"), field="reason")
    with transaction.atomic():
        v = Vehicle.objects.select_for_update().get(pk=vehicle.pk)
        try:
            target = workflow.check_manual(v.status, status)
        except workflow.StepNotAllowed as e:
            raise Conflict(e.code, e.message) from None
        if target == v.status:
            return v
        before, now = v.status, timezone.now()
        v.status, v.status_at = target, now
        v.save(update_fields=["status", "status_at"])
        audit.record(actor, "update", "emergency_vehicle", v.pk, move="status", before=before, status=target,
                     reason=reason[:120], at=now)
        transaction.on_commit(bump_board)
    return v


def add_crew(actor: Actor, vehicle: Vehicle, data: CrewInput | Mapping[str, Any]) -> CrewMember:
    """排班上车: a crew seat on the vehicle; a doctor or nurse with an account then steps it from the crew page."""
    inp = CrewInput.parse(data)
    check(actor, "emergency.manage_fleet", vehicle.station)
    errors: dict[str, list[str]] = {}
    if inp.role not in CrewRole.values:
        errors["role"] = [_("岗位无效")]
    user = None
    if inp.user:
        user = User.objects.filter(pk=inp.user, is_active=True).first()
        if user is None or user.role not in (Role.DOCTOR, Role.NURSE):
            errors["user"] = [_("账号不存在，或不是医生、护士账号")]
        elif CrewMember.objects.filter(vehicle=vehicle, user=user).exists():
            errors["user"] = [_("该账号已在本车车组中")]
    name = inp.name or (user.display_name or user.get_full_name() or user.username if user else "")
    if not name:
        errors["name"] = [_("请填写姓名")]
    _raise(errors)
    with transaction.atomic():
        member = CrewMember.objects.create(vehicle=vehicle, user=user, name=name[:40], role=inp.role,
                                           on_shift=inp.on_shift)
        audit.record(actor, "create", "emergency_crew", member.pk, vehicle=vehicle.pk, role=inp.role,
                     user=user.pk if user else None)
    return member


def set_on_shift(actor: Actor, member: CrewMember, on_shift: bool) -> CrewMember:
    check(actor, "emergency.manage_fleet", member.vehicle.station)
    if member.on_shift != on_shift:
        CrewMember.objects.filter(pk=member.pk).update(on_shift=on_shift)
        member.on_shift = on_shift
        audit.record(actor, "update", "emergency_crew", member.pk, on_shift=on_shift)
    return member


def remove_crew(actor: Actor, member: CrewMember) -> None:
    check(actor, "emergency.manage_fleet", member.vehicle.station)
    with transaction.atomic():
        audit.record(actor, "delete", "emergency_crew", member.pk, vehicle=member.vehicle_id, name=member.name)
        member.delete()
