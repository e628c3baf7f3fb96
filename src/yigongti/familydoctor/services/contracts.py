"""Contracts (签约): sign a resident or a whole household to a team, renew yearly, end with a reason.

Every use case checks the actor's verb (``familydoctor.sign`` / ``renew`` / ``end_contract``) before it writes,
validates its input field by field (``InvalidInput`` naming the field), and writes in one transaction that locks
the resident rows (SELECT … FOR UPDATE) so two signings of the same person at once give one contract; the
database's one-active-contract constraint is the backstop (its ``IntegrityError`` becomes a clear ``Conflict``).
A retry with the same idempotency key returns the contracts of the first attempt. After commit the contract year
is scheduled (``services.fulfilment.schedule_contract``, H2) and the resident's due list refreshed
(``familydoctor.due.refresh_resident``, H7); both are looked up lazily and a missing one is tolerated.

The term is a contract year: start .. start + 1 year − 1 day (a 29 February start ends on 28 February)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor, actor_of
from yigongti.core.errors import Conflict, InvalidInput, NotFound
from yigongti.core.models import IdempotentRequest
from yigongti.core.scoping import scope_for
from yigongti.orgs.models import Staff
from yigongti.orgs.permissions import check
from yigongti.residents.models import Household, Resident

from ..models import (
    ConsentKind,
    Contract,
    ContractStatus,
    EndReason,
    PackageKind,
    ServicePackage,
    Team,
)
from ..queries.teams import current_q, team_for_village

log = logging.getLogger(__name__)

RENEW_WINDOW_DAYS = 90  # a contract may be renewed from 90 days before its end (and any time after it expired)
MAX_SIGNATURE_CHARS = 400_000
CONSENT_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png")
MAX_CONSENT_BYTES = 10 * 1024 * 1024


def term(start: dt.date) -> tuple[dt.date, dt.date]:
    """The contract year beginning on ``start``: (start, the day before the same date next year)."""
    try:
        nxt = start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        nxt = dt.date(start.year + 1, 3, 1)
    return start, nxt - dt.timedelta(days=1)


def new_number(on: dt.date) -> str:
    """A contract number: QY + date + 8 random hex digits (unique by the database; a clash is retried)."""
    return f"QY{on:%Y%m%d}{secrets.token_hex(4).upper()}"


def new_batch(on: dt.date) -> str:
    return f"HH{on:%Y%m%d}{secrets.token_hex(4).upper()}"


def as_pk(value: Any) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return 0
    return n if n > 0 else 0


def _date(value: Any, field: str, default: dt.date) -> dt.date:
    if value in (None, ""):
        return default
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput("invalid_date", _("日期格式不正确"), field=field) from None


# ---- consent -------------------------------------------------------------------------------------------

def store_consent(upload) -> str:
    """Keep a signed paper agreement's scan (PDF, JPEG or PNG, ≤ 10 MB) under the data directory; the storage name
    goes into ``Contract.consent_file``. Refuses other files with the field named."""
    name = getattr(upload, "name", "") or ""
    suffix = Path(name).suffix.lower()
    if suffix not in CONSENT_SUFFIXES:
        raise InvalidInput("consent_type", _("协议扫描件须为 PDF、JPG 或 PNG 文件"), field="consent_file")
    if (getattr(upload, "size", 0) or 0) > MAX_CONSENT_BYTES:
        raise InvalidInput("consent_too_large", _("协议扫描件不能超过 10 MB"), field="consent_file")
    head = upload.read(8)
    upload.seek(0)
    magic = {".pdf": (b"%PDF",), ".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8",), ".jpeg": (b"\xff\xd8",)}[suffix]
    if not head.startswith(magic):
        raise InvalidInput("consent_type", _("协议扫描件的内容与文件类型不符"), field="consent_file")
    stored = f"{timezone.localdate():%Y%m}/{secrets.token_hex(12)}{suffix}"
    path = consent_path(stored)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return stored


def consent_path(stored: str) -> Path:
    root = (Path(settings.DATA_DIR) / "consent").resolve()
    path = (root / stored).resolve()
    if root not in path.parents:
        raise NotFound()
    return path


def clean_signature(svg: str) -> str:
    """The tablet's signature as signature_pad's SVG; refused when empty, too large or not an SVG. (It is shown as
    an <img> data URL, where scripts never run.)"""
    svg = (svg or "").strip()
    if not svg:
        return ""
    if len(svg) > MAX_SIGNATURE_CHARS or not svg.startswith(("<svg", "<?xml")) or "<path" not in svg:
        raise InvalidInput("invalid_signature", _("电子签名无效，请重新签名"), field="consent_signature")
    lowered = svg.lower()
    if "<script" in lowered or "javascript:" in lowered or "onload" in lowered:
        raise InvalidInput("invalid_signature", _("电子签名无效，请重新签名"), field="consent_signature")
    return svg


# ---- inputs --------------------------------------------------------------------------------------------

@dataclass
class Consent:
    kind: str = ConsentKind.PAPER
    file: str = ""  # storage name (store_consent)
    signature: str = ""  # SVG

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Consent:
        kind = str(data.get("consent_kind") or ConsentKind.PAPER)
        if kind not in ConsentKind.values:
            raise InvalidInput("invalid_consent", _("请选择知情同意方式"), field="consent_kind")
        c = cls(kind, str(data.get("consent_file") or "")[:200], clean_signature(str(data.get("consent_signature")
                                                                                   or "")))
        if c.kind == ConsentKind.PAPER and not c.file:
            raise InvalidInput("consent_missing", _("请上传签字的纸质协议扫描件"), field="consent_file")
        if c.kind == ConsentKind.TABLET and not c.signature:
            raise InvalidInput("consent_missing", _("请居民在平板上签名"), field="consent_signature")
        return c


@dataclass
class Member:
    resident: Resident
    package: ServicePackage


@dataclass
class SignResult:
    contracts: list[Contract] = field(default_factory=list)
    replayed: bool = False


def basic_package(community_id: int) -> ServicePackage | None:
    return (ServicePackage.objects.filter(community_id=community_id, kind=PackageKind.BASIC, active=True)
            .order_by("code").first())


def _package(value: Any, team: Team) -> ServicePackage:
    if value in (None, "", 0):
        pkg = basic_package(team.community_id)
        if pkg is None:
            raise InvalidInput("no_basic_package", _("医共体尚未设置基础服务包"), field="package")
        return pkg
    if isinstance(value, ServicePackage):
        pkg = value
    else:
        pkg = ServicePackage.objects.filter(pk=as_pk(value)).first()
    if pkg is None or not pkg.active or pkg.community_id != team.community_id:
        raise InvalidInput("invalid_package", _("请选择本医共体在用的服务包"), field="package")
    return pkg


def resident_tags(resident: Resident) -> set[str]:
    return set(resident.tags.values_list("tag", flat=True))


def package_fits(pkg: ServicePackage, tags: set[str]) -> bool:
    return not pkg.target_tags or bool(set(pkg.target_tags) & tags)


def team_villages(team: Team, on: dt.date) -> set[int]:
    return set(team.villages.filter(current_q(on)).values_list("village_id", flat=True))


def _team(value: Any, resident: Resident, on: dt.date) -> Team:
    if isinstance(value, Team):
        team: Team | None = value
    elif value not in (None, "", 0):
        team = Team.objects.filter(pk=as_pk(value), active=True).first()
    else:
        team = team_for_village(resident.village_id, on) if resident.village_id else None
    if team is None or not team.active:
        raise InvalidInput("no_team", _("请选择签约团队（该村尚无负责团队）"), field="team")
    return team


def _doctor(value: Any, team: Team, user, on: dt.date) -> Staff | None:
    members = team.members.filter(current_q(on))
    if value not in (None, "", 0):
        staff = Staff.objects.filter(pk=as_pk(value), pk__in=members.values("staff_id")).first()
        if staff is None:
            raise InvalidInput("invalid_doctor", _("签约医生须是本团队的在岗成员"), field="doctor")
        return staff
    if getattr(user, "staff_id", None) and members.filter(staff_id=user.staff_id).exists():
        return user.staff
    return team.leader


def _visible_resident(actor: Actor, resident: Resident | int) -> Resident:
    pk = resident.pk if isinstance(resident, Resident) else as_pk(resident)
    qs = Resident.objects.filter(merged_into__isnull=True)
    if actor.user is not None:
        qs = scope_for(actor.user).filter(qs)
    found = qs.select_related("village", "household").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("居民档案不存在或不在您的管辖范围内"))
    return found


def _claim_key(actor: Actor, key: str) -> tuple[IdempotentRequest | None, list[int] | None]:
    """Inside the transaction: the key's row (locked), and the contract ids of an earlier attempt with it."""
    if not key:
        return None, None
    principal = f"fd:{actor.user.pk if actor.user is not None else actor.username}"[:64]
    try:
        with transaction.atomic():
            row, _created = IdempotentRequest.objects.select_for_update().get_or_create(
                principal=principal, key=key[:100], defaults={"path": "familydoctor.sign"})
    except IntegrityError:  # a concurrent first attempt: wait for its lock
        row = IdempotentRequest.objects.select_for_update().get(principal=principal, key=key[:100])
    if row.status is not None and row.body is not None:
        return row, list(json.loads(bytes(row.body)))
    return row, None


