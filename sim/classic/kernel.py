"""numba kernels for the classic cascade models: Independent Cascade and (fractional) Linear Threshold.

Kernels take arrays and return arrays; they hold no state and draw every random
number from :mod:`sim.base.rng` keyed by meaning:

* IC (Kempe, Kleinberg & Tardos 2003): edge ``e`` is *live* in trial ``t`` iff the
  lane draw of lane ``t % 64`` for edge ``e`` under ``key(root, LIVE_LANES, t // 64)``
  is below ``ceil(prob[e] * 2**56)`` (:func:`sim.base.rng.lane_below`: a uniform 56-bit
  number per trial and edge, so live with probability exactly ``prob[e]``). Each
  newly active node tries each out-edge once, so the activated set is the set
  reachable from the recruits over live edges and the activation step is the
  live-path distance; both are independent of processing order. Trials are run in
  blocks of 64 sharing one key: rounds where accounts are active in many of the
  block's trials (the fixed recruits) are computed for all of them at once.
* LT (Kempe et al. 2003; Watts 2002 with a fixed threshold): account ``v`` activates
  at step ``t + 1`` when the summed integer weight of its in-edges from accounts
  active by step ``t`` reaches ``theta_v * scale[v]``, with
  ``theta_v = theta_lo + theta_span * uniform(key(root, THRESHOLD, t), v)``.
  Weights are integers so sums are exact in any order (the Mesa engine and a
  kernel visiting edges in another order agree to the bit). The general threshold
  model makes ``theta_v`` from the same uniform by another law (:func:`_threshold`:
  normal quantile, a listed value, a reinforcement count), and with instigators the
  accounts whose threshold is <= 0 are active at step 0 (Granovetter 1978).

Recruits of a trial are ``fixed`` plus ``n_random`` accounts drawn without
replacement by Floyd's algorithm keyed by ``(root, RECRUITS, trial)``.

Per-trial cost is proportional to what the cascade touches: visited marks are
generation stamps, never cleared arrays (no O(n) work per trial).

The jitted functions take records (:class:`Graph`, :class:`Cascade` or :class:`Threshold`,
:class:`Recruits`; NamedTuples checked field by field when :func:`graph_record` and its
siblings build them, :mod:`sim.base.kernel_records`) and their working arrays in one record
(:class:`_IcScratch`, :class:`_LtScratch`), never long lists of positional arrays. The
entry points :func:`final_sizes` and :func:`activation_times` take the compiled model
objects and build the records.

Keep every jitted helper a kernel calls in this module or in :mod:`sim.base.rng`: numba's
on-disk cache does not notice edits to helpers in other modules, and
:mod:`sim.base.kernel_cache` watches only the kernel modules and ``rng.py``.
"""

from __future__ import annotations

from typing import Annotated, NamedTuple

import numba as nb
import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from sim.base.intrinsics import prefetch
from sim.base.kernel_records import Array, Scalar, build, memo
from sim.base.rng import (
    LANES,
    Stream,
    below,
    bits,
    lane_tie_below,
    normal_quantile_jit,
    trial_key,
    uniform,
)

_LIVE = np.uint64(int(Stream.LIVE_LANES))
_THRESH = np.uint64(int(Stream.THRESHOLD))
_RECRUIT = np.uint64(int(Stream.RECRUITS))

#: ``max_steps`` value meaning "until the cascade stops".
UNLIMITED = np.int32(2**31 - 1)


# --------------------------------------------------------------------------- records


class Graph(NamedTuple):
    """The CSR follow graph (:class:`sim.world.graph.FlatGraph`; edge id = CSR position)."""

    indptr: Annotated[np.ndarray, Array(np.int64, "n+1")]
    indices: Annotated[np.ndarray, Array(np.int32, "m")]


class Cascade(NamedTuple):
    """IC compiled (:class:`sim.classic.model.IndependentCascadeArrays`).

    ``threshold``: ``ceil(p_e * 2**56)`` per edge, or one value for all (``stride`` 0: the
    kernel then reads no per-edge array); ``tops``: the thresholds' top base-256 digits packed
    eight edges to a word (:func:`sim.classic.model.top_words`).
    """

    threshold: Annotated[np.ndarray, Array(np.uint64, "*")]
    tops: Annotated[np.ndarray, Array(np.uint64, "*")]
    stride: Annotated[int, Scalar(int)]


