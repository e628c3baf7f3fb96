"""Prescribing end to end through the services: write, flag, review, dispense by lot with 追溯码, return."""

from __future__ import annotations

import pytest

from tests.cast import SYSTEM, as_
from tests.prescribing.world import line, rx_data
from yigongti.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from yigongti.core.models import AuditEvent
from yigongti.pharmacy import ledger
from yigongti.pharmacy.models import Movement, StockBalance, TraceCode
from yigongti.prescribing import queries, services
from yigongti.prescribing.models import Dispensing, Status

pytestmark = pytest.mark.django_db


def stock(facility, lot):
    return StockBalance.objects.get(facility=facility, lot=lot).quantity


def test_a_plain_prescription_is_dispensable_at_once_and_the_village_doctor_dispenses_it(cast, rx):
    p = services.create_prescription(as_(cast.village_doctor), rx_data(rx))
    assert p.status == Status.SUBMITTED and p.risk == 0 and p.findings == []
    assert p.age_years == 68 and p.conditions == []
    code = rx.codes[(cast.village_clinic.pk, "氨氯地平")][0]
    d = services.dispense(as_(cast.village_doctor), p, trace_codes=[code])
    p.refresh_from_db()
    assert p.status == Status.DISPENSED
    assert stock(cast.village_clinic, rx.lots["氨氯地平"]) == 9
    mv = Movement.objects.get(source=f"prescription:{p.pk}")
    assert mv.kind == "dispense" and mv.quantity == -1
    t = TraceCode.objects.get(code=code)
    assert t.status == "dispensed" and t.source == f"prescription:{p.pk}"
    assert [c.trace.code for c in d.lines.get().codes.all()] == [code]


def test_a_risky_prescription_waits_for_a_pharmacist_who_approves_it(cast, rx):
    data = rx_data(rx, cast.county_hospital, lines=[line(rx, "布洛芬", 200, "mg", "tid"),
                                                    line(rx, "华法林", 2.5, "mg")])
    p = services.create_prescription(as_(cast.county_doctor), data)
    assert p.status == Status.REVIEW_PENDING and p.risk == 4
    assert p.findings[0]["rule"] == "ddi.warfarin.nsaid"
    with pytest.raises(Conflict) as e:
        services.dispense(as_(rx.pharmacist), p)
    assert e.value.code == "review_pending"
    assert list(queries.review_queue(rx.pharmacist)) == [p]
    with pytest.raises(InvalidInput):
        services.review_prescription(as_(rx.pharmacist), p, decision="reject")
    with pytest.raises(Forbidden):
        services.review_prescription(as_(cast.county_doctor), p, decision="approve")
    p = services.review_prescription(as_(rx.pharmacist), p, decision="approve", reason="已告知监测INR")
    assert p.status == Status.APPROVED and p.reviews.get().pharmacist == rx.pharmacist
    services.dispense(as_(rx.pharmacist), p)
    assert stock(cast.county_hospital, rx.lots["布洛芬"]) == 9


def test_a_rejected_prescription_cannot_be_dispensed(cast, rx):
    data = rx_data(rx, lines=[line(rx, "氨氯地平", 10, "mg", "bid")])
    p = services.create_prescription(as_(cast.village_doctor), data)
    assert p.status == Status.REVIEW_PENDING
    services.review_prescription(as_(rx.pharmacist), p, decision="reject", reason="剂量过大")
    with pytest.raises(Conflict):
        services.dispense(as_(cast.village_doctor), p)


def test_a_village_clinic_cannot_prescribe_a_county_level_item(cast, rx):
    with pytest.raises(InvalidInput) as e:
        services.create_prescription(as_(cast.village_doctor), rx_data(rx, lines=[line(rx, "美罗培南", 500, "mg")]))
    assert "lines.0.item" in e.value.errors


def test_bad_input_names_each_field(cast, rx):
    with pytest.raises(InvalidInput) as e:
        services.create_prescription(as_(cast.village_doctor), rx_data(
            rx, diagnoses=["头痛"], lines=[{"item": rx.items["氨氯地平"].pk, "dose": "x", "frequency": "often",
                                            "days": 0}]))
    assert {"diagnoses", "lines.0.dose", "lines.0.frequency", "lines.0.days"} <= set(e.value.errors)


def test_only_doctors_of_the_facility_prescribe(cast, rx):
    with pytest.raises(Forbidden):
        services.create_prescription(as_(cast.township_doctor), rx_data(rx))  # at the village clinic
    with pytest.raises(Forbidden):
        services.create_prescription(as_(rx.pharmacist), rx_data(rx, cast.county_hospital))


