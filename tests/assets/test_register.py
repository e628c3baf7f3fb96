"""The register, maintenance, transfers and disposals through the services, as the roles that keep them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.assets.conftest import asset_data
from tests.cast import SYSTEM, as_
from yigongti.assets import queries, services
from yigongti.assets.models import AssetStatus, DisposalStatus, Transfer
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_facility_admin_registers_an_ecg_machine_at_a_village_clinic_under_their_center(eq):
    a = services.register_asset(as_(eq.admin), asset_data(eq.c.village_clinic, custodian=eq.c.village_doctor.staff_id))
    assert (a.facility, a.community, a.status, a.custodian) == (
        eq.c.village_clinic, eq.c.community, AssetStatus.IN_USE, eq.c.village_doctor.staff)
    assert AuditEvent.objects.filter(action="create", object_type="asset", object_id=str(a.pk)).exists()


def test_an_asset_number_used_twice_in_the_community_is_refused_with_the_holder(eq):
    services.register_asset(as_(eq.admin), asset_data(eq.c.township_center))
    with pytest.raises(InvalidInput) as e:
        services.register_asset(as_(eq.other_admin), asset_data(eq.c.other_center, name="监护仪"))
    assert "YLSB-2024-0001 已被使用" in e.value.errors["number"][0] and "塔峰镇卫生院" in e.value.errors["number"][0]


def test_the_same_number_in_another_community_is_fine(eq):
    services.register_asset(as_(eq.admin), asset_data(eq.c.township_center))
    services.register_asset(as_(eq.far_admin), asset_data(eq.c.far_hospital))


def test_a_facility_admin_cannot_register_at_another_township(eq):
    with pytest.raises(Forbidden):
        services.register_asset(as_(eq.admin), asset_data(eq.c.other_center))
    assert AuditEvent.objects.filter(action="denied", detail__attempted="assets.register").exists()


def test_a_doctor_cannot_register_assets(eq):
    with pytest.raises(Forbidden):
        services.register_asset(as_(eq.c.township_doctor), asset_data(eq.c.township_center))


def test_bad_input_names_every_field_in_chinese(eq):
    with pytest.raises(InvalidInput) as e:
        services.register_asset(as_(eq.admin), asset_data(
            eq.c.township_center, number="", category="99", price="abc", accepted_on="2024-02-01",
            useful_life_years=""))
    errs = e.value.errors
    assert set(errs) >= {"number", "category", "price", "accepted_on"}
    assert errs["accepted_on"] == ["验收日期不能早于购置日期"]


def test_straight_line_without_a_useful_life_is_refused(eq):
    with pytest.raises(InvalidInput) as e:
        services.register_asset(as_(eq.admin), asset_data(eq.c.township_center, useful_life_years=""))
    assert "使用年限" in e.value.errors["useful_life_years"][0]


def test_setting_scrapped_by_hand_is_refused_a_disposal_needs_approval(eq):
    with pytest.raises(InvalidInput) as e:
        services.register_asset(as_(eq.admin), asset_data(eq.c.township_center, status="scrapped"))
    assert "报废须提交报废申请" in e.value.errors["status"][0]
    a = services.register_asset(as_(eq.admin), asset_data(eq.c.township_center))
    with pytest.raises(InvalidInput):
        services.update_asset(as_(eq.admin), a, asset_data(eq.c.township_center, status="scrapped"))


def test_units_of_use_beyond_the_planned_total_are_refused(eq):
    a = services.register_asset(as_(eq.admin), asset_data(
        eq.c.township_center, method="units", planned_units="1000", useful_life_years="", accepted_on="2024-03-15"))
    services.record_usage(as_(eq.admin), a, {"month": "2024-04", "units": "600"})
    services.record_usage(as_(eq.admin), a, {"month": "2024-04", "units": "700"})  # replaces that month
    with pytest.raises(InvalidInput) as e:
        services.record_usage(as_(eq.admin), a, {"month": "2024-05", "units": "301"})
    assert e.value.code == "beyond_price" and "超过预计总工作量" in e.value.message
    d = queries.asset_detail(a, dt.date(2024, 12, 31))
    assert d["accumulated"] == Decimal("8400.00")  # 12 000 × 700 / 1 000
    with pytest.raises(InvalidInput):  # lowering the plan below what is used would pass the price
        services.update_asset(as_(eq.admin), a, asset_data(eq.c.township_center, method="units", planned_units="500"))


def test_maintenance_sets_the_due_date_and_the_overdue_list_shows_it(eq):
    a = services.register_asset(as_(eq.admin), asset_data(eq.c.township_center))
    today = dt.date.today()
    services.record_maintenance(as_(eq.admin), a, {"kind": "calibration", "done_on": str(today - dt.timedelta(400)),
                                                   "next_due": str(today - dt.timedelta(35))})
    a.refresh_from_db()
    assert a.calibration_due == today - dt.timedelta(35)
    assert list(queries.overdue_assets(eq.admin)) == [a]
    services.record_maintenance(as_(eq.admin), a, {"kind": "calibration", "done_on": str(today),
                                                   "next_due": str(today + dt.timedelta(365))})
    assert list(queries.overdue_assets(eq.admin)) == []
    assert a.maintenance.count() == 2


def test_maintenance_in_the_future_or_due_before_it_was_done_is_refused(eq):
    a = services.register_asset(as_(eq.admin), asset_data(eq.c.township_center))
    today = dt.date.today()
    with pytest.raises(InvalidInput) as e:
        services.record_maintenance(as_(eq.admin), a, {"kind": "maintenance", "done_on": str(today + dt.timedelta(2)),
                                                       "next_due": str(today)})
    assert "done_on" in e.value.errors


def test_a_manager_transfers_an_asset_and_the_history_is_kept(eq):
    a = services.register_asset(as_(eq.admin), asset_data(eq.c.township_center, department=eq.dept.pk))
    services.transfer_asset(as_(eq.c.manager), a, {"to_facility": eq.c.other_center.pk,
                                                   "moved_on": str(dt.date.today())})
    a.refresh_from_db()
    assert (a.facility, a.department) == (eq.c.other_center, None)
    t = Transfer.objects.get(asset=a)
    assert (t.from_facility, t.to_facility, t.from_department) == (eq.c.township_center, eq.c.other_center, eq.dept)
    assert a in queries.assets_visible_to(eq.other_admin) and a not in queries.assets_visible_to(eq.admin)


def test_a_transfer_out_of_the_community_is_refused(eq):
    a = services.register_asset(as_(eq.admin), asset_data(eq.c.township_center))
    with pytest.raises(InvalidInput) as e:
        services.transfer_asset(as_(eq.c.manager), a, {"to_facility": eq.c.far_hospital.pk})
    assert "本医共体" in e.value.errors["to_facility"][0]
    with pytest.raises(Forbidden):
        services.transfer_asset(as_(eq.admin), a, {"to_facility": eq.c.other_center.pk})


def test_a_disposal_is_requested_by_one_and_approved_by_another(eq):
    a = services.register_asset(as_(eq.admin), asset_data(eq.c.township_center))
    d = services.request_disposal(as_(eq.admin), a, {"reason": "主板损坏，维修费用超过原值一半"})
    a.refresh_from_db()
    assert a.status == AssetStatus.IN_USE  # unchanged until approved
    with pytest.raises(Forbidden):  # the facility admin may not approve
        services.decide_disposal(as_(eq.admin), d, True)
    services.decide_disposal(as_(eq.c.manager), d, True)
    a.refresh_from_db()
    d.refresh_from_db()
    assert (a.status, d.status, d.decided_by) == (AssetStatus.SCRAPPED, DisposalStatus.APPROVED, eq.c.manager)
    with pytest.raises(Conflict):
        services.decide_disposal(as_(eq.manager2), d, False, {"note": "x"})
    with pytest.raises(Conflict):
        services.update_asset(as_(eq.admin), a, asset_data(eq.c.township_center))


def test_a_manager_cannot_approve_their_own_disposal(eq):
    a = services.register_asset(as_(eq.c.manager), asset_data(eq.c.township_center))
    d = services.request_disposal(as_(eq.c.manager), a, {"reason": "淘汰"})
    with pytest.raises(Forbidden) as e:
        services.decide_disposal(as_(eq.c.manager), d, True)
    assert "不能审批自己" in e.value.message
    with pytest.raises(Conflict):  # a second request while one is pending
        services.request_disposal(as_(eq.admin), a, {"reason": "再次"})
    services.decide_disposal(as_(eq.manager2), d, False, {"note": "尚可维修"})
    d.refresh_from_db()
    assert d.status == DisposalStatus.REJECTED


def test_who_sees_which_assets(eq):
    mine = services.register_asset(SYSTEM, asset_data(eq.c.village_clinic))
    other = services.register_asset(SYSTEM, asset_data(eq.c.other_center, number="B-1"))
    far = services.register_asset(SYSTEM, asset_data(eq.c.far_hospital, number="C-1"))
    assert set(queries.assets_visible_to(eq.admin)) == {mine}
    assert set(queries.assets_visible_to(eq.c.manager)) == {mine, other}
    assert set(queries.assets_visible_to(eq.c.bureau)) == {mine, other}
    assert set(queries.assets_visible_to(eq.far_admin)) == {far}
    assert not queries.assets_visible_to(eq.c.village_doctor).exists()
    assert not queries.assets_visible_to(eq.c.outsider).exists()
