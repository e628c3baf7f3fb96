"""familydoctor.services.contracts: signing (one resident, a household), renewing, ending, with permission checks,
field-named refusals, idempotency and the one-active-contract rule."""

import datetime as dt

import pytest
from django.utils import timezone

from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.familydoctor.models import Contract, ContractStatus, EndReason, ScheduledService
from yigongti.familydoctor.services import contracts as svc

SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><path d="M1 1 L5 5"/></svg>'
TABLET = {"consent_kind": "tablet", "consent_signature": SVG}


def test_term_is_a_contract_year():
    assert svc.term(dt.date(2026, 3, 1)) == (dt.date(2026, 3, 1), dt.date(2027, 2, 28))
    assert svc.term(dt.date(2024, 2, 29)) == (dt.date(2024, 2, 29), dt.date(2025, 2, 28))
    assert svc.term(dt.date(2026, 1, 1))[1] == dt.date(2026, 12, 31)


def test_village_doctor_signs_a_resident_with_the_basic_package_by_default(care):
    vd = care.cast.village_doctor
    c = svc.sign(vd, care.grandfather, TABLET)
    today = timezone.localdate()
    assert c.status == ContractStatus.ACTIVE and c.team == care.team and c.package == care.basic
    assert c.doctor == vd.staff and c.village == care.cast.village
    assert (c.start, c.end) == svc.term(today) and c.signed_on == today
    assert c.number.startswith("QY") and len(c.number) <= 24
    assert c.consent_signature == SVG and c.created_by == vd
    # the contract year is scheduled by H2's fulfilment (FU×4, HC, CONS, EDU×2 for an htn + elderly resident)
    assert ScheduledService.objects.filter(contract=c).count() == 8


def test_paid_package_copies_the_shares_and_needs_the_target_population(care):
    vd = care.cast.village_doctor
    c = svc.sign(vd, care.grandfather, {**TABLET, "package": care.elderly_pack.pk})
    assert (c.resident_fee, c.insurance_fee) == (care.elderly_pack.resident_share, care.elderly_pack.insurance_share)
    with pytest.raises(InvalidInput) as e:
        svc.sign(vd, care.mother, {**TABLET, "package": care.elderly_pack.pk})
    assert e.value.field == "package"


def test_one_active_contract_per_resident(care):
    vd = care.cast.village_doctor
    svc.sign(vd, care.grandfather, TABLET)
    with pytest.raises(Conflict) as e:
        svc.sign(vd, care.grandfather, TABLET)
    assert e.value.code == "already_signed" and "李建国" in e.value.message
    assert Contract.objects.filter(resident=care.grandfather).count() == 1


def test_idempotency_key_returns_the_first_contract(care):
    vd = care.cast.village_doctor
    a = svc.sign(vd, care.grandfather, TABLET, idempotency_key="k-1")
    b = svc.sign(vd, care.grandfather, TABLET, idempotency_key="k-1")
    assert a.pk == b.pk and Contract.objects.count() == 1


def test_consent_is_required_and_checked(care):
    vd = care.cast.village_doctor
    with pytest.raises(InvalidInput) as e:
        svc.sign(vd, care.grandfather, {"consent_kind": "paper"})
    assert e.value.field == "consent_file"
    with pytest.raises(InvalidInput) as e:
        svc.sign(vd, care.grandfather, {"consent_kind": "tablet"})
    assert e.value.field == "consent_signature"
    with pytest.raises(InvalidInput) as e:
        svc.sign(vd, care.grandfather, {"consent_kind": "tablet", "consent_signature": "<svg><script>x</script>"})
    assert e.value.field == "consent_signature"
    assert not Contract.objects.exists()


def test_bad_dates_are_refused_with_the_field(care):
    vd = care.cast.village_doctor
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(InvalidInput) as e:
        svc.sign(vd, care.grandfather, {**TABLET, "signed_on": tomorrow.isoformat()})
    assert e.value.field == "signed_on"
    with pytest.raises(InvalidInput) as e:
        svc.sign(vd, care.grandfather, {**TABLET, "signed_on": "2026-13-45"})
    assert e.value.field == "signed_on"


def test_outside_the_teams_villages_needs_a_reason(care):
    specialist = care.cast.county_doctor  # member of care.team, county-wide scope
    neighbour = care.cast.neighbour  # lives in 石桥村, another team's village
    with pytest.raises(InvalidInput) as e:
        svc.sign(specialist, neighbour, {**TABLET, "team": care.team.pk})
    assert e.value.field == "out_of_area_reason"
    c = svc.sign(specialist, neighbour, {**TABLET, "team": care.team.pk, "out_of_area_reason": "在大塘村务工居住"})
    assert c.out_of_area_reason == "在大塘村务工居住" and c.team == care.team


def test_only_team_members_sign_and_only_in_their_scope(care):
    with pytest.raises(Forbidden):  # a village doctor of another team
        svc.sign(care.cast.other_village_doctor, care.cast.neighbour, {**TABLET, "team": care.team.pk,
                                                                       "out_of_area_reason": "x"})
    with pytest.raises(NotFound):  # outside the village doctor's area
        svc.sign(care.cast.village_doctor, care.cast.neighbour, TABLET)
    with pytest.raises(Forbidden):  # a nurse is a member but may not sign
        svc.sign(care.nurse, care.grandfather, TABLET)
    assert not Contract.objects.exists()


