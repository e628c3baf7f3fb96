"""The demo step on the cast's community (with the internet-hospital world): consultations in several states, the
prescriptions made through the prescribing app, the README's resident login."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.ihospital.world import visit
from yigongti.demo.context import DemoContext
from yigongti.demo.ihospital import build_ihospital
from yigongti.ihospital.models import OnlineConsultation
from yigongti.prescribing.models import Prescription

pytestmark = pytest.mark.django_db


def test_the_demo_makes_online_follow_ups_with_prescriptions_and_a_resident_login(ih):
    from yigongti.orgs.models import Facility

    c = ih.c
    c.neighbour.phone = "15974605678"
    visit(type("C", (), {"resident": c.neighbour})(), c.county_hospital, 30, "E11.9", "2型糖尿病")
    ctx = DemoContext(seed=1, population=450_000, today=timezone.localdate(), now=timezone.now(),
                      community=c.community, facilities={f.code: f for f in Facility.objects.all()})
    build_ihospital(ctx)
    assert ctx.extra["ihospital"]["resident_login"] == c.resident.phone  # diagnosed at the township center
    assert ctx.logins[-1]["username"] == c.resident.phone
    made = OnlineConsultation.objects.all()
    assert made.count() == 1 and made.get().resident_id == c.neighbour.pk  # the login resident is left free
    assert not OnlineConsultation.objects.filter(resident=c.resident).exists()
    for p in Prescription.objects.filter(source="ihospital"):
        assert p.source_ref.startswith("consultation:")
