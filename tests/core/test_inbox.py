from django.db import transaction

from yigongti.core import notify


def test_notifications_reach_the_inbox_and_the_outside_channel_after_commit(cast, client, login, settings):
    settings.YIGONGTI_NOTIFIERS = ["yigongti.core.notify.MemoryNotifier"]
    notify.notifiers.cache_clear()
    notify.MemoryNotifier.sent = []
    with transaction.atomic():
        notify.notify([cast.county_doctor], "referral", "新的绿色通道转诊", "胸痛", "/", urgent=True)
        assert notify.MemoryNotifier.sent == []  # nothing leaves before the work is committed
    login(cast.county_doctor)
    page = client.get("/inbox/").content.decode()
    assert "新的绿色通道转诊" in page and 'data-testid="unread">1<' in page
    client.post("/inbox/")
    assert notify.unread_count(cast.county_doctor) == 0
    notify.notifiers.cache_clear()


def test_a_rolled_back_notification_is_never_sent(cast, settings):
    settings.YIGONGTI_NOTIFIERS = ["yigongti.core.notify.MemoryNotifier"]
    notify.notifiers.cache_clear()
    notify.MemoryNotifier.sent = []
    try:
        with transaction.atomic():
            notify.notify([cast.county_doctor], "x", "不会发出")
            raise RuntimeError
    except RuntimeError:
        pass
    assert notify.MemoryNotifier.sent == [] and notify.unread_count(cast.county_doctor) == 0
    notify.notifiers.cache_clear()
