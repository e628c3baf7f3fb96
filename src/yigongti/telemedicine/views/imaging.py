"""Imaging pages: a study (its thumbnails and key images through the platform, the link to Orthanc's viewer),
an image, the imaging center's unmatched list with manual match, and the 同步 button. Thin adapters over
``queries.imaging`` and the services in ``imaging``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages

from .. import imaging, pacs
from ..queries import imaging as q


def _back(request: HttpRequest, default: str) -> str:
    nxt = request.POST.get("next", "")
    return nxt if nxt.startswith("/") and not nxt.startswith("//") else default


@login_required
@domain_errors_as_pages
def study(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    s = q.get_study_for(actor, pk)
    member = q.is_imaging_member(request.user)
    return render(request, "telemedicine/imaging/study.html", {
        "s": q.study_view(s, actor), "pacs_configured": pacs.configured(), "may_match": member,
        "may_mark_keys": member and s.order is not None})


def _jpeg(data: bytes) -> HttpResponse:
    # no browser cache (core.nostore: patients' images on a shared terminal); the platform's disk cache serves it
    return HttpResponse(data, content_type="image/jpeg")


def _unavailable(e: imaging.PacsUnavailable) -> HttpResponse:
    return HttpResponse(e.message, status=503, content_type="text/plain; charset=utf-8")


@login_required
@domain_errors_as_pages
def image(request: HttpRequest, pk: int, index: int, size: int) -> HttpResponse:
    try:
        return _jpeg(q.image_for(Actor.from_request(request), pk, index, size))
    except imaging.PacsUnavailable as e:
        return _unavailable(e)


@login_required
@domain_errors_as_pages
def sheet(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        return _jpeg(q.sheet_for(Actor.from_request(request), pk))
    except imaging.PacsUnavailable as e:
        return _unavailable(e)


@login_required
@domain_errors_as_pages
def unmatched(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    return render(request, "telemedicine/imaging/unmatched.html", {
        "studies": q.unmatched_studies(actor), "pacs_configured": pacs.configured(),
        "member": q.is_imaging_member(request.user)})


@require_POST
@login_required
@domain_errors_as_pages
def match(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        s = imaging.match_study(pk, request.POST.get("order", ""), actor=Actor.from_request(request),
                                note=request.POST.get("note", ""))
        messages.success(request, _("影像已匹配到申请单 %(no)s") % {"no": s.order.accession_no if s.order else ""})
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect(_back(request, "telemedicine:imaging_unmatched"))


@require_POST
@login_required
@domain_errors_as_pages
def ignore(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        imaging.ignore_study(pk, request.POST.get("reason", ""), actor=Actor.from_request(request))
        messages.success(request, _("已忽略该影像"))
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect(_back(request, "telemedicine:imaging_unmatched"))


@require_POST
@login_required
@domain_errors_as_pages
def key_images(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        imaging.set_key_images(pk, request.POST.getlist("instance"), actor=Actor.from_request(request))
        messages.success(request, _("关键图像已保存"))
    except DomainError as e:
        if e.status in (403, 404):
            raise
        messages.error(request, e.message)
    return redirect(_back(request, f"/centers/imaging/studies/{pk}/"))


@require_POST
@login_required
@domain_errors_as_pages
def sync(request: HttpRequest) -> HttpResponse:
    try:
        n = imaging.sync_now(actor=Actor.from_request(request))
        messages.success(request, _("已同步，新到影像 %(n)d 个检查") % {"n": n})
    except DomainError as e:
        messages.error(request, e.message)
    return redirect(_back(request, "telemedicine:imaging_unmatched"))


urlpatterns = [
    path("imaging/unmatched/", unmatched, name="imaging_unmatched"),
    path("imaging/sync/", sync, name="imaging_sync"),
    path("imaging/studies/<int:pk>/", study, name="imaging_study"),
    path("imaging/studies/<int:pk>/match/", match, name="imaging_match"),
    path("imaging/studies/<int:pk>/ignore/", ignore, name="imaging_ignore"),
    path("imaging/studies/<int:pk>/key-images/", key_images, name="imaging_key_images"),
    path("imaging/studies/<int:pk>/i/<int:index>/<int:size>.jpg", image, name="imaging_image"),
    path("imaging/studies/<int:pk>/thumbnails.jpg", sheet, name="imaging_sheet"),
]
