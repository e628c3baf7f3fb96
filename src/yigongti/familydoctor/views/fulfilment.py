"""履约 pages: the service ledger of a team and village (服务台账, with its Excel export), recording a delivered
service of a contract, and the team's "118" sessions (list and new)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.exports import list_xlsx_response
from yigongti.core.pages import domain_errors_as_pages
from yigongti.core.paging import Page, clamp_page
from yigongti.orgs.permissions import can

from ..assessment import session_hours
from ..models import PLACES, ContractStatus
from ..queries import ledger as q
from ..services import fulfilment, sessions

PAGE_ROWS = 200  # rows of the ledger page (the totals and the export cover every row)


def _team_and_village(request, actor):
    team_id = request.GET.get("team") or request.POST.get("team")
    team = q.get_team_for(actor, team_id) if team_id else q.default_team(request.user)
    villages = q.team_villages(team) if team else []
    code = request.GET.get("village", "")
    village = next((v for v in villages if code in (v.code, str(v.pk))), None) if code else None
    return team, villages, village


@login_required
@domain_errors_as_pages
def ledger_page(request):
    actor = Actor.from_request(request)
    team, villages, village = _team_and_village(request, actor)
    data = q.ledger(actor, team, village=village) if team else None
    number = clamp_page(request.GET.get("page"))
    rows = data.rows[(number - 1) * PAGE_ROWS: number * PAGE_ROWS + 1] if data else []
    page = Page(rows[:PAGE_ROWS], number, PAGE_ROWS, len(rows) > PAGE_ROWS, len(data.rows) if data else 0)
    return render(request, "familydoctor/ledger.html", {
        "team": team, "teams": q.teams_visible_to(request.user), "villages": villages, "village": village,
        "ledger": data, "page": page})


@login_required
@domain_errors_as_pages
def ledger_export(request):
    actor = Actor.from_request(request)
    team, _villages, village = _team_and_village(request, actor)
    if team is None:
        raise InvalidInput("no_team", _("请选择团队"), field="team")
    data = q.ledger(actor, team, village=village, export=True)
    return list_xlsx_response(f"服务台账-{team.code}{'-' + village.name if village else ''}.xlsx", _("服务台账"),
                              ledger_header(data), ledger_rows(data))


def ledger_header(data: q.Ledger) -> list[str]:
    return [_("村"), _("姓名"), _("性别"), _("年龄"), _("身份证号"), _("联系电话"), _("重点人群"), _("协议编号"),
            _("服务包"), _("协议开始"), _("协议结束"), _("签约医生"),
            *[_("%(service)s（完成/计划）") % {"service": s.name} for s in data.services],
            _("计划合计"), _("已完成"), _("逾期未做")]


def ledger_rows(data: q.Ledger):
    for r in data.rows:
        cells = [f"{c.done}/{c.planned}" if c else "" for c in r.ordered]
        yield [r.village, r.name, r.sex, r.age, r.id_number, r.phone, _("、").join(r.tags), r.number, r.package,
               r.start, r.end, r.doctor, *cells, r.planned, r.done, r.overdue]


@login_required
@domain_errors_as_pages
def deliver(request, pk: int):
    actor = Actor.from_request(request)
    contract = q.contract_for(actor, pk)
    form: dict = {"delivered_on": timezone.localdate().isoformat(), "by": request.user.staff_id or ""}
    errors: dict = {}
    if request.method == "POST":
        form = request.POST.dict()
        try:
            fulfilment.record_delivery(actor, contract, form)
            messages.success(request, _("已登记服务"))
            return redirect("familydoctor:deliver", pk=contract.pk)
        except InvalidInput as e:
            errors = e.errors
            messages.error(request, e.message)
    since = timezone.localdate() - dt.timedelta(days=30)
    return render(request, "familydoctor/deliver.html", {
        "contract": contract, "today": timezone.localdate(), "schedule": q.contract_schedule(contract),
        "deliveries": q.recent_deliveries(contract),
        "services": contract.package.services.all(), "places": PLACES.items(), "form": form, "errors": errors,
        "members": contract.team.members.filter(until__isnull=True).select_related("staff"),
        "team_sessions": contract.team.sessions.filter(date__gte=since).order_by("-date"),
        "may_record": can(request.user, "familydoctor.record_service", contract)
        and contract.status == ContractStatus.ACTIVE}, status=422 if errors else 200)


@login_required
@domain_errors_as_pages
def session_list(request):
    actor = Actor.from_request(request)
    team, _villages, _village = _team_and_village(request, actor)
    rows = list(q.sessions_of(actor, team)[:200]) if team else []
    return render(request, "familydoctor/sessions.html", {
        "team": team, "teams": q.teams_visible_to(request.user), "rows": [(s, session_hours(s.starts, s.ends))
                                                                         for s in rows],
        "may_log": team is not None and can(request.user, "familydoctor.log_session", team)})


@login_required
@domain_errors_as_pages
def session_new(request):
    actor = Actor.from_request(request)
    team, villages, _village = _team_and_village(request, actor)
    if team is None:
        raise InvalidInput("no_team", _("请选择团队"), field="team")
    form: dict = {"date": timezone.localdate().isoformat(), "starts": "08:00", "ends": "17:00"}
    errors: dict = {}
    if request.method == "POST":
        form = {**request.POST.dict(), "present": request.POST.getlist("present")}
        try:
            sessions.log_session(actor, team, form)
            messages.success(request, _("已登记118服务日"))
            return redirect(f"{_sessions_url()}?team={team.pk}")
        except InvalidInput as e:
            errors = e.errors
            messages.error(request, e.message)
    return render(request, "familydoctor/session_new.html", {
        "team": team, "villages": villages, "form": form, "errors": errors,
        "members": team.members.filter(until__isnull=True).select_related("staff"),
        "present": [str(x) for x in form.get("present", [])] or [str(request.user.staff_id or "")]},
        status=422 if errors else 200)


def _sessions_url() -> str:
    return reverse("familydoctor:sessions")


urlpatterns = [
    path("ledger/", ledger_page, name="ledger"),
    path("ledger/export/", ledger_export, name="ledger_export"),
    path("contracts/<int:pk>/deliver/", deliver, name="deliver"),
    path("sessions/", session_list, name="sessions"),
    path("sessions/new/", session_new, name="session_new"),
]
