"""The flat (CSR) form of a follow graph, the one structure every kernel reads.

An edge ``u -> v`` means a post or activation of ``u`` can reach ``v`` (``v``
follows ``u``). Edges are stored by source in compressed sparse rows and sorted
by (source, target); the **edge id is the position in these arrays**, which is
what randomness is keyed by, so both engines must use this exact numbering.
Parallel edges (multigraphs) are kept: each one is a separate edge with its own
id and its own draw. Undirected graphs are stored with both directions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import networkx as nx
import numpy as np


def csr_from_pairs(n: int, src, dst, *, directed: bool, dedupe: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """CSR arrays (indptr int64[n+1], indices int32[m]) from edge endpoint arrays, lean on memory.

    Edges are encoded as one int64 key ``source * n + target`` and sorted in place, so
    the peak is about 12 bytes per stored edge (keys plus the int32 result) — the path
    for worlds of hundreds of millions of edges. Undirected input is stored both ways (a
    self-loop once). Parallel edges are kept unless ``dedupe``, which also drops
    self-loops.
    """
    src = np.asarray(src)
    dst = np.asarray(dst)
    if src.dtype.kind not in "iu" or dst.dtype.kind not in "iu":  # e.g. an empty list
        src, dst = src.astype(np.int64), dst.astype(np.int64)
    m = len(src)
    loop = src == dst
    extra = 0 if directed else m - int(loop.sum())
    keys = np.empty(m + extra, dtype=np.int64)
    np.multiply(src, n, out=keys[:m], dtype=np.int64)
    keys[:m] += dst
    if extra:
        keep = ~loop
        back = keys[m:]
        np.multiply(dst[keep], n, out=back, dtype=np.int64)
        back += src[keep]
    del loop
    keys.sort()
    if dedupe and len(keys):
        fresh = np.empty(len(keys), dtype=bool)
        fresh[0] = True
        np.not_equal(keys[1:], keys[:-1], out=fresh[1:])
        keys = keys[fresh]
        del fresh
        keys = keys[keys // n != keys % n]
    indptr = np.searchsorted(keys, np.arange(n + 1, dtype=np.int64) * n).astype(np.int64)
    np.remainder(keys, n, out=keys)
    return indptr, keys.astype(np.int32)


@dataclass(frozen=True, eq=False)
class FlatGraph:
    """A directed multigraph in CSR form.

    Attributes
    ----------
    indptr : ndarray of int64, shape (n + 1,)
        Out-edges of node ``u`` are ``indices[indptr[u]:indptr[u + 1]]``.
    indices : ndarray of int32, shape (m,)
        Target of each edge, sorted within each source.
    labels : ndarray, shape (n,)
        The node's identifier in the input (file id or generator label), in index order.
    weight : ndarray of float64, shape (m,), or None
        Per-edge weight read from the input (e.g. a transmission probability), if any.
    directed : bool
        Whether the input was directed (undirected inputs are stored both ways).
    name : str
        Human-readable description of where the graph came from.
    """

    indptr: np.ndarray
    indices: np.ndarray
    labels: np.ndarray
    weight: np.ndarray | None = None
    directed: bool = True
    name: str = ""

    def __post_init__(self) -> None:
        n = len(self.indptr) - 1
        if self.indptr[0] != 0 or self.indptr[-1] != len(self.indices):
            raise ValueError("indptr must start at 0 and end at the number of edges")
        if len(self.labels) != n:
            raise ValueError(f"{len(self.labels)} labels for {n} nodes")
        if self.weight is not None and len(self.weight) != len(self.indices):
            raise ValueError("weight must have one entry per edge")
        for arr in (self.indptr, self.indices, self.labels, self.weight):
            if arr is not None:
                arr.setflags(write=False)

    @property
    def n(self) -> int:
        """Number of nodes (accounts)."""
        return len(self.indptr) - 1

    @property
    def m(self) -> int:
        """Number of directed edges, parallel edges counted separately."""
        return len(self.indices)

    @property
    def out_degree(self) -> np.ndarray:
        """Out-degree of every node (multiplicity counted), int64."""
        return np.diff(self.indptr)

    @functools.cached_property
    def in_degree(self) -> np.ndarray:
        """In-degree of every node (multiplicity counted), int64; counted on first use.

        Lazily: counting is a random-access pass over every edge (~5 s at 240 M edges),
        and the campaign kernel never needs it.
        """
        deg = np.bincount(self.indices, minlength=self.n).astype(np.int64)
        deg.setflags(write=False)
        return deg

    @property
    def sources(self) -> np.ndarray:
        """Source of every edge, int32, aligned with :attr:`indices`."""
        return np.repeat(np.arange(self.n, dtype=np.int32), self.out_degree)

    def index_of(self, labels: list) -> np.ndarray:
        """Map input labels to node indices.

        Raises
        ------
        KeyError
            Naming the first label that is not a node of the graph.
        """
        out = np.empty(len(labels), dtype=np.int32)
        if self.labels.dtype.kind in "iu" and self.n and self.labels[0] == 0 and self.labels[-1] == self.n - 1:
            # Labels 0..n-1 in order (generated graphs): a label is its index; no dict over n labels.
            for j, lab in enumerate(labels):
                if not (isinstance(lab, (int, np.integer)) and not isinstance(lab, bool) and 0 <= lab < self.n):
                    raise KeyError(lab)
                out[j] = lab
            return out
        lookup = {lab: i for i, lab in enumerate(self.labels.tolist())}
        for j, lab in enumerate(labels):
            if lab not in lookup:
                raise KeyError(lab)
            out[j] = lookup[lab]
        return out

    @classmethod
    def from_edges(
        cls,
        n: int,
        src: np.ndarray,
        dst: np.ndarray,
        *,
        labels: np.ndarray | None = None,
        weight: np.ndarray | None = None,
        directed: bool = True,
        name: str = "",
    ) -> FlatGraph:
        """Build from edge arrays; undirected input is mirrored, then edges are sorted.

        Parameters
        ----------
        n : int
            Number of nodes; node indices are 0..n-1.
        src, dst : array of int
            Endpoints of each edge (each line of an edge list is one edge).
        labels : array, optional
            Input identifiers of the nodes; defaults to 0..n-1.
        weight : array of float, optional
            Per-edge weight, mirrored with the edge for undirected input.
        directed : bool
            If False, every edge is stored in both directions (a self-loop once).
        """
        if labels is None:
            labels = np.arange(n, dtype=np.int64)
        if weight is None:
            indptr, indices = csr_from_pairs(n, src, dst, directed=directed)
            return cls(indptr, indices, np.asarray(labels), None, directed, name)
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        w = np.asarray(weight, dtype=np.float64)
        if not directed:
            loop = src == dst
            src, dst = np.concatenate([src, dst[~loop]]), np.concatenate([dst, src[~loop]])
            if w is not None:
                w = np.concatenate([w, w[~loop]])
        order = np.lexsort((dst, src))
        src, dst = src[order], dst[order]
        if w is not None:
            w = w[order]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
        return cls(indptr, dst.astype(np.int32), np.asarray(labels), w, directed, name)

    @classmethod
    def from_networkx(cls, graph: nx.Graph, *, weight: str | None = None, name: str = "") -> FlatGraph:
        """Flatten a NetworkX graph; nodes are numbered in sorted label order.

        Parallel edges of a multigraph are kept. ``weight`` names an edge attribute
        to carry along (missing values become NaN).
        """
        try:
            nodes = sorted(graph.nodes())
        except TypeError:  # mixed label types: keep insertion order
            nodes = list(graph.nodes())
        index = {v: i for i, v in enumerate(nodes)}
        data = list(graph.edges(data=weight, default=np.nan)) if weight else list(graph.edges())
        src = np.fromiter((index[e[0]] for e in data), dtype=np.int64, count=len(data))
        dst = np.fromiter((index[e[1]] for e in data), dtype=np.int64, count=len(data))
        w = np.fromiter((e[2] for e in data), dtype=np.float64, count=len(data)) if weight else None
        labels = np.asarray(nodes) if nodes else np.zeros(0, dtype=np.int64)
        return cls.from_edges(
            len(nodes), src, dst, labels=labels, weight=w, directed=graph.is_directed(), name=name
        )

    def to_networkx(self) -> nx.MultiDiGraph:
        """A NetworkX multidigraph with the same nodes (by index) and edges, for inspection."""
        g = nx.MultiDiGraph()
        g.add_nodes_from(range(self.n))
        g.add_edges_from(zip(self.sources.tolist(), self.indices.tolist(), strict=True))
        return g
