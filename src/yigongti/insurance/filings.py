"""转外就医备案: a resident's filing for care outside the county, from an up-referral to a hospital outside the
county or filed directly, and the reimbursement rate it earns an out-of-county settlement.

The rates are the year's rules (``Budget.rules["out_of_county_rates"] = {"filed": "0.60", "unfiled": "0.40"}``,
as ``budget.py`` writes them); without a budget the defaults below apply. ``reimbursement_rate`` is pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import Field, field_validator

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, InvalidInput, NotFound
from yigongti.core.scoping import scope_for
from yigongti.core.validation import PLANNED, check_date
from yigongti.encounters.models import FacilityLevel
from yigongti.orgs.permissions import check
from yigongti.referrals.inputs import Input
from yigongti.referrals.models import Direction, Referral
from yigongti.residents.models import Resident

from .models import Budget, OutOfCountyFiling

DEFAULT_RATE_FILED = Decimal("0.60")  # 转诊转外就医: the filed rate
DEFAULT_RATE_UNFILED = Decimal("0.40")  # 未经备案的异地就医: the lower rate
FILING_VALID_DAYS = 180  # a filing covers care started within half a year of filing, unless told otherwise

Status = OutOfCountyFiling.Status


# ---- the pure rule ------------------------------------------------------------------------------------------

def _ratio(value: Any, default: Decimal) -> Decimal:
    try:
        out = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return default
    return out if Decimal(0) <= out <= Decimal(1) else default


def rates_of(rules: Mapping[str, Any] | None) -> tuple[Decimal, Decimal]:
    """(filed, unfiled) rate from a year's rules: ``out_of_county_rates: {filed, unfiled}`` or the flat keys
    ``out_of_county_rate_filed`` / ``out_of_county_rate_unfiled``; the defaults where absent."""
    rules = rules or {}
    given = rules.get("out_of_county_rates")
    nested: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    filed = nested.get("filed", rules.get("out_of_county_rate_filed", DEFAULT_RATE_FILED))
    unfiled = nested.get("unfiled", rules.get("out_of_county_rate_unfiled", DEFAULT_RATE_UNFILED))
    return _ratio(filed, DEFAULT_RATE_FILED), _ratio(unfiled, DEFAULT_RATE_UNFILED)


def is_out_of_county(settlement: Any) -> bool:
    level = getattr(settlement, "facility_level", "")
    if level == FacilityLevel.OUT_OF_COUNTY:
        return True
    if level == FacilityLevel.PHARMACY:
        return False
    county, home = getattr(settlement, "facility_county", ""), getattr(settlement, "residence_county", "")
    return bool(county and home and county != home)


def covering(settlement: Any, filings: Iterable[Any]) -> Any | None:
    """The active filing of the settlement's resident whose validity holds the day care began."""
    day = getattr(settlement, "admit_date", None) or getattr(settlement, "settle_date", None)
    resident = getattr(settlement, "resident_id", None)
    for f in filings:
        if (f.status == Status.ACTIVE and resident is not None and f.resident_id == resident
                and day is not None and f.valid_from <= day <= f.valid_until):
            return f
    return None


def reimbursement_rate(settlement: Any, filings: Iterable[Any], rules: Mapping[str, Any] | None) -> Decimal | None:
    """The reimbursement rate of an out-of-county settlement: the filed rate when a filing covers it, else the
    unfiled one. None for care inside the county (the year's in-county rules apply, not these)."""
    if not is_out_of_county(settlement):
        return None
    filed, unfiled = rates_of(rules)
    return filed if covering(settlement, filings) is not None else unfiled


@dataclass(frozen=True)
class OutOfCountyRate:
    filed: bool
    rate: Decimal
    filing: OutOfCountyFiling | None
    explanation: str


# ---- reads the ledger may call ------------------------------------------------------------------------------

def filed_for(resident_id: int | None, day: dt.date) -> OutOfCountyFiling | None:
    """The resident's active filing that covers ``day``, if any."""
    if resident_id is None:
        return None
    return (OutOfCountyFiling.objects.filter(resident_id=resident_id, status=Status.ACTIVE, valid_from__lte=day,
                                             valid_until__gte=day).order_by("-valid_from", "-pk").first())


def rules_for(year: int, scheme: str, county: str) -> dict[str, Any]:
    """The rules of the year's budget (highest version) of the community of ``county`` for ``scheme``."""
    budget = (Budget.objects.filter(year=year, scheme=scheme, community__region__code__startswith=county[:6])
              .order_by("-version").values_list("rules", flat=True).first()) if county else None
    return dict(budget or {})


def out_of_county_rate(settlement: Any) -> OutOfCountyRate | None:
    """For an out-of-county settlement: whether it was filed and the rate that applies (None in the county)."""
    if not is_out_of_county(settlement):
        return None
    day = settlement.admit_date or settlement.settle_date
    filing = filed_for(settlement.resident_id, day)
    rules = rules_for(day.year, settlement.scheme, settlement.residence_county)
    rate = reimbursement_rate(settlement, [filing] if filing else [], rules)
    assert rate is not None
    if filing is not None:
        text = f"已办理转外就医备案（#{filing.pk}，{filing.hospital}），按备案比例 {rate:.0%} 报销"
    else:
        text = f"未办理转外就医备案，按未备案异地就医比例 {rate:.0%} 报销"
    return OutOfCountyRate(filing is not None, rate, filing, text)


