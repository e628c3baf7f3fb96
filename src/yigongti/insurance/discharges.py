"""The settlement list (结算清单) of each inpatient stay: built from the encounter, completed by the facility's
coder, checked for what blocks grouping, and grouped under every loaded CHS-DRG version.

- ``problems_of(fields, pack)`` is pure: it names, in Chinese, what keeps a list from grouping (no main
  diagnosis, a main diagnosis not valid as one, a procedure not in the version's table, a newborn without its
  birth weight, dates or a sex that contradict each other or the diagnoses). A list with problems is stored as
  ungroupable with these reasons, never put into a group the grouper would have to guess.
- ``sync_discharges`` builds or refreshes the lists from the encounters in bulk; a list the coder has edited
  keeps its coded diagnoses and procedures.
- ``update_discharge`` is the coder's form; ``group_discharges`` the batch grouping (CaseGroup per version).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import Field, field_validator

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.encounters.models import Diagnosis, Encounter, EncounterType, InsuranceSettlement, Procedure
from yigongti.orgs.permissions import allows, check
from yigongti.referrals.inputs import Input

from .drg.types import UNGROUPABLE, Case, GroupResult
from .models import CaseGroup, Discharge
from .weights import price_discharge

NEWBORN_DAYS = 28  # 新生儿: CHS-DRG's MDCP and the list's birth-weight field apply up to 28 days of age
BIRTH_WEIGHT_RANGE = (300, 8000)  # grams: outside this, a typing error rather than a baby
SEX_CODES = {"M": "1", "F": "2"}  # residents (GB/T 2261.1 letters) → the settlement list's 1 male / 2 female
SEX_NAMES = {"1": "男", "2": "女"}
BATCH = 500


class Pack(Protocol):
    """What the completeness check needs of a rule pack (``insurance.drg``'s pack has it)."""

    version: str

    def valid_diagnosis(self, code: str) -> bool: ...

    def valid_procedure(self, code: str) -> bool: ...


# ---- the pure completeness check --------------------------------------------------------------------------

# ICD-10 categories that belong to one sex (after the WHO's sex edits): a diagnosis of the other sex is a coding
# error the grouper must not resolve by itself (MDC M / N are chosen by the diagnosis).
_FEMALE = (("C51", "C58"), ("D06", "D06"), ("D25", "D28"), ("D39", "D39"), ("E28", "E28"), ("N70", "N98"),
           ("O00", "O99"), ("Q50", "Q52"), ("Z32", "Z37"), ("Z39", "Z39"))
_MALE = (("C60", "C63"), ("D29", "D29"), ("D40", "D40"), ("E29", "E29"), ("N40", "N51"), ("Q53", "Q55"))


def _in(code: str, ranges: Iterable[tuple[str, str]]) -> bool:
    cat = code[:3].upper()
    return any(a <= cat <= b for a, b in ranges)


def sex_of_diagnosis(code: str) -> str:
    """"2" for a diagnosis only women have, "1" for one only men have, "" otherwise."""
    if _in(code, _FEMALE):
        return "2"
    if _in(code, _MALE):
        return "1"
    return ""


FEMALE_MDCS = frozenset({"MDCN", "MDCO"})  # female reproductive system; pregnancy and childbirth
MALE_MDCS = frozenset({"MDCM"})


def _known(pack: Any, code: str) -> bool:
    """A code the version's tables know (any diagnosis, main or not)."""
    known = getattr(pack, "known_diagnosis", None)
    return bool(known(code)) if callable(known) else bool(pack.valid_diagnosis(code))


def _sex_in_pack(pack: Any, code: str) -> str:
    """"2"/"1" when every MDC of the version that lists the diagnosis belongs to one sex."""
    mdcs = set(getattr(pack, "mdcs_of_diagnosis", {}).get(code, ()))
    if mdcs and mdcs <= FEMALE_MDCS:
        return "2"
    if mdcs and mdcs <= MALE_MDCS:
        return "1"
    return ""


def problems_of(fields: Mapping[str, Any], pack: Pack | None = None) -> list[str]:
    """What blocks grouping this settlement list under ``pack``'s version, one sentence each (empty: complete).

    ``fields`` holds the list's values by the Discharge field names (``diagnoses`` main first, ``procedures``,
    ``sex`` "1"/"2", ``age_years``, ``age_days``, ``birth_weight_g``, ``admit_date``, ``discharge_date``,
    ``los_days``, ``ventilation_hours``, ``discharge_mode``). Without a pack only the version-free checks run."""
    out: list[str] = []
    version = getattr(pack, "version", "")
    diagnoses = [c for c in (fields.get("diagnoses") or []) if c]
    procedures = [c for c in (fields.get("procedures") or []) if c]
    sex = str(fields.get("sex") or "")
    age_years = fields.get("age_years")
    age_days = fields.get("age_days")
    if not diagnoses:
        out.append("缺少主要诊断")
    elif pack is not None:
        main = diagnoses[0]
        if not _known(pack, main):
            out.append(f"主要诊断 {main} 不是{version}医保版 ICD-10 中的有效编码")
        elif not pack.valid_diagnosis(main):
            out.append(f"{main} 不能作为主要诊断（{version}规定其只能作为其他诊断）")
        for code in diagnoses[1:]:
            if not _known(pack, code):
                out.append(f"其他诊断 {code} 不是{version}医保版 ICD-10 中的有效编码")
    if pack is not None:
        for code in procedures:
            if not pack.valid_procedure(code):
                out.append(f"手术操作 {code} 不在{version}的手术操作编码表（ICD-9-CM-3）中")
    if sex not in SEX_NAMES:
        out.append("缺少性别")
    else:
        for i, code in enumerate(diagnoses):
            own = sex_of_diagnosis(code) or (_sex_in_pack(pack, code) if pack is not None and i == 0 else "")
            if own and own != sex:
                out.append(f"诊断 {code} 只见于{SEX_NAMES[own]}性，与患者性别（{SEX_NAMES[sex]}）矛盾")
    if age_years is None:
        out.append("缺少年龄")
    elif diagnoses:
        main = diagnoses[0]
        if main[:1].upper() == "P" and age_years >= 1:
            out.append(f"主要诊断 {main} 是围生期疾病，与患者年龄（{age_years} 岁）矛盾")
        if main[:1].upper() == "O" and not 10 <= age_years <= 60:
            out.append(f"主要诊断 {main} 是妊娠、分娩或产褥期疾病，与患者年龄（{age_years} 岁）矛盾")
    weight = fields.get("birth_weight_g")
    if age_days is not None and age_days <= NEWBORN_DAYS and age_years in (0, None) and not weight:
        out.append(f"新生儿（{age_days} 天）缺少出生体重")
    if weight and not BIRTH_WEIGHT_RANGE[0] <= int(weight) <= BIRTH_WEIGHT_RANGE[1]:
        out.append(f"出生体重 {weight} 克不合理（应在 {BIRTH_WEIGHT_RANGE[0]}–{BIRTH_WEIGHT_RANGE[1]} 克之间）")
    admit, discharge = fields.get("admit_date"), fields.get("discharge_date")
    if admit is None or discharge is None:
        out.append("缺少入院或出院日期")
    elif discharge < admit:
        out.append(f"出院日期 {discharge:%Y-%m-%d} 早于入院日期 {admit:%Y-%m-%d}")
    hours = int(fields.get("ventilation_hours") or 0)
    los = fields.get("los_days")
    if hours and los and hours > int(los) * 24:
        out.append(f"呼吸机使用 {hours} 小时，超过住院时长（{los} 天）")
    mode = str(fields.get("discharge_mode") or "")
    if mode not in Discharge.DischargeMode.values:
        out.append("离院方式无效")
    return out


def fields_of(d: Discharge) -> dict[str, Any]:
    return {name: getattr(d, name) for name in (
        "diagnoses", "procedures", "sex", "age_years", "age_days", "birth_weight_g", "admit_date", "discharge_date",
        "los_days", "ventilation_hours", "discharge_mode")}


def case_of(d: Discharge) -> Case:
    """The grouper's input from a settlement list."""
    return Case(case_id=str(d.pk), sex=d.sex, age_years=d.age_years, diagnoses=tuple(d.diagnoses),
                procedures=tuple(d.procedures), age_days=d.age_days, birth_weight_g=d.birth_weight_g,
                los_days=d.los_days, discharge_mode=d.discharge_mode, department=d.department,
                ventilation_hours=d.ventilation_hours)


def age_on(birth: dt.date | None, day: dt.date) -> tuple[int | None, int | None]:
    """(age in whole years, age in days when under one year) on ``day``."""
    if birth is None:
        return None, None
    years = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    years = max(years, 0)
    return years, ((day - birth).days if years < 1 else None)


# ---- the rule packs ----------------------------------------------------------------------------------------

def versions() -> tuple[str, ...]:
    from .drg import VERSIONS

    return tuple(VERSIONS)


def payment_version() -> str:
    """The version the region pays on (see ``rulepacks.payment_version``)."""
    from .rulepacks import payment_version as registered

    return registered()


def pack_of(version: str) -> Any:
    from .drg import pack_for

    return pack_for(version)


# ---- building the lists from the encounters -----------------------------------------------------------------

@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


ENCOUNTER_FIELDS = ("facility", "resident", "department", "scheme", "sex", "age_years", "age_days", "admit_date",
                    "discharge_date", "los_days", "total_cost", "fund_paid")
CODED_FIELDS = ("diagnoses", "procedures")


def _inpatient_stays(year: int | None) -> QuerySet[Encounter]:
    qs = Encounter.objects.filter(type=EncounterType.INPATIENT, discharge_date__isnull=False)
    return qs.filter(discharge_date__year=year) if year else qs


def _dedupe(codes: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for c in codes:
        c = (c or "").strip()
        if c:
            seen.setdefault(c, None)
    return list(seen)


def sync_discharges(year: int | None = None, *, actor: Actor) -> SyncResult:
    """Build the settlement list of every discharged inpatient stay (of ``year``, by discharge date), or
    refresh it from its encounter: demographics, dates, department, scheme and costs always; the diagnoses and
    procedures only until a coder has edited the list. Bulk: a handful of queries for a county's year."""
    check(actor, "insurance.group_cases")
    stays = _inpatient_stays(year)
    rows = list(stays.values_list("id", "resident_id", "facility_id", "department__name", "scheme", "admit_date",
                                  "discharge_date", "main_icd10", "total_cost", "insurance_paid", "resident__sex",
                                  "resident__birth_date"))
    secondary: dict[int, list[str]] = defaultdict(list)
    for enc, code in (Diagnosis.objects.filter(encounter__in=stays).order_by("encounter_id", "seq", "id")
                      .values_list("encounter_id", "icd10")):
        secondary[enc].append(code)
    procedures: dict[int, list[str]] = defaultdict(list)
    for enc, code in Procedure.objects.filter(encounter__in=stays).order_by("encounter_id", "id").values_list(
            "encounter_id", "code"):
        procedures[enc].append(code)
    fund = dict(InsuranceSettlement.objects.filter(encounter__in=stays).values("encounter_id")
                .annotate(net=Sum("fund_paid")).values_list("encounter_id", "net"))
    existing = {d.encounter_id: d for d in Discharge.objects.filter(encounter__in=stays)}
    pack = _payment_pack()
    result, new, changed = SyncResult(), [], []
    now = timezone.now()
    for (enc, resident, facility, dept, scheme, admit, discharge, main, total, paid, sex, birth) in rows:
        years, days = age_on(birth, admit)
        values: dict[str, Any] = {
            "facility_id": facility, "resident_id": resident, "department": (dept or "")[:50], "scheme": scheme or "",
            "sex": SEX_CODES.get(sex or "", ""), "age_years": years if years is not None else 0, "age_days": days,
            "admit_date": admit, "discharge_date": discharge,
            "los_days": max((discharge - admit).days, 1) if discharge else 1,
            "total_cost": total or Decimal(0), "fund_paid": fund.get(enc, paid) or Decimal(0)}
        coded = {"diagnoses": _dedupe([main, *secondary.get(enc, [])]), "procedures": _dedupe(procedures.get(enc, []))}
        d = existing.get(enc)
        if d is None:
            d = Discharge(encounter_id=enc, **values, **coded)
            d.problems = _problems(d, pack, known_age=years is not None)
            d.updated_at = now
            new.append(d)
            continue
        if d.coded_at is None:
            values.update(coded)
        before = {k: getattr(d, k) for k in values}
        old_problems = d.problems
        for k, v in values.items():
            setattr(d, k, v)
        d.problems = _problems(d, pack, known_age=years is not None)
        if before == values and old_problems == d.problems:
            result.unchanged += 1
            continue
        d.updated_at = now
        changed.append(d)
    with transaction.atomic():
        Discharge.objects.bulk_create(new, batch_size=BATCH)
        fields = ["facility", "resident", "department", "scheme", "sex", "age_years", "age_days", "admit_date",
                  "discharge_date", "los_days", "total_cost", "fund_paid", "diagnoses", "procedures", "problems",
                  "updated_at"]
        Discharge.objects.bulk_update(changed, fields, batch_size=BATCH)
        result.created, result.updated = len(new), len(changed)
        audit.record(actor, "sync", "discharge", "", year=year, created=result.created, updated=result.updated)
    return result


def _payment_pack() -> Any:
    try:
        return pack_of(payment_version())
    except (ImportError, OSError, LookupError):  # no rule pack loaded: the version-free checks still run
        return None


def _problems(d: Discharge, pack: Any, *, known_age: bool = True) -> list[str]:
    fields = fields_of(d)
    if not known_age:
        fields["age_years"] = None
    return problems_of(fields, pack)


# ---- the coder's form --------------------------------------------------------------------------------------

CODE_RE = re.compile(r"^[A-Z0-9][0-9A-Z.+*x]{1,29}$")


def _codes(v: Any) -> Any:
    """A list of codes from a list, or from text with one code per line or separated by | , ; or spaces."""
    if isinstance(v, str):
        v = [v]
    if isinstance(v, (list, tuple)):
        out = []
        for item in v:
            if not isinstance(item, str):
                return v  # let pydantic refuse it
            for c in re.split(r"[|,;，；、\s]+", item):
                c = re.sub(r"(?<=\d)X(?=\d)", "x", c.strip().upper())  # 医保版 extension codes: A02.000x005
                if c:
                    out.append(c)
        return _dedupe(out)
    return v


class DischargeInput(Input):
    """The coder's edit of a settlement list; every field optional (the API's PATCH sends what changed)."""

    diagnoses: list[str] | None = Field(None, description="诊断编码（医保版 ICD-10），主要诊断在前")
    procedures: list[str] | None = Field(None, description="手术操作编码（ICD-9-CM-3），主要手术在前")
    ventilation_hours: int | None = Field(None, ge=0, le=24 * 366, description="呼吸机使用时长（小时）")
    birth_weight_g: int | None = Field(None, ge=1, le=20000, description="新生儿出生体重（克）")
    discharge_mode: str | None = Field(None, description="离院方式 1 医嘱离院 … 5 死亡 9 其他")
    special_review: bool | None = Field(None, description="特病单议")

    _lists = field_validator("diagnoses", "procedures", mode="before")(_codes)

    @field_validator("ventilation_hours", "birth_weight_g", "discharge_mode", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v


FIELD_LABELS = {"diagnoses": gettext_lazy("诊断编码格式不正确"), "procedures": gettext_lazy("手术操作编码格式不正确"),
                "ventilation_hours": gettext_lazy("呼吸机使用时长应为 0–8784 的整数（小时）"),
                "birth_weight_g": gettext_lazy("出生体重应为正整数（克）"),
                "discharge_mode": gettext_lazy("请选择离院方式"), "special_review": gettext_lazy("特病单议应为是或否")}


def parse_discharge_input(data: DischargeInput | Mapping[str, Any]) -> DischargeInput:
    """The typed edit, or InvalidInput naming every bad field at once (codes that are not codes by name)."""
    errors: dict[str, list[str]] = {}
    raw = data.model_dump(exclude_unset=True) if isinstance(data, DischargeInput) else dict(data)
    for name in ("diagnoses", "procedures"):
        codes = _codes(raw.get(name)) if raw.get(name) is not None else []
        bad = [c for c in codes if isinstance(c, str) and not CODE_RE.match(c)] if isinstance(codes, list) else []
        if bad:
            errors[name] = [f"{FIELD_LABELS[name]}: {', '.join(bad[:5])}"]
    inp = None
    try:
        inp = DischargeInput.parse(data)
    except InvalidInput as e:
        for k in e.errors:
            errors.setdefault(k, [str(FIELD_LABELS.get(k, e.errors[k][0]))])
    if inp is not None and inp.discharge_mode is not None and inp.discharge_mode not in Discharge.DischargeMode.values:
        errors["discharge_mode"] = [str(FIELD_LABELS["discharge_mode"])]
    if errors or inp is None:
        first = next(iter(errors))
        raise InvalidInput("invalid_input", errors[first][0], field=first, errors=errors)
    return inp


def update_discharge(discharge: Discharge, fields: DischargeInput | Mapping[str, Any], *, actor: Actor) -> Discharge:
    """The coder completes a settlement list (diagnoses, procedures, ventilation hours, birth weight, discharge
    mode, 特病单议). The list's problems are checked again and it is regrouped under every version."""
    check(actor, "insurance.code_discharge", discharge)
    inp = parse_discharge_input(fields)
    # what was sent; a blank birth weight clears it, other blanks leave the field as it was
    given = {k: getattr(inp, k) for k in inp.model_fields_set if k in DischargeInput.model_fields}
    given = {k: v for k, v in given.items() if v is not None or k == "birth_weight_g"}
    with transaction.atomic():
        d = Discharge.objects.select_for_update().get(pk=discharge.pk)
        changed = [k for k, v in given.items() if getattr(d, k) != v]
        for k in changed:
            setattr(d, k, given[k])
        d.problems = problems_of(fields_of(d), _payment_pack())
        d.coded_by, d.coded_at = actor.user, timezone.now()
        d.save()
        audit.record(actor, "update", "discharge", d.pk, resident=d.resident_id, fields=changed)
        _group_rows([d], versions())
        price_discharge(d, actor=actor)  # its CasePayment follows its new group
    return d


# ---- grouping -----------------------------------------------------------------------------------------------

@dataclass
class GroupSummary:
    version: str
    grouped: int = 0
    ungroupable: int = 0


def group_discharges(*, actor: Actor, version: str | None = None, ids: Sequence[int] | None = None
                     ) -> list[GroupSummary]:
    """Group the settlement lists (all, or ``ids``) under ``version`` or every shipped version, and store one
    CaseGroup per list and version. A list with problems under a version is stored ungroupable with them."""
    check(actor, "insurance.group_cases")
    qs = Discharge.objects.all() if ids is None else Discharge.objects.filter(pk__in=list(ids))
    chosen = versions() if version is None else (version,)
    if version is not None and version not in versions():
        raise InvalidInput("unknown_version", _("未知的分组方案版本：%(v)s") % {"v": version}, field="version")
    summaries: list[GroupSummary] = []
    rows = list(qs.order_by("pk"))
    with transaction.atomic():
        summaries = _group_rows(rows, chosen)
        audit.record(actor, "group", "discharge", "", versions=list(chosen), count=len(rows),
                     ids=[d.pk for d in rows] if ids is not None else None)
    return summaries


def regroup_discharge(discharge: Discharge, *, actor: Actor) -> list[GroupSummary]:
    """Group one list again (its coder, or the insurance officer)."""
    if not allows(actor, "insurance.code_discharge", discharge):
        check(actor, "insurance.group_cases", discharge)
    with transaction.atomic():
        d = Discharge.objects.get(pk=discharge.pk)
        summaries = _group_rows([d], versions())
        audit.record(actor, "group", "discharge", d.pk, resident=d.resident_id)
        price_discharge(d, actor=actor)  # its CasePayment follows its new group
    return summaries


def results_for(pack: Any, rows: Sequence[Discharge]) -> list[GroupResult]:
    """The group of each list under ``pack``: the grouper's, or ungroupable with the list's problems."""
    return _results(pack, rows)[0]


def _results(pack: Any, rows: Sequence[Discharge]) -> tuple[list[GroupResult], list[list[str]]]:
    """``results_for`` and each list's problems under ``pack`` (checked once per list)."""
    from .drg import group_many

    out: list[GroupResult | None] = []
    todo: list[Case] = []
    checked: list[list[str]] = []
    for d in rows:
        problems = problems_of(fields_of(d), pack)
        checked.append(problems)
        if problems:
            out.append(GroupResult(case_id=str(d.pk), version=pack.version, status=UNGROUPABLE,
                                   trace=("结算清单不完整，不予入组：", *problems)))
        else:
            out.append(None)
            todo.append(case_of(d))
    grouped = iter(group_many(pack, todo))
    return [r if r is not None else next(grouped) for r in out], checked


def _store_groups(version: str, rows: Sequence[Discharge], results: Sequence[GroupResult], now: dt.datetime
                  ) -> None:
    """Insert or replace the CaseGroup of each list under ``version``: one prepared INSERT … ON CONFLICT run
    over all the rows (SQLite and PostgreSQL), without building a model instance and compiling its values per
    row (what ``bulk_create(update_conflicts=True)`` spends most of the grouping's time on)."""
    from django.db import connection

    meta = CaseGroup._meta
    fields = {f.name: f for f in meta.concrete_fields}
    trace, grouped_at = fields["trace"], fields["grouped_at"]
    names = ["discharge", "version", "mdc", "adrg", "drg", "status", "trace", "grouped_at"]
    cols = [connection.ops.quote_name(fields[n].column) for n in names]
    update = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols[2:])
    sql = (f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({', '.join(cols)}) "
           f"VALUES ({', '.join(['%s'] * len(cols))}) ON CONFLICT ({cols[0]}, {cols[1]}) DO UPDATE SET {update}")
    at = grouped_at.get_db_prep_save(now, connection)
    values = [(d.pk, version, r.mdc, r.adrg, r.drg, r.status, trace.get_db_prep_save(list(r.trace), connection), at)
              for d, r in zip(rows, results, strict=True)]
    with connection.cursor() as cur:
        for i in range(0, len(values), 5000):
            cur.executemany(sql, values[i:i + 5000])


def _group_rows(rows: Sequence[Discharge], chosen: Iterable[str]) -> list[GroupSummary]:
    summaries = []
    pay = payment_version()
    now = timezone.now()
    for version in chosen:
        pack = pack_of(version)
        results, checked = _results(pack, rows)
        summary = GroupSummary(version)
        summary.ungroupable = sum(1 for r in results if r.status == UNGROUPABLE)
        summary.grouped = len(results) - summary.ungroupable
        _store_groups(version, rows, results, now)
        if version == pay:
            stale = []
            for d, problems in zip(rows, checked, strict=True):
                if d.problems != problems:
                    d.problems = problems
                    stale.append(d)
            Discharge.objects.bulk_update(stale, ["problems"], batch_size=BATCH)
        summaries.append(summary)
    return summaries
