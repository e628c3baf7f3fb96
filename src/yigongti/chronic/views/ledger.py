"""The village ledger pages: the 两病患者管理台账 the village doctor works from (``chronic:ledger``) and its Excel
export (``chronic:ledger_export``). Reads go through ``queries.ledger`` (scoped, audited)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from yigongti.core import exports
from yigongti.core.actor import Actor
from yigongti.core.pages import domain_errors_as_pages, paginate_params

from .. import ledger_export
from ..models import Condition
from ..queries import ledger as q


@login_required
@domain_errors_as_pages
def ledger(request):
    actor = Actor.from_request(request)
    village = q.default_village(actor, request.GET.get("village", ""))
    context = {"villages": q.villages_for(request.user), "village": village, "conditions": Condition.choices,
               "statuses": q.STATUSES}
    if village is not None:
        context["ledger"] = q.ledger_for(actor, village, q.LedgerFilter.from_query(request.GET),
                                         page=paginate_params(request))
    return render(request, "chronic/ledger.html", context)


@login_required
@domain_errors_as_pages
def ledger_export_view(request):
    actor = Actor.from_request(request)
    village = q.village_for(actor, request.GET.get("village", ""))
    year = ledger_export.parse_year(request.GET.get("year", ""))
    body = ledger_export.export_xlsx(actor, village, year=year)
    resp = HttpResponse(body, content_type=exports.XLSX_TYPE)
    resp["Content-Disposition"] = exports.content_disposition(ledger_export.filename(village, year))
    return resp


urlpatterns = [
    path("ledger/", ledger, name="ledger"),
    path("ledger/export.xlsx", ledger_export_view, name="ledger_export"),
]
