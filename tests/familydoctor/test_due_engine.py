"""The due engine (familydoctor.due): every kind computed in bulk, one resident refreshed, scoped reads."""

from __future__ import annotations

import datetime as dt

import pytest

from yigongti.familydoctor import due
from yigongti.familydoctor.models import DueItem

pytestmark = pytest.mark.django_db


def _items(resident=None, kind=None):
    qs = DueItem.objects.all()
    if resident is not None:
        qs = qs.filter(resident=resident)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("due_by", "ref"))


def test_recompute_smoke(care):
    counts = due.recompute(care.today)
    assert counts["total"] == DueItem.objects.count()
    # the grandfather (b. 1958, 68 at care.today) has no check this year
    checks = _items(care.grandfather, "check")
    assert len(checks) == 1 and checks[0].due_by == dt.date(2026, 12, 31)
    # the child (2 years old): the 24-month visit is due, vaccines of the second year too
    kids = {i.ref for i in _items(care.child, "child")}
    assert "month_24" in kids or any(r.startswith("month_") for r in kids)
    assert _items(care.child, "vaccine")
    assert all(i.team_id == care.team.id for i in _items(care.child))


def _bulk(resident, today):
    return sorted((i.kind, i.ref, i.due_from, i.due_by) for i in DueItem.objects.filter(resident=resident))


def test_bulk_matches_naive_for_every_resident(care):
    from yigongti.residents.models import Resident

    due.recompute(care.today)
    for r in Resident.objects.all():
        assert _bulk(r, care.today) == due.naive_items(r.pk, care.today), r.name
