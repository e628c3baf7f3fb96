"""The home page per role: to-dos first, each linking to where it is handled; the area's totals only for the
roles that manage the county; every panel built by its own app's scoped, audited reads."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.cast import as_
from tests.indicators.world import build_world
from tests.referrals import conftest as referral_fixtures
from tests.referrals.conftest import up
from yigongti.core.actor import Actor
from yigongti.core.models import AuditEvent
from yigongti.indicators import queries as indicator_queries
from yigongti.indicators.services import refresh_facts
from yigongti.orgs import home
from yigongti.referrals import services
from yigongti.referrals.models import FollowUp

ref, sent = referral_fixtures.ref, referral_fixtures.sent  # the referral center's cast (fixtures)


def _testids(html: str, name: str) -> list[str]:
    return re.findall(rf'data-testid="{name}"', html)


def _down_to_village(ref, dates=None):
    """An up-referral completed at the county hospital and referred down to the village clinic."""
    r = up(ref)
    services.accept_referral(r.pk, actor=as_(ref.desk))
    services.arrive_referral(r.pk, actor=as_(ref.county_doctor))
    services.complete_referral(r.pk, outcome="down", actor=as_(ref.county_doctor))
    today = timezone.localdate()
    dates = dates or [(today + dt.timedelta(days=3)).isoformat(), (today + dt.timedelta(days=60)).isoformat()]
    return services.submit_referral({
        "resident": ref.resident.pk, "direction": "down", "to_facility": ref.village_clinic.pk, "icd10": "I63.9",
        "diagnosis": "脑梗死恢复期", "reason": "病情稳定", "rehab_plan": "步行训练", "medication_plan": "阿司匹林",
        "follow_up_dates": dates, "source_referral": r.pk}, actor=as_(ref.county_doctor))


def test_village_doctor_home_lists_the_pending_down_referral_and_the_follow_up_falling_due(ref, login):
    down = _down_to_village(ref)
    html = login(ref.village_doctor).get("/").content.decode()
    todos = html[html.index('data-testid="home-todos"'):]
    # the down-referral to receive, linking to the referral where it is accepted
    assert f'href="/referrals/{down.pk}/" data-testid="down-referral"' in todos
    assert "待接收（下转）" in todos and "李建国" in todos
    # the follow-up due in three days (not the one in two months), linking to where it is recorded
    assert f'href="/referrals/{down.pk}/" data-testid="follow-up-due"' in todos
    assert len(_testids(html, "follow-up-due")) == 1
    # to-dos come before the figures, and a village doctor sees no county totals
    assert html.index('data-testid="home-todos"') < html.index('data-testid="resident-total"')
    assert "facility-total" not in html and "home-totals" not in html.split('data-testid="home-todos"')[0]
    assert 'data-testid="resident-total">1<' in html
    # the patient names were read through the referral queries and audited
    assert AuditEvent.objects.filter(actor="village_doctor", action="list", object_type="followup",
                                     detail__panel="home").exists()
    assert AuditEvent.objects.filter(actor="village_doctor", action="list", object_type="referral",
                                     detail__box="todo").exists()


def test_an_overdue_follow_up_is_marked_on_the_home_page(ref, login):
    down = _down_to_village(ref)
    services.accept_referral(down.pk, actor=as_(ref.village_doctor))
    fu = down.follow_ups.order_by("due_date").first()
    FollowUp.objects.filter(pk=fu.pk).update(due_date=timezone.localdate() - dt.timedelta(days=2))
    html = login(ref.village_doctor).get("/").content.decode()
    item = html[html.index('data-testid="follow-up-due"'):]
    item = item[:item.index("</a>")]
    assert "已逾期" in item and "text-bg-danger" in item


def test_township_doctor_home_shows_the_referrals_waiting_for_an_answer(ref, login):
    r = up(ref)
    html = login(ref.township_doctor).get("/").content.decode()
    assert f'href="/referrals/{r.pk}/" data-testid="awaiting-answer"' in html
    assert "已转出、待对方应答（1）" in html
    assert "facility-total" not in html
    services.accept_referral(r.pk, actor=as_(ref.desk))
    html = login(ref.township_doctor).get("/").content.decode()
    assert "awaiting-answer" not in html and "转出的转诊都已得到应答" in html


def test_the_referral_center_sees_its_queue_by_urgency_and_the_overdue(ref, login):
    green = up(ref)
    up(ref, key="second", urgency="routine", icd10="J18.9", diagnosis="肺炎", reason="发热咳嗽三天",
       override_reason="高龄合并慢阻肺")
    services.escalate_if_unanswered(green.pk, now=timezone.now() + dt.timedelta(hours=2))
    html = login(ref.desk).get("/").content.decode()
    panel = html[html.index('data-testid="home-referrals-center"'):]
    assert "转诊中心待处理（2）" in panel

    def count(testid):
        m = re.search(rf'data-testid="{testid}">.*?data-testid="value">(\d+)<', panel, re.S)
        return int(m.group(1))

    assert (count("queue-green"), count("queue-urgent"), count("queue-routine"), count("queue-overdue")) == (1, 0, 1, 1)
    assert 'href="/referrals/center/?tab=overdue" data-testid="queue-overdue"' in panel


def test_the_bureau_sees_the_red_indicators_of_the_latest_month_and_the_county_totals(cast, login):
    build_world(cast)
    refresh_facts()
    area = indicator_queries.default_area(cast.bureau)
    period = indicator_queries.default_period()
    red = [c.indicator.code for c in indicator_queries.figures(area, period) if c.status == "red"
           and c.indicator.from_facts]
    assert red, "the hand-countable world has red indicators"
    html = login(cast.bureau).get("/").content.decode()
    shown = re.findall(r'data-testid="indicator-([A-Z0-9_]+)"', html)
    assert set(red) <= set(shown)
    assert f"未达标指标（{len(red)}）" in html
    for code in red:
        url = f"/indicators/{code}/?area={area.key}&amp;period={period.key}"
        assert f'href="{url}" data-testid="indicator-{code}"' in html
    # the county's totals: facilities, staff, residents, key populations
    assert 'data-testid="facility-total">5<' in html and 'data-testid="resident-total">2<' in html
    assert 'data-testid="home-residents-key-populations"' in html and 'data-testid="home-residents-ages"' in html


def test_the_red_indicators_come_from_the_dashboards_cached_facts(cast, login):
    """Once the dashboard has been shown, the home page reads no indicator facts from the database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    build_world(cast)
    refresh_facts()
    c = login(cast.bureau)
    assert c.get("/indicators/").status_code == 200
    with CaptureQueriesContext(connection) as seen:
        html = c.get("/").content.decode()
    assert 'data-testid="home-indicators-red"' in html
    assert not [q for q in seen.captured_queries if "indicators_monthlyfact" in q["sql"]]


