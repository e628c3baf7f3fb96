"""Who may write payroll and performance data, by role and by object. Registered in ``PerformanceConfig.ready``.

There is no finance role in ``orgs.Role``: the finance office (财务科) and the performance office (绩效办) work under
a facility admin account at their facility, or under a community manager's for the whole community (财务统一管理).
A facility admin imports (and reads) the payroll of their own facility only — pay is sensitive —, and enters the
patient satisfaction of their facility and of those directly under it; the scheme and the monthly scoring are the
community's (its managers). The bureau and the
city read aggregates only.

With ``obj=None`` (the role × verb table, a page deciding whether to show a button) only the role is tested."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role


def community_of_user(user) -> int | None:
    return user.facility.community_id if getattr(user, "facility_id", None) else None


def keeps(user, facility) -> bool:
    """Whether the user keeps the finance data of this facility (None: only the role is asked)."""
    if facility is None:
        return has_role(user, R.FACILITY_ADMIN, R.COMMUNITY_MANAGER)
    if has_role(user, R.FACILITY_ADMIN):
        return user.facility_id is not None and user.facility_id in (facility.pk, facility.parent_id)
    if has_role(user, R.COMMUNITY_MANAGER):
        community = community_of_user(user)
        return community is not None and facility.community_id == community
    return False


def _facility(obj):
    return getattr(obj, "facility", obj) if obj is not None and not hasattr(obj, "type") else obj


def keeps_payroll(user, facility) -> bool:
    """Whether the user keeps the payroll of this facility: a facility admin their own facility only."""
    if facility is not None and has_role(user, R.FACILITY_ADMIN):
        return user.facility_id is not None and user.facility_id == facility.pk
    return keeps(user, facility)


@verb("performance.import_payroll", _("只有机构管理员（财务）或医共体管理人员可以导入本机构的年度薪酬"))
def can_import_payroll(user, facility) -> bool:
    return keeps_payroll(user, facility)


@verb("performance.edit_scheme", _("只有本医共体的管理人员可以制定和修改绩效方案"))
def can_edit_scheme(user, scheme) -> bool:
    if not has_role(user, R.COMMUNITY_MANAGER):
        return False
    return scheme is None or community_of_user(user) == getattr(scheme, "community_id", None)


@verb("performance.score", _("只有本医共体的管理人员可以计算月度绩效考核"))
def can_score(user, scheme) -> bool:
    return can_edit_scheme(user, scheme)


@verb("performance.enter_satisfaction", _("只有机构管理员或医共体管理人员可以录入本机构的患者满意度"))
def can_enter_satisfaction(user, facility) -> bool:
    return keeps(user, _facility(facility))
