"""Centola's (2010) paired networks: the triangular torus and its degree-preserving rewiring."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sim.world.generators import rewired, torus_sides, triangular_torus


def _nx(n, indptr, indices):
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(np.repeat(np.arange(n), np.diff(indptr)).tolist(), indices.tolist(), strict=True))
    return g


@pytest.mark.parametrize("n", [98, 128, 144])
def test_triangular_torus_is_six_regular_with_clustering_two_fifths(n):
    rows, cols = torus_sides(n)
    assert rows * cols == n and 3 <= rows <= cols
    g = _nx(n, *triangular_torus(rows, cols))
    assert {d for _, d in g.degree()} == {6} and g.number_of_edges() == 3 * n
    # each account's 6 neighbours form a ring of 6 ties: C = 6 / C(6, 2) = 0.4 exactly
    assert nx.average_clustering(g) == pytest.approx(0.4, abs=1e-12)
    assert nx.is_connected(g)


def test_rewiring_keeps_degrees_and_removes_clustering():
    n = 128
    indptr, indices = triangular_torus(*torus_sides(n))
    g = _nx(n, *rewired(n, indptr, indices, 10, 7))
    assert {d for _, d in g.degree()} == {6} and g.number_of_edges() == 3 * n
    assert nx.is_connected(g) and nx.number_of_selfloops(g) == 0
    # a random 6-regular graph on 128 nodes has C ~ (Z - 1) / n ~ 0.04; the lattice has 0.4
    assert nx.average_clustering(g) < 0.1


def test_torus_sides_refuses_a_strip():
    with pytest.raises(ValueError, match="torus"):
        torus_sides(14)  # 2 x 7 only


def test_follower_graph_keeps_heavy_tailed_follower_counts():
    from sim.base.rng import Stream, numpy_generator
    from sim.world.generators import follower_graph

    rng = numpy_generator(3, Stream.WORLD)
    n = 5000
    followers = np.minimum(rng.zipf(2.1, n), 1000)
    indptr, indices = follower_graph(followers, rng)
    out = np.diff(indptr)
    src = np.repeat(np.arange(n), out)
    assert not np.any(src == indices)  # nobody follows themselves
    # dropped repeats: each of f picks among n - 1 repeats with probability ~ (f - 1) / (2 (n - 1))
    expected = followers - followers * (followers - 1) / (2 * (n - 1))
    assert np.all(out <= followers) and abs(out.sum() - expected.sum()) < 0.01 * expected.sum()
    # followers are uniform: in-degree ~ Poisson(mean out-degree)
    ind = np.bincount(indices, minlength=n)
    assert abs(ind.var() / ind.mean() - 1) < 0.1
