"""Finding who an incoming record may be: blocking in the database, scoring with the EMPI model.

Registration search and file import both come here, so a person found at one desk is found at
every other. Blocking keys, each an indexed equality: the ID number (and its 18-digit form), the
birth date and its usual slips (a day off, month and day swapped, the date inside the ID number),
the phone, and the dialect-folded pinyin of the name within the birth year."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from yigongti.core.idcard import IdNumberError, parse_id_number
from yigongti.core.personal import PhoneError, normalise_phone

from .matching import score_candidates
from .matching.names import folded_key
from .models import NonMatch, Resident

MAX_CANDIDATES = 200
REVIEW_FLOOR = 0.30  # below this probability a candidate is not worth a reviewer's time


@dataclass
class Probe:
    """An incoming record, normalised as far as it can be; ``problems`` lists what was unreadable."""

    name: str = ""
    sex: str = ""
    birth_date: dt.date | None = None
    id_number: str = ""  # as typed
    id_normalised: str = ""  # 18 characters when valid
    phone: str = ""
    address: str = ""
    household: str = ""
    problems: list[str] = field(default_factory=list)

    def as_matching_record(self) -> dict:
        return {"record_id": "probe", "source_system": "probe", "name": self.name, "sex": self.sex,
                "birth_date": self.birth_date.isoformat() if self.birth_date else None,
                "id_number": self.id_number, "phone": self.phone, "address": self.address,
                "household_id": self.household}


SEX_WORDS = {"男": "M", "m": "M", "1": "M", "女": "F", "f": "F", "2": "F"}


def make_probe(name="", sex="", birth_date=None, id_number="", phone="", address="", household="") -> Probe:
    p = Probe(name=(name or "").strip(), address=(address or "").strip(), household=str(household or "").strip())
    p.sex = SEX_WORDS.get(str(sex or "").strip().lower(), "")
    if isinstance(birth_date, str) and birth_date.strip():
        text = birth_date.strip()
        try:
            p.birth_date = (dt.date.fromisoformat(text) if "-" in text
                            else dt.datetime.strptime(text, "%Y%m%d").date())
        except ValueError:
            p.problems.append(f"出生日期无法识别：{text}")
    elif isinstance(birth_date, dt.date):
        p.birth_date = birth_date
    p.id_number = (id_number or "").strip().upper()
    if p.id_number:
        try:
            parsed = parse_id_number(p.id_number)
            p.id_normalised = parsed.number
            p.sex = p.sex or parsed.sex
            p.birth_date = p.birth_date or parsed.birth_date
        except IdNumberError as e:
            p.problems.append(f"身份证号无效（{e.message}），仍按其他信息匹配")
    if phone:
        try:
            p.phone = normalise_phone(phone)
        except PhoneError:
            p.problems.append(f"电话号码无法识别：{phone}")
    return p


def _dates_near(d: dt.date) -> set[dt.date]:
    near = {d, d - dt.timedelta(days=1), d + dt.timedelta(days=1)}
    try:
        near.add(d.replace(month=d.day, day=d.month))  # month and day swapped
    except ValueError:
        pass
    return near


def _date_in_id(raw: str) -> dt.date | None:
    digits = raw[6:14] if len(raw) == 18 else ("19" + raw[6:12] if len(raw) == 15 else "")
    try:
        return dt.datetime.strptime(digits, "%Y%m%d").date() if digits.isdigit() else None
    except ValueError:
        return None


def blocking_q(p: Probe) -> Q | None:
    q = Q()
    keys = 0
    if p.id_normalised:
        q |= Q(id_number=p.id_normalised)
        keys += 1
    dates: set[dt.date] = set()
    if p.birth_date:
        dates |= _dates_near(p.birth_date)
    if (inner := _date_in_id(p.id_number)) is not None:
        dates |= _dates_near(inner)
    if dates:
        q |= Q(birth_date__in=sorted(dates))
        keys += 1
    if p.phone:
        q |= Q(phone=p.phone)
        keys += 1
    if p.name:
        key = folded_key(p.name)
        if key:
            year = p.birth_date.year if p.birth_date else None
            q |= Q(pinyin_key=key, birth_date__year=year) if year else Q(pinyin_key=key)
            keys += 1
    return q if keys else None


def resident_as_record(r: Resident) -> dict:
    place = f"{r.village.parent.name if r.village and r.village.parent else ''}{r.village.name if r.village else ''}"
    return {"record_id": str(r.pk), "source_system": "index", "name": r.name, "sex": r.sex,
            "birth_date": r.birth_date.isoformat(), "id_number": r.id_number or "", "phone": r.phone,
            "address": place, "household_id": str(r.household_id or "")}


@dataclass
class Candidate:
    resident: Resident
    score: float
    linked: bool  # strong enough to link without a person looking
    reasons_for: list[str]
    reasons_against: list[str]


def find_candidates(p: Probe, pool: QuerySet[Resident], exclude_pk: int | None = None,
                    limit: int = 10) -> list[Candidate]:
    """The index's best guesses for a probe among ``pool`` (already scoped by the caller)."""
    q = blocking_q(p)
    if q is None:
        return []
    rows = list(pool.filter(q, merged_into__isnull=True).select_related("village__parent")[:MAX_CANDIDATES])
    if exclude_pk is not None:
        rows = [r for r in rows if r.pk != exclude_pk]
        apart = set(NonMatch.objects.filter(person_a_id=exclude_pk).values_list("person_b_id", flat=True)) | set(
            NonMatch.objects.filter(person_b_id=exclude_pk).values_list("person_a_id", flat=True))
        rows = [r for r in rows if r.pk not in apart]
    if not rows:
        return []
    scored = score_candidates(p.as_matching_record(), [resident_as_record(r) for r in rows])
    out = [Candidate(rows[m.index], m.score, m.linked, m.reasons_for, m.reasons_against) for m in scored]
    return [c for c in out if c.linked or c.score >= REVIEW_FLOOR][:limit]


def registration_search(who, p: Probe) -> list[Candidate]:
    """建档前检索 for a desk: candidates within the user's scope, the persons shown audited."""
    from yigongti.core import audit
    from yigongti.core.scoping import scope_for

    user = getattr(who, "user", who)
    found = find_candidates(p, scope_for(user).filter(Resident.objects.all()))
    audit.record(who, "list", "resident", "", query="registration_search", ids=[c.resident.pk for c in found])
    return found
