"""CHS-DRG grouping of one case under one rule pack: pure, thread-safe (reads the pack only), with its trace.

Order (the national scheme's): checks that make a case ungroupable → pre-MDC (MDCA: transplants, ECMO,
ventilation ≥ 96 h) → newborns (MDCP) → HIV (MDCY) → multiple severe trauma (MDCZ) → the main diagnosis's MDC,
sex-specific ones (MDCM male, MDCN female, MDCO female) checked against the sex → within the MDC the surgical
ADRGs (third letter A–J), then the non-OR ones (K–Q), then the medical ones (R–Z), each by the condition its
table states → the DRG by MCC/CC after the exclusion tables, mapped to the suffixes the ADRG has (1 MCC, 3 CC,
5 none, 9 not split).

Every line of the trace is a sentence in Chinese; a case that cannot be grouped says why and is never put in a
group anyway.
"""

from __future__ import annotations

from collections.abc import Iterable

from .rulepack import (
    ANY_DX,
    ANY_PROC,
    MAIN_DX,
    MAIN_PROC,
    NO_OR_PROC,
    OR_PROC,
    OTHER_DX,
    PROC_RE,
    MdcIndex,
    Req,
    Rule,
    RulePack,
)
from .types import GROUPED, UNGROUPABLE, Case, GroupResult

_EMPTY: frozenset[str] = frozenset()
NEWBORN_MAX_DAYS = 28
_SEXED = frozenset(("MDCM", "MDCN", "MDCO"))
_SPECIAL = frozenset(("MDCA", "MDCP", "MDCY", "MDCZ"))


def _ungroupable(pack: RulePack, case: Case, trace: list[str], reason: str, mdc: str = "",
                 adrg: str = "") -> GroupResult:
    trace.append("不能入组：" + reason)
    return GroupResult(case.case_id, pack.version, UNGROUPABLE, mdc=mdc, adrg=adrg, trace=tuple(trace),
                       reason=reason)


class _CaseView:
    """The case's codes as the rules look them up (built once per case)."""

    __slots__ = ("age_days", "main", "main_proc", "other_set", "others", "proc_set", "procs")

    def __init__(self, main: str, others: tuple[str, ...], procs: tuple[str, ...], age_days: int | None) -> None:
        self.main = main
        self.others = others
        self.other_set = frozenset(others) if others else _EMPTY
        self.main_proc = procs[0] if procs else ""
        self.procs = procs
        self.proc_set = frozenset(procs) if procs else _EMPTY
        self.age_days = age_days


def _req_ok(req: Req, v: _CaseView, or_procs: frozenset[str]) -> bool:
    k = req.kind
    if k == MAIN_DX:
        return v.main in req.codes
    if k == MAIN_PROC:
        return v.main_proc in req.codes
    if k == ANY_PROC:
        return not v.proc_set.isdisjoint(req.codes)
    if k == OTHER_DX:
        return not v.other_set.isdisjoint(req.codes)
    if k == ANY_DX:
        return v.main in req.codes or not v.other_set.isdisjoint(req.codes)
    if k == OR_PROC:
        return v.main_proc in or_procs
    if k == NO_OR_PROC:
        return v.main_proc not in or_procs
    return any(_req_ok(a, v, or_procs) for a in req.alts)


def _evidence(req: Req, v: _CaseView, or_procs: frozenset[str]) -> str:
    """Which code satisfied the requirement, in words (only for the matched ADRG)."""
    k = req.kind
    if k == MAIN_DX:
        return f"主要诊断 {v.main} 在“{req.label}”表中"
    if k == MAIN_PROC:
        return f"主要手术或操作 {v.main_proc} 在“{req.label}”表中"
    if k == ANY_PROC:
        return f"手术或操作 {min(v.proc_set & req.codes)} 在“{req.label}”表中"
    if k == OTHER_DX:
        return f"其他诊断 {min(v.other_set & req.codes)} 在“{req.label}”表中"
    if k == ANY_DX:
        code = v.main if v.main in req.codes else min(v.other_set & req.codes)
        return f"诊断 {code} 在“{req.label}”表中"
    if k == OR_PROC:
        return f"主要手术或操作 {v.main_proc} 为手术室手术"
    if k == NO_OR_PROC:
        return "无手术室手术"
    for a in req.alts:
        if _req_ok(a, v, or_procs):
            return _evidence(a, v, or_procs)
    return ""


def _match_adrg(pack: RulePack, adrg: str, v: _CaseView, windows: dict[str, tuple[int, int]],
                rules: dict[str, Rule] | None = None) -> int:
    """The index of the first alternative of the ADRG's rule the case satisfies, else -1."""
    w = windows.get(adrg)
    if w is not None and (v.age_days is None or not w[0] <= v.age_days <= w[1]):
        return -1
    or_procs = pack.or_procedures
    for i, alt in enumerate((rules or pack.rules)[adrg].alternatives):
        for req in alt:
            if not _req_ok(req, v, or_procs):
                break
        else:
            return i
    return -1


