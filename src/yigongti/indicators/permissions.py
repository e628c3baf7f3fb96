"""Who may write the indicators app's own data: the qualitative indicators' evidence (N01–N03).
Registered in ``IndicatorsConfig.ready``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role


@verb("indicators.refresh", _("只有卫健局、市卫健委和医共体管理人员可以刷新指标"))
def can_refresh(user, obj) -> bool:
    return bool(user.is_superuser) or has_role(user, R.BUREAU, R.CITY, R.COMMUNITY_MANAGER)


@verb("indicators.record_evidence", _("只有本医共体的管理人员、卫健局和牵头医院的机构管理员可以填报定性指标佐证"))
def can_record_evidence(user, community) -> bool:
    """``community``: the medical community whose checklist is filled in."""
    if user.is_superuser:
        return True
    if community is None:
        return has_role(user, R.COMMUNITY_MANAGER, R.BUREAU, R.FACILITY_ADMIN)
    if has_role(user, R.COMMUNITY_MANAGER):
        return user.facility_id is not None and user.facility.community_id == community.pk
    if has_role(user, R.FACILITY_ADMIN):
        return user.facility_id is not None and user.facility_id == community.lead_facility_id
    if has_role(user, R.BUREAU):
        return user.region_id is not None and community.region.code.startswith(user.region.prefix)
    return False
