"""Reads of the device registry: the devices of the facilities within the user's scope (a village clinic its
own, a township center its township's, the county hospital, the centers and the managers the whole community's),
and the ECG coverage of the village clinics (N05)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from yigongti.core.carelevel import CareLevel, type_q
from yigongti.core.errors import NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.core.scoping import facility_scope_q
from yigongti.orgs.models import Facility

from ..models import Device, DeviceKind


def devices_visible_to(user) -> QuerySet[Device]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Device.objects.none()
    return Device.objects.filter(facility_scope_q(user, "facility__region__code"))


def facilities_visible_to(user) -> QuerySet[Facility]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Facility.objects.none()
    return Facility.objects.filter(facility_scope_q(user), is_active=True)


@dataclass
class DeviceFilter:
    facility: str = ""
    kind: str = ""
    q: str = ""  # model, serial, AE title or analyser id
    active: str = "1"  # "1" in use, "0" retired, "" all

    @classmethod
    def from_query(cls, data) -> DeviceFilter:
        return cls(facility=str(data.get("facility", "") or "")[:12], kind=str(data.get("kind", "") or "")[:10],
                   q=str(data.get("q", "") or "").strip()[:40], active=str(data.get("active", "1") or "")[:1])

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def list_devices(user, f: DeviceFilter | None = None, page: int = 1, size: int = 50) -> Page:
    qs = devices_visible_to(user).select_related("facility").order_by("facility__code", "kind", "id")
    f = f or DeviceFilter()
    if f.facility:
        qs = qs.filter(facility_id=int(f.facility)) if f.facility.isdigit() else qs.none()
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.active in ("0", "1"):
        qs = qs.filter(active=f.active == "1")
    if f.q:
        qs = qs.filter(Q(model__icontains=f.q) | Q(serial__icontains=f.q) | Q(ae_title__iexact=f.q)
                       | Q(analyser_id__iexact=f.q) | Q(manufacturer__icontains=f.q))
    return slice_page(qs, page, size)


def get_device_for(user, pk) -> Device:
    try:
        return devices_visible_to(user).select_related("facility").get(pk=int(pk))
    except (Device.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("设备不存在或无权访问")) from None


def counts_by_kind(user) -> dict[str, int]:
    rows = devices_visible_to(user).filter(active=True).values("kind").annotate(n=Count("id"))
    return {r["kind"]: r["n"] for r in rows}


@dataclass(frozen=True)
class EcgCoverage:
    villages: int  # village clinics of the community
    with_ecg: int  # … with an active ECG machine

    @property
    def share(self) -> float | None:
        return self.with_ecg / self.villages if self.villages else None


def village_ecg_coverage(community_id: int | None = None, region_prefix: str = "") -> EcgCoverage:
    """How many village clinics (of a community, or of a region) have an ECG machine in use: N05's second part."""
    clinics = Facility.objects.filter(type_q(CareLevel.VILLAGE), is_active=True)
    if community_id is not None:
        clinics = clinics.filter(community_id=community_id)
    if region_prefix:
        clinics = clinics.filter(region__code__startswith=region_prefix)
    has = Device.objects.filter(facility=OuterRef("pk"), kind=DeviceKind.ECG, active=True)
    row = clinics.aggregate(n=Count("id"), ecg=Count("id", filter=Q(Exists(has))))
    return EcgCoverage(row["n"], row["ecg"])
