"""The register's writes, one function per business verb: register and edit an asset, record a month's units of
use, a maintenance or calibration, a transfer between member facilities, and a disposal requested by one person
and approved by another. Each checks its ``assets.*`` verb outside the transaction, locks the row, writes and
appends an audit event. Bad input raises ``InvalidInput`` with every bad field (a Chinese message each), which the
pages show beside the typed values and the API returns as problem+json."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit, inputs
from yigongti.core.actor import actor_of
from yigongti.core.errors import Conflict, InvalidInput, NotFound, collect
from yigongti.orgs.models import Department, Facility, Staff
from yigongti.orgs.permissions import check

from . import categories, depreciation
from .models import (
    Asset,
    AssetStatus,
    Disposal,
    DisposalStatus,
    Funding,
    Maintenance,
    MaintenanceKind,
    Method,
    Stocktake,
    StocktakeLine,
    StocktakeStatus,
    Transfer,
    Usage,
)

EDITABLE_STATUSES = (AssetStatus.IN_USE, AssetStatus.IDLE, AssetStatus.REPAIR)


# ---- parsing ------------------------------------------------------------------------------------------------











def _facility(data: Mapping[str, Any], key: str, errors: dict) -> Facility | None:
    f = Facility.objects.filter(pk=inputs.pk_of(data.get(key)), is_active=True).select_related("community").first()
    if f is None:
        errors[key] = [_("请选择机构")]
    elif f.community_id is None:
        errors[key] = [_("该机构不属于医共体")]
        return None
    return f


def _fields(data: Mapping[str, Any], facility: Facility, errors: dict, today: dt.date) -> dict[str, Any]:
    """The register's fields from a form or a payload (the facility is parsed, and checked, by the caller)."""
    out: dict[str, Any] = {"facility": facility}
    out["number"] = inputs.text(data, "number", 40)
    if not out["number"]:
        errors["number"] = [_("请填写资产编号")]
    out["category"] = inputs.text(data, "category", 8)
    if out["category"] not in categories.names():
        errors["category"] = [_("请选择设备分类")]
    out["name"] = inputs.text(data, "name", 100)
    if not out["name"]:
        errors["name"] = [_("请填写设备名称")]
    for key in ("model", "serial", "maker"):
        out[key] = inputs.text(data, key, 100)
    out["price"] = inputs.money(data, "price", errors, required=True)
    out["funding"] = inputs.text(data, "funding", 10) or Funding.FISCAL
    if out["funding"] not in Funding.values:
        errors["funding"] = [_("请选择资金来源")]
    out["purchased_on"] = inputs.day(data, "purchased_on", errors, required=True)
    out["accepted_on"] = inputs.day(data, "accepted_on", errors, required=True)
    for key in ("purchased_on", "accepted_on"):
        if out[key] is not None and out[key] > today:
            errors[key] = [_("日期不能晚于今天")]
    if out["purchased_on"] and out["accepted_on"] and out["accepted_on"] < out["purchased_on"]:
        errors["accepted_on"] = [_("验收日期不能早于购置日期")]
    dept = inputs.pk_of(data.get("department")) if data.get("department") not in (None, "") else None
    out["department"] = None
    if dept is not None:
        out["department"] = Department.objects.filter(pk=dept, facility=facility).first()
        if out["department"] is None:
            errors["department"] = [_("科室须属于使用机构")]
    custodian = inputs.pk_of(data.get("custodian")) if data.get("custodian") not in (None, "") else None
    out["custodian"] = None
    if custodian is not None:
        out["custodian"] = Staff.objects.filter(pk=custodian, is_active=True,
                                                work_facility__community_id=facility.community_id).first()
        if out["custodian"] is None:
            errors["custodian"] = [_("保管人须是本医共体的在岗人员")]
    status = inputs.text(data, "status", 10) or AssetStatus.IN_USE
    if status == AssetStatus.SCRAPPED:
        errors["status"] = [_("报废须提交报废申请，并经另一位有审批权限的人员批准")]
    elif status not in EDITABLE_STATUSES:
        errors["status"] = [_("请选择状态")]
    out["status"] = status
    out["method"] = inputs.text(data, "method", 16) or Method.STRAIGHT_LINE
    out["useful_life_years"] = inputs.integer(data, "useful_life_years", errors, minimum=1)
    out["planned_units"] = inputs.integer(data, "planned_units", errors, minimum=1)
    out["unit_name"] = inputs.text(data, "unit_name", 10)
    if not any(k in errors for k in ("price", "useful_life_years", "planned_units", "accepted_on")):
        try:
            depreciation.validate_basis(depreciation.Basis(
                out["price"], out["accepted_on"] or today, out["method"], out["useful_life_years"],
                out["planned_units"]))
        except depreciation.DepreciationError as e:
            field = {"invalid_price": "price", "no_useful_life": "useful_life_years",
                     "no_planned_units": "planned_units"}.get(e.code, "method")
            errors[field] = [e.message]
    return out


