"""Direct (NumPy/numba) graph generators sample the same models as NetworkX's.

Large worlds are built by :mod:`sim.world.generators`; these tests hold them to NetworkX's
generators at small size, statistically: degree distributions (two-sample chi-square on
binned degrees, and the closed-form Poisson law for G(n, p)), community mixing, and the
interest homophily of creator-audience worlds built on either.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy import stats

from sim.input.scenario import Scenario
from sim.world.build import build_graph, build_world
from sim.world.spec import BarabasiAlbertGraph, CommunitiesGraph, ErdosRenyiGraph

SEEDS = range(4)


def degrees(spec, builder):
    return np.concatenate([build_graph(spec.model_copy(update={"builder": builder}), s).out_degree for s in SEEDS])


def same_distribution(a: np.ndarray, b: np.ndarray) -> float:
    """p-value of a chi-square test that two degree samples share one distribution."""
    edges = np.unique(np.quantile(np.concatenate([a, b]), np.linspace(0, 1, 12)))
    edges[-1] += 1
    ca, _ = np.histogram(a, edges)
    cb, _ = np.histogram(b, edges)
    keep = (ca + cb) > 0
    return stats.chi2_contingency(np.vstack([ca[keep], cb[keep]]))[1]


@pytest.mark.parametrize("directed", [False, True])
def test_erdos_renyi_direct_matches_networkx_and_poisson(directed):
    spec = ErdosRenyiGraph(kind="erdos_renyi", n=20000, mean_degree=5.0, directed=directed)
    d, x = degrees(spec, "direct"), degrees(spec, "networkx")
    assert same_distribution(d, x) > 1e-3
    # Poisson(5) in the sparse limit: mean within 4 SE, and P(k = 0) = e^-5 within 4 binomial SE.
    se = np.sqrt(5.0 / len(d))
    assert abs(d.mean() - 5.0) < 4 * se + 5.0 / 20000
    p0 = np.exp(-5.0)
    assert abs((d == 0).mean() - p0) < 4 * np.sqrt(p0 * (1 - p0) / len(d))


def test_barabasi_albert_direct_matches_networkx():
    spec = BarabasiAlbertGraph(kind="barabasi_albert", n=20000, m=3)
    d, x = degrees(spec, "direct"), degrees(spec, "networkx")
    assert d.sum() == x.sum()  # both add exactly m edges per new node
    assert same_distribution(d, x) > 1e-3
    # heavy tail: share of degree >= 30 alike within 4 binomial SE of the pooled share
    p = ((d >= 30).mean() + (x >= 30).mean()) / 2
    assert abs((d >= 30).mean() - (x >= 30).mean()) < 4 * np.sqrt(2 * p * (1 - p) / len(d))


def test_communities_direct_matches_networkx_degree_and_mixing():
    spec = CommunitiesGraph(kind="communities", n=20000, count=50, mean_degree=8.0, mixing=0.25)
    d, x = degrees(spec, "direct"), degrees(spec, "networkx")
    assert same_distribution(d, x) > 1e-3
    assert abs(d.mean() - 8.0) < 4 * np.sqrt(8.0 / len(d)) + 0.02
    # mixing: the share of edges leaving the community is close to `mixing` (+ chance same-community picks)
    g = build_graph(spec.model_copy(update={"builder": "direct"}), 0)
    community = np.arange(g.n) % spec.count
    out = (community[g.sources] != community[g.indices]).mean()
    expected = spec.mixing * (1 - 1 / spec.count)
    assert abs(out - expected) < 4 * np.sqrt(expected * (1 - expected) / g.m) + 0.005


WORLD = {
    "kind": "creator_audience",
    "scale": 10.0,
    "audience": {
        "peers": {"kind": "erdos_renyi", "n": 20000, "mean_degree": 8.0},
        "segments": [{"name": "a", "share": 1.0, "platforms": {"ig": 0.7}}],
        "interest": {"mean": 0.3, "concentration": 3.0, "homophily": 0.6},
    },
    "platforms": {"ig": {"organic_reach": 0.2}},
    "tiers": {"micro": {"followers": [2000, 20000], "count": 40, "platforms": {"ig": 1.0},
                        "engagement": 0.1, "trust": 0.5}},
    "follower_homophily": 3.0,
}


def population(builder):
    world = copy.deepcopy(WORLD)
    world["audience"]["peers"]["builder"] = builder
    sc = Scenario.model_validate({
        "name": "g", "seed": 9, "trials": 1, "world": world, "model": {"kind": "campaign"},
        "rate_card": {"ig": {"micro": 1.0}},
        "strategies": [{"name": "s", "posts": [{"tier": "micro", "platform": "ig", "creators": 1, "days": [0]}]}]})
    return build_world(sc.world, sc.seed).population


def test_population_on_either_builder_has_the_same_homophily_and_tiers():
    """Peer interest correlation (homophily) and creators' audiences agree across builders."""
    stats_by_builder = {}
    for builder in ("direct", "networkx"):
        pop = population(builder)
        g = pop.graph
        peer = g.sources < pop.n_audience
        a, b = pop.interest[g.sources[peer]], pop.interest[g.indices[peer]]
        r = np.corrcoef(a, b)[0, 1]
        creators = pop.followers_sim
        # aligned creators attract interested followers
        mean_interest = np.array([pop.interest[g.indices[g.indptr[u]:g.indptr[u + 1]]].mean()
                                  for u in range(pop.n_audience, g.n)])
        stats_by_builder[builder] = (r, peer.sum(), creators, mean_interest, pop.alignment)
    (r1, m1, c1, i1, a1), (r2, m2, c2, i2, a2) = stats_by_builder.values()
    # Fisher z: SE of a correlation ~ 1/sqrt(m); both are far from 0 (homophily works)
    assert r1 > 0.2 and r2 > 0.2
    assert abs(np.arctanh(r1) - np.arctanh(r2)) < 4 * np.sqrt(1 / m1 + 1 / m2)
    assert np.array_equal(c1, c2)  # creators and their follower counts do not depend on the peer builder
    assert stats.spearmanr(a1, i1).statistic > 0.3 and stats.spearmanr(a2, i2).statistic > 0.3


