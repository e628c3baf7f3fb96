"""The registry export page: choose a chest-pain or stroke center and the months, download Excel or CSV; the
field mapping (and the fields we do not capture) below the form."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import Forbidden, InvalidInput
from yigongti.core.pages import domain_errors_as_pages

from .. import export as ex
from ..queries_dashboards import center_for, current_month

TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv; charset=utf-8"}


@login_required
@domain_errors_as_pages
def export_page(request):
    centers = ex.exportable_centers(request.user)
    if not centers:
        raise Forbidden(_("只有救治中心的医生或医共体管理人员可以导出上报数据"))
    g = request.GET
    center = _chosen(request.user, centers, g.get("center", ""))
    first, last, fmt = g.get("first") or current_month(), g.get("last", ""), g.get("format", "")
    error = ""
    if fmt in TYPES:
        try:
            t = ex.export(Actor.from_request(request), center, first, last)
        except InvalidInput as e:
            error = e.message
        else:
            body = ex.to_xlsx(t) if fmt == "xlsx" else ex.to_csv(t)
            resp = HttpResponse(body, content_type=TYPES[fmt])
            resp["Content-Disposition"] = f'attachment; filename="{ex.filename(center, first, last, fmt)}"'
            return resp
    kind = center.kind
    return render(request, "pathways/export.html", {
        "centers": centers, "center": center, "first": first, "last": last, "error": error,
        "registry": ex.REGISTRIES.get(kind, ""), "mapping": ex.mapping_rows(kind), "gaps": len(ex.gaps(kind))},
        status=400 if error else 200)


def _chosen(user, centers, value: str):
    if not value:
        return centers[0]
    if not value.isdigit():
        raise InvalidInput("invalid_center", _("救治中心参数无效"), field="center")
    for c in centers:
        if c.pk == int(value):
            return c
    center_for(user, int(value))  # 404 / 403 for a center the user cannot see
    raise Forbidden(_("只有胸痛中心和卒中中心的病例可导出，且须有导出权限"))


urlpatterns = [path("export/", export_page, name="export")]
