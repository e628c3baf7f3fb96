import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("YIGONGTI_CHROMIUM", "/usr/bin/chromium")


def _serial_live_server_on_sqlite() -> None:
    """On SQLite the test database lives in memory and the live server's threads share its one connection, so
    two requests the browser makes at once (a photo and the next page) would interleave their statements on it
    (seen: ``UNIQUE constraint failed: core_auditevent.seq``). There the server answers one request at a time;
    on PostgreSQL every thread has its own connection and the server stays threaded."""
    import threading

    from django.conf import settings
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread

    class SerialApp(ThreadedWSGIServer):
        """Threaded (keep-alive connections stay open side by side), one request inside the app at a time."""

        lock = threading.Lock()

        def set_app(self, application):
            def serial(environ, start_response):
                with self.lock:
                    return application(environ, start_response)

            super().set_app(serial)

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        LiveServerThread.server_class = SerialApp  # type: ignore[attr-defined]  # the stubs omit it


_serial_live_server_on_sqlite()
ARTIFACTS = Path(os.environ.get("YIGONGTI_TEST_ARTIFACTS", "test-artifacts"))


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium")
        pytest.skip("Debian chromium not installed (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
        ])
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    ctx = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    ctx.close()


@pytest.fixture
def screenshot(page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def _shot(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


def login_through_form(page, username, password=None):
    """The real login form; an account that needs two-factor login then types a fresh recovery code."""
    from tests.cast import PASSWORD
    from tests.twofactor import recovery_code_for

    code = recovery_code_for(username)
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password or PASSWORD)
    page.click("button[type=submit]")
    if code:
        page.wait_for_selector("[data-testid=otp-form]")
        page.fill("#id_otp_token", code)
        page.click("[data-testid=otp-form] button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")


def build_referral_loop(cast):
    """A referral center (the nurse ``center_desk``, as ``cast.desk``), the starter rules, an up-referral of the
    township doctor that was answered, completed and referred down to the village clinic (``cast.first``, then
    ``cast.down`` with follow-ups due in three and ninety days), and a fresh one waiting (``cast.waiting``)."""
    import datetime as dt

    from django.utils import timezone

    from tests.cast import PASSWORD, SYSTEM, as_
    from yigongti.orgs.models import Role
    from yigongti.orgs.services import create_account
    from yigongti.referrals import services

    cast.desk = create_account(username="center_desk", role=Role.NURSE, password=PASSWORD,
                               facility=cast.county_hospital, actor=SYSTEM)[0]
    services.setup_center(cast.community, members=[cast.desk], actor=SYSTEM)
    services.install_starter_rules(actor=SYSTEM)
    data = {"resident": cast.resident.pk, "direction": "up", "urgency": "green", "to_facility": cast.county_hospital.pk,
            "icd10": "I63.9", "diagnosis": "脑梗死", "reason": "突发右侧肢体无力2小时，言语含糊"}
    cast.first = services.submit_referral(data, actor=as_(cast.township_doctor))
    services.accept_referral(cast.first.pk, actor=as_(cast.desk))
    services.arrive_referral(cast.first.pk, actor=as_(cast.county_doctor))
    services.complete_referral(cast.first.pk, outcome="down", actor=as_(cast.county_doctor))
    today = timezone.localdate()
    cast.down = services.submit_referral({
        "resident": cast.resident.pk, "direction": "down", "to_facility": cast.village_clinic.pk, "icd10": "I63.9",
        "diagnosis": "脑梗死恢复期", "reason": "病情稳定，转回村卫生室康复随访", "rehab_plan": "步行训练",
        "medication_plan": "阿司匹林 100mg qd", "source_referral": cast.first.pk,
        "follow_up_dates": [(today + dt.timedelta(days=3)).isoformat(), (today + dt.timedelta(days=90)).isoformat()]},
        actor=as_(cast.county_doctor))
    cast.waiting = services.submit_referral(dict(data, urgency="urgent", icd10="J18.9", diagnosis="重症肺炎",
                                                 reason="高热、呼吸急促", override_reason="CURB-65 评分 3 分"), "w",
                                            actor=as_(cast.township_doctor))
    return cast
