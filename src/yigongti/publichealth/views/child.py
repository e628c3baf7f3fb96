"""0～6岁儿童健康管理: the children of my area with what is due, one child's visits and plan, recording a visit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.core.validation import today
from yigongti.orgs.permissions import allows
from yigongti.residents.queries import get_resident_for

from .. import schedules
from ..queries import child as q
from ..services import child as services
from ._common import area_choices


@login_required
@domain_errors_as_pages
def children(request):
    g, actor = request.GET, Actor.from_request(request)
    f = {k: g.get(k, "") for k in ("village", "township", "due")}
    page = q.list_children(actor, page=paginate_params(request), **f)
    towns, villages = area_choices(request.user, f["township"])
    return render(request, "publichealth/children.html", {"page": page, "f": f, "towns": towns,
                                                          "villages": villages})


@login_required
@domain_errors_as_pages
def child(request, pk: int):
    actor = Actor.from_request(request)
    resident = get_resident_for(actor, pk)
    return render(request, "publichealth/child.html", {
        "row": q.child_record(actor, resident), "c": resident, "schedule": schedules.child(),
        "can_visit": allows(actor, "publichealth.child_visit", resident)})


@login_required
@domain_errors_as_pages
def child_visit(request, pk: int):
    actor = Actor.from_request(request)
    resident = get_resident_for(actor, pk)
    row = q.child_record(actor, resident)
    on = today()
    kind = request.GET.get("kind") or services.suggested_kind(resident, on, {v.kind for v in row.visits})
    form = request.POST if request.method == "POST" else {"date": on.isoformat(), "kind": kind}
    errors: dict = {}
    if request.method == "POST":
        try:
            v = services.record_child_visit(actor, resident, request.POST)
            if getattr(v, "window", "ok") in ("early", "late"):
                messages.warning(request, _("检查已保存（超窗：不在该项目的规定时间内）"))
            else:
                messages.success(request, _("检查已保存"))
            return redirect("publichealth:child", pk=pk)
        except (InvalidInput, Conflict) as e:
            errors = e.errors or {"__all__": [e.message]}
    return render(request, "publichealth/child_visit.html", {
        "row": row, "c": resident, "form": form, "errors": errors, "schedule": schedules.child(),
        "error": next(iter(errors.values()))[0] if errors else ""}, status=422 if errors else 200)


urlpatterns = [
    path("children/", children, name="children"),
    path("children/<int:pk>/", child, name="child"),
    path("children/<int:pk>/visit/", child_visit, name="child_visit"),
]
