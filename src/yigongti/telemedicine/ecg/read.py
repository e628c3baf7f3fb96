"""Reading the files electrocardiographs send: a DICOM waveform (12-Lead ECG, General ECG; pydicom) or an HL7
aECG document (XML). Either becomes one ``Recording``: the twelve standard leads in the order of
``simulate.LEADS`` as int16 samples with one gain. A device that sends only the eight independent leads (I, II,
V1–V6) gets III, aVR, aVL and aVF derived (Einthoven, Goldberger), as every electrocardiograph prints them.

A file that is not an ECG, or whose leads, rate or samples do not make a resting ECG, raises ``EcgFileError``
with a Chinese reason (the service turns it into an InvalidInput)."""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np

from .simulate import LEADS

ECG_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.9.1.1": "12-lead",
    "1.2.840.10008.5.1.4.1.1.9.1.2": "general",
    "1.2.840.10008.5.1.4.1.1.9.1.3": "ambulatory",
}
MAX_SECONDS = 60
MIN_SECONDS = 2
INDEPENDENT = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]


class EcgFileError(ValueError):
    """The file is not a usable 12-lead ECG; the message says why (Chinese, or the request's language)."""


def _(message: str) -> str:
    """Django's gettext when Django is set up (the platform), the Chinese text as it is otherwise (scripts)."""
    from django.core.exceptions import AppRegistryNotReady, ImproperlyConfigured
    from django.utils.translation import gettext

    try:
        return gettext(message)
    except (ImproperlyConfigured, AppRegistryNotReady):  # settings not configured: a standalone script
        return message


@dataclass
class Recording:
    source_format: str  # "dicom" | "aecg"
    samples: np.ndarray  # int16, (12, n), rows in LEADS order
    sample_rate: int
    microvolts_per_unit: float
    sop_instance_uid: str = ""
    accession_no: str = ""
    patient_id: str = ""
    acquired_at: dt.datetime | None = None

    @property
    def leads(self) -> list[str]:
        return list(LEADS)

    @property
    def seconds(self) -> float:
        return self.samples.shape[1] / self.sample_rate


def read(data: bytes, filename: str = "") -> Recording:
    """The recording in ``data``: XML (aECG) by its first bytes, else DICOM."""
    head = data[:512].lstrip()
    if head.startswith(b"<?xml") or head.startswith(b"<AnnotatedECG") or filename.lower().endswith(".xml"):
        return read_aecg(data)
    return read_dicom(data)


# ---- lead names ------------------------------------------------------------------------------------------

_CANON = {name.upper(): name for name in LEADS}
_SCPECG = {"5.6.3-9-1": "I", "5.6.3-9-2": "II", "5.6.3-9-3": "V1", "5.6.3-9-4": "V2", "5.6.3-9-5": "V3",
           "5.6.3-9-6": "V4", "5.6.3-9-7": "V5", "5.6.3-9-8": "V6", "5.6.3-9-61": "III", "5.6.3-9-62": "aVR",
           "5.6.3-9-63": "aVL", "5.6.3-9-64": "aVF"}
# MDC codes (ISO/IEEE 11073-10101): MDC_ECG_LEAD_I = 2:1 …
_MDC = {"2:1": "I", "2:2": "II", "2:3": "V1", "2:4": "V2", "2:5": "V3", "2:6": "V4", "2:7": "V5", "2:8": "V6",
        "2:61": "III", "2:62": "aVR", "2:63": "aVL", "2:64": "aVF"}


def lead_name(*labels: str) -> str | None:
    """The standard lead a channel label or code names ("Lead II", "MDC_ECG_LEAD_AVF", "5.6.3-9-64" …)."""
    for label in labels:
        if not label:
            continue
        text = str(label).strip()
        if text in _SCPECG:
            return _SCPECG[text]
        if text in _MDC:
            return _MDC[text]
        t = text.upper().replace("MDC_ECG_LEAD_", "").replace("LEAD", "").replace("(EINTHOVEN)", "")
        t = re.split(r"[,;]", t)[0].strip().replace(" ", "")
        if t in _CANON:
            return _CANON[t]
    return None


