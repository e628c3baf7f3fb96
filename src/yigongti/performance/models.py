"""Payroll summaries and the performance scheme (薪酬与绩效).

* ``PayrollRecord``: one staff member's gross income of one year by component (基本工资, 绩效工资, 津贴补贴, 其他),
  imported from Excel (``payroll.import_payroll``), kept with the facility the person worked at in that year. N06
  reads it (``indicators``).
* ``PayrollImport``: one upload: how many rows matched, were replaced, and the rows that did not match a staff
  member (the problem report).
* ``Scheme`` / ``SchemeItem``: a performance scheme (绩效方案) as data, for a care level or one facility and a role:
  indicators with weights, targets and a cap (linear to target, ``scoring``), and the month's performance pool
  (二类绩效) that the scores distribute.
* ``Satisfaction``: the patient satisfaction of a facility (or a department) in a month, entered.
* ``ScoreRun`` / ``Score``: a month scored under a scheme: one row per facility and per department, with the lines
  of the score, the guaranteed part (一类保障, from basic pay) and the performance part (二类绩效, from the pool).

Money is Decimal yuan."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Department, Facility, MedicalCommunity, Staff

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2, "default": Decimal("0.00")}
COMPONENTS = ("basic", "performance", "allowance", "other")


class PayrollImport(models.Model):
    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="+", verbose_name=_("医共体"))
    year = models.PositiveSmallIntegerField(_("年度"))
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    rows = models.PositiveIntegerField(_("数据行数"), default=0)
    matched = models.PositiveIntegerField(_("匹配行数"), default=0)
    replaced = models.PositiveIntegerField(_("替换的原有记录"), default=0)
    # the rows that did not go in: [{"row": n, "name": …, "id": masked, "reason": …}]
    problems = models.JSONField(_("问题行"), default=list, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("导入人"))
    created_at = models.DateTimeField(_("导入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("薪酬导入")
        verbose_name_plural = _("薪酬导入")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.year} {self.filename}"


class PayrollRecord(models.Model):
    """年度薪酬汇总: one staff member's gross income of one year (yuan)."""

    staff = models.ForeignKey(Staff, models.CASCADE, related_name="payroll", verbose_name=_("人员"))
    year = models.PositiveSmallIntegerField(_("年度"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("工作机构"))
    basic = models.DecimalField(_("基本工资"), **MONEY)
    performance = models.DecimalField(_("绩效工资"), **MONEY)
    allowance = models.DecimalField(_("津贴补贴"), **MONEY)
    other = models.DecimalField(_("其他"), **MONEY)
    total = models.DecimalField(_("应发合计"), **MONEY)  # the sum of the components, kept by ``fill_total``
    batch = models.ForeignKey(PayrollImport, models.SET_NULL, null=True, blank=True, related_name="records")

    class Meta:
        verbose_name = _("年度薪酬")
        verbose_name_plural = _("年度薪酬")
        ordering = ["year", "facility_id", "staff_id"]
        constraints = [models.UniqueConstraint(fields=["staff", "year"], name="payroll_staff_year_unique")]
        indexes = [models.Index(fields=["year", "facility"], name="payroll_year_facility")]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.year} {self.total}"

    def fill_total(self) -> PayrollRecord:
        self.total = sum((getattr(self, c) for c in COMPONENTS), Decimal("0.00"))
        return self


class SchemeLevel(models.TextChoices):
    COUNTY = "county", _("县级医院")
    TOWNSHIP = "township", _("乡镇卫生院")
    VILLAGE = "village", _("村卫生室")


class SchemeRole(models.TextChoices):
    ALL = "all", _("全体人员")
    CLINICAL = "clinical", _("临床医师")
    NURSING = "nursing", _("护理")
    TECHNICAL = "technical", _("医技药")
    PUBLIC_HEALTH = "public_health", _("公共卫生")
    MANAGEMENT = "management", _("行政管理")


class Scheme(models.Model):
    """A performance scheme (绩效方案) of the community for a care level (or one facility) and a role."""

    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="+", verbose_name=_("医共体"))
    name = models.CharField(_("方案名称"), max_length=100)
    level = models.CharField(_("适用机构层级"), max_length=10, choices=SchemeLevel.choices)
    facility = models.ForeignKey(Facility, models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("适用机构（空为该层级全部机构）"))
    role = models.CharField(_("适用岗位"), max_length=16, choices=SchemeRole.choices, default=SchemeRole.ALL)
    pool = models.DecimalField(_("月度绩效总额（元）"), **MONEY)  # 二类绩效: what the month's scores distribute
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("绩效方案")
        verbose_name_plural = _("绩效方案")
        ordering = ["community", "level", "pk"]

    def __str__(self) -> str:
        return self.name


