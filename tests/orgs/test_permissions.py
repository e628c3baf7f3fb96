"""The role × verb and role × read-category tables: every role against every write verb and every category of
person-level data, allowed or refused with a Chinese message that says who may, and a ``denied`` audit event.

The expectations are written out below, one row per verb and per category: a verb or a category added to
``orgs.permissions`` without its row here fails ``test_the_tables_cover_every_verb_category_and_role``.

Objects are placed where the account works (a referral *to* the pharmacist's own facility, a resident of the
doctor's own township), so that what decides is the role: being at the right facility is not enough."""

from __future__ import annotations

import pytest

from tests.cast import PASSWORD, SYSTEM, Cast, as_
from tests.referrals.conftest import up
from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden
from yigongti.core.models import AuditEvent
from yigongti.orgs import permissions
from yigongti.orgs.models import ApiToken, Role, User
from yigongti.orgs.permissions import READ_MESSAGES, READS, VERBS, Category
from yigongti.orgs.services import create_account
from yigongti.referrals.models import Direction, Referral, Status

R = Role
ALL = frozenset(Role.values)
CLINICIANS = frozenset({R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR})
REFERRERS = frozenset({R.DOCTOR, R.VILLAGE_DOCTOR})
INDEX = frozenset({R.COMMUNITY_MANAGER, R.FACILITY_ADMIN, R.BUREAU})
REGISTRARS = frozenset({R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR, R.PUBLIC_HEALTH, R.FACILITY_ADMIN})
NOBODY: frozenset[str] = frozenset()

