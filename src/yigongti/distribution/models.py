"""Village orders and their delivery (线上下单、线下配送), and the shortage registry (缺药登记).

A village clinic's ``VillageOrder`` moves draft → submitted → approved → picked → dispatched → received /
partly received (or rejected, cancelled); ``workflow.py`` holds the transition table. Picking chooses lots at the
distribution center (``Pick``, first-expiry-first-out) without moving stock; dispatch moves the picked lots out of
the center (``TRANSFER_OUT``) and their 追溯码 to ``in_transit``; the village's receipt of each line
(``LineReceipt``, one per line: a second confirmation finds it and counts nothing) moves what arrived in
(``TRANSFER_IN``) and records what did not (short, damaged, wrong lot). So while an order travels, its goods are
on no shelf: in transit = dispatched picks without a receipt, and center out = village in + discrepancies.
Only ``distribution.services`` writes these tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Facility, MedicalCommunity
from yigongti.pharmacy.models import Item, Lot


class OrderStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("待审核")
    APPROVED = "approved", _("已审核")
    PICKED = "picked", _("已拣货")
    DISPATCHED = "dispatched", _("配送中")
    RECEIVED = "received", _("已签收")
    PARTLY_RECEIVED = "partly_received", _("部分签收")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已取消")


class VillageOrder(models.Model):
    """A clinic's order to the community's distribution center (请领单)."""

    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="village_orders",
                                  verbose_name=_("医共体"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="village_orders", verbose_name=_("请领机构"))
    center = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("配送中心"))
    status = models.CharField(_("状态"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.DRAFT)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    reason = models.CharField(_("驳回/取消理由"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+",
                                   verbose_name=_("制单人"))
    created_at = models.DateTimeField(_("制单时间"))
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("审核人"))
    picked_at = models.DateTimeField(_("拣货时间"), null=True, blank=True)
    picked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("拣货人"))
    dispatched_at = models.DateTimeField(_("发车时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("签收人"))
    run = models.ForeignKey("DeliveryRun", models.SET_NULL, null=True, blank=True, related_name="orders",
                            verbose_name=_("配送车次"))

    class Meta:
        verbose_name = _("村卫生室请领单")
        verbose_name_plural = _("村卫生室请领单")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["center", "status"], name="dist_order_queue"),
                   models.Index(fields=["facility", "-created_at"], name="dist_order_facility")]

    def __str__(self) -> str:
        return f"QL{self.pk:06d}" if self.pk else "QL"

    @property
    def number(self) -> str:
        return str(self)


class OrderLine(models.Model):
    """One item of an order, in the item's package unit: what was suggested, asked, approved, picked, received."""

    order = models.ForeignKey(VillageOrder, models.CASCADE, related_name="lines", verbose_name=_("请领单"))
    item = models.ForeignKey(Item, models.PROTECT, related_name="+", verbose_name=_("品种"))
    suggested = models.PositiveIntegerField(_("建议数量"), default=0)
    requested = models.PositiveIntegerField(_("请领数量"))
    approved = models.PositiveIntegerField(_("核准数量"), null=True, blank=True)
    picked = models.PositiveIntegerField(_("拣货数量"), default=0)
    received = models.PositiveIntegerField(_("实收数量"), null=True, blank=True)

    class Meta:
        verbose_name = _("请领明细")
        verbose_name_plural = _("请领明细")
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["order", "item"], name="dist_line_unique")]

    def __str__(self) -> str:
        return f"{self.item} × {self.requested}"


class Pick(models.Model):
    """The lot (and its 追溯码) a line is filled from at the center."""

    line = models.ForeignKey(OrderLine, models.CASCADE, related_name="picks", verbose_name=_("请领明细"))
    lot = models.ForeignKey(Lot, models.PROTECT, related_name="+", verbose_name=_("批次"))
    quantity = models.PositiveIntegerField(_("数量"))
    trace_codes = models.JSONField(_("追溯码"), default=list, blank=True)

    class Meta:
        verbose_name = _("拣货明细")
        verbose_name_plural = _("拣货明细")
        ordering = ["line", "lot__expires_on", "pk"]

    def __str__(self) -> str:
        return f"{self.lot.number} × {self.quantity}"


class Discrepancy(models.TextChoices):
    NONE = "", _("无")
    SHORT = "short", _("短少")
    DAMAGED = "damaged", _("破损")
    WRONG_LOT = "wrong_lot", _("批号不符")


