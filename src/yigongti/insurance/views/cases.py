"""Settlement-list pages (结算清单): the case list, one discharge with its groups side by side and the coder's
form. Thin adapters over ``queries.cases`` and ``discharges``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages, hx_or_full, paginate_params
from yigongti.orgs.permissions import can

from .. import discharges
from ..models import Discharge
from ..queries import cases as queries


@login_required
@domain_errors_as_pages
def case_list(request: HttpRequest) -> HttpResponse:
    f = queries.CaseFilter.from_query(request.GET)
    version = discharges.payment_version()
    page = queries.case_list(Actor.from_request(request), f, paginate_params(request), version=version)
    ctx = {"page": page, "f": f, "version": version, "statuses": queries.STATUSES,
           "facilities": queries.facility_choices(request.user), "months": queries.month_choices(request.user),
           "may_group": can(request.user, "insurance.group_cases")}
    return hx_or_full(request, "insurance/cases.html", "insurance/cases_rows.html", ctx)


@login_required
@domain_errors_as_pages
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    d = queries.get_discharge_for(actor, pk)
    errors: dict = {}
    values = form_values(d)
    if request.method == "POST":
        try:
            discharges.update_discharge(d, form_fields(request.POST), actor=actor)
            messages.success(request, _("结算清单已保存并重新分组"))
            return redirect("insurance:case_detail", pk=d.pk)
        except DomainError as e:
            if e.status == 403:
                raise
            errors = e.errors or {"all": [e.message]}
            values = {**form_fields(request.POST), **{k: request.POST.get(k, "") for k in CODE_TEXTS}}
    return render(request, "insurance/cases_detail.html", {
        "d": d, "versions": [(v, d.by_version.get(v)) for v in discharges.versions()],  # type: ignore[attr-defined]
        "payments": queries.payments_of(d), "may_code": can(request.user, "insurance.code_discharge", d),
        "may_group": can(request.user, "insurance.group_cases"),
        "errors": errors, "values": values, "modes": Discharge.DischargeMode.choices,
        "payment_version": discharges.payment_version()})


CODE_TEXTS = ("diagnoses", "procedures", "ventilation_hours", "birth_weight_g")


def form_values(d: Discharge) -> dict:
    """The coder's form filled from the list (codes one per line)."""
    return {"diagnoses": "\n".join(d.diagnoses), "procedures": "\n".join(d.procedures),
            "ventilation_hours": d.ventilation_hours, "birth_weight_g": d.birth_weight_g or "",
            "discharge_mode": d.discharge_mode, "special_review": d.special_review}


def form_fields(post) -> dict:
    """The coder's form as the service's input (codes one per line; the checkbox as a boolean)."""
    return {"diagnoses": post.get("diagnoses", ""), "procedures": post.get("procedures", ""),
            "ventilation_hours": post.get("ventilation_hours", "") or "0",
            "birth_weight_g": post.get("birth_weight_g", ""), "discharge_mode": post.get("discharge_mode", ""),
            "special_review": "special_review" in post}


@login_required
@require_POST
@domain_errors_as_pages
def case_regroup(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    d = queries.get_discharge_for(actor, pk)
    discharges.regroup_discharge(d, actor=actor)
    messages.success(request, _("已按各版本重新分组"))
    return redirect("insurance:case_detail", pk=d.pk)


@login_required
@require_POST
@domain_errors_as_pages
def case_group_all(request: HttpRequest) -> HttpResponse:
    """The insurance officer refreshes every list from the encounters and groups them all."""
    actor = Actor.from_request(request)
    synced = discharges.sync_discharges(actor=actor)
    summaries = discharges.group_discharges(actor=actor)
    text = "；".join(_("%(v)s：入组 %(g)d，无法入组 %(u)d") % {"v": s.version, "g": s.grouped, "u": s.ungroupable}
                    for s in summaries)
    messages.success(request, _("已更新 %(n)d 份结算清单。") % {"n": synced.total} + text)
    return redirect("insurance:cases")
