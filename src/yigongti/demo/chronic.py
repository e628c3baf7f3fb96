"""A year of hypertension and type-2 diabetes management in the demo county (两病, 规范 第三版).

The residents tagged htn / t2dm aged 35+ are enrolled at their village clinic, each linked to the first encounter
of the year that carries the diagnosis (I10–I15 / E11) when there is one; most were enrolled years ago, some
this year from that encounter. Their follow-ups of the last twelve months are simulated visit by visit and
decided by the chronic rules themselves (``chronic.rules.classify_and_decide``): a controlled patient comes
back a quarter later, a first uncontrolled reading is reviewed within 2 weeks, a second one in a row suggests a
referral; a few readings meet the urgent criteria. Some visits are missed, so some patients are overdue. Each
patient's propensity to be controlled is drawn so that the control rates land near published county figures
(~60 % hypertension, ~55 % diabetes). Regular medicines are recorded for every managed patient."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from yigongti.chronic import rules
from yigongti.chronic.models import Condition, Enrolment, FollowUp, RegularMedicine, VisitMode
from yigongti.encounters.models import Encounter

from .bulk import analyze, reset_sequences
from .context import DemoContext
from .familydoctor import age_on, care_world, fast_load, load, next_id

# patient-level: (share of "good" patients, per-visit control chance of a good / a poor patient)
# (tuned so that the share at target at the last visit of the year lands near ~60 % / ~55 %)
PROPENSITY = {Condition.HYPERTENSION: (0.45, 0.93, 0.28), Condition.DIABETES: (0.40, 0.92, 0.24)}
MISS = 0.06  # a planned visit missed: the patient comes 40–150 days late (or not yet)
LATE_REVIEW = 0.7  # a 2-week review (after an adjustment or a referral) that comes 30–90 days late
HTN_DRUGS = [("氨氯地平片", "5mg×28片", "5mg", "qd", 1), ("硝苯地平缓释片", "20mg×30片", "20mg", "bid", 2),
             ("厄贝沙坦片", "150mg×14片", "150mg", "qd", 1), ("马来酸依那普利片", "10mg×16片", "10mg", "qd", 1),
             ("氢氯噻嗪片", "25mg×100片", "12.5mg", "qd", 0.5), ("酒石酸美托洛尔片", "25mg×20片", "25mg", "bid", 2)]
DM_DRUGS = [("盐酸二甲双胍片", "0.5g×48片", "0.5g", "bid", 2), ("格列美脲片", "2mg×15片", "2mg", "qd", 1),
            ("阿卡波糖片", "50mg×30片", "50mg", "tid", 3)]
CODES = ("I10", "I11", "I12", "I13", "I14", "I15")


def _first_diagnosis_encounters() -> dict[int, dict[str, tuple[int, dt.date]]]:
    """resident id -> condition -> (encounter id, date) of the earliest encounter carrying the diagnosis as its
    main one (I10–I15 / E11), aggregated in the database (a million matching encounters at 450,000 residents;
    no query parameters, so a literal % is a LIKE wildcard)."""
    table = Encounter._meta.db_table
    codes = ", ".join(f"'{c}'" for c in CODES)
    cond = "CASE WHEN main_icd10 LIKE 'E11%' THEN 't2dm' ELSE 'htn' END"
    match = (f"resident_id IS NOT NULL AND (main_icd10 LIKE 'E11%' OR SUBSTR(main_icd10, 1, 3) IN ({codes}))")
    sql = (f'SELECT e.resident_id, g.cond, MIN(e.id), g.first FROM "{table}" e JOIN ('
           f'SELECT resident_id, {cond} AS cond, MIN(admit_date) AS first FROM "{table}" WHERE {match} '
           f"GROUP BY resident_id, {cond}) g ON g.resident_id = e.resident_id AND e.admit_date = g.first "
           f"AND {cond.replace('main_icd10', 'e.main_icd10')} = g.cond "
           f"WHERE {match.replace('resident_id', 'e.resident_id').replace('main_icd10', 'e.main_icd10')} "
           "GROUP BY e.resident_id, g.cond, g.first")
    out: dict[int, dict[str, tuple[int, dt.date]]] = defaultdict(dict)
    with connection.cursor() as cur:
        cur.execute(sql)
        for rid, c, eid, day in cur.fetchall():
            if isinstance(day, str):
                day = dt.date.fromisoformat(day[:10])
            out[rid][c] = (eid, day)
    return out


def _reading(rng: random.Random, cond: str, controlled: bool, elderly: bool) -> dict:
    sbp_t = 150 if elderly else 140
    r = float(rng.random())
    if cond == Condition.HYPERTENSION:
        if r < 0.006:
            sbp, dbp = int(rng.randrange(180, 196)), int(rng.randrange(96, 114))
        elif controlled:
            sbp, dbp = int(rng.randrange(112, sbp_t)), int(rng.randrange(64, 90))
        else:
            sbp, dbp = int(rng.randrange(sbp_t, 176)), int(rng.randrange(78, 106))
        fbg = None
    else:
        sbp, dbp = int(rng.randrange(112, 146)), int(rng.randrange(66, 92))
        if r < 0.005:
            fbg = Decimal(f"{rng.uniform(16.8, 19.5):.1f}")
        elif controlled:
            fbg = Decimal(f"{rng.uniform(4.6, 6.9):.1f}")
        else:
            fbg = Decimal(f"{rng.uniform(7.1, 13.8):.1f}")
    return {"condition": cond, "sbp": sbp, "dbp": dbp, "fbg": fbg, "heart_rate": int(rng.randrange(60, 97)),
            "adverse_reaction": bool(rng.random() < 0.012), "new_complication": bool(rng.random() < 0.006)}


def build_chronic(ctx: DemoContext) -> None:
    t0 = time.perf_counter()
    rng = ctx.pyrandom("chronic")
    w = care_world(ctx)
    people = ctx.extra["people"]
    today = ctx.today
    year_ago = today - dt.timedelta(days=365)
    first_dx = _first_diagnosis_encounters()
    std = rules.standard()
    region_pk = {code: r.pk for code, r in ctx.regions.items()}
    eid, fid, mid = next_id(Enrolment), next_id(FollowUp), next_id(RegularMedicine)
    enrol_rows, fu_rows, med_rows = [], [], []
    now = timezone.now()
    counts: dict[str, int] = defaultdict(int)
    for i, p in enumerate(people):
        conds = [c for c in (Condition.HYPERTENSION, Condition.DIABETES) if c.value in p.tags]
        if not conds:
            continue
        age = age_on(p.birth, today)
        if age < std.enrol_min_age:
            continue
        clinic = w.clinic[p.village_code]
        docs = w.village_doctors.get(p.village_code) or [w.team_by_pk[w.team_of_household[p.household]].gp]
        doctor = docs[p.household % len(docs)]
        team = w.team_of_household[p.household]
        if i in w.contract_of:
            team = w.contracts[w.contract_of[i]][2]
        for cond in conds:
            enc = first_dx.get(i + 1, {}).get(cond)
            if rng.random() < 0.12:  # enrolled this year
                if enc is not None:
                    diagnosed = enc[1]
                    enrolled = min(today - dt.timedelta(days=1),
                                   diagnosed + dt.timedelta(days=int(rng.randrange(0, 21))))
                else:
                    enrolled = today - dt.timedelta(days=int(rng.randrange(20, 330)))
                    diagnosed = enrolled - dt.timedelta(days=int(rng.randrange(0, 30)))
            else:
                years = max(1, min(8, age - std.enrol_min_age))
                enrolled = today - dt.timedelta(days=int(rng.randrange(366, 365 * years + 367)))
                diagnosed = enrolled - dt.timedelta(days=int(rng.randrange(0, 60)))
            good_share, p_good, p_poor = PROPENSITY[cond]
            p_ctrl = p_good if rng.random() < good_share else p_poor
            # the year's visits, each decided by the rules
            day = max(enrolled, year_ago) + dt.timedelta(days=int(rng.randrange(3, 50)))
            streak, last = 0, None
            drugs = HTN_DRUGS if cond == Condition.HYPERTENSION else DM_DRUGS
            picks = rng.sample(range(len(drugs)), 1 + int(rng.random() < 0.35))
            medication = [{"name": drugs[k][0], "dose": drugs[k][2], "frequency": drugs[k][3]} for k in picks]
            while day < today:
                visit_age = age_on(p.birth, day)
                controlled = rng.random() < p_ctrl
                reading = _reading(rng, cond, controlled, visit_age >= std.elderly_age)
                out = rules.classify_and_decide(reading, age=visit_age, previous_uncontrolled=streak,
                                                visit_date=day, rules=std)
                streak = rules.next_streak(streak, out)
                mode = VisitMode.CLINIC if rng.random() < 0.6 else VisitMode.HOME if rng.random() < 0.75 \
                    else VisitMode.PHONE
                height = Decimal(f"{rng.gauss(158 if p.sex == 'F' else 166, 6):.1f}")
                weight = Decimal(f"{rng.gauss(58 if p.sex == 'F' else 66, 9):.1f}")
                bmi = (weight / (height / 100) ** 2).quantize(Decimal("0.1"))
                fu_rows.append((
                    fid, eid, i + 1, day, mode, clinic, doctor, reading["sbp"], reading["dbp"],
                    reading["heart_rate"], weight, height, bmi, reading["fbg"], "[]", "[]",
                    int(rng.choice([0, 0, 0, 5, 10])), int(rng.choice([0, 0, 1, 2])), int(rng.randrange(2, 8)),
                    30, str(rng.choice(["light", "medium", "medium", "heavy"])),
                    "regular" if rng.random() < 0.8 else "intermittent", reading["adverse_reaction"],
                    "头晕、乏力" if reading["adverse_reaction"] else "", reading["new_complication"],
                    "新发视物模糊" if reading["new_complication"] else "", False,
                    ("none" if cond == Condition.DIABETES else ""), json.dumps(medication, ensure_ascii=False),
                    "低盐低脂饮食，规律服药，适量运动", out.control, out.decision,
                    json.dumps(out.reasons), out.next_visit_on, reading["sbp"] >= 180, out.refer, now))
                if mode != VisitMode.PHONE:
                    w.records[i].append(("follow_up", day, f"followup:{fid}", doctor, clinic))
                counts[f"decision_{out.decision}"] += 1
                last = (day, out.decision, out, reading)
                fid += 1
                nxt = out.next_visit_on + dt.timedelta(days=int(rng.randrange(-6, 8)))
                if out.decision != "routine" and rng.random() < LATE_REVIEW:
                    nxt += dt.timedelta(days=int(rng.randrange(30, 90)))
                if rng.random() < MISS:
                    nxt += dt.timedelta(days=int(rng.randrange(40, 150)))
                day = max(nxt, day + dt.timedelta(days=7))
            last_cols: tuple
            if last is not None:
                lday, _d, out, reading = last
                last_cols = (lday, reading["sbp"], reading["dbp"], reading["fbg"], out.control, streak,
                             out.next_visit_on)
                at_target = rules.at_target(cond, age=age_on(p.birth, lday), sbp=reading["sbp"],
                                            dbp=reading["dbp"], fbg=reading["fbg"], rules=std)
            else:
                last_cols = (None, None, None, None, "", 0, enrolled + dt.timedelta(days=14))
                at_target = False
            icd = "I10" if cond == Condition.HYPERTENSION else "E11.9"
            enrol_rows.append((eid, i + 1, cond, diagnosed, icd, enc[0] if enc else None, enrolled, clinic,
                               region_pk[p.village_code], doctor, "managed", "", *last_cols, now))
            w.enrolled.setdefault(team, []).append((cond, last_cols[0], at_target))
            for k in picks:
                name, strength, dose, freq, per_day = drugs[k]
                med_rows.append((mid, eid, "", name, strength, dose, freq, Decimal(str(per_day)), "片",
                                 enrolled + dt.timedelta(days=int(rng.randrange(0, 30))), doctor, now))
                mid += 1
            counts[f"enrolled_{cond}"] += 1
            counts[f"at_target_{cond}"] += at_target
            eid += 1
    with fast_load():
        load(Enrolment, ["id", "resident", "condition", "diagnosed_on", "diagnosis_icd10", "source_encounter",
                              "enrolled_on", "facility", "village", "doctor", "status", "end_reason", "last_visit_on",
                              "last_sbp", "last_dbp", "last_fbg", "last_control", "uncontrolled_streak", "next_due",
                              "created"], enrol_rows)
        load(FollowUp, ["id", "enrolment", "resident", "visit_date", "mode", "facility", "by", "sbp", "dbp",
                             "heart_rate", "weight_kg", "height_cm", "bmi", "fbg", "symptoms", "danger_signs",
                             "smoking_per_day", "drinking_per_day", "exercise_per_week", "exercise_minutes", "salt",
                             "adherence", "adverse_reaction", "adverse_note", "new_complication",
                             "complication_note", "pregnant", "hypoglycaemia", "medication", "advice", "control",
                             "decision", "reasons", "next_visit_on", "unlikely_confirmed", "referral_suggested",
                             "recorded_at"], fu_rows)
        load(RegularMedicine, ["id", "enrolment", "drug_code", "name", "strength", "dose", "frequency",
                                    "units_per_day", "unit", "since", "prescribed_by", "recorded_at"], med_rows)
        reset_sequences(Enrolment, FollowUp, RegularMedicine)
    analyze(Enrolment, FollowUp, RegularMedicine)
    ctx.extra["chronic_residents"] = {row[1] for row in enrol_rows}
    counts["follow_ups"] = len(fu_rows)
    counts["medicines"] = len(med_rows)
    ctx.extra["chronic"] = dict(counts)
    w.timings["chronic_s"] = time.perf_counter() - t0
