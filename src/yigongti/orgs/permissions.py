"""May this user do this to this object? The one place that answers, for every app.

Two tables:

- **Write verbs.** Each app declares its verbs in its own ``permissions.py`` with ``@verb("app.verb")`` on a
  ``can_<verb>(user, obj) -> bool`` function (a role test and, where the verb touches an object, an object
  test: the user's facility, the referral's receiving side …). Services call ``check(actor, "app.verb", obj)``
  before they write; pages call ``can(user, "app.verb", obj)`` only to show or hide a button.
- **Read categories.** ``READS`` says which roles may read which category of person-level data
  (demographics, contact details, clinical records, settlements …); queries call ``check_read``.

A refusal raises ``Forbidden`` with a Chinese message and appends a ``denied`` audit event. The table-driven
test (``tests/orgs/test_permissions.py``) walks ``VERBS`` and ``READS``, so a verb or a category cannot be
added without its row there.

The system actor (CLI, worker, demo: ``actor.user is None``) is trusted. Superusers pass role tests only
where a verb says so (reference data), never for clinical writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden

from .models import Role

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Check = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Verb:
    name: str
    check: Check
    message: StrOrPromise  # shown when refused: "只有医生可以…"


VERBS: dict[str, Verb] = {}


def verb(name: str, message: StrOrPromise) -> Callable[[Check], Check]:
    """Register ``can_<verb>(user, obj)`` under ``name`` (``"referral.arrive"``) with its refusal message."""

    def register(fn: Check) -> Check:
        if name in VERBS and VERBS[name].check is not fn:
            raise RuntimeError(f"permission verb {name} declared twice")
        VERBS[name] = Verb(name, fn, message)
        return fn

    return register


def _active(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def can(user, name: str, obj: Any = None) -> bool:
    """Whether the user may (for showing buttons). Unknown verbs are refused."""
    v = VERBS.get(name)
    if v is None or not _active(user):
        return False
    return bool(v.check(user, obj))


def allows(actor: Actor, name: str, obj: Any = None) -> bool:
    """Whether the actor may (the system actor may), without recording anything: for a service that decides
    inside a transaction and must call ``check`` after leaving it, so that the ``denied`` event is kept."""
    if actor.user is None and actor.username != "anonymous":
        return True
    return can(actor.user, name, obj)


def check(actor: Actor, name: str, obj: Any = None, *, message: str | None = None) -> None:
    """Refuse (Forbidden + a ``denied`` audit event) unless the actor may. The system actor may.

    Call it outside ``transaction.atomic``: a refusal raised inside rolls its own audit event back."""
    if allows(actor, name, obj):
        return
    object_type, object_id = _describe(obj)
    audit.record(actor, "denied", object_type, object_id, attempted=name)
    raise Forbidden(message or (VERBS[name].message if name in VERBS else _("没有权限执行此操作")),
                    code="permission_denied")


def _describe(obj: Any) -> tuple[str, str]:
    if obj is None:
        return "", ""
    meta = getattr(obj, "_meta", None)
    return (meta.model_name if meta is not None else type(obj).__name__.lower()), str(getattr(obj, "pk", "") or "")


# ---- read categories -------------------------------------------------------------------------------------


class Category(models.TextChoices):
    DEMOGRAPHICS = "demographics", _("基本信息")  # name, sex, age, village
    CONTACT = "contact", _("联系方式")  # phone, address (masked unless unmask privilege)
    CLINICAL = "clinical", _("诊疗记录")  # encounters, diagnoses, timelines, referral summaries
    SETTLEMENT = "settlement", _("医保结算")  # settlements, costs, fund payments
    REFERRAL = "referral", _("转诊")  # referral sheets and follow-ups
    EMERGENCY = "emergency", _("急救摘要")  # allergies, chronic conditions, earlier 120 calls: what dispatch needs
    PATHWAY = "pathway", _("急救通道病例")  # chest-pain, stroke … cases and their time points
    PUBLIC_HEALTH = "public_health", _("签约与公卫服务记录")  # contracts, chronic follow-ups, maternal, child, vaccines
    AUDIT_LOG = "audit_log", _("审计日志")


R = Role
_CLINICIANS = {R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR}
_MANAGERS = {R.COMMUNITY_MANAGER, R.BUREAU, R.CITY}

# Least privilege per role: an insurance officer sees what insurance review needs (who, what was settled,
# the diagnoses a settlement carries), a dispatcher what dispatch needs (who, where, how to call back).
# Clinical records (encounters, diagnoses, timelines, a referral's shared record) are for clinicians; managers,
# the bureau and the city see counts (indicators), not patients' referrals or records.
READS: dict[str, frozenset[str]] = {
    R.CITY: frozenset({Category.DEMOGRAPHICS}),
    R.BUREAU: frozenset({Category.DEMOGRAPHICS}),
    R.COMMUNITY_MANAGER: frozenset({Category.DEMOGRAPHICS}),
    # the facility admin: its own facility's settlement lists and pay-later accounts (医保办)
    R.FACILITY_ADMIN: frozenset({Category.DEMOGRAPHICS, Category.CONTACT, Category.SETTLEMENT}),
    R.DOCTOR: frozenset({Category.DEMOGRAPHICS, Category.CONTACT, Category.CLINICAL, Category.REFERRAL,
                         Category.SETTLEMENT, Category.EMERGENCY, Category.PATHWAY,
                         Category.PUBLIC_HEALTH}),
    R.NURSE: frozenset({Category.DEMOGRAPHICS, Category.CONTACT, Category.CLINICAL, Category.REFERRAL,
                        Category.EMERGENCY, Category.PATHWAY, Category.PUBLIC_HEALTH}),
    R.VILLAGE_DOCTOR: frozenset({Category.DEMOGRAPHICS, Category.CONTACT, Category.CLINICAL, Category.REFERRAL,
                                 Category.EMERGENCY, Category.PATHWAY, Category.PUBLIC_HEALTH}),
    R.PHARMACIST: frozenset({Category.DEMOGRAPHICS}),
    R.INSURANCE_OFFICER: frozenset({Category.DEMOGRAPHICS, Category.SETTLEMENT}),
    # the dispatcher: who is calling, where, and what the crew must know (allergies, chronic conditions)
    R.DISPATCHER: frozenset({Category.DEMOGRAPHICS, Category.CONTACT, Category.EMERGENCY}),
    # public-health staff: contracts, follow-ups, maternal and child records, vaccines (not the clinical record)
    R.PUBLIC_HEALTH: frozenset({Category.DEMOGRAPHICS, Category.CONTACT, Category.PUBLIC_HEALTH}),
    R.AUDITOR: frozenset({Category.AUDIT_LOG}),
}

READ_MESSAGES: dict[str, Any] = {  # lazy: rendered in the reader's language
    Category.DEMOGRAPHICS: _("您的角色不能查看居民信息"),
    Category.CONTACT: _("您的角色不能查看居民的联系方式"),
    Category.CLINICAL: _("您的角色不能查看诊疗记录"),
    Category.SETTLEMENT: _("您的角色不能查看医保结算记录"),
    Category.REFERRAL: _("您的角色不能查看转诊单"),
    Category.EMERGENCY: _("您的角色不能查看居民的急救摘要"),
    Category.PATHWAY: _("您的角色不能查看急救通道病例"),
    Category.PUBLIC_HEALTH: _("您的角色不能查看签约与公卫服务记录"),
    Category.AUDIT_LOG: _("只有审计员可以查看审计日志"),
}


def can_read(user, category: str) -> bool:
    if not _active(user):
        return False
    return category in READS.get(getattr(user, "role", ""), frozenset())


def check_read(actor: Actor, category: str, obj: Any = None) -> None:
    """Refuse a read of this category (Forbidden + ``denied`` audit event) unless the role allows it."""
    if actor.user is None and actor.username != "anonymous":
        return
    if can_read(actor.user, category):
        return
    object_type, object_id = _describe(obj)
    audit.record(actor, "denied", object_type or category, object_id, attempted=f"read:{category}")
    raise Forbidden(READ_MESSAGES.get(category, _("没有权限查看")), code="permission_denied")


# ---- shared predicates for the apps' verb declarations -----------------------------------------------------


def has_role(user, *roles: str) -> bool:
    return getattr(user, "role", None) in roles


def is_clinician(user) -> bool:
    return getattr(user, "role", None) in _CLINICIANS


def is_manager(user) -> bool:
    return getattr(user, "role", None) in _MANAGERS


# ---- the orgs app's own verbs ------------------------------------------------------------------------------

_STAFF_REGISTRARS = {R.FACILITY_ADMIN, R.COMMUNITY_MANAGER, R.BUREAU}


def _facility_within(user, facility) -> bool:
    """Whether the user administers this facility: a facility admin their own facility and those under it, a
    community manager their community's members, the bureau the facilities of its county."""
    if facility is None:
        return False
    if user.role == R.FACILITY_ADMIN:
        return user.facility_id is not None and user.facility_id in (facility.pk, facility.parent_id)
    if user.role == R.COMMUNITY_MANAGER:
        community = user.facility.community_id if user.facility_id else None
        return community is not None and facility.community_id == community
    if user.role == R.BUREAU:
        from .queries import registry_scope

        return registry_scope(user).contains(facility.region.code)
    return False


@verb("orgs.create_staff", _("只有机构管理员、医共体管理人员或卫健局可以为其管辖的机构登记人员"))
def can_create_staff(user, facility) -> bool:
    """``facility`` is the staff member's work facility."""
    if user.is_superuser:
        return True
    return has_role(user, *_STAFF_REGISTRARS) and (facility is None or _facility_within(user, facility))


@verb("orgs.create_account", _("只有系统管理员可以创建账号"))
def can_create_account(user, obj) -> bool:
    return bool(user.is_superuser)


@verb("orgs.issue_token", _("只能为自己的账号签发访问令牌"))
def can_issue_token(user, owner) -> bool:
    return owner is None or owner.pk == user.pk or bool(user.is_superuser)


@verb("orgs.revoke_token", _("只能撤销自己的访问令牌"))
def can_revoke_token(user, token) -> bool:
    return token is None or token.user_id == user.pk or bool(user.is_superuser)
