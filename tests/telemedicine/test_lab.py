"""Manual entry of lab results, the order page's results, the HL7 error queue pages and the lab API."""

from decimal import Decimal

import pytest

from tests.cast import as_
from tests.telemedicine.hl7_support import adult_rules, lab_order
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.core.models import AuditEvent
from yigongti.telemedicine import lab as service
from yigongti.telemedicine.hl7.ingest import ingest
from yigongti.telemedicine.hl7.sample import oru
from yigongti.telemedicine.models import CriticalValue, Hl7Message, LabResult


@pytest.fixture
def lab(centers):
    adult_rules(centers)
    return centers


def test_the_township_nurse_enters_a_small_analysers_results_with_the_same_units_flags_and_critical_path(lab):
    order = lab_order(lab, "CBC")
    service.enter_results(order.pk, [{"analyte": "WBC", "value": "12.5"}, {"analyte": "HGB", "value": "4.2",
                                                                          "unit": "g/dL"},
                                     {"analyte": "PLT", "value": ""}], actor=as_(lab.cast.township_doctor))
    results = {r.analyte.code: r for r in LabResult.objects.filter(order=order).select_related("analyte")}
    assert set(results) == {"WBC", "HGB"}  # the empty PLT is not a result
    assert results["WBC"].flag == "H" and results["WBC"].source == "manual"
    assert results["HGB"].value == Decimal("42") and results["HGB"].flag == "LL"  # 4.2 g/dL = 42 g/L < 50
    assert results["HGB"].entered_by == lab.cast.township_doctor
    assert CriticalValue.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.status == "reported" and order.critical


def test_bad_manual_values_are_all_named_and_nothing_is_stored(lab):
    order = lab_order(lab, "CBC")
    with pytest.raises(InvalidInput) as e:
        service.enter_results(order.pk, [{"analyte": "WBC", "value": "high"}, {"analyte": "HGB", "value": "x"}],
                              actor=as_(lab.cast.township_doctor))
    assert set(e.value.errors) == {"value_WBC", "value_HGB"}
    with pytest.raises(InvalidInput):
        service.enter_results(order.pk, [{"analyte": "WBC", "value": "5", "unit": "mg"}],
                              actor=as_(lab.cast.township_doctor))
    with pytest.raises(InvalidInput):
        service.enter_results(order.pk, [], actor=as_(lab.cast.township_doctor))
    assert not LabResult.objects.exists()


def test_a_village_doctor_and_an_outsider_cannot_enter_results(lab):
    order = lab_order(lab, "CBC")
    for user in (lab.cast.village_doctor, lab.cast.outsider, lab.cast.manager):
        with pytest.raises(Forbidden):
            service.enter_results(order.pk, [{"analyte": "WBC", "value": "5"}], actor=as_(user))
    assert AuditEvent.objects.filter(action="denied").count() == 3


def test_the_order_page_shows_the_results_and_the_entry_form_saves_them(lab, client, login):
    order = lab_order(lab, "CHEM")
    login(lab.cast.township_doctor)
    page = client.get(f"/centers/orders/{order.pk}/")
    assert page.status_code == 200 and b'data-testid="lab-panel"' in page.content
    assert b'data-testid="enter-results"' in page.content
    form = client.get(f"/centers/lab/orders/{order.pk}/results/")
    assert form.status_code == 200 and b'name="value_K"' in form.content
    bad = client.post(f"/centers/lab/orders/{order.pk}/results/", {"value_K": "abc", "unit_K": "mmol/L"})
    assert bad.status_code == 200 and "请填写数值" in bad.content.decode()
    ok = client.post(f"/centers/lab/orders/{order.pk}/results/", {"value_K": "2.1", "unit_K": "mmol/L",
                                                                   "value_NA": "140", "unit_NA": "mmol/L"})
    assert ok.status_code == 302
    page = client.get(f"/centers/orders/{order.pk}/").content.decode()
    assert 'data-analyte="K" data-flag="LL"' in page and "2.10" in page


