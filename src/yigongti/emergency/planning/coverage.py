"""Coverage of the county's population by its ambulance stations (站点覆盖): plain functions over a travel-time
matrix, no database.

``times[i, j]`` is the road travel time in seconds from site ``j`` (a station or a candidate) to demand point
``i`` (a village); ``inf`` where no road joins them. A village is covered within ``t`` minutes when some open site
reaches it within ``t`` minutes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

THRESHOLDS_MIN = (10, 15, 20)


@dataclass(frozen=True)
class Coverage:
    """Population covered within each threshold (minutes → people and share), and each village's best time."""

    total: int
    covered: dict[int, int]
    share: dict[int, float]
    best_s: np.ndarray  # per demand point: seconds from the nearest open site (inf: unreachable)
    nearest: np.ndarray  # per demand point: column index of that site (-1: none)
    mean_s: float  # population-weighted mean of best_s over reachable villages

    def as_dict(self) -> dict:
        return {"total": self.total, "covered": {str(k): v for k, v in self.covered.items()},
                "share": {str(k): round(v, 4) for k, v in self.share.items()}, "mean_s": round(self.mean_s, 1)}


def best_times(times: np.ndarray, open_sites: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per demand point, the shortest time from any open site and which site gives it."""
    n = times.shape[0]
    if not len(open_sites):
        return np.full(n, np.inf), np.full(n, -1, dtype=int)
    cols = np.asarray(list(open_sites), dtype=int)
    sub = times[:, cols]
    arg = np.argmin(sub, axis=1)
    best = sub[np.arange(n), arg]
    nearest = np.where(np.isfinite(best), cols[arg], -1)
    return best, nearest


def coverage(times: np.ndarray, population: np.ndarray, open_sites: Sequence[int],
             thresholds_min: Sequence[int] = THRESHOLDS_MIN) -> Coverage:
    population = np.asarray(population, dtype=float)
    if times.shape[0] != population.shape[0]:
        raise ValueError("times and population disagree on the number of demand points")
    best, nearest = best_times(times, open_sites)
    total = int(population.sum())
    covered = {int(t): int(population[best <= t * 60].sum()) for t in thresholds_min}
    share = {t: (c / total if total else 0.0) for t, c in covered.items()}
    reach = np.isfinite(best)
    weight = population[reach].sum()
    mean = float((best[reach] * population[reach]).sum() / weight) if weight else float("inf")
    return Coverage(total, covered, share, best, nearest, mean)


def band(seconds: float, thresholds_min: Sequence[int] = THRESHOLDS_MIN) -> int | None:
    """The smallest threshold (minutes) a time falls within, or None beyond the last one: the map's colour."""
    for t in sorted(thresholds_min):
        if seconds <= t * 60:
            return int(t)
    return None
