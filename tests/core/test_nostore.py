"""Person pages and API responses are never stored by a browser or a proxy."""


def test_person_pages_and_api_responses_send_no_store(cast, client, login):
    login(cast.village_doctor)
    for url in ("/residents/", f"/residents/{cast.resident.pk}/", "/api/v1/residents",
                f"/api/v1/residents/{cast.resident.pk}", "/inbox/"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert "no-store" in r["Cache-Control"], url
    r = client.post("/residents/find/", {"name": "李建国"})
    assert "no-store" in r["Cache-Control"]


def test_the_api_sends_no_store_even_when_it_refuses(client):
    r = client.get("/api/v1/residents")
    assert r.status_code in (401, 403) and "no-store" in r["Cache-Control"]


def test_static_files_and_anonymous_pages_are_left_to_their_own_headers(rf, settings):
    from django.contrib.auth.models import AnonymousUser

    from yigongti.core.nostore import _personal

    for path, personal in ((settings.STATIC_URL + "app.css", False), ("/login/", False), ("/api/v1/x", True)):
        request = rf.get(path)
        request.user = AnonymousUser()
        assert _personal(request) is personal, path
