"""Basic public health in the demo county: annual checks, pregnancies, children 0–6 and their vaccines.

- Health checks: about 72 % of the 65+ this year (and many last year too), most chronic patients under 65.
- Pregnancies for the maternal-tagged women, at every stage (registered, antenatal, postpartum, closed): most
  registered before 13 weeks, the schedule's visits each in its window with some missed; risk grades about
  70 % green, 20 % yellow, 8 % orange, 2 % red, orange and up managed at the county lead hospital.
- Children 0–6: the child schedule's visits (newborn, 满月, 3 … 36 months, yearly to 6) and the national
  immunisation schedule's doses at their recommended age, never before the minimum age or interval (doses due at
  the same age are given on the same day, so live vaccines keep their interval), with some missed.

The windows and doses are read from the versioned schedules (``publichealth.schedules`` and
``publichealth.immunisation``; the due engine's copies while a schedule file is missing)."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone

from yigongti.publichealth.models import (
    CheckPurpose,
    ChildVisit,
    HealthCheck,
    MaternalVisit,
    Pregnancy,
    PregnancyOutcome,
    PregnancyStatus,
    RiskGrade,
    VaccineDose,
)

from .bulk import analyze, reset_sequences
from .context import DemoContext
from .familydoctor import age_on, care_world, fast_load, load, next_id

GRADES = [(RiskGrade.GREEN, 0.70), (RiskGrade.YELLOW, 0.20), (RiskGrade.ORANGE, 0.08), (RiskGrade.RED, 0.02)]
FACTORS: dict[str, list[list[str]]] = {RiskGrade.GREEN: [[]],
           RiskGrade.YELLOW: [["age_35_plus"], ["anaemia_mild"], ["bmi_over_28"], ["scarred_uterus"]],
           RiskGrade.ORANGE: [["gestational_hypertension"], ["scarred_uterus_short_interval"], ["twins"]],
           RiskGrade.RED: [["placenta_accreta"], ["severe_heart_disease"]]}
MISSED_VISIT = 0.10
MISSED_DOSE = 0.04
CAUGHT_UP = 0.5  # of the missed doses, the share given later as a catch-up
TCM = ["平和质", "气虚质", "阳虚质", "阴虚质", "痰湿质", "湿热质", "血瘀质"]


def _editions() -> tuple[str, str, str]:
    maternal = child = "国家基本公共卫生服务规范（第三版）"
    try:
        from yigongti.publichealth import schedules

        maternal, child = schedules.maternal().edition, schedules.child().edition  # type: ignore[attr-defined,unused-ignore]
    except (ImportError, AttributeError, OSError, ValueError):
        pass
    from yigongti.publichealth import immunisation

    return maternal, child, immunisation.schedule().edition


def _grade(r: float) -> RiskGrade:
    acc = 0.0
    for g, share in GRADES:
        acc += share
        if r < acc:
            return g
    return RiskGrade.GREEN


def build_publichealth(ctx: DemoContext) -> None:
    t0 = time.perf_counter()
    rng = ctx.pyrandom("publichealth")
    w = care_world(ctx)
    people = ctx.extra["people"]
    today = ctx.today
    from yigongti.familydoctor.due import child_windows, maternal_windows
    from yigongti.publichealth import immunisation

    m_edition, c_edition, v_edition = _editions()
    m_windows, c_windows = maternal_windows(), child_windows()
    doses = immunisation.schedule().doses
    now = timezone.now()
    counts: dict[str, int] = defaultdict(int)
    enrolled_idx = ctx.extra.get("chronic_residents") or set()
    hc_id, pg_id, mv_id, cv_id, vd_id = (next_id(m) for m in (HealthCheck, Pregnancy, MaternalVisit, ChildVisit,
                                                               VaccineDose))
    checks, pregs, mvisits, cvisits, vdoses = [], [], [], [], []
    for i, p in enumerate(people):
        age = age_on(p.birth, today)
        township = p.village_code[:9] + "000"
        center = w.center[township]
        at = w.staff_at.get(center, {})
        gps: list[int | None] = [*(at.get("physician") or at.get("assistant") or ())] or [None]
        gp = gps[0]
        phs: list[int | None] = [*(at.get("public_health") or at.get("nurse") or ())] or [gp]
        nurse = phs[i % len(phs)]
        clinic = w.clinic[p.village_code]
        vdocs: list[int | None] = [*w.village_doctors.get(p.village_code, ())] or [gp]
        vdoc = vdocs[p.household % len(vdocs)]
        tags = set(p.tags)
        # ---- the annual check
        chronic = (i + 1) in enrolled_idx
        if age >= 65 or chronic:
            purpose = CheckPurpose.ELDERLY if age >= 65 else CheckPurpose.CHRONIC
            share = 0.72 if age >= 65 else 0.68
            for years_back, p_done in ((1, 0.6), (0, share)):
                if rng.random() >= p_done:
                    continue
                start = dt.date(today.year - years_back, 3, 1) if years_back else dt.date(today.year, 1, 5)
                last = dt.date(start.year, 11, 30) if years_back else today - dt.timedelta(days=1)
                if last <= start:
                    continue
                day = start + dt.timedelta(days=int(rng.randrange(0, (last - start).days + 1)))
                height = Decimal(f"{rng.gauss(157 if p.sex == 'F' else 165, 6):.1f}")
                weight = Decimal(f"{rng.gauss(56 if p.sex == 'F' else 63, 9):.1f}")
                bmi = (weight / (height / 100) ** 2).quantize(Decimal("0.1"))
                htn = "htn" in tags
                sbp = int(rng.randrange(128, 165) if htn else rng.randrange(108, 142))
                checks.append((hc_id, i + 1, day, purpose, center, gp, sbp, int(rng.randrange(64, 96)),
                               int(rng.randrange(60, 95)), height, weight, Decimal(f"{rng.gauss(84, 8):.1f}"), bmi,
                               Decimal(f"{rng.uniform(4.4, 9.5 if 't2dm' in tags else 6.8):.1f}"),
                               Decimal(f"{rng.uniform(3.2, 6.4):.2f}"), Decimal(f"{rng.uniform(0.6, 2.8):.2f}"),
                               Decimal(f"{rng.uniform(1.6, 4.2):.2f}"), Decimal(f"{rng.uniform(50, 110):.1f}"),
                               Decimal(f"{rng.uniform(10, 45):.1f}"), True, bool(rng.random() < 0.8),
                               int(rng.randrange(0, 4)) if age >= 65 else None,
                               "normal" if rng.random() < 0.92 else "positive",
                               TCM[int(rng.randrange(0, len(TCM)))], "", "合理膳食，适量运动，定期复查", now))
                if years_back == 0:
                    w.records[i].append(("health_check", day, str(hc_id), gp, center))
                    counts["checks_this_year"] += 1
                hc_id += 1
        # ---- pregnancy
        if "maternal" in tags and p.sex == "F":
            lmp = today - dt.timedelta(days=int(rng.randrange(45, 420)))
            edd = lmp + dt.timedelta(days=280)
            early = rng.random() < 0.82
            reg_day = lmp + dt.timedelta(days=int(rng.randrange(42, 90) if early else rng.randrange(91, 150)))
            if reg_day >= today:
                reg_day = today - dt.timedelta(days=1)
            if reg_day <= lmp:
                continue
            delivered = lmp + dt.timedelta(days=int(rng.gauss(276, 7)))
            grade = _grade(float(rng.random()))
            factors = FACTORS[grade][int(rng.randrange(0, len(FACTORS[grade])))]
            county = grade in (RiskGrade.ORANGE, RiskGrade.RED)
            status, outcome, delivered_on, where = PregnancyStatus.ONGOING, "", None, ""
            if delivered < today:
                delivered_on = delivered
                outcome = PregnancyOutcome.LIVE_BIRTH if rng.random() < 0.985 else PregnancyOutcome.STILLBIRTH
                where = "蓝山县中心医院" if county or rng.random() < 0.6 else "蓝山县妇幼保健院"
                status = PregnancyStatus.CLOSED if delivered + dt.timedelta(days=56) < today \
                    else PregnancyStatus.POSTPARTUM
            pregs.append((pg_id, i + 1, lmp, edd, reg_day, (reg_day - lmp).days // 7, int(rng.randrange(1, 4)),
                          int(rng.randrange(0, 2)), center, w.lead if county else center, grade,
                          json.dumps(factors), reg_day, status, delivered_on, outcome, where, m_edition, now))
            for win in m_windows:
                base = lmp if win.basis == "lmp_days" else delivered_on
                if base is None:
                    continue
                a = base + dt.timedelta(days=win.start)
                b = base + dt.timedelta(days=win.end)
                if win.basis == "lmp_days":
                    if win.code == m_windows[0].code:
                        a = b = reg_day  # the first antenatal visit is the registration
                    elif a < reg_day or (delivered_on is not None and a >= delivered_on):
                        continue
                if a >= today or (rng.random() < MISSED_VISIT and win.code != m_windows[0].code):
                    continue
                b = min(b, today - dt.timedelta(days=1), delivered_on - dt.timedelta(days=1)
                        if win.basis == "lmp_days" and delivered_on else b)
                if b < a:
                    continue
                day = a + dt.timedelta(days=int(rng.randrange(0, (b - a).days + 1)))
                antenatal = win.basis == "lmp_days"
                fac = w.lead if county and antenatal else center
                mvisits.append((mv_id, pg_id, win.code, day, (day - lmp).days // 7 if antenatal else None, fac, gp,
                                int(rng.randrange(100, 136)), int(rng.randrange(60, 88)),
                                Decimal(f"{rng.gauss(60, 7):.1f}"), int(rng.randrange(105, 135)), "未见异常",
                                "孕期营养与产检指导" if antenatal else "产后康复与母乳喂养指导", False, now))
                w.records[i].append(("maternal", day, str(mv_id), gp, fac))
                mv_id += 1
            pg_id += 1
            counts[f"pregnancies_{grade}"] += 1
        # ---- children 0–6
        if age <= 6:
            for win in c_windows:
                a = p.birth + dt.timedelta(days=win.start)
                b = min(p.birth + dt.timedelta(days=win.end), today - dt.timedelta(days=1))
                if a >= today or b < a or rng.random() < MISSED_VISIT:
                    continue
                day = a + dt.timedelta(days=int(rng.randrange(0, (b - a).days + 1)))
                days = (day - p.birth).days
                home = win.code == c_windows[0].code
                fac = clinic if home else center
                months = days / 30.4
                cvisits.append((cv_id, i + 1, win.code, day, days, fac, vdoc if home else nurse,
                                Decimal(f"{3.3 + 0.45 * min(months, 12) + 0.17 * max(0, months - 12):.2f}"),
                                Decimal(f"{50 + 2.1 * min(months, 12) + 0.75 * max(0, months - 12):.1f}"),
                                bool(rng.random() < 0.96),
                                "breast" if months < 6 and rng.random() < 0.6 else "mixed" if months < 12 else "",
                                "未见异常", "科学喂养、预防伤害", c_edition, now))
                w.records[i].append(("child", day, str(cv_id), vdoc if home else nurse, fac))
                cv_id += 1
            given: dict[tuple[str, int], dt.date] = {}
            missed: set[str] = set()
            by_age: dict[int, list] = defaultdict(list)
            for rule in doses:
                by_age[rule.recommended_age_days].append(rule)
            # the birth doses are given in the delivery hospital on the day; later ones up to two weeks late
            delay_of = {k: int(rng.randrange(0, 15)) if k else 0 for k in by_age}
            for rec_age in sorted(by_age):
                rules_here = [r for r in by_age[rec_age] if r.vaccine not in missed]
                if not rules_here:
                    continue
                day = p.birth + dt.timedelta(days=rec_age + delay_of[rec_age])
                for r in rules_here:  # never before the minimum age, interval or the dose it follows
                    day = max(day, p.birth + dt.timedelta(days=r.min_age_days))
                    prev = given.get((r.vaccine, r.dose - 1))
                    if r.dose > 1 and prev is None:
                        day = dt.date.max
                        break
                    if prev is not None:
                        day = max(day, prev + dt.timedelta(days=r.min_interval_days))
                    if r.after is not None:
                        before = given.get((r.after.vaccine, r.after.dose))
                        if before is not None:
                            day = max(day, before + dt.timedelta(days=r.after.min_interval_days))
                if day >= today:
                    continue
                for r in rules_here:
                    if r.dose > 1 and (r.vaccine, r.dose - 1) not in given:
                        continue
                    on = day
                    if rng.random() < MISSED_DOSE:
                        # half of the missed doses are caught up (补种) weeks after their completion age
                        on = p.birth + dt.timedelta(days=r.complete_by_days + int(rng.randrange(14, 150)))
                        if rng.random() >= CAUGHT_UP or on >= today or \
                                (on - p.birth).days >= r.catch_up_until_days:
                            missed.add(r.vaccine)
                            continue
                    given[(r.vaccine, r.dose)] = on
                    vdoses.append((vd_id, i + 1, r.vaccine, r.dose, on, (on - p.birth).days, center, nurse,
                                   f"2025{int(rng.randrange(1000, 9999))}", "", "上臂三角肌",
                                   immunisation.is_catch_up(r, on, p.birth), v_edition, now))
                    vd_id += 1
            counts["children"] += 1
    with fast_load():
        load(HealthCheck, ["id", "resident", "date", "purpose", "facility", "by", "sbp", "dbp", "heart_rate",
                                "height_cm", "weight_kg", "waist_cm", "bmi", "fbg", "total_cholesterol",
                                "triglycerides", "ldl", "creatinine", "alt", "ecg_done", "ultrasound_done",
                                "self_care_score", "cognition_screen", "tcm_constitution", "findings", "advice",
                                "recorded_at"], checks)
        load(Pregnancy, ["id", "resident", "lmp", "edd", "registered_on", "registered_week", "gravidity",
                              "parity", "facility", "managing_facility", "risk_grade", "risk_factors",
                              "risk_assessed_on", "status", "delivered_on", "outcome", "delivery_facility",
                              "schedule_edition", "recorded_at"], pregs)
        load(MaternalVisit, ["id", "pregnancy", "kind", "date", "gest_week", "facility", "by", "sbp", "dbp",
                                  "weight_kg", "haemoglobin", "findings", "advice", "referred", "recorded_at"], mvisits)
        load(ChildVisit, ["id", "child", "kind", "date", "age_days", "facility", "by", "weight_kg", "length_cm",
                               "development_ok", "feeding", "findings", "advice", "schedule_edition", "recorded_at"],
                  cvisits)
        load(VaccineDose, ["id", "child", "vaccine", "dose", "given_on", "age_days", "facility", "by", "lot",
                                "manufacturer", "site", "catch_up", "schedule_edition", "recorded_at"], vdoses)
        reset_sequences(HealthCheck, Pregnancy, MaternalVisit, ChildVisit, VaccineDose)
    analyze(HealthCheck, Pregnancy, MaternalVisit, ChildVisit, VaccineDose)
    counts.update({"checks": len(checks), "pregnancies": len(pregs), "maternal_visits": len(mvisits),
                   "child_visits": len(cvisits), "vaccine_doses": len(vdoses)})
    ctx.extra["publichealth"] = dict(counts)
    w.timings["publichealth_s"] = time.perf_counter() - t0
