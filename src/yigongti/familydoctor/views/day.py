"""The village doctor's day list (``familydoctor:day``, 今日工作): all the due and overdue work of one of my villages
— contracts to renew, package services, chronic follow-ups, annual checks, maternal and child visits, vaccine
doses — read from ``familydoctor.queries.due.for_user`` (scoped, audited), grouped by kind, overdue first, each
with the link to the form that does it. Phone-first (390 px): one card per item, one tap to the form.

The links need the object the form works on (the enrolment of a follow-up, the contract of a renewal, the
pregnancy of a maternal visit): one query per kind present on the page, never one per item."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.pages import domain_errors_as_pages
from yigongti.familydoctor.models import Contract, ContractStatus, DueItem, DueKind
from yigongti.orgs.permissions import Category, check_read

from ..queries import due as due_q

ORDER = [DueKind.CHRONIC_FOLLOW_UP, DueKind.MATERNAL_VISIT, DueKind.CHILD_VISIT, DueKind.VACCINE,
         DueKind.ANNUAL_CHECK, DueKind.PACKAGE_SERVICE, DueKind.CONTRACT_RENEWAL]
ACTIONS: dict[str, Any] = {  # the button of each kind
    DueKind.CHRONIC_FOLLOW_UP: gettext_lazy("随访"), DueKind.MATERNAL_VISIT: gettext_lazy("孕产妇随访"),
    DueKind.CHILD_VISIT: gettext_lazy("儿童体检"), DueKind.VACCINE: gettext_lazy("接种"),
    DueKind.ANNUAL_CHECK: gettext_lazy("体检"),
    DueKind.PACKAGE_SERVICE: gettext_lazy("登记服务"), DueKind.CONTRACT_RENEWAL: gettext_lazy("续约"),
}
PER_KIND = 25  # the most urgent of each kind on the day list; ?kind= lists one kind up to KIND_LIMIT
KIND_LIMIT = 300


@dataclass
class Entry:
    item: DueItem
    label: str
    overdue: bool
    days: int  # days overdue (positive) or left until due_by
    age: int
    url: str
    action: str
    when: str  # "逾期 5 天" / "06-10 至 06-24", rendered here (a blocktrans per item costs the page)


@dataclass
class Group:
    kind: str
    title: str
    entries: list[Entry]
    total: int = 0  # every item of the kind (the entries are the most urgent of them)
    overdue: int = 0

    @property
    def more(self) -> int:
        return max(self.total - len(self.entries), 0)


def _url(name: str, *args, query: str = "") -> str:
    try:
        return reverse(name, args=args) + (f"?{query}" if query else "")
    except NoReverseMatch:  # the form's page is not there (yet): the resident's page instead
        return ""


def _targets(items: list[DueItem]) -> dict[str, dict]:
    """The objects the links need, one query per kind present."""
    by_kind: dict[str, list[DueItem]] = defaultdict(list)
    for it in items:
        by_kind[it.kind].append(it)
    out: dict[str, dict] = {}
    if by_kind.get(DueKind.CHRONIC_FOLLOW_UP):
        from yigongti.chronic.models import Enrolment, EnrolmentStatus

        ids = {it.resident_id for it in by_kind[DueKind.CHRONIC_FOLLOW_UP]}
        out["chronic"] = {(r, c): pk for r, c, pk in Enrolment.objects.filter(
            resident_id__in=ids, status=EnrolmentStatus.MANAGED).values_list("resident_id", "condition", "pk")}
    contract_ids = {it.resident_id for k in (DueKind.CONTRACT_RENEWAL, DueKind.PACKAGE_SERVICE)
                    for it in by_kind.get(k, [])}
    if contract_ids:
        out["contract"] = dict(Contract.objects.filter(resident_id__in=contract_ids, status=ContractStatus.ACTIVE)
                               .values_list("resident_id", "pk"))
    if by_kind.get(DueKind.MATERNAL_VISIT):
        from yigongti.publichealth.models import Pregnancy

        ids = {it.resident_id for it in by_kind[DueKind.MATERNAL_VISIT]}
        out["pregnancy"] = dict(Pregnancy.objects.filter(resident_id__in=ids).exclude(status="closed")
                                .values_list("resident_id", "pk"))
    return out


def _link(it: DueItem, targets: dict[str, dict]) -> str:
    rid, kind = it.resident_id, it.kind
    url = ""
    if kind == DueKind.CHRONIC_FOLLOW_UP:
        pk = targets.get("chronic", {}).get((rid, it.ref))
        url = _url("chronic:follow_up", pk) if pk else ""
    elif kind == DueKind.CONTRACT_RENEWAL:
        pk = targets.get("contract", {}).get(rid)
        url = _url("familydoctor:renew", pk) if pk else ""
    elif kind == DueKind.PACKAGE_SERVICE:
        pk = targets.get("contract", {}).get(rid)
        url = _url("familydoctor:deliver", pk) if pk else ""
    elif kind == DueKind.MATERNAL_VISIT:
        pk = targets.get("pregnancy", {}).get(rid)
        url = _url("publichealth:maternal_visit", pk) if pk else ""
    elif kind == DueKind.CHILD_VISIT:
        url = _url("publichealth:child_visit", rid)
    elif kind == DueKind.VACCINE:
        url = _url("publichealth:vaccinate", rid)
    elif kind == DueKind.ANNUAL_CHECK:
        url = _url("publichealth:check_new", query=f"resident={rid}")
    return url or _url("residents:detail", rid)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def day_groups(items: list[DueItem], on: dt.date, counts: dict[str, dict[str, int]] | None = None) -> list[Group]:
    """The items grouped by kind (in ``ORDER``), overdue first within each, with their links; ``counts`` (per
    kind: due, overdue — ``queries.due.counts_for_user``) gives each group its totals."""
    targets = _targets(items)
    zh = (get_language() or "zh-hans").startswith("zh")
    late, window = _("逾期 %(n)d 天"), _("%(a)s 至 %(b)s")
    groups: dict[str, list[Entry]] = defaultdict(list)
    for it in items:
        overdue = it.due_by < on
        when = late % {"n": (on - it.due_by).days} if overdue else window % {
            "a": f"{it.due_from:%m-%d}", "b": f"{it.due_by:%m-%d}"}
        groups[it.kind].append(Entry(it, due_q.item_label(it, zh), overdue, (on - it.due_by).days,
                                     _age(it.resident.birth_date, on), _link(it, targets),
                                     str(ACTIONS.get(it.kind, _("办理"))), when))
    out = []
    for kind in ORDER:
        entries = sorted(groups.get(kind, []), key=lambda e: (not e.overdue, e.item.due_by, e.item.pk))
        if entries:
            c = (counts or {}).get(kind) or {"due": len(entries), "overdue": sum(e.overdue for e in entries)}
            out.append(Group(kind, str(DueKind(kind).label), entries, c["due"], c["overdue"]))
    return out


def day_items(actor: Actor, on: dt.date, village, *, kind: str = "", overdue_only: bool = False
              ) -> tuple[list[DueItem], dict[str, dict[str, int]]]:
    """The most urgent items of each kind (``PER_KIND``; one kind: ``KIND_LIMIT``) and the counts per kind: one
    aggregate, one indexed read per kind present, their audit events written together."""
    from yigongti.core import audit
    from yigongti.familydoctor.queries.due import counts_for_user, for_user

    counts = counts_for_user(actor, on=on, village=village)
    if overdue_only:  # the totals of what is listed
        counts = {k: {"due": c["overdue"], "overdue": c["overdue"]} for k, c in counts.items()}
    kinds = [kind] if kind else [k for k in ORDER if counts.get(k, {}).get("due")]
    items: list[DueItem] = []
    with audit.batch():
        for k in kinds:
            items += for_user(actor, on=on, kinds=[k], village=village, overdue_only=overdue_only,
                              limit=KIND_LIMIT if kind else PER_KIND)
    return items, counts


@login_required
@domain_errors_as_pages
def day(request):
    from yigongti.chronic.queries.ledger import default_village, villages_for

    actor = Actor.from_request(request)
    check_read(actor, Category.PUBLIC_HEALTH)
    on = timezone.localdate()
    village = default_village(actor, request.GET.get("village", ""))
    kind = request.GET.get("kind", "") if request.GET.get("kind", "") in DueKind.values else ""
    overdue_only = request.GET.get("overdue") == "1"
    items, counts = day_items(actor, on, village, kind=kind, overdue_only=overdue_only) if village else ([], {})
    groups = day_groups(items, on, counts)
    return render(request, "familydoctor/day.html", {
        "groups": groups, "village": village, "villages": villages_for(request.user), "today": on, "kind": kind,
        "overdue_only": overdue_only, "total": sum(c["due"] for c in counts.values()),
        "overdue": sum(c["overdue"] for c in counts.values())})


urlpatterns = [path("day/", day, name="day")]
