"""The time metrics as pure functions of a case's time points: minutes, target, met; running while open; subtype
and arrival mode decide which apply; monthly compliance for the dashboards."""

import datetime as dt

import pytest

from yigongti.pathways import metrics

T0 = dt.datetime(2026, 11, 3, 8, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def by_code(ms):
    return {m.code: m for m in ms}


def test_stemi_by_ambulance_meets_its_targets():
    ev = {"fmc": at(0), "first_ecg": at(6), "ecg_diagnosis": at(12), "door": at(40), "cath_lab_activation": at(20),
          "cath_lab_ready": at(45), "wire": at(105)}
    m = by_code(metrics.case_metrics("chest_pain", ev, subtype="stemi", arrival_mode="ems"))
    assert m["fmc_to_ecg"].minutes == 6 and m["fmc_to_ecg"].met is True and m["fmc_to_ecg"].target_min == 10
    assert m["ecg_to_diagnosis"].minutes == 6 and m["ecg_to_diagnosis"].met
    assert m["d2w"].minutes == 65 and m["d2w"].met and m["d2w"].target_min == 90
    assert m["fmc_to_wire"].minutes == 105 and m["fmc_to_wire"].met
    assert m["activation_to_ready"].minutes == 25
    assert "dido" not in m  # came by ambulance, not by transfer
    assert "door_to_cta" not in m  # not a dissection


def test_target_boundary_is_inclusive_and_one_second_over_misses():
    exact = by_code(metrics.case_metrics("chest_pain", {"door": at(0), "wire": at(90)}, subtype="stemi"))
    assert exact["d2w"].met is True
    over = by_code(metrics.case_metrics("chest_pain", {"door": at(0), "wire": at(90) + dt.timedelta(seconds=6)},
                                        subtype="stemi"))
    assert over["d2w"].minutes == 90.1 and over["d2w"].met is False and over["d2w"].missed


def test_missing_start_or_end_is_pending_without_now():
    m = by_code(metrics.case_metrics("chest_pain", {"door": at(0)}, subtype="stemi"))
    assert m["d2w"].minutes is None and m["d2w"].met is None and not m["d2w"].done
    assert m["fmc_to_ecg"].minutes is None


def test_running_metric_counts_elapsed_and_misses_once_past_target():
    ev = {"door": at(0)}
    live = by_code(metrics.case_metrics("stroke", ev, subtype="ischaemic", now=at(30)))
    assert live["dnt"].running and live["dnt"].minutes == 30 and live["dnt"].met is None
    assert live["door_to_ct"].running and live["door_to_ct"].met is False  # 30 > 25: already missed
    late = by_code(metrics.case_metrics("stroke", ev, subtype="ischaemic", now=at(61)))
    assert late["dnt"].met is False and late["dnt"].running
    assert metrics.missed(late.values())


def test_clock_skew_never_gives_negative_elapsed():
    live = by_code(metrics.case_metrics("stroke", {"door": at(5)}, now=at(0)))
    assert live["dnt"].minutes == 0.0


def test_dnt_and_dpt_only_for_ischaemic_stroke():
    ev = {"onset": at(-90), "door": at(0), "ct": at(18), "needle": at(45), "puncture": at(95)}
    m = by_code(metrics.case_metrics("stroke", ev, subtype="ischaemic"))
    assert m["door_to_ct"].met and m["dnt"].minutes == 45 and m["dnt"].met
    assert m["dpt"].minutes == 95 and m["dpt"].met is False
    assert m["onset_to_door"].minutes == 90 and m["onset_to_door"].met is None  # shown, not judged
    h = by_code(metrics.case_metrics("stroke", ev, subtype="haemorrhagic"))
    assert "dnt" not in h and "dpt" not in h and "door_to_ct" in h


def test_dido_at_the_transferring_township():
    ev = {"first_door": at(0), "door_out": at(42), "door": at(80), "wire": at(140)}
    m = by_code(metrics.case_metrics("chest_pain", ev, subtype="stemi", arrival_mode="transfer"))
    assert m["dido"].minutes == 42 and m["dido"].met is False
    assert m["d2w"].minutes == 60 and m["d2w"].met


def test_trauma_maternal_neonatal_metrics():
    t = by_code(metrics.case_metrics("trauma", {"door": at(0), "trauma_team": at(4), "resuscitation": at(6),
                                                "ct": at(28), "theatre": at(75)}))
    assert t["door_to_resuscitation"].met and t["door_to_ct_trauma"].met and t["door_to_theatre"].met is False
    mat = by_code(metrics.case_metrics("maternal", {"door": at(0), "obstetric_team": at(8),
                                                    "pph_diagnosis": at(10), "transfusion": at(35),
                                                    "decision_csection": at(12), "delivery": at(40)},
                                       subtype="pph"))
    assert mat["door_to_obstetric_team"].met and mat["pph_to_transfusion"].minutes == 25
    assert mat["ddi"].minutes == 28 and mat["ddi"].met
    neo = by_code(metrics.case_metrics("neonatal", {"birth": at(0), "resuscitation": at(2),
                                                    "transfer_request": at(10), "team_depart": at(25)}))
    assert neo["birth_to_resuscitation"].met is False and neo["request_to_depart"].met


def test_targets_are_configurable(settings):
    settings.YIGONGTI_PATHWAY_TARGETS = {"d2w": 60}
    m = by_code(metrics.case_metrics("chest_pain", {"door": at(0), "wire": at(65)}, subtype="stemi"))
    assert m["d2w"].target_min == 60 and m["d2w"].met is False


def test_unknown_kind_has_no_metrics():
    assert metrics.case_metrics("dental", {"door": at(0)}) == []


def test_compliance_counts_finished_metrics_only():
    cases = [metrics.case_metrics("chest_pain", {"door": at(0), "wire": at(m)}, subtype="stemi")
             for m in (60, 70, 80, 100)]
    cases.append(metrics.case_metrics("chest_pain", {"door": at(0)}, subtype="stemi", now=at(200)))  # running
    c = metrics.compliance(cases)["d2w"]
    assert c.n == 4 and c.met == 3 and c.rate == 0.75
    assert c.median_min == 75 and c.p90_min == pytest.approx(94.0)
    assert "fmc_to_ecg" not in metrics.compliance(cases)


def test_monthly_groups_by_month_in_order():
    nov = metrics.case_metrics("stroke", {"door": at(0), "needle": at(50)}, subtype="ischaemic")
    dec = metrics.case_metrics("stroke", {"door": at(0), "needle": at(70)}, subtype="ischaemic")
    out = metrics.monthly([(dt.date(2026, 12, 1), dec), (dt.date(2026, 11, 5), nov), (dt.date(2026, 11, 9), nov)])
    assert list(out) == ["2026-11", "2026-12"]
    assert out["2026-11"]["dnt"].n == 2 and out["2026-11"]["dnt"].rate == 1.0
    assert out["2026-12"]["dnt"].rate == 0.0


def test_rate_is_none_without_target():
    c = metrics.compliance([metrics.case_metrics("stroke", {"onset": at(0), "door": at(100)})])
    assert c["onset_to_door"].rate is None and c["onset_to_door"].n == 1


def test_an_alternative_treatment_does_not_run_against_the_clock():
    live = by_code(metrics.case_metrics("chest_pain", {"door": at(0)}, subtype="stemi", now=at(45)))
    assert live["d2w"].running and live["d2n_chest"].minutes is None and not live["d2n_chest"].running
    done = by_code(metrics.case_metrics("chest_pain", {"door": at(0), "needle": at(40)}, subtype="stemi"))
    assert done["d2n_chest"].minutes == 40 and done["d2n_chest"].met is False
    stroke = by_code(metrics.case_metrics("stroke", {"door": at(0)}, subtype="ischaemic", now=at(100)))
    assert stroke["dnt"].running and stroke["dnt"].met is False and not stroke["dpt"].running
