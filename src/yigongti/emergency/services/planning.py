"""Station planning runs (站点规划): the bureau or the community's managers ask for one; it runs in the background
(``yigongti worker``, job ``emergency.station_plan``) because a full county takes seconds; the page polls it.

``start_plan`` checks and validates, keeps a queued ``StationPlan`` and schedules the job; ``run_plan`` reads the
network (``planning.data``), computes (``planning.plan``) and keeps the result, or the reason it failed."""

from __future__ import annotations

import logging
import time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yigongti.core import audit, jobs
from yigongti.core.actor import Actor
from yigongti.core.errors import Conflict, DomainError, Forbidden, InvalidInput, collect
from yigongti.core.scoping import scope_for
from yigongti.orgs.permissions import check

from ..models import RoadNetwork, StationPlan
from ..planning import data as planning_data
from ..planning import plan as planning
from ..planning.optimize import OBJECTIVES
from ..planning.queries import network_area

log = logging.getLogger("yigongti.emergency.planning")
JOB = "emergency.station_plan"
MAX_CALLS_PER_YEAR = 500_000


def validate(raw: dict) -> planning.Params:
    """Form or API input → Params; every bad field named at once (Chinese messages)."""
    errors: dict[str, list[str]] = {}
    objective = str(raw.get("objective") or "mclp")
    if objective not in OBJECTIVES:
        errors["objective"] = [_("目标只能是最大覆盖或p-中位")]
    try:
        threshold = int(raw.get("threshold_min") or 15)
        if threshold not in planning.THRESHOLDS:
            raise ValueError
    except (TypeError, ValueError):
        errors["threshold_min"] = [_("覆盖时限只能是10、15或20分钟")]
        threshold = 15
    scenarios = raw.get("scenarios")
    if scenarios is None:
        scenarios = list(planning.SCENARIOS)
    if isinstance(scenarios, str):
        scenarios = [scenarios]
    scenarios = list(dict.fromkeys(scenarios))
    if not scenarios or any(s not in planning.SCENARIOS for s in scenarios):
        errors["scenarios"] = [_("请选择方案：新增1个、新增2个或迁移1个站点")]
    raw_calls = raw.get("calls_per_year")
    calls: float | None = None
    try:
        calls = float(str(raw_calls)) if raw_calls not in (None, "") else None
        if calls is not None and not 1 <= calls <= MAX_CALLS_PER_YEAR:
            raise ValueError
    except (TypeError, ValueError):
        errors["calls_per_year"] = [_("年呼救量应为1至500000之间的数字，或留空按实际/人口估算")]
        calls = None
    try:
        vehicles = int(raw.get("new_vehicles") or 1)
        if not 1 <= vehicles <= 5:
            raise ValueError
    except (TypeError, ValueError):
        errors["new_vehicles"] = [_("新站点配车数应为1至5辆")]
        vehicles = 1
    try:
        seed = int(raw.get("seed") or 0)
    except (TypeError, ValueError):
        errors["seed"] = [_("随机种子应为整数")]
        seed = 0
    collect(errors)
    sim = raw.get("simulate", True)
    sim = sim if isinstance(sim, bool) else str(sim).lower() in ("1", "true", "on", "yes")
    return planning.Params(objective=objective, threshold_min=threshold, scenarios=tuple(scenarios),
                           simulate=sim, calls_per_year=calls, new_vehicles=vehicles, seed=seed)


def start_plan(actor: Actor, *, name: str = "", network: RoadNetwork | None = None, background: bool = True,
               **raw) -> StationPlan:
    """Ask for a planning run; with ``background`` (pages, API) the worker runs it, else it runs now (CLI, bench)."""
    check(actor, "emergency.plan_stations", network)
    params = validate(raw)
    network = network or planning_data.active_network()
    if network is None:
        raise Conflict("no_network", _("还没有在用的路网，请先生成或导入路网"))
    if not actor.is_system and not scope_for(actor.user).contains(network_area(network)):
        raise Forbidden(_("只能规划本辖区的急救站点"))
    name = (name or "").strip()[:80] or _("站点规划 %(when)s") % {"when": f"{timezone.localtime():%Y-%m-%d %H:%M}"}
    with transaction.atomic():
        plan = StationPlan.objects.create(name=name, network=network, params=params.as_dict(),
                                          status="queued" if background else "running", created_by=actor.user)
        audit.record(actor, "create", "emergency.StationPlan", plan.pk, network=network.pk, **params.as_dict())
        if background:
            jobs.schedule(JOB, args={"plan": plan.pk}, key=f"station_plan:{plan.pk}")
    if not background:
        run_plan(plan)
    return plan


def _graph(network: RoadNetwork):
    from ..roads.graph import road_graph

    return road_graph(network)


def run_plan(plan: StationPlan, graph=None) -> StationPlan:
    """Compute a plan and keep its result (status done), or the reason it could not (status failed)."""
    started = time.perf_counter()
    StationPlan.objects.filter(pk=plan.pk).update(status="running")
    try:
        graph = graph or _graph(plan.network)
        inp = planning_data.load_input(plan.network, graph)
        result = planning.compute(inp, planning.Params.from_dict(plan.params))
        status = "done"
    except ValueError as e:  # the model's refusals: nothing to plan on this network
        log.info("station plan %s: %s", plan.pk, e)
        result, status = {"error": str(e)}, "failed"
    except DomainError as e:  # the routing graph's (a network without nodes, a network gone)
        log.info("station plan %s: %s", plan.pk, e.message)
        result, status = {"error": e.message}, "failed"
    plan.result, plan.status, plan.seconds = result, status, round(time.perf_counter() - started, 3)
    StationPlan.objects.filter(pk=plan.pk).update(result=result, status=status, seconds=plan.seconds)
    return plan


@jobs.job_handler(JOB)
def _run_job(job) -> dict:
    plan = StationPlan.objects.select_related("network").get(pk=job.args["plan"])
    if plan.status == "done":
        return {"plan": plan.pk, "status": "done"}
    try:
        run_plan(plan)
    except Exception:
        StationPlan.objects.filter(pk=plan.pk).update(status="failed", result={"error": "internal"})
        raise
    return {"plan": plan.pk, "status": plan.status, "seconds": plan.seconds}


def retry_plan(actor: Actor, plan: StationPlan) -> StationPlan:
    """Queue a failed run again."""
    check(actor, "emergency.plan_stations", plan)
    if plan.status != "failed":
        raise InvalidInput("not_failed", _("只有失败的规划可以重新运行"))
    StationPlan.objects.filter(pk=plan.pk).update(status="queued", result={})
    jobs.schedule(JOB, args={"plan": plan.pk}, key=f"station_plan:{plan.pk}:{timezone.now():%Y%m%d%H%M%S%f}")
    audit.record(actor, "retry", "emergency.StationPlan", plan.pk)
    plan.refresh_from_db()
    return plan
