"""Goldenberg, Libai & Muller's (2001) automaton (sim.experiments.talk) against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from sim.base.rng import root_key
from sim.experiments.talk import NEVER, informed_periods, penetration_times

K_SE = 4.0


def _runs(trials, *args):
    return np.array([informed_periods(*args[:6], root_key(11), t, args[6]) for t in range(trials)])


def test_advertising_only_is_geometric():
    """beta_s = beta_w = 0: each account's period is Geometric(alpha); penetration 1 - (1 - alpha)^t."""
    alpha, horizon = 0.05, 200
    when = _runs(40, 50, 3, 4, alpha, 0.0, 0.0, horizon)  # 40 trials x 200 accounts
    first = when[when != NEVER].astype(float)
    assert (when != NEVER).mean() == pytest.approx(1 - (1 - alpha) ** horizon, abs=1e-3)
    # mean of the geometric law truncated at the horizon
    t = np.arange(1, horizon + 1)
    pmf = alpha * (1 - alpha) ** (t - 1)
    exact = float(t @ pmf / pmf.sum())
    sd = float(np.sqrt(((t - exact) ** 2) @ pmf / pmf.sum()))
    assert abs(first.mean() - exact) <= K_SE * sd / np.sqrt(len(first))
    for period in (1, 5, 20, 60):
        frac = (when != NEVER) & (when <= period)
        p = 1 - (1 - alpha) ** period
        per_trial = frac.mean(axis=1)
        assert abs(per_trial.mean() - p) <= K_SE * np.sqrt(p * (1 - p) / frac.size), period


def test_market_first_adoption_is_geometric():
    """The first adoption in a market of n accounts is Geometric(1 - (1 - alpha)^n)."""
    alpha, n_groups, s = 0.01, 2, 2
    n = n_groups * (s + 1)
    first = np.array([informed_periods(n_groups, s, 3, alpha, 0.0, 0.0, root_key(5), t, 10_000).min()
                      for t in range(4000)], dtype=float)
    q = 1 - (1 - alpha) ** n
    assert abs(first.mean() - 1 / q) <= K_SE * np.sqrt(1 - q) / q / np.sqrt(len(first))


@pytest.mark.parametrize("tie", ["strong", "weak"])
def test_two_accounts_expected_time_to_both(tie):
    """Two accounts tied strongly (one group, s = 1) or weakly (two groups of one, w = 1: they meet
    every period). E[time until both are informed] = (1 + 2 a (1 - a) / q) / (1 - (1 - a)^2),
    q = 1 - (1 - a)(1 - beta): the first-period chain none -> one -> both, or none -> both."""
    a, beta = 0.02, 0.3
    args = (1, 1, 0, a, 0.0, beta) if tie == "strong" else (2, 0, 1, a, beta, 0.0)
    done = np.array([informed_periods(*args, root_key(7), t, 100_000).max() for t in range(6000)], dtype=float)
    q = 1 - (1 - a) * (1 - beta)
    exact = (1 + 2 * a * (1 - a) / q) / (1 - (1 - a) ** 2)
    assert abs(done.mean() - exact) <= K_SE * done.std(ddof=1) / np.sqrt(len(done)), (done.mean(), exact)


def test_penetration_times_read_the_sorted_periods():
    when = np.array([3, 1, NEVER, 2, 5, 2, 4, 1, 1, 7], dtype=np.int32)
    # 16% of 10 -> 2nd account (period 1); 50% -> 5th (period 2); 95% -> 10th (never: NaN)
    t = penetration_times(when, [0.16, 0.5, 0.95], 9)
    assert t[0] == 1 and t[1] == 2 and np.isnan(t[2])
