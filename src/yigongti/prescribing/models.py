"""Prescriptions, their review (处方审核) and dispensing by lot with the 药品追溯码, returns, the rule pack the
pharmacists edit, and the monthly 处方点评 samples.

A prescription keeps the patient's facts at the moment it was written (age, weight, sex, pregnancy, the
diagnoses) so that a review or a 点评 months later judges what the doctor knew. The findings of the rule
engine (``prescribing.engine``) are stored with it; its risk decides whether it waits for a pharmacist.
Only ``prescribing.services`` writes these tables; the workflow's moves are ``prescribing.workflow``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Facility, MedicalCommunity, Staff
from yigongti.pharmacy.models import Item, Lot, Movement, TraceCode
from yigongti.residents.models import Resident


class Kind(models.TextChoices):
    NORMAL = "normal", _("普通处方")
    EMERGENCY = "emergency", _("急诊处方")
    PEDIATRIC = "pediatric", _("儿科处方")
    CHRONIC = "chronic", _("慢病长期处方")


class Source(models.TextChoices):
    ENCOUNTER = "encounter", _("门诊就诊")
    RESIDENT = "resident", _("居民档案")
    IHOSPITAL = "ihospital", _("互联网医院")


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已开具")
    REVIEW_PENDING = "review_pending", _("待审核")
    APPROVED = "approved", _("审核通过")
    REJECTED = "rejected", _("审核不通过")
    DISPENSED = "dispensed", _("已发药")
    PARTLY_RETURNED = "partly_returned", _("部分退药")
    RETURNED = "returned", _("已退药")


class Severity(models.IntegerChoices):
    NONE = 0, _("无")
    INFO = 1, _("提示")
    LOW = 2, _("低")
    MODERATE = 3, _("中")
    HIGH = 4, _("高")
    CRITICAL = 5, _("严重")


class Prescription(models.Model):
    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="+", verbose_name=_("医共体"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="prescriptions", verbose_name=_("开方机构"))
    resident = models.ForeignKey(Resident, models.PROTECT, related_name="prescriptions", verbose_name=_("居民"))
    area_code = models.CharField(_("居住地区划代码"), max_length=12, db_index=True)  # the resident's, for scoping
    # an e-prescription of the internet hospital has a consultation instead of an encounter
    encounter = models.ForeignKey("encounters.Encounter", models.SET_NULL, null=True, blank=True,
                                  related_name="prescriptions", verbose_name=_("就诊"))
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.ENCOUNTER)
    source_ref = models.CharField(_("来源单据"), max_length=40, blank=True)  # "consultation:12"
    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("开方医生"))
    doctor_staff = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+",
                                     verbose_name=_("开方医生（人员）"))
    kind = models.CharField(_("处方类别"), max_length=10, choices=Kind.choices, default=Kind.NORMAL)
    diagnoses = models.JSONField(_("诊断（ICD-10）"), default=list)
    age_years = models.PositiveSmallIntegerField(_("年龄（岁）"))
    age_months = models.PositiveIntegerField(_("年龄（月）"))
    sex = models.CharField(_("性别"), max_length=1, blank=True)
    weight_kg = models.DecimalField(_("体重（kg）"), max_digits=5, decimal_places=1, null=True, blank=True)
    pregnant = models.BooleanField(_("妊娠"), default=False)
    conditions = models.JSONField(_("慢病诊断（ICD-10）"), default=list)  # the resident's managed chronic conditions
    days_reason = models.CharField(_("超量理由"), max_length=200, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    risk = models.PositiveSmallIntegerField(_("风险等级"), choices=Severity.choices, default=Severity.NONE)
    findings = models.JSONField(_("审核发现"), default=list)
    has_antibiotic = models.BooleanField(_("含抗菌药物"), default=False)
    amount = models.DecimalField(_("金额（元）"), max_digits=12, decimal_places=2, default=0)
    prescribed_at = models.DateTimeField(_("开方时间"))
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    dispensed_at = models.DateTimeField(_("发药时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("处方")
        verbose_name_plural = _("处方")
        ordering = ["-prescribed_at", "-pk"]
        indexes = [
            models.Index(fields=["community", "status", "risk"], name="rx_queue"),
            models.Index(fields=["facility", "prescribed_at"], name="rx_facility_at"),
        ]

    def __str__(self) -> str:
        return f"处方 {self.pk}"

    @property
    def dispensable(self) -> bool:
        return self.status in (Status.SUBMITTED, Status.APPROVED)


class PrescriptionLine(models.Model):
    prescription = models.ForeignKey(Prescription, models.CASCADE, related_name="lines", verbose_name=_("处方"))
    seq = models.PositiveSmallIntegerField(_("序号"), default=1)
    item = models.ForeignKey(Item, models.PROTECT, related_name="+", verbose_name=_("药品"))
    dose = models.DecimalField(_("单次剂量"), max_digits=10, decimal_places=3)
    unit = models.CharField(_("剂量单位"), max_length=8)
    frequency = models.CharField(_("频次"), max_length=8)
    route = models.CharField(_("给药途径"), max_length=8, default="po")
    days = models.PositiveSmallIntegerField(_("天数"))
    quantity = models.PositiveIntegerField(_("数量（包装单位）"))
    price = models.DecimalField(_("单价"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("处方明细")
        verbose_name_plural = _("处方明细")
        ordering = ["prescription", "seq"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="rx_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.item} × {self.quantity}"


class Dispensing(models.Model):
    prescription = models.ForeignKey(Prescription, models.PROTECT, related_name="dispensings",
                                     verbose_name=_("处方"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("发药机构"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                           verbose_name=_("发药人"))
    at = models.DateTimeField(_("发药时间"))

    class Meta:
        verbose_name = _("发药")
        verbose_name_plural = _("发药")
        # one dispensing per prescription: a second dispenser is refused by the database too
        constraints = [models.UniqueConstraint(fields=["prescription"], name="rx_one_dispensing")]

    def __str__(self) -> str:
        return f"发药 {self.prescription_id}"


class DispensingLine(models.Model):
    dispensing = models.ForeignKey(Dispensing, models.CASCADE, related_name="lines", verbose_name=_("发药"))
    line = models.ForeignKey(PrescriptionLine, models.PROTECT, related_name="dispensed", verbose_name=_("处方明细"))
    lot = models.ForeignKey(Lot, models.PROTECT, related_name="+", verbose_name=_("批次"))
    quantity = models.PositiveIntegerField(_("数量"))
    returned = models.PositiveIntegerField(_("已退数量"), default=0)
    movement = models.ForeignKey(Movement, models.PROTECT, related_name="+", verbose_name=_("台账"))

    class Meta:
        verbose_name = _("发药明细")
        verbose_name_plural = _("发药明细")
        constraints = [models.CheckConstraint(condition=Q(returned__lte=models.F("quantity")),
                                              name="rx_returned_le_dispensed")]

    def __str__(self) -> str:
        return f"{self.lot_id} × {self.quantity}"


class DispensedCode(models.Model):
    line = models.ForeignKey(DispensingLine, models.CASCADE, related_name="codes", verbose_name=_("发药明细"))
    trace = models.ForeignKey(TraceCode, models.PROTECT, related_name="+", verbose_name=_("追溯码"))
    returned = models.BooleanField(_("已退回"), default=False)

    class Meta:
        verbose_name = _("发药追溯码")
        verbose_name_plural = _("发药追溯码")

    def __str__(self) -> str:
        return str(self.trace_id)


class Return(models.Model):
    prescription = models.ForeignKey(Prescription, models.PROTECT, related_name="returns", verbose_name=_("处方"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                           verbose_name=_("经办人"))
    at = models.DateTimeField(_("退药时间"))
    reason = models.CharField(_("退药原因"), max_length=200)

    class Meta:
        verbose_name = _("退药")
        verbose_name_plural = _("退药")

    def __str__(self) -> str:
        return f"退药 {self.prescription_id}"


class ReturnLine(models.Model):
    ret = models.ForeignKey(Return, models.CASCADE, related_name="lines", verbose_name=_("退药"))
    dispensing_line = models.ForeignKey(DispensingLine, models.PROTECT, related_name="+", verbose_name=_("发药明细"))
    quantity = models.PositiveIntegerField(_("数量"))
    movement = models.ForeignKey(Movement, models.PROTECT, related_name="+", verbose_name=_("台账"))

    def __str__(self) -> str:
        return f"{self.dispensing_line_id} × {self.quantity}"


class Decision(models.TextChoices):
    APPROVE = "approve", _("通过")
    REJECT = "reject", _("不通过")


class Review(models.Model):
    """A pharmacist's 审核 of a prescription that waited for one."""

    prescription = models.ForeignKey(Prescription, models.CASCADE, related_name="reviews", verbose_name=_("处方"))
    pharmacist = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("审核药师"))
    decision = models.CharField(_("结论"), max_length=8, choices=Decision.choices)
    reason = models.CharField(_("理由"), max_length=300, blank=True)
    at = models.DateTimeField(_("审核时间"))

    class Meta:
        verbose_name = _("处方审核")
        verbose_name_plural = _("处方审核")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.prescription_id} {self.decision}"