class Threshold(NamedTuple):
    """LT, fractional and general threshold compiled (:class:`sim.classic.model.ThresholdArrays`).

    Account ``v`` activates once the integer weights of its active in-edges reach
    ``theta_v * scale[v]``; ``theta_v`` from its keyed uniform by ``law`` (:func:`_threshold`).
    ``weight``: per edge, or one value for all (``wstride`` 0).
    """

    weight: Annotated[np.ndarray, Array(np.int64, "*")]
    wstride: Annotated[int, Scalar(int)]
    scale: Annotated[np.ndarray, Array(np.float64, "n")]
    theta_lo: Annotated[float, Scalar(float)]
    theta_span: Annotated[float, Scalar(float)]
    law: Annotated[int, Scalar(int)]
    table: Annotated[np.ndarray, Array(np.float64, "*")]
    instigators: Annotated[bool, Scalar(bool)]


class Recruits(NamedTuple):
    """Recruits of every trial: ``fixed`` accounts plus ``n_random`` drawn per trial.

    Built from a :class:`sim.classic.recruits.RecruitPlan`.
    """

    fixed: Annotated[np.ndarray, Array(np.int32, "*")]
    n_random: Annotated[int, Scalar(int)]


def graph_record(graph) -> Graph:
    """The kernel's view of a :class:`sim.world.graph.FlatGraph`."""
    return build(Graph, indptr=graph.indptr, indices=graph.indices)


def cascade_record(model) -> Cascade:
    """The kernel's view of :class:`sim.classic.model.IndependentCascadeArrays`."""
    t = model.kernel_threshold
    return build(Cascade, threshold=t, tops=model.top_words, stride=0 if t.shape[0] == 1 else 1)


def threshold_record(model) -> Threshold:
    """The kernel's view of :class:`sim.classic.model.ThresholdArrays`."""
    w = model.kernel_weight
    table = np.zeros(0, dtype=np.float64) if model.table is None else np.asarray(model.table, dtype=np.float64)
    return build(Threshold, weight=w, wstride=0 if w.shape[0] == 1 else 1, scale=model.scale,
                 theta_lo=model.theta_lo, theta_span=model.theta_span, law=model.law, table=table,
                 instigators=model.instigators)


def recruits_record(plan) -> Recruits:
    """The kernel's view of a :class:`sim.classic.recruits.RecruitPlan`."""
    return build(Recruits, fixed=plan.fixed, n_random=plan.n_random)


class _IcScratch(NamedTuple):
    """Working arrays of the IC kernel, made once per call (:func:`_ic_scratch`)."""

    state: np.ndarray  # uint64[n, 4]: per account _GEN, _ACT, _NEW, _PEND (lane masks)
    sflat: np.ndarray  # the same, flat (for prefetching a row)
    front: np.ndarray  # int32[n]: accounts of the current shared round
    nxt: np.ndarray  # int32[n]: the next round's (shared), a lane's queue (lane by lane)
    seen: np.ndarray  # int32[n]: lane-by-lane visit stamps
    livebuf: np.ndarray  # int64[_LIVE_BATCH]: live edges of a step, before their targets are visited
    sizes: np.ndarray  # int64[LANES]: final size per lane of the block
    last: np.ndarray  # int32[LANES]: step of the last activation per lane
    rec_node: np.ndarray  # int32[n] or [0]: activations in order (one trial's times), or none
    rec_time: np.ndarray  # int32[n] or [0]: their steps


class _LtScratch(NamedTuple):
    """Working arrays of the LT kernel (:func:`_lt_scratch`)."""

    row: np.ndarray  # int64[n, 4]: per account record (_MARK, _ACC, _NEED, _SCALE)
    rowf: np.ndarray  # the same as float64 (``_NEED``, ``_SCALE``)
    flat: np.ndarray  # the same, flat (for prefetching a row)
    tgt: np.ndarray  # int32[_LT_BATCH]: in-edge targets gathered in a step
    wts: np.ndarray  # int64[_LT_BATCH]: their weights
    order: np.ndarray  # int32[n]: activated accounts in order
    times: np.ndarray  # int32[n]: their steps


_ONE = np.uint64(1)
_NONE = np.uint64(0)
_S6 = np.uint64(6)
_NLANES = np.int64(LANES)
# Columns of the per-account IC state (one 32-byte row, so touching an account costs one
# cache line): generation stamp, lanes active, lanes activated this round, lanes to spread.
_GEN, _ACT, _NEW, _PEND = 0, 1, 2, 3


_HIGH = np.uint64(0x8080808080808080)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_FULL = np.uint64(2**56)


@nb.njit(cache=True, inline="always")
def _digits_below(w, tops):
    """Byte-wise ``w < tops`` and ``w == tops`` (unsigned), as the high bit of each byte.

    Bytes are lanes' first digits of eight consecutive edges and the top digits of their
    thresholds (:attr:`sim.classic.model.IndependentCascadeArrays.top_words`). No carry crosses
    a byte: the low seven bits are compared with a guard bit, the high bits apart.
    """
    ge7 = (((w & _LOW7) | _HIGH) - (tops & _LOW7)) & _HIGH  # low 7 bits: w >= tops
    xh = w & _HIGH
    th = tops & _HIGH
    lt = ((~xh & th) | (~(xh ^ th) & ~ge7)) & _HIGH
    z = w ^ tops
    eq = ~(((z & _LOW7) + _LOW7) | z) & _HIGH
    return lt, eq


