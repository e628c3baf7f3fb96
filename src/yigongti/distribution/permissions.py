"""Who may order, approve, pick, dispatch, receive and answer shortages. Registered in ``DistributionConfig.ready``.

A clinic's own staff order for it and confirm what arrives (the village doctor, or a township's pharmacist or
facility admin); the pharmacists of the community's distribution center (``pharmacy.DistributionCenter``) approve,
pick, plan the routes, dispatch and answer the shortage registry. With ``obj=None`` (the role × verb table, a page
deciding whether to show a button) only the role is tested."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role
ORDERERS = (R.VILLAGE_DOCTOR, R.PHARMACIST, R.FACILITY_ADMIN)
REGISTRARS = (R.VILLAGE_DOCTOR, R.DOCTOR, R.PHARMACIST, R.FACILITY_ADMIN)


def _facility_id(obj) -> int | None:
    """The ordering facility of an order or a shortage, or a Facility itself."""
    if obj is None:
        return None
    if hasattr(obj, "facility_id"):
        return obj.facility_id
    return getattr(obj, "pk", None)


def works_at(user, obj) -> bool:
    fid = _facility_id(obj)
    return fid is None or (getattr(user, "facility_id", None) is not None and user.facility_id == fid)


def at_center(user, obj) -> bool:
    """The user is a pharmacist at the center the order (or shortage) belongs to."""
    if not has_role(user, R.PHARMACIST):
        return False
    if obj is None:
        return True
    center_id = getattr(obj, "center_id", None)
    if center_id is None:  # a shortage, a run: the community's center
        from yigongti.pharmacy.models import DistributionCenter

        if hasattr(obj, "community_id"):
            center_id = DistributionCenter.objects.filter(community_id=obj.community_id) \
                .values_list("facility_id", flat=True).first()
        else:
            center_id = getattr(obj, "pk", None)
    return center_id is not None and user.facility_id == center_id


@verb("distribution.order", _("只有本机构的乡村医生、药师或机构管理员可以为本机构请领药品"))
def can_order(user, obj) -> bool:
    return has_role(user, *ORDERERS) and works_at(user, obj)


@verb("distribution.approve", _("只有配送中心的药师可以审核请领单"))
def can_approve(user, obj) -> bool:
    return at_center(user, obj)


@verb("distribution.pick", _("只有配送中心的药师可以拣货"))
def can_pick(user, obj) -> bool:
    return at_center(user, obj)


@verb("distribution.dispatch", _("只有配送中心的药师可以排线和发车"))
def can_dispatch(user, obj) -> bool:
    return at_center(user, obj)


@verb("distribution.receive", _("只有请领机构的乡村医生、药师或机构管理员可以签收"))
def can_receive(user, obj) -> bool:
    return has_role(user, *ORDERERS) and works_at(user, obj)


@verb("distribution.register_shortage", _("只有基层机构的医生、乡村医生、药师或机构管理员可以登记缺药"))
def can_register_shortage(user, obj) -> bool:
    return has_role(user, *REGISTRARS) and works_at(user, obj)


@verb("distribution.answer_shortage", _("只有配送中心的药师可以答复缺药登记"))
def can_answer_shortage(user, obj) -> bool:
    return at_center(user, obj)
