"""Medical insurance of the community: the yearly fund budget and its rules (versioned data), the ledger the
settlements post to, the reconciliation with the agency's statement, the year-end settlement and its
allocation to members; the settlement list (结算清单) of each discharge, its DRG group under each loaded
CHS-DRG version and its payment by DRG and by DIP; out-of-county filings (转外就医备案) and pay-later
(先诊疗后付费) accounts; saved simulations. Grouping itself is pure (``insurance/drg``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.encounters.models import Encounter, InsuranceScheme
from yigongti.orgs.models import Facility, MedicalCommunity, User
from yigongti.residents.models import Resident

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}
RATIO: dict[str, Any] = {"max_digits": 7, "decimal_places": 4}  # 0.8500 = 85 %


class BudgetStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("执行中")
    CLOSED = "closed", _("已清算")


class Budget(models.Model):
    """One scheme's fund budget of one year for the community, with the year's rules. A change of the rules
    is a new version (the old one stays, superseded); the highest version is the year's budget."""

    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="budgets",
                                  verbose_name=_("医共体"))
    year = models.PositiveSmallIntegerField(_("年度"))
    scheme = models.CharField(_("险种"), max_length=10, choices=InsuranceScheme.choices)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    status = models.CharField(_("状态"), max_length=8, choices=BudgetStatus.choices, default=BudgetStatus.DRAFT)
    prior_spend = models.DecimalField(_("上年基金支出"), **MONEY)
    growth_rate = models.DecimalField(_("增长率"), **RATIO)  # 0.0500 = +5 %
    amount = models.DecimalField(_("年度预算总额"), **MONEY)
    withholding_rate = models.DecimalField(_("质量保证金比例"), **RATIO, default=0)
    monthly_prealloc = models.JSONField(_("按月预拨"), default=list)  # 12 amounts (str yuan), Jan…Dec
    retained_share = models.DecimalField(_("结余留用比例"), **RATIO)  # of the surplus, kept by the community
    overspend_cap = models.DecimalField(_("合理超支上限"), **RATIO)  # overspend up to cap × budget is "reasonable"
    overspend_share = models.DecimalField(_("合理超支分担比例（基金）"), **RATIO)  # the fund's share of it
    out_of_county_deduction = models.DecimalField(_("外转扣减比例"), **RATIO, default=0)
    rules = models.JSONField(_("其他规则"), default=dict, blank=True)  # e.g. unfiled out-of-county rate cut
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("医保基金预算")
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["community", "year", "scheme", "version"],
                                               name="budget_unique_version")]
        ordering = ["-year", "scheme", "-version"]

    def __str__(self) -> str:
        return f"{self.year} {self.get_scheme_display()} v{self.version}"


class LedgerEntry(models.Model):
    """The ledger: settlements posted by month, facility, level, scheme and disease group (one row per
    combination; re-posting a month replaces its rows). ``facility`` is null outside the community."""

    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    scheme = models.CharField(_("险种"), max_length=10, choices=InsuranceScheme.choices)
    facility = models.ForeignKey(Facility, models.PROTECT, null=True, blank=True, related_name="+")
    facility_code = models.CharField(_("定点机构编码"), max_length=30)
    level = models.CharField(_("机构层级"), max_length=14)  # encounters.FacilityLevel values
    settlement_type = models.CharField(_("类别"), max_length=12)  # outpatient / inpatient / pharmacy
    group = models.CharField(_("病组"), max_length=12, blank=True)  # DRG code, else ICD-10 category (3 chars)
    cases = models.IntegerField(_("人次"), default=0)
    total_cost = models.DecimalField(_("医疗总费用"), **MONEY, default=0)
    fund_paid = models.DecimalField(_("统筹基金支付"), **MONEY, default=0)

    class Meta:
        verbose_name = _("基金台账")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["community", "year", "month"], name="ledger_period")]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d} {self.facility_code} {self.group}"


