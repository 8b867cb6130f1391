"""Shared helpers for the oracle tests of the cascade kernels.

The oracle tests hold :mod:`sim.classic.kernel` to numbers derived independently of it:
closed forms (percolation, generating functions, Watts' and Gleeson's threshold
results), exact enumeration of live-edge worlds, BFS, and a peer library
(cynetdiff). Every helper here is deterministic given its integer seed; no test
uses global random state.

Only the low-level API is used: a :class:`sim.world.graph.FlatGraph`, a model spec
compiled with :func:`sim.classic.model.compile_model`, a recruit rule resolved with
:func:`sim.classic.recruits.plan_recruits`, and the kernels' Python front
(:func:`sim.classic.kernel.final_sizes`, :func:`sim.classic.kernel.activation_times`).
"""

from __future__ import annotations

import numpy as np

from sim.base.rng import root_key
from sim.classic.kernel import activation_times, final_sizes
from sim.classic.model import compile_model
from sim.classic.recruits import plan_recruits
from sim.classic.spec import IndependentCascade, LinearThreshold
from sim.world.build import build_graph
from sim.world.graph import FlatGraph
from sim.world.spec import ErdosRenyiGraph

#: Number of standard errors a Monte Carlo mean may sit from its exact value. With an SE from
#: thousands of trials the two-sided false-alarm rate is 6e-5 per comparison (normal tail);
#: with an SE estimated from 10-12 per-graph means it is ~3e-3 (Student's t, 9-11 dof),
#: which is why graph-averaged tests use at least 10 graphs. Errors of a few percent in a
#: mean still fail.
K_SE = 4.0


def ic(edge_prob) -> IndependentCascade:
    """Return an Independent Cascade spec with the given edge probability (number or rule name)."""
    return IndependentCascade(kind="independent_cascade", edge_prob=edge_prob)


def lt(weights) -> LinearThreshold:
    """Return a Linear Threshold spec with the given weights (number or rule name)."""
    return LinearThreshold(kind="linear_threshold", weights=weights)


def simulate(graph: FlatGraph, model_spec, recruit_spec, seed: int, trials: int, max_steps=None):
    """Run ``trials`` trials of one model from one recruit rule and return their final sizes.

    Parameters
    ----------
    graph : FlatGraph
    model_spec : IndependentCascade, LinearThreshold or FractionalThreshold
    recruit_spec : RandomRecruits, TopDegreeRecruits or ExplicitRecruits
    seed : int
        Root seed of the run; trials are numbered 0..trials-1 under it.
    trials : int
    max_steps : int, optional

    Returns
    -------
    adopted : ndarray of int64
        Final number of active accounts per trial (recruits included).
    steps : ndarray of int32
        Step of the last activation per trial.
    """
    model = compile_model(model_spec, graph)
    plan = plan_recruits(recruit_spec, graph)
    return final_sizes(
        graph, model, plan, root_key(seed), np.arange(trials, dtype=np.int64), max_steps
    )


def activation_counts(
    graph: FlatGraph, model_spec, recruit_spec, seed: int, trials: int
) -> np.ndarray:
    """Count, per node (index order), the trials that activate it, via :func:`activation_times`."""
    model = compile_model(model_spec, graph)
    plan = plan_recruits(recruit_spec, graph)
    root = root_key(seed)
    counts = np.zeros(graph.n, dtype=np.int64)
    for t in range(trials):
        counts += activation_times(graph, model, plan, root, t) >= 0
    return counts


def mean_se(x) -> tuple[float, float]:
    """Return the sample mean and its standard error (sample sd / sqrt(count))."""
    x = np.asarray(x, dtype=np.float64)
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x)))


def er_graph(n: int, mean_degree: float, seed: int) -> FlatGraph:
    """Build an undirected Erdős–Rényi G(n, mean_degree / (n - 1)) with the project's builder."""
    return build_graph(
        ErdosRenyiGraph(kind="erdos_renyi", n=n, mean_degree=mean_degree, directed=False), seed
    )


