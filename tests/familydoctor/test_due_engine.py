"""The due engine (familydoctor.due): every kind computed in bulk and equal to the per-resident reference, one
resident refreshed, the nightly difference, scoped and audited reads, the API."""

from __future__ import annotations

import datetime as dt

import pytest

from yigongti.chronic.models import Enrolment
from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.familydoctor import due
from yigongti.familydoctor.models import Contract, DueItem
from yigongti.familydoctor.queries import due as q
from yigongti.publichealth.models import ChildVisit, HealthCheck, MaternalVisit, Pregnancy, VaccineDose
from yigongti.residents.models import Resident

pytestmark = pytest.mark.django_db
D = dt.date


def _items(resident=None, kind=None):
    qs = DueItem.objects.all()
    if resident is not None:
        qs = qs.filter(resident=resident)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("due_by", "ref"))


def _refs(resident, kind):
    return {i.ref for i in _items(resident, kind)}


def _contract(care, resident, start, number="HT-1"):
    return Contract.objects.create(number=number, resident=resident, team=care.team, package=care.basic,
                                   village=resident.village, signed_on=start, start=start,
                                   end=start + dt.timedelta(days=364))


def test_annual_check_of_the_65_plus_until_done_this_year(care):
    due.recompute(care.today)
    [check] = _items(care.grandfather, "check")
    assert (check.due_from, check.due_by) == (D(2026, 1, 1), D(2026, 12, 31))
    assert not _items(care.mother, "check")  # 30 years old, not managed
    HealthCheck.objects.create(resident=care.grandfather, date=D(2025, 3, 1), purpose="elderly",
                               facility=care.cast.village_clinic)
    due.refresh_resident(care.grandfather.pk, care.today)
    [check] = _items(care.grandfather, "check")
    assert check.due_by == D(2026, 3, 1) and check.due_by < care.today  # a year after the last one: overdue
    HealthCheck.objects.create(resident=care.grandfather, date=D(2026, 4, 1), purpose="elderly",
                               facility=care.cast.village_clinic)
    due.refresh_resident(care.grandfather.pk, care.today)
    assert not _items(care.grandfather, "check")


def test_chronic_follow_up_due_by_next_due_and_renewal_of_an_ending_contract(care):
    e = Enrolment.objects.create(resident=care.grandmother, condition="t2dm", enrolled_on=D(2026, 1, 5),
                                 facility=care.cast.village_clinic, village=care.cast.village,
                                 next_due=D(2026, 6, 10))
    _contract(care, care.grandmother, D(2025, 7, 1))  # ends 2026-06-30: within 30 days
    due.recompute(care.today)
    [fu] = _items(care.grandmother, "chronic")
    assert (fu.ref, fu.due_from, fu.due_by) == ("t2dm", D(2026, 5, 27), D(2026, 6, 10))
    assert fu.due_by < care.today  # overdue
    [renew] = _items(care.grandmother, "renewal")
    assert (renew.ref, renew.due_by) == ("HT-1", D(2026, 6, 30))
    assert all(i.team_id == care.team.id for i in _items(care.grandmother))
    # the managed patient also gets the annual check
    assert _items(care.grandmother, "check")
    e.next_due = D(2026, 9, 10)
    e.save()
    due.refresh_resident(care.grandmother.pk, care.today)
    assert not _items(care.grandmother, "chronic")  # beyond the 30-day horizon


def test_maternal_windows_missed_and_done(care):
    lmp = care.today - dt.timedelta(days=150)  # week 21
    preg = Pregnancy.objects.create(resident=care.mother, lmp=lmp, edd=lmp + dt.timedelta(days=280),
                                    registered_on=lmp + dt.timedelta(days=70), registered_week=10,
                                    facility=care.cast.township_center, managing_facility=care.cast.township_center,
                                    schedule_edition="t")
    due.recompute(care.today)
    windows = due.maternal_windows()
    current = [w.code for w in windows if w.basis == "lmp_days" and w.start <= 150 <= w.end]
    assert current and current[0] in _refs(care.mother, "maternal")
    MaternalVisit.objects.create(pregnancy=preg, kind=current[0], date=care.today,
                                 facility=care.cast.village_clinic)
    due.refresh_resident(care.mother.pk, care.today)
    assert current[0] not in _refs(care.mother, "maternal")


