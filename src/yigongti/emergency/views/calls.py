"""Pages of a 120 call: the call form (受理), the call with its recommendation, missions and time points, its
corrections, dispatch, merge and close; the caller lookup fragment; the call history."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, Forbidden, NotFound
from yigongti.core.pages import domain_errors_as_pages, hx_or_full, paginate_params
from yigongti.orgs.permissions import can

from .. import telephony
from ..models import CallKind, CallStatus, Priority, Vehicle
from ..queries import board as board_queries
from ..queries import calls as queries
from ..queries import lookup
from ..services import calls as services
from ..services import missions
from .board import geojson_url

LOCATION_MODES = ("region", "landmark", "coords", "unknown")


def form_fields(post: QueryDict) -> dict:
    """The call form's fields as the services take them; the location by the chosen mode (村/地标/坐标/未知)."""
    out: dict = {k: post.get(k, "").strip() for k in ("caller_name", "patient_description", "chief_complaint",
                                                      "complaint_code", "priority", "address") if k in post}
    if "special_needs" in post or "needs_given" in post:
        out["special_needs"] = post.getlist("special_needs")
    if post.get("resident"):
        out["resident"] = post["resident"]
    mode = post.get("where", "region")
    if mode in ("region", "landmark", "coords") and post.get("region"):
        out["region"] = post["region"]
    if mode == "landmark" and post.get("landmark"):
        out["landmark"] = post["landmark"]
    if mode == "coords":
        out["lon"], out["lat"] = post.get("lon", ""), post.get("lat", "")
    return out


def _back(request: HttpRequest, default: str, *args) -> HttpResponse:
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect(default, *args)


def _form_context(request: HttpRequest, values: dict, errors: dict) -> dict:
    return {"values": values, "errors": errors, "regions": queries.region_choices(request.user),
            "geojson_url": geojson_url(),
            "landmarks": queries.landmark_names(), "complaints": services.COMPLAINTS,
            "priorities": Priority.choices, "needs": list(services.SPECIAL_NEEDS.items()),
            "modes": LOCATION_MODES}


@login_required
@domain_errors_as_pages
def call_new(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "emergency.take_call"):
        raise Forbidden(_("只有120调度员可以受理呼救"))
    values: dict = {"where": "region", "priority": "3", "key": uuid.uuid4().hex}
    errors: dict = {}
    if request.method == "POST":
        values = request.POST.dict() | {"special_needs": request.POST.getlist("special_needs")}
        try:
            call = services.take_call(Actor.from_request(request), caller_phone=request.POST.get("caller_phone", ""),
                                      idempotency_key=request.POST.get("key", ""), **form_fields(request.POST))
            messages.success(request, _("已受理呼救 %(no)s") % {"no": call.call_no})
            return redirect("emergency:call", call.pk)
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"all": [e.message]}
    return render(request, "emergency/call_form.html", _form_context(request, values, errors))


@login_required
@domain_errors_as_pages
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    call = queries.get_call_for(actor, pk)
    dispatcher = can(request.user, "emergency.dispatch", call)
    is_open = call.status in (CallStatus.OPEN, CallStatus.DISPATCHED)
    return render(request, "emergency/call_detail.html", {
        "call": call, "timeline": queries.timeline(call), "missions": queries.missions_of(call),
        "dispatcher": dispatcher, "is_open": is_open, "key": uuid.uuid4().hex,
        "rec": board_queries.recommend_for(call) if dispatcher and is_open else None,
        "fleet": queries.dispatchable_vehicles() if dispatcher and is_open else [],
        "merge_candidates": queries.merge_candidates(actor, call) if dispatcher and is_open else [],
        "needs": [str(services.SPECIAL_NEEDS.get(n, n)) for n in call.special_needs or []],
        **_form_context(request, queries.form_values(call), {})})


@login_required
@domain_errors_as_pages
def call_recommend(request: HttpRequest, pk: int) -> HttpResponse:
    """The board's side panel: the chosen call's recommended ambulances with a confirm button each."""
    call = queries.get_call_for(Actor.from_request(request), pk)
    if not can(request.user, "emergency.dispatch", call):
        raise NotFound()
    return render(request, "emergency/call_recommend.html", {
        "call": call, "rec": board_queries.recommend_for(call), "key": uuid.uuid4().hex,
        "fleet": queries.dispatchable_vehicles(), "next": request.GET.get("next", "")})


@login_required
@require_POST
@domain_errors_as_pages
def call_dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    call = queries.get_call_for(actor, pk)
    vehicle = Vehicle.objects.filter(pk=request.POST.get("vehicle") or 0, active=True).first() \
        if str(request.POST.get("vehicle", "")).isdigit() else None
    if vehicle is None:
        messages.error(request, _("请选择要派出的车辆"))
        return _back(request, "emergency:call", call.pk)
    try:
        mission = services.dispatch(actor, call, vehicle, idempotency_key=request.POST.get("key", ""))
        messages.success(request, _("已派出 %(v)s 前往 %(no)s") % {"v": mission.vehicle.call_sign, "no": call.call_no})
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return _back(request, "emergency:call", call.pk)