class RulePack(models.Model):
    """A community's review rules (the shipped pack ``rules/pack.json`` loaded once, then edited by pharmacists)."""

    community = models.OneToOneField(MedicalCommunity, models.CASCADE, related_name="rule_pack",
                                     verbose_name=_("医共体"))
    name = models.CharField(_("名称"), max_length=100)
    # prescriptions whose risk reaches this level wait for a pharmacist before dispensing
    review_at = models.PositiveSmallIntegerField(_("需审核的风险等级"), choices=Severity.choices,
                                                 default=Severity.MODERATE)
    version = models.PositiveIntegerField(_("版本"), default=1)  # bumped by every edit: the compiled cache's key
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("审方规则包")
        verbose_name_plural = _("审方规则包")

    def __str__(self) -> str:
        return self.name


class RuleKind(models.TextChoices):
    DOSE = "dose", _("剂量范围")
    DAYS = "days", _("最大用药天数")
    DUPLICATE = "duplicate", _("重复用药")
    INTERACTION = "interaction", _("相互作用")
    CONTRAINDICATION = "contraindication", _("禁忌症")
    ANTIBIOTIC = "antibiotic", _("抗菌药物分级")


class Rule(models.Model):
    pack = models.ForeignKey(RulePack, models.CASCADE, related_name="rules", verbose_name=_("规则包"))
    code = models.CharField(_("规则编号"), max_length=60)
    kind = models.CharField(_("类别"), max_length=16, choices=RuleKind.choices)
    # what the rule applies to and its figures: see prescribing/rules/README in the pack and engine.compile_rules
    params = models.JSONField(_("参数"), default=dict)
    severity = models.PositiveSmallIntegerField(_("严重程度"), choices=Severity.choices, default=Severity.MODERATE)
    message = models.CharField(_("提示语"), max_length=200)
    reference = models.CharField(_("依据"), max_length=200, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("修改人"))

    class Meta:
        verbose_name = _("审方规则")
        verbose_name_plural = _("审方规则")
        ordering = ["pack", "kind", "code"]
        constraints = [models.UniqueConstraint(fields=["pack", "code"], name="rx_rule_code_unique")]

    def __str__(self) -> str:
        return self.code


