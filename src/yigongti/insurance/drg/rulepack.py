"""Load one CHS-DRG version's national tables into an immutable :class:`RulePack`.

Two layouts occur (see ``insurance/rules/README.md``): the 2.0 ``.dat`` files (``MDC.dat``, ``ADRG.dat``, …,
``CCE.dat`` mapping a main diagnosis to its exclusion table) and the 1.1 ``.txt`` files (``1_MDC.txt`` …,
``7_CCE.txt`` listing each exclusion table's main diagnoses). Both keep one file per MDC (``MDC/``) and per ADRG
(``ADRG/``) whose header lines state the ADRG's entry condition in words; every form that occurs in the shipped
tables is turned into :class:`Rule` data here, and a header this module does not understand refuses the pack
(``RulePackError``) rather than grouping on a half-read rule.

The row counts of a known version are declared below and checked on load; a pack whose counts differ is refused.
The sha256 of every file read is kept as ``pack.checksum``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

V20 = "CHS-DRG 2.0"
V11 = "CHS-DRG 1.1"

# The counts each version's publication (or, for 1.1, the shipped transcription) declares. A pack whose tables
# count differently is refused: a truncated or edited copy must not group cases silently.
DECLARED_COUNTS: dict[str, dict[str, int]] = {
    # the publication's figures, then the shipped files' own (code rows of MDC/ and ADRG/, the two invalid lists),
    # so that a row deleted from any file is noticed
    V20: {"mdc": 26, "adrg": 409, "drg": 634, "mcc": 4477, "cc": 8009, "cce": 27143,
          "mdc_rows": 29615, "adrg_rows": 62210, "zd_invalid": 1849, "ss_invalid": 1822},
    # 1.1: what the transcription holds (unique MCC/CC codes; CCE = (exclusion table, main diagnosis) pairs)
    V11: {"mdc": 26, "adrg": 376, "drg": 628, "mcc": 4678, "cc": 16568, "cce": 28302,
          "mdc_rows": 29673, "adrg_rows": 59554, "zd_invalid": 0, "ss_invalid": 0},
}

_DX = r"[A-Z]\d{2}(?:\.[0-9x]{1,4}(?:x\d{3})?)?(?:\+[A-Z]\d{2}(?:\.[0-9x]{1,4})?\*?)?\*?"
_DX_DOTTED = _DX.replace(r"(?:\.[0-9x]{1,4}(?:x\d{3})?)?", r"\.[0-9x]{1,4}(?:x\d{3})?", 1)  # never "B12" in a name
_PROC = r"\d{2}\.[0-9A-Za-z]+"
DX_RE = re.compile(rf"^{_DX}$")
PROC_RE = re.compile(rf"^{_PROC}$")
_TOKEN_DX = re.compile(rf"(?<![A-Za-z0-9.])({_DX})(?![0-9x])")
_CODE_LINE = re.compile(rf"^({_DX}|{_PROC})(?:\s+(.*))?$")

# Condition kinds of one requirement (see Rule)
MAIN_DX, OTHER_DX, ANY_DX, MAIN_PROC, ANY_PROC, OR_PROC, NO_OR_PROC = (
    "main_dx", "other_dx", "any_dx", "main_proc", "any_proc", "or_proc", "no_or_proc")

KIND_WORDS = {MAIN_DX: "主要诊断", OTHER_DX: "其他诊断", ANY_DX: "主要或其他诊断", MAIN_PROC: "主要手术或操作",
              ANY_PROC: "手术或操作", OR_PROC: "手术室手术", NO_OR_PROC: "无手术室手术"}


class RulePackError(Exception):
    """A rule pack that cannot be used: missing files, a form not understood, counts that differ."""


@dataclass(frozen=True, slots=True)
class Req:
    """One requirement: the case has a code of ``kind`` in ``codes`` (``label`` names the table section).
    ``alts`` (when not empty) makes it "any of these requirements" (e.g. 其他诊断或手术或操作 1)."""

    kind: str
    codes: frozenset[str] = frozenset()
    label: str = ""
    alts: tuple[Req, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """An ADRG's entry condition: any of ``alternatives`` (入组条件 1/2/3), each a conjunction of requirements."""

    adrg: str
    alternatives: tuple[tuple[Req, ...], ...]
    text: str  # the condition as the table words it, for the trace


