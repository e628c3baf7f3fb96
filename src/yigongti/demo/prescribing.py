"""Demo: prescriptions and their dispensing, consistent with the outpatient encounters and the chronic patients.

A sample of the last five weeks' outpatient encounters (with their diagnoses) gets a prescription of drugs that
fit the diagnosis and that the facility has in stock; a sample of the managed chronic patients gets a 慢病长期
处方 of their regular medicines (``chronic.RegularMedicine``). Every prescription is judged by the shipped rule
pack with the engine the services use; a few carry a deliberate error (a double dose, ten days on an outpatient
prescription, an interacting pair) and are held for review: most were reviewed (approved or rejected), the
last day's still wait in the pharmacist's queue. The dispensable ones are dispensed from the facility's lots
first-expiry-first-out, after the lot's last movement (so each lot's running balance stays in order), with
the boxes' 追溯码 where the lot has them; balances are lowered by exactly the movements written. Last month's
prescriptions are sampled for 点评 (≥ 1‰, ≥ 100 a facility) and classified. Bulk-inserted, no per-row service."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from yigongti.core.carelevel import LEVEL_RANK
from yigongti.orgs.models import Facility, Role, User
from yigongti.pharmacy.models import Item, Movement, StockBalance, TraceCode
from yigongti.prescribing import engine, rulepack, sampling
from yigongti.prescribing.facts import age_in_months
from yigongti.prescribing.models import (
    CommentClass,
    CommentSample,
    DispensedCode,
    Dispensing,
    DispensingLine,
    Kind,
    Prescription,
    PrescriptionLine,
    Review,
    Source,
    Status,
)

from .context import DemoContext

# ICD-10 prefix → ATC prefixes of what is prescribed for it (the first that the facility stocks)
THERAPY = [
    ("I1", ["C08CA", "C09AA", "C09CA", "C07AB", "C03"]),
    ("E11", ["A10BA", "A10BB", "A10BF"]),
    ("I2", ["B01AC", "C10AA"]),
    ("J0", ["N02BE", "J01CA", "R05"]),
    ("J2", ["J01CA", "J01FA", "R05"]),
    ("J4", ["R03", "J01FA", "R05"]),
    ("K2", ["A02BC", "A02"]),
    ("K5", ["A07", "A02"]),
    ("M", ["M01AE", "M01A", "M02"]),
    ("N39", ["J01MA", "J01CA"]),
    ("R5", ["N02BE"]),
]
FREQ_BY_ATC = [("J01", "tid"), ("N02", "tid"), ("M01", "bid"), ("A02", "bid"), ("A10BA", "bid")]


def _strength(item) -> tuple[float, str]:
    m = engine.STRENGTH.match(item.strength or "")
    if not m:
        return 1.0, item.min_unit or "片"
    return float(m.group(1)), m.group(2)


def build_prescribing(ctx: DemoContext) -> None:
    from yigongti.chronic.models import EnrolmentStatus, RegularMedicine
    from yigongti.encounters.models import Diagnosis, Encounter

    t0 = time.perf_counter()
    rng = ctx.pyrandom("prescribing")
    community = ctx.community
    pack = rulepack.install(community)
    tables = rulepack.tables_for(pack)
    tz = timezone.get_current_timezone()
    today = ctx.today
    now = ctx.now or timezone.now()
    scale = max(ctx.population / 450_000, 0.01)
    facilities = {f.pk: f for f in Facility.objects.filter(community=community, is_active=True)}
    items = {i.pk: i for i in Item.objects.filter(community=community, is_active=True)}
    by_name = {i.generic_name: i for i in items.values()}
    pharmacist = User.objects.filter(role=Role.PHARMACIST, facility__community=community).order_by("pk").first()
    doctors: dict[int, Any] = {}
    for u in User.objects.filter(role__in=[Role.DOCTOR, Role.VILLAGE_DOCTOR], facility__community=community,
                                 is_active=True).order_by("pk"):
        if u.facility_id is not None:
            doctors.setdefault(u.facility_id, u)
    # what each facility holds: (item → [lot, qty, expires, last movement]) in FEFO order
    stock: dict[int, dict[int, list[list]]] = defaultdict(lambda: defaultdict(list))
    last = {(r["facility"], r["lot"]): r["at"] for r in Movement.objects.filter(facility__community=community)
            .values("facility", "lot").annotate(at=Max("at"))}
    for b in StockBalance.objects.filter(facility__community=community, quantity__gt=0,
                                         expires_on__gt=today).order_by("expires_on", "pk"):
        stock[b.facility_id][b.item_id].append([b, b.quantity, last.get((b.facility_id, b.lot_id))])

    def stocked(fid: int, prefixes: list[str]):
        have = stock.get(fid, {})
        level = LEVEL_RANK[facilities[fid].care_level]
        for pre in prefixes:
            found = [items[i] for i, lots in have.items() if i in items and items[i].atc.startswith(pre)
                     and LEVEL_RANK[items[i].min_level] <= level and any(q for _b, q, _a in lots)]
            if found:
                return found[rng.randrange(len(found))]
        return None

    start = today - dt.timedelta(days=35)
    encs = list(Encounter.objects.filter(facility__community=community, type="outpatient", admit_date__gte=start,
                                         admit_date__lte=today, resident__isnull=False)
                .exclude(main_icd10="").values("pk", "resident_id", "facility_id", "admit_date", "main_icd10",
                                              "doctor_id", "resident__birth_date", "resident__sex",
                                              "resident__area_code"))
    encs = [e for e in encs if e["facility_id"] in stock]
    rng.shuffle(encs)
    encs = sorted(encs[:max(150, int(6000 * scale))], key=lambda e: (e["admit_date"], e["pk"]))
    extra_dx = defaultdict(list)
    for eid, code in Diagnosis.objects.filter(encounter_id__in=[e["pk"] for e in encs]).values_list("encounter_id",
                                                                                                  "icd10"):
        extra_dx[eid].append(code)

    plans: list[tuple[dict[str, Any], list[dict]]] = []  # (fields, [line dicts])
    for e in encs:
        fid = e["facility_id"]
        dx = [e["main_icd10"], *extra_dx[e["pk"]]]
        prefixes = next((p for pre, p in THERAPY if dx[0].startswith(pre)), ["N02BE", "A02BC", "M01AE"])
        item = stocked(fid, prefixes)
        if item is None:
            continue
        lines = [item]
        if rng.random() < 0.3:
            second = stocked(fid, ["N02BE", "R05", "A02BC", "C08CA", "M01AE"])
            if second is not None and second.pk != item.pk:
                lines.append(second)
        months = age_in_months(e["resident__birth_date"], e["admit_date"])
        at = dt.datetime.combine(e["admit_date"], dt.time(8), tz) + dt.timedelta(minutes=rng.randrange(540))
        if at > now:
            continue
        kind = Kind.PEDIATRIC if months < 14 * 12 else Kind.NORMAL
        weight = Decimal(str(round(3.5 + months * 0.18, 1))) if kind == Kind.PEDIATRIC else None
        plans.append(({"facility_id": fid, "resident_id": e["resident_id"], "area_code": e["resident__area_code"],
                       "encounter_id": e["pk"], "doctor_staff_id": e["doctor_id"], "source": Source.ENCOUNTER,
                       "kind": kind, "diagnoses": dx,
                       "age_months": months, "sex": e["resident__sex"], "weight_kg": weight, "at": at},
                      [_line(it, months, weight, rng) for it in lines]))
    # chronic long prescriptions of the regular medicines
    meds = defaultdict(list)
    for m in RegularMedicine.objects.filter(enrolment__status=EnrolmentStatus.MANAGED, until__isnull=True,
                                            enrolment__facility__community=community).values(
            "enrolment__resident_id", "enrolment__facility_id", "name", "dose", "frequency", "units_per_day",
            "enrolment__diagnosis_icd10"):
        meds[(m["enrolment__resident_id"], m["enrolment__facility_id"])].append(m)
    keys = sorted(k for k in meds if k[1] in stock)
    rng.shuffle(keys)
    from yigongti.residents.models import Resident

    chosen = keys[:max(60, int(3000 * scale))]
    people = {r.pk: r for r in Resident.objects.filter(pk__in=[k[0] for k in chosen])}
    for rid, fid in chosen:
        if fid not in stock or rid not in people:
            continue
        r = people[rid]
        day = today - dt.timedelta(days=rng.randrange(35))
        at = dt.datetime.combine(day, dt.time(9), tz) + dt.timedelta(minutes=rng.randrange(480))
        if at > now:
            continue
        days = rng.choice([28, 28, 56, 84])
        lines = []
        for m in meds[(rid, fid)]:
            it = by_name.get(m["name"])
            if it is None or it.pk not in stock.get(fid, {}):
                continue
            per_day = float(m["units_per_day"])
            lines.append({"item": it, "dose": Decimal(1), "unit": it.min_unit, "frequency": "bid" if per_day >= 2
                          else "qd", "route": "po", "days": days,
                          "quantity": max(1, math.ceil(per_day * days / max(it.pack_size, 1)))})
        if lines:
            plans.append(({"facility_id": fid, "resident_id": rid, "area_code": r.area_code, "encounter_id": None,
                           "doctor_staff_id": None,
                           "source": Source.RESIDENT, "kind": Kind.CHRONIC,
                           "diagnoses": sorted({m["enrolment__diagnosis_icd10"] or "I10" for m in meds[(rid, fid)]}),
                           "age_months": age_in_months(r.birth_date, day), "sex": r.sex, "weight_kg": None,
                           "at": at}, lines))
    plans.sort(key=lambda p: p[0]["at"])
    # a few deliberate errors, so that the rule pack has something to hold
    for fields, lines in plans:
        draw = rng.random()
        if draw < 0.04:
            lines[0]["dose"] *= 3
        elif draw < 0.07 and fields["kind"] == Kind.NORMAL:
            for x in lines:
                x["days"] = 10
                x["quantity"] = x["quantity"] * 2

    rows, line_rows, held_at = [], [], []
    for fields, lines in plans:
        f = facilities[fields["facility_id"]]
        facts = engine.RxFacts(kind=fields["kind"], age_months=fields["age_months"],
                               weight_kg=float(fields["weight_kg"]) if fields["weight_kg"] else None,
                               sex=fields["sex"], diagnoses=tuple(fields["diagnoses"]), care_level=f.care_level,
                               lines=tuple(engine.LineFacts(n + 1, x["item"].pk, x["item"].generic_name,
                                                            x["item"].atc, x["item"].antibiotic or "",
                                                            x["item"].strength, x["item"].min_unit, float(x["dose"]),
                                                            x["unit"], x["frequency"], x["route"], x["days"])
                                           for n, x in enumerate(lines)))
        result = engine.evaluate(facts, tables)
        held = engine.needs_review(result, pack.review_at)
        status = Status.REVIEW_PENDING if held else Status.SUBMITTED
        at = fields.pop("at")
        doctor = doctors.get(fields["facility_id"])
        if doctor is not None and fields["doctor_staff_id"] is None:
            fields["doctor_staff_id"] = doctor.staff_id
        rows.append(Prescription(community=community, doctor=doctor,
                                 age_years=fields["age_months"] // 12, status=status, risk=result.risk,
                                 findings=[x.as_dict() for x in result.findings], prescribed_at=at, submitted_at=at,
                                 has_antibiotic=any(x["item"].antibiotic for x in lines),
                                 amount=sum((x["item"].price * x["quantity"] for x in lines), Decimal(0)), **fields))
        line_rows.append(lines)
    with transaction.atomic():
        Prescription.objects.bulk_create(rows, batch_size=2000)
        PrescriptionLine.objects.bulk_create([
            PrescriptionLine(prescription=p, seq=n + 1, item=x["item"], dose=x["dose"], unit=x["unit"],
                             frequency=x["frequency"], route=x["route"], days=x["days"], quantity=x["quantity"],
                             price=x["item"].price)
            for p, lines in zip(rows, line_rows, strict=True) for n, x in enumerate(lines)], batch_size=5000)
        # reviews: the held ones of earlier days were decided; the last day's wait, and at least the last three
        # held ones whenever they came (a small county may flag none on its last day)
        reviews = []
        cutoff = now - dt.timedelta(hours=30)
        held_rows = sorted((p for p in rows if p.status == Status.REVIEW_PENDING), key=lambda p: p.prescribed_at)
        waiting = {id(p) for p in held_rows[-3:]}
        for p in rows:
            if p.status != Status.REVIEW_PENDING or p.prescribed_at >= cutoff or id(p) in waiting:
                continue
            ok = p.risk < engine.CRITICAL and rng.random() < 0.8
            p.status = Status.APPROVED if ok else Status.REJECTED
            reviews.append(Review(prescription=p, pharmacist=pharmacist, decision="approve" if ok else "reject",
                                  reason="" if ok else "剂量或疗程不适宜，请修改后重开",
                                  at=p.prescribed_at + dt.timedelta(minutes=rng.randrange(5, 90))))
            held_at.append(p.pk)
        Review.objects.bulk_create(reviews)
        counts = _dispense(rows, stock, rng, now)
        Prescription.objects.bulk_update(rows, ["status", "dispensed_at"], batch_size=2000)
        n_samples = _comments(community, rows, today, rng, pharmacist)
    ctx.extra["prescribing"] = {"prescriptions": len(rows), "reviewed": len(reviews),
                                "waiting": sum(p.status == Status.REVIEW_PENDING for p in rows),
                                **counts, "comment_samples": n_samples, "seconds": round(time.perf_counter() - t0, 1)}


def _line(item, months: int, weight, rng) -> dict:
    n, unit = _strength(item)
    freq = next((f for pre, f in FREQ_BY_ATC if item.atc.startswith(pre)), "qd")
    per_day = engine.FREQUENCIES[freq] or 1
    tablets: float = 1
    if weight is not None and unit in engine.MASS_MG:
        # a child's dose: about 10 mg/kg a time, in the nearest half tablet
        mg = float(weight) * 10
        tablets = max(0.5, round(mg / (n * engine.MASS_MG[unit]) * 2) / 2)
        if item.antibiotic or item.atc.startswith("N02"):
            tablets = min(tablets, 2)
    days = rng.choice([3, 3, 5, 5, 7])
    quantity = max(1, math.ceil(tablets * per_day * days / max(item.pack_size, 1)))
    if unit in engine.MASS_MG:
        return {"item": item, "dose": Decimal(str(round(tablets * n, 3))), "unit": unit, "frequency": freq,
                "route": "po", "days": days, "quantity": quantity}
    return {"item": item, "dose": Decimal(str(tablets)), "unit": item.min_unit, "frequency": freq, "route": "po",
            "days": days, "quantity": quantity}


def _dispense(rows, stock, rng, now) -> dict:
    """Dispense the dispensable prescriptions from their facility's lots, FEFO, after each lot's last movement."""
    lines_of = defaultdict(list)
    for x in PrescriptionLine.objects.filter(prescription__in=rows).order_by("prescription_id", "seq"):
        lines_of[x.prescription_id].append(x)
    moves, dlines, plan_codes = [], [], []
    dispensings = []
    touched = {}
    short = 0
    for p in rows:
        if p.status not in (Status.SUBMITTED, Status.APPROVED):
            continue
        have = stock.get(p.facility_id, {})
        # the patient collects within minutes, or (a lot just delivered or counted) once the shelf is ready
        ready = max((lot[2] for x in lines_of[p.pk] for lot in have.get(x.item_id, []) if lot[2] is not None),
                    default=None)
        at = p.prescribed_at + dt.timedelta(minutes=rng.randrange(3, 40))
        if ready is not None and ready >= at and ready - at < dt.timedelta(days=3):
            at = ready + dt.timedelta(minutes=rng.randrange(5, 120))
        if at > now:
            continue
        picks = []
        ok = True
        for x in lines_of[p.pk]:
            left = x.quantity
            take = []
            for lot in have.get(x.item_id, []):
                b, q, last_at = lot
                if q <= 0 or (last_at is not None and last_at >= at) or b.expires_on < at.date():
                    continue
                n = min(left, q)
                take.append((lot, n))
                left -= n
                if not left:
                    break
            if left:
                ok = False
                break
            picks.append((x, take))
        if not ok:
            short += 1
            continue
        d = Dispensing(prescription=p, facility_id=p.facility_id, by=None, at=at)
        dispensings.append(d)
        for x, take in picks:
            for lot, n in take:
                b = lot[0]
                lot[1] -= n
                lot[2] = at
                touched[b.pk] = (b, lot[1])
                mv = Movement(facility_id=p.facility_id, item_id=x.item_id, lot_id=b.lot_id, kind="dispense",
                              quantity=-n, balance_after=lot[1], at=at, reason="处方发药",
                              source=f"prescription:{p.pk}")
                moves.append(mv)
                dlines.append((d, x, b.lot_id, n, mv))
                plan_codes.append((len(dlines) - 1, p.facility_id, b.lot_id, n, p.pk))
        p.status, p.dispensed_at = Status.DISPENSED, at
    Movement.objects.bulk_create(moves, batch_size=5000)
    Dispensing.objects.bulk_create(dispensings, batch_size=2000)
    objs = [DispensingLine(dispensing=d, line=x, lot_id=lot_id, quantity=n, movement=mv)
            for d, x, lot_id, n, mv in dlines]
    DispensingLine.objects.bulk_create(objs, batch_size=5000)
    for b, q in touched.values():
        b.quantity = q
    StockBalance.objects.bulk_update([b for b, _q in touched.values()], ["quantity"], batch_size=2000)
    # the boxes' 追溯码: the lot's codes still in stock at that facility, oldest first
    need: dict[tuple[int, int], int] = defaultdict(int)
    for _i, fid, lot_id, n, _p in plan_codes:
        need[(fid, lot_id)] += n
    pool = {}
    for (fid, lot_id), n in need.items():
        pool[(fid, lot_id)] = list(TraceCode.objects.filter(facility_id=fid, lot_id=lot_id, status="in_stock")
                                   .order_by("pk").values_list("pk", flat=True)[:n])
    codes: list[DispensedCode] = []
    moved: dict[int, list[int]] = defaultdict(list)
    for i, fid, lot_id, n, ppk in plan_codes:
        got = pool[(fid, lot_id)][:n]
        pool[(fid, lot_id)] = pool[(fid, lot_id)][n:]
        codes += [DispensedCode(line=objs[i], trace_id=t) for t in got]
        moved[ppk] += got
    DispensedCode.objects.bulk_create(codes, batch_size=5000)
    for ppk, ids in moved.items():
        TraceCode.objects.filter(pk__in=ids).update(status="dispensed", source=f"prescription:{ppk}")
    return {"dispensed": len(dispensings), "movements": len(moves), "trace_codes": len(codes), "short": short}


def _comments(community, rows, today, rng, pharmacist) -> int:
    """Last month's 点评 sample, classified from what the rules found (and a little of what rules cannot see)."""
    month = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    start, stop = sampling.month_bounds(month)
    by_facility = defaultdict(list)
    rx = {}
    for p in rows:
        if start <= p.prescribed_at < stop and p.status != Status.REJECTED:
            by_facility[p.facility_id].append(p.pk)
            rx[p.pk] = p
    chosen = sampling.draw(by_facility, seed=month.year * 100 + month.month)
    out = []
    for fid, pks in chosen.items():
        for pk in pks:
            p = rx[pk]
            kinds = {f["kind"] for f in p.findings if f["severity"] >= engine.MODERATE}
            if "days" in kinds:
                cls, note = CommentClass.NONSTANDARD, "超过规定用药天数且未注明理由"
            elif kinds & {"dose", "interaction", "contraindication", "duplicate"}:
                cls, note = CommentClass.INAPPROPRIATE, p.findings[0]["message"][:300]
            elif rng.random() < 0.03:
                cls, note = CommentClass.NONSTANDARD, "临床诊断书写不全"
            elif rng.random() < 0.02:
                cls, note = CommentClass.EXCESSIVE, "无适应证用药"
            else:
                cls, note = CommentClass.RATIONAL, ""
            out.append(CommentSample(community=community, facility_id=fid, month=month, prescription_id=pk,
                                     doctor_id=p.doctor_id, reviewer=pharmacist, classification=cls,
                                     findings=[f["rule"] for f in p.findings], note=note,
                                     reviewed_at=timezone.now()))
    CommentSample.objects.bulk_create(out, batch_size=2000)
    return len(out)
