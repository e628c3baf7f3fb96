"""Who may write what in the family-doctor app, by role and by object. Registered in ``FamilyDoctorConfig.ready``.

Team members (doctors, nurses, village doctors and public-health staff who are current ``TeamMember`` rows of the
team) sign, renew and end its contracts, record its services and log its 118 sessions; clinicians serve residents
of their own area (``core.scoping``). The community's managers and the team's township facility admin keep teams
and packages; the managers and the bureau compute the monthly assessment.

Every check takes the object it acts on; with ``None`` (the role × verb table, a page deciding whether to show a
button before it has an object) only the role is tested."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role
SIGNERS = {R.DOCTOR, R.VILLAGE_DOCTOR}
SERVERS = {R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR, R.PUBLIC_HEALTH}


def team_of(obj):
    """The team an object belongs to (a Team, a Contract, a TeamSession, a ServiceDelivery …), or None."""
    if obj is None:
        return None
    if hasattr(obj, "leader_id") and hasattr(obj, "community_id"):
        return obj
    team = getattr(obj, "team", None)
    if team is not None:
        return team
    contract = getattr(obj, "contract", None)
    return getattr(contract, "team", None)


def is_member(user, team) -> bool:
    """Whether the user's staff record is a current member of the team."""
    if team is None or user is None or getattr(user, "staff_id", None) is None:
        return False
    return team.members.filter(staff_id=user.staff_id, until__isnull=True).exists()


def serves(user, resident) -> bool:
    """Whether the resident lives within the user's care area (core.scoping)."""
    return resident is not None and scope_for(user).contains(resident.area_code)


def _team_admin(user, team) -> bool:
    if has_role(user, R.COMMUNITY_MANAGER):
        return team is None or user.facility_id is None or (
            user.facility.community_id is not None and user.facility.community_id == team.community_id)
    if has_role(user, R.FACILITY_ADMIN):
        return team is None or user.facility_id == team.facility_id
    return False


@verb("familydoctor.manage_team", _("只有医共体管理人员或团队所属机构的管理员可以维护家庭医生团队"))
def can_manage_team(user, team) -> bool:
    return _team_admin(user, team_of(team))


@verb("familydoctor.manage_package", _("只有医共体管理人员可以维护签约服务包"))
def can_manage_package(user, package) -> bool:
    return has_role(user, R.COMMUNITY_MANAGER)


@verb("familydoctor.sign", _("只有本团队的医生或乡村医生可以签约"))
def can_sign(user, obj) -> bool:
    if not has_role(user, *SIGNERS):
        return False
    return obj is None or is_member(user, team_of(obj))


@verb("familydoctor.renew", _("只有本团队的医生或乡村医生可以续约"))
def can_renew(user, contract) -> bool:
    return can_sign(user, contract)


@verb("familydoctor.end_contract", _("只有本团队的医生或乡村医生可以解约"))
def can_end_contract(user, contract) -> bool:
    return can_sign(user, contract)


@verb("familydoctor.record_service", _("只有本团队成员可以登记签约服务"))
def can_record_service(user, obj) -> bool:
    if not has_role(user, *SERVERS):
        return False
    return obj is None or is_member(user, team_of(obj))


@verb("familydoctor.log_session", _("只有本团队成员可以登记118服务日"))
def can_log_session(user, obj) -> bool:
    return can_record_service(user, obj)


@verb("familydoctor.assess", _("只有医共体管理人员或卫健局可以计算团队月考核"))
def can_assess(user, month) -> bool:
    return has_role(user, R.COMMUNITY_MANAGER, R.BUREAU)
