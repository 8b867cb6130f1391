"""Direct random-graph generators: straight into CSR arrays, for worlds too big for NetworkX.

Each generator samples the same random-graph model as its NetworkX counterpart (tested
statistically in ``tests/unit/test_generators.py``: degree distributions, edge counts,
community mixing), using vectorised NumPy or a small numba loop, and never builds
Python objects per node or edge. Randomness comes from a NumPy generator keyed by
``(seed, WORLD)`` like every world-building draw.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from sim.world.graph import csr_from_pairs


def erdos_renyi(n: int, mean_degree: float, directed: bool, rng: np.random.Generator):
    """G(n, p) with p = mean_degree / (n - 1) (Gilbert 1959), as CSR arrays.

    The number of edges m is drawn from its binomial distribution; pairs are then drawn
    uniformly, as many as make m distinct pairs in expectation (``-N log(1 - m/N)`` for N
    possible pairs), and repeats and self-loops are dropped. Returns ``(indptr, indices)``.
    """
    pairs = n * (n - 1) // (1 if directed else 2)
    p = mean_degree / (n - 1) if n > 1 else 0.0
    m = int(rng.binomial(pairs, min(p, 1.0))) if pairs else 0
    draws = _draws_for_distinct(m, pairs)
    dtype = np.int32 if n < 2**31 else np.int64
    src = rng.integers(0, n, size=draws, dtype=dtype)
    # A uniform other endpoint (never the same account), so every draw is a non-loop pair.
    dst = ((src.astype(np.int64) + rng.integers(1, max(n, 2), size=draws)) % n).astype(dtype)
    if not directed:
        src, dst = np.minimum(src, dst), np.maximum(src, dst)
    return csr_from_pairs(n, src, dst, directed=directed, dedupe=True)


def _draws_for_distinct(target: float, pairs: float) -> int:
    """Uniform draws from ``pairs`` possibilities that give ``target`` distinct ones on average."""
    if pairs <= 0 or target <= 0:
        return 0
    frac = min(target / pairs, 1 - 1e-12)
    return int(round(-pairs * np.log1p(-frac)))


def planted_partition(n: int, count: int, mean_degree: float, mixing: float, rng: np.random.Generator):
    """Undirected planted-partition graph as CSR arrays, plus each account's community.

    Accounts are split into ``count`` near-equal communities (``community = i % count``).
    Each of ``n * mean_degree / 2`` edges joins two members of one community with
    probability ``1 - mixing``, else two accounts drawn from the whole graph (Condon & Karp
    2001). Self-loops and repeated pairs are dropped (rare when sparse).

    Returns
    -------
    indptr : int64[n + 1]
    indices : int32[2m]
    community : int64[n]
    """
    community = np.arange(n, dtype=np.int64) % count
    m = n * mean_degree / 2
    k = n / count
    # Inside edges are drawn until the expected number of *distinct* pairs within each
    # community matches (1 - mixing) * m, so the mean degree is mean_degree after repeats
    # and self-loops are dropped; edges between communities are rare enough not to repeat.
    # A draw hits a given pair with probability 2 / k^2 (loops included), not 1 / pairs.
    per_community = _draws_for_distinct((1.0 - mixing) * m / count, k * (k - 1) / 2)
    n_in = int(round(per_community * count * k / (k - 1))) if k > 1 else 0
    n_out = int(round(mixing * m))
    dtype = np.int32 if n < 2**31 else np.int64
    total = n_in + n_out
    src = rng.integers(0, n, size=total, dtype=dtype)
    dst = rng.integers(0, n, size=total, dtype=dtype)
    # Same community: keep src's community c and pick a uniform member c + count * j of it.
    size = np.bincount(community, minlength=count)
    c = src[:n_in] % count
    dst[:n_in] = (c + count * np.floor(rng.random(n_in) * size[c]).astype(np.int64)).astype(dtype)
    del c
    indptr, indices = csr_from_pairs(n, src, dst, directed=False, dedupe=True)
    return indptr, indices, community


@nb.njit(cache=True)
def _ba_edges(n, m, u):
    """Barabási–Albert growth as NetworkX 3 runs it, with uniforms ``u`` supplied in order.

    Start: a star on nodes 0..m (node 0 linked to 1..m). Each new node links to m distinct
    nodes drawn uniformly from the list of edge endpoints so far (preferential attachment).
    """
    total = m + (n - m - 1) * m
    src = np.empty(total, np.int64)
    dst = np.empty(total, np.int64)
    repeated = np.empty(2 * total, np.int64)
    r = 0
    k = 0
    for j in range(1, m + 1):
        src[k] = 0
        dst[k] = j
        k += 1
        repeated[r] = 0
        repeated[r + 1] = j
        r += 2
    targets = np.empty(m, np.int64)
    c = 0
    for v in range(m + 1, n):
        got = 0
        while got < m:
            t = repeated[np.int64(u[c] * r)]
            c += 1
            if c == u.shape[0]:
                c = 0  # never reached in practice: the caller supplies ample draws
            dup = False
            for i in range(got):
                if targets[i] == t:
                    dup = True
                    break
            if not dup:
                targets[got] = t
                got += 1
        for i in range(m):
            src[k] = v
            dst[k] = targets[i]
            k += 1
            repeated[r] = targets[i]
            repeated[r + 1] = v
            r += 2
    return src, dst


def barabasi_albert(n: int, m: int, rng: np.random.Generator):
    """Barabási & Albert (1999) preferential attachment (undirected), as CSR arrays."""
    draws = rng.random(int((n * m) * 1.2) + 1024)  # rejections of repeated targets are rare
    src, dst = _ba_edges(n, m, draws)
    return csr_from_pairs(n, src, dst, directed=False)


def triangular_torus(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Triangular lattice on a torus, every account with Z = 6 neighbours (Centola 2010's clustered networks).

    Account ``r * cols + c`` is tied to ``(r, c +- 1)``, ``(r +- 1, c)`` and ``(r + 1, c - 1)``,
    ``(r - 1, c + 1)`` (indices mod the sides): the six nearest neighbours of a triangular
    lattice, each pair of adjacent neighbours tied too, so the clustering coefficient is
    6 / 15 = 0.4. Needs ``rows, cols >= 3`` for the six to be distinct. Undirected, as CSR
    arrays ``(indptr, indices)``.
    """
    if rows < 3 or cols < 3:
        raise ValueError(f"a triangular torus needs at least 3 rows and 3 columns (got {rows} x {cols})")
    r, c = np.divmod(np.arange(rows * cols, dtype=np.int64), cols)
    # three of the six directions; the other three are the same ties seen from the far end
    src, dst = [], []
    for dr, dc in ((0, 1), (1, 0), (1, -1)):
        src.append(r * cols + c)
        dst.append(((r + dr) % rows) * cols + (c + dc) % cols)
    return csr_from_pairs(rows * cols, np.concatenate(src), np.concatenate(dst), directed=False)


