"""CHS-DRG grouping driven by the national tables (rule packs in ``insurance/rules``), pure Python, no Django.

    pack = pack_for("CHS-DRG 2.0")    # the shipped pack, loaded and checked once per process (see VERSIONS)
    pack = load_pack(path)            # any pack directory; RulePackError if its counts differ from the declared
    result = group(pack, case)        # GroupResult(status "grouped"/"ungroupable", mdc, adrg, drg, trace, reason)
    results = group_many(pack, cases)

A pack answers ``version``, ``mdc_names``/``adrg_names``/``drg_names``, ``counts``, ``checksum`` (sha256 of the
files read), ``main_diagnoses_of(adrg)``, ``procedures_of(adrg)``, ``mcc``, ``cc``, ``valid_diagnosis(code)`` (valid
as a main diagnosis), ``known_diagnosis(code)``, ``valid_procedure(code)``, ``mdcs_of_diagnosis``. Packs are only
read while grouping, so one pack serves any number of threads.
"""

from __future__ import annotations

import threading
from pathlib import Path

from .grouper import group, group_many
from .rulepack import V11, V20, RulePack, RulePackError, load_pack
from .types import GROUPED, UNGROUPABLE, Case, GroupResult

VERSIONS = (V20, V11)
RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
_DIRS = {V20: "CHS_DRG_20", V11: "CHS_DRG_11"}
_packs: dict[str, RulePack] = {}
_lock = threading.Lock()


def pack_dir(version: str) -> Path:
    """The shipped directory of a version ("CHS-DRG 2.0" → rules/CHS_DRG_20)."""
    try:
        return RULES_DIR / _DIRS[version]
    except KeyError:
        raise RulePackError(f"未知的分组版本 {version!r}（可用：{'、'.join(VERSIONS)}）") from None


def pack_for(version: str) -> RulePack:
    """The shipped pack of ``version``, loaded and verified once per process (thread-safe)."""
    pack = _packs.get(version)
    if pack is None:
        with _lock:
            pack = _packs.get(version)
            if pack is None:
                pack = _packs[version] = load_pack(pack_dir(version), version)
    return pack


__all__ = ["GROUPED", "UNGROUPABLE", "VERSIONS", "Case", "GroupResult", "RulePack", "RulePackError", "group",
           "group_many", "load_pack", "pack_dir", "pack_for"]
