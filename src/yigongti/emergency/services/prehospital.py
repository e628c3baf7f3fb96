"""The crew's pre-hospital record (院前急救病历): vital signs, the working impression, the 12-lead ECG sent to the
community's ECG center as an emergency (急诊) order, and the choice of the receiving hospital by capability (PCI for
STEMI, CT and thrombolysis for stroke …) then by road travel time.

The ECG goes through telemedicine's own use cases (``services.orders.place_order`` then ``ecg.receive_file``), so it
lands on the ECG center's worklist like any township's ECG, with its accession number and its 10-minute deadline;
the recording is the electrocardiograph's DICOM / HL7 aECG file, or in the demo one from the simulator.

The only writer of ``PrehospitalRecord`` and ``VitalSigns``, and of a mission's destination."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, collect
from yigongti.orgs.models import Facility, FacilityType, Region
from yigongti.orgs.permissions import check

from ..models import Mission, MissionStatus, Place, PrehospitalRecord, RoadNetwork, Station, VitalSigns

log = logging.getLogger("yigongti.emergency")

# ---- the working impression ------------------------------------------------------------------------------

# code → (label, pathway kind, pathway subtype, ICD-10)
IMPRESSIONS: dict[str, tuple[Any, str, str, str]] = {
    "stemi": (gettext_lazy("急性ST段抬高型心肌梗死"), "chest_pain", "stemi", "I21.9"),
    "nstemi": (gettext_lazy("非ST段抬高型心肌梗死"), "chest_pain", "nstemi", "I21.4"),
    "acs": (gettext_lazy("急性冠脉综合征（待排）"), "chest_pain", "", "I24.9"),
    "aortic_dissection": (gettext_lazy("主动脉夹层（待排）"), "chest_pain", "aortic_dissection", "I71.0"),
    "pe": (gettext_lazy("肺栓塞（待排）"), "chest_pain", "pe", "I26.9"),
    "stroke": (gettext_lazy("急性脑卒中"), "stroke", "", "I64"),
    "stroke_ischaemic": (gettext_lazy("急性缺血性脑卒中"), "stroke", "ischaemic", "I63.9"),
    "stroke_haemorrhagic": (gettext_lazy("脑出血"), "stroke", "haemorrhagic", "I61.9"),
    "trauma": (gettext_lazy("严重创伤"), "trauma", "major_trauma", "T07"),
    "maternal": (gettext_lazy("危重孕产妇"), "maternal", "", ""),
    "neonatal": (gettext_lazy("危重新生儿"), "neonatal", "", ""),
    "other": (gettext_lazy("其他"), "", "", ""),
}

# (pathway kind, subtype) → (capabilities the receiving hospital must have, capabilities that rank it higher)
NEEDS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("chest_pain", "stemi"): (("pci",), ("cath_lab", "thrombolysis")),
    ("chest_pain", "nstemi"): (("pci",), ("cath_lab",)),
    ("chest_pain", ""): ((), ("pci", "thrombolysis")),
    ("chest_pain", "aortic_dissection"): (("ct",), ("pci",)),
    ("chest_pain", "pe"): (("ct",), ("thrombolysis",)),
    ("stroke", ""): (("ct", "thrombolysis"), ("neurosurgery",)),
    ("stroke", "ischaemic"): (("ct", "thrombolysis"), ("neurosurgery",)),
    ("stroke", "haemorrhagic"): (("ct", "neurosurgery"), ()),
    ("trauma", "major_trauma"): (("ct",), ("neurosurgery",)),
    ("maternal", ""): ((), ("icu",)),
    ("neonatal", ""): (("nicu",), ()),
}

CAPABILITY_LABELS = {"pci": gettext_lazy("急诊PCI"), "cath_lab": gettext_lazy("导管室"),
                     "thrombolysis": gettext_lazy("溶栓"), "ct": gettext_lazy("CT"), "mri": gettext_lazy("MRI"),
                     "neurosurgery": gettext_lazy("神经外科"), "nicu": gettext_lazy("NICU"),
                     "icu": gettext_lazy("ICU"), "ecg12": gettext_lazy("十二导联心电图")}

NOT_RECEIVING = {FacilityType.EMERGENCY_CENTER, FacilityType.EMERGENCY_STATION, FacilityType.VILLAGE_CLINIC,
                 FacilityType.COMMUNITY_STATION, FacilityType.HEALTH_ROOM, FacilityType.INFIRMARY,
                 FacilityType.MCH_STATION}


def pathway_of(code: str) -> tuple[str, str]:
    """(pathway kind, subtype) of an impression code ("", "" when it starts no pathway)."""
    entry = IMPRESSIONS.get(code or "")
    return (entry[1], entry[2]) if entry else ("", "")


# ---- vital signs -------------------------------------------------------------------------------------------

# field → (label, low, high, decimal)
VITALS: dict[str, tuple[Any, float, float, bool]] = {
    "sbp": (gettext_lazy("收缩压"), 30, 300, False), "dbp": (gettext_lazy("舒张压"), 10, 200, False),
    "heart_rate": (gettext_lazy("心率"), 10, 300, False), "resp_rate": (gettext_lazy("呼吸"), 2, 80, False),
    "spo2": (gettext_lazy("血氧饱和度"), 40, 100, False), "temperature": (gettext_lazy("体温"), 28, 45, True),
    "glucose": (gettext_lazy("血糖"), 0.5, 60, True), "gcs": (gettext_lazy("GCS评分"), 3, 15, False),
}


def parse_vitals(raw: dict[str, Any]) -> dict[str, int | Decimal | None]:
    """The vital signs from a form or an API body: numbers in their plausible range, blanks as None; every bad
    field named at once (InvalidInput)."""
    out: dict[str, int | Decimal | None] = {}
    errors: dict[str, list[str]] = {}
    for name in raw:
        if name not in VITALS:
            errors.setdefault(name, []).append(_("未知的生命体征项目：%(name)s") % {"name": name})
    for name, (label, low, high, decimal) in VITALS.items():
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            out[name] = None
            continue
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            errors.setdefault(name, []).append(_("%(label)s须为数字") % {"label": label})
            continue
        if not number.is_finite() or not (low <= number <= high):
            errors.setdefault(name, []).append(_("%(label)s须在 %(low)s–%(high)s 之间")
                                               % {"label": label, "low": low, "high": high})
            continue
        if not decimal and number != number.to_integral_value():
            errors.setdefault(name, []).append(_("%(label)s须为整数") % {"label": label})
            continue
        out[name] = number.quantize(Decimal("0.1")) if decimal else int(number)
    collect(errors)
    if out.get("sbp") is not None and out.get("dbp") is not None and out["dbp"] >= out["sbp"]:  # type: ignore[operator]
        raise InvalidInput("dbp_over_sbp", _("舒张压须低于收缩压"), field="dbp")
    if all(v is None for v in out.values()):
        raise InvalidInput("no_vitals", _("请至少填写一项生命体征"), field="sbp")
    return out


def check_time(mission: Mission, at: dt.datetime | None, *, field_name: str = "at") -> dt.datetime:
    """``at`` (now when None), refused when in the future or before the call rang."""
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now + dt.timedelta(minutes=1):
        raise InvalidInput("time_in_future", _("时间不能晚于当前时间"), field=field_name)
    if at < mission.call.rang_at:
        raise InvalidInput("time_before_call", _("时间不能早于呼救振铃时间（%(t)s）")
                           % {"t": timezone.localtime(mission.call.rang_at).strftime("%m-%d %H:%M:%S")},
                           field=field_name)
    return at


def _active(mission: Mission) -> None:
    if mission.status != MissionStatus.ACTIVE:
        raise Conflict("mission_closed", _("出车任务已结束，不能再修改院前急救病历"))


def record_of(mission: Mission) -> PrehospitalRecord:
    """The mission's record (created empty on first use, with the call's patient)."""
    record, _created = PrehospitalRecord.objects.get_or_create(
        mission=mission, defaults={"resident_id": mission.call.resident_id})
    return record


def record_vitals(actor: Actor, mission: Mission, *, at: dt.datetime | None = None, idempotency_key: str = "",
                  **vitals: Any) -> VitalSigns:
    """记录生命体征: one set of vital signs at a time point (now by default); a retry with the same idempotency
    key returns the first set."""
    check(actor, "emergency.record_prehospital", mission)
    _active(mission)
    values = parse_vitals(vitals)
    when = check_time(mission, at)
    key = (idempotency_key or "").strip()[:64]
    with transaction.atomic():
        record = record_of(mission)
        if key and (done := record.vitals.filter(by=actor.user, idempotency_key=key).first()):
            return done
        row = VitalSigns.objects.create(record=record, at=when, by=actor.user, idempotency_key=key, **values)
        record.recorded_by = actor.user
        record.save(update_fields=["recorded_by", "updated_at"])
        audit.record(actor, "create", "ems_vitals", row.pk, mission=mission.pk,
                     resident=record.resident_id, fields=sorted(k for k, v in values.items() if v is not None))
    return row


def set_impression(actor: Actor, mission: Mission, text: str, code: str, icd10: str = "",
                   treatment: str | None = None) -> PrehospitalRecord:
    """初步诊断: the crew's working impression (a code of ``IMPRESSIONS`` deciding the pathway, a text, ICD-10)."""
    check(actor, "emergency.record_prehospital", mission)
    _active(mission)
    if code not in IMPRESSIONS:
        raise InvalidInput("invalid_impression", _("请选择初步诊断分类"), field="code")
    label, _kind, _subtype, default_icd = IMPRESSIONS[code]
    text = (text or "").strip()[:200] or str(label)
    icd10 = (icd10 or "").strip().upper()[:10] or default_icd
    with transaction.atomic():
        record = record_of(mission)
        record.impression, record.impression_code, record.icd10 = text, code, icd10
        if treatment is not None:
            record.treatment = treatment.strip()[:4000]
        record.recorded_by = actor.user
        record.save()
        if mission.call.complaint_code != _kind and _kind:
            mission.call.complaint_code = _kind
            mission.call.save(update_fields=["complaint_code"])
        audit.record(actor, "update", "ems_record", record.pk, mission=mission.pk, resident=record.resident_id,
                     impression=code, icd10=icd10)
    return record


