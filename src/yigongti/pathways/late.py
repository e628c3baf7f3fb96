"""超时提醒: while a case is open, a metric still running (door-to-wire with no wire yet, DNT with no needle …)
that reaches ``WARN_SHARE`` of its target is told to the team that can still make it — the treating facility's
doctors and nurses, or the first facility's for its door-in-door-out — once per case and metric. Run every minute
by the worker (``jobs.py``); ``due`` is the pure rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit
from yigongti.core.actor import Actor
from yigongti.core.notify import notify
from yigongti.orgs.models import Role, User

from . import services
from .metrics import Metric
from .models import Case, CaseStatus, LateAlert

KIND = "pathway_late"
WARN_SHARE = 0.8  # warn at 80 % of the target: 72 minutes into a 90-minute door-to-wire
LOOKBACK = dt.timedelta(hours=24)  # an open case older than this is a record left open, not a patient waiting
FIRST_DOOR = "first_door"  # the DIDO metrics run at the first (transferring) facility


def due(metrics: Iterable[Metric], warned: set[str], share: float = WARN_SHARE) -> list[Metric]:
    """The running metrics at or past ``share`` of their target not warned of yet."""
    return [m for m in metrics if m.running and m.target_min and m.minutes is not None
            and m.minutes >= share * m.target_min and m.code not in warned]


def _team(case: Case, facility_id: int | None) -> list[User]:
    """Who at the facility is on the case (opened it or recorded one of its time points); when nobody there has
    touched it yet (a case the 120 alert opened), the facility's doctors and nurses."""
    if facility_id is None:
        return []
    staff = User.objects.filter(facility_id=facility_id, is_active=True,
                                role__in=(Role.DOCTOR, Role.NURSE, Role.VILLAGE_DOCTOR))
    on_case = {e.recorded_by_id for e in case.events.all() if e.recorded_by_id} | {case.opened_by_id}
    return list(staff.filter(pk__in=on_case - {None})) or list(staff)


def _title(case: Case, m: Metric) -> str:
    target = int(m.target_min or 0)
    minutes = int(m.minutes or 0)
    if minutes >= target:
        state = _("已超时 %(over)d 分钟") % {"over": minutes - target}
    else:
        state = _("剩余 %(left)d 分钟") % {"left": target - minutes}
    return _("%(case)s %(name)s：%(metric)s 已 %(min)d 分钟（目标 %(target)d 分钟），%(state)s") % {
        "case": case.case_no, "name": case.resident.name, "metric": m.label, "min": minutes, "target": target,
        "state": state}


def warn_running_late(now: dt.datetime | None = None) -> int:
    """One pass over the open cases: each metric newly running late is recorded once and its team told (two
    workers at once tell it once: the unique row decides). Returns how many were told."""
    now = now or timezone.now()
    cases = (Case.objects.filter(status=CaseStatus.OPEN, opened_at__gte=now - LOOKBACK)
             .select_related("resident").prefetch_related("events", "late_alerts"))
    told = 0
    for case in cases:
        warned = {a.metric for a in case.late_alerts.all()}
        for m in due(services.case_metrics(case, now=now), warned):
            try:
                with transaction.atomic():
                    LateAlert.objects.create(case=case, metric=m.code, minutes=round(m.minutes or 0, 1),
                                             target_min=m.target_min or 0, at=now)
                    audit.record(Actor.system("worker"), "create", "pathway_late_alert", case.pk, metric=m.code,
                                 minutes=round(m.minutes or 0, 1))
                    facility = case.first_facility_id if m.start == FIRST_DOOR else case.facility_id
                    notify(_team(case, facility), KIND, _title(case, m), "", reverse("pathways:case", args=[case.pk]),
                           urgent=True, public_title=_("有救治病例时间指标即将超时，请登录平台查看"))
            except IntegrityError:
                continue  # another worker told it
            told += 1
    return told

