"""The pages: the center's cases (live rows), a case's timeline with a button per next point, live metrics against
targets, corrections with a reason, delay reasons when a target is missed, closing — and who sees nothing."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.cast import as_
from yigongti.core.models import AuditEvent
from yigongti.pathways import services
from yigongti.pathways.models import CaseEvent, CaseStatus, DelayReason


def ago(minutes: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=minutes)


def local(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def case(ems):
    c = ems.cast
    case = services.open_case(as_(c.township_doctor), c.resident, "chest_pain", facility=c.county_hospital,
                              first_facility=c.township_center, arrival_mode="transfer", subtype="stemi",
                              at=ago(120))
    services.record_event(as_(c.township_doctor), case, "fmc", at=ago(110))
    services.record_event(as_(c.township_doctor), case, "first_ecg", at=ago(104))
    return case


def test_the_center_lists_its_open_cases_live(ems, case, client, login):
    login(ems.cast.county_doctor)
    r = client.get(reverse("pathways:cases"))
    html = r.content.decode()
    assert r.status_code == 200 and case.case_no in html and "李建国" in html and 'hx-trigger="every 15s"' in html
    assert "ST段抬高型心肌梗死" in html
    assert AuditEvent.objects.filter(action="list", object_type="pathway_case", actor="county_doctor").exists()
    partial = client.get(reverse("pathways:cases"), HTTP_HX_REQUEST="true").content.decode()
    assert case.case_no in partial and "<html" not in partial
    assert case.case_no not in client.get(reverse("pathways:cases") + "?kind=stroke").content.decode()


def test_the_township_unit_sees_its_transfer_and_an_outsider_sees_nothing(ems, case, client, login):
    login(ems.cast.township_doctor)
    assert case.case_no in client.get(reverse("pathways:cases")).content.decode()
    client.logout()
    login(ems.cast.outsider)
    assert case.case_no not in client.get(reverse("pathways:cases")).content.decode()
    assert client.get(reverse("pathways:case", args=[case.pk])).status_code == 404


def test_a_dispatcher_may_not_read_pathway_cases(ems, case, client, login):
    login(ems.dispatcher)
    assert client.get(reverse("pathways:cases")).status_code == 403


def test_the_timeline_shows_points_metrics_and_the_next_buttons(ems, case, client, login):
    login(ems.cast.county_doctor)
    html = client.get(reverse("pathways:case", args=[case.pk])).content.decode()
    assert 'data-testid="point-fmc"' in html and 'data-testid="point-first_ecg"' in html
    assert 'data-testid="metric-fmc_to_ecg" data-met="met"' in html
    assert 'data-testid="press-door"' in html and 'data-testid="press-fmc"' not in html
    assert 'hx-trigger="every 10s"' in html
    assert AuditEvent.objects.filter(action="read", object_type="pathway_case", object_id=str(case.pk)).exists()
    live = client.get(reverse("pathways:case", args=[case.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="case-metrics"' in live and "<html" not in live


def test_pressing_a_button_records_the_point_now_once(ems, case, client, login):
    login(ems.cast.county_doctor)
    url = reverse("pathways:case_event", args=[case.pk])
    r = client.post(url, {"code": "door", "key": "door-abc"})
    assert r.status_code == 302 and r.url == reverse("pathways:case", args=[case.pk])
    client.post(url, {"code": "door", "key": "door-abc"})  # the double tap
    door = CaseEvent.objects.get(case=case, code="door")
    assert abs((door.at - timezone.now()).total_seconds()) < 10 and door.recorded_by == ems.cast.county_doctor
    assert CaseEvent.objects.filter(case=case, code="door").count() == 1
    html = client.get(reverse("pathways:case", args=[case.pk])).content.decode()
    assert 'data-testid="metric-d2w" data-met="pending"' in html and "计时中" in html


def test_a_late_entry_in_the_future_is_refused_with_the_reason(ems, case, client, login):
    login(ems.cast.county_doctor)
    url = reverse("pathways:case_event", args=[case.pk])
    r = client.post(url, {"code": "door", "at": local(timezone.now() + dt.timedelta(hours=2))}, follow=True)
    assert "不能记录未来的时间" in r.content.decode()
    assert not CaseEvent.objects.filter(case=case, code="door").exists()
    r = client.post(url, {"code": "door", "at": "yesterday"}, follow=True)
    assert "时间格式无效" in r.content.decode()
    client.post(url, {"code": "door", "at": local(ago(60))})
    assert CaseEvent.objects.get(case=case, code="door").source == "manual"


def test_a_correction_needs_a_reason_and_keeps_the_old_time(ems, case, client, login):
    login(ems.cast.county_doctor)
    ecg = case.events.get(code="first_ecg")
    url = reverse("pathways:case_correct", args=[case.pk])
    r = client.post(url, {"event": ecg.pk, "at": local(ago(108)), "reason": ""}, follow=True)
    assert "须写明理由" in r.content.decode()
    client.post(url, {"event": ecg.pk, "at": local(ago(108)), "reason": "心电图机时间未校准"})
    ecg.refresh_from_db()
    assert not ecg.active
    new = case.events.get(code="first_ecg", active=True)
    assert new.reason == "心电图机时间未校准" and new.replaces_id == ecg.pk
    html = client.get(reverse("pathways:case", args=[case.pk])).content.decode()
    assert 'data-testid="history"' in html and "心电图机时间未校准" in html


def test_a_missed_target_asks_for_its_delay_reason_before_closing(ems, case, client, login):
    c = ems.cast
    services.record_event(as_(c.township_doctor), case, "first_door", at=ago(100))
    services.record_event(as_(c.township_doctor), case, "door_out", at=ago(55))  # DIDO 45 > 30
    login(c.county_doctor)
    page = reverse("pathways:case", args=[case.pk])
    html = client.get(page).content.decode()
    assert 'data-testid="delay-form"' in html and 'value="dido"' in html
    r = client.post(reverse("pathways:case_close", args=[case.pk]), {"outcome": "discharged"}, follow=True)
    assert "请先填写延误原因" in r.content.decode()
    client.post(reverse("pathways:case_delay", args=[case.pk]), {"metric": "dido", "code": "transport_delay",
                                                                  "note": "等待120回车"})
    assert DelayReason.objects.get(case=case, metric="dido").code == "transport_delay"
    assert 'data-testid="delay-form"' not in client.get(page).content.decode()
    client.post(reverse("pathways:case_close", args=[case.pk]), {"outcome": "discharged", "diagnosis": "STEMI"})
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    html = client.get(page).content.decode()
    assert 'data-testid="next-buttons"' not in html and "hx-trigger" not in html.split('id="case-live"')[1][:80]


def test_the_subtype_form_narrows_the_metrics(ems, client, login):
    c = ems.cast
    case = services.open_case(as_(c.county_doctor), c.resident, "stroke", facility=c.county_hospital)
    login(c.county_doctor)
    client.post(reverse("pathways:case_subtype", args=[case.pk]), {"subtype": "haemorrhagic", "diagnosis": "脑出血"})
    html = client.get(reverse("pathways:case", args=[case.pk])).content.decode()
    assert 'data-testid="metric-dnt"' not in html and 'data-testid="press-neurosurgery"' in html


def test_someone_not_involved_cannot_write(ems, case, client, login):
    login(ems.cast.other_village_doctor)
    r = client.post(reverse("pathways:case_event", args=[case.pk]), {"code": "door"})
    assert r.status_code == 404
    assert not CaseEvent.objects.filter(case=case, code="door").exists()


def test_the_big_button_is_the_next_point_and_onset_is_entered_afterwards(ems, case, client, login):
    login(ems.cast.county_doctor)
    html = client.get(reverse("pathways:case", args=[case.pk])).content.decode()
    assert 'data-testid="press-onset"' not in html and 'data-testid="press-call_120"' not in html
    big = html.split('btn-primary btn-lg')[1][:200]
    assert 'data-testid="press-ecg_transmit"' in big  # the first point after the first ECG
    late = html.split('data-testid="late-form"')[1].split("</details>")[0]
    assert 'value="onset"' in late


def test_a_maternal_case_takes_its_risk_colour(ems, client, login):
    c = ems.cast
    case = services.open_case(as_(c.county_doctor), c.neighbour, "maternal", facility=c.county_hospital)
    login(c.county_doctor)
    client.post(reverse("pathways:case_subtype", args=[case.pk]), {"subtype": "pph", "risk_colour": "red"})
    case.refresh_from_db()
    assert case.subtype == "pph" and case.risk_colour == "red"
    html = client.get(reverse("pathways:case", args=[case.pk])).content.decode()
    assert 'data-testid="case-risk"' in html and "红色（高风险）" in html
    r = client.post(reverse("pathways:case_subtype", args=[case.pk]), {"subtype": "pph", "risk_colour": "blue"},
                    follow=True)
    assert "妊娠风险分级无效" in r.content.decode()
