"""The time-critical pathways (五大中心): chest pain, stroke, trauma, critical maternal and critical neonatal care.

A ``Case`` is one patient's pathway; its ``CaseEvent`` rows are the time points (FMC, first ECG, door, cath-lab
activation, wire crossing, needle, puncture …), each captured once wherever it happens — from the 120 record, the
ECG center, a lab result, a CT, a button pressed at the moment — and corrected only by a new row with a reason
(the old one stays, inactive). Metrics (door-to-wire, DNT, DIDO …) are pure functions of the active events
(``metrics.py``); a missed target asks for a ``DelayReason``. ``PathwayCenter`` says which facility runs which
center or township unit (胸痛救治单元) and what it can do (PCI, thrombolysis, CT), which the 120 uses to choose a
destination.

Services are the only writers."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Facility, User
from yigongti.residents.models import Resident


class PathwayKind(models.TextChoices):
    CHEST_PAIN = "chest_pain", _("胸痛")
    STROKE = "stroke", _("卒中")
    TRAUMA = "trauma", _("创伤")
    MATERNAL = "maternal", _("危重孕产妇")
    NEONATAL = "neonatal", _("危重新生儿")


class CenterLevel(models.TextChoices):
    CENTER = "center", _("救治中心")
    UNIT = "unit", _("基层救治单元")
    REFERRAL = "referral", _("上级转诊医院")


class PathwayCenter(models.Model):
    """A facility's part in a pathway: the county chest-pain center, a township chest-pain unit …, and what it
    can do (``capabilities``: "pci", "thrombolysis", "ct", "mri", "cath_lab", "neurosurgery", "nicu", …)."""

    facility = models.ForeignKey(Facility, models.PROTECT, related_name="pathway_centers", verbose_name=_("机构"))
    kind = models.CharField(_("通道"), max_length=12, choices=PathwayKind.choices)
    level = models.CharField(_("级别"), max_length=10, choices=CenterLevel.choices, default=CenterLevel.CENTER)
    capabilities = models.JSONField(_("救治能力"), default=list)
    certified_on = models.DateField(_("认证日期"), null=True, blank=True)
    active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("救治中心/单元")
        verbose_name_plural = _("救治中心/单元")
        constraints = [models.UniqueConstraint(fields=["facility", "kind"], name="pathway_center_unique")]

    def __str__(self) -> str:
        return f"{self.facility} {self.get_kind_display()}"


class CaseStatus(models.TextChoices):
    OPEN = "open", _("救治中")
    CLOSED = "closed", _("已结束")
    CANCELLED = "cancelled", _("已排除")  # the working diagnosis was ruled out


class ArrivalMode(models.TextChoices):
    EMS = "ems", _("呼叫120")
    TRANSFER = "transfer", _("转院")
    SELF = "self", _("自行来院")
    IN_HOSPITAL = "in_hospital", _("院内发病")


class Case(models.Model):
    """One patient's pathway (a chest-pain case, a stroke case …)."""

    case_no = models.CharField(_("病例号"), max_length=20, unique=True)
    kind = models.CharField(_("通道"), max_length=12, choices=PathwayKind.choices)
    subtype = models.CharField(_("分型"), max_length=24, blank=True)  # stemi, nstemi, ua, aortic_dissection, pe,
    # ischaemic, haemorrhagic, major_trauma, pph, eclampsia …, asphyxia, preterm …
    resident = models.ForeignKey(Resident, models.PROTECT, related_name="pathway_cases", verbose_name=_("患者"))
    area_code = models.CharField(_("患者区划代码"), max_length=12, db_index=True)
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="pathway_cases", verbose_name=_("救治机构"))
    first_facility = models.ForeignKey(Facility, models.SET_NULL, null=True, blank=True, related_name="+",
                                       verbose_name=_("首诊机构"))
    arrival_mode = models.CharField(_("来院方式"), max_length=12, choices=ArrivalMode.choices, default=ArrivalMode.EMS)
    call = models.ForeignKey("emergency.Call", models.SET_NULL, null=True, blank=True, related_name="pathway_cases",
                             verbose_name=_("120呼救"))
    referral = models.ForeignKey("referrals.Referral", models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("转诊单"))
    ecg_order = models.ForeignKey("telemedicine.Order", models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("首份心电图"))
    risk_colour = models.CharField(_("妊娠风险分级"), max_length=8, blank=True)  # green yellow orange red purple
    diagnosis = models.CharField(_("诊断"), max_length=200, blank=True)
    outcome = models.CharField(_("转归"), max_length=20, blank=True)  # discharged, transferred, died …
    status = models.CharField(_("状态"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN,
                              db_index=True)
    opened_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                  verbose_name=_("建档人"))
    opened_at = models.DateTimeField(_("建档时间"))
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("救治病例")
        verbose_name_plural = _("救治病例")
        indexes = [models.Index(fields=["kind", "facility", "opened_at"], name="case_center_time"),
                   models.Index(fields=["status", "kind"], name="case_open")]
        constraints = [
            models.UniqueConstraint(fields=["opened_by", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                                    name="case_idempotency_unique"),
        ]

    def __str__(self) -> str:
        return self.case_no


class CaseEvent(models.Model):
    """A time point of a case, captured once; a correction is a new row that ``replaces`` the old, with a reason."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="events", verbose_name=_("病例"))
    code = models.CharField(_("时间节点"), max_length=30)  # see events.py: fmc, first_ecg, door, wire …
    at = models.DateTimeField(_("时间"))
    facility = models.ForeignKey(Facility, models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("发生机构"))
    source = models.CharField(_("来源"), max_length=16, default="manual")  # manual emergency telemedicine lab …
    source_ref = models.CharField(_("来源记录"), max_length=60, blank=True)
    value = models.CharField(_("结果"), max_length=120, blank=True)  # e.g. the ECG conclusion, the NIHSS score
    active = models.BooleanField(_("有效"), default=True)
    replaces = models.ForeignKey("self", models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("更正自"))
    reason = models.CharField(_("更正理由"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("记录人"))
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    idempotency_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("救治时间节点")
        verbose_name_plural = _("救治时间节点")
        indexes = [models.Index(fields=["case", "at"], name="caseevent_case_time"),
                   models.Index(fields=["code", "at"], name="caseevent_code_time")]
        constraints = [
            models.UniqueConstraint(fields=["case", "code"], condition=models.Q(active=True),
                                    name="caseevent_once_active"),
        ]

    def __str__(self) -> str:
        return f"{self.code}@{self.at:%H:%M}"


class DelayReason(models.Model):
    """Why a case missed a target (the metric, a coded reason, a note)."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="delays", verbose_name=_("病例"))
    metric = models.CharField(_("指标"), max_length=30)
    code = models.CharField(_("延误原因"), max_length=30)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    by = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("填写人"))
    at = models.DateTimeField(_("填写时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("延误原因")
        verbose_name_plural = _("延误原因")
        constraints = [models.UniqueConstraint(fields=["case", "metric"], name="delay_once_per_metric")]

    def __str__(self) -> str:
        return f"{self.metric}: {self.code}"




class LateAlert(models.Model):
    """A running metric that is about to miss (or has missed) its target, told to the team once (``late.py``)."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="late_alerts", verbose_name=_("病例"))
    metric = models.CharField(_("指标"), max_length=30)
    minutes = models.FloatField(_("已用时（分钟）"))
    target_min = models.FloatField(_("目标（分钟）"))
    at = models.DateTimeField(_("提醒时间"))

    class Meta:
        verbose_name = _("超时提醒")
        verbose_name_plural = _("超时提醒")
        constraints = [models.UniqueConstraint(fields=["case", "metric"], name="late_alert_once_per_metric")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.metric}"
