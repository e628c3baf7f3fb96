"""Reading the audit log (auditors only; enforced by the callers' permission check).

Rows are shown with names, not codes: the role's label, the facility's name and the object's name — a
resident, a patient of a referral or an encounter only ever by the masked name (张*明), since an auditor
has no care relationship. Apps below core are looked up through the app registry, never imported (core is
the bottom of the dependency order); an app may add its own object types with ``register_object``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import audit
from .exports import append_row, new_workbook
from .models import AuditEvent
from .paging import Page, slice_page
from .personal import mask_name

SHANGHAI = ZoneInfo("Asia/Shanghai")
EXPORT_LIMIT = 100_000  # rows in one Excel export; narrow the filter for more


@dataclass
class AuditFilter:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def query(self) -> dict:
        return {k: str(v) for k, v in self.__dict__.items() if v}


def filtered(f: AuditFilter):
    qs = AuditEvent.objects.order_by("-seq")
    if f.actor:
        qs = qs.filter(actor=f.actor)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    if f.object_id:
        qs = qs.filter(object_id=f.object_id)
    if f.date_from:
        qs = qs.filter(at__gte=dt.datetime.combine(f.date_from, dt.time.min, SHANGHAI))
    if f.date_to:
        qs = qs.filter(at__lt=dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min, SHANGHAI))
    return qs


def search_events(who, f: AuditFilter, page: int = 1, size: int = 50) -> Page:
    """A page of the log as ``EventRow``s (each event with its role, facility and object named); reading the
    log is itself recorded (it says who saw whom)."""
    result = slice_page(filtered(f), page, size)
    result.items = describe(result.items)
    audit.record(who, "list", "audit_event", "", query=f.query(), page=result.number)
    return result


# ------------------------------------------------------------------------------------------- names

Namer = Callable[[list[str]], dict[str, str]]
OBJECT_LABELS: dict[str, object] = {
    "resident": _("居民"),
    "account": _("账号"),
    "staff": _("人员"),
    "facility": _("机构"),
    "referral": _("转诊"),
    "referral_center": _("转诊中心"),
    "encounter": _("就诊记录"),
    "settlement": _("医保结算"),
    "import_batch": _("导入批次"),
    "match_review": _("疑似重复审核"),
    "api_token": _("访问令牌"),
    "guideline_rule": _("转诊指南规则"),
    "group": _("权限组"),
    "audit_event": _("审计日志"),
    "audit_chain": _("审计链"),
    "indicator_report": _("指标报告"),
    "notification": _("站内消息"),
    "evidence": _("指标佐证"),
    "ratelimit": _("频率限制"),
}
_NAMERS: dict[str, Namer] = {}


def register_object(object_type: str, label, namer: Namer | None = None) -> None:
    """Let an app name its own audited objects on the log page (``namer`` maps ids to display names)."""
    OBJECT_LABELS[object_type] = label
    if namer is not None:
        _NAMERS[object_type] = namer


def _model(label: str):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _int_ids(ids: Iterable[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit()]


def _by_field(label: str, attr: str, mask: bool = False) -> Namer:
    def namer(ids: list[str]) -> dict[str, str]:
        model = _model(label)
        if model is None:
            return {}
        rows = model._default_manager.filter(pk__in=_int_ids(ids)).values_list("pk", attr)
        return {str(pk): (mask_name(value or "") if mask else str(value or "")) for pk, value in rows}

    return namer


def _accounts(ids: list[str]) -> dict[str, str]:
    rows = get_user_model()._default_manager.filter(pk__in=_int_ids(ids)).values_list("pk", "username",
                                                                                     "display_name")
    return {str(pk): f"{display} ({username})" if display else username for pk, username, display in rows}


def _match_reviews(ids: list[str]) -> dict[str, str]:
    model = _model("residents.MatchReview")
    if model is None:
        return {}
    rows = model._default_manager.filter(pk__in=_int_ids(ids)).values_list("pk", "person__name", "candidate__name")
    return {str(pk): f"{mask_name(a or '')} / {mask_name(b or '')}" for pk, a, b in rows}


_NAMERS.update({
    "resident": _by_field("residents.Resident", "name", mask=True),
    "referral": _by_field("referrals.Referral", "resident__name", mask=True),
    "encounter": _by_field("encounters.Encounter", "resident__name", mask=True),
    "account": _accounts,
    "staff": _by_field("orgs.Staff", "name"),
    "facility": _by_field("orgs.Facility", "name"),
    "import_batch": _by_field("residents.ImportBatch", "filename"),
    "match_review": _match_reviews,
    "api_token": _by_field("orgs.ApiToken", "name"),
    "guideline_rule": _by_field("referrals.GuidelineRule", "name"),
    "group": _by_field("auth.Group", "name"),
})


def object_types() -> list[tuple[str, str]]:
    """The object types an auditor can filter by, with their labels (in the page's language)."""
    return sorted(((code, str(label)) for code, label in OBJECT_LABELS.items()), key=lambda item: item[1])


def role_labels() -> dict[str, str]:
    try:
        return {str(k): str(v) for k, v in get_user_model()._meta.get_field("role").flatchoices}
    except Exception:  # a user model without roles
        return {}


@dataclass(frozen=True)
class EventRow:
    """An audit event with the names a reader needs beside its codes (the log page, its export, the home panel)."""

    event: AuditEvent
    role_label: str
    facility_name: str
    object_label: str
    object_name: str


def describe(events: list[AuditEvent]) -> list[EventRow]:
    """Name a page of events: one query per object type and one for facilities."""
    roles = role_labels()
    wanted: dict[str, set[str]] = defaultdict(set)
    for e in events:
        if e.object_id and e.object_type in _NAMERS:
            wanted[e.object_type].add(e.object_id)
    names: dict[tuple[str, str], str] = {}
    for object_type, ids in wanted.items():
        try:
            found = _NAMERS[object_type](sorted(ids))
        except Exception:  # a renamed field must not take the auditors' page down
            found = {}
        names.update({(object_type, i): n for i, n in found.items()})
    facility_names = _by_field("orgs.Facility", "name")(
        [str(e.facility_id) for e in events if e.facility_id is not None])
    return [EventRow(e, role_label=roles.get(e.role, e.role),
                     facility_name=facility_names.get(str(e.facility_id), "") if e.facility_id is not None else "",
                     object_label=str(OBJECT_LABELS.get(e.object_type, e.object_type)),
                     object_name=names.get((e.object_type, e.object_id), ""))
            for e in events]


# ------------------------------------------------------------------------------------ export, verify

EXPORT_HEADER = ["序号", "时间", "账号", "角色", "机构", "操作", "对象类型", "对象ID", "对象", "IP地址", "详情", "哈希"]


def export_events(who, f: AuditFilter):
    """The filtered log as an Excel workbook (newest first, at most EXPORT_LIMIT rows), every cell
    formula-safe; the export is itself an audit event. Returns (workbook, rows written, truncated)."""
    import json

    wb = new_workbook("审计日志")
    ws = wb.active
    append_row(ws, EXPORT_HEADER)
    n, truncated = 0, False
    qs = filtered(f)
    last_seq = None
    while True:
        chunk = list((qs.filter(seq__lt=last_seq) if last_seq else qs)[:2000])
        if not chunk:
            break
        for row in describe(chunk):
            if n >= EXPORT_LIMIT:
                truncated = True
                break
            e = row.event
            append_row(ws, [e.seq, timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"), e.actor,
                            row.role_label, row.facility_name, e.get_action_display(), row.object_label,
                            e.object_id, row.object_name, e.ip, json.dumps(e.detail, ensure_ascii=False), e.hash])
            n += 1
        if truncated:
            break
        last_seq = chunk[-1].seq
    audit.record(who, "export", "audit_event", "", query=f.query(), rows=n, format="xlsx", truncated=truncated)
    return wb, n, truncated


def run_verification(who) -> audit.VerifyResult:
    """Verify the whole chain against the witness; the check and its outcome are an event too."""
    result = audit.verify_chain()
    audit.record(who, "verify", "audit_chain", "", ok=result.ok, checked=result.checked,
                 anchors=result.anchors_checked, findings=sorted(result.kinds))
    return result