@nb.njit(cache=True, inline="always")
def _group_range(c, lo, hi):
    """High bits of the bytes of edge group ``c`` (edges ``8c .. 8c + 7``) that lie in ``[lo, hi)``."""
    first = max(lo - (c << 3), 0)
    last = min(hi - (c << 3), 8)  # exclusive
    return (_HIGH << np.uint64(8 * first)) & (_HIGH >> np.uint64(8 * (8 - last)))


@nb.njit(cache=True, inline="always")
def _tie_below(key, e, lane, t):
    """A lane draw whose first digit equals the threshold's (capped) top digit: decide on the rest."""
    if t >= _FULL:  # p = 1: the top digit (256) was capped at 255 in top_words
        return True
    return lane_tie_below(key, np.uint64(e), lane, t)


@nb.njit(cache=True, inline="always")
def _popcount(x):
    count = 0
    while x != _NONE:
        count += 1
        x &= x - _ONE
    return count


@nb.njit(cache=True, inline="always")
def _group_lanes(key, cbase, top, span, clt, ceq):
    """Every lane's first digits of edge group ``cbase >> 6`` against the tops, in one straight loop.

    Fills ``clt[L]`` / ``ceq[L]`` with lane ``L``'s :func:`_digits_below` masks restricted to
    ``span`` and returns the lanes with any candidate (bit ``L`` set). The same words as one
    ``bits(key, cbase + L)`` per lane: a speed choice only.
    """
    hit = _NONE
    for lane in range(LANES):
        lt, eq = _digits_below(bits(key, cbase + np.uint64(lane)), top)
        lt &= span
        eq &= span
        clt[lane] = lt
        ceq[lane] = eq
        hit |= np.uint64((lt | eq) != _NONE) << np.uint64(lane)
    return hit


#: Lanes an account must spread in for the shared round to compute all 64 lanes' words of
#: each of its edge groups at once (:func:`_group_lanes`) instead of lane by lane.
GROUP_LANES_MIN = 16

_LGEN_MAX = 2**31 - 1
#: Rounds are run for all lanes of a block together while the accounts spreading carry at
#: least this many lanes each on average (the fixed recruits' round when most of a block's
#: trials are asked for);
#: below it, lane by lane. A speed choice only: both ways compute the same draws.
SHARED_LANES_MIN = 6.0


