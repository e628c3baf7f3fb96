"""Who may write the asset register, by role and by object. Registered in ``AssetsConfig.ready``.

There is no equipment role in ``orgs.Role``: the equipment office (设备科) works under a facility admin account.
A facility admin keeps the assets of their own facility and of the facilities directly under it (a township
center its village clinics, as ``orgs.create_staff``); a community manager those of the whole community.
Transfers between member facilities and the approval of a disposal (报废审批) are the community's: the managers
approve, and never their own request (``services.decide_disposal``). The bureau and the city read only.

With ``obj=None`` (the role × verb table, a page deciding whether to show a button) only the role is tested."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role
KEEPERS = (R.FACILITY_ADMIN, R.COMMUNITY_MANAGER)


def facility_of(obj):
    """The facility an object sits at: an Asset's, a record's asset's, or a Facility itself."""
    if obj is None:
        return None
    if hasattr(obj, "asset"):
        obj = obj.asset
    return getattr(obj, "facility", obj)


def community_of_user(user) -> int | None:
    return user.facility.community_id if getattr(user, "facility_id", None) else None


def keeps(user, facility) -> bool:
    """Whether the user keeps the assets at this facility."""
    if facility is None:
        return has_role(user, *KEEPERS)
    if has_role(user, R.FACILITY_ADMIN):
        return user.facility_id is not None and user.facility_id in (facility.pk, facility.parent_id)
    if has_role(user, R.COMMUNITY_MANAGER):
        community = community_of_user(user)
        return community is not None and facility.community_id == community
    return False


@verb("assets.register", _("只有机构管理员（设备管理）或医共体管理人员可以登记和修改本机构的医学装备"))
def can_register(user, obj) -> bool:
    return keeps(user, facility_of(obj))


@verb("assets.maintain", _("只有机构管理员（设备管理）或医共体管理人员可以登记本机构设备的维护和计量记录"))
def can_maintain(user, obj) -> bool:
    return keeps(user, facility_of(obj))


@verb("assets.transfer", _("只有医共体管理人员可以在成员机构之间调拨设备"))
def can_transfer(user, obj) -> bool:
    return has_role(user, R.COMMUNITY_MANAGER) and (obj is None or keeps(user, facility_of(obj)))


@verb("assets.request_disposal", _("只有机构管理员（设备管理）或医共体管理人员可以申请报废本机构的设备"))
def can_request_disposal(user, obj) -> bool:
    return keeps(user, facility_of(obj))


@verb("assets.approve_disposal", _("只有医共体管理人员可以审批报废，且不能审批自己提出的申请"))
def can_approve_disposal(user, disposal) -> bool:
    if not has_role(user, R.COMMUNITY_MANAGER):
        return False
    if disposal is None:
        return True
    if getattr(disposal, "requested_by_id", None) == user.pk:
        return False
    return keeps(user, facility_of(disposal))


@verb("assets.stocktake", _("只有机构管理员（设备管理）或医共体管理人员可以盘点本机构的设备"))
def can_stocktake(user, obj) -> bool:
    return keeps(user, facility_of(obj))
