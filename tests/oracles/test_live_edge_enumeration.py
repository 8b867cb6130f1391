"""Exact influence on small graphs by enumerating live-edge worlds (Kempe, Kleinberg & Tardos 2003).

IC: each edge e is live independently with probability p_e; the active set is the set reachable
from the recruits over live edges (Kempe et al. 2003, proof of Thm. 2.2). With m <= 16 edges all 2^m
worlds are enumerated, giving the exact activation probability of every node,

    P(v active) = sum_worlds P(world) * [v reachable from S in world],
    sigma(S) = sum_v P(v active).

LT: with thresholds U(0, 1) and in-weights summing to at most 1, LT has the law of the live-edge
process in which every node independently keeps at most one in-edge, edge (u, v) with
probability b_uv and none with probability 1 - sum_u b_uv (Kempe et al. 2003, Claim 2.6).
All such choices are enumerated the same way.

The graphs include parallel edges (each is its own edge, with its own draw in IC and its own
weight in LT), cycles and a self-loop, and an undirected graph (both directions of every edge,
drawn independently). The enumeration works on the edge lists written here, not on the
kernel's arrays.

Monte Carlo: sigma from 200,000 trials of ``final_sizes``; per-node frequencies from 100,000
trials of ``activation_times``; each within K_SE standard errors of the sample
(sqrt(p_hat (1 - p_hat) / trials) for a frequency). Nodes whose exact probability is 0 or 1
must match exactly.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import K_SE, activation_counts, ic, lt, mean_se, simulate

from sim.classic.spec import ExplicitRecruits
from sim.world.graph import FlatGraph

SIGMA_TRIALS = 200_000
NODE_TRIALS = 100_000

# Directed graph A: 6 nodes, 13 edges; two parallel edges 0->1, cycles 1->2->3->1 and
# 3->4->5->3 and 5->0, a self-loop 4->4. Weights sum to <= 1 into every node, so they serve
# both as IC probabilities and as LT weights.
A_EDGES = [
    (0, 1, 0.35),
    (0, 1, 0.25),
    (3, 1, 0.30),
    (0, 2, 0.40),
    (1, 2, 0.55),
    (2, 3, 0.70),
    (5, 3, 0.25),
    (3, 4, 0.45),
    (2, 4, 0.25),
    (4, 4, 0.20),
    (4, 5, 0.80),
    (1, 5, 0.15),
    (5, 0, 0.30),
]
A_N = 6

# Undirected graph B: 6 nodes, 8 edges (16 directed): a 4-cycle 0-1-2-3 with chord 0-2,
# and a triangle 3-4-5 hanging off node 3.
B_EDGES = [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2), (3, 4), (4, 5), (5, 3)]
B_N = 6


def graph_a() -> FlatGraph:
    """Build graph A in flat form, weights attached (edges given in a scrambled order)."""
    order = np.random.default_rng(3).permutation(len(A_EDGES))
    src, dst, w = (np.array([A_EDGES[i][j] for i in order]) for j in range(3))
    return FlatGraph.from_edges(A_N, src.astype(int), dst.astype(int), weight=w)


def graph_b() -> FlatGraph:
    """Build graph B in flat form (undirected: the kernel stores both directions)."""
    src, dst = np.array(B_EDGES).T
    return FlatGraph.from_edges(B_N, src, dst, directed=False)


def reach_probability(n, src, dst, live, weight, recruits) -> np.ndarray:
    """Compute the exact P(v reachable from recruits) over all worlds.

    Parameters
    ----------
    n : int
    src, dst : int arrays, shape (m,)
        The edges.
    live : bool array, shape (W, m)
        Which edges are live in each world.
    weight : float array, shape (W,)
        Probability of each world (must sum to 1).
    recruits : list of int
    """
    assert abs(weight.sum() - 1.0) < 1e-12
    reach = np.zeros((live.shape[0], n), dtype=bool)
    reach[:, recruits] = True
    for _ in range(n):  # n rounds of relaxation reach every node at distance < n
        for e in range(len(src)):
            reach[:, dst[e]] |= reach[:, src[e]] & live[:, e]
    return weight @ reach


def ic_exact(n, edges, recruits) -> np.ndarray:
    """Compute IC's per-node activation probability over all 2^m live-edge worlds."""
    src = np.array([e[0] for e in edges])
    dst = np.array([e[1] for e in edges])
    p = np.array([e[2] for e in edges], dtype=float)
    m = len(edges)
    assert m <= 16
    live = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(bool)
    weight = np.prod(np.where(live, p, 1.0 - p), axis=1)
    return reach_probability(n, src, dst, live, weight, recruits)