def _schedule(contracts: Iterable[Contract]) -> None:
    """Inside the signing transaction: the contract year's ScheduledService rows (H2's fulfilment), each in a
    savepoint so that a scheduling failure never loses the signed contract; then the due list after commit."""
    try:
        from . import fulfilment
    except ImportError:  # H2's module not there yet
        return _after_commit_due([c.resident_id for c in contracts])
    schedule_contract = getattr(fulfilment, "schedule_contract", None)
    for c in contracts:
        if schedule_contract is None:
            break
        try:
            with transaction.atomic():
                schedule_contract(c)
        except Exception:  # the schedule can be rebuilt; the signed contract must not be lost
            log.exception("scheduling contract %s failed", c.pk)
    _after_commit_due([c.resident_id for c in contracts])


# ---- signing -------------------------------------------------------------------------------------------

def _validate_common(actor: Actor, team: Team, data: Mapping[str, Any]) -> tuple[dt.date, dt.date, Staff | None]:
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    signed_on = start = today
    try:
        signed_on = _date(data.get("signed_on"), "signed_on", today)
        if signed_on > today:
            errors["signed_on"] = [_("签约日期不能晚于今天")]
        elif signed_on < today - dt.timedelta(days=365):
            errors["signed_on"] = [_("签约日期不能早于一年前")]
    except InvalidInput as e:
        errors["signed_on"] = [e.message]
    try:
        start = _date(data.get("start"), "start", signed_on)
        if start < signed_on:
            errors["start"] = [_("协议开始日期不能早于签约日期")]
        elif start > signed_on + dt.timedelta(days=90):
            errors["start"] = [_("协议开始日期不能晚于签约日期后90天")]
    except InvalidInput as e:
        errors["start"] = [e.message]
    doctor = None
    try:
        doctor = _doctor(data.get("doctor"), team, actor.user, signed_on)
    except InvalidInput as e:
        errors["doctor"] = [e.message]
    if errors:
        first = next(iter(errors))
        raise InvalidInput("invalid_contract", errors[first][0], field=first, errors=errors)
    return signed_on, start, doctor


