"""The demo county's year of the shared diagnosis centers is consistent with its encounters, its critical values
run the whole loop, and the worklists have work on the demo's day."""

import datetime as dt
import re
from collections import Counter
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from yigongti.demo.build import build_demo, demo_now
from yigongti.orgs.models import User
from yigongti.telemedicine import critical as rules
from yigongti.telemedicine.models import (
    CatalogItem,
    Center,
    CenterMember,
    Consultation,
    CriticalEvent,
    CriticalFinding,
    CriticalRule,
    CriticalValue,
    Device,
    EcgRecording,
    ImagingStudy,
    LabResult,
    Order,
    OrderEvent,
    Recognition,
    Report,
    Specimen,
)

TODAY = dt.date(2026, 11, 20)
ACCESSION = re.compile(r"^[ERLPC]\d{6}\d{5}$")


def test_the_demo_county_runs_its_diagnosis_centers_for_a_year(transactional_db):
    logins = build_demo(population=3000, seed=7, today=TODAY)
    now = demo_now(TODAY)
    names = {row["username"] for row in logins}
    assert {"ecg_reader", "imaging_reader", "lab_tech", "pathologist", "specialist", "center_director"} <= names

    # five centers at the lead hospital, each with readers; the director supervises and reviews all of them
    centers = {c.kind: c for c in Center.objects.select_related("community__lead_facility")}
    assert set(centers) == {"ecg", "imaging", "lab", "pathology", "consultation"}
    assert all(c.facility_id == c.community.lead_facility_id and c.duty_doctor_id for c in centers.values())
    director = User.objects.get(username="center_director")
    assert CenterMember.objects.filter(user=director, is_supervisor=True, can_review=True).count() == 5
    assert CenterMember.objects.filter(user__username="ecg_reader", center=centers["ecg"]).exists()
    assert CatalogItem.objects.filter(code__in=["ECG12", "DX-CHEST", "CT-HEAD", "CBC", "CHEM", "COAG", "TROP",
                                                "PATH-BIOPSY", "CONS-CARD"]).count() == 9
    assert CriticalRule.objects.filter(facility__isnull=True).count() >= 10  # the app's default table
    assert CriticalRule.objects.filter(facility__isnull=False).exclude(override_reason="").exists()
    assert CriticalFinding.objects.filter(stemi=True).exists()

    # devices: an ECG machine and a DR at every township center, ECGs at ~60 % of village clinics, CT at the county
    from yigongti.orgs.models import Facility

    towns = Facility.objects.filter(type__in=["C210", "C220"])
    assert all(Device.objects.filter(facility=t, kind="ecg").exists() and
               Device.objects.filter(facility=t, modality="DX").exists() for t in towns)
    villages = Facility.objects.filter(type="D600").count()
    with_ecg = Device.objects.filter(facility__type="D600", kind="ecg").values("facility").distinct().count()
    assert 0.45 < with_ecg / villages < 0.75
    assert Device.objects.filter(facility__type="A100", modality="CT").exists()
    assert Device.objects.filter(kind="analyser").exclude(analyser_id="").count() == Device.objects.filter(
        kind="analyser").count()

    # orders are consistent with the encounters they come from
    orders = Order.objects.all()
    assert orders.count() > 1500
    assert all(ACCESSION.match(a) for a in orders.values_list("accession_no", flat=True))
    bad = orders.filter(encounter__isnull=False).exclude(resident_id=models_F("encounter__resident_id"))
    assert not bad.exists()
    assert not orders.filter(encounter__isnull=False).exclude(facility_id=models_F("encounter__facility_id")).exists()
    assert not orders.exclude(ordered_by__facility_id=models_F("facility_id")).exists()
    for o in orders.filter(encounter__isnull=False).select_related("encounter")[:300]:
        day = timezone.localtime(o.ordered_at).date()
        assert o.encounter.admit_date <= day <= o.encounter.admit_date + dt.timedelta(days=4)
        assert o.area_code == o.encounter.area_code
    by_level = Counter(orders.values_list("facility__type", flat=True))
    assert by_level["D600"] and (by_level["C210"] + by_level["C220"]) and by_level["A100"]
    # village ECGs come from clinics with an ECG machine
    assert not orders.filter(kind="ecg", facility__type="D600").exclude(
        facility__diagnostic_devices__kind="ecg").exists()

    # reports and results: every read order of ECG, imaging, pathology has a report; lab orders have results
    done = orders.filter(status__in=["reported", "reviewed"])
    assert not done.filter(kind__in=["ecg", "imaging", "pathology"], report__isnull=True).exists()
    assert not done.filter(kind="lab", results__isnull=True).exists()
    assert not orders.filter(status="reviewed", reviewed_at__isnull=True).exists()
    assert Report.objects.filter(reviewer__isnull=False).exclude(reviewer_id=models_F("reader_id")).count() == \
        Report.objects.filter(reviewer__isnull=False).count()
    assert OrderEvent.objects.filter(kind="ordered").count() == orders.count()
    assert Specimen.objects.exists() and ImagingStudy.objects.filter(status="matched").exists()
    assert Recognition.objects.filter(decision="recognised").exists()
    assert Recognition.objects.filter(decision="repeated").exists()
    assert Consultation.objects.filter(status="answered").exclude(opinion="").exists()

    # within the turnaround target mostly, but not always
    reported = done.exclude(kind="lab").values_list("ordered_at", "reported_at", "due_at")
    within = sum(1 for _o, r, d in reported if r <= d)
    assert 0.8 < within / len(reported) < 0.99

    # lab critical values are exactly what the rules say
    table = [rules.Rule(r.pk, str(r.analyte_id), r.unit, r.low, r.high, r.population, r.sex, r.patient_group,
                        r.first_only, r.effective_from, r.effective_to, r.facility_id)
             for r in CriticalRule.objects.all()]
    crit = LabResult.objects.filter(flag__in=["LL", "HH"]).select_related("order__resident", "order__facility",
                                                                          "analyte")
    assert crit.exists()
    for res in crit:
        o = res.order
        observed_on = timezone.localtime(res.observed_at).date()
        patient = rules.Patient(rules.age_in_days(o.resident.birth_date, observed_on), o.resident.sex,
                                frozenset(o.resident.tags.values_list("tag", flat=True)))
        verdict = rules.evaluate(Decimal(res.value), "", res.unit, [r for r in table if r.analyte ==
                                 str(res.analyte_id)], patient, observed_on,
                                 [o.facility_id] + ([o.facility.parent_id] if o.facility.parent_id else []),
                                 res.analyte.unit_factors)
        assert verdict is not None and verdict.flag == res.flag
        assert CriticalValue.objects.filter(result=res).exists()

    # the loop: every value detected and notified; acknowledged ones read back; some late and escalated
    values = CriticalValue.objects.all()
    assert values.count() >= 15
    kinds = Counter(values.values_list("kind", flat=True))
    assert kinds["lab"] and kinds["ecg"]
    for cv in values.annotate(n=Count("events")):
        ev = set(cv.events.values_list("kind", flat=True))
        assert {"detected", "notified"} <= ev
        if cv.acknowledged_at:
            assert "acknowledged" in ev and cv.read_back and cv.acknowledged_at >= cv.detected_at
        if cv.status == "closed":
            assert {"acknowledged", "action", "closed"} <= ev and cv.action_kind
        if cv.level:
            assert ev & {"escalated", "alert_120"}
    assert values.filter(level__gte=1, acknowledged_at__isnull=False).exists()  # acknowledged late, escalated
    assert CriticalEvent.objects.filter(kind="escalated", to__role="facility_admin").exists()
    # several STEMIs from the townships and villages, each offered the green channel
    stemi = values.filter(finding__stemi=True, facility__type__in=["C210", "C220", "D600"])
    assert stemi.count() >= 3
    assert stemi.filter(status="closed", action_kind="referral").exists()

    # ECG recordings: real 12-lead samples, STEMIs among them, measurements as the service stores them
    rec = EcgRecording.objects.filter(order__critical=True).first()
    assert rec is not None and len(rec.leads) == 12 and len(bytes(rec.samples)) == 12 * rec.n_samples * 2
    assert rec.sample_rate == 500 and rec.measurements.get("version") == 1 and len(rec.measurements) > 3

    # live work on the demo's day: every center's worklist has open orders, some overdue
    start = now - dt.timedelta(hours=12)
    for kind in ("ecg", "imaging", "lab", "pathology"):
        open_ = orders.filter(center=centers[kind], status__in=["ordered", "acquired", "in_progress"])
        assert open_.exists(), kind
    assert orders.filter(status__in=["ordered", "acquired", "in_progress"], ordered_at__gte=start).count() >= 10
    assert orders.filter(status__in=["ordered", "acquired", "in_progress"], due_at__lt=now).exists()
    village = User.objects.get(username="village_doctor")
    live_stemi = orders.get(ordered_by=village, status="acquired", urgency="emergency", kind="ecg")
    assert EcgRecording.objects.filter(order=live_stemi).exists()
    township = User.objects.get(username="township_doctor")
    assert values.filter(notified_to=township, status="notified", ack_due_at__gt=now).exists()
    assert Consultation.objects.filter(status__in=["requested", "scheduled"]).exists()
    from yigongti.core.models import Job

    assert Job.objects.filter(kind="telemedicine.escalate", status="due").exists()


def models_F(name):
    from django.db.models import F

    return F(name)
