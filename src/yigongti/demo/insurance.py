"""The demo county's medical insurance: settlement lists that group into plausible DRGs, weights, rates and
DIP groups from those cases, the fund ledger of two years, budgets near the community's own spend (tight this
year, a closed prior year with its settlement), a few 转外就医备案 filings and pay-later accounts.

1. Coding. Each inpatient stay's diagnoses and procedures are recoded from the demo's national ICD-10 codes
   (``encounters.IP_DX``, ``SURGERY``) to 医保版 codes taken from the rule tables' own lists: the main diagnosis
   from the list of the ADRG the condition belongs to (``pack.main_diagnoses_of``), the operation from the list
   of the surgical ADRG (``pack.procedures_of``), PCI, ventilation (< 96 h and ≥ 96 h) and perineal repair from
   theirs, complications (CC/MCC) from ``pack.cc`` / ``pack.mcc`` for a share of the stays (more of them at the
   county hospital and in the elderly). Only codes valid under every shipped version are used, so a stay
   groups under 2.0 and 1.1 alike. The encounter's own rows are recoded (``main_icd10``, ``Diagnosis``,
   ``Procedure``, 医保版 extension codes such as ``Z37.000x001`` in full) so that the settlement list built from
   them (``discharges.sync_discharges``) says the same, and a later sync changes nothing. About 2 % stay
   incomplete on purpose (a national code the coder did not map, a procedure code not in the table, a newborn
   without its birth weight): the completeness check and the ungroupable list have something to show.
2. Grouping under every version, weights from the community's cases, rates per level (the mean cost per unit
   of weight of the level's cases, so the year's DRG payments are near its costs), the default 基层病组 list,
   DIP groups, point values and the priced cases.
3. The ledger of the prior and the current year (the current year's complete months only), the budgets — the
   prior year's set so that the resident scheme ends with a surplus and the employee scheme with a reasonable
   overspend; this year's resident budget just under the forecast, so that it runs out in the year's last
   month(s) — and the residents' prior year closed into its settlement (by workload; the employees' is left
   for the officer to close).
4. A few filings for residents treated outside the county and a few pay-later accounts (open, overdue, settled).

The twelve months of settlements before the encounters' year end on the demo's today a year back; the days
between that and the year's start (less than a month) are filled here from the same days a month later, so
that the prior year the budget and the forecast read is complete. Runs before ``refresh_indicator_facts``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from django.db import transaction
from django.db.models import Max, Sum

from yigongti.core.actor import Actor
from yigongti.core.carelevel import care_level
from yigongti.encounters.models import Diagnosis, Encounter, InsuranceSettlement, Procedure

from .bulk import load_rows, reset_sequences
from .context import DemoContext
from .encounters import IP_DX, IP_W

DX_LENGTH = Diagnosis._meta.get_field("icd10").max_length or 16  # the encounter's diagnosis columns

# the demo's main diagnoses → the ADRG whose main-diagnosis list codes the medical stay (prefix: the codes
# that refine the national code; the 3-character category when none does)
MEDICAL = {"J18.9": "ES3", "I63.9": "BR1", "I25.1": "FR5", "J44.1": "ET2", "O80": "OZ1", "S72.0": "IR2",
           "K80.2": "HU1", "K35.8": "GZ1", "C34.9": "ER1", "E11.9": "KS1", "I10": "FV2", "N20.0": "LX1",
           "I50.9": "FR2"}
# the demo's operations (encounters.SURGERY) → the surgical ADRG whose procedure list codes them
SURGICAL = {"81.51": "IC2", "51.23": "HC2", "47.01": "GE2", "55.04": "LB1", "32.41": "EB1"}
PCI = ("FM3", "36.06")  # 经皮冠状动脉支架植入 for some coronary stays at the county hospital
VENT_SHORT, VENT_LONG = ("EK1", "96.71"), ("AH2", "96.72")  # 有创呼吸机 < 96 h, ≥ 96 h
TRACHEOSTOMY = "31.1"  # 暂时性气管切开 (the ≥ 96 h ADRG asks for it or a tracheostomy status)
PERINEAL = ("OC2", "73.6")  # 会阴切开 at some deliveries
DELIVERY_OUTCOME = "Z37.000"  # 单胎活产
NEWBORN = ("PU1", ("P23", "P59", "P39", "P22"))  # 足月儿相关疾病
PRETERM = "P07.3"  # 早产婴儿 (a secondary diagnosis of a light newborn)
SECONDARY = {"I10": ("FV2", "I10.x0"), "E11.9": ("KS1", "E11.9")}
MCC_PREFIXES = ("J96.0", "N17", "A41", "R57", "I50.0")
CC_PREFIXES = ("E87", "D64", "I48", "J90", "E86", "N39", "K21", "E78", "J98")
RESPIRATORY = ("J18.9", "J44.1", "I50.9", "I63.9")
INCOMPLETE = 0.015  # stays left with the national main code (the coder did not map it)
BAD_PROCEDURE = 0.05  # of the surgical stays: the national 4-digit procedure code kept
NO_WEIGHT = 0.2  # of the newborns: birth weight missing
CHUNK = 900  # ids per UPDATE (SQLite's variable limit is far above; PostgreSQL has none to speak of)


def _money(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _actor() -> Actor:
    return Actor.system("demo")


# ---- 1. coding ----------------------------------------------------------------------------------------------

class _Codes:
    """Code pools from the tables of every shipped version (a code must be valid in all of them)."""

    def __init__(self):
        from yigongti.insurance.drg import VERSIONS, pack_for

        self.packs = [pack_for(v) for v in VERSIONS]
        self.main = self.packs[0]
        # the main diagnoses some ADRG of each version names (a code valid as main but in no ADRG's list groups
        # nowhere under that version)
        self.listed = [frozenset().union(*(p.main_diagnoses_of(a) for a in p.adrg_names)) for p in self.packs]

    def ok_dx(self, c: str) -> bool:
        return len(c) <= DX_LENGTH and "+" not in c and "*" not in c and all(p.valid_diagnosis(c) for p in self.packs)

    def ok_proc(self, c: str) -> bool:
        return len(c) <= 12 and all(p.valid_procedure(c) for p in self.packs)

    def dx_of(self, adrg: str, prefixes: str | tuple[str, ...], listed: bool = True) -> list[str]:
        pool = sorted(c for c in self.main.main_diagnoses_of(adrg) if self.ok_dx(c)
                      and (not listed or all(c in names for names in self.listed)))
        pre = (prefixes,) if isinstance(prefixes, str) else prefixes
        got = [c for c in pool if c.startswith(pre)]
        if not got and isinstance(prefixes, str):
            got = [c for c in pool if c.startswith(prefixes[:3])]
        if not got:
            raise LookupError(f"no main diagnosis {prefixes} in {adrg} valid under every version")
        return got

    def proc_of(self, adrg: str, prefix: str) -> list[str]:
        got = sorted(c for c in self.main.procedures_of(adrg) if c.startswith(prefix) and self.ok_proc(c))
        if not got:
            raise LookupError(f"no procedure {prefix} in {adrg} valid under every version")
        return got

    def complications(self, table: frozenset[str], prefixes: tuple[str, ...]) -> list[str]:
        return sorted(c for c in table if c.startswith(prefixes) and self.ok_dx(c))

    def name(self, code: str) -> str:
        names = self.main.diagnosis_names if code[:1].isalpha() else self.main.procedure_names
        return (names.get(code) or "")[:60]


def _pick(rng, pool: list[str], first: float = 0.6) -> str:
    """The pool's first (most general) code for ``first`` of the draws, else any other."""
    if len(pool) == 1 or rng.random() < first:
        return pool[0]
    return pool[int(rng.integers(1, len(pool)))]


