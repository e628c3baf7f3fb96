"""The crew's pre-hospital record page (390 px wide, one form per part): vital signs, the working impression, the
12-lead ECG (the device's file, or the simulator where it is switched on), the receiving hospital ranked by
capability and road time, and the pre-arrival alert."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.errors import DomainError, Forbidden, NotFound
from yigongti.core.pages import domain_errors_as_pages
from yigongti.orgs.models import Facility
from yigongti.orgs.permissions import can

from ..models import Mission, PreArrivalAlert, PrehospitalRecord
from ..services import alerts, prehospital


def simulator_on() -> bool:
    """The demo's ECG simulator instead of a device file (never in production: ``YIGONGTI_ECG_SIMULATOR``)."""
    return bool(getattr(settings, "YIGONGTI_ECG_SIMULATOR", settings.DEBUG))


def mission_for(actor: Actor, pk: int) -> Mission:
    """The mission for its crew and the dispatchers (404 for others' unknown ids, 403 for others')."""
    mission = (Mission.objects.select_related("call__resident", "vehicle__station", "destination")
               .filter(pk=pk).first())
    if mission is None:
        raise NotFound(_("出车任务不存在"))
    user = actor.user
    if not (can(user, "emergency.record_prehospital", mission) or can(user, "emergency.send_alert", mission)):
        raise Forbidden(_("只有本车组人员或120调度员可以查看院前急救病历"))
    audit.record(actor, "view", "ems_record", mission.pk, resident=mission.call.resident_id)
    return mission


def _act(request: HttpRequest, actor: Actor, mission: Mission) -> str:
    """Run the posted part; the success message."""
    action, post = request.POST.get("action", ""), request.POST
    if action == "vitals":
        values: dict[str, Any] = {k: post.get(k, "") for k in prehospital.VITALS}
        prehospital.record_vitals(actor, mission, idempotency_key=post.get("key", ""), **values)
        return _("生命体征已记录")
    if action == "impression":
        prehospital.set_impression(actor, mission, post.get("text", ""), post.get("code", ""), post.get("icd10", ""))
        return _("初步诊断已保存")
    if action == "ecg":
        f = request.FILES.get("file")
        sim = post.get("simulate", "")
        recording = {"stemi": sim if sim in ("inferior", "anterior") else None} if sim and simulator_on() else None
        order = prehospital.attach_ecg(actor, mission, upload=f, recording=recording)
        return _("心电图已发送心电诊断中心（%(no)s）") % {"no": order.accession_no}
    if action in ("destination", "alert"):
        facility = Facility.objects.filter(pk=int(post.get("facility") or 0)).first()
        if action == "destination":
            prehospital.choose_destination(actor, mission, facility, post.get("reason", ""))  # type: ignore[arg-type]
            return _("送往医院已选择")
        alert = alerts.send_alert(actor, mission, facility=facility)
        return _("预警已发送至%(f)s") % {"f": alert.facility.name}
    raise NotFound(_("未知操作"))


@login_required
@domain_errors_as_pages
def prehospital_page(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    mission = mission_for(actor, pk)
    error, status = "", 200
    if request.method == "POST":
        try:
            messages.success(request, _act(request, actor, mission))
            return redirect(reverse("emergency:prehospital", args=[mission.pk]))
        except (DomainError, ValueError) as e:
            if getattr(e, "status", 422) in (403, 404):
                raise
            error, status = getattr(e, "message", "") or _("输入无效"), 400
    record = PrehospitalRecord.objects.filter(mission=mission).select_related("ecg_order", "resident").first()
    return render(request, "emergency/prehospital.html", {
        "mission": mission, "call": mission.call, "record": record, "error": error,
        "vitals": list(record.vitals.order_by("-at")[:10]) if record else [],
        "vital_fields": [(k, v[0]) for k, v in prehospital.VITALS.items()],
        "impressions": [(k, v[0]) for k, v in prehospital.IMPRESSIONS.items()],
        "destinations": prehospital.destinations(mission), "simulator": simulator_on(),
        "alerts": list(PreArrivalAlert.objects.filter(mission=mission).select_related("facility")),
        "may_record": can(actor.user, "emergency.record_prehospital", mission)}, status=status)


urlpatterns = [path("missions/<int:pk>/record/", prehospital_page, name="prehospital")]
