"""Attendance on site: the expert checks in on the day (the phone's position optional; far from the host's site
it is recorded and flagged, never silently accepted), the host confirms. Confirmed days count in the 凡晋必下
ledger."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import actor_of
from yigongti.core.errors import Conflict, InvalidInput, NotFound
from yigongti.orgs.permissions import check

from ..attendance import distance_m, is_far
from ..models import PostingDay, PostingStatus, Site


def _position(data: Mapping[str, Any]) -> tuple[float, float] | None:
    lon, lat = data.get("lon"), data.get("lat")
    if lon in (None, "") and lat in (None, ""):
        return None
    try:
        x, y = float(lon), float(lat)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput("invalid_position", _("位置格式不正确"), field="lon") from None
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        raise InvalidInput("invalid_position", _("位置超出经纬度范围"), field="lon")
    return x, y


def check_in(actor, day: PostingDay, data: Mapping[str, Any]) -> PostingDay:
    """The expert's check-in for today's posting day; ``data`` lon, lat (optional)."""
    actor = actor_of(actor)
    check(actor, "workforce.check_in", day)
    pos = _position(data)
    today = timezone.localdate()
    if day.day != today:
        raise InvalidInput("not_today", _("只能为当天的派驻签到"), field="day")
    with transaction.atomic():
        d = PostingDay.objects.select_for_update().filter(pk=day.pk).select_related("posting").first()
        if d is None or d.posting.status != PostingStatus.ACTIVE:
            raise NotFound()
        if d.checked_in_at is not None:
            raise Conflict("already_checked_in", _("今天已签到"))
        d.checked_in_at = timezone.now()
        if pos is not None:
            d.lon, d.lat = pos
            site = Site.objects.filter(facility_id=d.host_id).first()
            if site is not None:
                dist = distance_m(pos[0], pos[1], site.lon, site.lat)
                d.distance_m, d.flagged = round(dist), is_far(dist)
        d.save(update_fields=["checked_in_at", "lon", "lat", "distance_m", "flagged"])
        audit.record(actor, "update", "wf_check_in", d.pk, posting=d.posting_id, distance_m=d.distance_m,
                     flagged=d.flagged)
    return d


def confirm_day(actor, day: PostingDay) -> PostingDay:
    """The host confirms the expert was there (a day checked in, today or before)."""
    actor = actor_of(actor)
    check(actor, "workforce.confirm", day)
    with transaction.atomic():
        d = PostingDay.objects.select_for_update().filter(pk=day.pk).first()
        if d is None:
            raise NotFound()
        if d.checked_in_at is None:
            raise Conflict("not_checked_in", _("专家尚未签到，不能确认"))
        if d.confirmed_at is not None:
            raise Conflict("already_confirmed", _("已确认"))
        d.confirmed_by, d.confirmed_at = actor.user, timezone.now()
        d.save(update_fields=["confirmed_by", "confirmed_at"])
        audit.record(actor, "update", "wf_confirm", d.pk, posting=d.posting_id, flagged=d.flagged)
    return d
