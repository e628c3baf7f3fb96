"""The demo county's family doctors, 两病 and public health are consistent with its people and encounters: teams
of 三师共管 for every village (the demo village doctor a member of its village's team), contracts near the seeds'
coverage with a remainder to chase, a year of follow-ups each decided by the chronic rules themselves, checks,
pregnancies and children on their schedules (no dose before the rule allows it), fulfilment linked to those
records, monthly assessments ranked and the due lists computed."""

import datetime as dt
from collections import Counter, defaultdict

from yigongti.chronic import rules
from yigongti.chronic.models import Enrolment, FollowUp, RegularMedicine
from yigongti.demo.build import build_demo
from yigongti.demo.familydoctor import KEY_TAGS, team_count, year_after
from yigongti.familydoctor.models import (
    Contract,
    DueItem,
    MemberRole,
    MonthlyAssessment,
    ScheduledService,
    ServiceDelivery,
    ServicePackage,
    Team,
    TeamMember,
    TeamSession,
    TeamVillage,
)
from yigongti.orgs.models import Region, User
from yigongti.publichealth import immunisation
from yigongti.publichealth.models import ChildVisit, HealthCheck, MaternalVisit, Pregnancy, VaccineDose
from yigongti.residents.models import Resident, ResidentTag

TODAY = dt.date(2026, 11, 20)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def test_the_demo_county_signs_follows_up_and_schedules_its_residents(transactional_db):
    """One county (a demo build takes a while), checked part by part."""
    build_demo(population=3000, seed=7, today=TODAY)
    tags: dict[int, set[str]] = defaultdict(set)
    for rid, tag in ResidentTag.objects.values_list("resident_id", "tag"):
        tags[rid].add(tag)
    _teams_packages_and_contracts(tags)
    _a_year_of_follow_ups_decided_by_the_rules(tags)
    _checks_pregnancies_children_and_vaccines_on_their_schedules(tags)
    _fulfilment_sessions_assessments_and_due_lists()


def _teams_packages_and_contracts(tags):
    townships = Region.objects.filter(level="township").count()
    teams = list(Team.objects.all())
    assert townships == team_count(3000, townships) <= len(teams) <= townships + 2  # one each, the seat two
    assert team_count(450_000, townships) == 200
    for team in teams:
        roles = Counter(TeamMember.objects.filter(team=team, until__isnull=True).values_list("role", flat=True))
        assert roles[MemberRole.SPECIALIST] == 1 and roles[MemberRole.GENERAL_PRACTITIONER] == 1
        assert roles[MemberRole.HEALTH_MANAGER] == 1 and roles[MemberRole.VILLAGE_DOCTOR] >= 1
        assert team.leader.work_facility_id == team.facility_id
    villages = set(Region.objects.filter(level="village").values_list("pk", flat=True))
    assert set(TeamVillage.objects.values_list("village_id", flat=True)) == villages
    assert TeamMember.objects.filter(until__isnull=False).exists()  # membership history
    # the demo village doctor is a current member of the team of its clinic's village
    vd = User.objects.get(username="village_doctor")
    member_of = TeamMember.objects.filter(staff=vd.staff, until__isnull=True).values_list("team_id", flat=True)
    assert TeamVillage.objects.filter(team_id__in=member_of, village=vd.facility.region).exists()

    packages = list(ServicePackage.objects.all())
    assert [p.kind for p in packages].count("basic") == 1 and len(packages) == 4
    for p in packages:
        assert p.resident_share + p.insurance_share + p.public_health_share == p.annual_fee
        assert p.services.exists()

    residents = {r.pk: r for r in Resident.objects.all()}
    active = list(Contract.objects.filter(status="active").select_related("package"))
    signed = {c.resident_id for c in active}
    assert len(signed) == len(active)
    key = [rid for rid in residents if tags[rid] & KEY_TAGS]
    key_rate = sum(rid in signed for rid in key) / len(key)
    assert 0.78 <= key_rate <= 0.97, key_rate
    assert 0.30 <= len(signed) / len(residents) <= 0.50
    assert len(key) - sum(rid in signed for rid in key) > 20  # a remainder to chase
    team_villages = defaultdict(set)
    for t, v in TeamVillage.objects.values_list("team_id", "village_id"):
        team_villages[t].add(v)
    for c in active:
        r = residents[c.resident_id]
        assert c.village_id == r.village_id and c.village_id in team_villages[c.team_id]
        assert c.start <= TODAY <= c.end == year_after(c.start)
        assert c.resident_fee == c.package.resident_share
        assert not c.package.target_tags or set(c.package.target_tags) & tags[c.resident_id]
        assert c.consent_file or c.consent_signature
    assert Contract.objects.exclude(household_batch="").filter(status="active").count() > len(active) / 3
    for old in Contract.objects.filter(status="renewed").select_related("renewal")[:200]:
        assert old.renewal.start == old.end + dt.timedelta(days=1) and old.renewal.resident_id == old.resident_id
    ended = Contract.objects.filter(status="ended")
    assert ended.exists() and not ended.filter(end_reason="").exists()
    assert Contract.objects.filter(status="expired", end__lt=TODAY).exists()


