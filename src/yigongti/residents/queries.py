"""Scoped reads of residents. Every function here takes the acting user (or request) and
writes the audit event for what it returns, so callers cannot forget either step."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from yigongti.core import audit, exports, ratelimit
from yigongti.core.actor import Actor
from yigongti.core.carelevel import GRASSROOTS_LEVELS, levels_q
from yigongti.core.errors import Forbidden, NotFound
from yigongti.core.idcard import IdNumberError, looks_like_id_number, normalise_id_text, parse_id_number
from yigongti.core.paging import Page, slice_page
from yigongti.core.personal import lookup_digest, mask_for_log
from yigongti.core.scoping import facility_prefix, facility_scope_q, scope_for
from yigongti.orgs.models import Facility, Region, RegionLevel
from yigongti.orgs.permissions import Category, can, can_read, check_read

from .models import KeyPopulation, Resident, ResidentTag

COUNT_TTL = 300  # seconds; the home page's counts may lag a new registration by this much


def residents_visible_to(user) -> QuerySet[Resident]:
    return scope_for(user).filter(Resident.objects.all())


def get_resident_for(actor: Actor, pk) -> Resident:
    """Fetch one resident if it lies within the user's scope, auditing the read. Out of scope
    and nonexistent look the same (404) so that ids cannot be probed."""
    user = actor.user
    try:
        resident = (
            residents_visible_to(user).select_related("village__parent", "household", "merged_into").get(pk=int(pk))
        )
    except (Resident.DoesNotExist, ValueError, TypeError):
        audit.record(actor, "denied", "resident", pk)
        raise NotFound(_("居民档案不存在或不在您的管辖范围内")) from None
    audit.record(actor, "view", "resident", resident.pk)
    return resident


@dataclass
class ResidentFilter:
    q: str = ""  # a name (汉字 prefix, or pinyin / initials in Latin letters) or an ID number
    village: str = ""  # 12-digit village code
    tag: str = ""
    sex: str = ""
    township: str = ""  # 12-digit township code
    facility: str = ""  # a facility's id: the residents of its service area


def may_unmask(user) -> bool:
    return can(user, "residents.unmask")


def is_id_search(f: ResidentFilter) -> bool:
    return bool(f.q.strip()) and looks_like_id_number(f.q.strip())


def filtered_residents(user, f: ResidentFilter) -> QuerySet[Resident]:
    qs = residents_visible_to(user).filter(merged_into__isnull=True)
    q = f.q.strip()
    if q:
        if looks_like_id_number(q):
            number = normalise_id_text(q)
            if len(number) == 15:  # a legacy number: the index keeps its 18-digit form
                with contextlib.suppress(IdNumberError):
                    number = parse_id_number(number).number
            if len(number) >= 15:
                qs = qs.filter(id_number=number)
            elif may_unmask(user):
                qs = qs.filter(id_number__startswith=number)
            else:  # a prefix search would spell a number out digit by digit
                qs = qs.none()
        elif q.isascii() and q.replace(" ", "").isalpha():  # pinyin or initials: "lijianguo", "ljg", "li jian"
            text = q.replace(" ", "").lower()
            qs = qs.filter(Q(name_initials__startswith=text) | Q(name_pinyin__startswith=text))
        else:
            qs = qs.filter(name__startswith=q)
    if f.village:
        qs = qs.filter(area_code=f.village)
    if f.township:
        qs = qs.filter(area_code__startswith=f.township[:9]) if len(f.township) == 12 else qs.none()
    if f.facility:
        facility = facilities_in_scope(user).filter(pk=f.facility).select_related(
            "region", "community__region").first() if str(f.facility).isdigit() else None
        qs = qs.filter(area_code__startswith=facility_prefix(facility)) if facility is not None else qs.none()
    if f.tag and f.tag in KeyPopulation.values:
        qs = qs.filter(tags__tag=f.tag)
    if f.sex in ("M", "F"):
        qs = qs.filter(sex=f.sex)
    return qs


def filter_for_audit(f: ResidentFilter) -> dict:
    """The filter as the audit log keeps it: an ID number typed into the search box masked and digested."""
    out = dict(f.__dict__)
    if is_id_search(f):
        out["q"] = mask_for_log(f.q)
        out["q_digest"] = lookup_digest(normalise_id_text(f.q))
    return out


def facilities_in_scope(user) -> QuerySet[Facility]:
    """Facilities in the user's scope that serve an area of residents (township centers, village clinics)."""
    return Facility.objects.filter(facility_scope_q(user), levels_q(GRASSROOTS_LEVELS))


