"""Pages of the teams: the app's landing page (my teams and shortcuts; the teams list for managers), the teams
list and one team (members with history, villages, contract counts; add/end member, add/end village)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, NotFound
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.models import Region, RegionLevel, Staff
from yigongti.orgs.permissions import can

from ..models import MemberRole, TeamMember, TeamVillage
from ..queries import contracts as cq
from ..queries import teams as q
from ..services import teams as services


@login_required
@domain_errors_as_pages
def home(request):
    actor = Actor.from_request(request)
    teams = q.teams_list(request.user)
    expiring, n_expiring = cq.expiring(actor) if not q.is_manager(request.user) else ([], 0)
    return render(request, "familydoctor/home.html", {
        "teams": teams, "manager": q.is_manager(request.user), "expiring": expiring, "n_expiring": n_expiring,
        "villages": q.villages_of_user(request.user), "may_sign": can(request.user, "familydoctor.sign")})


@login_required
@domain_errors_as_pages
def team_list(request):
    return render(request, "familydoctor/teams.html", {"teams": q.teams_list(request.user)})


def _act(request, team) -> None:
    action, data = request.POST.get("action", ""), request.POST.dict()
    if action == "add_member":
        services.add_member(request, team, data)
        messages.success(request, _("已添加成员"))
    elif action == "end_member":
        member = TeamMember.objects.filter(pk=cq.as_int(data.get("member")), team=team).first()
        if member is None:
            raise NotFound()
        services.end_member(request, member, data)
        messages.success(request, _("成员已退出团队"))
    elif action == "add_village":
        services.add_village(request, team, data)
        messages.success(request, _("已添加责任村"))
    elif action == "end_village":
        link = TeamVillage.objects.filter(pk=cq.as_int(data.get("link")), team=team).first()
        if link is None:
            raise NotFound()
        services.end_village(request, link, data)
        messages.success(request, _("已解除责任村"))


@login_required
@domain_errors_as_pages
def team_page(request, pk: int):
    team = q.get_team_for(request.user, pk)
    may_manage = can(request.user, "familydoctor.manage_team", team)
    if request.method == "POST" and may_manage:
        try:
            _act(request, team)
            return redirect("familydoctor:team", pk=team.pk)
        except DomainError as e:
            if e.status == 404:
                raise
            messages.error(request, e.message)
    ctx = {"team": team, "may_manage": may_manage, "today": timezone.localdate(), "roles": MemberRole.choices,
           **q.team_detail(team)}
    if may_manage:
        ctx["staff_choices"] = (Staff.objects.filter(is_active=True, work_facility__community_id=team.community_id)
                                .select_related("work_facility").order_by("work_facility__code", "name")[:500])
        county = team.community.region.code[:6]
        ctx["village_choices"] = Region.objects.filter(level=RegionLevel.VILLAGE, code__startswith=county)\
            .select_related("parent").order_by("code")[:2000]
    return render(request, "familydoctor/team.html", ctx)


urlpatterns = [
    path("", home, name="home"),
    path("teams/", team_list, name="teams"),
    path("teams/<int:pk>/", team_page, name="team"),
]