def test_a_doctor_cannot_prescribe_for_a_resident_outside_their_scope(cast, rx):
    with pytest.raises(NotFound):
        services.create_prescription(as_(cast.village_doctor), rx_data(rx, resident=cast.neighbour.pk))


def test_a_bad_trace_code_is_refused_with_its_reason_and_nothing_moves(cast, rx):
    p = services.create_prescription(as_(cast.village_doctor), rx_data(rx))
    other_item = rx.codes[(cast.village_clinic.pk, "布洛芬")][0]
    elsewhere = rx.codes[(cast.county_hospital.pk, "氨氯地平")][0]
    for code, words in [("123", "20 位数字"), ("9" * 20, "未入库"), (other_item, "不在本处方"),
                        (elsewhere, "不在本机构")]:
        with pytest.raises(InvalidInput) as e:
            services.dispense(as_(cast.village_doctor), p, trace_codes=[code])
        assert e.value.code == "bad_trace_code" and words in e.value.message
    assert stock(cast.village_clinic, rx.lots["氨氯地平"]) == 10
    assert not Dispensing.objects.exists()


def test_more_codes_than_boxes_and_a_second_dispensing_are_refused(cast, rx):
    p = services.create_prescription(as_(cast.village_doctor), rx_data(rx))
    two = rx.codes[(cast.village_clinic.pk, "氨氯地平")][:2]
    with pytest.raises(InvalidInput):
        services.dispense(as_(cast.village_doctor), p, trace_codes=two)
    services.dispense(as_(cast.village_doctor), p, trace_codes=two[:1])
    with pytest.raises(Conflict):
        services.dispense(as_(cast.village_doctor), p)
    with pytest.raises(InvalidInput):  # the box has left
        p2 = services.create_prescription(as_(cast.village_doctor), rx_data(rx))
        services.dispense(as_(cast.village_doctor), p2, trace_codes=two[:1])


def test_out_of_stock_is_a_conflict_and_nothing_is_taken(cast, rx):
    p = services.create_prescription(as_(cast.village_doctor), rx_data(rx, lines=[
        line(rx, "氨氯地平", 5, "mg", quantity=1), line(rx, "布洛芬", 200, "mg", quantity=11)]))
    with pytest.raises(ledger.OutOfStock):
        services.dispense(as_(cast.village_doctor), p)
    assert stock(cast.village_clinic, rx.lots["氨氯地平"]) == 10


def test_an_e_prescription_is_dispensed_at_the_county_pharmacy(cast, rx):
    p = services.create_prescription(as_(cast.county_doctor), rx_data(
        rx, cast.county_hospital, source="ihospital", source_ref="consultation:7"))
    assert p.source == "ihospital" and p.encounter is None
    with pytest.raises(Forbidden):  # the township pharmacist is not at the dispensing facility
        services.dispense(as_(rx.township_pharmacist), p, facility=cast.county_hospital)
    services.dispense(as_(rx.pharmacist), p, facility=cast.county_hospital.pk)
    assert stock(cast.county_hospital, rx.lots["氨氯地平"]) == 9


def test_a_return_restores_stock_and_the_box(cast, rx):
    p = services.create_prescription(as_(cast.village_doctor), rx_data(rx, lines=[line(rx, "氨氯地平", 5, "mg",
                                                                                        quantity=2)]))
    code = rx.codes[(cast.village_clinic.pk, "氨氯地平")][0]
    d = services.dispense(as_(cast.village_doctor), p, trace_codes=[code])
    dl = d.lines.get(codes__isnull=False)  # the scanned box's line (the other box: FEFO, its own line)
    with pytest.raises(InvalidInput):
        services.return_dispensed(as_(cast.village_doctor), p, lines={dl.pk: 1}, reason="")
    services.return_dispensed(as_(cast.village_doctor), p, lines={dl.pk: 1}, reason="过敏停药", trace_codes=[code])
    p.refresh_from_db()
    assert p.status == Status.PARTLY_RETURNED
    assert stock(cast.village_clinic, rx.lots["氨氯地平"]) == 9
    assert TraceCode.objects.get(code=code).status == "in_stock"
    services.return_dispensed(as_(cast.village_doctor), p, reason="停药")
    p.refresh_from_db()
    assert p.status == Status.RETURNED and stock(cast.village_clinic, rx.lots["氨氯地平"]) == 10
    with pytest.raises(InvalidInput):
        services.return_dispensed(as_(cast.village_doctor), p, reason="再退")


