from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .audit_queries import AuditFilter, search_events
from .models import AuditAction
from .pages import hx_or_full, paginate_params
from .paging import slice_page


@login_required
def audit_log(request):
    if not (request.user.role == "auditor" or request.user.is_superuser):
        raise PermissionDenied
    g = request.GET
    f = AuditFilter(
        actor=g.get("actor", "").strip(), action=g.get("action", ""), object_type=g.get("object_type", "").strip(),
        object_id=g.get("object_id", "").strip(), date_from=_date(g.get("date_from")), date_to=_date(g.get("date_to")),
    )
    page = search_events(request, f, paginate_params(request))
    ctx = {"page": page, "f": f, "actions": AuditAction.choices}
    return hx_or_full(request, "core/audit_log.html", "core/_audit_rows.html", ctx)


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
    return render(request, "core/inbox.html", {"page": slice_page(qs, paginate_params(request), 30),
                                               "only_unread": only_unread})