def set_patient(actor: Actor, mission: Mission, resident) -> PrehospitalRecord:
    """The patient identified on scene (a resident in the crew's scope): the record's and the call's."""
    from yigongti.core.scoping import scope_for

    check(actor, "emergency.record_prehospital", mission)
    _active(mission)
    if resident is None or resident.merged_into_id is not None or (
            actor.user is not None and not scope_for(actor.user).contains(resident.area_code)):
        raise InvalidInput("unknown_resident", _("居民档案不存在或不在您的管辖范围内"), field="resident")
    with transaction.atomic():
        record = record_of(mission)
        record.resident = resident
        record.save(update_fields=["resident", "updated_at"])
        if mission.call.resident_id is None:
            mission.call.resident = resident
            mission.call.save(update_fields=["resident"])
        audit.record(actor, "update", "ems_record", record.pk, mission=mission.pk, resident=resident.pk)
    return record


# ---- the 12-lead ECG -------------------------------------------------------------------------------------

def _ecg_item(actor: Actor):
    from yigongti.telemedicine.models import CatalogItem, CenterKind

    facility = actor.user.facility if actor.user is not None else None
    if facility is None or facility.community_id is None:
        raise InvalidInput("no_ecg_center", _("本机构不属于医共体，无法发送心电图"), field="file")
    items = list(CatalogItem.objects.filter(center__community_id=facility.community_id, center__kind=CenterKind.ECG,
                                            center__active=True, active=True).order_by("pk"))
    if not items:
        raise InvalidInput("no_ecg_center", _("医共体尚未设立心电诊断中心"), field="file")
    return next((i for i in items if i.code.upper().startswith("ECG12")), items[0])


