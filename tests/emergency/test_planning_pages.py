"""The bureau's station-planning pages and API: a run asked for on the form, computed by the worker, shown with its
map data and tables; bad input and outsiders refused."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.cast import SYSTEM
from tests.emergency.test_planning_service import GridGraph, county, stand_in_graph  # noqa: F401  (fixtures)
from yigongti.core import jobs
from yigongti.emergency.models import StationPlan
from yigongti.emergency.services import planning as services

pytestmark = pytest.mark.django_db


def test_the_bureau_asks_for_a_plan_and_sees_it_when_the_worker_is_done(county, client, login):  # noqa: F811
    login(county.cast.bureau)
    page = client.get(reverse("emergency:planning"))
    assert page.status_code == 200 and 'data-testid="plan-form"' in page.content.decode()
    resp = client.post(reverse("emergency:planning"), {"name": "南岭乡新站", "objective": "mclp",
                                                      "threshold_min": "10", "scenarios": ["add1", "move1"],
                                                      "simulate": "on", "calls_per_year": "2000",
                                                      "new_vehicles": "1"})
    plan = StationPlan.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("emergency:plan", args=[plan.pk])
    assert plan.status == "queued" and plan.params["scenarios"] == ["add1", "move1"]
    waiting = client.get(reverse("emergency:plan", args=[plan.pk]))
    assert 'data-testid="plan-status"' in waiting.content.decode()
    poll = client.get(reverse("emergency:plan", args=[plan.pk]) + "?poll=1", HTTP_HX_REQUEST="true")
    assert poll.status_code == 200 and "plan-status" in poll.content.decode()

    assert jobs.run_due() == 1
    poll = client.get(reverse("emergency:plan", args=[plan.pk]) + "?poll=1", HTTP_HX_REQUEST="true")
    assert poll.status_code == 204 and poll["HX-Refresh"] == "true"
    html = client.get(reverse("emergency:plan", args=[plan.pk])).content.decode()
    for part in ("plan-map", "plan-coverage", "plan-simulation", "plan-townships", "plan-farthest"):
        assert f'data-testid="{part}"' in html
    assert "南岭乡" in html and "新增1个站点" in html and "迁移1个站点" in html
    start = html.index('<script id="plan-data" type="application/json">') + len(
        '<script id="plan-data" type="application/json">')
    data = json.loads(html[start:html.index("</script>", start)])
    assert [p["key"] for p in data["plans"]] == ["today", "add1", "move1"]
    added = data["plans"][1]["added"]
    assert [data["sites"][j]["name"] for j in added] == ["南岭乡"]
    assert len(data["villages"]) == 4 and all(len(v["t"]) == 3 for v in data["villages"])
    listing = client.get(reverse("emergency:planning")).content.decode()
    assert "南岭乡新站" in listing


def test_bad_form_input_comes_back_with_the_reasons(county, client, login):  # noqa: F811
    login(county.cast.bureau)
    resp = client.post(reverse("emergency:planning"), {"threshold_min": "25", "calls_per_year": "-3"}, follow=True)
    html = resp.content.decode()
    assert "覆盖时限只能是10、15或20分钟" in html and "年呼救量应为" in html and "请选择方案" in html
    assert not StationPlan.objects.exists()


def test_clinicians_and_outsiders_do_not_see_the_plans(county, client, login):  # noqa: F811
    plan = services.start_plan(SYSTEM, background=False, scenarios=["add1"], simulate=False)
    for user in (county.cast.county_doctor, county.dispatcher):
        login(user)
        assert client.get(reverse("emergency:planning")).status_code == 403
        assert client.get(reverse("emergency:plan", args=[plan.pk])).status_code == 403
        assert client.post(reverse("emergency:planning"), {"scenarios": ["add1"]}).status_code == 403
    assert StationPlan.objects.count() == 1


def test_a_failed_run_shows_its_reason_and_can_be_run_again(county, client, login, monkeypatch):  # noqa: F811
    def broken(network):
        raise ValueError("no villages with a population on this network")

    monkeypatch.setattr(services.planning_data, "load_input", lambda network, graph: broken(network))
    plan = services.start_plan(SYSTEM, background=False, simulate=False)
    assert plan.status == "failed"
    login(county.cast.manager)
    html = client.get(reverse("emergency:plan", args=[plan.pk])).content.decode()
    assert "该路网没有带人口的村庄" in html and "重新运行" in html
    monkeypatch.undo()
    monkeypatch.setattr(services, "_graph", GridGraph)
    client.post(reverse("emergency:plan_retry", args=[plan.pk]))
    assert jobs.run_due() == 1
    plan.refresh_from_db()
    assert plan.status == "done"


def test_the_api_queues_a_run_and_returns_its_result(county, client, login):  # noqa: F811
    login(county.cast.bureau)
    resp = client.post("/api/v1/emergency/planning", json.dumps({"scenarios": ["add1"], "simulate": False,
                                                                 "threshold_min": 10}),
                       content_type="application/json")
    assert resp.status_code == 202, resp.content
    pk = resp.json()["id"]
    assert resp.json()["status"] == "queued"
    jobs.run_due()
    detail = client.get(f"/api/v1/emergency/planning/{pk}").json()
    assert detail["status"] == "done"
    assert detail["result"]["scenarios"][0]["coverage"]["covered"]["10"] == 12500
    assert [p["id"] for p in client.get("/api/v1/emergency/planning").json()] == [pk]
    bad = client.post("/api/v1/emergency/planning", json.dumps({"threshold_min": 12}),
                      content_type="application/json")
    assert bad.status_code == 422 and "threshold_min" in bad.json()["errors"]
    login(county.cast.county_doctor)
    assert client.get(f"/api/v1/emergency/planning/{pk}").status_code == 403


def test_the_planners_home_panel_shows_the_latest_plan(county):  # noqa: F811
    from yigongti.core.actor import Actor
    from yigongti.emergency.planning.home import planning_panel

    assert planning_panel(Actor.from_user(county.cast.county_doctor)) is None
    empty = planning_panel(Actor.from_user(county.cast.bureau))
    assert empty is not None and empty.url == reverse("emergency:planning")
    # before any plan: the links to the road network and to the stations and ambulances
    assert [i.testid for i in empty.items] == ["home-em-roads", "home-em-fleet"]
    assert empty.items[0].url == reverse("emergency:roads") and empty.items[1].url == reverse("emergency:fleet")
    plan = services.start_plan(SYSTEM, background=False, scenarios=["add1"], simulate=False, threshold_min=10)
    panel = planning_panel(Actor.from_user(county.cast.bureau))
    assert [i.testid for i in panel.items] == ["home-em-plan-today", "home-em-plan-best", "home-em-roads",
                                               "home-em-fleet"]
    assert panel.items[1].value == "100%" and panel.items[1].note == "南岭乡"
    assert panel.items[0].url == reverse("emergency:plan", args=[plan.pk])
