"""Who may write what in basic public health, by role and by object. Registered in ``PublicHealthConfig.ready``.

Clinicians and public-health staff of the resident's care area (``core.scoping``) record health checks, maternal
and child visits; the pregnancy risk grade is a doctor's judgement (a village doctor registers the pregnancy, a
doctor grades it); vaccines are given by doctors and nurses of a township health center or the county (接种单位),
recorded by them or by the public-health staff, never by a village clinic."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.core.carelevel import CareLevel
from yigongti.familydoctor.permissions import serves
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role
CARERS = {R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR, R.PUBLIC_HEALTH}
VACCINATORS = {R.DOCTOR, R.NURSE, R.PUBLIC_HEALTH}


def _resident_of(obj):
    if obj is None:
        return None
    if hasattr(obj, "birth_date"):
        return obj
    for name in ("resident", "child"):
        found = getattr(obj, name, None)
        if found is not None:
            return found
    pregnancy = getattr(obj, "pregnancy", None)
    return getattr(pregnancy, "resident", None)


def _in_area(user, obj) -> bool:
    return obj is None or serves(user, _resident_of(obj))


@verb("publichealth.health_check", _("只有本辖区的医务人员或公卫人员可以录入健康体检"))
def can_health_check(user, obj) -> bool:
    return has_role(user, *CARERS) and _in_area(user, obj)


@verb("publichealth.register_pregnancy", _("只有本辖区的医务人员或公卫人员可以为孕妇建册"))
def can_register_pregnancy(user, obj) -> bool:
    return has_role(user, *CARERS) and _in_area(user, obj)


@verb("publichealth.grade_risk", _("只有医生可以评定妊娠风险等级"))
def can_grade_risk(user, obj) -> bool:
    return has_role(user, R.DOCTOR) and _in_area(user, obj)


@verb("publichealth.maternal_visit", _("只有本辖区的医务人员或公卫人员可以录入孕产妇随访"))
def can_maternal_visit(user, obj) -> bool:
    if not has_role(user, *CARERS):
        return False
    if obj is None:
        return True
    # orange and above are managed at the county: their visits also by the managing hospital's clinicians
    pregnancy = obj if hasattr(obj, "risk_grade") else getattr(obj, "pregnancy", None)
    if pregnancy is not None and user.facility_id is not None and user.facility_id == pregnancy.managing_facility_id:
        return True
    return _in_area(user, obj)


@verb("publichealth.child_visit", _("只有本辖区的医务人员或公卫人员可以录入儿童健康检查"))
def can_child_visit(user, obj) -> bool:
    return has_role(user, *CARERS) and _in_area(user, obj)


@verb("publichealth.vaccinate", _("只有接种单位（乡镇卫生院或县级医院）的医生、护士或公卫人员可以登记接种"))
def can_vaccinate(user, obj) -> bool:
    if not has_role(user, *VACCINATORS):
        return False
    if user.facility_id is not None and user.facility.care_level == CareLevel.VILLAGE:
        return False
    return _in_area(user, obj)