def _twelve(by_lead: dict[str, np.ndarray]) -> np.ndarray:
    """The twelve leads (float, in units) from the channels found, deriving the limb leads if missing."""
    missing = [lead for lead in INDEPENDENT if lead not in by_lead]
    if missing:
        raise EcgFileError(_("缺少导联：%(leads)s（需要标准 12 导联心电图）") % {"leads": "、".join(missing)})
    i, ii = by_lead["I"].astype(float), by_lead["II"].astype(float)
    derived = {"III": ii - i, "aVR": -(i + ii) / 2, "aVL": i - ii / 2, "aVF": ii - i / 2}
    rows = [by_lead[lead].astype(float) if lead in by_lead else derived[lead] for lead in LEADS]
    return np.vstack(rows)


def _quantise(units: np.ndarray, uv: float) -> tuple[np.ndarray, float]:
    """int16 samples; a wider range is stored with a coarser step rather than clipped."""
    peak = float(np.max(np.abs(units))) if units.size else 0.0
    if peak > 32767:
        factor = peak / 32767
        units, uv = units / factor, uv * factor
    return np.rint(units).astype(np.int16), uv


def _check_shape(n: int, rate: float) -> int:
    if not rate or rate < 100 or rate > 10000:
        raise EcgFileError(_("采样率 %(rate)s Hz 不是静息心电图的采样率（100–10000 Hz）") % {"rate": f"{rate:g}"})
    seconds = n / rate
    if seconds < MIN_SECONDS or seconds > MAX_SECONDS:
        raise EcgFileError(_("记录时长 %(seconds)s 秒，静息心电图应为 %(min)s–%(max)s 秒")
                           % {"seconds": f"{seconds:.1f}", "min": MIN_SECONDS, "max": MAX_SECONDS})
    return round(rate)


# ---- DICOM -----------------------------------------------------------------------------------------------


def read_dicom(data: bytes) -> Recording:
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.waveforms.numpy_handler import multiplex_array

    try:
        ds = pydicom.dcmread(io.BytesIO(data))
        sop_class = str(ds.get("SOPClassUID", ""))
    except (InvalidDicomError, EOFError, ValueError, KeyError, TypeError, OSError, AttributeError) as e:
        raise EcgFileError(_("不是有效的 DICOM 或 HL7 aECG 心电图文件")) from e
    if sop_class not in ECG_SOP_CLASSES or "WaveformSequence" not in ds:
        raise EcgFileError(_("DICOM 文件不是心电图波形（需要 12-Lead ECG Waveform Storage）"))
    chosen = None
    for index, group in enumerate(ds.WaveformSequence):
        label = str(group.get("MultiplexGroupLabel", "")).upper()
        if int(group.get("NumberOfWaveformChannels", 0)) >= 8 and label != "MEDIAN":
            chosen = (index, group)
            break
    if chosen is None:
        raise EcgFileError(_("DICOM 心电图中没有至少 8 个导联的节律波形"))
    index, group = chosen
    try:
        raw = multiplex_array(ds, index, as_raw=True).T.astype(float)  # (channels, n)
    except (ValueError, KeyError, AttributeError, TypeError) as e:
        raise EcgFileError(_("DICOM 心电图的波形数据不完整")) from e
    rate = _check_shape(raw.shape[1], float(group.get("SamplingFrequency", 0) or 0))
    by_lead: dict[str, np.ndarray] = {}
    gains: dict[str, float] = {}
    for ch, definition in enumerate(group.ChannelDefinitionSequence):
        sources = definition.get("ChannelSourceSequence") or []
        code = sources[0] if sources else None
        name = lead_name(str(getattr(code, "CodeValue", "")), str(getattr(code, "CodeMeaning", "")),
                         str(definition.get("ChannelLabel", "")))
        if name is None or name in by_lead:
            continue
        sensitivity = float(definition.get("ChannelSensitivity", 1) or 1)
        correction = float(definition.get("ChannelSensitivityCorrectionFactor", 1) or 1)
        baseline = float(definition.get("ChannelBaseline", 0) or 0)
        unit_seq = definition.get("ChannelSensitivityUnitsSequence") or []
        unit = str(getattr(unit_seq[0], "CodeValue", "uV")) if unit_seq else "uV"
        to_uv = {"uV": 1.0, "mV": 1000.0, "V": 1e6}.get(unit, 1.0)
        gains[name] = sensitivity * correction * to_uv
        by_lead[name] = raw[ch] + baseline
    uv = min(gains.values()) if gains else 1.0
    scaled = {lead: values * gains[lead] / uv for lead, values in by_lead.items()}
    samples, uv = _quantise(_twelve(scaled), uv)
    when = None
    stamp = str(ds.get("AcquisitionDateTime", "") or "")
    if stamp:
        from pydicom.valuerep import DT

        try:
            parsed = DT(stamp)
            # a plain datetime (pydicom's DT prints as the DICOM string, which a database driver would send)
            when = dt.datetime(parsed.year, parsed.month, parsed.day, parsed.hour, parsed.minute, parsed.second,
                               parsed.microsecond, tzinfo=parsed.tzinfo or dt.UTC)
        except (ValueError, TypeError):
            when = None
    return Recording("dicom", samples, rate, uv, sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
                     accession_no=str(ds.get("AccessionNumber", "")), patient_id=str(ds.get("PatientID", "")),
                     acquired_at=when)


