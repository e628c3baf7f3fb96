"""Who may write what in the pharmacy app (``pharmacy.*`` verbs). Registered in ``PharmacyConfig.ready``.

- The catalogue, the 集采 agreements, the purchase orders and suppliers are the community pharmacy department's
  (药学部 / 药品配送中心): a pharmacist working at the community's distribution center facility, or a community
  manager of the community.
- Receipts, returns to the supplier and stock moves at a facility are its own pharmacists' (the distribution
  center's for its receipts).
- Adjustments and stocktakes at a facility: its pharmacists; at a village clinic its village doctors (a village
  clinic has no pharmacist).
- Stock limits (上下限) of a facility: its pharmacists, its village doctors, or the community pharmacy department.

With ``obj=None`` (the role × verb table, a page deciding whether to show a button) only the role is tested.
The object may be a Facility, an Item, an Agreement, a PurchaseOrder, a Receipt, a Stocktake or a community."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.core.carelevel import CareLevel, care_level
from yigongti.orgs.models import Facility, MedicalCommunity, Role
from yigongti.orgs.permissions import has_role, verb

R = Role


def community_id_of(obj) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, MedicalCommunity):
        return obj.pk
    if isinstance(obj, Facility):
        return obj.community_id
    if hasattr(obj, "community_id"):
        return obj.community_id
    facility = facility_of(obj)
    return facility.community_id if facility is not None else None


def facility_of(obj):
    if obj is None or isinstance(obj, MedicalCommunity):
        return None
    if isinstance(obj, Facility):
        return obj
    return getattr(obj, "facility", None)


def center_facility_ids(community_id: int | None) -> set[int]:
    from .models import DistributionCenter

    if community_id is None:
        return set()
    dc = DistributionCenter.objects.filter(community_id=community_id).values_list("facility_id",
                                                                                  "tcm_facility_id").first()
    return {pk for pk in (dc or ()) if pk}


def is_department(user, community_id: int | None) -> bool:
    """The community pharmacy department: a pharmacist at the distribution center, or a community manager."""
    if user.facility_id is None:
        return False
    mine = user.facility.community_id
    if community_id is not None and mine != community_id:
        return False
    if has_role(user, R.COMMUNITY_MANAGER):
        return mine is not None
    if has_role(user, R.PHARMACIST):
        return user.facility_id in center_facility_ids(mine)
    return False


def works_at(user, facility) -> bool:
    return facility is not None and user.facility_id is not None and user.facility_id == facility.pk


@verb("pharmacy.catalogue", _("只有医共体药学部门（配送中心药师）或医共体管理人员可以维护药品耗材目录"))
def can_catalogue(user, obj) -> bool:
    if obj is None:
        return has_role(user, R.PHARMACIST, R.COMMUNITY_MANAGER)
    return is_department(user, community_id_of(obj))


@verb("pharmacy.procure", _("只有医共体药学部门（配送中心药师）或医共体管理人员可以维护集采协议和采购订单"))
def can_procure(user, obj) -> bool:
    if obj is None:
        return has_role(user, R.PHARMACIST, R.COMMUNITY_MANAGER)
    return is_department(user, community_id_of(obj))


@verb("pharmacy.receive", _("只有本机构的药师可以办理入库、退货和出入库"))
def can_receive(user, obj) -> bool:
    if not has_role(user, R.PHARMACIST):
        return False
    return obj is None or works_at(user, facility_of(obj))


@verb("pharmacy.adjust", _("只有本机构的药师（村卫生室为本室乡村医生）可以盘点和调整库存"))
def can_adjust(user, obj) -> bool:
    if not has_role(user, R.PHARMACIST, R.VILLAGE_DOCTOR):
        return False
    facility = facility_of(obj)
    if facility is None:
        return obj is None
    if has_role(user, R.VILLAGE_DOCTOR) and care_level(facility.type) != CareLevel.VILLAGE:
        return False
    return works_at(user, facility)


@verb("pharmacy.limits", _("只有本机构的药师、本村卫生室的乡村医生或医共体药学部门可以设置库存上下限"))
def can_limits(user, obj) -> bool:
    if not has_role(user, R.PHARMACIST, R.VILLAGE_DOCTOR, R.COMMUNITY_MANAGER):
        return False
    facility = facility_of(obj)
    if facility is None:
        return obj is None
    return works_at(user, facility) or is_department(user, facility.community_id)
