"""Who may write what in hypertension and diabetes management, by role and by object. Registered in
``ChronicConfig.ready``.

Doctors and village doctors enrol, follow up, change the regular medicines and end the management of residents
of their own care area (``core.scoping``: a village doctor their village, a township doctor their township, the
county hospital the county); nurses and public-health staff record follow-ups too (the 规范 lets the team's
members do them), but only a doctor enrols, ends or prescribes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.familydoctor.permissions import serves
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role
DOCTORS = {R.DOCTOR, R.VILLAGE_DOCTOR}
FOLLOWERS = {R.DOCTOR, R.VILLAGE_DOCTOR, R.NURSE, R.PUBLIC_HEALTH}


def _resident_of(obj):
    if obj is None:
        return None
    if hasattr(obj, "birth_date"):
        return obj
    resident = getattr(obj, "resident", None)
    if resident is None and getattr(obj, "enrolment", None) is not None:
        resident = obj.enrolment.resident
    return resident


@verb("chronic.enrol", _("只有本辖区的医生或乡村医生可以纳入慢病管理"))
def can_enrol(user, obj) -> bool:
    return has_role(user, *DOCTORS) and (obj is None or serves(user, _resident_of(obj)))


@verb("chronic.follow_up", _("只有本辖区的医生、乡村医生、护士或公卫人员可以录入慢病随访"))
def can_follow_up(user, obj) -> bool:
    return has_role(user, *FOLLOWERS) and (obj is None or serves(user, _resident_of(obj)))


@verb("chronic.medicines", _("只有本辖区的医生或乡村医生可以维护长期用药"))
def can_medicines(user, obj) -> bool:
    return can_enrol(user, obj)


@verb("chronic.end", _("只有本辖区的医生或乡村医生可以结案"))
def can_end(user, obj) -> bool:
    return can_enrol(user, obj)
