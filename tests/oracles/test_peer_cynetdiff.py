"""Agreement with a peer library: cynetdiff (Cython IC and LT, independent code and RNG).

On the SNAP wiki-Vote graph (Leskovec, Huttenlocher & Kleinberg 2010), both libraries run
the same model from the same 20 fixed recruits, and their mean final sizes must agree within
K_SE combined standard errors, sqrt(se_ours^2 + se_peer^2) (the two samples are independent).

Conventions, checked against cynetdiff 0.1.18's source: its CSR lists each node's successors
(``graph.neighbors`` of a DiGraph), so an edge u -> v lets u activate v, as in ours; its LT
default influence is 1 / in-degree of the edge's *target*, as our ``weights: in_degree``;
its LT thresholds are U(0, 1] and a node activates when the influence sum reaches the
threshold, ours U[0, 1) with ">=", the same law. wiki-Vote has no self-loops or repeated
pairs, which cynetdiff would reject.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from conftest import K_SE, ic, lt, mean_se, simulate

from sim.classic.spec import ExplicitRecruits

cynetdiff_utils = pytest.importorskip("cynetdiff.utils")

TRIALS = 3000
N_RECRUITS = 20


@pytest.fixture(scope="module")
def wiki_vote():
    """Load wiki-Vote as a FlatGraph and a NetworkX DiGraph on indices 0..n-1; pick 20 recruits."""
    from sim.world.datasets import DATASETS, DatasetUnavailable, dataset_path
    from sim.world.edgelist import read_graph

    try:
        path = dataset_path("wiki-vote")
    except DatasetUnavailable as exc:
        pytest.skip(f"wiki-Vote graph unavailable (no local copy, no download): {exc}")
    g = read_graph(path, directed=True, fmt=DATASETS["wiki-vote"].format, name="wiki-vote")
    nxg = nx.DiGraph()
    nxg.add_nodes_from(range(g.n))
    nxg.add_edges_from(zip(g.sources.tolist(), g.indices.tolist(), strict=True))
    assert nxg.number_of_edges() == g.m and nx.number_of_selfloops(nxg) == 0
    # Recruits: 20 distinct accounts that have followers (out-degree >= 1), chosen once.
    candidates = np.flatnonzero(g.out_degree > 0)
    recruit_idx = np.sort(np.random.default_rng(2024).choice(candidates, N_RECRUITS, replace=False))
    return g, nxg, recruit_idx


def peer_sizes(model, mapping, recruit_idx) -> np.ndarray:
    """Run cynetdiff TRIALS times from the recruits and return the final sizes."""
    model.set_seeds([mapping[int(v)] for v in recruit_idx])
    out = np.empty(TRIALS, dtype=np.int64)
    for t in range(TRIALS):
        model.reset_model()
        model.advance_until_completion()
        out[t] = model.get_num_activated_nodes()
    return out


def assert_means_agree(ours, peer):
    """Assert the two means agree within K_SE combined standard errors."""
    m1, se1 = mean_se(ours)
    m2, se2 = mean_se(peer)
    assert abs(m1 - m2) <= K_SE * np.hypot(se1, se2), (m1, se1, m2, se2)


def test_ic_agrees_with_cynetdiff(wiki_vote):
    """IC with p = 0.05 on every edge."""
    g, nxg, recruit_idx = wiki_vote
    p = 0.05
    labels = g.labels[recruit_idx].tolist()
    ours, _ = simulate(
        g, ic(p), ExplicitRecruits(rule="explicit", nodes=labels), seed=901, trials=TRIALS
    )
    model, mapping = cynetdiff_utils.networkx_to_ic_model(nxg, activation_prob=p, rng=902)
    assert_means_agree(ours, peer_sizes(model, mapping, recruit_idx))


def test_lt_agrees_with_cynetdiff(wiki_vote):
    """LT with Kempe's weights 1 / in-degree (cynetdiff's default)."""
    g, nxg, recruit_idx = wiki_vote
    labels = g.labels[recruit_idx].tolist()
    ours, _ = simulate(
        g, lt("in_degree"), ExplicitRecruits(rule="explicit", nodes=labels), seed=903, trials=TRIALS
    )
    model, mapping = cynetdiff_utils.networkx_to_lt_model(nxg, rng=904)
    assert_means_agree(ours, peer_sizes(model, mapping, recruit_idx))