# verb → (the object, placed for the account; the roles that may)
VERB_TABLE: dict[str, tuple[str, frozenset[str]]] = {
    "orgs.create_staff": ("township_center", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER, R.BUREAU})),
    "orgs.create_account": ("none", NOBODY),  # system administrators (superusers) only
    "orgs.issue_token": ("self", ALL),
    "orgs.revoke_token": ("own_token", ALL),
    "residents.register": ("village", REGISTRARS),
    "residents.update": ("resident", REGISTRARS),
    "residents.import": ("none", INDEX),
    "residents.review": ("none", INDEX),
    "residents.merge": ("resident", INDEX),
    "residents.unmerge": ("none", INDEX),
    "residents.unmask": ("resident", NOBODY),  # a privilege of the account, not of a role (below)
    "encounters.record": ("resident", CLINICIANS),
    "encounters.import_settlements": ("none", frozenset({R.INSURANCE_OFFICER, R.BUREAU, R.CITY,
                                                         R.COMMUNITY_MANAGER})),
    "encounters.import_population": ("none", frozenset({R.BUREAU, R.CITY, R.COMMUNITY_MANAGER})),
    "encounters.import_deaths": ("none", frozenset({R.BUREAU, R.CITY, R.COMMUNITY_MANAGER, R.PUBLIC_HEALTH})),
    "referrals.create": ("none", REFERRERS),
    "referrals.submit": ("draft_from_here", REFERRERS),
    "referrals.accept": ("down_to_here", CLINICIANS),  # up-referrals: members of the center (test_transitions)
    "referrals.redirect": ("up_to_here", NOBODY),  # only members of the referral center
    "referrals.decline": ("down_to_here", CLINICIANS),
    "referrals.arrive": ("accepted_to_here", CLINICIANS),
    "referrals.complete": ("accepted_to_here", CLINICIANS),
    "referrals.cancel": ("sent_from_here", REFERRERS),
    "referrals.follow_up": ("accepted_to_here", CLINICIANS),
    "referrals.setup_center": ("community", frozenset({R.COMMUNITY_MANAGER, R.BUREAU})),
    "referrals.rules": ("none", frozenset({R.COMMUNITY_MANAGER, R.BUREAU, R.CITY})),
    # the facility admin of the table works at a township center, not at the community's lead hospital
    "indicators.record_evidence": ("community", frozenset({R.COMMUNITY_MANAGER, R.BUREAU})),
    "indicators.refresh": ("none", frozenset({R.COMMUNITY_MANAGER, R.BUREAU, R.CITY})),
    "telemedicine.order": ("none", REFERRERS),
    "telemedicine.cancel_order": ("none", REFERRERS),
    "telemedicine.acquire": ("none", CLINICIANS),
    "telemedicine.enter_results": ("none", frozenset({R.DOCTOR, R.NURSE})),
    "telemedicine.report": ("none", frozenset({R.DOCTOR})),  # members of the center (tests/telemedicine)
    "telemedicine.review": ("none", frozenset({R.DOCTOR})),
    "telemedicine.track_specimen": ("none", CLINICIANS),
    "telemedicine.match_study": ("none", frozenset({R.DOCTOR, R.NURSE})),
    "telemedicine.replay_message": ("none", frozenset({R.DOCTOR, R.NURSE})),
    "telemedicine.acknowledge_critical": ("none", CLINICIANS | {R.FACILITY_ADMIN}),
    "telemedicine.act_on_critical": ("none", REFERRERS),
    "telemedicine.manage_center": ("none", frozenset({R.DOCTOR, R.COMMUNITY_MANAGER})),
    "telemedicine.override_critical_rule": ("none", frozenset({R.FACILITY_ADMIN})),
    "telemedicine.register_device": ("none", frozenset({R.FACILITY_ADMIN})),
    "telemedicine.recognise": ("none", REFERRERS),
    "telemedicine.request_consultation": ("none", REFERRERS),
    "telemedicine.schedule_consultation": ("none", frozenset({R.DOCTOR, R.NURSE})),
    "telemedicine.answer_consultation": ("none", frozenset({R.DOCTOR})),
    "telemedicine.cancel_consultation": ("none", REFERRERS),
    "insurance.set_budget": ("none", frozenset({R.INSURANCE_OFFICER})),
    "insurance.post_ledger": ("none", frozenset({R.INSURANCE_OFFICER})),
    "insurance.reconcile": ("none", frozenset({R.INSURANCE_OFFICER})),
    "insurance.close_year": ("none", frozenset({R.INSURANCE_OFFICER})),
    "insurance.load_rules": ("none", frozenset({R.INSURANCE_OFFICER})),
    "insurance.set_rates": ("none", frozenset({R.INSURANCE_OFFICER})),
    "insurance.group_cases": ("none", frozenset({R.INSURANCE_OFFICER})),
    "insurance.simulate": ("none", frozenset({R.INSURANCE_OFFICER, R.COMMUNITY_MANAGER, R.BUREAU})),
    "insurance.code_discharge": ("none", frozenset({R.DOCTOR, R.FACILITY_ADMIN})),
    "insurance.file_out_of_county": ("none", frozenset({R.INSURANCE_OFFICER, R.DOCTOR})),
    "insurance.settle_pay_later": ("none", frozenset({R.INSURANCE_OFFICER, R.FACILITY_ADMIN})),
    "insurance.open_pay_later": ("none", frozenset({R.INSURANCE_OFFICER, R.DOCTOR, R.NURSE, R.FACILITY_ADMIN})),
    "emergency.take_call": ("none", frozenset({R.DISPATCHER})),
    "emergency.dispatch": ("none", frozenset({R.DISPATCHER})),
    "emergency.merge_call": ("none", frozenset({R.DISPATCHER})),
    "emergency.close_call": ("none", frozenset({R.DISPATCHER})),
    "emergency.crew_status": ("none", frozenset({R.DISPATCHER, R.DOCTOR, R.NURSE})),  # the vehicle's crew
    "emergency.record_prehospital": ("none", frozenset({R.DOCTOR, R.NURSE})),  # the vehicle's crew
    "emergency.send_alert": ("none", frozenset({R.DISPATCHER, R.DOCTOR, R.NURSE})),
    "emergency.ack_alert": ("none", frozenset({R.DOCTOR, R.NURSE})),  # of the receiving hospital
    "emergency.report_position": ("none", frozenset({R.DISPATCHER, R.DOCTOR, R.NURSE})),
    "emergency.manage_fleet": ("none", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER})),
    "emergency.plan_stations": ("none", frozenset({R.BUREAU, R.COMMUNITY_MANAGER, R.CITY})),
    "emergency.import_roads": ("none", frozenset({R.BUREAU, R.COMMUNITY_MANAGER})),
    "pathways.open_case": ("none", CLINICIANS),
    "pathways.record_event": ("none", CLINICIANS),  # involved in the case (tests/pathways)
    "pathways.correct_event": ("none", frozenset({R.DOCTOR, R.NURSE})),
    "pathways.record_delay": ("none", frozenset({R.DOCTOR, R.NURSE})),
    "pathways.close_case": ("none", frozenset({R.DOCTOR})),
    "pathways.green_channel": ("none", REFERRERS),
    "pathways.export_registry": ("none", frozenset({R.DOCTOR, R.COMMUNITY_MANAGER})),
    "pathways.manage_centers": ("none", frozenset({R.COMMUNITY_MANAGER, R.BUREAU})),
    "familydoctor.manage_team": ("none", frozenset({R.COMMUNITY_MANAGER, R.FACILITY_ADMIN})),
    "familydoctor.manage_package": ("none", frozenset({R.COMMUNITY_MANAGER})),
    "familydoctor.sign": ("none", REFERRERS),  # members of the team (tests/familydoctor)
    "familydoctor.renew": ("none", REFERRERS),
    "familydoctor.end_contract": ("none", REFERRERS),
    "familydoctor.record_service": ("none", frozenset({R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR, R.PUBLIC_HEALTH})),
    "familydoctor.log_session": ("none", frozenset({R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR, R.PUBLIC_HEALTH})),
    "familydoctor.assess": ("none", frozenset({R.COMMUNITY_MANAGER, R.BUREAU})),
    "chronic.enrol": ("none", REFERRERS),  # of the resident's care area (tests/chronic)
    "chronic.follow_up": ("none", frozenset({R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR, R.PUBLIC_HEALTH})),
    "chronic.medicines": ("none", REFERRERS),
    "chronic.end": ("none", REFERRERS),
    "publichealth.health_check": ("none", frozenset({R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR, R.PUBLIC_HEALTH})),
    "publichealth.register_pregnancy": ("none", frozenset({R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR, R.PUBLIC_HEALTH})),
    "publichealth.grade_risk": ("none", frozenset({R.DOCTOR})),
    "publichealth.maternal_visit": ("none", frozenset({R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR, R.PUBLIC_HEALTH})),
    "publichealth.child_visit": ("none", frozenset({R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR, R.PUBLIC_HEALTH})),
    "publichealth.vaccinate": ("none", frozenset({R.DOCTOR, R.NURSE, R.PUBLIC_HEALTH})),  # at a 接种单位
    "workforce.plan": ("none", frozenset({R.COMMUNITY_MANAGER})),  # of the posting's community (tests/workforce)
    "workforce.request": ("none", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER})),
    "workforce.check_in": ("none", frozenset({R.DOCTOR, R.NURSE})),  # the posted expert only
    "workforce.confirm": ("none", frozenset({R.FACILITY_ADMIN, R.DOCTOR})),  # of the host, never the expert
    "workforce.vd_check_in": ("none", frozenset({R.VILLAGE_DOCTOR})),  # their own clinic (tests/workforce)
    "workforce.vd_leave": ("none", frozenset({R.VILLAGE_DOCTOR})),
    "workforce.vd_decide": ("none", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER})),  # the clinic's township
    "workforce.vd_manage": ("none", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER})),
    "workforce.vd_assess": ("none", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER})),
    "workforce.vd_sheet": ("none", frozenset({R.COMMUNITY_MANAGER})),
    "workforce.posts": ("none", frozenset({R.COMMUNITY_MANAGER})),  # the talent pool (tests/workforce/test_pool)
    "workforce.assign": ("none", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER})),
    "workforce.approve_assignment": ("none", frozenset({R.COMMUNITY_MANAGER})),  # never their own request
    "assets.register": ("none", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER})),  # of their facilities
    "assets.maintain": ("none", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER})),
    "assets.transfer": ("none", frozenset({R.COMMUNITY_MANAGER})),
    "assets.request_disposal": ("none", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER})),
    "assets.approve_disposal": ("none", frozenset({R.COMMUNITY_MANAGER})),  # never their own (tests/assets)
    "assets.stocktake": ("none", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER})),
    # distribution: the clinic's own staff; the center's pharmacists (tests/distribution)
    "distribution.order": ("none", frozenset({R.VILLAGE_DOCTOR, R.PHARMACIST, R.FACILITY_ADMIN})),
    "distribution.approve": ("none", frozenset({R.PHARMACIST})),
    "distribution.pick": ("none", frozenset({R.PHARMACIST})),
    "distribution.dispatch": ("none", frozenset({R.PHARMACIST})),
    "distribution.receive": ("none", frozenset({R.VILLAGE_DOCTOR, R.PHARMACIST, R.FACILITY_ADMIN})),
    "distribution.register_shortage": ("none", frozenset({R.VILLAGE_DOCTOR, R.DOCTOR, R.PHARMACIST,
                                                          R.FACILITY_ADMIN})),
    "distribution.answer_shortage": ("none", frozenset({R.PHARMACIST})),
    # pharmacy: the department (center pharmacist, managers); the facility's pharmacists (tests/pharmacy)
    "pharmacy.catalogue": ("none", frozenset({R.PHARMACIST, R.COMMUNITY_MANAGER})),
    "pharmacy.procure": ("none", frozenset({R.PHARMACIST, R.COMMUNITY_MANAGER})),
    "pharmacy.receive": ("none", frozenset({R.PHARMACIST})),
    "pharmacy.adjust": ("none", frozenset({R.PHARMACIST, R.VILLAGE_DOCTOR})),  # a village doctor: own clinic
    "pharmacy.limits": ("none", frozenset({R.PHARMACIST, R.VILLAGE_DOCTOR, R.COMMUNITY_MANAGER})),
    # performance: the finance office (facility admin, own facility) and the community's managers (tests/performance)
    "performance.import_payroll": ("none", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER})),
    "performance.edit_scheme": ("none", frozenset({R.COMMUNITY_MANAGER})),
    "performance.score": ("none", frozenset({R.COMMUNITY_MANAGER})),
    "performance.enter_satisfaction": ("none", frozenset({R.FACILITY_ADMIN, R.COMMUNITY_MANAGER})),
    "ihospital.consult": ("none", frozenset({R.DOCTOR})),  # of the answering facility (tests/ihospital)
    "ihospital.deliver": ("none", frozenset({R.PHARMACIST, R.VILLAGE_DOCTOR})),  # community / pickup clinic
    # prescribing: doctors at their own facility; the community's pharmacists; a village doctor dispenses at
    # their own clinic (tests/prescribing)
    "prescribing.prescribe": ("none", REFERRERS),
    "prescribing.review": ("none", frozenset({R.PHARMACIST})),
    "prescribing.dispense": ("none", frozenset({R.PHARMACIST, R.VILLAGE_DOCTOR})),
    "prescribing.comment": ("none", frozenset({R.PHARMACIST})),
    "prescribing.rules": ("none", frozenset({R.PHARMACIST})),
}