@nb.njit(cache=True, nogil=True)
def _ic_block(g, ic, rec, root, block, lanes, max_steps, share_min, sc, gen, lgen):
    """IC for the trials of one block of ``LANES`` trials, one bit (lane) per trial.

    ``state[v]`` holds bit masks over the block's lanes. Edge ``e`` is live in lane ``L``
    iff ``L``'s draw for ``e`` under the block's ``LIVE_LANES`` key is below the edge's
    threshold (:func:`sim.base.rng.lane_below`). Rounds in which accounts spread
    in many lanes at once (the fixed recruits, in every lane) are run for all lanes
    together, each out-edge's draws computed once for all of them; the rest of each
    trial then runs lane by lane, one hash per eight edges examined. Both give the same result.

    Fills ``sc.sizes[L]`` (accounts active at the end) and ``sc.last[L]`` (step of the last
    activation) for every lane ``L`` in ``lanes``. When ``sc.rec_node`` is non-empty (one
    lane asked), records every activation in order with its step.

    Returns ``(recorded, lgen)``: activations recorded, and the last generation stamp
    used in ``sc.seen`` (pass it back with the next block).
    """
    indptr = g.indptr
    indices = g.indices
    threshold = ic.threshold
    tops = ic.tops
    stride = ic.stride
    fixed = rec.fixed
    n_random = rec.n_random
    state = sc.state
    sflat = sc.sflat
    front = sc.front
    nxt = sc.nxt
    seen = sc.seen
    sizes = sc.sizes
    last = sc.last
    rec_node = sc.rec_node
    rec_time = sc.rec_time
    livebuf = sc.livebuf
    n = indptr.shape[0] - 1
    gen = np.uint64(gen)
    for lane in range(LANES):
        sizes[lane] = 0
        last[lane] = 0
    count = 0  # accounts with new lanes this round
    for i in range(fixed.shape[0]):
        v = fixed[i]
        if state[v, _GEN] != gen:
            state[v, _GEN] = gen
            state[v, _ACT] = _NONE
            state[v, _NEW] = _NONE
        new = lanes & ~state[v, _ACT]
        if new != _NONE:
            if state[v, _NEW] == _NONE:
                nxt[count] = v
                count += 1
            state[v, _ACT] |= new
            state[v, _NEW] |= new
    if n_random > 0:
        rest = lanes
        while rest != _NONE:
            lane = np.uint64(trailing_zeros(rest))
            rest &= rest - _ONE
            bit = _ONE << lane
            key = trial_key(root, _RECRUIT, np.uint64(block) * np.uint64(LANES) + lane)
            # Floyd's algorithm: k distinct draws from [0, n) with k keyed draws.
            for j in range(n - n_random, n):
                t = below(key, np.uint64(j), np.int64(j + 1))
                if state[t, _GEN] != gen:
                    state[t, _GEN] = gen
                    state[t, _ACT] = _NONE
                    state[t, _NEW] = _NONE
                v = t if (state[t, _ACT] & bit) == _NONE else j
                if state[v, _GEN] != gen:
                    state[v, _GEN] = gen
                    state[v, _ACT] = _NONE
                    state[v, _NEW] = _NONE
                if (state[v, _ACT] & bit) == _NONE:
                    if state[v, _NEW] == _NONE:
                        nxt[count] = v
                        count += 1
                    state[v, _ACT] |= bit
                    state[v, _NEW] |= bit
    key = trial_key(root, _LIVE, np.uint64(block))
    emask = np.zeros(64, dtype=np.uint64)  # live lanes of each out-edge of the account at hand
    clt = np.empty(LANES, dtype=np.uint64)  # per lane: digits below / equal to the tops (_group_lanes)
    ceq = np.empty(LANES, dtype=np.uint64)
    recorded = 0
    step = 0
    width = 0
    n_lanes = 0
    rest = lanes
    while rest != _NONE:
        n_lanes += 1
        rest &= rest - _ONE
    while True:
        # Commit the round: newly active lanes become the lanes to spread.
        carried = 0
        common = 0  # accounts new in every lane asked (the fixed recruits): counted once
        union = _NONE
        for i in range(count):
            v = nxt[i]
            new = state[v, _NEW]
            state[v, _NEW] = _NONE
            state[v, _PEND] = new
            front[i] = v
            prefetch(indptr, v)  # its out-edges are scanned next, in this block or lane by lane
            union |= new
            if new == lanes:
                common += 1
                carried += n_lanes
            else:
                while new != _NONE:
                    sizes[trailing_zeros(new)] += 1
                    carried += 1
                    new &= new - _ONE
            if rec_node.shape[0] > 0:
                rec_node[recorded] = v
                rec_time[recorded] = step
                recorded += 1
        while union != _NONE:
            lane = trailing_zeros(union)
            union &= union - _ONE
            sizes[lane] += common
            last[lane] = step
        width = count
        if width == 0 or step >= max_steps or carried < share_min * width:
            break
        count = 0
        for i in range(width):
            if i + _AHEAD < width:
                prefetch(indptr, front[i + _AHEAD])
                prefetch(sflat, front[i + _AHEAD] * 4)
            u = front[i]
            pend = state[u, _PEND]
            many = _popcount(pend) >= GROUP_LANES_MIN
            lo = indptr[u]
            hi = indptr[u + 1]
            if hi - lo > emask.shape[0]:
                emask = np.zeros(2 * (hi - lo), dtype=np.uint64)
            # Each asked lane reads its digits of the out-edges eight at a time; the live
            # lanes of each edge collect in emask.
            for c in range(lo >> 3, (hi + 7) >> 3):
                top = tops[c * stride]
                span = _group_range(c, lo, hi)
                cbase = np.uint64(c) << _S6
                if many:
                    # All 64 lanes' words at once (a loop the compiler vectorises), then only the
                    # lanes with a candidate (about 1 group in 9 at p = 0.01) go on.
                    rest = _group_lanes(key, cbase, top, span, clt, ceq) & pend
                else:
                    rest = pend
                while rest != _NONE:
                    lane = np.uint64(trailing_zeros(rest))
                    rest &= rest - _ONE
                    if many:
                        lt = clt[lane]
                        cand = lt | ceq[lane]
                    else:
                        lt, eq = _digits_below(bits(key, cbase + lane), top)
                        cand = (lt | eq) & span
                    while cand != _NONE:
                        b = trailing_zeros(cand)
                        cand &= cand - _ONE
                        e = (c << 3) + (b >> 3)
                        if (lt >> b) & _ONE or _tie_below(key, e, lane, threshold[e * stride]):
                            emask[e - lo] |= _ONE << lane
            for e in range(lo, hi):  # start loading the live edges' targets' rows
                if emask[e - lo] != _NONE:
                    prefetch(sflat, indices[e] * 4)
            for e in range(lo, hi):
                live = emask[e - lo]
                if live != _NONE:
                    emask[e - lo] = _NONE
                    v = indices[e]
                    if state[v, _GEN] != gen:
                        state[v, _GEN] = gen
                        state[v, _ACT] = _NONE
                        state[v, _NEW] = _NONE
                    new = live & ~state[v, _ACT]
                    if new != _NONE:
                        if state[v, _NEW] == _NONE:
                            nxt[count] = v
                            count += 1
                        state[v, _ACT] |= new
                        state[v, _NEW] |= new
        step += 1
    if width == 0 or step >= max_steps:
        return recorded, lgen
    # Lane by lane from here. An account is visited in the lane if it was active in it when
    # the lanes split (``state``) or stamped since in the compact ``seen`` (an int32 per
    # account, which stays in cache better than the 32-byte rows of ``state``). Each lane's
    # accounts of the current round are its BFS frontier.
    pend_list = np.empty(carried, dtype=np.int32)
    pend_start = _bucket_by_lane(state, front, width, _PEND, pend_list)
    rest = lanes
    while rest != _NONE:
        lane = np.uint64(trailing_zeros(rest))
        rest &= rest - _ONE
        li = np.int64(lane)
        if rest != _NONE:  # a lane's frontier is a few accounts: start loading the next lane's now
            nl = np.int64(trailing_zeros(rest))
            for i in range(pend_start[nl], min(pend_start[nl + 1], pend_start[nl] + _AHEAD)):
                prefetch(indptr, pend_list[i])
        if pend_start[li + 1] == pend_start[li]:
            continue
        if lgen == _LGEN_MAX:  # wrapped: start the stamps afresh
            seen[:] = 0
            lgen = 0
        lgen += 1
        bit = _ONE << lane
        count = 0
        for i in range(pend_start[li], pend_start[li + 1]):
            nxt[count] = pend_list[i]
            count += 1
        start = count
        head = 0
        s = step
        while head < count and s < max_steps:
            end = count
            # Draws first (they need only the edge id), then the live edges' targets, with
            # the loads prefetched ahead: the step's accounts are in random order.
            k = 0
            for i in range(head, end):
                if i + _AHEAD < end:
                    prefetch(indptr, nxt[i + _AHEAD])
                u = nxt[i]
                lo = indptr[u]
                hi = indptr[u + 1]
                # One hash and one byte-wise comparison decide this lane for eight
                # consecutive edges; only candidates (about 1 in 100 at p = 0.01) go further.
                for c in range(lo >> 3, (hi + 7) >> 3):
                    lt, eq = _digits_below(bits(key, (np.uint64(c) << _S6) + lane), tops[c * stride])
                    cand = (lt | eq) & _group_range(c, lo, hi)
                    while cand != _NONE:
                        b = trailing_zeros(cand)
                        cand &= cand - _ONE
                        e = (c << 3) + (b >> 3)
                        if (lt >> b) & _ONE or _tie_below(key, e, lane, threshold[e * stride]):
                            livebuf[k] = e
                            if k < 2 * _AHEAD:  # _ic_visit prefetches the later ones itself
                                prefetch(indices, e)
                            k += 1
                            if k == livebuf.shape[0]:
                                count, recorded = _ic_visit(g, sc, k, lgen, gen, bit, count, end + _AHEAD, s + 1,
                                                            recorded)
                                k = 0
            count, recorded = _ic_visit(g, sc, k, lgen, gen, bit, count, end + _AHEAD, s + 1, recorded)
            head = end
            if count > end:
                s += 1
        sizes[lane] += count - start
        if count > start:
            last[lane] = s
    return recorded, lgen


