from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.exports import EXPORT_LIMIT, list_xlsx_response
from yigongti.core.pages import domain_errors_as_pages, hx_or_full, paginate_params
from yigongti.core.paging import slice_page

from . import queries, services
from .home import home_for, title_for
from .models import ApiToken


@login_required
def home(request):
    """The account's home: its to-dos first, then the figures of what it manages (``orgs.home``)."""
    page = home_for(Actor.from_request(request))
    return render(request, "orgs/home.html", {"home": page, "title": title_for(request.user)})


@login_required
def facility_tree(request):
    return render(request, "orgs/facility_tree.html", {"tree": queries.facility_tree(request.user)})


@login_required
@domain_errors_as_pages
def facility_detail(request, pk: int):
    facility = queries.get_facility_for(request.user, pk)
    departments = facility.departments.annotate(staff_count=Count("staff"))
    staff = slice_page(queries.staff_visible_to(request.user, facility), paginate_params(request), 50)
    return render(request, "orgs/facility_detail.html",
                  {"facility": facility, "departments": departments, "staff_page": staff,
                   "children": facility.children.order_by("code")})


def _staff_filter(request) -> dict:
    g = request.GET
    return {"q": g.get("q", "").strip()[:40], "township": g.get("township", "")[:12],
            "facility_id": g.get("facility", "")[:12]}


@login_required
def staff_list(request):
    f = _staff_filter(request)
    qs = queries.staff_visible_to(request.user, **f).order_by("work_facility__code", "id")
    page = slice_page(qs, paginate_params(request), 50, count=qs.count())
    keep = {"q": f["q"], "township": f["township"], "facility": f["facility_id"]}
    ctx = {"page": page, **f, "export_query": urlencode({k: v for k, v in keep.items() if v}),
           "export_limit": EXPORT_LIMIT, **queries.staff_filter_choices(request.user)}
    return hx_or_full(request, "orgs/staff_list.html", "orgs/_staff_rows.html", ctx)


STAFF_HEADER = ["姓名", "执业类别", "职称", "科室", "工作机构", "编制所在", "执业证书编号"]


@login_required
@domain_errors_as_pages
def staff_export(request):
    """The staff list as filtered, as Excel: the page's rows and columns, audited."""
    rows = ([s.name, s.get_profession_display(), s.get_title_display(), s.department.name if s.department else "",
             s.work_facility.short_name or s.work_facility.name,
             s.establishment_facility.name if s.is_seconded else "", s.certificate_number or ""]
            for s in queries.export_staff(Actor.from_request(request), **_staff_filter(request)))
    return list_xlsx_response("人员名单.xlsx", "人员", STAFF_HEADER, rows)


@login_required
def tokens(request):
    return render(request, "orgs/tokens.html",
                  {"tokens": ApiToken.objects.filter(user=request.user).order_by("-created")})


@login_required
@require_POST
def token_create(request):
    _tok, plain = services.issue_token(request.user, request.POST.get("name", "").strip()[:60],
                                       actor=Actor.from_request(request))
    messages.success(request, f"新令牌（只显示这一次，请妥善保存）：{plain}")
    return redirect("orgs:tokens")


@login_required
@require_POST
def token_revoke(request, pk: int):
    tok = ApiToken.objects.filter(user=request.user, pk=pk).first()
    if tok:
        services.revoke_token(tok, actor=Actor.from_request(request))
    return redirect("orgs:tokens")
