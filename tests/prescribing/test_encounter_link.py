"""The encounter page's 开处方: a doctor who may prescribe at their facility opens the prescription form for this
visit (its diagnoses fill the form); a reader who may not prescribe sees no link."""

from __future__ import annotations

import pytest

from tests.ihospital.world import visit

pytestmark = pytest.mark.django_db


def test_the_encounter_page_links_a_prescriber_to_the_form_for_this_visit(cast, rx, login, client):
    e = visit(cast, cast.township_center, 3, "I10", "原发性高血压")
    login(cast.township_doctor)
    body = client.get(f"/encounters/{e.pk}/").content.decode()
    href = f"/prescribing/new/?resident={cast.resident.pk}&amp;encounter={e.pk}"
    assert 'data-testid="prescribe-from-encounter"' in body and href in body
    form = client.get(href.replace("&amp;", "&"))
    assert form.status_code == 200 and 'value="I10"' in form.content.decode()


def test_a_reader_who_may_not_prescribe_sees_no_link(cast, rx, login, client):
    from tests.cast import PASSWORD, SYSTEM
    from yigongti.orgs.models import Role
    from yigongti.orgs.services import create_account

    nurse = create_account(username="ward_nurse", role=Role.NURSE, password=PASSWORD, facility=cast.county_hospital,
                           actor=SYSTEM)[0]
    e = visit(cast, cast.county_hospital, 3, "I10", "原发性高血压")
    login(nurse)
    page = client.get(f"/encounters/{e.pk}/")
    assert page.status_code == 200
    assert 'data-testid="prescribe-from-encounter"' not in page.content.decode()