def _update_in_chunks(qs, ids: list[int], field: str = "pk", **values) -> None:
    for i in range(0, len(ids), CHUNK):
        qs.filter(**{f"{field}__in": ids[i:i + CHUNK]}).update(**values)


def admit_after_birth() -> int:
    """The encounters generator draws a year of admissions for a baby born during that year, some before its
    birth: such a stay starts on the day of birth instead (its length kept; its settlement is left as it was)."""
    from django.db.models import F

    n = 0
    for e in Encounter.objects.filter(type="inpatient", admit_date__lt=F("resident__birth_date")).select_related(
            "resident"):
        assert e.resident is not None  # the filter joins it
        los = (e.discharge_date - e.admit_date) if e.discharge_date else None
        e.admit_date = e.resident.birth_date
        if los is not None:
            e.discharge_date = e.admit_date + los
        e.save(update_fields=["admit_date", "discharge_date"])
        n += 1
    return n


def code_stays(ctx: DemoContext, rng) -> dict:
    """Recode every discharged inpatient stay (see the module); returns the per-stay extras the settlement
    lists need besides the codes (ventilation hours, birth weight, discharge mode)."""
    codes = _Codes()
    # a vaginal delivery groups by its outcome (Z37, an other diagnosis), not by its main diagnosis's list
    main_pool = {k: codes.dx_of(a, k, listed=k != "O80") for k, a in MEDICAL.items()}
    outcome = sorted(c for c in codes.main.diagnosis_names if c.startswith(DELIVERY_OUTCOME)
                     and all(p.known_diagnosis(c) for p in codes.packs))[:1]
    surgical = {k: codes.proc_of(a, k) for k, a in SURGICAL.items()}
    pci = codes.proc_of(*PCI)
    vent_short, vent_long, tracheostomy = codes.proc_of(*VENT_SHORT), codes.proc_of(*VENT_LONG), \
        codes.proc_of(VENT_LONG[0], TRACHEOSTOMY)
    perineal = codes.proc_of(*PERINEAL)
    newborn = codes.dx_of(NEWBORN[0], NEWBORN[1])
    preterm = codes.dx_of("PS3", PRETERM)
    secondary = {k: codes.dx_of(a, p) for k, (a, p) in SECONDARY.items()}
    mcc = codes.complications(codes.main.mcc, MCC_PREFIXES)
    cc = codes.complications(codes.main.cc, CC_PREFIXES)
    for national in MEDICAL:
        assert not codes.ok_dx(national), national  # an unmapped national code is incomplete, never grouped

    stays = list(Encounter.objects.filter(type="inpatient", discharge_date__isnull=False).values_list(
        "id", "main_icd10", "facility__type", "surgery", "resident__birth_date", "resident__sex", "admit_date",
        "discharge_date"))
    ops = dict(Procedure.objects.filter(encounter__type="inpatient", is_surgery=True).values_list("encounter_id",
                                                                                                  "code"))
    seqs: dict[int, int] = dict(Diagnosis.objects.filter(encounter__type="inpatient").values("encounter_id")
                                .annotate(m=Max("seq")).values_list("encounter_id", "m"))
    main_of: dict[str, list[int]] = defaultdict(list)  # new main code → encounters
    op_of: dict[tuple[str, str], list[int]] = defaultdict(list)  # (old, new) procedure code → encounters
    new_dx: list[tuple] = []
    new_proc: list[tuple] = []
    extras: dict[int, dict] = {}
    others = [i for i, (c, _n) in enumerate(IP_DX) if c != "O80"]
    other_w = np.array([IP_W[i] for i in others]) / sum(IP_W[i] for i in others)
    for eid, icd, ftype, surgery, birth, sex, admit, discharge in stays:
        if icd not in MEDICAL:
            continue  # not one of the demo's conditions: left as it is
        county = care_level(ftype).value == "county"
        los = max((discharge - admit).days, 1) if discharge else 1
        age_days = (admit - birth).days if birth else 9999
        national = icd
        if icd == "O80" and not (sex == "F" and 15 * 365 <= age_days < 50 * 365):
            # the encounters draw 单胎顺产 for anyone: a man's or a child's stay is for another condition
            icd = IP_DX[others[int(rng.choice(len(others), p=other_w))]][0]
        old = age_days >= 65 * 365
        extra: dict = {}
        seq = seqs.get(eid, 0)

        def add_dx(code: str, name: str = "", _eid=eid) -> None:
            nonlocal seq
            seq += 1
            new_dx.append((_eid, seq, code, name or codes.name(code)))

        def add_proc(code: str, surgery_flag: bool = False, _eid=eid, _admit=admit) -> None:
            new_proc.append((_eid, code, codes.name(code), surgery_flag, _admit + dt.timedelta(days=1)))

        if rng.random() < INCOMPLETE:  # the national code stays: 主要诊断不是有效编码
            if icd != national:
                main_of[icd].append(eid)
            continue
        if 0 <= age_days <= 28:  # a newborn: 足月儿/早产儿 codes and the birth weight
            main = "P23.900" if icd == "J18.9" and "P23.900" in newborn else _pick(rng, newborn, 0.3)
            weight = int(np.clip(rng.normal(3250, 420), 2500, 4600))
            if rng.random() < 0.2:
                weight = int(rng.integers(1700, 2450))
                add_dx(preterm[0])
            extra["birth_weight_g"] = None if rng.random() < NO_WEIGHT else weight
            main_of[main].append(eid)
            extras[eid] = extra
            continue
        main = _pick(rng, main_pool[icd])
        main_of[main].append(eid)
        op = ops.get(eid)
        if surgery and op in surgical:
            new = op if rng.random() < BAD_PROCEDURE else _pick(rng, surgical[op], 0.8)
            op_of[(op, new)].append(eid)
        elif icd == "I25.1" and county and rng.random() < 0.18:
            add_proc(_pick(rng, pci, 0.7))
        if icd == "O80":
            add_dx(outcome[0], "单胎活产")  # the delivery's outcome, which the delivery ADRG (OR1) asks for
            if rng.random() < 0.15:
                add_proc(_pick(rng, perineal, 0.5))
        if icd in RESPIRATORY and county and old:
            u = rng.random()
            if u < 0.012 and los >= 6:
                hours = int(rng.integers(96, min(los * 24, 400) + 1))
                add_proc(tracheostomy[0])
                add_proc(vent_long[0])
                extra["ventilation_hours"] = hours
            elif u < 0.05 and los >= 2:
                hours = int(rng.integers(12, min(los * 24, 95) + 1))
                add_proc(vent_short[0])
                extra["ventilation_hours"] = hours
        p_mcc = (0.07 if county else 0.025) + (0.05 if old else 0)
        p_cc = (0.18 if county else 0.09) + (0.08 if old else 0)
        u = rng.random()
        if u < p_mcc:
            add_dx(_pick(rng, mcc, 0.0))
        elif u < p_mcc + p_cc:
            add_dx(_pick(rng, cc, 0.0))
        if rng.random() < 0.04 and county:
            extra["discharge_mode"] = "3"  # back to the township center (下转)
        elif rng.random() < 0.01:
            extra["discharge_mode"] = "4"
        if extra:
            extras[eid] = extra
    with transaction.atomic():
        for code, ids in main_of.items():
            _update_in_chunks(Encounter.objects, ids, main_icd10=code, main_diagnosis=codes.name(code))
        for national, pool in secondary.items():
            rows = list(Diagnosis.objects.filter(encounter__type="inpatient", icd10=national).values_list("pk",
                                                                                                           flat=True))
            picks = defaultdict(list)
            for pk in rows:
                picks[_pick(rng, pool, 0.5)].append(pk)
            for code, pks in picks.items():
                _update_in_chunks(Diagnosis.objects, pks, icd10=code, name=codes.name(code))
        for (old_code, new), ids in op_of.items():
            if new != old_code:
                _update_in_chunks(Procedure.objects.filter(code=old_code), ids, field="encounter_id", code=new,
                                  name=codes.name(new))
        load_rows(Diagnosis, ["encounter", "seq", "icd10", "name"], new_dx)
        load_rows(Procedure, ["encounter", "code", "name", "is_surgery", "date"], new_proc)
        reset_sequences(Diagnosis, Procedure)
    return extras