class CommentClass(models.TextChoices):
    """《医院处方点评管理规范（试行）》 第十七条: 合理处方 and the three classes of irrational prescriptions."""

    PENDING = "", _("待点评")
    RATIONAL = "rational", _("合理处方")
    NONSTANDARD = "nonstandard", _("不规范处方")
    INAPPROPRIATE = "inappropriate", _("用药不适宜处方")
    EXCESSIVE = "excessive", _("超常处方")


class CommentSample(models.Model):
    """A prescription drawn into a month's 处方点评 sample, and the pharmacist's classification."""

    community = models.ForeignKey(MedicalCommunity, models.CASCADE, related_name="+", verbose_name=_("医共体"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("机构"))
    month = models.DateField(_("月份"))  # first day
    prescription = models.ForeignKey(Prescription, models.CASCADE, related_name="comments", verbose_name=_("处方"))
    doctor = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("开方医生"))
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("点评药师"))
    classification = models.CharField(_("点评结果"), max_length=14, choices=CommentClass.choices, blank=True,
                                      default="")
    findings = models.JSONField(_("问题"), default=list)
    note = models.CharField(_("点评意见"), max_length=300, blank=True)
    reviewed_at = models.DateTimeField(_("点评时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("处方点评")
        verbose_name_plural = _("处方点评")
        ordering = ["month", "facility", "pk"]
        constraints = [models.UniqueConstraint(fields=["month", "prescription"], name="rx_comment_unique")]
        indexes = [models.Index(fields=["community", "month", "facility"], name="rx_comment_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.prescription_id}"
