"""The national registries' export: chest-pain cases in the sections of the 中国胸痛中心数据填报平台 (基本信息,
院前急救, 院内诊治, 介入治疗, 转归) and stroke cases in those of the stroke-center data platform (基本信息, 院前急救,
院内诊治, 静脉溶栓, 血管内治疗, 转归), as Excel (one sheet per section, plus the field mapping) or CSV (one row per
case), so that filling the registry is a review of what was captured, not a re-entry.

Every registry field is declared once in ``FIELDS`` with where its value comes from (a time point, the case, the
patient, the 120 record) — or, for the fields we do not capture, ``get=None``: the column is kept, empty, and
marked as a gap (the sheet's header turns amber and the mapping sheet says so). The same table renders
``docs/pathways-registry.md``'s mapping (``mapping_rows``).

Exports carry names and ID numbers (the registry needs them): ``pathways.export_registry`` is checked on the
center and every export is audited with the case ids."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.orgs.permissions import check

from . import events as catalogue
from . import metrics as m
from .models import Case, CaseEvent, CaseStatus, CenterLevel, DelayReason, PathwayCenter

REGISTRIES = {"chest_pain": "中国胸痛中心数据填报平台", "stroke": "中国卒中中心数据上报平台（国家卒中登记）"}
MAX_MONTHS = 12
TIME_FMT = "%Y-%m-%d %H:%M"


# ---- one case, as plain data ---------------------------------------------------------------------------------------


@dataclass
class CaseRecord:
    """Everything the registry fields are read from (no database access in the getters)."""

    case_no: str
    kind: str
    subtype: str
    arrival_mode: str
    diagnosis: str
    outcome: str
    status: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    name: str
    sex: str
    birth_date: dt.date | None
    id_number: str
    phone: str
    address: str
    facility: str
    facility_code: str
    first_facility: str = ""
    events: dict[str, dt.datetime] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    event_facility: dict[str, int | None] = field(default_factory=dict)
    first_facility_id: int | None = None
    call_no: str = ""
    call_rang_at: dt.datetime | None = None
    call_address: str = ""
    call_events: dict[str, dt.datetime] = field(default_factory=dict)
    vehicle: str = ""
    station: str = ""
    impression: str = ""
    vitals: dict[str, object] = field(default_factory=dict)
    alert_at: dt.datetime | None = None
    delays: dict[str, tuple[str, str]] = field(default_factory=dict)  # metric → (code, note)

    def metrics(self) -> list[m.Metric]:
        return m.case_metrics(self.kind, self.events, subtype=self.subtype, arrival_mode=self.arrival_mode)


def fmt(when: dt.datetime | None) -> str:
    return timezone.localtime(when).strftime(TIME_FMT) if when else ""


def at(code: str) -> Callable[[CaseRecord], str]:
    """A time point of the pathway (its active event)."""
    return lambda r: fmt(r.events.get(code))


def value_of(code: str) -> Callable[[CaseRecord], str]:
    return lambda r: r.values.get(code, "")


def call_at(kind: str) -> Callable[[CaseRecord], str]:
    """A time point of the 120 record (the call's mission)."""
    return lambda r: fmt(r.call_events.get(kind))


def yes_no(flag: bool) -> str:
    return "是" if flag else "否"


def _age(r: CaseRecord) -> str:
    if r.birth_date is None:
        return ""
    d = timezone.localtime(r.opened_at).date()
    return str(d.year - r.birth_date.year - ((d.month, d.day) < (r.birth_date.month, r.birth_date.day)))


SEX = {"M": "男", "F": "女"}
ARRIVAL = {"ems": "呼叫120出车", "transfer": "转院", "self": "自行来院", "in_hospital": "院内发病"}
OUTCOME = {"discharged": "出院", "transferred": "转上级医院", "died": "死亡", "left": "自动出院",
           "ruled_out": "排除诊断"}
CP_DIAGNOSIS = {"stemi": "STEMI", "nstemi": "NSTEMI", "ua": "UA", "aortic_dissection": "主动脉夹层",
                "pe": "肺动脉栓塞"}
STROKE_TYPE = {"ischaemic": "缺血性卒中", "haemorrhagic": "出血性卒中"}


def _subtype(table: dict[str, str]) -> Callable[[CaseRecord], str]:
    return lambda r: table.get(r.subtype, "待查" if not r.subtype else r.subtype)


def _reperfusion(r: CaseRecord) -> str:
    """再灌注措施: 直接PCI / 转运PCI / 溶栓 (溶栓后 PCI) / 未再灌注 — from the time points present."""
    wire, needle = "wire" in r.events, "needle" in r.events
    if needle and wire:
        return "溶栓后PCI"
    if wire:
        return "转运PCI" if r.arrival_mode == "transfer" else "直接PCI"
    if needle:
        return "静脉溶栓"
    return "未再灌注" if r.subtype == "stemi" else ""


def _first_facility_needle(r: CaseRecord) -> str:
    if "needle" not in r.events or r.first_facility_id is None:
        return ""
    return yes_no(r.event_facility.get("needle") == r.first_facility_id)


def _metric(code: str) -> Callable[[CaseRecord], str]:
    def get(r: CaseRecord) -> str:
        for x in r.metrics():
            if x.code == code and x.minutes is not None and not x.running:
                return f"{x.minutes:g}"
        return ""
    return get


def _delays(r: CaseRecord) -> str:
    parts = []
    for metric, (code, note) in sorted(r.delays.items()):
        d = m.BY_CODE.get(metric)
        try:
            reason = str(catalogue.DelayCode(code).label)
        except ValueError:
            reason = code
        parts.append(f"{d.label if d else metric}：{reason}{'（' + note + '）' if note else ''}")
    return "；".join(parts)


def _stay_days(r: CaseRecord) -> str:
    start = r.events.get("door") or r.opened_at
    end = r.events.get("discharge")
    if end is None:
        return ""
    return str((timezone.localtime(end).date() - timezone.localtime(start).date()).days)


def _vital(key: str) -> Callable[[CaseRecord], str]:
    return lambda r: "" if r.vitals.get(key) is None else str(r.vitals[key])


def _bp(r: CaseRecord) -> str:
    s, d = r.vitals.get("sbp"), r.vitals.get("dbp")
    return f"{s}/{d}" if s and d else ""


def _died_at(r: CaseRecord) -> str:
    return fmt(r.events.get("discharge") or r.closed_at) if r.outcome == "died" else ""


# ---- the field table -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryField:
    section: str
    name: str  # the field as the registry's form names it
    source: str  # where the value comes from (the mapping's documentation)
    get: Callable[[CaseRecord], str] | None = None  # None: not captured (a gap: left for the reviewer)
    note: str = ""

    @property
    def gap(self) -> bool:
        return self.get is None


F = RegistryField
BASIC, PRE, HOSP, PCI, OUTCOME_S = "基本信息", "院前急救", "院内诊治", "介入治疗", "转归"
IVT, EVT = "静脉溶栓", "血管内治疗"
CHECK = "核对指标"  # not a registry section: our computed minutes and delay reasons, to review against


def _basic(onset_name: str) -> list[RegistryField]:
    return [
        F(BASIC, "院内病例号", "Case.case_no（平台编号由平台生成）", lambda r: r.case_no),
        F(BASIC, "患者姓名", "Resident.name", lambda r: r.name),
        F(BASIC, "性别", "Resident.sex（男/女）", lambda r: SEX.get(r.sex, "")),
        F(BASIC, "出生日期", "Resident.birth_date", lambda r: r.birth_date.isoformat() if r.birth_date else ""),
        F(BASIC, "年龄", "建档时的周岁（Resident.birth_date, Case.opened_at）", _age),
        F(BASIC, "证件类型", "有身份证号时为“居民身份证”", lambda r: "居民身份证" if r.id_number else ""),
        F(BASIC, "证件号码", "Resident.id_number（GB 11643 校验）", lambda r: r.id_number),
        F(BASIC, "联系电话", "Resident.phone", lambda r: r.phone),
        F(BASIC, "民族", "未采集"),
        F(BASIC, "文化程度", "未采集"),
        F(BASIC, "职业", "未采集"),
        F(BASIC, "医保类型", "未采集（医保结算在出院后，未关联到病例）"),
        F(BASIC, "身高(cm)", "未采集"),
        F(BASIC, "体重(kg)", "未采集"),
        F(BASIC, "发病地址", "120 呼救地址（Call.address），无则居民住址（乡镇村）",
          lambda r: r.call_address or r.address),
        F(BASIC, onset_name, "时间节点 onset（发病）", at("onset")),
        F(BASIC, "发病时间是否精确", "未采集（onset 只记时间，不记是否估计）"),
        F(BASIC, "来院方式", "Case.arrival_mode：ems→呼叫120出车，transfer→转院，self→自行来院，"
                         "in_hospital→院内发病", lambda r: ARRIVAL.get(r.arrival_mode, r.arrival_mode)),
        F(BASIC, "救治医院", "Case.facility", lambda r: r.facility),
    ]


def _prehospital() -> list[RegistryField]:
    return [
        F(PRE, "呼救时间", "时间节点 call_120，无则 120 振铃时间（Call.rang_at）",
          lambda r: fmt(r.events.get("call_120") or r.call_rang_at)),
        F(PRE, "120受理号", "Call.call_no", lambda r: r.call_no),
        F(PRE, "出车单位", "出车车辆所属急救站（Mission.vehicle.station）", lambda r: r.station),
        F(PRE, "救护车", "Mission.vehicle（呼号/车牌）", lambda r: r.vehicle),
        F(PRE, "派车时间", "120 时间节点 dispatch_order", call_at("dispatch_order")),
        F(PRE, "出车时间", "120 时间节点 wheels_rolling", call_at("wheels_rolling")),
        F(PRE, "到达现场时间", "120 时间节点 on_scene", call_at("on_scene")),
        F(PRE, "首次医疗接触时间", "时间节点 fmc（由 120 记录或首诊医院采集）", at("fmc")),
        F(PRE, "离开现场时间", "120 时间节点 leave_scene", call_at("leave_scene")),
        F(PRE, "院前初步诊断", "院前急救病历 PrehospitalRecord.impression", lambda r: r.impression),
        F(PRE, "院前血压(mmHg)", "院前首次生命体征 VitalSigns.sbp/dbp", _bp),
        F(PRE, "院前心率(次/分)", "院前首次生命体征 VitalSigns.heart_rate", _vital("heart_rate")),
        F(PRE, "院前血氧饱和度(%)", "院前首次生命体征 VitalSigns.spo2", _vital("spo2")),
        F(PRE, "院前意识(GCS)", "院前首次生命体征 VitalSigns.gcs", _vital("gcs")),
        F(PRE, "是否提前预警", "有预警 PreArrivalAlert 即为“是”", lambda r: yes_no(r.alert_at is not None)),
        F(PRE, "预警时间", "PreArrivalAlert.sent_at", lambda r: fmt(r.alert_at)),
        F(PRE, "首诊医院", "Case.first_facility（转院时）", lambda r: r.first_facility),
        F(PRE, "到达首诊医院时间", "时间节点 first_door（首诊乡镇的入门）", at("first_door")),
        F(PRE, "决定转院时间", "未采集（只记 door_out）"),
        F(PRE, "离开首诊医院时间", "时间节点 door_out（首诊乡镇的出门）", at("door_out")),
        F(PRE, "院前用药", "未采集（院前处置为文本 PrehospitalRecord.treatment，未结构化）"),
    ]


CHEST_PAIN: list[RegistryField] = [
    *_basic("发病时间"),
    *_prehospital(),
    F(PRE, "首份心电图时间", "时间节点 first_ecg（心电诊断中心采集）", at("first_ecg")),
    F(PRE, "心电图远程传输", "有时间节点 ecg_transmit 为“是”", lambda r: yes_no("ecg_transmit" in r.events)),
    F(PRE, "心电图传输时间", "时间节点 ecg_transmit", at("ecg_transmit")),
    F(PRE, "心电图诊断时间", "时间节点 ecg_diagnosis（心电诊断中心签发报告）", at("ecg_diagnosis")),
    F(PRE, "心电图诊断", "时间节点 ecg_diagnosis 的结果（报告结论）", value_of("ecg_diagnosis")),
    F(PRE, "首诊医院溶栓", "溶栓 needle 的发生机构为首诊医院时为“是”", _first_facility_needle),
    F(HOSP, "到达本院大门时间", "时间节点 door", at("door")),
    F(HOSP, "是否绕行急诊", "未采集（未记录是否直达导管室）"),
    F(HOSP, "抽血时间", "时间节点 blood_draw", at("blood_draw")),
    F(HOSP, "肌钙蛋白报告时间", "时间节点 troponin（检验结果）", at("troponin")),
    F(HOSP, "肌钙蛋白结果", "时间节点 troponin 的结果", value_of("troponin")),
    F(HOSP, "确诊时间", "时间节点 diagnosis", at("diagnosis")),
    F(HOSP, "初步诊断", "Case.subtype：stemi→STEMI，nstemi→NSTEMI，ua→UA，主动脉夹层，肺动脉栓塞；未分型→待查",
      _subtype(CP_DIAGNOSIS)),
    F(HOSP, "Killip分级", "未采集"),
    F(HOSP, "双抗负荷量给药时间", "时间节点 antiplatelet", at("antiplatelet")),
    F(HOSP, "抗凝给药时间", "未采集"),
    F(HOSP, "CT血管造影完成时间", "时间节点 cta（主动脉夹层、肺栓塞）", at("cta")),
    F(HOSP, "再灌注措施", "由时间节点推得：wire→直接PCI（转院来者为转运PCI），needle→溶栓，两者→溶栓后PCI，"
                       "STEMI 两者皆无→未再灌注", _reperfusion),
    F(HOSP, "溶栓开始时间", "时间节点 needle", at("needle")),
    F(HOSP, "溶栓结束时间", "未采集"),
    F(HOSP, "溶栓药物", "未采集"),
    F(HOSP, "溶栓后再通", "未采集"),
    F(HOSP, "开始知情同意时间", "时间节点 consent_start", at("consent_start")),
    F(HOSP, "签署知情同意时间", "时间节点 consent_signed", at("consent_signed")),
    F(PCI, "启动导管室时间", "时间节点 cath_lab_activation", at("cath_lab_activation")),
    F(PCI, "导管室激活时间", "时间节点 cath_lab_ready", at("cath_lab_ready")),
    F(PCI, "患者到达导管室时间", "时间节点 arrive_cath_lab", at("arrive_cath_lab")),
    F(PCI, "开始穿刺时间", "时间节点 puncture", at("puncture")),
    F(PCI, "导丝通过时间", "时间节点 wire", at("wire")),
    F(PCI, "穿刺部位", "未采集（桡动脉/股动脉）"),
    F(PCI, "罪犯血管", "未采集"),
    F(PCI, "植入支架数", "未采集"),
    F(PCI, "术中并发症", "未采集"),
    F(PCI, "介入医生", "未采集（记录人不一定是术者）"),
    F(PCI, "急诊手术开始时间", "时间节点 surgery（主动脉夹层）", at("surgery")),
    F(OUTCOME_S, "转归", "Case.outcome：discharged→出院，transferred→转上级医院，died→死亡，left→自动出院",
      lambda r: OUTCOME.get(r.outcome, r.outcome)),
    F(OUTCOME_S, "出院诊断", "Case.diagnosis", lambda r: r.diagnosis),
    F(OUTCOME_S, "出院/转归时间", "时间节点 discharge", at("discharge")),
    F(OUTCOME_S, "住院天数", "discharge 与 door（无则建档）相差的日历天数", _stay_days),
    F(OUTCOME_S, "死亡时间", "转归为死亡时取 discharge（无则结束时间）", _died_at),
    F(OUTCOME_S, "死亡原因", "未采集"),
    F(OUTCOME_S, "出院带药", "未采集（阿司匹林、P2Y12 抑制剂、他汀、β 受体阻滞剂、ACEI/ARB）"),
    F(OUTCOME_S, "住院总费用(元)", "未采集（结算未关联到病例）"),
    F(CHECK, "FMC至首份心电图(分钟)", "metrics fmc_to_ecg", _metric("fmc_to_ecg")),
    F(CHECK, "首份心电图至诊断(分钟)", "metrics ecg_to_diagnosis", _metric("ecg_to_diagnosis")),
    F(CHECK, "DIDO(分钟)", "metrics dido（首诊乡镇入门至出门）", _metric("dido")),
    F(CHECK, "D2N(分钟)", "metrics d2n_chest", _metric("d2n_chest")),
    F(CHECK, "D2W(分钟)", "metrics d2w", _metric("d2w")),
    F(CHECK, "FMC至导丝通过(分钟)", "metrics fmc_to_wire", _metric("fmc_to_wire")),
    F(CHECK, "延误原因", "DelayReason（指标：原因（说明））", _delays),
]

STROKE: list[RegistryField] = [
    *_basic("发病时间（最后正常时间）"),
    *_prehospital(),
    F(PRE, "院前卒中量表(FAST/CPSS)", "未采集"),
    F(PRE, "院前血糖(mmol/L)", "院前首次生命体征 VitalSigns.glucose", _vital("glucose")),
    F(HOSP, "到院时间", "时间节点 door", at("door")),
    F(HOSP, "卒中小组到达时间", "时间节点 stroke_team", at("stroke_team")),
    F(HOSP, "NIHSS评分时间", "时间节点 nihss", at("nihss")),
    F(HOSP, "入院NIHSS评分", "时间节点 nihss 的结果", value_of("nihss")),
    F(HOSP, "抽血时间", "时间节点 blood_draw", at("blood_draw")),
    F(HOSP, "头颅CT完成时间", "时间节点 ct（影像检查）", at("ct")),
    F(HOSP, "CT报告时间", "时间节点 ct_report", at("ct_report")),
    F(HOSP, "卒中类型", "Case.subtype：ischaemic→缺血性卒中，haemorrhagic→出血性卒中", _subtype(STROKE_TYPE)),
    F(HOSP, "TOAST分型", "未采集"),
    F(HOSP, "签署知情同意时间", "时间节点 consent_signed", at("consent_signed")),
    F(IVT, "是否静脉溶栓", "有时间节点 needle 为“是”", lambda r: yes_no("needle" in r.events)),
    F(IVT, "溶栓开始时间", "时间节点 needle", at("needle")),
    F(IVT, "溶栓药物", "未采集（rt-PA/TNK/尿激酶）"),
    F(IVT, "溶栓剂量", "未采集"),
    F(IVT, "未溶栓原因", "未采集（延误原因只在超时时填写）"),
    F(EVT, "是否血管内治疗", "有时间节点 puncture 为“是”", lambda r: yes_no("puncture" in r.events)),
    F(EVT, "股动脉穿刺时间", "时间节点 puncture", at("puncture")),
    F(EVT, "血管再通时间", "时间节点 recanalization", at("recanalization")),
    F(EVT, "mTICI分级", "未采集"),
    F(EVT, "神经外科手术开始时间", "时间节点 neurosurgery（出血性卒中）", at("neurosurgery")),
    F(OUTCOME_S, "转归", "Case.outcome（同胸痛）", lambda r: OUTCOME.get(r.outcome, r.outcome)),
    F(OUTCOME_S, "出院诊断", "Case.diagnosis", lambda r: r.diagnosis),
    F(OUTCOME_S, "出院/转归时间", "时间节点 discharge", at("discharge")),
    F(OUTCOME_S, "住院天数", "discharge 与 door（无则建档）相差的日历天数", _stay_days),
    F(OUTCOME_S, "出院mRS评分", "未采集"),
    F(OUTCOME_S, "出院NIHSS评分", "未采集"),
    F(OUTCOME_S, "症状性颅内出血", "未采集"),
    F(OUTCOME_S, "死亡时间", "转归为死亡时取 discharge（无则结束时间）", _died_at),
    F(CHECK, "发病至到院(分钟)", "metrics onset_to_door", _metric("onset_to_door")),
    F(CHECK, "DIDO(分钟)", "metrics dido_stroke", _metric("dido_stroke")),
    F(CHECK, "入门至CT(分钟)", "metrics door_to_ct", _metric("door_to_ct")),
    F(CHECK, "DNT(分钟)", "metrics dnt", _metric("dnt")),
    F(CHECK, "DPT(分钟)", "metrics dpt", _metric("dpt")),
    F(CHECK, "延误原因", "DelayReason（指标：原因（说明））", _delays),
]

FIELDS: dict[str, list[RegistryField]] = {"chest_pain": CHEST_PAIN, "stroke": STROKE}
SECTIONS: dict[str, list[str]] = {
    "chest_pain": [BASIC, PRE, HOSP, PCI, OUTCOME_S, CHECK],
    "stroke": [BASIC, PRE, HOSP, IVT, EVT, OUTCOME_S, CHECK],
}


def fields_of(kind: str) -> list[RegistryField]:
    if kind not in FIELDS:
        raise InvalidInput("no_registry", _("只有胸痛和卒中病例可导出到国家数据平台"), field="kind")
    return FIELDS[kind]


def gaps(kind: str) -> list[RegistryField]:
    """The registry fields we do not capture (left empty for the reviewer)."""
    return [f for f in fields_of(kind) if f.gap]


def mapping_rows(kind: str) -> list[dict[str, str]]:
    return [{"section": f.section, "field": f.name, "source": f.source, "gap": "未采集" if f.gap else ""}
            for f in fields_of(kind)]


# ---- the table, the files ----------------------------------------------------------------------------------------


@dataclass
class Table:
    kind: str
    registry: str
    fields: list[RegistryField]
    rows: list[list[str]]  # one per case, one value per field (in ``fields`` order)
    center: PathwayCenter | None = None

    def section(self, name: str) -> tuple[list[RegistryField], list[list[str]]]:
        idx = [i for i, f in enumerate(self.fields) if f.section == name]
        key = 0  # every section starts with the case number, so the sheets join
        if idx and idx[0] != key:
            idx = [key, *idx]
        return [self.fields[i] for i in idx], [[row[i] for i in idx] for row in self.rows]


def table(kind: str, records: Sequence[CaseRecord], center: PathwayCenter | None = None) -> Table:
    fields = fields_of(kind)
    return Table(kind, REGISTRIES[kind], fields,
                 [[(f.get(r) if f.get else "") for f in fields] for r in records], center)


def to_csv(t: Table) -> bytes:
    """One row per case; the header is ``分区/字段``. UTF-8 with a BOM (Excel opens it as Chinese)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([f"{f.section}/{f.name}" for f in t.fields])
    w.writerows(t.rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(t: Table, *, title: str = "") -> bytes:
    """One sheet per section (header = the registry's field names, gaps in amber), then 字段对照 (the mapping)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    bold = Font(bold=True)
    gap_fill = PatternFill("solid", fgColor="FFE699")
    wb = Workbook()
    first = True
    for name in SECTIONS[t.kind]:
        fields, rows = t.section(name)
        ws = wb.active if first else wb.create_sheet()
        first = False
        ws.title = name
        ws.append([f.name for f in fields])
        for col, f in enumerate(fields, start=1):
            cell = ws.cell(row=1, column=col)
            cell.font = bold
            if f.gap:
                cell.fill = gap_fill
            ws.column_dimensions[cell.column_letter].width = max(12, min(28, len(f.name) * 2 + 4))
        for row in rows:
            ws.append(row)
        ws.freeze_panes = "B2"
    ws = wb.create_sheet("字段对照")
    ws.append(["分区", "平台字段", "数据来源", "采集情况"])
    for c in ws[1]:
        c.font = bold
    for f in t.fields:
        ws.append([f.section, f.name, f.source, "未采集" if f.gap else "已采集"])
    ws.column_dimensions["B"].width = 26
    ws.column_dimensions["C"].width = 70
    wb.properties.title = title or t.registry
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- reading the cases ---------------------------------------------------------------------------------------


def export_q(center: PathwayCenter) -> Q:
    """The cases a center reports: those it treated; a township unit also those it saw first and sent on."""
    q = Q(kind=center.kind, facility_id=center.facility_id)
    if center.level == CenterLevel.UNIT:
        q |= Q(kind=center.kind, first_facility_id=center.facility_id)
    return q


def period_bounds(first: str, last: str) -> tuple[dt.datetime, dt.datetime]:
    from .queries_dashboards import month_bounds, months_back, parse_month

    first = parse_month(first, field_name="first")
    last = parse_month(last or first, field_name="last")
    if last < first:
        raise InvalidInput("invalid_period", _("结束月份不能早于开始月份"), field="last")
    if first not in months_back(last, MAX_MONTHS):
        raise InvalidInput("period_too_long", _("一次最多导出 12 个月"), field="first")
    return month_bounds(first, last)


def load_records(cases: Sequence[Case]) -> list[CaseRecord]:
    """The export's view of these cases (a few queries for all of them)."""
    from yigongti.emergency.models import CallEvent, Mission, PreArrivalAlert, PrehospitalRecord, VitalSigns

    ids = [c.pk for c in cases]
    evs: dict[int, dict[str, dt.datetime]] = defaultdict(dict)
    vals: dict[int, dict[str, str]] = defaultdict(dict)
    where: dict[int, dict[str, int | None]] = defaultdict(dict)
    for case_id, code, when, value, fac in CaseEvent.objects.filter(case_id__in=ids, active=True).values_list(
            "case_id", "code", "at", "value", "facility_id"):
        evs[case_id][code] = when
        where[case_id][code] = fac
        if value:
            vals[case_id][code] = value
    delays: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
    for case_id, metric, code, note in DelayReason.objects.filter(case_id__in=ids).values_list(
            "case_id", "metric", "code", "note"):
        delays[case_id][metric] = (code, note)

    call_ids = {c.call_id for c in cases if c.call_id}
    call_events: dict[int, dict[str, dt.datetime]] = defaultdict(dict)
    for call_id, kind, when in (CallEvent.objects.filter(call_id__in=call_ids).exclude(mission__status="aborted")
                                .values_list("call_id", "kind", "at").order_by("at")):
        call_events[call_id].setdefault(kind, when)
    missions: dict[int, Mission] = {}
    for mi in (Mission.objects.filter(call_id__in=call_ids).exclude(status="aborted")
                    .select_related("vehicle", "vehicle__station").order_by("dispatched_at")):
        missions.setdefault(mi.call_id, mi)
    impressions = dict(PrehospitalRecord.objects.filter(mission__in=list(missions.values())).values_list(
        "mission_id", "impression"))
    vitals_of: dict[int, dict[str, object]] = {}
    keys = ("sbp", "dbp", "heart_rate", "spo2", "gcs", "glucose")
    for row in VitalSigns.objects.filter(record__mission__in=list(missions.values())).order_by("at").values_list(
            "record__mission_id", *keys):
        vitals_of.setdefault(row[0], dict(zip(keys, row[1:], strict=True)))
    alerts: dict[int, dt.datetime] = {}
    for call_id, sent in PreArrivalAlert.objects.filter(call_id__in=call_ids).values_list("call_id", "sent_at"):
        alerts[call_id] = min(sent, alerts.get(call_id, sent))
    for mission_call, sent in PreArrivalAlert.objects.filter(mission__call_id__in=call_ids).values_list(
            "mission__call_id", "sent_at"):
        alerts[mission_call] = min(sent, alerts.get(mission_call, sent))

    out = []
    for c in cases:
        res = c.resident
        mission: Mission | None = missions.get(c.call_id) if c.call_id else None
        call = c.call
        out.append(CaseRecord(
            case_no=c.case_no, kind=c.kind, subtype=c.subtype, arrival_mode=c.arrival_mode, diagnosis=c.diagnosis,
            outcome=c.outcome, status=c.status, opened_at=c.opened_at, closed_at=c.closed_at, name=res.name,
            sex=res.sex, birth_date=res.birth_date, id_number=res.id_number or "", phone=res.phone,
            address=_place(res), facility=c.facility.name, facility_code=c.facility.code,
            first_facility=c.first_facility.name if c.first_facility else "", first_facility_id=c.first_facility_id,
            events=evs.get(c.pk, {}), values=vals.get(c.pk, {}), event_facility=where.get(c.pk, {}),
            call_no=call.call_no if call else "", call_rang_at=call.rang_at if call else None,
            call_address=call.address if call else "", call_events=call_events.get(c.call_id or 0, {}),
            vehicle=f"{mission.vehicle.call_sign} {mission.vehicle.plate}" if mission else "",
            station=mission.vehicle.station.name if mission else "",
            impression=impressions.get(mission.pk, "") if mission else "",
            vitals=vitals_of.get(mission.pk, {}) if mission else {},
            alert_at=alerts.get(c.call_id) if c.call_id else None, delays=delays.get(c.pk, {})))
    return out


def _place(resident) -> str:
    village = resident.village
    if village is None:
        return ""
    parent = village.parent
    return f"{parent.name if parent else ''}{village.name}"


def export(actor: Actor, center: PathwayCenter, first: str, last: str = "") -> Table:
    """The center's cases opened in the months [first, last] as the registry's table. Checks
    ``pathways.export_registry`` on the center and audits the export (the case ids)."""
    fields_of(center.kind)
    start, stop = period_bounds(first, last)
    check(actor, "pathways.export_registry", center)
    if actor.user is not None:
        from .queries_dashboards import center_for

        center_for(actor.user, center.pk)  # a manager exports the centers of the area, not another county's
    cases = list(Case.objects.filter(export_q(center), opened_at__gte=start, opened_at__lt=stop)
                 .exclude(status=CaseStatus.CANCELLED)
                 .select_related("resident", "resident__village", "resident__village__parent", "facility",
                                 "first_facility", "call").order_by("opened_at", "pk"))
    audit.record(actor, "export", "pathway_case", "", registry=center.kind, center=center.pk,
                 first=first, last=last or first, ids=[c.pk for c in cases])
    return table(center.kind, load_records(cases), center)


def exportable_centers(user) -> list[PathwayCenter]:
    """The chest-pain and stroke centers this user may export."""
    from yigongti.orgs.permissions import can

    from .queries_dashboards import visible_centers

    return [c for c in visible_centers(user) if c.kind in FIELDS and can(user, "pathways.export_registry", c)]


def filename(center: PathwayCenter | None, first: str, last: str, ext: str) -> str:
    span = first if not last or last == first else f"{first}_{last}"
    if center is None:
        return f"registry-{span}.{ext}"
    return f"registry-{center.kind}-{center.facility.code}-{span}.{ext}"
