"""The pharmacy tests' world on the cast: the distribution center at the county hospital with a pharmacist, a
township pharmacist, a supplier, a few catalogue items and lots (one expired, one near expiry)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.cast import PASSWORD, SYSTEM
from yigongti.orgs.models import Role
from yigongti.orgs.services import create_account
from yigongti.pharmacy.models import DistributionCenter, Item, Lot, Supplier

TODAY = dt.date.today()
AMLODIPINE = "XC08CAA001A001010101583"
METFORMIN = "XA10BAE089A001010101583"
GAUZE = "C0201010010000001234"


def _account(name, role, facility):
    return create_account(actor=SYSTEM, username=name, role=role, password=PASSWORD, facility=facility)[0]


def make_item(community, code=AMLODIPINE, name="苯磺酸氨氯地平片", kind="western", **kw) -> Item:
    fields = {"community": community, "code": code, "kind": kind, "generic_name": name, "form": "片剂",
              "strength": "5mg", "package_unit": "盒", "pack_size": 28, "price": Decimal("12.60"),
              "essential": True, "vbp": True, "min_level": "village"}
    fields.update(kw)
    return Item.objects.create(**fields)


def trace_codes(n: int, start: int = 0, prefix: str = "8160123") -> list[str]:
    return [f"{prefix}{start + i:013d}" for i in range(n)]


@pytest.fixture
def ph(cast):
    class Ph:
        pass

    p = Ph()
    p.c = cast
    p.dc = DistributionCenter.objects.create(community=cast.community, facility=cast.county_hospital)
    p.pharmacist = _account("ph_center", Role.PHARMACIST, cast.county_hospital)
    p.township_pharmacist = _account("ph_township", Role.PHARMACIST, cast.township_center)
    p.far_pharmacist = _account("ph_far", Role.PHARMACIST, cast.far_hospital)
    p.supplier = Supplier.objects.create(community=cast.community, name="国药控股湖南有限公司")
    p.item = make_item(cast.community)
    p.item2 = make_item(cast.community, METFORMIN, "盐酸二甲双胍片", strength="0.5g", pack_size=48,
                        price=Decimal("8.50"))
    p.gauze = make_item(cast.community, GAUZE, "医用纱布块", kind="consumable", form="", strength="8cm×8cm",
                        package_unit="包", pack_size=10, min_unit="块", essential=False, vbp=False)
    p.lot_expired = Lot.objects.create(item=p.item, number="E001", expires_on=TODAY - dt.timedelta(days=3))
    p.lot_soon = Lot.objects.create(item=p.item, number="A001", expires_on=TODAY + dt.timedelta(days=40))
    p.lot_late = Lot.objects.create(item=p.item, number="A002", expires_on=TODAY + dt.timedelta(days=400))
    return p