C = Category
# category → the roles that may read it
READ_TABLE: dict[str, frozenset[str]] = {
    C.DEMOGRAPHICS: ALL - {R.AUDITOR},
    C.CONTACT: frozenset({R.FACILITY_ADMIN, R.DOCTOR, R.NURSE, R.VILLAGE_DOCTOR, R.DISPATCHER, R.PUBLIC_HEALTH}),
    C.CLINICAL: CLINICIANS,
    C.SETTLEMENT: frozenset({R.DOCTOR, R.INSURANCE_OFFICER, R.FACILITY_ADMIN}),
    C.REFERRAL: CLINICIANS,
    C.EMERGENCY: CLINICIANS | {R.DISPATCHER},
    C.PATHWAY: CLINICIANS,
    C.PUBLIC_HEALTH: CLINICIANS | {R.PUBLIC_HEALTH},
    C.AUDIT_LOG: frozenset({R.AUDITOR}),
}


def _role_accounts(c: Cast) -> dict[str, User]:
    """One account per role; facility accounts at the township center (whose township holds the cast's
    village), the county-wide ones on the county, the city on the city."""
    def make(name, role, facility=None, region=None):
        return create_account(actor=SYSTEM, username=name, role=role, password=PASSWORD, facility=facility,
                              region=region)[0]

    at = c.township_center
    return {
        R.CITY: c.city, R.BUREAU: c.bureau, R.COMMUNITY_MANAGER: c.manager, R.AUDITOR: c.auditor,
        R.DOCTOR: c.township_doctor, R.VILLAGE_DOCTOR: c.village_doctor,
        R.FACILITY_ADMIN: make("t_admin", R.FACILITY_ADMIN, at), R.NURSE: make("t_nurse", R.NURSE, at),
        R.PHARMACIST: make("t_pharmacist", R.PHARMACIST, at), R.DISPATCHER: make("t_dispatcher", R.DISPATCHER, at),
        R.PUBLIC_HEALTH: make("t_public_health", R.PUBLIC_HEALTH, at),
        R.INSURANCE_OFFICER: make("t_insurance", R.INSURANCE_OFFICER, region=c.county),
    }


