"""Scoped, audited reads of health checks: the checks of an area, one check, a resident's checks, and the list of
the 65+ and of the managed chronic patients without a check this year (who to call in).

"65+ in a year" is everyone who is 65 or older on 31 December of that year (the 规范's 辖区内65岁及以上常住居民 of
the year); "checked" is at least one HealthCheck dated in that calendar year, whatever its purpose."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, NotFound
from yigongti.core.paging import Page, slice_page
from yigongti.core.scoping import scope_for
from yigongti.orgs.permissions import Category, check_read
from yigongti.residents.models import Resident

from ..models import CheckPurpose, HealthCheck
from .immunisation import area_filter

ELDERLY_AGE = 65


def elderly_born_by(year: int) -> dt.date:
    """The latest birth date of those who are 65+ in ``year`` (65 on or before 31 December)."""
    return dt.date(year - ELDERLY_AGE, 12, 31)


def checks_visible_to(user) -> QuerySet[HealthCheck]:
    qs = HealthCheck.objects.all()
    return qs if user is None else scope_for(user).filter(qs, "resident__area_code")


def _year(value) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise InvalidInput("invalid_year", _("年份无效"), field="year") from None
    if not 2000 <= year <= 2100:
        raise InvalidInput("invalid_year", _("年份无效"), field="year")
    return year


def list_checks(actor: Actor, *, year, village: str = "", township: str = "", purpose: str = "", page: int = 1,
                size: int = 25) -> Page:
    """The checks of the area in a year, newest first; the ids shown audited."""
    check_read(actor, Category.PUBLIC_HEALTH)
    y = _year(year)
    qs = checks_visible_to(actor.user).filter(date__year=y)
    qs = area_filter(qs, village=village, township=township, field="resident__area_code")
    if purpose:
        if purpose not in CheckPurpose.values:
            raise InvalidInput("invalid_purpose", _("体检类别无效"), field="purpose")
        qs = qs.filter(purpose=purpose)
    qs = qs.select_related("resident__village", "facility", "by").order_by("-date", "-id")
    result = slice_page(qs, page, size)
    result.count = qs.count()
    audit.record(actor, "list", "health_check", "", year=y, village=village, township=township, purpose=purpose,
                 page=result.number, ids=[c.pk for c in result.items])
    return result


def get_check(actor: Actor, pk) -> HealthCheck:
    check_read(actor, Category.PUBLIC_HEALTH)
    row = checks_visible_to(actor.user).select_related("resident__village", "facility", "by").filter(
        pk=pk).first() if str(pk).isdigit() else None
    if row is None:
        audit.record(actor, "denied", "health_check", pk)
        raise NotFound()
    audit.record(actor, "view", "health_check", row.pk, resident=row.resident_id)
    return row


def resident_checks(actor: Actor, resident, limit: int = 10) -> list[HealthCheck]:
    """A resident's checks, newest first (the caller made sure the resident is in scope); audited."""
    check_read(actor, Category.PUBLIC_HEALTH)
    rows = list(HealthCheck.objects.filter(resident=resident).select_related("facility").order_by(
        "-date", "-id")[:limit])
    if rows:
        audit.record(actor, "view", "health_check", "", resident=resident.pk, count=len(rows))
    return rows


def _checked_in(year: int):
    return Exists(HealthCheck.objects.filter(resident=OuterRef("pk"), date__year=year))


def _chronic_managed():
    from yigongti.chronic.models import Enrolment, EnrolmentStatus

    return Exists(Enrolment.objects.filter(resident=OuterRef("pk"), status=EnrolmentStatus.MANAGED))


def target_q(year: int, who: str = "") -> Q:
    """Who should have the annual check: the 65+ ("elderly"), the managed chronic patients ("chronic"), or
    either (default)."""
    elderly = Q(birth_date__lte=elderly_born_by(year))
    if who == "elderly":
        return elderly
    if who == "chronic":
        return Q(chronic=True)
    return elderly | Q(chronic=True)


def unchecked(actor: Actor, *, year, who: str = "", village: str = "", township: str = "", page: int = 1,
              size: int = 25) -> Page:
    """The 65+ and the managed chronic patients of the area without a health check in ``year`` (oldest first):
    who to call in. Audited."""
    check_read(actor, Category.PUBLIC_HEALTH)
    y = _year(year)
    if who not in ("", "elderly", "chronic"):
        raise InvalidInput("invalid_who", _("对象无效"), field="who")
    qs = Resident.objects.filter(merged_into__isnull=True)
    if actor.user is not None:
        qs = scope_for(actor.user).filter(qs)
    qs = area_filter(qs, village=village, township=township)
    qs = qs.annotate(chronic=_chronic_managed(), checked=_checked_in(y)).filter(target_q(y, who), checked=False)
    qs = qs.select_related("village").order_by("birth_date", "id")
    result = slice_page(qs, page, size)
    result.count = qs.count()
    audit.record(actor, "list", "health_check_due", "", year=y, target=who, village=village, township=township,
                 page=result.number, ids=[r.pk for r in result.items])
    return result


def coverage(user, *, year: int) -> dict[str, int]:
    """The area's 65+ and managed chronic patients, and how many of them had a check in ``year`` (aggregates)."""
    qs = Resident.objects.filter(merged_into__isnull=True)
    if user is not None:
        qs = scope_for(user).filter(qs)
    elderly = qs.filter(birth_date__lte=elderly_born_by(year)).annotate(checked=_checked_in(year))
    chronic = qs.annotate(chronic=_chronic_managed(), checked=_checked_in(year)).filter(chronic=True)
    return {
        "elderly": elderly.count(), "elderly_checked": elderly.filter(checked=True).count(),
        "chronic": chronic.count(), "chronic_checked": chronic.filter(checked=True).count(),
    }