class Reconciliation(models.Model):
    """A month's statement from the insurance agency (Excel), compared with the ledger."""

    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    month = models.PositiveSmallIntegerField(_("月份"))
    file_name = models.CharField(_("文件名"), max_length=200)
    rows = models.IntegerField(_("行数"), default=0)
    matched = models.IntegerField(_("核对一致"), default=0)
    differences = models.IntegerField(_("差异"), default=0)
    unmatched = models.IntegerField(_("无法匹配"), default=0)
    agency_total = models.DecimalField(_("经办机构合计"), **MONEY, default=0)
    ledger_total = models.DecimalField(_("台账合计"), **MONEY, default=0)
    imported_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    imported_at = models.DateTimeField(_("导入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("月度对账")
        verbose_name_plural = verbose_name
        ordering = ["-year", "-month", "-imported_at"]

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d} {self.file_name}"


class ReconciliationLine(models.Model):
    class Kind(models.TextChoices):
        DIFFERENT = "different", _("金额不一致")
        AGENCY_ONLY = "agency_only", _("仅经办机构有")
        LEDGER_ONLY = "ledger_only", _("仅台账有")
        UNREADABLE = "unreadable", _("无法识别")

    reconciliation = models.ForeignKey(Reconciliation, models.CASCADE, related_name="lines")
    row_number = models.IntegerField(_("行号"), null=True, blank=True)
    kind = models.CharField(_("差异类型"), max_length=12, choices=Kind.choices)
    settlement_no = models.CharField(_("结算流水号"), max_length=40, blank=True)
    agency_amount = models.DecimalField(_("经办机构金额"), **MONEY, null=True, blank=True)
    ledger_amount = models.DecimalField(_("台账金额"), **MONEY, null=True, blank=True)
    message = models.CharField(_("说明"), max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.settlement_no}"


class YearSettlement(models.Model):
    """The closed year of one budget: surplus or overspend, what the community retains or bears, and the
    allocation to members by the formula the community chose (``method`` + ``formula`` data)."""

    class Method(models.TextChoices):
        WORKLOAD = "workload", _("按工作量")
        PERFORMANCE = "performance", _("按绩效得分")
        FIXED = "fixed", _("按固定比例")

    budget = models.OneToOneField(Budget, models.PROTECT, related_name="settlement")
    spend = models.DecimalField(_("年度基金支出"), **MONEY)
    balance = models.DecimalField(_("结余(+)/超支(-)"), **MONEY)
    community_amount = models.DecimalField(_("医共体留用(+)/分担(-)"), **MONEY)
    fund_amount = models.DecimalField(_("基金承担"), **MONEY, default=0)
    method = models.CharField(_("分配方式"), max_length=12, choices=Method.choices)
    formula = models.JSONField(_("分配参数"), default=dict, blank=True)  # fixed shares, score weights …
    explanation = models.JSONField(_("计算说明"), default=list, blank=True)  # lines in words
    # every figure of insurance.settlement.Outcome (str yuan), the rules applied and the data source
    figures = models.JSONField(_("清算数据"), default=dict, blank=True)
    closed_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(_("清算时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("年度清算")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.budget} {self.balance}"


class MemberAllocation(models.Model):
    settlement = models.ForeignKey(YearSettlement, models.CASCADE, related_name="allocations")
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+")
    basis = models.DecimalField(_("分配基数"), max_digits=18, decimal_places=6)
    share = models.DecimalField(_("分配比例"), max_digits=9, decimal_places=6)
    amount = models.DecimalField(_("分配金额"), **MONEY)
    figures = models.JSONField(_("成员数据"), default=dict, blank=True)  # the member's visits, discharges, fund paid

    class Meta:
        constraints = [models.UniqueConstraint(fields=["settlement", "facility"], name="allocation_once")]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.amount}"

    @property
    def share_percent(self) -> str:
        from .settlement import pct

        return pct(self.share)


class RulePack(models.Model):
    """A loaded CHS-DRG version (the tables themselves are read from ``directory``; this row records what was
    loaded, its counts and checksum)."""

    version = models.CharField(_("版本"), max_length=20, unique=True)  # "CHS-DRG 2.0"
    directory = models.CharField(_("目录"), max_length=300)
    checksum = models.CharField(_("校验和"), max_length=64)
    counts = models.JSONField(_("条目数"), default=dict)
    is_payment = models.BooleanField(_("付费使用版本"), default=False)
    loaded_at = models.DateTimeField(_("加载时间"), auto_now=True)

    class Meta:
        verbose_name = _("分组方案")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.version


class DrgWeight(models.Model):
    """A DRG's relative weight (and average cost and stay) under one version in one year, and whether it is
    a 基层病组 (paid the same at every level)."""

    version = models.CharField(_("版本"), max_length=20)
    year = models.PositiveSmallIntegerField(_("年度"))
    drg = models.CharField(_("DRG"), max_length=6)
    name = models.CharField(_("名称"), max_length=100, blank=True)
    weight = models.DecimalField(_("相对权重"), max_digits=8, decimal_places=4)
    avg_cost = models.DecimalField(_("平均费用"), **MONEY, default=0)
    avg_los = models.DecimalField(_("平均住院日"), max_digits=6, decimal_places=2, default=0)
    grassroots = models.BooleanField(_("基层病组"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "year", "drg"], name="drg_weight_once")]

    def __str__(self) -> str:
        return f"{self.version} {self.year} {self.drg} {self.weight}"


class DrgRate(models.Model):
    """Yuan per unit of weight, by year, care level and scheme (``level`` "" = the 基层病组 rate)."""

    year = models.PositiveSmallIntegerField(_("年度"))
    level = models.CharField(_("机构层级"), max_length=14, blank=True)
    scheme = models.CharField(_("险种"), max_length=10, choices=InsuranceScheme.choices)
    rate = models.DecimalField(_("费率（元/权重）"), **MONEY)
    high_outlier = models.DecimalField(_("高倍率界值"), max_digits=6, decimal_places=2, default=Decimal(3))
    low_outlier = models.DecimalField(_("低倍率界值"), max_digits=6, decimal_places=2, default=Decimal("0.4"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "level", "scheme"], name="drg_rate_once")]

    def __str__(self) -> str:
        return f"{self.year} {self.level or '基层病组'} {self.scheme} {self.rate}"


