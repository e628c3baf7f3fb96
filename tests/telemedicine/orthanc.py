"""A real Orthanc for the imaging tests, started by ``scripts/orthanc`` in a temporary directory on the test
ports (HTTP 28042, DICOM 24242; override with YIGONGTI_TEST_ORTHANC_HTTP_PORT / _DICOM_PORT), stopped at the end
of the session. Tests that use ``orthanc`` get a client configured in the settings and an empty PACS.

The fixtures ``orthanc_server`` and ``orthanc`` are registered for every test by ``tests/conftest.py``."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "orthanc"


@dataclass
class OrthancServer:
    url: str
    user: str
    password: str
    dicom_port: int


def _available() -> bool:
    return Path(os.environ.get("YIGONGTI_ORTHANC_BIN", "/usr/sbin/Orthanc")).exists() or bool(shutil.which("Orthanc"))


@pytest.fixture(scope="session")
def orthanc_server(tmp_path_factory):
    if not _available():
        pytest.skip("Orthanc is not installed (scripts/orthanc installs it when run as root)")
    env = {**os.environ, "YIGONGTI_ORTHANC_DIR": str(tmp_path_factory.mktemp("orthanc")),
           "YIGONGTI_ORTHANC_HTTP_PORT": os.environ.get("YIGONGTI_TEST_ORTHANC_HTTP_PORT", "28042"),
           "YIGONGTI_ORTHANC_DICOM_PORT": os.environ.get("YIGONGTI_TEST_ORTHANC_DICOM_PORT", "24242"),
           "YIGONGTI_ORTHANC_STABLE_AGE": "1"}
    subprocess.run([str(SCRIPT), "start"], env=env, check=True, capture_output=True, timeout=60)
    try:
        out = subprocess.run([str(SCRIPT), "env"], env=env, check=True, capture_output=True, text=True).stdout
        values = dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines() if "=" in line)
        yield OrthancServer(values["YIGONGTI_ORTHANC_URL"], values["YIGONGTI_ORTHANC_USER"],
                            values["YIGONGTI_ORTHANC_PASSWORD"], int(values["YIGONGTI_ORTHANC_DICOM_PORT"]))
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, check=False, capture_output=True, timeout=30)


@pytest.fixture
def orthanc(orthanc_server, settings, tmp_path):
    """The platform configured for the test Orthanc, emptied; yields the client."""
    from yigongti.telemedicine import pacs

    settings.YIGONGTI_ORTHANC_URL = orthanc_server.url
    settings.YIGONGTI_ORTHANC_USER = orthanc_server.user
    settings.YIGONGTI_ORTHANC_PASSWORD = orthanc_server.password
    settings.YIGONGTI_ORTHANC_VIEWER_URL = orthanc_server.url
    settings.DATA_DIR = tmp_path  # the thumbnail cache of this test
    client = pacs.client()
    assert client is not None
    for study_id in client.study_ids():
        client.delete_study(study_id)
    yield client


def wait_stable(client, orthanc_study_id: str, timeout: float = 15.0) -> None:
    """Until Orthanc calls the study stable (StableAge 1 s in the tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get_json(f"/studies/{orthanc_study_id}").get("IsStable"):
            return
        time.sleep(0.2)
    raise AssertionError("the study did not become stable in Orthanc")


def send(client, files: list[bytes], *, stable: bool = True) -> str:
    """Store a study's instances in Orthanc (as a modality's C-STORE would); the Orthanc study id."""
    study_id = ""
    for data in files:
        study_id = client.upload(data)["ParentStudy"]
    if stable:
        wait_stable(client, study_id)
    return study_id


def c_store(server: OrthancServer, files: list[bytes], tmp_path: Path, calling_aet: str = "MODALITY") -> None:
    """Send the instances over DICOM (C-STORE with dcmtk's storescu), as a modality does."""
    exe = shutil.which("storescu")
    if exe is None:
        pytest.skip("dcmtk's storescu is not installed")
    paths = []
    for i, data in enumerate(files):
        p = tmp_path / f"i{i}.dcm"
        p.write_bytes(data)
        paths.append(str(p))
    subprocess.run([exe, "-aet", calling_aet, "-aec", "YIGONGTI", "127.0.0.1", str(server.dicom_port), *paths],
                   check=True, capture_output=True, timeout=30)