class ItemKind(models.TextChoices):
    WORKLOAD = "workload", _("工作量")
    INDICATOR = "indicator", _("监测指标")
    SATISFACTION = "satisfaction", _("患者满意度")


class SchemeItem(models.Model):
    scheme = models.ForeignKey(Scheme, models.CASCADE, related_name="items", verbose_name=_("方案"))
    kind = models.CharField(_("类别"), max_length=12, choices=ItemKind.choices)
    # workload: a measure of the month's encounters (scoring.WORKLOADS); indicator: an indicator's code (N07 …)
    measure = models.CharField(_("指标"), max_length=20)
    weight = models.DecimalField(_("权重（分）"), max_digits=6, decimal_places=2)
    target = models.DecimalField(_("目标值"), max_digits=14, decimal_places=2)
    direction = models.CharField(_("方向"), max_length=6, choices=[("higher", _("越高越好")), ("lower", _("越低越好"))],
                                 default="higher")
    cap = models.DecimalField(_("封顶（目标的倍数）"), max_digits=4, decimal_places=2, default=Decimal("1.00"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        ordering = ["scheme", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["scheme", "kind", "measure"], name="scheme_item_unique")]

    def __str__(self) -> str:
        return f"{self.scheme_id} {self.measure}"


class Satisfaction(models.Model):
    """患者满意度 (0–100) of a facility, or of one of its departments, in a month."""

    facility = models.ForeignKey(Facility, models.CASCADE, related_name="+", verbose_name=_("机构"))
    department = models.ForeignKey(Department, models.CASCADE, null=True, blank=True, related_name="+",
                                   verbose_name=_("科室"))
    month = models.DateField(_("月份"))  # the first day of the month
    score = models.DecimalField(_("满意度（%）"), max_digits=5, decimal_places=2)
    surveyed = models.PositiveIntegerField(_("调查人数"), default=0)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("患者满意度")
        verbose_name_plural = _("患者满意度")
        ordering = ["-month", "facility_id"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "month"], condition=models.Q(department__isnull=True),
                                    name="satisfaction_facility_month"),
            models.UniqueConstraint(fields=["facility", "department", "month"],
                                    condition=models.Q(department__isnull=False),
                                    name="satisfaction_department_month"),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.month:%Y-%m} {self.score}"


class ScoreRun(models.Model):
    """A month scored under a scheme (re-scoring the month replaces the run)."""

    scheme = models.ForeignKey(Scheme, models.CASCADE, related_name="runs", verbose_name=_("方案"))
    month = models.DateField(_("月份"))
    pool = models.DecimalField(_("月度绩效总额（元）"), **MONEY)
    guaranteed = models.DecimalField(_("一类保障合计（元）"), **MONEY)
    payroll_year = models.PositiveSmallIntegerField(_("基本工资所依年度"), null=True, blank=True)
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    scored_at = models.DateTimeField(_("考核时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("月度绩效考核")
        verbose_name_plural = _("月度绩效考核")
        ordering = ["-month", "scheme_id"]
        constraints = [models.UniqueConstraint(fields=["scheme", "month"], name="score_run_month_unique")]

    def __str__(self) -> str:
        return f"{self.scheme_id} {self.month:%Y-%m}"


class Score(models.Model):
    """A facility's (``department`` empty) or a department's score of the month, and its share of the pool."""

    run = models.ForeignKey(ScoreRun, models.CASCADE, related_name="scores", verbose_name=_("考核"))
    facility = models.ForeignKey(Facility, models.CASCADE, related_name="+", verbose_name=_("机构"))
    department = models.ForeignKey(Department, models.CASCADE, null=True, blank=True, related_name="+",
                                   verbose_name=_("科室"))
    total = models.DecimalField(_("得分"), max_digits=7, decimal_places=2)
    headcount = models.PositiveIntegerField(_("人数"), default=0)
    guaranteed = models.DecimalField(_("一类保障（元）"), **MONEY)
    performance = models.DecimalField(_("二类绩效（元）"), **MONEY)
    lines = models.JSONField(_("得分明细"), default=list)  # scoring.Line as dicts

    class Meta:
        verbose_name = _("绩效得分")
        verbose_name_plural = _("绩效得分")
        ordering = ["run", "facility_id", "department_id"]

    def __str__(self) -> str:
        return f"{self.run_id} {self.facility_id} {self.total}"
