"""Finding who an incoming record may be: blocking in the database, scoring with the EMPI model.

Registration search and file import both come here, so a person found at one desk is found at
every other. Blocking keys, each an indexed equality: the ID number (and its 18-digit form), the
birth date and its usual slips (a day off, month and day swapped, the date inside the ID number),
the phone, and the dialect-folded pinyin of the name within the birth year."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yigongti.core.actor import Actor
from yigongti.core.idcard import IdNumberError, normalise_id_text, parse_id_number
from yigongti.core.personal import PhoneError, lookup_digest, mask_for_log, normalise_phone

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
            p.problems.append(_("出生日期无法识别：%(text)s") % {"text": text})
    elif isinstance(birth_date, dt.date):
        p.birth_date = birth_date
    p.id_number = normalise_id_text(id_number)
    if p.id_number:
        try:
            parsed = parse_id_number(p.id_number)
            p.id_normalised = parsed.number
            p.sex = p.sex or parsed.sex
            p.birth_date = p.birth_date or parsed.birth_date
            p.problems.extend(parsed.warnings)
        except IdNumberError as e:
            p.problems.append(_("身份证号无效（%(why)s），仍按其他信息匹配") % {"why": e.message})
    if phone:
        try:
            p.phone = normalise_phone(phone)
        except PhoneError:
            p.problems.append(_("电话号码无法识别：%(phone)s") % {"phone": phone})
    return p


def _dates_near(d: dt.date) -> set[dt.date]:
    near = {d, d - dt.timedelta(days=1), d + dt.timedelta(days=1)}
    with contextlib.suppress(ValueError):
        near.add(d.replace(month=d.day, day=d.month))  # month and day swapped
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


PHONE_IGNORED = gettext_lazy("电话号码仅用于有完整号码查看权限的用户检索，本次未用于匹配")


def may_match_on_phone(user) -> bool:
    """Only users who may see the phones of everyone they can search may search by one: for others a match
    on the phone would confirm a guessed number (the "电话号码相同" oracle). That is the unmask privilege,
    and a village doctor, whose scope is exactly the village whose residents' phones he sees for care."""
    from yigongti.orgs.permissions import can

    return user is None or can(user, "residents.unmask") or getattr(user, "role", "") == "village_doctor"


def probe_for_audit(p: Probe) -> dict:
    """What a search looked for, fit for the audit log: identifiers as a keyed digest and masked, never clear."""
    out: dict = {"fields": [k for k in ("name", "sex", "birth_date", "id_number", "phone", "address")
                            if getattr(p, k)]}
    if p.name:
        out["name"] = p.name[:40]
    if p.id_number:
        out["id_number"] = mask_for_log(p.id_number)
        out["id_digest"] = lookup_digest(p.id_normalised or p.id_number)
    if p.phone:
        out["phone"] = mask_for_log(p.phone)
        out["phone_digest"] = lookup_digest(p.phone)
    return out


def registration_search(p: Probe, *, actor: Actor, query: str = "registration_search") -> list[Candidate]:
    """建档前检索 for a desk: candidates within the user's scope, the persons shown audited.

    Rate-limited per account and per client (``core.ratelimit``: it answers guesses); the typed phone is
    used only for users who may see phones; the audit event stores the probe masked and digested."""
    from yigongti.core import audit, ratelimit
    from yigongti.core.scoping import scope_for

    user = actor.user
    ratelimit.hit(actor, "person_lookup")
    searched = probe_for_audit(p)
    if p.phone and not may_match_on_phone(user):
        p.phone = ""
        p.problems.append(str(PHONE_IGNORED))
    pool = Resident.objects.all() if user is None else scope_for(user).filter(Resident.objects.all())
    found = find_candidates(p, pool)
    if not may_match_on_phone(user):
        for c in found:  # belt and braces: no reason may speak of the phone
            c.reasons_for = [r for r in c.reasons_for if "电话" not in r]
            c.reasons_against = [r for r in c.reasons_against if "电话" not in r]
    audit.record(actor, "list", "resident", "", query=query, probe=searched, ids=[c.resident.pk for c in found])
    return found


def check_id_lookup(data: dict, *, actor: Actor) -> None:
    """建档 and editing with an ID number answer "该身份证号已建档" for any number in the city: an oracle.
    Count it against the lookup limit and audit the number looked up (digested) before the service runs."""
    from yigongti.core import audit, ratelimit

    raw = (data.get("id_number") or "").strip()
    if not raw:
        return
    ratelimit.hit(actor, "person_lookup")
    try:
        number = parse_id_number(raw).number
    except IdNumberError:
        number = raw
    audit.record(actor, "list", "resident", "", query="id_duplicate_check",
                 probe={"fields": ["id_number"], "id_number": mask_for_log(number), "id_digest": lookup_digest(number)})
