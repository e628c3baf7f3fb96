"""The demo county's year of referrals is consistent with its encounters."""

from django.db.models import Count

from yigongti.demo.build import build_demo
from yigongti.encounters.models import Encounter
from yigongti.referrals.models import Referral, ReferralEvent


def test_the_demo_county_has_a_year_of_referrals_consistent_with_its_encounters(transactional_db):
    logins = build_demo(population=3000, seed=7)
    assert {"referral_center", "referral_supervisor"} <= {row["username"] for row in logins}
    # the center's supervisor answers referrals as a clinician; it cannot import or merge residents
    from yigongti.orgs.models import User
    from yigongti.orgs.permissions import can

    supervisor = User.objects.get(username="referral_supervisor")
    assert supervisor.role == "doctor" and supervisor.referral_centers.filter(is_supervisor=True).exists()
    assert not any(can(supervisor, v) for v in ("residents.import", "residents.merge", "residents.review"))
    ups = Referral.objects.filter(direction="up")
    # every county admission a township center sent is an up-referral from that township center
    assert ups.filter(to_facility__type__in=["A100", "A210", "G100"]).count() >= Encounter.objects.filter(
        referred_from__isnull=False).count()
    assert set(ups.values_list("from_facility__type", flat=True)) <= {"C210", "C220"}
    green = set(ups.filter(urgency="green").values_list("icd10", flat=True))
    assert green and all(code[:3] in ("I63", "R07", "S06") for code in green)
    assert Referral.objects.filter(direction="down", from_facility__type__in=["A100", "A210"]).exists()
    status = dict(Referral.objects.values_list("status").annotate(n=Count("id")))
    assert status.get("declined") and status.get("completed") and status.get("submitted")
    assert ups.filter(escalated_at__isnull=False).exists()  # some answered late
    assert not ReferralEvent.objects.filter(referral__status="completed").exclude(
        referral__events__action="complete").exists()
    # the indicators' monthly facts are refreshed after every domain's demo data, referrals included
    from django.db.models import Sum

    from yigongti.indicators.models import MonthlyFact

    assert MonthlyFact.objects.aggregate(n=Sum("ref_up"))["n"] == Referral.objects.filter(direction="up").count()
