"""The review rule engine: pure functions over plain data, no database in the hot path.

``compile_rules(rows)`` turns the pack's rows (``{"code", "kind", "params", "severity", "message", "enabled"}``)
into lookup tables keyed by what a drug can be matched on — ``"generic:阿莫西林"`` or an ATC prefix
``"atc:J01"`` … ``"atc:J01CA04"`` — and ``evaluate(rx, tables)`` walks a prescription's lines against them:
each line is looked up under its few keys (its generic name and its ATC code's prefixes), never each rule
against each line, so the cost grows with the lines, not with the size of the pack.

Why plain Python and not a decision-table library (zen-engine, rule-engine): the rules here are not one flat
table but six shapes (a dose band by age and weight, a days limit per prescription kind, pairs of drugs,
classes of a line set, a patient's conditions, a grade by care level). A decision-table engine evaluates its
table per input row, so pairs and duplicates would be encoded as n² inputs, and each call crosses into the
engine with JSON; the compiled dictionaries below answer in microseconds (bench/rx_review.py), and a pharmacist
edits the same rows as data either way. ``compile_rule`` is also the validator of an edited rule: a bad
figure is refused with a Chinese message before it is saved.

Severity is ``models.Severity`` (1 提示 … 5 严重); the prescription's risk is its findings' highest severity.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

INFO, LOW, MODERATE, HIGH, CRITICAL = 1, 2, 3, 4, 5
SEVERITY_NAMES = {"info": INFO, "low": LOW, "moderate": MODERATE, "high": HIGH, "critical": CRITICAL}

# times a day (None: as needed — no daily dose to check)
FREQUENCIES: dict[str, float | None] = {
    "qd": 1, "bid": 2, "tid": 3, "qid": 4, "qn": 1, "qm": 1, "q12h": 2, "q8h": 3, "q6h": 4, "q4h": 6,
    "qod": 0.5, "qw": 1 / 7, "biw": 2 / 7, "once": 1, "st": 1, "prn": None,
}
ROUTES = ("po", "iv", "ivgtt", "im", "sc", "id", "ext", "inh", "pr", "sl", "oph", "top")
MASS_MG = {"g": 1000.0, "mg": 1.0, "μg": 0.001, "ug": 0.001, "mcg": 0.001}
STRENGTH = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(g|mg|μg|ug|mcg|ml|iu|万u|u)\b", re.I)
LEVELS = ("village", "township", "county", "city", "province")


class RuleError(ValueError):
    """A rule whose parameters cannot be compiled (the Chinese reason in ``message``)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class LineFacts:
    seq: int
    item_id: int
    generic: str
    atc: str = ""
    antibiotic: str = ""  # pharmacy.AntibioticGrade value
    strength: str = ""  # "500mg"
    min_unit: str = ""  # 片 / 粒 / 支
    dose: float = 0.0  # per time, in ``unit``
    unit: str = ""
    frequency: str = "qd"
    route: str = "po"
    days: int = 1

    @property
    def keys(self) -> tuple[str, ...]:
        return keys_of(self.generic, self.atc)


@dataclass(frozen=True)
class RxFacts:
    kind: str  # models.Kind value
    age_months: int
    lines: tuple[LineFacts, ...]
    weight_kg: float | None = None
    sex: str = ""
    pregnant: bool = False
    diagnoses: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()  # the resident's chronic conditions (ICD-10)
    days_reason: str = ""
    care_level: str = "county"  # the prescribing facility's (core.carelevel)


@dataclass(frozen=True)
class Finding:
    rule: str
    kind: str
    severity: int
    message: str
    line: int | None = None  # the line's seq

    def as_dict(self) -> dict:
        return {"rule": self.rule, "kind": self.kind, "severity": self.severity, "message": self.message,
                "line": self.line}


@dataclass(frozen=True)
class Result:
    findings: tuple[Finding, ...]

    @property
    def risk(self) -> int:
        return max((f.severity for f in self.findings), default=0)


