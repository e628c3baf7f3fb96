"""Refer down: at discharge the county doctor sends a stable patient back with a follow-up plan; the receiving
village doctor sees it in the to-do list and records the follow-ups."""

import pytest

from tests.cast import SYSTEM
from tests.referrals.conftest import up
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.referrals import services
from yigongti.referrals.models import FollowUp


def _arrived(ref):
    r = up(ref)
    services.accept_referral(SYSTEM, ref.desk, r.pk)
    return services.arrive_referral(SYSTEM, ref.county_doctor, r.pk)


def _down(ref, source, **over):
    data = {"resident": ref.resident.pk, "direction": "down", "to_facility": ref.village_clinic.pk, "icd10": "I63.9",
            "diagnosis": "脑梗死恢复期", "reason": "病情稳定", "rehab_plan": "步行训练", "medication_plan": "阿司匹林 100mg qd",
            "follow_up_dates": ["2026-12-02", "2026-12-30", "2027-02-24"], "source_referral": source.pk}
    data.update(over)
    return services.submit_referral(SYSTEM, ref.county_doctor, data)


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
    services.complete_referral(SYSTEM, ref.county_doctor, src.pk, outcome="down")
    down = _down(ref, src)
    assert down.center_id is None and down.status == "submitted" and down.follow_ups.count() == 3
    assert ref.village_doctor.notifications.filter(kind="referral_down").exists()
    login(ref.village_doctor)
    todo = client.get("/referrals/").content.decode()
    assert f'data-referral="{down.pk}"' in todo
    fu = down.follow_ups.first()
    with pytest.raises(Conflict):  # accept first
        services.record_follow_up(SYSTEM, ref.village_doctor, down.pk, fu.pk, note="血压 132/80")
    client.post(f"/referrals/{down.pk}/accept/")
    client.post(f"/referrals/{down.pk}/arrive/")
    client.post(f"/referrals/{down.pk}/follow-ups/{fu.pk}/", {"note": "血压 132/80，可扶拐行走", "status": "done"})
    fu.refresh_from_db()
    assert fu.status == "done" and fu.done_by == ref.village_doctor and "扶拐" in fu.note
    with pytest.raises(Conflict):
        services.record_follow_up(SYSTEM, ref.village_doctor, down.pk, fu.pk, note="again")


def test_another_villages_doctor_cannot_record_the_follow_up(ref):
    src = _arrived(ref)
    down = _down(ref, src)
    services.accept_referral(SYSTEM, ref.village_doctor, down.pk)
    from yigongti.core.errors import NotFound

    with pytest.raises(NotFound):
        services.record_follow_up(SYSTEM, ref.other_village_doctor, down.pk, FollowUp.objects.first().pk, note="x")
