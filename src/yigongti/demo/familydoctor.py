"""Family-doctor teams, packages, contracts, their fulfilment and the monthly assessment of the demo county.

About 200 teams at 450,000 residents (scaled with the population, at least one per township): each township's
teams have a county specialist, a township general practitioner (the leader), the village doctors of their
villages and a health manager; a big village may have two teams (the households split between them). Contracts
cover the key populations near the seeds' coverage (85–95 % by village, a few villages behind) and about 40 %
of everyone, with a remainder to chase; a share of them renewed from last year's, a few ended with a reason.
The packages' services are scheduled over each contract year and delivered: the chronic follow-ups, health
checks, maternal and child visits come from the registers written by ``demo.chronic`` and ``demo.publichealth``,
the other services (consultation, education, home visits …) are drawn, many inside the teams' weekly "118"
sessions. Everything is bulk-loaded with explicit keys (``demo.bulk``); the random draws come from the steps' own
generators, so the same seed gives the same county."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from yigongti.familydoctor.models import (
    ConsentKind,
    Contract,
    ContractStatus,
    DeliverySource,
    EndReason,
    MemberRole,
    MonthlyAssessment,
    PackageKind,
    PackageService,
    ScheduledService,
    ServiceDelivery,
    ServiceKind,
    ServicePackage,
    Team,
    TeamMember,
    TeamSession,
    TeamVillage,
)
from yigongti.orgs.models import Staff

from .bulk import analyze, load_rows, reset_sequences
from .context import DemoContext

FULL_COUNTY = 450_000
FULL_TEAMS = 200  # "家庭医生签约服务团队203个"
KEY_TAGS = frozenset({"tuopin", "dibao", "tekun", "jiance", "child", "maternal", "elderly", "htn", "t2dm", "smi",
                      "disabled"})
OVERALL_TARGET = 0.40  # share of all residents signed
BEHIND_VILLAGES = 0.08  # villages whose key-population coverage lags (70–80 %)

# (code, name, kind, fee, resident share, insurance share, public-health share, target tags, services)
# services: (code, name, kind, times a year, tags)
PACKAGES: list[tuple] = [
    ("JC", "基础服务包", PackageKind.BASIC, "0", "0", "0", "0", [], [
        ("FU", "高血压/糖尿病随访", ServiceKind.FOLLOW_UP, 4, ["htn", "t2dm"]),
        ("HC", "年度健康体检", ServiceKind.HEALTH_CHECK, 1, ["elderly", "htn", "t2dm"]),
        ("MAT", "孕产妇健康管理", ServiceKind.MATERNAL, 5, ["maternal"]),
        ("CH", "0–6岁儿童健康管理", ServiceKind.CHILD, 2, ["child"]),
        ("CONS", "健康咨询", ServiceKind.CONSULTATION, 1, []),
        ("EDU", "健康教育", ServiceKind.EDUCATION, 1, []),
    ]),
    ("LN", "老年人个性化服务包", PackageKind.PAID, "30", "10", "20", "0", ["elderly"], [
        ("HC", "年度健康体检", ServiceKind.HEALTH_CHECK, 1, []),
        ("HV", "上门服务", ServiceKind.HOME_VISIT, 2, []),
        ("TCM", "中医体质辨识", ServiceKind.TCM, 1, []),
        ("EDU", "健康教育", ServiceKind.EDUCATION, 2, []),
    ]),
    ("MB", "两病个性化服务包", PackageKind.PAID, "60", "20", "40", "0", ["htn", "t2dm"], [
        ("FU", "高血压/糖尿病随访", ServiceKind.FOLLOW_UP, 4, []),
        ("HC", "年度健康体检", ServiceKind.HEALTH_CHECK, 1, []),
        ("TEST", "血糖/血脂检测", ServiceKind.TEST, 2, []),
        ("MED", "用药指导", ServiceKind.MEDICATION, 4, []),
    ]),
    ("ET", "儿童个性化服务包", PackageKind.PAID, "20", "10", "10", "0", ["child"], [
        ("CH", "0–6岁儿童健康管理", ServiceKind.CHILD, 2, []),
        ("TCM", "中医药健康指导", ServiceKind.TCM, 2, []),
        ("CONS", "健康咨询", ServiceKind.CONSULTATION, 2, []),
    ]),
]
PAID_SHARE = {"LN": 0.12, "MB": 0.15, "ET": 0.10}  # of the signed residents the package fits
# plain strings as keys (a TextChoices member hashes by its name, not its value)
SOURCED = {"follow_up": DeliverySource.CHRONIC.value, "health_check": DeliverySource.HEALTH_CHECK.value,
           "maternal": DeliverySource.MATERNAL.value, "child": DeliverySource.CHILD.value}
PLACES = {"home_visit": "入户", "test": "乡镇卫生院"}


def load(model, columns: list[str], rows) -> int:
    """``bulk.load_rows`` without its per-value conversion on PostgreSQL: psycopg adapts the Python values
    (int, str, date, time, Decimal, bool, None) itself, which halves the Python time of the big tables."""
    if connection.vendor != "postgresql":
        return load_rows(model, columns, rows)
    table = model._meta.db_table
    quoted = ", ".join(f'"{model._meta.get_field(c).column}"' for c in columns)
    n = 0
    with connection.cursor() as cur, cur.cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


@contextmanager
def fast_load():
    """One transaction for a step's bulk load. On PostgreSQL, as a superuser (the demo's local database), the
    foreign-key triggers are skipped for it (``session_replication_role = replica``, reset at commit): every key
    here was just generated from rows this run wrote, and the demo's tests load the same rows on SQLite with
    the foreign keys enforced. Checking 2–3 million rows one trigger at a time is most of the load's time."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                row = cur.fetchone()
                if row and row[0]:
                    cur.execute("SET LOCAL session_replication_role = replica")
        yield


