"""Who may write what in the workforce app. Registered in ``WorkforceConfig.ready``.

The community's managers plan: postings, availability, the month's rota (generate, edit, publish). A township's
facility admin (or the managers) files the township's requests for its own facility and those under it. The
posted expert checks in on their own day; the host confirms it: the admin or a doctor of the host facility or of
the township center above a village clinic, never the expert. With ``None`` only the role is tested."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.core.carelevel import CareLevel, care_level
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role


def _community_id(obj):
    """The community an object (a Posting, a Request, a Rota, a Facility) belongs to, or None."""
    if obj is None:
        return None
    if hasattr(obj, "community_id") and not hasattr(obj, "host_id"):
        return obj.community_id
    host = getattr(obj, "host", None)
    return getattr(host, "community_id", None)


def _manages(user, obj) -> bool:
    if not has_role(user, R.COMMUNITY_MANAGER):
        return False
    if obj is None or user.facility_id is None:
        return True
    return user.facility.community_id is not None and user.facility.community_id == _community_id(obj)


def at_host(user, host) -> bool:
    """Whether the user works at the host facility or at the facility directly above it (the township center of
    a village clinic)."""
    if host is None or user.facility_id is None:
        return False
    if user.facility_id == host.pk:
        return True
    return care_level(host.type) == CareLevel.VILLAGE and user.facility_id == host.parent_id


@verb("workforce.plan", _("只有本医共体的管理人员可以安排专家下沉和月度排班"))
def can_plan(user, obj) -> bool:
    return _manages(user, obj)


@verb("workforce.request", _("只有乡镇卫生院的机构管理员或医共体管理人员可以填报下沉需求"))
def can_request(user, req) -> bool:
    if has_role(user, R.FACILITY_ADMIN):
        return req is None or at_host(user, getattr(req, "host", None))
    return _manages(user, req)


@verb("workforce.check_in", _("只有被派驻的专家本人可以签到"))
def can_check_in(user, day) -> bool:
    if not has_role(user, R.DOCTOR, R.NURSE):
        return False
    return day is None or (user.staff_id is not None and user.staff_id == day.staff_id)


@verb("workforce.confirm", _("只有派驻机构（或其上级乡镇卫生院）的管理员或医生可以确认专家到岗"))
def can_confirm(user, day) -> bool:
    if not has_role(user, R.FACILITY_ADMIN, R.DOCTOR):
        return False
    if day is None:
        return True
    return at_host(user, day.host) and user.staff_id != day.staff_id