@dataclass(frozen=True)
class _Rule:
    code: str
    kind: str
    severity: int
    message: str
    p: Mapping[str, Any]


@dataclass
class Tables:
    """The compiled pack: per match key, the rules of each kind."""

    dose: dict[str, list[_Rule]] = field(default_factory=lambda: defaultdict(list))
    days: list[_Rule] = field(default_factory=list)
    duplicate: list[_Rule] = field(default_factory=list)
    interaction: dict[str, list[_Rule]] = field(default_factory=lambda: defaultdict(list))  # by side a
    contraindication: dict[str, list[_Rule]] = field(default_factory=lambda: defaultdict(list))
    antibiotic: list[_Rule] = field(default_factory=list)
    size: int = 0


def keys_of(generic: str, atc: str) -> tuple[str, ...]:
    """What a drug matches: its generic name and each prefix of its ATC code (1, 3, 4, 5, 7 characters)."""
    out = [f"generic:{generic}"] if generic else []
    atc = (atc or "").upper()
    out += [f"atc:{atc[:n]}" for n in (1, 3, 4, 5, 7) if len(atc) >= n]
    return tuple(out)


# ---- compiling ----------------------------------------------------------------------------------------------

def _match(p: Mapping[str, Any], key: str = "match") -> str:
    m = str(p.get(key) or "").strip()
    kind, _sep, value = m.partition(":")
    if kind not in ("generic", "atc") or not value:
        raise RuleError("bad_match", _("匹配条件应写作 generic:通用名 或 atc:ATC编码前缀（%(m)s）") % {"m": m})
    return f"atc:{value.upper()}" if kind == "atc" else m


def _number(p: Mapping[str, Any], key: str, *, required: bool = False) -> float | None:
    v = p.get(key)
    if v is None or v == "":
        if required:
            raise RuleError("missing", _("缺少参数 %(k)s") % {"k": key})
        return None
    try:
        n = float(v)
    except (TypeError, ValueError):
        raise RuleError("not_number", _("参数 %(k)s 应为数字") % {"k": key}) from None
    if n < 0:
        raise RuleError("negative", _("参数 %(k)s 不能为负数") % {"k": key})
    return n


def _band(p: Mapping[str, Any], key: str) -> tuple[float, float | None]:
    v = p.get(key)
    if v in (None, ""):
        return (0.0, None)
    if not isinstance(v, list | tuple) or len(v) != 2:
        raise RuleError("bad_band", _("参数 %(k)s 应为 [下限, 上限]（上限可为 null）") % {"k": key})
    lo = _number({"v": v[0]}, "v") or 0.0
    hi = _number({"v": v[1]}, "v")
    if hi is not None and hi <= lo:
        raise RuleError("bad_band", _("参数 %(k)s 的上限应大于下限") % {"k": key})
    return (lo, hi)