def next_id(model) -> int:
    return (model.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def year_after(day: dt.date) -> dt.date:
    """The last day of a yearly term starting on ``day``."""
    try:
        return day.replace(year=day.year + 1) - dt.timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


@dataclass
class _Team:
    pk: int
    township: str  # township region code
    villages: list[str]
    facility: int  # the township center
    gp: int
    specialist: int
    manager: int
    village_doctors: list[int]


@dataclass
class CareWorld:
    """What the family-doctor, chronic and public-health steps share (``ctx.extra['care']``)."""

    teams: list[_Team] = field(default_factory=list)
    team_of_household: dict[int, int] = field(default_factory=dict)  # household id -> team pk (of its village)
    team_by_pk: dict[int, _Team] = field(default_factory=dict)
    village_doctors: dict[str, list[int]] = field(default_factory=dict)  # village code -> staff ids of its clinic
    clinic: dict[str, int] = field(default_factory=dict)  # village code -> the village clinic's facility id
    center: dict[str, int] = field(default_factory=dict)  # township code -> the township center's facility id
    staff_at: dict[int, dict[str, list[int]]] = field(default_factory=dict)  # facility id -> profession -> staff
    lead: int = 0
    packages: dict[str, int] = field(default_factory=dict)  # code -> pk
    services: dict[str, list[tuple[int, str, str, int, list[str]]]] = field(default_factory=dict)
    contracts: list[tuple] = field(default_factory=list)  # active: (pk, resident idx, team, package code, start, end)
    contract_of: dict[int, int] = field(default_factory=dict)  # resident idx -> index into contracts
    # the registers' records delivering package services: resident idx -> [(kind, date, source id, staff, facility)]
    records: dict[int, list[tuple[str, dt.date, str, int | None, int]]] = field(
        default_factory=lambda: defaultdict(list))
    enrolled: dict[int, list[tuple[str, dt.date | None, bool]]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def care_world(ctx: DemoContext) -> CareWorld:
    return ctx.extra.setdefault("care", CareWorld())


# ---- teams ---------------------------------------------------------------------------------------------------


def _staff_index(w: CareWorld) -> None:
    for pk, fid, prof in Staff.objects.order_by("id").values_list("id", "work_facility_id", "profession"):
        w.staff_at.setdefault(fid, {}).setdefault(prof, []).append(pk)


def team_count(population: int, n_townships: int) -> int:
    return max(n_townships, round(FULL_TEAMS * population / FULL_COUNTY))


def _allocate(n: int, shares: dict[str, float]) -> dict[str, int]:
    """``n`` teams over the townships by population (largest remainder), at least one each."""
    exact = {k: n * v for k, v in shares.items()}
    out = {k: max(1, int(x)) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: -(exact[k] - int(exact[k]))):
        if sum(out.values()) >= n:
            break
        out[k] += 1
    return out


def _build_teams(ctx: DemoContext, w: CareWorld, rng: random.Random) -> None:
    townships = sorted((r for r in ctx.regions.values() if r.level == "township"), key=lambda r: r.code)
    people = ctx.extra["people"]
    pop_by_village: dict[str, int] = defaultdict(int)
    for p in people:
        pop_by_village[p.village_code] += 1
    villages_of = {t.code: sorted(v.code for v in ctx.regions.values()
                                  if v.level == "village" and v.code.startswith(t.code[:9])) for t in townships}
    pop_of = {t.code: sum(pop_by_village[v] for v in villages_of[t.code]) for t in townships}
    total = max(1, sum(pop_of.values()))
    n_total = team_count(ctx.population, len(townships))
    lead = ctx.community.lead_facility
    w.lead = lead.pk
    alloc = _allocate(n_total, {t.code: pop_of[t.code] / total for t in townships})
    specialists = list(w.staff_at.get(lead.pk, {}).get("physician", []))
    since0 = ctx.today - dt.timedelta(days=3 * 365)
    teams: list[_Team] = []
    members: list[tuple] = []
    links: list[tuple] = []
    tid, k_spec = next_id(Team), 0
    for t in townships:
        center = ctx.facilities[f"{t.code[:9]}B200"]
        w.center[t.code] = center.pk
        at = w.staff_at.get(center.pk, {})
        gps = at.get("physician", []) or at.get("assistant", [])
        managers = at.get("public_health", []) or at.get("nurse", [])
        vs = villages_of[t.code]
        for v in vs:
            clinic = ctx.facilities[f"{v}D600"]
            w.clinic[v] = clinic.pk
            w.village_doctors[v] = w.staff_at.get(clinic.pk, {}).get("village_doctor", [])
        n = alloc[t.code]
        groups: list[list[str]]
        if n <= len(vs):  # consecutive villages per team, about the same population each
            groups = [list(g) for g in np.array_split(np.array(vs, dtype=object), n)]
        else:  # every village its team, the biggest villages a second one
            groups = [[v] for v in vs]
            groups += [[v] for v in sorted(vs, key=lambda v: -pop_by_village[v])[: n - len(vs)]]
        for j, g in enumerate(groups):
            gp = gps[j % len(gps)]
            team = _Team(tid, t.code, g, center.pk, gp, specialists[k_spec % len(specialists)],
                         managers[j % len(managers)], sorted({s for v in g for s in w.village_doctors[v]}))
            k_spec += 1
            teams.append(team)
            since = since0 + dt.timedelta(days=int(rng.randrange(0, 200)))
            code = f"FD{t.code[6:9]}{j + 1:02d}"
            members += [(team.pk, gp, MemberRole.GENERAL_PRACTITIONER, since, None, ""),
                        (team.pk, team.specialist, MemberRole.SPECIALIST, since, None, ""),
                        (team.pk, team.manager, MemberRole.HEALTH_MANAGER, since, None, "")]
            members += [(team.pk, s, MemberRole.VILLAGE_DOCTOR, since, None, "") for s in team.village_doctors]
            nurses = at.get("nurse", [])
            if nurses:
                members.append((team.pk, nurses[j % len(nurses)], MemberRole.NURSE, since, None, ""))
            if len(gps) > 1 and rng.random() < 0.25:  # membership history: the GP before the present one
                left = ctx.today - dt.timedelta(days=int(rng.randrange(90, 400)))
                members.append((team.pk, gps[(j + 1) % len(gps)], MemberRole.GENERAL_PRACTITIONER, since, left,
                                "调岗"))
            links += [(team.pk, v, since) for v in g]
            teams_row = (tid, ctx.community.pk, code, f"{t.name}家庭医生团队{j + 1}", center.pk, gp)
            team.row = teams_row  # type: ignore[attr-defined]
            tid += 1
    load(Team, ["id", "community", "code", "name", "facility", "leader", "active", "created"],
              [(*tm.row, True, timezone.now()) for tm in teams])  # type: ignore[attr-defined]
    mid = next_id(TeamMember)
    load(TeamMember, ["id", "team", "staff", "role", "since", "until", "note"],
              [(mid + i, *m) for i, m in enumerate(members)])
    lid = next_id(TeamVillage)
    load(TeamVillage, ["id", "team", "village", "since", "until"],
              [(lid + i, t, ctx.regions[v].pk, s, None) for i, (t, v, s) in enumerate(links)])
    reset_sequences(Team, TeamMember, TeamVillage)
    w.teams = teams
    w.team_by_pk = {t.pk: t for t in teams}
    by_village: dict[str, list[int]] = defaultdict(list)
    for tm in teams:
        for v in tm.villages:
            by_village[v].append(tm.pk)
    for p in people:
        options = by_village[p.village_code]
        w.team_of_household.setdefault(p.household, options[p.household % len(options)])


def _build_packages(ctx: DemoContext, w: CareWorld) -> None:
    year = ctx.today.year
    for code, name, kind, fee, rs, ins, ph, tags, services in PACKAGES:
        pack = ServicePackage.objects.create(
            community=ctx.community, code=f"{code}{year}", name=name, kind=kind, annual_fee=Decimal(fee),
            resident_share=Decimal(rs), insurance_share=Decimal(ins), public_health_share=Decimal(ph),
            target_tags=tags, description=f"{name}（{year}年版）：" + "、".join(s[1] for s in services))
        w.packages[code] = pack.pk
        made = PackageService.objects.bulk_create([
            PackageService(package=pack, code=c, name=n, kind=k, times_per_year=times, tags=t)
            for c, n, k, times, t in services])
        w.services[code] = [(s.pk, str(s.kind), s.code, s.times_per_year, list(s.tags)) for s in made]


# ---- contracts -------------------------------------------------------------------------------------------------


SIGNATURE = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 80"><path d="M10 40 C 30 10, 50 70, 70 30 '
             'S 110 20, 130 45 M150 50 L 190 30 L 230 52" fill="none" stroke="#000" stroke-width="2"/></svg>')
# one page: "Demo county — signed family-doctor agreement (scan placeholder)"; every paper contract of the demo
# points to it, so that 查看扫描件 opens a file
_SCAN_TEXT = b"BT /F1 14 Tf 20 100 Td (Demo county: signed family-doctor agreement) Tj ET"
_SCAN = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
         b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 420 200]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>"
         b"endobj\n4 0 obj<</Length " + str(len(_SCAN_TEXT)).encode() + b">>stream\n" + _SCAN_TEXT
         + b"\nendstream endobj\n5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
         b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _demo_scan() -> str:
    """The storage name (core consent storage of familydoctor.services.contracts) of the demo's placeholder scan."""
    from django.conf import settings

    name = "demo/consent-scan.pdf"
    path = Path(settings.DATA_DIR) / "consent" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_SCAN)
    return name