def _duplicate(community_id: int, number: str, exclude: int | None = None) -> str:
    qs = Asset.objects.filter(community_id=community_id, number=number)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    other = qs.select_related("facility").first()
    if other is None:
        return ""
    return _("资产编号 %(n)s 已被使用（%(f)s：%(name)s）") % {
        "n": number, "f": other.facility.short_name or other.facility.name, "name": other.name}


# ---- the register -------------------------------------------------------------------------------------------

def register_asset(actor, data: Mapping[str, Any]) -> Asset:
    """Register an asset at a member facility. ``data``: facility, number (unique in the community), category
    (医疗器械分类目录 2017), name, model, serial, maker, price, funding, purchased_on, accepted_on, department,
    custodian (staff), status, method (straight_line / units), useful_life_years, planned_units, unit_name."""
    actor = actor_of(actor)
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    facility = _facility(data, "facility", errors)
    if facility is not None:
        check(actor, "assets.register", facility)
    fields = _fields(data, facility, errors, today) if facility is not None else {}
    if facility is not None and facility.community_id and fields.get("number") and "number" not in errors:
        dup = _duplicate(facility.community_id, fields["number"])
        if dup:
            errors["number"] = [dup]
    collect(errors, "invalid_asset")
    assert facility is not None and facility.community_id is not None
    community_id: int = facility.community_id
    try:
        with transaction.atomic():
            a = Asset.objects.create(community_id=community_id, **fields)
            audit.record(actor, "create", "asset", a.pk, number=a.number, facility=facility.pk, price=str(a.price))
    except IntegrityError:  # the same number registered at the same moment
        raise Conflict("duplicate_number", _duplicate(community_id, fields["number"])
                       or _("资产编号已被使用"), field="number") from None
    return a


def update_asset(actor, asset: Asset, data: Mapping[str, Any]) -> Asset:
    """Edit the register's fields (not the facility: that is a transfer; not 报废: that is a disposal)."""
    actor = actor_of(actor)
    check(actor, "assets.register", asset)
    today = timezone.localdate()
    if asset.status == AssetStatus.SCRAPPED:
        raise Conflict("scrapped", _("已报废的设备不能修改"))
    errors: dict[str, list[str]] = {}
    fields = _fields(data, asset.facility, errors, today)
    if fields.get("number") and "number" not in errors:
        dup = _duplicate(asset.community_id, fields["number"], exclude=asset.pk)
        if dup:
            errors["number"] = [dup]
    if fields.get("method") == Method.UNITS and fields.get("planned_units") and "planned_units" not in errors:
        used = asset.usages.aggregate(n=Sum("units"))["n"] or 0
        try:
            depreciation.check_units(fields["planned_units"], used, 0)
        except depreciation.DepreciationError as e:
            errors["planned_units"] = [e.message]
    collect(errors, "invalid_asset")
    fields.pop("facility")
    try:
        with transaction.atomic():
            a = Asset.objects.select_for_update().get(pk=asset.pk)
            if a.status == AssetStatus.SCRAPPED:
                raise Conflict("scrapped", _("已报废的设备不能修改"))
            changed = {k: str(v) for k, v in fields.items() if getattr(a, k) != v}
            for k, v in fields.items():
                setattr(a, k, v)
            a.save()
            audit.record(actor, "update", "asset", a.pk, changed=sorted(changed))
    except IntegrityError:
        raise Conflict("duplicate_number", _("资产编号已被使用"), field="number") from None
    return a


