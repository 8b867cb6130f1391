"""numba.cuda device code of the classic models: the draws of :mod:`sim.base.rng` and the IC and LT kernels.

Imported only by :mod:`sim.classic.cuda_kernel`. The keyed draws and the uncontracted float64
arithmetic come from :mod:`sim.base.cuda_device`, shared with the campaign kernel. Every function
here computes what its CPU twin in :mod:`sim.base.rng` / :mod:`sim.classic.kernel` computes, bit for
bit: the same SplitMix64 keys and counters, the same lane draws (``lane_below``: a 56-bit number per
lane and edge, decided by its first base-256 digit except in 1 case in 256), the same Floyd recruit
draws, the same integer weight sums and the same float64 threshold arithmetic. What differs is only
how the work is laid out on the device:

* **IC** (:func:`ic_kernel`): one CUDA block holds a 64-trial *unit* (a block of trials sharing
  the ``LIVE_LANES`` key, as on the CPU). The unit's state is bit-sliced like the CPU kernel's
  shared round: ``act[v]`` holds the lanes (trials) in which account ``v`` is active and
  ``newm[v]`` the lanes in which it became active this round. A round's frontier is the list
  of accounts with new lanes; its work items are (frontier account, lane, piece of at most
  ``PIECE`` edge groups of 8 edges), balanced over the block's threads by a prefix sum in
  shared memory. The fixed recruits' round is thus computed once per unit for all 64 lanes,
  each out-edge group's lane words hashed by 64 threads side by side while the account's
  CSR row is read once; later rounds carry only the lanes that spread. Activation is an
  ``atomic.or_`` of the lane bit, so each (account, lane) is activated once whatever the order.
* **LT** (:func:`lt_kernel`): one CUDA block per trial (thresholds are keyed per trial, so
  trials share nothing); the frontier's out-edges are the work items, weights added with
  64-bit integer ``atomic.add`` (exact in any order), and an account is claimed by the thread
  whose sum first reaches its threshold (``atomic.max`` on a generation stamp).

Per-slot scratch (one slot per resident CUDA block) is never cleared across ``n``: IC clears
the accounts its unit touched (a list kept as it goes), LT uses generation stamps and clears the
sums it touched. Results are reduced on the device; only per-trial rows go back to the host.

Floating point: the threshold arithmetic goes through :func:`sim.base.cuda_device.fmul` /
:func:`~sim.base.cuda_device.fadd` (never contracted into a fused multiply-add), so a threshold is
the same double on both engines.
"""

from __future__ import annotations

import functools
import math

import numba as nb
import numpy as np

# The keyed draws, the uncontracted float64 arithmetic and the numba.cuda import (with its NumPy
# shim) that every GPU kernel shares.
from sim.base.cuda_device import LIVE as _LIVE
from sim.base.cuda_device import NLANES as _NLANES
from sim.base.cuda_device import ONE as _ONE
from sim.base.cuda_device import S6 as _S6
from sim.base.cuda_device import SIMULATOR, cuda, fill_zero
from sim.base.cuda_device import ZERO as _ZERO
from sim.base.cuda_device import below as _below
from sim.base.cuda_device import bits as _bits
from sim.base.cuda_device import device as _device
from sim.base.cuda_device import fadd as _fadd
from sim.base.cuda_device import fmul as _fmul
from sim.base.cuda_device import tie_below as _tie_below
from sim.base.cuda_device import trial_key as _trial_key
from sim.base.cuda_device import uniform as _uniform
from sim.base.rng import LANES, Stream

__all__ = ["SIMULATOR", "fill_zero", "ic_kernel", "lt_kernel"]

_HIGH = np.uint64(0x8080808080808080)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_THRESH = np.uint64(int(Stream.THRESHOLD))
_RECRUIT = np.uint64(int(Stream.RECRUITS))


#: Edge groups (of 8 edges) per IC work item: a hub's out-edges are split among threads.
PIECE = 4
#: Threads per CUDA block of each kernel on a device (IC: at least 64, one per lane in the
#: per-lane steps; fewer only loop those steps).
DEVICE_IC_THREADS = 128
DEVICE_LT_THREADS = 128
#: The defaults: the device's, or small blocks in the simulator (one Python thread per GPU thread).
IC_THREADS = 16 if SIMULATOR else DEVICE_IC_THREADS
LT_THREADS = 8 if SIMULATOR else DEVICE_LT_THREADS

# Slots of the per-block shared counters.
_NN, _NT, _COM, _UNIT = 0, 1, 2, 3