def complete_lists(extras: dict[int, dict]) -> int:
    """The settlement lists' fields the encounter does not carry: ventilation hours, birth weights, modes."""
    from yigongti.insurance.models import Discharge

    rows = list(Discharge.objects.filter(encounter_id__in=[e for e, x in extras.items() if x]))
    for d in rows:
        for k, v in extras[d.encounter_id].items():
            setattr(d, k, v)
    Discharge.objects.bulk_update(rows, ["ventilation_hours", "birth_weight_g", "discharge_mode"], batch_size=500)
    return len(rows)


# ---- 2. the prior year complete -------------------------------------------------------------------------------

def fill_prior_gap(ctx: DemoContext) -> int:
    """Settlements for the days between the prior-year copies' end (today a year back) and the encounters'
    first day: the same days a month later, 3 % cheaper, without their encounter (another stay)."""
    today = ctx.today
    first = dt.date(today.year - (today.month < 12), today.month % 12 + 1, 1)
    start = today.replace(year=today.year - 1, day=min(today.day, 28) if today.month == 2 else today.day) \
        + dt.timedelta(days=1)
    if start >= first:
        return 0
    cols = ["settlement_no", "resident", "area_code", "residence_county", "scheme", "type", "facility_code",
            "facility_name", "facility_county", "facility_level", "admit_date", "discharge_date", "settle_date",
            "total_cost", "fund_paid", "self_pay", "main_icd10"]

    def back(d):
        if d is None:
            return None
        m, y = (d.month - 1, d.year) if d.month > 1 else (12, d.year - 1)
        return d.replace(year=y, month=m, day=min(d.day, calendar.monthrange(y, m)[1]))

    src_end = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    source = InsuranceSettlement.objects.filter(settle_date__gte=first, settle_date__lt=src_end, reverses_no="")
    last = InsuranceSettlement.objects.aggregate(m=Max("id"))["m"] or 0
    rows = []
    for values in source.values_list("resident", "area_code", "residence_county", "scheme", "type",
                                     "facility_code", "facility_name", "facility_county", "facility_level",
                                     "admit_date", "discharge_date", "settle_date", "total_cost", "fund_paid",
                                     "main_icd10").iterator(chunk_size=5000):
        settle = back(values[11])
        if not start <= settle < first:
            continue
        last += 1
        total, fund = _money(values[12] * Decimal("0.97")), _money(values[13] * Decimal("0.97"))
        rows.append((f"JS{last:010d}", *values[:9], back(values[9]), back(values[10]), settle, total, fund,
                     total - fund, values[14]))
    with transaction.atomic():
        load_rows(InsuranceSettlement, cols, rows)
        reset_sequences(InsuranceSettlement)
    return len(rows)


