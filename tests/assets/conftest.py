"""The asset tests' accounts on the cast: a facility admin (the equipment office) at the township center and one
at the other township's center, a second community manager (the approver of the manager's own requests)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.cast import PASSWORD, SYSTEM
from yigongti.orgs.models import Department, Role
from yigongti.orgs.services import create_account


def _account(name, role, facility=None, region=None):
    return create_account(actor=SYSTEM, username=name, role=role, password=PASSWORD, facility=facility,
                          region=region)[0]


@pytest.fixture
def eq(cast):
    """The equipment cast: ``eq.admin`` (township center), ``eq.other_admin`` (the other center),
    ``eq.manager2``, ``eq.far_admin`` (another county), a department of the township center."""
    class Eq:
        pass

    e = Eq()
    e.c = cast
    e.admin = _account("eq_admin", Role.FACILITY_ADMIN, cast.township_center)
    e.other_admin = _account("eq_other_admin", Role.FACILITY_ADMIN, cast.other_center)
    e.manager2 = _account("eq_manager2", Role.COMMUNITY_MANAGER, cast.county_hospital)
    e.far_admin = _account("eq_far_admin", Role.FACILITY_ADMIN, cast.far_hospital)
    e.dept = Department.objects.create(facility=cast.township_center, code="01", name="全科")
    return e


def asset_data(facility, **kw) -> dict:
    data = {"facility": facility.pk, "number": "YLSB-2024-0001", "category": "07", "name": "心电图机",
            "model": "ECG-1200", "serial": "SN123", "maker": "某医疗器械公司", "price": "12000.00",
            "funding": "fiscal", "purchased_on": "2024-03-01", "accepted_on": "2024-03-15", "status": "in_use",
            "method": "straight_line", "useful_life_years": "5"}
    data.update(kw)
    return data


TODAY = dt.date.today()