@_device
def _low_bit(x):
    """Index of the lowest set bit of a non-zero uint64."""
    return np.int64(cuda.popc((x & (~x + _ONE)) - _ONE))


@_device
def _kth_bit(x, k):
    """Index of the ``k``-th (from 0, lowest first) set bit of ``x``; ``x`` has more than ``k`` bits."""
    pos = np.int64(0)
    w = np.int64(32)
    while w > 0:
        c = np.int64(cuda.popc(x & ((_ONE << np.uint64(w)) - _ONE)))
        if k >= c:
            k -= c
            x = x >> np.uint64(w)
            pos += w
        w = w >> 1
    return pos


@_device
def _digits_below(w, tops):
    """Byte-wise ``w < tops`` and ``w == tops`` as the high bit of each byte (``kernel._digits_below``)."""
    ge7 = (((w & _LOW7) | _HIGH) - (tops & _LOW7)) & _HIGH
    xh = w & _HIGH
    th = tops & _HIGH
    lt = ((~xh & th) | (~(xh ^ th) & ~ge7)) & _HIGH
    z = w ^ tops
    eq = ~(((z & _LOW7) + _LOW7) | z) & _HIGH
    return lt, eq


@_device
def _group_range(c, lo, hi):
    """High bits of the bytes of edge group ``c`` that lie in ``[lo, hi)`` (``kernel._group_range``)."""
    first = lo - (c << 3)
    if first < 0:
        first = 0
    last = hi - (c << 3)
    if last > 8:
        last = 8
    return (_HIGH << np.uint64(8 * first)) & (_HIGH >> np.uint64(8 * (8 - last)))


@_device
def _threshold(law, theta_lo, theta_span, table, ntable, key, v):
    """Threshold of account ``v`` in units of its scale (``kernel._threshold``; laws 0, 2 and 3).

    ``law`` is a compile-time constant of the kernel; each law is its own function so that a
    kernel holds only its own (numba prunes branches on a constant argument unreliably).
    """
    if law == 0:
        return _threshold_uniform(theta_lo, theta_span, key, v)
    if law == 2:
        return table[v]
    return _threshold_steps(theta_lo, theta_span, table, ntable, key, v)


@_device
def _threshold_uniform(theta_lo, theta_span, key, v):
    return _fadd(theta_lo, _fmul(theta_span, _uniform(key, np.uint64(v))))


@_device
def _threshold_steps(theta_lo, theta_span, table, ntable, key, v):
    """The first ``j`` with ``U < table[j]`` gives ``j + 1`` (a reinforcement count); +inf past the table."""
    u = _uniform(key, np.uint64(v))
    for j in range(ntable):
        if u < table[j]:
            return _fadd(theta_lo, _fmul(theta_span, float(j + 1)))
    return math.inf


# --------------------------------------------------------------------------- shared helpers

@_device
def _scan(scan, t, threads):
    """Inclusive prefix sum of ``scan[0:threads]`` in place (Hillis & Steele), every thread taking part."""
    d = 1
    while d < threads:
        x = 0
        if t >= d:
            x = scan[t - d]
        cuda.syncthreads()
        scan[t] += x
        cuda.syncthreads()
        d *= 2


@_device
def _owner(scan, j, threads):
    """The first ``s`` with ``scan[s] > j`` (the chunk entry item ``j`` belongs to)."""
    lo = 0
    hi = threads - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if scan[mid] > j:
            hi = mid
        else:
            lo = mid + 1
    return lo


# --------------------------------------------------------------------------- IC

@_device
def _ic_activate(act, newm, lists, nbase, touched, cnt, sizes, last, base, v, bits, lanes, when, record, rec_lane,
                 times):
    """Make ``v`` active in the lanes ``bits`` (step ``when``); count, list and record what is new."""
    old = cuda.atomic.or_(act, base + v, bits)
    new = bits & ~old
    if new != _ZERO:
        if old == _ZERO:  # first lanes of v in this unit: cleared at its end
            k = cuda.atomic.add(cnt, _NT, 1)
            touched[base + k] = v
        if cuda.atomic.or_(newm, base + v, new) == _ZERO:  # first new lanes of v this round: to the next frontier
            k = cuda.atomic.add(cnt, _NN, 1)
            lists[nbase + k] = v
        if new == lanes and when == 0:  # a recruit of every trial of the unit: counted once
            cuda.atomic.add(cnt, _COM, 1)
        else:
            x = new
            while x != _ZERO:
                lane = _low_bit(x)
                x &= x - _ONE
                cuda.atomic.add(sizes, lane, 1)
                last[lane] = when
        if record:
            if (new >> np.uint64(rec_lane)) & _ONE:
                times[v] = when
    return new


