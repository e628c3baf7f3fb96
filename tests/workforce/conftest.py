"""The workforce cast: the county hospital's doctor is an intermediate-title physician of 内科 (the expert), the
township center has a site on the map and an admin; a second expert for the rota."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tests.cast import PASSWORD, SYSTEM
from yigongti.orgs.models import Department, Profession, Role, Staff, Title
from yigongti.orgs.services import create_account
from yigongti.workforce.models import Site

MONDAY = dt.date(2026, 12, 7)


@pytest.fixture
def wf(cast):
    dept = Department.objects.create(facility=cast.county_hospital, code="NK", name="内科")
    expert = cast.county_doctor.staff
    expert.title, expert.department = Title.INTERMEDIATE, dept
    expert.save()
    second = Staff.objects.create(name="赵外科", sex="F", profession=Profession.PHYSICIAN, title=Title.ASSOCIATE_SENIOR,
                                  work_facility=cast.county_hospital, establishment_facility=cast.county_hospital,
                                  department=Department.objects.create(facility=cast.county_hospital, code="WK",
                                                                       name="外科"))
    admin = create_account(actor=SYSTEM, username="wf_admin", role=Role.FACILITY_ADMIN, password=PASSWORD,
                           facility=cast.township_center)[0]
    site = Site.objects.create(facility=cast.township_center, lon=112.19, lat=25.37)
    return SimpleNamespace(expert=expert, second=second, admin=admin, site=site, dept=dept)


def posting_data(c, wf, **kw):
    data = {"staff": wf.expert.pk, "host": c.township_center.pk, "kind": "clinic", "start": MONDAY.isoformat(),
            "end": (MONDAY + dt.timedelta(days=4)).isoformat()}
    data.update(kw)
    return data