def _referral(c: Cast, user: User, kind: str) -> Referral:
    """A referral placed for the user: sent from their facility, or received by it (unsaved: the verbs read
    its fields, the table needs no workflow)."""
    here = user.facility or c.county_hospital
    other = c.county_hospital if here.pk != c.county_hospital.pk else c.township_center
    r = Referral(resident=c.resident, area_code=c.resident.area_code, direction=Direction.DOWN,
                 from_facility=other, referred_by=c.county_doctor, to_facility=here)
    if kind == "draft_from_here" or kind == "sent_from_here":
        r.from_facility, r.to_facility, r.referred_by = here, other, user
        r.status = Status.DRAFT if kind == "draft_from_here" else Status.SUBMITTED
    elif kind == "down_to_here":
        r.status = Status.SUBMITTED
    elif kind == "up_to_here":
        r.direction, r.status, r.center_id = Direction.UP, Status.SUBMITTED, -1  # a center the user is not in
    else:
        r.status = Status.ACCEPTED
    return r


def _object(c: Cast, user: User, kind: str):
    if kind == "none":
        return None
    if kind == "self":
        return user
    if kind == "own_token":
        return ApiToken(user=user, name="t", prefix="x", digest=f"d{user.pk}")
    if kind in ("township_center", "village", "resident", "community"):
        return getattr(c, kind)
    return _referral(c, user, kind)


