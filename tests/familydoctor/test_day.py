"""The village doctor's day list (familydoctor:day): the due and overdue work of my village grouped by kind,
overdue first, each with its form's link; scoped (another village's work never shows), audited, a constant number
of queries, phone-first."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.cast import as_
from yigongti.chronic.models import Enrolment
from yigongti.core.audit import AuditEvent
from yigongti.familydoctor.models import DueItem, DueKind
from yigongti.familydoctor.queries.due import for_user
from yigongti.familydoctor.views.day import day_groups

pytestmark = pytest.mark.django_db


def due(resident, kind, ref, label, start, end, team=None):
    return DueItem.objects.create(resident=resident, kind=kind, ref=ref, label=label, due_from=start, due_by=end,
                                  village=resident.village, area_code=resident.area_code, team=team,
                                  computed_at=timezone.now())


@pytest.fixture
def work(care):
    today = timezone.localdate()
    d = dt.timedelta
    c = care.cast
    e = Enrolment.objects.create(resident=care.grandfather, condition="htn", enrolled_on=dt.date(2021, 1, 4),
                                 facility=c.village_clinic, village=c.village, next_due=today - d(days=5))
    return {
        "enrolment": e,
        "fu": due(care.grandfather, DueKind.CHRONIC_FOLLOW_UP, "htn", "高血压随访", today - d(days=19),
                  today - d(days=5), care.team),
        "fu_soon": due(care.grandmother, DueKind.CHRONIC_FOLLOW_UP, "t2dm", "2型糖尿病随访", today, today + d(days=6)),
        "child": due(care.child, DueKind.CHILD_VISIT, "month_24", "24月龄健康检查", today - d(days=3),
                     today + d(days=20)),
        "vaccine": due(care.child, DueKind.VACCINE, "JE-2", "乙脑减毒活疫苗第2剂", today - d(days=40),
                       today - d(days=1)),
        "check": due(care.grandmother, DueKind.ANNUAL_CHECK, f"check-{today.year}", "年度健康体检", today,
                     today + d(days=25)),
        "far": due(c.neighbour, DueKind.MATERNAL_VISIT, "antenatal_2", "第2次产前随访", today, today + d(days=3)),
    }


def test_the_day_list_groups_my_villages_work_overdue_first(care, work):
    on = timezone.localdate()
    items = for_user(as_(care.cast.village_doctor), on=on, village=care.cast.village)
    groups = day_groups(items, on)
    assert [g.kind for g in groups] == ["chronic", "child", "vaccine", "check"]
    chronic = groups[0]
    assert [e.item.pk for e in chronic.entries] == [work["fu"].pk, work["fu_soon"].pk]
    first = chronic.entries[0]
    assert first.overdue and first.days == 5 and chronic.overdue == 1
    assert first.label == "高血压随访" and first.age == care.grandfather.age_on(on)
    assert all(e.url for g in groups for e in g.entries)  # the form's page, or the resident's
    assert work["far"].pk not in {e.item.pk for g in groups for e in g.entries}


def test_each_kind_links_to_its_form(care, work):
    from django.urls import NoReverseMatch, reverse

    on = timezone.localdate()
    groups = {g.kind: g for g in day_groups(for_user(as_(care.cast.village_doctor), on=on,
                                                     village=care.cast.village), on)}
    try:
        expected = reverse("chronic:follow_up", args=[work["enrolment"].pk])
    except NoReverseMatch:  # the follow-up form is not there yet: the resident's page
        expected = reverse("residents:detail", args=[care.grandfather.pk])
    assert groups["chronic"].entries[0].url == expected
    try:
        expected = reverse("publichealth:vaccinate", args=[care.child.pk])
    except NoReverseMatch:
        expected = reverse("residents:detail", args=[care.child.pk])
    assert groups["vaccine"].entries[0].url == expected


def test_the_page(care, work, login, client):
    login(care.cast.village_doctor)
    resp = client.get("/familydoctor/day/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert html.count('data-testid="day-item"') == 5
    assert "李建国" in html and "王秀英" not in html and "逾期 5 天" in html
    overdue = client.get("/familydoctor/day/", {"overdue": "1"}).content.decode()
    assert overdue.count('data-testid="day-item"') == 2
    assert client.get("/familydoctor/day/", {"village": care.cast.other_village.code}).status_code == 404
    assert AuditEvent.objects.filter(action="list", object_type="due_item").exists()
    en = client.get("/familydoctor/day/", HTTP_ACCEPT_LANGUAGE="en")
    assert en.status_code == 200


def test_the_page_costs_the_same_queries_for_few_or_many_items(care, work, login, client):
    login(care.cast.village_doctor)
    client.get("/familydoctor/day/")
    with CaptureQueriesContext(connection) as few:
        client.get("/familydoctor/day/")
    today = timezone.localdate()
    for i in range(15):
        due(care.grandmother, DueKind.VACCINE if i % 2 else DueKind.CHRONIC_FOLLOW_UP, f"x-{i}", "x",
            today, today + dt.timedelta(days=i))
    with CaptureQueriesContext(connection) as many:
        resp = client.get("/familydoctor/day/")
    assert resp.content.decode().count('data-testid="day-item"') == 20

    def work_of(ctx):
        return len([x for x in ctx.captured_queries
                    if "django_session" not in x["sql"] and "SAVEPOINT" not in x["sql"]])

    assert work_of(many) == work_of(few)


def test_roles_without_the_public_health_read_are_refused(care, work, login, client):
    for user in (care.cast.manager, care.cast.bureau):
        login(user)
        assert client.get("/familydoctor/day/").status_code == 403


def test_a_carer_without_villages_is_told(care, login, client):
    from tests.cast import _account
    from yigongti.orgs.models import Profession, Role

    lonely = _account("lonely_doctor", Role.DOCTOR, care.cast.far_hospital, profession=Profession.PHYSICIAN)
    login(lonely)
    html = client.get("/familydoctor/day/").content.decode()
    assert 'data-testid="day-empty"' in html  # the villages of the care area: nothing due there


def test_the_day_list_reads_what_the_due_engine_computed(care, login, client):
    """Enrolled through the chronic service, recomputed by the due engine: the follow-up is on the day list with
    the link to its follow-up form."""
    from django.urls import NoReverseMatch, reverse

    from yigongti.chronic.services.enrolment import enrol
    from yigongti.familydoctor.due import recompute

    today = timezone.localdate()
    e = enrol(as_(care.cast.village_doctor), care.grandfather, "htn", enrolled_on=today - dt.timedelta(days=30))
    recompute(today)
    assert DueItem.objects.filter(kind=DueKind.CHRONIC_FOLLOW_UP, resident=care.grandfather).exists()
    login(care.cast.village_doctor)
    html = client.get("/familydoctor/day/").content.decode()
    assert 'data-testid="day-group-chronic"' in html
    try:
        url = reverse("chronic:follow_up", args=[e.pk])
    except NoReverseMatch:
        url = reverse("residents:detail", args=[care.grandfather.pk])
    assert f'href="{url}"' in html


def test_each_kind_shows_its_most_urgent_and_links_to_the_whole_list(care, work, login, client):
    from yigongti.familydoctor.views.day import PER_KIND

    today = timezone.localdate()
    for i in range(PER_KIND + 5):
        due(care.child, DueKind.VACCINE, f"V-{i}", f"疫苗{i}", today, today + dt.timedelta(days=i + 1))
    login(care.cast.village_doctor)
    html = client.get("/familydoctor/day/").content.decode()
    assert html.count('data-kind="vaccine"') == PER_KIND
    assert 'data-testid="day-more"' in html and "?village=431127100201&amp;kind=vaccine" in html
    assert "逾期 1 天" in html  # the overdue dose of the fixture is among the shown (overdue first)
    whole = client.get("/familydoctor/day/", {"kind": "vaccine"}).content.decode()
    assert whole.count('data-kind="vaccine"') == PER_KIND + 6
    assert 'data-kind="chronic"' not in whole