# ---- HL7 aECG --------------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xsi_type(el: ET.Element) -> str:
    for key, value in el.attrib.items():
        if _local(key) == "type":
            return value.split(":")[-1]
    return ""


def read_aecg(data: bytes) -> Recording:
    if b"<!DOCTYPE" in data[:2048] or b"<!ENTITY" in data[:4096]:
        raise EcgFileError(_("HL7 aECG 文件不能包含 DTD 或实体声明"))
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise EcgFileError(_("HL7 aECG 文件不是有效的 XML")) from e
    if _local(root.tag) != "AnnotatedECG":
        raise EcgFileError(_("XML 文件不是 HL7 aECG（AnnotatedECG）"))
    accession = ""
    for child in root:
        if _local(child.tag) == "id":
            accession = child.get("extension") or child.get("root") or ""
            break
    series = next((el for el in root.iter() if _local(el.tag) == "series"), None)
    if series is None:
        raise EcgFileError(_("HL7 aECG 中没有波形序列（series）"))
    rate = 0.0
    head_time = ""
    by_lead: dict[str, np.ndarray] = {}
    gains: dict[str, float] = {}
    for seq in (el for el in series.iter() if _local(el.tag) == "sequence"):
        code_el = next((c for c in seq if _local(c.tag) == "code"), None)
        value_el = next((c for c in seq if _local(c.tag) == "value"), None)
        if code_el is None or value_el is None:
            continue
        code = code_el.get("code", "")
        kind = _xsi_type(value_el)
        if code.startswith("TIME_"):
            for part in value_el:
                if _local(part.tag) == "increment":
                    step = float(part.get("value", "0") or 0)
                    unit = part.get("unit", "s")
                    step = step / 1000 if unit == "ms" else step
                    rate = 1.0 / step if step > 0 else 0.0
                elif _local(part.tag) == "head":
                    head_time = part.get("value", "")
            continue
        name = lead_name(code)
        if name is None or kind != "SLIST_PQ" or name in by_lead:
            continue
        origin, scale, digits = 0.0, 1.0, ""
        for part in value_el:
            tag = _local(part.tag)
            factor = {"uV": 1.0, "mV": 1000.0, "V": 1e6}.get(part.get("unit", "uV"), 1.0)
            if tag == "origin":
                origin = float(part.get("value", "0") or 0) * factor
            elif tag == "scale":
                scale = float(part.get("value", "1") or 1) * factor
            elif tag == "digits":
                digits = part.text or ""
        try:
            values = np.array(digits.split(), dtype=float)
        except ValueError as e:
            raise EcgFileError(_("导联 %(lead)s 的采样值不是数字") % {"lead": name}) from e
        gains[name] = scale
        by_lead[name] = values + origin / scale
    if not by_lead:
        raise EcgFileError(_("HL7 aECG 中没有可识别的导联"))
    lengths = {len(v) for v in by_lead.values()}
    if len(lengths) != 1:
        raise EcgFileError(_("HL7 aECG 各导联的样本数不一致"))
    rate_hz = _check_shape(lengths.pop(), rate)
    uv = min(gains.values())
    samples, uv = _quantise(_twelve({k: v * gains[k] / uv for k, v in by_lead.items()}), uv)
    when = None
    if re.fullmatch(r"\d{14}", head_time[:14]) and len(head_time) >= 14:
        when = dt.datetime.strptime(head_time[:14], "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    return Recording("aecg", samples, rate_hz, uv, accession_no=accession, acquired_at=when)