#: Live edges buffered per batch in the lane-by-lane phase, and how far ahead loads are prefetched.
_LIVE_BATCH = 4096
_AHEAD = 8


@nb.njit(cache=True, nogil=True)
def _ic_visit(g, sc, k, lgen, gen, bit, count, unfetched, when, recorded):
    """Activate the unvisited targets of the ``k`` live edges in ``sc.livebuf`` at step ``when``
    in lane ``bit``, queueing them in ``sc.nxt`` from ``count``; returns ``(count, recorded)``.

    Accounts queued at positions below ``unfetched`` get their CSR offsets prefetched.
    """
    indptr = g.indptr
    indices = g.indices
    live = sc.livebuf
    seen = sc.seen
    state = sc.state
    sflat = sc.sflat
    queue = sc.nxt
    rec_node = sc.rec_node
    rec_time = sc.rec_time
    for j in range(k):
        if j + 2 * _AHEAD < k:
            prefetch(indices, live[j + 2 * _AHEAD])
        if j + _AHEAD < k:
            ahead = indices[live[j + _AHEAD]]
            prefetch(seen, ahead)
            prefetch(sflat, ahead * 4)
        v = indices[live[j]]
        if seen[v] != lgen:
            seen[v] = lgen
            if state[v, _GEN] == gen and state[v, _ACT] & bit:  # active since the shared rounds
                continue
            if count < unfetched:  # the next step's loop prefetches its accounts from the _AHEAD-th on
                prefetch(indptr, v)
            queue[count] = v
            count += 1
            if rec_node.shape[0] > 0:
                rec_node[recorded] = v
                rec_time[recorded] = when
                recorded += 1
    return count, recorded


