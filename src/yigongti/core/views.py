from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import audit
from .audit_queries import AuditFilter, export_events, object_types, run_verification, search_events
from .exports import xlsx_response
from .models import AuditAction
from .pages import hx_or_full, paginate_params
from .paging import slice_page


def _auditor(request) -> None:
    """Auditors (and superusers) only; a refusal is itself an audit event."""
    if not (request.user.role == "auditor" or request.user.is_superuser):
        audit.record(request, "denied", "audit_event", "", attempted="read:audit_log")
        raise PermissionDenied


def _audit_filter(request) -> AuditFilter:
    g = request.GET
    return AuditFilter(
        actor=g.get("actor", "").strip(), action=g.get("action", ""), object_type=g.get("object_type", "").strip(),
        object_id=g.get("object_id", "").strip(), date_from=_date(g.get("date_from")), date_to=_date(g.get("date_to")),
    )


@login_required
def audit_log(request):
    _auditor(request)
    f = _audit_filter(request)
    page = search_events(request, f, paginate_params(request))
    ctx = {"page": page, "f": f, "actions": AuditAction.choices, "object_types": object_types(),
           "query": request.GET.urlencode()}
    return hx_or_full(request, "core/audit_log.html", "core/_audit_rows.html", ctx)


@login_required
def audit_export(request):
    """The filtered log as Excel (audited; formula-safe cells)."""
    _auditor(request)
    wb, _rows, _truncated = export_events(request, _audit_filter(request))
    return xlsx_response(f"审计日志-{timezone.localdate():%Y%m%d}.xlsx", wb)


@login_required
@require_POST
def audit_verify(request):
    """Run the chain verification for an auditor and show what it found (the run is audited)."""
    _auditor(request)
    result = run_verification(request)
    ctx = {"result": result, "labels": audit.KINDS}
    if request.htmx:
        return render(request, "core/_audit_verify.html", ctx)
    f = _audit_filter(request)
    page = search_events(request, f, 1)
    return render(request, "core/audit_log.html", {**ctx, "page": page, "f": f, "actions": AuditAction.choices,
                                                   "object_types": object_types(), "query": ""})


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def permission_denied(request, exception=None):
    return render(request, "error.html", {"status": 403, "message": "没有权限访问此页面"}, status=403)


def page_not_found(request, exception=None):
    return render(request, "error.html", {"status": 404, "message": "页面不存在"}, status=404)


def server_error(request):
    return render(request, "error.html", {"status": 500, "message": "服务器内部错误，请稍后重试"}, status=500)


@login_required
def inbox(request):
    """站内消息: newest first; opening the page does not mark them read, the button does."""
    from django.shortcuts import redirect

    from . import notify

    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()] or None
        notify.mark_read(request.user, ids)
        return redirect("inbox")
    only_unread = request.GET.get("unread") == "1"
    qs = notify.inbox(request.user)
    if only_unread:
        qs = qs.filter(read_at__isnull=True)
    page = slice_page(qs, paginate_params(request), 30, count=qs.count())  # one account's messages: cheap
    # Messages name patients and diagnoses (critical values, referrals): reading them is a read of
    # person-level data like any other.
    audit.record(request, "list", "notification", "", page=page.number, unread_only=only_unread,
                 shown=[n.pk for n in page.items])
    return render(request, "core/inbox.html", {"page": page, "only_unread": only_unread})