def _package_for(tags: set[str], r: float) -> str:
    acc = 0.0
    for code, share in PAID_SHARE.items():
        target = next(p[7] for p in PACKAGES if p[0] == code)
        if tags & set(target):
            acc += share
            if r < acc:
                return code
    return "JC"


def _build_contracts(ctx: DemoContext, w: CareWorld, rng: random.Random) -> dict[str, Any]:
    people = ctx.extra["people"]
    today = ctx.today
    n = len(people)
    key = np.array([bool(KEY_TAGS & set(p.tags)) for p in people])
    key_share = float(key.mean()) if n else 0.0
    villages = sorted({p.village_code for p in people})
    behind = {v for v in villages if rng.random() < BEHIND_VILLAGES}
    key_rate = {v: (rng.uniform(0.70, 0.80) if v in behind else rng.uniform(0.86, 0.96)) for v in villages}
    mean_key = float(np.mean(list(key_rate.values()))) if villages else 0.9
    other_rate = max(0.03, (OVERALL_TARGET - key_share * mean_key) / max(1e-9, 1 - key_share))
    # whole households sign together: one draw per household, the members follow it
    hh_draw: dict[int, float] = {}
    hh_day: dict[int, dt.date] = {}
    u, pick, consent, renewed = ([rng.random() for _ in range(n)] for _k in range(4))
    cid = next_id(Contract)
    scan_name = _demo_scan()
    fee = {p[0]: (Decimal(p[4]), Decimal(p[5])) for p in PACKAGES}
    rows: list[tuple] = []
    old_rows: list[tuple] = []
    region_pk = {code: r.pk for code, r in ctx.regions.items()}
    died_or_moved = 0
    batch_members: dict[int, int] = defaultdict(int)
    signed: list[int] = []
    for i, p in enumerate(people):
        hid = p.household
        if hid not in hh_draw:
            hh_draw[hid] = float(rng.random())
            hh_day[hid] = today - dt.timedelta(days=int(rng.randrange(5, 360)))
        rate = key_rate[p.village_code] if key[i] else other_rate
        # a household's members mostly share its fate; a few sign alone
        x = hh_draw[hid] if u[i] < 0.8 else float(u[i])
        if x < rate:
            signed.append(i)
            batch_members[hid] += 1
    for i in signed:
        p = people[i]
        hid = p.household
        team = w.team_of_household[hid]
        tm = w.team_by_pk[team]
        docs = w.village_doctors.get(p.village_code) or [tm.gp]
        doctor = docs[hid % len(docs)]
        code = _package_for(set(p.tags), float(pick[i]))
        start = hh_day[hid]
        end = year_after(start)
        batch = f"HH{hid:08d}{start:%y%m%d}" if batch_members[hid] > 1 else ""
        kind = ConsentKind.TABLET if consent[i] < 0.2 else ConsentKind.PAPER
        signature = SIGNATURE if kind == ConsentKind.TABLET else ""
        scan = scan_name if kind == ConsentKind.PAPER else ""
        renewed_from = None
        if renewed[i] < 0.62:  # signed last year too: that contract was renewed into this one
            old_start = start.replace(year=start.year - 1) if not (start.month == 2 and start.day == 29) \
                else start.replace(year=start.year - 1, day=28)
            old_rows.append((cid, f"QY{old_start:%Y}{cid:08d}", i + 1, hid, batch, team, doctor,
                             w.packages[code], region_pk[p.village_code], old_start, old_start,
                             start - dt.timedelta(days=1), ContractStatus.RENEWED, None, *fee[code], "",
                             kind, scan, signature, None, "", ""))
            renewed_from = cid
            cid += 1
        w.contract_of[i] = len(w.contracts)
        w.contracts.append((cid, i, team, code, start, end))
        rows.append((cid, f"QY{start:%Y}{cid:08d}", i + 1, hid, batch, team, doctor, w.packages[code],
                     region_pk[p.village_code], start, start, end, ContractStatus.ACTIVE, renewed_from, *fee[code],
                     "", kind, scan, signature, None, "", ""))
        cid += 1
    # last year's contracts that were not renewed: expired (the remainder to chase) or ended with a reason
    signed_set = set(signed)
    lapsed = [i for i in range(n) if i not in signed_set and rng.random() < 0.06]
    reasons = [EndReason.MOVED, EndReason.UNREACHABLE, EndReason.REFUSED, EndReason.WITHDREW, EndReason.DIED]
    for i in lapsed:
        p = people[i]
        hid = p.household
        team = w.team_of_household[hid]
        start = today - dt.timedelta(days=int(rng.randrange(380, 700)))
        end = year_after(start)
        ended = rng.random() < 0.3
        reason = reasons[int(rng.randrange(0, len(reasons)))] if ended else ""
        ended_on = start + dt.timedelta(days=int(rng.randrange(30, 330))) if ended else None
        died_or_moved += ended
        old_rows.append((cid, f"QY{start:%Y}{cid:08d}", i + 1, hid, "", team, w.team_by_pk[team].gp,
                         w.packages["JC"], region_pk[p.village_code], start, start, end,
                         ContractStatus.ENDED if ended else ContractStatus.EXPIRED, None, Decimal(0), Decimal(0), "",
                         ConsentKind.PAPER, scan_name, "", ended_on, reason,
                         "家属告知" if ended else ""))
        cid += 1
    cols = ["id", "number", "resident", "household", "household_batch", "team", "doctor", "package", "village",
            "signed_on", "start", "end", "status", "renewed_from", "resident_fee", "insurance_fee",
            "out_of_area_reason", "consent_kind", "consent_file", "consent_signature", "ended_on", "end_reason",
            "end_note"]
    now = timezone.now()
    load(Contract, [*cols, "created"], ((*r, now) for r in old_rows))
    load(Contract, [*cols, "created"], ((*r, now) for r in rows))
    reset_sequences(Contract)
    return {"contracts": len(rows), "previous_contracts": len(old_rows), "ended": died_or_moved,
            "key_share": round(key_share, 3), "other_rate": round(other_rate, 3)}