class Discharge(models.Model):
    """The settlement list (结算清单) of one inpatient stay: what grouping needs, filled from the encounter and
    completed by the facility's coder. ``problems`` lists what blocks grouping (empty = complete)."""

    class DischargeMode(models.TextChoices):
        ORDERED = "1", _("医嘱离院")
        TRANSFER = "2", _("医嘱转院")
        COMMUNITY = "3", _("医嘱转社区卫生服务机构/乡镇卫生院")
        AGAINST_ADVICE = "4", _("非医嘱离院")
        DIED = "5", _("死亡")
        OTHER = "9", _("其他")

    encounter = models.OneToOneField(Encounter, models.CASCADE, related_name="discharge")
    resident = models.ForeignKey(Resident, models.SET_NULL, null=True, blank=True, related_name="+")
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+")
    department = models.CharField(_("科室"), max_length=50, blank=True)
    scheme = models.CharField(_("险种"), max_length=10, choices=InsuranceScheme.choices, blank=True)
    sex = models.CharField(_("性别"), max_length=1)  # "1" male / "2" female (the settlement list's codes)
    age_years = models.PositiveSmallIntegerField(_("年龄(岁)"))
    age_days = models.PositiveIntegerField(_("年龄(天)"), null=True, blank=True)  # under one year
    birth_weight_g = models.PositiveIntegerField(_("新生儿出生体重(g)"), null=True, blank=True)
    admit_date = models.DateField(_("入院日期"))
    discharge_date = models.DateField(_("出院日期"))
    los_days = models.PositiveIntegerField(_("住院天数"))
    discharge_mode = models.CharField(_("离院方式"), max_length=1, choices=DischargeMode.choices, default="1")
    diagnoses = models.JSONField(_("诊断（主要诊断在前）"), default=list)  # 医保版 ICD-10 codes
    procedures = models.JSONField(_("手术操作（主要手术在前）"), default=list)  # ICD-9-CM-3 codes
    ventilation_hours = models.PositiveIntegerField(_("呼吸机使用时长(小时)"), default=0)
    total_cost = models.DecimalField(_("医疗总费用"), **MONEY, default=0)
    fund_paid = models.DecimalField(_("统筹基金支付"), **MONEY, default=0)
    special_review = models.BooleanField(_("特病单议"), default=False)
    problems = models.JSONField(_("完整性问题"), default=list, blank=True)
    # set by the coder's edit: a later sync from the encounter keeps the coded diagnoses and procedures
    coded_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    coded_at = models.DateTimeField(_("编码时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("结算清单")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["facility", "discharge_date"], name="discharge_facility_date"),
                   models.Index(fields=["discharge_date"], name="discharge_date")]

    def __str__(self) -> str:
        return f"结算清单 #{self.pk} {self.discharge_date:%Y-%m-%d}"


class GroupStatus(models.TextChoices):
    GROUPED = "grouped", _("已入组")
    UNGROUPABLE = "ungroupable", _("无法入组")  # 0000 / QY: the trace says why


class CaseGroup(models.Model):
    """A discharge's group under one version, with the trace in words."""

    discharge = models.ForeignKey(Discharge, models.CASCADE, related_name="groups")
    version = models.CharField(_("版本"), max_length=20)
    mdc = models.CharField(_("MDC"), max_length=6, blank=True)
    adrg = models.CharField(_("ADRG"), max_length=4, blank=True)
    drg = models.CharField(_("DRG"), max_length=6, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=GroupStatus.choices)
    trace = models.JSONField(_("分组过程"), default=list)  # lines in words
    grouped_at = models.DateTimeField(_("分组时间"), auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["discharge", "version"], name="case_group_once")]
        indexes = [models.Index(fields=["version", "drg"], name="case_group_drg")]

    def __str__(self) -> str:
        return f"{self.version} {self.drg or self.get_status_display()}"


