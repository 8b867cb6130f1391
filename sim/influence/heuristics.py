"""Targeting heuristics of Kempe, Kleinberg & Tardos (2003): high degree, distance centrality, random.

Each returns accounts in the order a heuristic picks them, so its first k are its target set of
size k (the sets are nested, as in the paper's curves).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from sim.base.rng import Stream, as_key, trial_key, uniforms
from sim.world.graph import FlatGraph


def by_degree(graph: FlatGraph) -> np.ndarray:
    """Accounts by decreasing out-degree (parallel edges counted), ties to the lower index."""
    return np.argsort(-graph.out_degree, kind="stable").astype(np.int64)


@nb.njit(cache=True, nogil=True)
def _distance_sums(indptr, indices):
    n = indptr.shape[0] - 1
    dist = np.full(n, -1, dtype=np.int64)
    queue = np.empty(n, dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    for s in range(n):
        dist[:] = -1
        dist[s] = 0
        queue[0] = s
        head, tail, total, reached = 0, 1, 0, 1
        while head < tail:
            u = queue[head]
            head += 1
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if dist[v] < 0:
                    dist[v] = dist[u] + 1
                    total += dist[v]
                    reached += 1
                    queue[tail] = v
                    tail += 1
        out[s] = total + (n - reached) * n  # unreachable accounts count distance n (Kempe et al.)
    return out


def by_distance_centrality(graph: FlatGraph) -> np.ndarray:
    """Accounts by increasing mean distance to the others, unreachable ones at distance n.

    Kempe et al. (2003) §4: "distance centrality ... nodes with short average distance to the
    rest of the network"; one breadth-first search per account (O(n m)). Ties to the lower index.
    """
    sums = _distance_sums(graph.indptr, graph.indices.astype(np.int64))
    return np.argsort(sums, kind="stable").astype(np.int64)


def by_random(graph: FlatGraph, seed_root: np.uint64) -> np.ndarray:
    """A random order of the accounts, keyed by ``(root, TARGET_ORDER)`` (the "random" baseline)."""
    key = trial_key(np.uint64(seed_root), np.uint64(int(Stream.TARGET_ORDER)), as_key(0))
    return np.argsort(uniforms(np.uint64(key), np.arange(graph.n)), kind="stable").astype(np.int64)
