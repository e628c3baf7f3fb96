"""出车: the crew's phone page (390 px). The current mission — the address, the patient summary the crew may see —
ONE big button for the next step and the time of each step. A press is an HTMX POST that redraws the panel; when
the phone has no network the press is queued on the phone with its time and an idempotency key and replayed to
``POST /api/v1/emergency/missions/{id}/steps`` when it is back (``static/emergency/crew.js``); a small service worker
keeps the page itself openable offline."""

from __future__ import annotations

import json
import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import NoReverseMatch, path, reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.permissions import can

from ..queries import crew as q
from ..services import missions


def _prehospital_url(mission) -> str:
    try:
        return reverse("emergency:prehospital", args=[mission.pk])
    except NoReverseMatch:  # the pre-hospital record's pages are another module's
        return ""


def _panel_context(request, mission, error: str = "") -> dict:
    return {"p": q.panel(mission), "key": uuid.uuid4().hex, "error": error,
            "prehospital_url": _prehospital_url(mission)
            if can(request.user, "emergency.record_prehospital", mission) else ""}


@login_required
@never_cache
@domain_errors_as_pages
def crew(request, pk: int | None = None):
    """The crew's current mission (the one asked for, or the first of the user's vehicles)."""
    actor = Actor.from_request(request)
    current = q.current_missions(actor)
    mission = q.mission_for_crew(actor, pk) if pk else (current[0] if current else None)
    ctx: dict[str, object] = {"missions": current, "mission": mission, "vehicles": list(q.crew_vehicles(request.user)
                                                                       .select_related("station")),
           "recent": q.recent_missions(actor) if mission is None else [], "state": q.crew_state(actor)}
    if mission is not None:
        ctx |= _panel_context(request, mission)
        ctx["patient"] = q.patient_summary(actor, mission)
    return render(request, "emergency/crew.html", ctx)


@login_required
@require_POST
@domain_errors_as_pages
def crew_step(request, pk: int):
    """One press of the big button: record the step (at the phone's time of the press), redraw the panel."""
    actor = Actor.from_request(request)
    mission = q.mission_for_crew(actor, pk)
    error = ""
    raw_at = request.POST.get("at", "").strip()
    at = parse_datetime(raw_at) if raw_at else None
    if raw_at and at is None:
        error = _("时间格式不正确：%(at)s") % {"at": raw_at[:40]}
    else:
        try:
            missions.step(actor, mission, request.POST.get("kind", ""), at=at,
                          idempotency_key=request.POST.get("key", ""))
        except (InvalidInput, Conflict) as e:
            error = e.message
    mission.refresh_from_db()
    if not request.htmx:
        return redirect("emergency:crew_mission", pk=mission.pk)
    return render(request, "emergency/crew_panel.html", _panel_context(request, mission, error),
                  status=200)


@login_required
@never_cache
def crew_poll(request):
    """204 while nothing changed for this crew; otherwise ask the page to reload (HTMX ``HX-Refresh``)."""
    state = q.crew_state(Actor.from_request(request))
    if state == request.GET.get("state", ""):
        return HttpResponse(status=204)
    resp = HttpResponse(status=200)
    resp["HX-Refresh"] = "true"
    return resp


def service_worker(request):
    """The crew page's service worker (served under /emergency/crew/ so its scope covers the page)."""
    assets = [static("vendor/htmx/htmx.min.js"), static("vendor/bootstrap/css/bootstrap.min.css"),
              static("yigongti/app.css"), static("yigongti/app.js"), static("emergency/crew.js"),
              static("emergency/crew.css")]
    body = render_to_string("emergency/crew_sw.js", {"assets_json": json.dumps(assets),
                                                    "page_json": json.dumps(reverse("emergency:crew"))})
    resp = HttpResponse(body, content_type="application/javascript")
    resp["Service-Worker-Allowed"] = reverse("emergency:crew")
    resp["Cache-Control"] = "no-cache"
    return resp


def manifest(request):
    body = {"name": _("120出车"), "short_name": _("出车"), "start_url": reverse("emergency:crew"),
            "scope": reverse("emergency:crew"), "display": "standalone", "background_color": "#ffffff",
            "theme_color": "#b02a37", "lang": "zh-CN", "icons": []}
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/manifest+json")


urlpatterns = [
    path("crew/", crew, name="crew"),
    path("crew/missions/<int:pk>/", crew, name="crew_mission"),
    path("crew/missions/<int:pk>/step/", crew_step, name="crew_step"),
    path("crew/poll/", crew_poll, name="crew_poll"),
    path("crew/sw.js", service_worker, name="crew_sw"),
    path("crew/manifest.webmanifest", manifest, name="crew_manifest"),
]
