from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from yigongti.core.pages import domain_errors_as_pages, hx_or_full, paginate_params
from yigongti.core.paging import slice_page
from yigongti.residents.queries import age_band_counts, key_population_counts, residents_in_scope_count

from . import queries, services
from .models import ApiToken, FacilityType


@login_required
def home(request):
    """The community at a glance, for the account's place in the hierarchy."""
    user = request.user
    facilities = queries.facilities_visible_to(user)
    by_type = dict(facilities.values_list("type").annotate(n=Count("id")).values_list("type", "n"))
    beds = facilities.aggregate(approved=Sum("approved_beds"), open=Sum("open_beds"))
    ctx = {
        "communities": queries.communities_visible_to(user),
        "facility_types": [(label, by_type.get(code, 0)) for code, label in FacilityType.choices],
        "facility_total": sum(by_type.values()),
        "beds": beds,
        "staff_total": queries.staff_visible_to(user).filter(is_active=True).count(),
        "sees_records": user.role != "auditor",
    }
    if ctx["sees_records"]:
        ctx["resident_total"] = residents_in_scope_count(user)
        ctx["key_populations"] = key_population_counts(user)
        ctx["age_bands"] = age_band_counts(user)
        ctx["chart_data"] = {"ages": ctx["age_bands"]}
    return render(request, "orgs/home.html", ctx)


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


@login_required
def staff_list(request):
    q = request.GET.get("q", "").strip()
    page = slice_page(queries.staff_visible_to(request.user, q=q), paginate_params(request), 50)
    return hx_or_full(request, "orgs/staff_list.html", "orgs/_staff_rows.html", {"page": page, "q": q})


@login_required
def tokens(request):
    return render(request, "orgs/tokens.html",
                  {"tokens": ApiToken.objects.filter(user=request.user).order_by("-created")})


@login_required
@require_POST
def token_create(request):
    _tok, plain = services.issue_token(request, request.user, request.POST.get("name", "").strip()[:60])
    messages.success(request, f"新令牌（只显示这一次，请妥善保存）：{plain}")
    return redirect("orgs:tokens")


@login_required
@require_POST
def token_revoke(request, pk: int):
    tok = ApiToken.objects.filter(user=request.user, pk=pk).first()
    if tok:
        services.revoke_token(request, tok)
    return redirect("orgs:tokens")
