"""Every indicator, declared once as data.

An encounter- or settlement-based indicator is a ratio of two sums of *measures* (integer counts,
days or cents, see ``measures.py``) over the monthly facts, each sum optionally restricted by the
facts' dimensions (source, facility level, in-county). The same declaration drives the live
database, DuckDB over Parquet, the dashboard, the drill-down and the reports.

Sources: 《紧密型县域医疗卫生共同体监测指标体系（2024版）》 (国家卫生健康委等, 2024) for N01–N14;
hospital KPIs after 《三级/二级公立医院绩效考核》 and the county's monthly 通报; the two-way referral
indicators (REF_*) after N03 服务协同联动 and the community's referral assessment.

Every target names the document it comes from (``target_source``); a target without one is a local
default (本地默认值) that the bureau may change, and the pages say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from yigongti.core.carelevel import GRASSROOTS_LEVELS, IN_COUNTY_LEVELS

NMI_2024 = "《紧密型县域医疗卫生共同体监测指标体系（2024版）》"
# 《关于推进分级诊疗制度建设的指导意见》附件 分级诊疗试点工作考核评价标准: 基层诊疗量占比≥65%, 县域内就诊率90%左右
HIERARCHICAL_2015 = "国办发〔2015〕70号"
# 《关于城市公立医院综合改革试点的指导意见》: 药占比（不含中药饮片）30%左右, 百元医疗收入（不含药品收入）卫生材料
# 20元以下, 医疗费用增长幅度10%以下
HOSPITAL_REFORM_2015 = "国办发〔2015〕38号"
LOCAL_DEFAULT = "本地默认值（卫健局可调整）"
KPI_SOURCE = "公立医院绩效考核指标及县域医共体月度通报口径"
REFERRAL_SOURCE = "《紧密型县域医疗卫生共同体监测指标体系（2024版）》服务协同联动；医共体双向转诊考核口径"

# facility levels of the facts: care levels (core.carelevel) plus out_of_county / pharmacy for settlements
GRASSROOTS = GRASSROOTS_LEVELS
IN_COUNTY = IN_COUNTY_LEVELS

# Optional canonical columns of the city-scale encounter schema, and what leaving them out means.
OPTIONAL_COLUMNS = {"tcm": "中医类诊疗标志", "surgery": "手术标志", "herbal_cost": "中药饮片费"}


@dataclass(frozen=True)
class Sum:
    """Σ measure over facts whose dimensions match: ``levels`` (facility level), ``in_county``
    (settlement facility in the insured's own county) and ``source`` ('enc', 'bed', 'set', 'ref')."""

    measure: str
    source: str = "enc"
    levels: tuple[str, ...] | None = None
    in_county: bool | None = None

    def matches(self, source: str, level: str, in_county: bool) -> bool:
        if source != self.source:
            return False
        if self.levels is not None and level not in self.levels:
            return False
        return self.in_county is None or bool(in_county) == self.in_county


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str  # Chinese
    name_en: str
    dimension: str
    kind: str  # ratio | count | growth | mortality | registry | qualitative | pending
    unit: str = "%"
    scale: int = 100  # value = numerator / denominator × scale
    direction: str = "higher"  # higher | lower is better
    target: Decimal | None = None
    # a two-sided band: the upper bound of the good range (BED_OCC: over 100 % is a problem, not a pass)
    target_high: Decimal | None = None
    target_source: str = ""  # the document the target comes from; "" = a local default the bureau may change
    numerator: Sum | None = None
    denominator: Sum | None = None
    base: str | None = None  # growth: the indicator whose change is measured
    definition: str = ""
    definition_en: str = ""  # the definition in English (English pages and the API)
    unit_en: str = ""  # the unit in English when it depends on what is counted ("discharges", not "visits")
    source: str = NMI_2024
    data_from: str = ""  # pending: the module whose issue brings the data
    alias_of: str | None = None
    money: bool = False  # numerator in yuan (informative; units follow the measures)
    places: int = 2
    # Below the county, patient-flow indicators are attributed to where patients live (a township's
    # grassroots share is that of its residents' visits), facility KPIs to where the facility is.
    local_basis: str = "facility"
    # Computed from live tables the city-scale Parquet schema does not carry (referrals): shown on the
    # dashboard, left out of ``yigongti indicators compute`` and of the DuckDB parity check.
    live_only: bool = False
    # optional input columns without which the figure is unknown, not zero (``OPTIONAL_COLUMNS``)
    requires: tuple[str, ...] = ()
    # what later issues will refine in a figure computed from the data that exists today
    refine: str = ""

    @property
    def computed(self) -> bool:
        return self.kind in ("ratio", "count", "growth", "mortality", "registry")

    @property
    def from_facts(self) -> bool:
        """Computed from the monthly facts (ratio, count, growth) — the kinds the engines share."""
        return self.kind in ("ratio", "count", "growth")

    @property
    def base_indicator(self) -> Indicator:
        """The indicator whose change a growth figure measures; the indicator itself otherwise."""
        return INDICATORS[self.base] if self.kind == "growth" and self.base else self

    @property
    def target_label(self) -> str:
        """'≥ 65 %', '≤ 20 元', '75–93 %' or '' — the target as printed on a card."""
        if self.target is None:
            return ""
        unit = self.unit
        if self.target_high is not None:
            return f"{_plain(self.target)}–{_plain(self.target_high)}{unit}"
        return f"{'≥' if self.direction == 'higher' else '≤'} {_plain(self.target)}{unit}"

    @property
    def target_origin(self) -> str:
        """The document the target comes from, or the local-default mark."""
        if self.target is None:
            return ""
        return self.target_source or LOCAL_DEFAULT

    @property
    def sources(self) -> set[str]:
        """The fact sources whose months the figure needs data in ('enc', 'set', 'ref'; beds are not data
        but capacity, and follow the encounters)."""
        if self.kind == "growth":
            return self.base_indicator.sources
        out = set()
        for s in (self.numerator, self.denominator):
            if s:
                out.add("enc" if s.source == "bed" else s.source)
        return out

    @property
    def uses_settlements(self) -> bool:
        sums = [s for s in (self.numerator, self.denominator) if s]
        if self.kind == "growth":
            return self.base_indicator.uses_settlements
        return any(s.source == "set" for s in sums)

    @property
    def uses_beds(self) -> bool:
        return any(s.source == "bed" for s in (self.numerator, self.denominator) if s)

    @property
    def uses_referrals(self) -> bool:
        return any(s.source == "ref" for s in (self.numerator, self.denominator) if s)


D_TIGHT, D_SAME, D_DIVIDE, D_EFFIC, D_HEALTH, D_KPI = "紧密型", "同质化", "促分工", "提效能", "保健康", "医院运行"
D_REFERRAL = "双向转诊"

_DEFS = [
    Indicator("N01", "资源统一管理", "Unified management of resources", D_TIGHT, "qualitative", unit="",
              definition="人财物统一管理的制度建立并落实（佐证材料清单）"),
    Indicator("N02", "内部民主决策", "Internal democratic decision-making", D_TIGHT, "qualitative", unit="",
              definition="医共体管理委员会、理事会等议事决策机制建立并运行（佐证材料清单）"),
    Indicator("N03", "服务协同联动", "Coordinated services", D_TIGHT, "qualitative", unit="",
              definition="资源共享中心、双向转诊、上下联动机制建立并运行（佐证材料清单）"),
    Indicator("N04", "中级及以上医师派驻基层人数（每万人口）", "Mid/senior physicians posted to grassroots per 10,000",
              D_SAME, "registry", unit="人/万人", scale=10000, live_only=True,
              definition="编制在县级医疗机构、在基层医疗卫生机构（乡镇卫生院、社区卫生服务中心（站）、村卫生室）工作的"
                         "中级及以上职称医师（执业、助理）人数 ÷ 常住人口 × 10000（乡镇以下按派驻机构所在地）",
              refine="今按在岗人员的时点数计（岗编分离：编制机构与工作机构不同）；派驻起止日期、累计派驻时长与派驻协议"
                     "待人力资源（workforce）模块细化"),
    Indicator("N05", "影像心电中心服务与心电设备村级覆盖率", "Imaging/ECG center service and village ECG coverage",
              D_SAME, "pending", data_from="远程诊断中心（telemedicine）"),
    Indicator("N06", "基层人均收入与牵头医院人均收入比", "Grassroots vs lead-hospital mean income", D_SAME,
              "pending", unit="", data_from="薪酬（payroll）"),
    Indicator("N07", "县域内基层医疗卫生机构诊疗人次数占比", "Share of grassroots visits in the county", D_DIVIDE,
              "ratio", target=Decimal(65), target_source=HIERARCHICAL_2015,
              numerator=Sum("visits", levels=GRASSROOTS), denominator=Sum("visits", levels=IN_COUNTY),
              local_basis="residence", definition="县域内基层医疗卫生机构（WS 218：乡镇卫生院 C2xx、街道卫生院 C100、"
              "社区卫生服务中心（站）B100/B200、门诊部、诊所、卫生所（室）、医务室、村卫生室 D 类）门急诊人次 ÷ "
              "县域内各级医疗卫生机构门急诊人次 × 100%（乡镇以下按患者居住地）"),
    Indicator("N08", "医保基金县域内支出占比（不含药店）", "Share of insurance fund spent in the county", D_DIVIDE,
              "ratio", target=Decimal(80),
              numerator=Sum("st_fund", "set", levels=IN_COUNTY, in_county=True),
              denominator=Sum("st_fund", "set", levels=(*IN_COUNTY, "out_of_county")),
              definition="县域参保人在县域内医疗机构发生的统筹基金支出 ÷ 县域参保人统筹基金总支出（均不含定点药店；"
                         "冲销、退费行以负数抵减原结算）× 100%"),
    Indicator("N09", "县域内基层医疗卫生机构医保基金支出占比", "Share of in-county fund spent at grassroots",
              D_DIVIDE, "ratio", target=Decimal(20),
              numerator=Sum("st_fund", "set", levels=GRASSROOTS, in_county=True),
              denominator=Sum("st_fund", "set", levels=IN_COUNTY, in_county=True),
              definition="县域参保人在县域内基层医疗卫生机构（乡镇、社区、村级，按 WS 218 类别）的统筹基金支出 ÷ "
                         "在县域内医疗机构的统筹基金支出 × 100%"),
    Indicator("N10", "参保人县域内住院人均费用", "In-county inpatient cost per admission of insureds", D_EFFIC,
              "ratio", unit="元", scale=1, direction="lower", money=True,
              numerator=Sum("st_ip_cost", "set", levels=IN_COUNTY, in_county=True),
              denominator=Sum("st_ip_cases", "set", levels=IN_COUNTY, in_county=True),
              definition="县域参保人在县域内住院医疗总费用 ÷ 县域内住院人次（冲销的结算减一人次，"
                         "冲销后重新结算的住院只计一次）"),
    Indicator("N10G", "参保人县域内住院人均费用增长率", "Growth of in-county inpatient cost per admission", D_EFFIC,
              "growth", base="N10", direction="lower", target=Decimal(5),
              definition="（本期县域内住院人均费用 − 上年同期）÷ 上年同期 × 100%；上年同期各月须都有数据，否则不计算"),
    Indicator("N11", "参保人县域内住院人次占比", "Share of insureds' admissions in the county", D_EFFIC, "ratio",
              target=Decimal(90),
              numerator=Sum("st_ip_cases", "set", levels=IN_COUNTY, in_county=True),
              denominator=Sum("st_ip_cases", "set", levels=(*IN_COUNTY, "out_of_county")),
              definition="县域参保人在县域内住院人次 ÷ 县域参保人住院总人次 × 100%（不含门诊；"
                         "含门诊的“县域就诊率”见卡片附注）"),
    Indicator("N12", "县域内中医类诊疗量占比", "Share of TCM visits in the county", D_EFFIC, "ratio",
              target=Decimal(15), requires=("tcm",),
              numerator=Sum("tcm_visits", levels=IN_COUNTY), denominator=Sum("visits", levels=IN_COUNTY),
              local_basis="residence", definition="县域内医疗卫生机构中医类门急诊人次 ÷ 门急诊总人次 × 100%"),
    Indicator("N13", "县域内慢性病健康管理人群住院率", "Admission rate of managed chronic patients", D_HEALTH,
              "registry", direction="lower", live_only=True,
              definition="纳入健康管理的高血压、糖尿病患者中本期有住院结算的人数 ÷ 纳入管理的患者人数 × 100%"
                         "（按居住地）",
              refine="今以居民主索引的高血压、糖尿病重点人群标签代表“纳入健康管理”，住院以医保住院结算计（含县外、扣除冲销）；"
                     "规范管理的判定（随访次数、血压血糖控制）与慢病相关住院的口径待慢病管理（chronic）模块细化"),
    Indicator("N14", "县域内四类慢性病过早死亡率", "Premature mortality from four major NCDs", D_HEALTH,
              "mortality", direction="lower", target=Decimal(15),
              definition="30–70岁人群因心血管疾病（I00–I99）、癌症（C00–C97）、慢性呼吸系统疾病（J30–J98）和糖尿病"
                         "（E10–E14）死亡的概率，寿命表法：q=5M/(1+2.5M)，1−Π(1−q)；非整年时按有死亡登记数据的天数年化"),
    # Hospital KPIs (facilities of the county)
    Indicator("BED_OCC", "病床使用率", "Bed occupancy rate", D_KPI, "ratio", target=Decimal(75),
              target_high=Decimal(93),
              numerator=Sum("occupied_bed_days", levels=IN_COUNTY),
              denominator=Sum("open_bed_days", "bed", levels=IN_COUNTY), source=KPI_SOURCE,
              definition="实际占用总床日数 ÷ 实际开放总床日数 × 100%（跨月住院按在院日数拆分到各月，当日出入院计1床日；"
                         "只计有就诊数据的月份）；合理区间两端都有界：超过上限（加床、床位紧张）与低于下限同样是问题"),
    Indicator("ALOS", "平均住院日", "Average length of stay", D_KPI, "ratio", unit="天", scale=1, direction="lower",
              target=Decimal("7.7"), numerator=Sum("los_days", levels=IN_COUNTY),
              denominator=Sum("discharges", levels=IN_COUNTY), source=KPI_SOURCE,
              definition="出院者占用总床日数 ÷ 出院人次（按出院月份统计；当日出入院计1天）"),
    Indicator("IP_COST", "出院者次均费用", "Cost per discharge", D_KPI, "ratio", unit="元", scale=1,
              direction="lower", target=Decimal(5000), money=True,
              numerator=Sum("discharge_cost", levels=IN_COUNTY), denominator=Sum("discharges_costed", levels=IN_COUNTY),
              source=KPI_SOURCE, definition="出院者住院总费用 ÷ 有费用记录的出院人次"),
    Indicator("OP_COST", "门急诊次均费用", "Cost per outpatient visit", D_KPI, "ratio", unit="元", scale=1,
              direction="lower", money=True,
              numerator=Sum("visit_cost", levels=IN_COUNTY), denominator=Sum("visits_costed", levels=IN_COUNTY),
              source=KPI_SOURCE, definition="门急诊总费用 ÷ 有费用记录的门急诊人次"),
    Indicator("DRUG_RATIO", "药占比（不含中药饮片）", "Drug share of medical revenue (excluding herbal pieces)", D_KPI,
              "ratio", direction="lower", target=Decimal(30), target_source=HOSPITAL_REFORM_2015,
              numerator=Sum("drug_ex_herbal", levels=IN_COUNTY), denominator=Sum("revenue", levels=IN_COUNTY),
              money=True, source=KPI_SOURCE,
              definition="药品收入（不含中药饮片）÷ 医疗收入 × 100%（门急诊按就诊月、住院按出院月计收入；"
                         "就诊记录未拆分中药饮片费时按全部药品费计）"),
    Indicator("MATERIAL_100", "百元医疗收入消耗的卫生材料", "Consumables per 100 yuan of medical revenue", D_KPI,
              "ratio", unit="元", direction="lower", target=Decimal(20), target_source=HOSPITAL_REFORM_2015, money=True,
              numerator=Sum("material", levels=IN_COUNTY), denominator=Sum("revenue_ex_drug", levels=IN_COUNTY),
              source=KPI_SOURCE, definition="卫生材料收入 ÷ 医疗收入（不含药品收入）× 100"),
    Indicator("REVENUE", "医疗收入", "Medical revenue", D_KPI, "count", unit="元", scale=1, money=True,
              numerator=Sum("revenue", levels=IN_COUNTY), source=KPI_SOURCE,
              definition="门急诊与出院者医疗总费用之和"),
    Indicator("COST_GROWTH", "医疗费用增长率", "Growth of medical revenue", D_KPI, "growth", base="REVENUE",
              direction="lower", target=Decimal(10), target_source=HOSPITAL_REFORM_2015, source=KPI_SOURCE,
              definition="（本期医疗收入 − 上年同期）÷ 上年同期 × 100%；上年同期各月须都有数据，否则不计算"),
    Indicator("VISITS", "门急诊人次", "Outpatient and emergency visits", D_KPI, "count", unit="人次", scale=1,
              numerator=Sum("visits", levels=IN_COUNTY), source=KPI_SOURCE, definition="门诊人次 + 急诊人次"),
    Indicator("ER_VISITS", "急诊人次", "Emergency visits", D_KPI, "count", unit="人次", scale=1,
              numerator=Sum("er_visits", levels=IN_COUNTY), source=KPI_SOURCE, definition="急诊人次"),
    Indicator("DISCHARGES", "出院人次", "Discharges", D_KPI, "count", unit="人次", scale=1,
              numerator=Sum("discharges", levels=IN_COUNTY), source=KPI_SOURCE, definition="按出院日期统计"),
    Indicator("SURGERIES", "手术人次", "Surgical inpatients", D_KPI, "count", unit="人次", scale=1,
              numerator=Sum("surgeries", levels=IN_COUNTY), source=KPI_SOURCE, requires=("surgery",),
              definition="出院者中施行手术的人次"),
    Indicator("GR_VISIT_GROWTH", "基层门急诊人次增长率", "Growth of grassroots visits", D_KPI, "growth",
              base="GR_VISITS", direction="higher", source=KPI_SOURCE,
              local_basis="residence",
              definition="（本期基层门急诊人次 − 上年同期）÷ 上年同期 × 100%；上年同期各月须都有数据"),
    Indicator("GR_VISITS", "基层门急诊人次", "Grassroots visits", D_KPI, "count", unit="人次", scale=1,
              numerator=Sum("visits", levels=GRASSROOTS), source=KPI_SOURCE, local_basis="residence",
              definition="基层医疗卫生机构（乡镇卫生院、社区卫生服务中心（站）、村卫生室、诊所等）门急诊人次"),
    # Two-way referral (双向转诊): referrals count in the local month of submission and belong to the
    # patient's home area, like the patient-flow indicators; rates over visits and discharges use the
    # encounter facts. Live database only (the city-scale Parquet schema has no referrals).
    Indicator("REF_UP", "上转人次", "Up-referrals", D_REFERRAL, "count", unit="人次", scale=1,
              numerator=Sum("ref_up", "ref"), source=REFERRAL_SOURCE, local_basis="residence", live_only=True,
              definition="提交的上转单数（按提交月份）"),
    Indicator("REF_DOWN", "下转人次", "Down-referrals", D_REFERRAL, "count", unit="人次", scale=1,
              numerator=Sum("ref_down", "ref"), source=REFERRAL_SOURCE, local_basis="residence", live_only=True,
              definition="提交的下转单数（按提交月份）"),
    Indicator("REF_UP_RATE", "上转率（每千基层门急诊人次）", "Up-referrals per 1,000 grassroots visits", D_REFERRAL,
              "ratio", unit="‰", scale=1000, direction="lower", numerator=Sum("ref_up", "ref"),
              denominator=Sum("visits", levels=GRASSROOTS), source=REFERRAL_SOURCE, local_basis="residence",
              live_only=True, definition="上转人次 ÷ 基层医疗卫生机构门急诊人次 × 1000‰（乡镇以下按患者居住地）"),
    Indicator("REF_DOWN_RATE", "下转率", "Down-referral rate", D_REFERRAL, "ratio", target=Decimal(10),
              numerator=Sum("ref_down", "ref"), denominator=Sum("discharges", levels=("county",)),
              source=REFERRAL_SOURCE, local_basis="residence", live_only=True,
              definition="下转人次 ÷ 县级医院出院人次 × 100%（乡镇以下按患者居住地）"),
    Indicator("REF_DOWN_SHARE", "下转占比", "Down-referral share", D_REFERRAL, "ratio", target=Decimal(30),
              numerator=Sum("ref_down", "ref"), denominator=Sum("ref_all", "ref"), source=REFERRAL_SOURCE,
              local_basis="residence", live_only=True, definition="下转人次 ÷（上转人次 + 下转人次）× 100%"),
    Indicator("REF_ACCEPT", "转诊接收率", "Acceptance rate", D_REFERRAL, "ratio", target=Decimal(95),
              numerator=Sum("ref_accepted", "ref"), denominator=Sum("ref_answered", "ref"), source=REFERRAL_SOURCE,
              local_basis="residence", live_only=True, definition="接收（含改派）的转诊单 ÷ 已应答的转诊单 × 100%"),
    Indicator("REF_SLA", "按时响应率", "Answered within the SLA", D_REFERRAL, "ratio", target=Decimal(95),
              numerator=Sum("ref_within_sla", "ref"), denominator=Sum("ref_answered", "ref"), source=REFERRAL_SOURCE,
              local_basis="residence", live_only=True,
              definition="在响应时限内（绿色通道15分钟、紧急30分钟、普通2小时，可配置）应答的转诊单 ÷ "
                         "已应答的转诊单 × 100%"),
    Indicator("REF_RESPONSE", "平均响应时间", "Mean response time", D_REFERRAL, "ratio", unit="分钟", scale=1,
              direction="lower", target=Decimal(30), numerator=Sum("ref_response_min", "ref"),
              denominator=Sum("ref_answered", "ref"), source=REFERRAL_SOURCE, local_basis="residence", live_only=True,
              definition="转诊中心自提交至应答的整分钟数之和 ÷ 已应答的转诊单"),
    Indicator("REF_OVERDUE", "超时转诊单数", "Overdue referrals", D_REFERRAL, "count", unit="张", scale=1,
              direction="lower", numerator=Sum("ref_overdue", "ref"), source=REFERRAL_SOURCE, local_basis="residence",
              live_only=True, definition="超过响应时限仍未应答、已升级至主管的转诊单数"),
    # Older names, kept because the seeds and the province's reports still use them
    Indicator("ALIAS_COUNTY_RATE", "县域就诊率", "County treatment rate (outpatient and inpatient)", D_EFFIC, "ratio",
              target=Decimal(90), target_source=HIERARCHICAL_2015,
              numerator=Sum("st_cases", "set", levels=IN_COUNTY, in_county=True),
              denominator=Sum("st_cases", "set", levels=(*IN_COUNTY, "out_of_county")), alias_of="N11",
              definition="县域参保人在县域内的门诊和住院结算人次 ÷ 县域参保人门诊和住院结算总人次 × 100%"
                         "（不含定点药店；"
                         "冲销行减一人次）。旧称，附注于 N11 卡片"),
    Indicator("ALIAS_GRASSROOTS_RATE", "县域内基层就诊率", "Grassroots visit rate (alias of N07)", D_DIVIDE, "ratio",
              target=Decimal(65), target_source=HIERARCHICAL_2015, numerator=Sum("visits", levels=GRASSROOTS),
              denominator=Sum("visits", levels=IN_COUNTY),
              alias_of="N07", local_basis="residence",
              definition="同 N07 县域内基层医疗卫生机构诊疗人次数占比（旧称，附注于 N07 卡片）"),
]

# English definitions and, where the unit depends on what is counted (人次), English units.
_EN: dict[str, tuple[str, str]] = {
    "N01": ("Rules for the unified management of staff, finance and assets are in place and applied "
            "(evidence checklist)", ""),
    "N02": ("Deliberation and decision mechanisms such as the community's management committee and board are set up "
            "and running (evidence checklist)", ""),
    "N03": ("Shared resource centres, two-way referral and top-down coordination mechanisms are set up and running "
            "(evidence checklist)", ""),
    "N04": ("Physicians (practising or assistant) with mid-level or senior titles, on the staff establishment of "
            "county-level facilities and working in grassroots facilities (township health centres, community health "
            "service centres (stations), village clinics) ÷ resident population × 10,000 (below the township: by the "
            "location of the facility they are posted to)", ""),
    "N05": ("Imaging/ECG centre services and the share of villages with ECG equipment; pending: the data comes with "
            "the telemedicine module", ""),
    "N06": ("Mean income of grassroots staff ÷ mean income of lead-hospital staff; pending: the data comes with the "
            "payroll module", ""),
    "N07": ("Outpatient and emergency visits at grassroots facilities in the county (WS 218: township health centres "
            "C2xx, sub-district health centres C100, community health service centres (stations) B100/B200, "
            "outpatient departments, clinics, health rooms, infirmaries, village clinics class D) ÷ outpatient and "
            "emergency visits at all facilities in the county × 100% (below the township: by the patient's "
            "residence)", ""),
    "N08": ("Pooled-fund spending of the county's insureds at facilities in the county ÷ total pooled-fund spending "
            "of the county's insureds (both excluding designated pharmacies; reversals and refunds are netted "
            "against the original settlement) × 100%", ""),
    "N09": ("Pooled-fund spending of the county's insureds at grassroots facilities in the county (township, "
            "community and village level, by WS 218 category) ÷ their pooled-fund spending at facilities in the "
            "county × 100%", ""),
    "N10": ("Total inpatient medical costs of the county's insureds in the county ÷ in-county admissions (a reversed "
            "settlement subtracts one admission; an admission resettled after a reversal counts once)", ""),
    "N10G": ("(In-county inpatient cost per admission this period − same period last year) ÷ same period last year "
             "× 100%; every month of last year's period must have data, otherwise not computed", ""),
    "N11": ("Admissions of the county's insureds in the county ÷ all admissions of the county's insureds × 100% "
            "(outpatient visits excluded; the county treatment rate including outpatients is noted on the card)", ""),
    "N12": ("TCM outpatient and emergency visits at facilities in the county ÷ all outpatient and emergency visits "
            "× 100%", ""),
    "N13": ("Hypertension and diabetes patients under health management with an inpatient settlement this period ÷ "
            "patients under management × 100% (by residence)", ""),
    "N14": ("Probability of dying between ages 30 and 70 from cardiovascular disease (I00–I99), cancer (C00–C97), "
            "chronic respiratory disease (J30–J98) or diabetes (E10–E14), life-table method: q = 5M/(1+2.5M), "
            "1 − Π(1 − q); annualised by the days with death-registration data when not a whole year", ""),
    "BED_OCC": ("Occupied bed-days ÷ open bed-days × 100% (stays spanning months are split by days in hospital; "
                "same-day admission and discharge counts 1 bed-day; only months with encounter data count); the "
                "acceptable band is bounded on both sides: above the upper bound (extra beds, shortage) is as much a "
                "problem as below the lower bound", ""),
    "ALOS": ("Bed-days of discharged patients ÷ discharges (by month of discharge; same-day admission and discharge "
             "counts 1 day)", "days"),
    "IP_COST": ("Total inpatient costs of discharged patients ÷ discharges with a cost record", "yuan"),
    "OP_COST": ("Total outpatient and emergency costs ÷ outpatient and emergency visits with a cost record", "yuan"),
    "DRUG_RATIO": ("Drug revenue (excluding herbal pieces) ÷ medical revenue × 100% (outpatient revenue by month of "
                   "visit, inpatient revenue by month of discharge; when a visit record does not split out the herbal "
                   "pieces cost, all drug costs count)", ""),
    "MATERIAL_100": ("Medical consumables revenue ÷ medical revenue (excluding drug revenue) × 100", "yuan"),
    "REVENUE": ("Total medical costs of outpatient and emergency visits and of discharged patients", "yuan"),
    "COST_GROWTH": ("(Medical revenue this period − same period last year) ÷ same period last year × 100%; every "
                    "month of last year's period must have data, otherwise not computed", ""),
    "VISITS": ("Outpatient visits + emergency visits", "visits"),
    "ER_VISITS": ("Emergency visits", "visits"),
    "DISCHARGES": ("Discharges, counted by date of discharge", "discharges"),
    "SURGERIES": ("Discharged patients who had an operation", "patients"),
    "GR_VISIT_GROWTH": ("(Grassroots outpatient and emergency visits this period − same period last year) ÷ same "
                        "period last year × 100%; every month of last year's period must have data", ""),
    "GR_VISITS": ("Outpatient and emergency visits at grassroots facilities (township health centres, community "
                  "health service centres (stations), village clinics, clinics, etc.)", "visits"),
    "REF_UP": ("Up-referral forms submitted (by month of submission)", "referrals"),
    "REF_DOWN": ("Down-referral forms submitted (by month of submission)", "referrals"),
    "REF_UP_RATE": ("Up-referrals ÷ outpatient and emergency visits at grassroots facilities × 1000‰ (below the "
                    "township: by the patient's residence)", ""),
    "REF_DOWN_RATE": ("Down-referrals ÷ discharges of county hospitals × 100% (below the township: by the patient's "
                      "residence)", ""),
    "REF_DOWN_SHARE": ("Down-referrals ÷ (up-referrals + down-referrals) × 100%", ""),
    "REF_ACCEPT": ("Referrals accepted (including reassigned) ÷ referrals answered × 100%", ""),
    "REF_SLA": ("Referrals answered within the response time limit (green channel 15 minutes, urgent 30 minutes, "
                "routine 2 hours, configurable) ÷ referrals answered × 100%", ""),
    "REF_RESPONSE": ("Sum of whole minutes from submission to answer at the referral centre ÷ referrals answered",
                     "min"),
    "REF_OVERDUE": ("Referrals still unanswered past the response time limit and escalated to a supervisor",
                    "referrals"),
    "ALIAS_COUNTY_RATE": ("Outpatient and inpatient settlements of the county's insureds in the county ÷ all their "
                          "outpatient and inpatient settlements × 100% (excluding designated pharmacies; a reversal "
                          "subtracts one). Former name, noted on the N11 card", ""),
    "ALIAS_GRASSROOTS_RATE": ("Same as N07, share of grassroots visits in the county (former name, noted on the N07 "
                              "card)", ""),
}
_DEFS = [replace(i, definition_en=_EN[i.code][0], unit_en=_EN[i.code][1]) for i in _DEFS]

INDICATORS: dict[str, Indicator] = {i.code: i for i in _DEFS}
REFERRAL_CODES = [i.code for i in _DEFS if i.dimension == D_REFERRAL]

# The four NCD groups of N14 (underlying cause, ICD-10 ranges by 3-character code).
NCD_RANGES = [("I00", "I99"), ("C00", "C97"), ("J30", "J98"), ("E10", "E14")]
PREMATURE_BANDS = [30, 35, 40, 45, 50, 55, 60, 65]  # 5-year bands 30–34 … 65–69

# Qualitative indicators: the evidence a community files each year (N01–N03).
EVIDENCE_ITEMS: dict[str, list[tuple[str, str]]] = {
    "N01": [("staff", "人员统一招聘、培训、调配，岗编分离落实"), ("finance", "财务统一管理、集中核算"),
            ("assets", "药品耗材统一采购配送、设备统一管理"), ("info", "信息系统统一建设、互联互通")],
    "N02": [("board", "医共体管理委员会定期召开会议并形成纪要"), ("charter", "医共体章程及议事规则印发"),
            ("members", "成员单位参与重大事项决策的记录")],
    "N03": [("centers", "影像、心电、检验等资源共享中心运行"), ("referral", "双向转诊制度及转诊记录"),
            ("experts", "专家下沉基层坐诊、带教记录"), ("insurance", "医保总额付费、结余留用方案落实")],
}


def computed_indicators(*, with_settlements: bool = True, with_beds: bool = True,
                        with_deaths: bool = False, with_live_only: bool = True) -> list[Indicator]:
    out = []
    for ind in _DEFS:
        if ind.kind in ("qualitative", "pending", "registry"):  # registry: live tables, not facts
            continue
        if ind.live_only and not with_live_only:
            continue
        if ind.kind == "mortality" and not with_deaths:
            continue
        if ind.uses_settlements and not with_settlements:
            continue
        if not with_beds and (ind.uses_beds or (ind.kind == "growth" and ind.base_indicator.uses_beds)):
            continue
        out.append(ind)
    return out


@dataclass
class Value:
    """One computed figure: numerator and denominator in natural units (yuan for money)."""

    indicator: Indicator
    numerator: Decimal | None
    denominator: Decimal | None
    value: Decimal | None
    extra: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        """green / amber / red against the target; '' without target or value."""
        return rag(self.indicator, self.value)


def unavailable(indicators: list[Indicator], missing: set[str] | frozenset[str]) -> dict[str, str]:
    """{code: reason} for the indicators that need an optional input column the data lacks: their
    figure is unknown, not zero (a growth indicator follows its base)."""
    out = {}
    for ind in indicators:
        base = ind.base_indicator
        gone = [c for c in base.requires if c in missing]
        if gone:
            out[ind.code] = "数据缺少列 " + "、".join(f"{c}（{OPTIONAL_COLUMNS.get(c, c)}）" for c in gone)
    return out


def _plain(d: Decimal) -> str:
    """A target without trailing zeros: 65, 7.7."""
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def rag(ind: Indicator, value: Decimal | None, tolerance: Decimal = Decimal("0.05")) -> str:
    """green inside the target (or the band), amber within ``tolerance`` of it, red beyond."""
    if value is None or ind.target is None:
        return ""
    t = ind.target
    if ind.target_high is not None:  # a two-sided band: too high is as bad as too low
        hi = ind.target_high
        if t <= value <= hi:
            return "green"
        near = t - abs(t) * tolerance <= value < t or hi < value <= hi + abs(hi) * tolerance
        return "amber" if near else "red"
    if ind.direction == "higher":
        if value >= t:
            return "green"
        return "amber" if value >= t - abs(t) * tolerance else "red"
    if value <= t:
        return "green"
    return "amber" if value <= t + abs(t) * tolerance else "red"
