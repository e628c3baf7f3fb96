"""Payment through a pluggable gateway (``YIGONGTI_PAYMENT_GATEWAY``: a dotted path to a class). A gateway says
where the resident goes to pay (``start``) and reads the notice it sends back to the callback endpoint
(``parse_notice``: the signature checked, the fields typed). A county's real channel (a bank's aggregated QR, the
insurance mobile payment) is one more class; ``SimulatedGateway`` stands in for it in the demo and the tests: its
page lets the resident confirm or fail the payment and posts a signed notice to the same callback a real channel
would call.

The callback is idempotent: each notice is kept once by its id (``PaymentNotice.notice_id`` unique) and a paid
payment stays paid, so the same notice twice counts once."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import import_module
from typing import Any, Protocol

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from yigongti.core.errors import InvalidInput

DEFAULT_GATEWAY = "yigongti.ihospital.gateway.SimulatedGateway"


@dataclass(frozen=True)
class Notice:
    out_trade_no: str
    notice_id: str
    txn: str
    amount: Decimal
    success: bool


class Gateway(Protocol):
    name: str

    def start(self, payment) -> str: ...

    def parse_notice(self, data: dict[str, Any]) -> Notice: ...


FIELDS = ("out_trade_no", "notice_id", "txn", "amount", "result")


class SimulatedGateway:
    """The demo's channel: a page on our own site that confirms or fails; notices signed with HMAC-SHA256 under a
    key derived from the secret key."""

    name = "simulated"

    def _key(self) -> bytes:
        return hashlib.sha256(b"ihospital-simulated-gateway:" + settings.SECRET_KEY.encode()).digest()

    def sign(self, data: dict[str, Any]) -> str:
        canonical = json.dumps({k: str(data.get(k, "")) for k in FIELDS}, sort_keys=True, ensure_ascii=False)
        return hmac.new(self._key(), canonical.encode(), hashlib.sha256).hexdigest()

    def start(self, payment) -> str:
        return reverse("ihospital:sim_pay", args=[payment.out_trade_no])

    def notice_for(self, payment, *, success: bool, notice_id: str) -> dict[str, str]:
        data = {"out_trade_no": payment.out_trade_no, "notice_id": notice_id, "txn": f"SIM{notice_id[-12:]}",
                "amount": str(payment.amount), "result": "SUCCESS" if success else "FAIL"}
        return {**data, "sign": self.sign(data)}

    def parse_notice(self, data: dict[str, Any]) -> Notice:
        if not hmac.compare_digest(str(data.get("sign", "")), self.sign(data)):
            raise InvalidInput("bad_signature", _("支付通知签名无效"))
        try:
            amount = Decimal(str(data.get("amount", "")))
        except InvalidOperation:
            raise InvalidInput("bad_notice", _("支付通知金额无效")) from None
        notice_id = str(data.get("notice_id", ""))[:64]
        if not notice_id or not data.get("out_trade_no"):
            raise InvalidInput("bad_notice", _("支付通知缺少订单号或通知ID"))
        return Notice(str(data["out_trade_no"])[:32], notice_id, str(data.get("txn", ""))[:64], amount,
                      data.get("result") == "SUCCESS")


@cache
def _gateway_class(path: str) -> type:
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


def gateway() -> Gateway:
    return _gateway_class(getattr(settings, "YIGONGTI_PAYMENT_GATEWAY", "") or DEFAULT_GATEWAY)()
