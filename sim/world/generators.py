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
