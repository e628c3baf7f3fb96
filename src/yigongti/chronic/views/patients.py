"""The managed patients of my area (``chronic:patients``), the candidates found in encounters
(``chronic:candidates``), enrolling one (``chronic:enrol``) and one patient's history with its BP/FBG chart
(``chronic:patient``). Reads through ``queries.patients``, writes through ``services.enrolment``."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, InvalidInput
from yigongti.core.pages import domain_errors_as_pages
from yigongti.core.paging import clamp_page
from yigongti.encounters.models import Encounter
from yigongti.orgs.permissions import can
from yigongti.residents.queries import get_resident_for

from ..models import Condition, EnrolmentEndReason
from ..queries import patients as q
from ..queries.ledger import villages_for
from ..services import enrolment as services


@login_required
@domain_errors_as_pages
def patients(request):
    actor = Actor.from_request(request)
    f = q.PatientFilter.from_query(request.GET)
    page = q.patients_for(actor, f, page=clamp_page(request.GET.get("page")))
    return render(request, "chronic/patients.html", {
        "page": page, "f": f, "conditions": Condition.choices, "villages": villages_for(request.user),
        "may_enrol": can(request.user, "chronic.enrol")})


@login_required
@domain_errors_as_pages
def candidates(request):
    actor = Actor.from_request(request)
    condition = request.GET.get("condition", "")
    rows = services.candidates(actor, condition=condition, village=request.GET.get("village", "")[:12])
    return render(request, "chronic/candidates.html", {"rows": rows, "condition": condition,
                                                       "conditions": Condition.choices})


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        raise InvalidInput("invalid_date", _("日期格式应为 YYYY-MM-DD"), field="enrolled_on") from None


@login_required
@domain_errors_as_pages
def enrol(request):
    actor = Actor.from_request(request)
    data = request.POST if request.method == "POST" else request.GET
    resident = get_resident_for(actor, data.get("resident", ""))
    encounter = Encounter.objects.filter(pk=data.get("encounter") or 0, resident=resident).first()
    errors, status = {}, 200
    if request.method == "POST":
        try:
            e = services.enrol(actor, resident, data.get("condition", ""), enrolled_on=_date(data.get("enrolled_on")),
                               diagnosed_on=_date(data.get("diagnosed_on", "")), encounter=encounter,
                               icd10=data.get("icd10", ""))
            messages.success(request, _("已纳入管理"))
            return redirect("chronic:patient", pk=e.pk)
        except DomainError as exc:
            if exc.status == 403:
                raise
            errors, status = exc.errors or {"__all__": [exc.message]}, 400
    return render(request, "chronic/enrol.html", {
        "resident": resident, "encounter": encounter, "values": data, "errors": errors,
        "conditions": Condition.choices}, status=status)


@login_required
@domain_errors_as_pages
def patient(request, pk: int):
    actor = Actor.from_request(request)
    e = q.get_enrolment(actor, pk)
    if request.method == "POST" and request.POST.get("end"):
        services.end_enrolment(actor, e, reason=request.POST.get("reason", ""),
                               on=_date(request.POST.get("ended_on", "")))
        messages.success(request, _("已结案"))
        return redirect("chronic:patient", pk=e.pk)
    rows = q.follow_ups_of(actor, e)
    for f in rows:
        f.reason_text = q.reason_labels(f.reasons)  # type: ignore[attr-defined]
    return render(request, "chronic/patient.html", {
        "e": e, "rows": rows, "chart": q.chart(rows), "masked": q.masked(e), "end_reasons": EnrolmentEndReason.choices,
        "may_follow_up": can(request.user, "chronic.follow_up", e), "may_end": can(request.user, "chronic.end", e),
        "may_medicines": can(request.user, "chronic.medicines", e)})


urlpatterns = [
    path("patients/", patients, name="patients"),
    path("candidates/", candidates, name="candidates"),
    path("enrol/", enrol, name="enrol"),
    path("patients/<int:pk>/", patient, name="patient"),
]