def record_usage(actor, asset: Asset, data: Mapping[str, Any]) -> Usage:
    """A month's units of use (工作量法): ``month`` (YYYY-MM or a date), ``units``. Replaces that month's figure;
    a total beyond the planned units is refused (the depreciation would pass the price)."""
    actor = actor_of(actor)
    check(actor, "assets.register", asset)
    errors: dict[str, list[str]] = {}
    raw = str(data.get("month") or "").strip()
    month = None
    try:
        month = dt.date.fromisoformat(raw + "-01" if len(raw) == 7 else raw).replace(day=1)
    except ValueError:
        errors["month"] = [_("请填写月份（如 2026-05）")]
    units = inputs.integer(data, "units", errors)
    if units is None and "units" not in errors:
        errors["units"] = [_("请填写工作量")]
    if asset.method != Method.UNITS:
        errors["units"] = [_("该设备按年限平均法折旧，无需登记工作量")]
    if month is not None and (month < asset.accepted_on.replace(day=1) or month > timezone.localdate()):
        errors["month"] = [_("月份须在验收之后、不晚于本月")]
    collect(errors, "invalid_usage")
    assert month is not None and units is not None
    with transaction.atomic():
        a = Asset.objects.select_for_update().get(pk=asset.pk)
        if a.status == AssetStatus.SCRAPPED:
            raise Conflict("scrapped", _("已报废的设备不能登记工作量"))
        others = a.usages.exclude(month=month).aggregate(n=Sum("units"))["n"] or 0
        try:
            depreciation.check_units(a.planned_units or 0, others, units)
        except depreciation.DepreciationError as e:
            raise InvalidInput(e.code, e.message, field="units") from None
        u, _created = Usage.objects.update_or_create(asset=a, month=month, defaults={"units": units})
        audit.record(actor, "update", "asset_usage", u.pk, asset=a.pk, month=str(month), units=units)
    return u


# ---- maintenance, transfer, disposal ------------------------------------------------------------------------

def record_maintenance(actor, asset: Asset, data: Mapping[str, Any]) -> Maintenance:
    """A maintenance, repair or calibration done (``kind``, ``done_on``, ``by``, ``result``, ``cost``) and when
    the next one is due (``next_due``), which becomes the asset's due date of that kind (calibration or
    maintenance). ``status`` optionally sets the asset back in use (or to 维修) at the same time."""
    actor = actor_of(actor)
    check(actor, "assets.maintain", asset)
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    kind = inputs.text(data, "kind", 12)
    if kind not in MaintenanceKind.values:
        errors["kind"] = [_("请选择类别")]
    done_on = inputs.day(data, "done_on", errors, required=True)
    if done_on is not None and done_on > today:
        errors["done_on"] = [_("日期不能晚于今天")]
    if done_on is not None and done_on < asset.purchased_on:
        errors["done_on"] = [_("日期不能早于购置日期")]
    next_due = inputs.day(data, "next_due", errors)
    if next_due is not None and done_on is not None and next_due <= done_on:
        errors["next_due"] = [_("下次到期日须晚于本次日期")]
    cost = inputs.money(data, "cost", errors)
    status = inputs.text(data, "status", 10)
    if status and status not in EDITABLE_STATUSES:
        errors["status"] = [_("请选择状态")]
    collect(errors, "invalid_maintenance")
    assert done_on is not None
    with transaction.atomic():
        a = Asset.objects.select_for_update().get(pk=asset.pk)
        if a.status == AssetStatus.SCRAPPED:
            raise Conflict("scrapped", _("已报废的设备不能登记维护记录"))
        m = Maintenance.objects.create(asset=a, kind=kind, done_on=done_on, by=inputs.text(data, "by", 100),
                                       result=inputs.text(data, "result", 200), cost=cost, next_due=next_due,
                                       recorded_by=actor.user)
        due_field = "calibration_due" if kind == MaintenanceKind.CALIBRATION else "maintenance_due"
        if next_due is not None:
            setattr(a, due_field, next_due)
        if status:
            a.status = status
        a.save(update_fields=[due_field, "status", "updated_at"])
        audit.record(actor, "create", "asset_maintenance", m.pk, asset=a.pk, kind=kind,
                     next_due=str(next_due or ""))
    return m


