"""Who may write what in the shared diagnosis centers, by role and by object. Registered in
``TelemedicineConfig.ready``.

Doctors and village doctors order (for residents in their scope), nurses collect and send; the readers of a
center (``CenterMember`` rows: doctors of the lead hospital) report, and its reviewers second-read; a critical
value is acknowledged and acted on by clinicians of the ordering facility or by whoever it was escalated to.
The center's director keeps its catalogue, templates and critical-value table; a member facility's admin
registers its devices and may override a critical-value rule for the facility, with a reason.

Every check takes the object it acts on; with ``None`` (the role × verb table, a page deciding whether to show
a button before it has an object) only the role is tested."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role
ORDERERS = {R.DOCTOR, R.VILLAGE_DOCTOR}
CLINICIANS = {R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR}


def member_of(user, center_id: int | None, *, review: bool = False, supervisor: bool = False) -> bool:
    """Whether the user reads for this center (reviews, directs it)."""
    if center_id is None or user is None or user.pk is None:
        return False
    from .models import CenterMember

    qs = CenterMember.objects.filter(center_id=center_id, user_id=user.pk)
    if review:
        qs = qs.filter(can_review=True)
    if supervisor:
        qs = qs.filter(is_supervisor=True)
    return qs.exists()


def _center_of(obj) -> int | None:
    if obj is None:
        return None
    if hasattr(obj, "center_id"):
        return obj.center_id
    order = getattr(obj, "order", None)
    return getattr(order, "center_id", None)


def _at_ordering_facility(user, obj) -> bool:
    """The user works at the facility that ordered (or its township's center, for a village clinic's order)."""
    facility_id = getattr(obj, "facility_id", None)
    if facility_id is None and getattr(obj, "order", None) is not None:
        facility_id = obj.order.facility_id
    if user.facility_id is None or facility_id is None:
        return False
    if user.facility_id == facility_id:
        return True
    from yigongti.orgs.models import Facility

    return Facility.objects.filter(pk=facility_id, parent_id=user.facility_id).exists()


@verb("telemedicine.order", _("只有医生或乡村医生可以开具检查检验申请"))
def can_order(user, resident) -> bool:
    return has_role(user, *ORDERERS) and user.facility_id is not None


@verb("telemedicine.cancel_order", _("只有申请机构的医生可以取消申请单"))
def can_cancel_order(user, order) -> bool:
    if not has_role(user, *ORDERERS):
        return False
    return order is None or _at_ordering_facility(user, order)


@verb("telemedicine.acquire", _("只有申请机构的医护人员或中心人员可以上传检查数据、采集标本"))
def can_acquire(user, order) -> bool:
    if not has_role(user, *CLINICIANS):
        return False
    return order is None or _at_ordering_facility(user, order) or member_of(user, order.center_id)


@verb("telemedicine.enter_results", _("只有检验中心人员或申请机构的医护人员可以录入检验结果"))
def can_enter_results(user, order) -> bool:
    if not has_role(user, R.DOCTOR, R.NURSE):
        return False
    return order is None or _at_ordering_facility(user, order) or member_of(user, order.center_id)


@verb("telemedicine.report", _("只有本中心的报告医生可以书写报告"))
def can_report(user, order) -> bool:
    if not has_role(user, R.DOCTOR):
        return False
    return order is None or member_of(user, order.center_id)


@verb("telemedicine.review", _("只有本中心的审核医生可以审核报告，且不能审核自己的报告"))
def can_review(user, report) -> bool:
    if not has_role(user, R.DOCTOR):
        return False
    if report is None:
        return True
    return report.reader_id != user.pk and member_of(user, report.order.center_id, review=True)


@verb("telemedicine.track_specimen", _("只有病理中心人员或申请机构的医护人员可以登记标本流转"))
def can_track_specimen(user, specimen) -> bool:
    if not has_role(user, *CLINICIANS):
        return False
    return specimen is None or _at_ordering_facility(user, specimen) or member_of(user, specimen.order.center_id)


@verb("telemedicine.match_study", _("只有影像中心人员可以匹配影像检查"))
def can_match_study(user, center) -> bool:
    if not has_role(user, R.DOCTOR, R.NURSE):
        return False
    return center is None or member_of(user, center.pk)


@verb("telemedicine.replay_message", _("只有检验中心人员可以修正并重放 HL7 消息"))
def can_replay_message(user, center) -> bool:
    if not has_role(user, R.DOCTOR, R.NURSE):
        return False
    return center is None or member_of(user, center.pk)


def _told(user, critical) -> bool:
    """The critical value was sent to this user (at any level), or the user works where it was ordered."""
    if critical.notified_to_id == user.pk or critical.events.filter(to_id=user.pk).exists():
        return True
    return _at_ordering_facility(user, critical)


@verb("telemedicine.acknowledge_critical", _("只有被通知的医生或申请机构的医生可以确认危急值"))
def can_acknowledge_critical(user, critical) -> bool:
    if not has_role(user, R.DOCTOR, R.VILLAGE_DOCTOR, R.NURSE, R.FACILITY_ADMIN):
        return False
    return critical is None or _told(user, critical)


@verb("telemedicine.act_on_critical", _("只有被通知的医生或申请机构的医生可以记录危急值处置"))
def can_act_on_critical(user, critical) -> bool:
    if not has_role(user, R.DOCTOR, R.VILLAGE_DOCTOR):
        return False
    return critical is None or _told(user, critical)


@verb("telemedicine.manage_center", _("只有中心主任或医共体管理人员可以维护中心的项目、模板和危急值表"))
def can_manage_center(user, center) -> bool:
    if has_role(user, R.COMMUNITY_MANAGER):
        return center is None or (user.facility_id is not None
                                  and user.facility.community_id == center.community_id)
    if not has_role(user, R.DOCTOR):
        return False
    return center is None or member_of(user, center.pk, supervisor=True)


@verb("telemedicine.override_critical_rule", _("只有成员机构的管理员可以为本机构调整危急值规则"))
def can_override_critical_rule(user, facility) -> bool:
    if not has_role(user, R.FACILITY_ADMIN) or user.facility_id is None:
        return False
    return facility is None or facility.pk == user.facility_id


@verb("telemedicine.register_device", _("只有机构管理员可以登记本机构的诊断设备"))
def can_register_device(user, facility) -> bool:
    if not has_role(user, R.FACILITY_ADMIN) or user.facility_id is None:
        return False
    return facility is None or user.facility_id in (facility.pk, facility.parent_id)


@verb("telemedicine.recognise", _("只有医生或乡村医生可以记录结果互认"))
def can_recognise(user, resident) -> bool:
    return has_role(user, *ORDERERS) and user.facility_id is not None


@verb("telemedicine.request_consultation", _("只有医生或乡村医生可以申请远程会诊"))
def can_request_consultation(user, resident) -> bool:
    return has_role(user, *ORDERERS) and user.facility_id is not None


@verb("telemedicine.schedule_consultation", _("只有会诊中心人员可以安排会诊"))
def can_schedule_consultation(user, consultation) -> bool:
    if not has_role(user, R.DOCTOR, R.NURSE):
        return False
    return consultation is None or member_of(user, consultation.center_id)


@verb("telemedicine.answer_consultation", _("只有受邀的会诊专家可以出具会诊意见"))
def can_answer_consultation(user, consultation) -> bool:
    if not has_role(user, R.DOCTOR):
        return False
    if consultation is None:
        return True
    return consultation.specialist_id == user.pk or member_of(user, consultation.center_id, supervisor=True)


@verb("telemedicine.cancel_consultation", _("只有申请机构的医生可以取消会诊申请"))
def can_cancel_consultation(user, consultation) -> bool:
    if not has_role(user, *ORDERERS):
        return False
    return consultation is None or _at_ordering_facility(user, consultation)
