"""Households and residents with valid ID numbers, a rural age pyramid and key-population tags.

Families are built whole (couples with children, three generations, elderly living alone) so that
households, shared surnames, parents' phones and twins look like real registers: the resident-index
issue reuses these people to make its messy records."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.utils import timezone

from yigongti.core.idcard import check_char
from yigongti.residents.matching.names import folded_key
from yigongti.residents.models import Household, Resident, ResidentTag, name_search_keys

from .bulk import analyze, load_rows, reset_sequences
from .context import DemoContext
from .data import county as C
from .data.names import FEMALE_CHARS, MALE_CHARS, RARE_SURNAMES, SURNAMES


@dataclass
class Person:
    name: str
    sex: str
    birth: dt.date
    id_number: str | None
    phone: str
    household: int
    village_code: str
    tags: list[str]


class _Namer:
    def __init__(self, r: random.Random):
        self.r = r
        self.surnames = [s for s, _ in SURNAMES] + list(RARE_SURNAMES)
        self.weights = [w for _, w in SURNAMES] + [0.5] * len(RARE_SURNAMES)

    def surname(self) -> str:
        return self.r.choices(self.surnames, self.weights)[0]

    def given(self, sex: str) -> str:
        chars = FEMALE_CHARS if sex == "F" else MALE_CHARS
        n = 1 if self.r.random() < 0.28 else 2
        return "".join(self.r.choice(chars) for _ in range(n))


class _Ids:
    """Unique, valid ID numbers: sequence numbers counted per (region code, birth date)."""

    def __init__(self, r: random.Random):
        self.r = r
        self.used: dict[tuple[str, dt.date], int] = {}

    def make(self, birth: dt.date, sex: str) -> str:
        code = C.COUNTY[0][:6]
        if birth.year < 1978 and self.r.random() < 0.3:
            code = C.OLD_COUNTY_CODE  # card first issued before 1995 under the old code
        n = self.used.get((code, birth), 0)
        self.used[(code, birth)] = n + 1
        seq = (n * 2 + (1 if sex == "M" else 0)) % 1000
        first17 = f"{code}{birth:%Y%m%d}{seq:03d}"
        return first17 + check_char(first17)


def _birth(r: random.Random, today: dt.date, age: int) -> dt.date:
    return today - dt.timedelta(days=age * 365 + r.randrange(365) + age // 4)


def _phone(r: random.Random) -> str:
    return f"1{r.choice('35789')}{r.randrange(10**9):09d}"


def generate_people(ctx: DemoContext) -> tuple[list[Person], list[tuple[int, str, str]]]:
    """People and households (id, village code, address) until the population is reached."""
    r = ctx.pyrandom("people")
    namer, ids, today = _Namer(r), _Ids(r), ctx.today
    townships = sorted((c for c in ctx.regions.values() if c.level == "township"), key=lambda t: t.code)
    shares = dict(C.TOWNSHIPS)
    village_codes, village_weights = [], []
    for t in townships:
        vs = sorted(v.code for v in ctx.regions.values() if v.level == "village" and v.code.startswith(t.code[:9]))
        for v in vs:
            village_codes.append(v)
            village_weights.append(shares[t.name] / len(vs) * r.uniform(0.7, 1.3))
    people: list[Person] = []
    households: list[tuple[int, str, str]] = []
    task = ctx.task("生成居民", ctx.population)
    hh_no_in_village: dict[str, int] = {}
    while len(people) < ctx.population:
        hid = len(households) + 1
        village = r.choices(village_codes, village_weights)[0]
        hh_no_in_village[village] = hh_no_in_village.get(village, 0) + 1
        vname = ctx.regions[village].name
        households.append((hid, village, f"{ctx.regions[village[:9] + '000'].name}{vname}{r.randint(1, 12)}组"
                                         f"{hh_no_in_village[village]}号"))
        before = len(people)
        _family(r, namer, ids, today, hid, village, people)
        task.advance(len(people) - before)
    task.done()
    del people[ctx.population:]
    _household_tags(r, people)
    return people, households


def _add(people, r, namer, ids, today, hid, village, sex, age, surname=None, phone=None, twin_of=None) -> Person:
    birth = twin_of.birth if twin_of else _birth(r, today, age)
    name = (surname or namer.surname()) + namer.given(sex)
    if twin_of is not None:
        while name == twin_of.name:
            name = name[0] + namer.given(sex)
    real_age = (today - birth).days // 365
    missing_id = (real_age < 2 and r.random() < 0.25) or r.random() < 0.004
    if phone is None:
        phone = _phone(r) if (16 <= real_age <= 75 and r.random() < 0.9) or (real_age > 75 and r.random() < 0.4) else ""
    p = Person(name, sex, birth, None if missing_id else ids.make(birth, sex), phone, hid, village,
               _person_tags(r, sex, real_age))
    people.append(p)
    return p


def _family(r, namer, ids, today, hid, village, people) -> None:
    kind = r.random()
    surname = namer.surname()
    if kind < 0.42:  # couple with children
        age = r.randint(26, 58)
        father = _add(people, r, namer, ids, today, hid, village, "M", age, surname)
        _add(people, r, namer, ids, today, hid, village, "F", max(20, age + r.randint(-5, 2)))
        _children(r, namer, ids, today, hid, village, people, surname, age, father.phone)
    elif kind < 0.66:  # three generations
        gp_age = r.randint(58, 88)
        _add(people, r, namer, ids, today, hid, village, "M", gp_age, surname)
        if r.random() < 0.75:
            _add(people, r, namer, ids, today, hid, village, "F", gp_age + r.randint(-6, 2))
        age = max(22, gp_age - r.randint(22, 32))
        father = _add(people, r, namer, ids, today, hid, village, "M", age, surname)
        if r.random() < 0.85:
            _add(people, r, namer, ids, today, hid, village, "F", max(20, age + r.randint(-5, 2)))
        _children(r, namer, ids, today, hid, village, people, surname, age, father.phone)
    elif kind < 0.86:  # elderly couple or widowed
        age = r.randint(60, 92)
        _add(people, r, namer, ids, today, hid, village, "M" if r.random() < 0.45 else "F", age, surname)
        if r.random() < 0.55:
            _add(people, r, namer, ids, today, hid, village, "F", age + r.randint(-6, 2))
    else:  # single adult
        _add(people, r, namer, ids, today, hid, village, "M" if r.random() < 0.6 else "F", r.randint(18, 60))


def _children(r, namer, ids, today, hid, village, people, surname, parent_age, phone) -> None:
    n = r.choices([0, 1, 2, 3], [0.12, 0.38, 0.40, 0.10])[0]
    prev = None
    for _ in range(n):
        age = parent_age - r.randint(21, 36)
        if age < 0:
            continue
        sex = "M" if r.random() < 0.53 else "F"
        twin = prev if prev is not None and r.random() < 0.012 else None  # ~1 in 80 births
        prev = _add(people, r, namer, ids, today, hid, village, sex, age,
                    surname if r.random() < 0.93 else None, phone="" if age < 16 else None, twin_of=twin)


PREVALENCE = {  # by age band start: (hypertension, type-2 diabetes) registered for management
    35: (0.06, 0.025), 45: (0.14, 0.05), 55: (0.24, 0.085), 65: (0.33, 0.10), 75: (0.38, 0.09),
}


def _person_tags(r: random.Random, sex: str, age: int) -> list[str]:
    tags = []
    if age >= 65:
        tags.append("elderly")
    if age <= 6:
        tags.append("child")
    if sex == "F" and 20 <= age <= 40 and r.random() < 0.035:
        tags.append("maternal")
    if age >= 35:
        band = max(b for b in PREVALENCE if b <= age)
        htn, dm = PREVALENCE[band]
        if r.random() < htn:
            tags.append("htn")
        if r.random() < dm:
            tags.append("t2dm")
    if age >= 15 and r.random() < 0.0045:
        tags.append("smi")
    if r.random() < 0.02 + 0.001 * max(age - 40, 0):
        tags.append("disabled")
    return tags


def _household_tags(r: random.Random, people: list[Person]) -> None:
    """Poverty-related tags are a household's: every member carries them."""
    by_household: dict[int, list[Person]] = {}
    for p in people:
        by_household.setdefault(p.household, []).append(p)
    for members in by_household.values():
        x = r.random()
        tag = "tuopin" if x < 0.09 else "dibao" if x < 0.135 else "jiance" if x < 0.15 else None
        if len(members) == 1 and "elderly" in members[0].tags and r.random() < 0.12:
            tag = "tekun"
        if tag:
            for m in members:
                m.tags.append(tag)