def _ecg_order(actor: Actor, mission: Mission, record: PrehospitalRecord, resident):
    from yigongti.telemedicine.ecg.services import CLOSED
    from yigongti.telemedicine.services.orders import place_order

    previous = record.ecg_order
    if previous is not None and previous.status not in CLOSED and previous.resident_id == resident.pk:
        return previous
    impression = record.impression or mission.call.chief_complaint or _("院前急救")
    key = f"ems-m{mission.pk}" + (f"-after{previous.pk}" if previous is not None else "")
    return place_order({"resident": resident.pk, "item": _ecg_item(actor).pk, "urgency": "emergency",
                        "clinical_question": _("120院前急救 %(no)s：%(what)s") % {"no": mission.call.call_no,
                                                                              "what": impression},
                        "repeat_reason": _("院前急救，须即时判读")}, key, actor=actor)


def _file_bytes(order, resident, upload: Any, recording: Any, filename: str) -> tuple[bytes, str]:
    """The file to hand to the ECG service: the upload as it came, or a recording (``(samples, rate, µV)`` or a
    simulator spec ``{"seed", "stemi", "hr"}``) written as a DICOM 12-lead ECG with the order's accession."""
    from yigongti.core.uploads import max_upload_bytes

    if upload is not None:
        if isinstance(upload, bytes | bytearray):
            return bytes(upload), filename
        return upload.read(max_upload_bytes() * 2 + 1), filename or getattr(upload, "name", "") or ""
    from yigongti.telemedicine.ecg.write import dicom_ecg

    if isinstance(recording, dict):
        from yigongti.telemedicine.ecg.simulate import twelve_lead

        stemi = recording.get("stemi") or None
        if stemi not in (None, "inferior", "anterior"):
            raise InvalidInput("invalid_simulation", _("模拟心电图类型无效"), field="stemi")
        samples, rate, uv = twelve_lead(int(recording.get("seed") or mission_seed(order)), stemi=stemi,
                                        hr=recording.get("hr"))
    else:
        samples, rate, uv = recording
    patient = {"id": str(resident.pk), "name": resident.name, "birth_date": resident.birth_date,
               "sex": resident.sex}
    return dicom_ecg(samples, rate, uv, order.accession_no, patient), "ems-ecg.dcm"


