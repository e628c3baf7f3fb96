"""The device registry: facility admins register their ECG machines, modalities and analysers; the centers look
up who sends what; N05's village ECG coverage is counted from it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from tests.cast import _account, as_
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.orgs.models import Role
from yigongti.telemedicine import devices as svc
from yigongti.telemedicine.devices import DeviceInput
from yigongti.telemedicine.models import Device
from yigongti.telemedicine.queries import devices as queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(cast):
    cast.township_admin = _account("township_admin", Role.FACILITY_ADMIN, cast.township_center)
    cast.hospital_admin = _account("hospital_admin", Role.FACILITY_ADMIN, cast.county_hospital)
    return cast


def _dr(**extra):
    return {"kind": "modality", "modality": "dx", "manufacturer": "联影", "model": "uDR 370i", "serial": "DR-001",
            "ae_title": "TF_DR01", **extra}


# ---- the rules, pure -------------------------------------------------------------------------------------

def test_each_kind_is_identified_the_way_it_sends():
    today = dt.date(2026, 12, 1)

    def errors(**data):
        return svc.validate_device(svc.normalised(DeviceInput.parse({"model": "X", **data})), today)

    assert errors(kind="ecg") == {}  # an ECG machine uploads files: no AE title needed
    assert errors(kind="modality", modality="DX", ae_title="TF_DR01") == {}
    assert "ae_title" in errors(kind="modality", modality="DX")
    assert "modality" in errors(kind="modality", modality="XX", ae_title="A")
    assert "ae_title" in errors(kind="modality", modality="CT", ae_title="BAD\\AE")
    assert "analyser_id" in errors(kind="analyser")
    assert errors(kind="analyser", analyser_id="TF-CBC-01") == {}
    assert "analyser_id" in errors(kind="analyser", analyser_id="有空格 的")
    assert "analyser_id" in errors(kind="ecg", analyser_id="X1")
    assert "installed_on" in errors(kind="ecg", installed_on="2027-01-01")
    assert "kind" in svc.validate_device(DeviceInput.parse({"kind": "toaster"}), today)
    assert svc.normalised(DeviceInput.parse({"kind": "scanner"})).modality == "SM"


# ---- writes ------------------------------------------------------------------------------------------------

def test_township_admin_registers_its_own_and_its_villages_devices(admins):
    c = admins
    dr = svc.register_device(_dr(), actor=as_(c.township_admin))
    assert dr.facility == c.township_center and dr.modality == "DX" and dr.active
    ecg = svc.register_device({"facility": c.village_clinic.pk, "kind": "ecg", "model": "ECG-1200"},
                              actor=as_(c.township_admin))
    assert ecg.facility == c.village_clinic and ecg.modality == "ECG"
    assert AuditEvent.objects.filter(object_type="device", action="create", object_id=str(ecg.pk)).exists()


def test_others_may_not_register_devices(admins):
    c = admins
    with pytest.raises(Forbidden):
        svc.register_device(_dr(facility=c.other_center.pk), actor=as_(c.township_admin))
    with pytest.raises(Forbidden):
        svc.register_device(_dr(), actor=as_(c.township_doctor))
    assert not Device.objects.exists()


def test_an_ae_title_or_analyser_id_belongs_to_one_device(admins):
    c = admins
    svc.register_device(_dr(), actor=as_(c.township_admin))
    with pytest.raises(Conflict) as e:
        svc.register_device(_dr(serial="DR-002"), actor=as_(c.hospital_admin))
    assert e.value.field == "ae_title" and c.township_center.name in e.value.message
    svc.register_device({"kind": "analyser", "model": "BC-5390", "analyser_id": "TF-CBC"}, actor=as_(c.township_admin))
    with pytest.raises(Conflict):
        svc.register_device({"kind": "analyser", "model": "BC-5390", "analyser_id": "TF-CBC"},
                            actor=as_(c.hospital_admin))


def test_bad_input_is_refused_with_the_field(admins):
    c = admins
    with pytest.raises(InvalidInput) as e:
        svc.register_device(_dr(ae_title=""), actor=as_(c.township_admin))
    assert e.value.field == "ae_title"
    with pytest.raises(InvalidInput) as e:
        svc.register_device(_dr(installed_on="not a date"), actor=as_(c.township_admin))
    assert e.value.field == "installed_on"
    with pytest.raises(InvalidInput) as e:
        svc.register_device(_dr(serial="x" * 61), actor=as_(c.township_admin))
    assert e.value.field == "serial"


def test_update_and_retire_a_device(admins):
    c = admins
    dr = svc.register_device(_dr(), actor=as_(c.township_admin))
    changed = svc.update_device(dr.pk, _dr(ae_title="TF_DR02", installed_on="2025-03-01"), actor=as_(c.township_admin))
    assert changed.ae_title == "TF_DR02" and changed.installed_on == dt.date(2025, 3, 1)
    other = _account("other_admin", Role.FACILITY_ADMIN, c.other_center)
    with pytest.raises(Forbidden):
        svc.update_device(dr.pk, _dr(), actor=as_(other))
    assert svc.by_ae_title("TF_DR02") == dr
    svc.set_device_active(dr.pk, False, reason="报废", actor=as_(c.township_admin))
    assert svc.by_ae_title("TF_DR02") is None
    with pytest.raises(Conflict):
        svc.set_device_active(dr.pk, False, actor=as_(c.township_admin))


# ---- reads -------------------------------------------------------------------------------------------------

def test_who_sees_which_devices_and_the_village_ecg_coverage(admins):
    c = admins
    svc.register_device(_dr(), actor=as_(c.township_admin))
    svc.register_device({"facility": c.village_clinic.pk, "kind": "ecg", "model": "ECG-1200"},
                        actor=as_(c.township_admin))
    assert queries.devices_visible_to(c.village_doctor).count() == 1  # its own ECG machine
    assert queries.devices_visible_to(c.township_doctor).count() == 2
    assert queries.devices_visible_to(c.county_doctor).count() == 2  # the whole community
    assert queries.devices_visible_to(c.other_village_doctor).count() == 0
    assert queries.devices_visible_to(c.outsider).count() == 0
    cov = queries.village_ecg_coverage(c.community.pk)
    assert (cov.villages, cov.with_ecg, cov.share) == (2, 1, 0.5)


def test_pages_register_and_list(admins, client, login):
    c = admins
    login(c.township_admin)
    page = client.get("/centers/devices/")
    assert page.status_code == 200 and 'data-testid="device-form"' in page.content.decode()
    resp = client.post("/centers/devices/", {"facility": c.village_clinic.pk, "kind": "ecg", "model": "ECG-1200",
                                             "serial": "SN9"})
    assert resp.status_code == 302 and Device.objects.get().facility == c.village_clinic
    bad = client.post("/centers/devices/", {"facility": c.township_center.pk, "kind": "modality", "model": "DR"})
    assert bad.status_code == 200 and "AE Title" in bad.content.decode()
    login(c.village_doctor)
    page = client.get("/centers/devices/").content.decode()
    assert "ECG-1200" in page and 'data-testid="device-form"' not in page


def test_api_registers_lists_and_counts(admins, client, login):
    c = admins
    login(c.township_admin)
    resp = client.post("/api/v1/telemedicine/devices", json.dumps(_dr()), content_type="application/json")
    assert resp.status_code == 201 and resp.json()["ae_title"] == "TF_DR01"
    dup = client.post("/api/v1/telemedicine/devices", json.dumps(_dr()), content_type="application/json")
    assert dup.status_code == 409 and dup["Content-Type"] == "application/problem+json"
    assert client.get("/api/v1/telemedicine/devices?kind=modality").json()["items"][0]["model"] == "uDR 370i"
    assert client.get("/api/v1/telemedicine/devices/coverage").json()["villages"] == 2
    login(c.outsider)
    assert client.get(f"/api/v1/telemedicine/devices/{resp.json()['id']}").status_code == 404
    assert timezone.now()
