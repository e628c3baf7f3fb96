"""The internet hospital's demo (last of issue 13's steps): residents with an offline diagnosis of the last year ask
online follow-ups at the township centers and the county hospital; the doctors reply, prescribe through the
prescribing app; the pharmacist reviews what the rule pack flags; the county pharmacy (the distribution center)
dispenses; deliveries to the village clinic or home stand in every state, with payments paid, pending or failed.

Everything goes through the services (a few dozen consultations), with the times of the story passed in; the
prescribing app stamps its own times, which are then set to the story's for the prescriptions made here.

One resident with an eligible diagnosis and no open consultation is the demo's resident login (phone + name + a
code the file SMS sender writes to ``sms_outbox.jsonl`` in the data directory)."""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Q
from django.utils import timezone

from yigongti.core.actor import Actor
from yigongti.core.carelevel import CareLevel
from yigongti.core.errors import DomainError
from yigongti.encounters.models import Encounter
from yigongti.orgs.models import Facility, Role, User

from .context import DemoContext

SYSTEM = Actor.system("demo")
FULL_COUNTY = 450_000
QUESTIONS = ["最近血压控制得还可以，药快吃完了，想继续开药", "这几天早上空腹血糖 8 左右，要不要调整用药？",
             "上次看病后症状好转，想复诊一下是否需要继续服药", "最近偶尔头晕，血压记录拍照发给您看看",
             "药吃完了，村里买不到，想线上开药送到村卫生室"]
REPLIES = ["您好，看了您的记录，目前控制尚可，继续原方案，我给您开一周的药。", "请继续监测并记录，按时服药，清淡饮食。",
           "建议继续服药，如有胸闷、头痛加重请及时线下就诊。"]
ATC_FOR = (("I1", ("C08CA", "C09", "C07")), ("E11", ("A10",)), ("E78", ("C10",)), ("J", ("R05", "J01C")),
           ("K", ("A02",)), ("M", ("M01",)))


def _actor(user) -> Actor:
    return Actor.from_user(user)


def _principal(resident):
    from yigongti.ihospital.principal import ResidentPrincipal

    return ResidentPrincipal(resident, Actor(None, None, "anonymous", "resident", None, "", "demo"))


def _in_stock(center: Facility):
    from yigongti.pharmacy.models import Item, StockBalance

    ids = set(StockBalance.objects.filter(facility=center, quantity__gte=5).values_list("item_id", flat=True))
    return list(Item.objects.filter(pk__in=ids, is_active=True, kind="western").order_by("code"))


def _line(item, icd10: str, rng) -> dict:
    m = re.match(r"^([\d.]+)\s*(mg|g|ml|μg|ug)", item.strength or "")
    dose, unit = (m.group(1), m.group(2)) if m else ("1", item.min_unit or "片")
    return {"item": item.pk, "dose": dose, "unit": unit, "frequency": "qd", "route": "po", "days": 7,
            "quantity": 1 if rng.random() < 0.8 else 2}


def _item_for(items, icd10: str, rng):
    for prefix, atcs in ATC_FOR:
        if icd10.startswith(prefix):
            fit = [i for i in items if (i.atc or "").startswith(atcs)]
            if fit:
                return rng.choice(fit)
    return rng.choice(items) if items else None