def mission_seed(order) -> int:
    return int(order.pk) * 7919 + 17


def attach_ecg(actor: Actor, mission: Mission, *, upload: Any = None, recording: Any = None, filename: str = "",
               device: int | None = None):
    """上传十二导联心电图: an emergency ECG order to the community's ECG center for the mission's patient (one per
    mission, a new upload replaces its recording until it is reported) with the recording from the uploaded file
    (DICOM 12-lead / HL7 aECG) or ``recording``; the order is on the center's worklist at once."""
    from yigongti.telemedicine import ecg

    check(actor, "emergency.record_prehospital", mission)
    _active(mission)
    if upload is None and recording is None:
        raise InvalidInput("file_missing", _("请选择心电图文件（DICOM 或 HL7 aECG）"), field="file")
    record = record_of(mission)
    resident = record.resident or mission.call.resident
    if resident is None:
        raise InvalidInput("no_patient", _("请先确认患者身份（居民档案），再发送心电图"), field="resident")
    order = _ecg_order(actor, mission, record, resident)
    data, name = _file_bytes(order, resident, upload, recording, filename)
    ecg.receive_file(order, data, name, actor=actor, device=device)
    if record.ecg_order_id != order.pk or record.resident_id != resident.pk:
        record.ecg_order, record.resident = order, resident
        record.save(update_fields=["ecg_order", "resident", "updated_at"])
    audit.record(actor, "update", "ems_record", record.pk, mission=mission.pk, resident=resident.pk,
                 ecg_order=order.pk)
    order.refresh_from_db()
    return order


# ---- destination -------------------------------------------------------------------------------------------

