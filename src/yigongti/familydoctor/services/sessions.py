"""The "118" sessions (每周1天、不少于8小时): a team logs each service day, who was there, where."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import actor_of
from yigongti.core.errors import InvalidInput
from yigongti.orgs.models import Facility, Region
from yigongti.orgs.permissions import check

from ..models import Team, TeamSession
from .fulfilment import as_pk


def _time(value: Any, field: str, errors: dict) -> dt.time | None:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value or "").strip())
    except ValueError:
        errors[field] = [_("时间格式不正确（如 08:00）")]
        return None


def log_session(actor, team: Team, data: Mapping[str, Any]) -> TeamSession:
    """Log one 118 session of the team. ``data``: date, starts, ends, village (pk, one of the team's villages,
    optional), place (Facility pk, optional), present (Staff pks, current members; default the actor), note."""
    actor = actor_of(actor)
    check(actor, "familydoctor.log_session", team)
    errors: dict[str, list[str]] = {}
    day = None
    try:
        day = data["date"] if isinstance(data.get("date"), dt.date) else dt.date.fromisoformat(str(data.get("date")))
    except (ValueError, KeyError, TypeError):
        errors["date"] = [_("日期格式不正确")]
    if day is not None and day > timezone.localdate():
        errors["date"] = [_("服务日期不能晚于今天")]
    starts, ends = _time(data.get("starts"), "starts", errors), _time(data.get("ends"), "ends", errors)
    if starts and ends and ends <= starts:
        errors["ends"] = [_("结束时间须晚于开始时间")]
    village = None
    if data.get("village"):
        village = Region.objects.filter(pk=as_pk(data.get("village")), fd_team_links__team=team).first()
        if village is None:
            errors["village"] = [_("服务村须是本团队的责任村")]
    place = None
    if data.get("place"):
        place = Facility.objects.filter(pk=as_pk(data.get("place"))).first()
        if place is None:
            errors["place"] = [_("服务地点不存在")]
    present_ids = [int(x) for x in (data.get("present") or []) if str(x).isdigit()]
    if not present_ids and getattr(actor.user, "staff_id", None):
        present_ids = [actor.user.staff_id]
    members = set(team.members.filter(until__isnull=True).values_list("staff_id", flat=True))
    if any(pk not in members for pk in present_ids):
        errors["present"] = [_("到场成员须是本团队的现任成员")]
    if day is not None and not errors and TeamSession.objects.filter(team=team, date=day).exists():
        errors["date"] = [_("本团队该日已登记118服务日")]
    if errors:
        first = next(iter(errors))
        raise InvalidInput("invalid_session", errors[first][0], field=first, errors=errors)
    assert day is not None and starts is not None and ends is not None
    with transaction.atomic():
        session = TeamSession.objects.create(team=team, date=day, starts=starts, ends=ends, village=village,
                                             place=place, note=str(data.get("note") or "")[:300],
                                             recorded_by=actor.user)
        session.present.set(present_ids)
        audit.record(actor, "create", "fd_session", session.pk, team=team.pk,
                     date=str(day))
    return session