@login_required
@require_POST
@domain_errors_as_pages
def call_update(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    call = queries.get_call_for(actor, pk)
    try:
        services.update_call(actor, call, **form_fields(request.POST))
        messages.success(request, _("呼救信息已更新"))
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return _back(request, "emergency:call", call.pk)


@login_required
@require_POST
@domain_errors_as_pages
def call_merge(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    duplicate = queries.get_call_for(actor, pk)
    try:
        into = queries.get_call_for(actor, request.POST.get("into", ""))
        target = services.merge_call(actor, duplicate, into)
        messages.success(request, _("已将 %(dup)s 合并到 %(no)s") % {"dup": duplicate.call_no, "no": target.call_no})
        return redirect("emergency:call", target.pk)
    except DomainError as e:
        if e.status == 403:
            raise
        messages.error(request, e.message)
    return redirect("emergency:call", duplicate.pk)


@login_required
@require_POST
@domain_errors_as_pages
def call_close(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    call = queries.get_call_for(actor, pk)
    try:
        closed = services.close_call(actor, call, request.POST.get("reason", ""))
        messages.success(request, _("呼救 %(no)s %(state)s") % {"no": closed.call_no,
                                                               "state": closed.get_status_display()})
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect("emergency:call", call.pk)


@login_required
@require_POST
@domain_errors_as_pages
def mission_abort(request: HttpRequest, pk: int, mission_pk: int) -> HttpResponse:
    """中止出车 from the call page: the vehicle is called off with a reason and is free again."""
    actor = Actor.from_request(request)
    call = queries.get_call_for(actor, pk)
    mission = next((m for m in queries.missions_of(call) if m.pk == mission_pk), None)
    if mission is None:
        raise NotFound(_("出车任务不存在"))
    try:
        missions.abort(actor, mission, request.POST.get("reason", ""))
        messages.success(request, _("已中止 %(v)s 的出车任务") % {"v": mission.vehicle.call_sign})
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect("emergency:call", call.pk)


@login_required
@domain_errors_as_pages
def caller_lookup(request: HttpRequest) -> HttpResponse:
    """The form's fragment: who is calling from this number (residents, allergies, chronic conditions)."""
    phone = request.GET.get("caller_phone", "").strip()
    if not phone:
        return HttpResponse("")
    try:
        result, error = lookup.caller(Actor.from_request(request), phone), ""
    except DomainError as e:
        if e.status == 403:
            raise
        result, error = None, e.message
    return render(request, "emergency/call_lookup.html", {"result": result, "error": error,
                                                          "call_id": request.GET.get("call", "")})


@login_required
@require_POST
@domain_errors_as_pages
def call_simulate(request: HttpRequest) -> HttpResponse:
    """模拟来电 (the demo's switchboard): one call rung, answered and taken by this dispatcher now."""
    if not telephony.simulated():
        raise NotFound()
    call = telephony.Simulator(seed=uuid.uuid4().int % 2 ** 31).ring(Actor.from_request(request))
    messages.info(request, _("模拟来电 %(no)s 已接听") % {"no": call.call_no})
    return redirect("emergency:call", call.pk)


@login_required
@domain_errors_as_pages
def call_list(request: HttpRequest) -> HttpResponse:
    f = queries.CallFilter.from_query(request.GET)
    page = queries.history(Actor.from_request(request), f, paginate_params(request))
    return hx_or_full(request, "emergency/calls.html", "emergency/calls_rows.html", {
        "page": page, "f": f, "statuses": CallStatus.choices, "priorities": Priority.choices,
        "kinds": CallKind.choices, "keep": {k: v for k, v in request.GET.items() if k != "page"}})


urlpatterns = [
    path("calls/", call_list, name="calls"),
    path("calls/new/", call_new, name="call_new"),
    path("calls/lookup/", caller_lookup, name="caller_lookup"),
    path("calls/simulate/", call_simulate, name="call_simulate"),
    path("calls/<int:pk>/", call_detail, name="call"),
    path("calls/<int:pk>/recommend/", call_recommend, name="call_recommend"),
    path("calls/<int:pk>/dispatch/", call_dispatch, name="call_dispatch"),
    path("calls/<int:pk>/update/", call_update, name="call_update"),
    path("calls/<int:pk>/merge/", call_merge, name="call_merge"),
    path("calls/<int:pk>/close/", call_close, name="call_close"),
    path("calls/<int:pk>/missions/<int:mission_pk>/abort/", mission_abort, name="mission_abort"),
]
