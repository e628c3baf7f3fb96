"""Who may write the resident index: register and edit residents, import patient lists, review uncertain
matches, merge and unmerge persons, and see identifiers in full. Registered in ``ResidentsConfig.ready``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Role
from yigongti.orgs.permissions import has_role, verb

R = Role
# 建档 and editing: the clinicians and public-health staff who serve the residents, and a facility's admin desk.
REGISTRARS = {R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR, R.PUBLIC_HEALTH, R.FACILITY_ADMIN}
# Importing patient lists, reviewing uncertain matches, merging and unmerging: the index's stewards.
INDEX_MANAGERS = {R.COMMUNITY_MANAGER, R.FACILITY_ADMIN, R.BUREAU}


def _area_in_scope(user, obj) -> bool:
    """``obj`` is a village (Region) or a resident; ``None`` means "somewhere" (for showing a button)."""
    if obj is None:
        return True
    code = getattr(obj, "area_code", None) or getattr(obj, "code", None)
    return scope_for(user).contains(code)


@verb("residents.register", _("只有医生、护士、乡村医生、公卫人员或机构管理员可以为其管辖范围内的村建档"))
def can_register(user, village) -> bool:
    return has_role(user, *REGISTRARS) and _area_in_scope(user, village)


@verb("residents.update", _("只有医生、护士、乡村医生、公卫人员或机构管理员可以修改其管辖范围内的居民档案"))
def can_update(user, resident) -> bool:
    return has_role(user, *REGISTRARS) and _area_in_scope(user, resident)


def manages_index(user) -> bool:
    return bool(user.is_superuser) or has_role(user, *INDEX_MANAGERS)


@verb("residents.import", _("只有医共体管理、机构管理员或卫健局可以导入患者名单，且只能提交或放弃自己上传的批次"))
def can_import(user, batch) -> bool:
    """``batch`` (an ImportBatch) when committing or discarding: only its uploader (or a superuser)."""
    if not manages_index(user):
        return False
    return batch is None or batch.uploaded_by_id == user.pk or bool(user.is_superuser)


@verb("residents.review", _("只有医共体管理、机构管理员或卫健局可以审核疑似重复档案"))
def can_review(user, review) -> bool:
    return manages_index(user) and (review is None or _area_in_scope(user, review))


@verb("residents.merge", _("只有医共体管理、机构管理员或卫健局可以合并档案"))
def can_merge(user, resident) -> bool:
    return manages_index(user)


@verb("residents.unmerge", _("只有医共体管理、机构管理员或卫健局可以拆分档案"))
def can_unmerge(user, event) -> bool:
    return manages_index(user)


@verb("residents.unmask", _("您没有查看完整身份证号和电话的权限"))
def can_unmask(user, resident) -> bool:
    """A privilege given to an account (``orgs.unmask_personal_data``), not to a role."""
    return bool(user.has_perm("orgs.unmask_personal_data"))