def test_the_tables_cover_every_verb_category_and_role():
    assert set(VERB_TABLE) == set(VERBS), "a verb without a row here, or a row for a verb that is gone"
    assert set(READ_TABLE) == set(Category.values)
    assert set(READS) == set(Role.values), "every role needs its line in READS"
    for name, v in VERBS.items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in v.message), f"{name}: the refusal must be in Chinese"
        assert v.message.startswith("只") or v.message.startswith("您"), f"{name}: say who may ({v.message})"


def test_every_verb_the_code_names_is_registered():
    """A misspelt verb would refuse every person and let the system through, and no table row would notice:
    every verb named by a service, a page or a template (and by the moves' table) is a registered one."""
    import re
    from pathlib import Path

    from yigongti.referrals.workflow import TRANSITIONS

    src = Path(__file__).resolve().parents[2] / "src" / "yigongti"
    in_code = re.compile(r"""\b(?:check|allows|can)\(\s*[\w.]+,\s*["']([a-z_]+\.[a-z_]+)["']""")
    in_templates = re.compile(r"""\bmay(?:_do\s+\S+)?[:\s]\s*["']([a-z_]+\.[a-z_]+)["']""")
    named = {v for p in src.rglob("*.py") for v in in_code.findall(p.read_text(encoding="utf-8"))}
    named |= {v for p in src.rglob("*.html") for v in in_templates.findall(p.read_text(encoding="utf-8"))}
    named |= {m.verb for m in TRANSITIONS.values() if m.verb}  # (the system's own moves name none)
    assert len(named) > 20 and "referrals.create" in named  # the patterns still find the calls
    assert named - set(VERBS) - {"app.verb"} == set()  # ("app.verb" is the docstrings' example)


