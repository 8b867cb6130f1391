"""Reverse influence sampling (RIS) and IMM for Independent Cascade and Linear Threshold.

A reverse-reachable (RR) set is the set of accounts that would activate a random root in one
random live-edge world (Borgs, Brautbar, Chayes & Lucier 2014): for IC each in-edge e is live
with probability p_e (a backward breadth-first search), for LT each account keeps at most one
in-edge, e with probability b_e (a backward random walk; Kempe et al. 2003's live-edge view).
Then sigma(S) = n P(S meets a random RR set), so covering many RR sets maximises influence.
IMM (Tang, Shi & Xiao 2015, "Influence maximization in near-linear time: a martingale
approach", SIGMOD) chooses how many RR sets make the greedy cover a (1 - 1/e - eps)
approximation with probability 1 - n^-ell.

Randomness is keyed like every draw of the project: RR set j uses the key
``trial_key(root, REVERSE_SETS, j)``; its root account is ``below(key, 2**40, n)``, and its
draw for edge e (IC) or account v (LT) is ``uniform(key, e)`` / ``uniform(key, v)``. Set j is
the same whatever else was sampled, so estimates from disjoint ranges of j are independent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from sim.base.rng import Stream, below, trial_key, uniform
from sim.classic.model import CompiledModel, IndependentCascadeArrays, ThresholdArrays
from sim.world.graph import FlatGraph

_RR = np.uint64(int(Stream.REVERSE_SETS))
_ROOT_COUNTER = np.uint64(2**40)


@dataclass(frozen=True, eq=False)
class ReverseGraph:
    """In-edges of every account, for backward sampling.

    Attributes
    ----------
    indptr : int64[n + 1]
    source : int64[m]
        Source account of each in-edge, grouped by target.
    edge : int64[m]
        Edge id (CSR position in the forward graph) of each in-edge.
    prob : float64[m]
        IC: transmission probability of the edge. LT: its weight b_e (the share of the
        target's threshold it carries; the account keeps edge e with probability b_e).
    lt : bool
        Whether sets are drawn under LT (one in-edge per account) or IC.
    """

    indptr: np.ndarray
    source: np.ndarray
    edge: np.ndarray
    prob: np.ndarray
    lt: bool

    @classmethod
    def of(cls, graph: FlatGraph, model: CompiledModel) -> ReverseGraph:
        """The reverse graph of ``graph`` under a compiled IC or LT model (uniform thresholds only)."""
        order = np.argsort(graph.indices, kind="stable")
        indptr = np.zeros(graph.n + 1, dtype=np.int64)
        np.cumsum(graph.in_degree, out=indptr[1:])
        if isinstance(model, IndependentCascadeArrays):
            prob, lt = model.prob[order], False
        elif isinstance(model, ThresholdArrays) and model.law == 0 and model.theta_lo == 0 and model.theta_span == 1:
            target = graph.indices[order]
            prob, lt = model.weight[order] / model.scale[target], True
        else:
            raise ValueError("reverse influence sampling needs IC or Kempe's LT (thresholds U(0, 1))")
        return cls(indptr, graph.sources[order].astype(np.int64), order.astype(np.int64),
                   np.ascontiguousarray(prob, dtype=np.float64), lt)


@nb.njit(cache=True, nogil=True)
def _sample(indptr, source, edge, prob, lt, root, first, count, nodes, offsets, mark, stamp):
    """RR sets first .. first + count - 1 into ``nodes``/``offsets``; returns (nodes used, stamp).

    ``nodes`` must hold the result (the caller retries with a larger buffer when -1 is returned).
    """
    n = indptr.shape[0] - 1
    used = 0
    offsets[0] = 0
    for j in range(count):
        key = trial_key(root, _RR, np.uint64(first + j))
        stamp += 1
        r = below(key, _ROOT_COUNTER, np.int64(n))
        if used >= nodes.shape[0]:
            return -1, stamp
        nodes[used] = r
        used += 1
        mark[r] = stamp
        if lt:
            v = r
            while True:
                u_draw = uniform(key, np.uint64(v))
                acc = 0.0
                nxt = -1
                for i in range(indptr[v], indptr[v + 1]):
                    acc += prob[i]
                    if u_draw < acc:
                        nxt = source[i]
                        break
                if nxt < 0 or mark[nxt] == stamp:
                    break
                if used >= nodes.shape[0]:
                    return -1, stamp
                mark[nxt] = stamp
                nodes[used] = nxt
                used += 1
                v = nxt
        else:
            head = used - 1
            while head < used:
                v = nodes[head]
                head += 1
                for i in range(indptr[v], indptr[v + 1]):
                    u = source[i]
                    if mark[u] != stamp and uniform(key, np.uint64(edge[i])) < prob[i]:
                        if used >= nodes.shape[0]:
                            return -1, stamp
                        mark[u] = stamp
                        nodes[used] = u
                        used += 1
        offsets[j + 1] = used
    return used, stamp


@dataclass(frozen=True, eq=False)
class ReverseSets:
    """RR sets ``first .. first + count - 1``: set i is ``nodes[offsets[i]:offsets[i + 1]]``."""

    nodes: np.ndarray
    offsets: np.ndarray
    first: int
    n: int

    @property
    def count(self) -> int:
        """Number of sets."""
        return len(self.offsets) - 1


def sample_sets(rev: ReverseGraph, root: np.uint64, first: int, count: int) -> ReverseSets:
    """Draw RR sets ``first .. first + count - 1`` (keyed: the same sets for the same numbers)."""
    n = len(rev.indptr) - 1
    mark = np.zeros(n, dtype=np.int64)
    cap = max(1024, 8 * count)
    while True:
        nodes = np.empty(cap, dtype=np.int64)
        offsets = np.empty(count + 1, dtype=np.int64)
        used, _ = _sample(rev.indptr, rev.source, rev.edge, rev.prob, rev.lt, np.uint64(root), first, count,
                          nodes, offsets, mark, 0)
        if used >= 0:
            return ReverseSets(nodes[:used].copy(), offsets, first, n)
        cap *= 4
        mark[:] = 0


def concat(a: ReverseSets, b: ReverseSets) -> ReverseSets:
    """Sets of ``a`` then ``b`` (``b`` must start where ``a`` ends)."""
    if b.first != a.first + a.count:
        raise ValueError("RR set ranges must be consecutive")
    return ReverseSets(np.concatenate([a.nodes, b.nodes]), np.concatenate([a.offsets, b.offsets[1:] + len(a.nodes)]),
                       a.first, a.n)


@nb.njit(cache=True, nogil=True)
def _greedy_cover(nodes, offsets, n, k):
    m = offsets.shape[0] - 1
    deg = np.zeros(n, dtype=np.int64)
    for i in range(nodes.shape[0]):
        deg[nodes[i]] += 1
    # sets containing each account (CSR)
    start = np.zeros(n + 1, dtype=np.int64)
    for v in range(n):
        start[v + 1] = start[v] + deg[v]
    fill = start[:n].copy()
    member = np.empty(nodes.shape[0], dtype=np.int64)
    for j in range(m):
        for i in range(offsets[j], offsets[j + 1]):
            v = nodes[i]
            member[fill[v]] = j
            fill[v] += 1
    covered = np.zeros(m, dtype=np.bool_)
    chosen = np.empty(k, dtype=np.int64)
    gains = np.empty(k, dtype=np.int64)
    for step in range(k):
        best = 0
        for v in range(1, n):
            if deg[v] > deg[best]:
                best = v
        chosen[step] = best
        gains[step] = deg[best]
        for i in range(start[best], start[best + 1]):
            j = member[i]
            if not covered[j]:
                covered[j] = True
                for t in range(offsets[j], offsets[j + 1]):
                    deg[nodes[t]] -= 1
    return chosen, gains


def greedy_cover(sets: ReverseSets, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Greedy maximum coverage: ``k`` accounts in pick order and the RR sets each newly covers.

    Ties go to the lower account index. ``n * cumsum(gains) / count`` estimates sigma of each
    prefix (optimistically, on the sets it was chosen on).
    """
    return _greedy_cover(sets.nodes, sets.offsets, sets.n, int(k))


@nb.njit(cache=True, nogil=True)
def _coverage(nodes, offsets, targets, n):
    hit = np.zeros(n, dtype=np.bool_)
    for v in targets:
        hit[v] = True
    m = offsets.shape[0] - 1
    out = np.zeros(m, dtype=np.bool_)
    for j in range(m):
        for i in range(offsets[j], offsets[j + 1]):
            if hit[nodes[i]]:
                out[j] = True
                break
    return out


def covered(sets: ReverseSets, targets) -> np.ndarray:
    """bool[count]: which RR sets meet ``targets`` (their mean times n is an unbiased sigma estimate)."""
    return _coverage(sets.nodes, sets.offsets, np.asarray(targets, dtype=np.int64), sets.n)


@dataclass(frozen=True)
class ImmChoice:
    """IMM's targets (pick order), the RR sets it used, and its own estimate of each prefix's sigma."""

    chosen: np.ndarray
    estimates: np.ndarray
    sets: int
    lower_bound: float


def _log_binom(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def imm(rev: ReverseGraph, root: np.uint64, k: int, epsilon: float = 0.1, ell: float = 1.0,
        max_sets: int = 50_000_000) -> ImmChoice:
    """IMM (Tang, Shi & Xiao 2015, Algorithms 1-3): k targets within 1 - 1/e - epsilon of optimal w.p. 1 - n^-ell.

    Parameters
    ----------
    rev : ReverseGraph
    root : uint64
        Root key; RR sets are numbered from 0.
    k : int
        Targets to choose (their prefixes are the greedy choices for smaller k).
    epsilon, ell : float
        Approximation slack and confidence exponent (the paper's defaults: 0.1 and 1).
    max_sets : int
        Refuse to draw more RR sets than this (memory guard).
    """
    n = len(rev.indptr) - 1
    ell = ell * (1 + math.log(2) / math.log(n))
    lb_binom = _log_binom(n, k)
    eps2 = math.sqrt(2) * epsilon
    lam2 = (2 + 2 * eps2 / 3) * (lb_binom + ell * math.log(n) + math.log(math.log2(n))) * n / eps2**2
    sets = sample_sets(rev, root, 0, 0)
    lower = 1.0
    for i in range(1, int(math.log2(n))):
        x = n / 2**i
        theta = int(math.ceil(lam2 / x))
        if theta > sets.count:
            sets = concat(sets, sample_sets(rev, root, sets.count, min(theta, max_sets) - sets.count))
        chosen, gains = greedy_cover(sets, k)
        est = n * gains.sum() / sets.count
        if est >= (1 + eps2) * x:
            lower = est / (1 + eps2)
            break
    alpha = math.sqrt(ell * math.log(n) + math.log(2))
    beta = math.sqrt((1 - 1 / math.e) * (lb_binom + ell * math.log(n) + math.log(2)))
    lam_star = 2 * n * ((1 - 1 / math.e) * alpha + beta) ** 2 / epsilon**2
    theta = int(math.ceil(lam_star / lower))
    if theta > max_sets:
        raise ValueError(f"IMM needs {theta:,} RR sets (more than max_sets = {max_sets:,}); raise epsilon")
    if theta > sets.count:
        sets = concat(sets, sample_sets(rev, root, sets.count, theta - sets.count))
    chosen, gains = greedy_cover(sets, k)
    return ImmChoice(chosen, n * np.cumsum(gains) / sets.count, sets.count, lower)
