"""Payment through the pluggable gateway: the simulated channel confirms or fails; the callback checks the
signature and counts the same notice once."""

from __future__ import annotations

import pytest

from tests.cast import as_
from tests.ihospital.world import amlodipine, ask, principal_for
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.ihospital import gateway, services
from yigongti.ihospital.models import PaymentNotice


@pytest.fixture
def prescribed(ih):
    c = ask(ih)
    services.accept_consultation(as_(ih.c.township_doctor), c)
    services.prescribe(as_(ih.c.township_doctor), c, {"lines": amlodipine(ih)})
    return c


def test_the_same_notice_twice_counts_once(ih, prescribed, client):
    pay, url = services.start_payment(principal_for(ih.c.resident), prescribed.pk)
    assert pay.amount == services.DEFAULT_FEE + ih.items["氨氯地平"].price and url.endswith(f"/{pay.out_trade_no}/")
    notice = gateway.SimulatedGateway().notice_for(pay, success=True, notice_id="n-1")
    r1 = client.post("/ihospital/pay/notify/", notice)
    r2 = client.post("/ihospital/pay/notify/", notice)
    assert r1.status_code == r2.status_code == 200 and r2.json()["status"] == "paid"
    assert PaymentNotice.objects.filter(payment=pay).count() == 1
    pay.refresh_from_db()
    assert pay.status == "paid" and pay.paid_at
    late_failure = gateway.SimulatedGateway().notice_for(pay, success=False, notice_id="n-2")
    services.handle_payment_notice(late_failure)
    pay.refresh_from_db()
    assert pay.status == "paid"  # a paid payment stays paid
    with pytest.raises(Conflict):
        services.start_payment(principal_for(ih.c.resident), prescribed.pk)


def test_a_forged_or_altered_notice_is_refused(ih, prescribed, client):
    pay, _url = services.start_payment(principal_for(ih.c.resident), prescribed.pk)
    notice = gateway.SimulatedGateway().notice_for(pay, success=True, notice_id="n-9")
    r = client.post("/ihospital/pay/notify/", {**notice, "amount": "0.01"})
    assert r.status_code == 422 and r.json()["code"] == "bad_signature"
    with pytest.raises(InvalidInput):
        services.handle_payment_notice({**notice, "sign": "0" * 64})
    pay.refresh_from_db()
    assert pay.status == "pending"


def test_a_failed_payment_can_be_tried_again(ih, prescribed):
    p = principal_for(ih.c.resident)
    pay, _url = services.start_payment(p, prescribed.pk)
    services.handle_payment_notice(gateway.SimulatedGateway().notice_for(pay, success=False, notice_id="f-1"))
    pay.refresh_from_db()
    assert pay.status == "failed"
    again, _url = services.start_payment(p, prescribed.pk)
    assert again.pk != pay.pk


def test_the_gateway_is_chosen_by_settings(settings):
    settings.YIGONGTI_PAYMENT_GATEWAY = "yigongti.ihospital.gateway.SimulatedGateway"
    assert gateway.gateway().name == "simulated"
