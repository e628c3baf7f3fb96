"""A catalogue of a few drugs, lots with stock and 追溯码 at the county hospital and the village clinic, and the
pharmacists, for the prescribing tests and the every-page walk."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from tests.cast import PASSWORD, SYSTEM
from yigongti.orgs.models import Role
from yigongti.orgs.services import create_account
from yigongti.pharmacy import ledger
from yigongti.pharmacy.models import Item, Lot, MovementKind, TraceCode

DRUGS = [  # generic, atc, strength, pack, unit, antibiotic, min_level, code suffix
    ("阿莫西林", "J01CA04", "250mg", 24, "粒", "unrestricted", "village", "01"),
    ("氨氯地平", "C08CA01", "5mg", 28, "片", "", "village", "02"),
    ("硝苯地平", "C08CA05", "10mg", 42, "片", "", "village", "03"),
    ("华法林", "B01AA03", "2.5mg", 60, "片", "", "township", "04"),
    ("布洛芬", "M01AE01", "200mg", 20, "片", "", "village", "05"),
    ("依那普利", "C09AA02", "10mg", 16, "片", "", "village", "06"),
    ("头孢曲松", "J01DD04", "1g", 1, "支", "restricted", "township", "07"),
    ("美罗培南", "J01DH02", "0.5g", 1, "支", "special", "county", "08"),
]


class RxWorld:
    pass


def trace(n: int) -> str:
    return f"869{n:017d}"


def build_rx(c, stock: int = 10) -> RxWorld:
    w = RxWorld()
    w.c = c
    w.pharmacist = create_account(actor=SYSTEM, username="rx_pharmacist", role=Role.PHARMACIST,
                                  password=PASSWORD, facility=c.county_hospital)[0]
    w.township_pharmacist = create_account(actor=SYSTEM, username="rx_tpharm", role=Role.PHARMACIST,
                                           password=PASSWORD, facility=c.township_center)[0]
    w.items = {}
    w.lots = {}
    n = 0
    with transaction.atomic():
        for g, atc, strength, pack, unit, ab, level, suffix in DRUGS:
            code = ("X" + atc + suffix).ljust(23, "0")
            item = Item.objects.create(community=c.community, code=code, kind="western", generic_name=g,
                                       strength=strength, pack_size=pack, min_unit=unit, atc=atc, antibiotic=ab,
                                       price=Decimal("12.50"), min_level=level, essential=True)
            w.items[g] = item
            lot = Lot.objects.create(item=item, number=f"L{suffix}", expires_on=dt.date.today() + dt.timedelta(400))
            w.lots[g] = lot
            for f in (c.county_hospital, c.village_clinic):
                ledger.post(facility=f, lot=lot, quantity=stock, kind=MovementKind.RECEIPT, source="test:1")
                for _i in range(3):
                    n += 1
                    TraceCode.objects.create(code=trace(n), lot=lot, facility=f, source="test:1")
    w.codes = {(t.facility_id, t.lot.item.generic_name): [] for t in TraceCode.objects.select_related("lot__item")}
    for t in TraceCode.objects.select_related("lot__item").order_by("pk"):
        w.codes[(t.facility_id, t.lot.item.generic_name)].append(t.code)
    return w


def rx_data(w, facility=None, *, lines=None, **kw) -> dict:
    c = w.c
    data = {"resident": c.resident.pk, "facility": (facility or c.village_clinic).pk, "diagnoses": ["I10"],
            "lines": lines or [{"item": w.items["氨氯地平"].pk, "dose": "5", "unit": "mg", "frequency": "qd",
                                "days": 7, "quantity": 1}]}
    data.update(kw)
    return data


def line(w, name, dose, unit, freq="qd", days=7, quantity=1):
    return {"item": w.items[name].pk, "dose": str(dose), "unit": unit, "frequency": freq, "days": days,
            "quantity": quantity}


def prescribing_world(c) -> dict:
    """For the every-page walk (tests/test_every_page.py): a dispensed prescription, a 点评 sample, a rule."""
    from django.utils import timezone

    from yigongti.prescribing import services

    w = build_rx(c)
    p = services.create_prescription(SYSTEM, rx_data(w))
    services.dispense(SYSTEM, p)
    held = services.create_prescription(SYSTEM, rx_data(w, lines=[line(w, "氨氯地平", 10, "mg", "bid")]))
    sample = services.draw_sample(SYSTEM, c.community, timezone.localdate())[0]
    rule = services.pack_for(c.community).rules.order_by("pk").first()
    return {("prescribing", None, "pk"): held.pk, ("prescribing", "detail", "pk"): p.pk,
            ("prescribing", "comment", "pk"): sample.pk, ("prescribing", "rule", "pk"): rule.pk,
            ("api", "/api/v1/prescribing/prescriptions/{pk}", "pk"): p.pk}