@dataclass(slots=True)
class MdcIndex:
    """Which ADRGs of one MDC a case can possibly enter, found by dict lookups instead of trying every rule.
    Each ADRG is filed under a requirement every alternative of its rule shares (a main procedure, a main
    diagnosis, any procedure or other diagnosis of a list); ADRGs with none are always tried."""

    rank: dict[str, int]  # ADRG → its place in the order (surgical A–J first, then K–Q, then R–Z)
    medical: frozenset[str]  # R–Z
    by_main_proc: dict[str, tuple[str, ...]]
    by_main_dx: dict[str, tuple[str, ...]]
    by_any_proc: dict[str, tuple[str, ...]]
    by_other_dx: dict[str, tuple[str, ...]]
    always: tuple[str, ...]


@dataclass(slots=True)
class RulePack:
    """One version's tables, indexed for grouping. Treat as read-only (shared between threads)."""

    version: str
    path: Path
    mdc_names: dict[str, str]
    adrg_names: dict[str, str]
    drg_names: dict[str, str]
    mdc_diagnoses: dict[str, frozenset[str]]  # MDCB → main diagnoses of the MDC's list
    trauma_regions: dict[str, frozenset[str]]  # MDCZ: body region → diagnoses
    rules: dict[str, Rule]  # ADRG → rule, in the tables' order
    mcc_table: dict[str, str]  # MCC code → its exclusion table ("" = none)
    cc_table: dict[str, str]
    exclusion_tables: dict[str, frozenset[str]]  # main diagnosis → the exclusion tables that hold it
    invalid_main_diagnoses: frozenset[str]
    not_main_procedures: frozenset[str]
    diagnosis_names: dict[str, str]
    procedure_names: dict[str, str]
    counts: dict[str, int]
    checksum: str
    # derived indexes (filled by _index)
    mcc: frozenset[str] = frozenset()
    cc: frozenset[str] = frozenset()
    adrgs_of_mdc: dict[str, tuple[str, ...]] = field(default_factory=dict)
    drg_suffixes: dict[str, str] = field(default_factory=dict)  # ADRG → its DRG suffix digits, e.g. "135"
    or_procedures: frozenset[str] = frozenset()
    ventilation_96h: frozenset[str] = frozenset()
    mdcs_of_diagnosis: dict[str, tuple[str, ...]] = field(default_factory=dict)
    region_of_diagnosis: dict[str, frozenset[str]] = field(default_factory=dict)
    age_windows: dict[str, tuple[int, int]] = field(default_factory=dict)  # ADRG → (min, max) age in days
    # MDCA's rules read against every procedure of the case: a transplant, ECMO or ventilation ≥ 96 h takes the
    # case to pre-MDC wherever it stands in the list (the 1.1 table names 96.7201 as a "main" procedure).
    pre_mdc_rules: dict[str, Rule] = field(default_factory=dict)
    mdc_index: dict[str, MdcIndex] = field(default_factory=dict)
    # the DRG line of the trace, worded once per (ADRG, complication level): (drg, line)
    drg_lines: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    mdc_words: dict[str, str] = field(default_factory=dict)  # " 属 MDCF 循环系统疾病及功能障碍"
    _main_dx_of: dict[str, frozenset[str]] = field(default_factory=dict)
    _procs_of: dict[str, frozenset[str]] = field(default_factory=dict)

    def main_diagnoses_of(self, adrg: str) -> frozenset[str]:
        """The main diagnoses the ADRG's table names (main-diagnosis sections, or main-or-other ones)."""
        return self._main_dx_of.get(adrg, frozenset())

    def procedures_of(self, adrg: str) -> frozenset[str]:
        """Every procedure the ADRG's table names (main procedures and 手术或操作 N sections)."""
        return self._procs_of.get(adrg, frozenset())

    def valid_diagnosis(self, code: str) -> bool:
        """Valid as a main diagnosis under this version: in an MDC's list and not in the invalid list."""
        return code in self.mdcs_of_diagnosis and code not in self.invalid_main_diagnoses

    def known_diagnosis(self, code: str) -> bool:
        return code in self.diagnosis_names

    def valid_procedure(self, code: str) -> bool:
        """A procedure this version accepts: 2.0 lists its procedures in full (the ADRG lists and the
        not-a-main-procedure list); 1.1 lists only those that group, so there any well-formed ICD-9-CM-3 code is
        accepted (one outside its lists does not affect the group)."""
        return code in self.procedure_names or (not self.not_main_procedures and bool(PROC_RE.match(code)))

    def known_procedure(self, code: str) -> bool:
        """A procedure some list of this version's tables names."""
        return code in self.procedure_names

    def __repr__(self) -> str:
        return f"<RulePack {self.version} {self.counts} sha256={self.checksum[:12]}>"


