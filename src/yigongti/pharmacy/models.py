"""The community's one catalogue of drugs and consumables, their lots, and the stock ledger of every facility.

Stock is kept in the item's package unit (盒/瓶/支 …), the unit a 追溯码 is printed on. ``StockBalance`` is the
quantity of one lot at one facility, never negative (a database constraint, so two dispensers racing for the
last box cannot both win); ``Movement`` is the append-only ledger that explains every change of a balance —
a stocktake that disagrees with the balance writes an adjustment, it never rewrites history. Only
``pharmacy.services`` writes these tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from yigongti.core.carelevel import CareLevel
from yigongti.orgs.models import Facility, MedicalCommunity


class ItemKind(models.TextChoices):
    WESTERN = "western", _("西药")
    PATENT = "patent", _("中成药")
    HERBAL = "herbal", _("中药饮片")
    CONSUMABLE = "consumable", _("医用耗材")


class AntibioticGrade(models.TextChoices):
    NONE = "", _("非抗菌药物")
    UNRESTRICTED = "unrestricted", _("非限制使用级")
    RESTRICTED = "restricted", _("限制使用级")
    SPECIAL = "special", _("特殊使用级")


class Item(models.Model):
    """One catalogue entry (a drug of one form, strength and package, or a consumable)."""

    community = models.ForeignKey(MedicalCommunity, models.PROTECT, related_name="pharmacy_items",
                                  verbose_name=_("医共体"))
    code = models.CharField(_("医保编码"), max_length=23)  # pharmacy.codes.insurance_code_error
    kind = models.CharField(_("类别"), max_length=10, choices=ItemKind.choices)
    generic_name = models.CharField(_("通用名"), max_length=100)
    trade_name = models.CharField(_("商品名"), max_length=100, blank=True)
    form = models.CharField(_("剂型"), max_length=30, blank=True)  # 片剂, 胶囊剂, 注射剂 …
    strength = models.CharField(_("规格"), max_length=60, blank=True)  # "5mg"
    package_unit = models.CharField(_("包装单位"), max_length=8, default="盒")  # stock and dispensing unit
    pack_size = models.PositiveIntegerField(_("包装数量"), default=1)  # 28 (片 per 盒)
    min_unit = models.CharField(_("最小单位"), max_length=8, default="片")
    manufacturer = models.CharField(_("生产企业"), max_length=100, blank=True)
    atc = models.CharField(_("ATC编码"), max_length=8, blank=True)  # for duplicate-therapy and class rules
    essential = models.BooleanField(_("国家基本药物"), default=False)
    vbp = models.BooleanField(_("集采品种"), default=False)  # 国家/省级集中带量采购
    antibiotic = models.CharField(_("抗菌药物分级"), max_length=12, choices=AntibioticGrade.choices, blank=True,
                                  default="")
    price = models.DecimalField(_("零售价（元/包装）"), max_digits=10, decimal_places=2)
    # the lowest care level that may stock the item (村卫生室 stock only the village catalogue)
    min_level = models.CharField(_("最低使用层级"), max_length=10, choices=CareLevel.choices,
                                 default=CareLevel.VILLAGE)
    is_active = models.BooleanField(_("在用"), default=True)
    # code, names and manufacturer lower-cased in one column: the catalogue's text filter is one LIKE
    search = models.CharField(max_length=400, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("药品耗材目录")
        verbose_name_plural = _("药品耗材目录")
        ordering = ["kind", "generic_name", "strength"]
        constraints = [models.UniqueConstraint(fields=["community", "code"], name="pharmacy_item_code_unique")]
        indexes = [models.Index(fields=["community", "kind", "generic_name"], name="pharmacy_item_kind_name")]

    def __str__(self) -> str:
        return f"{self.generic_name} {self.strength}".strip()

    def save(self, *args, **kwargs):
        self.fill_search()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search"}
        super().save(*args, **kwargs)

    def fill_search(self) -> Item:
        """Derive ``search`` (call it before a bulk insert, which skips ``save``)."""
        self.search = " ".join((self.code, self.generic_name, self.trade_name, self.manufacturer)).lower()[:400]
        return self


class Lot(models.Model):
    """A production lot (批号) of an item, with its expiry date."""

    item = models.ForeignKey(Item, models.PROTECT, related_name="lots", verbose_name=_("品种"))
    number = models.CharField(_("批号"), max_length=40)
    expires_on = models.DateField(_("有效期至"))
    manufactured_on = models.DateField(_("生产日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("批次")
        verbose_name_plural = _("批次")
        ordering = ["item", "expires_on", "number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="pharmacy_lot_unique")]

    def __str__(self) -> str:
        return f"{self.number} ({self.expires_on})"


class StockBalance(models.Model):
    """The quantity (in the item's package unit) of one lot at one facility. Never negative."""

    facility = models.ForeignKey(Facility, models.PROTECT, related_name="stock", verbose_name=_("机构"))
    item = models.ForeignKey(Item, models.PROTECT, related_name="balances", verbose_name=_("品种"))  # = lot.item
    lot = models.ForeignKey(Lot, models.PROTECT, related_name="balances", verbose_name=_("批次"))
    expires_on = models.DateField(_("有效期至"))  # = lot.expires_on, kept here so FEFO is one index scan
    quantity = models.IntegerField(_("数量"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("库存")
        verbose_name_plural = _("库存")
        ordering = ["facility", "item", "expires_on"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "lot"], name="pharmacy_balance_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="pharmacy_balance_not_negative"),
        ]
        indexes = [models.Index(fields=["facility", "item", "expires_on"], name="pharmacy_balance_fefo")]

    def __str__(self) -> str:
        return f"{self.facility_id}/{self.lot_id}: {self.quantity}"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("采购入库")
    TRANSFER_OUT = "transfer_out", _("调拨出库")
    TRANSFER_IN = "transfer_in", _("调拨入库")
    DISPENSE = "dispense", _("处方发药")
    RETURN = "return", _("退药")
    ISSUE = "issue", _("科室领用")
    SUPPLIER_RETURN = "supplier_return", _("退货")
    ADJUST = "adjust", _("盘点调整")
    EXPIRED = "expired", _("过期报损")


class Movement(models.Model):
    """One line of the stock ledger: a signed change of one lot at one facility, and why."""

    facility = models.ForeignKey(Facility, models.PROTECT, related_name="stock_movements", verbose_name=_("机构"))
    item = models.ForeignKey(Item, models.PROTECT, related_name="movements", verbose_name=_("品种"))
    lot = models.ForeignKey(Lot, models.PROTECT, related_name="movements", verbose_name=_("批次"))
    kind = models.CharField(_("类别"), max_length=16, choices=MovementKind.choices)
    quantity = models.IntegerField(_("数量"))  # signed: + in, − out
    balance_after = models.IntegerField(_("结存"))
    at = models.DateTimeField(_("时间"))
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    # what caused it: "receipt:12", "order:34", "prescription:56", "stocktake:7" — the owning app's object
    source = models.CharField(_("来源"), max_length=40, blank=True)
    # the other side of a transfer
    counterpart = models.ForeignKey(Facility, models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name=_("对方机构"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                           verbose_name=_("经办人"))

    class Meta:
        verbose_name = _("库存台账")
        verbose_name_plural = _("库存台账")
        ordering = ["facility", "-at", "-pk"]
        indexes = [
            models.Index(fields=["facility", "item", "at"], name="pharmacy_movement_item_at"),
            models.Index(fields=["facility", "kind", "at"], name="pharmacy_movement_kind_at"),
            models.Index(fields=["source"], name="pharmacy_movement_source"),
        ]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="pharmacy_movement_not_zero")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity:+d}"


class StockLimit(models.Model):
    """A facility's minimum (below it: an alert and a suggested order) and maximum for an item."""

    facility = models.ForeignKey(Facility, models.CASCADE, related_name="stock_limits", verbose_name=_("机构"))
    item = models.ForeignKey(Item, models.CASCADE, related_name="limits", verbose_name=_("品种"))
    minimum = models.PositiveIntegerField(_("库存下限"), default=0)
    maximum = models.PositiveIntegerField(_("库存上限"), null=True, blank=True)

    class Meta:
        verbose_name = _("库存上下限")
        verbose_name_plural = _("库存上下限")
        constraints = [
            models.UniqueConstraint(fields=["facility", "item"], name="pharmacy_limit_unique"),
            models.CheckConstraint(condition=Q(maximum__isnull=True) | Q(maximum__gte=F("minimum")),
                                   name="pharmacy_limit_order"),
        ]

    def __str__(self) -> str:
        return f"{self.facility_id}/{self.item_id}: {self.minimum}–{self.maximum}"


class TraceStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("在库")
    IN_TRANSIT = "in_transit", _("在途")
    DISPENSED = "dispensed", _("已发出")
    RETURNED = "returned", _("已退回")
    WRITTEN_OFF = "written_off", _("已报损")


class TraceCode(models.Model):
    """A box's 20-digit 药品追溯码: where it is now. Recorded at receipt, moved by transfers, closed by dispensing."""

    code = models.CharField(_("追溯码"), max_length=20, unique=True)  # pharmacy.codes.trace_code_error
    lot = models.ForeignKey(Lot, models.PROTECT, related_name="trace_codes", verbose_name=_("批次"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="trace_codes", verbose_name=_("所在机构"))
    status = models.CharField(_("状态"), max_length=12, choices=TraceStatus.choices, default=TraceStatus.IN_STOCK)
    # the object that last moved it: "receipt:12", "order:34", "prescription:56"
    source = models.CharField(_("来源"), max_length=40, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("药品追溯码")
        verbose_name_plural = _("药品追溯码")
        indexes = [models.Index(fields=["facility", "lot", "status"], name="pharmacy_trace_where")]

    def __str__(self) -> str:
        return self.code


class DistributionCenter(models.Model):
    """The community's drug distribution center (药品配送中心) and its shared TCM pharmacy (中药共享配送中心):
    facilities whose stock the county buys into and delivers from."""

    community = models.OneToOneField(MedicalCommunity, models.CASCADE, related_name="distribution_center",
                                     verbose_name=_("医共体"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("配送中心所在机构"))
    tcm_facility = models.ForeignKey(Facility, models.PROTECT, null=True, blank=True, related_name="+",
                                     verbose_name=_("中药共享配送中心所在机构"))

    class Meta:
        verbose_name = _("药品配送中心")
        verbose_name_plural = _("药品配送中心")

    def __str__(self) -> str:
        return str(self.facility)


# ---- 集采: suppliers, agreed volumes, purchase orders, receipts ---------------------------------------------------

class Supplier(models.Model):
    """A supplier (配送企业) the community's distribution center buys from."""

    community = models.ForeignKey(MedicalCommunity, models.CASCADE, related_name="pharmacy_suppliers",
                                  verbose_name=_("医共体"))
    name = models.CharField(_("供应商"), max_length=100)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    contact = models.CharField(_("联系人及电话"), max_length=60, blank=True)
    is_active = models.BooleanField(_("在用"), default=True)

    class Meta:
        verbose_name = _("供应商")
        verbose_name_plural = _("供应商")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="pharmacy_supplier_unique")]

    def __str__(self) -> str:
        return self.name


class Agreement(models.Model):
    """A 集采 agreed volume (约定采购量) of one item for one period, with the winning supplier and price."""

    community = models.ForeignKey(MedicalCommunity, models.CASCADE, related_name="pharmacy_agreements",
                                  verbose_name=_("医共体"))
    item = models.ForeignKey(Item, models.PROTECT, related_name="agreements", verbose_name=_("品种"))
    supplier = models.ForeignKey(Supplier, models.PROTECT, related_name="agreements", verbose_name=_("供应商"))
    batch = models.CharField(_("集采批次"), max_length=40, blank=True)  # "第九批国家集采"
    starts_on = models.DateField(_("协议期起"))
    ends_on = models.DateField(_("协议期止"))
    agreed_quantity = models.PositiveIntegerField(_("约定采购量（包装）"))
    price = models.DecimalField(_("中选价（元/包装）"), max_digits=10, decimal_places=2)
    # received so far (packages), kept by services.receive; the completion page reads it without a sum
    received_quantity = models.PositiveIntegerField(_("已到货量"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("集采协议量")
        verbose_name_plural = _("集采协议量")
        ordering = ["-starts_on", "item"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="pharmacy_agreement_period"),
            models.UniqueConstraint(fields=["item", "starts_on"], name="pharmacy_agreement_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.starts_on}–{self.ends_on}"

    @property
    def completion(self):
        return None if not self.agreed_quantity else round(100 * self.received_quantity / self.agreed_quantity, 1)


class OrderStatus(models.TextChoices):
    SENT = "sent", _("已下单")
    PARTIAL = "partial", _("部分到货")
    RECEIVED = "received", _("已到货")
    CANCELLED = "cancelled", _("已取消")


class PurchaseOrder(models.Model):
    """A purchase order (采购订单) of the distribution center to a supplier."""

    community = models.ForeignKey(MedicalCommunity, models.CASCADE, related_name="pharmacy_orders",
                                  verbose_name=_("医共体"))
    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("收货机构"))
    supplier = models.ForeignKey(Supplier, models.PROTECT, related_name="orders", verbose_name=_("供应商"))
    number = models.CharField(_("订单号"), max_length=30)
    ordered_on = models.DateField(_("下单日期"))
    status = models.CharField(_("状态"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.SENT)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                           verbose_name=_("下单人"))

    class Meta:
        verbose_name = _("采购订单")
        verbose_name_plural = _("采购订单")
        ordering = ["-ordered_on", "-pk"]
        constraints = [models.UniqueConstraint(fields=["community", "number"], name="pharmacy_order_number")]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, models.CASCADE, related_name="lines", verbose_name=_("订单"))
    item = models.ForeignKey(Item, models.PROTECT, related_name="+", verbose_name=_("品种"))
    agreement = models.ForeignKey(Agreement, models.SET_NULL, null=True, blank=True, related_name="order_lines",
                                  verbose_name=_("集采协议"))
    quantity = models.PositiveIntegerField(_("订购数量"))
    price = models.DecimalField(_("单价"), max_digits=10, decimal_places=2)
    received = models.PositiveIntegerField(_("已到货"), default=0)

    class Meta:
        verbose_name = _("订单明细")
        verbose_name_plural = _("订单明细")
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "item"], name="pharmacy_orderline_unique"),
            models.CheckConstraint(condition=Q(received__lte=F("quantity")), name="pharmacy_orderline_not_over"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} × {self.quantity}"

    @property
    def outstanding(self) -> int:
        return self.quantity - self.received


class Receipt(models.Model):
    """Goods received (入库单) at a facility: against a purchase order, lot by lot."""

    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("收货机构"))
    order = models.ForeignKey(PurchaseOrder, models.PROTECT, null=True, blank=True, related_name="receipts",
                              verbose_name=_("采购订单"))
    supplier = models.ForeignKey(Supplier, models.PROTECT, related_name="receipts", verbose_name=_("供应商"))
    received_on = models.DateField(_("到货日期"))
    invoice = models.CharField(_("发票号"), max_length=40, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                           verbose_name=_("验收人"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("入库单")
        verbose_name_plural = _("入库单")
        ordering = ["-received_on", "-pk"]
        indexes = [models.Index(fields=["facility", "received_on"], name="pharmacy_receipt_when")]

    def __str__(self) -> str:
        return f"RK{self.pk}"


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(Receipt, models.CASCADE, related_name="lines", verbose_name=_("入库单"))
    order_line = models.ForeignKey(OrderLine, models.PROTECT, null=True, blank=True, related_name="receipt_lines",
                                   verbose_name=_("订单明细"))
    item = models.ForeignKey(Item, models.PROTECT, related_name="+", verbose_name=_("品种"))
    lot = models.ForeignKey(Lot, models.PROTECT, related_name="receipt_lines", verbose_name=_("批次"))
    quantity = models.PositiveIntegerField(_("数量"))
    price = models.DecimalField(_("单价"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("入库明细")
        verbose_name_plural = _("入库明细")
        ordering = ["receipt", "pk"]

    def __str__(self) -> str:
        return f"{self.lot_id} × {self.quantity}"


class StocktakeStatus(models.TextChoices):
    OPEN = "open", _("盘点中")
    CLOSED = "closed", _("已完成")


class Stocktake(models.Model):
    """A stocktake (盘点) of a facility: counts per lot; closing posts each difference as an adjustment."""

    facility = models.ForeignKey(Facility, models.PROTECT, related_name="+", verbose_name=_("机构"))
    started_on = models.DateField(_("开始日期"))
    status = models.CharField(_("状态"), max_length=8, choices=StocktakeStatus.choices, default=StocktakeStatus.OPEN)
    closed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
                           verbose_name=_("盘点人"))

    class Meta:
        verbose_name = _("药品盘点")
        verbose_name_plural = _("药品盘点")
        ordering = ["-started_on", "-pk"]
        constraints = [models.UniqueConstraint(fields=["facility"], condition=Q(status="open"),
                                               name="pharmacy_one_open_stocktake")]

    def __str__(self) -> str:
        return f"{self.facility_id} {self.started_on}"


class StocktakeLine(models.Model):
    stocktake = models.ForeignKey(Stocktake, models.CASCADE, related_name="lines", verbose_name=_("盘点"))
    lot = models.ForeignKey(Lot, models.PROTECT, related_name="+", verbose_name=_("批次"))
    counted = models.PositiveIntegerField(_("实盘数量"))
    book = models.IntegerField(_("账面数量"), null=True, blank=True)  # at closing
    movement = models.ForeignKey(Movement, models.SET_NULL, null=True, blank=True, related_name="+",
                                 verbose_name=_("调整记录"))

    class Meta:
        verbose_name = _("盘点明细")
        verbose_name_plural = _("盘点明细")
        constraints = [models.UniqueConstraint(fields=["stocktake", "lot"], name="pharmacy_stocktake_line_unique")]

    def __str__(self) -> str:
        return f"{self.lot_id}: {self.counted}"