def _a_year_of_follow_ups_decided_by_the_rules(tags):
    std = rules.standard()
    residents = {r.pk: r for r in Resident.objects.all()}
    enrolments = list(Enrolment.objects.all())
    assert len({(e.resident_id, e.condition) for e in enrolments}) == len(enrolments)
    expected = {(rid, c) for rid, ts in tags.items() for c in ("htn", "t2dm")
                if c in ts and _age(residents[rid].birth_date, TODAY) >= std.enrol_min_age}
    assert {(e.resident_id, e.condition) for e in enrolments} == expected
    linked = list(Enrolment.objects.filter(source_encounter__isnull=False).select_related("source_encounter"))
    assert linked, "enrolments tied to the encounters carrying the diagnosis"
    for e in linked:
        enc = e.source_encounter
        assert enc.resident_id == e.resident_id
        assert enc.main_icd10.startswith("E11" if e.condition == "t2dm" else "I1")
    visits = defaultdict(list)
    for fu in FollowUp.objects.order_by("visit_date", "id"):
        visits[fu.enrolment_id].append(fu)
    at_target = Counter()
    for e in enrolments:
        streak = 0
        birth = residents[e.resident_id].birth_date
        for fu in visits[e.pk]:
            assert e.enrolled_on <= fu.visit_date < TODAY and fu.resident_id == e.resident_id
            out = rules.classify_and_decide(
                {"condition": e.condition, "sbp": fu.sbp, "dbp": fu.dbp, "fbg": fu.fbg, "heart_rate": fu.heart_rate,
                 "adverse_reaction": fu.adverse_reaction, "new_complication": fu.new_complication},
                age=_age(birth, fu.visit_date), previous_uncontrolled=streak, visit_date=fu.visit_date)
            assert (fu.control, fu.decision, fu.reasons, fu.next_visit_on) == (
                out.control, out.decision, out.reasons, out.next_visit_on)
            assert fu.referral_suggested == out.refer
            streak = rules.next_streak(streak, out)
        last = visits[e.pk][-1] if visits[e.pk] else None
        if last is not None:  # the ledger's state is the last visit's
            assert (e.last_visit_on, e.last_sbp, e.last_fbg, e.last_control, e.next_due, e.uncontrolled_streak) == (
                last.visit_date, last.sbp, last.fbg, last.control, last.next_visit_on, streak)
            at_target[e.condition] += rules.at_target(e.condition, age=_age(birth, last.visit_date), sbp=last.sbp,
                                                      dbp=last.dbp, fbg=last.fbg)
        assert RegularMedicine.objects.filter(enrolment=e).exists()
    by_condition = Counter(e.condition for e in enrolments)
    assert 0.48 <= at_target["htn"] / by_condition["htn"] <= 0.75  # ~60 %
    assert 0.40 <= at_target["t2dm"] / by_condition["t2dm"] <= 0.72  # ~55 %
    decisions = Counter(FollowUp.objects.values_list("decision", flat=True))
    assert decisions["routine"] > decisions["refer"] > 0 and decisions["adjust"] > 0
    assert 3.5 <= sum(decisions.values()) / len(enrolments) <= 7
    assert Enrolment.objects.filter(next_due__lt=TODAY).exists()  # some overdue