def compile_rule(row: Mapping[str, Any]) -> tuple[str, _Rule]:
    """Validate one rule and return (its index key, the compiled rule). Raises ``RuleError``."""
    kind = row.get("kind")
    p = dict(row.get("params") or {})
    severity = row.get("severity", MODERATE)
    if isinstance(severity, str):
        severity = SEVERITY_NAMES.get(severity, 0)
    if severity not in (INFO, LOW, MODERATE, HIGH, CRITICAL):
        raise RuleError("bad_severity", _("严重程度应为 1–5"))
    key = ""
    if kind == "dose":
        key = _match(p)
        p["age_months"] = _band(p, "age_months")
        p["weight_kg"] = _band(p, "weight_kg")
        unit = str(p.get("unit") or "mg")
        if unit not in MASS_MG and unit not in ("ml", "iu", "u"):
            raise RuleError("bad_unit", _("剂量单位应为 mg、g、μg、ml 或 IU"))
        p["unit"] = unit
        figures = [_number(p, k) for k in ("single_max", "day_max", "per_kg_single_max", "per_kg_day_max",
                                            "day_min", "per_kg_day_min")]
        if all(f is None for f in figures):
            raise RuleError("no_limit", _("剂量规则至少要有一个上限或下限"))
    elif kind == "days":
        limits = p.get("limits")
        if not isinstance(limits, dict) or not limits:
            raise RuleError("bad_limits", _("天数规则应有 limits：{处方类别: 天数}"))
        for k in limits:
            if k not in ("normal", "emergency", "pediatric", "chronic"):
                raise RuleError("bad_limits", _("未知的处方类别 %(k)s") % {"k": k})
            _number(limits, k, required=True)
        p["hard"] = tuple(p.get("hard") or ())
    elif kind == "duplicate":
        level = int(_number(p, "level") or 5)
        if level not in (3, 4, 5, 7):
            raise RuleError("bad_level", _("ATC 层级长度应为 3、4、5 或 7 个字符"))
        p["level"] = level
        p["exempt"] = tuple(str(x).upper() for x in p.get("exempt") or ())
    elif kind == "interaction":
        key = _match(p, "a")
        p["b"] = _match(p, "b")
    elif kind == "contraindication":
        key = _match(p)
        p["icd10"] = tuple(str(x).upper() for x in p.get("icd10") or ())
        p["pregnancy"] = bool(p.get("pregnancy"))
        p["age_months_below"] = _number(p, "age_months_below")
        if not p["icd10"] and not p["pregnancy"] and p["age_months_below"] is None:
            raise RuleError("no_condition", _("禁忌规则至少要有诊断编码前缀、妊娠或年龄条件之一"))
    elif kind == "antibiotic":
        if "allowed" in p:
            allowed = p["allowed"]
            if not isinstance(allowed, dict) or any(k not in LEVELS for k in allowed):
                raise RuleError("bad_allowed", _("allowed 应为 {机构层级: [可用分级]}"))
            p["allowed"] = {k: frozenset(v) for k, v in allowed.items()}
        elif "grades" in p:
            p["grades"] = frozenset(p["grades"])
        else:
            raise RuleError("bad_antibiotic", _("抗菌药物规则应有 allowed 或 grades"))
    else:
        raise RuleError("bad_kind", _("未知的规则类别 %(k)s") % {"k": kind})
    code = str(row.get("code") or "").strip()
    if not code:
        raise RuleError("no_code", _("规则编号不能为空"))
    return key, _Rule(code, str(kind), int(severity), str(row.get("message") or code), p)


def compile_rules(rows: Iterable[Mapping[str, Any]]) -> Tables:
    t = Tables()
    for row in rows:
        if not row.get("enabled", True):
            continue
        key, rule = compile_rule(row)
        if rule.kind in ("dose", "interaction", "contraindication"):
            getattr(t, rule.kind)[key].append(rule)
        else:
            getattr(t, rule.kind).append(rule)
        t.size += 1
    return t


# ---- evaluating ---------------------------------------------------------------------------------------------

def _in_band(value: float, band: tuple[float, float | None]) -> bool:
    lo, hi = band
    return value >= lo and (hi is None or value < hi)


