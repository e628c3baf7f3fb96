"""The simulation pages: the what-if form and the saved runs, and one run's results per member and for the fund."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.permissions import can

from .. import simulation
from ..queries import payment as q
from .payment import _year

# form field → level key of ``rate_pct`` ("" = the 基层病组 rate)
RATE_FIELDS = {"rate_pct_county": "county", "rate_pct_township": "township", "rate_pct_village": "village",
               "rate_pct_grassroots": ""}


def _number(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text  # the service names it in Chinese


def _codes(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,，、;；]+", text[:3000].upper()) if c]


def parameters_from(form) -> dict[str, Any]:
    """The simulation parameters from the page's form (only what was filled in)."""
    params: dict[str, Any] = {}
    pct = {lv: _number(form[f].strip()) for f, lv in RATE_FIELDS.items() if form.get(f, "").strip()}
    if form.get("rate_pct", "").strip():
        params["rate_pct"] = _number(form["rate_pct"].strip())
    elif pct:
        params["rate_pct"] = pct
    lines = [ln.split() for ln in form.get("weight_pct", "")[:3000].splitlines() if ln.strip()]
    if lines:
        params["weight_pct"] = {p[0].upper(): _number(p[1]) if len(p) > 1 else "" for p in lines}
    for key in ("grassroots_add", "grassroots_remove"):
        if form.get(key, "").strip():
            params[key] = _codes(form[key])
    if form.get("out_of_county_deduction", "").strip():
        params["out_of_county_deduction"] = _number(form["out_of_county_deduction"].strip())
    return params


@login_required
@domain_errors_as_pages
def simulation_page(request):
    year, actor, errors = _year(request), Actor.from_request(request), {}
    q.check_view(actor)
    if request.method == "POST":
        try:
            results = simulation.run_simulation(year, parameters_from(request.POST), actor=actor,
                                                name=request.POST.get("name", ""))
            return redirect("insurance:simulation_detail", pk=results["id"])
        except InvalidInput as e:
            errors = e.errors or {"": [e.message]}
    return render(request, "insurance/simulation.html", {
        "year": year, "years": q.years_with_cases(), "runs": q.simulations_of(actor)[:50], "errors": errors,
        "form": request.POST if request.method == "POST" else {}, "can_run": can(request.user, "insurance.simulate"),
        "note": _("变化幅度填百分数，例如 -5 表示下调 5%")})


@login_required
@domain_errors_as_pages
def simulation_detail(request, pk: int):
    sim = q.get_simulation_for(Actor.from_request(request), pk)
    return render(request, "insurance/simulation_detail.html", {"sim": sim, "r": sim.results})
