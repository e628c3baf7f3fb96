"""The internet-hospital cast on top of the prescribing one (tests/prescribing/world.py): the community's
distribution center at the county hospital (where the online prescriptions are dispensed), an offline visit of
``cast.resident`` at the township center two months ago with hypertension (I10) and diabetes (E11.9), an old visit
(two years ago, J45) that is no longer eligible, the SMS sender and the outbox in memory."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.prescribing.world import build_rx
from yigongti.encounters.models import Diagnosis, Encounter
from yigongti.pharmacy.models import DistributionCenter


def visit(c, facility, days_ago: int, icd10: str, name: str) -> Encounter:
    r = c.resident
    return Encounter.objects.create(resident=r, area_code=r.area_code, residence_county=r.area_code[:6],
                                    facility=facility, type="outpatient",
                                    admit_date=timezone.localdate() - dt.timedelta(days=days_ago),
                                    main_icd10=icd10, main_diagnosis=name)


def build_ih(c):
    w = build_rx(c)
    DistributionCenter.objects.create(community=c.community, facility=c.county_hospital)
    w.visit = visit(c, c.township_center, 60, "I10", "原发性高血压")
    Diagnosis.objects.create(encounter=w.visit, seq=1, icd10="E11.9", name="2型糖尿病")
    w.old = visit(c, c.county_hospital, 800, "J45.9", "哮喘")
    return w


def principal_for(resident):
    from yigongti.core.actor import Actor
    from yigongti.ihospital.principal import ResidentPrincipal

    return ResidentPrincipal(resident, Actor(None, None, "anonymous", "resident", None, "10.0.0.9", "test"))


def ask(w, icd10: str = "I10", question: str = "血压最近偏高，药快吃完了", files=()):
    from yigongti.ihospital import services

    return services.request_consultation(principal_for(w.c.resident),
                                         {"encounter": w.visit.pk, "icd10": icd10, "question": question}, files)


def amlodipine(w, quantity: int = 1) -> list[dict]:
    return [{"item": w.items["氨氯地平"].pk, "dose": "5", "unit": "mg", "frequency": "qd", "days": 7,
             "quantity": quantity}]


def ih_world(c) -> dict:
    """For the every-page walk (tests/test_every_page.py): an offline visit, an online follow-up with a picture and
    the doctor's reply (without the prescribing cast, whose accounts other worlds may make)."""
    from tests.cast import as_
    from yigongti.ihospital import services
    from yigongti.ihospital.models import Picture

    w = type("W", (), {"c": c})()
    w.visit = visit(c, c.township_center, 60, "I10", "原发性高血压")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    cons = ask(w, files=[png])
    services.reply(as_(c.township_doctor), cons, "请继续服药", "https://meet.example.cn/room/1")
    pic = Picture.objects.get(message__consultation=cons)
    return {("ihospital", None, "pk"): cons.pk, ("ihospital", None, "picture"): pic.pk,
            ("ihospital", "sim_pay", "out_trade_no"): "IH-NO-SUCH-ORDER",
            ("api", "/api/v1/ihospital/consultations/{pk}", "pk"): cons.pk}