def facility_labels(facilities) -> dict[int, str]:
    """Facility names for people: a name that appears twice is qualified by its township
    ("小洞村卫生室（城关镇）"), never shown as a code."""
    rows = list(facilities)
    seen: dict[str, int] = {}
    for fac in rows:
        seen[fac.name] = seen.get(fac.name, 0) + 1
    out = {}
    for fac in rows:
        label = fac.name
        if seen[fac.name] > 1:
            region = fac.region
            parent = region.parent if region.level == RegionLevel.VILLAGE else None
            town = parent if parent is not None else region
            label = f"{fac.name}（{town.name}）"
        out[fac.pk] = label
    return out


def qualified_facility_names(facilities) -> dict[int, str]:
    """``facility_labels`` for some facilities, each qualified by its township when any facility anywhere
    shares its name (one query)."""
    wanted = {f.pk for f in facilities if f is not None}
    names = {f.name for f in facilities if f is not None}
    same = Facility.objects.filter(name__in=names).select_related("region__parent")
    return {pk: label for pk, label in facility_labels(same).items() if pk in wanted}


CHOICES_TTL = 600  # facilities and townships of a scope change rarely; the search page lists them every time


def facility_choices(user) -> list[tuple[str, str]]:
    """The search form's facility options; cached per scope (the bureau's ~200 facilities cost a query and a
    model per row on every search otherwise)."""
    key = _scope_key(user, "facility_choices")
    choices = cache.get(key)
    if choices is None:
        qs = facilities_in_scope(user).select_related("region__parent").order_by("region__code", "name")
        choices = [(str(pk), label) for pk, label in facility_labels(qs).items()]
        cache.set(key, choices, CHOICES_TTL)
    return choices


def township_choices(user) -> list[tuple[str, str]]:
    key = _scope_key(user, "township_choices")
    choices = cache.get(key)
    if choices is None:
        qs = scope_for(user).filter(Region.objects.filter(level=RegionLevel.TOWNSHIP), "code").order_by("code")
        choices = list(qs.values_list("code", "name"))
        cache.set(key, choices, CHOICES_TTL)
    return choices


DESK_PREFIX = "yigongti:"


def source_system_names(sources) -> dict[str, str]:
    """Source systems for people: a registration desk (``yigongti:<facility code>``) by the facility's name,
    qualified by its township when two facilities share it; other systems as they call themselves."""
    codes = {s.source_system[len(DESK_PREFIX):] for s in sources if s.source_system.startswith(DESK_PREFIX)}
    facilities = list(Facility.objects.filter(code__in=codes))
    labels = qualified_facility_names(facilities)
    by_code = {f.code: labels.get(f.pk, f.name) for f in facilities}
    return {s.source_system: by_code.get(s.source_system[len(DESK_PREFIX):], s.source_system)
            for s in sources}



def search_residents(actor: Actor, f: ResidentFilter, page: int = 1, size: int = 25) -> Page:
    """One page of residents in scope, with the ids shown recorded in the audit log.

    A search by ID number answers a guess: it counts against the lookup rate limit."""
    user = actor.user
    if is_id_search(f):
        ratelimit.hit(actor, "person_lookup")
    qs = filtered_residents(user, f).select_related("village").order_by("id")
    filtered = bool(f.q or f.village or f.tag or f.sex or f.township or f.facility)
    result = slice_page(qs, page, size)
    result.count = qs.count() if filtered else residents_in_scope_count(user)
    audit.record(actor, "list", "resident", "", query=filter_for_audit(f), page=result.number,
                 ids=[r.pk for r in result.items])
    return result


EXPORT_LIMIT = exports.EXPORT_LIMIT


