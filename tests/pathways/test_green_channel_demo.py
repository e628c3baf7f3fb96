"""The one-button green channel on the demo county (3,000 residents, the demo's road network, centers and
accounts): a village doctor presses for one of the village's residents and the four parts are made, the referral
and the alert to the county's PCI center."""

from __future__ import annotations

import pytest

from tests.cast import as_

pytestmark = pytest.mark.django_db


def test_village_doctor_presses_on_the_demo_county(settings, tmp_path):
    from yigongti.demo.build import build_demo
    from yigongti.emergency.roads.graph import clear_cache
    from yigongti.orgs.models import User
    from yigongti.pathways import green_channel as gc
    from yigongti.pathways.models import PathwayCenter
    from yigongti.residents.queries import residents_visible_to

    settings.DATA_DIR = tmp_path
    clear_cache()
    build_demo(population=3000, seed=7)
    doctor = User.objects.get(username="village_doctor")
    resident = residents_visible_to(doctor).filter(merged_into__isnull=True).order_by("pk").first()
    done = gc.press(as_(doctor), resident, kind="chest_pain", note="胸痛1小时")
    pci = PathwayCenter.objects.get(facility=done.referral.to_facility, kind="chest_pain")
    assert "pci" in pci.capabilities and done.referral.urgency == "green"
    assert done.call.kind == "green_channel" and done.call.node_id is not None
    assert done.alert.facility == done.referral.to_facility and done.alert.eta_at is not None
    assert done.case.kind == "chest_pain" and done.case.first_facility == doctor.facility
    again = gc.press(as_(doctor), resident, kind="chest_pain")
    assert again.call.pk == done.call.pk
