"""The demo step on the cast's community: ECG machines in most village clinics, overdue items, disposals."""

from __future__ import annotations

import datetime as dt

import pytest

from yigongti.assets.models import Asset, AssetStatus, Disposal
from yigongti.assets.queries import overdue_q
from yigongti.demo.assets import build_assets
from yigongti.demo.context import DemoContext

pytestmark = pytest.mark.django_db


def test_the_demo_register_has_ecgs_overdue_items_and_validates(cast):
    from yigongti.orgs.models import Facility

    today = dt.date(2026, 6, 30)
    ctx = DemoContext(seed=1, population=450_000, today=today, community=cast.community,
                      facilities={f.code: f for f in Facility.objects.all()})
    build_assets(ctx)
    counts = ctx.extra["assets"]
    assert counts["assets"] == Asset.objects.filter(community=cast.community).count() > 300
    assert Asset.objects.filter(facility=cast.county_hospital, name="心电图机").exists()
    assert Asset.objects.filter(overdue_q(today)).exists()
    assert Disposal.objects.exists()
    assert all(d.asset.status == AssetStatus.SCRAPPED for d in Disposal.objects.filter(status="approved"))
    assert not Asset.objects.exclude(community=cast.community).exists()
