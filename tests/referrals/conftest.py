import pytest

from tests.cast import PASSWORD, SYSTEM, as_
from yigongti.orgs.models import Role
from yigongti.orgs.services import create_account


@pytest.fixture
def sent(settings):
    """Messages handed to outside channels (SMS / WeChat Work stand-in)."""
    from yigongti.core import notify

    settings.YIGONGTI_NOTIFIERS = ["yigongti.core.notify.MemoryNotifier"]
    notify.notifiers.cache_clear()
    notify.MemoryNotifier.sent.clear()
    yield notify.MemoryNotifier.sent
    notify.notifiers.cache_clear()


@pytest.fixture
def ref(cast, sent):
    """The cast plus a referral center at the county hospital (two desk staff and a supervisor) and the
    starter guideline rules."""
    from yigongti.referrals.services import install_starter_rules, setup_center

    desk = create_account(username="center_desk", role=Role.NURSE, password=PASSWORD,
                          facility=cast.county_hospital, actor=SYSTEM)[0]
    desk2 = create_account(username="center_desk2", role=Role.NURSE, password=PASSWORD,
                           facility=cast.county_hospital, actor=SYSTEM)[0]
    boss = create_account(username="center_boss", role=Role.DOCTOR, password=PASSWORD,
                          facility=cast.county_hospital, actor=SYSTEM)[0]
    cast.center = setup_center(cast.community, members=[desk, desk2], supervisors=[boss], actor=SYSTEM)
    cast.desk, cast.desk2, cast.supervisor = desk, desk2, boss
    install_starter_rules(actor=SYSTEM)
    return cast


def up(c, who=None, key="", **over):
    """A township doctor's up-referral of the cast's resident to the county hospital (stroke, green channel)."""
    from yigongti.referrals.services import submit_referral

    data = {"resident": c.resident.pk, "direction": "up", "urgency": "green", "to_facility": c.county_hospital.pk,
            "icd10": "I63.9", "diagnosis": "脑梗死", "reason": "突发右侧肢体无力2小时"}
    data.update(over)
    return submit_referral(data, key, actor=as_(who or c.township_doctor))