def sign(actor, resident: Resident | int, data: Mapping[str, Any], *, idempotency_key: str = "") -> Contract:
    """Sign one resident. ``data``: team (default: the team of the resident's village), package (default: the
    community's basic package), doctor (a current member; default the actor or the team leader), signed_on (default
    today), start (default signed_on), consent_kind / consent_file / consent_signature, out_of_area_reason
    (required when the resident lives outside the team's villages)."""
    actor = actor_of(actor)
    person = _visible_resident(actor, resident)
    team = _team(data.get("team"), person, timezone.localdate())
    check(actor, "familydoctor.sign", team)
    pkg = _package(data.get("package"), team)
    return _sign_many(actor, team, [Member(person, pkg)], data, household=None, idempotency_key=idempotency_key)[0]


def sign_household(actor, household: Household | int, members: list[Mapping[str, Any]], data: Mapping[str, Any],
                   *, idempotency_key: str = "") -> list[Contract]:
    """Sign several members of one household at once (one transaction, one ``household_batch``): ``members`` is a
    list of {"resident": pk, "package": pk or ""}; the rest of ``data`` as for ``sign`` and shared by all."""
    actor = actor_of(actor)
    hh = household if isinstance(household, Household) else Household.objects.filter(pk=as_pk(household)).first()
    if hh is None or (actor.user is not None and not scope_for(actor.user).contains(hh.area_code)):
        raise NotFound(_("家庭不存在或不在您的管辖范围内"))
    if not members:
        raise InvalidInput("no_members", _("请至少选择一名家庭成员"), field="members")
    people = {r.pk: r for r in Resident.objects.filter(household=hh, merged_into__isnull=True)
              .select_related("village")}
    today = timezone.localdate()
    first = people.get(as_pk(members[0].get("resident")))
    team = _team(data.get("team"), first or Resident(village=hh.village, village_id=hh.village_id), today)
    check(actor, "familydoctor.sign", team)
    chosen: list[Member] = []
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for i, m in enumerate(members):
        person = people.get(as_pk(m.get("resident")))
        if person is None:
            errors[f"members.{i}.resident"] = [_("所选居民不是该家庭的成员")]
            continue
        if person.pk in seen:
            continue
        seen.add(person.pk)
        try:
            chosen.append(Member(person, _package(m.get("package"), team)))
        except InvalidInput as e:
            errors[f"members.{i}.package"] = [e.message]
    if errors:
        first_field = next(iter(errors))
        raise InvalidInput("invalid_members", errors[first_field][0], field=first_field, errors=errors)
    return _sign_many(actor, team, chosen, data, household=hh, idempotency_key=idempotency_key)


