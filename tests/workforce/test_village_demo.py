"""The demo county's village doctors: licences (a few due for renewal), a year of check-ins (some flagged), leave,
training against the yearly requirement, the sheet and the last months scored (the demo township's last month
left for its admin), with ranks; N05 counts the village clinics' ECG machines of the asset register."""

import datetime as dt

from yigongti.demo.build import build_demo
from yigongti.indicators.periods import parse_period
from yigongti.indicators.queries import REGISTRY_FIGURES, Area
from yigongti.orgs.models import User
from yigongti.workforce.models import Assessment, ClinicCheckIn, Leave, ScoringSheet, VillageLicence
from yigongti.workforce.queries import village as vq

TODAY = dt.date(2026, 11, 20)


def test_the_demo_county_has_its_village_doctors(transactional_db):
    build_demo(population=3000, seed=7, today=TODAY)
    admin = User.objects.get(username="township_admin")
    assert VillageLicence.objects.count() > 5
    assert vq.due_for_renewal(User.objects.get(username="manager"), today=TODAY)
    checks = ClinicCheckIn.objects.all()
    assert checks.count() > VillageLicence.objects.count() * 150
    assert 0 < checks.filter(flagged=True).count() < checks.count() * 0.05
    assert Leave.objects.filter(status="approved").exists()
    sheet = ScoringSheet.objects.get(active=True)
    assert sheet.items.count() == 5
    last = dt.date(2026, 10, 1)
    scored = Assessment.objects.filter(month=last)
    assert scored.exists() and not scored.filter(facility__parent_id=admin.facility_id).exists()
    assert Assessment.objects.filter(month=dt.date(2026, 9, 1), facility__parent_id=admin.facility_id).exists()
    ranks = vq.ranked(last, admin.facility.community_id)
    assert min(r.county_rank for r in ranks.values()) == 1
    vd = User.objects.get(username="village_doctor")
    assert not ClinicCheckIn.objects.filter(staff_id=vd.staff_id, day=TODAY).exists()
    region = admin.facility.community.region
    n05 = REGISTRY_FIGURES["N05"](Area("county", region.code, region.name, region.prefix), parse_period("2026-10"))
    assert n05.value is not None and 0 < n05.value < 100 and n05.extra["assets"] > 0
    from yigongti.assets.models import Asset
    from yigongti.workforce.models import Assignment, EstablishmentPost

    assert Asset.objects.filter(device__isnull=False).exists() or not n05.extra["devices"]
    assert EstablishmentPost.objects.exists() and Assignment.objects.filter(status="pending").exists()
