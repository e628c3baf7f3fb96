"""The national immunisation schedule as versioned data, and the pure rules that read it.

``schedules/immunisation_<edition>.json`` is the 国家免疫规划疫苗儿童免疫程序及说明 (2021 edition now): one item
per vaccine dose with the recommended age, the minimum age, the minimum interval from the previous dose, the
age by which it should be done (及时接种) and the age after which it is no longer caught up (补种). A new edition is
a new JSON file and a change of ``CURRENT``; every dose keeps the edition it was checked against.

No database here: ``check_dose`` says why a dose may not be given (or None), ``due_doses`` which doses a child
is due or overdue for on a day. ``history`` is any iterable of ``(vaccine, dose, given_on)`` tuples or of
objects with those attributes (``VaccineDose`` rows)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from django.utils.translation import get_language, gettext_noop, npgettext, pgettext
from django.utils.translation import gettext as _

CURRENT = "immunisation_2021.json"
# The schedule's catch-up notes, translated when shown (the JSON keeps the notes' own words).
CATCH_UP_NOTES = (gettext_noop("3月龄～3岁补种前需PPD或γ干扰素释放试验阴性；≥4岁不予补种"),
                  gettext_noop("≥24月龄未完成者改种A群C群流脑多糖疫苗，不再补种A群"))
_DIR = Path(__file__).resolve().parent / "schedules"


@dataclass(frozen=True)
class After:
    """A dose that must come some days after a dose of another vaccine of the same series (bOPV after IPV)."""

    vaccine: str
    dose: int
    min_interval_days: int


@dataclass(frozen=True)
class DoseRule:
    vaccine: str
    dose: int
    name: str
    name_en: str
    recommended_age_days: int
    min_age_days: int
    min_interval_days: int
    catch_up_until_days: int
    complete_by_days: int = 0
    age: str = ""
    after: After | None = None
    catch_up_note: str = ""

    @property
    def code(self) -> str:
        return f"{self.vaccine}-{self.dose}"

    @property
    def label(self) -> str:
        """The dose's name in the active language."""
        return self.name_en if (get_language() or "").startswith("en") else self.name

    @property
    def age_label(self) -> str:
        """The recommended age as the schedule writes it (出生时, 2月龄, 4周岁), in the active language."""
        return age_text(self.age)


def age_text(age: str) -> str:
    """出生时 / N月龄 / N周岁 in the active language; any other wording is shown as written."""
    if age == "出生时":
        return pgettext("vaccine age", "出生时")
    mo = re.fullmatch(r"(\d+)(月龄|周岁)", age)
    if not mo:
        return age
    n = int(mo.group(1))
    if mo.group(2) == "月龄":
        return npgettext("vaccine age", "%(n)s月龄", "%(n)s月龄", n) % {"n": n}
    return npgettext("vaccine age", "%(n)s周岁", "%(n)s周岁", n) % {"n": n}


@dataclass(frozen=True)
class ImmunisationSchedule:
    edition: str
    source: str
    doses: list[DoseRule]
    title: str = ""
    title_en: str = ""
    live_vaccines: frozenset[str] = field(default_factory=frozenset)
    live_interval_days: int = 0

    @property
    def title_label(self) -> str:
        """The schedule's title in the active language."""
        return self.title_en if self.title_en and (get_language() or "").startswith("en") else self.title

    def rule(self, vaccine: str, dose: int) -> DoseRule | None:
        for r in self.doses:
            if r.vaccine == vaccine and r.dose == dose:
                return r
        return None

    def vaccines(self) -> list[str]:
        return list(dict.fromkeys(r.vaccine for r in self.doses))

    def series(self, vaccine: str) -> list[DoseRule]:
        return [r for r in self.doses if r.vaccine == vaccine]


class Due(NamedTuple):
    rule: DoseRule
    due_from: dt.date
    due_by: dt.date
    overdue: bool


Given = tuple[str, int, dt.date]


