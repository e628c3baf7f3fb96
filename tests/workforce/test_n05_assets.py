"""N05 reads the asset register beside the diagnosis centers' device registry: an ECG machine (07 医用诊察和监护
器械 / 心电图机) in use at a village clinic counts it; scrapped or idle it does not; a clinic with both counts once."""

from tests.assets.conftest import asset_data
from tests.cast import PASSWORD, SYSTEM, as_
from yigongti.assets.models import Asset, AssetStatus
from yigongti.assets.services import register_asset
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import REGISTRY_FIGURES, Area
from yigongti.orgs.models import Role
from yigongti.orgs.services import create_account
from yigongti.telemedicine.models import Device, DeviceKind

COUNTY = Area("county", "431127000000", "蓝山县", "431127")


def _n05():
    return REGISTRY_FIGURES["N05"](COUNTY, parse_period("2026-11"))


def test_an_ecg_machine_registered_at_a_village_clinic_moves_n05(cast):
    admin = create_account(actor=SYSTEM, username="n05_admin", role=Role.FACILITY_ADMIN, password=PASSWORD,
                           facility=cast.township_center)[0]
    before = _n05()
    assert (before.numerator, before.denominator) == (0, 2)
    a = register_asset(as_(admin), asset_data(cast.village_clinic))
    after = _n05()
    assert after.numerator == 1 and after.value == 50 and after.extra["assets"] == 1
    register_asset(as_(admin), asset_data(cast.village_clinic, number="YLSB-2024-0002", name="B超",
                                          category="06"))
    assert _n05().numerator == 1  # not an ECG machine
    dev = Device.objects.create(facility=cast.village_clinic, kind=DeviceKind.ECG, model="ECG-1200")
    Asset.objects.filter(pk=a.pk).update(device=dev)
    assert _n05().numerator == 1 and _n05().extra["devices"] == 1  # the same clinic, once
    Asset.objects.filter(pk=a.pk).update(status=AssetStatus.SCRAPPED)
    dev.active = False
    dev.save()
    assert _n05().numerator == 0
    assert Asset.objects.get(pk=a.pk).device == dev and dev.asset.pk == a.pk