# ---------------------------------------------------------------------------------------------------- reading


class _Reader:
    """Reads files under one directory and folds their bytes into the pack's checksum."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sha = hashlib.sha256()
        self.rows = {"mdc_rows": 0, "adrg_rows": 0}  # code rows of the MDC/ and ADRG/ files

    def text(self, rel: str | Path) -> str:
        path = self.root / rel
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise RulePackError(f"规则包 {self.root} 缺少文件 {rel}") from None
        self.sha.update(str(Path(rel).as_posix()).encode() + b"\0" + data + b"\0")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise RulePackError(f"规则包文件 {rel} 不是 UTF-8 编码：{e}") from None


def _code_name_lines(text: str, pattern: str) -> dict[str, str]:
    """``CODE name`` lines (MDC.dat, ADRG.dat, DRG.dat, 1_MDC.txt …): code → name, other lines ignored."""
    rx = re.compile(rf"^({pattern})\s+(.+?)\s*$")
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = rx.match(line.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _sections(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """A list file as (header, [(code, name)]) sections; ``#`` lines are the transcriber's notes."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _CODE_LINE.match(line)
        if m:
            if not out:
                out.append(("", []))
            out[-1][1].append((m.group(1), (m.group(2) or "").strip()))
        else:
            out.append((line, []))
    return out


_NAME_RE = re.compile(r"主要诊断\s*\d*|其他诊断\s*\d*|主要手术或操作\s*\d*|手术或操作\s*\d*|手术表\s*\d*")


def _kind_of(name: str) -> str:
    if name.startswith("主要诊断"):
        return MAIN_DX
    if name.startswith("其他诊断"):
        return OTHER_DX
    if name.startswith("主要手术或操作"):
        return MAIN_PROC
    return ANY_PROC  # 手术或操作 N / 手术表 N


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", s).rstrip("：:")


