"""The decision layer against numbers derived by hand or in closed form: regret, ranges across
assumption points, chance of being best under Monte Carlo noise, weights, budget, the driver."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.results.assumptions import AssumptionPoints, weighted_quantiles
from sim.results.decision import Objective, decide


def table(values: dict[str, list[list[float]]], cost: dict[str, float] | None = None) -> pd.DataFrame:
    """A trial table: values[strategy][point] = adopters per trial."""
    rows = []
    for s, per_point in values.items():
        for p, trials in enumerate(per_point):
            for t, a in enumerate(trials):
                rows.append({"point": p, "strategy": s, "trial": t, "adopted": float(a),
                             "cost": (cost or {}).get(s, 100.0)})
    return pd.DataFrame(rows)


def points(n: int, label: str = "x", values=None, weights=None) -> AssumptionPoints:
    values = values if values is not None else list(range(n))
    return AssumptionPoints.weighted(range(n), weights, [label], [[v] for v in values], "test points")


def test_regret_ranges_and_choice_match_a_hand_computation():
    # Means per point (no noise): A 10, 20, 30; B 15, 15, 15; C 5, 25, 20.
    t = table({"A": [[10] * 4, [20] * 4, [30] * 4], "B": [[15] * 4] * 3, "C": [[5] * 4, [25] * 4, [20] * 4]})
    d = decide(t, ["A", "B", "C"], points(3))
    row = d.table.set_index("strategy")
    # Best per point: B (15), C (25), A (30) -> regrets A: 5, 5, 0; B: 0, 10, 15; C: 10, 0, 10.
    assert row.loc["A", "regret_mean"] == pytest.approx(10 / 3)
    assert row.loc["A", "regret_max"] == pytest.approx(5)
    assert row.loc["B", "regret_max"] == pytest.approx(15)
    assert row.loc["C", "regret_mean"] == pytest.approx(20 / 3)
    assert d.recommended == "A"  # expected 20, vs 15 and 16.67
    assert d.runner_up == "C" and d.margin == pytest.approx(20 - 50 / 3)
    assert d.robust == "A"  # smallest largest regret (5)
    # Equal weights, three points at (k - 1/2)/3: p10 = min, p50 = median, p90 = max.
    assert (row.loc["A", ["adopters_p10", "adopters_p50", "adopters_p90"]].tolist() == [10, 20, 30])
    # No noise: each point has one winner, so the chance of being best is the share of points won.
    assert row["p_best"].to_dict() == pytest.approx({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3})
    assert d.beats_runner_up == pytest.approx(2 / 3)
    assert d.table["strategy"].tolist() == ["A", "C", "B"]


def test_weights_are_point_probabilities():
    """A point given weight 2 is the same decision as that point listed twice."""
    a = {"A": [[10] * 3, [30] * 3], "B": [[20] * 3, [18] * 3]}
    twice = {"A": [[10] * 3, [30] * 3, [30] * 3], "B": [[20] * 3, [18] * 3, [18] * 3]}
    d1 = decide(table(a), ["A", "B"], points(2, weights=[1, 2]))
    d2 = decide(table(twice), ["A", "B"], points(3, values=[0, 1, 1]))
    cols = ["adopters_mean", "regret_mean", "regret_max", "p_best", "adopters_p50"]
    pd.testing.assert_frame_equal(d1.table[cols], d2.table[cols])


def test_weighted_quantiles_by_hand():
    # Weights 1, 1, 2 on 0, 10, 20: masses centred at 1/8, 3/8, 3/4.
    q = weighted_quantiles(np.array([20.0, 0.0, 10.0]), np.array([2.0, 1.0, 1.0]), (0.125, 0.25, 0.5, 0.9))
    assert q.tolist() == pytest.approx([0.0, 5.0, 10 + 10 * (0.5 - 0.375) / 0.375, 20.0])


def test_chance_of_being_best_follows_the_normal_approximation():
    """At one point, P(A best) under Monte Carlo noise is Phi(mean difference / its standard error)
    (CLT for the paired difference of means); the bootstrap estimates it within its own error."""
    rng = np.random.default_rng(5)
    trials = 400
    a = rng.normal(100.0, 20.0, trials)
    b = a - 1.0 + rng.normal(0.0, 20.0, trials)  # correlated, as common random numbers make them
    d = decide(table({"A": [a.tolist()], "B": [b.tolist()]}), ["A", "B"], AssumptionPoints.single(), resamples=2000)
    diff = a - b
    expected = stats.norm.cdf(diff.mean() / (diff.std(ddof=1) / math.sqrt(trials)))
    se = math.sqrt(expected * (1 - expected) / 2000)
    assert d.row("A")["p_best"] == pytest.approx(expected, abs=4 * se + 0.01)
    assert d.margin_mc_sem == pytest.approx(diff.std(ddof=1) / math.sqrt(trials), rel=0.1)


def test_the_budget_excludes_strategies_and_unspent_is_reported():
    t = table({"cheap": [[10] * 2], "dear": [[50] * 2]}, cost={"cheap": 90.0, "dear": 200.0})
    d = decide(t, ["cheap", "dear"], AssumptionPoints.single(), budget=150.0, budgets={"cheap": 100.0, "dear": 200.0})
    assert d.recommended == "cheap" and d.runner_up is None
    row = d.table.set_index("strategy")
    assert row.loc["cheap", "unspent"] == pytest.approx(10.0)
    assert not row.loc["dear", "within_budget"] and math.isnan(row.loc["dear", "p_best"])
    assert d.table["strategy"].tolist() == ["cheap", "dear"]


def test_cost_per_adopter_objective_prefers_the_cheaper_sign_up():
    t = table({"big": [[100] * 2], "small": [[40] * 2]}, cost={"big": 1000.0, "small": 200.0})
    d = decide(t, ["big", "small"], AssumptionPoints.single(), objective=Objective.COST_PER_ADOPTER)
    assert d.recommended == "small"
    assert d.margin == pytest.approx(10.0 - 5.0)  # USD per sign-up saved
    assert d.row("small")["objective_mean"] == pytest.approx(5.0)


def test_the_driver_is_the_assumption_that_flips_the_winner():
    # Two uncertainties, factorial: u flips the winner, v changes nothing.
    ids, vals, per = [], [], {"A": [], "B": []}
    for u in (0.0, 1.0):
        for v in (0.0, 1.0):
            ids.append(len(ids))
            vals.append([u, v])
            per["A"].append([30.0 if u else 10.0] * 2)
            per["B"].append([15.0] * 2)
    pts = AssumptionPoints.weighted(ids, None, ["u", "v"], vals, "test")
    d = decide(table(per), ["A", "B"], pts)
    assert d.recommended == "A"
    assert d.driver.label == "u" and d.driver.explained == pytest.approx(1.0)
    assert d.driver.winner == "B" and d.driver.where == "u = 0" and d.driver.loss == pytest.approx(5.0)


def test_strategies_must_share_trials():
    t = table({"A": [[1, 2]], "B": [[1, 2]]})
    t = t[~((t["strategy"] == "B") & (t["trial"] == 1))]
    with pytest.raises(ValueError, match="same trials"):
        decide(t, ["A", "B"], AssumptionPoints.single())