@nb.njit(cache=True, nogil=True)
def _bucket_by_lane(state, nodes, k, column, out):
    """Counting sort of ``(lane, node)`` for every lane bit of ``state[node, column]``.

    Writes the nodes of lane ``L`` to ``out[start[L]:start[L + 1]]`` and returns ``start``
    (int64[LANES + 1]); ``out`` must hold the total number of bits.
    """
    start = np.zeros(LANES + 1, dtype=np.int64)
    for i in range(k):
        x = state[nodes[i], column]
        while x != _NONE:
            start[trailing_zeros(x) + 1] += 1
            x &= x - _ONE
    for lane in range(LANES):
        start[lane + 1] += start[lane]
    fill = start[:LANES].copy()
    for i in range(k):
        v = nodes[i]
        x = state[v, column]
        while x != _NONE:
            lane = trailing_zeros(x)
            out[fill[lane]] = v
            fill[lane] += 1
            x &= x - _ONE
    return start


@nb.njit(cache=True, nogil=True)
def _trial_order(trials):
    """A stable sorting order of ``trials``: ``arange`` without sorting when they are in order already.

    The usual call (``run()``'s chunks, consecutive trial numbers) is sorted; a merge sort of
    10^5 trials costs about as much as their recruits' setup at p = 0.01.
    """
    for i in range(1, trials.shape[0]):
        if trials[i] < trials[i - 1]:
            return np.argsort(trials, kind="mergesort")
    return np.arange(trials.shape[0])


@nb.njit(cache=True, nogil=True)
def _ic_scratch(n, record):
    """IC working arrays for ``n`` accounts; ``record``: keep every activation (one trial's times)."""
    state = np.zeros((n, 4), dtype=np.uint64)
    m = n if record else 0
    return _IcScratch(state, state.reshape(-1), np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32),
                      np.zeros(n, dtype=np.int32), np.empty(_LIVE_BATCH, dtype=np.int64),
                      np.zeros(LANES, dtype=np.int64), np.zeros(LANES, dtype=np.int32),
                      np.empty(m, dtype=np.int32), np.empty(m, dtype=np.int32))


@nb.njit(cache=True, nogil=True)
def _ic_run(g, ic, rec, root, trials, max_steps, share_min):
    """Final sizes and last steps of ``trials`` (any order), a block of 64 at a time."""
    sc = _ic_scratch(g.indptr.shape[0] - 1, False)
    sizes = sc.sizes
    last = sc.last
    lgen = 0
    adopted = np.empty(trials.shape[0], dtype=np.int64)
    steps = np.empty(trials.shape[0], dtype=np.int32)
    order = _trial_order(trials)
    i = 0
    gen = 0
    while i < order.shape[0]:
        block = trials[order[i]] // _NLANES
        lanes = _NONE
        j = i
        while j < order.shape[0] and trials[order[j]] // _NLANES == block:
            lanes |= _ONE << np.uint64(trials[order[j]] % _NLANES)
            j += 1
        gen += 1
        _, lgen = _ic_block(g, ic, rec, root, block, lanes, max_steps, share_min, sc, gen, lgen)
        for k in range(i, j):
            lane = trials[order[k]] % _NLANES
            adopted[order[k]] = sizes[lane]
            steps[order[k]] = last[lane]
        i = j
    return adopted, steps


# Columns of the per-account LT record (32 bytes: what one in-edge touches is one cache
# line, where four separate arrays cost four misses on a large graph): mark (2 * gen when
# touched in trial ``gen``, 2 * gen + 1 once active), summed weight, the threshold in weight
# units and the account's ``scale`` (both float64 bits, through the ``rowf`` view; ``scale``
# written once).
_MARK, _ACC, _NEED, _SCALE = 0, 1, 2, 3


@nb.njit(cache=True, nogil=True)
def _lt_scratch(scale):
    """LT working arrays: the per-account records (``scale`` written once) and the step buffers."""
    n = scale.shape[0]
    row = np.empty((n, 4), dtype=np.int64)
    rowf = row.view(np.float64)
    for v in range(n):
        row[v, _MARK] = -1
        rowf[v, _SCALE] = scale[v]
    return _LtScratch(row, rowf, row.reshape(-1), np.empty(_LT_BATCH, dtype=np.int32),
                      np.empty(_LT_BATCH, dtype=np.int64), np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32))


