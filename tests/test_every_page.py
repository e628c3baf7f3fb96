"""Every page and every API list, as every role, in Chinese and in English: never a server error.

One cast (tests/cast.py) plus an account for each role it lacks, a referral with its follow-up, an encounter,
an import batch, a match review, a merge and an API token, built once for the module. Each role then GETs every
URL pattern of the project (walked from the resolver, path parameters filled from those objects) and every
GET operation of the OpenAPI schema, with one client, in zh-Hans and in English (and each page once more as
the HTMX fragment a search swaps in), and we check:

- never a 5xx, and only 200/302/403/404 (405 for a view that only takes POST; for the API 401 without a
  session and 422 as our problem with a code, in Chinese under zh-Hans; a page with a bad query parameter may
  answer 400 — with our page);
- a 403/404 page is our own error page (error.html in the base layout), not Django's plain or debug page; an
  API error is problem+json;
- every page or API answer to a signed-in user carries ``Cache-Control: no-store`` (core.nostore).

Failures are collected per role and reported together, so one run shows every broken page at once
(``EVERY_PAGE_TIMINGS=1 pytest -s`` prints each role's slowest pages).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import traceback

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from tests.cast import PASSWORD, SYSTEM, as_, build_cast
from tests.twofactor import pass_two_factor
from yigongti.orgs.models import Role

SKIP_NAMES = {"logout"}  # signing out would end the walk
SKIP_PREFIXES = ("api/v1/",)  # the API is walked from its schema below (its docs' static files are ninja's)
DOCS = ("/api/v1/docs", "/api/v1/openapi.json")

# Known failures not fixed here (the owner is mid-edit or the fix is large): (role or "*", url regex) → reason.
KNOWN: dict[tuple[str, str], str] = {}


# --- the world ---------------------------------------------------------------------------------------------

EXTRA_ROLES = {  # accounts for the roles that the cast has none of, placed as the demo places them
    Role.FACILITY_ADMIN: {"facility": "township_center"},
    Role.NURSE: {"facility": "county_hospital"},
    Role.PHARMACIST: {"facility": "county_hospital"},
    Role.INSURANCE_OFFICER: {"region": "county"},
    Role.DISPATCHER: {"facility": "county_hospital"},
    Role.PUBLIC_HEALTH: {"facility": "township_center"},
}
CAST_ROLES = {  # the cast member that plays each role
    Role.CITY: "city", Role.BUREAU: "bureau", Role.COMMUNITY_MANAGER: "manager", Role.DOCTOR: "township_doctor",
    Role.VILLAGE_DOCTOR: "village_doctor", Role.AUDITOR: "auditor",
}
PLAYERS = [r.value for r in Role] + ["county_doctor", "superuser", "anonymous"]


def _build_world():
    from yigongti.encounters.services import record_encounter
    from yigongti.orgs.models import ApiToken, Department
    from yigongti.orgs.services import create_account, issue_token
    from yigongti.referrals import services as referrals
    from yigongti.residents.importing import commit_import, preview_import
    from yigongti.residents.merging import merge_residents
    from yigongti.residents.models import MatchReview, Resident

    c = build_cast()
    users = {role: getattr(c, name) for role, name in CAST_ROLES.items()}
    for role, where in EXTRA_ROLES.items():
        place = {k: getattr(c, v) for k, v in where.items()}
        users[role] = create_account(username=f"as_{role}", role=role, password=PASSWORD, actor=SYSTEM, **place)[0]
    users["county_doctor"] = c.county_doctor
    su = create_account(username="root", role=Role.FACILITY_ADMIN, password=PASSWORD, actor=SYSTEM,
                        facility=c.county_hospital)[0]
    su.is_superuser = su.is_staff = True
    su.save()
    users["superuser"] = su

    referrals.setup_center(c.community, members=[users[Role.NURSE]], supervisors=[c.county_doctor], actor=SYSTEM)
    referrals.install_starter_rules(actor=SYSTEM)
    ref = referrals.submit_referral(
        {"resident": c.resident.pk, "direction": "up", "urgency": "green", "to_facility": c.county_hospital.pk,
         "icd10": "I63.9", "diagnosis": "脑梗死", "reason": "突发右侧肢体无力2小时"}, actor=as_(c.township_doctor))
    follow_up = ref.follow_ups.first()
    enc = record_encounter({"resident": c.resident.pk, "type": "outpatient", "admit_date": dt.date(2026, 9, 1),
                            "main_icd10": "I10", "main_diagnosis": "高血压", "total_cost": "120.00",
                            "drug_cost": "60.00"}, actor=as_(c.township_doctor))

    header = "record_id,source_system,name,sex,birth_date,id_number,phone,address,household_id\n"
    rows = header + "V1,,李见国,男,1958-03-15,,13900000000,,\nV2,,陈秋菊,女,1985-05-12,,,塔峰镇大塘村,\n"
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "his.csv"
        path.write_text(rows, encoding="utf-8")
        batch = preview_import(path, "his.csv", "公卫档案", actor=as_(c.manager))
        committed = commit_import(batch, actor=as_(c.manager))
        path.write_text(header + "W1,,赵六,男,1970-01-01,,,塔峰镇大塘村,\n", encoding="utf-8")
        previewed = preview_import(path, "more.csv", "公卫档案", actor=as_(c.manager))
    review = MatchReview.objects.first()
    twin = Resident.objects.create(name="李建国", sex="M", birth_date=dt.date(1958, 3, 14), village=c.village,
                                   area_code=c.village.code)
    merge = merge_residents(c.resident, twin, "重复建档", actor=as_(c.manager))
    issue_token(c.township_doctor, "his", actor=as_(c.township_doctor))
    token = ApiToken.objects.first()
    from yigongti.indicators.definitions import INDICATORS

    ins = _insurance_world(c, users, enc)
    tm = _telemedicine_world(c, users)
    em = _emergency_world(c, users)
    care = _care_world(c, users)
    params = {
        # (namespace, url name, kwarg) or (None, None, kwarg) → value
        ("residents", None, "pk"): c.resident.pk,
        ("residents", "import", "pk"): committed.pk, ("residents", "import_report", "pk"): committed.pk,
        ("residents", "import_commit", "pk"): previewed.pk, ("residents", "import_discard", "pk"): previewed.pk,
        ("residents", "review", "pk"): review.pk if review else 1,
        ("residents", "review_decide", "pk"): review.pk if review else 1,
        ("residents", None, "event_id"): merge.pk,
        ("encounters", "detail", "pk"): enc.pk, ("encounters", "timeline", "pk"): c.resident.pk,
        ("encounters", None, "kind"): "settlements",
        ("orgs", "facility", "pk"): c.township_center.pk, ("orgs", None, "pk"): token.pk,
        ("referrals", None, "pk"): ref.pk, ("referrals", None, "action"): "accept",
        ("referrals", None, "fid"): follow_up.pk if follow_up else 1,
        ("indicators", None, "code"): next(iter(INDICATORS)), ("indicators", None, "fmt"): "xlsx",
        ("insurance", None, "year"): ins["year"], ("insurance", None, "scheme"): "resident",
        ("insurance", "simulation_detail", "pk"): ins["simulation"],
        ("insurance", "case_detail", "pk"): ins["discharge"], ("insurance", "case_regroup", "pk"): ins["discharge"],
        ("insurance", "filing_revoke", "pk"): ins["filing"], ("insurance", "pay_later_settle", "pk"): ins["pay_later"],
        ("insurance", "reconcile_detail", "pk"): ins["reconciliation"],
        ("insurance", None, "pk"): ins["settlement"], ("insurance", None, "facility_id"): ins["member"],
        ("telemedicine", None, "pk"): tm["order"],
        ("telemedicine", "catalogue", "pk"): tm["center"], ("telemedicine", "worklist", "pk"): tm["center"],
        ("telemedicine", "lab_entry", "pk"): tm["lab_order"],
        ("telemedicine", "pathology_order", "pk"): tm["pathology_order"],
        ("telemedicine", "pathology_collect", "pk"): tm["pathology_order"],
        ("telemedicine", "pathology_image", "pk"): tm["pathology_order"],
        ("telemedicine", "pathology_report", "pk"): tm["pathology_order"],
        ("telemedicine", "pathology_move", "pk"): tm["specimen"], ("telemedicine", "pathology_move", "action"): "send",
        ("telemedicine", "consultation", "pk"): tm["consultation"],
        ("telemedicine", "consultation_act", "pk"): tm["consultation"],
        ("telemedicine", "consultation_act", "action"): "schedule",
        ("telemedicine", "attachment", "pk"): tm["attachment"],
        ("telemedicine", "device", "pk"): tm["device"], ("telemedicine", "device_active", "pk"): tm["device"],
        ("telemedicine", None, "index"): 0, ("telemedicine", None, "size"): 128,
    }
    from tests.assets.world import assets_world  # the asset register's pages (tests/assets)

    params.update(assets_world(c))
    from tests.performance.world import performance_world  # payroll and performance (tests/performance)

    params.update(performance_world(c))
    from tests.distribution.world import distribution_world  # village orders and shortages (tests/distribution)

    params.update(distribution_world(c))
    from tests.pharmacy.world import pharmacy_world  # catalogue, orders, stock (tests/pharmacy)

    params.update(pharmacy_world(c))
    from tests.prescribing.world import prescribing_world  # prescriptions, 点评, rules (tests/prescribing)

    params.update(prescribing_world(c))
    from tests.ihospital.world import ih_world  # online follow-ups (tests/ihospital)

    params.update(ih_world(c))
    for name in ("critical_detail", "critical_acknowledge", "critical_action", "critical_close", "critical_green"):
        params["telemedicine", name, "pk"] = tm["critical"]
    for names, key in ((("alert", "alert_ack"), "alert"),
                       (("call", "call_recommend", "call_dispatch", "call_update", "call_merge", "call_close",
                        "mission_abort"), "call"),
                       (("crew_mission", "crew_step", "prehospital"), "mission"), (("station",), "station"),
                       (("vehicle",), "vehicle"), (("plan", "plan_retry"), "plan")):
        for name in names:
            params["emergency", name, "pk"] = em[key]
    params["emergency", "mission_abort", "mission_pk"] = em["mission"]
    params["pathways", None, "pk"] = em["case"]
    params["pathways", "green_channel", "pk"] = em["resident"]
    params["pathways", "green_channel_done", "pk"] = em["gc_call"]
    for name in ("lab_message", "lab_message_discard"):
        params["telemedicine", name, "pk"] = tm["message"]
    for name in ("imaging_study", "imaging_match", "imaging_ignore", "imaging_key_images", "imaging_image",
                 "imaging_sheet"):
        params["telemedicine", name, "pk"] = tm["study"]
    dept = Department.objects.create(facility=c.county_hospital, code="NK", name="神经内科", beds=20)
    api = {"facilities/{pk}": c.township_center.pk, "residents/imports/{pk}": committed.pk,
           "residents/imports/{pk}/rows": committed.pk, "residents/{pk}": c.resident.pk, "encounters/{pk}": enc.pk,
           "encounters/imports/{kind}/template": "settlements", "indicators/ranking/{code}": next(iter(INDICATORS)),
           "referrals/{pk}": ref.pk, "referrals/{pk}/capacity": ref.pk, "referrals/{pk}/print": ref.pk,
           "referrals/{pk}/qr.svg": ref.pk,
           "insurance/budget/reconciliations/{pk}": ins["reconciliation"],
           "insurance/budget/reconciliations/{pk}/lines": ins["reconciliation"],
           "insurance/settlement/{pk}": ins["settlement"], "insurance/settlement/{pk}/summary.xlsx": ins["settlement"],
           "insurance/cases/{pk}": ins["discharge"], "insurance/payment/weights/{year}": ins["year"],
           "insurance/payment/rates/{year}": ins["year"], "insurance/payment/dip/{year}/groups": ins["year"],
           "insurance/payment/dip/{year}/point-values": ins["year"],
           "insurance/payment/dip/{year}/level-factors": ins["year"],
           "insurance/payment/efficiency/{year}": ins["year"],
           "insurance/payment/simulations/{pk}": ins["simulation"],
           "telemedicine/orders/worklists/{center}": tm["center"], "telemedicine/orders/{pk}": tm["order"],
           "telemedicine/critical/{pk}": tm["critical"], "telemedicine/lab/orders/{pk}/results": tm["lab_order"],
           "telemedicine/lab/messages/{pk}": tm["message"], "telemedicine/imaging/studies/{pk}": tm["study"],
           "telemedicine/ecg/{order_id}": tm["order"], "telemedicine/ecg/{order_id}/samples": tm["order"],
           "telemedicine/pathology/orders/{pk}": tm["pathology_order"],
           "telemedicine/consultations/{pk}": tm["consultation"], "telemedicine/devices/{pk}": tm["device"],
           "emergency/calls/{pk}": em["call"], "emergency/calls/{pk}/recommend": em["call"],
           "emergency/vehicles/{vehicle_id}": em["vehicle"], "emergency/missions/{mission_id}": em["mission"],
           "emergency/alerts/{alert_id}": em["alert"], "emergency/prehospital/{mission_id}": em["mission"],
           "emergency/prehospital/{mission_id}/destinations": em["mission"],
           "emergency/fleet/vehicles/{vehicle_id}/crew": em["vehicle"], "emergency/planning/{pk}": em["plan"],
           "pathways/cases/{pk}": em["case"], "pathways/dashboards/{center_id}": em["center"],
           "pathways/green-channel/calls/{call_id}": em["gc_call"], "pathways/export/mapping/{kind}": "chest_pain",
           "pathways/export/{center_id}": em["center"]}
    for tail, v in api.items():
        params["api", "/api/v1/" + tail, re.search(r"\{(\w+)\}", tail).group(1)] = v
    for fmt in ("xlsx", "pdf"):
        tail = f"/api/v1/insurance/settlement/{{pk}}/statement/{{facility_id}}.{fmt}"
        params["api", tail, "pk"], params["api", tail, "facility_id"] = ins["settlement"], ins["member"]
    params.update(care["params"])
    params["api-query", "resident"] = c.resident.pk
    params["api-query", "department"] = dept.pk
    params["api-query", "item"] = tm["item"]
    from yigongti.workforce.models import Rota  # a draft rota of the community (workforce)

    wf_rota = Rota.objects.create(community=c.community, month=dt.date(2026, 12, 1)).pk
    params["workforce", "rota", "pk"] = params["api", "/api/v1/workforce/rota/{pk}", "pk"] = wf_rota
    params["workforce", "vd_doctor", "pk"] = c.village_doctor.staff_id  # a village doctor's page (workforce)
    from yigongti.indicators.services import refresh_facts

    refresh_facts()
    return {"cast": c, "users": users, "params": params, "resident": c.resident, "referral": ref, "care": care}


def _insurance_world(c, users, enc) -> dict:
    """A closed year with its members' allocation, a settlement list, a filing, a pay-later account, a
    reconciliation and a saved simulation, so that every insurance page has a real object to show."""
    from yigongti.encounters.models import Encounter, InsuranceSettlement
    from yigongti.insurance import budget, ledger, settlement
    from yigongti.insurance.discharges import sync_discharges
    from yigongti.insurance.filings import file_out_of_county
    from yigongti.insurance.models import Discharge, Reconciliation, Simulation
    from yigongti.insurance.pay_later import open_pay_later

    officer = as_(users[Role.INSURANCE_OFFICER])
    year = 2025
    stay = Encounter.objects.create(
        resident=c.resident, area_code=c.resident.area_code, residence_county=c.county.code[:6],
        facility=c.county_hospital, type="inpatient", admit_date=dt.date(year, 5, 3),
        discharge_date=dt.date(year, 5, 9), main_icd10="J18.900", main_diagnosis="肺炎", total_cost="5200.00",
        drug_cost="1800.00", insurance_paid="3600.00", self_pay="1600.00", scheme="resident")
    InsuranceSettlement.objects.create(
        settlement_no="W000000001", resident=c.resident, area_code=c.resident.area_code,
        residence_county=c.county.code[:6], scheme="resident", type="inpatient", facility_code=c.county_hospital.code,
        facility_county=c.county.code[:6], facility_level="county", admit_date=stay.admit_date,
        discharge_date=stay.discharge_date, settle_date=stay.discharge_date, total_cost=stay.total_cost,
        fund_paid=stay.insurance_paid, self_pay=stay.self_pay, main_icd10="J18.900", encounter=stay)
    sync_discharges(year, actor=officer)
    rules = {"prior_spend": "3400.00", "growth_rate": "0.05", "retained_share": "0.6", "overspend_cap": "0.1",
             "overspend_share": "0.5"}
    b = budget.set_budget(c.community, year, "resident", rules, actor=officer)
    ledger.post_year(c.community, year, actor=officer)
    closed = settlement.close_year(b, "fixed", {c.county_hospital.code: "1"}, actor=officer)
    filing = file_out_of_county({"resident": c.resident.pk, "hospital": "湖南省人民医院", "reason": "疑难病例",
                                 "valid_from": dt.date(2026, 9, 1), "valid_until": dt.date(2026, 12, 31)},
                                actor=officer)
    account = open_pay_later(enc, {"amount_due": "60.00", "due_date": dt.date(2026, 10, 1)}, actor=officer)
    rec = Reconciliation.objects.create(community=c.community, year=year, month=5, file_name="statement.xlsx")
    sim = Simulation.objects.create(name="费率下调", year=year, parameters={}, results={})
    return {"year": year, "settlement": closed.pk, "member": c.county_hospital.pk, "simulation": sim.pk,
            "discharge": Discharge.objects.get(encounter=stay).pk, "filing": filing.pk, "pay_later": account.pk,
            "reconciliation": rec.pk}


def _telemedicine_world(c, users) -> dict:
    """The five centers with an ECG read as a STEMI (its recording and its critical value), a lab order with a
    message in the error queue, an unmatched imaging study, a pathology specimen, a consultation with a photo and
    a device, so that every page of the centers has a real object to show."""
    from django.utils import timezone

    from tests.telemedicine.conftest import build_centers, make_order
    from yigongti.telemedicine import consultations, devices, pathology
    from yigongti.telemedicine.ecg import receive_file
    from yigongti.telemedicine.ecg.simulate import twelve_lead
    from yigongti.telemedicine.ecg.write import dicom_ecg
    from yigongti.telemedicine.hl7.ingest import ingest
    from yigongti.telemedicine.models import Attachment, CriticalValue, Hl7Message, ImagingStudy
    from yigongti.telemedicine.rules import install_defaults, install_findings
    from yigongti.telemedicine.services.orders import sign_report

    centers = build_centers(c)
    install_findings()
    install_defaults(c.community, actor=SYSTEM)
    ecg = make_order(centers, "ECG12", by=c.village_doctor, resident=c.resident, urgency="emergency")
    samples, rate, uv = twelve_lead(3, stemi="inferior")
    patient = {"id": str(c.resident.pk), "name": c.resident.name, "birth_date": c.resident.birth_date,
               "sex": c.resident.sex}
    receive_file(ecg.pk, dicom_ecg(samples, rate, uv, ecg.accession_no, patient), "ecg.dcm",
                 actor=as_(c.village_doctor))
    sign_report(ecg.pk, {"conclusion": "急性下壁 ST 段抬高型心肌梗死", "critical_findings": ["ECG-STEMI"]},
                actor=as_(centers.reader))
    lab = make_order(centers, "CHEM", by=c.township_doctor, resident=c.resident)
    ingest("MSH|^~\\&|LIS|HOSP|YGT|YGT|20260901120000||ORU^R01|BAD1|P|2.5\rPID|1||X\r"
           "OBR|1|NOSUCH|NOSUCH|CHEM\rOBX|1|NM|K||6.8|mmol/L|||||F\r")
    study = ImagingStudy.objects.create(orthanc_id="0000-unmatched", study_instance_uid="1.2.826.0.1.1",
                                        modality="DX", received_at=timezone.now())
    path = make_order(centers, "PATH-BIOPSY", by=c.township_doctor, resident=c.resident)
    specimen = pathology.register_specimen(path.pk, {"specimen_type": "胃黏膜活检组织", "site": "胃窦"},
                                           actor=as_(c.township_doctor))
    consult = consultations.request_consultation({"resident": c.resident.pk, "question": "胸痛待查，请会诊",
                                                  "item": centers.items["CONS-CARD"].pk},
                                                 actor=as_(c.township_doctor))
    photo = Attachment.objects.create(consultation=consult, name="ecg.png", content_type="image/png",
                                      path="missing.png", uploaded_by=c.township_doctor,
                                      uploaded_at=timezone.now())
    device = devices.register_device({"kind": "ecg", "model": "ECG-1250", "serial": "SN-0001"},
                                     actor=as_(users[Role.FACILITY_ADMIN]))
    return {"center": centers.ecg.pk, "item": centers.items["CHEM"].pk, "order": ecg.pk, "lab_order": lab.pk,
            "critical": CriticalValue.objects.get(order=ecg).pk, "message": Hl7Message.objects.latest("pk").pk,
            "study": study.pk, "pathology_order": path.pk, "specimen": specimen.pk, "consultation": consult.pk,
            "attachment": photo.pk, "device": device.pk}


def _emergency_world(c, users) -> dict:
    """The 120 network of the emergency tests with a chest-pain call dispatched, its crew on scene, a pre-arrival
    alert (which opens the pathway case), a one-button green channel from the village and a station plan, so that
    every page of the command center and the pathways has a real object to show."""
    from tests.emergency.conftest import build_ems
    from yigongti.emergency.models import StationPlan
    from yigongti.emergency.services import alerts, calls, missions
    from yigongti.pathways import green_channel
    from yigongti.pathways.models import Case, PathwayCenter

    ems = build_ems(c)
    dispatcher, crew = as_(ems.dispatcher), as_(ems.crew_a1)
    call = calls.take_call(dispatcher, caller_phone=c.resident.phone, chief_complaint="胸痛两小时",
                           complaint_code="chest_pain", priority=1, region=c.village)
    mission = calls.dispatch(dispatcher, call, ems.vehicles["A1"])
    for kind in ("crew_ack", "wheels_rolling", "on_scene"):
        missions.step(crew, mission, kind)
    alert = alerts.send_alert(crew, mission, facility=c.county_hospital)
    case = Case.objects.filter(call=call).first() or Case.objects.first()
    gc = green_channel.press(as_(c.other_village_doctor), c.neighbour, kind="stroke")
    plan = StationPlan.objects.create(name="测试规划", network=ems.network, params={}, result={}, status="failed")
    return {"call": call.pk, "mission": mission.pk, "alert": alert.pk, "case": case.pk if case else 1,
            "station": ems.township_station.pk, "vehicle": ems.vehicles["A1"].pk, "plan": plan.pk,
            "gc_call": gc.call.pk, "resident": c.resident.pk,
            "center": PathwayCenter.objects.get(facility=c.county_hospital, kind="chest_pain").pk}


def _care_world(c, users) -> dict:
    """Family doctors, 两病 and public health on the care fixture (tests/care.py): a household's contracts with
    their schedule and a delivery, a 118 session, a month's assessment, a hypertension enrolment with an
    uncontrolled follow-up (a referral suggested) and its medicine, a health check, a pregnancy with a visit,
    the child's visit and a vaccine dose, and the due lists — so that every page of the three apps has an object."""
    from decimal import Decimal

    from django.utils import timezone

    from tests.care import build_care
    from yigongti.chronic.models import RegularMedicine
    from yigongti.chronic.services.enrolment import enrol
    from yigongti.chronic.services.followups import record_follow_up
    from yigongti.familydoctor import due
    from yigongti.familydoctor.models import Contract, MonthlyAssessment, TeamSession
    from yigongti.publichealth.models import ChildVisit, HealthCheck, MaternalVisit, Pregnancy, VaccineDose

    care = build_care(c)
    today = timezone.localdate()
    signature = '<svg xmlns="http://www.w3.org/2000/svg"><path d="M10 10 L 40 40"/></svg>'
    start = today - dt.timedelta(days=60)
    contracts = [Contract.objects.create(
        number=f"QY-WALK-{k}", resident=r, household=care.household, household_batch="HH-WALK", team=care.team,
        doctor=c.village_doctor.staff, package=care.basic, village=c.village, signed_on=start, start=start,
        end=start.replace(year=start.year + 1) - dt.timedelta(days=1), consent_kind="tablet",
        consent_signature=signature) for k, r in enumerate((care.grandfather, care.grandmother))]
    try:
        from yigongti.familydoctor.services.fulfilment import schedule_contract

        for contract in contracts:
            schedule_contract(contract)
    except ImportError:
        pass
    session = TeamSession.objects.create(team=care.team, date=today - dt.timedelta(days=7), starts=dt.time(8),
                                         ends=dt.time(17), place=c.township_center, village=c.village)
    session.present.add(c.village_doctor.staff, c.township_doctor.staff)
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    MonthlyAssessment.objects.create(team=care.team, month=month, fulfilment=Decimal("80"), timeliness=Decimal("70"),
                                     outcomes=Decimal("60"), sessions=Decimal("100"), total=Decimal("75"), rank=1,
                                     details={"scheduled": 4, "delivered": 3})
    enrolment = enrol(as_(c.village_doctor), care.grandfather, "htn", enrolled_on=today - dt.timedelta(days=90))
    fu = record_follow_up(as_(c.village_doctor), enrolment, {
        "visit_date": (today - dt.timedelta(days=30)).isoformat(), "mode": "clinic", "sbp": "152", "dbp": "96",
        "heart_rate": "78", "weight_kg": "66", "height_cm": "168"})
    fu = record_follow_up(as_(c.village_doctor), enrolment, {
        "visit_date": (today - dt.timedelta(days=2)).isoformat(), "mode": "clinic", "sbp": "156", "dbp": "98",
        "heart_rate": "80", "weight_kg": "66", "height_cm": "168"})
    RegularMedicine.objects.create(enrolment=enrolment, name="氨氯地平片", strength="5mg×28片", dose="5mg",
                                   frequency="qd", since=today - dt.timedelta(days=80))
    check = HealthCheck.objects.create(resident=care.grandfather, date=today - dt.timedelta(days=20),
                                       purpose="elderly", facility=c.township_center, by=c.township_doctor.staff,
                                       sbp=150, dbp=92)
    lmp = today - dt.timedelta(days=120)
    pregnancy = Pregnancy.objects.create(
        resident=care.mother, lmp=lmp, edd=lmp + dt.timedelta(days=280), registered_on=lmp + dt.timedelta(days=70),
        registered_week=10, facility=c.township_center, managing_facility=c.township_center, risk_grade="yellow",
        risk_factors=["age_35_plus"], schedule_edition="国家基本公共卫生服务规范（第三版）")
    MaternalVisit.objects.create(pregnancy=pregnancy, kind="antenatal_1", date=lmp + dt.timedelta(days=70),
                                 gest_week=10, facility=c.township_center)
    birth = care.child.birth_date
    ChildVisit.objects.create(child=care.child, kind="newborn", date=birth + dt.timedelta(days=5), age_days=5,
                              facility=c.township_center, schedule_edition="国家基本公共卫生服务规范（第三版）")
    VaccineDose.objects.create(child=care.child, vaccine="HepB", dose=1, given_on=birth, age_days=0,
                               facility=c.township_center, schedule_edition="2021")
    due.recompute()
    team, contract = care.team.pk, contracts[0].pk
    params = {("familydoctor", None, "pk"): contract, ("chronic", None, "pk"): enrolment.pk,
              ("chronic", "submit_referral", "pk"): fu.pk, ("publichealth", None, "pk"): care.child.pk,
              ("publichealth", "check", "pk"): check.pk,
              ("api-query", "patient"): enrolment.pk, ("api-query", "village"): c.village.code,
              ("api-query", "team"): team, ("api-query", "contract"): contract}
    for name in ("team", "team_edit", "team_member", "team_member_add", "team_member_end", "team_village",
                 "team_village_add", "team_village_end", "assessment_team", "ledger_team"):
        params["familydoctor", name, "pk"] = team
    params["familydoctor", "session", "pk"] = session.pk
    for name in ("pregnancy", "pregnancy_grade", "pregnancy_delivery", "maternal_visit", "pregnancy_edit",
                 "pregnancy_close", "postpartum_visit"):
        params["publichealth", name, "pk"] = pregnancy.pk
    params["api", "/api/v1/familydoctor/teams/{pk}", "pk"] = team
    params["api", "/api/v1/familydoctor/contracts/{pk}", "pk"] = contract
    for kw, v in (("contract_id", contract), ("team_id", team), ("session_id", session.pk),
                  ("patient_id", enrolment.pk), ("enrolment_id", enrolment.pk), ("follow_up_id", fu.pk),
                  ("followup_id", fu.pk), ("check_id", check.pk), ("pregnancy_id", pregnancy.pk),
                  ("resident_id", care.child.pk), ("child_id", care.child.pk), ("household_id", care.household.pk)):
        params["api-any", kw] = v
    return {"params": params, "contract": contract, "enrolment": enrolment.pk, "pregnancy": pregnancy.pk}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once, inside a transaction rolled back when the module ends."""
    from django.db import transaction

    with override_settings(PASSWORD_HASHERS=["tests.hashers.FastArgon2PasswordHasher"]), \
            django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# --- the URLs ------------------------------------------------------------------------------------------------

def _walk(resolver: URLResolver, prefix: str = "", ns: str | None = None):
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from _walk(p, route, p.namespace or ns)
        elif isinstance(p, URLPattern):
            yield route, ns, p.name, p.callback


def page_patterns() -> list[tuple[str, str | None, str | None, object]]:
    out = []
    for route, ns, name, cb in _walk(get_resolver()):
        if name in SKIP_NAMES or route.startswith(SKIP_PREFIXES):
            continue
        out.append((route, ns, name, cb))
    return out


_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _admin_object(cb, kwarg):
    model_admin = getattr(cb, "model_admin", None)
    if model_admin is None:
        return "1"
    obj = model_admin.model._default_manager.order_by("pk").first()
    return str(obj.pk) if obj is not None else "1"


def fill(route: str, ns, name, cb, params) -> str | None:
    """A concrete path for a route, or None when a parameter cannot be filled."""
    route = route.lstrip("^").rstrip("$")
    if "(?P<" in route:  # a regex route (admin's view-on-site catch-alls): take the admin's own examples
        return None

    def value(m):
        kw = m.group(2)
        if ns == "admin":
            if kw in ("object_id", "pk", "id"):
                return _admin_object(cb, kw)
            if kw == "app_label":
                return "orgs"
            if kw == "url":
                return "no-such-page/"
            if kw == "content_type_id":
                return "1"
        for key in ((ns, name, kw), (ns, None, kw), (None, None, kw)):
            if key in params:
                return str(params[key])
        raise KeyError(f"{ns}:{name} <{kw}>")

    return "/" + _PARAM.sub(value, route)


API_QUERY = {"resident": "resident", "icd10": "I63.9", "department": "department", "item": "item",
             "phone": "13874601234", "lon": "112.14", "lat": "25.34", "from_lon": "112.14", "from_lat": "25.34",
             "to_lon": "112.17", "to_lat": "25.37", "first": "2026-01-01", "patient": "patient",
             "village": "village", "month": "2026-05", "team": "team", "contract": "contract"}


def api_gets(params: dict | None = None) -> list[str]:
    """The schema's GET operations; with ``params``, those with path parameters too, filled from the world
    (required query parameters as well). Without, only the parameter-free lists."""
    from django.utils.http import urlencode

    from yigongti.api import api

    out = []
    for path, ops in api.get_openapi_schema()["paths"].items():
        if "get" not in ops:
            continue
        if "{" in path:
            if params is None:
                continue
            path = re.sub(r"\{(\w+)\}", lambda m, p=path: str(
                params["api", p, m.group(1)] if ("api", p, m.group(1)) in params else params["api-any", m.group(1)]),
                path)  # "api-any": a path parameter named after its object (care world: contract_id …)
        query = {q["name"]: API_QUERY[q["name"]] for q in ops["get"].get("parameters", [])
                 if q["in"] == "query" and q.get("required")}
        if query and params is not None:
            query = {k: params.get(("api-query", v), v) for k, v in query.items()}
        out.append(path + ("?" + urlencode(query) if query else ""))
    return sorted(out)


# --- the checks ----------------------------------------------------------------------------------------------

def _client_for(world, player: str) -> Client:
    c = Client(raise_request_exception=False)
    if player != "anonymous":
        user = world["users"][player]
        c.force_login(user)
        pass_two_factor(c, user)
    return c


def _problems(path: str, r, signed_in: bool, api: bool, lang: str = "zh-hans") -> list[str]:
    out = []
    status = r.status_code
    exc = getattr(r, "exc_info", None)
    if exc:
        tb = traceback.extract_tb(exc[2])[-1]
        out.append(f"{status} {exc[0].__name__}: {exc[1]} at {tb.filename.split('src/')[-1]}:{tb.lineno}")
        return out
    allowed = {200, 302, 403, 404, 405} | ({401, 422} if api else {400})
    if status >= 500 or status not in allowed:
        out.append(f"status {status}")
    if api and status == 422:  # e.g. the guideline check for an account without a facility: ours, in Chinese
        body = r.json() if "json" in r.get("Content-Type", "") else {}
        if not body.get("code") or (lang == "zh-hans" and not re.search(r"[\u4e00-\u9fff]", body.get("title", ""))):
            out.append(f"422 that is not our problem (a code, in Chinese): {r.content[:120]!r}")
    ctype = r.get("Content-Type", "")
    if status in (400, 403, 404) and not path.startswith("/admin/"):
        if api:
            if "application/problem+json" not in ctype:
                out.append(f"{status} is not problem+json ({ctype})")
        else:
            body = r.content.decode(errors="replace")
            if 'data-testid="error"' not in body or "<nav" not in body:
                out.append(f"{status} is not our error page: {body[:80]!r}")
    if status == 405 and r.content:
        out.append("405 with a body")
    if signed_in and status in (200, 400, 403, 404) and not path.startswith(settings.STATIC_URL):
        cc = r.get("Cache-Control", "")
        if "no-store" not in cc and "public" not in cc:
            out.append(f"no Cache-Control: no-store ({cc!r})")
    return out


def _known(player: str, path: str) -> str | None:
    for (who, pattern), reason in KNOWN.items():
        if who in ("*", player) and re.search(pattern, path):
            return reason
    return None


def _paths(world) -> list[tuple[str, bool]]:
    paths = []
    for route, ns, name, cb in page_patterns():
        path = fill(route, ns, name, cb, world["params"])
        if path is not None:
            paths.append((path, False))
    return paths + [(p, True) for p in DOCS] + [(p, True) for p in api_gets(world["params"])]


def _same_for_everyone(path: str, player: str) -> bool:
    """The schema is the same for every account: fetched by two players only (it takes a third of a second)."""
    return path == "/api/v1/openapi.json" and player not in ("anonymous", "superuser")


def _readable(r) -> bool:
    """A page or JSON answer a person reads (so it has an English version), not a download or the schema."""
    ctype = r.get("Content-Type", "")
    return ("text/html" in ctype or "json" in ctype) and "attachment" not in r.get("Content-Disposition", "") \
        and r.request["PATH_INFO"] != "/api/v1/openapi.json"


@pytest.mark.parametrize("player", PLAYERS)
def test_every_page_and_api_list_answers_without_a_server_error(player, world, db):
    client = _client_for(world, player)
    signed_in = player != "anonymous"
    paths = _paths(world)
    failures, known, timings = [], [], []
    for lang in ("zh-hans", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
        readable = []
        for path, is_api in paths:
            if _same_for_everyone(path, player):
                continue
            t0 = time.perf_counter()
            r = client.get(path)
            timings.append((time.perf_counter() - t0, lang, path))
            if _readable(r):
                readable.append((path, is_api))
            if lang == "zh-hans" and r.status_code == 200 and "text/html" in r.get("Content-Type", "") \
                    and not path.startswith("/admin/"):
                hx = client.get(path, headers={"HX-Request": "true"})  # the fragment a list's search swaps in
                for problem in _problems(path, hx, signed_in, False):
                    line = f"[htmx] GET {path}: {problem}"
                    (known if _known(player, path) else failures).append(line)
            for problem in _problems(path, r, signed_in, is_api and path not in DOCS, lang):
                line = f"[{lang}] GET {path}: {problem}"
                (known if _known(player, path) else failures).append(line)
            if lang != "zh-hans" and r.status_code == 200 and "text/html" in r.get("Content-Type", ""):
                assert r["Content-Language"] == lang, path
        paths = readable  # downloads and the schema are the same in every language: fetched once
    if os.environ.get("EVERY_PAGE_TIMINGS"):
        print(player, len(timings), round(sum(t for t, *_ in timings), 2), sorted(timings, reverse=True)[:8])
    assert not failures, f"{len(failures)} problems as {player}:\n" + "\n".join(failures)
    if known:
        pytest.xfail("; ".join(sorted({r for line in known if (r := _known(player, line.split(" ")[2]))})) +
                     "\n" + "\n".join(known))


def test_the_walk_covers_the_pages_that_matter(world, db):
    """The walk is not vacuous: it reaches the main pages of every app and many API lists."""
    paths = {fill(r, ns, n, cb, world["params"]) for r, ns, n, cb in page_patterns()}
    for must in ("/", "/residents/", f"/residents/{world['resident'].pk}/", "/referrals/",
                 f"/referrals/{world['referral'].pk}/", "/indicators/", "/encounters/imports/", "/audit/",
                 "/inbox/", "/orgs/facilities/", "/admin/", "/familydoctor/day/", "/familydoctor/ledger/",
                 "/familydoctor/assessment/", "/familydoctor/coverage/", "/chronic/ledger/", "/publichealth/",
                 f"/chronic/patients/{world['care']['enrolment']}/"):
        assert must in paths, must
    assert len(api_gets()) >= 8 and len(api_gets(world["params"])) >= 20





def test_generate_writes_the_accounts_file_that_its_printout_points_to(settings, tmp_path, monkeypatch):
    """`yigongti generate` says "the rest are in the accounts file": without --accounts-file it wrote none."""
    import django.core.management
    from click.testing import CliRunner

    import yigongti.demo.build
    from yigongti.cli import main

    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(django.core.management, "call_command", lambda *a, **k: None)
    monkeypatch.setattr(yigongti.demo.build, "build_demo", lambda **k: [
        {"role": "卫健局", "username": "bureau", "password": "pw", "where": "蓝山县", "recovery_codes": ["a1", "b2"]}])
    result = CliRunner().invoke(main, ["generate", "--population", "10"])
    assert result.exit_code == 0, result.output
    assert "账号文件" in result.output
    lines = (tmp_path / "demo-logins.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[1].split("\t")[1] == "bureau" and lines[1].endswith("a1 b2")


def test_an_annualised_figure_says_so_in_english():
    """N14 on the English dashboard showed "按2026年12月（31天）年化" untranslated."""
    from django.utils import translation

    from yigongti.indicators.templatetags.indicator_tags import note_text

    with translation.override("en"):
        assert note_text("按2026年12月（31天）年化") == "annualised from Dec 2026 (31 days)"
    with translation.override("zh-hans"):
        assert note_text("按2026年12月（31天）年化") == "按2026年12月（31天）年化"


def test_the_overdue_referrals_count_is_not_in_beds_in_english():
    """REF_OVERDUE's unit 张 (sheets) read "0 beds" on the English referral indicators page."""
    from django.utils import translation

    from yigongti.indicators.definitions import INDICATORS
    from yigongti.indicators.templatetags.indicator_tags import unit_text

    with translation.override("en"):
        assert unit_text(INDICATORS["REF_OVERDUE"].unit) == "referrals"


def test_the_outflow_table_scrolls_inside_its_box_on_a_phone(world, db):
    """At 390 px the outflow table pushed the page to 441 px and wrapped its monthly counts one digit a line."""
    client = _client_for(world, Role.BUREAU)
    page = client.get("/referrals/outflow/").content.decode()
    table = page.index('data-testid="outflow-table"')
    assert page.rfind('<div class="table-responsive">', 0, table) > page.rfind("</div>", 0, table)
    assert 'class="small text-muted text-nowrap"' in page or "该期间没有县外就医记录" in page
