"""Keeping family-doctor teams (三师共管): members join and leave (history kept: a leaving member gets an end date,
never a deletion), villages are linked and unlinked with dates. Every use case checks ``familydoctor.manage_team``
on the team first and is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import actor_of
from yigongti.core.errors import Conflict, InvalidInput, NotFound
from yigongti.orgs.models import Region, RegionLevel, Staff
from yigongti.orgs.permissions import check

from ..models import MemberRole, Team, TeamMember, TeamVillage
from ..queries.teams import current_q
from .contracts import as_pk


def _day(value: Any, field: str, default: dt.date) -> dt.date:
    if value in (None, ""):
        return default
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput("invalid_date", _("日期格式不正确"), field=field) from None


def add_member(actor, team: Team, data: Mapping[str, Any]) -> TeamMember:
    """``data``: staff (pk), role (MemberRole), since (default today), note."""
    actor = actor_of(actor)
    check(actor, "familydoctor.manage_team", team)
    errors: dict[str, list[str]] = {}
    staff = Staff.objects.filter(pk=as_pk(data.get("staff")), is_active=True).select_related("work_facility").first()
    if staff is None:
        errors["staff"] = [_("请选择在岗人员")]
    elif staff.work_facility.community_id not in (None, team.community_id):
        errors["staff"] = [_("成员须是本医共体的人员")]
    role = str(data.get("role") or "")
    if role not in MemberRole.values:
        errors["role"] = [_("请选择团队角色")]
    since = timezone.localdate()
    try:
        since = _day(data.get("since"), "since", since)
    except InvalidInput as e:
        errors["since"] = [e.message]
    if errors:
        first = next(iter(errors))
        raise InvalidInput("invalid_member", errors[first][0], field=first, errors=errors)
    assert staff is not None
    with transaction.atomic():
        Team.objects.select_for_update().filter(pk=team.pk).first()
        if team.members.filter(staff=staff, until__isnull=True).exists():
            raise Conflict("already_member", _("该人员已是本团队成员"), field="staff")
        m = TeamMember.objects.create(team=team, staff=staff, role=role, since=since,
                                      note=str(data.get("note") or "")[:200])
        audit.record(actor, "create", "fd_team_member", m.pk, team=team.pk, staff=m.staff_id, role=role)
    return m


def end_member(actor, member: TeamMember, data: Mapping[str, Any]) -> TeamMember:
    """The member leaves the team on ``until`` (default today); the row stays as history."""
    actor = actor_of(actor)
    check(actor, "familydoctor.manage_team", member.team)
    until = _day(data.get("until"), "until", timezone.localdate())
    if until < member.since:
        raise InvalidInput("invalid_until", _("退出日期不能早于加入日期"), field="until")
    with transaction.atomic():
        m = TeamMember.objects.select_for_update().filter(pk=member.pk).first()
        if m is None:
            raise NotFound()
        if m.until is not None:
            raise Conflict("already_left", _("该成员已退出团队"), field="member")
        m.until = until
        if data.get("note"):
            m.note = str(data["note"])[:200]
        m.save(update_fields=["until", "note"])
        audit.record(actor, "update", "fd_team_member", m.pk, team=m.team_id, until=str(until))
    return m


def add_village(actor, team: Team, data: Mapping[str, Any]) -> TeamVillage:
    """Make the team responsible for a village from ``since``; a village already served by another team now is
    refused (end that link first)."""
    actor = actor_of(actor)
    check(actor, "familydoctor.manage_team", team)
    village = Region.objects.filter(pk=as_pk(data.get("village")), level=RegionLevel.VILLAGE).first()
    if village is None:
        raise InvalidInput("invalid_village", _("请选择村"), field="village")
    since = _day(data.get("since"), "since", timezone.localdate())
    with transaction.atomic():
        taken = (TeamVillage.objects.select_for_update().filter(current_q(since), village=village)
                 .select_related("team").first())
        if taken is not None:
            raise Conflict("village_taken", _("%(v)s 已由“%(t)s”负责") % {"v": village.name, "t": taken.team.name},
                           field="village")
        link = TeamVillage.objects.create(team=team, village=village, since=since)
        audit.record(actor, "create", "fd_team_village", link.pk, team=team.pk, village=village.code)
    return link


def end_village(actor, link: TeamVillage, data: Mapping[str, Any]) -> TeamVillage:
    actor = actor_of(actor)
    check(actor, "familydoctor.manage_team", link.team)
    until = _day(data.get("until"), "until", timezone.localdate())
    if until < link.since:
        raise InvalidInput("invalid_until", _("结束日期不能早于起始日期"), field="until")
    with transaction.atomic():
        row = TeamVillage.objects.select_for_update().filter(pk=link.pk, until__isnull=True).first()
        if row is None:
            raise Conflict("already_ended", _("该责任村已解除"), field="village")
        row.until = until
        row.save(update_fields=["until"])
        audit.record(actor, "update", "fd_team_village", row.pk, team=row.team_id, until=str(until))
    return row