@pytest.mark.django_db
def test_every_role_against_every_write_verb(cast):
    accounts = _role_accounts(cast)
    refused = 0
    for name, (kind, allowed) in VERB_TABLE.items():
        for role, user in accounts.items():
            obj = _object(cast, user, kind)
            actor = Actor.from_user(user)
            if role in allowed:
                permissions.check(actor, name, obj)  # no exception
                assert permissions.can(user, name, obj), (name, role)
                continue
            refused += 1
            before = AuditEvent.objects.filter(action="denied").count()
            with pytest.raises(Forbidden) as e:
                permissions.check(actor, name, obj)
            assert e.value.message == VERBS[name].message, (name, role)
            assert e.value.status == 403
            ev = AuditEvent.objects.filter(action="denied").order_by("-seq").first()
            assert AuditEvent.objects.filter(action="denied").count() == before + 1, (name, role)
            assert (ev.actor, ev.role, ev.detail.get("attempted")) == (user.username, role, name)
            assert not permissions.can(user, name, obj), (name, role)
    assert refused > 200  # the table's refusals (12 roles × 26 verbs)


@pytest.mark.django_db
def test_every_role_against_every_read_category(cast):
    accounts = _role_accounts(cast)
    for category, allowed in READ_TABLE.items():
        for role, user in accounts.items():
            actor = Actor.from_user(user)
            assert (category in READS[role]) == (role in allowed), (category, role)
            if role in allowed:
                permissions.check_read(actor, category)
                continue
            with pytest.raises(Forbidden) as e:
                permissions.check_read(actor, category)
            assert e.value.message == READ_MESSAGES[category]
            ev = AuditEvent.objects.filter(action="denied").order_by("-seq").first()
            assert (ev.actor, ev.detail.get("attempted")) == (user.username, f"read:{category}")


@pytest.mark.django_db
def test_the_unmask_privilege_is_given_to_an_account_not_a_role(cast):
    assert permissions.can(cast.county_doctor, "residents.unmask", cast.resident)  # holds the privilege
    assert not permissions.can(cast.township_doctor, "residents.unmask", cast.resident)


@pytest.mark.django_db
def test_the_system_actor_is_trusted_and_anonymous_is_not(cast):
    permissions.check(Actor.system("cli"), "orgs.create_account")
    with pytest.raises(Forbidden):
        permissions.check(Actor(username="anonymous"), "referrals.create")


@pytest.mark.django_db
def test_a_facility_admin_registers_staff_only_for_their_own_facility(cast):
    admin = _role_accounts(cast)[R.FACILITY_ADMIN]
    assert permissions.can(admin, "orgs.create_staff", cast.township_center)
    assert permissions.can(admin, "orgs.create_staff", cast.village_clinic)  # a clinic under it
    assert not permissions.can(admin, "orgs.create_staff", cast.other_center)
    assert not permissions.can(cast.manager, "orgs.create_staff", cast.far_hospital)  # another community


