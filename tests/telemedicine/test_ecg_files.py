"""The ECG package without the database: the simulator, the DICOM and aECG writers and readers, the automatic
measurements."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pytest

from yigongti.telemedicine.ecg import read as ecg_read
from yigongti.telemedicine.ecg.measure import measure
from yigongti.telemedicine.ecg.simulate import LEADS, twelve_lead
from yigongti.telemedicine.ecg.write import aecg_xml, dicom_ecg

PATIENT = {"id": "P0001", "name": "张三", "birth_date": "19580312", "sex": "M"}


def _mv(samples, uv):
    return samples.astype(float) * uv / 1000


def test_simulated_recording_is_ten_seconds_of_twelve_leads_at_500_hz_and_deterministic():
    samples, rate, uv = twelve_lead(7)
    assert samples.shape == (12, 5000) and samples.dtype == np.int16 and rate == 500 and uv == 2.5
    again, _, _ = twelve_lead(7)
    assert np.array_equal(samples, again)
    assert not np.array_equal(samples, twelve_lead(8)[0])
    mv = _mv(samples, uv)
    # the derived limb leads hold together as an electrocardiograph's do (Einthoven, Goldberger)
    i, ii, iii, avr, avl, avf = (mv[LEADS.index(x)] for x in ("I", "II", "III", "aVR", "aVL", "aVF"))
    assert np.allclose(iii, ii - i, atol=0.01) and np.allclose(avr, -(i + ii) / 2, atol=0.01)
    assert np.allclose(avl, i - ii / 2, atol=0.01) and np.allclose(avf, ii - i / 2, atol=0.01)
    # a resting ECG's amplitudes: R in II 0.5–2.5 mV; V1 mostly negative (rS), V6 positive (qR)
    assert 0.5 < mv[LEADS.index("II")].max() < 2.5
    assert mv[LEADS.index("V1")].min() < -0.5 and mv[LEADS.index("V6")].max() > 0.8


@pytest.mark.parametrize("seed,hr", [(1, 60), (2, 75), (3, 90), (4, 52)])
def test_measurements_find_the_rate_and_the_intervals(seed, hr):
    samples, rate, uv = twelve_lead(seed, hr=hr)
    m = measure(samples, rate, uv)
    assert abs(m["rate"] - hr) <= 2
    assert 120 <= m["pr"] <= 210
    assert 80 <= m["qrs"] <= 120
    assert 360 <= m["qtc"] <= 460  # the model: QTc 410 ms ± 3 %
    assert 0 <= m["axis"] <= 75
    assert all(abs(v) < 0.1 for v in m["st"].values())
    assert m["rhythm"] == ("窦性心动过缓" if hr < 60 else "窦性心律")


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_inferior_stemi_raises_st_in_ii_iii_avf_with_reciprocal_depression(seed):
    samples, rate, uv = twelve_lead(seed, stemi="inferior", hr=80)
    st = measure(samples, rate, uv)["st"]
    assert min(st["II"], st["III"], st["aVF"]) >= 0.15
    assert st["aVL"] <= -0.1


@pytest.mark.parametrize("seed", [21, 22, 23])
def test_anterior_stemi_raises_st_in_v1_to_v4_with_reciprocal_depression(seed):
    samples, rate, uv = twelve_lead(seed, stemi="anterior", hr=80)
    st = measure(samples, rate, uv)["st"]
    assert min(st["V1"], st["V2"], st["V3"], st["V4"]) >= 0.2
    assert st["III"] < 0 and st["aVF"] < 0.05


def test_unknown_stemi_pattern_is_refused():
    with pytest.raises(ValueError):
        twelve_lead(1, stemi="lateral-ish")


def test_dicom_round_trip_keeps_samples_gain_and_ids():
    import pydicom

    samples, rate, uv = twelve_lead(3, stemi="inferior")
    data = dicom_ecg(samples, rate, uv, "E26120200001", PATIENT)
    ds = pydicom.dcmread(io.BytesIO(data))
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.9.1.1" and ds.Modality == "ECG"
    assert ds.WaveformSequence[0].ChannelDefinitionSequence[0].ChannelSourceSequence[0].CodeValue == "5.6.3-9-1"
    # pydicom's own reading in µV agrees
    assert np.allclose(ds.waveform_array(0).T, samples * uv)
    rec = ecg_read.read(data, "ecg.dcm")
    assert rec.source_format == "dicom" and rec.accession_no == "E26120200001" and rec.patient_id == "P0001"
    assert rec.sample_rate == 500 and rec.microvolts_per_unit == 2.5 and rec.leads == LEADS
    assert np.array_equal(rec.samples, samples)
    assert type(rec.acquired_at) is dt.datetime and rec.acquired_at.tzinfo is not None and rec.sop_instance_uid


def test_eight_lead_dicom_gets_the_limb_leads_derived_and_channels_in_any_order():
    samples, rate, uv = twelve_lead(5)
    order = ["V6", "II", "V1", "I", "V2", "V5", "V3", "V4"]
    rows = samples[[LEADS.index(x) for x in order]]
    rec = ecg_read.read(dicom_ecg(rows, rate, uv, "E1", PATIENT, leads=order))
    assert rec.samples.shape == (12, 5000)
    assert np.abs(rec.samples.astype(int) - samples.astype(int)).max() <= 1


def test_aecg_round_trip():
    samples, rate, uv = twelve_lead(4, stemi="anterior")
    rec = ecg_read.read(aecg_xml(samples, rate, uv, "E26120200002", PATIENT))
    assert rec.source_format == "aecg" and rec.accession_no == "E26120200002"
    assert rec.sample_rate == 500 and rec.microvolts_per_unit == 2.5
    assert np.array_equal(rec.samples, samples) and rec.acquired_at is not None


def test_aecg_in_millivolts_with_a_coarser_scale_is_converted():
    samples, rate, uv = twelve_lead(4)
    xml = aecg_xml(samples, rate, uv, "E1", PATIENT).replace(b'<scale value="2.5" unit="uV"/>',
                                                              b'<scale value="0.005" unit="mV"/>')
    rec = ecg_read.read(xml)
    assert rec.microvolts_per_unit == pytest.approx(5.0)
    assert np.array_equal(rec.samples, samples)  # same integers, twice the gain


@pytest.mark.parametrize("data,reason", [
    (b"", "不是有效的"),
    (b"\x00" * 500, "不是有效的"),
    (b"<?xml version='1.0'?><html/>", "不是 HL7 aECG"),
    (b"<?xml version='1.0'?><AnnotatedECG xmlns='urn:hl7-org:v3'><id root='x'/></AnnotatedECG>", "没有波形序列"),
    (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><AnnotatedECG/>", "DTD"),
    (b"<?xml version='1.0'?><AnnotatedECG", "不是有效的 XML"),
])
def test_bad_files_are_refused_with_a_reason(data, reason):
    with pytest.raises(ecg_read.EcgFileError, match=reason):
        ecg_read.read(data)


def test_a_dicom_that_is_not_an_ecg_is_refused():
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"  # DX image
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.PatientID = "1"
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    with pytest.raises(ecg_read.EcgFileError, match="不是心电图波形"):
        ecg_read.read(out.getvalue())


def test_missing_leads_and_a_too_short_recording_are_refused():
    samples, rate, uv = twelve_lead(1)
    with pytest.raises(ecg_read.EcgFileError, match="缺少导联"):
        ecg_read.read(dicom_ecg(samples[:8], rate, uv, "E1", PATIENT, leads=LEADS[:8]))
    short, rate, uv = twelve_lead(1, seconds=1.0)
    with pytest.raises(ecg_read.EcgFileError, match="记录时长"):
        ecg_read.read(dicom_ecg(short, rate, uv, "E1", PATIENT))
    with pytest.raises(ecg_read.EcgFileError):
        ecg_read.read(dicom_ecg(samples, rate, uv, "E1", PATIENT)[:3000])  # truncated


def test_measurement_of_a_flat_line_gives_nothing_rather_than_failing():
    m = measure(np.zeros((12, 5000), dtype=np.int16), 500, 2.5)
    assert m["rate"] is None and m["qrs"] is None and m["rhythm"] == ""