@dataclass
class Destination:
    facility: Facility
    eta_s: float | None
    capabilities: list[str] = field(default_factory=list)
    reason: str = ""
    meets: bool = True  # has every capability the impression needs
    level: str = ""  # the PathwayCenter's level (center / unit) for the impression's pathway

    @property
    def eta_min(self) -> int | None:
        return None if self.eta_s is None else max(1, round(self.eta_s / 60))


def _graph():
    """H1's road graph of the active network (None without one)."""
    from yigongti.emergency.roads.graph import road_graph

    return road_graph()


def facility_node(facility: Facility) -> int | None:
    """The road node of a facility: its ambulance station's, else the Place of its region (or the region above)."""
    station = Station.objects.filter(facility=facility, node__isnull=False).first()
    if station is not None:
        return station.node_id
    network = RoadNetwork.objects.filter(active=True).order_by("-created_at").first()
    region: Region | None = facility.region
    while network is not None and region is not None:
        place = Place.objects.filter(network=network, region=region, node__isnull=False).first()
        if place is not None:
            return place.node_id
        region = region.parent
    return None


def _vehicle_node(mission: Mission) -> int | None:
    vehicle = mission.vehicle
    if vehicle.node_id is not None:
        return vehicle.node_id
    graph = _safe_graph()
    if graph is not None and vehicle.lon is not None and vehicle.lat is not None:
        return graph.nearest(vehicle.lon, vehicle.lat)
    return None


def _call_node(mission: Mission) -> int | None:
    call = mission.call
    if call.node_id is not None:
        return call.node_id
    graph = _safe_graph()
    if graph is not None and call.lon is not None and call.lat is not None:
        return graph.nearest(call.lon, call.lat)
    return None


def mission_origin(mission: Mission) -> tuple[int | None, float]:
    """Where the patient's trip to hospital starts and how long until it does: before the crew is on scene, the
    scene after the ambulance's drive there; on scene, the scene; later, the ambulance's last GPS fix when it is
    newer than its arrival on scene (else the scene: a vehicle without GPS is where it last said it was)."""
    from ..models import CallEvent, EventKind

    on_scene = (CallEvent.objects.filter(mission=mission, kind=EventKind.ON_SCENE)
                .values_list("at", flat=True).first())
    scene = _call_node(mission)
    vehicle = mission.vehicle
    if on_scene is None:
        here = _vehicle_node(mission)
        if scene is None:
            return here, 0.0
        return scene, eta_between(here, scene) or 0.0
    fresh = vehicle.node_id is not None and vehicle.position_at is not None and vehicle.position_at > on_scene
    return (vehicle.node_id if fresh or scene is None else scene), 0.0


def mission_node(mission: Mission) -> int | None:
    """The road node the trip to hospital starts from (see ``mission_origin``)."""
    return mission_origin(mission)[0]


def mission_eta_s(mission: Mission, facility: Facility) -> float | None:
    """Seconds until the mission's patient reaches the facility by road."""
    node, lead = mission_origin(mission)
    eta = eta_between(node, facility_node(facility))
    return None if eta is None else lead + eta


def _safe_graph():
    try:
        return _graph()
    except Exception:  # no network imported yet: the list still shows, without travel times
        log.warning("road graph unavailable", exc_info=True)
        return None


def eta_between(from_node: int | None, to_node: int | None) -> float | None:
    if from_node is None or to_node is None:
        return None
    if from_node == to_node:
        return 0.0
    graph = _safe_graph()
    if graph is None:
        return None
    try:
        eta = graph.eta_s(from_node, to_node)
    except Exception:
        log.warning("no route %s → %s", from_node, to_node, exc_info=True)
        return None
    return None if eta is None or eta == float("inf") else float(eta)


def _reason(have: list[str], need: tuple[str, ...], prefer: tuple[str, ...], eta_s: float | None) -> str:
    shown = [c for c in (*need, *prefer) if c in have]
    parts = [_("具备%(caps)s") % {"caps": "、".join(str(CAPABILITY_LABELS.get(c, c)) for c in shown)}] if shown else []
    missing = [c for c in need if c not in have]
    if missing:
        parts.append(_("不具备%(caps)s") % {"caps": "、".join(str(CAPABILITY_LABELS.get(c, c)) for c in missing)})
    if eta_s is not None:
        parts.append(_("车程约 %(m)d 分钟") % {"m": max(1, round(eta_s / 60))})
    return " · ".join(parts)[:120]


