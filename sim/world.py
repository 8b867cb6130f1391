"""Building the world a scenario describes: today, its follow graph in flat form.

Generators are NetworkX's, seeded from the run's root seed through a keyed
generator (stream ``WORLD``), so the same seed always builds the same world and
the world does not depend on anything drawn for trials. Real graphs are read
from files or from the dataset registry.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from sim.datasets import DATASETS, dataset_path
from sim.edgelist import read_graph
from sim.graph import FlatGraph
from sim.population import Population, build_population
from sim.rng import Stream, numpy_generator
from sim.scenario import (
    BarabasiAlbertGraph,
    CommunitiesGraph,
    ConfigurationGraph,
    CreatorAudienceWorld,
    DatasetGraph,
    DegreeDistribution,
    EdgeListGraph,
    ErdosRenyiGraph,
    GraphSpec,
    PmfDegrees,
    PoissonDegrees,
    PowerLawDegrees,
    RandomRegularGraph,
    WattsStrogatzGraph,
    WorldSpec,
)


@dataclass(frozen=True, eq=False)
class World:
    """Everything the trials of a run share.

    Attributes
    ----------
    graph : FlatGraph
        The follow graph (``u -> v``: ``v`` follows ``u``).
    population : Population or None
        Creators, audience and platforms, for campaign worlds.
    """

    graph: FlatGraph
    population: Population | None = None


def planted_partition(n: int, count: int, mean_degree: float, mixing: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected planted-partition edges, built in O(edges) with numpy.

    Accounts are split into ``count`` near-equal communities (``community = i % count``).
    Each of the ``n * mean_degree / 2`` edges joins two accounts of one community with
    probability ``1 - mixing`` and two accounts drawn from the whole graph otherwise.
    Self-loops and repeated pairs are dropped (O(1/n) of the edges when sparse).

    Returns
    -------
    src, dst : int64 arrays
        Edge endpoints (each undirected edge once).
    community : int64 array
        Community of every account.
    """
    community = np.arange(n) % count
    m = int(round(n * mean_degree / 2))
    inside = rng.random(m) < 1.0 - mixing
    src = rng.integers(0, n, size=m)
    dst = rng.integers(0, n, size=m)
    # Same community: keep src's community, pick a random member of it.
    size = np.bincount(community, minlength=count)
    c = community[src[inside]]
    dst[inside] = c + count * np.floor(rng.random(inside.sum()) * size[c]).astype(np.int64)
    a, b = np.minimum(src, dst), np.maximum(src, dst)
    keep = a != b
    _, first = np.unique(a[keep] * n + b[keep], return_index=True)
    return a[keep][np.sort(first)], b[keep][np.sort(first)], community


def sample_degrees(spec: DegreeDistribution, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw n i.i.d. degrees from a degree distribution, made to sum to an even number."""
    if isinstance(spec, PoissonDegrees):
        deg = rng.poisson(spec.mean, size=n)
    elif isinstance(spec, PowerLawDegrees):
        ks = np.arange(spec.min, spec.max + 1)
        p = ks.astype(float) ** -spec.exponent
        deg = rng.choice(ks, size=n, p=p / p.sum())
    elif isinstance(spec, PmfDegrees):
        ks = np.array(sorted(spec.pmf))
        p = np.array([spec.pmf[k] for k in ks])
        deg = rng.choice(ks, size=n, p=p / p.sum())
    else:  # pragma: no cover - the schema admits no other kind
        raise TypeError(spec)
    deg = deg.astype(np.int64)
    if deg.sum() % 2:
        # Re-draw one stub by moving a unit to a random node: keeps the distribution up to O(1/n).
        i = int(rng.integers(n))
        deg[i] += 1 if deg[i] == 0 else -1
    return deg


def build_graph(spec: GraphSpec, seed: int) -> FlatGraph:
    """Build the follow graph of a graph spec with randomness keyed by ``(seed, WORLD)``.

    NetworkX generators get an integer drawn from the keyed generator: they then use
    their own seeded ``random.Random``, which is ~10x faster than wrapping a NumPy
    generator, and just as reproducible.
    """
    rng = numpy_generator(seed, Stream.WORLD)
    nx_seed = int(rng.integers(2**62))
    if isinstance(spec, ErdosRenyiGraph):
        p = spec.mean_degree / (spec.n - 1) if spec.n > 1 else 0.0
        g = nx.fast_gnp_random_graph(spec.n, p, seed=nx_seed, directed=spec.directed)
        return FlatGraph.from_networkx(g, name=f"erdos_renyi(n={spec.n}, mean_degree={spec.mean_degree})")
    if isinstance(spec, CommunitiesGraph):
        src, dst, _ = planted_partition(spec.n, spec.count, spec.mean_degree, spec.mixing, rng)
        return FlatGraph.from_edges(spec.n, src, dst, directed=False,
                                    name=f"communities(n={spec.n}, count={spec.count}, mixing={spec.mixing})")
    if isinstance(spec, RandomRegularGraph):
        g = nx.random_regular_graph(spec.degree, spec.n, seed=nx_seed)
        return FlatGraph.from_networkx(g, name=f"random_regular(n={spec.n}, degree={spec.degree})")
    if isinstance(spec, BarabasiAlbertGraph):
        g = nx.barabasi_albert_graph(spec.n, spec.m, seed=nx_seed)
        return FlatGraph.from_networkx(g, name=f"barabasi_albert(n={spec.n}, m={spec.m})")
    if isinstance(spec, WattsStrogatzGraph):
        g = nx.watts_strogatz_graph(spec.n, spec.k, spec.p, seed=nx_seed)
        return FlatGraph.from_networkx(g, name=f"watts_strogatz(n={spec.n}, k={spec.k}, p={spec.p})")
    if isinstance(spec, ConfigurationGraph):
        deg = sample_degrees(spec.degrees, spec.n, rng)
        g = nx.configuration_model(deg.tolist(), seed=nx_seed)
        g.remove_edges_from(list(nx.selfloop_edges(g)))
        return FlatGraph.from_networkx(g, name=f"configuration(n={spec.n}, degrees={spec.degrees.kind})")
    if isinstance(spec, EdgeListGraph):
        return read_graph(spec.path, directed=spec.directed, fmt=spec.format)
    if isinstance(spec, DatasetGraph):
        ds = DATASETS[spec.name]
        return read_graph(dataset_path(spec.name), directed=ds.directed, fmt=ds.format, name=spec.name)
    raise TypeError(f"unknown graph spec {spec!r}")  # pragma: no cover


def build_world(spec: WorldSpec | CreatorAudienceWorld, seed: int) -> World:
    """Build the world of a scenario; the same ``seed`` always gives the same world."""
    if isinstance(spec, CreatorAudienceWorld):
        population = build_population(spec, build_graph(spec.audience.peers, seed), seed)
        return World(graph=population.graph, population=population)
    return World(graph=build_graph(spec.graph, seed))
