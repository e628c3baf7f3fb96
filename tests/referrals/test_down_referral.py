"""Refer down: at discharge the county doctor sends a stable patient back with a follow-up plan; the receiving
village doctor sees it in the to-do list and records the follow-ups."""

import pytest

from tests.cast import as_
from tests.referrals.conftest import up
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.referrals import services
from yigongti.referrals.models import FollowUp


def _arrived(ref):
    r = up(ref)
    services.accept_referral(r.pk, actor=as_(ref.desk))
    return services.arrive_referral(r.pk, actor=as_(ref.county_doctor))


def _down(ref, source, **over):
    data = {"resident": ref.resident.pk, "direction": "down", "to_facility": ref.village_clinic.pk, "icd10": "I63.9",
            "diagnosis": "脑梗死恢复期", "reason": "病情稳定", "rehab_plan": "步行训练",
            "medication_plan": "阿司匹林 100mg qd",
            "follow_up_dates": ["2026-12-02", "2026-12-30", "2027-02-24"], "source_referral": source.pk}
    data.update(over)
    return services.submit_referral(data, actor=as_(ref.county_doctor))


def test_a_down_referral_needs_a_follow_up_plan(ref):
    src = _arrived(ref)
    with pytest.raises(InvalidInput) as e:
        _down(ref, src, rehab_plan="", medication_plan="", follow_up_dates=[])
    assert set(e.value.errors) == {"follow_up_dates", "rehab_plan"}


def test_a_down_referral_must_go_to_a_lower_level(ref):
    src = _arrived(ref)
    with pytest.raises(InvalidInput) as e:
        _down(ref, src, to_facility=ref.county_hospital.pk)
    assert "to_facility" in e.value.errors


def test_the_village_doctor_sees_the_down_referral_and_records_the_follow_ups(ref, client, login):
    src = _arrived(ref)
    services.complete_referral(src.pk, outcome="down", actor=as_(ref.county_doctor))
    down = _down(ref, src)
    assert down.center_id is None and down.status == "submitted" and down.follow_ups.count() == 3
    assert ref.village_doctor.notifications.filter(kind="referral_down").exists()
    login(ref.village_doctor)
    todo = client.get("/referrals/").content.decode()
    assert f'data-referral="{down.pk}"' in todo
    fu = down.follow_ups.first()
    with pytest.raises(Conflict):  # accept first
        services.record_follow_up(down.pk, fu.pk, note="血压 132/80", actor=as_(ref.village_doctor))
    client.post(f"/referrals/{down.pk}/accept/")
    client.post(f"/referrals/{down.pk}/arrive/")
    client.post(f"/referrals/{down.pk}/follow-ups/{fu.pk}/", {"note": "血压 132/80，可扶拐行走", "status": "done"})
    fu.refresh_from_db()
    assert fu.status == "done" and fu.done_by == ref.village_doctor and "扶拐" in fu.note
    with pytest.raises(Conflict):
        services.record_follow_up(down.pk, fu.pk, note="again", actor=as_(ref.village_doctor))


def test_another_villages_doctor_cannot_record_the_follow_up(ref):
    src = _arrived(ref)
    down = _down(ref, src)
    services.accept_referral(down.pk, actor=as_(ref.village_doctor))
    from yigongti.core.errors import NotFound

    with pytest.raises(NotFound):
        services.record_follow_up(down.pk, FollowUp.objects.first().pk, note="x", actor=as_(ref.other_village_doctor))


def test_a_patient_not_yet_at_the_hospital_cannot_be_referred_back_down(ref):
    r = up(ref)
    services.accept_referral(r.pk, actor=as_(ref.desk))
    with pytest.raises(InvalidInput) as e:
        _down(ref, r)
    assert "尚未到院" in e.value.errors["source_referral"][0]
    assert not r.followers.exists()


def test_the_refer_down_button_shows_once_the_patient_is_there_and_only_until_one_is_sent(ref):
    r = up(ref)
    services.accept_referral(r.pk, actor=as_(ref.desk))
    r.refresh_from_db()
    assert not services.may_refer_down(ref.county_doctor, r)
    arrived = services.arrive_referral(r.pk, actor=as_(ref.county_doctor))
    assert services.may_refer_down(ref.county_doctor, arrived)
    assert not services.may_refer_down(ref.village_doctor, arrived)  # not the receiving side
    _down(ref, arrived)
    assert not services.may_refer_down(ref.county_doctor, arrived)


def test_the_follow_up_form_shows_only_to_the_side_that_records_it(ref, client, login):
    src = _arrived(ref)
    down = _down(ref, src)
    services.accept_referral(down.pk, actor=as_(ref.village_doctor))
    login(ref.village_doctor)
    assert client.get(f"/referrals/{down.pk}/").content.decode().count('data-testid="record-follow-up"') == 3
    client.logout()
    login(ref.county_doctor)  # the sender sees the plan, and records none of it
    page = client.get(f"/referrals/{down.pk}/").content.decode()
    assert "2026-12-30" in page and 'data-testid="record-follow-up"' not in page
