"""建立救治病例 from a resident search: a clinician facing a patient who came by himself (or fell ill in
hospital, or was transferred without a 120 alert) finds the resident in the master index and opens the pathway
case at their own facility. Cases from a 120 alert or the green channel open themselves."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, Forbidden, InvalidInput
from yigongti.core.idcard import looks_like_id_number
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.permissions import can
from yigongti.residents.queries import ResidentFilter, get_resident_for, search_residents

from .. import events as catalogue
from .. import services
from ..models import ArrivalMode, PathwayKind

# a walk-in is the usual case here; a 120 patient's case opens from the alert
ARRIVAL_MODES = [(m.value, m.label) for m in (ArrivalMode.SELF, ArrivalMode.IN_HOSPITAL, ArrivalMode.TRANSFER,
                                               ArrivalMode.EMS)]


@login_required
@domain_errors_as_pages
def case_new(request):
    user = request.user
    if not can(user, "pathways.open_case"):
        raise Forbidden(_("只有医护人员可以建立救治病例"))
    actor = Actor.from_request(request)
    p = request.POST
    # searched by POST: an ID number typed here must not land in URLs and access logs (a GET with one is ignored)
    q = (p if request.method == "POST" else request.GET).get("q", "").strip()[:40]
    if request.method != "POST" and looks_like_id_number(q):
        q = ""
    error = ""
    if request.method == "POST" and p.get("resident"):
        try:
            resident = get_resident_for(actor, p["resident"])
            case = services.open_case(actor, resident, p.get("kind", ""), facility=user.facility,
                                      arrival_mode=p.get("arrival_mode", ArrivalMode.SELF),
                                      subtype=p.get("subtype", ""), idempotency_key=p.get("key", "")[:64])
            messages.success(request, _("已建立救治病例 %(no)s") % {"no": case.case_no})
            return redirect("pathways:case", pk=case.pk)
        except (InvalidInput, Conflict) as e:
            error = e.message
    page = search_residents(actor, ResidentFilter(q=q), 1, 10) if q else None
    return render(request, "pathways/case_new.html", {
        "q": q, "page": page, "error": error, "key": uuid.uuid4().hex, "facility": user.facility,
        "kinds": PathwayKind.choices, "arrival_modes": ARRIVAL_MODES,
        "subtypes": [(k, catalogue.subtype_choices(k)) for k in PathwayKind.values],
        "chosen": {"kind": p.get("kind", ""), "arrival_mode": p.get("arrival_mode", ArrivalMode.SELF),
                   "resident": p.get("resident", "")}})


urlpatterns = [
    path("cases/new/", case_new, name="case_new"),
]
