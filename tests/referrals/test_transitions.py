"""The transition table: every allowed move works and records who, when and why; every other move is refused
with a message that names the state."""

import pytest

from tests.cast import as_
from tests.referrals.conftest import up
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.referrals import queries, services, workflow
from yigongti.referrals.models import Referral, ReferralEvent, Status

ALL_STATUSES = [s.value for s in Status]


def _to(ref, status: str) -> Referral:
    """A referral brought to ``status`` through the services."""
    c = ref
    if status == "draft":
        return up(c, draft=True)
    r = up(c)
    if status == "submitted":
        return r
    if status == "accepted":
        return services.accept_referral(r.pk, actor=as_(c.desk))
    if status == "redirected":
        return services.redirect_referral(r.pk, to_external="永州市中心医院", to_level="city",
                                          reason="需介入取栓", actor=as_(c.desk))
    if status == "declined":
        return services.decline_referral(r.pk, reason="床位已满，建议转市级", actor=as_(c.desk))
    if status == "cancelled":
        return services.cancel_referral(r.pk, reason="家属要求自行前往", actor=as_(c.township_doctor))
    if status == "expired":
        return services.expire_referral(r.pk, "无人处理")
    if status == "no_show":
        services.accept_referral(r.pk, actor=as_(c.desk))
        return services.no_show_referral(r.pk, actor=as_(c.county_doctor))
    services.accept_referral(r.pk, actor=as_(c.desk))
    r = services.arrive_referral(r.pk, actor=as_(c.county_doctor))
    if status == "arrived":
        return r
    return services.complete_referral(r.pk, outcome="improved", actor=as_(c.county_doctor))


def _do(ref, r: Referral, action: str):
    c = ref
    who = {"submit": c.township_doctor, "accept": c.desk, "redirect": c.desk, "decline": c.desk,
           "arrive": c.county_doctor, "complete": c.county_doctor, "cancel": c.township_doctor}
    if r.to_facility_id is None:  # redirected to a partner hospital outside the county: the center records
        who.update(arrive=c.desk, complete=c.desk)
    if action == "submit":
        return services.submit_draft(r.pk, actor=as_(who[action]))
    if action == "accept":
        return services.accept_referral(r.pk, actor=as_(who[action]))
    if action == "redirect":
        return services.redirect_referral(r.pk, to_external="湘雅医院", to_level="province",
                                          reason="疑难", actor=as_(who[action]))
    if action == "decline":
        return services.decline_referral(r.pk, reason="不符合", actor=as_(who[action]))
    if action == "arrive":
        return services.arrive_referral(r.pk, actor=as_(who[action]))
    if action == "no_show":
        return services.no_show_referral(r.pk, actor=as_(who["arrive"]))
    if action == "complete":
        return services.complete_referral(r.pk, outcome="cured", actor=as_(who[action]))
    if action == "cancel":
        return services.cancel_referral(r.pk, reason="不需要了", actor=as_(who[action]))
    return services.expire_referral(r.pk, "过期")


MOVES = [(s, a) for s in ALL_STATUSES for a in workflow.TRANSITIONS]


@pytest.mark.parametrize("status,action", [(s, a) for s, a in MOVES if s in workflow.TRANSITIONS[a][0]])
def test_every_allowed_move_changes_the_status_and_records_who_when_and_why(ref, status, action):
    r = _to(ref, status)
    before = ReferralEvent.objects.filter(referral=r).count()
    moved = _do(ref, r, action)
    assert moved.status == workflow.TRANSITIONS[action][1]
    assert Referral.objects.get(pk=r.pk).status == moved.status
    ev = ReferralEvent.objects.filter(referral=r).order_by("-id").first()
    assert ReferralEvent.objects.filter(referral=r).count() == before + 1
    assert (ev.action, ev.from_status, ev.to_status) == (action, status, moved.status)
    assert ev.at is not None and (ev.actor is not None or action == "expire")
    assert AuditEvent.objects.filter(object_type="referral", object_id=str(r.pk), detail__move=action).exists()


@pytest.mark.parametrize("status,action", [(s, a) for s, a in MOVES if s not in workflow.TRANSITIONS[a][0]])
def test_every_move_the_table_does_not_allow_is_refused_with_a_clear_message(ref, status, action):
    r = _to(ref, status)
    with pytest.raises(Conflict) as e:
        _do(ref, r, action)
    assert e.value.code in ("transition_not_allowed", "already_answered")
    assert str(Status(status).label) in e.value.message
    assert Referral.objects.get(pk=r.pk).status == status


def test_a_second_answer_is_told_who_already_took_the_referral(ref):
    r = up(ref)
    services.accept_referral(r.pk, actor=as_(ref.desk))
    with pytest.raises(Conflict) as e:
        services.accept_referral(r.pk, actor=as_(ref.desk2))
    assert e.value.code == "already_answered" and "center_desk" in e.value.message


def test_only_the_referral_center_may_answer_an_up_referral(ref):
    r = up(ref)
    for outsider in (ref.county_doctor, ref.village_doctor, ref.outsider):
        with pytest.raises(Forbidden):
            services.accept_referral(r.pk, actor=as_(outsider))
    assert Referral.objects.get(pk=r.pk).status == "submitted"


def test_only_the_receiving_facility_checks_the_patient_in(ref):
    r = services.accept_referral(up(ref).pk, actor=as_(ref.desk))
    with pytest.raises(Forbidden):
        services.arrive_referral(r.pk, actor=as_(ref.township_doctor))
    assert services.arrive_referral(r.pk, actor=as_(ref.county_doctor)).arrived_at is not None


def test_declining_needs_a_reason_and_the_referring_doctor_is_told(ref, sent):
    r = up(ref)
    with pytest.raises(InvalidInput):
        services.decline_referral(r.pk, reason=" ", actor=as_(ref.desk))
    services.decline_referral(r.pk, reason="床位已满", actor=as_(ref.desk))
    assert ref.township_doctor.notifications.filter(kind="referral_declined").exists()


def test_accepting_assigns_a_department_of_the_receiving_hospital_only(ref):
    from yigongti.orgs.models import Department

    here = Department.objects.create(facility=ref.county_hospital, code="03", name="神经内科")
    there = Department.objects.create(facility=ref.township_center, code="01", name="全科")
    r = up(ref)
    with pytest.raises(InvalidInput):
        services.accept_referral(r.pk, department=there.pk, actor=as_(ref.desk))
    slot = queries.capacity_of(here).slots[0]
    r = services.accept_referral(r.pk, department=here.pk, appointment_at=slot.isoformat(), actor=as_(ref.desk))
    assert r.to_department == here and r.appointment_at == slot and r.answered_by == ref.desk
