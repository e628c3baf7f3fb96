"""/api/v1/telemedicine/devices: the registry of ECG machines, imaging modalities, analysers and slide scanners
(who sends what), and the village clinics' ECG coverage (N05)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from yigongti.core.actor import Actor
from yigongti.core.paging import page_dict, page_field, size_field

from .. import devices
from ..devices import DeviceInput
from ..queries import devices as q

router = Router(tags=["诊断设备"])


class DeviceOut(Schema):
    id: int
    facility_id: int
    facility_name: str = Field(alias="facility.name")
    kind: str
    modality: str
    manufacturer: str
    model: str
    serial: str
    ae_title: str
    analyser_id: str
    installed_on: dt.date | None
    active: bool


class DevicePage(Schema):
    items: list[DeviceOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None


class ListQuery(Schema):
    facility: str = Field("", max_length=12, description="机构 id")
    kind: str = Field("", max_length=10, description="ecg / modality / analyser / scanner")
    q: str = Field("", max_length=40, description="型号、序列号、AE Title 或仪器编号")
    active: str = Field("1", max_length=1, description="1 在用 / 0 已停用 / 空 全部")
    page: int = page_field()
    page_size: int = size_field()


class ActiveIn(Schema):
    active: bool
    reason: str = Field("", max_length=200)


class CoverageOut(Schema):
    villages: int
    with_ecg: int
    share: float | None


@router.get("", response=DevicePage)
def list_devices(request, params: Query[ListQuery]):
    f = q.DeviceFilter.from_query(params.dict())
    return page_dict(q.list_devices(request.user, f, params.page, params.page_size), count=False)


@router.post("", response={201: DeviceOut})
def register_device(request, payload: DeviceInput):
    return Status(201, devices.register_device(payload, actor=Actor.from_request(request)))


@router.get("/coverage", response=CoverageOut)
def ecg_coverage(request):
    """Village clinics of the user's community with an ECG machine in use (N05)."""
    facility = getattr(request.user, "facility", None)
    community = facility.community_id if facility is not None else None
    region = "" if community else (request.user.region.prefix if getattr(request.user, "region_id", None) else "")
    if community is None and not region:
        return {"villages": 0, "with_ecg": 0, "share": None}
    cov = q.village_ecg_coverage(community, region)
    return {"villages": cov.villages, "with_ecg": cov.with_ecg, "share": cov.share}


@router.get("/{int:pk}", response=DeviceOut)
def get_device(request, pk: int):
    return q.get_device_for(request.user, pk)


@router.put("/{int:pk}", response=DeviceOut)
def update_device(request, pk: int, payload: DeviceInput):
    return devices.update_device(q.get_device_for(request.user, pk).pk, payload, actor=Actor.from_request(request))


@router.post("/{int:pk}/active", response=DeviceOut)
def set_active(request, pk: int, payload: ActiveIn):
    return devices.set_device_active(q.get_device_for(request.user, pk).pk, payload.active, reason=payload.reason,
                                     actor=Actor.from_request(request))
