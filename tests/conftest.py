import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's async-safety check would
# otherwise refuse the ORM calls the browser tests make to set up data.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The real Orthanc of the imaging tests: one session fixture for the whole run (declared here once, so that the
# unit and the browser tests share one server instead of each module starting its own on the same ports).
pytest_plugins = ["tests.telemedicine.orthanc"]


@pytest.fixture
def cast(db):
    from tests.cast import build_cast

    return build_cast()


@pytest.fixture
def care(cast):
    """Family-doctor teams, packages and a household on the cast (tests/care.py)."""
    from tests.care import build_care

    return build_care(cast)


@pytest.fixture
def login(client):
    """Log the test client in as a cast member: ``login(cast.village_doctor)``."""
    def _login(user, c=None):
        from tests.twofactor import pass_two_factor

        c = c or client
        c.force_login(user)
        return pass_two_factor(c, user)  # privileged accounts: as if the TOTP step was passed

    return _login


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _audit_witness(settings, tmp_path):
    """Each test anchors the audit chain in its own witness file, never made append-only (chattr +a)."""
    settings.YIGONGTI_AUDIT_WITNESS = tmp_path / "audit_witness.jsonl"
    settings.YIGONGTI_AUDIT_WITNESS_CHATTR = False


@pytest.fixture(autouse=True)
def _fast_argon2(settings):
    """Argon2 at production cost takes ~0.1 s a hash; the cast makes many accounts."""
    settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]
