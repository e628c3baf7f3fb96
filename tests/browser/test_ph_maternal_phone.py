"""The village doctor's maternal and child pages at 390 px (a phone): no horizontal scroll. Drives Chromium."""

import datetime as dt

import pytest

from tests.cast import as_
from yigongti.core.validation import today
from yigongti.publichealth.services import child as child_services
from yigongti.publichealth.services import maternal as services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def narrow(browser, live_server, client, login, care):
    login(care.cast.village_doctor)
    cookie = client.cookies["sessionid"].value
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844})
    host = live_server.url.split("//")[1].split(":")[0]
    ctx.add_cookies([{"name": "sessionid", "value": cookie, "domain": host, "path": "/"}])
    yield ctx.new_page()
    ctx.close()


def test_maternal_and_child_pages_fit_390px(narrow, care):
    vd = as_(care.cast.village_doctor)
    p = services.register_pregnancy(vd, care.mother, {"lmp": (today() - dt.timedelta(days=100)).isoformat()})
    child_services.record_child_visit(vd, care.child, {"kind": "month_24", "date": today().isoformat()})
    for url in ("/publichealth/pregnancies/", f"/publichealth/pregnancies/{p.pk}/",
                f"/publichealth/pregnancies/{p.pk}/visit/", f"/publichealth/pregnancies/new/?resident={care.mother.pk}",
                "/publichealth/children/", f"/publichealth/children/{care.child.pk}/",
                f"/publichealth/children/{care.child.pk}/visit/"):
        narrow.goto(url)
        assert narrow.locator("main, body").first.is_visible()
        assert care.mother.name in narrow.content() or care.child.name in narrow.content(), url
        width = narrow.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (url, width)