# ---- end to end through the API: the holes the probe found ---------------------------------------------

@pytest.fixture
def ref(cast, settings):
    """The cast with a referral center at the county hospital (one desk nurse) and the starter rules."""
    from yigongti.core import notify
    from yigongti.referrals.services import install_starter_rules, setup_center

    settings.YIGONGTI_NOTIFIERS = ["yigongti.core.notify.MemoryNotifier"]
    notify.notifiers.cache_clear()
    cast.desk = create_account(actor=SYSTEM, username="center_desk", role=R.NURSE, password=PASSWORD,
                               facility=cast.county_hospital)[0]
    cast.center = setup_center(cast.community, members=[cast.desk], actor=SYSTEM)
    install_starter_rules(actor=SYSTEM)
    yield cast
    notify.notifiers.cache_clear()


@pytest.fixture
def hospital_staff(cast):
    """A pharmacist, a dispatcher and an insurance officer, and a nurse, where referrals arrive."""
    def make(name, role, **kw):
        return create_account(actor=SYSTEM, username=name, role=role, password=PASSWORD, **kw)[0]

    return {"pharmacist": make("h_pharmacist", R.PHARMACIST, facility=cast.county_hospital),
            "dispatcher": make("h_dispatcher", R.DISPATCHER, facility=cast.county_hospital),
            "insurance": make("h_insurance", R.INSURANCE_OFFICER, region=cast.county),
            "nurse": make("h_nurse", R.NURSE, facility=cast.county_hospital)}


def _accepted_referral(ref):
    from yigongti.referrals import services

    r = up(ref)
    return services.accept_referral(r.pk, actor=as_(ref.desk))


def _problem(r, status):
    assert r.status_code == status, r.content
    assert r["Content-Type"] == "application/problem+json"
    return r.json()


def test_a_pharmacist_of_the_receiving_hospital_can_neither_check_in_nor_complete(ref, hospital_staff, login):
    r = _accepted_referral(ref)
    c = login(hospital_staff["pharmacist"])
    body = _problem(c.post(f"/api/v1/referrals/{r.pk}/arrive"), 403)
    assert body["title"] == "只有接收机构的医生、护士或乡村医生可以登记患者到达"
    Referral.objects.filter(pk=r.pk).update(status=Status.ARRIVED)  # as if a nurse had checked the patient in
    body = _problem(c.post(f"/api/v1/referrals/{r.pk}/complete", {"outcome": "died"},
                           content_type="application/json"), 403)
    assert body["title"] == "只有接收机构的医生、护士或乡村医生可以完成转诊"
    assert Referral.objects.get(pk=r.pk).outcome == ""
    assert AuditEvent.objects.filter(action="denied", actor="h_pharmacist",
                                     detail__attempted="referrals.complete").exists()


def test_a_nurse_of_the_receiving_hospital_checks_the_patient_in(ref, hospital_staff, login):
    r = _accepted_referral(ref)
    c = login(hospital_staff["nurse"])
    assert c.post(f"/api/v1/referrals/{r.pk}/arrive").status_code == 200
    assert Referral.objects.get(pk=r.pk).status == Status.ARRIVED


def test_a_community_manager_cannot_complete_a_referral(ref, login):
    r = _accepted_referral(ref)
    Referral.objects.filter(pk=r.pk).update(status=Status.ARRIVED)
    c = login(ref.manager)  # works at the receiving county hospital
    body = _problem(c.post(f"/api/v1/referrals/{r.pk}/complete", {"outcome": "improved"},
                           content_type="application/json"), 403)
    assert body["title"] == "只有接收机构的医生、护士或乡村医生可以完成转诊"
    assert Referral.objects.get(pk=r.pk).status == Status.ARRIVED


