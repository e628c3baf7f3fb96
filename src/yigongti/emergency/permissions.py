"""Who may write what in the county 120 command center, by role and by object. Registered in
``EmergencyConfig.ready``.

Dispatchers (at the command center) take calls, dispatch, merge and close them; the crew of a vehicle (doctors and
nurses at its station, or seated on it as ``CrewMember``) step it through its statuses and keep the pre-hospital
record; clinicians of the receiving hospital acknowledge its pre-arrival alert. The station's facility admin and
the community's managers keep the fleet; the bureau and the managers plan stations and import the road network.

Every check takes the object it acts on; with ``None`` (the role × verb table, a page deciding whether to show a
button before it has an object) only the role is tested."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role
CREW_ROLES = {R.DOCTOR, R.NURSE}
PLANNERS = {R.BUREAU, R.COMMUNITY_MANAGER, R.CITY}


def _vehicle_of(obj):
    if obj is None:
        return None
    if hasattr(obj, "plate"):
        return obj
    mission = obj if hasattr(obj, "vehicle_id") else getattr(obj, "mission", None)
    return getattr(mission, "vehicle", None)


def is_crew(user, vehicle) -> bool:
    """Whether the user rides this vehicle (a seat on its crew) or works at its station."""
    if vehicle is None or user is None or user.pk is None:
        return False
    if user.facility_id is not None and vehicle.station.facility_id == user.facility_id:
        return True
    return vehicle.crew.filter(user_id=user.pk, on_shift=True).exists()


@verb("emergency.take_call", _("只有120调度员可以受理呼救"))
def can_take_call(user, call) -> bool:
    return has_role(user, R.DISPATCHER)


@verb("emergency.dispatch", _("只有120调度员可以派车"))
def can_dispatch(user, call) -> bool:
    return has_role(user, R.DISPATCHER)


@verb("emergency.merge_call", _("只有120调度员可以合并重复呼救"))
def can_merge_call(user, call) -> bool:
    return has_role(user, R.DISPATCHER)


@verb("emergency.close_call", _("只有120调度员可以结束或取消呼救"))
def can_close_call(user, call) -> bool:
    return has_role(user, R.DISPATCHER)


@verb("emergency.crew_status", _("只有本车组人员或120调度员可以更新车辆状态"))
def can_crew_status(user, obj) -> bool:
    if has_role(user, R.DISPATCHER):
        return True
    if not has_role(user, *CREW_ROLES):
        return False
    return obj is None or is_crew(user, _vehicle_of(obj))


@verb("emergency.record_prehospital", _("只有本车组的医生或护士可以书写院前急救病历"))
def can_record_prehospital(user, mission) -> bool:
    if not has_role(user, *CREW_ROLES):
        return False
    return mission is None or is_crew(user, _vehicle_of(mission))


@verb("emergency.send_alert", _("只有本车组人员或120调度员可以发送预警"))
def can_send_alert(user, mission) -> bool:
    if has_role(user, R.DISPATCHER):
        return True
    if not has_role(user, *CREW_ROLES):
        return False
    return mission is None or is_crew(user, _vehicle_of(mission))


@verb("emergency.ack_alert", _("只有接收医院的医护人员可以确认预警"))
def can_ack_alert(user, alert) -> bool:
    if not has_role(user, R.DOCTOR, R.NURSE):
        return False
    return alert is None or (user.facility_id is not None and alert.facility_id == user.facility_id)


@verb("emergency.report_position", _("只有本车组人员可以上报车辆位置"))
def can_report_position(user, vehicle) -> bool:
    if not has_role(user, *CREW_ROLES, R.DISPATCHER):
        return False
    return vehicle is None or has_role(user, R.DISPATCHER) or is_crew(user, _vehicle_of(vehicle))


@verb("emergency.manage_fleet", _("只有急救站的机构管理员或医共体管理人员可以维护站点和车辆"))
def can_manage_fleet(user, station) -> bool:
    if has_role(user, R.COMMUNITY_MANAGER):
        return True
    if not has_role(user, R.FACILITY_ADMIN) or user.facility_id is None:
        return False
    facility_id = getattr(station, "facility_id", None)
    return station is None or facility_id == user.facility_id


@verb("emergency.plan_stations", _("只有卫健委、卫健局或医共体管理人员可以进行站点规划"))
def can_plan_stations(user, obj) -> bool:
    return has_role(user, *PLANNERS)


@verb("emergency.import_roads", _("只有卫健局或医共体管理人员可以导入路网"))
def can_import_roads(user, obj) -> bool:
    return has_role(user, R.BUREAU, R.COMMUNITY_MANAGER)
