"""Scoped, audited reads of pathology specimens: the pathology center's desk (the community's specimens on their
way, in the laboratory, reported, rejected) and the ordering facility's own, through ``orders_visible_to``."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.paging import Page, slice_page
from yigongti.orgs.permissions import Category, check_read

from .. import pathology
from ..models import CenterKind, Specimen, SpecimenStatus
from .orders import center_ids_of, orders_visible_to

SS = SpecimenStatus
TABS: dict[str, frozenset[str]] = {
    "waiting": pathology.WAITING,
    "lab": pathology.IN_LAB,
    "reported": frozenset({SS.REPORTED}),
    "rejected": frozenset({SS.REJECTED}),
}


def specimens_visible_to(user) -> QuerySet[Specimen]:
    return Specimen.objects.filter(order__in=orders_visible_to(user).filter(kind=CenterKind.PATHOLOGY))


def desk(actor: Actor, tab: str = "waiting", page: int = 1, size: int = 50) -> Page:
    """Specimens of one tab: the center's members see the community's (oldest first, 急诊 first), the others
    their facility's. Audited as one read of a list."""
    check_read(actor, Category.CLINICAL)
    user = actor.user
    qs = specimens_visible_to(user).filter(status__in=TABS.get(tab, TABS["waiting"]))
    if not center_ids_of(user):
        qs = qs.filter(order__facility_id=user.facility_id)
    order = ("order__priority", "collected_at") if tab in ("waiting", "lab") else ("-collected_at",)
    result = slice_page(qs.select_related("order__resident", "order__facility", "order__item").order_by(*order, "id"),
                        page, size)
    audit.record(actor, "list", "specimen", "", tab=tab, ids=[s.pk for s in result.items])
    return result


def counts(user) -> dict[str, int]:
    qs = specimens_visible_to(user)
    if not center_ids_of(user):
        qs = qs.filter(order__facility_id=user.facility_id)
    rows = dict(qs.order_by().values_list("status").annotate(n=Count("id")))
    return {tab: sum(rows.get(s, 0) for s in statuses) for tab, statuses in TABS.items()}
