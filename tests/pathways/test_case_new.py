"""建立救治病例 from a resident search: a clinician finds the walk-in patient in the index and opens the case at
their own facility; the search stays within scope; a retry makes one case; non-clinicians are refused."""

from django.urls import reverse

from yigongti.core.models import AuditEvent
from yigongti.pathways.models import Case, CaseStatus


def test_a_county_doctor_finds_a_walk_in_patient_and_opens_a_stroke_case(ems, client, login):
    c = ems.cast
    login(c.county_doctor)
    assert reverse("pathways:case_new") in client.get(reverse("pathways:cases")).content.decode()
    found = client.post(reverse("pathways:case_new"), {"q": "李建国"}).content.decode()
    assert f'value="{c.resident.pk}"' in found and 'data-testid="case-kind"' in found
    assert AuditEvent.objects.filter(action="list", object_type="resident", actor="county_doctor").exists()
    data = {"q": "李建国", "resident": c.resident.pk, "kind": "stroke", "arrival_mode": "self",
            "subtype": "ischaemic", "key": "k-1"}
    resp = client.post(reverse("pathways:case_new"), data)
    case = Case.objects.get(resident=c.resident, kind="stroke")
    assert resp["Location"] == reverse("pathways:case", args=[case.pk])
    assert (case.facility, case.arrival_mode, case.subtype, case.status, case.opened_by) == (
        c.county_hospital, "self", "ischaemic", CaseStatus.OPEN, c.county_doctor)
    client.post(reverse("pathways:case_new"), data)  # the button pressed twice
    assert Case.objects.filter(resident=c.resident, kind="stroke").count() == 1
    page = client.get(reverse("pathways:case", args=[case.pk])).content.decode()
    assert case.case_no in page and "DNT" in page  # the stroke metrics run from the door


def test_a_subtype_of_another_pathway_is_refused_with_its_reason(ems, client, login):
    c = ems.cast
    login(c.county_doctor)
    html = client.post(reverse("pathways:case_new"), {"q": "李建国", "resident": c.resident.pk, "kind": "stroke",
                                                       "arrival_mode": "self", "subtype": "stemi"}).content.decode()
    assert "分型与救治通道不符" in html and not Case.objects.filter(resident=c.resident).exists()


def test_the_search_stays_in_scope_and_an_out_of_scope_resident_cannot_be_opened(ems, client, login):
    c = ems.cast
    login(c.township_doctor)
    assert f'value="{c.far_resident.pk}"' not in client.post(
        reverse("pathways:case_new"), {"q": c.far_resident.name}).content.decode()
    resp = client.post(reverse("pathways:case_new"), {"resident": c.far_resident.pk, "kind": "chest_pain",
                                                       "arrival_mode": "self"})
    assert resp.status_code == 404 and not Case.objects.filter(resident=c.far_resident).exists()


def test_only_clinicians_open_cases(ems, client, login):
    login(ems.dispatcher)
    assert client.get(reverse("pathways:case_new")).status_code == 403
    client.logout()
    login(ems.cast.bureau)
    assert client.post(reverse("pathways:case_new"), {"resident": ems.cast.resident.pk, "kind": "chest_pain"}
                       ).status_code == 403
    assert not Case.objects.exists()
