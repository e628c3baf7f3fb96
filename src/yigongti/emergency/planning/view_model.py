"""What a plan's page shows, read off ``StationPlan.result`` (plain dicts, no database): the coverage table, the
simulated year, the townships, the villages farthest from a station, and the map's data."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PlanView:
    coverage: list[dict] = field(default_factory=list)
    simulation: list[dict] = field(default_factory=list)
    townships: list[dict] = field(default_factory=list)
    farthest: list[dict] = field(default_factory=list)
    map: dict = field(default_factory=dict)
    calls_model: dict = field(default_factory=dict)
    actual: dict | None = None  # the county's recorded last year, beside the simulated one
    thresholds: list[int] = field(default_factory=list)
    threshold_min: int = 15


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _coverage_row(key: str, label: str, block: dict, sites: list[dict], thresholds: list[int], today: dict | None,
                  solution: dict | None) -> dict:
    cov = block["coverage"]
    cells = []
    for t in thresholds:
        people = cov["covered"][str(t)]
        gain = people - today["coverage"]["covered"][str(t)] if today else None
        cells.append({"minutes": t, "people": people, "share": cov["share"][str(t)] * 100, "gain": gain})
    return {"key": key, "label": label, "cells": cells, "mean_min": _minutes(cov["mean_s"]),
            "stations": len(block["stations"]),
            "added": [sites[j]["name"] for j in (solution or {}).get("added", [])],
            "closed": [sites[j]["name"] for j in (solution or {}).get("closed", [])],
            "status": (solution or {}).get("status", ""), "seconds": (solution or {}).get("seconds")}


def _sim_row(key: str, label: str, sim: dict) -> dict:
    return {"key": key, "label": label, "calls": sim["calls"], "served": sim["served"],
            "unreachable": sim["unreachable"], "p50": _minutes(sim["response_p50_s"]),
            "p90": _minutes(sim["response_p90_s"]), "p95": _minutes(sim["response_p95_s"]),
            "mean": _minutes(sim["response_mean_s"]), "out3": sim["out_3min_rate"] * 100,
            "waited": sim["waited_share"] * 100, "utilisation": sim["utilisation"] * 100,
            "by_priority": {int(k): v for k, v in sim.get("by_priority", {}).items()}}


def build(plan) -> PlanView:
    r = plan.result or {}
    if "today" not in r:
        return PlanView()
    thresholds = r["thresholds"]
    sites = r["sites"]
    today = r["today"]
    scenarios = r["scenarios"]
    view = PlanView(thresholds=thresholds, threshold_min=r["threshold_min"], calls_model=r.get("calls_model", {}))
    view.coverage.append(_coverage_row("today", "现状", today, sites, thresholds, None, None))
    for s in scenarios:
        view.coverage.append(_coverage_row(s["key"], s["label"], s, sites, thresholds, today, s["solution"]))
    if r.get("actual"):
        a = r["actual"]
        view.actual = {"calls": a["calls"], "p50": _minutes(a["response_p50_s"]), "p90": _minutes(a["response_p90_s"]),
                       "p95": _minutes(a["response_p95_s"]),
                       "out3": None if a["out_3min_rate"] is None else a["out_3min_rate"] * 100}
    if "sim" in today:
        view.simulation.append(_sim_row("today", "现状", today["sim"]))
        view.simulation += [_sim_row(s["key"], s["label"], s["sim"]) for s in scenarios if "sim" in s]
    for t in r.get("townships", []):
        pop = max(t["population"], 1)
        view.townships.append({"township": t["township"], "population": t["population"],
                               "today": t["today"] * 100 / pop,
                               "scenarios": [t["scenarios"].get(s["key"], 0) * 100 / pop for s in scenarios]})
    villages = r["villages"]
    order = sorted(range(len(villages)), key=lambda i: -(today["best_s"][i] if today["best_s"][i] is not None
                                                        else float("inf")))
    for i in order[:10]:
        v = villages[i]
        view.farthest.append({"name": v["name"], "township": v["township"], "population": v["population"],
                              "today": _minutes(today["best_s"][i]),
                              "nearest": sites[today["nearest"][i]]["name"] if today["nearest"][i] >= 0 else "",
                              "scenarios": [_minutes(s["best_s"][i]) for s in scenarios]})
    view.map = {
        "thresholds": thresholds,
        "plans": [{"key": "today", "label": "现状", "open": today["open"], "added": [], "closed": []}]
        + [{"key": s["key"], "label": s["label"], "open": s["solution"]["open"], "added": s["solution"]["added"],
            "closed": s["solution"]["closed"]} for s in scenarios],
        "sites": [{"name": s["name"], "lon": s["lon"], "lat": s["lat"], "kind": s["kind"],
                   "vehicles": s["vehicles"]} for s in sites],
        "villages": [{"name": v["name"], "township": v["township"], "lon": v["lon"], "lat": v["lat"],
                      "population": v["population"],
                      "t": [today["best_s"][i]] + [s["best_s"][i] for s in scenarios]}
                     for i, v in enumerate(villages)]}
    return view