class CasePayment(models.Model):
    """What a discharge is paid under one method in one year (DRG: weight × rate; DIP: score × point value)."""

    class Method(models.TextChoices):
        DRG = "drg", _("DRG")
        DIP = "dip", _("DIP")

    class Outlier(models.TextChoices):
        NONE = "", _("正常")
        HIGH = "high", _("高倍率")
        LOW = "low", _("低倍率")

    discharge = models.ForeignKey(Discharge, models.CASCADE, related_name="payments")
    method = models.CharField(_("付费方式"), max_length=4, choices=Method.choices)
    version = models.CharField(_("版本"), max_length=20, blank=True)
    group = models.CharField(_("病组"), max_length=40)
    units = models.DecimalField(_("权重/分值"), max_digits=12, decimal_places=4)
    unit_price = models.DecimalField(_("费率/点值"), max_digits=12, decimal_places=4)
    outlier = models.CharField(_("倍率类型"), max_length=4, choices=Outlier.choices, blank=True, default="")
    grassroots = models.BooleanField(_("基层病组"), default=False)
    # insurance.payment: paid / special_review (by cost) / ungroupable, no_weight, no_rate, self_pay (flagged)
    status = models.CharField(_("支付状态"), max_length=14, default="paid")
    amount = models.DecimalField(_("支付标准"), **MONEY)
    explanation = models.JSONField(_("计算说明"), default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["discharge", "method"], name="case_payment_once")]

    def __str__(self) -> str:
        return f"{self.method} {self.group} {self.amount}"


class DipGroup(models.Model):
    """A DIP group built from the community's own cases of a year: a core group (main diagnosis + procedure
    combination above the case threshold) or a combined group; its score from its average cost."""

    year = models.PositiveSmallIntegerField(_("年度"))
    code = models.CharField(_("病种编码"), max_length=40)  # "I21.0|36.0600" or "I21.0|—" or "COMB-I21"
    name = models.CharField(_("名称"), max_length=120, blank=True)
    kind = models.CharField(_("类型"), max_length=10)  # "core" / "combined"
    cases = models.IntegerField(_("例数"), default=0)
    avg_cost = models.DecimalField(_("例均费用"), **MONEY, default=0)
    score = models.DecimalField(_("分值"), max_digits=10, decimal_places=2)
    grassroots = models.BooleanField(_("基层病种"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "code"], name="dip_group_once")]

    def __str__(self) -> str:
        return f"{self.year} {self.code}"


