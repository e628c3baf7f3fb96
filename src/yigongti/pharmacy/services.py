"""The pharmacy's writes, one function per business verb: the catalogue (create, edit, import from the official
Excel lists), suppliers and 集采 agreed volumes, purchase orders of the distribution center, receipts with lot,
expiry and 追溯码, returns to the supplier, adjustments with a reason, stocktakes and stock limits.

Each checks its ``pharmacy.*`` verb outside the transaction, validates (every bad field, a Chinese reason each:
``InvalidInput``), then inside ``transaction.atomic`` locks what it changes, posts to the ledger
(``pharmacy.ledger``) and appends an audit event. A refused receipt (an expired lot, a bad 追溯码, more than
was ordered) changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from yigongti.core import audit, inputs
from yigongti.core.actor import actor_of
from yigongti.core.carelevel import CareLevel
from yigongti.core.errors import Conflict, InvalidInput, NotFound, collect
from yigongti.orgs.models import Facility, MedicalCommunity
from yigongti.orgs.permissions import check

from . import ledger
from .codes import insurance_code_error, trace_code_error
from .models import (
    Agreement,
    AntibioticGrade,
    DistributionCenter,
    Item,
    ItemKind,
    Lot,
    MovementKind,
    OrderLine,
    OrderStatus,
    PurchaseOrder,
    Receipt,
    ReceiptLine,
    StockBalance,
    StockLimit,
    Stocktake,
    StocktakeLine,
    StocktakeStatus,
    Supplier,
    TraceCode,
    TraceStatus,
)

# kinds whose every package carries a 追溯码 (中药饮片 and consumables mostly do not)
TRACED_KINDS = (ItemKind.WESTERN, ItemKind.PATENT)
ADJUST_KINDS = (MovementKind.ADJUST, MovementKind.EXPIRED)
MAX_QUANTITY = 1_000_000
PRICE_BELOW = Decimal("1e8")  # yuan per package


def _quantity(data: Mapping[str, Any], key: str, errors: dict, **kw: Any) -> int | None:
    return inputs.integer(data, key, errors, maximum=MAX_QUANTITY, **kw)


def _price(data: Mapping[str, Any], key: str, errors: dict, *, required: bool = False) -> Decimal | None:
    return inputs.money(data, key, errors, required=required, below=PRICE_BELOW, what=pgettext("in a message", "价格"))


# ---- parsing ------------------------------------------------------------------------------------------------













def center_of(community) -> DistributionCenter:
    cid = community.pk if hasattr(community, "pk") else community
    dc = DistributionCenter.objects.select_related("facility").filter(community_id=cid).first()
    if dc is None:
        raise Conflict("no_distribution_center", _("本医共体尚未设置药品配送中心"))
    return dc


# ---- the catalogue ------------------------------------------------------------------------------------------

ITEM_TEXT = {"generic_name": 100, "trade_name": 100, "form": 30, "strength": 60, "package_unit": 8,
             "min_unit": 8, "manufacturer": 100, "atc": 8}


def _item_fields(data: Mapping[str, Any], errors: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["code"] = inputs.text(data, "code", 30).upper()
    kind = inputs.text(data, "kind", 12)
    if not kind and out["code"]:
        kind = {"X": ItemKind.WESTERN, "Z": ItemKind.PATENT, "C": ItemKind.CONSUMABLE,
                "T": ItemKind.HERBAL}.get(out["code"][:1], "")
    if kind not in ItemKind.values:
        errors["kind"] = [_("请选择类别")]
    else:
        out["kind"] = kind
        problem = insurance_code_error(out["code"], kind)
        if problem:
            errors["code"] = [problem]
    for key, limit in ITEM_TEXT.items():
        out[key] = inputs.text(data, key, limit)
    if not out["generic_name"]:
        errors["generic_name"] = [_("请填写通用名")]
    out["package_unit"] = out["package_unit"] or "盒"
    out["min_unit"] = out["min_unit"] or "片"
    pack = _quantity(data, "pack_size", errors, minimum=1)
    out["pack_size"] = pack or 1
    out["price"] = _price(data, "price", errors, required=True)
    out["essential"] = inputs.flag(data.get("essential"))
    out["vbp"] = inputs.flag(data.get("vbp"))
    grade = inputs.text(data, "antibiotic", 12)
    grade = {"非限制": AntibioticGrade.UNRESTRICTED, "非限制使用级": AntibioticGrade.UNRESTRICTED,
             "限制": AntibioticGrade.RESTRICTED, "限制使用级": AntibioticGrade.RESTRICTED,
             "特殊": AntibioticGrade.SPECIAL, "特殊使用级": AntibioticGrade.SPECIAL,
             "否": "", "无": ""}.get(grade, grade)
    if grade not in AntibioticGrade.values:
        errors["antibiotic"] = [_("抗菌药物分级不正确")]
    out["antibiotic"] = grade
    level = inputs.text(data, "min_level", 10) or CareLevel.VILLAGE
    level = {"村": CareLevel.VILLAGE, "村卫生室": CareLevel.VILLAGE, "乡": CareLevel.TOWNSHIP,
             "乡镇": CareLevel.TOWNSHIP, "乡镇卫生院": CareLevel.TOWNSHIP, "县": CareLevel.COUNTY,
             "县级": CareLevel.COUNTY, "县级医院": CareLevel.COUNTY}.get(level, level)
    if level not in (CareLevel.VILLAGE, CareLevel.TOWNSHIP, CareLevel.COUNTY):
        errors["min_level"] = [_("最低使用层级应为村卫生室、乡镇卫生院或县级医院")]
    out["min_level"] = level
    if "is_active" in data:
        out["is_active"] = inputs.flag(data.get("is_active"))
    return out


def _community(obj) -> MedicalCommunity:
    if isinstance(obj, MedicalCommunity):
        return obj
    c = MedicalCommunity.objects.filter(pk=inputs.pk_of(obj)).first()
    if c is None:
        raise NotFound()
    return c


def create_item(actor, community, data: Mapping[str, Any]) -> Item:
    """A catalogue entry. ``data``: code (医保编码, valid for its kind), kind (inferred from the code's first
    letter when empty), generic_name, trade_name, form, strength, package_unit, pack_size, min_unit, manufacturer,
    atc, essential, vbp, antibiotic, price, min_level. 422 ``invalid_item``; 409 ``duplicate_code``."""
    actor = actor_of(actor)
    community = _community(community)
    check(actor, "pharmacy.catalogue", community)
    errors: dict[str, list[str]] = {}
    fields = _item_fields(data, errors)
    if "code" not in errors and Item.objects.filter(community=community, code=fields["code"]).exists():
        errors["code"] = [_("医保编码 %(c)s 已在目录中") % {"c": fields["code"]}]
    collect(errors, "invalid_item")
    try:
        with transaction.atomic():
            item = Item.objects.create(community=community, **fields)
            audit.record(actor, "create", "pharmacy_item", item.pk, code=item.code)
    except IntegrityError:
        raise Conflict("duplicate_code", _("医保编码已在目录中"), field="code") from None
    return item


def update_item(actor, item: Item, data: Mapping[str, Any]) -> Item:
    """Edit an entry (the same fields as ``create_item``; ``is_active`` to withdraw it)."""
    actor = actor_of(actor)
    check(actor, "pharmacy.catalogue", item)
    errors: dict[str, list[str]] = {}
    fields = _item_fields(data, errors)
    if "code" not in errors and Item.objects.filter(community_id=item.community_id, code=fields["code"]) \
            .exclude(pk=item.pk).exists():
        errors["code"] = [_("医保编码 %(c)s 已在目录中") % {"c": fields["code"]}]
    if fields.get("code") != item.code and item.lots.exists():
        errors["code"] = [_("已有批次入库的品种不能修改医保编码")]
    collect(errors, "invalid_item")
    with transaction.atomic():
        it = Item.objects.select_for_update().get(pk=item.pk)
        changed = sorted(k for k, v in fields.items() if getattr(it, k) != v)
        for k, v in fields.items():
            setattr(it, k, v)
        it.save()
        audit.record(actor, "update", "pharmacy_item", it.pk, changed=changed)
    return it


# the official lists' column headers (国家医保局 西药/中成药/耗材 代码库, 省平台挂网目录) → our fields
COLUMNS = {
    "医保编码": "code", "医保代码": "code", "国家医保代码": "code", "药品代码": "code", "耗材代码": "code",
    "code": "code", "类别": "kind", "kind": "kind", "通用名": "generic_name", "药品名称": "generic_name",
    "注册名称": "generic_name", "generic_name": "generic_name", "商品名": "trade_name", "商品名称": "trade_name",
    "剂型": "form", "规格": "strength", "包装单位": "package_unit", "包装数量": "pack_size", "包装": "pack_size",
    "最小单位": "min_unit", "最小包装单位": "min_unit", "生产企业": "manufacturer", "生产厂家": "manufacturer",
    "atc": "atc", "ATC编码": "atc", "基本药物": "essential", "国家基本药物": "essential", "集采": "vbp",
    "集采品种": "vbp", "抗菌药物分级": "antibiotic", "零售价": "price", "价格": "price", "挂网价": "price",
    "price": "price", "最低使用层级": "min_level", "使用层级": "min_level",
}
KIND_NAMES = {"西药": ItemKind.WESTERN, "中成药": ItemKind.PATENT, "中药饮片": ItemKind.HERBAL,
              "医用耗材": ItemKind.CONSUMABLE, "耗材": ItemKind.CONSUMABLE}
MAX_IMPORT_ROWS = 20_000


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (row, code, reasons)
    dry_run: bool = False

    @property
    def ok(self) -> int:
        return self.created + self.updated + self.unchanged


def _rows(content: bytes) -> Iterable[tuple[int, dict[str, Any]]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # a file that is not an .xlsx workbook: zip, xml and openpyxl errors alike
        raise InvalidInput("invalid_file", _("无法读取该文件，请上传 .xlsx 格式的 Excel 目录"), field="file") from None
    ws = wb.worksheets[0]
    header: dict[int, str] | None = None
    for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if header is None:
            names = {i: COLUMNS.get(str(v).strip()) for i, v in enumerate(row) if v is not None}
            if "code" in names.values() and "generic_name" in names.values():
                header = {i: k for i, k in names.items() if k}
            elif n >= 10:
                break
            continue
        if n > MAX_IMPORT_ROWS + 10:
            break
        if all(v in (None, "") for v in row):
            continue
        yield n, {k: row[i] if i < len(row) else None for i, k in header.items()}
    if header is None:
        raise InvalidInput("invalid_file", _("表头中找不到“医保编码”和“通用名”列"), field="file")


def import_catalogue(actor, community, content: bytes, *, dry_run: bool = False) -> ImportReport:
    """Import (create or update by 医保编码) the rows of an official Excel list. Bad rows are skipped and
    reported with their row number and reasons; the good ones are saved in one transaction (none with
    ``dry_run``)."""
    actor = actor_of(actor)
    community = _community(community)
    check(actor, "pharmacy.catalogue", community)
    report = ImportReport(dry_run=dry_run)
    existing = {i.code: i for i in Item.objects.filter(community=community)}
    seen: dict[str, int] = {}
    good: list[tuple[Item | None, dict[str, Any]]] = []
    for n, raw in _rows(content):
        data = dict(raw)
        if data.get("kind") in KIND_NAMES:
            data["kind"] = KIND_NAMES[data["kind"]]
        errors: dict[str, list[str]] = {}
        fields = _item_fields(data, errors)
        code = fields.get("code", "")
        if code in seen:
            errors["code"] = [_("与第 %(n)s 行的医保编码重复") % {"n": seen[code]}]
        if errors:
            report.problems.append((n, code, [m for msgs in errors.values() for m in msgs]))
            continue
        seen[code] = n
        good.append((existing.get(code), fields))
    if dry_run:
        report.created = sum(1 for it, _f in good if it is None)
        report.updated = len(good) - report.created
        return report
    with transaction.atomic():
        new = []
        for it, fields in good:
            if it is None:
                new.append(Item(community=community, **fields).fill_search())
                continue
            changed = [k for k, v in fields.items() if getattr(it, k) != v]
            if not changed:
                report.unchanged += 1
                continue
            for k in changed:
                setattr(it, k, fields[k])
            it.save()
            report.updated += 1
        Item.objects.bulk_create(new, batch_size=1000)
        report.created = len(new)
        audit.record(actor, "import", "pharmacy_item", "", community=community.pk, created=report.created,
                     updated=report.updated, problems=len(report.problems))
    return report


# ---- suppliers, agreements, purchase orders -----------------------------------------------------------------

def create_supplier(actor, community, data: Mapping[str, Any]) -> Supplier:
    actor = actor_of(actor)
    community = _community(community)
    check(actor, "pharmacy.procure", community)
    name = inputs.text(data, "name", 100)
    if not name:
        raise InvalidInput("invalid_supplier", _("请填写供应商名称"), field="name")
    with transaction.atomic():
        s, created = Supplier.objects.get_or_create(community=community, name=name, defaults={
            "credit_code": inputs.text(data, "credit_code", 18), "contact": inputs.text(data, "contact", 60)})
        if created:
            audit.record(actor, "create", "pharmacy_supplier", s.pk)
    return s


def create_agreement(actor, community, data: Mapping[str, Any]) -> Agreement:
    """An agreed volume: item, supplier, batch (集采批次), starts_on, ends_on, agreed_quantity, price."""
    actor = actor_of(actor)
    community = _community(community)
    check(actor, "pharmacy.procure", community)
    errors: dict[str, list[str]] = {}
    item = Item.objects.filter(pk=inputs.pk_of(data.get("item")), community=community).first()
    if item is None:
        errors["item"] = [_("请选择目录中的品种")]
    supplier = Supplier.objects.filter(pk=inputs.pk_of(data.get("supplier")), community=community).first()
    if supplier is None:
        errors["supplier"] = [_("请选择供应商")]
    starts = inputs.day(data, "starts_on", errors, required=True)
    ends = inputs.day(data, "ends_on", errors, required=True)
    if starts and ends and ends < starts:
        errors["ends_on"] = [_("协议期止不能早于协议期起")]
    qty = _quantity(data, "agreed_quantity", errors, minimum=1, required=True)
    price = _price(data, "price", errors, required=True)
    if item is not None and starts and Agreement.objects.filter(item=item, starts_on=starts).exists():
        errors["starts_on"] = [_("该品种本协议期已有约定采购量")]
    collect(errors, "invalid_agreement")
    assert item is not None and supplier is not None and starts and ends and qty and price is not None
    with transaction.atomic():
        a = Agreement.objects.create(community=community, item=item, supplier=supplier,
                                     batch=inputs.text(data, "batch", 40), starts_on=starts, ends_on=ends,
                                     agreed_quantity=qty, price=price)
        audit.record(actor, "create", "pharmacy_agreement", a.pk, item=item.pk, quantity=qty)
    return a


def _agreement_for(item: Item, day: dt.date) -> Agreement | None:
    return Agreement.objects.filter(item=item, starts_on__lte=day, ends_on__gte=day).first()


def _order_number(community_id: int, day: dt.date) -> str:
    prefix = f"CG{day:%Y%m%d}"
    n = PurchaseOrder.objects.filter(community_id=community_id, number__startswith=prefix).count() + 1
    return f"{prefix}{n:03d}"


def create_order(actor, community, data: Mapping[str, Any]) -> PurchaseOrder:
    """A purchase order of the distribution center: supplier, ordered_on (today), note, lines [{item, quantity,
    price (the agreement's or the catalogue's when empty)}]. A line of a 集采 item is tied to the agreement in
    force. 422 ``invalid_order``; 409 ``no_distribution_center``."""
    actor = actor_of(actor)
    community = _community(community)
    check(actor, "pharmacy.procure", community)
    dc = center_of(community)
    errors: dict[str, list[str]] = {}
    supplier = Supplier.objects.filter(pk=inputs.pk_of(data.get("supplier")), community=community).first()
    if supplier is None:
        errors["supplier"] = [_("请选择供应商")]
    day = inputs.day(data, "ordered_on", errors, default=timezone.localdate()) or timezone.localdate()
    lines: list[tuple[Item, int, Decimal, Agreement | None]] = []
    seen: set[int] = set()
    for i, raw in enumerate(data.get("lines") or []):
        e: dict[str, list[str]] = {}
        item = Item.objects.filter(pk=inputs.pk_of(raw.get("item")), community=community, is_active=True).first()
        qty = _quantity(raw, "quantity", e, minimum=1, required=True)
        price = _price(raw, "price", e)
        if item is None:
            errors[f"lines.{i}.item"] = [_("请选择目录中的在用品种")]
            continue
        if item.pk in seen:
            errors[f"lines.{i}.item"] = [_("%(i)s 重复") % {"i": item}]
        seen.add(item.pk)
        for k, msgs in e.items():
            errors[f"lines.{i}.{k}"] = msgs
        if qty:
            agreement = _agreement_for(item, day)
            lines.append((item, qty, price if price is not None else (agreement.price if agreement else item.price),
                          agreement))
    if not lines and not errors:
        errors["lines"] = [_("订单至少需要一个品种")]
    collect(errors, "invalid_order")
    assert supplier is not None
    for _attempt in range(3):
        try:
            with transaction.atomic():
                o = PurchaseOrder.objects.create(community=community, facility=dc.facility, supplier=supplier,
                                                 number=_order_number(community.pk, day), ordered_on=day,
                                                 note=inputs.text(data, "note", 200), by=actor.user)
                OrderLine.objects.bulk_create([OrderLine(order=o, item=it, quantity=q, price=p, agreement=a)
                                               for it, q, p, a in lines])
                audit.record(actor, "create", "pharmacy_order", o.pk, number=o.number, lines=len(lines))
                return o
        except IntegrityError:  # two orders numbered at the same moment
            continue
    raise Conflict("order_number", _("订单号冲突，请重试"))


def cancel_order(actor, order: PurchaseOrder) -> PurchaseOrder:
    actor = actor_of(actor)
    check(actor, "pharmacy.procure", order)
    with transaction.atomic():
        o = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
        if o.status != OrderStatus.SENT:
            raise Conflict("order_not_open", _("只能取消尚未到货的订单（当前：%(s)s）") % {"s": o.get_status_display()})
        o.status = OrderStatus.CANCELLED
        o.save(update_fields=["status"])
        audit.record(actor, "update", "pharmacy_order", o.pk, status=o.status)
    return o


# ---- receipts -----------------------------------------------------------------------------------------------

def split_codes(raw: Any) -> list[str]:
    """追溯码 as typed or scanned: a list, or text with one code a line (commas and spaces also separate)."""
    if raw is None:
        return []
    if isinstance(raw, list | tuple):
        return [str(c).strip() for c in raw if str(c).strip()]
    return [c for c in str(raw).replace(",", " ").replace("，", " ").split() if c]


def _check_codes(item: Item, codes: list[str], quantity: int | None, key: str, errors: dict,
                 taken: set[str]) -> None:
    problems: list[str] = []
    for c in codes:
        bad = trace_code_error(c)
        if bad:
            problems.append(f"{c[:24]}：{bad}")
    if problems:
        errors[key] = problems[:5]
        return
    if item.kind in TRACED_KINDS and quantity is not None and len(codes) != quantity:
        errors[key] = [_("每一包装须扫一个追溯码：数量 %(q)s，追溯码 %(n)s 个") % {"q": quantity, "n": len(codes)}]
        return
    if item.kind not in TRACED_KINDS and codes and quantity is not None and len(codes) > quantity:
        errors[key] = [_("追溯码个数（%(n)s）多于数量（%(q)s）") % {"q": quantity, "n": len(codes)}]
        return
    dups = sorted({c for c in codes if codes.count(c) > 1} | (set(codes) & taken))
    if dups:
        errors[key] = [_("追溯码重复：%(c)s") % {"c": "、".join(dups[:3])}]
        return
    prefixes = {c[:7] for c in codes}
    if len(prefixes) > 1:
        errors[key] = [_("同一品种的追溯码前 7 位（药品标识码）应相同，收到 %(p)s") % {
            "p": "、".join(sorted(prefixes))}]
        return
    known = TraceCode.objects.filter(lot__item=item).values_list("code", flat=True).first()
    if known and prefixes and known[:7] not in prefixes:
        errors[key] = [_("追溯码前 7 位 %(p)s 与该品种已登记的药品标识码 %(k)s 不符") % {
            "p": next(iter(prefixes)), "k": known[:7]}]
        return
    exist = list(TraceCode.objects.filter(code__in=codes).values_list("code", flat=True)[:3])
    if exist:
        errors[key] = [_("追溯码已登记过：%(c)s") % {"c": "、".join(exist)}]
        return
    taken.update(codes)


def receive(actor, order: PurchaseOrder, data: Mapping[str, Any]) -> Receipt:
    """Receive goods against a purchase order at its facility (the distribution center). ``data``: received_on
    (today), invoice, lines [{order_line (or item), lot (批号), expires_on, manufactured_on, quantity,
    trace_codes (a list or one a line; western and patent drugs: one per package)}].

    Refused with the reason (422 ``invalid_receipt``, each bad line's field named ``lines.<i>.<field>``): an
    expired lot (expiry on or before the day of receipt), a lot number already known with another expiry, a
    追溯码 that is not 20 digits, repeated, already registered or of another product, a quantity over what is
    still outstanding on the order. 409 ``order_closed`` for a cancelled or fully received order."""
    actor = actor_of(actor)
    check(actor, "pharmacy.receive", order.facility)
    if order.status in (OrderStatus.CANCELLED, OrderStatus.RECEIVED):
        raise Conflict("order_closed", _("订单已%(s)s，不能再入库") % {"s": order.get_status_display()})
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    day = inputs.day(data, "received_on", errors, default=today) or today
    if day > today:
        errors["received_on"] = [_("到货日期不能晚于今天")]
    if day < order.ordered_on:
        errors["received_on"] = [_("到货日期不能早于下单日期")]
    order_lines = {ol.pk: ol for ol in order.lines.select_related("item")}
    by_item = {ol.item_id: ol for ol in order_lines.values()}
    parsed: list[dict[str, Any]] = []
    wanted: dict[int, int] = {}
    codes_seen: set[str] = set()
    for i, raw in enumerate(data.get("lines") or []):
        e: dict[str, list[str]] = {}
        ol = order_lines.get(inputs.pk_of(raw.get("order_line"))) or by_item.get(inputs.pk_of(raw.get("item")))
        qty = _quantity(raw, "quantity", e, minimum=1, required=True)
        if qty == 0:
            continue
        number = inputs.text(raw, "lot", 40)
        if not number:
            e["lot"] = [_("请填写批号")]
        expires = inputs.day(raw, "expires_on", e, required=True)
        made = inputs.day(raw, "manufactured_on", e)
        if ol is None:
            e["order_line"] = [_("该品种不在此订单中")]
        if expires is not None and expires <= day:
            e["expires_on"] = [_("批号 %(n)s 已于 %(d)s 过期，拒收") % {"n": number, "d": expires}]
        if made is not None and expires is not None and made >= expires:
            e["manufactured_on"] = [_("生产日期应早于有效期")]
        if ol is not None and number and expires and "expires_on" not in e:
            lot = Lot.objects.filter(item=ol.item, number=number).first()
            if lot is not None and lot.expires_on != expires:
                e["expires_on"] = [_("批号 %(n)s 已登记的有效期为 %(d)s") % {"n": number, "d": lot.expires_on}]
        codes = split_codes(raw.get("trace_codes"))
        if ol is not None:
            _check_codes(ol.item, codes, qty, "trace_codes", e, codes_seen)
        if ol is not None and qty:
            wanted[ol.pk] = wanted.get(ol.pk, 0) + qty
            if wanted[ol.pk] > ol.outstanding:
                e["quantity"] = [_("%(i)s 超出订单：订购 %(o)s，已到 %(r)s，本次 %(n)s") % {
                    "i": ol.item, "o": ol.quantity, "r": ol.received, "n": wanted[ol.pk]}]
        for k, msgs in e.items():
            errors[f"lines.{i}.{k}"] = msgs
        if not e:
            parsed.append({"ol": ol, "qty": qty, "number": number, "expires": expires, "made": made, "codes": codes})
    if not parsed and not errors:
        errors["lines"] = [_("请至少填写一行到货")]
    collect(errors, "invalid_receipt")
    tz = timezone.get_current_timezone()
    at = timezone.now() if day == today else dt.datetime.combine(day, dt.time(10), tzinfo=tz)
    try:
        with transaction.atomic():
            o = PurchaseOrder.objects.select_for_update().get(pk=order.pk)
            if o.status in (OrderStatus.CANCELLED, OrderStatus.RECEIVED):
                raise Conflict("order_closed", _("订单已%(s)s，不能再入库") % {"s": o.get_status_display()})
            locked = {ol.pk: ol for ol in OrderLine.objects.select_for_update().filter(order=o)}
            for ol_pk, n in wanted.items():
                if locked[ol_pk].received + n > locked[ol_pk].quantity:
                    raise Conflict("over_order", _("%(i)s 超出订单未到货数量（%(n)s）") % {
                        "i": locked[ol_pk].item, "n": locked[ol_pk].outstanding}, field="quantity")
            r = Receipt.objects.create(facility=o.facility, order=o, supplier=o.supplier, received_on=day,
                                       invoice=inputs.text(data, "invoice", 40), by=actor.user)
            source = f"receipt:{r.pk}"
            for p in parsed:
                ol = locked[p["ol"].pk]
                lot, _c = Lot.objects.get_or_create(item_id=ol.item_id, number=p["number"], defaults={
                    "expires_on": p["expires"], "manufactured_on": p["made"]})
                ReceiptLine.objects.create(receipt=r, order_line=ol, item_id=ol.item_id, lot=lot,
                                           quantity=p["qty"], price=ol.price)
                ledger.post(facility=o.facility, lot=lot, quantity=p["qty"], kind=MovementKind.RECEIPT, at=at,
                            source=source, reason=o.number, by=actor.user)
                TraceCode.objects.bulk_create([TraceCode(code=c, lot=lot, facility=o.facility, source=source)
                                               for c in p["codes"]])
                OrderLine.objects.filter(pk=ol.pk).update(received=F("received") + p["qty"])
                if ol.agreement_id:
                    Agreement.objects.filter(pk=ol.agreement_id).update(
                        received_quantity=F("received_quantity") + p["qty"])
            left = sum(ol.quantity - ol.received for ol in OrderLine.objects.filter(order=o))
            o.status = OrderStatus.RECEIVED if left == 0 else OrderStatus.PARTIAL
            o.save(update_fields=["status"])
            audit.record(actor, "create", "pharmacy_receipt", r.pk, order=o.pk, lines=len(parsed),
                         packages=sum(p["qty"] for p in parsed))
    except IntegrityError:  # a 追溯码 registered by another receipt at the same moment
        raise Conflict("trace_code_taken", _("追溯码已被其他入库单登记"), field="trace_codes") from None
    return r


# ---- returns, adjustments, limits ---------------------------------------------------------------------------

def _facility(obj) -> Facility:
    if isinstance(obj, Facility):
        return obj
    f = Facility.objects.filter(pk=inputs.pk_of(obj)).first()
    if f is None:
        raise NotFound()
    return f


def _lot(data: Mapping[str, Any], errors: dict, community_id) -> Lot | None:
    lot = Lot.objects.select_related("item").filter(pk=inputs.pk_of(data.get("lot")),
                                                    item__community_id=community_id).first()
    if lot is None:
        errors["lot"] = [_("请选择批次")]
    return lot


def return_to_supplier(actor, facility, data: Mapping[str, Any]):
    """Return packages of a lot to its supplier (退货): lot, quantity, supplier, reason, trace_codes (the boxes
    sent back, western and patent drugs one per package). The 追溯码 become ``returned``."""
    actor = actor_of(actor)
    facility = _facility(facility)
    check(actor, "pharmacy.receive", facility)
    errors: dict[str, list[str]] = {}
    lot = _lot(data, errors, facility.community_id)
    qty = _quantity(data, "quantity", errors, minimum=1, required=True)
    supplier = Supplier.objects.filter(pk=inputs.pk_of(data.get("supplier")),
                                       community_id=facility.community_id).first()
    if supplier is None:
        errors["supplier"] = [_("请选择供应商")]
    reason = inputs.text(data, "reason", 200)
    if not reason:
        errors["reason"] = [_("请填写退货原因")]
    codes = split_codes(data.get("trace_codes"))
    if lot is not None and qty:
        bad = [c for c in codes if trace_code_error(c)]
        if bad:
            errors["trace_codes"] = [_("追溯码应为 20 位数字：%(c)s") % {"c": bad[0][:24]}]
        elif lot.item.kind in TRACED_KINDS and len(codes) != qty:
            errors["trace_codes"] = [_("每一包装须扫一个追溯码：数量 %(q)s，追溯码 %(n)s 个") % {
                "q": qty, "n": len(codes)}]
        elif codes:
            here = set(TraceCode.objects.filter(code__in=codes, lot=lot, facility=facility,
                                                status=TraceStatus.IN_STOCK).values_list("code", flat=True))
            missing = [c for c in codes if c not in here]
            if missing:
                errors["trace_codes"] = [_("追溯码不在本机构该批次的库存中：%(c)s") % {"c": "、".join(missing[:3])}]
    collect(errors, "invalid_return")
    assert lot is not None and qty and supplier is not None
    with transaction.atomic():
        m = ledger.post(facility=facility, lot=lot, quantity=-qty, kind=MovementKind.SUPPLIER_RETURN,
                        reason=f"{supplier}：{reason}"[:200], source=f"supplier:{supplier.pk}", by=actor.user)
        TraceCode.objects.filter(code__in=codes).update(status=TraceStatus.RETURNED, source=f"movement:{m.pk}")
        audit.record(actor, "create", "pharmacy_supplier_return", m.pk, facility=facility.pk, lot=lot.pk,
                     quantity=qty)
    return m


def adjust(actor, facility, data: Mapping[str, Any]):
    """An adjustment of one lot with a reason: quantity (signed: + found, − lost or broken), kind ``adjust``
    (盘点调整, the default) or ``expired`` (过期报损, negative only), reason (required)."""
    actor = actor_of(actor)
    facility = _facility(facility)
    check(actor, "pharmacy.adjust", facility)
    errors: dict[str, list[str]] = {}
    lot = _lot(data, errors, facility.community_id)
    qty = _quantity(data, "quantity", errors, signed=True, required=True)
    if qty == 0:
        errors["quantity"] = [_("数量不能为 0")]
    kind = inputs.text(data, "kind", 16) or MovementKind.ADJUST
    if kind not in ADJUST_KINDS:
        errors["kind"] = [_("请选择调整类别")]
    elif kind == MovementKind.EXPIRED and qty is not None and qty > 0:
        errors["quantity"] = [_("过期报损的数量应为负数")]
    reason = inputs.text(data, "reason", 200)
    if not reason:
        errors["reason"] = [_("请填写调整原因")]
    collect(errors, "invalid_adjustment")
    assert lot is not None and qty
    with transaction.atomic():
        m = ledger.post(facility=facility, lot=lot, quantity=qty, kind=kind, reason=reason, source="adjust",
                        by=actor.user)
        if kind == MovementKind.EXPIRED:
            codes = list(TraceCode.objects.filter(lot=lot, facility=facility, status=TraceStatus.IN_STOCK)
                         .values_list("pk", flat=True)[:-qty])
            TraceCode.objects.filter(pk__in=codes).update(status=TraceStatus.WRITTEN_OFF, source=f"movement:{m.pk}")
        audit.record(actor, "create", "pharmacy_adjustment", m.pk, facility=facility.pk, lot=lot.pk, quantity=qty,
                     kind=kind)
    return m


def set_limit(actor, facility, data: Mapping[str, Any]) -> StockLimit:
    """A facility's minimum and maximum of an item (item, minimum, maximum); it also puts the item on the
    facility's own list (an item above the village level that this clinic may stock). ``remove`` deletes it."""
    actor = actor_of(actor)
    facility = _facility(facility)
    check(actor, "pharmacy.limits", facility)
    errors: dict[str, list[str]] = {}
    item = Item.objects.filter(pk=inputs.pk_of(data.get("item")), community_id=facility.community_id).first()
    if item is None:
        errors["item"] = [_("请选择目录中的品种")]
    lo = _quantity(data, "minimum", errors, minimum=0) or 0
    hi = _quantity(data, "maximum", errors, minimum=0)
    if hi is not None and hi < lo:
        errors["maximum"] = [_("上限不能小于下限")]
    collect(errors, "invalid_limit")
    assert item is not None
    with transaction.atomic():
        if inputs.flag(data.get("remove")):
            StockLimit.objects.filter(facility=facility, item=item).delete()
            audit.record(actor, "delete", "pharmacy_limit", "", facility=facility.pk, item=item.pk)
            return StockLimit(facility=facility, item=item, minimum=0)
        limit, _c = StockLimit.objects.update_or_create(facility=facility, item=item,
                                                        defaults={"minimum": lo, "maximum": hi})
        audit.record(actor, "update", "pharmacy_limit", limit.pk, facility=facility.pk, item=item.pk, minimum=lo,
                     maximum=hi)
    return limit


# ---- stocktake (盘点) ----------------------------------------------------------------------------------------

def start_stocktake(actor, facility) -> Stocktake:
    """Open a stocktake of a facility (one open at a time). 409 ``stocktake_open``."""
    actor = actor_of(actor)
    facility = _facility(facility)
    check(actor, "pharmacy.adjust", facility)
    try:
        with transaction.atomic():
            st = Stocktake.objects.create(facility=facility, started_on=timezone.localdate(), by=actor.user)
            audit.record(actor, "create", "pharmacy_stocktake", st.pk, facility=facility.pk)
    except IntegrityError:
        raise Conflict("stocktake_open", _("该机构已有进行中的盘点")) from None
    return st


def record_count(actor, stocktake: Stocktake, data: Mapping[str, Any]) -> StocktakeLine:
    """The count of one lot (lot, counted); counting it again replaces the figure."""
    actor = actor_of(actor)
    check(actor, "pharmacy.adjust", stocktake.facility)
    errors: dict[str, list[str]] = {}
    lot = _lot(data, errors, stocktake.facility.community_id)
    counted = _quantity(data, "counted", errors, minimum=0, required=True)
    collect(errors, "invalid_count")
    assert lot is not None and counted is not None
    with transaction.atomic():
        st = Stocktake.objects.select_for_update().get(pk=stocktake.pk)
        if st.status != StocktakeStatus.OPEN:
            raise Conflict("stocktake_closed", _("该盘点已结束"))
        line, _c = StocktakeLine.objects.update_or_create(stocktake=st, lot=lot, defaults={"counted": counted})
    return line


def close_stocktake(actor, stocktake: Stocktake) -> Stocktake:
    """End the stocktake: each counted lot whose count differs from the balance at this moment gets an
    adjustment (``ledger.count``, source ``stocktake:<pk>``); lots not counted are left as they are."""
    actor = actor_of(actor)
    check(actor, "pharmacy.adjust", stocktake.facility)
    with transaction.atomic():
        st = Stocktake.objects.select_for_update().select_related("facility").get(pk=stocktake.pk)
        if st.status != StocktakeStatus.OPEN:
            raise Conflict("stocktake_closed", _("该盘点已结束"))
        n = 0
        for line in st.lines.select_related("lot", "lot__item").order_by("lot_id"):
            book = StockBalance.objects.filter(facility=st.facility, lot=line.lot).values_list(
                "quantity", flat=True).first() or 0
            m = ledger.count(facility=st.facility, lot=line.lot, counted=line.counted, source=f"stocktake:{st.pk}",
                             reason=_("盘点差异"), by=actor.user)
            line.book, line.movement = book, m
            line.save(update_fields=["book", "movement"])
            n += m is not None
        st.status, st.closed_at = StocktakeStatus.CLOSED, timezone.now()
        st.save(update_fields=["status", "closed_at"])
        audit.record(actor, "update", "pharmacy_stocktake", st.pk, adjustments=n)
    return st