def lt_exact(n, edges, recruits) -> np.ndarray:
    """Compute LT's per-node activation probability over all of Kempe's live-edge choices.

    Node v keeps in-edge e (into v) with probability b_e, or none with 1 - sum b_e.
    """
    src = np.array([e[0] for e in edges])
    dst = np.array([e[1] for e in edges])
    b = np.array([e[2] for e in edges], dtype=float)
    options = []
    for v in range(n):
        ins = np.flatnonzero(dst == v)
        none = 1.0 - b[ins].sum()
        assert none > -1e-12, f"in-weights of node {v} sum to more than 1"
        options.append([(-1, max(none, 0.0))] + [(int(e), b[e]) for e in ins])
    choices = list(itertools.product(*options))
    live = np.zeros((len(choices), len(edges)), dtype=bool)
    weight = np.empty(len(choices))
    for c, choice in enumerate(choices):
        weight[c] = np.prod([pr for _, pr in choice])
        for e, _ in choice:
            if e >= 0:
                live[c, e] = True
    return reach_probability(n, src, dst, live, weight, recruits)


def directed_b(p_or_b) -> list[tuple]:
    """List graph B's 16 directed edges, each with the value ``p_or_b(u, v)``."""
    out = []
    for u, v in B_EDGES:
        out += [(u, v, p_or_b(u, v)), (v, u, p_or_b(v, u))]
    return out


def in_degree_weights(edges) -> list[tuple]:
    """Attach Kempe's LT weights b_uv = 1 / in-degree(v), multiplicity (and self-loops) counted."""
    indeg = np.bincount([e[1] for e in edges])
    return [(u, v, 1.0 / indeg[v]) for u, v, *_ in edges]


def assert_matches_exact(graph, model_spec, recruits, exact, seed):
    """Hold sigma and every node's activation frequency to the exact values."""
    rule = ExplicitRecruits(rule="explicit", nodes=recruits)
    adopted, _ = simulate(graph, model_spec, rule, seed, SIGMA_TRIALS)
    mean, se = mean_se(adopted)
    assert abs(mean - exact.sum()) <= K_SE * se, ("sigma", mean, se, exact.sum())
    # Node labels are 0..n-1 in both graphs, so index order is label order.
    freq = activation_counts(graph, model_spec, rule, seed + 1, NODE_TRIALS) / NODE_TRIALS
    certain = (exact < 1e-12) | (exact > 1.0 - 1e-12)
    np.testing.assert_array_equal(freq[certain], np.round(exact[certain]))
    se_node = np.sqrt(freq * (1.0 - freq) / NODE_TRIALS)
    bad = ~certain & (np.abs(freq - exact) > K_SE * se_node)
    assert not bad.any(), {"node": np.flatnonzero(bad), "freq": freq[bad], "exact": exact[bad]}


@pytest.mark.parametrize("recruits", [[0], [2, 5]])
def test_ic_exact_directed_multigraph(recruits):
    """IC with per-edge probabilities on graph A (parallel edges, cycles, self-loop)."""
    exact = ic_exact(A_N, A_EDGES, recruits)
    assert_matches_exact(graph_a(), ic("edge_weight"), recruits, exact, seed=301)


def test_ic_exact_undirected():
    """IC with p = 0.4 on undirected graph B (16 directed edges, 65,536 worlds)."""
    exact = ic_exact(B_N, directed_b(lambda u, v: 0.4), [4])
    assert_matches_exact(graph_b(), ic(0.4), [4], exact, seed=311)


@pytest.mark.parametrize("weights", ["edge_weight", 0.3, "in_degree"])
def test_lt_exact_directed_multigraph(weights):
    """LT on graph A with the file's weights, a constant 0.3 (in-degree <= 3), and 1 / in-degree."""
    if weights == "edge_weight":
        edges = A_EDGES
    elif weights == "in_degree":
        edges = in_degree_weights(A_EDGES)
    else:
        edges = [(u, v, weights) for u, v, _ in A_EDGES]
    exact = lt_exact(A_N, edges, [0])
    assert_matches_exact(graph_a(), lt(weights), [0], exact, seed=321)


@pytest.mark.parametrize("weights", [0.25, "in_degree"])
def test_lt_exact_undirected(weights):
    """LT on undirected graph B: 0.25 each (node 3: in-degree 4, sum exactly 1), 1 / in-degree."""
    edges = directed_b(lambda u, v: 0.0)
    edges = (
        in_degree_weights(edges)
        if weights == "in_degree"
        else [(u, v, weights) for u, v, _ in edges]
    )
    exact = lt_exact(B_N, edges, [1])
    assert_matches_exact(graph_b(), lt(weights), [1], exact, seed=331)
