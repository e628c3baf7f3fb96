"""The performance office's writes, one function per business verb: save a scheme (绩效方案) with its items, enter a
month's patient satisfaction, and score a month (月度绩效考核) under a scheme. Each checks its ``performance.*`` verb
outside the transaction, writes in one transaction and appends an audit event. Bad input raises ``InvalidInput``
with every bad field (a Chinese message each). The payroll import is ``payroll.import_payroll``.

Scoring a month: each member facility of the scheme's level (or the scheme's one facility) gets, per item, its
actual of the month — workload from the month's encounters, a monitoring indicator from the indicator engine's
monthly facts, the satisfaction entered — scored linear to target and capped (``scoring``). Each of its
departments is scored the same way on its own encounters and satisfaction (the facility's when none was entered),
the facility's indicator values, and the workload targets divided among the facility's clinical departments.
一类保障 is the month's share of the staff's basic pay (the latest payroll year up to the month's); 二类绩效 is the
scheme's monthly pool, shared among the facilities by score × headcount, and each facility's share among its
departments the same way."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit, inputs
from yigongti.core.actor import actor_of
from yigongti.core.carelevel import care_level
from yigongti.core.errors import Conflict, InvalidInput, collect
from yigongti.orgs.models import Department, Facility, MedicalCommunity, Profession, Staff
from yigongti.orgs.permissions import check

from . import scoring
from .models import (
    ItemKind,
    PayrollRecord,
    Satisfaction,
    Scheme,
    SchemeItem,
    SchemeLevel,
    SchemeRole,
    Score,
    ScoreRun,
)

ROLE_PROFESSIONS: dict[str, tuple[str, ...] | None] = {
    SchemeRole.ALL: None,
    SchemeRole.CLINICAL: (Profession.PHYSICIAN, Profession.ASSISTANT_PHYSICIAN, Profession.VILLAGE_DOCTOR),
    SchemeRole.NURSING: (Profession.NURSE,),
    SchemeRole.TECHNICAL: (Profession.PHARMACIST, Profession.TECHNICIAN),
    SchemeRole.PUBLIC_HEALTH: (Profession.PUBLIC_HEALTH,),
    SchemeRole.MANAGEMENT: (Profession.MANAGER,),
}


# ---- parsing ------------------------------------------------------------------------------------------------



def _decimal(data: Mapping[str, Any], key: str, errors: dict, *, required: bool = True,
             default: Decimal | None = None) -> Decimal | None:
    raw = data.get(key)
    if raw in (None, ""):
        if required and default is None:
            errors[key] = [_("请填写数值")]
        return default
    try:
        d = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        errors[key] = [_("请填写数字")]
        return None
    if not d.is_finite() or abs(d) >= Decimal("1e10"):
        errors[key] = [_("数值超出范围")]
        return None
    return d.quantize(Decimal("0.01"))


def parse_month(raw: Any, field: str = "month") -> dt.date:
    """``YYYY-MM`` (or a date) → the first day of that month, not after this month."""
    if isinstance(raw, dt.date):
        m = raw.replace(day=1)
    else:
        text = str(raw or "").strip()[:10]
        try:
            m = dt.date.fromisoformat(text + "-01" if len(text) == 7 else text).replace(day=1)
        except ValueError:
            raise InvalidInput("invalid_month", _("请填写月份（如 2026-05）"), field=field) from None
    if m > timezone.localdate().replace(day=1) or m.year < 2000:
        raise InvalidInput("invalid_month", _("月份须在 2000 年之后、不晚于本月"), field=field)
    return m


def measure_label(kind: str, measure: str) -> str:
    if kind == ItemKind.WORKLOAD:
        return scoring.WORKLOADS.get(measure, measure)
    if kind == ItemKind.INDICATOR:
        from yigongti.indicators.definitions import INDICATORS

        ind = INDICATORS.get(measure)
        return f"{measure} {ind.name}" if ind else measure
    return _("患者满意度")


def indicator_choices() -> list[tuple[str, str]]:
    """Monitoring indicators a scheme may use: those the engine computes per facility from the monthly facts."""
    from yigongti.indicators.definitions import INDICATORS

    def per_facility(i) -> bool:  # a share of levels (N07: grassroots ÷ all) is 0 or 100 % for one facility
        levels = {s.levels for s in (i.numerator, i.denominator) if s is not None}
        return len(levels) <= 1

    return [(c, f"{c} {i.name}") for c, i in INDICATORS.items()
            if i.kind in ("ratio", "count") and not i.alias_of and not i.uses_settlements and per_facility(i)]


def _item(row: Mapping[str, Any], n: int, errors: dict) -> scoring.Item | None:
    kind = inputs.text(row, "kind", 12)
    measure = inputs.text(row, "measure", 20)
    key = f"item_{n}"
    if kind == ItemKind.WORKLOAD and measure not in scoring.WORKLOADS:
        errors[key] = [_("第 %(n)s 项：请选择工作量指标") % {"n": n + 1}]
        return None
    if kind == ItemKind.INDICATOR and measure not in dict(indicator_choices()):
        errors[key] = [_("第 %(n)s 项：请选择可按机构计算的监测指标") % {"n": n + 1}]
        return None
    if kind == ItemKind.SATISFACTION:
        measure = "satisfaction"
    elif kind not in ItemKind.values:
        errors[key] = [_("第 %(n)s 项：请选择类别") % {"n": n + 1}]
        return None
    sub: dict[str, list[str]] = {}
    weight = _decimal(row, "weight", sub)
    target = _decimal(row, "target", sub)
    cap = _decimal(row, "cap", sub, default=Decimal("1.00"))
    if sub or weight is None or target is None or cap is None:
        errors[key] = [_("第 %(n)s 项：权重、目标值须为数字") % {"n": n + 1}]
        return None
    item = scoring.Item(kind, measure, weight, target, inputs.text(row, "direction", 6) or "higher", cap,
                        measure_label(kind, measure))
    try:
        scoring.validate_item(item)
    except scoring.ScoringError as e:
        errors[key] = [_("第 %(n)s 项：%(m)s") % {"n": n + 1, "m": _(e.message)}]
        return None
    return item


# ---- the scheme -----------------------------------------------------------------------------------------------

def save_scheme(actor, scheme: Scheme | None, data: Mapping[str, Any], items: Sequence[Mapping[str, Any]],
                *, community: MedicalCommunity | None = None) -> Scheme:
    """Create (``scheme`` None) or edit a scheme: ``data`` name, level, facility, role, pool, is_active;
    ``items`` the whole list of items (kind, measure, weight, target, direction, cap), which replaces the old."""
    actor = actor_of(actor)
    check(actor, "performance.edit_scheme", scheme)
    if scheme is None:
        community = community or (actor.user.facility.community if actor.user is not None and actor.user.facility_id
                                  else None)
        if community is None:
            raise InvalidInput("no_community", _("账号未关联医共体，无法制定绩效方案"))
    else:
        community = scheme.community
    errors: dict[str, list[str]] = {}
    name = inputs.text(data, "name", 100)
    if not name:
        errors["name"] = [_("请填写方案名称")]
    level = inputs.text(data, "level", 10)
    if level not in SchemeLevel.values:
        errors["level"] = [_("请选择适用机构层级")]
    role = inputs.text(data, "role", 16) or SchemeRole.ALL
    if role not in SchemeRole.values:
        errors["role"] = [_("请选择适用岗位")]
    facility = None
    if data.get("facility") not in (None, ""):
        facility = Facility.objects.filter(pk=str(data.get("facility")).strip() if str(data.get("facility")).strip()
                                           .isdigit() else 0, community=community).first()
        if facility is None:
            errors["facility"] = [_("机构须是本医共体的成员机构")]
        elif level in SchemeLevel.values and care_level(facility.type).value != level:
            errors["facility"] = [_("机构的层级与方案的适用层级不一致")]
    pool = _decimal(data, "pool", errors, default=Decimal("0.00"))
    if pool is not None and pool < 0:
        errors["pool"] = [_("绩效总额不能为负数")]
    parsed = [_item(row, n, errors) for n, row in enumerate(items) if any(str(row.get(k) or "").strip()
                                                                          for k in ("kind", "measure", "weight"))]
    keys = [i.key for i in parsed if i is not None]
    if len(keys) != len(set(keys)):
        errors["scheme_items"] = [_("同一指标不能重复列入方案")]
    if not parsed and "scheme_items" not in errors:
        errors["scheme_items"] = [_("方案至少需要一个考核指标")]
    collect(errors, "invalid_scheme")
    active = str(data.get("is_active", "1")).lower() not in ("0", "false", "off", "")
    with transaction.atomic():
        created = scheme is None
        if scheme is None:
            scheme = Scheme(community=community)
        else:
            scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
        scheme.name, scheme.level, scheme.facility, scheme.role = name, level, facility, role
        scheme.pool, scheme.is_active = pool or Decimal("0.00"), active
        scheme.save()
        scheme.items.all().delete()
        SchemeItem.objects.bulk_create([
            SchemeItem(scheme=scheme, kind=i.kind, measure=i.measure, weight=i.weight, target=i.target,
                       direction=i.direction, cap=i.cap, position=n) for n, i in enumerate(parsed) if i is not None])
        audit.record(actor, "create" if created else "update", "performance_scheme", scheme.pk, name=name,
                     items=len(parsed), pool=str(pool))
    return scheme


def scheme_items(scheme: Scheme) -> list[scoring.Item]:
    return [scoring.Item(i.kind, i.measure, i.weight, i.target, i.direction, i.cap, measure_label(i.kind, i.measure))
            for i in scheme.items.all()]


# ---- satisfaction ---------------------------------------------------------------------------------------------

def enter_satisfaction(actor, data: Mapping[str, Any]) -> Satisfaction:
    """A month's patient satisfaction (0–100 %) of a facility, or of one of its departments: ``facility``,
    ``department`` (optional), ``month``, ``score``, ``surveyed``. Entering it again replaces it."""
    actor = actor_of(actor)
    errors: dict[str, list[str]] = {}
    raw = str(data.get("facility") or "").strip()
    facility = Facility.objects.filter(pk=int(raw) if raw.isdigit() else 0).first()
    if facility is None:
        raise InvalidInput("invalid_facility", _("请选择机构"), field="facility")
    check(actor, "performance.enter_satisfaction", facility)
    dept = None
    if data.get("department") not in (None, ""):
        d = str(data.get("department")).strip()
        dept = Department.objects.filter(pk=int(d) if d.isdigit() else 0, facility=facility).first()
        if dept is None:
            errors["department"] = [_("科室须属于所选机构")]
    try:
        month = parse_month(data.get("month"))
    except InvalidInput as e:
        errors["month"] = [e.message]
        month = None
    value = _decimal(data, "score", errors)
    if value is not None and not Decimal(0) <= value <= Decimal(100):
        errors["score"] = [_("满意度须在 0 到 100 之间")]
    surveyed = str(data.get("surveyed") or "0").strip()
    if not surveyed.isdigit() or int(surveyed) > 1_000_000:
        errors["surveyed"] = [_("调查人数须为非负整数")]
    collect(errors, "invalid_satisfaction")
    assert month is not None and value is not None
    try:
        with transaction.atomic():
            s, _created = Satisfaction.objects.update_or_create(
                facility=facility, department=dept, month=month,
                defaults={"score": value, "surveyed": int(surveyed), "entered_by": actor.user})
            audit.record(actor, "update", "performance_satisfaction", s.pk, facility=facility.pk,
                         department=dept.pk if dept else "", month=str(month), score=str(value))
    except IntegrityError:  # the same month entered by two people at once
        raise Conflict("concurrent_entry", _("该月满意度正在由他人录入，请刷新后重试")) from None
    return s


# ---- scoring a month ------------------------------------------------------------------------------------------

def scheme_facilities(scheme: Scheme) -> list[Facility]:
    if scheme.facility is not None:
        return [scheme.facility]
    members = Facility.objects.filter(community_id=scheme.community_id, is_active=True).select_related("region")
    # emergency centres and stations (WS 218 E) are scored by the 120 network's own measures, not by a scheme
    return sorted((f for f in members if care_level(f.type).value == scheme.level and not f.type.startswith("E")),
                  key=lambda f: f.code)


def _workloads(facilities: list[Facility], month: dt.date) -> dict[tuple[int, int | None], dict[str, Decimal]]:
    """The month's workload of each facility (key (facility, None)) and department (key (facility, department))."""
    from yigongti.encounters.models import Encounter

    stop = (month + dt.timedelta(days=32)).replace(day=1)
    ids = [f.pk for f in facilities]
    in_month = Q(admit_date__gte=month, admit_date__lt=stop)
    qs = (Encounter.objects.filter(facility_id__in=ids).filter(
        in_month | Q(discharge_date__gte=month, discharge_date__lt=stop)).values("facility_id", "department_id")
          .annotate(visits=Count("pk", filter=in_month & Q(type__in=("outpatient", "emergency"))),
                    er_visits=Count("pk", filter=in_month & Q(type="emergency")),
                    tcm_visits=Count("pk", filter=in_month & Q(tcm=True) & ~Q(type="inpatient")),
                    surgeries=Count("pk", filter=in_month & Q(surgery=True)),
                    discharges=Count("pk", filter=Q(type="inpatient", discharge_date__gte=month,
                                                    discharge_date__lt=stop))))
    out: dict[tuple[int, int | None], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in qs:
        for m in scoring.WORKLOADS:
            out[row["facility_id"], None][m] += row[m]
            if row["department_id"] is not None:
                out[row["facility_id"], row["department_id"]][m] += row[m]
    return out


def _indicator_values(community: MedicalCommunity, codes: list[str], month: dt.date) -> dict[str, dict]:
    """facility code → indicator code → value of the month, from the engine's monthly facts."""
    if not codes:
        return {}
    from yigongti.indicators.definitions import INDICATORS
    from yigongti.indicators.engine import evaluate
    from yigongti.indicators.queries import Area, fetch

    key = f"{month:%Y-%m}"
    area = Area("community", str(community.pk), community.name, community.region.prefix)
    by_facility = fetch(area, [key], group="facility_key")
    out: dict[str, dict] = {}
    for code, months in by_facility.items():
        facts = months.get(key, {})
        out[code] = {c: evaluate(INDICATORS[c], facts).value if facts else None for c in codes}
    return out


def _headcounts(facilities: list[Facility], role: str) -> dict[tuple[int, int | None], int]:
    qs = Staff.objects.filter(work_facility__in=facilities, is_active=True)
    professions = ROLE_PROFESSIONS.get(role)
    if professions:
        qs = qs.filter(profession__in=professions)
    out: dict[tuple[int, int | None], int] = defaultdict(int)
    for f, d, n in qs.values("work_facility_id", "department_id").annotate(n=Count("pk")).values_list(
            "work_facility_id", "department_id", "n"):
        out[f, None] += n
        if d is not None:
            out[f, d] += n
    return out


def _basic_pay(facilities: list[Facility], role: str, year: int | None) -> dict[tuple[int, int | None], Decimal]:
    if year is None:
        return {}
    qs = PayrollRecord.objects.filter(year=year, facility__in=facilities)
    professions = ROLE_PROFESSIONS.get(role)
    if professions:
        qs = qs.filter(staff__profession__in=professions)
    out: dict[tuple[int, int | None], Decimal] = defaultdict(Decimal)
    for f, d, s in qs.values("facility_id", "staff__department_id").annotate(s=Sum("basic")).values_list(
            "facility_id", "staff__department_id", "s"):
        out[f, None] += s or 0
        if d is not None:
            out[f, d] += s or 0
    return out


def payroll_year_for(community_id: int, month: dt.date) -> int | None:
    return (PayrollRecord.objects.filter(year__lte=month.year, facility__community_id=community_id)
            .order_by("-year").values_list("year", flat=True).first())


def _actuals(items: list[scoring.Item], work: Mapping[str, Decimal] | None, indicators: Mapping[str, Any],
             satisfaction: Decimal | None) -> dict[str, Decimal | None]:
    out: dict[str, Decimal | None] = {}
    for i in items:
        if i.kind == ItemKind.WORKLOAD:
            out[i.key] = Decimal((work or {}).get(i.measure, 0))
        elif i.kind == ItemKind.INDICATOR:
            v = indicators.get(i.measure)
            out[i.key] = None if v is None else Decimal(v)
        else:
            out[i.key] = satisfaction
    return out


def score_month(actor, scheme: Scheme, month: Any) -> ScoreRun:
    """Score the month under the scheme (again: the month's earlier run is replaced)."""
    actor = actor_of(actor)
    check(actor, "performance.score", scheme)
    m = parse_month(month)
    items = scheme_items(scheme)
    if not items:
        raise InvalidInput("empty_scheme", _("该方案没有考核指标"))
    if not scheme.is_active:
        raise Conflict("inactive_scheme", _("该方案已停用"))
    facilities = scheme_facilities(scheme)
    depts: dict[int, list[Department]] = defaultdict(list)
    for d in Department.objects.filter(facility__in=facilities, is_clinical=True).order_by("code"):
        depts[d.facility_id].append(d)
    work = _workloads(facilities, m)
    codes = sorted({i.measure for i in items if i.kind == ItemKind.INDICATOR})
    values = _indicator_values(scheme.community, codes, m)
    sat = {(s.facility_id, s.department_id): s.score
           for s in Satisfaction.objects.filter(facility__in=facilities, month=m)}
    heads = _headcounts(facilities, scheme.role)
    year = payroll_year_for(scheme.community_id, m)
    basic = _basic_pay(facilities, scheme.role, year)
    rows: list[Score] = []
    facility_units: dict[object, tuple[Decimal, int]] = {}
    dept_units: dict[int, dict[object, tuple[Decimal, int]]] = defaultdict(dict)
    for f in facilities:
        fvalues = values.get(f.code, {})
        total, lines = scoring.score(items, _actuals(items, work.get((f.pk, None)), fvalues, sat.get((f.pk, None))))
        rows.append(Score(facility=f, department=None, total=total, headcount=heads.get((f.pk, None), 0),
                          guaranteed=scoring.monthly_guaranteed(basic.get((f.pk, None), Decimal(0))),
                          lines=[ln.as_dict() for ln in lines]))
        facility_units[f.pk] = (total, heads.get((f.pk, None), 0))
        n_depts = len(depts.get(f.pk, []))
        dept_items = [scoring.Item(i.kind, i.measure, i.weight,
                                   (i.target / n_depts).quantize(Decimal("0.01")) if i.kind == ItemKind.WORKLOAD
                                   and n_depts else i.target, i.direction, i.cap, i.label) for i in items]
        dept_items = [i if i.target > 0 else scoring.Item(i.kind, i.measure, i.weight, Decimal("0.01"), i.direction,
                                                          i.cap, i.label) for i in dept_items]
        for d in depts.get(f.pk, []):
            dsat = sat.get((f.pk, d.pk), sat.get((f.pk, None)))
            dtotal, dlines = scoring.score(dept_items, _actuals(dept_items, work.get((f.pk, d.pk)), fvalues, dsat))
            rows.append(Score(facility=f, department=d, total=dtotal, headcount=heads.get((f.pk, d.pk), 0),
                              guaranteed=scoring.monthly_guaranteed(basic.get((f.pk, d.pk), Decimal(0))),
                              lines=[ln.as_dict() for ln in dlines]))
            dept_units[f.pk][d.pk] = (dtotal, heads.get((f.pk, d.pk), 0))
    shares = scoring.distribute(scheme.pool, facility_units)
    for r in rows:
        if r.department is None:
            r.performance = shares.get(r.facility.pk, Decimal("0.00"))
    by_dept = {r.department.pk: r for r in rows if r.department is not None}
    for fpk, units in dept_units.items():
        for dpk, amount in scoring.distribute(shares.get(fpk, Decimal("0.00")), units).items():
            by_dept[dpk].performance = amount  # type: ignore[index]
    guaranteed = sum((r.guaranteed for r in rows if r.department is None), Decimal("0.00"))
    with transaction.atomic():
        Scheme.objects.select_for_update().filter(pk=scheme.pk).first()
        ScoreRun.objects.filter(scheme=scheme, month=m).delete()
        run = ScoreRun.objects.create(scheme=scheme, month=m, pool=scheme.pool, guaranteed=guaranteed,
                                      payroll_year=year, scored_by=actor.user)
        for r in rows:
            r.run = run
        Score.objects.bulk_create(rows, batch_size=2000)
        audit.record(actor, "create", "performance_score_run", run.pk, scheme=scheme.pk, month=f"{m:%Y-%m}",
                     facilities=len(facilities), pool=str(scheme.pool))
    return run
