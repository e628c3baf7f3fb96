"""Outside channels carry no person-level data; the demo's file channel is the owner's only."""

from __future__ import annotations

import json
import os
import stat

from yigongti.core.models import Notification
from yigongti.core.notify import FileNotifier, Message, notify, public_text, scrub


def test_the_notification_file_is_created_owner_only_and_tightened(tmp_path):
    path = tmp_path / "notifications.jsonl"
    FileNotifier(str(path)).send(Message("u", "13874601234", "referral_submitted", "您有一份新的转诊申请待处理"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o644)  # created wide by an older version
    FileNotifier(str(path)).send(Message("u", "13874601234", "referral_submitted", "x"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["phone"] for r in rows] == ["138****1234"] * 2


def test_outside_channels_get_a_generic_line_and_the_inbox_the_whole_message(cast, settings,
                                                                            django_capture_on_commit_callbacks):
    from yigongti.core.notify import MemoryNotifier, notifiers

    settings.YIGONGTI_NOTIFIERS = ["yigongti.core.notify.MemoryNotifier"]
    notifiers.cache_clear()
    MemoryNotifier.sent.clear()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            notify([cast.county_doctor], "referral_submitted", "新转诊：李建国 I21.0 急性前壁心肌梗死",
                   "患者 李建国（身份证 431127195803140258，电话 13874601234）胸痛 3 小时", "/referrals/1/")
    finally:
        notifiers.cache_clear()
    inbox = Notification.objects.get(recipient=cast.county_doctor)
    assert "李建国" in inbox.title and "心肌梗死" in inbox.title  # the inbox is inside the platform
    (sent,) = MemoryNotifier.sent
    text = sent.title + sent.body
    for secret in ("李建国", "I21", "心肌梗死", "431127195803140258", "13874601234", "胸痛"):
        assert secret not in text
    assert sent.title.startswith("您有一份新的转诊申请待处理") and sent.body == ""
    assert sent.url == "/referrals/1/"


def test_a_public_title_is_scrubbed_of_identifiers_and_codes():
    scrubbed = scrub("患者 431127195803140258 电话 13874601234 诊断 I21.0急性")
    assert scrubbed == "患者 [证件号] 电话 [电话] 诊断 [诊断]急性"
    assert public_text("x", "请查看 E11.9 随访", urgent=True) == "【紧急】请查看 [诊断] 随访，请登录平台查看"
    assert public_text("unknown_kind") == "您有一条新的平台通知，请登录平台查看"


def test_every_kind_the_code_sends_has_its_own_generic_line():
    """A new kind without a line would reach SMS as the vague "新的平台通知"; the kinds are read from the calls."""
    import re
    from pathlib import Path

    from yigongti.core.notify import GENERIC_TITLES

    src = Path(__file__).resolve().parents[2] / "src" / "yigongti"
    call = re.compile(r"""(?:\bnotify|_tell_parties)\(\s*[^,()]+(?:\([^()]*\))?\s*,\s*["']([a-z_]+)["']""")
    kinds = {k for p in src.rglob("*.py") for k in call.findall(p.read_text(encoding="utf-8"))}
    assert {"referral_submitted", "referral_no_show", "security_alert"} <= kinds  # the pattern still finds calls
    assert kinds - GENERIC_TITLES.keys() == set()
    assert public_text("referral_no_show") == "您转出的一份转诊患者未到诊，请登录平台查看"