# ---- 3. weights, rates, DIP, prices -------------------------------------------------------------------------

def _rates(year: int, version: str) -> list[dict]:
    """The mean total cost per unit of weight of each level's grouped cases (rounded to 10 yuan), per scheme;
    the 基层病组 rate ("" level) is that of the 基层病组 cases at every level."""
    from yigongti.insurance.models import CaseGroup, DrgWeight

    weights = {w.drg: w for w in DrgWeight.objects.filter(year=year, version=version)}
    cost: dict[str, Decimal] = defaultdict(Decimal)
    units: dict[str, Decimal] = defaultdict(Decimal)
    for drg, ftype, total in (CaseGroup.objects.filter(version=version, status="grouped",
                                                       discharge__discharge_date__year=year)
                              .values_list("drg", "discharge__facility__type", "discharge__total_cost")):
        w = weights.get(drg)
        if w is None or not total:
            continue
        for key in (care_level(ftype).value, *([""] if w.grassroots else [])):
            cost[key] += total
            units[key] += w.weight
    out = []
    for level in ("county", "township", ""):
        if not units[level]:
            continue
        rate = (cost[level] / units[level] / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 10
        for scheme, factor in (("resident", Decimal(1)), ("employee", Decimal("1.05"))):
            out.append({"level": level, "scheme": scheme, "rate": str(_money(rate * factor))})
    return out


def price_years(years: list[int], *, actor: Actor) -> dict:
    from yigongti.insurance import dip, weights
    from yigongti.insurance.drg import VERSIONS
    from yigongti.insurance.ledger import payment_version

    pay = payment_version()
    out = {}
    for y in years:
        for v in VERSIONS:
            weights.compute_weights(y, v, actor=actor)
        weights.set_grassroots(y, pay, None, actor=actor)
        weights.set_rates(y, _rates(y, pay), actor=actor)
        out[y] = dip.build_groups(y, actor=actor)
    return out


def point_values(years: list[int], *, actor: Actor, settle: set[int]) -> None:
    from yigongti.insurance import dip
    from yigongti.insurance.models import Budget

    for y in years:
        for scheme in ("resident", "employee"):
            if not Budget.objects.filter(year=y, scheme=scheme).exists():
                continue
            dip.estimate_point_value(y, scheme, actor=actor)
            if y in settle:
                dip.settle_point_value(y, scheme, actor=actor)


# ---- 4. ledger, budgets, the closed year --------------------------------------------------------------------

RULES = {"withholding_rate": "0.03", "retained_share": "0.60", "overspend_cap": "0.05", "overspend_share": "0.50",
         "out_of_county_deduction": "0.05"}
# the prior year's budget ÷ its actual spend: a surplus for the residents, a reasonable overspend for employees
PRIOR_BUDGET_FACTOR = {"resident": Decimal("1.035"), "employee": Decimal("0.98")}
# this year's budget ÷ the forecast of the year's spend: tight for the residents, room for employees
THIS_BUDGET_FACTOR = {"resident": Decimal("0.985"), "employee": Decimal("1.03")}


def _spend(community, year: int, scheme: str) -> Decimal:
    from yigongti.insurance.models import LedgerEntry

    return LedgerEntry.objects.filter(community=community, year=year, scheme=scheme) \
        .aggregate(s=Sum("fund_paid"))["s"] or Decimal(0)


def _forecast(community, year: int, scheme: str):
    """The ledger's forecast of the year's spend (the pure ``insurance.forecast`` over the posted months and the
    past years), without a budget: the demo sets the budget from it."""
    from yigongti.insurance import forecast
    from yigongti.insurance.models import LedgerEntry

    history: dict[int, list[Decimal]] = {}
    for r in (LedgerEntry.objects.filter(community=community, scheme=scheme, year__lte=year)
              .values("year", "month").annotate(fund=Sum("fund_paid")).order_by()):
        history.setdefault(r["year"], [Decimal(0)] * 12)[r["month"] - 1] = r["fund"] or Decimal(0)
    months = history.pop(year, [Decimal(0)] * 12)
    posted = set(LedgerEntry.objects.filter(community=community, scheme=scheme, year=year)
                 .values_list("month", flat=True).distinct())
    return forecast.forecast(year, {m: months[m - 1] for m in posted}, history)


def ledger_and_budgets(ctx: DemoContext, *, actor: Actor) -> dict:
    from yigongti.insurance import budget as budgets
    from yigongti.insurance import ledger

    community, year = ctx.community, ctx.today.year
    ledger.post_year(community, year - 1, actor=actor)
    for m in range(1, ctx.today.month):  # the months of this year that have ended
        ledger.post_month(community, year, m, actor=actor)
    out: dict = {}
    for scheme in budgets.SCHEMES:
        actual = _money(_spend(community, year - 1, scheme))
        target = _money(actual * PRIOR_BUDGET_FACTOR[scheme])
        growth = Decimal("0.05")
        prior = budgets.set_budget(community, year - 1, scheme, {
            **RULES, "prior_spend": str(_money(target / (1 + growth))), "growth_rate": str(growth),
            "prealloc": "even", "note": "演示：按上年支出与 5% 增长测算"}, actor=actor)
        f = _forecast(community, year, scheme)
        wanted = _money(f.expected * THIS_BUDGET_FACTOR[scheme]) if f.months_posted else actual * Decimal("1.05")
        growth = (wanted / actual - 1).quantize(Decimal("0.0001")) if actual else Decimal("0.05")
        current = budgets.set_budget(community, year, scheme, {
            **RULES, "prior_spend": str(actual), "growth_rate": str(growth), "prealloc": "seasonal",
            "note": "演示：按上年支出与医保经办、医共体协商的增长率"}, actor=actor)
        out[scheme] = {"prior": prior, "current": current}
    return out


def close_prior_year(ctx: DemoContext, budgets: dict, *, actor: Actor) -> list:
    """The prior year of the resident scheme closed (its surplus shared by workload); the employee scheme's
    prior year, a reasonable overspend, is left for the insurance officer to close (the browser story)."""
    from yigongti.insurance.settlement import close_year

    return [close_year(budgets["resident"]["prior"], "workload", {"basis": "workload", "inpatient_factor": "10"},
                       actor=actor)]


# ---- 5. filings and pay-later -------------------------------------------------------------------------------

def filings_and_pay_later(ctx: DemoContext, rng, *, actor: Actor) -> dict:
    from yigongti.insurance import filings, pay_later

    today = ctx.today
    outside = list(InsuranceSettlement.objects.filter(
        facility_level="out_of_county", type="inpatient", reverses_no="", resident__isnull=False,
        admit_date__gte=today - dt.timedelta(days=150), admit_date__lte=today)
        .order_by("admit_date", "pk").values_list("resident_id", "facility_name", "admit_date", "main_icd10")[:400])
    picks = sorted(rng.choice(len(outside), size=min(12, len(outside)), replace=False).tolist()) if outside else []
    filed = 0
    for i in picks:
        resident, hospital, admit, icd = outside[i]
        filings.file_out_of_county({"resident": resident, "hospital": hospital,
                                    "reason": f"县内无法诊治（{icd}），经县中心医院转诊", "valid_from":
                                    admit - dt.timedelta(days=int(rng.integers(1, 6)))}, actor=actor)
        filed += 1
    stays = list(Encounter.objects.filter(type="inpatient", discharge_date__isnull=False,
                                          facility__type__startswith="C",
                                          discharge_date__gte=today - dt.timedelta(days=60))
                 .order_by("discharge_date", "pk")[:300])
    chosen = sorted(rng.choice(len(stays), size=min(15, len(stays)), replace=False).tolist()) if stays else []
    opened = settled = 0
    for j, i in enumerate(chosen):
        e = stays[i]
        kind = j % 3  # open (due later), overdue (due passed), settled
        due = today + dt.timedelta(days=int(rng.integers(5, 25))) if kind == 0 else \
            e.discharge_date + dt.timedelta(days=int(rng.integers(7, 20)))
        if kind == 1 and due >= today:
            due = today - dt.timedelta(days=1)
        account = pay_later.open_pay_later(e, {"due_date": due.isoformat()}, actor=actor)
        opened += 1
        if kind == 2:
            pay_later.settle_pay_later(account, f"JS{e.pk:010d}H", actor=actor)
            settled += 1
    overdue = pay_later.mark_overdue(today, actor=actor)
    return {"filings": filed, "pay_later": opened, "settled": settled, "overdue": overdue}


# ---- the step -----------------------------------------------------------------------------------------------

def build_insurance(ctx: DemoContext) -> None:
    """The demo step (see the module): after the encounters and referrals, before the indicator facts."""
    from yigongti.insurance.discharges import group_discharges, sync_discharges
    from yigongti.insurance.models import Discharge
    from yigongti.insurance.rulepacks import register_packs

    actor, rng = _actor(), ctx.rng("insurance")
    register_packs(actor=actor)  # both shipped versions, counts verified; 2.0 is the payment version
    t: dict[str, float] = {}  # CPU seconds of each part
    t0 = time.process_time()
    gap = fill_prior_gap(ctx)
    t["gap_s"] = time.process_time() - t0
    admit_after_birth()
    extras = code_stays(ctx, rng)
    t["code_s"] = time.process_time() - t0 - sum(t.values())
    sync_discharges(actor=actor)
    complete_lists(extras)
    t["lists_s"] = time.process_time() - t0 - sum(t.values())
    group_discharges(actor=actor)
    t["group_s"] = time.process_time() - t0 - sum(t.values())
    years = sorted({d.year for d in Discharge.objects.values_list("discharge_date", flat=True).distinct()})
    dip_groups = price_years(years, actor=actor)
    t["weights_s"] = time.process_time() - t0 - sum(t.values())
    budgets = ledger_and_budgets(ctx, actor=actor)
    t["ledger_s"] = time.process_time() - t0 - sum(t.values())
    point_values(years, actor=actor, settle={ctx.today.year - 1})
    from yigongti.insurance.weights import price_cases

    for y in years:
        price_cases(y, actor=actor)
    t["price_s"] = time.process_time() - t0 - sum(t.values())
    closed = close_prior_year(ctx, budgets, actor=actor)
    other = filings_and_pay_later(ctx, rng, actor=actor)
    t["close_s"] = time.process_time() - t0 - sum(t.values())
    ctx.extra["insurance"] = {"gap_settlements": gap, "years": years, "dip": dip_groups, "closed": len(closed),
                              **other, "timings": t}
