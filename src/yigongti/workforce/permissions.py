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


# ------------------------------------------------------------------------------------------------
# Village doctors: the doctor checks in and asks for leave; the township (its facility admin, or the
# community's managers) keeps the licence and training records, decides leave and scores the month; the
# managers define the scoring sheet.


def _clinic_of(obj):
    """The village clinic an object (Staff, Leave, Assessment, ClinicCheckIn, Training) is about."""
    if obj is None:
        return None
    facility = getattr(obj, "facility", None)
    if facility is not None:
        return facility
    staff = obj if hasattr(obj, "work_facility_id") else getattr(obj, "staff", None)
    return getattr(staff, "work_facility", None)


def _township_keeps(user, obj) -> bool:
    clinic = _clinic_of(obj)
    if has_role(user, R.FACILITY_ADMIN):
        return obj is None or at_host(user, clinic)
    if not has_role(user, R.COMMUNITY_MANAGER):
        return False
    if obj is None or user.facility_id is None:
        return True
    return clinic is not None and user.facility.community_id is not None and \
        user.facility.community_id == clinic.community_id


def _own(user, obj) -> bool:
    if not has_role(user, R.VILLAGE_DOCTOR):
        return False
    return obj is None or (user.staff_id is not None and user.staff_id == getattr(obj, "staff_id", None))


@verb("workforce.vd_check_in", _("只有乡村医生本人可以在本村卫生室签到"))
def can_vd_check_in(user, obj) -> bool:
    return _own(user, obj)


@verb("workforce.vd_leave", _("只有乡村医生本人可以提交请假申请"))
def can_vd_leave(user, obj) -> bool:
    return _own(user, obj)


@verb("workforce.vd_decide", _("只有所在乡镇卫生院的机构管理员或医共体管理人员可以审批请假"))
def can_vd_decide(user, obj) -> bool:
    return _township_keeps(user, obj)


@verb("workforce.vd_manage", _("只有所在乡镇卫生院的机构管理员或医共体管理人员可以维护乡村医生执业证书和培训记录"))
def can_vd_manage(user, obj) -> bool:
    return _township_keeps(user, obj)


@verb("workforce.vd_assess", _("只有所在乡镇卫生院的机构管理员或医共体管理人员可以评分乡村医生考核"))
def can_vd_assess(user, obj) -> bool:
    return _township_keeps(user, obj)


@verb("workforce.vd_sheet", _("只有本医共体的管理人员可以制定乡村医生考核表"))
def can_vd_sheet(user, obj) -> bool:
    return _manages(user, obj)


# ------------------------------------------------------------------------------------------------
# The talent pool: the managers set the posts and approve assignments (never the one they asked for
# themselves); a facility admin of either end (or the township above a village clinic) asks for one.


def _pool_community(obj):
    if obj is None:
        return None
    for f in ("to_facility", "facility", "from_facility"):
        fac = getattr(obj, f, None)
        if fac is not None:
            return fac.community_id
    return None


def _manages_pool(user, obj) -> bool:
    if not has_role(user, R.COMMUNITY_MANAGER):
        return False
    if obj is None or user.facility_id is None:
        return True
    return user.facility.community_id is not None and user.facility.community_id == _pool_community(obj)


@verb("workforce.posts", _("只有本医共体的管理人员可以核定编制岗位"))
def can_posts(user, obj) -> bool:
    return _manages_pool(user, obj)


@verb("workforce.assign", _("只有相关机构的机构管理员或医共体管理人员可以申请人员派用"))
def can_assign(user, obj) -> bool:
    if has_role(user, R.FACILITY_ADMIN):
        return obj is None or at_host(user, getattr(obj, "from_facility", None)) or \
            at_host(user, getattr(obj, "to_facility", None))
    return _manages_pool(user, obj)


@verb("workforce.approve_assignment", _("只有本医共体的管理人员可以审批人员派用，且不能审批本人提交的申请"))
def can_approve_assignment(user, obj) -> bool:
    if not _manages_pool(user, obj):
        return False
    return obj is None or obj.requested_by_id != user.pk
