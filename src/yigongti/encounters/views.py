from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render

from yigongti.core import exports, uploads
from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.orgs.permissions import can

from . import importers, queries, services


@login_required
@domain_errors_as_pages
def resident_timeline(request, pk: int):
    """A resident's encounters across village, township and county, and settlements outside the county."""
    actor = Actor.from_request(request)
    resident, page, outside = queries.resident_timeline(actor, pk, paginate_params(request))
    from .timeline import sections_for  # the other apps' entries (reports …)

    return render(request, "encounters/timeline.html", {"r": resident, "page": page, "outside": outside,
                                                        "sections": sections_for(actor, resident)})


@login_required
@domain_errors_as_pages
def encounter_detail(request, pk: int):
    enc = queries.get_encounter_for(Actor.from_request(request), pk)
    user = request.user
    # 开处方 from this visit: a doctor who may prescribe at their own facility (as the resident page's panel decides)
    may_prescribe = bool(enc.resident_id and user.facility_id and can(user, "prescribing.prescribe", user.facility))
    return render(request, "encounters/encounter_detail.html",
                  {"e": enc, "diagnoses": enc.diagnoses.all(), "procedures": enc.procedures.all(),
                   "may_prescribe": may_prescribe})


IMPORT_KINDS = {"settlements": "医保结算", "population": "分年龄人口", "deaths": "死亡登记"}


def template_response(kind: str) -> HttpResponse:
    """The Excel template of an import kind (for the page and the API)."""
    if kind not in IMPORT_KINDS:
        raise Http404
    resp = HttpResponse(importers.template_xlsx(kind), content_type=exports.XLSX_TYPE)
    resp["Content-Disposition"] = exports.content_disposition(f"{IMPORT_KINDS[kind]}导入模板.xlsx")
    return resp


@login_required
def import_template(request, kind: str):
    return template_response(kind)


@login_required
def import_page(request):
    """导入医保结算、人口、死亡: upload a file, see the per-row report."""
    kinds = [(k, label) for k, label in IMPORT_KINDS.items() if can(request.user, f"encounters.import_{k}")]
    if not kinds:
        raise PermissionDenied
    kind = request.POST.get("kind") or request.GET.get("kind") or kinds[0][0]
    report, error = None, ""
    if request.method == "POST":
        try:
            uploads.check_request_size(request)  # before the body is read
            upload = uploads.required_upload(request, request.FILES.get("file"))
            with uploads.saved_upload(upload) as path:
                report = services.import_rows(kind, path, upload.name, actor=Actor.from_request(request)).as_dict()
        except DomainError as e:
            if e.status == 403:
                raise PermissionDenied from None
            error = e.message
    return render(request, "encounters/import.html",
                  {"kinds": kinds, "kind": kind, "report": report, "error": error,
                   "max_size": uploads.human_size(uploads.max_upload_bytes()), "max_rows": importers.MAX_ROWS})
