"""健康体检: the checks of my area, the 65+ and chronic patients still to check this year, one check, the form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.core.validation import today
from yigongti.residents.queries import get_resident_for

from ..models import CheckPurpose
from ..queries import checks as q
from ..services import checks as services
from ._common import area_choices


@login_required
@domain_errors_as_pages
def checks(request):
    g, actor = request.GET, Actor.from_request(request)
    f = {k: g.get(k, "") for k in ("village", "township", "purpose", "who", "tab")}
    year = g.get("year") or today().year
    if f["tab"] == "todo":
        page = q.unchecked(actor, year=year, who=f["who"], village=f["village"], township=f["township"],
                           page=paginate_params(request))
    else:
        page = q.list_checks(actor, year=year, village=f["village"], township=f["township"], purpose=f["purpose"],
                             page=paginate_params(request))
    towns, villages = area_choices(request.user, f["township"])
    return render(request, "publichealth/checks.html", {
        "page": page, "f": f, "year": year, "towns": towns, "villages": villages, "purposes": CheckPurpose.choices})


@login_required
@domain_errors_as_pages
def check_detail(request, pk: int):
    return render(request, "publichealth/check.html", {"c": q.get_check(Actor.from_request(request), pk)})


@login_required
@domain_errors_as_pages
def check_new(request):
    actor = Actor.from_request(request)
    resident = get_resident_for(actor, request.GET.get("resident") or request.POST.get("resident") or 0)
    purpose = request.GET.get("purpose") or (CheckPurpose.ELDERLY if (resident.age or 0) >= 65 else
                                             CheckPurpose.GENERAL)
    form = request.POST if request.method == "POST" else {"date": today().isoformat(), "purpose": purpose}
    errors, unlikely = {}, False
    if request.method == "POST":
        try:
            row = services.record_check(actor, resident, request.POST, confirm_unlikely=bool(request.POST.get(
                "confirm_unlikely")))
            messages.success(request, _("体检已保存"))
            return redirect("publichealth:check", pk=row.pk)
        except InvalidInput as e:
            errors, unlikely = e.errors or {"__all__": [e.message]}, e.code == "unlikely_values"
    return render(request, "publichealth/check_new.html", {
        "resident": resident, "form": form, "errors": errors, "unlikely": unlikely,
        "error": next(iter(errors.values()))[0] if errors else "", "purposes": CheckPurpose.choices,
        "history": q.resident_checks(actor, resident, limit=3)}, status=422 if errors else 200)


urlpatterns = [
    path("checks/", checks, name="checks"),
    path("checks/new/", check_new, name="check_new"),
    path("checks/<int:pk>/", check_detail, name="check"),
]