def _parse_rule(adrg: str, sections: list[tuple[str, list[tuple[str, str]]]],
                names: dict[str, str]) -> tuple[Rule, list[str]]:
    """An ADRG file's sections → its Rule, plus "包含 X、Y 的所有主要手术或操作" references to resolve later."""
    headers = [_norm(h) for h, _ in sections if h]
    conditions = [h for h in headers if "入组条件" in h or ("+" in h and not h.endswith("诊断"))]
    refs: list[str] = []
    if conditions:
        # Named sections (主要诊断 1：, 手术或操作 3：, 手术表 2：) combined by 入组条件 formulas.
        named: dict[str, frozenset[str]] = {}
        for h, codes in sections:
            n = _norm(h)
            if n in conditions or not n:
                continue
            named[n] = frozenset(c for c, _ in codes)
        text = "".join(conditions)
        body = re.sub(r"^入组条件\d*：", "", text)
        parts = [p for p in re.split(r"或?入组条件\d*：|或(?=包含以下)", body) if p]
        formula: list[tuple[Req, ...]] = []
        for part in parts:
            reqs: list[Req] = []
            for term in part.replace("包含以下", "").split("+"):
                term = term.strip("（）()")
                found = _NAME_RE.findall(term)
                if not found:
                    raise RulePackError(f"ADRG {adrg}：看不懂入组条件 “{text}” 中的 “{term}”")
                alts = []
                for ref in found:
                    ref = _norm(ref)
                    if ref not in named:
                        raise RulePackError(f"ADRG {adrg}：入组条件引用的 “{ref}” 没有对应的表")
                    alts.append(Req(_kind_of(ref), named[ref], ref))
                reqs.append(alts[0] if len(alts) == 1 else Req("alts", label="或".join(a.label for a in alts),
                                                               alts=tuple(alts)))
            formula.append(tuple(reqs))
        return Rule(adrg, tuple(formula), text), refs

    # Sectioned forms without a formula: consecutive sections are AND, "或包含…" starts an alternative.
    alternatives_l: list[list[Req]] = [[]]
    words: list[str] = []
    pending_pair: str | None = None
    for h, codes in sections:
        n = _norm(h)
        codeset = frozenset(c for c, _ in codes)
        if not n:
            raise RulePackError(f"ADRG {adrg}：代码前没有说明条件的标题")
        words.append(n)
        if n.startswith("或"):
            alternatives_l.append([])
            n = n[1:]
        if n in ("包含以下主要诊断：", "包含以下主要诊断", "主要诊断"):
            alternatives_l[-1].append(Req(MAIN_DX, codeset, "主要诊断"))
        elif n in ("包含以下主要手术或操作", "包含以下主要手术", "主要手术或操作"):
            alternatives_l[-1].append(Req(MAIN_PROC, codeset, "主要手术或操作"))
        elif n in ("包含以下手术或操作", "包含以下手术"):
            alternatives_l[-1].append(Req(ANY_PROC, codeset, "手术或操作"))
        elif n in ("同时包含以下手术或操作", "同时包含以下手术"):
            pending_pair = n
            alternatives_l[-1].append(Req(ANY_PROC, codeset, "手术或操作（甲）"))
        elif n == "和":
            if pending_pair is None:
                raise RulePackError(f"ADRG {adrg}：“和”之前没有“同时包含”")
            alternatives_l[-1].append(Req(ANY_PROC, codeset, "手术或操作（乙）"))
        elif n in ("包含以下主要诊断或其他诊断", "主要诊断或其他诊断中包含以下诊断", "包含以下诊断"):
            alternatives_l[-1].append(Req(ANY_DX, codeset, "主要或其他诊断"))
        elif n in ("包含以下其他诊断", "其他诊断"):
            alternatives_l[-1].append(Req(OTHER_DX, codeset, "其他诊断"))
        elif n in ("包含全部手术或操作", "全部手术", "包含全部手术"):
            alternatives_l[-1].append(Req(OR_PROC, label="手术室手术"))
        elif m := re.fullmatch(r"包含([A-Z]{2}\d(?:、[A-Z]{2}\d)*)的所有主要手术或操作", n):
            refs = m.group(1).split("、")
            alternatives_l[-1].append(Req(MAIN_PROC, frozenset(), "、".join(refs) + " 的主要手术或操作"))
        elif re.fullmatch(r"符合MDCZ(诊断表|主诊表)，且无手术(或操作)?", n):
            alternatives_l[-1].append(Req(NO_OR_PROC, label="无手术室手术"))
        else:
            raise RulePackError(f"ADRG {adrg}（{names.get(adrg, '')}）：看不懂条件 “{h}”")
    alternatives = tuple(tuple(a) for a in alternatives_l if a)
    if not alternatives:
        raise RulePackError(f"ADRG {adrg}：没有入组条件")
    return Rule(adrg, alternatives, "；".join(words)), refs


def _resolve_refs(rules: dict[str, Rule], refs: dict[str, list[str]]) -> None:
    for adrg, targets in refs.items():
        union: set[str] = set()
        for t in targets:
            if t not in rules:
                raise RulePackError(f"ADRG {adrg} 引用的 {t} 不存在")
            for alt in rules[t].alternatives:
                for r in alt:
                    if r.kind == MAIN_PROC:
                        union |= r.codes
        rule = rules[adrg]
        rules[adrg] = Rule(adrg, tuple(tuple(Req(r.kind, frozenset(union), r.label) if r.kind == MAIN_PROC
                                             and not r.codes else r for r in alt) for alt in rule.alternatives),
                           rule.text)


