"""The payroll and performance cast: staff with ID numbers at the county hospital, the township center and the
village clinic; a finance admin (facility admin) at the township center and one at the other center; a department
of the township center; and a helper writing a payroll file with openpyxl."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pytest

from tests.cast import PASSWORD, SYSTEM
from yigongti.core.idcard import make_id_number
from yigongti.orgs.models import Department, Profession, Role, Staff, Title
from yigongti.orgs.services import create_account

YEAR = dt.date.today().year - 1
HEADER = ["人员ID", "姓名", "身份证号", "执业证书编号", "基本工资", "绩效工资", "津贴补贴", "其他"]


def _staff(name, facility, n, profession=Profession.PHYSICIAN, dept=None, cert=None):
    return Staff.objects.create(name=name, sex="M", profession=profession, title=Title.INTERMEDIATE,
                                work_facility=facility, establishment_facility=facility, department=dept,
                                id_number=make_id_number("431127", dt.date(1980, 1, 1 + n), n, "M"),
                                certificate_number=cert)


@pytest.fixture
def pf(cast):
    dept = Department.objects.create(facility=cast.township_center, code="QK", name="全科")
    dept2 = Department.objects.create(facility=cast.township_center, code="ZY", name="中医科")
    lead = [_staff(f"县医{i}", cast.county_hospital, i) for i in range(3)]
    town = [_staff("乡医甲", cast.township_center, 10, dept=dept, cert="110000000001"),
            _staff("乡医乙", cast.township_center, 11, dept=dept2),
            _staff("乡护丙", cast.township_center, 12, Profession.NURSE, dept=dept)]
    village = [_staff("村医丁", cast.village_clinic, 20, Profession.VILLAGE_DOCTOR)]
    admin = create_account(actor=SYSTEM, username="pf_admin", role=Role.FACILITY_ADMIN, password=PASSWORD,
                           facility=cast.township_center)[0]
    other_admin = create_account(actor=SYSTEM, username="pf_other_admin", role=Role.FACILITY_ADMIN,
                                 password=PASSWORD, facility=cast.other_center)[0]
    return SimpleNamespace(lead=lead, town=town, village=village, admin=admin, other_admin=other_admin, dept=dept,
                           dept2=dept2)


def write_xlsx(path, rows, header=HEADER):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def row(s, basic=60000, perf=30000, allowance=10000, other=0, *, by="id"):
    """A file row for a staff member, matched by the platform id (``by="id"``) or by the ID number only."""
    return [str(s.pk) if by == "id" else "", s.name, s.id_number if by in ("id", "number") else "",
            s.certificate_number if by == "cert" else "", basic, perf, allowance, other]


def money(x) -> Decimal:
    return Decimal(str(x)).quantize(Decimal("0.01"))
