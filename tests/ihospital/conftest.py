from __future__ import annotations

import pytest

from tests.ihospital.world import build_ih


@pytest.fixture(autouse=True)
def _sms(settings, tmp_path):
    from yigongti.ihospital.sms import MemorySmsSender

    settings.YIGONGTI_SMS_SENDER = "yigongti.ihospital.sms.MemorySmsSender"
    settings.YIGONGTI_SMS_OUTBOX = str(tmp_path / "sms.jsonl")
    MemorySmsSender.sent.clear()
    yield
    MemorySmsSender.sent.clear()


@pytest.fixture
def ih(cast):
    return build_ih(cast)