@pytest.mark.parametrize("who", ["pharmacist", "dispatcher"])
def test_pharmacists_and_dispatchers_cannot_create_referrals(ref, hospital_staff, login, who):
    c = login(hospital_staff[who])
    payload = {"resident": ref.resident.pk, "direction": "down", "to_facility": ref.township_center.pk,
               "icd10": "I63.9", "reason": "病情稳定", "rehab_plan": "康复训练", "follow_up_dates": ["2026-12-30"]}
    body = _problem(c.post("/api/v1/referrals", payload, content_type="application/json"), 403)
    assert body["title"] == "只有医疗机构的医生或乡村医生可以发起转诊"
    assert not Referral.objects.filter(referred_by=hospital_staff[who]).exists()
    page = c.get("/referrals/?box=out").content.decode()
    assert 'data-testid="new-referral"' not in page  # the page does not offer it either


@pytest.mark.parametrize("who", ["pharmacist", "dispatcher", "insurance"])
def test_pharmacists_dispatchers_and_insurance_officers_do_not_read_clinical_timelines(cast, hospital_staff,
                                                                                       login, who):
    c = login(hospital_staff[who])
    body = _problem(c.get("/api/v1/encounters", {"resident": cast.resident.pk}), 403)
    assert body["title"] == "您的角色不能查看诊疗记录"
    assert c.get(f"/encounters/residents/{cast.resident.pk}/").status_code == 403
    assert AuditEvent.objects.filter(action="denied", actor=hospital_staff[who].username,
                                     detail__attempted="read:clinical").exists()


def test_a_doctor_still_reads_the_timeline(cast, login):
    c = login(cast.village_doctor)
    assert c.get("/api/v1/encounters", {"resident": cast.resident.pk}).status_code == 200


def test_a_nurse_cannot_register_staff(cast, hospital_staff, login):
    c = login(hospital_staff["nurse"])
    body = _problem(c.post("/api/v1/staff", {"name": "赵护士", "sex": "F", "profession": "nurse",
                                             "work_facility": cast.county_hospital.code},
                           content_type="application/json"), 403)
    assert body["title"].startswith("只有机构管理员")
    from yigongti.orgs.models import Staff

    assert not Staff.objects.filter(name="赵护士").exists()
    assert AuditEvent.objects.filter(action="denied", actor="h_nurse", detail__attempted="orgs.create_staff").exists()



def test_a_privileged_pharmacist_still_does_not_read_contact_details(cast, hospital_staff, login):
    """Unmasking is a privilege of the account, but only for a role that reads contact details at all."""
    from django.contrib.auth.models import Permission

    pharmacist = hospital_staff["pharmacist"]
    pharmacist.user_permissions.add(Permission.objects.get(codename="unmask_personal_data"))
    pharmacist = User.objects.get(pk=pharmacist.pk)
    c = login(pharmacist)
    r = c.post(f"/api/v1/residents/{cast.resident.pk}/identifiers")
    body = _problem(r, 403)
    assert body["title"] == "您的角色不能查看居民的联系方式"
    assert not AuditEvent.objects.filter(action="unmask", actor="h_pharmacist").exists()


@pytest.mark.django_db
def test_a_superuser_passes_administrative_verbs_never_clinical_ones(cast):
    admin = create_account(actor=SYSTEM, username="root", role=R.BUREAU, password=PASSWORD, region=cast.county)[0]
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    for name in ("orgs.create_account", "orgs.create_staff", "residents.import", "residents.merge",
                 "encounters.import_population", "referrals.rules"):
        assert permissions.can(admin, name), name
    accepted = _referral(cast, admin, "accepted_to_here")
    for name, obj in (("encounters.record", cast.resident), ("referrals.create", None),
                      ("referrals.complete", accepted), ("residents.register", cast.village)):
        assert not permissions.can(admin, name, obj), name
