"""The regular medicines of one managed patient (``chronic:medicines``: add, stop) and the village's monthly
delivery list (``chronic:delivery``, Excel with ``?format=xlsx``). Writes go through ``services.medicines``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from yigongti.core import exports
from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.permissions import Category, can, check_read

from ..queries import ledger as lq
from ..queries import medicines as q
from ..services import medicines as services


@login_required
@domain_errors_as_pages
def medicines(request, pk: int):
    actor = Actor.from_request(request)
    enrolment = q.enrolment_for(actor, pk)
    errors, values, error, status = {}, {}, "", 200
    if request.method == "POST":
        try:
            if request.POST.get("stop"):
                services.stop_medicine(actor, q.medicine_for(actor, request.POST["stop"], enrolment),
                                       on=request.POST.get("until", ""))
                messages.success(request, _("已停用"))
            else:
                services.add_medicine(actor, enrolment, request.POST)
                messages.success(request, _("已添加长期用药"))
            return redirect("chronic:medicines", pk=enrolment.pk)
        except DomainError as e:
            if e.status in (403, 404):  # not a form error: the error page
                raise
            errors, values, error, status = e.errors, request.POST, e.message, 400
    current, stopped = q.medicines_of(enrolment)
    return render(request, "chronic/medicines.html", {
        "enrolment": enrolment, "current": current, "stopped": stopped, "errors": errors, "values": values,
        "error": error,
        "drugs": services.COMMON_DRUGS, "frequencies": list(services.FREQUENCIES),
        "may_edit": can(request.user, "chronic.medicines", enrolment)}, status=status)


@login_required
@domain_errors_as_pages
def delivery(request):
    actor = Actor.from_request(request)
    check_read(actor, Category.PUBLIC_HEALTH)
    village = lq.default_village(actor, request.GET.get("village", ""))
    month = q.parse_month(request.GET.get("month", ""))
    d = q.delivery_for(actor, village, month) if village is not None else None
    if d is not None and request.GET.get("format") == "xlsx":
        resp = HttpResponse(q.delivery_xlsx(d), content_type=exports.XLSX_TYPE)
        resp["Content-Disposition"] = exports.content_disposition(q.delivery_filename(d))
        return resp
    return render(request, "chronic/delivery.html", {"delivery": d, "village": village, "month": f"{month:%Y-%m}",
                                                     "villages": lq.villages_for(request.user),
                                                     "unit_people": _("人"), "unit_days": _("天")})


urlpatterns = [
    path("medicines/<int:pk>/", medicines, name="medicines"),
    path("delivery/", delivery, name="delivery"),
]
