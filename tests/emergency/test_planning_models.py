"""Station planning's pure parts on small hand-made matrices: coverage, the MCLP / p-median models, the simulation."""

from __future__ import annotations

import numpy as np
import pytest

from yigongti.emergency.planning import coverage as cov
from yigongti.emergency.planning import optimize, simulate

INF = np.inf
M = 60.0  # a minute

# Five villages (rows) and four sites (columns): site 0 is today's station, sites 1–3 are candidates.
TIMES = np.array([
    [5 * M, 25 * M, 30 * M, 40 * M],   # v0 beside today's station
    [12 * M, 8 * M, 30 * M, 40 * M],   # v1 within 15 of both, nearer to site 1
    [30 * M, 9 * M, 18 * M, 40 * M],   # v2 only site 1 covers within 15
    [40 * M, 35 * M, 6 * M, 14 * M],   # v3 sites 2 and 3
    [50 * M, 45 * M, 25 * M, 7 * M],   # v4 only site 3
])
POP = np.array([1000, 500, 800, 300, 2000])


def test_coverage_counts_population_within_each_threshold():
    c = cov.coverage(TIMES, POP, [0])
    assert c.total == 4600
    assert c.covered == {10: 1000, 15: 1500, 20: 1500}
    assert c.share[15] == pytest.approx(1500 / 4600)
    assert list(c.nearest) == [0, 0, 0, 0, 0]


def test_coverage_takes_the_nearest_open_site_for_each_village():
    c = cov.coverage(TIMES, POP, [0, 3])
    assert list(c.best_s) == [5 * M, 12 * M, 30 * M, 14 * M, 7 * M]
    assert list(c.nearest) == [0, 0, 0, 3, 3]
    assert c.covered[10] == 3000 and c.covered[15] == 3800


def test_an_unreachable_village_is_never_covered():
    times = np.array([[INF, INF], [60.0, 120.0]])
    c = cov.coverage(times, [100, 50], [0, 1])
    assert c.best_s[0] == INF and c.nearest[0] == -1
    assert c.covered[10] == 50 and c.mean_s == 60.0


def test_no_open_site_covers_nobody():
    c = cov.coverage(TIMES, POP, [])
    assert c.covered == {10: 0, 15: 0, 20: 0}


def test_band_is_the_smallest_threshold_met():
    assert cov.band(9 * M) == 10 and cov.band(15 * M) == 15 and cov.band(19.9 * M) == 20 and cov.band(21 * M) is None


def test_mclp_adds_the_site_that_covers_most_people():
    s = optimize.solve(TIMES, POP, existing=[0], candidates=[1, 2, 3], add=1, threshold_s=15 * M)
    assert s.status == "Optimal"
    assert s.added == [3] and s.closed == [] and s.open_sites == [0, 3]  # 2,300 people beats site 1's 800
    assert s.covered == 3800


def test_mclp_with_two_new_sites_takes_the_best_pair():
    s = optimize.solve(TIMES, POP, existing=[0], candidates=[1, 2, 3], add=2, threshold_s=15 * M)
    assert s.added == [1, 3] and s.covered == 4600


def test_mclp_breaks_ties_by_the_least_weighted_time():
    # sites 2 and 3 both cover v3 alone within 15 minutes; site 2 gets there in 6, site 3 in 14
    times = np.array([[5 * M, 40 * M, 40 * M], [40 * M, 6 * M, 14 * M]])
    s = optimize.solve(times, [100, 100], existing=[0], candidates=[1, 2], add=1, threshold_s=15 * M)
    assert s.added == [1]
    s = optimize.solve(times[:, [0, 2, 1]], [100, 100], existing=[0], candidates=[1, 2], add=1, threshold_s=15 * M)
    assert s.added == [2]


def test_moving_one_station_keeps_the_count_and_closes_one():
    # two stations today (0 and 1) both near v0/v1; moving 1 to site 3 reaches v4's 2,000 people
    s = optimize.solve(TIMES, POP, existing=[0, 1], candidates=[2, 3], add=0, move=1, threshold_s=15 * M)
    assert s.open_sites == [0, 3] and s.closed == [1] and s.added == [3]
    assert s.covered == 1000 + 500 + 300 + 2000  # keeping site 1 instead would reach 3,600