@functools.cache
def ic_kernel(threads: int, random: bool = True, record: bool = False):
    """The IC kernel for blocks of ``threads`` threads (a power of two; >= 64 on a device), compiled at first launch.

    ``random``: the plan has random recruits; ``record``: activation steps of lane ``rec_lane``
    go to ``times``. Both are compile-time constants: a variant holds only the code it runs, and
    the registers of code it never runs do not lower the device's occupancy.

    Launch ``[slots, threads]``; each block takes units ``slot``, then ``slots + atomic.add(counter)``.
    Arguments (device arrays unless said):

    indptr int64[n + 1], indices int32[m] (CSR); threshold uint64[m or 1], tops uint64[..] and
    ``stride`` (0 for one shared probability) as :func:`sim.classic.kernel.ic_final_sizes`;
    fixed int32[>= nfixed] and ``nfixed``, ``n_random`` (recruit plan); ``root`` uint64;
    ublocks int64[U] (trial block of each unit) and masks uint64[U] (its lanes asked), ``nunits``;
    ``max_steps``; scratch act, newm, pend uint64[S * n], lists int32[S * 2n], touched int32[S * n]
    (act and newm zero); out_size int64[U * 64], out_last int32[U * 64]; counter int64[1] (zero);
    ``rec_lane`` (-1, or the lane whose activation steps go to times int32[n]).
    """
    if threads < 1 or threads & (threads - 1):
        raise ValueError(f"the IC kernel needs a power of two threads per block, got {threads}")
    T = threads
    RANDOM = bool(random)
    RECORD = bool(record)

    @cuda.jit
    def ic_units(indptr, indices, threshold, tops, stride, fixed, nfixed, n_random, root, ublocks, masks, nunits,
                 max_steps, act, newm, pend, lists, touched, out_size, out_last, counter, rec_lane, times):
        t = cuda.threadIdx.x
        slot = cuda.blockIdx.x
        n = indptr.shape[0] - 1
        base = np.int64(slot) * n
        cnt = cuda.shared.array(4, nb.int64)
        sizes = cuda.shared.array(64, nb.int32)
        last = cuda.shared.array(64, nb.int32)
        scan = cuda.shared.array(T, nb.int64)
        snode = cuda.shared.array(T, nb.int32)
        smask = cuda.shared.array(T, nb.uint64)
        spcs = cuda.shared.array(T, nb.int32)
        unit = np.int64(slot)
        while unit < nunits:
            block = np.uint64(ublocks[unit])
            lanes = masks[unit]
            for ln in range(t, LANES, T):
                sizes[ln] = 0
                last[ln] = 0
            if t == 0:
                cnt[_NN] = 0
                cnt[_NT] = 0
                cnt[_COM] = 0
            cuda.syncthreads()
            # Step 0: the fixed recruits in every lane, then each lane's random recruits (Floyd).
            lbase = 2 * base  # list of parity 0: the first frontier
            for i in range(t, nfixed, T):
                _ic_activate(act, newm, lists, lbase, touched, cnt, sizes, last, base, fixed[i], lanes, lanes, 0,
                             RECORD, rec_lane, times)
            cuda.syncthreads()
            if RANDOM:
                for ln in range(t, LANES, T):
                    bit = _ONE << np.uint64(ln)
                    if lanes & bit:
                        rkey = _trial_key(root, _RECRUIT, block * _NLANES + np.uint64(ln))
                        for j in range(n - n_random, n):
                            r = _below(rkey, np.uint64(j), np.int64(j + 1))
                            v = r
                            if cuda.atomic.or_(act, base + r, _ZERO) & bit:  # an atomic read: coherent
                                v = j
                            _ic_activate(act, newm, lists, lbase, touched, cnt, sizes, last, base, v, bit, lanes, 0,
                                         RECORD, rec_lane, times)
                cuda.syncthreads()
            key = _trial_key(root, _LIVE, block)
            p = 0
            step = 0
            while True:
                nf = cnt[_NN]
                cuda.syncthreads()
                if t == 0:
                    cnt[_NN] = 0
                cbase = 2 * base + p * n
                nbase = 2 * base + (1 - p) * n
                # Commit the round: each frontier account's new lanes become its lanes to spread.
                for i in range(t, nf, T):
                    pend[base + i] = cuda.atomic.exch(newm, base + lists[cbase + i], _ZERO)
                cuda.syncthreads()
                if nf == 0 or step >= max_steps:
                    break
                for c0 in range(0, nf, T):
                    i = c0 + t
                    w = 0
                    if i < nf:
                        u = lists[cbase + i]
                        lo = indptr[u]
                        hi = indptr[u + 1]
                        pcs = 0
                        if hi > lo:
                            pcs = (((hi + 7) >> 3) - (lo >> 3) + PIECE - 1) // PIECE
                        mask = pend[base + i]
                        w = np.int64(cuda.popc(mask)) * pcs
                        snode[t] = u
                        smask[t] = mask
                        spcs[t] = pcs
                    scan[t] = w
                    cuda.syncthreads()
                    _scan(scan, t, T)
                    total = scan[T - 1]
                    for j in range(t, total, T):
                        s = _owner(scan, j, T)
                        r = j
                        if s > 0:
                            r = j - scan[s - 1]
                        pcs = spcs[s]
                        rank = r // pcs
                        lane = np.uint64(_kth_bit(smask[s], np.int64(rank)))
                        bit = _ONE << lane
                        u = snode[s]
                        lo = indptr[u]
                        hi = indptr[u + 1]
                        g0 = (lo >> 3) + (r - rank * pcs) * PIECE
                        g1 = (hi + 7) >> 3
                        if g0 + PIECE < g1:  # (no min(): numba 0.68's CUDA target mistypes it on ints)
                            g1 = g0 + PIECE
                        for c in range(g0, g1):
                            lt, eq = _digits_below(_bits(key, (np.uint64(c) << _S6) + lane), tops[c * stride])
                            cand = (lt | eq) & _group_range(c, lo, hi)
                            while cand != _ZERO:
                                b = _low_bit(cand)
                                cand &= cand - _ONE
                                e = (c << 3) + (b >> 3)
                                if (lt >> np.uint64(b)) & _ONE or _tie_below(key, e, lane, threshold[e * stride]):
                                    _ic_activate(act, newm, lists, nbase, touched, cnt, sizes, last, base, indices[e],
                                                 bit, lanes, step + 1, RECORD, rec_lane, times)
                    cuda.syncthreads()
                p = 1 - p
                step += 1
            for ln in range(t, LANES, T):
                if (lanes >> np.uint64(ln)) & _ONE:
                    out_size[unit * LANES + ln] = sizes[ln] + cnt[_COM]
                    out_last[unit * LANES + ln] = last[ln]
            for i in range(t, cnt[_NT], T):
                cuda.atomic.exch(act, base + touched[base + i], _ZERO)
            cuda.syncthreads()
            if t == 0:
                cnt[_UNIT] = cuda.gridDim.x + cuda.atomic.add(counter, 0, 1)
            cuda.syncthreads()
            unit = cnt[_UNIT]

    return ic_units


