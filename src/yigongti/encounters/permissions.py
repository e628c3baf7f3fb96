"""Who may write the shared record: record an encounter, import settlements, population and deaths.
Registered in ``EncountersConfig.ready``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role
# 接诊登记 is clinical work: the doctors, nurses and village doctors of a facility.
RECORDERS = {R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR}
IMPORTERS = {
    "settlements": {R.INSURANCE_OFFICER, R.BUREAU, R.CITY, R.COMMUNITY_MANAGER},
    "population": {R.BUREAU, R.CITY, R.COMMUNITY_MANAGER},
    "deaths": {R.BUREAU, R.CITY, R.COMMUNITY_MANAGER, R.PUBLIC_HEALTH},
}


@verb("encounters.record", _("只有医疗机构的医生、护士和乡村医生可以登记就诊，且患者须在其管辖范围内"))
def can_record(user, resident) -> bool:
    """``resident``: the patient (in the user's scope)."""
    if not has_role(user, *RECORDERS) or not user.facility_id:
        return False
    return resident is None or scope_for(user).contains(resident.area_code)


@verb("encounters.import_settlements", _("只有医保经办、卫健局、市卫健委和医共体管理人员可以导入医保结算数据"))
def can_import_settlements(user, obj) -> bool:
    return bool(user.is_superuser) or has_role(user, *IMPORTERS["settlements"])


@verb("encounters.import_population", _("只有卫健局、市卫健委和医共体管理人员可以导入人口数据"))
def can_import_population(user, obj) -> bool:
    return bool(user.is_superuser) or has_role(user, *IMPORTERS["population"])


@verb("encounters.import_deaths", _("只有卫健局、市卫健委、医共体管理和公卫人员可以导入死亡登记"))
def can_import_deaths(user, obj) -> bool:
    return bool(user.is_superuser) or has_role(user, *IMPORTERS["deaths"])