def _matched_line(pack: RulePack, adrg: str, alt_index: int, v: _CaseView,
                  rules: dict[str, Rule] | None = None) -> str:
    rule = (rules or pack.rules)[adrg]
    alt = rule.alternatives[alt_index]
    why = "，".join(_evidence(r, v, pack.or_procedures) for r in alt)
    which = f"（入组条件 {alt_index + 1}）" if len(rule.alternatives) > 1 else ""
    return f"入 ADRG {adrg} {pack.adrg_names[adrg]}{which}：{why}"


def _candidates(ix: MdcIndex, v: _CaseView) -> list[str]:
    """The MDC's ADRGs the case can possibly enter, in the order they are tried."""
    c: list[str] = []
    t = ix.by_main_proc.get(v.main_proc)
    if t:
        c.extend(t)
    t = ix.by_main_dx.get(v.main)
    if t:
        c.extend(t)
    if ix.by_any_proc:
        for p in v.procs:
            t = ix.by_any_proc.get(p)
            if t:
                c.extend(t)
    if ix.by_other_dx:
        for d in v.others:
            t = ix.by_other_dx.get(d)
            if t:
                c.extend(t)
    c.extend(ix.always)
    if len(c) > 1:
        c = sorted(set(c), key=ix.rank.__getitem__)
    return c


def _within_mdc(pack: RulePack, mdc: str, v: _CaseView, trace: list[str],
                windows: dict[str, tuple[int, int]]) -> tuple[str, str]:
    """(adrg, "") when an ADRG of the MDC takes the case, else ("", reason). Surgical ADRGs first, then the
    non-OR ones; a main procedure that is operating-room surgery but fits neither makes the case ambiguous
    rather than medical."""
    ix = pack.mdc_index[mdc]
    procedural_done = False
    is_or = v.main_proc in pack.or_procedures
    for a in _candidates(ix, v):
        if not procedural_done and a in ix.medical:
            procedural_done = True
            if is_or:
                break
        i = _match_adrg(pack, a, v, windows)
        if i >= 0:
            trace.append(_matched_line(pack, a, i, v))
            return a, ""
    if is_or:
        return "", (f"主要手术或操作 {v.main_proc} {pack.procedure_names.get(v.main_proc, '')} 是手术室手术，"
                    f"但 {mdc} 没有收它的手术或操作 ADRG（与主要诊断不符，歧义组 QY）")
    return "", f"{mdc} 中没有 ADRG 的条件与本病例相符"


def _complication(pack: RulePack, v: _CaseView, trace: list[str]) -> str:
    excl = pack.exclusion_tables.get(v.main, _EMPTY)
    level = ""
    mcc_table, cc_table = pack.mcc_table, pack.cc_table
    for d in v.others:
        t = mcc_table.get(d)
        kind = "MCC"
        if t is None:
            t = cc_table.get(d)
            kind = "CC"
            if t is None:
                continue
        if t and t in excl:
            trace.append(f"其他诊断 {d} 为 {kind}，但被主要诊断 {v.main} 排除（排除表 {t}）")
            continue
        trace.append(f"其他诊断 {d} 为 {kind}" + (f"（排除表 {t} 不含主要诊断）" if t else ""))
        if kind == "MCC":
            level = "MCC"
        elif not level:
            level = "CC"
    return level


