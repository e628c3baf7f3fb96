import datetime as dt
from collections import Counter

from yigongti.core.idcard import parse_id_number
from yigongti.demo.build import build_demo
from yigongti.orgs.models import Facility, Region, Staff, User
from yigongti.residents.models import Household, Resident, ResidentTag


def _snapshot():
    # the county's people (ids 1..N); later demo steps add provisional persons through the index import
    return list(Resident.objects.filter(pk__lte=3000).order_by("id").values_list(
        "name", "sex", "birth_date", "id_number", "area_code"))


TODAY = dt.date(2026, 11, 20)  # a fixed --today: the demo is deterministic by seed and today


def test_the_demo_county_is_complete_valid_and_deterministic(transactional_db, monkeypatch):
    logins = build_demo(population=3000, seed=7, today=TODAY)
    first = _snapshot()
    assert len(first) == 3000

    # the community's shape as in the seeds
    types = Counter(Facility.objects.values_list("type", flat=True))
    assert types["A100"] == types["A210"] == types["G100"] == 1
    assert types["C210"] + types["C220"] == 15 and "B200" not in types  # WS 218: 乡镇卫生院 are C2xx
    assert 150 <= types["D600"] <= 200 and types["E300"] == 4
    assert Region.objects.filter(level="village").count() == types["D600"]
    # staff scale with the population (the full county's 2,794 would serve 3,000 residents), keeping the
    # posts every facility needs however small
    assert types["D600"] <= Staff.objects.count() < 800
    assert Staff.objects.filter(profession="village_doctor").count() == types["D600"]
    assert Staff.objects.exclude(work_facility=models_F("establishment_facility")).exists()  # 岗编分离

    # every ID number is valid and agrees with sex and birth date
    for _name, sex, birth, id_number, area in first:
        if id_number:
            parsed = parse_id_number(id_number)
            assert (parsed.sex, parsed.birth_date) == (sex, birth)
            assert parsed.region_code in ("431127", "432927")
        assert area.startswith("431127")
    assert Resident.objects.filter(id_number__startswith="432927").exists()
    assert Household.objects.count() > 800
    tags = Counter(ResidentTag.objects.values_list("tag", flat=True))
    elderly = sum(1 for *_, b, _i, _a in [(r[0], r[1], r[2], r[3], r[4]) for r in first]
                  if (TODAY - b).days // 365 >= 65)
    assert tags["elderly"] == elderly
    assert 0.05 < tags["htn"] / 3000 < 0.25

    # the logins work and passwords are not fixed
    assert {"bureau", "village_doctor", "township_doctor", "county_doctor", "manager", "auditor"} <= {
        row["username"] for row in logins}
    # `yigongti generate` again on the same database: the reset wipes the audit log the first run wrote
    # although its append-only triggers are in force (as outside the test suite), and puts them back
    from django.core import mail

    from yigongti.core.audit import triggers_present
    from yigongti.core.models import AuditEvent

    assert AuditEvent.objects.exists() and triggers_present()
    monkeypatch.delattr(mail, "outbox")  # core's flush drops the triggers silently only inside tests
    again = build_demo(population=3000, seed=7, today=TODAY)
    monkeypatch.undo()
    assert triggers_present()
    assert _snapshot() == first
    # fresh passwords on every run (the internet hospital's resident has none: a one-time code signs her in)
    assert {r["password"] for r in again if r["password"]}.isdisjoint({r["password"] for r in logins if r["password"]})
    assert User.objects.get(username="village_doctor").facility.type == "D600"


def models_F(name):
    from django.db.models import F

    return F(name)


def test_the_demo_is_plausible_where_the_trial_found_it_was_not(transactional_db):
    from django.db.models import Max, Min, Q

    from yigongti.demo.build import demo_now
    from yigongti.encounters.models import Death, Encounter, InsuranceSettlement
    from yigongti.indicators.periods import parse_period
    from yigongti.indicators.queries import _region_area, coverage, figures
    from yigongti.referrals.models import FollowUp, Referral, ReferralEvent

    build_demo(population=3000, seed=7, today=TODAY)

    # activity runs up to the day the demo is generated: encounters, settlements, referrals alike
    enc = Encounter.objects.aggregate(last=Max("admit_date"))
    assert TODAY - dt.timedelta(days=3) <= enc["last"] <= TODAY
    assert Encounter.objects.aggregate(d=Max("discharge_date"))["d"] <= TODAY
    assert TODAY - dt.timedelta(days=3) <= InsuranceSettlement.objects.aggregate(d=Max("settle_date"))["d"] <= TODAY
    assert Death.objects.aggregate(d=Max("death_date"))["d"] <= TODAY
    end_of_today = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(), tzinfo=demo_now(TODAY).tzinfo)
    assert Referral.objects.aggregate(t=Max("submitted_at"))["t"] <= demo_now(TODAY)
    assert ReferralEvent.objects.aggregate(t=Max("at"))["t"] < end_of_today
    assert not FollowUp.objects.filter(done_at__gte=end_of_today).exists()
    live = Referral.objects.filter(status="submitted", direction="up").aggregate(t=Max("submitted_at"))["t"]
    assert live.date() == TODAY  # the center's queue waits at the demo's today, not at the real clock

    # 瑶族乡 carry 乡 codes (GB/T 2260: 镇 100–199, 乡 200–399), every township its own code
    for r in Region.objects.filter(level="township"):
        number = int(r.code[6:9])
        assert (200 <= number <= 399) if r.name.endswith("乡") else (100 <= number <= 199), (r.name, r.code)
        assert r.children.exists() and all(v.code.startswith(r.code[:9]) for v in r.children.all())
    assert Region.objects.filter(level="township", name__endswith="瑶族乡").count() == 5

    # 急救站 stand in the township they are named after, beside that township's 中心卫生院
    stations = Facility.objects.filter(type="E300").select_related("region")
    assert stations.count() == 4
    for f in stations:
        if f.name == "蓝山县急救中心":
            assert f.region.level == "county"
            continue
        assert f.region.level == "township" and f.region.name.startswith(f.name.removesuffix("急救站")), f.name
        assert Facility.objects.get(region=f.region, type__in=["C210", "C220"]).type == "C210"

    # beds: open (开放) never above approved (核定)
    assert not Facility.objects.filter(open_beds__gt=models_F("approved_beds")).exists()
    assert Facility.objects.filter(open_beds__gt=0).exists()

    # the twelve months before the encounters have complete settlements: out-of-county stays included
    first = Encounter.objects.filter(type="outpatient").aggregate(d=Min("admit_date"))["d"]  # the year's start
    assert first.day == 1 and (TODAY - first).days < 366
    prior = InsuranceSettlement.objects.filter(settle_date__lt=first)
    months = {d.strftime("%Y-%m") for d in prior.values_list("settle_date", flat=True)}
    assert len(months) >= 12 and months <= coverage()["set"]
    for kind in ("out_of_county", "pharmacy"):
        assert prior.filter(facility_level=kind).exists()
    assert prior.filter(Q(type="outpatient") & ~Q(facility_level="out_of_county")).exists()

    # so the first month of the year does not read 100 %, and its growth has a comparison period
    county = _region_area(Region.objects.get(level="county"))
    cards = {c.indicator.code: c for c in figures(county, parse_period(f"{TODAY.year}-01"))}
    assert cards["N11"].value.value is not None and cards["N11"].value.value < 100
    assert cards["N10G"].value.value is not None
    last_year = {c.indicator.code: c for c in figures(county, parse_period(f"{TODAY.year - 1}-03"))}
    assert last_year["N11"].value.value < 100  # a settlement-only month of last year: not in-county only


def test_generate_takes_today_from_the_command_line_or_the_real_date(monkeypatch):
    from click.testing import CliRunner

    from yigongti import cli
    from yigongti.demo import build

    seen = []
    monkeypatch.setattr(build, "build_demo", lambda **kw: seen.append(kw["today"]) or [])
    monkeypatch.setattr("django.core.management.call_command", lambda *a, **kw: None)
    monkeypatch.setattr(cli, "_print_logins", lambda *a, **kw: None)
    runner = CliRunner()
    assert runner.invoke(cli.main, ["generate", "--population", "10", "--today", "2026-03-15"]).exit_code == 0
    assert runner.invoke(cli.main, ["generate", "--population", "10"]).exit_code == 0
    assert seen == [dt.date(2026, 3, 15), None]  # None: build_demo takes the real date
