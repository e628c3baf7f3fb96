import pytest

from tests.distribution.world import build_world


@pytest.fixture
def w(cast):
    return build_world(cast)
