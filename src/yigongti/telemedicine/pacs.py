"""The Orthanc REST client (the PACS runs as its own service, spoken to over HTTP, never imported).

``client()`` gives an ``Orthanc`` built from the settings (``YIGONGTI_ORTHANC_URL``, ``_USER``, ``_PASSWORD``), or
``None`` when no PACS is configured — callers then say so instead of failing. Only what the platform needs:
upload an instance, read the change log (``/changes``: ``StableStudy`` means a study stopped receiving images),
a study with its series and instances, an instance's tags and reception metadata, and its preview rendered as
a JPEG of a given size. DICOMweb and the viewer stay Orthanc's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings

TIMEOUT = (2.0, 15.0)  # connect, read (seconds)


class PacsError(Exception):
    """Orthanc did not answer, or answered with an error."""


@dataclass
class Change:
    seq: int
    kind: str  # NewInstance, StableStudy, …
    resource: str  # Instance, Series, Study, Patient
    orthanc_id: str


@dataclass
class StudyInfo:
    orthanc_id: str
    study_instance_uid: str
    accession_no: str
    patient_id: str
    patient_name: str
    study_date: str  # YYYYMMDD or ""
    description: str
    modalities: list[str] = field(default_factory=list)
    series: list[str] = field(default_factory=list)
    instances: list[str] = field(default_factory=list)  # ordered by series number, then instance number
    source_ae: str = ""
    stable: bool = False


class Orthanc:
    def __init__(self, url: str, user: str = "", password: str = "", viewer_url: str = "") -> None:
        self.url = url.rstrip("/")
        self.viewer_url = (viewer_url or url).rstrip("/")
        self.session = requests.Session()
        if user:
            self.session.auth = (user, password)

    # -- plumbing --------------------------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kw: Any) -> requests.Response:
        try:
            r = self.session.request(method, f"{self.url}{path}", timeout=kw.pop("timeout", TIMEOUT), **kw)
        except requests.RequestException as e:
            raise PacsError(f"PACS unreachable: {e.__class__.__name__}") from e
        if r.status_code >= 400:
            raise PacsError(f"PACS {method} {path}: HTTP {r.status_code}")
        return r

    def get_json(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params=params or None).json()

    def ping(self) -> bool:
        try:
            self.get_json("/system")
        except PacsError:
            return False
        return True

    # -- writes ----------------------------------------------------------------------------------------------
    def upload(self, dicom: bytes) -> dict:
        """Store one DICOM instance (Part 10 bytes); returns Orthanc's answer (ID, ParentStudy, Status)."""
        return self._request("POST", "/instances", data=dicom,
                             headers={"Content-Type": "application/dicom"}).json()

    def delete_study(self, orthanc_id: str) -> None:
        self._request("DELETE", f"/studies/{orthanc_id}")

    # -- reads -----------------------------------------------------------------------------------------------
    def changes(self, since: int = 0, limit: int = 500) -> tuple[list[Change], int, bool]:
        """The change log after ``since``: (changes, last seq, done)."""
        data = self.get_json("/changes", since=since, limit=limit)
        out = [Change(c["Seq"], c["ChangeType"], c["ResourceType"], c["ID"]) for c in data.get("Changes", [])]
        return out, int(data.get("Last", since)), bool(data.get("Done", True))

    def last_change(self) -> int:
        return int(self.get_json("/changes", last="").get("Last", 0))

    def study_ids(self) -> list[str]:
        return list(self.get_json("/studies"))

    def study(self, orthanc_id: str) -> StudyInfo:
        """A study's identifiers and its instances in reading order (one request for the study, one for its
        instances with their tags)."""
        s = self.get_json(f"/studies/{orthanc_id}")
        tags = s.get("MainDicomTags", {})
        patient = s.get("PatientMainDicomTags", {})
        series = self.get_json(f"/studies/{orthanc_id}/series")
        modalities = sorted({x.get("MainDicomTags", {}).get("Modality", "") for x in series} - {""})
        number = {x["ID"]: _int(x.get("MainDicomTags", {}).get("SeriesNumber")) for x in series}
        instances = self.get_json(f"/studies/{orthanc_id}/instances")
        instances.sort(key=lambda i: (number.get(i.get("ParentSeries"), 0),
                                      _int(i.get("MainDicomTags", {}).get("InstanceNumber")), i["ID"]))
        ids = [i["ID"] for i in instances]
        source = ""
        if ids:
            try:
                source = self._request("GET", f"/instances/{ids[0]}/metadata/RemoteAET").text.strip()
            except PacsError:
                source = ""
        return StudyInfo(orthanc_id=orthanc_id, study_instance_uid=tags.get("StudyInstanceUID", ""),
                         accession_no=tags.get("AccessionNumber", "").strip(), patient_id=patient.get("PatientID", ""),
                         patient_name=patient.get("PatientName", ""), study_date=tags.get("StudyDate", ""),
                         description=tags.get("StudyDescription", ""), modalities=modalities,
                         series=[x["ID"] for x in series], instances=ids, source_ae=source,
                         stable=bool(s.get("IsStable", False)))

    def instance_tags(self, orthanc_id: str) -> dict:
        return self.get_json(f"/instances/{orthanc_id}/simplified-tags")

    def preview(self, orthanc_id: str, size: int = 0) -> bytes:
        """The instance rendered as a JPEG (windowed by Orthanc), at most ``size`` pixels wide and high."""
        path = f"/instances/{orthanc_id}/rendered" if size else f"/instances/{orthanc_id}/preview"
        params = {"width": size, "height": size, "smooth": 1} if size else None
        return self._request("GET", path, params=params, headers={"Accept": "image/jpeg"}).content

    def viewer_link(self, series_orthanc_id: str) -> str:
        """Orthanc's web viewer for a series (the full study is read there, with Orthanc's own login)."""
        return f"{self.viewer_url}/web-viewer/app/viewer.html?series={series_orthanc_id}"

    def explorer_link(self, study_orthanc_id: str) -> str:
        return f"{self.viewer_url}/app/explorer.html#study?uuid={study_orthanc_id}"


def _int(value: Any) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return 0


def configured() -> bool:
    return bool(getattr(settings, "YIGONGTI_ORTHANC_URL", ""))


_CLIENTS: dict[tuple[str, str, str], Orthanc] = {}


def client() -> Orthanc | None:
    """The configured Orthanc, or ``None`` when the PACS is not configured (one pooled session per settings)."""
    url = getattr(settings, "YIGONGTI_ORTHANC_URL", "")
    if not url:
        return None
    key = (url, getattr(settings, "YIGONGTI_ORTHANC_USER", ""), getattr(settings, "YIGONGTI_ORTHANC_PASSWORD", ""))
    if key not in _CLIENTS:
        _CLIENTS[key] = Orthanc(url, key[1], key[2], getattr(settings, "YIGONGTI_ORTHANC_VIEWER_URL", "") or url)
    return _CLIENTS[key]