# --------------------------------------------------------------------------- LT

@_device
def _lt_claim(astamp, base, v, gen, lists, nbase, cnt, record, times, when):
    """Make ``v`` active (once per trial: the generation stamp decides who claims it)."""
    if cuda.atomic.max(astamp, base + v, gen) < gen:
        k = cuda.atomic.add(cnt, _NN, 1)
        lists[nbase + k] = v
        if record:
            times[v] = when


@functools.cache
def lt_kernel(threads: int, law: int = 0, instigators: bool = False, random: bool = True, record: bool = False):
    """The LT (general threshold) kernel for blocks of ``threads`` threads (a power of two).

    ``law`` (0, 2 or 3), ``instigators``, ``random`` (the plan has random recruits) and ``record``
    (activation steps of the one trial go to ``times``) are compile-time constants, as for
    :func:`ic_kernel`.

    Launch ``[slots, threads]``; block ``slot`` runs trial index ``slot``, then
    ``slots + atomic.add(counter)``. Arguments (device arrays unless said):

    indptr, indices (CSR); weight int64[m or 1] and ``wstride``; scale float64[n]; ``theta_lo``,
    ``theta_span``, table float64[>= ntable], ``ntable``, as :func:`sim.classic.kernel.lt_final_sizes`;
    fixed/nfixed/n_random/root as for IC; trials int64[ntr]; ``max_steps``; scratch acc int64[S * n]
    (zero), tstamp and astamp int32[S * n] (stamps below ``gens``), lists int32[S * 2n], touched
    int32[S * n], gens int64[S] (each slot's last stamp, updated); out_size int64[ntr], out_steps int32[ntr];
    counter int64[1] (zero); times int32[n].
    """
    if threads < 1 or threads & (threads - 1):
        raise ValueError(f"the LT kernel needs a power of two threads per block, got {threads}")
    if law not in (0, 2, 3):
        raise ValueError(f"threshold law {law} is not ported to the cuda engine")
    T = threads
    LAW = int(law)
    INSTIGATORS = bool(instigators)
    RANDOM = bool(random)
    RECORD = bool(record)

    @cuda.jit
    def lt_trials(indptr, indices, weight, wstride, scale, theta_lo, theta_span, table, ntable, fixed, nfixed,
                  n_random, root, trials, ntr, max_steps, acc, tstamp, astamp, lists, touched, gens, out_size,
                  out_steps, counter, times):
        t = cuda.threadIdx.x
        slot = cuda.blockIdx.x
        n = indptr.shape[0] - 1
        base = np.int64(slot) * n
        cnt = cuda.shared.array(4, nb.int64)
        scan = cuda.shared.array(T, nb.int64)
        snode = cuda.shared.array(T, nb.int32)
        gen = gens[slot]
        index = np.int64(slot)
        while index < ntr:
            gen += 1
            trial = np.uint64(trials[index])
            if t == 0:
                cnt[_NN] = 0
                cnt[_NT] = 0
            cuda.syncthreads()
            lbase = 2 * base
            for i in range(t, nfixed, T):
                _lt_claim(astamp, base, fixed[i], gen, lists, lbase, cnt, RECORD, times, 0)
            cuda.syncthreads()
            if RANDOM and t == 0:
                rkey = _trial_key(root, _RECRUIT, trial)
                for j in range(n - n_random, n):
                    r = _below(rkey, np.uint64(j), np.int64(j + 1))
                    v = r
                    if cuda.atomic.max(astamp, base + r, 0) == gen:  # an atomic read: coherent
                        v = j
                    _lt_claim(astamp, base, v, gen, lists, lbase, cnt, RECORD, times, 0)
            cuda.syncthreads()
            key = _trial_key(root, _THRESH, trial)
            if INSTIGATORS:
                # Granovetter's instigators act at step 0: every account's threshold is needed now.
                for v in range(t, n, T):
                    if astamp[base + v] != gen:  # a stale read only costs a claim that fails
                        if _threshold(LAW, theta_lo, theta_span, table, ntable, key, v) <= 0.0:
                            _lt_claim(astamp, base, v, gen, lists, lbase, cnt, RECORD, times, 0)
                cuda.syncthreads()
            total = np.int64(0)
            p = 0
            step = 0
            while True:
                nf = cnt[_NN]
                cuda.syncthreads()
                if t == 0:
                    cnt[_NN] = 0
                total += nf
                if nf == 0 or step >= max_steps:
                    break
                cbase = 2 * base + p * n
                nbase = 2 * base + (1 - p) * n
                # The frontier's out-edges, balanced over the threads; sums only grow, so a target
                # crossing its threshold during the step is a target crossing it at the step's end.
                for c0 in range(0, nf, T):
                    i = c0 + t
                    w = 0
                    if i < nf:
                        u = lists[cbase + i]
                        w = indptr[u + 1] - indptr[u]
                        snode[t] = u
                    scan[t] = w
                    cuda.syncthreads()
                    _scan(scan, t, T)
                    edges = scan[T - 1]
                    for j in range(t, edges, T):
                        s = _owner(scan, j, T)
                        r = j
                        if s > 0:
                            r = j - scan[s - 1]
                        e = indptr[snode[s]] + r
                        v = indices[e]
                        at = base + v
                        if astamp[at] == gen:  # active already (a stale read only adds to a sum never read)
                            continue
                        if cuda.atomic.max(tstamp, at, gen) < gen:  # first touch: its sum is cleared at the end
                            k = cuda.atomic.add(cnt, _NT, 1)
                            touched[base + k] = v
                        wt = weight[e * wstride]
                        a = cuda.atomic.add(acc, at, wt) + wt
                        need = _fmul(_threshold(LAW, theta_lo, theta_span, table, ntable, key, v), scale[v])
                        if float(a) >= need:  # int64 against float64, as float64 (as the CPU kernel)
                            _lt_claim(astamp, base, v, gen, lists, nbase, cnt, RECORD, times, step + 1)
                    cuda.syncthreads()
                if cnt[_NN] > 0:
                    step += 1
                p = 1 - p
            if t == 0:
                out_size[index] = total
                out_steps[index] = step
            for i in range(t, cnt[_NT], T):
                cuda.atomic.exch(acc, base + touched[base + i], 0)
            cuda.syncthreads()
            if t == 0:
                cnt[_UNIT] = cuda.gridDim.x + cuda.atomic.add(counter, 0, 1)
            cuda.syncthreads()
            index = cnt[_UNIT]
        if t == 0:
            gens[slot] = gen

    return lt_trials
