"""Follow-ups of a referral: the receiving clinic records the dates of a down-referral's plan; the sending facility
records the follow-up two weeks after an up-referral (《国家基本公共卫生服务规范》). Like the moves, a refusal
decided on the locked row is recorded after the transaction (``allows`` inside, ``check`` after)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, NotFound
from yigongti.orgs.permissions import allows, can, check

from . import workflow
from .models import FollowUp, FollowUpKind, FollowUpStatus, Referral, ReferralEvent
from .permissions import at_origin, at_target


class _Refused(Exception):
    """Raised inside the transaction so that the refusal is recorded after it rolls back."""


def may_follow_up(user, r: Referral, fu: FollowUp) -> bool:
    """Whether the user may record this follow-up now (for showing the form; the service checks again)."""
    if fu.status != FollowUpStatus.PLANNED or not can(user, "referrals.follow_up", r):
        return False
    if fu.kind == FollowUpKind.AFTER_UP:
        return at_origin(user, r)
    return at_target(user, r) and r.status in workflow.FOLLOWING

def record_follow_up(referral_pk: int, follow_up_pk: int, *, actor: Actor, note: str,
                     status: str = FollowUpStatus.DONE) -> FollowUp:
    try:
        return _record_follow_up(referral_pk, follow_up_pk, actor, note, status)
    except _Refused as refused:
        check(actor, "referrals.follow_up", refused.args[0])
        raise


def _record_follow_up(referral_pk: int, follow_up_pk: int, actor: Actor, note: str, status: str) -> FollowUp:
    """随访: the receiving doctor records a planned follow-up of a down-referred patient; the sending facility
    records the follow-up two weeks after an up-referral."""
    note = (note or "").strip()
    if status not in (FollowUpStatus.DONE, FollowUpStatus.MISSED):
        raise InvalidInput("invalid_status", _("随访结果无效"), field="status")
    if not note:
        raise InvalidInput("note_required", _("请填写随访记录"), field="note")
    user = actor.user
    with transaction.atomic():
        r = Referral.objects.select_for_update().filter(pk=referral_pk).first()
        fu = FollowUp.objects.filter(pk=follow_up_pk, referral_id=referral_pk).first() if r else None
        after_up = fu is not None and fu.kind == FollowUpKind.AFTER_UP
        side = at_origin if after_up else at_target
        if r is None or (user is not None and not side(user, r)):
            raise NotFound(_("转诊单不存在或无权访问"))
        if not allows(actor, "referrals.follow_up", r):
            raise _Refused(r)
        if fu is None:
            raise NotFound(_("随访计划不存在"))
        if not after_up and r.status not in workflow.FOLLOWING:
            raise Conflict("not_receiving", _("转诊单当前状态为“%(status)s”，请先接收再登记随访")
                           % {"status": r.get_status_display()})
        if fu.status != FollowUpStatus.PLANNED:
            raise Conflict("follow_up_done", _("这次随访已登记"))
        fu.status, fu.note, fu.done_at, fu.done_by = status, note, timezone.now(), user
        fu.save()
        ReferralEvent.objects.create(referral=r, at=fu.done_at, actor=user, action="follow_up",
                                     from_status=r.status, to_status=r.status, note=f"{fu.due_date:%Y-%m-%d} {note}")
        audit.record(actor, "update", "referral", r.pk, move="follow_up", follow_up=fu.pk)
    return fu