def load(data: dict[str, Any]) -> ImmunisationSchedule:
    doses = []
    for item in data["items"]:
        after = item.get("after")
        doses.append(DoseRule(
            vaccine=item["vaccine"], dose=int(item["dose"]), name=item["name"], name_en=item["name_en"],
            recommended_age_days=int(item["recommended_age_days"]), min_age_days=int(item["min_age_days"]),
            min_interval_days=int(item["min_interval_days"]),
            catch_up_until_days=int(item["catch_up_until_days"]),
            complete_by_days=int(item.get("complete_by_days") or item["recommended_age_days"]),
            age=item.get("age", ""), catch_up_note=item.get("catch_up_note", ""),
            after=After(after["vaccine"], int(after["dose"]), int(after["min_interval_days"])) if after else None,
        ))
    live = data.get("live_injected") or {}
    return ImmunisationSchedule(
        edition=data["edition"], source=data["source"], doses=doses, title=data.get("title", ""),
        title_en=data.get("title_en", ""),
        live_vaccines=frozenset(live.get("vaccines", [])), live_interval_days=int(live.get("min_interval_days", 0)),
    )


@cache
def schedule(name: str = CURRENT) -> ImmunisationSchedule:
    """The schedule of an edition file (the current one by default)."""
    return load(json.loads((_DIR / name).read_text(encoding="utf-8")))


def _normalise(history: Iterable[Any]) -> list[Given]:
    out: list[Given] = []
    for h in history:
        if isinstance(h, tuple):
            out.append((h[0], int(h[1]), h[2]))
        else:
            out.append((h.vaccine, int(h.dose), h.given_on))
    return out


def _given(history: list[Given], vaccine: str, dose: int) -> dt.date | None:
    for v, d, on in history:
        if v == vaccine and d == dose:
            return on
    return None


def _days(n: int) -> str:
    return _("%(n)s 天") % {"n": n}


def check_dose(rule_set: ImmunisationSchedule | None, history: Iterable[Any], vaccine: str, dose: int,
               given_on: dt.date, birth_date: dt.date) -> str | None:
    """Why this dose may not be given on ``given_on`` (the rule that forbids it, named), or None if it may.

    Rules in order: known dose; not before birth; not given twice; dose order (the previous dose of the vaccine
    on record); minimum age; minimum interval from the previous dose; interval from the dose of the series it
    follows (``after``); 28 days between live injected vaccines not given the same day; the catch-up age limit."""
    problem = dose_problem(rule_set, history, vaccine, dose, given_on, birth_date)
    return problem[1] if problem else None


def dose_problem(rule_set: ImmunisationSchedule | None, history: Iterable[Any], vaccine: str, dose: int,
                 given_on: dt.date, birth_date: dt.date) -> tuple[str, str] | None:
    """``check_dose`` with the form field the refusal is about: ("vaccine" | "dose" | "given_on", message)."""
    rs = rule_set or schedule()
    hist = _normalise(history)
    rule = rs.rule(vaccine, dose)
    if rule is None:
        return "vaccine", _("免疫程序（%(edition)s）中没有 %(vaccine)s 第 %(dose)s 剂") % {
            "edition": rs.edition, "vaccine": vaccine, "dose": dose}
    age = (given_on - birth_date).days
    if age < 0:
        return "given_on", _("接种日期早于出生日期")
    if _given(hist, vaccine, dose) is not None:
        return "dose", _("%(name)s 已接种过") % {"name": rule.label}
    prev_on = None
    if dose > 1:
        prev_on = _given(hist, vaccine, dose - 1)
        prev = rs.rule(vaccine, dose - 1)
        if prev_on is None:
            return "dose", _("剂次顺序：%(name)s 须在 %(prev)s 之后接种，尚无 %(prev)s 的记录") % {
                "name": rule.label, "prev": prev.label if prev else f"{vaccine}-{dose - 1}"}
    if age < rule.min_age_days:
        return "given_on", _(
            "最小接种年龄：%(name)s 的起始接种年龄为 %(age)s（%(days)s），该儿童接种时仅 %(actual)s") % {
            "name": rule.label, "age": rule.age_label, "days": _days(rule.min_age_days), "actual": _days(age)}
    if prev_on is not None:
        gap = (given_on - prev_on).days
        if gap < rule.min_interval_days:
            return "given_on", _("最小间隔：%(name)s 与前一剂间隔应 ≥ %(min)s，实际 %(gap)s") % {
                "name": rule.label, "min": _days(rule.min_interval_days), "gap": _days(gap)}
    if rule.after is not None:
        after_on = _given(hist, rule.after.vaccine, rule.after.dose)
        after_rule = rs.rule(rule.after.vaccine, rule.after.dose)
        if after_on is not None and (given_on - after_on).days < rule.after.min_interval_days:
            return "given_on", _("最小间隔：%(name)s 与 %(other)s 间隔应 ≥ %(min)s，实际 %(gap)s") % {
                "name": rule.label, "other": after_rule.label if after_rule else rule.after.vaccine,
                "min": _days(rule.after.min_interval_days), "gap": _days((given_on - after_on).days)}
    if vaccine in rs.live_vaccines and rs.live_interval_days:
        for v, d, on in hist:
            gap = abs((given_on - on).days)
            if v in rs.live_vaccines and v != vaccine and 0 < gap < rs.live_interval_days:
                other = rs.rule(v, d)
                return "given_on", _("注射类减毒活疫苗未同时接种时应间隔 ≥ %(min)s：%(other)s 接种于 %(on)s") % {
                    "min": _days(rs.live_interval_days), "other": other.label if other else v, "on": on}
    if age >= rule.catch_up_until_days:
        return "given_on", _("补种年龄：%(name)s 补种至 %(limit)s 龄前，该儿童已 %(actual)s%(note)s") % {
            "name": rule.label, "limit": _years(rule.catch_up_until_days), "actual": _days(age),
            "note": _("（%(note)s）") % {"note": _(rule.catch_up_note)} if rule.catch_up_note else ""}
    return None


