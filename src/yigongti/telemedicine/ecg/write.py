"""Files as electrocardiographs send them: a DICOM 12-Lead ECG Waveform Storage instance (PS3.3 A.34.3) and an
HL7 aECG document (HL7 v3 Annotated ECG), written from int16 samples with their gain. Used by the simulator,
the demo and the tests (the platform itself only reads them: ``ecg.read``)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np
from pydicom.uid import UID

from .simulate import LEADS

TWELVE_LEAD_ECG = UID("1.2.840.10008.5.1.4.1.1.9.1.1")
# SCP-ECG lead codes (PS3.16 CID 3001) as electrocardiographs label the channels
SCPECG_CODES: dict[str, tuple[str, str]] = {
    "I": ("5.6.3-9-1", "Lead I (Einthoven)"), "II": ("5.6.3-9-2", "Lead II"),
    "V1": ("5.6.3-9-3", "Lead V1"), "V2": ("5.6.3-9-4", "Lead V2"), "V3": ("5.6.3-9-5", "Lead V3"),
    "V4": ("5.6.3-9-6", "Lead V4"), "V5": ("5.6.3-9-7", "Lead V5"), "V6": ("5.6.3-9-8", "Lead V6"),
    "III": ("5.6.3-9-61", "Lead III"), "aVR": ("5.6.3-9-62", "aVR, augmented voltage, right"),
    "aVL": ("5.6.3-9-63", "aVL, augmented voltage, left"), "aVF": ("5.6.3-9-64", "aVF, augmented voltage, foot"),
}
AECG_CODES = {lead: f"MDC_ECG_LEAD_{lead}" for lead in LEADS}


def _patient(patient: Mapping[str, Any] | Any) -> dict[str, str]:
    get = patient.get if isinstance(patient, Mapping) else (lambda k, d="": getattr(patient, k, d))
    birth = get("birth_date", "") or ""
    if isinstance(birth, dt.date):
        birth = birth.strftime("%Y%m%d")
    sex = str(get("sex", "") or "")[:1].upper()
    return {"id": str(get("id", "") or ""), "name": str(get("name", "") or ""), "birth_date": str(birth),
            "sex": sex if sex in ("M", "F") else "O"}


def dicom_ecg(samples: np.ndarray, rate: int, uv: float, accession_no: str, patient: Mapping[str, Any] | Any,
              *, acquired_at: dt.datetime | None = None, leads: list[str] | None = None,
              station: str = "", manufacturer: str = "yigongti simulator") -> bytes:
    """A DICOM 12-lead ECG (explicit VR little endian) with one multiplex group "RHYTHM" of ``samples`` (int16,
    shape (channels, n)), each channel ``uv`` µV per unit. ``patient``: id, name, birth_date, sex (a mapping or
    an object with those attributes)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    leads = leads or LEADS
    data = np.asarray(samples, dtype="<i2")
    if data.ndim != 2 or data.shape[0] != len(leads):
        raise ValueError("samples must be (channels, n) with one row per lead")
    when = acquired_at or dt.datetime.now(dt.UTC)
    p = _patient(patient)

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = TWELVE_LEAD_ECG
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = TWELVE_LEAD_ECG
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "ECG"
    ds.Manufacturer = manufacturer
    ds.StationName = station[:16]
    ds.AccessionNumber = accession_no[:16]
    ds.PatientID = p["id"][:64]
    ds.PatientName = p["name"]
    ds.PatientBirthDate = p["birth_date"]
    ds.PatientSex = p["sex"]
    ds.StudyDate = when.strftime("%Y%m%d")
    ds.StudyTime = when.strftime("%H%M%S")
    ds.ContentDate = ds.StudyDate
    ds.ContentTime = ds.StudyTime
    ds.AcquisitionDateTime = when.strftime("%Y%m%d%H%M%S.%f") + "+0000"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.StudyID = "1"

    group = Dataset()
    group.MultiplexGroupTimeOffset = 0.0
    group.WaveformOriginality = "ORIGINAL"
    group.NumberOfWaveformChannels = data.shape[0]
    group.NumberOfWaveformSamples = data.shape[1]
    group.SamplingFrequency = rate
    group.MultiplexGroupLabel = "RHYTHM"
    channels = []
    for i, lead in enumerate(leads):
        code, meaning = SCPECG_CODES.get(lead, (lead, lead))
        source = Dataset()
        source.CodeValue = code
        source.CodingSchemeDesignator = "SCPECG"
        source.CodingSchemeVersion = "1.3"
        source.CodeMeaning = meaning
        units = Dataset()
        units.CodeValue = "uV"
        units.CodingSchemeDesignator = "UCUM"
        units.CodeMeaning = "microvolt"
        ch = Dataset()
        ch.WaveformChannelNumber = i + 1
        ch.ChannelLabel = lead
        ch.ChannelSourceSequence = [source]
        ch.ChannelSensitivity = f"{uv:g}"
        ch.ChannelSensitivityUnitsSequence = [units]
        ch.ChannelSensitivityCorrectionFactor = "1"
        ch.ChannelBaseline = "0"
        ch.ChannelTimeSkew = "0"
        ch.WaveformBitsStored = 16
        ch.FilterLowFrequency = "0.05"
        ch.FilterHighFrequency = "150"
        channels.append(ch)
    group.ChannelDefinitionSequence = channels
    group.WaveformBitsAllocated = 16
    group.WaveformSampleInterpretation = "SS"
    group.WaveformData = np.ascontiguousarray(data.T).tobytes()  # multiplexed: sample after sample
    ds.WaveformSequence = [group]

    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def aecg_xml(samples: np.ndarray, rate: int, uv: float, accession_no: str, patient: Mapping[str, Any] | Any,
             *, acquired_at: dt.datetime | None = None, leads: list[str] | None = None) -> bytes:
    """An HL7 aECG document (one rhythm series) of the same samples: SLIST_PQ digits with scale ``uv`` µV."""
    leads = leads or LEADS
    data = np.asarray(samples, dtype=np.int16)
    when = (acquired_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")
    p = _patient(patient)
    seqs = [
        '<component><sequence><code code="TIME_ABSOLUTE" codeSystem="2.16.840.1.113883.5.4"/>'
        f'<value xsi:type="GLIST_TS"><head value="{when}"/>'
        f'<increment value="{1 / rate:g}" unit="s"/></value></sequence></component>'
    ]
    for i, lead in enumerate(leads):
        digits = " ".join(map(str, data[i].tolist()))
        seqs.append(
            f'<component><sequence><code code="{AECG_CODES.get(lead, lead)}" codeSystem="2.16.840.1.113883.6.24"/>'
            f'<value xsi:type="SLIST_PQ"><origin value="0" unit="uV"/><scale value="{uv:g}" unit="uV"/>'
            f"<digits>{digits}</digits></value></sequence></component>")
    sex = {"M": "M", "F": "F"}.get(p["sex"], "UN")
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<AnnotatedECG xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<id root="{accession_no}"/><code code="93000" codeSystem="2.16.840.1.113883.6.12"/>'
        f'<effectiveTime><low value="{when}"/></effectiveTime>'
        '<componentOf><timepointEvent><componentOf><subjectAssignment><subject><trialSubject>'
        f'<id extension={quoteattr(p["id"])}/><subjectDemographicPerson><name>{_esc(p["name"])}</name>'
        f'<administrativeGenderCode code="{sex}"/><birthTime value="{p["birth_date"]}"/>'
        '</subjectDemographicPerson></trialSubject></subject></subjectAssignment></componentOf>'
        '</timepointEvent></componentOf>'
        '<component><series><code code="RHYTHM" codeSystem="2.16.840.1.113883.5.4"/>'
        f'<effectiveTime><low value="{when}"/></effectiveTime>'
        f'<component><sequenceSet>{"".join(seqs)}</sequenceSet></component></series></component>'
        "</AnnotatedECG>")
    return xml.encode()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