def test_pmedian_minimises_the_weighted_time():
    s = optimize.solve(TIMES, POP, existing=[0], candidates=[1, 2, 3], add=1, objective="pmedian")
    best = None
    for j in (1, 2, 3):
        w = (np.minimum(TIMES[:, 0], TIMES[:, j]) * POP).sum()
        best = (w, j) if best is None or w < best[0] else best
    assert s.added == [best[1]]
    assert s.weighted_s == pytest.approx(best[0] / POP.sum())


def test_pmedian_is_right_without_any_station_today():
    s = optimize.solve(TIMES, POP, existing=[], candidates=[0, 1, 2, 3], add=2, objective="pmedian")
    brute = min(((np.minimum(TIMES[:, a], TIMES[:, b]) * POP).sum(), [a, b])
                for a in range(4) for b in range(a + 1, 4))
    assert s.open_sites == brute[1]


def test_an_impossible_scenario_is_refused():
    with pytest.raises(ValueError):
        optimize.solve(TIMES, POP, existing=[0], candidates=[1], add=2)
    with pytest.raises(ValueError):
        optimize.solve(TIMES, POP, existing=[0], candidates=[1, 2], add=0, move=2)
    with pytest.raises(ValueError):
        optimize.solve(TIMES, POP, existing=[0], candidates=[1], objective="nearest")


# ----------------------------------------------------------------------------------------------- simulation

def _config(**kw) -> simulate.SimConfig:
    return simulate.SimConfig(calls_per_year=kw.pop("calls_per_year", 2000), days=kw.pop("days", 60), seed=7, **kw)


def test_calls_follow_the_rate_the_hours_and_the_population():
    hourly = [0.0] * 24
    hourly[10] = 1.0
    calls = simulate.generate_calls(_config(calls_per_year=3650, hourly=hourly, days=100), [0, 1000, 3000])
    assert 900 <= len(calls) <= 1100  # 10 a day for 100 days
    assert set(((calls.at % 86400) // 3600).astype(int)) == {10}
    assert (calls.point != 0).all()
    assert 0.7 < (calls.point == 2).mean() < 0.8
    assert np.all(np.diff(calls.at) >= 0)


def test_the_same_seed_draws_the_same_calls():
    a = simulate.generate_calls(_config(), POP)
    b = simulate.generate_calls(_config(), POP)
    assert np.array_equal(a.at, b.at) and np.array_equal(a.point, b.point)


def test_response_is_handling_plus_chute_plus_road_time_when_a_vehicle_is_free():
    times = np.array([[600.0]])
    calls = simulate.generate_calls(_config(calls_per_year=50, travel_sigma=0.0), [100])
    r = simulate.simulate(calls, times, [(0, 5)])
    expected = calls.handling_s + calls.chute_s + 600.0
    assert r.served == len(calls) and r.waited_share == 0.0
    assert np.allclose(np.sort(r.response_s), np.sort(expected))
    assert r.out_3min_rate == pytest.approx(float((calls.chute_s <= 180).mean()))


def test_a_nearer_station_shortens_response_on_the_same_calls():
    calls = simulate.generate_calls(_config(), POP)
    today = simulate.simulate(calls, TIMES, [(0, 2)])
    proposed = simulate.simulate(calls, TIMES, [(0, 2), (3, 1)])
    assert proposed.calls == today.calls
    assert proposed.response_p50_s < today.response_p50_s
    assert proposed.response_p90_s < today.response_p90_s


def test_a_single_busy_vehicle_makes_calls_wait_and_out_late():
    times = np.array([[900.0]])
    calls = simulate.generate_calls(_config(calls_per_year=30000, days=10), [100])
    one = simulate.simulate(calls, times, [(0, 1)])
    many = simulate.simulate(calls, times, [(0, 20)])
    assert one.waited_share > 0.5 and many.waited_share < 0.05
    assert one.out_3min_rate < many.out_3min_rate
    assert one.utilisation > 0.9


def test_calls_from_a_village_no_road_reaches_are_counted_apart():
    times = np.array([[600.0], [INF]])
    calls = simulate.generate_calls(_config(), [100, 100])
    r = simulate.simulate(calls, times, [(0, 3)])
    assert r.unreachable == int((calls.point == 1).sum()) and r.served == r.calls - r.unreachable
    assert np.isnan(r.point_mean_s[1])
