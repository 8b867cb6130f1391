"""The general threshold model against exact results: Granovetter (1978) and reinforcement counts.

1. Granovetter's deterministic example, complete mixing, N = 100: thresholds 0, 1, ..., 99
   (counts of others who must act first) bring all 100 out; raising the threshold-1 person's
   to 2 leaves only the instigator.
2. Normal thresholds, N = 100 on the complete graph: the mean final number acting equals the
   exact finite-N expectation (dynamic programme in :func:`sim.classic.theory.granovetter_finite`)
   within K_SE standard errors, below, near and above the continuum's critical sd 12.2.
3. Signal (reinforcement) thresholds on a star: a leaf adopts from the active centre iff its
   count threshold is 1, probability h_1; the centre adopts from j active leaves iff T <= j,
   P = 1 - prod_{i<=j} (1 - h_i). Both checked by counting over trials.
4. The normal quantile the kernels use matches scipy's to 1e-15 (relative).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import K_SE, mean_se
from scipy.special import ndtri
from scipy.stats import norm

from sim.base.rng import normal_quantile, normal_quantile_jit, root_key
from sim.classic import theory
from sim.classic.kernel import final_sizes
from sim.classic.model import compile_model
from sim.classic.recruits import RecruitPlan
from sim.classic.spec import GeneralThreshold
from sim.world.graph import FlatGraph

NONE = RecruitPlan(np.zeros(0, dtype=np.int32), 0)


def complete(n: int) -> FlatGraph:
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    return FlatGraph.from_edges(n, i, j, directed=True, name=f"complete-{n}")


def granovetter(values=None, mean=None, sd=None):
    law = {"kind": "listed", "values": values} if values is not None else {"kind": "normal", "mean": mean, "sd": sd}
    return GeneralThreshold.model_validate({"kind": "threshold", "thresholds": law, "units": "count",
                                            "instigators": True})


def test_granovetter_deterministic_example():
    g = complete(100)
    ladder = list(range(100))
    sizes, _ = final_sizes(g, compile_model(granovetter(ladder), g), NONE, root_key(1), np.arange(3))
    assert sizes.tolist() == [100, 100, 100]
    ladder[1] = 2
    sizes, _ = final_sizes(g, compile_model(granovetter(ladder), g), NONE, root_key(1), np.arange(3))
    assert sizes.tolist() == [1, 1, 1]


@pytest.mark.parametrize("sd", [6.0, 10.0, 12.2, 14.0, 20.0])
def test_normal_thresholds_match_exact_finite_n(sd):
    n, trials = 100, 4000
    g = complete(n)
    sizes, _ = final_sizes(g, compile_model(granovetter(mean=25.0, sd=sd), g), NONE, root_key(int(sd * 10)),
                           np.arange(trials))
    dist = theory.granovetter_finite(n, lambda x: norm.cdf(x, 25.0, sd))
    exact = float(np.arange(n + 1) @ dist)
    mean, se = mean_se(sizes)
    assert abs(mean - exact) <= K_SE * se + 1e-9, (mean, se, exact)


def test_continuum_critical_sd():
    """Granovetter's jump: sigma_c = 0.1222 (fractions); below it ~4-5.5%, above it ~all."""
    sc = theory.granovetter_critical_sd(0.25)
    assert abs(sc - 0.12222) < 5e-5
    assert 0.035 < theory.granovetter_normal(0.25, 0.12) < 0.045
    assert theory.granovetter_normal(0.25, 0.125) > 0.999


def test_signal_thresholds_on_a_star():
    hazard = [0.2, 0.5, 0.7]
    leaves = 5
    src = np.r_[np.zeros(leaves), np.arange(1, leaves + 1)].astype(np.int64)
    dst = np.r_[np.arange(1, leaves + 1), np.zeros(leaves)].astype(np.int64)
    star = FlatGraph.from_edges(leaves + 1, src, dst, directed=True, name="star")
    model = compile_model(GeneralThreshold.model_validate(
        {"kind": "threshold", "thresholds": {"kind": "signals", "adopt": hazard}, "units": "count"}), star)
    trials = np.arange(20_000)
    # centre active: each leaf adopts iff T = 1 (the centre is its only in-neighbour)
    sizes, _ = final_sizes(star, model, RecruitPlan(np.array([0], np.int32), 0), root_key(3), trials)
    mean, se = mean_se((sizes - 1) / leaves)
    assert abs(mean - hazard[0]) <= K_SE * se
    # j leaves active (and nothing else can follow): the centre adopts iff T <= j
    for j in (1, 2, 3, 4):
        plan = RecruitPlan(np.arange(1, j + 1, dtype=np.int32), 0)
        sizes, _ = final_sizes(star, model, plan, root_key(10 + j), trials)
        centre = sizes > j  # the centre adopted (then leaves may follow)
        h = [hazard[min(i, len(hazard) - 1)] for i in range(j)]
        exact = 1.0 - np.prod(1.0 - np.array(h))
        p = centre.mean()
        assert abs(p - exact) <= K_SE * np.sqrt(exact * (1 - exact) / len(trials)), (j, p, exact)


def test_normal_quantile_matches_scipy():
    u = np.concatenate([np.linspace(1e-300, 1 - 1e-16, 50_001), [1e-10, 0.5, 0.975, 1 - 1e-12]])
    ours = np.array([normal_quantile(x) for x in u])
    assert np.array_equal(ours, np.array([normal_quantile_jit(x) for x in u]))
    ref = ndtri(u)
    nz = ref != 0
    assert np.max(np.abs(ours[nz] - ref[nz]) / np.abs(ref[nz])) < 1e-14
    assert normal_quantile(0.0) == -np.inf
