"""The grouper's input and output: plain frozen data, no Django (the batch command, the services and the bench
share them)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Case:
    """One discharge as the settlement list gives it. Codes are 医保版 ICD-10 2.0 (diagnoses) and ICD-9-CM-3 2.0
    (procedures), main first. ``sex`` is "1" male / "2" female; ``age_days`` is for infants (< 1 year)."""

    case_id: str
    sex: str
    age_years: int
    diagnoses: tuple[str, ...]
    procedures: tuple[str, ...] = ()
    age_days: int | None = None
    birth_weight_g: int | None = None
    los_days: int = 1
    discharge_mode: str = "1"  # 1 医嘱离院 … 5 死亡
    department: str = ""
    ventilation_hours: int = 0


@dataclass(frozen=True, slots=True)
class GroupResult:
    """The group of one case under one version. ``status`` is "grouped" or "ungroupable"; ``trace`` says, line
    by line in words, which rule matched and why (which secondary diagnosis was an MCC/CC, which was excluded
    by the main diagnosis's exclusion table), or why the case cannot be grouped."""

    case_id: str
    version: str
    status: str
    mdc: str = ""
    adrg: str = ""
    drg: str = ""
    trace: tuple[str, ...] = field(default_factory=tuple)
    complication: str = ""  # "MCC" / "CC" / ""
    reason: str = ""  # why an ungroupable case cannot be grouped (also the trace's last line)


GROUPED = "grouped"
UNGROUPABLE = "ungroupable"