def gnp_graph(n: int, mean_degree: float, seed: int) -> FlatGraph:
    """Sample an undirected G(n, p = mean_degree / (n - 1)) straight into flat form with numpy.

    Exact G(n, p): the edge count is M ~ Binomial(n (n - 1) / 2, p), and given M the edge set is
    a uniform M-subset of the pairs. Pairs drawn uniformly with replacement and de-duplicated
    form, given their number, a uniform subset (exchangeability), so a uniformly chosen M of
    them is a uniform M-subset. ~20x faster than NetworkX at n = 50,000, which is what lets
    the Gleeson test average over many graphs.
    """
    rng = np.random.default_rng(seed)
    p = mean_degree / (n - 1)
    m = int(rng.binomial(n * (n - 1) // 2, p))
    keys = np.zeros(0, dtype=np.int64)
    while len(keys) < m:
        # Repeats are rare in a sparse graph (about m^2 / n^2), so a small margin usually suffices.
        draw = m - len(keys) + 64 + m // 100
        i = rng.integers(0, n, size=draw)
        j = rng.integers(0, n, size=draw)
        ok = i != j
        lo, hi = np.minimum(i[ok], j[ok]), np.maximum(i[ok], j[ok])
        keys = np.unique(np.concatenate([keys, lo * n + hi]))
    keys = rng.permutation(keys)[:m]
    return FlatGraph.from_edges(
        n, keys // n, keys % n, directed=False, name=f"gnp({n},{mean_degree})"
    )


def regular_configuration_graph(n: int, k: int, seed: int) -> FlatGraph:
    """Build a random k-regular multigraph by uniform stub pairing (Bollobás 1980).

    ``nx.random_regular_graph`` takes ~4 s for n = 20,000; pairing stubs with numpy is instant.
    The pairing may leave O(1) self-loops and parallel edges in the whole graph (their expected
    numbers are (k-1)/2 and (k-1)^2/4), which shift percolation results by O(1/n) only; the
    generating-function theory (Newman 2002) is for exactly this ensemble.
    """
    if (n * k) % 2:
        raise ValueError("n * k must be even")
    rng = np.random.default_rng(seed)
    stubs = rng.permutation(np.repeat(np.arange(n), k))
    return FlatGraph.from_edges(
        n, stubs[0::2], stubs[1::2], directed=False, name=f"pairing({n},{k})"
    )


def random_arborescence(n: int, seed: int) -> np.ndarray:
    """Draw a random rooted tree with every edge pointing away from the root.

    Node 0 is the root; node v >= 1 gets a parent drawn uniformly from 0..v-1 (a random
    recursive tree, depth O(log n)). Every node has in-degree <= 1.

    Returns
    -------
    parent : ndarray of int64, shape (n,)
        Parent of each node, -1 for the root; the edges are ``parent[v] -> v`` for v >= 1.
    """
    rng = np.random.default_rng(seed)
    parent = np.full(n, -1, dtype=np.int64)
    for v in range(1, n):
        parent[v] = rng.integers(0, v)
    return parent


def tree_activation_probability(parent: np.ndarray, edge_p: np.ndarray, recruits) -> np.ndarray:
    """Compute the exact P(node active) for IC on an arborescence (Kempe et al. 2003, live edges).

    On a tree with edges pointing away from the root, node v is active iff some recruit a
    is an ancestor of v (or v itself) and every edge on the path a -> v is live; only the
    nearest recruit ancestor matters, since farther ones reach v through it. Hence
    P(v) = prod_{e in path(nearest recruit ancestor -> v)} p_e, and 0 without a recruit ancestor.

    Parameters
    ----------
    parent : int64[n]
        Parent of each node (-1 for the root); parents have smaller index than children.
    edge_p : float64[n]
        ``edge_p[v]`` is the probability of the edge ``parent[v] -> v`` (ignored for the root).
    recruits : iterable of int
    """
    n = len(parent)
    is_recruit = np.zeros(n, dtype=bool)
    is_recruit[list(recruits)] = True
    prob = np.zeros(n)
    for v in range(n):  # parents precede children, so prob[parent[v]] is final
        if is_recruit[v]:
            prob[v] = 1.0
        elif parent[v] >= 0:
            prob[v] = prob[parent[v]] * edge_p[v]
    return prob