class DipPointValue(models.Model):
    """The year's point value: estimated at the start (budget ÷ expected points), settled at the end."""

    year = models.PositiveSmallIntegerField(_("年度"))
    scheme = models.CharField(_("险种"), max_length=10, choices=InsuranceScheme.choices)
    estimated = models.DecimalField(_("预估点值"), max_digits=12, decimal_places=4)
    settled = models.DecimalField(_("清算点值"), max_digits=12, decimal_places=4, null=True, blank=True)
    total_points = models.DecimalField(_("总分值"), max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "scheme"], name="dip_point_once")]

    def __str__(self) -> str:
        return f"{self.year} {self.scheme} {self.estimated}"


class DipLevelFactor(models.Model):
    """The year's DIP 医疗机构等级系数 of one care level (county / township / village): computed from the
    community's cases when the groups are built (``insurance.dip``), or set by the officer. 基层病种 are paid
    with factor 1 at every level whatever this says (同病同付)."""

    year = models.PositiveSmallIntegerField(_("年度"))
    level = models.CharField(_("机构层级"), max_length=14)
    factor = models.DecimalField(_("等级系数"), max_digits=6, decimal_places=4)
    source = models.CharField(_("来源"), max_length=10, default="computed")  # computed / default / set
    cases = models.IntegerField(_("测算病例数"), default=0)
    raw_ratio = models.DecimalField(_("费用比（未封顶）"), max_digits=8, decimal_places=4, null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["year", "level"], name="dip_level_factor_once")]

    def __str__(self) -> str:
        return f"{self.year} {self.level} 等级系数 {self.factor}"


class OutOfCountyFiling(models.Model):
    """转外就医备案: a resident's filing for care outside the county (from a referral, or filed directly);
    settlements outside the county within its validity are reimbursed at the filed rate."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("有效")
        REVOKED = "revoked", _("已撤销")

    resident = models.ForeignKey(Resident, models.PROTECT, related_name="+")
    referral = models.ForeignKey("referrals.Referral", models.SET_NULL, null=True, blank=True, related_name="+")
    hospital = models.CharField(_("转往医院"), max_length=100)
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    valid_from = models.DateField(_("有效期起"))
    valid_until = models.DateField(_("有效期止"))
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    filed_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    filed_at = models.DateTimeField(_("备案时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("转外就医备案")
        verbose_name_plural = verbose_name
        indexes = [models.Index(fields=["resident", "valid_from"], name="filing_resident")]

    def __str__(self) -> str:
        return f"转外就医备案 #{self.pk} {self.hospital}"


class PayLater(models.Model):
    """先诊疗后付费: an encounter treated before payment, and its status until settled."""

    class Status(models.TextChoices):
        OPEN = "open", _("待结算")
        SETTLED = "settled", _("已结算")
        OVERDUE = "overdue", _("逾期")

    encounter = models.OneToOneField(Encounter, models.CASCADE, related_name="pay_later")
    amount_due = models.DecimalField(_("应付金额"), **MONEY, default=0)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.OPEN)
    due_date = models.DateField(_("应结日期"), null=True, blank=True)
    settled_at = models.DateTimeField(_("结算时间"), null=True, blank=True)
    settlement_no = models.CharField(_("结算流水号"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("先诊疗后付费")
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"先诊疗后付费 #{self.pk} {self.get_status_display()}"


class Simulation(models.Model):
    """A saved what-if: the changed parameters and the effect per member and on the fund."""

    name = models.CharField(_("名称"), max_length=100)
    year = models.PositiveSmallIntegerField(_("年度"))
    parameters = models.JSONField(_("参数"), default=dict)
    results = models.JSONField(_("结果"), default=dict)
    seconds = models.FloatField(_("耗时(秒)"), default=0)
    created_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
