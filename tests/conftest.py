import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's async-safety check would
# otherwise refuse the ORM calls the browser tests make to set up data.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def cast(db):
    from tests.cast import build_cast

    return build_cast()


@pytest.fixture
def login(client):
    """Log the test client in as a cast member: ``login(cast.village_doctor)``."""
    def _login(user, c=None):
        c = c or client
        c.force_login(user)
        return c

    return _login


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_argon2(settings):
    """Argon2 at production cost takes ~0.1 s a hash; the cast makes many accounts."""
    settings.PASSWORD_HASHERS = ["tests.hashers.FastArgon2PasswordHasher"]