def _years(days: int) -> str:
    if days % 365 == 0:
        return _("%(n)s 周岁") % {"n": days // 365}
    return _("%(n)s 月") % {"n": days // 30}


def is_catch_up(rule: DoseRule, given_on: dt.date, birth_date: dt.date) -> bool:
    """A dose given after the age by which it should have been done (及时接种) is a catch-up (补种)."""
    return (given_on - birth_date).days >= rule.complete_by_days


def due_doses(history: Iterable[Any], birth_date: dt.date, on: dt.date, *, horizon_days: int = 0,
              rule_set: ImmunisationSchedule | None = None) -> list[Due]:
    """The next dose of each vaccine the child may have on ``on`` (or within ``horizon_days``), with the day it
    becomes due (minimum age and intervals met), the day it should be done by and whether that day has passed.

    A vaccine whose catch-up age has passed on ``on`` is not listed (no longer given: BCG from 4 years, DTaP from
    6 years — DT takes over, MenA from 24 months — MenAC takes over)."""
    rs = rule_set or schedule()
    hist = _normalise(history)
    age = (on - birth_date).days
    out: list[Due] = []
    for vaccine in rs.vaccines():
        for rule in rs.series(vaccine):
            if _given(hist, vaccine, rule.dose) is not None:
                continue
            if age >= rule.catch_up_until_days:
                break
            start = birth_date + dt.timedelta(days=rule.min_age_days)
            if rule.dose > 1:
                prev_on = _given(hist, vaccine, rule.dose - 1)
                if prev_on is None:
                    break
                start = max(start, prev_on + dt.timedelta(days=rule.min_interval_days))
            if rule.after is not None:
                after_on = _given(hist, rule.after.vaccine, rule.after.dose)
                if after_on is not None:
                    start = max(start, after_on + dt.timedelta(days=rule.after.min_interval_days))
            if start > on + dt.timedelta(days=horizon_days):
                break
            by = max(birth_date + dt.timedelta(days=rule.complete_by_days - 1), start)
            out.append(Due(rule, start, by, on > by))
            break
    return out


def next_doses(history: Iterable[Any], birth_date: dt.date, on: dt.date, *,
               rule_set: ImmunisationSchedule | None = None) -> list[Due]:
    """The next dose of each vaccine whatever its date (the vaccine card's "next doses")."""
    return due_doses(history, birth_date, on, horizon_days=365 * 18, rule_set=rule_set)
