"""The last step of the ABC fit (adaptive importance sampling at T = 1) against a posterior known in closed form.

A two-parameter toy model whose moments are the parameters themselves, with Gaussian targets
well inside a uniform prior box: the posterior is then the product of two normals, mean the
targets' values and sd the targets' sd. ``importance_final`` must recover both moments within
Monte Carlo error from a deliberately poor starting population, and its mixture weights over all
rounds must give an effective sample size at least that of the last round alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

from sim.base.stats import effective_sample_size
from sim.calibration import abc


@dataclass(frozen=True)
class _T:
    name: str
    value: float
    sd: float

    def h(self, v: float) -> float:
        return v


class _Toy:
    """A model whose two moments are its two parameters (identity map)."""

    def __init__(self, free):
        self.free = free

    def __call__(self, pars):
        return {f"m{i}": float(pars[abc.safe_name(p.path)]) for i, p in enumerate(self.free)}


def _budget(n: int) -> abc.Budget:
    return abc.Budget(trials=1, population=n, final_population=n, generations=1, target_rate=0.3, decay=0.5,
                      min_acceptance_rate=0.0, max_evaluations=10 * n, predictive_draws=1, predictive_trials=1,
                      exact_final=True)


def test_importance_final_recovers_a_gaussian_posterior(tmp_path):
    free = (SimpleNamespace(path="model.a", low=-10.0, high=10.0),
            SimpleNamespace(path="model.b", low=-10.0, high=10.0))
    targets = (_T("m0", 1.0, 0.5), _T("m1", -2.0, 0.8))
    rng = np.random.default_rng(7)
    # a poor start: shifted and too wide (a tempered population at T > 1 is wider than the posterior)
    start = np.column_stack([rng.normal(2.0, 1.5, 400), rng.normal(-1.0, 2.0, 400)])
    x, w, chi2, rounds = abc.importance_final(_Toy(free), free, targets, start, np.ones(len(start)), _budget(2000),
                                              20261205, tmp_path / "rounds.npz")
    assert len(rounds) == abc.IMPORTANCE_ROUNDS and len(x) == abc.IMPORTANCE_ROUNDS * 2000
    ess = effective_sample_size(w)
    assert ess >= rounds["ess"].iloc[-1] * 0.9
    for k, t in enumerate(targets):
        mean = float(np.sum(w * x[:, k]))
        sd = float(np.sqrt(np.sum(w * (x[:, k] - mean) ** 2)))
        se = t.sd / np.sqrt(ess)
        assert mean == pytest.approx(t.value, abs=4 * se)
        # the sd of a weighted sample's sd is about sd / sqrt(2 ESS)
        assert sd == pytest.approx(t.sd, abs=4 * t.sd / np.sqrt(2 * ess))
    assert np.allclose(chi2, ((x[:, 0] - 1.0) / 0.5) ** 2 + ((x[:, 1] + 2.0) / 0.8) ** 2)


def test_the_truncation_constant_is_the_proposal_mass_inside_the_prior_box():
    """Each round draws from its proposal truncated to the prior's box; the mixture divides each
    round's density by that round's mass inside the box. For a 1-D kernel density (pyABC's
    transition: a normal kernel of variance ``cov`` at each weighted point) the mass is
    sum_i w_i [Phi((hi - x_i)/s) - Phi((lo - x_i)/s)], which the Monte Carlo estimate must match
    within its binomial error."""
    import pandas as pd
    import pyabc
    from scipy.stats import norm

    points = np.linspace(-1.5, 0.5, 40)
    weights = np.linspace(1.0, 2.0, 40)
    weights /= weights.sum()
    trans = pyabc.MultivariateNormalTransition()
    trans.fit(pd.DataFrame({"p_a": points}), weights)
    s = float(np.sqrt(trans.cov[0, 0]))
    lo, hi = 0.0, 10.0
    exact = float(np.sum(weights * (norm.cdf((hi - points) / s) - norm.cdf((lo - points) / s))))
    n = 20_000
    got = abc._inside_share(trans, ["p_a"], np.array([lo]), np.array([hi]), 20261205, 0, n)
    assert 0.05 < exact < 0.6  # the box cuts the proposal: the constant matters
    assert got == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / n))
