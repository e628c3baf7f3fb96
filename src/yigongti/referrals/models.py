"""Two-way referral: the referral center and its members, referrals with their events and follow-ups,
and the guideline rules (分级诊疗) as data. Workflow lives in ``workflow.py`` and ``services.py``."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.core.carelevel import LEVEL_RANK, CareLevel  # noqa: F401 (the referral modules import them from here)
from yigongti.orgs.models import Department, Facility, MedicalCommunity, Staff, User
from yigongti.residents.models import Resident


def level_of_facility(facility: Facility) -> str:
    """The facility's care level (one place: ``Facility.care_level``, core.carelevel)."""
    return facility.care_level


class Direction(models.TextChoices):
    UP = "up", _("上转")
    DOWN = "down", _("下转")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("普通")
    URGENT = "urgent", _("紧急")
    GREEN = "green", _("绿色通道")


# Sort key of the queue: green channel first, then urgent, then routine (an indexed integer).
PRIORITY: dict[str, int] = {Urgency.GREEN: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待接收")
    ACCEPTED = "accepted", _("已接收")
    REDIRECTED = "redirected", _("已改派")
    DECLINED = "declined", _("已拒绝")
    ARRIVED = "arrived", _("已到达")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")
    EXPIRED = "expired", _("已过期")
    NO_SHOW = "no_show", _("未到诊")


class PregnancyRisk(models.TextChoices):
    """孕产妇妊娠风险评估分级（国卫办妇幼发〔2017〕35号）: the colour decides where the woman is cared for."""

    GREEN = "green", _("绿色（低风险）")
    YELLOW = "yellow", _("黄色（一般风险）")
    ORANGE = "orange", _("橙色（较高风险）")
    RED = "red", _("红色（高风险）")
    PURPLE = "purple", _("紫色（传染性疾病）")


class DischargeMode(models.TextChoices):
    """离院方式 of 住院病案首页 (卫医政发〔2011〕84号): how the referral ended at the receiving side."""

    ORDERED = "1", _("医嘱离院")
    TRANSFER = "2", _("医嘱转院")
    TO_COMMUNITY = "3", _("医嘱转社区卫生服务机构/乡镇卫生院")
    AGAINST_ADVICE = "4", _("非医嘱离院")
    DIED = "5", _("死亡")
    OTHER = "9", _("其他")


class TreatmentResult(models.TextChoices):
    CURED = "cured", _("治愈")
    IMPROVED = "improved", _("好转")
    NOT_CURED = "not_cured", _("未愈")
    DIED = "died", _("死亡")
    OTHER = "other", _("其他")


class GuidelineRule(models.Model):
    """One line of 基层常见病双向转诊指南: ICD-10 codes from ``icd10_from`` to ``icd10_to`` (compared on as
    many characters as they have, so "I10"–"I15" covers I10.x … I15.x). Two meanings, two fields: the stable
    patient is managed at ``level``; a patient who meets the rule's 上转指征 (``up_criteria``) is treated at
    ``treat_level`` (an up-referral that meets them needs no override). ``designated`` names the kind of
    designated hospital that must receive the patient (结核病定点医院)."""

    name = models.CharField(_("病种"), max_length=60)
    icd10_from = models.CharField(_("ICD-10 起"), max_length=6)
    icd10_to = models.CharField(_("ICD-10 止"), max_length=6)
    level = models.CharField(_("稳定期管理层级"), max_length=10, choices=CareLevel.choices)
    treat_level = models.CharField(_("达上转指征时诊治层级"), max_length=10, choices=CareLevel.choices,
                                   default=CareLevel.COUNTY)
    designated = models.CharField(_("定点机构"), max_length=40, blank=True)
    up_criteria = models.TextField(_("上转指征"), blank=True)
    down_criteria = models.TextField(_("下转指征"), blank=True)
    source = models.CharField(_("依据"), max_length=120, blank=True)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("转诊指南规则")
        verbose_name_plural = _("转诊指南规则")
        ordering = ["icd10_from"]

    def __str__(self) -> str:
        return f"{self.name}（{self.icd10_from}–{self.icd10_to}）"


class ReferralCenter(models.Model):
    """转诊服务中心: one per community, at the lead hospital; answers every up-referral within its SLA."""

    community = models.OneToOneField(MedicalCommunity, models.CASCADE, related_name="referral_center",
                                     verbose_name=_("医共体"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("所在医院"))
    name = models.CharField(_("名称"), max_length=60, default="转诊服务中心")
    phone = models.CharField(_("值班电话"), max_length=20, blank=True)
    sla_green_minutes = models.PositiveIntegerField(_("绿色通道响应时限（分钟）"), default=15)
    sla_urgent_minutes = models.PositiveIntegerField(_("紧急响应时限（分钟）"), default=30)
    sla_routine_minutes = models.PositiveIntegerField(_("普通响应时限（分钟）"), default=120)
    sla_down_hours = models.PositiveIntegerField(_("下转接收时限（小时）"), default=24)

    class Meta:
        verbose_name = _("转诊服务中心")
        verbose_name_plural = _("转诊服务中心")

    def __str__(self) -> str:
        return f"{self.community.name}{self.name}"

    def sla_minutes(self, urgency: str) -> int:
        by_urgency: dict[str, int] = {Urgency.GREEN: self.sla_green_minutes, Urgency.URGENT: self.sla_urgent_minutes}
        return by_urgency.get(urgency, self.sla_routine_minutes)


class CenterMember(models.Model):
    center = models.ForeignKey(ReferralCenter, models.CASCADE, related_name="members", verbose_name=_("转诊中心"))
    user = models.ForeignKey(User, models.CASCADE, related_name="referral_centers", verbose_name=_("账号"))
    is_supervisor = models.BooleanField(_("主管（接收超时升级）"), default=False)

    class Meta:
        verbose_name = _("转诊中心成员")
        verbose_name_plural = _("转诊中心成员")
        constraints = [models.UniqueConstraint(fields=["center", "user"], name="center_member_unique")]

    def __str__(self) -> str:
        return f"{self.center_id}:{self.user_id}{'（主管）' if self.is_supervisor else ''}"


class Referral(models.Model):
    direction = models.CharField(_("方向"), max_length=4, choices=Direction.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    urgency = models.CharField(_("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.ROUTINE)
    priority = models.PositiveSmallIntegerField(default=2)
    resident = models.ForeignKey(Resident, models.PROTECT, related_name="referrals", verbose_name=_("患者"))
    area_code = models.CharField(_("患者区划代码"), max_length=12, db_index=True)
    center = models.ForeignKey(ReferralCenter, models.PROTECT, null=True, blank=True, related_name="referrals",
                               verbose_name=_("转诊中心"))
    from_facility = models.ForeignKey(Facility, models.PROTECT, related_name="referrals_out",
                                      verbose_name=_("转出机构"))
    from_level = models.CharField(_("转出层级"), max_length=10, choices=CareLevel.choices)
    referred_by = models.ForeignKey(User, models.PROTECT, related_name="referrals_made", verbose_name=_("转诊医生"))
    to_facility = models.ForeignKey(Facility, models.PROTECT, null=True, blank=True, related_name="referrals_in",
                                    verbose_name=_("接收机构"))
    to_external = models.CharField(_("县外接收医院"), max_length=100, blank=True)
    to_level = models.CharField(_("接收层级"), max_length=10, choices=CareLevel.choices)
    to_department = models.ForeignKey(Department, models.SET_NULL, null=True, blank=True, related_name="+",
                                      verbose_name=_("接收科室"))
    to_doctor = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("接诊医生"))
    appointment_at = models.DateTimeField(_("预约时间"), null=True, blank=True)
    bed = models.CharField(_("床位"), max_length=40, blank=True)
    icd10 = models.CharField(_("初步诊断(ICD-10)"), max_length=16)
    diagnosis = models.CharField(_("诊断名称"), max_length=60, blank=True)
    reason = models.TextField(_("转诊理由"))
    exams = models.TextField(_("检查检验结果"), blank=True)
    medications = models.TextField(_("目前用药"), blank=True)
    summary = models.JSONField(_("病历摘要"), default=dict, blank=True)
    guideline_rule = models.ForeignKey(GuidelineRule, models.SET_NULL, null=True, blank=True, related_name="+",
                                       verbose_name=_("适用指南"))
    guideline_warning = models.CharField(_("指南提示"), max_length=200, blank=True)
    override_reason = models.TextField(_("不按指南转诊的理由"), blank=True)
    meets_up_criteria = models.BooleanField(_("符合上转指征"), default=False)
    pregnancy_risk = models.CharField(_("妊娠风险分级"), max_length=8, choices=PregnancyRisk.choices, blank=True)
    ecg_changes = models.BooleanField(_("心电图缺血性改变"), default=False)
    major_trauma = models.BooleanField(_("严重创伤（ISS≥16）"), default=False)
    routine_reason = models.TextField(_("未走绿色通道的理由"), blank=True)
    # 医保 转外就医备案 of a referral outside the county: decides the reimbursement rate.
    insurance_filing_no = models.CharField(_("转外就医备案号"), max_length=40, blank=True)
    insurance_target_code = models.CharField(_("转入机构医保编码"), max_length=20, blank=True)
    # Down-referral: the follow-up plan (康复、用药、随访).
    source_referral = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="followers",
                                        verbose_name=_("原上转单"))
    rehab_plan = models.TextField(_("康复计划"), blank=True)
    medication_plan = models.TextField(_("用药方案"), blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("应答时限"), null=True, blank=True)
    answered_at = models.DateTimeField(_("应答时间"), null=True, blank=True)
    answered_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("应答人"))
    arrived_at = models.DateTimeField(_("到达时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("超时升级时间"), null=True, blank=True)
    decline_reason = models.TextField(_("拒绝/改派理由"), blank=True)
    outcome = models.CharField(_("离院方式"), max_length=20, blank=True, choices=DischargeMode.choices)
    treatment_result = models.CharField(_("治疗结果"), max_length=10, blank=True, choices=TreatmentResult.choices)
    outcome_note = models.TextField(_("转归说明"), blank=True)

    class Meta:
        verbose_name = _("转诊单")
        verbose_name_plural = _("转诊单")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["center", "status", "priority", "submitted_at"], name="referral_queue"),
            models.Index(fields=["to_facility", "status"], name="referral_to_status"),
            models.Index(fields=["from_facility", "status"], name="referral_from_status"),
            models.Index(fields=["submitted_at"], name="referral_submitted"),
        ]
        constraints = [models.UniqueConstraint(fields=["referred_by", "idempotency_key"],
                                               condition=models.Q(idempotency_key__gt=""),
                                               name="referral_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} #{self.pk}"

    @property
    def to_name(self) -> str:
        return self.to_facility.name if self.to_facility is not None else self.to_external

    @property
    def is_overdue(self) -> bool:
        return self.escalated_at is not None

    @property
    def number(self) -> str:
        """The referral number printed on the 转诊单 and in its QR code: ZZ, the local date it was made, the id."""
        from django.utils import timezone

        return f"ZZ{timezone.localtime(self.created):%Y%m%d}{self.pk:07d}" if self.created else f"ZZ{self.pk:07d}"


class ReferralEvent(models.Model):
    """Who moved a referral, when, from which status to which, and why (the referral's own history)."""

    referral = models.ForeignKey(Referral, models.CASCADE, related_name="events", verbose_name=_("转诊单"))
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("操作人"))
    action = models.CharField(_("动作"), max_length=20)
    from_status = models.CharField(_("原状态"), max_length=10, blank=True)
    to_status = models.CharField(_("新状态"), max_length=10, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("转诊记录")
        verbose_name_plural = _("转诊记录")
        ordering = ["referral", "at", "id"]

    def __str__(self) -> str:
        return f"#{self.referral_id} {self.action}"

    LABELS = {"create": _("创建"), "submit": _("提交"), "accept": _("接收"), "redirect": _("改派"),
              "decline": _("拒绝"), "arrive": _("登记到达"), "complete": _("完成"), "cancel": _("取消"),
              "expire": _("过期关闭"),
              "escalate": _("超时升级"), "follow_up": _("登记随访"), "no_show": _("登记未到诊")}

    @property
    def action_label(self) -> str:
        return str(self.LABELS.get(self.action, self.action))

    @property
    def to_label(self) -> str:
        return str(Status(self.to_status).label) if self.to_status and self.to_status != self.from_status else ""


class FollowUpStatus(models.TextChoices):
    PLANNED = "planned", _("待随访")
    DONE = "done", _("已随访")
    MISSED = "missed", _("失访")


class FollowUpKind(models.TextChoices):
    PLAN = "plan", _("下转随访计划")
    AFTER_UP = "after_up", _("上转后随访")


class FollowUp(models.Model):
    """A follow-up: a date of a down-referral's plan, recorded by the receiving doctor, or the follow-up two
    weeks after an up-referral (《国家基本公共卫生服务规范》), recorded by the sending facility."""

    referral = models.ForeignKey(Referral, models.CASCADE, related_name="follow_ups", verbose_name=_("转诊单"))
    kind = models.CharField(_("类别"), max_length=8, choices=FollowUpKind.choices, default=FollowUpKind.PLAN)
    due_date = models.DateField(_("计划日期"))
    status = models.CharField(_("状态"), max_length=8, choices=FollowUpStatus.choices, default=FollowUpStatus.PLANNED)
    done_at = models.DateTimeField(_("随访时间"), null=True, blank=True)
    done_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                verbose_name=_("随访人"))
    note = models.TextField(_("随访记录"), blank=True)

    class Meta:
        verbose_name = _("转诊随访")
        verbose_name_plural = _("转诊随访")
        ordering = ["referral", "due_date"]
        # the homes' "follow-ups due" panels read the planned ones by date
        indexes = [models.Index(fields=["due_date"], condition=models.Q(status="planned"),
                                name="followup_planned_due")]

    def __str__(self) -> str:
        return f"#{self.referral_id} {self.due_date:%Y-%m-%d} {self.status}"

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return self.status == FollowUpStatus.PLANNED and self.due_date < timezone.localdate()


class DepartmentCapacity(models.Model):
    """How many referral appointments a receiving department offers per day (half in the morning from 08:30,
    half in the afternoon from 14:30, ``slot_minutes`` apart). Free beds are derived: ``Department.beds``
    minus the admitted patients (open inpatient encounters) and the beds held by open referrals. A clinical
    department without a row offers the default."""

    DEFAULT_DAILY_SLOTS = 8
    department = models.OneToOneField(Department, models.CASCADE, related_name="referral_capacity",
                                      verbose_name=_("科室"))
    daily_slots = models.PositiveSmallIntegerField(_("每日转诊预约号"), default=DEFAULT_DAILY_SLOTS)
    slot_minutes = models.PositiveSmallIntegerField(_("每号间隔（分钟）"), default=30)

    class Meta:
        verbose_name = _("科室接诊容量")
        verbose_name_plural = _("科室接诊容量")

    def __str__(self) -> str:
        return f"{self.department}：{self.daily_slots}"