def test_the_manager_and_the_city_see_totals_but_doctors_do_not(cast, login, client):
    for who in (cast.manager, cast.city):
        client.logout()
        assert 'data-testid="facility-total"' in login(who).get("/").content.decode()
    for who in (cast.county_doctor, cast.township_doctor, cast.village_doctor):
        client.logout()
        html = login(who).get("/").content.decode()
        assert 'data-testid="facility-total"' not in html and 'data-testid="home-residents-ages"' not in html


def test_the_auditor_sees_recent_refusals_and_no_residents(cast, login, client):
    from yigongti.core.errors import NotFound
    from yigongti.residents.queries import get_resident_for

    with pytest.raises(NotFound):
        get_resident_for(as_(cast.village_doctor), cast.neighbour.pk)
    html = login(cast.auditor).get("/").content.decode()
    assert re.search(r'data-testid="alert-denied">.*?data-testid="value">1<', html, re.S)
    assert 'data-testid="denial"' in html and "village_doctor" in html
    assert '?action=denied&amp;date_from=' in html
    assert "resident-total" not in html and 'href="/residents/"' not in html
    assert AuditEvent.objects.filter(actor="auditor", action="list", object_type="audit_event",
                                     detail__panel="home").exists()


def test_a_failing_panel_does_not_take_the_home_page_down(cast, login):
    def broken(actor):
        raise RuntimeError("boom")

    home.register("test.broken", broken, order=1)
    try:
        r = login(cast.village_doctor).get("/")
        assert r.status_code == 200 and 'data-testid="resident-total"' in r.content.decode()
    finally:
        home.PANELS.pop("test.broken")


def test_home_for_returns_todos_before_totals(cast):
    got = home.home_for(Actor.from_user(cast.bureau))
    assert [p.key for p in got.todos] == ["indicators.red"]
    assert {p.key for p in got.totals} >= {"orgs.facility_types", "residents.key_populations", "residents.ages"}
    assert home.home_for(Actor.from_user(cast.auditor)).stats == []
