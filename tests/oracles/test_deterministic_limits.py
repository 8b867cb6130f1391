"""Deterministic limits of the cascade models, checked exactly against graph search.

* p = 0: nothing spreads; every trial ends with exactly its recruits, at step 0.
* p = 1: every edge is live, so the active set is the set reachable from the recruits and
  each node's activation step is its (multi-source) BFS distance from them (Kempe et al. 2003:
  IC activates the live-edge reachable set, one hop per step). Linear Threshold with every
  weight 1 is the same process: a single active in-neighbour contributes 1 > theta for any
  theta in [0, 1).

The reference distances come from NetworkX (``multi_source_dijkstra_path_length`` on an
unweighted digraph is multi-source BFS), independently of the kernel.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from conftest import ic, lt, simulate

from sim.base.rng import root_key
from sim.classic.kernel import activation_times
from sim.classic.model import compile_model
from sim.classic.recruits import plan_recruits
from sim.classic.spec import ExplicitRecruits, RandomRecruits
from sim.world.graph import FlatGraph

RECRUITS = [3, 150, 377]


@pytest.fixture(scope="module")
def digraph():
    """Build a sparse directed G(500, 0.004) (mean out-degree 2): partial reach, varied steps."""
    g = nx.gnp_random_graph(500, 0.004, seed=12, directed=True)
    return g, FlatGraph.from_networkx(g)


def bfs_times(g: nx.DiGraph, sources) -> np.ndarray:
    """Return the multi-source BFS distance of every node (-1 if unreachable), via NetworkX."""
    dist = nx.multi_source_dijkstra_path_length(g, set(sources))
    out = np.full(g.number_of_nodes(), -1, dtype=np.int64)
    for v, d in dist.items():
        out[v] = d
    return out


def test_p_zero_gives_only_the_explicit_recruits(digraph):
    """IC, p = 0, explicit recruits (one named twice, counted once): nothing else activates."""
    _, g = digraph
    rule = ExplicitRecruits(rule="explicit", nodes=RECRUITS + [RECRUITS[0]])
    adopted, steps = simulate(g, ic(0.0), rule, seed=5, trials=500)
    assert np.all(adopted == len(RECRUITS))
    assert np.all(steps == 0)
    compiled, plan = compile_model(ic(0.0), g), plan_recruits(rule, g)
    expected = np.full(g.n, -1)
    expected[RECRUITS] = 0
    for trial in range(20):
        np.testing.assert_array_equal(
            activation_times(g, compiled, plan, root_key(5), trial), expected
        )


def test_p_zero_gives_only_the_random_recruits(digraph):
    """IC, p = 0, 7 random recruits: every trial ends with exactly 7 distinct active nodes."""
    _, g = digraph
    adopted, steps = simulate(
        g, ic(0.0), RandomRecruits(rule="random", count=7), seed=5, trials=500
    )
    assert np.all(adopted == 7)
    assert np.all(steps == 0)


@pytest.mark.parametrize("model", [ic(1.0), lt(1.0)], ids=["ic_p1", "lt_w1"])
def test_p_one_is_bfs(digraph, model):
    """IC with p = 1 or LT with weight 1: size = |reachable set|, times = BFS distances.

    The duration (step of the last activation) is the largest BFS distance.
    """
    nxg, g = digraph
    expected = bfs_times(nxg, RECRUITS)
    reach = int((expected >= 0).sum())
    assert 1 < reach < g.n - 10, "the graph should make reachability non-trivial"
    rule = ExplicitRecruits(rule="explicit", nodes=RECRUITS)
    compiled = compile_model(model, g)
    plan = plan_recruits(rule, g)
    for trial in range(5):
        np.testing.assert_array_equal(
            activation_times(g, compiled, plan, root_key(9), trial), expected
        )
    adopted, steps = simulate(g, model, rule, seed=9, trials=200)
    assert np.all(adopted == reach)
    assert np.all(steps == expected.max())


def test_p_one_with_step_limit_is_truncated_bfs(digraph):
    """With max_steps = 3, exactly the nodes within BFS distance 3 are active, at their distance."""
    nxg, g = digraph
    expected = bfs_times(nxg, RECRUITS)
    assert expected.max() > 3, "the limit must cut the cascade short"
    expected[expected > 3] = -1
    rule = ExplicitRecruits(rule="explicit", nodes=RECRUITS)
    times = activation_times(
        g, compile_model(ic(1.0), g), plan_recruits(rule, g), root_key(9), 0, max_steps=3
    )
    np.testing.assert_array_equal(times, expected)
    adopted, steps = simulate(g, ic(1.0), rule, seed=9, trials=10, max_steps=3)
    assert np.all(adopted == (expected >= 0).sum())
    assert np.all(steps == 3)


def test_p_one_random_recruits_is_bfs_from_them(digraph):
    """IC, p = 1, 4 random recruits: whichever were drawn (time 0), the rest is BFS from them."""
    nxg, g = digraph
    compiled = compile_model(ic(1.0), g)
    plan = plan_recruits(RandomRecruits(rule="random", count=4), g)
    for trial in range(20):
        times = activation_times(g, compiled, plan, root_key(3), trial)
        drawn = np.flatnonzero(times == 0)
        assert len(drawn) == 4
        np.testing.assert_array_equal(times, bfs_times(nxg, drawn.tolist()))