class LineReceipt(models.Model):
    """The village's confirmation of one line: what went on its shelf and what did not (one per line)."""

    line = models.OneToOneField(OrderLine, models.CASCADE, related_name="receipt", verbose_name=_("请领明细"))
    received = models.PositiveIntegerField(_("实收数量"))
    short = models.PositiveIntegerField(_("短少"), default=0)
    damaged = models.PositiveIntegerField(_("破损"), default=0)
    wrong_lot = models.CharField(_("实到批号（与拣货不符时）"), max_length=40, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+",
                           verbose_name=_("签收人"))
    at = models.DateTimeField(_("签收时间"))

    class Meta:
        verbose_name = _("签收记录")
        verbose_name_plural = _("签收记录")

    def __str__(self) -> str:
        return f"{self.line_id}: {self.received}"

    @property
    def discrepancies(self) -> list[str]:
        out = []
        if self.short:
            out.append(str(Discrepancy.SHORT.label))
        if self.damaged:
            out.append(str(Discrepancy.DAMAGED.label))
        if self.wrong_lot:
            out.append(str(Discrepancy.WRONG_LOT.label))
        return out


class RunStatus(models.TextChoices):
    PLANNED = "planned", _("已排线")
    DISPATCHED = "dispatched", _("已发车")


class DeliveryRun(models.Model):
    """One vehicle's route of a day: the center, then the stops in order, and back."""

    center = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("配送中心"))
    day = models.DateField(_("配送日期"))
    vehicle = models.CharField(_("车辆"), max_length=30)
    status = models.CharField(_("状态"), max_length=12, choices=RunStatus.choices, default=RunStatus.PLANNED)
    solver = models.CharField(_("算法"), max_length=30, blank=True)  # ortools | nearest_neighbour
    distance_m = models.FloatField(_("里程（米）"), default=0)
    duration_s = models.FloatField(_("行驶时间（秒）"), default=0)
    baseline_distance_m = models.FloatField(_("最近邻里程（米）"), default=0)  # of the whole day, for comparison
    departs_at = models.DateTimeField(_("计划发车"))
    path = models.JSONField(_("路线坐标"), default=list, blank=True)  # [[lon, lat], …] over the roads
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+",
                                   verbose_name=_("排线人"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("配送车次")
        verbose_name_plural = _("配送车次")
        ordering = ["-day", "vehicle"]

    def __str__(self) -> str:
        return f"{self.day} {self.vehicle}"


class DeliveryStop(models.Model):
    run = models.ForeignKey(DeliveryRun, models.CASCADE, related_name="stops", verbose_name=_("配送车次"))
    sequence = models.PositiveIntegerField(_("顺序"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("送达机构"))
    leg_m = models.FloatField(_("本段里程（米）"), default=0)
    eta = models.DateTimeField(_("计划到达"))

    class Meta:
        verbose_name = _("配送站点")
        verbose_name_plural = _("配送站点")
        ordering = ["run", "sequence"]
        constraints = [models.UniqueConstraint(fields=["run", "sequence"], name="dist_stop_unique")]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.sequence}"


class ShortageStatus(models.TextChoices):
    OPEN = "open", _("待答复")
    ANSWERED = "answered", _("已答复")


class ShortageAnswer(models.TextChoices):
    TRANSFER = "transfer", _("调拨")
    PROCUREMENT = "procurement", _("采购")
    SUBSTITUTE = "substitute", _("替代品种")
    UNAVAILABLE = "unavailable", _("暂无法供应")


# the center answers a shortage within this many hours (the county's rule; shown to the bureau)
ANSWER_HOURS = 48


class Shortage(models.Model):
    """缺药登记: a village or township lacks a drug (for a patient, optionally); the center answers in time."""

    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="shortages",
                                  verbose_name=_("医共体"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="shortages", verbose_name=_("登记机构"))
    item = models.ForeignKey(Item, models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("品种"))
    drug_name = models.CharField(_("药品名称"), max_length=100)
    quantity = models.PositiveIntegerField(_("需要数量"), default=1)
    resident = models.ForeignKey("residents.Resident", models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("患者"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+",
                                      verbose_name=_("登记人"))
    registered_at = models.DateTimeField(_("登记时间"))
    answer_hours = models.PositiveIntegerField(_("答复时限（小时）"), default=ANSWER_HOURS)
    due_at = models.DateTimeField(_("答复期限"))
    status = models.CharField(_("状态"), max_length=10, choices=ShortageStatus.choices, default=ShortageStatus.OPEN)
    answer = models.CharField(_("答复方式"), max_length=12, choices=ShortageAnswer.choices, blank=True)
    answer_text = models.CharField(_("答复内容"), max_length=200, blank=True)
    substitute = models.ForeignKey(Item, models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("替代品种"))
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("答复人"))
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("缺药登记")
        verbose_name_plural = _("缺药登记")
        ordering = ["-registered_at", "-pk"]
        indexes = [models.Index(fields=["community", "status", "due_at"], name="dist_shortage_due")]
        constraints = [models.CheckConstraint(
            condition=Q(status="open") | Q(answered_at__isnull=False), name="dist_shortage_answered_at")]

    def __str__(self) -> str:
        return self.drug_name

    @property
    def answer_hours_taken(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.registered_at).total_seconds() / 3600