def amount_in(line: LineFacts, unit: str) -> float | None:
    """The line's single dose expressed in ``unit`` (mass units convert; a 片/粒 counts by the strength)."""
    if line.unit.lower() == unit.lower():
        return line.dose
    u = line.unit.lower()
    if u in MASS_MG and unit in MASS_MG:
        return line.dose * MASS_MG[u] / MASS_MG[unit]
    m = STRENGTH.match(line.strength or "")
    if m and line.unit and line.unit in (line.min_unit, "片", "粒", "袋", "支", "丸"):
        n, su = float(m.group(1)), m.group(2).lower()
        if su == unit.lower():
            return line.dose * n
        if su in MASS_MG and unit in MASS_MG:
            return line.dose * n * MASS_MG[su] / MASS_MG[unit]
    return None


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _dose(rx: RxFacts, line: LineFacts, rules: list[_Rule], out: list[Finding]) -> None:
    per_day = FREQUENCIES.get(line.frequency)
    for r in rules:
        p = r.p
        if not _in_band(rx.age_months, p["age_months"]):
            continue
        if p["weight_kg"] != (0.0, None) and (rx.weight_kg is None or not _in_band(rx.weight_kg, p["weight_kg"])):
            continue
        single = amount_in(line, p["unit"])
        if single is None:
            continue
        day = single * per_day if per_day is not None else None
        unit = p["unit"]
        problems = []
        if p.get("single_max") is not None and single > float(p["single_max"]) * 1.0001:
            problems.append(_("单次 %(a)s%(u)s 超过 %(b)s%(u)s") % {"a": _fmt(single), "b": _fmt(p["single_max"]),
                                                                  "u": unit})
        if day is not None and p.get("day_max") is not None and day > float(p["day_max"]) * 1.0001:
            problems.append(_("日剂量 %(a)s%(u)s 超过 %(b)s%(u)s") % {"a": _fmt(day), "b": _fmt(p["day_max"]),
                                                                   "u": unit})
        if day is not None and p.get("day_min") is not None and day < float(p["day_min"]) * 0.9999:
            problems.append(_("日剂量 %(a)s%(u)s 低于 %(b)s%(u)s") % {"a": _fmt(day), "b": _fmt(p["day_min"]),
                                                                   "u": unit})
        per_kg = [k for k in ("per_kg_single_max", "per_kg_day_max", "per_kg_day_min") if p.get(k) is not None]
        if per_kg and not rx.weight_kg:
            problems.append(_("按体重给药但未记录体重"))
        elif per_kg and rx.weight_kg:
            w = rx.weight_kg
            if p.get("per_kg_single_max") is not None and single > float(p["per_kg_single_max"]) * w * 1.0001:
                problems.append(_("单次 %(a)s%(u)s/kg 超过 %(b)s%(u)s/kg") % {
                    "a": _fmt(single / w), "b": _fmt(p["per_kg_single_max"]), "u": unit})
            day_max, day_min = p.get("per_kg_day_max"), p.get("per_kg_day_min")
            if day is not None and day_max is not None and day > float(day_max) * w * 1.0001:
                problems.append(_("日剂量 %(a)s%(u)s/kg 超过 %(b)s%(u)s/kg") % {
                    "a": _fmt(day / w), "b": _fmt(p["per_kg_day_max"]), "u": unit})
            if day is not None and day_min is not None and day < float(day_min) * w * 0.9999:
                problems.append(_("日剂量 %(a)s%(u)s/kg 低于 %(b)s%(u)s/kg") % {
                    "a": _fmt(day / w), "b": _fmt(p["per_kg_day_min"]), "u": unit})
        if problems:
            out.append(Finding(r.code, r.kind, r.severity, f"{r.message}：{'；'.join(problems)}", line.seq))


def _days(rx: RxFacts, rules: list[_Rule], out: list[Finding]) -> None:
    for r in rules:
        limit = r.p["limits"].get(rx.kind)
        if limit is None:
            continue
        for line in rx.lines:
            if line.days <= limit:
                continue
            text = _("%(m)s：%(d)s 天，超过 %(n)s 天") % {"m": r.message, "d": line.days, "n": _fmt(limit)}
            if rx.days_reason.strip() and rx.kind not in r.p["hard"]:
                out.append(Finding(r.code, r.kind, INFO, text + _("（已注明理由：%(r)s）") % {"r": rx.days_reason},
                                   line.seq))
            else:
                out.append(Finding(r.code, r.kind, r.severity, text, line.seq))


