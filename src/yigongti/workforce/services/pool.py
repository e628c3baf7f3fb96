"""The talent pool (人才池) and 岗编分离: the community sets each member facility's establishment posts by
category; a member of the pool is assigned from their establishment facility to work elsewhere (县管乡用: a
county-level post working at a township; 乡聘村用: a township post working at a village clinic), asked for by
a facility admin of either end or a manager, approved by another manager — then the staff's work facility
follows (the establishment stays); ending an assignment brings them back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import actor_of
from yigongti.core.carelevel import CareLevel, care_level
from yigongti.core.errors import Conflict, NotFound, collect
from yigongti.orgs.models import Facility, Profession, Staff
from yigongti.orgs.permissions import check

from ..inputs import as_count, as_day, as_pk
from ..models import Assignment, AssignmentKind, AssignmentStatus, EstablishmentPost


def kind_for(source: Facility, target: Facility) -> str:
    a, b = care_level(source.type), care_level(target.type)
    if a in (CareLevel.COUNTY, CareLevel.CITY) and b in (CareLevel.TOWNSHIP, CareLevel.VILLAGE):
        return AssignmentKind.COUNTY_TO_TOWNSHIP
    if a == CareLevel.TOWNSHIP and b == CareLevel.VILLAGE:
        return AssignmentKind.TOWNSHIP_TO_VILLAGE
    return AssignmentKind.TRANSFER


def set_posts(actor, facility: Facility, data: Mapping[str, Any]) -> EstablishmentPost:
    """``data`` category (a profession), posts."""
    actor = actor_of(actor)
    errors: dict[str, list[str]] = {}
    category = str(data.get("category") or "")
    if category not in Profession.values:
        errors["category"] = [_("请选择岗位类别")]
    posts = as_count(data.get("posts"), errors, "posts", 0, 5000)
    check(actor, "workforce.posts", EstablishmentPost(facility=facility))
    collect(errors, "invalid_posts")
    assert posts is not None
    with transaction.atomic():
        row, _c = EstablishmentPost.objects.update_or_create(facility=facility, category=category,
                                                            defaults={"posts": posts})
        audit.record(actor, "update", "wf_posts", row.pk, facility=facility.pk, category=category, posts=posts)
    return row


def request_assignment(actor, data: Mapping[str, Any]) -> Assignment:
    """``data`` staff, to_facility, start, end (optional), note."""
    actor = actor_of(actor)
    errors: dict[str, list[str]] = {}
    staff = Staff.objects.filter(pk=as_pk(data.get("staff")), is_active=True)\
        .select_related("establishment_facility", "work_facility").first()
    if staff is None:
        errors["staff"] = [_("请选择在岗人员")]
    target = Facility.objects.filter(pk=as_pk(data.get("to_facility")), is_active=True).first()
    if target is None:
        errors["to_facility"] = [_("请选择使用机构")]
    start = as_day(data.get("start"), errors, "start")
    end = as_day(data.get("end"), errors, "end", required=False)
    if start and end and end < start:
        errors["end"] = [_("结束日期不能早于开始日期")]
    if staff and target:
        if target.pk == staff.establishment_facility_id:
            errors["to_facility"] = [_("使用机构与编制机构相同，无需派用")]
        elif target.community_id is None or target.community_id != staff.establishment_facility.community_id:
            errors["to_facility"] = [_("只能在本医共体成员机构之间派用")]
    collect(errors, "invalid_assignment")
    assert staff is not None and target is not None and start is not None
    a = Assignment(staff=staff, kind=kind_for(staff.establishment_facility, target),
                   from_facility=staff.establishment_facility, to_facility=target, start=start, end=end,
                   note=str(data.get("note") or "")[:200], requested_by=actor.user)
    check(actor, "workforce.assign", a)
    with transaction.atomic():
        list(Staff.objects.select_for_update().filter(pk=staff.pk).values_list("pk", flat=True))
        if Assignment.objects.filter(staff=staff, status=AssignmentStatus.PENDING).exists():
            raise Conflict("assignment_pending", _("该人员已有待审批的派用申请"), field="staff")
        a.save()
        audit.record(actor, "create", "wf_assignment", a.pk, staff=staff.pk, to=target.pk, kind=a.kind)
    return a


def decide_assignment(actor, assignment: Assignment, approve: bool) -> Assignment:
    """Approve (the staff's work facility becomes the target, an earlier open assignment ends) or reject."""
    actor = actor_of(actor)
    check(actor, "workforce.approve_assignment", assignment)
    with transaction.atomic():
        a = Assignment.objects.select_for_update().filter(pk=assignment.pk).select_related("staff").first()
        if a is None:
            raise NotFound()
        if a.status != AssignmentStatus.PENDING:
            raise Conflict("assignment_decided", _("该派用申请已审批"))
        a.status = AssignmentStatus.APPROVED if approve else AssignmentStatus.REJECTED
        a.decided_by, a.decided_at = actor.user, timezone.now()
        a.save(update_fields=["status", "decided_by", "decided_at"])
        if approve:
            Assignment.objects.filter(staff=a.staff, status=AssignmentStatus.APPROVED).exclude(pk=a.pk)\
                .update(status=AssignmentStatus.ENDED, end=a.start)
            Staff.objects.filter(pk=a.staff_id).update(work_facility=a.to_facility)
        audit.record(actor, "update", "wf_assignment", a.pk, status=a.status)
    return a


def end_assignment(actor, assignment: Assignment) -> Assignment:
    """The assignment ends today: the staff works at their establishment facility again."""
    actor = actor_of(actor)
    check(actor, "workforce.posts", assignment)  # the community's managers
    with transaction.atomic():
        a = Assignment.objects.select_for_update().filter(pk=assignment.pk).first()
        if a is None:
            raise NotFound()
        if a.status != AssignmentStatus.APPROVED:
            raise Conflict("assignment_not_active", _("只有已批准的派用可以结束"))
        a.status, a.end = AssignmentStatus.ENDED, timezone.localdate()
        a.save(update_fields=["status", "end"])
        Staff.objects.filter(pk=a.staff_id).update(work_facility=a.from_facility)
        audit.record(actor, "update", "wf_assignment", a.pk, status=a.status)
    return a
