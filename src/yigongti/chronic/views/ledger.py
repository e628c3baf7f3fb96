"""The village ledger pages: the 两病患者管理台账 the village doctor works from (``chronic:ledger``) and its Excel
export (``chronic:ledger_export``). Reads go through ``queries.ledger`` (scoped, audited)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _

from yigongti.core import exports
from yigongti.core.actor import Actor
from yigongti.core.pages import domain_errors_as_pages, paginate_params
from yigongti.orgs.permissions import Category, check_read

from .. import ledger_export
from ..models import Condition
from ..queries import ledger as q


@login_required
@domain_errors_as_pages
def ledger(request):
    actor = Actor.from_request(request)
    check_read(actor, Category.PUBLIC_HEALTH)
    village = q.default_village(actor, request.GET.get("village", ""))
    context = {"villages": q.villages_for(request.user), "village": village, "conditions": Condition.choices,
               "statuses": q.STATUSES}
    if village is not None:
        lg = q.ledger_for(actor, village, q.LedgerFilter.from_query(request.GET), page=paginate_params(request),
                          size=q.PAGE_SIZE_PAGE)
        decorate(lg.page.items)
        context["ledger"] = lg
    return render(request, "chronic/ledger.html", context)


PLACEHOLDER = 987654321


def _pattern(name: str) -> str:
    try:
        return reverse(name, args=[PLACEHOLDER])
    except NoReverseMatch:  # that page is not there (yet)
        return ""


def decorate(rows: list[q.LedgerRow]) -> None:
    """Each row's links and texts, made once per page (a {% url %} and a {% blocktrans %} per row cost the
    page more than its query)."""
    patterns = {k: _pattern(n) for k, n in (("follow_up", "chronic:follow_up"), ("patient", "chronic:patient"),
                                            ("medicines", "chronic:medicines"))}
    late, never, soon = _("逾期 %(n)d 天"), _("尚未随访"), _("本周应随访")
    streak, visits = _("连续%(n)d次不满意"), _("本年 %(n)d 次")
    for r in rows:
        r.links = {k: p.replace(str(PLACEHOLDER), str(r.enrolment_id)) for k, p in patterns.items() if p}
        state = {"overdue": late % {"n": r.days or 0}, "due": soon, "never": never}.get(r.state, "")
        r.notes = {"state": state, "visits": visits % {"n": r.visits_this_year},
                   "streak": streak % {"n": r.uncontrolled_streak} if r.uncontrolled_streak >= 2 else ""}


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
