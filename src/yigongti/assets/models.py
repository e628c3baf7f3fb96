"""The fixed-asset register of medical equipment (《固定资产（医疗设备）登记表》): assets, their monthly units of use,
maintenance and calibration records, transfers between member facilities and disposals (报废) with approval.

Rules of one row live here (the disposal's moves); depreciation is computed by the pure functions of
``assets.depreciation`` from the fields kept here."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Department, Facility, MedicalCommunity, Staff


class AssetStatus(models.TextChoices):
    IN_USE = "in_use", _("在用")
    IDLE = "idle", _("闲置")
    REPAIR = "repair", _("维修")
    SCRAPPED = "scrapped", _("报废")


class Method(models.TextChoices):
    STRAIGHT_LINE = "straight_line", _("年限平均法")
    UNITS = "units", _("工作量法")


class Funding(models.TextChoices):
    FISCAL = "fiscal", _("财政拨款")
    SPECIAL = "special", _("专项资金")
    OWN = "own", _("单位自有资金")
    DONATION = "donation", _("捐赠")
    OTHER = "other", _("其他")


class Asset(models.Model):
    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="assets", verbose_name=_("医共体"))
    number = models.CharField(_("资产编号"), max_length=40)
    category = models.CharField(_("设备分类"), max_length=8)  # assets.categories (医疗器械分类目录 2017)
    name = models.CharField(_("设备名称"), max_length=100)
    model = models.CharField(_("规格型号"), max_length=100, blank=True)
    serial = models.CharField(_("出厂编号"), max_length=100, blank=True)
    maker = models.CharField(_("生产厂家"), max_length=100, blank=True)
    price = models.DecimalField(_("原值（元）"), max_digits=12, decimal_places=2)
    funding = models.CharField(_("资金来源"), max_length=10, choices=Funding.choices, default=Funding.FISCAL)
    purchased_on = models.DateField(_("购置日期"))
    accepted_on = models.DateField(_("验收日期"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="assets", verbose_name=_("使用机构"))
    department = models.ForeignKey(Department, models.SET_NULL, null=True, blank=True, related_name="assets",
                                   verbose_name=_("使用科室"))
    custodian = models.ForeignKey(Staff, models.SET_NULL, null=True, blank=True, related_name="assets",
                                  verbose_name=_("保管人"))
    status = models.CharField(_("状态"), max_length=10, choices=AssetStatus.choices, default=AssetStatus.IN_USE)
    method = models.CharField(_("折旧方法"), max_length=16, choices=Method.choices, default=Method.STRAIGHT_LINE)
    useful_life_years = models.PositiveSmallIntegerField(_("使用年限（年）"), null=True, blank=True)
    planned_units = models.PositiveIntegerField(_("预计总工作量"), null=True, blank=True)
    unit_name = models.CharField(_("工作量单位"), max_length=10, blank=True)  # 例次, 小时 …
    # the earliest open due date of each kind, kept by the maintenance service (the overdue filter reads them)
    maintenance_due = models.DateField(_("下次保养日期"), null=True, blank=True)
    calibration_due = models.DateField(_("下次计量校准日期"), null=True, blank=True)
    # the diagnosis centers' registry entry of this machine (an ECG machine, a modality), when it sends to them
    device = models.OneToOneField("telemedicine.Device", models.SET_NULL, null=True, blank=True, related_name="asset",
                                  verbose_name=_("诊断设备登记"))
    # number, name, model, serial and maker lower-cased in one column: the list's text filter is one LIKE
    search = models.CharField(max_length=460, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("医学装备")
        verbose_name_plural = _("医学装备")
        ordering = ["facility_id", "number"]
        constraints = [models.UniqueConstraint(fields=["community", "number"], name="asset_number_unique")]
        indexes = [
            models.Index(fields=["facility", "number"], name="asset_facility_number"),
            models.Index(fields=["community", "status", "number"], name="asset_status_number"),
            models.Index(fields=["maintenance_due"], name="asset_maintenance_due"),
            models.Index(fields=["calibration_due"], name="asset_calibration_due"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def save(self, *args, **kwargs):
        self.fill_search()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search"}
        super().save(*args, **kwargs)

    def fill_search(self) -> Asset:
        """Derive ``search`` (call it before a bulk insert, which skips ``save``)."""
        self.search = " ".join((self.number, self.name, self.model, self.serial, self.maker)).lower()[:460]
        return self


class Usage(models.Model):
    """The units of use of one month (工作量法): examinations, hours …"""

    asset = models.ForeignKey(Asset, models.CASCADE, related_name="usages", verbose_name=_("设备"))
    month = models.DateField(_("月份"))  # the first day of the month
    units = models.PositiveIntegerField(_("工作量"))

    class Meta:
        verbose_name = _("工作量")
        verbose_name_plural = _("工作量")
        ordering = ["asset", "month"]
        constraints = [models.UniqueConstraint(fields=["asset", "month"], name="asset_usage_month_unique")]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.month:%Y-%m} {self.units}"


class MaintenanceKind(models.TextChoices):
    MAINTENANCE = "maintenance", _("保养")
    REPAIR = "repair", _("维修")
    CALIBRATION = "calibration", _("计量校准")


class Maintenance(models.Model):
    asset = models.ForeignKey(Asset, models.CASCADE, related_name="maintenance", verbose_name=_("设备"))
    kind = models.CharField(_("类别"), max_length=12, choices=MaintenanceKind.choices)
    done_on = models.DateField(_("日期"))
    by = models.CharField(_("实施单位/人员"), max_length=100, blank=True)
    result = models.CharField(_("结果"), max_length=200, blank=True)
    cost = models.DecimalField(_("费用（元）"), max_digits=10, decimal_places=2, null=True, blank=True)
    next_due = models.DateField(_("下次到期"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("维护与计量记录")
        verbose_name_plural = _("维护与计量记录")
        ordering = ["asset", "-done_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.done_on}"


class Transfer(models.Model):
    """A move between member facilities (调拨); the asset's facility changes, the row stays as history."""

    asset = models.ForeignKey(Asset, models.CASCADE, related_name="transfers", verbose_name=_("设备"))
    moved_on = models.DateField(_("调拨日期"))
    from_facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("调出机构"))
    to_facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("调入机构"))
    from_department = models.ForeignKey(Department, models.SET_NULL, null=True, blank=True, related_name="+")
    to_department = models.ForeignKey(Department, models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(_("说明"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("调拨记录")
        verbose_name_plural = _("调拨记录")
        ordering = ["asset", "-moved_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.asset_id} → {self.to_facility_id} {self.moved_on}"


class DisposalStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已驳回")


# The disposal's moves: from a status, which decisions lead where. A decision on anything but a pending request
# is refused (assets.services.decide_disposal).
DISPOSAL_MOVES = {DisposalStatus.REQUESTED: {DisposalStatus.APPROVED, DisposalStatus.REJECTED}}


class Disposal(models.Model):
    asset = models.ForeignKey(Asset, models.CASCADE, related_name="disposals", verbose_name=_("设备"))
    status = models.CharField(_("状态"), max_length=10, choices=DisposalStatus.choices,
                              default=DisposalStatus.REQUESTED)
    reason = models.CharField(_("报废原因"), max_length=300)
    requested_on = models.DateField(_("申请日期"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("申请人"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("审批人"))
    decided_on = models.DateField(_("审批日期"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("报废申请")
        verbose_name_plural = _("报废申请")
        ordering = ["asset", "-requested_on", "-pk"]
        constraints = [models.UniqueConstraint(fields=["asset"], condition=models.Q(status="requested"),
                                               name="asset_one_pending_disposal")]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.get_status_display()}"

    def may_move_to(self, status: str) -> bool:
        return status in DISPOSAL_MOVES.get(DisposalStatus(self.status), set())


class StocktakeStatus(models.TextChoices):
    OPEN = "open", _("盘点中")
    CLOSED = "closed", _("已结束")


class Stocktake(models.Model):
    """A stocktake (盘点) of one facility: assets scanned by their QR label (or typed), then closed; what was expected
    and not found is the result (``queries.stocktake_summary``)."""

    facility = models.ForeignKey(Facility, models.PROTECT, related_name="stocktakes", verbose_name=_("盘点机构"))
    status = models.CharField(_("状态"), max_length=10, choices=StocktakeStatus.choices,
                              default=StocktakeStatus.OPEN)
    started_on = models.DateField(_("开始日期"))
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    closed_on = models.DateField(_("结束日期"), null=True, blank=True)
    expected = models.PositiveIntegerField(_("应盘数量"), default=0)  # filled on closing
    missing = models.JSONField(_("未盘到"), default=list, blank=True)  # asset pks, filled on closing

    class Meta:
        verbose_name = _("盘点")
        verbose_name_plural = _("盘点")
        ordering = ["-started_on", "-pk"]
        constraints = [models.UniqueConstraint(fields=["facility"], condition=models.Q(status="open"),
                                               name="asset_one_open_stocktake")]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.started_on}"


class StocktakeLine(models.Model):
    stocktake = models.ForeignKey(Stocktake, models.CASCADE, related_name="lines", verbose_name=_("盘点"))
    asset = models.ForeignKey(Asset, models.CASCADE, related_name="+", verbose_name=_("设备"))
    found_at = models.DateTimeField(_("盘点时间"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    elsewhere = models.BooleanField(_("账实不符（登记在其他机构）"), default=False)

    class Meta:
        verbose_name = _("盘点记录")
        verbose_name_plural = _("盘点记录")
        ordering = ["stocktake", "-found_at"]
        constraints = [models.UniqueConstraint(fields=["stocktake", "asset"], name="asset_stocktake_line_unique")]

    def __str__(self) -> str:
        return f"{self.stocktake_id} {self.asset_id}"
