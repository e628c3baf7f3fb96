"""The talent pool's page: each facility's staffing against its posts (编制) by category, the people working away
from their establishment (岗编分离), the assignments (县管乡用、乡聘村用) asked for, approved and ended."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, NotFound
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.models import Profession
from yigongti.orgs.permissions import can

from .inputs import as_pk
from .models import AssignmentStatus
from .queries import pool as pq
from .services import pool as ps


@login_required
@domain_errors_as_pages
def pool_page(request):
    actor = Actor.from_request(request)
    ctx: dict = {"form": {}, "errors": {}}
    fid = as_pk(request.GET.get("facility")) or None
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "posts":
                facility = pq.facilities_visible_to(request.user).filter(pk=as_pk(request.POST.get("facility")))\
                    .first()
                if facility is None:
                    raise NotFound()
                ps.set_posts(request, facility, request.POST.dict())
                messages.success(request, _("已保存编制岗位"))
            elif action in ("approve", "reject", "end"):
                a = pq.get_assignment_for(request.user, as_pk(request.POST.get("assignment")))
                if action == "end":
                    ps.end_assignment(request, a)
                    messages.success(request, _("派用已结束"))
                else:
                    ps.decide_assignment(request, a, action == "approve")
                    messages.success(request, _("已审批"))
            else:
                if not pq.staff_choices(request.user).filter(pk=as_pk(request.POST.get("staff"))).exists():
                    raise NotFound()
                ps.request_assignment(request, request.POST.dict())
                messages.success(request, _("已提交派用申请，待医共体审批"))
            return redirect(request.get_full_path())
        except DomainError as e:
            if e.status == 404:
                raise
            messages.error(request, e.message)
            ctx.update({"form": request.POST, "errors": e.errors})
    lines = pq.staffing(request.user, fid)
    ctx.update({
        "lines": lines, "facility": fid, "facilities": list(pq.facilities_visible_to(request.user).order_by("code")),
        "categories": Profession.choices, "pool": pq.pool(actor),
        "assignments": list(pq.assignments_visible_to(request.user).order_by("-created_at")[:200]),
        "staff": list(pq.staff_choices(request.user).filter(establishment_facility_id=fid)[:500]) if fid else [],
        "may_posts": can(request.user, "workforce.posts"), "may_assign": can(request.user, "workforce.assign"),
        "may_approve": can(request.user, "workforce.approve_assignment"), "pending": AssignmentStatus.PENDING,
        "approved": AssignmentStatus.APPROVED})
    return render(request, "workforce/pool.html", ctx)