def test_the_error_queue_is_for_the_lab_center_and_a_fixed_message_is_replayed_from_its_page(lab, client, login):
    order = lab_order(lab, "CHEM")
    ingest(oru(order.accession_no, [("K", "4.0", "mmol/l"), ("NA", "140", "mEq/L"), ("GLU", "5", "mmol")],
               control_id="Q1"))
    queued = Hl7Message.objects.get(status="error")
    login(lab.cast.township_doctor)
    assert client.get("/centers/lab/messages/").status_code == 403
    assert client.get(f"/centers/lab/messages/{queued.pk}/").status_code == 403
    login(lab.reader)
    listing = client.get("/centers/lab/messages/")
    assert listing.status_code == 200 and f'data-message="{queued.pk}"' in listing.content.decode()
    detail = client.get(f"/centers/lab/messages/{queued.pk}/").content.decode()
    assert "无法换算" in detail and 'data-testid="replay-form"' in detail
    still_bad = client.post(f"/centers/lab/messages/{queued.pk}/", {"raw": queued.raw})
    assert "重放失败" in still_bad.content.decode()
    fixed = queued.raw.replace("|mmol|", "|mmol/L|").replace("\r", "\n")
    done = client.post(f"/centers/lab/messages/{queued.pk}/", {"raw": fixed})
    assert done.status_code == 302
    queued.refresh_from_db()
    assert queued.status == "replayed" and LabResult.objects.filter(order=order).count() == 3


def test_a_junk_message_is_discarded_with_a_reason(lab, client, login):
    ingest("this is not hl7", "10.0.0.9:4000")
    queued = Hl7Message.objects.get()
    assert queued.peer == "10.0.0.9:4000" and queued.ack_code == "AR"
    login(lab.reader)
    client.post(f"/centers/lab/messages/{queued.pk}/discard/", {"reason": ""})
    queued.refresh_from_db()
    assert queued.status == "error"
    client.post(f"/centers/lab/messages/{queued.pk}/discard/", {"reason": "测试消息"})
    queued.refresh_from_db()
    assert queued.status == "discarded" and "测试消息" in queued.error


def test_the_lab_api_reads_and_enters_results_and_replays(lab, client, login):
    order = lab_order(lab, "CHEM")
    login(lab.cast.township_doctor)
    r = client.post(f"/api/v1/telemedicine/lab/orders/{order.pk}/results",
                    {"results": [{"analyte": "GLU", "value": "30"}]}, content_type="application/json")
    assert r.status_code == 201 and r.json()[0]["flag"] == "HH"
    bad = client.post(f"/api/v1/telemedicine/lab/orders/{order.pk}/results",
                      {"results": [{"analyte": "GLU", "value": "x"}]}, content_type="application/json")
    assert bad.status_code == 422 and bad["Content-Type"].startswith("application/problem+json")
    got = client.get(f"/api/v1/telemedicine/lab/orders/{order.pk}/results").json()
    assert [x["analyte"] for x in got] == ["GLU"]
    assert client.get("/api/v1/telemedicine/lab/messages").status_code == 403
    ingest(oru("L404", [("K", "4", "mmol/L")], control_id="API-1"))
    login(lab.reader)
    queue = client.get("/api/v1/telemedicine/lab/messages").json()
    [item] = queue["items"]
    assert item["ack_code"] == "AE" and "L404" in item["error"]
    raw = client.get(f"/api/v1/telemedicine/lab/messages/{item['id']}").json()["raw"]
    again = client.post(f"/api/v1/telemedicine/lab/messages/{item['id']}/replay", {"raw": raw},
                        content_type="application/json")
    assert again.status_code == 422 and "L404" in str(again.json())
    ok = client.post(f"/api/v1/telemedicine/lab/messages/{item['id']}/replay",
                     {"raw": raw.replace("L404", order.accession_no)}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "applied" and ok.json()["replay_of_id"] == item["id"]
