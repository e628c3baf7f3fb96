"""Hypertension and type-2 diabetes (两病) under the 国家基本公共卫生服务规范（第三版）.

An ``Enrolment`` puts one resident (aged 35+, with a confirmed diagnosis found in an encounter or entered by the
doctor) under management for one condition; it carries the state the village ledger shows (last visit, last
readings, control, next due) so that the ledger reads one row per patient. A ``FollowUp`` is one visit (face to
face at the clinic or at home, or by phone — only face-to-face visits count towards the four a year), with the
readings, lifestyle, adherence and medication, and the decision the rules took (``rules.py``: routine, adjust and
review in 2 weeks, refer up, urgent referral). ``RegularMedicine`` is the patient's regular medicines, from
which the monthly delivery list per village is drawn.

Services are the only writers."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yigongti.orgs.models import Facility, Region, Staff, User
from yigongti.residents.models import Resident


class Condition(models.TextChoices):
    HYPERTENSION = "htn", _("高血压")
    DIABETES = "t2dm", _("2型糖尿病")


class EnrolmentStatus(models.TextChoices):
    MANAGED = "managed", _("管理中")
    ENDED = "ended", _("已结案")


class EnrolmentEndReason(models.TextChoices):
    DIED = "died", _("死亡")
    MOVED = "moved", _("迁出")
    LOST = "lost", _("失访")
    MISDIAGNOSED = "misdiagnosed", _("排除诊断")


class Control(models.TextChoices):
    CONTROLLED = "controlled", _("控制满意")
    UNCONTROLLED = "uncontrolled", _("控制不满意")
    ADVERSE = "adverse", _("不良反应")
    COMPLICATION = "complication", _("并发症")


class Decision(models.TextChoices):
    ROUTINE = "routine", _("常规随访")
    ADJUST = "adjust", _("调整用药，2周内随访")
    REFER = "refer", _("转诊，2周内随访")
    URGENT = "urgent", _("紧急转诊")


class Enrolment(models.Model):
    resident = models.ForeignKey(Resident, models.PROTECT, related_name="chronic_enrolments",
                                 verbose_name=_("居民"))
    condition = models.CharField(_("病种"), max_length=4, choices=Condition.choices)
    diagnosed_on = models.DateField(_("确诊日期"), null=True, blank=True)
    diagnosis_icd10 = models.CharField(_("诊断编码"), max_length=16, blank=True)
    source_encounter = models.ForeignKey("encounters.Encounter", models.SET_NULL, null=True, blank=True,
                                         related_name="+", verbose_name=_("确诊就诊"))
    enrolled_on = models.DateField(_("纳入管理日期"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="chronic_enrolments",
                                 verbose_name=_("管理机构"))  # the village clinic or township center that manages
    village = models.ForeignKey(Region, models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("所在村"))
    doctor = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+",
                               verbose_name=_("责任医生"))
    status = models.CharField(_("状态"), max_length=8, choices=EnrolmentStatus.choices,
                              default=EnrolmentStatus.MANAGED, db_index=True)
    ended_on = models.DateField(_("结案日期"), null=True, blank=True)
    end_reason = models.CharField(_("结案原因"), max_length=14, choices=EnrolmentEndReason.choices, blank=True)
    # the ledger's state, kept by the follow-up service
    last_visit_on = models.DateField(_("末次随访"), null=True, blank=True)
    last_sbp = models.PositiveSmallIntegerField(_("末次收缩压"), null=True, blank=True)
    last_dbp = models.PositiveSmallIntegerField(_("末次舒张压"), null=True, blank=True)
    last_fbg = models.DecimalField(_("末次空腹血糖"), max_digits=4, decimal_places=1, null=True, blank=True)
    last_control = models.CharField(_("末次控制情况"), max_length=12, choices=Control.choices, blank=True)
    uncontrolled_streak = models.PositiveSmallIntegerField(_("连续控制不满意次数"), default=0)
    next_due = models.DateField(_("下次随访"), null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    created = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("慢病管理")
        verbose_name_plural = _("慢病管理")
        ordering = ["-enrolled_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["resident", "condition"], condition=Q(status="managed"),
                                               name="chronic_one_managed_enrolment")]
        indexes = [models.Index(fields=["village", "condition", "status"]),
                   models.Index(fields=["facility", "status"])]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.condition}"


class VisitMode(models.TextChoices):
    CLINIC = "clinic", _("门诊")
    HOME = "home", pgettext_lazy("visit mode", "家庭")
    PHONE = "phone", _("电话")


class Adherence(models.TextChoices):
    REGULAR = "regular", _("规律")
    INTERMITTENT = "intermittent", _("间断")
    NONE = "none", _("不服药")


class FollowUp(models.Model):
    enrolment = models.ForeignKey(Enrolment, models.PROTECT, related_name="follow_ups", verbose_name=_("慢病管理"))
    resident = models.ForeignKey(Resident, models.PROTECT, related_name="chronic_follow_ups",
                                 verbose_name=_("居民"))
    visit_date = models.DateField(_("随访日期"), db_index=True)
    mode = models.CharField(_("随访方式"), max_length=8, choices=VisitMode.choices, default=VisitMode.CLINIC)
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("随访机构"))
    by = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+",
                           verbose_name=_("随访医生"))
    # signs
    sbp = models.PositiveSmallIntegerField(_("收缩压 mmHg"), null=True, blank=True)
    dbp = models.PositiveSmallIntegerField(_("舒张压 mmHg"), null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(_("心率 次/分"), null=True, blank=True)
    weight_kg = models.DecimalField(_("体重 kg"), max_digits=5, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(_("身高 cm"), max_digits=5, decimal_places=1, null=True, blank=True)
    bmi = models.DecimalField(_("体质指数"), max_digits=4, decimal_places=1, null=True, blank=True)
    fbg = models.DecimalField(_("空腹血糖 mmol/L"), max_digits=4, decimal_places=1, null=True, blank=True)
    hba1c = models.DecimalField(_("糖化血红蛋白 %"), max_digits=4, decimal_places=1, null=True, blank=True)
    symptoms = models.JSONField(_("症状"), default=list, blank=True)  # codes of rules.SYMPTOMS
    danger_signs = models.JSONField(_("危急情况"), default=list, blank=True)  # codes of rules.DANGER_SIGNS
    # lifestyle
    smoking_per_day = models.PositiveSmallIntegerField(_("日吸烟量（支）"), null=True, blank=True)
    drinking_per_day = models.PositiveSmallIntegerField(_("日饮酒量（两）"), null=True, blank=True)
    exercise_per_week = models.PositiveSmallIntegerField(_("运动（次/周）"), null=True, blank=True)
    exercise_minutes = models.PositiveSmallIntegerField(_("运动（分钟/次）"), null=True, blank=True)
    salt = models.CharField(_("摄盐情况"), max_length=8, blank=True,
                            choices=[("light", _("轻")), ("medium", _("中")), ("heavy", _("重"))])
    staple_grams = models.PositiveSmallIntegerField(_("主食（克/天）"), null=True, blank=True)
    adherence = models.CharField(_("服药依从性"), max_length=14, choices=Adherence.choices, blank=True)
    adverse_reaction = models.BooleanField(_("药物不良反应"), default=False)
    adverse_note = models.CharField(_("不良反应说明"), max_length=200, blank=True)
    new_complication = models.BooleanField(_("新发或加重并发症"), default=False)
    complication_note = models.CharField(_("并发症说明"), max_length=200, blank=True)
    pregnant = models.BooleanField(_("妊娠期"), default=False)
    hypoglycaemia = models.CharField(_("低血糖反应"), max_length=10, blank=True,
                                     choices=[("none", _("无")), ("rare", _("偶尔")), ("frequent", _("频繁"))])
    medication = models.JSONField(_("用药情况"), default=list, blank=True)  # [{"name", "dose", "frequency"}]
    advice = models.CharField(_("此次随访指导"), max_length=300, blank=True)
    # what the rules decided (rules.decide) and what followed
    control = models.CharField(_("此次随访分类"), max_length=12, choices=Control.choices)
    decision = models.CharField(_("处理"), max_length=8, choices=Decision.choices)
    reasons = models.JSONField(_("判定依据"), default=list)  # the rule codes that fired
    next_visit_on = models.DateField(_("下次随访日期"))
    unlikely_confirmed = models.BooleanField(_("已确认异常读数"), default=False)
    referral = models.ForeignKey("referrals.Referral", models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("转诊单"))
    referral_suggested = models.BooleanField(_("建议转诊"), default=False)
    recorded_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("慢病随访")
        verbose_name_plural = _("慢病随访")
        ordering = ["-visit_date", "-id"]
        indexes = [models.Index(fields=["enrolment", "visit_date"])]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.visit_date}"

    @property
    def face_to_face(self) -> bool:
        return self.mode != VisitMode.PHONE


# The units of the common medicines list, translated when shown; a unit typed otherwise is shown as written.
DRUG_UNITS = {"片": pgettext_lazy("drug unit", "片"), "粒": pgettext_lazy("drug unit", "粒"),
              "袋": pgettext_lazy("drug unit", "袋"), "支": pgettext_lazy("drug unit", "支")}


def unit_label(unit: str) -> str:
    """A medicine's unit (片, 粒 …) in the active language."""
    return str(DRUG_UNITS.get(unit, unit))


class RegularMedicine(models.Model):
    enrolment = models.ForeignKey(Enrolment, models.CASCADE, related_name="medicines", verbose_name=_("慢病管理"))
    drug_code = models.CharField(_("医保药品编码"), max_length=23, blank=True)
    name = models.CharField(_("药品名称"), max_length=60)
    strength = models.CharField(_("规格"), max_length=30, blank=True)  # "5mg×28片"
    dose = models.CharField(_("每次用量"), max_length=20)  # "5mg" / "1片"
    frequency = models.CharField(_("用法"), max_length=20)  # "qd" / "bid" / "每日1次"
    units_per_day = models.DecimalField(_("每日用量（最小包装单位）"), max_digits=5, decimal_places=2, default=1)
    unit = models.CharField(_("单位"), max_length=8, default="片")
    since = models.DateField(_("开始日期"))
    until = models.DateField(_("停用日期"), null=True, blank=True)
    prescribed_by = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+",
                                      verbose_name=_("开具医生"))
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("长期用药")
        verbose_name_plural = _("长期用药")
        ordering = ["enrolment", "name"]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.name}"

    @property
    def unit_label(self) -> str:
        return unit_label(self.unit)
