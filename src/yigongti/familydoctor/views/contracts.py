"""Pages of contracts: the list (filter by team, village, status, key population), one contract, signing a
resident or a household (packages per member, consent by paper scan or tablet signature), renewing, ending, and
the consent scan itself."""

from __future__ import annotations

import base64
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, InvalidInput, NotFound
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.models import Region
from yigongti.orgs.permissions import can
from yigongti.residents.models import Household, KeyPopulation

from ..models import ConsentKind, ContractStatus, EndReason, ServicePackage
from ..queries import contracts as q
from ..queries import teams as tq
from ..services import contracts as services


@login_required
@domain_errors_as_pages
def contract_list(request):
    actor = Actor.from_request(request)
    f = q.ContractFilter.of(request.GET)
    rows, total = q.list_for(actor, f)
    return render(request, "familydoctor/contracts.html", {
        "rows": rows, "total": total, "f": f, "teams": tq.teams_list(request.user),
        "villages": tq.villages_of_user(request.user), "statuses": ContractStatus.choices,
        "tags": KeyPopulation.choices, "limit": q.LIMIT})


@login_required
@domain_errors_as_pages
def contract_page(request, pk: int):
    actor = Actor.from_request(request)
    c = q.get_for(actor, pk)
    svg = base64.b64encode(c.consent_signature.encode()).decode() if c.consent_signature else ""
    return render(request, "familydoctor/contract.html", {
        "c": c, "person": q.masked(request.user, c.resident), "signature_b64": svg,
        "may_renew": can(request.user, "familydoctor.renew", c) and services.may_renew_now(c),
        "may_end": can(request.user, "familydoctor.end_contract", c) and c.status == ContractStatus.ACTIVE,
        "may_deliver": can(request.user, "familydoctor.record_service", c) and c.status == ContractStatus.ACTIVE})


@login_required
@domain_errors_as_pages
def consent_file(request, pk: int):
    actor = Actor.from_request(request)
    c = q.get_for(actor, pk, audit_read=False)
    if not c.consent_file:
        raise NotFound()
    path_ = services.consent_path(c.consent_file)
    if not path_.exists():
        raise NotFound()
    audit.record(actor, "view", "fd_consent", c.pk)
    return FileResponse(path_.open("rb"), filename=f"{c.number}{path_.suffix}")


def _consent(request, form: dict) -> dict:
    """The form's consent fields, with an uploaded scan stored first (its storage name replaces the upload)."""
    upload = request.FILES.get("consent_upload")
    if form.get("consent_kind", ConsentKind.PAPER) == ConsentKind.PAPER and upload is not None:
        form["consent_file"] = services.store_consent(upload)
    return form


def _sign_context(request, actor, resident_pk, household_pk) -> dict:
    village: Region | None
    hh: Household | None
    if household_pk:
        hh = q.household_for(actor, household_pk)
        people = q.household_members(hh)
        village = hh.village
    else:
        person = q.resident_for(actor, resident_pk)
        hh, people, village = None, [person], person.village
    team = tq.team_for_village(village)
    teams = list(tq.teams_of_user(request.user))
    if team is not None and team not in teams and not tq.is_manager(request.user):
        teams.insert(0, team)
    community = (team or (teams[0] if teams else None))
    packages = list(ServicePackage.objects.filter(active=True, community_id=community.community_id)
                    if community else ServicePackage.objects.none())
    active = q.active_by_resident(p.pk for p in people)
    fits = {p.pk: [k for k in packages if services.package_fits(k, {t.tag for t in p.tags.all()})] for p in people}
    return {"household": hh, "people": [(p, active.get(p.pk), fits[p.pk]) for p in people],
            "team": team, "teams": teams, "packages": packages, "village": village,
            "basic": next((p for p in packages if p.kind == "basic"), None)}


@login_required
@domain_errors_as_pages
def sign(request):
    actor = Actor.from_request(request)
    resident_pk, household_pk = request.GET.get("resident", ""), request.GET.get("household", "")
    if not resident_pk and not household_pk:
        raise InvalidInput("no_resident", _("请从居民或家庭页面进入签约"), field="resident")
    ctx = _sign_context(request, actor, resident_pk, household_pk)
    form: dict = {"signed_on": timezone.localdate().isoformat(), "consent_kind": ConsentKind.TABLET,
                  "idempotency_key": uuid.uuid4().hex, "team": ctx["team"].pk if ctx["team"] else ""}
    errors: dict = {}
    if request.method == "POST":
        form = request.POST.dict()
        chosen = request.POST.getlist("member")
        try:
            _consent(request, form)
            members = [{"resident": r, "package": request.POST.get(f"package_{r}", "")} for r in chosen]
            if ctx["household"] is not None:
                done = services.sign_household(request, ctx["household"], members, form,
                                               idempotency_key=form.get("idempotency_key", ""))
            else:
                if not chosen:
                    raise InvalidInput("no_members", _("请选择签约居民"), field="members")
                form["package"] = members[0]["package"]
                done = [services.sign(request, chosen[0], form, idempotency_key=form.get("idempotency_key", ""))]
            messages.success(request, _("已签约 %(n)s 人") % {"n": len(done)})
            return redirect("familydoctor:contract", pk=done[0].pk)
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"form": [e.message]}
            messages.error(request, e.message)
    ctx.update({"form": form, "errors": errors, "consent_kinds": ConsentKind.choices,
                "chosen": request.POST.getlist("member") if request.method == "POST" else None})
    return render(request, "familydoctor/sign.html", ctx, status=422 if errors else 200)


@login_required
@domain_errors_as_pages
def renew(request, pk: int):
    actor = Actor.from_request(request)
    c = q.get_for(actor, pk)
    form: dict = {"consent_kind": ConsentKind.TABLET, "package": c.package_id}
    errors: dict = {}
    if request.method == "POST":
        form = request.POST.dict()
        try:
            _consent(request, form)
            new = services.renew(request, c, form)
            messages.success(request, _("已续约"))
            return redirect("familydoctor:contract", pk=new.pk)
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"form": [e.message]}
            messages.error(request, e.message)
    packages = ServicePackage.objects.filter(active=True, community_id=c.team.community_id)
    return render(request, "familydoctor/contract_renew.html", {
        "c": c, "form": form, "errors": errors, "packages": packages, "consent_kinds": ConsentKind.choices,
        "may": can(request.user, "familydoctor.renew", c) and services.may_renew_now(c)},
        status=422 if errors else 200)


@login_required
@domain_errors_as_pages
def end(request, pk: int):
    actor = Actor.from_request(request)
    c = q.get_for(actor, pk)
    form: dict = {"ended_on": timezone.localdate().isoformat()}
    errors: dict = {}
    if request.method == "POST":
        form = request.POST.dict()
        try:
            services.end_contract(request, c, form)
            messages.success(request, _("已解约"))
            return redirect("familydoctor:contract", pk=c.pk)
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"form": [e.message]}
            messages.error(request, e.message)
    return render(request, "familydoctor/contract_end.html", {
        "c": c, "form": form, "errors": errors, "reasons": EndReason.choices,
        "may": can(request.user, "familydoctor.end_contract", c) and c.status == ContractStatus.ACTIVE},
        status=422 if errors else 200)


urlpatterns = [
    path("contracts/", contract_list, name="contracts"),
    path("contracts/<int:pk>/", contract_page, name="contract"),
    path("contracts/<int:pk>/consent/", consent_file, name="consent"),
    path("contracts/<int:pk>/renew/", renew, name="renew"),
    path("contracts/<int:pk>/end/", end, name="end"),
    path("sign/", sign, name="sign"),
]
