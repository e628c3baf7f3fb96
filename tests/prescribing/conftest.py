"""The prescribing cast: a small catalogue with lots, stock and 追溯码 at the county hospital and the village
clinic, a pharmacist at the county hospital and one at the township center (tests/prescribing/world.py)."""

from __future__ import annotations

import pytest

from tests.prescribing.world import build_rx


@pytest.fixture
def rx(cast):
    return build_rx(cast)
