"""The pharmacy's services: the catalogue with code validation, the Excel import's per-row report, a purchase
order and its receipts (expired lot, bad 追溯码, over the order refused with the reason), agreements' completion,
returns, adjustments, stocktakes (history kept) and who may do each."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from tests.cast import as_
from tests.pharmacy.conftest import TODAY, make_item, trace_codes
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.pharmacy import queries, services
from yigongti.pharmacy.models import (
    Agreement,
    Item,
    Movement,
    MovementKind,
    OrderStatus,
    StockBalance,
    TraceCode,
    TraceStatus,
)


def _item_data(**kw):
    d = {"code": "XC09AAC036A001010101583", "generic_name": "卡托普利片", "strength": "25mg", "pack_size": "100",
         "price": "5.20", "essential": "on", "min_level": "village"}
    d.update(kw)
    return d


def test_create_item_validates_the_insurance_code(ph):
    it = services.create_item(as_(ph.pharmacist), ph.c.community, _item_data())
    assert it.kind == "western" and it.essential and "卡托普利" in it.search
    with pytest.raises(InvalidInput) as e:
        services.create_item(as_(ph.pharmacist), ph.c.community, _item_data(code="XC09AAC036"))
    assert "23" in e.value.errors["code"][0]
    with pytest.raises(InvalidInput) as e:
        services.create_item(as_(ph.pharmacist), ph.c.community, _item_data(kind="patent"))
    assert "Z" in e.value.errors["code"][0]
    with pytest.raises(InvalidInput) as e:
        services.create_item(as_(ph.pharmacist), ph.c.community, _item_data())
    assert "已在目录中" in e.value.errors["code"][0]


def test_catalogue_is_the_departments(ph):
    with pytest.raises(Forbidden):
        services.create_item(as_(ph.township_pharmacist), ph.c.community, _item_data())
    with pytest.raises(Forbidden):
        services.create_item(as_(ph.c.village_doctor), ph.c.community, _item_data())
    with pytest.raises(Forbidden):
        services.create_item(as_(ph.far_pharmacist), ph.c.community, _item_data())
    services.create_item(as_(ph.c.manager), ph.c.community, _item_data())


def _xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["国家药品目录（测试）"])
    ws.append(["医保编码", "通用名", "规格", "剂型", "包装数量", "零售价", "基本药物", "集采", "最低使用层级", "类别"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_import_reports_bad_rows_and_saves_good_ones(ph):
    content = _xlsx([
        ["XC09AAC036A001010101583", "卡托普利片", "25mg", "片剂", 100, 5.2, "是", "否", "村", ""],
        ["ZA01AAL0123010101234", "感冒清热颗粒", "12g", "颗粒剂", 10, 15, "是", "", "村", "中成药"],
        ["XC09", "坏编码", "", "", 1, 1, "", "", "", ""],
        ["ZA01AAL0123010101234", "重复行", "", "", 1, 1, "", "", "", ""],
        ["C0201010010000009999", "一次性注射器", "5ml", "", 1, "贵", "", "", "乡", ""],
        [ph.item.code, "苯磺酸氨氯地平片", "5mg", "片剂", 28, 9.9, "是", "是", "村", ""],
    ])
    dry = services.import_catalogue(as_(ph.pharmacist), ph.c.community, content, dry_run=True)
    assert (dry.created, dry.updated, len(dry.problems)) == (2, 1, 3)
    assert Item.objects.count() == 3
    report = services.import_catalogue(as_(ph.pharmacist), ph.c.community, content)
    assert (report.created, report.updated) == (2, 1)
    rows = {n: reasons for n, _code, reasons in report.problems}
    assert set(rows) == {5, 6, 7}
    assert "23" in rows[5][0] and "重复" in rows[6][0] and "价格" in rows[7][0]
    ph.item.refresh_from_db()
    assert str(ph.item.price) == "9.90"
    with pytest.raises(InvalidInput):
        services.import_catalogue(as_(ph.pharmacist), ph.c.community, b"not a workbook")


def _order(ph, qty=10, item=None):
    return services.create_order(as_(ph.pharmacist), ph.c.community, {
        "supplier": ph.supplier.pk, "lines": [{"item": (item or ph.item).pk, "quantity": qty}]})


def _line(order, qty, lot="B100", expires=None, codes=None, start=0):
    ol = order.lines.get()
    return {"order_line": ol.pk, "quantity": qty, "lot": lot,
            "expires_on": str(expires or TODAY + dt.timedelta(days=700)),
            "trace_codes": codes if codes is not None else trace_codes(qty, start)}


def test_receipt_posts_stock_trace_codes_and_agreement_completion(ph):
    a = Agreement.objects.create(community=ph.c.community, item=ph.item, supplier=ph.supplier, agreed_quantity=40,
                                 starts_on=TODAY.replace(month=1, day=1), ends_on=TODAY.replace(month=12, day=31),
                                 price="10.00")
    o = _order(ph, 10)
    assert o.lines.get().agreement == a and str(o.lines.get().price) == "10.00"
    r = services.receive(as_(ph.pharmacist), o, {"lines": [_line(o, 6)]})
    o.refresh_from_db()
    a.refresh_from_db()
    assert o.status == OrderStatus.PARTIAL and a.received_quantity == 6 and a.completion == 15.0
    f = ph.c.county_hospital
    assert StockBalance.objects.get(facility=f, lot__number="B100").quantity == 6
    m = Movement.objects.get(facility=f, kind=MovementKind.RECEIPT)
    assert m.source == f"receipt:{r.pk}" and m.quantity == 6
    assert TraceCode.objects.filter(facility=f, status=TraceStatus.IN_STOCK).count() == 6
    services.receive(as_(ph.pharmacist), o, {"lines": [_line(o, 4, start=100)]})
    o.refresh_from_db()
    assert o.status == OrderStatus.RECEIVED
    with pytest.raises(Conflict):
        services.receive(as_(ph.pharmacist), o, {"lines": [_line(o, 1, start=200)]})


def test_receipt_refusals_each_with_the_reason(ph):
    o = _order(ph, 5)
    refused = [
        ({"expires": TODAY - dt.timedelta(days=1)}, "expires_on", "过期"),
        ({"expires": TODAY}, "expires_on", "过期"),
        ({"codes": [*trace_codes(4), "12345"]}, "trace_codes", "20 位"),
        ({"codes": trace_codes(4)}, "trace_codes", "每一包装"),
        ({"codes": [*trace_codes(4), trace_codes(1)[0]]}, "trace_codes", "重复"),
        ({"codes": [*trace_codes(4), "9990000000000000001"[:19] + "9"]}, "trace_codes", "前 7 位"),
    ]
    for kw, field, word in refused:
        with pytest.raises(InvalidInput) as e:
            services.receive(as_(ph.pharmacist), o, {"lines": [_line(o, 5, **kw)]})
        assert word in e.value.errors[f"lines.0.{field}"][0], (kw, e.value.errors)
    with pytest.raises(InvalidInput) as e:
        services.receive(as_(ph.pharmacist), o, {"lines": [_line(o, 6)]})
    assert "超出订单" in e.value.errors["lines.0.quantity"][0]
    services.receive(as_(ph.pharmacist), o, {"lines": [_line(o, 2, lot="B1")]})
    with pytest.raises(InvalidInput) as e:  # a code already registered
        services.receive(as_(ph.pharmacist), o, {"lines": [_line(o, 2, lot="B2")]})
    assert "已登记" in e.value.errors["lines.0.trace_codes"][0]
    with pytest.raises(InvalidInput) as e:  # the same lot number with another expiry
        services.receive(as_(ph.pharmacist), o, {"lines": [_line(o, 1, lot="B1", expires=TODAY + dt.timedelta(
            days=30), start=50)]})
    assert "已登记的有效期" in e.value.errors["lines.0.expires_on"][0]
    assert Movement.objects.filter(kind=MovementKind.RECEIPT).count() == 1  # nothing else posted


def test_only_the_receiving_facilitys_pharmacist_receives(ph):
    o = _order(ph, 2)
    for who in (ph.township_pharmacist, ph.c.manager, ph.c.village_doctor):
        with pytest.raises(Forbidden):
            services.receive(as_(who), o, {"lines": [_line(o, 2)]})


def test_consumables_need_no_trace_codes(ph):
    o = _order(ph, 3, item=ph.gauze)
    services.receive(as_(ph.pharmacist), o, {"lines": [_line(o, 3, codes=[])]})
    assert StockBalance.objects.get(item=ph.gauze).quantity == 3


def test_return_to_supplier_and_adjustments(ph):
    o = _order(ph, 4)
    services.receive(as_(ph.pharmacist), o, {"lines": [_line(o, 4)]})
    f = ph.c.county_hospital
    lot = StockBalance.objects.get(facility=f).lot
    with pytest.raises(InvalidInput):
        services.return_to_supplier(as_(ph.pharmacist), f, {"lot": lot.pk, "quantity": 1, "supplier": ph.supplier.pk,
                                                            "reason": "破损", "trace_codes": ["81601230000000009999"]})
    services.return_to_supplier(as_(ph.pharmacist), f, {"lot": lot.pk, "quantity": 1, "supplier": ph.supplier.pk,
                                                        "reason": "破损", "trace_codes": trace_codes(1)})
    assert TraceCode.objects.get(code=trace_codes(1)[0]).status == TraceStatus.RETURNED
    with pytest.raises(InvalidInput) as e:
        services.adjust(as_(ph.pharmacist), f, {"lot": lot.pk, "quantity": -1})
    assert "原因" in e.value.errors["reason"][0]
    services.adjust(as_(ph.pharmacist), f, {"lot": lot.pk, "quantity": -1, "reason": "摔碎"})
    assert StockBalance.objects.get(facility=f, lot=lot).quantity == 2
    with pytest.raises(Forbidden):  # a village doctor adjusts only their own clinic
        services.adjust(as_(ph.c.village_doctor), f, {"lot": lot.pk, "quantity": -1, "reason": "x"})


def test_stocktake_records_differences_as_adjustments(ph):
    from django.db import transaction

    from yigongti.pharmacy import ledger

    v = ph.c.village_clinic
    with transaction.atomic():
        ledger.post(facility=v, lot=ph.lot_late, quantity=10, kind=MovementKind.TRANSFER_IN)
        ledger.post(facility=v, lot=ph.lot_soon, quantity=3, kind=MovementKind.TRANSFER_IN)
    with pytest.raises(Forbidden):
        services.start_stocktake(as_(ph.c.other_village_doctor), v)
    st = services.start_stocktake(as_(ph.c.village_doctor), v)
    with pytest.raises(Conflict):
        services.start_stocktake(as_(ph.c.village_doctor), v)
    services.record_count(as_(ph.c.village_doctor), st, {"lot": ph.lot_late.pk, "counted": 8})
    services.record_count(as_(ph.c.village_doctor), st, {"lot": ph.lot_soon.pk, "counted": 3})
    before = Movement.objects.filter(facility=v).count()
    services.close_stocktake(as_(ph.c.village_doctor), st)
    adj = Movement.objects.get(facility=v, kind=MovementKind.ADJUST)
    assert adj.quantity == -2 and adj.source == f"stocktake:{st.pk}"
    assert Movement.objects.filter(facility=v).count() == before + 1
    line = st.lines.get(lot=ph.lot_late)
    assert line.book == 10 and line.movement == adj
    with pytest.raises(Conflict):
        services.close_stocktake(as_(ph.c.village_doctor), st)


def test_limits_alerts_and_village_counts(ph):
    from django.db import transaction

    from yigongti.pharmacy import ledger

    v = ph.c.village_clinic
    county_only = make_item(ph.c.community, "XJ01DDA001A001010101583", "头孢曲松钠注射剂", min_level="county",
                            antibiotic="restricted")
    assert not queries.may_stock(v, county_only) and queries.may_stock(v, ph.item)
    services.set_limit(as_(ph.c.village_doctor), v, {"item": ph.item.pk, "minimum": 20, "maximum": 60})
    services.set_limit(as_(ph.pharmacist), v, {"item": county_only.pk, "minimum": 0})
    assert queries.may_stock(v, county_only)
    with pytest.raises(InvalidInput):
        services.set_limit(as_(ph.c.village_doctor), v, {"item": ph.item.pk, "minimum": 5, "maximum": 2})
    with transaction.atomic():
        ledger.post(facility=v, lot=ph.lot_soon, quantity=3, kind=MovementKind.TRANSFER_IN)
        ledger.post(facility=v, lot=ph.lot_expired, quantity=2, kind=MovementKind.TRANSFER_IN)
    rows = {r.item.pk: r for r in queries.stock_rows(v)}
    r = rows[ph.item.pk]
    assert r.on_hand == 3 and r.expired == 2 and r.below_min and r.near_expiry
    assert rows[county_only.pk].on_hand == 0
    counts = {f.pk: n for f, n in queries.village_item_counts(ph.c.community)}
    assert counts == {ph.c.village_clinic.pk: 1, ph.c.other_clinic.pk: 0}