def export_residents(actor: Actor, f: ResidentFilter) -> list[Resident]:
    """The residents of a filtered list for an Excel export (at most ``EXPORT_LIMIT``), audited as an export
    with every id it carries. Only what the user may list; identifiers stay masked in the file."""
    check_read(actor, Category.DEMOGRAPHICS)
    user = actor.user
    if is_id_search(f):
        ratelimit.hit(actor, "person_lookup")
    rows = list(filtered_residents(user, f).select_related("village__parent").prefetch_related("tags")
                .order_by("id")[:EXPORT_LIMIT])
    audit.record(actor, "export", "resident", "", query=filter_for_audit(f), count=len(rows),
                 ids=[r.pk for r in rows], format="xlsx")
    return rows


def reveal_identifiers(actor: Actor, resident: Resident) -> dict:
    """Unmasked ID number and phone, for users holding the privilege whose role reads contact details;
    always audited and rate-limited."""
    check_read(actor, Category.CONTACT, resident)
    user = actor.user
    if not may_unmask(user):
        audit.record(actor, "denied", "resident", resident.pk, attempted="unmask")
        raise Forbidden(_("您没有查看完整身份证号和电话的权限"), code="unmask_not_allowed")
    ratelimit.hit(actor, "unmask")
    audit.record(actor, "unmask", "resident", resident.pk)
    return {"id_number": resident.id_number or "", "phone": resident.phone}


def is_own_village_doctor(user, resident: Resident) -> bool:
    """The village doctor of the resident's village (the clinic of that village). Family-doctor contracts
    will add the contracted team here when that app exists."""
    if user is None or getattr(user, "role", "") != "village_doctor" or not resident.village_id:
        return False
    facility = getattr(user, "facility", None)
    return facility is not None and facility.region_id == resident.village_id


def reveal_phone_for_care(actor: Actor, resident: Resident) -> bool:
    """A resident's own village doctor sees the phone (to call the patient back), audited as an unmask of
    the phone alone; everyone else keeps the mask. Sets ``resident.shown_phone``; returns whether shown."""
    user = actor.user
    if not resident.phone or not is_own_village_doctor(user, resident) or not can_read(user, Category.CONTACT):
        return False
    audit.record(actor, "unmask", "resident", resident.pk, fields=["phone"], why="own_village_doctor")
    resident.revealed_phone = resident.phone
    return True


def _scope_key(user, what: str) -> str:
    prefixes = scope_for(user).prefixes
    return f"residents:{what}:{'*' if prefixes is None else ','.join(sorted(prefixes))}"


def residents_in_scope_count(user) -> int:
    key = _scope_key(user, "count")
    value = cache.get(key)
    if value is None:
        value = residents_visible_to(user).filter(merged_into__isnull=True).count()
        cache.set(key, value, COUNT_TTL)
    return value


def key_population_counts(user) -> list[tuple[str, str, int]]:
    """(tag, label, count) for every key population, within the user's scope (aggregate, not audited)."""
    key = _scope_key(user, "tags")
    counts = cache.get(key)
    if counts is None:
        qs = scope_for(user).filter(ResidentTag.objects.all(), "resident__area_code")
        counts = dict(qs.values_list("tag").annotate(n=Count("id")).values_list("tag", "n"))
        cache.set(key, counts, COUNT_TTL)
    return [(t.value, str(t.label), counts.get(t.value, 0)) for t in KeyPopulation]


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_band_counts(user, today: dt.date | None = None) -> list[tuple[str, int]]:
    """Residents in scope by age band (for the home page's pyramid)."""
    today = today or dt.date.today()
    key = _scope_key(user, f"ages:{today.isoformat()}")
    bands = cache.get(key)
    if bands is None:
        edges = [0, 7, 15, 35, 45, 65, 80, 200]
        labels, aggregates = [], {}
        for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
            start = _years_before(today, hi)
            end = _years_before(today, lo)
            labels.append(f"{lo}–{hi - 1}" if hi < 200 else f"{lo}+")
            aggregates[f"b{i}"] = Count("id", filter=Q(birth_date__gt=start, birth_date__lte=end))
        # one pass over the scope instead of one count per band (450,000 rows: ~7× fewer scans)
        counts = residents_visible_to(user).aggregate(**aggregates)
        bands = [(label, counts[f"b{i}"]) for i, label in enumerate(labels)]
        cache.set(key, bands, COUNT_TTL)
    return bands