def test_child_visits_and_the_next_vaccine_dose(care):
    due.recompute(care.today)
    kid = _refs(care.child, "child")
    assert kid  # a two-year-old: the 24-month visit window
    hepb = [r for r in _refs(care.child, "vaccine") if r.startswith("HepB-")]
    assert hepb == ["HepB-1"]  # nothing given: the first dose, overdue
    birth = care.child.birth_date
    VaccineDose.objects.create(child=care.child, vaccine="HepB", dose=1, given_on=birth, age_days=0,
                               facility=care.cast.township_center, schedule_edition="t")
    for code in kid:
        ChildVisit.objects.create(child=care.child, kind=code, date=care.today, age_days=730,
                                  facility=care.cast.village_clinic, schedule_edition="t")
    due.refresh_resident(care.child.pk, care.today)
    assert "HepB-2" in _refs(care.child, "vaccine") and "HepB-1" not in _refs(care.child, "vaccine")
    assert not _refs(care.child, "child") & kid


def test_bulk_equals_the_per_resident_reference(care):
    Enrolment.objects.create(resident=care.grandfather, condition="htn", enrolled_on=D(2026, 6, 1),
                             facility=care.cast.village_clinic, village=care.cast.village)
    _contract(care, care.grandfather, D(2025, 6, 20))
    due.recompute(care.today)
    for r in Resident.objects.all():
        bulk = sorted((i.kind, i.ref, i.due_from, i.due_by) for i in DueItem.objects.filter(resident=r))
        assert bulk == due.naive_items(r.pk, care.today), r.name


def test_nightly_recompute_keeps_unchanged_rows(care):
    due.recompute(care.today)
    before = dict(DueItem.objects.values_list("id", "ref"))
    counts = due.recompute(care.today)
    assert dict(DueItem.objects.values_list("id", "ref")) == before  # nothing rewritten
    assert counts["total"] == len(before)
    due.recompute(care.today + dt.timedelta(days=400))  # a year on: other items
    assert set(DueItem.objects.values_list("id", flat=True)) != set(before)


def test_for_user_is_scoped_filtered_and_audited(care):
    from yigongti.core.models import AuditEvent

    due.recompute(care.today)
    mine = q.for_user(Actor.from_user(care.cast.village_doctor), on=care.today)
    assert mine and all(i.area_code == care.cast.village.code for i in mine)
    assert not q.for_user(Actor.from_user(care.cast.other_village_doctor), on=care.today)
    late = q.for_user(Actor.from_user(care.cast.village_doctor), on=care.today, overdue_only=True)
    assert late and all(i.due_by < care.today for i in late)
    only = q.for_user(Actor.from_user(care.cast.village_doctor), on=care.today, kinds=["vaccine"], limit=2)
    assert len(only) <= 2 and {i.kind for i in only} == {"vaccine"}
    assert AuditEvent.objects.filter(object_type="due_item", action="list").count() >= 3
    with pytest.raises(InvalidInput) as e:
        q.for_user(Actor.from_user(care.cast.village_doctor), on=care.today, kinds=["nonsense"])
    assert e.value.field == "kind"
    with pytest.raises(Forbidden):
        q.for_user(Actor.from_user(care.cast.auditor), on=care.today)


def test_recompute_needs_the_assess_verb(care):
    with pytest.raises(Forbidden):
        due.recompute_as(Actor.from_user(care.cast.village_doctor), care.today)
    assert due.recompute_as(Actor.from_user(care.cast.manager), care.today)["total"] == DueItem.objects.count()


def test_api_due_list_and_recompute(care, client, login):
    due.recompute(care.today)
    login(care.cast.village_doctor)
    r = client.get(f"/api/v1/familydoctor/due?on={care.today}&overdue=true")
    assert r.status_code == 200
    rows = r.json()
    assert rows and all(x["overdue"] for x in rows)
    assert client.get("/api/v1/familydoctor/due?kind=bogus").status_code == 422
    assert client.post("/api/v1/familydoctor/due/recompute", {}, content_type="application/json").status_code == 403