def load_people(ctx: DemoContext, people: list[Person], households: list[tuple[int, str, str]]) -> None:
    village_ids = {code: reg.pk for code, reg in ctx.regions.items() if reg.level == "village"}
    now = timezone.now()
    task = ctx.task("写入数据库", len(people) * 2 + len(households))
    with transaction.atomic():
        def hh_rows():
            for hid, code, address in households:
                task.advance()
                yield (hid, f"{code}{hid:07d}", village_ids[code], code, address)

        load_rows(Household, ["id", "number", "village", "area_code", "address"], hh_rows())

        keys: dict[str, tuple[str, str, str]] = {}  # pinyin per distinct name: far fewer names than people

        def person_rows():
            for i, p in enumerate(people, start=1):
                task.advance()
                key = keys.get(p.name)
                if key is None:
                    key = keys[p.name] = (folded_key(p.name), *name_search_keys(p.name))
                yield (i, p.name, p.sex, p.birth, p.id_number, p.phone, p.household, village_ids[p.village_code],
                       p.village_code, *key, now, now)

        load_rows(Resident, ["id", "name", "sex", "birth_date", "id_number", "phone", "household", "village",
                             "area_code", "pinyin_key", "name_pinyin", "name_initials", "created", "updated"],
                  person_rows())

        def tag_rows():
            k = 0
            for i, p in enumerate(people, start=1):
                task.advance()
                for t in p.tags:
                    k += 1
                    yield (k, i, t)

        load_rows(ResidentTag, ["id", "resident", "tag"], tag_rows())
        reset_sequences(Household, Resident, ResidentTag)
    analyze(Household, Resident, ResidentTag)
    task.done()
    ctx.extra["people"] = people


def age_pyramid(people: list[Person], today: dt.date) -> np.ndarray:
    """Counts by 5-year band (0–4 … 90+), for checks and the bench's report."""
    ages = np.array([(today - p.birth).days // 365 for p in people])
    return np.bincount(np.minimum(ages // 5, 18), minlength=19)
