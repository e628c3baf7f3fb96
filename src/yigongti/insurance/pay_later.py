"""先诊疗后付费: a patient treated before paying; the account carries its status until it is settled.

An account is open until settled; it is overdue once its due date has passed (``is_overdue``: decided when read,
so no job has to run for the list to be right; ``mark_overdue`` stores it for the worker's reports)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import Field, field_validator

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput
from yigongti.core.validation import PLANNED, check_date, parse_money
from yigongti.encounters.models import Encounter
from yigongti.orgs.permissions import check
from yigongti.referrals.inputs import Input

from .models import PayLater

DUE_DAYS = 7  # the patient settles within a week of discharge (or of the visit) unless a date is agreed
SETTLEMENT_NO_RE = re.compile(r"^[0-9A-Za-z_-]{4,40}$")

Status = PayLater.Status


def is_overdue(account: PayLater, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    return account.status != Status.SETTLED and account.due_date is not None and account.due_date < today


def status_of(account: PayLater, today: dt.date | None = None) -> str:
    """The status as of today: open, overdue (due date passed) or settled."""
    if account.status == Status.SETTLED:
        return Status.SETTLED
    return Status.OVERDUE if is_overdue(account, today) else Status.OPEN


def status_q(status: str, today: dt.date | None = None) -> Q:
    """The accounts of a status as of today, as a filter."""
    today = today or timezone.localdate()
    unsettled = ~Q(status=Status.SETTLED)
    if status == Status.SETTLED:
        return Q(status=Status.SETTLED)
    if status == Status.OVERDUE:
        return unsettled & Q(due_date__lt=today)
    if status == Status.OPEN:
        return unsettled & (Q(due_date__isnull=True) | Q(due_date__gte=today))
    if status == "unsettled":
        return unsettled
    return Q()


def default_amount(e: Encounter) -> Decimal:
    """What the patient owes: the self-paid part, else the cost less what the fund paid."""
    if e.self_pay is not None:
        return e.self_pay
    if e.total_cost is None:
        return Decimal(0)
    return max(e.total_cost - (e.insurance_paid or Decimal(0)), Decimal(0))


class OpenInput(Input):
    amount_due: str = Field("", description="应付金额（元；缺省：本次就诊的个人自付部分）")
    due_date: dt.date | None = Field(None, description=f"应结日期（缺省：出院或就诊后 {DUE_DAYS} 天）")

    @field_validator("due_date", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("amount_due", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return "" if v is None else str(v)


def open_pay_later(encounter: Encounter, data: OpenInput | Mapping[str, Any] | None = None, *,
                   actor: Actor) -> PayLater:
    """Open a 先诊疗后付费 account for an encounter (one per encounter)."""
    check(actor, "insurance.open_pay_later", encounter)
    try:
        inp = OpenInput.parse(data or {})
    except InvalidInput:
        raise InvalidInput("invalid_input", _("应结日期格式应为 YYYY-MM-DD"), field="due_date") from None
    errors: dict[str, list[str]] = {}
    amount = default_amount(encounter)
    if inp.amount_due.strip():
        try:
            amount = parse_money(inp.amount_due) or Decimal(0)
        except ValueError as e:
            errors["amount_due"] = [_("应付金额：%(e)s") % {"e": e}]
    end = encounter.discharge_date or encounter.admit_date
    due = inp.due_date or end + dt.timedelta(days=DUE_DAYS)
    check_date(due, errors, "due_date", PLANNED, "应结日期")
    if errors:
        first = next(iter(errors))
        raise InvalidInput("invalid_input", errors[first][0], field=first, errors=errors)
    try:
        with transaction.atomic():
            account = PayLater.objects.create(encounter=encounter, amount_due=amount, due_date=due)
            audit.record(actor, "create", "pay_later", account.pk, resident=encounter.resident_id,
                         encounter=encounter.pk)
    except IntegrityError:
        raise Conflict("already_open", _("该就诊已办理先诊疗后付费")) from None
    return account


def settle_pay_later(account: PayLater, settlement_no: str, *, actor: Actor) -> PayLater:
    """Settle an account with the settlement's number (结算流水号)."""
    check(actor, "insurance.settle_pay_later", account)
    number = (settlement_no or "").strip()
    if not SETTLEMENT_NO_RE.match(number):
        raise InvalidInput("invalid_input", _("请填写结算流水号（4–40 位字母、数字）"), field="settlement_no")
    with transaction.atomic():
        a = PayLater.objects.select_for_update().get(pk=account.pk)
        if a.status == Status.SETTLED:
            raise Conflict("already_settled", _("该先诊疗后付费已结清"))
        a.status, a.settlement_no, a.settled_at = Status.SETTLED, number, timezone.now()
        a.save(update_fields=["status", "settlement_no", "settled_at"])
        audit.record(actor, "settle", "pay_later", a.pk, resident=a.encounter.resident_id, settlement_no=number)
    return a


def mark_overdue(today: dt.date | None = None, *, actor: Actor) -> int:
    """Store the overdue status of open accounts past their due date (for the worker); returns how many."""
    check(actor, "insurance.settle_pay_later")
    qs: QuerySet[PayLater] = PayLater.objects.filter(status=Status.OPEN, due_date__lt=today or timezone.localdate())
    n = qs.update(status=Status.OVERDUE)
    if n:
        audit.record(actor, "update", "pay_later", "", overdue=n)
    return n