def test_household_signing_is_one_batch_in_one_transaction(care):
    vd = care.cast.village_doctor
    members = [{"resident": care.grandfather.pk, "package": care.elderly_pack.pk},
               {"resident": care.grandmother.pk}, {"resident": care.mother.pk}, {"resident": care.child.pk}]
    out = svc.sign_household(vd, care.household, members, TABLET)
    assert len(out) == 4 and len({c.household_batch for c in out}) == 1 and out[0].household_batch
    assert {c.package_id for c in out} == {care.basic.pk, care.elderly_pack.pk}
    assert all(c.household == care.household for c in out)


def test_household_signing_with_one_already_signed_writes_nothing(care):
    vd = care.cast.village_doctor
    svc.sign(vd, care.grandmother, TABLET)
    members = [{"resident": care.grandfather.pk}, {"resident": care.grandmother.pk}]
    with pytest.raises(Conflict) as e:
        svc.sign_household(vd, care.household, members, TABLET)
    assert "赵桂兰" in e.value.message
    assert not Contract.objects.filter(resident=care.grandfather).exists()


def test_household_member_must_belong_and_package_must_fit(care):
    vd = care.cast.village_doctor
    with pytest.raises(InvalidInput) as e:
        svc.sign_household(vd, care.household, [{"resident": care.cast.neighbour.pk}], TABLET)
    assert e.value.field == "members.0.resident"
    with pytest.raises(InvalidInput) as e:
        svc.sign_household(vd, care.household, [], TABLET)
    assert e.value.field == "members"


def _expiring(care, days_left=20):
    c = svc.sign(care.cast.village_doctor, care.grandfather, TABLET)
    end = timezone.localdate() + dt.timedelta(days=days_left)
    Contract.objects.filter(pk=c.pk).update(start=end.replace(year=end.year - 1) + dt.timedelta(days=1), end=end,
                                            signed_on=end.replace(year=end.year - 1) + dt.timedelta(days=1))
    c.refresh_from_db()
    return c


def test_renew_starts_the_day_after_the_old_end(care):
    old = _expiring(care)
    new = svc.renew(care.cast.village_doctor, old, TABLET)
    old.refresh_from_db()
    assert old.status == ContractStatus.RENEWED and new.renewed_from == old
    assert new.start == old.end + dt.timedelta(days=1) and new.end == svc.term(new.start)[1]
    assert new.status == ContractStatus.ACTIVE and new.package == care.basic
    with pytest.raises(InvalidInput):  # renewed already: the old one is no longer renewable
        svc.renew(care.cast.village_doctor, old, TABLET)


def test_renew_too_early_is_refused(care):
    c = svc.sign(care.cast.village_doctor, care.grandfather, TABLET)
    with pytest.raises(InvalidInput) as e:
        svc.renew(care.cast.village_doctor, c, TABLET)
    assert e.value.code == "not_renewable"


def test_renew_an_expired_contract_starts_today(care):
    old = _expiring(care, days_left=-10)
    assert svc.expire_lapsed() == 1
    old.refresh_from_db()
    assert old.status == ContractStatus.EXPIRED
    new = svc.renew(care.cast.village_doctor, old, TABLET)
    assert new.start == timezone.localdate()


def test_end_with_a_reason(care):
    vd = care.cast.village_doctor
    c = svc.sign(vd, care.grandfather, TABLET)
    with pytest.raises(InvalidInput) as e:
        svc.end_contract(vd, c, {"reason": "bored"})
    assert e.value.field == "reason"
    with pytest.raises(Forbidden):
        svc.end_contract(care.cast.other_village_doctor, c, {"reason": EndReason.MOVED})
    ended = svc.end_contract(vd, c, {"reason": EndReason.MOVED, "note": "迁往长沙"})
    assert ended.status == ContractStatus.ENDED and ended.end_reason == "moved" and ended.ended_on
    with pytest.raises(Conflict):
        svc.end_contract(vd, c, {"reason": EndReason.MOVED})
    assert svc.sign(vd, care.grandfather, TABLET).status == ContractStatus.ACTIVE  # can sign again


def test_writes_are_audited(care):
    from yigongti.core.models import AuditEvent

    c = svc.sign(care.cast.village_doctor, care.grandfather, TABLET)
    assert AuditEvent.objects.filter(action="create", object_type="fd_contract", object_id=str(c.pk)).exists()


def test_a_contract_number_clash_is_retried_with_a_new_number(care, monkeypatch):
    vd = care.cast.village_doctor
    first = svc.sign(vd, care.grandmother, TABLET)
    numbers = iter([first.number, "QY20260101FRESH001"])
    monkeypatch.setattr(svc, "new_number", lambda on: next(numbers))
    c = svc.sign(vd, care.grandfather, TABLET)
    assert c.number == "QY20260101FRESH001" and Contract.objects.count() == 2
