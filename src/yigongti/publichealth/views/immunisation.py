"""预防接种: the due and overdue doses of my area, a child's vaccine card, and the form recording a dose."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.core.pages import domain_errors_as_pages
from yigongti.core.validation import today
from yigongti.orgs.permissions import can
from yigongti.residents.queries import get_resident_for

from .. import immunisation as rules
from ..queries import immunisation as q
from ..services import immunisation as services
from ._common import area_choices


@login_required
@domain_errors_as_pages
def due(request):
    g = request.GET
    f = {"village": g.get("village", ""), "township": g.get("township", ""), "vaccine": g.get("vaccine", ""),
         "overdue": g.get("overdue", "")}
    error, result = "", None
    try:
        result = q.due_list(Actor.from_request(request), on=today(), village=f["village"], township=f["township"],
                            vaccine=f["vaccine"], overdue_only=f["overdue"] == "1", horizon_days=30)
    except InvalidInput as e:
        if e.code not in ("area_too_large", "invalid_village", "invalid_township", "invalid_vaccine"):
            raise
        error = e.message
    towns, villages = area_choices(request.user, f["township"])
    return render(request, "publichealth/immunisation.html", {
        "result": result, "error": error, "f": f, "towns": towns, "villages": villages,
        "vaccines": [(v, v) for v in rules.schedule().vaccines()],
        "schedule": rules.schedule(), "today": today()})


@login_required
@domain_errors_as_pages
def vaccine_card(request, pk: int):
    c = q.card(Actor.from_request(request), pk, on=today())
    return render(request, "publichealth/vaccine_card.html", {
        "card": c, "may_vaccinate": can(request.user, "publichealth.vaccinate", c.child)})


@login_required
@domain_errors_as_pages
def vaccinate(request, pk: int):
    actor = Actor.from_request(request)
    child = get_resident_for(actor, pk)
    form = request.POST if request.method == "POST" else {"given_on": today().isoformat(), **request.GET.dict()}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            dose = services.record_dose(actor, child, request.POST)
            messages.success(request, _("已登记：%(name)s") % {"name": rules.schedule().rule(
                dose.vaccine, dose.dose).label})  # type: ignore[union-attr]
            return redirect("publichealth:vaccine_card", pk=child.pk)
        except (InvalidInput, Conflict) as e:
            errors = e.errors or {"__all__": [e.message]}
    c = q.card(actor, child.pk, on=today())
    return render(request, "publichealth/vaccinate.html", {
        "card": c, "form": form, "errors": errors, "error": next(iter(errors.values()))[0] if errors else "",
        "may_vaccinate": can(request.user, "publichealth.vaccinate", child)}, status=422 if errors else 200)


urlpatterns = [
    path("immunisation/", due, name="immunisation"),
    path("immunisation/card/<int:pk>/", vaccine_card, name="vaccine_card"),
    path("immunisation/vaccinate/<int:pk>/", vaccinate, name="vaccinate"),
]
