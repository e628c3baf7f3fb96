"""The payroll import: rows matched to staff (by id, ID number, certificate), the unmatched reported without losing
the matched, a year re-imported replaced in one transaction, and who may import what."""

from __future__ import annotations

import pytest

from tests.cast import SYSTEM, as_
from tests.performance.conftest import YEAR, money, row, write_xlsx
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.performance import payroll
from yigongti.performance.models import PayrollImport, PayrollRecord

pytestmark = pytest.mark.django_db


def test_rows_match_by_id_by_id_number_and_by_certificate(cast, pf, tmp_path):
    a, b, c = pf.town
    f = write_xlsx(tmp_path / "p.xlsx", [row(a, by="cert"), row(b, by="number"), row(c), row(pf.lead[0])])
    batch = payroll.import_payroll(f, "p.xlsx", YEAR, actor=as_(cast.manager))
    assert (batch.rows, batch.matched, batch.problems) == (4, 4, [])
    rec = PayrollRecord.objects.get(staff=b, year=YEAR)
    assert (rec.basic, rec.performance, rec.allowance, rec.other, rec.total) == (
        money(60000), money(30000), money(10000), money(0), money(100000))
    assert rec.facility == cast.township_center
    ev = AuditEvent.objects.filter(object_type="payroll_import").latest("seq")
    assert ev.detail["matched"] == 4 and ev.actor == "manager"


def test_unmatched_rows_are_reported_and_the_matched_go_in(cast, pf, tmp_path):
    a, b, _c = pf.town
    unknown = ["", "查无此人", "431127199001011234", "", 1, 2, 3, 4]
    wrong_name = row(b)
    wrong_name[1] = "别的名字"
    bad_money = row(pf.lead[1])
    bad_money[4] = "六万"
    f = write_xlsx(tmp_path / "p.xlsx", [row(a), unknown, wrong_name, bad_money, row(a),
                                                    row(pf.lead[2])])
    batch = payroll.import_payroll(f, "p.xlsx", YEAR, actor=as_(cast.manager))
    assert batch.matched == 2
    reasons = {p["row"]: p["reason"] for p in batch.problems}
    assert set(reasons) == {3, 4, 5, 6}
    assert "未找到" in reasons[3] and "姓名" in reasons[4] and "不是数字" in reasons[5] and "同一人" in reasons[6]
    assert batch.problems[0]["id"].startswith("43") and "*" in batch.problems[0]["id"]  # masked
    assert set(PayrollRecord.objects.filter(year=YEAR).values_list("staff_id", flat=True)) == {a.pk, pf.lead[2].pk}


def test_reimporting_a_year_replaces_that_years_rows_of_those_staff(cast, pf, tmp_path):
    a, b, c = pf.town
    payroll.import_payroll(write_xlsx(tmp_path / "1.xlsx", [row(a), row(b)]), "1.xlsx", YEAR, actor=SYSTEM,
                           community=cast.community)
    payroll.import_payroll(write_xlsx(tmp_path / "0.xlsx", [row(a)]), "0.xlsx", YEAR - 1, actor=SYSTEM,
                           community=cast.community)
    batch = payroll.import_payroll(write_xlsx(tmp_path / "2.xlsx", [row(a, basic=70000), row(c)]), "2.xlsx", YEAR,
                                   actor=SYSTEM, community=cast.community)
    assert batch.replaced == 1
    got = dict(PayrollRecord.objects.filter(year=YEAR).values_list("staff_id", "basic"))
    assert got == {a.pk: money(70000), b.pk: money(60000), c.pk: money(60000)}  # b untouched: not in the file
    assert PayrollRecord.objects.filter(year=YEAR - 1, staff=a, basic=money(60000)).exists()  # the other year kept


def test_a_failed_reimport_leaves_the_year_as_it_was(cast, pf, tmp_path, monkeypatch):
    a, b, _c = pf.town
    payroll.import_payroll(write_xlsx(tmp_path / "1.xlsx", [row(a), row(b)]), "1.xlsx", YEAR, actor=SYSTEM,
                           community=cast.community)
    before = list(PayrollRecord.objects.order_by("pk").values_list("staff_id", "year", "basic"))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(PayrollRecord.objects, "bulk_create", boom)
    with pytest.raises(RuntimeError):
        payroll.import_payroll(write_xlsx(tmp_path / "2.xlsx", [row(a, basic=1), row(b, basic=1)]), "2.xlsx", YEAR,
                               actor=SYSTEM, community=cast.community)
    assert list(PayrollRecord.objects.order_by("pk").values_list("staff_id", "year", "basic")) == before
    assert PayrollImport.objects.count() == 1


def test_a_facility_admin_imports_their_own_facility_only(cast, pf, tmp_path):
    f = write_xlsx(tmp_path / "p.xlsx", [row(pf.town[0]), row(pf.lead[0]), row(pf.village[0])])
    batch = payroll.import_payroll(f, "p.xlsx", YEAR, actor=as_(pf.admin))
    assert batch.matched == 1
    assert [p["reason"] for p in batch.problems] == ["该人员不在您可导入薪酬的机构"] * 2
    with pytest.raises(Forbidden):
        payroll.import_payroll(f, "p.xlsx", YEAR, actor=as_(pf.admin), facility=cast.other_center)


@pytest.mark.parametrize("who", ["township_doctor", "bureau", "city", "auditor"])
def test_others_may_not_import_payroll(cast, pf, tmp_path, who):
    f = write_xlsx(tmp_path / "p.xlsx", [row(pf.town[0])])
    with pytest.raises(Forbidden):
        payroll.import_payroll(f, "p.xlsx", YEAR, actor=as_(getattr(cast, who)))
    assert not PayrollRecord.objects.exists()


def test_a_file_without_an_identifier_column_or_with_a_bad_year_is_refused(cast, pf, tmp_path):
    f = write_xlsx(tmp_path / "p.xlsx", [["张三", 1]], header=["姓名", "基本工资"])
    with pytest.raises(InvalidInput) as e:
        payroll.import_payroll(f, "p.xlsx", YEAR, actor=as_(cast.manager))
    assert "人员ID" in e.value.message
    with pytest.raises(InvalidInput) as e:
        payroll.import_payroll(f, "p.xlsx", "明年", actor=as_(cast.manager))
    assert e.value.field == "year"


def test_the_template_and_the_example_writer_read_back(cast, pf, tmp_path):
    from decimal import Decimal

    data = payroll.write_workbook(payroll.example_rows(pf.town, lambda s: (Decimal(50000), Decimal(20000),
                                                                           Decimal(5000), Decimal(0))))
    path = tmp_path / "example.xlsx"
    path.write_bytes(data)
    batch = payroll.import_payroll(path, "example.xlsx", YEAR, actor=as_(cast.manager))
    assert batch.matched == 3 and not batch.problems
    assert PayrollRecord.objects.get(staff=pf.town[0]).total == money(75000)
    (tmp_path / "t.xlsx").write_bytes(payroll.template_xlsx())
    assert payroll.import_payroll(tmp_path / "t.xlsx", "t.xlsx", YEAR, actor=as_(cast.manager)).matched == 0
