"""Who is calling: the caller's number looked up in the resident index (主索引), for the dispatcher.

Scoped (the dispatcher's county), rate-limited like every lookup that answers a guess (``core.ratelimit``,
bucket ``person_lookup``), audited with a keyed digest of the number (never the number), the phone shown
masked and no ID number. What the crew must know comes under ``Category.EMERGENCY``: allergies and chronic
conditions from the record that exists — key-population tags (高血压, 糖尿病, 严重精神障碍, 孕产妇 …) and the
diagnoses of the person's encounters — and the earlier 120 calls from the same number."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from yigongti.core import audit, ratelimit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput
from yigongti.core.personal import PhoneError, lookup_digest, mask_phone, normalise_phone
from yigongti.core.scoping import scope_for
from yigongti.encounters.models import Diagnosis, Encounter
from yigongti.orgs.permissions import Category, check_read
from yigongti.residents.models import KeyPopulation, Resident, ResidentTag

from ..models import Call

CHRONIC_TAGS = {"htn", "t2dm", "smi", "maternal", "disabled"}
# ICD-10 prefixes of conditions a crew must know about (chronic, or changing what it may give)
CHRONIC_ICD = ("I10", "I11", "I12", "I13", "I15", "I20", "I21", "I22", "I25", "I48", "I50", "I63", "I64", "I69",
               "E10", "E11", "E12", "E13", "E14", "J44", "J45", "N18", "G40", "C", "F20", "F31", "K74", "O")
# ICD-10 codes that record an allergy (Z88 药物过敏个人史, Z91.0 非药物过敏史, T78.4 过敏, T88.7 药物不良反应, L23/L27)
ALLERGY_ICD = ("Z88", "Z91.0", "T78.4", "T88.7", "L23", "L27", "T78.2", "T78.3")
MAX_MATCHES = 5
MAX_CALLS = 5


@dataclass
class EarlierCall:
    pk: int
    call_no: str
    rang_at: dt.datetime
    complaint: str
    status: str


@dataclass
class CallerMatch:
    resident_id: int
    name: str
    sex: str
    age: int
    phone: str  # masked
    place: str
    allergies: list[str] = field(default_factory=list)
    chronic: list[str] = field(default_factory=list)
    earlier_calls: list[EarlierCall] = field(default_factory=list)


@dataclass
class CallerLookup:
    phone: str  # masked
    matches: list[CallerMatch]
    earlier_calls: list[EarlierCall]


def _diagnoses(resident_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list[tuple[str, str]]] = {}
    mains = (Encounter.objects.filter(resident_id__in=resident_ids).exclude(main_icd10="")
             .order_by("-admit_date").values_list("resident_id", "main_icd10", "main_diagnosis")[:400])
    for rid, code, name in mains:
        out.setdefault(rid, []).append((code, name))
    others = (Diagnosis.objects.filter(encounter__resident_id__in=resident_ids)
              .values_list("encounter__resident_id", "icd10", "name")[:400])
    for rid, code, name in others:
        out.setdefault(rid, []).append((code, name))
    return out


def summarise(codes: list[tuple[str, str]], tags: list[str]) -> tuple[list[str], list[str]]:
    """(allergies, chronic conditions) as labels, from diagnoses (ICD-10, name) and key-population tags."""
    labels = dict(KeyPopulation.choices)
    allergies: list[str] = []
    chronic: list[str] = [str(labels[t]) for t in tags if t in CHRONIC_TAGS]
    for code, name in codes:
        code = (code or "").upper()
        label = name or code
        if code.startswith(ALLERGY_ICD):
            if label not in allergies:
                allergies.append(label)
        elif code.startswith(CHRONIC_ICD) and label not in chronic:
            chronic.append(label)
    return allergies, chronic


def _earlier(phone: str) -> list[EarlierCall]:
    rows = Call.objects.filter(caller_phone=phone).order_by("-rang_at")[:MAX_CALLS]
    return [EarlierCall(c.pk, c.call_no, c.rang_at, c.chief_complaint, c.get_status_display()) for c in rows]


def caller(actor: Actor, phone: str) -> CallerLookup:
    """Residents whose number is the caller's, within the dispatcher's scope, with their emergency summary,
    and the earlier calls from the number (at most five of each)."""
    check_read(actor, Category.EMERGENCY)
    try:
        number = normalise_phone(phone)
    except PhoneError:
        raise InvalidInput("phone_invalid", _("主叫号码格式不正确"), field="phone") from None
    ratelimit.hit(actor, "person_lookup")
    residents = list(scope_for(actor.user).filter(Resident.objects.filter(phone=number, merged_into__isnull=True))
                     .select_related("village__parent").order_by("id")[:MAX_MATCHES]) \
        if actor.user is not None else \
        list(Resident.objects.filter(phone=number, merged_into__isnull=True).order_by("id")[:MAX_MATCHES])
    ids = [r.pk for r in residents]
    tags: dict[int, list[str]] = {}
    for rid, tag in ResidentTag.objects.filter(resident_id__in=ids).values_list("resident_id", "tag"):
        tags.setdefault(rid, []).append(tag)
    diagnoses = _diagnoses(ids) if ids else {}
    earlier = _earlier(number)
    today = dt.date.today()
    matches = []
    for r in residents:
        allergies, chronic = summarise(diagnoses.get(r.pk, []), sorted(tags.get(r.pk, [])))
        matches.append(CallerMatch(r.pk, r.name, r.get_sex_display(), r.age_on(today), mask_phone(r.phone),
                                   r.place, allergies, chronic, earlier))
    audit.record(actor, "lookup", "resident", "", by="caller_phone", phone_digest=lookup_digest(number),
                 phone=mask_phone(number), ids=ids, calls=[c.pk for c in earlier])
    return CallerLookup(mask_phone(number), matches, earlier)
