"""The demo county's postings: a year of county-hospital doctors across the townships, never two places a day,
attendance on past days (some flagged, most confirmed by the township), some doctors short of their year, N04
computed from them, and the demo county doctor posted today at the demo township admin's center."""

import datetime as dt

from django.db.models import Count

from yigongti.core.actor import Actor
from yigongti.demo.build import build_demo
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import REGISTRY_FIGURES, Area
from yigongti.orgs.models import User
from yigongti.workforce.ledger import REQUIREMENT
from yigongti.workforce.models import PostingDay, Request
from yigongti.workforce.queries.ledger import ledger

TODAY = dt.date(2026, 11, 20)


def test_the_demo_county_posts_its_doctors_for_a_year(transactional_db):
    build_demo(population=3000, seed=7, today=TODAY)
    days = PostingDay.objects.all()
    assert days.count() > 1000
    assert not days.values("staff_id", "day").annotate(n=Count("host_id", distinct=True)).filter(n__gt=1).exists()
    past = days.filter(day__lt=TODAY)
    assert past.filter(checked_in_at__isnull=True).count() == 0
    assert 0 < past.filter(flagged=True).count() < past.count() * 0.1
    assert past.filter(confirmed_at__isnull=False).count() > past.count() * 0.85
    rows = ledger(Actor.from_user(User.objects.get(username="manager")))
    short = [r for r in rows if r.standing.verified and not r.standing.met]
    assert short and len(short) < len(rows)
    assert max(r.standing.verified for r in rows) <= REQUIREMENT.days + 260
    doctor = User.objects.get(username="county_doctor")
    today_day = days.get(staff_id=doctor.staff_id, day=TODAY)
    assert today_day.checked_in_at is None
    assert User.objects.get(username="township_admin").facility_id == today_day.host_id
    assert Request.objects.filter(month=dt.date(2026, 12, 1)).count() >= 2
    region = User.objects.get(username="manager").facility.community.region
    county = Area("county", region.code, region.name, region.prefix)
    v = REGISTRY_FIGURES["N04"](county, parse_period("2026-10"))
    assert v.numerator and v.value