# --------------------------------------------------------------------------- follower sampling

@pytest.mark.parametrize("n", [1, 63, 64, 65, 1000, 200_003])
def test_follower_cdf_search_equals_numpy(n):
    """The blocked galloping search gives NumPy's searchsorted(side="right") integers exactly,
    with flat stretches in the CDF, keys equal to CDF entries and keys outside its range."""
    from sim.world.population import coarse_index, search_sorted_keys

    rng = np.random.default_rng(n)
    cdf = np.cumsum(rng.random(n) ** 3)
    cdf[rng.integers(0, n, n // 10 + 1)] = 0.0
    cdf = np.maximum.accumulate(cdf)  # nondecreasing, with repeated values
    for k in (1, 7, 500, 50_000):
        keys = np.sort(np.concatenate([rng.uniform(-0.1, 1.1, k) * cdf[-1], cdf[rng.integers(0, n, k // 5 + 1)]]))
        got = search_sorted_keys(cdf, coarse_index(cdf), keys)
        assert np.array_equal(got, np.searchsorted(cdf, keys, side="right")), (n, k)


def test_sorted_union_equals_numpy():
    from sim.world.population import union_sorted

    rng = np.random.default_rng(5)
    for na, nb in [(0, 0), (0, 6), (6, 0), (1, 1), (1000, 300), (20_000, 20_000)]:
        a = np.unique(rng.integers(0, 2 * na + 2, na))
        b = np.sort(rng.integers(0, 2 * na + 2, nb))  # with repeats, which the union drops
        out = union_sorted(a, b)
        assert out.dtype == a.dtype and np.array_equal(out, np.union1d(a, b)), (na, nb)