def transfer_asset(actor, asset: Asset, data: Mapping[str, Any]) -> Transfer:
    """Move an asset to another member facility of the same community on ``moved_on`` (``to_facility``,
    ``to_department``, ``custodian``, ``note``); the transfer is kept as history."""
    actor = actor_of(actor)
    check(actor, "assets.transfer", asset)
    today = timezone.localdate()
    errors: dict[str, list[str]] = {}
    to = _facility(data, "to_facility", errors)
    if to is not None and to.community_id != asset.community_id:
        errors["to_facility"] = [_("只能调拨到本医共体的成员机构")]
    elif to is not None and to.pk == asset.facility_id:
        errors["to_facility"] = [_("调入机构与当前使用机构相同")]
    moved_on = inputs.day(data, "moved_on", errors, default=today)
    if moved_on is not None and (moved_on > today or moved_on < asset.accepted_on):
        errors["moved_on"] = [_("调拨日期须在验收之后、不晚于今天")]
    dept = None
    if data.get("to_department") not in (None, "") and to is not None:
        dept = Department.objects.filter(pk=inputs.pk_of(data.get("to_department")), facility=to).first()
        if dept is None:
            errors["to_department"] = [_("科室须属于调入机构")]
    custodian = None
    if data.get("custodian") not in (None, "") and to is not None:
        custodian = Staff.objects.filter(pk=inputs.pk_of(data.get("custodian")), is_active=True,
                                         work_facility__community_id=to.community_id).first()
        if custodian is None:
            errors["custodian"] = [_("保管人须是本医共体的在岗人员")]
    collect(errors, "invalid_transfer")
    assert to is not None and moved_on is not None
    with transaction.atomic():
        a = Asset.objects.select_for_update().get(pk=asset.pk)
        if a.status == AssetStatus.SCRAPPED:
            raise Conflict("scrapped", _("已报废的设备不能调拨"))
        last = a.transfers.order_by("-moved_on").first()
        if last is not None and moved_on < last.moved_on:
            raise InvalidInput("invalid_moved_on", _("调拨日期不能早于上一次调拨（%(d)s）") % {"d": last.moved_on},
                               field="moved_on")
        t = Transfer.objects.create(asset=a, moved_on=moved_on, from_facility_id=a.facility_id, to_facility=to,
                                    from_department_id=a.department_id, to_department=dept,
                                    note=inputs.text(data, "note", 200), by=actor.user)
        a.facility, a.department, a.custodian = to, dept, custodian
        a.save(update_fields=["facility", "department", "custodian", "updated_at"])
        audit.record(actor, "create", "asset_transfer", t.pk, asset=a.pk, from_facility=t.from_facility_id,
                     to_facility=to.pk, moved_on=str(moved_on))
    return t


def request_disposal(actor, asset: Asset, data: Mapping[str, Any]) -> Disposal:
    """Ask for the asset to be scrapped (``reason``); it stays on the register, unchanged, until another person
    with the right approves (``decide_disposal``)."""
    actor = actor_of(actor)
    check(actor, "assets.request_disposal", asset)
    reason = inputs.text(data, "reason", 300)
    if not reason:
        raise InvalidInput("invalid_disposal", _("请填写报废原因"), field="reason")
    with transaction.atomic():
        a = Asset.objects.select_for_update().get(pk=asset.pk)
        if a.status == AssetStatus.SCRAPPED:
            raise Conflict("scrapped", _("该设备已报废"))
        if a.disposals.filter(status=DisposalStatus.REQUESTED).exists():
            raise Conflict("disposal_pending", _("该设备已有待审批的报废申请"))
        d = Disposal.objects.create(asset=a, reason=reason, requested_on=timezone.localdate(),
                                    requested_by=actor.user)
        audit.record(actor, "create", "asset_disposal", d.pk, asset=a.pk)
    return d


def decide_disposal(actor, disposal: Disposal, approve: bool, data: Mapping[str, Any] | None = None) -> Disposal:
    """Approve (the asset becomes 报废 on that day, and is no longer depreciated) or reject a pending request.
    Only a community manager, and never the person who asked (``assets.approve_disposal``)."""
    actor = actor_of(actor)
    check(actor, "assets.approve_disposal", disposal)
    note = inputs.text(data or {}, "note", 300)
    if not approve and not note:
        raise InvalidInput("invalid_decision", _("驳回时请填写审批意见"), field="note")
    with transaction.atomic():
        d = Disposal.objects.select_for_update().filter(pk=disposal.pk).first()
        if d is None:
            raise NotFound()
        target = DisposalStatus.APPROVED if approve else DisposalStatus.REJECTED
        if not d.may_move_to(target):
            raise Conflict("already_decided", _("该报废申请已审批（%(s)s）") % {"s": d.get_status_display()})
        if actor.user is not None and d.requested_by_id == actor.user_id:
            raise Conflict("own_request", _("不能审批自己提出的报废申请"))
        a = Asset.objects.select_for_update().get(pk=d.asset_id)
        d.status, d.decided_by, d.decided_on, d.decision_note = target, actor.user, timezone.localdate(), note
        d.save(update_fields=["status", "decided_by", "decided_on", "decision_note"])
        if approve:
            a.status = AssetStatus.SCRAPPED
            a.save(update_fields=["status", "updated_at"])
        audit.record(actor, "update", "asset_disposal", d.pk, asset=a.pk, status=target)
    return d


