"""Basic public health (国家基本公共卫生服务): health checks, maternal care, children 0–6 and immunisation.

The schedules are data with their source and edition (``schedules/*.json``, read by ``schedules.py``): the
maternal visits (建册 before 13 weeks, antenatal visits at 16–20, 21–24, 28–36, 37–40 weeks, the postpartum visit
within a week and the 42-day check), the child visits (newborn, 满月, 3, 6, 8, 12, 18, 24, 30, 36 months, then
yearly to 6) and the national immunisation schedule (国家免疫规划疫苗儿童免疫程序: dose, minimum age, minimum
interval, catch-up). Each record keeps the edition it was checked against.

``HealthCheck`` is the 健康体检表: the annual check of the 65+ and of the chronic patients. ``Pregnancy`` keeps
the five-colour risk grade (《孕产妇妊娠风险评估与管理工作规范》, orange and above managed at the county);
``MaternalVisit``, ``ChildVisit`` and ``VaccineDose`` the services delivered.

Services are the only writers."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Facility, Staff, User
from yigongti.residents.models import Resident


class CheckPurpose(models.TextChoices):
    ELDERLY = "elderly", _("老年人年度体检")
    CHRONIC = "chronic", _("慢病患者年度体检")
    GENERAL = "general", _("一般体检")


class HealthCheck(models.Model):
    resident = models.ForeignKey(Resident, models.PROTECT, related_name="health_checks", verbose_name=_("居民"))
    date = models.DateField(_("体检日期"), db_index=True)
    purpose = models.CharField(_("体检类别"), max_length=8, choices=CheckPurpose.choices)
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("体检机构"))
    by = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("责任医生"))
    sbp = models.PositiveSmallIntegerField(_("收缩压 mmHg"), null=True, blank=True)
    dbp = models.PositiveSmallIntegerField(_("舒张压 mmHg"), null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(_("心率 次/分"), null=True, blank=True)
    height_cm = models.DecimalField(_("身高 cm"), max_digits=5, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(_("体重 kg"), max_digits=5, decimal_places=1, null=True, blank=True)
    waist_cm = models.DecimalField(_("腰围 cm"), max_digits=5, decimal_places=1, null=True, blank=True)
    bmi = models.DecimalField(_("体质指数"), max_digits=4, decimal_places=1, null=True, blank=True)
    fbg = models.DecimalField(_("空腹血糖 mmol/L"), max_digits=4, decimal_places=1, null=True, blank=True)
    total_cholesterol = models.DecimalField(_("总胆固醇 mmol/L"), max_digits=4, decimal_places=2, null=True,
                                            blank=True)
    triglycerides = models.DecimalField(_("甘油三酯 mmol/L"), max_digits=4, decimal_places=2, null=True,
                                        blank=True)
    ldl = models.DecimalField(_("低密度脂蛋白 mmol/L"), max_digits=4, decimal_places=2, null=True, blank=True)
    creatinine = models.DecimalField(_("血肌酐 μmol/L"), max_digits=6, decimal_places=1, null=True, blank=True)
    alt = models.DecimalField(_("谷丙转氨酶 U/L"), max_digits=6, decimal_places=1, null=True, blank=True)
    ecg_done = models.BooleanField(_("心电图"), default=False)
    ultrasound_done = models.BooleanField(_("腹部B超"), default=False)
    self_care_score = models.PositiveSmallIntegerField(_("生活自理能力评分"), null=True, blank=True)  # 65+
    cognition_screen = models.CharField(_("认知功能"), max_length=10, blank=True,
                                        choices=[("normal", _("粗筛阴性")), ("positive", _("粗筛阳性"))])
    tcm_constitution = models.CharField(_("中医体质辨识"), max_length=20, blank=True)
    findings = models.TextField(_("异常发现"), blank=True)
    advice = models.CharField(_("健康指导"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("健康体检")
        verbose_name_plural = _("健康体检")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["resident", "date"])]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.date}"


class RiskGrade(models.TextChoices):
    GREEN = "green", _("绿色（低风险）")
    YELLOW = "yellow", _("黄色（一般风险）")
    ORANGE = "orange", _("橙色（较高风险）")
    RED = "red", _("红色（高风险）")
    PURPLE = "purple", _("紫色（传染性疾病）")


class PregnancyStatus(models.TextChoices):
    ONGOING = "ongoing", _("孕期管理中")
    POSTPARTUM = "postpartum", _("产后随访中")
    CLOSED = "closed", _("已结案")


class PregnancyOutcome(models.TextChoices):
    LIVE_BIRTH = "live_birth", _("活产")
    STILLBIRTH = "stillbirth", _("死胎死产")
    MISCARRIAGE = "miscarriage", _("流产")
    MOVED = "moved", _("迁出")


class Pregnancy(models.Model):
    resident = models.ForeignKey(Resident, models.PROTECT, related_name="pregnancies", verbose_name=_("孕妇"))
    lmp = models.DateField(_("末次月经"))
    edd = models.DateField(_("预产期"))
    registered_on = models.DateField(_("建册日期"))
    registered_week = models.PositiveSmallIntegerField(_("建册孕周"))
    gravidity = models.PositiveSmallIntegerField(_("孕次"), default=1)
    parity = models.PositiveSmallIntegerField(_("产次"), default=0)
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("建册机构"))
    managing_facility = models.ForeignKey(Facility, models.PROTECT, related_name="+",
                                          verbose_name=_("管理机构"))  # the county hospital from orange up
    risk_grade = models.CharField(_("妊娠风险分级"), max_length=8, choices=RiskGrade.choices, default=RiskGrade.GREEN)
    risk_factors = models.JSONField(_("风险因素"), default=list, blank=True)  # codes of the 规范's table
    risk_assessed_on = models.DateField(_("风险评估日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=PregnancyStatus.choices,
                              default=PregnancyStatus.ONGOING, db_index=True)
    delivered_on = models.DateField(_("分娩/终止日期"), null=True, blank=True)
    outcome = models.CharField(_("妊娠结局"), max_length=12, choices=PregnancyOutcome.choices, blank=True)
    delivery_facility = models.CharField(_("分娩机构"), max_length=100, blank=True)
    schedule_edition = models.CharField(_("服务规范版本"), max_length=40)
    recorded_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("孕产妇保健")
        verbose_name_plural = _("孕产妇保健")
        ordering = ["-registered_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["resident"], condition=~Q(status="closed"),
                                               name="ph_one_open_pregnancy")]

    def __str__(self) -> str:
        return f"{self.resident_id} {self.lmp}"


class MaternalVisit(models.Model):
    pregnancy = models.ForeignKey(Pregnancy, models.CASCADE, related_name="visits", verbose_name=_("孕产妇保健"))
    kind = models.CharField(_("服务项目"), max_length=20)  # a visit code of the maternal schedule ("antenatal_2")
    date = models.DateField(_("服务日期"))
    gest_week = models.PositiveSmallIntegerField(_("孕周"), null=True, blank=True)  # antenatal visits
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("服务机构"))
    by = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("服务人"))
    sbp = models.PositiveSmallIntegerField(_("收缩压 mmHg"), null=True, blank=True)
    dbp = models.PositiveSmallIntegerField(_("舒张压 mmHg"), null=True, blank=True)
    weight_kg = models.DecimalField(_("体重 kg"), max_digits=5, decimal_places=1, null=True, blank=True)
    fundal_height_cm = models.DecimalField(_("宫底高度 cm"), max_digits=4, decimal_places=1, null=True, blank=True)
    fetal_heart_rate = models.PositiveSmallIntegerField(_("胎心率"), null=True, blank=True)
    haemoglobin = models.PositiveSmallIntegerField(_("血红蛋白 g/L"), null=True, blank=True)
    findings = models.CharField(_("检查所见"), max_length=300, blank=True)
    advice = models.CharField(_("指导"), max_length=300, blank=True)
    referred = models.BooleanField(_("转诊"), default=False)
    recorded_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("孕产妇随访")
        verbose_name_plural = _("孕产妇随访")
        ordering = ["pregnancy", "date"]
        constraints = [models.UniqueConstraint(fields=["pregnancy", "kind"], name="ph_maternal_visit_once")]

    def __str__(self) -> str:
        return f"{self.pregnancy_id} {self.kind}"


class ChildVisit(models.Model):
    child = models.ForeignKey(Resident, models.PROTECT, related_name="child_visits", verbose_name=_("儿童"))
    kind = models.CharField(_("服务项目"), max_length=20)  # a visit code of the child schedule ("month_6")
    date = models.DateField(_("服务日期"))
    age_days = models.PositiveIntegerField(_("月龄（天）"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("服务机构"))
    by = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("服务人"))
    weight_kg = models.DecimalField(_("体重 kg"), max_digits=4, decimal_places=2, null=True, blank=True)
    length_cm = models.DecimalField(_("身长/身高 cm"), max_digits=4, decimal_places=1, null=True, blank=True)
    head_cm = models.DecimalField(_("头围 cm"), max_digits=4, decimal_places=1, null=True, blank=True)
    haemoglobin = models.PositiveSmallIntegerField(_("血红蛋白 g/L"), null=True, blank=True)
    development_ok = models.BooleanField(_("发育评估通过"), null=True, blank=True)
    feeding = models.CharField(_("喂养方式"), max_length=10, blank=True,
                               choices=[("breast", _("纯母乳")), ("mixed", _("混合")), ("formula", _("人工"))])
    findings = models.CharField(_("检查所见"), max_length=300, blank=True)
    advice = models.CharField(_("指导"), max_length=300, blank=True)
    schedule_edition = models.CharField(_("服务规范版本"), max_length=40)
    recorded_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("儿童健康检查")
        verbose_name_plural = _("儿童健康检查")
        ordering = ["child", "date"]
        constraints = [models.UniqueConstraint(fields=["child", "kind"], name="ph_child_visit_once")]

    def __str__(self) -> str:
        return f"{self.child_id} {self.kind}"


class VaccineDose(models.Model):
    child = models.ForeignKey(Resident, models.PROTECT, related_name="vaccine_doses", verbose_name=_("受种者"))
    vaccine = models.CharField(_("疫苗"), max_length=12)  # a vaccine code of the schedule ("HepB", "MMR")
    dose = models.PositiveSmallIntegerField(_("剂次"))
    given_on = models.DateField(_("接种日期"), db_index=True)
    age_days = models.PositiveIntegerField(_("接种月龄（天）"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("接种单位"))
    by = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("接种人"))
    lot = models.CharField(_("疫苗批号"), max_length=30, blank=True)
    manufacturer = models.CharField(_("生产企业"), max_length=60, blank=True)
    site = models.CharField(_("接种部位"), max_length=20, blank=True)
    catch_up = models.BooleanField(_("补种"), default=False)
    schedule_edition = models.CharField(_("免疫程序版本"), max_length=40)
    recorded_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("预防接种")
        verbose_name_plural = _("预防接种")
        ordering = ["child", "given_on"]
        constraints = [models.UniqueConstraint(fields=["child", "vaccine", "dose"], name="ph_dose_once")]

    def __str__(self) -> str:
        return f"{self.child_id} {self.vaccine}-{self.dose}"
