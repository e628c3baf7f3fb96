"""Who on the staff side may act on online consultations and their deliveries. Registered in ``IhospitalConfig.ready``.

* ``ihospital.consult`` — a doctor of the consultation's facility (the county hospital or township center that
  answers it) accepts, replies, declines, closes and prescribes (the prescription itself is also checked by
  ``prescribing.prescribe``).
* ``ihospital.deliver`` — a pharmacist of the community (the county pharmacy, the distribution center, the shared
  TCM center) ships and marks delivered; the village doctor of the pickup clinic marks it arrived and collected.

The resident's own moves (asking, writing, cancelling, paying) are not staff verbs: the resident is not a staff
account (``principal``), and those services accept only the principal that owns the consultation.

With ``obj=None`` (the role × verb table, a page deciding whether to show a button) only the role is tested."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role


def _community(facility) -> int | None:
    return getattr(facility, "community_id", None) if facility is not None else None


@verb("ihospital.consult", _("只有接诊机构的医生可以处理该在线复诊"))
def can_consult(user, consultation) -> bool:
    if not has_role(user, R.DOCTOR):
        return False
    return consultation is None or (user.facility_id is not None and user.facility_id == consultation.facility_id)


@verb("ihospital.deliver", _("只有医共体的药师或取药村卫生室的乡村医生可以更新配送状态"))
def can_deliver(user, delivery) -> bool:
    if not has_role(user, R.PHARMACIST, R.VILLAGE_DOCTOR):
        return False
    if delivery is None:
        return True
    if has_role(user, R.VILLAGE_DOCTOR):
        return delivery.clinic_id is not None and user.facility_id == delivery.clinic_id
    facility = getattr(user, "facility", None)
    return facility is not None and _community(facility) == _community(delivery.consultation.facility)