def build_ihospital(ctx: DemoContext) -> None:
    from yigongti.ihospital import gateway, services
    from yigongti.ihospital.models import OnlineConsultation
    from yigongti.ihospital.queries import eligible_diagnoses
    from yigongti.pharmacy.models import DistributionCenter
    from yigongti.prescribing.models import Prescription

    rng = ctx.pyrandom("ihospital")
    now = ctx.now or timezone.now()
    community = ctx.community
    center = DistributionCenter.objects.filter(community=community).select_related("facility").first()
    items = _in_stock(center.facility) if center else []
    pharmacist = (User.objects.filter(username="pharmacist").first()
                  or User.objects.filter(role=Role.PHARMACIST, facility=center.facility if center else None).first())
    answering = [f for f in Facility.objects.filter(community=community, is_active=True).order_by("code")
                 if f.care_level in (CareLevel.COUNTY, CareLevel.TOWNSHIP)]
    doctors = {f.pk: list(User.objects.filter(facility=f, role=Role.DOCTOR, is_active=True).order_by("pk")[:3])
               for f in answering}
    since = ctx.today - dt.timedelta(days=300)
    visits = list(Encounter.objects.filter(facility__in=[f for f in answering if doctors[f.pk]], admit_date__gte=since,
                                           resident__isnull=False, resident__merged_into__isnull=True)
                  .exclude(Q(resident__phone="") | Q(main_icd10=""))
                  .select_related("resident").order_by("pk")[:4000])
    rng.shuffle(visits)
    n = max(12, min(60, int(60 * ctx.population / FULL_COUNTY)))
    township_doctor = User.objects.filter(username="township_doctor").select_related("facility").first()
    demo_login = None
    if township_doctor is not None:  # the README's resident: diagnosed at the demo township doctor's center
        demo_login = next((v for v in visits if v.facility_id == township_doctor.facility_id), None)
    seen: set[int | None] = {demo_login.resident_id} if demo_login else set()
    made: list[OnlineConsultation] = []
    counts = {"prescribed": 0, "delivered": 0, "failed": 0}
    for v in visits:
        resident = v.resident
        if len(made) >= n:
            break
        if resident is None or v.resident_id in seen:
            continue
        seen.add(v.resident_id)
        options = eligible_diagnoses(resident, ctx.today)
        option = next((o for o in options if o.encounter_id == v.pk), None)
        if option is None:
            continue
        t0 = now - dt.timedelta(days=rng.randint(0, 80), hours=rng.randint(0, 12), minutes=rng.randint(0, 59))
        earliest = dt.datetime.combine(option.visit_date + dt.timedelta(days=1), dt.time(9),
                                       timezone.get_current_timezone())
        t0 = max(t0, min(earliest, now - dt.timedelta(hours=2)))  # a follow-up comes after the visit
        try:
            c = services.request_consultation(_principal(resident), {
                "encounter": option.encounter_id, "icd10": option.icd10, "question": rng.choice(QUESTIONS)}, now=t0)
        except DomainError:
            continue
        made.append(c)
        fate = rng.random()
        doctor = rng.choice(doctors[c.facility_id])
        a = _actor(doctor)
        t1 = t0 + dt.timedelta(minutes=rng.randint(8, 240))
        if fate < 0.12 and now - t0 < dt.timedelta(hours=40):
            continue  # still waiting
        try:
            if fate < 0.18:
                services.decline_consultation(a, c, "病情需线下面诊，请到卫生院就诊", now=t1)
                continue
            services.reply(a, c, rng.choice(REPLIES), now=t1)
            if fate < 0.28:
                services.close_consultation(a, c, "已答复，无需开药", now=t1 + dt.timedelta(minutes=5))
                continue
            item = _item_for(items, c.icd10, rng)
            if item is None or pharmacist is None:
                continue
            rx = services.prescribe(a, c, {"lines": [_line(item, c.icd10, rng)]}, now=t1)
            t2 = t1 + dt.timedelta(minutes=rng.randint(2, 30))
            Prescription.objects.filter(pk=rx.pk).update(prescribed_at=t1, submitted_at=t1)
            counts["prescribed"] += 1
            p = _principal(resident)
            if rng.random() < 0.25:
                services.choose_delivery(p, c.pk, "home", f"{resident.place}{rng.randint(1, 9)}组")
            pay, _url = services.start_payment(p, c.pk, now=t2)
            paid = rng.random() < 0.85
            services.handle_payment_notice(gateway.SimulatedGateway().notice_for(
                pay, success=paid, notice_id=f"demo-{c.pk}"), now=t2)
            counts["failed"] += 0 if paid else 1
            if rx.status == "review_pending":
                services.review(_actor(pharmacist), c, "approve")
            if rng.random() < 0.1:
                continue  # waiting to be dispensed
            t3 = t2 + dt.timedelta(hours=rng.randint(1, 20))
            services.dispense(_actor(pharmacist), c, now=t3)
            d = c.delivery
            step = rng.random()
            if step < 0.15:
                continue  # 待发货
            services.move_delivery(_actor(pharmacist), d, "ship", now=t3 + dt.timedelta(hours=rng.randint(1, 6)))
            if step < 0.35:
                continue  # 已发货
            t5 = t3 + dt.timedelta(hours=rng.randint(8, 56))
            if t5 > now:
                continue
            d.refresh_from_db()
            village_doctor = (User.objects.filter(facility_id=d.clinic_id, role=Role.VILLAGE_DOCTOR).first()
                              if d.clinic_id else None)
            who = _actor(village_doctor) if (d.mode == "clinic" and village_doctor) else _actor(pharmacist)
            services.move_delivery(who, d, "deliver", now=t5)
            counts["delivered"] += 1
            if d.mode == "clinic" and village_doctor and step > 0.55:
                services.move_delivery(who, d, "pick_up", now=t5 + dt.timedelta(hours=rng.randint(1, 30)))
        except DomainError:
            continue
    r = demo_login.resident if demo_login is not None else None
    if r is not None:
        # no password: the resident signs in with a one-time code, which the demo's sender writes to the outbox
        ctx.logins.append({"role": "居民（互联网医院：手机号 + 姓名 + 短信验证码）", "username": r.phone,
                           "password": "", "where": f"{r.name} · {r.place} · 验证码见数据目录 sms_outbox.jsonl"})
    ctx.extra["ihospital"] = {"consultations": OnlineConsultation.objects.count(), **counts,
                              "resident_login": r.phone if r is not None else ""}