def test_reads_are_scoped_and_audited(cast, rx):
    p = services.create_prescription(as_(cast.village_doctor), rx_data(rx))
    assert queries.get_prescription_for(as_(rx.pharmacist), p.pk) == p
    assert AuditEvent.objects.filter(action="view", object_type="prescription", object_id=str(p.pk)).exists()
    with pytest.raises(NotFound):
        queries.get_prescription_for(as_(cast.other_village_doctor), p.pk)
    with pytest.raises(NotFound):
        queries.get_prescription_for(as_(cast.outsider), p.pk)
    assert not queries.prescriptions_visible_to(cast.bureau).exists()


def test_a_pharmacist_edits_a_rule_and_the_next_review_uses_it(cast, rx):
    p = services.create_prescription(as_(cast.village_doctor), rx_data(rx, lines=[line(rx, "氨氯地平", 10, "mg")]))
    assert p.status == Status.SUBMITTED
    pack = services.pack_for(cast.community)
    rule = pack.rules.get(code="dose.amlodipine")
    with pytest.raises(InvalidInput) as e:
        services.update_rule(as_(rx.pharmacist), rule, {"params": '{"match": "generic:氨氯地平", "day_max": "x"}'})
    assert e.value.field == "params"
    with pytest.raises(Forbidden):
        services.update_rule(as_(cast.village_doctor), rule, {"params": rule.params})
    services.update_rule(as_(rx.pharmacist), rule, {"params": {**rule.params, "day_max": 5}})
    p = services.create_prescription(as_(cast.village_doctor), rx_data(rx, lines=[line(rx, "氨氯地平", 10, "mg")]))
    assert p.status == Status.REVIEW_PENDING and p.findings[0]["rule"] == "dose.amlodipine"


def test_the_month_sample_and_its_classification(cast, rx):
    import datetime as dt

    from django.utils import timezone

    from yigongti.prescribing.models import CommentClass

    for _i in range(3):
        services.create_prescription(as_(cast.village_doctor), rx_data(rx))
    month = timezone.localdate().replace(day=1)
    samples = services.draw_sample(as_(rx.pharmacist), cast.community, month)
    assert len(samples) == 3  # fewer than 100: all
    assert len(services.draw_sample(SYSTEM, cast.community, month)) == 3  # idempotent
    with pytest.raises(InvalidInput):
        services.classify_sample(as_(rx.pharmacist), samples[0], classification="excessive")
    services.classify_sample(as_(rx.pharmacist), samples[0], classification="excessive", note="无指征")
    services.classify_sample(as_(rx.pharmacist), samples[1], classification=CommentClass.RATIONAL)
    counts = queries.comment_counts(cast.community.pk, month, by="facility")
    assert counts[0]["sampled"] == 3 and counts[0]["excessive"] == 1 and counts[0]["rate"] == 50.0
    with pytest.raises(Forbidden):
        services.draw_sample(as_(cast.village_doctor), cast.community, month + dt.timedelta(days=40))


def test_the_indicators_count_reviews_antibiotics_and_the_comment_classes(cast, rx):
    from decimal import Decimal

    from django.utils import timezone

    from yigongti.indicators.periods import parse_period
    from yigongti.indicators.queries import REGISTRY_FIGURES, Area

    services.create_prescription(as_(cast.village_doctor), rx_data(rx))
    services.create_prescription(as_(cast.village_doctor), rx_data(rx, lines=[line(rx, "阿莫西林", 2, "粒", "tid")]))
    held = services.create_prescription(as_(cast.village_doctor), rx_data(rx, lines=[line(rx, "氨氯地平", 10, "mg",
                                                                                           "bid")]))
    services.review_prescription(as_(rx.pharmacist), held, decision="reject", reason="剂量过大")
    month = timezone.localdate().replace(day=1)
    s = services.draw_sample(as_(rx.pharmacist), cast.community, month)
    services.classify_sample(as_(rx.pharmacist), s[0], classification="inappropriate", note="剂量")
    county = Area("county", cast.county.code, cast.county.name, cast.county.prefix)
    period = parse_period(f"{month:%Y-%m}")
    assert REGISTRY_FIGURES["RX_ANTIBIOTIC"](county, period).value == Decimal("33.33")  # 1 of 3
    assert REGISTRY_FIGURES["RX_REVIEW_PASS"](county, period).value == 0
    assert REGISTRY_FIGURES["RX_FLAGGED"](county, period).value == Decimal("33.33")
    assert REGISTRY_FIGURES["RX_IRRATIONAL"](county, period).value == 100
    assert REGISTRY_FIGURES["RX_ESSENTIAL"](county, period).value == 100