@nb.njit(cache=True, inline="always")
def _threshold(law, theta_lo, theta_span, table, key, v):
    """Threshold of account ``v`` (in units of its ``scale``) from its keyed uniform.

    ``law`` as :data:`sim.classic.model.LAW_UNIFORM` etc.: uniform ``theta_lo + theta_span * U``
    (Kempe's LT, Watts' fixed phi); normal ``theta_lo + theta_span * Phi^-1(U)`` (Granovetter
    1978); ``table[v]``; or the first ``j`` with ``U < table[j]`` giving ``j + 1`` (a count:
    reinforcement, Centola 2010), ``inf`` past the table.
    """
    u = uniform(key, np.uint64(v))
    if law == 0:
        return theta_lo + theta_span * u
    if law == 1:
        return theta_lo + theta_span * normal_quantile_jit(u)
    if law == 2:
        return table[v]
    for j in range(table.shape[0]):
        if u < table[j]:
            return theta_lo + theta_span * (j + 1)
    return np.inf


@nb.njit(cache=True, nogil=True)
def _lt_trial(g, lt, rec, root, trial, max_steps, sc, gen):
    """One LT trial; fills ``sc.order``/``sc.times`` with activated accounts; returns (count, last step)."""
    indptr = g.indptr
    indices = g.indices
    weight = lt.weight
    wstride = lt.wstride
    theta_lo = lt.theta_lo
    theta_span = lt.theta_span
    law = lt.law
    table = lt.table
    fixed = rec.fixed
    n_random = rec.n_random
    row = sc.row
    rowf = sc.rowf
    tgt = sc.tgt
    wts = sc.wts
    order = sc.order
    times = sc.times
    n = indptr.shape[0] - 1
    touched = np.int64(2 * gen)
    active = touched + 1
    count = 0
    for i in range(fixed.shape[0]):
        v = fixed[i]
        if row[v, _MARK] != active:
            row[v, _MARK] = active
            order[count] = v
            count += 1
    if n_random > 0:
        rkey = trial_key(root, _RECRUIT, np.uint64(trial))
        # Floyd's algorithm: k distinct draws from [0, n) with k keyed draws.
        for j in range(n - n_random, n):
            t = below(rkey, np.uint64(j), np.int64(j + 1))
            v = t if row[t, _MARK] != active else j
            if row[v, _MARK] != active:
                row[v, _MARK] = active
                order[count] = v
                count += 1
    key = trial_key(root, _THRESH, np.uint64(trial))
    if lt.instigators:
        # Granovetter's instigators act at step 0: every account's threshold is needed now
        # (O(n) per trial, unlike the lazy draws below).
        for v in range(n):
            if row[v, _MARK] == active:
                continue
            theta = _threshold(law, theta_lo, theta_span, table, key, v)
            if theta <= 0.0:
                row[v, _MARK] = active
                order[count] = v
                count += 1
            else:
                row[v, _MARK] = touched
                row[v, _ACC] = 0
                rowf[v, _NEED] = theta * rowf[v, _SCALE]
    for i in range(count):
        times[i] = 0
    head = 0
    step = 0
    while head < count and step < max_steps:
        end = count
        # The step's in-edges are gathered (sequential reads) and then applied with the
        # target's record prefetched a few edges ahead. Order within a step does not
        # matter: sums only grow, so crossing during the step equals crossing at its end.
        k = 0
        for i in range(head, end):
            u = order[i]
            for e in range(indptr[u], indptr[u + 1]):
                tgt[k] = indices[e]
                wts[k] = weight[e * wstride]
                k += 1
                if k == tgt.shape[0]:
                    count = _lt_apply(lt, sc, k, key, touched, active, step, count)
                    k = 0
        count = _lt_apply(lt, sc, k, key, touched, active, step, count)
        head = end
        if count > end:
            step += 1
    return count, step


#: Edges applied per batch by the LT kernel, and how far ahead it prefetches.
_LT_BATCH = 4096
_LT_AHEAD = 16


@nb.njit(cache=True, nogil=True)
def _lt_apply(lt, sc, k, key, touched, active, step, count):
    """Add the weights of the ``k`` in-edges gathered in ``sc.tgt``/``sc.wts`` to their targets,
    activating (at ``step + 1``) those that reach their threshold; returns the new ``count``."""
    theta_lo = lt.theta_lo
    theta_span = lt.theta_span
    law = lt.law
    table = lt.table
    tgt = sc.tgt
    wts = sc.wts
    row = sc.row
    rowf = sc.rowf
    flat = sc.flat
    order = sc.order
    times = sc.times
    for j in range(k):
        if j + _LT_AHEAD < k:
            prefetch(flat, tgt[j + _LT_AHEAD] * 4)
        v = tgt[j]
        mark = row[v, _MARK]
        if mark == active:
            continue
        # First touch in this trial or not, without a branch (it would mispredict about
        # every other edge): the threshold's draw costs less than the misprediction.
        fresh = mark != touched
        drawn = _threshold(law, theta_lo, theta_span, table, key, v) * rowf[v, _SCALE]
        need = drawn if fresh else rowf[v, _NEED]
        a = (0 if fresh else row[v, _ACC]) + wts[j]
        row[v, _MARK] = touched
        row[v, _ACC] = a
        rowf[v, _NEED] = need
        if a >= need:  # int64 vs float64, compared as float64 (the Mesa engine does the same)
            row[v, _MARK] = active
            order[count] = v
            times[count] = step + 1
            count += 1
    return count


