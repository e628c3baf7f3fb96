"""Scoped, audited reads of immunisation: a child's vaccine card (接种证) and the due and overdue doses of an area.

Both are computed from the doses on record and the national schedule (``publichealth.immunisation``), at the
moment of reading, so a dose just recorded changes them at once. An area list reads two queries (the children
of the area, their doses) and computes in Python; an area with more than ``MAX_CHILDREN`` children (a whole
county) asks for a township or a village first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import InvalidInput, NotFound
from yigongti.core.scoping import scope_for
from yigongti.orgs.permissions import Category, check_read
from yigongti.residents.models import Resident

from .. import immunisation
from ..models import VaccineDose

MAX_CHILDREN = 8000
CHILD_YEARS = 7  # the programme's schedule ends with the doses at 6 years: children under 7 are listed


def _years_ago(on: dt.date, years: int) -> dt.date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def children_visible_to(user, on: dt.date) -> QuerySet[Resident]:
    qs = Resident.objects.filter(merged_into__isnull=True, birth_date__gt=_years_ago(on, CHILD_YEARS),
                                 birth_date__lte=on)
    return qs if user is None else scope_for(user).filter(qs)


def area_filter(qs: QuerySet, *, village: str = "", township: str = "", field: str = "area_code") -> QuerySet:
    village, township = (village or "").strip(), (township or "").strip()
    if village:
        if not (village.isdigit() and len(village) == 12):
            raise InvalidInput("invalid_village", _("村代码应为12位数字"), field="village")
        qs = qs.filter(**{field: village})
    if township:
        if not (township.isdigit() and len(township) == 12):
            raise InvalidInput("invalid_township", _("乡镇代码应为12位数字"), field="township")
        qs = qs.filter(**{f"{field}__startswith": township[:9]})
    return qs


@dataclass
class CardRow:
    rule: immunisation.DoseRule
    dose: VaccineDose | None = None
    status: str = ""  # given | due | overdue | upcoming | waiting | missed
    due_from: dt.date | None = None
    due_by: dt.date | None = None


@dataclass
class Card:
    child: Resident
    edition: str
    source: str
    rows: list[CardRow]
    next: list[immunisation.Due]
    on: dt.date

    @property
    def due_now(self) -> list[immunisation.Due]:
        return [d for d in self.next if d.due_from <= self.on]

    @property
    def source_label(self) -> str:
        """The schedule's source document; in English the schedule's English title (the document number and
        issuer are Chinese only)."""
        if (get_language() or "").startswith("en"):
            return immunisation.schedule().title_label or self.source
        return self.source


def _card_rows(rules: immunisation.ImmunisationSchedule, doses: list[VaccineDose], birth: dt.date,
               on: dt.date) -> tuple[list[CardRow], list[immunisation.Due]]:
    nxt = immunisation.next_doses(doses, birth, on, rule_set=rules)
    by_code = {d.rule.code: d for d in nxt}
    given = {(d.vaccine, d.dose): d for d in doses}
    age = (on - birth).days
    rows = []
    for rule in rules.doses:
        got = given.get((rule.vaccine, rule.dose))
        if got is not None:
            rows.append(CardRow(rule, got, "given"))
        elif rule.code in by_code:
            d = by_code[rule.code]
            status = "overdue" if d.overdue else ("due" if d.due_from <= on else "upcoming")
            rows.append(CardRow(rule, None, status, d.due_from, d.due_by))
        elif age >= rule.catch_up_until_days:
            rows.append(CardRow(rule, None, "missed"))
        else:
            rows.append(CardRow(rule, None, "waiting", birth + dt.timedelta(days=rule.recommended_age_days)))
    return rows, nxt


def card(actor: Actor, resident_pk, *, on: dt.date) -> Card:
    """The child's vaccine card: every dose of the schedule, given (when, where, catch-up) or its status, and
    the next doses with their dates. Out of scope and nonexistent look the same (404)."""
    check_read(actor, Category.PUBLIC_HEALTH)
    user = actor.user
    qs = Resident.objects.filter(merged_into__isnull=True).select_related("village")
    if user is not None:
        qs = scope_for(user).filter(qs)
    child = qs.filter(pk=resident_pk).first() if str(resident_pk).isdigit() else None
    if child is None:
        audit.record(actor, "denied", "vaccine_card", resident_pk)
        raise NotFound(_("居民档案不存在或不在您的管辖范围内"))
    doses = list(VaccineDose.objects.filter(child=child).select_related("facility").order_by("given_on", "id"))
    rules = immunisation.schedule()
    rows, nxt = _card_rows(rules, doses, child.birth_date, on)
    audit.record(actor, "view", "vaccine_card", child.pk, doses=len(doses))
    return Card(child, rules.edition, rules.source, rows, nxt, on)


@dataclass
class DueRow:
    child: Resident
    due: immunisation.Due


@dataclass
class DueList:
    rows: list[DueRow]
    children: int
    overdue: int
    truncated: bool = False
    by_vaccine: dict[str, int] = field(default_factory=dict)


def _compute(children: list[Resident], on: dt.date, *, overdue_only: bool = False, vaccine: str = "",
             horizon_days: int = 0) -> list[DueRow]:
    ids = [c.pk for c in children]
    history: dict[int, list[tuple[str, int, dt.date]]] = {i: [] for i in ids}
    for start in range(0, len(ids), 2000):  # SQLite's limit on parameters
        chunk = ids[start:start + 2000]
        for cid, v, n, given_on in VaccineDose.objects.filter(child_id__in=chunk).values_list(
                "child_id", "vaccine", "dose", "given_on"):
            history[cid].append((v, n, given_on))
    rules = immunisation.schedule()
    out = []
    for c in children:
        for d in immunisation.due_doses(history[c.pk], c.birth_date, on, horizon_days=horizon_days,
                                        rule_set=rules):
            if overdue_only and not d.overdue:
                continue
            if vaccine and d.rule.vaccine != vaccine:
                continue
            out.append(DueRow(c, d))
    out.sort(key=lambda r: (not r.due.overdue, r.due.due_by, r.child.pk))
    return out


def due_list(actor: Actor, *, on: dt.date, village: str = "", township: str = "", overdue_only: bool = False,
             vaccine: str = "", horizon_days: int = 0, limit: int = 500) -> DueList:
    """The doses due (minimum age and interval met, within ``horizon_days``) or overdue (past the age by which
    they should be done) for the children under 7 of the actor's area, overdue first; audited."""
    check_read(actor, Category.PUBLIC_HEALTH)
    if vaccine and vaccine not in immunisation.schedule().vaccines():
        raise InvalidInput("invalid_vaccine", _("未知的疫苗：%(v)s") % {"v": vaccine[:20]}, field="vaccine")
    qs = area_filter(children_visible_to(actor.user, on), village=village, township=township)
    qs = qs.select_related("village").order_by("birth_date", "id")
    children = list(qs[:MAX_CHILDREN + 1])
    if len(children) > MAX_CHILDREN:
        raise InvalidInput("area_too_large", _("范围内儿童超过 %(n)s 名，请先选择乡镇或村") % {"n": MAX_CHILDREN},
                           field="township")
    rows = _compute(children, on, overdue_only=overdue_only, vaccine=vaccine, horizon_days=horizon_days)
    by_vaccine: dict[str, int] = {}
    for r in rows:
        by_vaccine[r.due.rule.vaccine] = by_vaccine.get(r.due.rule.vaccine, 0) + 1
    overdue = sum(1 for r in rows if r.due.overdue)
    shown = rows[:max(1, min(int(limit), 2000))]
    audit.record(actor, "list", "vaccine_due", "", village=village, township=township, overdue_only=overdue_only,
                 vaccine=vaccine, on=on.isoformat(), count=len(shown), ids=sorted({r.child.pk for r in shown}))
    return DueList(shown, len(children), overdue, len(rows) > len(shown), by_vaccine)


def counts(user, *, on: dt.date) -> dict[str, int] | None:
    """How many doses are due now and overdue in the user's area (aggregates; no person shown, not audited).
    None when the area has too many children to compute at once (the overview then reads the due items)."""
    qs = children_visible_to(user, on).order_by("id")
    children = list(qs.only("id", "birth_date")[:MAX_CHILDREN + 1])
    if len(children) > MAX_CHILDREN:
        return None
    rows = _compute(children, on)
    return {"children": len(children), "due": len(rows), "overdue": sum(1 for r in rows if r.due.overdue)}

