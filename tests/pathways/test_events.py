"""The catalogue of time points: every kind has its timeline, codes are unique per kind, subtypes and arrival
modes select the points that apply, and every metric is measured between points the catalogue knows."""

from yigongti.pathways import events, metrics
from yigongti.pathways.models import PathwayKind


def test_every_pathway_kind_has_a_timeline_in_order():
    assert set(events.KINDS) == set(PathwayKind.values)
    for kind in events.KINDS:
        defs = events.catalogue(kind)
        codes = [d.code for d in defs]
        assert len(codes) == len(set(codes)), kind
        assert [d.order for d in defs] == sorted(d.order for d in defs)
        assert "door" in codes and "discharge" in codes


def test_the_fallback_codes_of_the_demo_exist():
    known = {d.code for defs in events.CATALOGUE.values() for d in defs}
    for code in ("fmc", "first_ecg", "ecg_diagnosis", "door", "door_out", "cath_lab_activation", "wire", "needle",
                 "ct", "puncture", "resuscitation", "theatre"):
        assert code in known


def test_labels_are_chinese_and_unknown_codes_fall_back_to_the_code():
    assert events.label("chest_pain", "wire") == "导丝通过"
    assert events.label("stroke", "needle") == "静脉溶栓开始"
    assert events.label("stroke", "wire") == "wire"
    assert not events.is_known("stroke", "wire")


def test_where_a_point_is_captured():
    assert events.get("chest_pain", "first_ecg").captured == events.Captured.TELEMEDICINE
    assert events.get("chest_pain", "troponin").captured == events.Captured.LAB
    assert events.get("stroke", "ct").captured == events.Captured.IMAGING
    assert events.get("chest_pain", "fmc").captured == events.Captured.EMERGENCY
    assert events.get("chest_pain", "wire").captured == events.Captured.MANUAL
    assert events.get("chest_pain", "wire").captured_label == "现场按钮"
    assert ("chest_pain", "troponin") in events.captured_at(events.Captured.LAB)


def test_subtype_selects_its_points():
    stemi = {d.code for d in events.catalogue("chest_pain", "stemi")}
    dissection = {d.code for d in events.catalogue("chest_pain", "aortic_dissection")}
    assert {"wire", "cath_lab_activation", "needle"} <= stemi
    assert "cta" not in stemi
    assert "cta" in dissection and "wire" not in dissection
    haemorrhagic = {d.code for d in events.catalogue("stroke", "haemorrhagic")}
    assert "needle" not in haemorrhagic and "neurosurgery" in haemorrhagic
    # no subtype yet: everything the kind may need
    assert {"wire", "cta"} <= {d.code for d in events.catalogue("chest_pain")}


def test_door_in_door_out_points_only_for_transfers():
    ems = {d.code for d in events.catalogue("chest_pain", arrival_mode="ems")}
    transfer = {d.code for d in events.catalogue("chest_pain", arrival_mode="transfer")}
    assert "door_out" not in ems and {"first_door", "door_out"} <= transfer
    assert events.get("chest_pain", "door_out").at_first_facility


def test_next_events_are_those_not_recorded_in_order():
    nxt = events.next_events("stroke", {"onset", "call_120", "fmc", "door"}, subtype="ischaemic",
                             arrival_mode="ems")
    assert nxt[0].code == "stroke_team"
    assert "door" not in {d.code for d in nxt}


def test_subtypes_and_risk_colours():
    assert [c for c, _ in events.subtype_choices("chest_pain")] == ["stemi", "nstemi", "ua", "aortic_dissection",
                                                                    "pe"]
    assert events.subtype_choices("stroke")[0] == ("ischaemic", "缺血性卒中")
    assert set(events.RiskColour.values) == {"green", "yellow", "orange", "red", "purple"}


def test_every_metric_is_between_points_of_its_kind():
    for d in metrics.DEFS:
        assert events.is_known(d.kind, d.start), d.code
        assert events.is_known(d.kind, d.end), d.code
    assert len({d.code for d in metrics.DEFS}) == len(metrics.DEFS)