def _sign_many(actor: Actor, team: Team, members: list[Member], data: Mapping[str, Any], *,
               household: Household | None, idempotency_key: str) -> list[Contract]:
    signed_on, start, doctor = _validate_common(actor, team, data)
    consent = Consent.parse(data)
    reason = str(data.get("out_of_area_reason") or "").strip()[:200]
    villages = team_villages(team, signed_on)
    errors: dict[str, list[str]] = {}
    for m in members:
        tags = resident_tags(m.resident)
        if not package_fits(m.package, tags):
            errors.setdefault("package", []).append(
                _("%(name)s 不属于服务包“%(pkg)s”的适用人群") % {"name": m.resident.name, "pkg": m.package.name})
        if m.resident.village_id not in villages and not reason:
            errors.setdefault("out_of_area_reason", []).append(
                _("%(name)s 不住在本团队的责任村，跨责任区签约须填写理由") % {"name": m.resident.name})
    if errors:
        first = next(iter(errors))
        raise InvalidInput("invalid_contract", errors[first][0], field=first, errors=errors)
    _s, end = term(start)
    batch = new_batch(signed_on) if household is not None else ""
    key = (idempotency_key or str(data.get("idempotency_key") or "")).strip()

    def attempt(tries: int) -> list[Contract] | None:
        try:
            with transaction.atomic():
                row, replay = _claim_key(actor, key)
                if replay is not None:
                    return list(Contract.objects.filter(pk__in=replay).order_by("pk"))
                ids = [m.resident.pk for m in members]
                list(Resident.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
                taken = dict(Contract.objects.filter(resident_id__in=ids, status=ContractStatus.ACTIVE)
                             .values_list("resident_id", "number"))
                if taken:
                    names = "、".join(m.resident.name for m in members if m.resident.pk in taken)
                    raise Conflict("already_signed", _("%(names)s 已有履约中的签约协议，请续约或先解约")
                                   % {"names": names}, field="resident")
                out = []
                for m in members:
                    outside = m.resident.village_id not in villages
                    c = Contract.objects.create(
                        number=new_number(signed_on), resident=m.resident,
                        household=household or m.resident.household, household_batch=batch, team=team,
                        doctor=doctor, package=m.package, village=m.resident.village,
                        signed_on=signed_on, start=start, end=end, status=ContractStatus.ACTIVE,
                        resident_fee=m.package.resident_share, insurance_fee=m.package.insurance_share,
                        out_of_area_reason=reason if outside else "", consent_kind=consent.kind,
                        consent_file=consent.file, consent_signature=consent.signature, created_by=actor.user)
                    out.append(c)
                    audit.record(actor, "create", "fd_contract", c.pk, resident=m.resident.pk, team=team.pk,
                                 package=m.package.code, batch=batch, out_of_area=outside)
                if row is not None:
                    row.status, row.body = 201, json.dumps([c.pk for c in out]).encode()
                    row.content_type = "application/json"
                    row.save(update_fields=["status", "body", "content_type"])
                _schedule(out)
        except IntegrityError:  # the one-active-contract constraint (a concurrent signing won), or a number clash
            if tries < 2 and not Contract.objects.filter(resident_id__in=[m.resident.pk for m in members],
                                                         status=ContractStatus.ACTIVE).exists():
                return None
            raise Conflict("already_signed", _("该居民已有履约中的签约协议，请续约或先解约"),
                           field="resident") from None
        return out

    for tries in range(3):  # a contract number clash (8 random hex digits a day) is retried with new numbers
        got = attempt(tries)
        if got is not None:
            return got
    raise Conflict("already_signed", _("该居民已有履约中的签约协议，请续约或先解约"), field="resident")


# ---- renewing and ending -------------------------------------------------------------------------------

def _locked(contract: Contract | int) -> Contract:
    pk = contract.pk if isinstance(contract, Contract) else as_pk(contract)
    c = Contract.objects.select_for_update().filter(pk=pk).first()
    if c is None:
        raise NotFound(_("协议不存在"))
    return c


def may_renew_now(contract: Contract, today: dt.date | None = None) -> bool:
    today = today or timezone.localdate()
    if contract.status == ContractStatus.EXPIRED:
        return True
    return contract.status == ContractStatus.ACTIVE and (contract.end - today).days <= RENEW_WINDOW_DAYS


def renew(actor, contract: Contract, data: Mapping[str, Any]) -> Contract:
    """续约: a new contract year from the day after the old end (or from today when it lapsed), same team; ``data``:
    package (default the old one if still in use, else basic), doctor, consent_*. The old contract becomes 已续约."""
    actor = actor_of(actor)
    check(actor, "familydoctor.renew", contract)
    today = timezone.localdate()
    if not may_renew_now(contract, today):
        raise InvalidInput("not_renewable", _("只有到期前%(d)s天内或已到期的协议可以续约") % {"d": RENEW_WINDOW_DAYS},
                           field="contract")
    team = contract.team
    old_pkg = contract.package if contract.package.active else None
    pkg = _package(data.get("package") or (old_pkg.pk if old_pkg else ""), team)
    if not package_fits(pkg, resident_tags(contract.resident)):
        raise InvalidInput("invalid_package", _("居民不属于该服务包的适用人群"), field="package")
    consent = Consent.parse(data)
    keep = (not data.get("doctor") and contract.doctor_id is not None
            and team.members.filter(current_q(today), staff_id=contract.doctor_id).exists())
    doctor = contract.doctor if keep else _doctor(data.get("doctor") or "", team, actor.user, today)
    try:
        with transaction.atomic():
            old = _locked(contract)
            if not may_renew_now(old, today):
                raise Conflict("not_renewable", _("协议状态已变化，不能续约"), field="contract")
            start = max(old.end + dt.timedelta(days=1), today) if old.status == ContractStatus.EXPIRED \
                else old.end + dt.timedelta(days=1)
            _s, end = term(start)
            old.status = ContractStatus.RENEWED
            old.save(update_fields=["status"])
            new = Contract.objects.create(
                number=new_number(today), resident_id=old.resident_id, household_id=old.household_id,
                team=team, doctor=doctor, package=pkg, village_id=old.resident.village_id or old.village_id,
                signed_on=today, start=start, end=end, status=ContractStatus.ACTIVE, renewed_from=old,
                resident_fee=pkg.resident_share, insurance_fee=pkg.insurance_share,
                out_of_area_reason=old.out_of_area_reason, consent_kind=consent.kind, consent_file=consent.file,
                consent_signature=consent.signature, created_by=actor.user)
            audit.record(actor, "create", "fd_contract", new.pk, renewed_from=old.pk, package=pkg.code)
            _schedule([new])
    except IntegrityError:
        raise Conflict("already_renewed", _("该协议已续约"), field="contract") from None
    return new


def end_contract(actor, contract: Contract, data: Mapping[str, Any]) -> Contract:
    """解约: ``data``: reason (EndReason), note (required for 主动解约? optional), ended_on (default today; within the
    term, not in the future)."""
    actor = actor_of(actor)
    check(actor, "familydoctor.end_contract", contract)
    today = timezone.localdate()
    reason = str(data.get("reason") or "")
    errors: dict[str, list[str]] = {}
    if reason not in EndReason.values:
        errors["reason"] = [_("请选择解约原因")]
    ended_on = today
    try:
        ended_on = _date(data.get("ended_on"), "ended_on", today)
        if ended_on > today:
            errors["ended_on"] = [_("解约日期不能晚于今天")]
        elif ended_on < contract.signed_on:
            errors["ended_on"] = [_("解约日期不能早于签约日期")]
    except InvalidInput as e:
        errors["ended_on"] = [e.message]
    if errors:
        first = next(iter(errors))
        raise InvalidInput("invalid_end", errors[first][0], field=first, errors=errors)
    with transaction.atomic():
        c = _locked(contract)
        if c.status != ContractStatus.ACTIVE:
            raise Conflict("not_active", _("只有履约中的协议可以解约"), field="contract")
        c.status, c.ended_on, c.end_reason = ContractStatus.ENDED, ended_on, reason
        c.end_note = str(data.get("note") or "").strip()[:200]
        c.save(update_fields=["status", "ended_on", "end_reason", "end_note"])
        audit.record(actor, "update", "fd_contract", c.pk, change="end", reason=reason, on=str(ended_on))
        _after_commit_due([c.resident_id])
    return c


def _after_commit_due(resident_ids: list[int]) -> None:
    def run() -> None:
        try:
            from ..due import refresh_resident
        except ImportError:
            return
        for rid in resident_ids:
            try:
                refresh_resident(rid)
            except Exception:
                log.exception("due refresh failed for resident %s", rid)

    transaction.on_commit(run)


def expire_lapsed(today: dt.date | None = None) -> int:
    """Mark active contracts whose term ended before ``today`` as 已到期 (a nightly job may call it)."""
    today = today or timezone.localdate()
    return Contract.objects.filter(status=ContractStatus.ACTIVE, end__lt=today).update(status=ContractStatus.EXPIRED)
