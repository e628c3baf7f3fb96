"""The county's due and overdue work (``DueItem``), rebuilt in bulk by set-based SQL.

``recompute(today)`` rebuilds every list with one set-based ``SELECT`` over the registers into a temporary table
(no per-resident Python loop), then applies the difference to ``DueItem`` (rows no longer due deleted, new ones
inserted, the rest untouched): on PostgreSQL a few seconds for 450,000 residents (``bench/fd_due.py``).
``refresh_resident(resident_id)`` runs the same statement for one resident only, so a service that has just
written a follow-up, a visit, a dose or a contract calls it and the lists are right at once.

What is due (``DueKind``), each row with ``due_from``/``due_by`` (overdue = ``due_by`` before today):

- ``renewal``: an active contract ending within ``RENEWAL_DAYS`` (due from end − 30 d to its end);
- ``service``: an open ``ScheduledService`` of an active contract, for the package services not delivered through
  another register (follow-ups, checks, maternal and child visits have their own kinds);
- ``chronic``: each managed enrolment, due by its ``next_due`` (a new enrolment: ``enrolled_on`` + 14 d), from 14 days
  before;
- ``check``: residents aged 65+ and managed chronic patients without a health check this calendar year, due by the
  anniversary of their last check (at the latest 31 December);
- ``maternal`` / ``child``: each window of the maternal / child schedule (``publichealth.schedules``) not yet visited;
  a missed window stays (overdue) until the next window opens (the last one for ``MISSED_GRACE_DAYS``);
- ``vaccine``: the next dose of each vaccine of the national schedule (``publichealth.immunisation``) not given, due
  from the later of the minimum age and the minimum interval after the previous dose, by the schedule's
  complete-by age (as ``immunisation.due_doses``; its cross-vaccine ``after`` rule is not applied here);
  children 0–6 only (the programme's lists; older catch-up is on request), and not after the dose's catch-up age.

Only work due within ``HORIZON_DAYS`` is listed (and everything overdue). The team of an item is the resident's
active contract's team, else the current team of their village."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

HORIZON_DAYS = 30
RENEWAL_DAYS = 30
CHRONIC_WINDOW_DAYS = 14
MISSED_GRACE_DAYS = 30
VACCINE_GRACE_DAYS = 30
# package services delivered through another register: they have their own due kinds
SOURCED_SERVICE_KINDS = ("follow_up", "health_check", "maternal", "child")


@dataclass(frozen=True)
class Window:
    code: str
    label: str
    start: int  # inclusive day offsets from the basis date
    end: int
    basis: str  # lmp_days / delivery_days / birth_days
    expire: int  # offset after which a missed window is no longer listed


@dataclass(frozen=True)
class Dose:
    vaccine: str
    dose: int
    name: str
    recommended: int
    min_age: int
    min_interval: int
    until: int  # catch-up until this age in days
    complete_by: int = 0  # age in days by which the dose should be given (0: recommended + VACCINE_GRACE_DAYS)


# Fallbacks only while publichealth.schedules / publichealth.immunisation are not importable: the same windows
# from 国家基本公共卫生服务规范（第三版）2017 and 国家免疫规划疫苗儿童免疫程序及说明（2021年版）.
_MATERNAL_FALLBACK = [
    ("antenatal_1", "孕13周前建册（第1次产前检查）", 0, 90, "lmp_days"),
    ("antenatal_2", "孕16–20周产前随访", 112, 146, "lmp_days"),
    ("antenatal_3", "孕21–24周产前随访", 147, 174, "lmp_days"),
    ("antenatal_4", "孕28–36周产前随访", 196, 258, "lmp_days"),
    ("antenatal_5", "孕37–40周产前随访", 259, 286, "lmp_days"),
    ("postpartum", "产后7天内访视", 3, 7, "delivery_days"),
    ("postpartum_42", "产后42天健康检查", 42, 56, "delivery_days"),
]
_CHILD_FALLBACK = [
    ("newborn", "新生儿家庭访视", 0, 7, "birth_days"),
    ("month_1", "满月健康管理", 28, 30, "birth_days"),
] + [(f"month_{m}", f"{m}月龄健康检查", m * 30 - 7, m * 30 + 14, "birth_days") for m in (3, 6, 8, 12, 18, 24, 30, 36)] \
  + [(f"year_{y}", f"{y}岁健康检查", y * 365 - 30, y * 365 + 60, "birth_days") for y in (4, 5, 6)]
_DOSE_FALLBACK = [
    ("HepB", 1, "乙肝疫苗第1剂", 0, 0, 0), ("HepB", 2, "乙肝疫苗第2剂", 30, 28, 28),
    ("HepB", 3, "乙肝疫苗第3剂", 180, 60, 60), ("BCG", 1, "卡介苗", 0, 0, 0),
    ("IPV", 1, "脊灰灭活疫苗第1剂", 60, 42, 0), ("IPV", 2, "脊灰灭活疫苗第2剂", 90, 70, 28),
    ("bOPV", 1, "脊灰减毒活疫苗第1剂", 120, 98, 28), ("bOPV", 2, "脊灰减毒活疫苗第2剂", 1460, 1460, 28),
    ("DTaP", 1, "百白破疫苗第1剂", 90, 90, 0), ("DTaP", 2, "百白破疫苗第2剂", 120, 118, 28),
    ("DTaP", 3, "百白破疫苗第3剂", 150, 146, 28), ("DTaP", 4, "百白破疫苗第4剂", 540, 540, 180),
    ("DT", 1, "白破疫苗", 2190, 2190, 0), ("MMR", 1, "麻腮风疫苗第1剂", 240, 240, 0),
    ("MMR", 2, "麻腮风疫苗第2剂", 540, 540, 28), ("JE-L", 1, "乙脑减毒活疫苗第1剂", 240, 240, 0),
    ("JE-L", 2, "乙脑减毒活疫苗第2剂", 730, 730, 365), ("MenA", 1, "A群流脑多糖疫苗第1剂", 180, 180, 0),
    ("MenA", 2, "A群流脑多糖疫苗第2剂", 270, 270, 90), ("MenAC", 1, "A群C群流脑多糖疫苗第1剂", 1095, 1095, 365),
    ("MenAC", 2, "A群C群流脑多糖疫苗第2剂", 2190, 2190, 1095), ("HepA-L", 1, "甲肝减毒活疫苗", 540, 540, 0),
]


def _expire(rows: list[tuple[str, str, int, int, str]]) -> list[Window]:
    out = []
    for i, (code, label, start, end, basis) in enumerate(rows):
        nxt = next((r for r in rows[i + 1:] if r[4] == basis and r[2] > end), None)
        expire = nxt[2] if nxt is not None else end + MISSED_GRACE_DAYS
        out.append(Window(code, label[:80], int(start), int(end), basis, max(expire, end + 1)))
    return out


def maternal_windows() -> list[Window]:
    try:
        from yigongti.publichealth import schedules

        rows = [(w.code, w.label, w.start, w.end, w.basis) for w in schedules.maternal().visits]
    except (ImportError, AttributeError, OSError, ValueError):
        rows = list(_MATERNAL_FALLBACK)
    return _expire(rows)


def child_windows() -> list[Window]:
    try:
        from yigongti.publichealth import schedules

        rows = [(w.code, w.label, w.start, w.end, w.basis) for w in schedules.child().visits]
    except (ImportError, AttributeError, OSError, ValueError):
        rows = list(_CHILD_FALLBACK)
    return _expire(rows)


def dose_rules() -> list[Dose]:
    try:
        from yigongti.publichealth import immunisation

        out = []
        for d in immunisation.schedule().doses:
            until = d.catch_up_until_days if d.catch_up_until_days is not None else 14 * 365
            out.append(Dose(d.vaccine, int(d.dose), f"{d.name}"[:80], int(d.recommended_age_days),
                            int(d.min_age_days), int(d.min_interval_days or 0), int(until),
                            int(getattr(d, "complete_by_days", 0) or 0)))
        if out:
            return out
    except (ImportError, AttributeError, OSError, ValueError):
        pass
    return [Dose(v, n, name, rec, mn, iv, 18 * 365) for v, n, name, rec, mn, iv in _DOSE_FALLBACK]


# ---- SQL ------------------------------------------------------------------------------------------------------


INSERT_TARGET = """INSERT INTO familydoctor_dueitem
            (resident_id, kind, ref, label, due_from, due_by, village_id, area_code, team_id, computed_at)"""
NEW = "fd_due_new"  # the temporary table the full recompute builds before it applies the difference (SQLite)
DIFF = "fd_due_diff"  # on PostgreSQL: only the differences (new rows, ids of stale ones)
LOCK_KEY = 7_120_001  # pg_advisory_xact_lock: one writer of the due lists at a time
_SAME = """n.resident_id = d.resident_id AND n.kind = d.kind AND n.ref = d.ref AND n.label = d.label
        AND n.due_from = d.due_from AND n.due_by = d.due_by AND n.area_code = d.area_code
        AND COALESCE(n.village_id, 0) = COALESCE(d.village_id, 0) AND COALESCE(n.team_id, 0) = COALESCE(d.team_id, 0)"""


class _Dialect:
    def __init__(self, vendor: str):
        self.pg = vendor == "postgresql"

    def add(self, expr: str, days: str | int) -> str:
        """``expr`` (a date) plus ``days`` (an integer expression)."""
        if self.pg:
            return f"({expr} + ({days}))"
        return f"date({expr}, ({days}) || ' days')"

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.pg else f"MAX({a}, {b})"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.pg else f"MIN({a}, {b})"

    def d(self, value: dt.date) -> str:
        """A date literal (values we compute, never user text)."""
        return f"DATE '{value.isoformat()}'" if self.pg else f"'{value.isoformat()}'"


def _q(text: str) -> str:
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


def _values(rows: Iterable[tuple], cols: str) -> str:
    body = ", ".join("(" + ", ".join(_q(v) if isinstance(v, str) else str(int(v)) for v in row) + ")" for row in rows)
    return f"{cols} AS (VALUES {body})"


def _statement(today: dt.date, dialect: _Dialect, one_resident: bool, target: str = INSERT_TARGET,
               diff: bool = False) -> str:
    D = dialect
    t = D.d(today)
    horizon = D.d(today + dt.timedelta(days=HORIZON_DAYS))
    jan1, dec31 = D.d(today.replace(month=1, day=1)), D.d(today.replace(month=12, day=31))
    try:
        age65 = today.replace(year=today.year - 65)
        age7 = today.replace(year=today.year - 7)
    except ValueError:  # 29 February
        age65 = today.replace(year=today.year - 65, day=28)
        age7 = today.replace(year=today.year - 7, day=28)
    mw, cw, doses = maternal_windows(), child_windows(), dose_rules()
    vacc_cut = D.d(age7)  # the immunisation programme's lists: children 0–6 (older catch-up is by request)
    who = "AND r.id = %(rid)s" if one_resident else ""
    who_c = "AND {col} = %(rid)s" if one_resident else ""
    ctes = [
        _values([(w.code, w.label, w.start, w.end, w.expire, w.basis) for w in mw] or [("-", "-", 0, -1, 0, "x")],
                "mw(code, label, s, e, x, basis)"),
        _values([(w.code, w.label, w.start, w.end, w.expire) for w in cw] or [("-", "-", 0, -1, 0)],
                "cw(code, label, s, e, x)"),
        _values([(d.vaccine, d.dose, d.name, d.min_age, d.min_interval, d.until,
                  (d.complete_by - 1) if d.complete_by else d.recommended + VACCINE_GRACE_DAYS) for d in doses]
                or [("-", 1, "-", 0, 0, -1, 0)], "vr(vaccine, dose, name, rec, iv, until, cb)"),
        "vv AS (SELECT DISTINCT vaccine FROM vr)",
        f"""vg AS (SELECT g.child_id, g.vaccine, MAX(g.dose) AS top FROM publichealth_vaccinedose g
              {'WHERE g.child_id = %(rid)s' if one_resident else ''} GROUP BY g.child_id, g.vaccine)""",
        f"""vt AS (SELECT tv.village_id, MIN(tv.team_id) AS team_id FROM familydoctor_teamvillage tv
              JOIN familydoctor_team tm ON tm.id = tv.team_id AND tm.active
              WHERE tv.since <= {t} AND (tv.until IS NULL OR tv.until >= {t}) GROUP BY tv.village_id)""",
    ]
    parts = [
        # contracts to renew
        f"""SELECT c.resident_id, 'renewal' AS kind, c.number AS ref, '签约到期续约' AS label,
                   {D.add('c."end"', -RENEWAL_DAYS)} AS due_from, c."end" AS due_by
            FROM familydoctor_contract c
            WHERE c.status = 'active' AND c."end" <= {D.d(today + dt.timedelta(days=RENEWAL_DAYS))}
                  {who_c.format(col='c.resident_id')}""",
        # package services not delivered through another register
        f"""SELECT c.resident_id, 'service', ps.code || '-' || s.seq, ps.name, s.due_from, s.due_by
            FROM familydoctor_scheduledservice s
            JOIN familydoctor_contract c ON c.id = s.contract_id AND c.status = 'active'
            JOIN familydoctor_packageservice ps ON ps.id = s.service_id
            WHERE s.delivery_id IS NULL AND s.due_from <= {horizon}
                  AND ps.kind NOT IN ({", ".join(_q(k) for k in SOURCED_SERVICE_KINDS)})
                  {who_c.format(col='c.resident_id')}""",
        # chronic follow-ups
        f"""SELECT e.resident_id, 'chronic', e.condition,
                   CASE e.condition WHEN 'htn' THEN '高血压随访' ELSE '2型糖尿病随访' END,
                   {D.add(f"COALESCE(e.next_due, {D.add('e.enrolled_on', CHRONIC_WINDOW_DAYS)})",
                          -CHRONIC_WINDOW_DAYS)},
                   COALESCE(e.next_due, {D.add('e.enrolled_on', CHRONIC_WINDOW_DAYS)})
            FROM chronic_enrolment e WHERE e.status = 'managed' {who_c.format(col='e.resident_id')}""",
        # annual health check: 65+ and the managed chronic patients, none this year (one scan of the residents,
        # not a UNION: the planner knows a resident id is unique, and its estimate of the whole statement holds)
        f"""SELECT r.id, 'check', 'check-{today.year}', '年度健康体检',
                   {D.least(jan1, D.least(dec31, f"COALESCE({D.add('hc.last', 365)}, {dec31})"))},
                   {D.least(dec31, f"COALESCE({D.add('hc.last', 365)}, {dec31})")}
            FROM residents_resident r
            LEFT JOIN (SELECT h.resident_id, MAX(h.date) AS last FROM publichealth_healthcheck h
                       {'WHERE h.resident_id = %(rid)s' if one_resident else ''} GROUP BY h.resident_id) hc
                   ON hc.resident_id = r.id
            WHERE r.merged_into_id IS NULL {who}
              AND (r.birth_date <= {D.d(age65)} OR r.id IN (SELECT e.resident_id FROM chronic_enrolment e
                                                          WHERE e.status = 'managed'
                                                          {who_c.format(col='e.resident_id')}))
              AND (hc.last IS NULL OR hc.last < {jan1})""",
    ]
    # maternal windows
    parts.append(f"""SELECT pg.resident_id, 'maternal', mw.code, mw.label,
                   {D.add("CASE WHEN mw.basis = 'lmp_days' THEN pg.lmp ELSE pg.delivered_on END", 'mw.s')},
                   {D.add("CASE WHEN mw.basis = 'lmp_days' THEN pg.lmp ELSE pg.delivered_on END", 'mw.e')}
            FROM publichealth_pregnancy pg
            JOIN mw ON (mw.basis = 'lmp_days' AND pg.status = 'ongoing')
                    OR (mw.basis = 'delivery_days' AND pg.status = 'postpartum' AND pg.delivered_on IS NOT NULL)
            WHERE pg.status IN ('ongoing', 'postpartum') {who_c.format(col='pg.resident_id')}
              AND {D.add("CASE WHEN mw.basis = 'lmp_days' THEN pg.lmp ELSE pg.delivered_on END", 'mw.x')} > {t}
              AND NOT EXISTS (SELECT 1 FROM publichealth_maternalvisit v
                              WHERE v.pregnancy_id = pg.id AND v.kind = mw.code)""")
    parts += [
        # child visits 0–6
        f"""SELECT r.id, 'child', cw.code, cw.label, {D.add('r.birth_date', 'cw.s')}, {D.add('r.birth_date', 'cw.e')}
            FROM residents_resident r CROSS JOIN cw
            WHERE r.merged_into_id IS NULL AND r.birth_date > {D.d(age7)} {who}
              AND {D.add('r.birth_date', 'cw.x')} > {t}
              AND NOT EXISTS (SELECT 1 FROM publichealth_childvisit v WHERE v.child_id = r.id AND v.kind = cw.code)""",
        # the next dose of each vaccine: the one after the highest dose given (dose 1 when none is); the previous
        # dose's date from the (child, vaccine, dose) unique index. One row per child and vaccine, where crossing
        # every dose of the schedule with the child and anti-joining the doses given cost a second at 450,000.
        f"""SELECT r.id, 'vaccine', vr.vaccine || '-' || vr.dose, vr.name,
                   {D.greatest(D.add('r.birth_date', 'vr.rec'),
                               f"COALESCE({D.add('pv.given_on', 'vr.iv')}, {D.add('r.birth_date', 'vr.rec')})")},
                   {D.greatest(D.add('r.birth_date', 'vr.cb'), D.greatest(
                       D.add('r.birth_date', 'vr.rec'),
                       f"COALESCE({D.add('pv.given_on', 'vr.iv')}, {D.add('r.birth_date', 'vr.rec')})"))}
            FROM residents_resident r CROSS JOIN vv
            LEFT JOIN vg ON vg.child_id = r.id AND vg.vaccine = vv.vaccine
            JOIN vr ON vr.vaccine = vv.vaccine AND vr.dose = COALESCE(vg.top, 0) + 1
            LEFT JOIN publichealth_vaccinedose pv
                   ON pv.child_id = r.id AND pv.vaccine = vv.vaccine AND pv.dose = vg.top
            WHERE r.merged_into_id IS NULL AND r.birth_date > {vacc_cut} {who}
              AND {D.add('r.birth_date', 'vr.until')} > {t}""",
    ]
    union = "\nUNION ALL\n".join(parts)
    select = f"""
        SELECT i.resident_id, i.kind, i.ref, i.label, i.due_from, i.due_by, r.village_id, r.area_code,
               COALESCE(ct.team_id, vt.team_id) AS team_id{", %(now)s" if target == INSERT_TARGET else ""}
        FROM items i
        JOIN residents_resident r ON r.id = i.resident_id AND r.merged_into_id IS NULL
        LEFT JOIN familydoctor_contract ct ON ct.resident_id = r.id AND ct.status = 'active'
        LEFT JOIN vt ON vt.village_id = r.village_id
        WHERE i.due_from <= {horizon}"""
    if diff:  # only what differs from the stored lists: the new rows (old_id NULL) and the ids of the stale ones
        return f"""{target}
            WITH {", ".join(ctes)},
            items(resident_id, kind, ref, label, due_from, due_by) AS ({union}),
            n AS ({select})
            SELECT d.id AS old_id, n.* FROM n FULL JOIN familydoctor_dueitem d ON {_SAME}
            WHERE d.id IS NULL OR n.resident_id IS NULL"""
    return f"""{target}
        WITH {", ".join(ctes)},
        items(resident_id, kind, ref, label, due_from, due_by) AS ({union}){select}"""


def _run(today: dt.date, resident_id: int | None) -> None:
    """One resident: delete and insert its rows. Everyone: a night's recompute writes only what changed (most items
    keep their row), which is what keeps it within seconds. On PostgreSQL one statement compares the new lists
    with the stored ones (a hash full join) into a small temporary table of the differences, then the stale rows
    are deleted by id and the new ones inserted; elsewhere the new lists go into a temporary table first and two
    anti-joins find the differences."""
    dialect = _Dialect(connection.vendor)
    now = timezone.now()
    with connection.cursor() as cur:
        if dialect.pg:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        if resident_id is not None:
            cur.execute("DELETE FROM familydoctor_dueitem WHERE resident_id = %s", [int(resident_id)])
            cur.execute(_statement(today, dialect, True), {"now": now, "rid": int(resident_id)})
            return
        if dialect.pg:  # the hashes of a county fit in memory; JIT compiling costs more than it saves here
            cur.execute("SET LOCAL work_mem = '128MB'")
            cur.execute("SET LOCAL jit = off")
            cur.execute(f"DROP TABLE IF EXISTS {DIFF}")
            cur.execute(_statement(today, dialect, False, target=f"CREATE TEMPORARY TABLE {DIFF} ON COMMIT DROP AS",
                                   diff=True), {})
            cur.execute(f"DELETE FROM familydoctor_dueitem WHERE id IN "
                        f"(SELECT old_id FROM {DIFF} WHERE old_id IS NOT NULL)")
            source, fresh = DIFF, "n.old_id IS NULL"
        else:
            cur.execute(f"DROP TABLE IF EXISTS {NEW}")
            cur.execute(_statement(today, dialect, False, target=f"CREATE TEMPORARY TABLE {NEW} AS"), {})
            cur.execute(f"DELETE FROM familydoctor_dueitem WHERE id IN (SELECT d.id FROM familydoctor_dueitem d "
                        f"WHERE NOT EXISTS (SELECT 1 FROM {NEW} n WHERE {_SAME}))")
            source, fresh = NEW, f"NOT EXISTS (SELECT 1 FROM familydoctor_dueitem d WHERE {_SAME})"
        # in the day list's order, so that one village's items of a kind share pages (the largest village's 3,600
        # items lay on 2,300 pages when inserted in the order of the registers)
        cur.execute(f"""INSERT INTO familydoctor_dueitem
            (resident_id, kind, ref, label, due_from, due_by, village_id, area_code, team_id, computed_at)
            SELECT n.resident_id, n.kind, n.ref, n.label, n.due_from, n.due_by, n.village_id, n.area_code,
                   n.team_id, %s FROM {source} n WHERE {fresh}
            ORDER BY n.village_id, n.kind, n.due_by""", [now])
        cur.execute(f"DROP TABLE IF EXISTS {source}")


def _counts(resident_id: int | None = None) -> dict[str, int]:
    with connection.cursor() as cur:
        if resident_id is None:
            cur.execute("SELECT kind, COUNT(*) FROM familydoctor_dueitem GROUP BY kind")
        else:
            cur.execute("SELECT kind, COUNT(*) FROM familydoctor_dueitem WHERE resident_id = %s GROUP BY kind",
                        [int(resident_id)])
        return {k: int(n) for k, n in cur.fetchall()}


def recompute(today: dt.date | None = None) -> dict[str, int]:
    """Rebuild every DueItem of the county in one transaction; returns the count per kind (and ``total``)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        _run(today, None)
        counts = _counts()
    counts["total"] = sum(counts.values())
    return counts