def _read_mdc_dir(reader: _Reader, mdc_names: dict[str, str], dx_names: dict[str, str]
                  ) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    files = sorted(p.name for p in (reader.root / "MDC").glob("*.dat"))
    by_code = {f.split("_", 1)[0]: f for f in files}
    missing = sorted(set(mdc_names) - set(by_code))
    if missing:
        raise RulePackError(f"规则包缺少 MDC 文件：{'、'.join(missing)}")
    mdc_dx: dict[str, frozenset[str]] = {}
    regions: dict[str, frozenset[str]] = {}
    for code in mdc_names:
        codes: set[str] = set()
        region = ""
        for h, items in _sections(reader.text(Path("MDC") / by_code[code])):
            n = _norm(h)
            if n and not n.startswith("包含"):
                region = n
            reader.rows["mdc_rows"] += len(items)
            for c, name in items:
                codes.add(c)
                dx_names.setdefault(c, name)
            if code == "MDCZ" and items:
                regions[region or "创伤"] = regions.get(region or "创伤", frozenset()) | {c for c, _ in items}
        mdc_dx[code] = frozenset(codes)
    return mdc_dx, regions


def _read_adrg_dir(reader: _Reader, adrg_names: dict[str, str], dx_names: dict[str, str],
                   proc_names: dict[str, str]) -> dict[str, Rule]:
    # Files named "AH2_1_…" / "AH2_2_…" repeat parts of "AH2_…" (the whole condition): read the whole one.
    files = {}
    for p in sorted((reader.root / "ADRG").glob("*.dat")):
        head, _, rest = p.name.partition("_")
        if re.match(r"^\d+_", rest):
            continue
        files[head] = p.name
    missing = sorted(set(adrg_names) - set(files))
    if missing:
        raise RulePackError(f"规则包缺少 ADRG 文件：{'、'.join(missing)}")
    rules: dict[str, Rule] = {}
    refs: dict[str, list[str]] = {}
    for adrg in adrg_names:
        sections = _sections(reader.text(Path("ADRG") / files[adrg]))
        for _, items in sections:
            reader.rows["adrg_rows"] += len(items)
            for c, name in items:
                (proc_names if PROC_RE.match(c) else dx_names).setdefault(c, name)
        rule, r = _parse_rule(adrg, sections, adrg_names)
        rules[adrg] = rule
        if r:
            refs[adrg] = r
    _resolve_refs(rules, refs)
    return rules


