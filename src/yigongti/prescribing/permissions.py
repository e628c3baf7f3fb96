"""Who may write what in prescribing. Registered in ``PrescribingConfig.ready``.

A doctor or a village doctor prescribes at their own facility. Review (审核), 点评, the month's sample and the
rule pack belong to the community's pharmacists. Dispensing and returns: a pharmacist at the dispensing
facility (the county pharmacy, a township pharmacy, the TCM center), or the village doctor at their own
village clinic (no pharmacist works there). With ``None`` only the role is tested."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.core.carelevel import CareLevel, care_level
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role


def _facility(obj):
    if obj is None:
        return None
    return getattr(obj, "facility", obj)


def _community(obj):
    if obj is None:
        return None
    if hasattr(obj, "community_id"):
        return obj.community_id
    if getattr(getattr(obj, "_meta", None), "model_name", "") == "medicalcommunity":
        return obj.pk
    return None


def same_community(user, obj) -> bool:
    if obj is None:
        return True
    if not getattr(user, "facility_id", None) or user.facility.community_id is None:
        return False
    return user.facility.community_id == _community(obj)


@verb("prescribing.prescribe", _("只有本机构的医生或乡村医生可以开具处方"))
def can_prescribe(user, obj) -> bool:
    if not has_role(user, R.DOCTOR, R.VILLAGE_DOCTOR):
        return False
    f = _facility(obj)
    return f is None or user.facility_id == f.pk


@verb("prescribing.review", _("只有本医共体的药师可以审核处方"))
def can_review(user, obj) -> bool:
    return has_role(user, R.PHARMACIST) and same_community(user, obj)


@verb("prescribing.dispense", _("只有发药机构的药师（村卫生室为乡村医生）可以发药和退药"))
def can_dispense(user, facility) -> bool:
    f = _facility(facility)
    if has_role(user, R.PHARMACIST):
        return f is None or user.facility_id == f.pk
    if has_role(user, R.VILLAGE_DOCTOR):
        return f is None or (user.facility_id == f.pk and care_level(f.type) == CareLevel.VILLAGE)
    return False


@verb("prescribing.comment", _("只有本医共体的药师可以抽取和点评处方"))
def can_comment(user, obj) -> bool:
    return has_role(user, R.PHARMACIST) and same_community(user, obj)


@verb("prescribing.rules", _("只有本医共体的药师可以维护审方规则"))
def can_edit_rules(user, obj) -> bool:
    return has_role(user, R.PHARMACIST) and same_community(user, obj)
