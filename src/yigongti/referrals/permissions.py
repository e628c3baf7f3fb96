"""Who may make each move of a referral, by role and by object. Registered in ``ReferralsConfig.ready``.

A referral is written by clinicians only: it is sent by a doctor (or village doctor) of the sending facility;
it is answered (accepted, redirected, declined) by the community's referral center, or for a down-referral by a
clinician of the receiving clinic; the patient is checked in, followed up and the referral completed by a
clinician (doctor, nurse, village doctor) of the receiving facility (for a hospital outside the county, by a
clinician of the center, which records for it). Pharmacists, dispatchers, insurance officers and managers do
none of this. The status half of each move (may it happen *now*) is ``workflow.TRANSITIONS``; services check both.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, is_clinician, verb

from .models import CenterMember

R = Role
REFERRERS = {R.DOCTOR, R.VILLAGE_DOCTOR}
RULE_KEEPERS = {R.COMMUNITY_MANAGER, R.BUREAU, R.CITY}


def center_ids_of(user) -> set[int]:
    """The referral centers the user works at (cached on the user object for the request)."""
    cached = getattr(user, "_referral_centers", None)
    if cached is None:
        cached = set(CenterMember.objects.filter(user_id=user.pk).values_list("center_id", flat=True))
        user._referral_centers = cached
    return cached


def is_center_member(user, center_id: int | None) -> bool:
    return bool(center_id) and center_id in center_ids_of(user)


def at_origin(user, r) -> bool:
    return r.referred_by_id == user.pk or (user.facility_id is not None and user.facility_id == r.from_facility_id)


def at_target(user, r) -> bool:
    """Works where the patient is received: the receiving facility, or the center for a hospital outside."""
    if r.to_facility_id is None:
        return is_center_member(user, r.center_id)
    return user.facility_id is not None and user.facility_id == r.to_facility_id


def answers(user, r) -> bool:
    """Up-referrals are answered by the center, down-referrals by the receiving clinic's clinicians."""
    if r.center_id:
        return is_center_member(user, r.center_id)
    return is_clinician(user) and at_target(user, r)


def receiving_clinician(user, r) -> bool:
    return is_clinician(user) and at_target(user, r)


@verb("referrals.create", _("只有医疗机构的医生或乡村医生可以发起转诊"))
def can_create(user, obj) -> bool:
    return has_role(user, *REFERRERS) and user.facility_id is not None


@verb("referrals.submit", _("只有转出机构的医生或乡村医生可以提交转诊单"))
def can_submit(user, r) -> bool:
    return has_role(user, *REFERRERS) and (r is None or at_origin(user, r))


@verb("referrals.accept", _("只有转诊服务中心的工作人员（下转时为接收机构的医务人员）可以接收转诊"))
def can_accept(user, r) -> bool:
    if r is None:
        return bool(center_ids_of(user)) or is_clinician(user)
    return answers(user, r)


@verb("referrals.redirect", _("只有转诊服务中心的工作人员可以改派转诊"))
def can_redirect(user, r) -> bool:
    if r is None:
        return bool(center_ids_of(user))
    return r.center_id is not None and is_center_member(user, r.center_id)


@verb("referrals.decline", _("只有转诊服务中心的工作人员（下转时为接收机构的医务人员）可以拒绝转诊"))
def can_decline(user, r) -> bool:
    if r is None:
        return bool(center_ids_of(user)) or is_clinician(user)
    return answers(user, r)


@verb("referrals.arrive", _("只有接收机构的医生、护士或乡村医生可以登记患者到达"))
def can_arrive(user, r) -> bool:
    return is_clinician(user) if r is None else receiving_clinician(user, r)


@verb("referrals.complete", _("只有接收机构的医生、护士或乡村医生可以完成转诊"))
def can_complete(user, r) -> bool:
    return is_clinician(user) if r is None else receiving_clinician(user, r)


@verb("referrals.cancel", _("只有转出机构的医生或转诊服务中心的工作人员可以取消转诊"))
def can_cancel(user, r) -> bool:
    if r is None:
        return has_role(user, *REFERRERS) or bool(center_ids_of(user))
    return (has_role(user, *REFERRERS) and at_origin(user, r)) or is_center_member(user, r.center_id)


@verb("referrals.follow_up", _("只有接收机构的医生、护士或乡村医生可以登记下转患者的随访，上转后的随访由转出机构登记"))
def can_follow_up(user, r) -> bool:
    """The receiving clinic follows a down-referral's plan; the sending facility follows up its up-referral
    two weeks later (the service checks which side each follow-up belongs to)."""
    if r is None:
        return is_clinician(user)
    return receiving_clinician(user, r) or (r.direction == "up" and is_clinician(user) and at_origin(user, r))


@verb("referrals.setup_center", _("只有本医共体的管理人员、卫健局或系统管理员可以设置转诊服务中心"))
def can_setup_center(user, community) -> bool:
    if user.is_superuser:
        return True
    if community is None:
        return has_role(user, R.COMMUNITY_MANAGER, R.BUREAU)
    if has_role(user, R.COMMUNITY_MANAGER):
        return user.facility_id is not None and user.facility.community_id == community.pk
    if has_role(user, R.BUREAU):
        return user.region_id is not None and community.region.code.startswith(user.region.prefix)
    return False


@verb("referrals.rules", _("只有医共体管理人员、卫健局或市卫健委可以维护转诊指南"))
def can_keep_rules(user, obj) -> bool:
    return bool(user.is_superuser) or has_role(user, *RULE_KEEPERS)
