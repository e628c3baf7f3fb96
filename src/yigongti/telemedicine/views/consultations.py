"""Pages of remote consultation: the request form (from the resident page), the lists (the center's queue, the
specialist's consultations, the facility's requests), the consultation page with its moves, and the scoped,
audited download of an attachment (of a consultation or of a pathology report). Thin adapters over
``consultations`` and ``queries.consultations``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, NotFound
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.orgs.permissions import can

from .. import attachments, consultations
from ..models import Attachment, CatalogItem, Urgency
from ..queries import consultations as queries

FIELDS = ("resident", "item", "urgency", "question", "summary", "encounter")


def _resident_for_form(actor: Actor, pk: str):
    if not pk.isdigit():
        return None
    try:
        return consultations.resident_in_scope(actor, int(pk))
    except NotFound:
        return None


@login_required
@domain_errors_as_pages
def consultation_new(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    source = request.POST if request.method == "POST" else request.GET
    values = {k: source.get(k, "") for k in FIELDS}
    errors: dict = {}
    if request.method == "POST":
        try:
            c = consultations.request_consultation(values, request.POST.get("idempotency_key", ""),
                                                   request.FILES.getlist("files"), actor=actor)
            messages.success(request, _("已提交远程会诊申请 %(no)s") % {"no": c.accession_no})
            return redirect("telemedicine:consultation", c.pk)
        except DomainError as e:
            if e.status in (403, 404):
                raise
            errors = e.errors or {"all": [e.message]}
    resident = _resident_for_form(actor, values["resident"])
    center = consultations.consultation_center(request.user)
    items = CatalogItem.objects.filter(center=center, active=True) if center else CatalogItem.objects.none()
    return render(request, "telemedicine/consultations/form.html", {
        "values": values, "errors": errors, "resident": resident, "items": items, "center": center,
        "urgencies": Urgency.choices, "may_request": can(request.user, "telemedicine.request_consultation"),
        "key": values.get("idempotency_key") or timezone.now().strftime("%Y%m%d%H%M%S%f")})


@login_required
@domain_errors_as_pages
def consultation_list(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    tab = request.GET.get("tab") or queries.default_tab(request.user)
    tab = tab if tab in queries.TABS else "mine"
    page = queries.list_consultations(actor, tab, paginate_params(request))
    return render(request, "telemedicine/consultations/list.html", {
        "page": page, "tab": tab, "is_member": bool(queries.center_ids_of(request.user)),
        "counts": queries.queue_counts(request.user)})


@login_required
@domain_errors_as_pages
def consultation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    c = queries.get_consultation_for(actor, pk)
    may = consultations.may(request.user, c)
    return render(request, "telemedicine/consultations/detail.html", {
        "c": c, "may": may, "shared": queries.shared_record(actor, c), "files": queries.attachments_of(c),
        "due": consultations.due_at(c.requested_at, c.center, c.urgency),
        "specialists": consultations.specialist_choices(c.center) if may["schedule"] else [],
        "grant_days": consultations.GRANT_DAYS_AFTER, "errors": {}})


@login_required
@require_POST
@domain_errors_as_pages
def consultation_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    actor = Actor.from_request(request)
    c = queries.get_consultation_for(actor, pk)
    post = request.POST
    try:
        if action == "schedule":
            consultations.schedule_consultation(c.pk, {k: post.get(k, "") for k in (
                "specialist", "scheduled_at", "video_url")}, actor=actor)
            messages.success(request, _("已安排会诊"))
        elif action == "answer":
            consultations.answer_consultation(c.pk, post.get("opinion", ""), actor=actor)
            messages.success(request, _("已出具会诊意见"))
        elif action == "decline":
            consultations.decline_consultation(c.pk, post.get("reason", ""), actor=actor)
            messages.success(request, _("已退回"))
        elif action == "cancel":
            consultations.cancel_consultation(c.pk, post.get("reason", ""), actor=actor)
            messages.success(request, _("已取消"))
        elif action == "attach":
            consultations.add_attachments(c.pk, request.FILES.getlist("files"), actor=actor)
            messages.success(request, _("已补充资料"))
        else:
            raise NotFound()
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect("telemedicine:consultation", c.pk)


@login_required
@domain_errors_as_pages
def attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A file of a consultation (for those who see the consultation) or of a pathology order (for those who see
    the order), audited."""
    actor = Actor.from_request(request)
    a = Attachment.objects.filter(pk=pk).first()
    if a is None:
        raise NotFound()
    if a.consultation_id:
        queries.get_consultation_for(actor, a.consultation_id)
    elif a.order_id:
        from ..queries.orders import get_order_for

        get_order_for(actor, a.order_id)
    else:
        raise NotFound()
    stored = attachments.path_of(a)
    if not stored.is_file():
        raise NotFound(_("附件文件已不存在"))
    audit.record(actor, "view", "attachment", a.pk, consultation=a.consultation_id, order=a.order_id)
    resp = FileResponse(stored.open("rb"), content_type=a.content_type)
    resp["Content-Disposition"] = f"inline; filename*=UTF-8''{_quoted(a.name)}"
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Cache-Control"] = "private, no-store"
    return resp


def _quoted(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


urlpatterns = [
    path("consultations/", consultation_list, name="consultations"),
    path("consultations/new/", consultation_new, name="consultation_new"),
    path("consultations/<int:pk>/", consultation_detail, name="consultation"),
    path("consultations/<int:pk>/<str:action>/", consultation_act, name="consultation_act"),
    path("attachments/<int:pk>/", attachment, name="attachment"),
]
