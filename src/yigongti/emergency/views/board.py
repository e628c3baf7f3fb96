"""The dispatcher's board (调度台): open calls by priority, the fleet with its statuses, the county map, and the
recommended ambulances of the chosen call with a confirm button each.

Live by HTMX polling (every 3 s): the poll sends the stamp it last saw and gets 204 (nothing changed, no swap)
or the new lists as out-of-band swaps; docs/emergency.md "## Dispatch" says why polling and not server-sent
events (measured in bench/em_board.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.permissions import can

from .. import telephony
from ..queries import board as queries

POLL_SECONDS = 3


def _dispatcher(request: HttpRequest) -> Actor:
    if not can(request.user, "emergency.take_call"):
        raise Forbidden(_("只有120调度员可以使用调度台"))
    return Actor.from_request(request)


def map_points(b: queries.Board) -> dict:
    """What the map draws on top of the roads: vehicles (by status) and located open calls."""
    return {"vehicles": [{"id": v.pk, "name": v.call_sign, "status": v.status, "label": v.status_label,
                          "lon": v.lon, "lat": v.lat, "call": v.call_no} for v in b.vehicles if v.lon is not None],
            "calls": [{"id": c.pk, "name": c.call_no, "priority": c.priority, "lon": c.lon, "lat": c.lat}
                      for c in b.calls if c.lon is not None]}


def geojson_url() -> str:
    try:
        return reverse("emergency:roads_geojson")
    except NoReverseMatch:
        return ""


@login_required
@domain_errors_as_pages
def board(request: HttpRequest) -> HttpResponse:
    b = queries.board(_dispatcher(request))
    return render(request, "emergency/board.html", {
        "b": b, "poll": POLL_SECONDS, "points": map_points(b), "geojson_url": geojson_url(),
        "simulated": telephony.simulated(), "selected": request.GET.get("call", "")})


@login_required
@domain_errors_as_pages
def board_live(request: HttpRequest) -> HttpResponse:
    """The poll: 204 when the stamp is the one the board has, else the lists (out-of-band swaps)."""
    actor = _dispatcher(request)
    current = queries.stamp()
    if request.GET.get("stamp") == current:
        return HttpResponse(status=204)
    b = queries.board(actor, known_stamp=current)
    # no request: the fragment has no form and no menu, so the context processors' queries are skipped
    resp = HttpResponse(render_to_string("emergency/board_live.html", {"b": b, "points": map_points(b), "oob": True}))
    resp["X-Board-Stamp"] = b.stamp
    return resp


urlpatterns = [
    path("board/", board, name="board"),
    path("board/live/", board_live, name="board_live"),
]
