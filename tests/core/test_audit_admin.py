"""The admin site: what it shows of people is audited, and every change of what an account may do is a
chain event."""

import pytest
from django.contrib.auth.models import Group, Permission

from tests.cast import PASSWORD, SYSTEM
from yigongti.core.audit import verify_chain
from yigongti.core.models import AuditEvent
from yigongti.orgs.models import Role, Staff, User
from yigongti.orgs.services import create_account


@pytest.fixture
def root(cast, login):
    user = create_account(actor=SYSTEM, username="root", role=Role.BUREAU, password=PASSWORD, region=cast.county)[0]
    user.is_staff = user.is_superuser = True
    user.save()
    login(user)
    return user


def _unmask() -> Permission:
    return Permission.objects.get(codename="unmask_personal_data")


def _account_form(user: User, **changes) -> dict:
    data = {
        "username": user.username, "first_name": "", "last_name": "", "email": "", "display_name": user.display_name,
        "role": user.role, "staff": user.staff_id or "", "facility": user.facility_id or "",
        "region": user.region_id or "", "is_active": "on", "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00", "last_login_0": "", "last_login_1": "", "groups": [],
        "user_permissions": list(user.user_permissions.values_list("pk", flat=True)), "_save": "保存",
    }
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_staff_list_and_a_staff_page_in_the_admin_are_audited(cast, client, root):
    staff = Staff.objects.first()
    assert client.get("/admin/orgs/staff/", {"q": staff.name}).status_code == 200
    listed = AuditEvent.objects.get(action="list", object_type="staff")
    assert listed.actor == "root" and listed.detail["via"] == "admin" and listed.detail["searched"] is True
    assert listed.detail["shown"] >= 1
    assert staff.name not in str(listed.detail)  # the search term stays out of the log
    assert client.get(f"/admin/orgs/staff/{staff.pk}/change/").status_code == 200
    assert AuditEvent.objects.filter(action="view", object_type="staff", object_id=str(staff.pk)).exists()


def test_the_account_list_and_an_account_page_in_the_admin_are_audited(cast, client, root):
    assert client.get("/admin/orgs/user/").status_code == 200
    assert AuditEvent.objects.filter(action="list", object_type="account", actor="root").exists()
    assert client.get(f"/admin/orgs/user/{cast.village_doctor.pk}/change/").status_code == 200
    assert AuditEvent.objects.filter(action="view", object_type="account",
                                     object_id=str(cast.village_doctor.pk)).exists()


def test_changing_an_accounts_role_in_the_admin_is_a_privilege_event(cast, client, root):
    user = cast.village_doctor
    r = client.post(f"/admin/orgs/user/{user.pk}/change/", _account_form(user, role=Role.FACILITY_ADMIN))
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    ev = AuditEvent.objects.get(action="privilege", object_type="account", object_id=str(user.pk))
    assert ev.actor == "root" and ev.detail["changes"] == {"role": ["village_doctor", "facility_admin"]}
    assert verify_chain().ok


def test_granting_the_unmask_privilege_and_superuser_in_the_admin_are_privilege_events(cast, client, root):
    user = cast.township_doctor
    form = _account_form(user, user_permissions=[_unmask().pk], is_superuser="on", is_staff="on")
    assert client.post(f"/admin/orgs/user/{user.pk}/change/", form).status_code == 302
    changes = AuditEvent.objects.get(action="privilege", object_id=str(user.pk)).detail["changes"]
    assert changes["unmask"] == [False, True]
    assert changes["permissions"] == [[], ["orgs.unmask_personal_data"]]
    assert changes["is_superuser"] == [False, True] and changes["is_staff"] == [False, True]


def test_putting_an_account_in_a_group_in_the_admin_is_a_privilege_event(cast, client, root):
    group = Group.objects.create(name="可查看证件号")
    group.permissions.add(_unmask())
    user = cast.village_doctor
    assert client.post(f"/admin/orgs/user/{user.pk}/change/", _account_form(user, groups=[group.pk])).status_code == 302
    changes = AuditEvent.objects.get(action="privilege", object_id=str(user.pk)).detail["changes"]
    assert changes == {"groups": [[], ["可查看证件号"]], "unmask": [False, True]}


def test_saving_an_account_without_changing_privileges_adds_no_privilege_event(cast, client, root):
    user = cast.village_doctor
    assert client.post(f"/admin/orgs/user/{user.pk}/change/", _account_form(user, first_name="王")).status_code == 302
    assert not AuditEvent.objects.filter(action="privilege").exists()
    fields = AuditEvent.objects.get(action="update", object_type="account").detail["fields"]
    assert "first_name" in fields and "role" not in fields  # names of the fields changed, not values


def test_changing_a_groups_permissions_in_the_admin_is_a_privilege_event(cast, client, root):
    group = Group.objects.create(name="药房")
    cast.village_doctor.groups.add(group)
    r = client.post(f"/admin/auth/group/{group.pk}/change/", {"name": "药房", "permissions": [_unmask().pk]})
    assert r.status_code == 302
    ev = AuditEvent.objects.get(action="privilege", object_type="group", object_id=str(group.pk))
    assert ev.detail["changes"] == {"permissions": [[], ["orgs.unmask_personal_data"]]} and ev.detail["members"] == 1


def test_resetting_a_password_in_the_admin_is_a_privilege_event(cast, client, root):
    user = cast.village_doctor
    new = "Xin-mima-2026-qiang!"
    r = client.post(f"/admin/orgs/user/{user.pk}/password/", {"password1": new, "password2": new,
                                                              "usable_password": "true"})
    assert r.status_code == 302, r.content.decode()[:2000]
    ev = AuditEvent.objects.get(action="privilege", object_id=str(user.pk))
    assert ev.detail["changes"] == {"password": "reset"} and new not in str(ev.detail)
