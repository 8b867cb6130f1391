"""Exact cascade sizes on trees (Kempe, Kleinberg & Tardos 2003, KDD, live-edge argument).

On a tree whose edges point away from the recruit, node v is active iff every edge on the
path recruit -> v is live, so the expected cascade size is

    sigma = sum_v prod_{e in path(recruit -> v)} p_e.

Special cases: a star with n leaves from its centre, 1 + n p; a path of length L from one end,
sum_{i=0}^{L} p^i. And where every node has in-degree <= 1, Linear Threshold with weight b on
an edge is the same process as IC with probability b on it (Kempe et al. 2003, Claim 2.6: the
node's only possible live in-edge is chosen with probability b), so both engines must match
the same exact value and each other.

Each Monte Carlo mean is compared with the exact value within ``K_SE`` standard errors of
the sample; LT and IC use different random streams, so their difference has SE
sqrt(se_IC^2 + se_LT^2).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    K_SE,
    ic,
    lt,
    mean_se,
    random_arborescence,
    simulate,
    tree_activation_probability,
)

from sim.classic.spec import ExplicitRecruits
from sim.world.graph import FlatGraph

TRIALS = 40_000


def test_star_from_centre():
    """Directed star, 50 leaves, p = 0.3, recruit the centre: sigma = 1 + n p = 16."""
    n_leaves, p = 50, 0.3
    g = FlatGraph.from_edges(n_leaves + 1, np.zeros(n_leaves), np.arange(1, n_leaves + 1))
    adopted, _ = simulate(
        g, ic(p), ExplicitRecruits(rule="explicit", nodes=[0]), seed=101, trials=TRIALS
    )
    mean, se = mean_se(adopted)
    assert abs(mean - (1 + n_leaves * p)) <= K_SE * se, (mean, se)


def test_undirected_star_from_a_leaf():
    """Undirected star, 50 leaves, p = 0.3, recruit a leaf: sigma = 1 + p + (n - 1) p^2.

    The leaf reaches the centre with probability p, and the centre each of the other n - 1
    leaves with probability p; the mirrored edges back towards active nodes never matter.
    """
    n_leaves, p = 50, 0.3
    g = FlatGraph.from_edges(
        n_leaves + 1, np.zeros(n_leaves), np.arange(1, n_leaves + 1), directed=False
    )
    adopted, _ = simulate(
        g, ic(p), ExplicitRecruits(rule="explicit", nodes=[7]), seed=102, trials=TRIALS
    )
    mean, se = mean_se(adopted)
    exact = 1 + p + (n_leaves - 1) * p**2
    assert abs(mean - exact) <= K_SE * se, (mean, se, exact)


@pytest.mark.parametrize("directed", [True, False])
def test_path_from_one_end(directed):
    """Path of length L = 12, p = 0.8, recruit an end: sigma = sum_{i=0}^{L} p^i.

    Also the duration: the last activation happens at step D where D + 1 is the number of
    active nodes, so E[steps] = sigma - 1 exactly.
    """
    length, p = 12, 0.8
    g = FlatGraph.from_edges(
        length + 1, np.arange(length), np.arange(1, length + 1), directed=directed
    )
    adopted, steps = simulate(
        g, ic(p), ExplicitRecruits(rule="explicit", nodes=[0]), seed=103, trials=TRIALS
    )
    exact = sum(p**i for i in range(length + 1))
    mean, se = mean_se(adopted)
    assert abs(mean - exact) <= K_SE * se, (mean, se, exact)
    np.testing.assert_array_equal(steps, adopted - 1)


@pytest.fixture(scope="module")
def weighted_tree():
    """Build a random 400-node arborescence (root 0) with edge probabilities U(0.3, 0.95).

    Returns the graph (edge weights attached, edges listed in shuffled order so that the
    kernel's sorted edge numbering differs from the input order), the parent array and the
    per-child edge probability.
    """
    n = 400
    parent = random_arborescence(n, seed=7)
    rng = np.random.default_rng(8)
    edge_p = rng.uniform(0.3, 0.95, size=n)
    child = rng.permutation(np.arange(1, n))
    g = FlatGraph.from_edges(n, parent[child], child, weight=edge_p[child])
    return g, parent, edge_p


def test_random_tree_per_edge_probabilities(weighted_tree):
    """IC with per-edge probabilities ('edge_weight') on a random tree from the root.

    sigma = sum_v prod_{e in path(root -> v)} p_e, computed by walking down the tree.
    """
    g, parent, edge_p = weighted_tree
    exact = tree_activation_probability(parent, edge_p, [0]).sum()
    adopted, _ = simulate(
        g, ic("edge_weight"), ExplicitRecruits(rule="explicit", nodes=[0]), seed=104, trials=TRIALS
    )
    mean, se = mean_se(adopted)
    assert abs(mean - exact) <= K_SE * se, (mean, se, exact)


@pytest.mark.parametrize("weights", ["edge_weight", 0.6])
def test_lt_equals_ic_on_arborescence(weighted_tree, weights):
    """LT with weights b and IC with probabilities b agree on a tree of in-degree <= 1.

    Recruits: the root plus two interior nodes, so the exact formula uses the nearest recruit
    ancestor (``tree_activation_probability``). Both engines are held to the exact value and to
    each other (difference within K_SE combined standard errors).
    """
    g, parent, edge_p = weighted_tree
    assert g.in_degree.max() == 1
    recruits = [0, 5, 17]
    probs = edge_p if weights == "edge_weight" else np.full(len(parent), float(weights))
    exact = tree_activation_probability(parent, probs, recruits).sum()
    rule = ExplicitRecruits(rule="explicit", nodes=recruits)
    a_ic, _ = simulate(g, ic(weights), rule, seed=105, trials=TRIALS)
    a_lt, _ = simulate(g, lt(weights), rule, seed=105, trials=TRIALS)
    m_ic, se_ic = mean_se(a_ic)
    m_lt, se_lt = mean_se(a_lt)
    assert abs(m_ic - exact) <= K_SE * se_ic, ("IC", m_ic, se_ic, exact)
    assert abs(m_lt - exact) <= K_SE * se_lt, ("LT", m_lt, se_lt, exact)
    assert abs(m_ic - m_lt) <= K_SE * np.hypot(se_ic, se_lt), (m_ic, m_lt)
