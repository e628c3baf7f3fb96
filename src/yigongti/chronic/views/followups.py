"""The follow-up form (``chronic:follow_up``): the phone-first page the village doctor fills at the clinic or at
the patient's home (390 px wide). Unlikely readings come back with "确认读数"; after saving, the patient page
shows the rules' decision, and an urgent referral drafted by the service can be submitted at once
(``chronic:submit_referral``). Writes go through ``services.followups``."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.permissions import check

from .. import rules
from ..models import Adherence, Condition, VisitMode
from ..queries import patients as q
from ..services import followups as services


def _meds(request) -> list[tuple[str, str, str]]:
    """The medication rows typed (kept when the form comes back), with blank rows to make at least two."""
    p = request.POST
    rows = list(zip(p.getlist("med_name"), p.getlist("med_dose"), p.getlist("med_frequency"), strict=False))
    rows = [r for r in rows if any(r)]
    return rows + [("", "", "")] * max(2 - len(rows), 1 if rows else 0)


def _choices(items: list[dict]) -> list[tuple[str, str]]:
    en = (translation.get_language() or "").startswith("en")
    return [(i["code"], i["label_en"] if en else i["label"]) for i in items]


@login_required
@domain_errors_as_pages
def follow_up(request, pk: int):
    actor = Actor.from_request(request)
    e = q.get_enrolment(actor, pk)
    check(actor, "chronic.follow_up", e)
    errors, warnings, status = {}, {}, 200
    values = request.POST if request.method == "POST" else {"visit_date": timezone.localdate().isoformat(),
                                                            "key": uuid.uuid4().hex}
    if request.method == "POST":
        try:
            fu = services.record_follow_up(actor, e, request.POST, confirm_unlikely=request.POST.get("confirm") == "1",
                                           idempotency_key=request.POST.get("key", ""))
            messages.success(request, _("随访已保存：%(d)s") % {"d": fu.get_decision_display()})
            return redirect("chronic:patient", pk=e.pk)
        except services.Unlikely as exc:
            warnings, status = exc.errors, 400
        except DomainError as exc:
            if exc.status == 403:
                raise
            errors, status = exc.errors or {"__all__": [exc.message]}, 400
    s = rules.standard()
    return render(request, "chronic/follow_up.html", {
        "e": e, "values": values, "errors": errors, "warnings": warnings,
        "is_htn": e.condition == Condition.HYPERTENSION,
        "signs": _choices(s.signs_for(e.condition)), "symptoms": _choices(s.symptoms_for(e.condition)),
        "modes": VisitMode.choices, "adherence": Adherence.choices, "edition": s.edition_label,
        "meds": _meds(request),
        "checked_signs": request.POST.getlist("danger_signs") if request.method == "POST" else [],
        "checked_symptoms": request.POST.getlist("symptoms") if request.method == "POST" else []}, status=status)


@login_required
@require_POST
@domain_errors_as_pages
def follow_up_check(request, pk: int):
    """The form's live check (htmx): what the rules would decide for the readings typed so far; nothing saved."""
    actor = Actor.from_request(request)
    e = q.get_enrolment(actor, pk)
    check(actor, "chronic.follow_up", e)
    outcome, problems = None, []
    try:
        outcome, warnings = services.preview(e, request.POST)
        problems = list(warnings.values())
    except DomainError as exc:
        if exc.status == 403:
            raise
        problems = [m for msgs in exc.errors.values() for m in msgs] or [exc.message]
    return render(request, "chronic/follow_up_check.html", {
        "outcome": outcome, "problems": problems,
        "reasons": q.reason_labels(outcome.reasons) if outcome else []})


@login_required
@require_POST
@domain_errors_as_pages
def submit_referral(request, pk: int):
    actor = Actor.from_request(request)
    fu = q.get_follow_up(actor, pk)
    try:
        services.submit_suggested_referral(actor, fu)
        messages.success(request, _("转诊单已提交"))
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    return redirect("chronic:patient", pk=fu.enrolment_id)


urlpatterns = [
    path("patients/<int:pk>/follow-up/", follow_up, name="follow_up"),
    path("patients/<int:pk>/follow-up/check/", follow_up_check, name="follow_up_check"),
    path("follow-ups/<int:pk>/submit-referral/", submit_referral, name="submit_referral"),
]