def group(pack: RulePack, case: Case) -> GroupResult:
    """Group one case under ``pack``; the result's trace says which rule matched and why."""
    trace: list[str] = []
    dx = [d.strip() for d in case.diagnoses if d]
    procs = [p.strip() for p in case.procedures if p]
    if "" in dx:
        dx = [d for d in dx if d]
    if "" in procs:
        procs = [p for p in procs if p]
    if not dx:
        return _ungroupable(pack, case, trace, "缺主要诊断")
    main = dx[0]
    names = pack.diagnosis_names
    if main in pack.invalid_main_diagnoses:
        return _ungroupable(pack, case, trace, f"主要诊断 {main} {names.get(main, '')} 不能作为主要诊断"
                            f"（{pack.version} 主要诊断无效表）")
    mdcs = pack.mdcs_of_diagnosis.get(main)
    if mdcs is None:
        return _ungroupable(pack, case, trace, f"主要诊断 {main} 不在 {pack.version} 任何 MDC 的诊断表中")
    proc_names = pack.procedure_names
    if procs and not proc_names.keys() >= set(procs):
        unknown_procs = [p for p in procs if p not in proc_names]
        if pack.not_main_procedures:  # the version lists its procedures in full: an unknown code is an error
            return _ungroupable(pack, case, trace, f"手术或操作 {unknown_procs[0]} 不在 {pack.version} 的手术操作表中")
        bad = [p for p in unknown_procs if not PROC_RE.match(p)]
        if bad:
            return _ungroupable(pack, case, trace, f"手术或操作 {bad[0]} 不是 ICD-9-CM-3 编码")
        # 1.1 has no list of the procedures that do not group: one outside every ADRG list is such a procedure
        trace.append(f"手术或操作 {'、'.join(unknown_procs)} 不在 {pack.version} 任何 ADRG 的手术表中，不影响分组")
    main_words = f"主要诊断 {main} {names.get(main, '')}"
    # age and sex checks
    age_days = case.age_days
    if case.age_years < 0 or case.age_years > 150 or (age_days is not None and age_days < 0):
        return _ungroupable(pack, case, trace, f"年龄不合理（{case.age_years} 岁，{age_days} 天）")
    if age_days is not None and case.age_years >= 1 and age_days < 365:
        return _ungroupable(pack, case, trace, f"年龄矛盾：{case.age_years} 岁却填了出生 {age_days} 天")
    if age_days is None and case.age_years == 0 and "MDCP" in mdcs:
        return _ungroupable(pack, case, trace, "不满 1 岁的病例缺日龄（天），无法判断是否新生儿")
    is_newborn = case.age_years == 0 and age_days is not None and age_days <= NEWBORN_MAX_DAYS
    if is_newborn and not case.birth_weight_g:
        return _ungroupable(pack, case, trace, f"新生儿（出生 {age_days} 天）缺出生体重")
    if case.birth_weight_g is not None and case.birth_weight_g and not 100 <= case.birth_weight_g <= 10000:
        return _ungroupable(pack, case, trace, f"出生体重 {case.birth_weight_g} g 不合理")
    if "MDCO" in mdcs and not 8 <= case.age_years <= 65:
        return _ungroupable(pack, case, trace, f"年龄 {case.age_years} 岁与妊娠分娩诊断 {main} 矛盾")
    if mdcs == ("MDCP",) and case.age_years >= 1:
        return _ungroupable(pack, case, trace, f"主要诊断 {main} 是新生儿／婴儿诊断，与年龄 {case.age_years} 岁矛盾")
    sex = case.sex
    allowed = mdcs
    if not _SEXED.isdisjoint(mdcs):
        allowed = tuple(m for m in mdcs if not ((m == "MDCM" and sex != "1") or (m in ("MDCN", "MDCO")
                                                                                  and sex != "2")))
        if not allowed:
            words = {"1": "男", "2": "女"}.get(sex, f"未知（{sex!r}）")
            return _ungroupable(pack, case, trace, f"性别{words}与主要诊断 {main}（只属 {'、'.join(mdcs)}）矛盾")

    others = dx[1:]
    if others:
        other_set = set(others)
        if main in other_set or len(other_set) != len(others):
            others = [d for d in dict.fromkeys(others) if d != main]
        if not names.keys() >= other_set:
            unknown = [d for d in others if d not in names]
            trace.append(f"其他诊断 {'、'.join(unknown)} 不在 {pack.version} 的诊断表中，不参与分组")
            others = [d for d in others if d in names]
    not_main = procs and procs[0] in pack.not_main_procedures
    if not_main:
        trace.append(f"主要手术或操作 {procs[0]} 不能作为主要手术（{pack.version} 非主要手术表），不按手术入组")
    if case.los_days < 0 or case.ventilation_hours < 0:
        return _ungroupable(pack, case, trace,
                            f"住院天数（{case.los_days}）或呼吸机时长（{case.ventilation_hours} 小时）为负数")
    if 0 < case.ventilation_hours < 96 and not pack.ventilation_96h.isdisjoint(procs):
        code = min(pack.ventilation_96h.intersection(procs))
        return _ungroupable(pack, case, trace, f"有创呼吸机 {case.ventilation_hours} 小时，与编码 {code}"
                            f"（{proc_names[code]}）矛盾")
    if case.ventilation_hours >= 96 and pack.ventilation_96h and pack.ventilation_96h.isdisjoint(procs):
        vent = min(pack.ventilation_96h)
        trace.append(f"有创呼吸机 {case.ventilation_hours} 小时 ≥ 96，按 {vent} {proc_names[vent]} 计")
        procs.append(vent)
    v = _CaseView(main, tuple(others), tuple(procs),
                  age_days if case.age_years == 0 else 365 * max(case.age_years, 1))
    if not_main:
        v.main_proc = ""
    windows = pack.age_windows

    mdc = ""
    adrg = ""
    # 1. pre-MDC
    pre = pack.mdc_index.get("MDCA")
    # MDCA's rules are all keyed by procedures in both versions: a case without any skips the step at once
    if pre is not None and not procs and not (pre.always or pre.by_main_dx or pre.by_other_dx):
        pre = None
    for a in (_candidates(pre, v) if pre else ()):
        i = _match_adrg(pack, a, v, windows, pack.pre_mdc_rules)
        if i >= 0:
            mdc, adrg = "MDCA", a
            trace.append(main_words)
            trace.append(f"先期分组 MDCA {pack.mdc_names['MDCA']}（查全部手术或操作）")
            trace.append(_matched_line(pack, a, i, v, pack.pre_mdc_rules))
            break
    # 2. newborns and infants
    if not adrg and "MDCP" in pack.mdc_names and (is_newborn or (case.age_years == 0 and "MDCP" in mdcs)):
        who = f"新生儿（出生 {age_days} 天，体重 {case.birth_weight_g} g）" if is_newborn else f"婴儿（{age_days} 天）"
        sub: list[str] = []
        a, why = _within_mdc(pack, "MDCP", v, sub, windows)
        if a:
            mdc, adrg = "MDCP", a
            trace.append(f"{main_words}；{who}入 MDCP {pack.mdc_names['MDCP']}")
            trace.extend(sub)
        elif mdcs == ("MDCP",):
            return _ungroupable(pack, case, trace, f"{who}：{why}", mdc="MDCP")
        else:
            trace.append(f"{who}未入 MDCP 的任何 ADRG（{why}），按主要诊断分组")
    # 3. HIV
    hiv = pack.mdc_diagnoses.get("MDCY", _EMPTY)
    if not adrg and (main in hiv or not hiv.isdisjoint(v.other_set)):
        hit = main if main in hiv else (min(hiv & v.other_set) if not hiv.isdisjoint(v.other_set) else "")
        if hit:
            sub = []
            a, why = _within_mdc(pack, "MDCY", v, sub, windows)
            if a:
                mdc, adrg = "MDCY", a
                trace.append(f"{main_words}{'' if hit == main else f'；其他诊断 {hit}'} 属 MDCY "
                             f"{pack.mdc_names['MDCY']}")
                trace.extend(sub)
            elif hit == main:
                return _ungroupable(pack, case, trace, why, mdc="MDCY")
            else:
                trace.append(f"其他诊断 {hit} 为 HIV 诊断，但未入 MDCY 的 ADRG（{why}）")
    # 4. multiple severe trauma
    if not adrg and "MDCZ" in pack.mdc_names:
        regions = pack.region_of_diagnosis
        main_regions = regions.get(main)
        if main_regions:
            second = next((d for d in others if d in regions and not regions[d] <= main_regions), "")
            if second:
                r1 = "、".join(sorted(main_regions))
                r2 = "、".join(sorted(regions[second] - main_regions))
                sub = []
                a, why = _within_mdc(pack, "MDCZ", v, sub, windows)
                if not a:
                    return _ungroupable(pack, case, trace, why, mdc="MDCZ")
                mdc, adrg = "MDCZ", a
                trace.append(f"多发严重创伤：{main_words} 属{r1}，其他诊断 {second} 属{r2} → MDCZ "
                             f"{pack.mdc_names['MDCZ']}")
                trace.extend(sub)
    # 5. the main diagnosis's MDC (sex-specific ones only for that sex)
    if not adrg:
        body = [m for m in allowed if m not in _SPECIAL] if len(allowed) > 1 or allowed[0] in _SPECIAL \
            else allowed
        if not body:
            return _ungroupable(pack, case, trace, f"主要诊断 {main} 只属 {'、'.join(mdcs)}，病例不符合其入组条件")
        mdc = body[0]
        trace.append(main_words + pack.mdc_words[mdc])
        a, why = _within_mdc(pack, mdc, v, trace, windows)
        if not a:
            return _ungroupable(pack, case, trace, why, mdc=mdc)
        adrg = a

    # DRG by complications
    level = "" if pack.drg_suffixes[adrg] == "9" else _complication(pack, v, trace)
    drg, line = pack.drg_lines[adrg, level]
    trace.append(line)
    # positional: a frozen dataclass's keyword construction costs as much as a third of the grouping
    return GroupResult(case.case_id, pack.version, GROUPED, mdc, adrg, drg, tuple(trace), level)


def group_many(pack: RulePack, cases: Iterable[Case]) -> list[GroupResult]:
    """Group many cases under one pack (a plain loop: grouping is a few dict and set lookups per case)."""
    return [group(pack, c) for c in cases]
