"""Who may write what on the time-critical pathways, by role and by object. Registered in
``PathwaysConfig.ready``.

Clinicians open a case for a resident in their scope and record its time points where they work (the township
that sees the patient first, the county center that treats); a correction keeps the old time and needs a reason;
doctors close cases and export them to the national registries; the one-button green channel is for the doctors
and village doctors who face the patient. Managers and the bureau keep which facility runs which center.

Every check takes the object it acts on; with ``None`` only the role is tested."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role
CLINICIANS = {R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR}


def involved(user, case) -> bool:
    """The user works at the case's treating facility, at its first facility, or at the township center above a
    village clinic that saw it first."""
    if case is None or user is None or user.facility_id is None:
        return False
    if user.facility_id in (case.facility_id, case.first_facility_id):
        return True
    first = case.first_facility
    return first is not None and first.parent_id == user.facility_id


@verb("pathways.open_case", _("只有医护人员可以建立救治病例"))
def can_open_case(user, resident) -> bool:
    return has_role(user, *CLINICIANS) and user.facility_id is not None


@verb("pathways.record_event", _("只有参与救治的医护人员可以记录时间节点"))
def can_record_event(user, case) -> bool:
    if not has_role(user, *CLINICIANS):
        return False
    return case is None or involved(user, case)


@verb("pathways.correct_event", _("只有参与救治的医生或护士可以更正时间节点，且须写明理由"))
def can_correct_event(user, case) -> bool:
    if not has_role(user, R.DOCTOR, R.NURSE):
        return False
    return case is None or involved(user, case)


@verb("pathways.record_delay", _("只有参与救治的医生或护士可以填写延误原因"))
def can_record_delay(user, case) -> bool:
    if not has_role(user, R.DOCTOR, R.NURSE):
        return False
    return case is None or involved(user, case)


@verb("pathways.close_case", _("只有救治机构的医生可以结束病例"))
def can_close_case(user, case) -> bool:
    if not has_role(user, R.DOCTOR):
        return False
    return case is None or (user.facility_id is not None and user.facility_id == case.facility_id)


@verb("pathways.green_channel", _("只有医生或乡村医生可以启动一键呼叫"))
def can_green_channel(user, resident) -> bool:
    return has_role(user, R.DOCTOR, R.VILLAGE_DOCTOR) and user.facility_id is not None


@verb("pathways.export_registry", _("只有救治中心的医生或医共体管理人员可以导出上报数据"))
def can_export_registry(user, center) -> bool:
    if has_role(user, R.COMMUNITY_MANAGER):
        return True
    if not has_role(user, R.DOCTOR) or user.facility_id is None:
        return False
    return center is None or center.facility_id == user.facility_id


@verb("pathways.manage_centers", _("只有医共体管理人员或卫健局可以维护救治中心"))
def can_manage_centers(user, obj) -> bool:
    return has_role(user, R.COMMUNITY_MANAGER, R.BUREAU)