@nb.njit(cache=True, nogil=True)
def _lt_run(g, lt, rec, root, trials, max_steps):
    """Final sizes and last steps of ``trials``."""
    sc = _lt_scratch(lt.scale)
    adopted = np.empty(trials.shape[0], dtype=np.int64)
    steps = np.empty(trials.shape[0], dtype=np.int32)
    for i in range(trials.shape[0]):
        c, s = _lt_trial(g, lt, rec, root, trials[i], max_steps, sc, i + 1)
        adopted[i] = c
        steps[i] = s
    return adopted, steps


@nb.njit(cache=True, nogil=True)
def _lt_times(g, lt, rec, root, trial, max_steps):
    """Activation step of every account in one trial (-1: never)."""
    sc = _lt_scratch(lt.scale)
    c, _ = _lt_trial(g, lt, rec, root, trial, max_steps, sc, 1)
    return _scatter(g.indptr.shape[0] - 1, sc.order, sc.times, c)


@nb.njit(cache=True, nogil=True)
def _scatter(n, order, times, count):
    out = np.full(n, -1, dtype=np.int32)
    for i in range(count):
        out[order[i]] = times[i]
    return out


@nb.njit(cache=True, nogil=True)
def _ic_times(g, ic, rec, root, trial, max_steps):
    """Activation step of every account in one IC trial (-1: never): the trial's lane alone."""
    n = g.indptr.shape[0] - 1
    sc = _ic_scratch(n, True)
    lanes = _ONE << np.uint64(trial % _NLANES)
    c, _ = _ic_block(g, ic, rec, root, trial // _NLANES, lanes, max_steps, SHARED_LANES_MIN, sc, 1, 0)
    return _scatter(n, sc.rec_node, sc.rec_time, c)


# --------------------------------------------------------------------------- Python front


def _records(graph, model, plan):
    """The kernel records of a compiled model: (graph, Cascade or Threshold, recruits), each built
    once per source object (:func:`sim.base.kernel_records.memo`: the runner calls the kernel chunk
    after chunk on the same graph, model and plan)."""
    # Read by attribute, not by class: the GPU benchmark passes light stand-ins for the compiled
    # arrays so that it runs where the scenario schema (pydantic) is not installed.
    if hasattr(model, "kernel_threshold"):
        m = memo(cascade_record, model)
    else:
        m = memo(threshold_record, model)
    return memo(graph_record, graph), m, memo(recruits_record, plan)


def final_sizes(graph, model, plan, root, trials, max_steps=None):
    """Final cascade size and duration of the given trials.

    Parameters
    ----------
    graph : sim.world.graph.FlatGraph
    model : sim.classic.model.IndependentCascadeArrays or sim.classic.model.ThresholdArrays
    plan : sim.classic.recruits.RecruitPlan
    root : numpy.uint64
        Root key of the run (:func:`sim.base.rng.root_key`).
    trials : array of int
        Trial numbers (any subset, any order; whole blocks of 64 consecutive trials starting
        at a multiple of 64 run fastest for IC).
    max_steps : int, optional
        Step limit (None: until the cascade stops).

    Returns
    -------
    adopted : int64[T]
        Active accounts at the end, recruits included.
    steps : int32[T]
        Step of the last activation (0 if nothing spread).
    """
    g, m, rec = _records(graph, model, plan)
    trials = np.ascontiguousarray(trials, dtype=np.int64)
    limit = UNLIMITED if max_steps is None else np.int32(max_steps)
    if isinstance(m, Cascade):
        return _ic_run(g, m, rec, np.uint64(root), trials, limit, SHARED_LANES_MIN)
    return _lt_run(g, m, rec, np.uint64(root), trials, limit)


def activation_times(graph, model, plan, root, trial, max_steps=None):
    """Activation step of every account in one trial (-1 = never active); int32[n].

    Same arguments as :func:`final_sizes`, with a single ``trial`` number.
    """
    g, m, rec = _records(graph, model, plan)
    limit = UNLIMITED if max_steps is None else np.int32(max_steps)
    if isinstance(m, Cascade):
        return _ic_times(g, m, rec, np.uint64(root), np.int64(trial), limit)
    return _lt_times(g, m, rec, np.uint64(root), np.int64(trial), limit)
