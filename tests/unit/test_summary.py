"""The summary's statistics against independent computations: SciPy's paired t interval, exact
transforms, and the coverage of the delta-method interval over many simulated studies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.results.summary import pareto_frontier, strategy_table, summarize


def study(rng: np.random.Generator, n: int, cost=(1000.0, 400.0), rho: float = 0.7) -> pd.DataFrame:
    """Two strategies' paired trials: correlated Poisson-ish adopters and engagements."""
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    a = np.maximum(0, 50 + 12 * z[:, 0]).round()
    b = np.maximum(0, 30 + 9 * z[:, 1]).round()
    rows = []
    for name, adopted, c in (("base", a, cost[0]), ("alt", b, cost[1])):
        rows.append(pd.DataFrame({"strategy": name, "trial": np.arange(n), "adopted": adopted,
                                  "engagements": 3 * adopted + 5, "cost": c}))
    return pd.concat(rows, ignore_index=True)


def test_paired_difference_is_scipys_paired_t_interval():
    t = study(np.random.default_rng(1), 200)
    s = summarize(t, ["base", "alt"], ["adopted"]).set_index("strategy")
    x, y = t[t.strategy == "alt"]["adopted"].to_numpy(), t[t.strategy == "base"]["adopted"].to_numpy()
    ci = stats.ttest_rel(x, y).confidence_interval(0.95)
    row = s.loc["alt"]
    assert row["diff_mean"] == pytest.approx((x - y).mean())
    assert (row["diff_ci95_low"], row["diff_ci95_high"]) == pytest.approx((ci.low, ci.high))
    assert np.isnan(s.loc["base", "diff_mean"]) and s.loc["alt", "baseline"] == "base"
    one = stats.ttest_1samp(x, 0).confidence_interval(0.95)
    assert (row["ci95_low"], row["ci95_high"]) == pytest.approx((one.low, one.high))


def test_cost_per_adopter_is_cost_over_mean_with_the_mapped_interval():
    t = study(np.random.default_rng(2), 150)
    s = summarize(t, ["base", "alt"], ["adopted", "cost_per_adopter"]).set_index(["strategy", "outcome"])
    m = s.loc[("alt", "adopted")]
    r = s.loc[("alt", "cost_per_adopter")]
    assert r["mean"] == pytest.approx(400.0 / m["mean"])
    assert (r["ci95_low"], r["ci95_high"]) == pytest.approx((400.0 / m["ci95_high"], 400.0 / m["ci95_low"]))


def test_delta_method_interval_of_a_ratio_difference_covers_95_percent():
    """Over 2,000 simulated studies the interval for cost/mean(alt) - cost/mean(base) covers the
    true difference 95% of the time, within 3 binomial standard errors."""
    rng = np.random.default_rng(3)
    big = study(np.random.default_rng(99), 400_000)
    truth = (400.0 / big[big.strategy == "alt"]["adopted"].mean()
             - 1000.0 / big[big.strategy == "base"]["adopted"].mean())
    studies = 2000
    hits = 0
    for _ in range(studies):
        s = summarize(study(rng, 60), ["base", "alt"], ["cost_per_adopter"]).set_index("strategy").loc["alt"]
        hits += s["diff_ci95_low"] <= truth <= s["diff_ci95_high"]
    se = np.sqrt(0.95 * 0.05 / studies)
    assert abs(hits / studies - 0.95) < 3 * se, hits / studies


def test_points_are_summarised_separately_and_paired_within_a_point():
    a = study(np.random.default_rng(4), 50).assign(point=0)
    b = study(np.random.default_rng(5), 50).assign(point=1)
    b.loc[b.strategy == "alt", "adopted"] += 10
    s = summarize(pd.concat([a, b]), ["base", "alt"], ["adopted"]).set_index(["point", "strategy"])
    for p, frame in ((0, a), (1, b)):
        d = frame[frame.strategy == "alt"]["adopted"].to_numpy() - frame[frame.strategy == "base"]["adopted"].to_numpy()
        assert s.loc[(p, "alt"), "diff_mean"] == pytest.approx(d.mean())


def test_pareto_frontier():
    cost = np.array([10, 20, 20, 30, 40, 15])
    value = np.array([5, 9, 7, 9, 12, 4])
    assert pareto_frontier(cost, value).tolist() == [True, True, False, False, True, False]
    assert pareto_frontier(np.array([1.0, 1.0]), np.array([2.0, 2.0])).tolist() == [True, True]  # ties both stay


def test_strategy_table_marks_the_frontier_per_point():
    rows = []
    for point, gain in ((0, 0.0), (1, 40.0)):
        t = study(np.random.default_rng(point), 40).assign(point=point, reach=1.0, engagements=1.0)
        t.loc[t.strategy == "alt", "adopted"] += gain
        rows.append(t)
    s = summarize(pd.concat(rows), ["base", "alt"], ["cost", "adopted", "reach", "engagements",
                                                     "cost_per_engagement", "cost_per_adopter"])
    table = strategy_table(s).set_index(["point", "strategy"])
    # alt is cheaper: always on the frontier; base only where it gets more adopters (point 0)
    assert table.loc[(0, "alt"), "on_frontier"] and table.loc[(1, "alt"), "on_frontier"]
    assert table.loc[(0, "base"), "on_frontier"] and not table.loc[(1, "base"), "on_frontier"]
