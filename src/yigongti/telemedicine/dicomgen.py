"""Synthetic, small, valid DICOM studies for the tests and the demo (CR/DX chest films, CT head slices).

The images are drawn from a few ellipses (a thorax with two lungs, a heart and a spine; a skull with the brain
and ventricles), 12-bit greyscale, uncompressed little-endian, with the tags a PACS and a reader need: the
patient, the accession number the order was given (the key that matches the study to the order), the study,
series and SOP instance UIDs (derived from the accession number, so a study is the same every time it is
generated), modality, body part, window centre/width. Nothing here is a real patient."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    UID,
    ComputedRadiographyImageStorage,
    CTImageStorage,
    DigitalXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    generate_uid,
)

SOP_CLASS = {"DX": DigitalXRayImageStorageForPresentation, "CR": ComputedRadiographyImageStorage,
             "CT": CTImageStorage}
BODY_PART = {"DX": "CHEST", "CR": "CHEST", "CT": "HEAD"}
DESCRIPTION = {"DX": "胸部正位 DR", "CR": "胸部正位 CR", "CT": "头颅 CT 平扫"}


def _ellipse(h: int, w: int, cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    y, x = np.ogrid[:h, :w]
    return ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1.0


def chest_pixels(size: int = 256, seed: int = 0) -> np.ndarray:
    """A chest film: bright soft tissue, dark lungs, the heart shadow and the spine (uint16, 12 bits)."""
    rng = np.random.default_rng(seed)
    h = w = size
    img = np.full((h, w), 300.0)
    img[_ellipse(h, w, h * 0.55, w * 0.5, h * 0.48, w * 0.46)] = 2600
    for side in (0.3, 0.7):
        img[_ellipse(h, w, h * 0.5, w * side, h * 0.3, w * 0.17)] = 900
    img[_ellipse(h, w, h * 0.62, w * 0.55, h * 0.15, w * 0.15)] = 2400
    img[:, int(w * 0.47):int(w * 0.53)] = np.maximum(img[:, int(w * 0.47):int(w * 0.53)], 3200)
    img += rng.normal(0, 40, (h, w))
    return np.clip(img, 0, 4095).astype(np.uint16)


def head_pixels(size: int = 128, z: float = 0.5, seed: int = 0) -> np.ndarray:
    """A CT head slice at relative height ``z`` (0..1): skull, brain, ventricles; stored as HU + 1024."""
    rng = np.random.default_rng(seed)
    h = w = size
    scale = max(0.35, 1.0 - abs(z - 0.5) * 1.2)
    img = np.full((h, w), -1000.0)
    img[_ellipse(h, w, h / 2, w / 2, h * 0.45 * scale, w * 0.38 * scale)] = 1000
    img[_ellipse(h, w, h / 2, w / 2, h * 0.41 * scale, w * 0.34 * scale)] = 35
    if 0.3 < z < 0.7:
        for side in (0.45, 0.55):
            img[_ellipse(h, w, h * 0.48, w * side, h * 0.1 * scale, w * 0.03)] = 5
    img += rng.normal(0, 4, (h, w))
    return np.clip(img + 1024, 0, 4095).astype(np.uint16)


def _uid(*parts: object) -> UID:
    return generate_uid(entropy_srcs=[str(p) for p in parts])


def instance(accession_no: str, patient_id: str, patient_name: str, modality: str = "DX", index: int = 0, n: int = 1,
             *, description: str = "", when: dt.datetime | None = None, sex: str = "", birth_date: str = "",
             station_ae: str = "", study_uid: str = "", seed: int = 0) -> bytes:
    """One DICOM instance (Part 10 bytes) of a synthetic study."""
    modality = modality.upper()
    if modality not in SOP_CLASS:
        raise ValueError(f"unsupported modality {modality!r}")
    when = when or dt.datetime(2026, 1, 1, 9, 0)
    study_uid = UID(study_uid) if study_uid else _uid("study", accession_no, patient_id)
    series_uid = _uid("series", study_uid, modality)
    sop_uid = _uid("sop", series_uid, index)
    sop_class = SOP_CLASS[modality]

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = _uid("yigongti-dicomgen")
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"  # UTF-8: Chinese names and descriptions
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.Modality = modality
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientSex = sex
    ds.PatientBirthDate = birth_date
    ds.AccessionNumber = accession_no
    ds.StudyID = accession_no[-16:]
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = when.strftime("%Y%m%d")
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = when.strftime("%H%M%S")
    ds.StudyDescription = description or DESCRIPTION[modality]
    ds.SeriesDescription = ds.StudyDescription
    ds.BodyPartExamined = BODY_PART[modality]
    ds.Manufacturer = "yigongti synthetic"
    ds.StationName = station_ae or "SYNTH"
    ds.InstitutionName = ""
    ds.ReferringPhysicianName = ""
    ds.SeriesNumber = 1
    ds.InstanceNumber = index + 1
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.ConversionType = "SYN"
    if modality == "CT":
        pixels = head_pixels(128, z=(index + 0.5) / max(n, 1), seed=seed + index)
        ds.SliceThickness = 5.0
        ds.ImagePositionPatient = [0.0, 0.0, float(index * 5)]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.SliceLocation = float(index * 5)
        ds.PixelSpacing = [1.8, 1.8]
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        ds.WindowCenter = 40
        ds.WindowWidth = 80
        ds.KVP = 120
    else:
        pixels = chest_pixels(256, seed=seed + index)
        ds.PixelSpacing = [1.4, 1.4]
        ds.ImagerPixelSpacing = [1.4, 1.4]
        ds.WindowCenter = 1800
        ds.WindowWidth = 3600
        ds.ViewPosition = "PA"
        ds.PresentationIntentType = "FOR PRESENTATION"
        ds.PatientOrientation = ["L", "F"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = pixels.tobytes()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def study(accession_no: str, patient_id: str, patient_name: str, modality: str = "DX", n: int = 1, *,
          description: str = "", when: dt.datetime | None = None, sex: str = "", birth_date: str = "",
          station_ae: str = "", seed: int = 0) -> list[bytes]:
    """A synthetic study of ``n`` instances (DX/CR: films of one series; CT: ``n`` axial head slices)."""
    study_uid = _uid("study", accession_no, patient_id)
    return [instance(accession_no, patient_id, patient_name, modality, i, n, description=description, when=when,
                     sex=sex, birth_date=birth_date, station_ae=station_ae, study_uid=study_uid, seed=seed)
            for i in range(max(1, n))]