# ---- stocktake (盘点) ------------------------------------------------------------------------------------------

LABEL_PREFIX = "YGT-ASSET:"  # what an asset's QR label encodes: the prefix, the asset's id and its number


def label_text(asset: Asset) -> str:
    return f"{LABEL_PREFIX}{asset.pk}:{asset.number}"


def start_stocktake(actor, facility: Facility) -> Stocktake:
    """Open a stocktake of one facility (one open at a time per facility)."""
    actor = actor_of(actor)
    check(actor, "assets.stocktake", facility)
    with transaction.atomic():
        Facility.objects.select_for_update().filter(pk=facility.pk).first()
        if Stocktake.objects.filter(facility=facility, status=StocktakeStatus.OPEN).exists():
            raise Conflict("stocktake_open", _("该机构已有进行中的盘点"))
        st = Stocktake.objects.create(facility=facility, started_on=timezone.localdate(), started_by=actor.user)
        audit.record(actor, "create", "asset_stocktake", st.pk, facility=facility.pk)
    return st


def _asset_by_code(community_id: int, code: str) -> Asset | None:
    code = code.strip()
    if code.startswith(LABEL_PREFIX):
        pk, _sep, number = code[len(LABEL_PREFIX):].partition(":")
        return Asset.objects.filter(pk=inputs.pk_of(pk), number=number, community_id=community_id).first()
    return Asset.objects.filter(community_id=community_id, number=code).first()


def scan(actor, stocktake: Stocktake, code: str) -> StocktakeLine:
    """Record an asset found: ``code`` is its label's text or its number. Found twice is found once; an asset
    registered at another facility is recorded and flagged (账实不符), not refused; a scrapped one is refused."""
    actor = actor_of(actor)
    check(actor, "assets.stocktake", stocktake.facility)
    if not str(code or "").strip():
        raise InvalidInput("invalid_code", _("请扫描设备标签或输入资产编号"), field="code")
    a = _asset_by_code(stocktake.facility.community_id or 0, str(code)[:120])
    if a is None:
        raise InvalidInput("unknown_asset", _("未找到该设备：%(c)s") % {"c": str(code)[:60]}, field="code")
    if a.status == AssetStatus.SCRAPPED:
        raise InvalidInput("scrapped", _("%(n)s 已报废，不应在用") % {"n": a.number}, field="code")
    with transaction.atomic():
        st = Stocktake.objects.select_for_update().get(pk=stocktake.pk)
        if st.status != StocktakeStatus.OPEN:
            raise Conflict("stocktake_closed", _("该盘点已结束"))
        line, created = StocktakeLine.objects.get_or_create(
            stocktake=st, asset=a, defaults={"found_at": timezone.now(), "by": actor.user,
                                             "elsewhere": a.facility_id != st.facility_id})
        if created:
            audit.record(actor, "create", "asset_stocktake_line", line.pk, stocktake=st.pk, asset=a.pk)
    return line


def close_stocktake(actor, stocktake: Stocktake) -> Stocktake:
    """End the stocktake: the facility's assets in service that were not found are kept as its result."""
    actor = actor_of(actor)
    check(actor, "assets.stocktake", stocktake.facility)
    with transaction.atomic():
        st = Stocktake.objects.select_for_update().get(pk=stocktake.pk)
        if st.status != StocktakeStatus.OPEN:
            raise Conflict("stocktake_closed", _("该盘点已结束"))
        expected = Asset.objects.filter(facility_id=st.facility_id).exclude(status=AssetStatus.SCRAPPED)
        found = set(st.lines.values_list("asset_id", flat=True))
        ids = list(expected.values_list("pk", flat=True))
        st.expected, st.missing = len(ids), [pk for pk in ids if pk not in found]
        st.status, st.closed_on = StocktakeStatus.CLOSED, timezone.localdate()
        st.save(update_fields=["expected", "missing", "status", "closed_on"])
        audit.record(actor, "update", "asset_stocktake", st.pk, expected=st.expected, missing=len(st.missing))
    return st