def _duplicate(rx: RxFacts, rules: list[_Rule], out: list[Finding]) -> None:
    for r in rules:
        level, exempt = r.p["level"], r.p["exempt"]
        seen: dict[str, LineFacts] = {}
        for line in rx.lines:
            atc = line.atc.upper()
            groups = [f"g:{line.generic}"]
            if len(atc) >= level and not atc.startswith(exempt or ("\0",)):
                groups.append(f"a:{atc[:level]}")
            for g in groups:
                first = seen.get(g)
                if first is not None and first.seq != line.seq:
                    out.append(Finding(r.code, r.kind, r.severity, _("%(m)s：%(a)s 与 %(b)s") % {
                        "m": r.message, "a": first.generic, "b": line.generic}, line.seq))
                    break
                seen.setdefault(g, line)


def _interactions(rx: RxFacts, index: dict[str, list[_Rule]], out: list[Finding]) -> None:
    if len(rx.lines) < 2:
        return
    keys = [(line, set(line.keys)) for line in rx.lines]
    done: set[tuple[str, int, int]] = set()
    for line, ks in keys:
        for k in ks:
            for r in index.get(k, ()):
                for other, oks in keys:
                    if other.seq != line.seq and r.p["b"] in oks:
                        lo, hi = sorted((line.seq, other.seq))
                        pair = (r.code, lo, hi)
                        if pair in done:
                            continue
                        done.add(pair)
                        out.append(Finding(r.code, r.kind, r.severity, _("%(m)s：%(a)s + %(b)s") % {
                            "m": r.message, "a": line.generic, "b": other.generic}, other.seq))


def _contraindications(rx: RxFacts, line: LineFacts, rules: list[_Rule], out: list[Finding]) -> None:
    codes = tuple(c.upper() for c in (*rx.diagnoses, *rx.conditions))
    for r in rules:
        p = r.p
        why = ""
        if p["pregnancy"] and rx.pregnant:
            why = _("妊娠")
        elif p["icd10"]:
            hit = next((c for c in codes if c.startswith(p["icd10"])), None)
            if hit:
                why = _("诊断 %(c)s") % {"c": hit}
        if not why and p["age_months_below"] is not None and rx.age_months < p["age_months_below"]:
            why = _("年龄 %(y)s 岁") % {"y": rx.age_months // 12}
        if why:
            out.append(Finding(r.code, r.kind, r.severity, _("%(m)s：%(d)s（%(w)s）") % {
                "m": r.message, "d": line.generic, "w": why}, line.seq))


GRADE_NAMES = {"unrestricted": "非限制使用级", "restricted": "限制使用级", "special": "特殊使用级"}


def _antibiotics(rx: RxFacts, rules: list[_Rule], out: list[Finding]) -> None:
    for r in rules:
        for line in rx.lines:
            if not line.antibiotic:
                continue
            grade = GRADE_NAMES.get(line.antibiotic, line.antibiotic)
            if "allowed" in r.p:
                allowed = r.p["allowed"].get(rx.care_level)
                if allowed is not None and line.antibiotic not in allowed:
                    out.append(Finding(r.code, r.kind, r.severity, _("%(m)s：%(d)s 为%(g)s") % {
                        "m": r.message, "d": line.generic, "g": _(grade)}, line.seq))
            elif line.antibiotic in r.p["grades"]:
                out.append(Finding(r.code, r.kind, r.severity, _("%(m)s：%(d)s 为%(g)s") % {
                    "m": r.message, "d": line.generic, "g": _(grade)}, line.seq))


def evaluate(rx: RxFacts, t: Tables) -> Result:
    """Every finding of the pack on one prescription, most severe first."""
    out: list[Finding] = []
    for line in rx.lines:
        for k in line.keys:
            dose = t.dose.get(k)
            if dose:
                _dose(rx, line, dose, out)
            contra = t.contraindication.get(k)
            if contra:
                _contraindications(rx, line, contra, out)
    _days(rx, t.days, out)
    _duplicate(rx, t.duplicate, out)
    _interactions(rx, t.interaction, out)
    _antibiotics(rx, t.antibiotic, out)
    out.sort(key=lambda f: (-f.severity, f.line or 0))
    return Result(tuple(out))


def needs_review(result: Result, review_at: int) -> bool:
    return result.risk >= review_at