def _checks_pregnancies_children_and_vaccines_on_their_schedules(tags):
    residents = {r.pk: r for r in Resident.objects.all()}
    elderly = [rid for rid, r in residents.items() if _age(r.birth_date, TODAY) >= 65]
    checked = set(HealthCheck.objects.filter(date__year=TODAY.year).values_list("resident_id", flat=True))
    assert 0.6 <= sum(rid in checked for rid in elderly) / len(elderly) <= 0.85
    assert not HealthCheck.objects.filter(date__gte=TODAY).exists()

    pregnancies = list(Pregnancy.objects.all())
    assert pregnancies
    for p in pregnancies:
        assert "maternal" in tags[p.resident_id] and residents[p.resident_id].sex == "F"
        assert p.lmp < p.registered_on < TODAY and p.registered_week == (p.registered_on - p.lmp).days // 7
        assert (p.managing_facility.type == "A100") == (p.risk_grade in ("orange", "red"))
        for v in MaternalVisit.objects.filter(pregnancy=p):
            assert p.lmp <= v.date < TODAY
            if v.kind.startswith("postpartum"):
                assert p.delivered_on is not None and v.date > p.delivered_on
    assert sum(p.registered_week < 13 for p in pregnancies) / len(pregnancies) >= 0.6

    rs = immunisation.schedule()
    children = [rid for rid, r in residents.items() if _age(r.birth_date, TODAY) <= 6]
    incomplete = catch_ups = 0
    for rid in children:
        birth = residents[rid].birth_date
        for v in ChildVisit.objects.filter(child_id=rid):
            assert v.age_days == (v.date - birth).days >= 0 and v.date < TODAY
        history: list = []
        for d in VaccineDose.objects.filter(child_id=rid).order_by("given_on", "vaccine", "dose"):
            assert d.age_days == (d.given_on - birth).days
            assert immunisation.check_dose(rs, history, d.vaccine, d.dose, d.given_on, birth) is None, (d, history)
            assert d.catch_up == immunisation.is_catch_up(rs.rule(d.vaccine, d.dose), d.given_on, birth), d
            history.append((d.vaccine, d.dose, d.given_on))
            catch_ups += d.catch_up
        due = immunisation.due_doses(history, birth, TODAY)
        incomplete += any(x.overdue for x in due)
    assert 0 < incomplete < len(children)  # some missed, most on time
    assert catch_ups > 0  # and some of the missed caught up (补种)


def _fulfilment_sessions_assessments_and_due_lists():
    deliveries = ServiceDelivery.objects.all()
    assert deliveries.filter(source="chronic").exists() and deliveries.filter(source="manual").exists()
    assert deliveries.filter(session__isnull=False).exists()
    followups = set(FollowUp.objects.values_list("pk", flat=True))
    for d in deliveries.filter(source="chronic")[:300]:
        assert int(d.source_id.split(":")[1]) in followups
    for s in ScheduledService.objects.select_related("contract", "delivery")[:2000]:
        assert s.contract.start <= s.due_from <= s.due_by <= s.contract.end
        if s.delivery is not None:
            assert s.delivery.contract_id == s.contract_id and s.delivery.delivered_on <= TODAY
    sessions = TeamSession.objects.all()
    assert sessions.count() >= Team.objects.count() * 20
    long = sum((dt.datetime.combine(TODAY, s.ends) - dt.datetime.combine(TODAY, s.starts)).seconds >= 8 * 3600
               for s in sessions)
    assert 0.85 * sessions.count() <= long < sessions.count()
    for s in sessions[:50]:
        members = set(TeamMember.objects.filter(team=s.team_id).values_list("staff_id", flat=True))
        assert set(s.present.values_list("pk", flat=True)) <= members

    months = sorted(set(MonthlyAssessment.objects.values_list("month", flat=True)))
    assert len(months) == 6 and months[-1] == dt.date(2026, 10, 1)
    teams = Team.objects.count()
    for m in months:
        scores = list(MonthlyAssessment.objects.filter(month=m).values_list("total", "rank"))
        assert len(scores) == teams
        for total, rank in scores:  # 月通报: ranked by total, ties sharing a rank
            assert rank == 1 + sum(t > total for t, _r in scores)
    assert DueItem.objects.filter(kind="chronic").exists() and DueItem.objects.filter(kind="vaccine").exists()