def refresh_resident(resident_id: int, today: dt.date | None = None) -> dict[str, int]:
    """Rebuild one resident's DueItems (call it after writing a follow-up, visit, dose, check or contract)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        _run(today, int(resident_id))
        counts = _counts(int(resident_id))
    counts["total"] = sum(counts.values())
    return counts


# ---- the per-resident reference (tests compare the bulk statement with it; bench/fd_due.py times it) -------------


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def naive_items(resident_id: int, today: dt.date) -> list[tuple[str, str, dt.date, dt.date]]:
    """The same items as the bulk statement, for one resident, computed in Python with one ORM query per
    register: ``(kind, ref, due_from, due_by)`` sorted. What a first version does for every resident in a loop."""
    from yigongti.chronic.models import Enrolment
    from yigongti.familydoctor.models import Contract, ScheduledService
    from yigongti.publichealth.models import ChildVisit, HealthCheck, MaternalVisit, Pregnancy, VaccineDose
    from yigongti.residents.models import Resident

    r = Resident.objects.filter(pk=resident_id, merged_into__isnull=True).first()
    if r is None:
        return []
    day = dt.timedelta(days=1)
    horizon = today + HORIZON_DAYS * day
    out: list[tuple[str, str, dt.date, dt.date]] = []
    for c in Contract.objects.filter(resident=r, status="active"):
        if c.end <= today + RENEWAL_DAYS * day:
            out.append(("renewal", c.number, c.end - RENEWAL_DAYS * day, c.end))
    for s in ScheduledService.objects.filter(contract__resident=r, contract__status="active", delivery__isnull=True,
                                             due_from__lte=horizon).select_related("service"):
        if s.service.kind not in SOURCED_SERVICE_KINDS:
            out.append(("service", f"{s.service.code}-{s.seq}", s.due_from, s.due_by))
    managed = list(Enrolment.objects.filter(resident=r, status="managed"))
    for e in managed:
        by = e.next_due or e.enrolled_on + CHRONIC_WINDOW_DAYS * day
        out.append(("chronic", e.condition, by - CHRONIC_WINDOW_DAYS * day, by))
    if r.birth_date <= _years_before(today, 65) or managed:
        last = HealthCheck.objects.filter(resident=r).order_by("-date").values_list("date", flat=True).first()
        jan1, dec31 = today.replace(month=1, day=1), today.replace(month=12, day=31)
        if last is None or last < jan1:
            by = min(dec31, last + 365 * day) if last else dec31
            out.append(("check", f"check-{today.year}", min(jan1, by), by))
    for pg in Pregnancy.objects.filter(resident=r, status__in=["ongoing", "postpartum"]):
        done = set(MaternalVisit.objects.filter(pregnancy=pg).values_list("kind", flat=True))
        for w in maternal_windows():
            if w.basis == "lmp_days" and pg.status == "ongoing":
                base = pg.lmp
            elif w.basis == "delivery_days" and pg.status == "postpartum" and pg.delivered_on:
                base = pg.delivered_on
            else:
                continue
            if w.code not in done and base + w.expire * day > today:
                out.append(("maternal", w.code, base + w.start * day, base + w.end * day))
    if r.birth_date <= _years_before(today, 7):  # child visits and vaccines: children 0–6
        return sorted(i for i in out if i[2] <= horizon)
    if r.birth_date:
        done = set(ChildVisit.objects.filter(child=r).values_list("kind", flat=True))
        for w in child_windows():
            if w.code not in done and r.birth_date + w.expire * day > today:
                out.append(("child", w.code, r.birth_date + w.start * day, r.birth_date + w.end * day))
    given = {(v, n): on for v, n, on in VaccineDose.objects.filter(child=r).values_list("vaccine", "dose", "given_on")}
    for d in dose_rules():
        if r.birth_date + d.until * day <= today:
            continue
        if any(v == d.vaccine and n >= d.dose for v, n in given):
            continue
        prev = given.get((d.vaccine, d.dose - 1))
        if d.dose > 1 and prev is None:
            continue
        start = r.birth_date + d.min_age * day
        if prev is not None:
            start = max(start, prev + d.min_interval * day)
        cb = (d.complete_by - 1) if d.complete_by else d.recommended + VACCINE_GRACE_DAYS
        out.append(("vaccine", f"{d.vaccine}-{d.dose}", start, max(start, r.birth_date + cb * day)))
    return sorted(i for i in out if i[2] <= horizon)


def naive_recompute(resident_ids: Iterable[int], today: dt.date) -> int:
    """The naive baseline: a Python loop over residents, each with its queries and its own insert."""
    from yigongti.familydoctor.models import Contract, DueItem, TeamVillage
    from yigongti.residents.models import Resident

    now, n = timezone.now(), 0
    for rid in resident_ids:
        r = Resident.objects.filter(pk=rid).only("village_id", "area_code").first()
        if r is None:
            continue
        team_id = Contract.objects.filter(resident_id=rid, status="active").values_list("team_id", flat=True).first()
        if team_id is None and r.village_id:
            team_id = (TeamVillage.objects.filter(village_id=r.village_id, since__lte=today, team__active=True)
                       .filter(models_q_current(today)).order_by("team_id").values_list("team_id", flat=True).first())
        items = naive_items(rid, today)
        DueItem.objects.filter(resident_id=rid).delete()
        DueItem.objects.bulk_create([DueItem(resident_id=rid, kind=k, ref=ref, label=ref, due_from=a, due_by=b,
                                             village_id=r.village_id, area_code=r.area_code, team_id=team_id,
                                             computed_at=now) for k, ref, a, b in items])
        n += len(items)
    return n


def models_q_current(today: dt.date):
    from django.db.models import Q

    return Q(until__isnull=True) | Q(until__gte=today)


def recompute_as(actor, today: dt.date | None = None) -> dict[str, int]:
    """The recompute button / API: verb ``familydoctor.assess`` (managers, the bureau), audited."""
    from yigongti.core import audit
    from yigongti.orgs.permissions import check

    check(actor, "familydoctor.assess")
    counts = recompute(today)
    audit.record(actor, "recompute", "due_item", "", **counts)
    return counts
