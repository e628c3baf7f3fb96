"""Who sees which referral: the sending and receiving facilities and the referral center; the outsider sees
nothing; a receiving clinic sees a patient outside its own area only through the referral, audited."""

import pytest

from tests.cast import PASSWORD, SYSTEM, as_
from tests.referrals.conftest import up
from yigongti.core.errors import NotFound
from yigongti.core.models import AuditEvent
from yigongti.orgs.models import Profession, Role, Staff
from yigongti.orgs.services import create_account
from yigongti.referrals import queries, services
from yigongti.referrals.models import Referral


def _down_to_other_township(ref):
    """The county hospital sends the 大塘村 patient to 总市镇卫生院 (another township) for rehabilitation."""
    staff = Staff.objects.create(name="周医生", sex="F", profession=Profession.PHYSICIAN,
                                 work_facility=ref.other_center, establishment_facility=ref.other_center)
    other = create_account(username="other_township_doctor", role=Role.DOCTOR, password=PASSWORD,
                           staff=staff, actor=SYSTEM)[0]
    first = up(ref)
    services.accept_referral(first.pk, actor=as_(ref.desk))
    services.arrive_referral(first.pk, actor=as_(ref.county_doctor))
    services.complete_referral(first.pk, outcome="down", actor=as_(ref.county_doctor))
    down = services.submit_referral({
        "resident": ref.resident.pk, "direction": "down", "to_facility": ref.other_center.pk, "icd10": "I63.9",
        "diagnosis": "脑梗死恢复期", "reason": "病情稳定，转基层康复", "rehab_plan": "肢体功能训练，每周3次",
        "follow_up_dates": ["2026-12-01", "2026-12-29"], "source_referral": first.pk}, actor=as_(ref.county_doctor))
    return first, down, other


def test_the_outsider_sees_no_referral_of_our_county(ref, client, login):
    r = up(ref)
    assert not queries.referrals_visible_to(ref.outsider).exists()
    with pytest.raises(NotFound):
        queries.get_referral_for(as_(ref.outsider), r.pk)
    login(ref.outsider)
    assert client.get(f"/referrals/{r.pk}/").status_code == 404
    assert client.get(f"/api/v1/referrals/{r.pk}").status_code == 404
    assert client.post(f"/referrals/{r.pk}/accept/").status_code == 404
    assert Referral.objects.get(pk=r.pk).status == "submitted"


def test_a_village_clinic_that_is_no_party_does_not_see_the_referral(ref):
    r = up(ref)
    assert r not in queries.referrals_visible_to(ref.village_doctor)
    assert r in queries.referrals_visible_to(ref.township_doctor)
    assert r in queries.referrals_visible_to(ref.county_doctor)
    assert r in queries.referrals_visible_to(ref.desk)


def test_managers_and_the_bureau_see_counts_not_patients(ref, client, login):
    up(ref)
    assert not queries.referrals_visible_to(ref.bureau).exists()
    login(ref.bureau)
    page = client.get("/referrals/stats/")
    assert page.status_code == 200
    assert ref.resident.name not in page.content.decode()  # figures only, no patient


def test_the_receiving_clinic_reads_the_patient_only_through_the_referral_and_it_is_audited(ref, client, login):
    _first, down, other = _down_to_other_township(ref)
    login(other)
    assert client.get(f"/residents/{ref.resident.pk}/").status_code == 404  # outside its own scope
    page = client.get(f"/referrals/{down.pk}/")
    assert page.status_code == 200 and "李建国" in page.content.decode()
    assert 'data-testid="shared-record"' in page.content.decode()
    via = AuditEvent.objects.filter(actor="other_township_doctor", object_type="resident", action="view",
                                    object_id=str(ref.resident.pk))
    assert via.count() == 1 and via[0].detail["via_referral"] == down.pk
    assert AuditEvent.objects.filter(actor="other_township_doctor", object_type="encounter", action="list",
                                     detail__via_referral=down.pk).exists()


def test_the_grant_ends_with_the_referral(ref, client, login):
    _first, down, other = _down_to_other_township(ref)
    services.cancel_referral(down.pk, reason="患者选择在县城康复", actor=as_(ref.county_doctor))
    login(other)
    page = client.get(f"/referrals/{down.pk}/").content.decode()
    assert 'data-testid="shared-record"' not in page  # the referral's own snapshot stays, the live record does not
