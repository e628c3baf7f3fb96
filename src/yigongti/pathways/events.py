"""The catalogue of a pathway's time points (时间节点), per kind: the code stored on ``CaseEvent.code``, its Chinese
label, its place on the timeline, and where it is captured (the 120 record, the ECG center, the laboratory, the
imaging center, or a button pressed at the moment).

The codes follow the 中国胸痛中心/卒中中心 data platforms' time points where they have one (``docs/pathways.md``
maps them); a code means the same moment in every kind that has it (``door`` is arrival at the treating hospital's
door, ``first_door``/``door_out`` arrival at and departure from the transferring township's).

Pure data and small lookups; no database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Captured(models.TextChoices):
    """Where a time point is captured (once, where it happens)."""

    EMERGENCY = "emergency", _("120急救记录")
    TELEMEDICINE = "telemedicine", _("心电诊断中心")
    LAB = "lab", _("检验结果")
    IMAGING = "imaging", _("影像检查")
    MANUAL = "manual", _("现场按钮")


class Subtype(models.TextChoices):
    # chest pain
    STEMI = "stemi", _("ST段抬高型心肌梗死")
    NSTEMI = "nstemi", _("非ST段抬高型心肌梗死")
    UA = "ua", _("不稳定型心绞痛")
    AORTIC_DISSECTION = "aortic_dissection", _("主动脉夹层")
    PE = "pe", _("肺动脉栓塞")
    # stroke
    ISCHAEMIC = "ischaemic", _("缺血性卒中")
    HAEMORRHAGIC = "haemorrhagic", _("出血性卒中")
    # trauma
    MAJOR_TRAUMA = "major_trauma", _("严重创伤")
    # maternal
    PPH = "pph", _("产后出血")
    ECLAMPSIA = "eclampsia", _("子痫/重度子痫前期")
    OBSTETRIC_OTHER = "obstetric_other", _("其他危重孕产妇")
    # neonatal
    ASPHYXIA = "asphyxia", _("新生儿窒息")
    PRETERM = "preterm", _("早产/低出生体重")
    NEONATAL_OTHER = "neonatal_other", _("其他危重新生儿")


SUBTYPES: dict[str, tuple[str, ...]] = {
    "chest_pain": ("stemi", "nstemi", "ua", "aortic_dissection", "pe"),
    "stroke": ("ischaemic", "haemorrhagic"),
    "trauma": ("major_trauma",),
    "maternal": ("pph", "eclampsia", "obstetric_other"),
    "neonatal": ("asphyxia", "preterm", "neonatal_other"),
}


class RiskColour(models.TextChoices):
    """妊娠风险分级 (the five colours of 孕产妇妊娠风险评估与管理工作规范)."""

    GREEN = "green", _("绿色（低风险）")
    YELLOW = "yellow", _("黄色（一般风险）")
    ORANGE = "orange", _("橙色（较高风险）")
    RED = "red", _("红色（高风险）")
    PURPLE = "purple", _("紫色（传染性疾病）")


@dataclass(frozen=True)
class EventDef:
    code: str
    label: StrOrPromise  # lazy: rendered in the reader's language
    order: int
    captured: str = Captured.MANUAL
    subtypes: tuple[str, ...] = ()  # empty: every subtype of the kind
    at_first_facility: bool = False  # recorded at the transferring township, not at the treating hospital
    transfer_only: bool = False  # only when the patient came by transfer

    def applies(self, subtype: str = "", arrival_mode: str = "") -> bool:
        if self.subtypes and subtype and subtype not in self.subtypes:
            return False
        return not (self.transfer_only and arrival_mode and arrival_mode != "transfer")

    @property
    def captured_label(self) -> str:
        return str(Captured(self.captured).label)


E, T, L, IM, M = Captured.EMERGENCY, Captured.TELEMEDICINE, Captured.LAB, Captured.IMAGING, Captured.MANUAL
ACS = ("stemi", "nstemi", "ua")

_PREHOSPITAL = (
    EventDef("onset", _("发病"), 10),
    EventDef("call_120", _("呼叫120"), 20, E),
    EventDef("fmc", _("首次医疗接触"), 30, E),
)

CATALOGUE: dict[str, tuple[EventDef, ...]] = {
    "chest_pain": (
        *_PREHOSPITAL,
        EventDef("first_ecg", _("首份心电图"), 40, T),
        EventDef("ecg_transmit", _("心电图传输"), 45, T),
        EventDef("ecg_diagnosis", _("心电图诊断"), 50, T),
        EventDef("first_door", _("到达首诊医院"), 60, E, at_first_facility=True, transfer_only=True),
        EventDef("door_out", _("离开首诊医院"), 70, E, at_first_facility=True, transfer_only=True),
        EventDef("door", _("到达本院大门"), 80, E),
        EventDef("blood_draw", _("抽血"), 90),
        EventDef("troponin", _("肌钙蛋白结果"), 100, L),
        EventDef("diagnosis", _("确诊"), 110),
        EventDef("antiplatelet", _("双抗负荷量"), 120, subtypes=ACS),
        EventDef("cta", _("CT血管造影完成"), 125, IM, subtypes=("aortic_dissection", "pe")),
        EventDef("needle", _("溶栓开始"), 130, subtypes=("stemi",)),
        EventDef("consent_start", _("开始知情同意"), 140, subtypes=ACS),
        EventDef("consent_signed", _("签署知情同意"), 150, subtypes=ACS),
        EventDef("cath_lab_activation", _("启动导管室"), 160, subtypes=ACS),
        EventDef("cath_lab_ready", _("导管室激活完成"), 170, subtypes=ACS),
        EventDef("arrive_cath_lab", _("到达导管室"), 180, subtypes=ACS),
        EventDef("puncture", _("动脉穿刺"), 190, subtypes=ACS),
        EventDef("wire", _("导丝通过"), 200, subtypes=ACS),
        EventDef("surgery", _("急诊手术开始"), 205, subtypes=("aortic_dissection",)),
        EventDef("discharge", _("出院/转归"), 900),
    ),
    "stroke": (
        *_PREHOSPITAL,
        EventDef("first_door", _("到达首诊医院"), 40, E, at_first_facility=True, transfer_only=True),
        EventDef("door_out", _("离开首诊医院"), 45, E, at_first_facility=True, transfer_only=True),
        EventDef("door", _("到达本院大门"), 50, E),
        EventDef("stroke_team", _("卒中小组到达"), 60),
        EventDef("nihss", _("NIHSS评分"), 70),
        EventDef("blood_draw", _("抽血"), 80),
        EventDef("ct", _("头颅CT完成"), 90, IM),
        EventDef("ct_report", _("CT报告"), 100, IM),
        EventDef("consent_signed", _("签署知情同意"), 110),
        EventDef("needle", _("静脉溶栓开始"), 120, subtypes=("ischaemic",)),
        EventDef("puncture", _("股动脉穿刺"), 130, subtypes=("ischaemic",)),
        EventDef("recanalization", _("血管再通"), 140, subtypes=("ischaemic",)),
        EventDef("neurosurgery", _("神经外科手术开始"), 150, subtypes=("haemorrhagic",)),
        EventDef("discharge", _("出院/转归"), 900),
    ),
    "trauma": (
        EventDef("injury", _("受伤"), 10),
        EventDef("call_120", _("呼叫120"), 20, E),
        EventDef("fmc", _("首次医疗接触"), 30, E),
        EventDef("first_door", _("到达首诊医院"), 40, E, at_first_facility=True, transfer_only=True),
        EventDef("door_out", _("离开首诊医院"), 45, E, at_first_facility=True, transfer_only=True),
        EventDef("door", _("到达本院大门"), 50, E),
        EventDef("trauma_team", _("创伤小组到达"), 60),
        EventDef("resuscitation", _("开始复苏"), 70),
        EventDef("transfusion", _("开始输血"), 80),
        EventDef("ct", _("CT完成"), 90, IM),
        EventDef("theatre", _("进入手术室"), 100),
        EventDef("icu", _("转入ICU"), 110),
        EventDef("discharge", _("出院/转归"), 900),
    ),
    "maternal": (
        EventDef("onset", _("危急征象出现"), 10),
        EventDef("call_120", _("呼叫120"), 20, E),
        EventDef("fmc", _("首次医疗接触"), 30, E),
        EventDef("first_door", _("到达首诊医院"), 40, E, at_first_facility=True, transfer_only=True),
        EventDef("door_out", _("离开首诊医院"), 45, E, at_first_facility=True, transfer_only=True),
        EventDef("door", _("到达本院大门"), 50, E),
        EventDef("obstetric_team", _("产科抢救小组到达"), 60),
        EventDef("pph_diagnosis", _("产后出血诊断"), 70, subtypes=("pph",)),
        EventDef("transfusion", _("开始输血"), 80),
        EventDef("magnesium", _("硫酸镁给药"), 85, subtypes=("eclampsia",)),
        EventDef("decision_csection", _("决定剖宫产"), 90),
        EventDef("delivery", _("胎儿娩出"), 100),
        EventDef("icu", _("转入ICU"), 110),
        EventDef("discharge", _("出院/转归"), 900),
    ),
    "neonatal": (
        EventDef("birth", _("出生"), 10),
        EventDef("resuscitation", _("开始复苏"), 20),
        EventDef("transfer_request", _("申请转运"), 30, E),
        EventDef("team_depart", _("转运队出发"), 40, E),
        EventDef("team_arrive", _("转运队到达"), 50, E),
        EventDef("door", _("到达本院大门"), 60, E),
        EventDef("nicu", _("入住NICU"), 70),
        EventDef("discharge", _("出院/转归"), 900),
    ),
}

KINDS = tuple(CATALOGUE)


def catalogue(kind: str, subtype: str = "", arrival_mode: str = "") -> list[EventDef]:
    """The time points of a kind (filtered by subtype and arrival mode when given), in timeline order."""
    return sorted((d for d in CATALOGUE.get(kind, ()) if d.applies(subtype, arrival_mode)), key=lambda d: d.order)


def get(kind: str, code: str) -> EventDef | None:
    for d in CATALOGUE.get(kind, ()):
        if d.code == code:
            return d
    return None


def is_known(kind: str, code: str) -> bool:
    return get(kind, code) is not None


def label(kind: str, code: str) -> str:
    d = get(kind, code)
    return str(d.label) if d is not None else code


def next_events(kind: str, recorded: set[str] | frozenset[str], *, subtype: str = "",
                arrival_mode: str = "") -> list[EventDef]:
    """The time points not yet recorded (the buttons of the timeline), in order."""
    return [d for d in catalogue(kind, subtype, arrival_mode) if d.code not in recorded]


def subtype_choices(kind: str) -> list[tuple[str, str]]:
    return [(c, str(Subtype(c).label)) for c in SUBTYPES.get(kind, ())]


def captured_at(source: str) -> list[tuple[str, str]]:
    """(kind, code) of every time point captured from this source (``Captured`` value)."""
    return [(k, d.code) for k, defs in CATALOGUE.items() for d in defs if d.captured == source]


class DelayCode(models.TextChoices):
    """Why a target was missed (the chest-pain data platform's 延误原因, widened to every kind)."""

    PATIENT_DECISION = "patient_decision", _("患者或家属犹豫、知情同意延误")
    DIAGNOSIS_UNCLEAR = "diagnosis_unclear", _("诊断不明确")
    ECG_DELAY = "ecg_delay", _("心电图获取或传输延误")
    TEAM_DELAY = "team_delay", _("救治团队到位延误（夜间/节假日）")
    CATH_LAB_BUSY = "cath_lab_busy", _("导管室/手术室占用")
    IMAGING_DELAY = "imaging_delay", _("检查检验延误")
    TRANSPORT_DELAY = "transport_delay", _("转运途中延误")
    UNSTABLE = "unstable", _("病情不稳定需先行抢救")
    PAYMENT = "payment", _("费用问题")
    OTHER = "other", _("其他（须说明）")


class Outcome(models.TextChoices):
    DISCHARGED = "discharged", _("好转出院")
    TRANSFERRED = "transferred", _("转上级医院")
    DIED = "died", _("死亡")
    LEFT = "left", _("自动出院")
    RULED_OUT = "ruled_out", _("排除诊断")


def label_any(code: str) -> str:
    """The label of a code in whichever kind has it first (for messages that know no kind)."""
    for kind in KINDS:
        if (d := get(kind, code)) is not None:
            return str(d.label)
    return code
