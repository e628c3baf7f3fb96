"""A year of care in the demo county: encounters at every level, insurance settlements in and out of
the county, population by age band and deaths with cause.

Volumes, mix, seasonality and costs are set so that the county's indicators land near the seeds'
figures (县域内基层诊疗人次占比 ≈ 73.5 %, 参保人县域内住院人次占比 ≈ 93.9 %, 医保基金县域内支出占比 ≈ 85 %,
病床使用率 ≈ 72 %, 平均住院日 ≈ 7.5 天, 次均费用 < 5000 元, 药占比 < 30 %, 百元耗材 < 20 元), with three townships
doing worse (residents bypass their township center, stay longer, more drugs) and two doing better,
so that the monthly ranking means something. Everything is drawn from ``ctx.rng('encounters')``:
same seed, same county. About 6.5 encounters per resident per year (450,000 residents → ~3 million).

Open beds are scaled with the population (a 30,000-resident demo has 1/15 of the county's beds) so
that the bed occupancy rate stays believable at any size.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
from django.db import transaction

from yigongti.core.carelevel import IN_COUNTY_LEVELS, CareLevel
from yigongti.encounters.models import (
    Death,
    Diagnosis,
    Encounter,
    InsuranceSettlement,
    PopulationByAge,
    Procedure,
)
from yigongti.orgs.models import Department, Facility, Staff

from .bulk import load_rows, reset_sequences
from .context import DemoContext
from .data import county as C

FULL_COUNTY = 450_000
WORSE = (3, 8, 12)  # 祠堂圩镇, 太平圩镇, 荆竹瑶族乡
BETTER = (1, 5)  # 总市镇, 楠市镇
NEIGHBOURS = ["431126", "431129", "431024", "431025"]  # 宁远, 江华, 嘉禾, 临武
OUTSIDE = [  # (code, name, county, share of out-of-county care)
    ("H43110300001", "永州市中心医院", "431103", 0.45), ("H43110300002", "永州市第三人民医院", "431103", 0.15),
    ("H43010500001", "中南大学湘雅医院", "430105", 0.15), ("H43010200001", "湖南省人民医院", "430102", 0.10),
    ("H44030400001", "深圳市人民医院", "440304", 0.10), ("H44010400001", "广东省人民医院", "440104", 0.05),
]
# (ICD-10, name) pools by setting
OP_DX = [("J06.9", "急性上呼吸道感染"), ("I10", "原发性高血压"), ("E11.9", "2型糖尿病"), ("K29.7", "胃炎"),
         ("M54.5", "腰痛"), ("J20.9", "急性支气管炎"), ("A09", "感染性腹泻"), ("L30.9", "皮炎"), ("H10.9", "结膜炎"),
         ("R51", "头痛"), ("M17.9", "膝关节病"), ("N39.0", "尿路感染")]
OP_W = [0.24, 0.16, 0.08, 0.08, 0.07, 0.09, 0.05, 0.05, 0.04, 0.04, 0.05, 0.05]
IP_DX = [("J18.9", "肺炎"), ("I63.9", "脑梗死"), ("I25.1", "冠状动脉粥样硬化性心脏病"),
         ("J44.1", "慢性阻塞性肺病急性加重"),
         ("O80", "单胎顺产"), ("S72.0", "股骨颈骨折"), ("K80.2", "胆囊结石"), ("K35.8", "急性阑尾炎"),
         ("C34.9", "肺恶性肿瘤"),
         ("E11.9", "2型糖尿病"), ("I10", "原发性高血压"), ("N20.0", "肾结石"), ("I50.9", "心力衰竭")]
IP_W = [0.17, 0.11, 0.10, 0.09, 0.07, 0.05, 0.06, 0.05, 0.04, 0.07, 0.08, 0.05, 0.08]
SURGERY = {"S72.0": ("81.51", "全髋关节置换术"), "K80.2": ("51.23", "腹腔镜胆囊切除术"),
           "K35.8": ("47.01", "腹腔镜阑尾切除术"), "N20.0": ("55.04", "经皮肾镜取石术"),
           "C34.9": ("32.41", "肺叶切除术")}
NCD_CAUSES = ["I21.9", "I63.9", "I61.9", "C34.9", "C22.0", "C16.9", "J44.9", "E11.9"]
OTHER_CAUSES = ["V89.2", "W19", "X70", "A41.9", "N18.9", "K74.6", "R54"]


HERBAL_SHARE_TCM = 0.55  # of a TCM visit's drug cost
HERBAL_SHARE_TCM_STAY = 0.35  # of a TCM-hospital stay's


REVERSAL_EVERY = 250  # one in-county stay in 250 is reversed and settled again (冲销/退费)


def _money(cents: np.ndarray, signed: bool = False) -> list:
    """Cents → 'yuan.ff' strings (exact on every database); negative means missing unless ``signed``
    (the negated amounts of a reversal)."""
    if signed:
        return [f"{'-' if c < 0 else ''}{abs(c) // 100}.{abs(c) % 100:02d}" for c in cents.tolist()]
    return [None if c < 0 else f"{c // 100}.{c % 100:02d}" for c in cents.tolist()]


def _cents(yuan: str | None) -> int:
    return 0 if yuan is None else int(Decimal(yuan) * 100)


def _lognormal(rng, mean: np.ndarray, sigma: float = 0.5) -> np.ndarray:
    return mean * np.exp(sigma * rng.standard_normal(len(mean)) - sigma * sigma / 2)


def _days(rng, n: int, first: dt.date, ndays: int) -> np.ndarray:
    """Day offsets with a winter peak (respiratory season) and a Spring Festival dip."""
    d = np.arange(ndays)
    dates = np.array([first + dt.timedelta(days=int(x)) for x in d])
    doy = np.array([x.timetuple().tm_yday for x in dates])
    w = 1 + 0.18 * np.cos(2 * np.pi * (doy - 15) / 365)
    w[(doy >= 27) & (doy <= 40)] *= 0.75
    return rng.choice(d, size=n, p=w / w.sum())


class _World:
    """Facilities, staff and departments as arrays the generator indexes into."""

    def __init__(self, ctx: DemoContext):
        fac = ctx.facilities
        self.county_code = C.COUNTY[0][:6]
        self.by_code = dict(fac.items())
        centers = {c[:9]: f for c, f in fac.items() if f.care_level == CareLevel.TOWNSHIP}
        self.townships = sorted(centers)
        self.center = [centers[t] for t in self.townships]
        self.county = [fac[self.county_code + s[0]] for s in C.COUNTY_FACILITIES]  # 中心医院, 中医院, 妇幼
        self.staff: dict[int, list[int]] = {}
        for sid, fid in Staff.objects.filter(profession__in=["physician", "assistant", "village_doctor"]
                                             ).values_list("id", "work_facility_id"):
            self.staff.setdefault(fid, []).append(sid)
        self.depts: dict[int, list[int]] = {}
        for did, fid in Department.objects.filter(is_clinical=True).values_list("id", "facility_id"):
            self.depts.setdefault(fid, []).append(did)

    def pick(self, rng, table: dict[int, list[int]], fids: np.ndarray) -> list:
        out = np.full(len(fids), -1, dtype=np.int64)
        for fid in np.unique(fids):
            opts = table.get(int(fid))
            if opts:
                mask = fids == fid
                out[mask] = np.array(opts)[rng.integers(0, len(opts), mask.sum())]
        return [None if x < 0 else x for x in out.tolist()]


def _scale_beds(ctx: DemoContext) -> None:
    factor = min(1.0, ctx.population / FULL_COUNTY)
    if factor >= 1.0:
        return
    for f in Facility.objects.filter(open_beds__gt=0):
        f.open_beds = max(1, round(f.open_beds * factor))
        f.approved_beds = max(1, round(f.approved_beds * factor))
        f.save(update_fields=["open_beds", "approved_beds"])
        ctx.facilities[f.code].open_beds = f.open_beds


def _size_township_beds(rng, w: _World, town, ii, ip_level, los, outside, ndays: int) -> None:
    """Township centers' open beds sized to their admissions, so occupancy lands between 55 and 82 %
    (40–52 % in the worse townships, whose residents bypass their center)."""
    mask = (ip_level == 1) & ~outside
    bed_days = np.bincount(town[ii[mask]], weights=los[mask], minlength=len(w.center))
    for t, center in enumerate(w.center):
        occ = rng.uniform(0.40, 0.52) if t in WORSE else rng.uniform(0.55, 0.82)
        center.open_beds = max(2, round(bed_days[t] / ndays / occ))
        center.approved_beds = max(center.open_beds, int(center.open_beds * 1.1))
        Facility.objects.filter(pk=center.pk).update(open_beds=center.open_beds, approved_beds=center.approved_beds)


def build_encounters(ctx: DemoContext) -> None:
    people = ctx.extra["people"]
    rng = ctx.rng("encounters")
    _scale_beds(ctx)
    w = _World(ctx)
    today = ctx.today
    first = dt.date(today.year - (today.month < 12), today.month % 12 + 1, 1)  # 12 whole months to today
    ndays = (today - first).days + 1
    n = len(people)
    ages = np.array([(today - p.birth).days // 365 for p in people])
    female = np.array([p.sex == "F" for p in people])
    villages = [p.village_code for p in people]
    t_index = {t: i for i, t in enumerate(w.townships)}
    town = np.array([t_index[v[:9]] for v in villages])
    chronic = np.array([("htn" in p.tags) or ("t2dm" in p.tags) for p in people])
    maternal = np.array(["maternal" in p.tags for p in people])
    insured = rng.random(n) < 0.98
    employee = rng.random(n) < 0.08
    vclinic = {v: ctx.facilities[f"{v}D600"] for v in set(villages)}  # every demo village has its clinic
    clinic_of = np.array([vclinic[v].pk for v in villages])

    worse = np.isin(town, WORSE)
    better = np.isin(town, BETTER)
    seat = town == 0  # 塔峰镇, the county seat: the county hospital is next door

    # ---- outpatient and emergency visits
    lam = np.select([ages < 7, ages < 15, ages < 45, ages < 65], [6.5, 3.2, 3.6, 6.2], 9.5) + 4.0 * chronic
    counts = rng.poisson(lam * 1.0)
    vi = np.repeat(np.arange(n), counts)
    m = len(vi)
    vday = _days(rng, m, first, ndays)
    emergency = rng.random(m) < 0.065
    p_village = np.where(worse[vi], 0.35, np.where(better[vi], 0.52, 0.47)) - np.where(seat[vi], 0.08, 0)
    p_town = np.where(worse[vi], 0.28, np.where(better[vi], 0.36, 0.345))
    u = rng.random(m)
    level = np.where(u < p_village, 2, np.where(u < p_village + p_town, 1, 0))  # 2 village, 1 township, 0 county
    level = np.where(emergency, np.where(rng.random(m) < 0.85, 0, 1), level)
    ucf = rng.random(m)
    mch = (female[vi] & (ages[vi] >= 18) & (ages[vi] <= 45)) | (ages[vi] < 7)
    county_pick = np.where(ucf < np.where(mch, 0.55, 0.75), 0, np.where(ucf < np.where(mch, 0.70, 0.95), 1, 2))
    center_ids = np.array([c.pk for c in w.center])
    county_ids = np.array([c.pk for c in w.county])
    fac = np.where(level == 2, clinic_of[vi], np.where(level == 1, center_ids[town[vi]], county_ids[county_pick]))
    tcm_p = np.where(level == 2, 0.08, np.where(level == 1, 0.19, np.where(county_pick == 1, 1.0, 0.03)))
    tcm = rng.random(m) < tcm_p
    op_mean = np.where(level == 2, 46, np.where(level == 1, 98, np.where(county_pick == 1, 185, 255))).astype(float)
    op_mean = np.where(emergency, 390, op_mean)
    op_cost = np.round(_lognormal(rng, op_mean) * 100).astype(np.int64)
    op_drug_share = np.where(level == 2, 0.44, np.where(level == 1, 0.34, 0.29)) + np.where(worse[vi], 0.05, 0)
    op_fund_share = np.where(level == 0, 0.35, 0.52)

    # ---- admissions
    lam_ip = (np.select([ages < 7, ages < 45, ages < 65], [0.13, 0.09, 0.20], 0.42) + 0.12 * chronic
              + 0.85 * maternal)
    icounts = rng.poisson(lam_ip * 1.14)
    ii = np.repeat(np.arange(n), icounts)
    k = len(ii)
    lead = 30  # admissions from the month before the year, still in hospital when it starts
    iday = _days(rng, k, first - dt.timedelta(days=lead), ndays + lead) - lead
    out_p = np.where(worse[ii], 0.095, np.where(better[ii], 0.045, 0.056))
    outside = rng.random(k) < out_p
    county_p = np.where(worse[ii], 0.78, np.where(better[ii], 0.55, 0.64)) + np.where(seat[ii], 0.15, 0)
    ip_level = np.where(rng.random(k) < county_p, 0, 1)
    delivery = maternal[ii] & (rng.random(k) < 0.7)
    ucf = rng.random(k)
    ip_pick = np.where(delivery, 2, np.where(ucf < 0.78, 0, np.where(ucf < 0.95, 1, 2)))
    ip_fac = np.where(ip_level == 1, center_ids[town[ii]], county_ids[ip_pick])
    los_mean = np.where(ip_level == 1, np.where(worse[ii], 7.6, 6.2),
                        np.where(ip_pick == 1, 9.2, np.where(ip_pick == 2, 4.2, 8.3)))
    los = np.maximum(1, np.round(rng.gamma(3.0, los_mean / 3.0))).astype(int)
    dx = rng.choice(len(IP_DX), size=k, p=np.array(IP_W) / sum(IP_W))
    dx = np.where(delivery, 4, dx)
    surgery = (ip_level == 0) & np.isin(dx, [i for i, (c, _n) in enumerate(IP_DX) if c in SURGERY]) & \
        (rng.random(k) < 0.8)
    ip_mean = np.where(ip_level == 1, 2400.0, np.where(ip_pick == 1, 4800.0, np.where(ip_pick == 2, 3200.0, 5500.0)))
    ip_mean = ip_mean * (0.55 + 0.45 * los / np.maximum(los_mean, 1)) * np.where(surgery, 1.7, 1.0)
    ip_cost = np.round(_lognormal(rng, ip_mean, 0.45) * 100).astype(np.int64)
    ip_drug_share = np.where(ip_level == 1, 0.30, 0.24) + np.where(worse[ii], 0.05, 0)
    ip_mat_share = np.where(surgery, 0.36, 0.17)
    ip_fund_share = np.where(ip_level == 1, 0.78, 0.66) + np.where(employee[ii], 0.08, 0)
    admit = iday
    discharge = iday + los
    _size_township_beds(rng, w, town, ii, ip_level, los, outside, ndays)
    keep = discharge >= 0  # stays that end inside the year
    in_hosp = discharge > ndays - 1  # still in hospital on the demo's today

    # ---- build rows ----------------------------------------------------------------------------
    ids = Encounter.objects.order_by("-id").values_list("id", flat=True).first() or 0
    day0 = np.datetime64(first)

    def dates(off):
        return (day0 + off.astype("timedelta64[D]")).astype(object)

    op_ids = np.arange(ids + 1, ids + 1 + m)
    sel = keep & ~outside
    ik = np.flatnonzero(sel)
    ip_ids = np.arange(op_ids[-1] + 1 if m else ids + 1, (op_ids[-1] + 1 if m else ids + 1) + len(ik))
    # referrals: a third of county admissions from rural residents were sent by their township center a
    # few days earlier (an extra outpatient visit there), linked by referred_from
    ref_mask = (ip_level[ik] == 0) & ~seat[ii[ik]] & (rng.random(len(ik)) < 0.33) & (admit[ik] >= 3)
    rk = ik[ref_mask]
    ref_first = ip_ids[-1] + 1 if len(ip_ids) else ids + 1
    ref_ids = np.arange(ref_first, ref_first + len(rk))
    referred_from = np.full(len(ik), -1, dtype=np.int64)
    referred_from[ref_mask] = ref_ids

    # visitors from neighbouring counties at the county hospital (2 % of its visits)
    county_visits = int((level == 0).sum())
    nv = int(county_visits * 0.02)
    nv_county = rng.choice(NEIGHBOURS, size=nv)
    nv_day = _days(rng, nv, first, ndays)
    nv_cost = np.round(_lognormal(rng, np.full(nv, 280.0)) * 100).astype(np.int64)
    nv_ids = np.arange((ref_ids[-1] if len(ref_ids) else (ip_ids[-1] if len(ip_ids) else op_ids[-1])) + 1,
                       (ref_ids[-1] if len(ref_ids) else (ip_ids[-1] if len(ip_ids) else op_ids[-1])) + 1 + nv)

    op_dx = rng.choice(len(OP_DX), size=m, p=np.array(OP_W) / sum(OP_W))
    op_dx = np.where(chronic[vi] & (rng.random(m) < 0.5), np.where(rng.random(m) < 0.7, 1, 2), op_dx)
    missing = rng.random(m) < 0.003  # a few visits whose bill has not been uploaded yet
    op_cost_m = np.where(missing, -1, op_cost)
    drug_c = np.round(op_cost * op_drug_share).astype(np.int64)
    mat_c = np.round(op_cost * np.where(level == 0, 0.07, 0.04)).astype(np.int64)
    exam_c = np.round((op_cost - drug_c - mat_c) * 0.5).astype(np.int64)
    other_c = op_cost - drug_c - mat_c - exam_c
    fund_c = np.where(insured[vi], np.round(op_cost * op_fund_share), 0).astype(np.int64)
    # 中药饮片: about half of a TCM visit's drugs (no random draw, so the rest of the demo stays as it was)
    herbal_c = np.where(tcm, np.round(drug_c * HERBAL_SHARE_TCM), 0).astype(np.int64)
    task = ctx.task("生成就诊记录", m + len(ik) + len(rk) + nv)
    area = np.array(villages, dtype=object)
    staff_op = w.pick(rng, w.staff, fac)
    dept_op = w.pick(rng, w.depts, fac)
    scheme_of = np.where(~insured, "none", np.where(employee, "employee", "resident"))

    def op_rows():
        d = dates(vday)
        cols = zip(op_ids.tolist(), (vi + 1).tolist(), area[vi].tolist(), fac.tolist(), dept_op, staff_op,
                   np.where(emergency, "emergency", "outpatient").tolist(), d, op_dx.tolist(), tcm.tolist(),
                   _money(op_cost_m), _money(np.where(missing, -1, drug_c)), _money(np.where(missing, -1, mat_c)),
                   _money(np.where(missing, -1, exam_c)), _money(np.where(missing, -1, other_c)),
                   _money(np.where(missing, -1, fund_c)), _money(np.where(missing, -1, op_cost - fund_c)),
                   scheme_of[vi].tolist(), _money(np.where(missing, -1, herbal_c)), strict=False)
        for (eid, rid, ac, fid, dep, doc, typ, day, dxi, tc, tot, drg, mat, exm, oth, fnd, slf, sch, hb) in cols:
            task.advance()
            code, name = OP_DX[dxi]
            yield (eid, rid, ac, ac[:6], fid, dep, doc, typ, day, day, code, name, tc, tot, drg, mat, exm, oth, fnd,
                   slf, sch, False, None, hb)

    ip_drug = np.round(ip_cost * ip_drug_share).astype(np.int64)
    ip_mat = np.round(ip_cost * ip_mat_share).astype(np.int64)
    ip_exam = np.round((ip_cost - ip_drug - ip_mat) * 0.45).astype(np.int64)
    ip_other = ip_cost - ip_drug - ip_mat - ip_exam
    ip_fund = np.where(insured[ii], np.round(ip_cost * np.minimum(ip_fund_share, 0.9)), 0).astype(np.int64)
    staff_ip = w.pick(rng, w.staff, ip_fac[ik])
    dept_ip = w.pick(rng, w.depts, ip_fac[ik])

    def ip_rows():
        ad = dates(admit[ik])
        dd = dates(discharge[ik])
        for j, x in enumerate(ik.tolist()):
            task.advance()
            code, name = IP_DX[dx[x]]
            still = bool(in_hosp[x])
            tcm_stay = bool(ip_pick[x] == 1 and ip_level[x] == 0)  # at the county TCM hospital
            money = [None] * 7 if still else _money(np.array([ip_cost[x], ip_drug[x], ip_mat[x], ip_exam[x],
                                                              ip_other[x], ip_fund[x], ip_cost[x] - ip_fund[x]]))
            herbal = None if still else _money(np.array([round(ip_drug[x] * HERBAL_SHARE_TCM_STAY) if tcm_stay
                                                         else 0]))[0]
            yield (int(ip_ids[j]), int(ii[x]) + 1, villages[ii[x]], villages[ii[x]][:6], int(ip_fac[x]), dept_ip[j],
                   staff_ip[j], "inpatient", ad[j], None if still else dd[j], code, name,
                   tcm_stay, *money, str(scheme_of[ii[x]]), bool(surgery[x]),
                   None if referred_from[j] < 0 else int(referred_from[j]), herbal)

    def ref_rows():
        d = dates(np.maximum(admit[rk] - rng.integers(1, 4, len(rk)), 0))
        for j, x in enumerate(rk.tolist()):
            task.advance()
            cost = int(_lognormal(rng, np.array([110.0]))[0] * 100)
            fund = int(cost * 0.52) if insured[ii[x]] else 0
            yield (int(ref_ids[j]), int(ii[x]) + 1, villages[ii[x]], villages[ii[x]][:6], int(center_ids[town[ii[x]]]),
                   None, None, "outpatient", d[j], d[j], IP_DX[dx[x]][0], "转上级医院",
                   False, *_money(np.array([cost, cost * 35 // 100, cost * 4 // 100, cost * 40 // 100,
                                             cost - cost * 79 // 100, fund, cost - fund])), str(scheme_of[ii[x]]),
                   False, None, "0.00")

    def visitor_rows():
        d = dates(nv_day)
        for j in range(nv):
            task.advance()
            cost = int(nv_cost[j])
            yield (int(nv_ids[j]), None, f"{nv_county[j]}000000", str(nv_county[j]), int(county_ids[0]), None, None,
                   "outpatient", d[j], d[j], "J06.9", "急性上呼吸道感染", False,
                   *_money(np.array([cost, cost * 3 // 10, cost * 7 // 100, cost * 4 // 10, cost - cost * 77 // 100,
                                     0, cost])), "none", False, None, "0.00")

    cols = ["id", "resident", "area_code", "residence_county", "facility", "department", "doctor", "type",
            "admit_date", "discharge_date", "main_icd10", "main_diagnosis", "tcm", "total_cost", "drug_cost",
            "material_cost", "exam_cost", "other_cost", "insurance_paid", "self_pay", "scheme", "surgery",
            "referred_from", "herbal_cost"]
    with transaction.atomic():
        load_rows(Encounter, cols, ref_rows())  # referral visits first: admissions point at them
        load_rows(Encounter, cols, op_rows())
        load_rows(Encounter, cols, ip_rows())
        load_rows(Encounter, cols, visitor_rows())
        _secondary(rng, ik, ii, ip_ids, chronic, people, surgery, dx, admit, day0)
        reset_sequences(Encounter, Diagnosis, Procedure)
    task.done()

    # ---- settlements: every insured encounter settles; care outside the county only here
    _settlements(ctx, rng, w, first, ndays, day0, vi, vday, fac, level, emergency, op_cost, fund_c, missing, insured,
                 employee, villages, op_ids, ii, ik, ip_ids, ip_fac, ip_level, admit, discharge, in_hosp, ip_cost,
                 ip_fund, dx, outside, los, rk, ref_ids)
    _population_and_deaths(ctx, rng, people, ages, female, villages, first, ndays)
    ctx.extra["encounter_count"] = m + len(ik) + len(rk) + nv


def _secondary(rng, ik, ii, ip_ids, chronic, people, surgery, dx, admit, day0) -> None:
    diag, proc = [], []
    for j, x in enumerate(ik.tolist()):
        p = people[ii[x]]
        seq = 1
        for tag, code, name in (("htn", "I10", "原发性高血压"), ("t2dm", "E11.9", "2型糖尿病")):
            if tag in p.tags and IP_DX[dx[x]][0] != code:
                diag.append((int(ip_ids[j]), seq, code, name))
                seq += 1
        if surgery[x]:
            code, name = SURGERY[IP_DX[dx[x]][0]]
            proc.append((int(ip_ids[j]), code, name, True, (day0 + np.timedelta64(int(admit[x]) + 1, "D")).item()))
    load_rows(Diagnosis, ["encounter", "seq", "icd10", "name"], diag)
    load_rows(Procedure, ["encounter", "code", "name", "is_surgery", "date"], proc)


def _settlements(ctx, rng, w, first, ndays, day0, vi, vday, fac, level, emergency, op_cost, fund_c, missing, insured,
                 employee, villages, op_ids, ii, ik, ip_ids, ip_fac, ip_level, admit, discharge, in_hosp, ip_cost,
                 ip_fund, dx, outside, los, rk, ref_ids) -> None:
    code_of = {f.pk: (f.code, f.name, f.care_level.value) for f in w.by_code.values()}
    county = w.county_code
    task = ctx.task("生成医保结算", int(insured[vi].sum()) + len(ik))
    def scheme(i):
        return "employee" if employee[i] else "resident"

    def current_rows():
        sid = 0  # renumbered by rows()
        d = (day0 + vday.astype("timedelta64[D]")).astype(object)
        ok = np.flatnonzero(insured[vi] & ~missing)
        for x in ok.tolist():
            task.advance()
            sid += 1
            c, name, t = code_of[int(fac[x])]
            r = int(vi[x])
            yield (sid, f"JS{sid:010d}", r + 1, villages[r], villages[r][:6], scheme(r), "outpatient", c, name, county,
                   t, d[x], None, d[x], *_money(np.array([op_cost[x], fund_c[x],
                                                                                   op_cost[x] - fund_c[x]])), "",
                   int(op_ids[x]))
        ad = (day0 + admit.astype("timedelta64[D]")).astype(object)
        dd = (day0 + discharge.astype("timedelta64[D]")).astype(object)
        pos = {int(x): j for j, x in enumerate(ik.tolist())}
        o_codes = [o[0] for o in OUTSIDE]
        o_pick = rng.choice(len(OUTSIDE), size=len(ii), p=[o[3] for o in OUTSIDE])
        o_cost = np.round(_lognormal(rng, np.full(len(ii), 23500.0), 0.6) * 100).astype(np.int64)
        for x in range(len(ii)):
            r = int(ii[x])
            if not insured[r] or in_hosp[x] or discharge[x] < 0 or discharge[x] > ndays - 1:
                continue
            sid += 1
            if outside[x]:
                o = OUTSIDE[o_pick[x]]
                fund = int(o_cost[x] * (0.50 if o[2].startswith("4311") else 0.42))
                yield (sid, f"JS{sid:010d}", r + 1, villages[r], villages[r][:6], scheme(r), "inpatient",
                       o_codes[o_pick[x]],
                       o[1], o[2], "out_of_county", ad[x], dd[x], dd[x],
                       *_money(np.array([o_cost[x], fund, o_cost[x] - fund])), IP_DX[dx[x]][0], None)
                continue
            j = pos.get(x)
            if j is None:
                continue
            task.advance()
            c, name, t = code_of[int(ip_fac[x])]
            yield (sid, f"JS{sid:010d}", r + 1, villages[r], villages[r][:6], scheme(r), "inpatient", c, name, county,
                   t, ad[x], dd[x], dd[x],
                   *_money(np.array([ip_cost[x], ip_fund[x], ip_cost[x] - ip_fund[x]])), IP_DX[dx[x]][0],
                   int(ip_ids[j]))
        # outpatient care outside the county (specialist visits in the city), and pharmacy purchases
        n = len(villages)
        k = int(n * 0.12)
        who = rng.integers(0, n, k)
        days = _days(rng, k, first, ndays)
        dd2 = (day0 + days.astype("timedelta64[D]")).astype(object)
        cost = np.round(_lognormal(rng, np.full(k, 620.0)) * 100).astype(np.int64)
        for x in range(k):
            r = int(who[x])
            if not insured[r]:
                continue
            sid += 1
            fund = int(cost[x] * 0.3)
            yield (sid, f"JS{sid:010d}", r + 1, villages[r], villages[r][:6], scheme(r), "outpatient", OUTSIDE[0][0],
                   OUTSIDE[0][1], OUTSIDE[0][2], "out_of_county", dd2[x], None, dd2[x],
                   *_money(np.array([cost[x], fund, cost[x] - fund])), "", None)
        k = int(n * 0.25)
        who = rng.integers(0, n, k)
        days = _days(rng, k, first, ndays)
        dd3 = (day0 + days.astype("timedelta64[D]")).astype(object)
        cost = np.round(_lognormal(rng, np.full(k, 85.0)) * 100).astype(np.int64)
        for x in range(k):
            r = int(who[x])
            sid += 1
            fund = int(cost[x] * 0.6)
            yield (sid, f"JS{sid:010d}", r + 1, villages[r], villages[r][:6], scheme(r), "pharmacy", "P431127000001",
                   "蓝山县益丰大药房", county, "pharmacy", dd3[x], None, dd3[x],
                   *_money(np.array([cost[x], fund, cost[x] - fund])), "", None)

    # The twelve months before the year of encounters have their settlements (the insurance feed goes
    # back further than the encounter records): every settlement of the year is settled again a year
    # earlier, 1–10 % cheaper, complete with the out-of-county care and the pharmacies, so that growth
    # figures (N10G) have a whole comparison period and last year's months are not in-county only.
    births = [p.birth for p in ctx.extra["people"]]
    prior = ctx.rng("settlements-prior")  # its own generator: the year's rows draw exactly as before

    def year_back(d: dt.date | None) -> dt.date | None:
        return None if d is None else d.replace(year=d.year - 1, day=min(d.day, 28) if d.month == 2 else d.day)

    def rows():
        sid = 0
        for row in current_rows():
            sid += 1
            yield (sid, f"JS{sid:010d}", *row[2:])
            settle = year_back(row[13])
            if row[2] is not None and births[row[2] - 1] > settle:
                continue  # not born yet a year earlier
            f = 0.90 + 0.09 * prior.random()
            total, fund = int(_cents(row[14]) * f), int(_cents(row[15]) * f)
            sid += 1
            yield (sid, f"JS{sid:010d}", *row[2:11], year_back(row[11]), year_back(row[12]), settle,
                   *_money(np.array([total, fund, total - fund])), row[17], None)

    def with_reversals():
        """Every REVERSAL_EVERY-th in-county stay of the year is reversed (冲销) and settled again the same day
        with 3 % of its items refunded, as the insurance systems record a 退费: the stay still counts once.
        Appended after the other rows, so that their numbers stay as they were."""
        redo, last = [], 0
        for row in rows():
            last = row[0]
            if row[6] == "inpatient" and row[10] in IN_COUNTY_LEVELS and row[18] is not None \
                    and row[0] % REVERSAL_EVERY == 0:
                redo.append(row)
            yield (*row, "")
        for row in redo:
            total, fund = _cents(row[14]), _cents(row[15])
            last += 1
            yield (last, f"JS{last:010d}", *row[2:14], *_money(np.array([-total, -fund, fund - total]), signed=True),
                   *row[17:19], row[1])
            total2, fund2 = total * 97 // 100, fund * 97 // 100
            last += 1
            yield (last, f"JS{last:010d}", *row[2:14], *_money(np.array([total2, fund2, total2 - fund2])),
                   *row[17:19], "")

    cols = ["id", "settlement_no", "resident", "area_code", "residence_county", "scheme", "type", "facility_code",
            "facility_name", "facility_county", "facility_level", "admit_date", "discharge_date", "settle_date",
            "total_cost", "fund_paid", "self_pay", "main_icd10", "encounter", "reverses_no"]
    with transaction.atomic():
        load_rows(InsuranceSettlement, cols, with_reversals())
        reset_sequences(InsuranceSettlement)
    task.done()


def _population_and_deaths(ctx, rng, people, ages, female, villages, first, ndays) -> None:
    year = ctx.today.year
    band = np.where(ages < 1, 0, np.where(ages < 5, 1, np.minimum(ages // 5 * 5, 85)))
    town = np.array([v[:9] for v in villages])
    pop_rows = []
    for t in np.unique(town):
        for sex, fmask in (("M", ~female), ("F", female)):
            sel = (town == t) & fmask
            counts = np.bincount(band[sel], minlength=86)
            for b in [0, 1, *list(range(5, 90, 5))]:
                pop_rows.append((f"{t}000", year, sex, b, int(counts[b])))
    # deaths: NCD death rates 30–69 chosen so the premature mortality is ≈ 15 % (the national level),
    # higher in the worse townships; other causes at every age
    ncd = np.select([ages < 30, ages < 40, ages < 50, ages < 60, ages < 70, ages < 80],
                    [0.00005, 0.0007, 0.0019, 0.0046, 0.0105, 0.025], 0.06)
    order = {t: i for i, t in enumerate(sorted({v[:9] for v in villages}))}  # C.TOWNSHIPS order (镇, then 乡)
    t_idx = np.array([order[v[:9]] for v in villages])
    ncd = ncd * np.where(np.isin(t_idx, WORSE), 1.25, 1.0) * np.where(female, 0.7, 1.2)
    other = np.select([ages < 1, ages < 30, ages < 70], [0.004, 0.0005, 0.0015], 0.02)
    u = rng.random(len(people))
    dead_ncd = u < ncd
    dead_other = ~dead_ncd & (u < ncd + other)
    idx = np.flatnonzero(dead_ncd | dead_other)
    days = rng.integers(0, ndays, len(idx))
    rows = []
    for j, x in enumerate(idx.tolist()):
        p = people[x]
        cause = (NCD_CAUSES[rng.integers(0, len(NCD_CAUSES))] if dead_ncd[x]
                 else OTHER_CAUSES[rng.integers(0, len(OTHER_CAUSES))])
        rows.append((x + 1, p.village_code, p.sex, p.birth, int(ages[x]), first + dt.timedelta(days=int(days[j])),
                     cause))
    with transaction.atomic():
        load_rows(PopulationByAge, ["area_code", "year", "sex", "age_from", "population"], pop_rows)
        load_rows(Death, ["resident", "area_code", "sex", "birth_date", "age", "death_date", "cause_icd10"], rows)
        reset_sequences(PopulationByAge, Death)


def refresh_indicator_facts(ctx: DemoContext) -> None:
    """The demo's last step: aggregate every domain's records (encounters, settlements, referrals) into
    the indicators' monthly facts, and schedule the worker's recurring jobs."""
    from yigongti.indicators.jobs import schedule_indicator_jobs
    from yigongti.indicators.services import refresh_facts

    ctx.extra["facts"] = refresh_facts()
    schedule_indicator_jobs()