def _load_20(reader: _Reader) -> dict:
    mdc_names = _code_name_lines(reader.text("MDC.dat"), r"MDC[A-Z]")
    adrg_names = _code_name_lines(reader.text("ADRG.dat"), r"[A-Z]{2}\d")
    drg_names = _code_name_lines(reader.text("DRG.dat"), r"[A-Z]{2}\d{2}")

    def pairs(name: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in reader.text(name).splitlines():
            # two rows of the transcription glue a stray character to the code ("变H59.001", "C91.100B细胞…")
            parts = line.split()
            m = _TOKEN_DX.search(parts[0]) if len(parts) >= 2 else None
            if m:
                out[m.group(1)] = parts[-1]
        return out

    mcc = pairs("MCC.dat")
    cc = pairs("CC.dat")
    cce_rows = pairs("CCE.dat")
    exclusion = {dx: frozenset([t]) for dx, t in cce_rows.items()}
    zd = _code_name_lines(reader.text("ZD_INVALID.dat"), _DX)
    ss = _code_name_lines(reader.text("SS_INVALID.dat"), _PROC)
    return {"mdc_names": mdc_names, "adrg_names": adrg_names, "drg_names": drg_names, "mcc": mcc, "cc": cc,
            "exclusion": exclusion, "cce_rows": len(cce_rows), "zd": zd, "ss": ss}




def _load_11(reader: _Reader) -> dict:
    mdc_names = _code_name_lines(reader.text("1_MDC.txt"), r"MDC[A-Z]")
    adrg_names = _code_name_lines(reader.text("2_ADRG.txt"), r"[A-Z]{2}\d")
    drg_names = _code_name_lines(reader.text("3_DRG.txt"), r"[A-Z]{2}\d{2}")

    # 5_MCC / 6_CC: "code name 表 7-N" (or "无"), the PDF's lines sometimes run together: read as a stream.
    entry = re.compile(rf"(?<![A-Za-z0-9.])({_DX_DOTTED})(?![0-9x])\s+(.*?)\s(表\s*7-\d+|无)(?=\s|$)", re.S)

    def listing(name: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for m in entry.finditer(reader.text(name)):
            table = m.group(3)
            out.setdefault(m.group(1), "" if table == "无" else re.sub(r"\s+", "", table)[1:])
        return out

    mcc = listing("5_MCC.txt")
    cc = listing("6_CC.txt")
    # 7_CCE: "表 7-N" then the table's main diagnoses (also run together in places)
    exclusion: dict[str, set[str]] = {}
    table = ""
    rows = 0
    for m in re.finditer(rf"表\s*(7-\d+)|(?<![A-Za-z0-9.])({_DX_DOTTED})(?![0-9x])", reader.text("7_CCE.txt")):
        if m.group(1):
            table = m.group(1)
        elif table:
            s = exclusion.setdefault(m.group(2), set())
            if table not in s:
                s.add(table)
                rows += 1
    return {"mdc_names": mdc_names, "adrg_names": adrg_names, "drg_names": drg_names, "mcc": mcc, "cc": cc,
            "exclusion": {k: frozenset(v) for k, v in exclusion.items()}, "cce_rows": rows, "zd": {}, "ss": {}}


def load_pack(path: str | Path, version: str | None = None) -> RulePack:
    """Load and verify the rule pack in ``path``. The version is ``pack.json``'s ``version`` if present, else
    the one the layout belongs to (``MDC.dat`` → 2.0, ``1_MDC.txt`` → 1.1). Raises :class:`RulePackError`."""
    root = Path(path)
    if not root.is_dir():
        raise RulePackError(f"规则包目录不存在：{root}")
    reader = _Reader(root)
    declared: dict[str, int] | None = None
    manifest = root / "pack.json"
    if manifest.exists():
        meta = json.loads(reader.text("pack.json"))
        version = version or meta.get("version")
        declared = meta.get("counts")
    if (root / "MDC.dat").exists():
        version = version or V20
        raw = _load_20(reader)
    elif (root / "1_MDC.txt").exists():
        version = version or V11
        raw = _load_11(reader)
    else:
        raise RulePackError(f"{root} 不是 CHS-DRG 规则包（没有 MDC.dat 或 1_MDC.txt）")
    declared = declared or DECLARED_COUNTS.get(version)
    if declared is None:
        raise RulePackError(f"版本 {version} 没有声明的行数（请在 pack.json 写明 counts）")

    dx_names: dict[str, str] = {}
    proc_names: dict[str, str] = dict(raw["ss"])
    mdc_dx, regions = _read_mdc_dir(reader, raw["mdc_names"], dx_names)
    rules = _read_adrg_dir(reader, raw["adrg_names"], dx_names, proc_names)
    for c, n in raw["zd"].items():
        dx_names.setdefault(c, n)
    for c in (*raw["mcc"], *raw["cc"], *raw["exclusion"]):
        dx_names.setdefault(c, "")

    counts = {"mdc": len(raw["mdc_names"]), "adrg": len(raw["adrg_names"]), "drg": len(raw["drg_names"]),
              "mcc": len(raw["mcc"]), "cc": len(raw["cc"]), "cce": raw["cce_rows"], **reader.rows,
              "zd_invalid": len(raw["zd"]), "ss_invalid": len(raw["ss"])}
    wrong = [f"{k} 应为 {declared[k]:,} 实为 {counts.get(k, 0):,}" for k in declared if counts.get(k) != declared[k]]
    if wrong:
        raise RulePackError(f"规则包 {root} 与 {version} 声明的行数不符，拒绝加载：{'；'.join(wrong)}")
    orphans = sorted(d[:3] for d in raw["drg_names"] if d[:3] not in raw["adrg_names"])
    if orphans:
        raise RulePackError(f"DRG 表中的 ADRG 不在 ADRG 表中：{'、'.join(orphans[:5])}")

    pack = RulePack(version=version, path=root, mdc_names=raw["mdc_names"], adrg_names=raw["adrg_names"],
                    drg_names=raw["drg_names"], mdc_diagnoses=mdc_dx, trauma_regions=regions, rules=rules,
                    mcc_table=raw["mcc"], cc_table=raw["cc"], exclusion_tables=raw["exclusion"],
                    invalid_main_diagnoses=frozenset(raw["zd"]), not_main_procedures=frozenset(raw["ss"]),
                    diagnosis_names=dx_names, procedure_names=proc_names, counts=counts,
                    checksum=reader.sha.hexdigest())
    _index(pack)
    return pack


def _index(pack: RulePack) -> None:
    """Precompute what grouping looks up per case."""
    pack.mcc = frozenset(pack.mcc_table)
    pack.cc = frozenset(pack.cc_table) - pack.mcc
    by_mdc: dict[str, list[str]] = {m: [] for m in pack.mdc_names}
    for adrg in pack.adrg_names:
        mdc = "MDC" + adrg[0]
        if mdc not in by_mdc:
            raise RulePackError(f"ADRG {adrg} 的 MDC {mdc} 不在 MDC 表中")
        by_mdc[mdc].append(adrg)
    pack.adrgs_of_mdc = {m: tuple(v) for m, v in by_mdc.items()}
    suffixes: dict[str, str] = {}
    for drg in pack.drg_names:
        suffixes[drg[:3]] = suffixes.get(drg[:3], "") + drg[3]
    pack.drg_suffixes = {a: "".join(sorted(s)) for a, s in suffixes.items()}
    missing = [a for a in pack.adrg_names if a not in pack.drg_suffixes]
    if missing:
        raise RulePackError(f"ADRG 没有对应的 DRG：{'、'.join(missing[:5])}")
    for mdc, name in pack.mdc_names.items():
        sex = {"MDCM": "（男性）", "MDCN": "（女性）", "MDCO": "（女性）"}.get(mdc, "")
        pack.mdc_words[mdc] = f" 属 {mdc} {name}{sex}"
    for adrg, available in pack.drg_suffixes.items():
        for level in ("MCC", "CC", ""):
            suffix = drg_suffix(available, level)
            drg = adrg + suffix
            if suffix == "9":
                line = f"DRG {drg} {pack.drg_names[drg]}：不按并发症或合并症细分"
            else:
                line = (f"DRG {drg} {pack.drg_names[drg]}：" + (f"有 {level}" if level else "无 MCC/CC")
                        + f"（{adrg} 细分 {'/'.join(available)}）")
            pack.drg_lines[adrg, level] = (drg, line)

    or_procs: set[str] = set()
    for adrg, rule in pack.rules.items():
        dx: set[str] = set()
        procs: set[str] = set()
        for alt in rule.alternatives:
            for req in alt:
                for r in req.alts or (req,):
                    if r.kind in (MAIN_DX, ANY_DX):
                        dx |= r.codes
                    elif r.kind in (MAIN_PROC, ANY_PROC):
                        procs |= r.codes
        pack._main_dx_of[adrg] = frozenset(dx)
        pack._procs_of[adrg] = frozenset(procs)
        # Operating-room procedures: those of the surgical ADRGs (third letter A–J) of the body-system MDCs;
        # pre-MDC lists (intubation, ventilation) are not surgery.
        if adrg[0] != "A" and "A" <= adrg[1] <= "J":
            or_procs |= procs
    pack.or_procedures = frozenset(or_procs - pack.not_main_procedures)
    pack.pre_mdc_rules = dict(pack.rules)
    for adrg in pack.adrgs_of_mdc.get("MDCA", ()):
        rule = pack.rules[adrg]
        pack.pre_mdc_rules[adrg] = Rule(adrg, tuple(tuple(Req(ANY_PROC, r.codes, r.label) if r.kind == MAIN_PROC
                                                          else r for r in alt) for alt in rule.alternatives),
                                        rule.text)
    pack.ventilation_96h = frozenset(c for c, n in pack.procedure_names.items()
                                     if "96" in n and ("大于等于" in n or "≥" in n))
    of_dx: dict[str, list[str]] = {}
    for mdc, codes in pack.mdc_diagnoses.items():
        for c in codes:
            of_dx.setdefault(c, []).append(mdc)
    # A few main diagnoses appear only in an ADRG's own list (2.0: the premature-infant codes of PS1–PS4; 1.1:
    # burns of WB1 …): they belong to that ADRG's MDC.
    for adrg, codes in pack._main_dx_of.items():
        if adrg[0] != "A":
            for c in codes:
                mdcs = of_dx.setdefault(c, [])
                if "MDC" + adrg[0] not in mdcs:
                    mdcs.append("MDC" + adrg[0])
    pack.mdcs_of_diagnosis = {c: tuple(sorted(v)) for c, v in of_dx.items()}
    reg: dict[str, set[str]] = {}
    for region, codes in pack.trauma_regions.items():
        for c in codes:
            reg.setdefault(c, set()).add(region)
    pack.region_of_diagnosis = {c: frozenset(v) for c, v in reg.items()}
    for mdc, adrgs in pack.adrgs_of_mdc.items():
        pack.mdc_index[mdc] = _mdc_index(adrgs, pack.pre_mdc_rules if mdc == "MDCA" else pack.rules)
    # ADRGs whose names bound the age in days (MDCP: 出生年龄＜29天, 29天≤出生年龄＜1周岁)
    for adrg, name in pack.adrg_names.items():
        n = name.replace(" ", "")
        if m := re.search(r"(\d+)天≤出生年龄＜1周岁", n):
            pack.age_windows[adrg] = (int(m.group(1)), 364)
        elif m := re.search(r"出生年龄＜(\d+)天", n):
            pack.age_windows[adrg] = (0, int(m.group(1)) - 1)
    # In an MDC that names an ADRG for older infants (PV1 "29天≤出生年龄＜1周岁"), the ADRGs without an age in
    # their name are the newborns' (PK1 ventilation, PS1–PS4 by weight, PU1 full-term …).
    for adrg, (lo, _hi) in list(pack.age_windows.items()):
        if lo > 0:
            for other in pack.adrgs_of_mdc["MDC" + adrg[0]]:
                pack.age_windows.setdefault(other, (0, lo - 1))


def _mdc_index(adrgs: tuple[str, ...], rules: dict[str, Rule]) -> MdcIndex:
    def group_of(a: str) -> int:
        return 0 if "A" <= a[1] <= "J" else 1 if "K" <= a[1] <= "Q" else 2

    ordered = sorted(adrgs, key=lambda a: (group_of(a), adrgs.index(a)))
    maps: dict[str, dict[str, list[str]]] = {MAIN_PROC: {}, MAIN_DX: {}, ANY_PROC: {}, OTHER_DX: {}}
    always: list[str] = []
    for a in ordered:
        alts = rules[a].alternatives
        for kind in (MAIN_PROC, MAIN_DX, ANY_PROC, OTHER_DX, ANY_DX):
            keys = [next((r.codes for r in alt if r.kind == kind and r.codes), None) for alt in alts]
            if all(k is not None for k in keys):
                for code in frozenset().union(*[k for k in keys if k is not None]):
                    for into in ((MAIN_DX, OTHER_DX) if kind == ANY_DX else (kind,)):
                        maps[into].setdefault(code, []).append(a)
                break
        else:
            always.append(a)

    def freeze(m: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
        return {k: tuple(v) for k, v in m.items()}

    return MdcIndex(rank={a: i for i, a in enumerate(ordered)}, medical=frozenset(a for a in ordered
                                                                                 if group_of(a) == 2),
                    by_main_proc=freeze(maps[MAIN_PROC]), by_main_dx=freeze(maps[MAIN_DX]),
                    by_any_proc=freeze(maps[ANY_PROC]), by_other_dx=freeze(maps[OTHER_DX]), always=tuple(always))


def drg_suffix(available: str, level: str) -> str:
    """The DRG suffix for a complication level ("MCC", "CC", "") among the suffixes an ADRG has: 9 when not
    split; an MCC takes 1 (else 3, else 5); a CC takes 3 (else 5); none takes 5."""
    if "9" in available:
        return "9"
    if level == "MCC":
        for s in "135":
            if s in available:
                return s
    if level == "CC":
        for s in "35":
            if s in available:
                return s
    return "5" if "5" in available else available[-1]
