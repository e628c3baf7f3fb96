"""Delivery routes of a day as plain functions over a cost matrix (no database), tested without it.

Node 0 is the distribution center (the depot); nodes 1…n are the villages to deliver to. ``cost[i][j]`` is the
road travel time in seconds (``emergency.roads``); every vehicle leaves the depot and comes back, visiting at most
``max_stops`` villages (and carrying at most ``capacity`` when demands are given). ``solve`` asks OR-Tools' vehicle
routing solver (first solution by cheapest arc, improved by guided local search within ``time_limit_s``);
``nearest_neighbour`` is the baseline a dispatcher would draw by hand under the same limits — from where the van
is, the nearest village not yet served, a new van when the current one is full."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

Matrix = Sequence[Sequence[float]]


@dataclass(frozen=True)
class Plan:
    routes: list[list[int]]  # each: the villages (node indices ≥ 1) in visiting order, depot left out
    cost: float  # the sum of every route's cost, depot → … → depot
    solver: str


def route_cost(cost: Matrix, route: list[int]) -> float:
    if not route:
        return 0.0
    stops = [0, *route, 0]
    return float(sum(cost[a][b] for a, b in itertools.pairwise(stops)))


def total_cost(cost: Matrix, routes: list[list[int]]) -> float:
    return sum(route_cost(cost, r) for r in routes)


def vehicles_needed(n: int, max_stops: int, demands: Sequence[int] | None = None, capacity: int | None = None) -> int:
    by_stops = math.ceil(n / max(max_stops, 1)) if n else 0
    if demands is not None and capacity:
        by_load = math.ceil(sum(demands[1:]) / capacity)
        return max(by_stops, by_load, 1 if n else 0)
    return by_stops


def nearest_neighbour(cost: Matrix, *, max_stops: int, demands: Sequence[int] | None = None,
                      capacity: int | None = None) -> Plan:
    n = len(cost) - 1
    left = set(range(1, n + 1))
    routes: list[list[int]] = []
    while left:
        route: list[int] = []
        load, here = 0, 0
        while left and len(route) < max_stops:
            fits = [j for j in left if not (demands and capacity and load + demands[j] > capacity)]
            if not fits:
                break
            nxt = min(fits, key=lambda j: (cost[here][j], j))
            route.append(nxt)
            left.discard(nxt)
            load += demands[nxt] if demands else 0
            here = nxt
        if not route:  # a village whose demand alone exceeds the van: it goes on its own
            route = [min(left)]
            left.discard(route[0])
        routes.append(route)
    return Plan(routes, total_cost(cost, routes), "nearest_neighbour")


def solve(cost: Matrix, *, max_stops: int, vehicles: int | None = None, demands: Sequence[int] | None = None,
          capacity: int | None = None, time_limit_s: float = 5.0) -> Plan:
    """The day's routes by OR-Tools; falls back to the baseline when the solver finds nothing in time."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(cost) - 1
    if n <= 0:
        return Plan([], 0.0, "ortools")
    k = vehicles or vehicles_needed(n, max_stops, demands, capacity)
    manager = pywrapcp.RoutingIndexManager(n + 1, k, 0)
    model = pywrapcp.RoutingModel(manager)
    scaled = [[round(float(c)) for c in row] for row in cost]

    def arc(i: int, j: int) -> int:
        return scaled[manager.IndexToNode(i)][manager.IndexToNode(j)]

    transit = model.RegisterTransitCallback(arc)
    model.SetArcCostEvaluatorOfAllVehicles(transit)
    stops = model.RegisterUnaryTransitCallback(lambda i: 0 if manager.IndexToNode(i) == 0 else 1)
    model.AddDimension(stops, 0, max_stops, True, "stops")
    if demands is not None and capacity:
        load = model.RegisterUnaryTransitCallback(lambda i: int(demands[manager.IndexToNode(i)]))
        model.AddDimension(load, 0, int(capacity), True, "load")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(int(time_limit_s * 1000), 100))
    base = nearest_neighbour(cost, max_stops=max_stops, demands=demands, capacity=capacity)
    solution = None
    if len(base.routes) <= k:  # start the search from the baseline, so the answer is never worse than it
        start = model.ReadAssignmentFromRoutes(base.routes + [[]] * (k - len(base.routes)), True)
        if start is not None:
            solution = model.SolveFromAssignmentWithParameters(start, params)
    if solution is None:
        solution = model.SolveWithParameters(params)
    if solution is None:
        return Plan(base.routes, base.cost, "nearest_neighbour")
    routes = []
    for v in range(k):
        i, route = model.Start(v), []
        while not model.IsEnd(i):
            node = manager.IndexToNode(i)
            if node:
                route.append(node)
            i = solution.Value(model.NextVar(i))
        if route:
            routes.append(route)
    return Plan(routes, total_cost(cost, routes), "ortools")
