"""The village doctors' and the talent pool's pages and API lists, as every account of the cast, in Chinese and
in English: never a server error, only 200/403/404."""

import pytest

PAGES = ["/workforce/village/", "/workforce/village/{vd}/", "/workforce/village/me/", "/workforce/village/assess/",
         "/workforce/village/sheet/", "/workforce/pool/", "/api/v1/workforce/attendance",
         "/api/v1/workforce/assessments", "/api/v1/workforce/assignments"]
ROLES = ["county_doctor", "township_doctor", "village_doctor", "manager", "bureau", "city", "auditor", "outsider"]


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_role_sees_the_pages_without_an_error(cast, login, client, lang):
    bad = []
    for role in ROLES:
        login(getattr(cast, role))
        for url in PAGES:
            url = url.format(vd=cast.village_doctor.staff_id)
            r = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
            if r.status_code not in (200, 403, 404):
                bad.append((role, url, r.status_code))
    assert not bad