def build_familydoctor(ctx: DemoContext) -> None:
    """Teams, packages and contracts (before the registers: the chronic and public-health steps read them)."""
    t0 = time.perf_counter()
    rng = ctx.pyrandom("familydoctor")
    w = care_world(ctx)
    with fast_load():
        _staff_index(w)
        _build_teams(ctx, w, rng)
        _build_packages(ctx, w)
        counts = _build_contracts(ctx, w, rng)
    analyze(Team, TeamMember, TeamVillage, Contract)
    counts["teams"] = len(w.teams)
    ctx.extra["familydoctor"] = counts
    w.timings["familydoctor_s"] = time.perf_counter() - t0


# ---- fulfilment ------------------------------------------------------------------------------------------------


def plan(times: int, start: dt.date, end: dt.date) -> list[tuple[int, dt.date, dt.date]]:
    """``times`` visits spread evenly over the contract year: (seq, due_from, due_by)."""
    days = (end - start).days + 1
    out = []
    for k in range(times):
        a = start + dt.timedelta(days=days * k // times)
        b = start + dt.timedelta(days=days * (k + 1) // times - 1)
        out.append((k + 1, a, b))
    return out


def _sessions(ctx: DemoContext, w: CareWorld, rng: random.Random) -> dict[int, list[tuple[int, dt.date]]]:
    """Each team's weekly "118" day over the last 26 weeks (a few skipped, a few short of 8 hours)."""
    sid = next_id(TeamSession)
    rows, present = [], []
    out: dict[int, list[tuple[int, dt.date]]] = defaultdict(list)
    now = timezone.now()
    for tm in w.teams:
        weekday = int(rng.randrange(0, 5))
        first = ctx.today - dt.timedelta(days=26 * 7)
        first += dt.timedelta(days=(weekday - first.weekday()) % 7)
        day, k = first, 0
        while day < ctx.today:
            if rng.random() >= 0.06:
                short = rng.random() < 0.07
                village = tm.villages[k % len(tm.villages)]
                rows.append((sid, tm.pk, day, "08:00:00", "15:30:00" if short else "17:00:00",
                             w.clinic[village], ctx.regions[village].pk, "118服务日：村卫生室坐诊、入户随访", now))
                crew = [tm.gp, tm.manager, *tm.village_doctors[:2]]
                if rng.random() < 0.6:
                    crew.append(tm.specialist)
                present += [(sid, s) for s in dict.fromkeys(crew)]
                out[tm.pk].append((sid, day))
                sid += 1
                k += 1
            day += dt.timedelta(days=7)
    load(TeamSession, ["id", "team", "date", "starts", "ends", "place", "village", "note", "recorded_at"], rows)
    through = TeamSession.present.through
    pid = next_id(through)
    load(through, ["id", "teamsession", "staff"], [(pid + i, s, st) for i, (s, st) in enumerate(present)])
    reset_sequences(TeamSession, through)
    return out


def build_fulfilment(ctx: DemoContext) -> None:
    """The contract year's schedule of every active contract and what was delivered of it."""
    t0 = time.perf_counter()
    rng = ctx.pyrandom("fulfilment")
    w = care_world(ctx)
    people = ctx.extra["people"]
    today = ctx.today
    with fast_load():
        sessions = _sessions(ctx, w, rng)
        sched_id, deliv_id = next_id(ScheduledService), next_id(ServiceDelivery)
        sched: list[tuple] = []
        deliv: list[tuple] = []
        now = timezone.now()
        for cpk, i, team, code, start, end in w.contracts:
            tags = set(people[i].tags)
            tm = w.team_by_pk[team]
            by_kind: dict[str, list[tuple[str, dt.date, str, int | None, int]]] = defaultdict(list)
            for rec in w.records.get(i, ()):
                if start <= rec[1] <= min(end, today):
                    by_kind[rec[0]].append(rec)
            for spk, kind, _code, times, stags in w.services[code]:
                if stags and not (tags & set(stags)):
                    continue
                slots = plan(times, start, end)
                if kind in SOURCED:
                    recs = sorted(by_kind.get(kind, []), key=lambda r: r[1])
                    for k, (seq, a, b) in enumerate(slots):  # each record marks the first open slot done
                        delivery = None
                        if k < len(recs):
                            _kind, on, source_id, by, fac = recs[k]
                            delivery = deliv_id
                            deliv.append((deliv_id, cpk, spk, on, by, fac, "", None, SOURCED[kind], source_id,
                                          "", now))
                            deliv_id += 1
                        sched.append((sched_id, cpk, spk, seq, a, b, delivery))
                        sched_id += 1
                    continue
                for seq, a, b in slots:
                    delivery = None
                    if a <= today:
                        p_done = 0.86 if b < today else 0.35
                        if rng.random() < p_done:
                            last = min(b, today)
                            in_window = [(s, d) for s, d in sessions.get(team, ()) if a <= d <= last]
                            session = None
                            if in_window and rng.random() < 0.55:
                                session, on = in_window[int(rng.randrange(0, len(in_window)))]
                            else:
                                on = a + dt.timedelta(days=int(rng.randrange(0, (last - a).days + 1)))
                                if b < today and rng.random() < 0.1:  # late: after the window
                                    on = min(today, b + dt.timedelta(days=int(rng.randrange(1, 30))))
                            by = tm.village_doctors[0] if tm.village_doctors else tm.gp
                            if kind in ("tcm", "test"):
                                by = tm.gp
                            place = PLACES.get(kind, "村卫生室")
                            fac = w.clinic[tm.villages[0]] if place == "村卫生室" else tm.facility
                            delivery = deliv_id
                            deliv.append((deliv_id, cpk, spk, on, by, fac, place, session, DeliverySource.MANUAL,
                                          "", "", now))
                            deliv_id += 1
                    sched.append((sched_id, cpk, spk, seq, a, b, delivery))
                    sched_id += 1
        load(ServiceDelivery, ["id", "contract", "service", "delivered_on", "by", "facility", "place", "session",
                                    "source", "source_id", "note", "recorded_at"], deliv)
        load(ScheduledService, ["id", "contract", "service", "seq", "due_from", "due_by", "delivery"], sched)
        reset_sequences(ScheduledService, ServiceDelivery)
    analyze(ScheduledService, ServiceDelivery, TeamSession)
    ctx.extra.setdefault("familydoctor", {}).update(
        {"scheduled": len(sched), "deliveries": len(deliv), "sessions": sum(len(v) for v in sessions.values())})
    w.timings["fulfilment_s"] = time.perf_counter() - t0


# ---- the monthly assessment and the due lists ------------------------------------------------------------------


def _months_back(today: dt.date, n: int) -> list[dt.date]:
    first = today.replace(day=1)
    out = []
    for _ in range(n):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        out.append(first)
    return sorted(out)


def _assess_with_service(months: list[dt.date]) -> bool:
    """H2's assessment service when present (the same scores as the compute button)."""
    try:
        from yigongti.familydoctor.services import assessment as svc
    except ImportError:
        return False
    fn: Any = getattr(svc, "compute_month", None) or getattr(svc, "compute", None)
    if fn is None:
        return False
    from yigongti.core.actor import Actor

    actor = Actor.system("demo")
    for month in months:
        try:
            fn(actor, month)
        except TypeError:
            fn(month, actor=actor)
    return True


def _assess_fallback(ctx: DemoContext, w: CareWorld, months: list[dt.date]) -> int:
    """The scores from the rows just generated, with the weights the assessment uses (40/20/30/10)."""
    rows: list[tuple] = []
    aid = next_id(MonthlyAssessment)
    with connection.cursor() as cur:
        for month in months:
            nxt = (month + dt.timedelta(days=32)).replace(day=1)
            cur.execute(
                "SELECT c.team_id, COUNT(*), COUNT(d.id), SUM(CASE WHEN d.delivered_on <= s.due_by THEN 1 ELSE 0 END)"
                " FROM familydoctor_scheduledservice s JOIN familydoctor_contract c ON c.id = s.contract_id"
                " LEFT JOIN familydoctor_servicedelivery d ON d.id = s.delivery_id"
                " WHERE s.due_by >= %s AND s.due_by < %s GROUP BY c.team_id", [month, nxt])
            fulfil = {t: (n, done, on_time or 0) for t, n, done, on_time in cur.fetchall()}
            cur.execute(
                "SELECT team_id, COUNT(*), SUM(CASE WHEN ends >= '16:00' THEN 1 ELSE 0 END)"
                " FROM familydoctor_teamsession WHERE date >= %s AND date < %s GROUP BY team_id", [month, nxt])
            sess = {t: (n, full or 0) for t, n, full in cur.fetchall()}
            scored: list[tuple] = []
            for tm in w.teams:
                n, done, on_time = fulfil.get(tm.pk, (0, 0, 0))
                s_n, s_full = sess.get(tm.pk, (0, 0))
                chronic = w.enrolled.get(tm.pk, [])
                managed = len(chronic)
                controlled = sum(1 for _c, _d, ok in chronic if ok)
                f = 100.0 * done / n if n else 100.0
                t = 100.0 * on_time / n if n else 100.0
                o = 100.0 * controlled / managed if managed else 100.0
                s = min(100.0, 100.0 * s_full / 4)
                total = 0.4 * f + 0.2 * t + 0.3 * o + 0.1 * s
                scored.append((tm.pk, f, t, o, s, total, {
                    "scheduled": n, "delivered": done, "on_time": on_time, "managed": managed,
                    "controlled": controlled, "sessions": s_n, "sessions_8h": s_full,
                    "weights": {"fulfilment": 40, "timeliness": 20, "outcomes": 30, "sessions": 10}}))
            scored.sort(key=lambda r: -r[5])
            for rank, (team, f, t, o, s, total, details) in enumerate(scored, start=1):
                rows.append((aid, team, month, *(Decimal(f"{x:.1f}") for x in (f, t, o, s, total)), rank, details,
                             timezone.now()))
                aid += 1
    load(MonthlyAssessment, ["id", "team", "month", "fulfilment", "timeliness", "outcomes", "sessions", "total",
                                  "rank", "details", "computed_at"],
              ((*r[:-3], r[-3], _json(r[-2]), r[-1]) for r in rows))
    reset_sequences(MonthlyAssessment)
    return len(rows)


def _json(value: dict) -> Any:
    import json

    return json.dumps(value, ensure_ascii=False)


def build_assessment_and_due(ctx: DemoContext) -> None:
    """Last months' 月考核 and the county's due lists (run after every register is written)."""
    t0 = time.perf_counter()
    w = care_world(ctx)
    months = _months_back(ctx.today, 6)
    if not _assess_with_service(months):
        with fast_load():
            _assess_fallback(ctx, w, months)
    t1 = time.perf_counter()
    from yigongti.familydoctor.due import recompute

    due = recompute(ctx.today)
    w.timings["assessment_s"] = t1 - t0
    w.timings["due_s"] = time.perf_counter() - t1
    ctx.extra.setdefault("familydoctor", {})["due"] = due
    ctx.extra.setdefault("timings", {}).update({f"care_{k}": v for k, v in w.timings.items()})