def torus_sides(n: int) -> tuple[int, int]:
    """The most nearly square ``rows x cols = n`` with both sides >= 3 (98 -> 7 x 14, 144 -> 12 x 12)."""
    rows = max((d for d in range(3, int(np.sqrt(n)) + 1) if n % d == 0), default=0)
    if not rows or n // rows < 3:
        raise ValueError(f"{n} accounts do not make a torus with both sides >= 3")
    return rows, n // rows


def rewired(n: int, indptr: np.ndarray, indices: np.ndarray, swaps_per_edge: float, nx_seed: int):
    """Degree-preserving rewiring of an undirected simple graph, kept connected (Centola 2010's random networks).

    NetworkX's ``double_edge_swap`` (Maslov & Sneppen 2002 swaps ``a-b, c-d -> a-d, c-b``,
    refused when they would make a loop or a parallel tie; a disconnected result is redrawn):
    every account keeps its degree, the ties are randomised. ``swaps_per_edge`` x the number
    of ties swaps are made. Returns CSR arrays.
    """
    import networkx as nx

    src = np.repeat(np.arange(n), np.diff(indptr))
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from((int(a), int(b)) for a, b in zip(src, indices, strict=True) if a < b)
    nswap = int(round(swaps_per_edge * g.number_of_edges()))
    for attempt in range(100):  # a swap sequence that disconnects the graph is redrawn (rare at Z = 6)
        h = g.copy()
        nx.double_edge_swap(h, nswap, max_tries=100 * nswap, seed=nx_seed + attempt)
        if nx.is_connected(h):
            break
    else:  # pragma: no cover - needs a graph too sparse to stay connected
        raise ValueError("rewiring kept disconnecting the graph")
    g = h
    a = np.fromiter((e[0] for e in g.edges()), dtype=np.int64)
    b = np.fromiter((e[1] for e in g.edges()), dtype=np.int64)
    return csr_from_pairs(n, a, b, directed=False)


def follower_graph(followers: np.ndarray, rng: np.random.Generator):
    """Directed follower graph: account u has ``followers[u]`` followers drawn uniformly from the others.

    Edge u -> v means v follows u (what u posts reaches v), so out-degrees are the given
    (e.g. heavy-tailed) follower counts and in-degrees (accounts followed) are near-Poisson:
    the directed configuration model with uniform in-stubs (Newman, Strogatz & Watts 2001).
    Repeated picks are dropped, so a count above ``n - 1`` is capped. Returns CSR arrays.
    """
    n = len(followers)
    f = np.minimum(np.asarray(followers, dtype=np.int64), n - 1)
    src = np.repeat(np.arange(n, dtype=np.int64), f)
    dst = (src + rng.integers(1, max(n, 2), size=len(src))) % n  # never the account itself
    return csr_from_pairs(n, src, dst, directed=True, dedupe=True)