def rank_destinations(community_id: int | None, kind: str, subtype: str, from_node: int | None,
                      lead_s: float = 0.0) -> list[Destination]:
    """The hospitals able to receive a patient of this pathway, best first: those with every needed capability,
    then by how many preferred ones they have, a center before a unit, then by road travel time."""
    from yigongti.pathways.models import CenterLevel, PathwayCenter

    need, prefer = NEEDS.get((kind, subtype), NEEDS.get((kind, ""), ((), ())))
    centers = PathwayCenter.objects.filter(active=True, facility__is_active=True).select_related("facility")
    if community_id is not None:
        centers = centers.filter(facility__community_id=community_id)
    by_facility: dict[int, tuple[Facility, list[str], str]] = {}
    for c in centers.filter(kind=kind) if kind else centers:
        f, caps, level = by_facility.get(c.facility_id, (c.facility, [], c.level))
        caps.extend(x for x in c.capabilities if x not in caps)
        by_facility[c.facility_id] = (f, caps, level if level == CenterLevel.CENTER else c.level)
    if not by_facility:  # no center of this pathway: the community's hospitals and township centers
        qs = Facility.objects.filter(is_active=True).exclude(type__in=NOT_RECEIVING)
        if community_id is not None:
            qs = qs.filter(community_id=community_id)
        by_facility = {f.pk: (f, [], "") for f in qs}
    out = []
    for f, caps, level in by_facility.values():
        eta = eta_between(from_node, facility_node(f))
        eta = None if eta is None else eta + lead_s
        out.append(Destination(f, eta, caps, _reason(caps, need, prefer, eta), all(c in caps for c in need), level))

    def key(d: Destination):
        return (not d.meets, -sum(c in d.capabilities for c in prefer), d.level != CenterLevel.CENTER,
                d.eta_s is None, d.eta_s or 0.0, d.facility.pk)

    return sorted(out, key=key)


def destinations(mission: Mission) -> list[Destination]:
    """送往医院建议: the receiving hospitals for the mission's working impression (PCI for STEMI, CT and
    thrombolysis for stroke …), best first, with the road travel time from where the patient is (see
    ``mission_origin``)."""
    record = PrehospitalRecord.objects.filter(mission=mission).first()
    kind, subtype = pathway_of(record.impression_code if record else "")
    if not kind and mission.call.complaint_code in {v[1] for v in IMPRESSIONS.values() if v[1]}:
        kind = mission.call.complaint_code
    node, lead = mission_origin(mission)
    return rank_destinations(mission.vehicle.station.community_id, kind, subtype, node, lead)


def choose_destination(actor: Actor, mission: Mission, facility: Facility, reason: str = "") -> Mission:
    """选择送往医院: the dispatcher or the crew sets where the ambulance goes (a receiving hospital of the
    community), with a reason (by default the capability and travel time that ranked it)."""
    check(actor, "emergency.send_alert", mission, message=_("只有本车组人员或120调度员可以选择送往医院"))
    _active(mission)
    community_id = mission.vehicle.station.community_id
    if (facility is None or not facility.is_active or facility.type in NOT_RECEIVING
            or (community_id is not None and facility.community_id != community_id)):
        raise InvalidInput("invalid_destination", _("送往医院须是本医共体有救治能力的医院"), field="facility")
    reason = (reason or "").strip()
    if not reason:
        ranked = {d.facility.pk: d for d in destinations(mission)}
        reason = ranked[facility.pk].reason if facility.pk in ranked else ""
    with transaction.atomic():
        Mission.objects.filter(pk=mission.pk).update(destination=facility, destination_reason=reason[:120])
        mission.destination, mission.destination_reason = facility, reason[:120]
        audit.record(actor, "update", "ems_mission", mission.pk, destination=facility.pk, reason=reason[:120])
    return mission
