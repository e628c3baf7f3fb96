"""Every prescribing page, as the roles that use it and as those who may not, in Chinese and English: never a
server error, the refusals are our pages (the every-page world of tests/test_every_page.py)."""

from __future__ import annotations

import pytest

from tests.prescribing.world import prescribing_world

pytestmark = pytest.mark.django_db


def test_every_prescribing_page_answers_every_role(cast, login, client):
    params = prescribing_world(cast)
    from yigongti.orgs.models import User

    pk, done = params["prescribing", None, "pk"], params["prescribing", "detail", "pk"]
    urls = ["/prescribing/", f"/prescribing/new/?resident={cast.resident.pk}", "/prescribing/items/?q=氨氯",
            "/prescribing/queue/", "/prescribing/dispensing/", "/prescribing/comments/",
            f"/prescribing/comments/{params['prescribing', 'comment', 'pk']}/", "/prescribing/rules/",
            f"/prescribing/rules/{params['prescribing', 'rule', 'pk']}/", f"/prescribing/{pk}/",
            f"/prescribing/{done}/",
            "/api/v1/prescribing/prescriptions", f"/api/v1/prescribing/prescriptions/{done}"]
    pharmacist = User.objects.get(username="rx_pharmacist")
    for user in (pharmacist, cast.village_doctor, cast.county_doctor, cast.bureau, cast.manager, cast.outsider):
        login(user)
        for lang in ("zh-hans", "en"):
            for url in urls:
                r = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
                assert r.status_code in (200, 302, 403, 404), (user.username, url, r.status_code)
    login(pharmacist)
    assert client.get(f"/prescribing/{pk}/").status_code == 200
    assert client.get("/prescribing/rules/").status_code == 200
    login(cast.bureau)
    assert client.get("/prescribing/queue/").status_code == 403
