"""N04 from the postings; the API (problem+json on bad input and on double booking); the pages."""

import datetime as dt

from django.utils import timezone

from tests.cast import as_
from tests.workforce.conftest import MONDAY, posting_data
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import REGISTRY_FIGURES, Area
from yigongti.workforce.services import postings

COUNTY = Area("county", "431127000000", "蓝山县", "431127")
OTHER = Area("township", "431127101000", "总市镇", "431127101")


def test_n04_counts_the_distinct_mid_senior_physicians_posted_in_the_period(cast, wf):
    postings.create_posting(as_(cast.manager), posting_data(cast, wf))
    postings.create_posting(as_(cast.manager), posting_data(cast, wf, host=cast.other_center.pk,
                                                            start="2026-12-14", end="2026-12-18"))
    v = REGISTRY_FIGURES["N04"](COUNTY, parse_period("2026-12"))
    assert v.numerator == 1 and v.denominator > 0 and v.value is not None
    assert REGISTRY_FIGURES["N04"](OTHER, parse_period("2026-12")).numerator == 1
    assert REGISTRY_FIGURES["N04"](COUNTY, parse_period("2026-11")).numerator == 0


def test_api_creates_lists_and_refuses_a_double_booking_as_problem_json(cast, wf, login, client):
    login(cast.manager)
    body = posting_data(cast, wf)
    r = client.post("/api/v1/workforce/postings", body, content_type="application/json")
    assert r.status_code == 201 and r.json()["days"] == 5
    r = client.post("/api/v1/workforce/postings", {**body, "host": cast.other_center.pk},
                    content_type="application/json")
    assert r.status_code == 409 and r["Content-Type"] == "application/problem+json"
    assert r.json()["code"] == "double_booked"
    r = client.post("/api/v1/workforce/postings", {**body, "end": "2026-11-01"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "invalid_posting"
    r = client.get("/api/v1/workforce/postings?month=2026-12-01")
    assert [p["staff_name"] for p in r.json()] == [wf.expert.name]


def test_api_check_in_is_the_experts_and_flags_a_far_position(cast, wf, login, client):
    today = timezone.localdate()
    p = postings.create_posting(as_(cast.manager), posting_data(cast, wf, start=today, end=today,
                                                                weekdays="0,1,2,3,4,5,6"))
    day = p.days.get()
    login(cast.county_doctor)
    r = client.post(f"/api/v1/workforce/days/{day.pk}/check-in", {"lon": 113.0, "lat": 25.37},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["flagged"] is True
    login(cast.outsider)
    assert client.post(f"/api/v1/workforce/days/{day.pk}/check-in", {}, content_type="application/json")\
        .status_code == 404


def test_pages_plan_a_posting_and_reshow_the_form_on_a_clash(cast, wf, login, client):
    login(cast.manager)
    r = client.post("/workforce/", posting_data(cast, wf, weekdays=["0", "1", "2", "3", "4"]))
    assert r.status_code == 302
    r = client.post("/workforce/", posting_data(cast, wf, host=cast.other_center.pk))
    assert r.status_code == 200 and "同一天不能派往两处" in r.content.decode()
    assert f'value="{(MONDAY + dt.timedelta(days=4)).isoformat()}"' in r.content.decode()
    for url in ("/workforce/", "/workforce/requests/", "/workforce/rota/", "/workforce/week/", "/workforce/ledger/"):
        assert client.get(url).status_code == 200, url


def test_the_phone_check_in_and_the_townships_week(cast, wf, login, client):
    today = timezone.localdate()
    postings.create_posting(as_(cast.manager), posting_data(cast, wf, start=today, end=today,
                                                            weekdays="0,1,2,3,4,5,6"))
    login(cast.county_doctor)
    r = client.get("/workforce/check-in/")
    assert "到岗签到" in r.content.decode() and "geolocation=(self)" in r["Permissions-Policy"]
    day = wf.expert.wf_postings.get().days.get()
    r = client.post("/workforce/check-in/", {"day": day.pk, "lon": "", "lat": ""})
    assert r.status_code == 302
    login(wf.admin)
    r = client.get("/workforce/week/")
    assert wf.expert.name in r.content.decode() and "确认到岗" in r.content.decode()
    assert client.post("/workforce/week/", {"day": day.pk}).status_code == 302
    day.refresh_from_db()
    assert day.confirmed_by == wf.admin


def test_rota_pages_generate_review_and_publish(cast, wf, login, client):
    postings.file_request(as_(wf.admin), {"host": cast.township_center.pk, "month": "2026-12", "days": 2})
    login(cast.manager)
    r = client.post("/workforce/rota/", {"month": "2026-12", "solver": "greedy"})
    assert r.status_code == 302
    page = client.get(r["Location"]).content.decode()
    assert "满足需求 2 / 2 天" in page
    assert client.post(r["Location"], {"action": "publish"}).status_code == 302
    r = client.post("/workforce/rota/", {"month": "2027-01"})
    assert r.status_code == 200 and "本月还没有乡镇的下沉需求" in r.content.decode()


def test_a_village_doctor_opens_the_requests_page(cast, wf, login, client):
    login(cast.village_doctor)
    assert client.get("/workforce/requests/").status_code == 200