# ---- writes -------------------------------------------------------------------------------------------------

class FilingInput(Input):
    resident: int | None = Field(None, description="居民 id（缺省时取转诊单的患者）")
    referral: int | None = Field(None, description="县外上转的转诊单 id")
    hospital: str = Field("", max_length=100, description="转往医院（缺省时取转诊单的县外接收医院）")
    reason: str = Field("", max_length=200)
    valid_from: dt.date | None = Field(None, description="有效期起（缺省：今天）")
    valid_until: dt.date | None = Field(None, description=f"有效期止（缺省：起始日后 {FILING_VALID_DAYS} 天）")

    @field_validator("resident", "referral", "valid_from", "valid_until", mode="before")
    @classmethod
    def _blank(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v


MESSAGES = {"resident": gettext_lazy("请选择居民"), "referral": gettext_lazy("转诊单无效"),
            "hospital": gettext_lazy("转往医院名称过长"), "reason": gettext_lazy("原因过长"),
            "valid_from": gettext_lazy("日期格式应为 YYYY-MM-DD"),
            "valid_until": gettext_lazy("日期格式应为 YYYY-MM-DD")}


def _parse(data: FilingInput | Mapping[str, Any]) -> FilingInput:
    try:
        return FilingInput.parse(data)
    except InvalidInput as e:
        errors = {k: [str(MESSAGES.get(k, v[0]))] for k, v in e.errors.items()}
        first = next(iter(errors))
        raise InvalidInput("invalid_input", errors[first][0], field=first, errors=errors) from None


def _referral_out(actor: Actor, pk: int) -> Referral:
    """The up-referral to a hospital outside the county that a filing is made from: one the user sees, or (the
    insurance officer, who reads no referral lists) one of a resident within the user's scope."""
    from yigongti.referrals.queries import referrals_visible_to

    r = Referral.objects.filter(pk=pk).select_related("resident").first()
    if r is not None and not actor.is_system and not scope_for(actor.user).contains(r.area_code) \
            and not referrals_visible_to(actor.user).filter(pk=pk).exists():
        r = None
    if r is None:
        audit.record(actor, "denied", "referral", pk, attempted="insurance.file_out_of_county")
        raise NotFound(_("转诊单不存在或无权访问"))
    if r.direction != Direction.UP or r.to_facility_id is not None or not r.to_external:
        raise InvalidInput("not_out_of_county", _("只有转往县外医院的上转转诊单可以办理转外就医备案"), field="referral")
    return r


def file_out_of_county(data: FilingInput | Mapping[str, Any], *, actor: Actor) -> OutOfCountyFiling:
    """File 转外就医备案 for a resident, from an up-referral to a hospital outside the county or directly."""
    inp = _parse(data)
    referral = _referral_out(actor, inp.referral) if inp.referral is not None else None
    resident_id = referral.resident_id if referral is not None else inp.resident
    if resident_id is None:
        raise InvalidInput("invalid_input", _("请选择居民"), field="resident")
    resident = Resident.objects.filter(pk=resident_id).first()
    if resident is None or not (actor.is_system or scope_for(actor.user).contains(resident.area_code)):
        audit.record(actor, "denied", "resident", resident_id, attempted="insurance.file_out_of_county")
        raise NotFound(_("居民档案不存在或不在您的管辖范围内"))
    check(actor, "insurance.file_out_of_county", resident)
    errors: dict[str, list[str]] = {}
    hospital = inp.hospital or (referral.to_external if referral else "")
    if not hospital:
        errors["hospital"] = [_("请填写转往医院")]
    start = inp.valid_from or (referral.submitted_at.date() if referral and referral.submitted_at else None) \
        or timezone.localdate()
    until = inp.valid_until or start + dt.timedelta(days=FILING_VALID_DAYS)
    check_date(start, errors, "valid_from", PLANNED, "有效期起")
    if until < start:
        errors["valid_until"] = [_("有效期止不能早于有效期起")]
    if errors:
        first = next(iter(errors))
        raise InvalidInput("invalid_input", errors[first][0], field=first, errors=errors)
    with transaction.atomic():
        filing = OutOfCountyFiling.objects.create(
            resident=resident, referral=referral, hospital=hospital[:100], reason=inp.reason or
            (referral.reason[:200] if referral else ""), valid_from=start, valid_until=until,
            filed_by=actor.user)
        audit.record(actor, "create", "out_of_county_filing", filing.pk, resident=resident.pk,
                     referral=referral.pk if referral else None)
    return filing


def revoke_filing(filing: OutOfCountyFiling, *, actor: Actor, reason: str = "") -> OutOfCountyFiling:
    """Revoke a filing: settlements of care begun afterwards are reimbursed at the unfiled rate."""
    check(actor, "insurance.file_out_of_county", filing.resident)
    with transaction.atomic():
        f = OutOfCountyFiling.objects.select_for_update().get(pk=filing.pk)
        if f.status == Status.REVOKED:
            raise Conflict("already_revoked", _("该备案已撤销"))
        f.status = Status.REVOKED
        f.save(update_fields=["status"])
        audit.record(actor, "revoke", "out_of_county_filing", f.pk, resident=f.resident_id, reason=reason[:200])
    return f
