"""急救通道 pages: the cases of the user's center (live), and one case's timeline — a button per next time point
pressed at the moment, the metrics live against their targets, a correction with its reason, the delay reason
of a missed target, the subtype, closing."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.core.pages import domain_errors_as_pages, hx_or_full
from yigongti.orgs.permissions import can

from .. import events as catalogue
from .. import queries, services
from ..models import PathwayKind

LIVE_SECONDS = 10


def parse_local(value: str | None) -> dt.datetime | None:
    """A ``datetime-local`` field (local time of the county) as an aware datetime; blank → None (now)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("invalid_time", _("时间格式无效，请按“年-月-日 时:分”填写"), field="at") from None
    return timezone.make_aware(at) if timezone.is_naive(at) else at


@login_required
@domain_errors_as_pages
def case_list(request):
    actor = Actor.from_request(request)
    kind = request.GET.get("kind", "") if request.GET.get("kind", "") in PathwayKind.values else ""
    status = "recent" if request.GET.get("status") == "recent" else "open"
    rows = queries.case_list(actor, kind=kind, status=status)
    return hx_or_full(request, "pathways/cases.html", "pathways/_case_rows.html", {
        "rows": rows, "kind": kind, "status": status, "kinds": PathwayKind.choices,
        "centers": queries.centers_of(request.user), "live_seconds": 15,
        "may_open": can(request.user, "pathways.open_case")})


def _context(request, pk: int, *, audit_read: bool = True) -> dict:
    actor = Actor.from_request(request)
    case = queries.case_for(actor, pk, audit_read=audit_read)
    tl = queries.timeline(actor, case)
    return {"case": case, "tl": tl, "press_key": uuid.uuid4().hex, "live_seconds": LIVE_SECONDS,
            "delay_codes": catalogue.DelayCode.choices, "outcomes": catalogue.Outcome.choices,
            "subtypes": catalogue.subtype_choices(case.kind), "risk_colours": catalogue.RiskColour.choices,
            "now_local": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}


@login_required
@domain_errors_as_pages
def case_detail(request, pk: int):
    # the live refresh reads the same case every few seconds: audit the page, not each refresh
    return hx_or_full(request, "pathways/case.html", "pathways/_case_live.html",
                      _context(request, pk, audit_read=not request.htmx))


def _write(request, pk: int, fn, done: str):
    try:
        fn(Actor.from_request(request), queries.case_for(Actor.from_request(request), pk, audit_read=False))
        messages.success(request, done)
    except (InvalidInput, Conflict) as e:
        messages.error(request, e.message)
    return redirect("pathways:case", pk=pk)


@login_required
@require_POST
@domain_errors_as_pages
def case_event(request, pk: int):
    p = request.POST
    code = p.get("code", "")
    return _write(request, pk, lambda actor, case: services.record_event(
        actor, case, code, at=parse_local(p.get("at")), idempotency_key=p.get("key", "")[:64]),
        _("已记录：%(what)s") % {"what": catalogue.label_any(code)})


@login_required
@require_POST
@domain_errors_as_pages
def case_correct(request, pk: int):
    p = request.POST

    def run(actor, case):
        event = case.events.filter(pk=p.get("event") or 0, active=True).first()
        if event is None:
            raise InvalidInput("unknown_event", _("请选择要更正的时间节点"), field="event")
        at = parse_local(p.get("at"))
        if at is None:
            raise InvalidInput("invalid_time", _("请填写更正后的时间"), field="at")
        services.correct_event(actor, event, at=at, reason=p.get("reason", "")[:200])

    return _write(request, pk, run, _("已更正时间节点，原记录已保留"))


@login_required
@require_POST
@domain_errors_as_pages
def case_delay(request, pk: int):
    p = request.POST
    return _write(request, pk, lambda actor, case: services.record_delay(
        actor, case, p.get("metric", ""), p.get("code", ""), note=p.get("note", "")[:200]), _("已填写延误原因"))


@login_required
@require_POST
@domain_errors_as_pages
def case_subtype(request, pk: int):
    p = request.POST
    return _write(request, pk, lambda actor, case: services.set_subtype(
        actor, case, p.get("subtype", ""), diagnosis=p.get("diagnosis", "")[:200],
        risk_colour=p.get("risk_colour", "")[:8]), _("已更新分型"))


@login_required
@require_POST
@domain_errors_as_pages
def case_close(request, pk: int):
    p = request.POST
    return _write(request, pk, lambda actor, case: services.close_case(
        actor, case, outcome=p.get("outcome", ""), diagnosis=p.get("diagnosis", "")[:200]), _("病例已结束"))


urlpatterns = [
    path("", case_list, name="cases"),
    path("cases/<int:pk>/", case_detail, name="case"),
    path("cases/<int:pk>/event", case_event, name="case_event"),
    path("cases/<int:pk>/correct", case_correct, name="case_correct"),
    path("cases/<int:pk>/delay", case_delay, name="case_delay"),
    path("cases/<int:pk>/subtype", case_subtype, name="case_subtype"),
    path("cases/<int:pk>/close", case_close, name="case_close"),
]
