"""numba.cuda device code of the campaign model for large worlds: one CUDA *block* per trial.

Imported only by :mod:`sim.campaign.cuda_kernel`, which chooses this layout or the thread-per-trial
one (:mod:`sim.campaign.cuda_device`) by world size (``cuda_kernel.choose_layout``). Same trials,
same keyed draws, same fixed-point doses, same tables: every per-trial row equals the CPU kernel's.

**Why a block per trial.** With one thread per trial each trial in flight needs its own scratch of
~90 bytes per account (~0.9 GB at 10 M accounts): the memory holds ~80 trials, each a serial chain
of scattered reads, and the device idles. Here the threads of a block share one trial and one slot
of scratch, so the same memory keeps ``threads`` times as many memory requests in flight.

**How a trial runs.** Day by day, posts one at a time in the CPU kernel's order (the day's
scheduled posts in schedule order, then the re-shares), with a block barrier after each post:

1. *followers*: the block's threads share the poster's out-edges (thread ``k`` takes edges
   ``lo + k``, ``lo + k + threads``, ...); each reached edge's state, dose and engagement are
   computed and booked at once. Within one post every reached account is a different account (the
   host sends a world here only if no account follows another twice, ``cuda_kernel.simple_graph``)
   and every edge a different edge, so an account's record and an edge's state are written by one
   thread; only the trial's counters are shared, and they are integer atomics (sums, one max), exact
   in any order;
2. *discovery picks*, then *press picks* (scheduled posts): the CPU books pick ``j`` of account
   ``v`` unless the post reached ``v`` already (as a follower or by an earlier pick). Three passes
   with barriers give the same choice whatever the thread order: reset each picked account's
   ``A_PICK``; ``atomic.min`` of the pick numbers of accounts not yet reached by the post; book the
   pick whose number won (the account's first pick);
3. *end of day*: adoption over the accounts exposed today (the list is appended to with an atomic
   counter, so its order varies; each account's decision reads only its own record and keyed draws,
   so the decisions do not), tomorrow's re-sharers appended likewise.

What the order of the lists changes: only the order of tomorrow's re-share posts. Nothing in a
trial's rows depends on it: re-shares use fresh edges (no edge state), each post reaches an account
at most once, today's conviction is an integer sum, attribution is a total order on (dose, post
id), the multiple-source count is ``min(cap, distinct sources)`` in any order, and a post's
"reached already" marks use its own ordinal. Recording one trial in full (adopters in the CPU's
order) therefore stays on the thread-per-trial kernel.

Scratch per slot (one trial in flight per block): the thread layout's per-account rows plus one
int32 column (``A_PICK``), and the partners' edge state; stamps, never cleared across launches.
"""

from __future__ import annotations

import functools
import math

import numba as nb
import numpy as np

from sim.base.cuda_device import SIMULATOR, below, bits, cuda, derive, device, fmul, trial_key, uniform
from sim.base.rng import Stream
from sim.campaign.cuda_device import (
    _A_ACT,
    _A_CLICKED,
    _A_ENGAGED,
    _A_NOT_SRC,
    _A_NOT_TODAY,
    _A_SRC_SHIFT,
    _ACLICKED,
    _ADIRECT,
    _ADOPT,
    _AENGAGED,
    _ARESHARE,
    _AUNENGAGED,
    _CLICKERS,
    _DEPTH,
    _DIMPR,
    _ENG,
    _ENGAGERS,
    _EXPOSE,
    _IMPR,
    _PAIRS,
    _PIMPR,
    _REACH,
    _RESHARES,
    _S11,
    _TWO53,
    A32_COLS,
    A_ADOPTED,
    A_BGEN,
    A_BPID,
    A_BROOT,
    A_CLAST,
    A_CONVICTION,
    A_GEN_OF,
    A_PMARK,
    A_ROOT_OF,
    A_SEEN,
    A_STATE,
    A_TMARK,
    A_TODAY,
    E_FATIGUE,
    E_TRUST,
    L_NEXT,
    L_RESHARERS,
    L_TOUCHED,
    P_ACCOUNT,
    P_CHANNEL,
    P_DAY,
    P_DENG,
    P_DTRUST,
    P_FACTOR,
    P_NDISC,
    P_NPRESS,
    P_PARTNER,
    P_PENG,
    P_PTRUST,
    RESHARE_ID_BASE,
    W_CHANNEL,
    W_ELIGIBLE,
    W_ENGAGEMENT,
    W_REACH,
    W_SEGMENT,
    W_TRUST0,
    W_TSCALE,
    _edge_state,
)

__all__ = ["BLOCK_A32_COLS", "BLOCK_THREADS", "campaign_block_kernel"]

#: Threads per block (one trial per block) on a device, and in the simulator (one Python thread each).
DEVICE_BLOCK_THREADS = 256
BLOCK_THREADS = 4 if SIMULATOR else DEVICE_BLOCK_THREADS
#: Column of an account's int32 row holding its first pick of the current post (picks' dedup).
A_PICK = A32_COLS
BLOCK_A32_COLS = A32_COLS + 1
_NO_PICK = np.int32(2**31 - 1)

_ENGAGE = np.uint64(int(Stream.ENGAGE))
_DISCOVER = np.uint64(int(Stream.DISCOVER))
_DENGAGE = np.uint64(int(Stream.DISCOVER_ENGAGE))
_PRESS = np.uint64(int(Stream.PRESS))
_PENGAGE = np.uint64(int(Stream.PRESS_ENGAGE))
_RESHARE = np.uint64(int(Stream.RESHARE))
_THRESH = np.uint64(int(Stream.THRESHOLD))
_ONE = np.int64(1)

# Shared words of a block: the trial index, accounts exposed today, tomorrow's re-sharers.
_SH_TRIAL, _SH_TOUCHED, _SH_NEXT = 0, 1, 2


@device
def _book(a64, adose, a32, src, lst, tbase, sh, totals, series, partners, segments, t, wi, pi, abase, v, d, gen,
          dose, engaged, clicked, acts, discovery, press, mark, pid, ordinal, p_root, p_gen, sources_on, cap,
          dose_unit):
    """Book one exposure of account ``v`` (``sim.campaign.kernel._book``), the only thread touching ``v``'s
    record during this post; the trial's counters by integer atomics, the day's list by an atomic append."""
    av = abase + v
    if discovery:
        if press:
            cuda.atomic.add(totals, (t, _PIMPR), _ONE)
        else:
            cuda.atomic.add(totals, (t, _DIMPR), _ONE)
        cuda.atomic.add(totals, (t, _IMPR), _ONE)
        cuda.atomic.add(series, (t, d, 1), _ONE)
        if p_root >= 0:
            cuda.atomic.add(partners, (t, p_root, 0), _ONE)
    if a32[av, A_SEEN] != gen:  # first exposure of the trial: reach, and fresh persuasion state
        a32[av, A_SEEN] = gen
        a64[av, A_CONVICTION] = 0
        a32[av, A_CLAST] = -1
        a32[av, A_TMARK] = -1
        a32[av, A_PMARK] = 0
        a32[av, A_STATE] = 0
        cuda.atomic.add(totals, (t, _REACH), _ONE)
        cuda.atomic.add(series, (t, d, 0), _ONE)
        cuda.atomic.add(segments, (t, wi[v, W_SEGMENT], 0), _ONE)
    if mark or discovery:
        a32[av, A_PMARK] = ordinal
    state = a32[av, A_STATE]
    if sources_on and a32[av, A_ADOPTED] != gen:  # the sources an adopter meets later change nothing
        k = (state >> _A_SRC_SHIFT) & 15
        if k < cap:
            if pid >= RESHARE_ID_BASE:
                poster = np.int32(pid - RESHARE_ID_BASE)
            else:
                poster = np.int32(pi[pid, P_ACCOUNT])
            sb = np.int64(av) * (cap - 1)
            i = 0
            while i < k and src[sb + i] != poster:
                i += 1
            if i == k:  # a source not seen before in this trial (the count is min(cap, distinct): any order)
                if k < cap - 1:
                    src[sb + k] = poster
                state = (state & _A_NOT_SRC) | ((k + 1) << _A_SRC_SHIFT)
    if engaged:
        cuda.atomic.add(totals, (t, _ENG), _ONE)
        cuda.atomic.add(series, (t, d, 2), _ONE)
        if p_root >= 0:
            cuda.atomic.add(partners, (t, p_root, 1), _ONE)
        if (state & _A_ENGAGED) == 0:  # the account's first engagement in the trial
            state |= _A_ENGAGED
            cuda.atomic.add(totals, (t, _ENGAGERS), _ONE)
            cuda.atomic.add(series, (t, d, 4), _ONE)
        # A click is an engagement (click * p_eng <= p_eng): tested only for engagements, as on the CPU.
        if clicked and (state & _A_CLICKED) == 0:  # the account's first click in the trial
            state |= _A_CLICKED
            cuda.atomic.add(totals, (t, _CLICKERS), _ONE)
    if a32[av, A_TMARK] != d:  # first exposure today
        a32[av, A_TMARK] = d
        a64[av, A_TODAY] = 0
        adose[av] = -math.inf
        a64[av, A_BPID] = -1
        state &= _A_NOT_TODAY
        k = cuda.atomic.add(sh, _SH_TOUCHED, _ONE)
        lst[tbase + k] = v
    a64[av, A_TODAY] += np.int64(dose * dose_unit)
    if acts:
        state |= _A_ACT
    a32[av, A_STATE] = state
    best = adose[av]
    if dose > best or (dose == best and pid < a64[av, A_BPID]):
        adose[av] = dose
        a64[av, A_BPID] = pid
        a32[av, A_BROOT] = p_root
        a32[av, A_BGEN] = p_gen


@device
def _adopt(a64, a32, lst, tbase, nbase, sh, i, totals, series, partners, segments, t, wf, wi, decay, synergy,
           sources_on, reshare, k_thresh, k_reshare, abase, d, gen):
    """End of day ``d`` for the ``i``-th account exposed today (``sim.campaign.kernel._adopt``, threshold mode)."""
    v = lst[tbase + i]
    av = abase + v
    if wi[v, W_ELIGIBLE] == 0 or a32[av, A_ADOPTED] == gen:
        return
    c = np.int64(0)
    c_last = a32[av, A_CLAST]
    if c_last >= 0:
        c = np.int64(a64[av, A_CONVICTION] * decay[d - c_last])
    c += a64[av, A_TODAY]
    a64[av, A_CONVICTION] = c
    a32[av, A_CLAST] = d
    state = a32[av, A_STATE]
    lhs = float(c)
    if sources_on:
        lhs = lhs * synergy[(state >> _A_SRC_SHIFT) & 15]
    adopt = lhs >= uniform(k_thresh, np.uint64(v)) * wf[v, W_TSCALE]
    if not adopt and (state & _A_ACT) != 0:
        adopt = True  # acted on a post's call to action today
    if not adopt:
        return
    a32[av, A_ADOPTED] = gen
    b_root = a32[av, A_BROOT]
    b_gen = a32[av, A_BGEN]
    a32[av, A_ROOT_OF] = b_root
    a32[av, A_GEN_OF] = b_gen
    cuda.atomic.add(totals, (t, _ADOPT), _ONE)
    if b_gen == 1:
        cuda.atomic.add(totals, (t, _ADIRECT), _ONE)
    else:
        cuda.atomic.add(totals, (t, _ARESHARE), _ONE)
    if state & _A_ENGAGED:
        cuda.atomic.add(totals, (t, _AENGAGED), _ONE)
    else:
        cuda.atomic.add(totals, (t, _AUNENGAGED), _ONE)
    if state & _A_CLICKED:  # clicked on or before its adoption day (booked like adopters_engaged)
        cuda.atomic.add(totals, (t, _ACLICKED), _ONE)
    cuda.atomic.max(totals, (t, _DEPTH), np.int64(b_gen))
    cuda.atomic.add(series, (t, d, 3), _ONE)
    if b_root >= 0:
        cuda.atomic.add(partners, (t, b_root, 2), _ONE)
    cuda.atomic.add(segments, (t, wi[v, W_SEGMENT], 1), _ONE)
    if uniform(k_reshare, np.uint64(v)) < reshare:
        k = cuda.atomic.add(sh, _SH_NEXT, _ONE)
        lst[nbase + k] = v


@device
def _pick(plat_members, mlo, size, n_audience, kpick, j, press):
    """Account of discovery pick ``j`` (a member of the platform) or press pick ``j`` (an audience account)."""
    if press:
        return below(kpick, np.uint64(j), n_audience)
    return np.int64(plat_members[mlo + below(kpick, np.uint64(j), size)])


@functools.cache
def campaign_block_kernel(sources_on: bool, repetition_on: bool):
    """The block-per-trial campaign kernel, mechanisms' switches as compile-time constants.

    Launch ``[slots, BLOCK_THREADS]``: block (slot) ``s`` runs trial index ``s``, then
    ``slots + atomic.add(counter)``. Arguments as ``sim.campaign.cuda_device.campaign_kernel``'s
    without the recording arrays; ``a32`` has :data:`BLOCK_A32_COLS` columns; scratch rows per block.
    """
    SOURCES = bool(sources_on)
    REPETITION = bool(repetition_on)

    @cuda.jit
    def campaign_block_trials(indptr, indices, wf, wi, plat_ptr, plat_members, n_audience, pi, pf, pdraw, slot_base,
                              shock, decay, recovery, growth, wear, repetition, synergy, ceiling, reshare,
                              reshare_factor, dose_unit, act, click, days, cap, root, trials, ntr, counter, a64, adose,
                              a32, lst, src, ef, ei, e32, m_slots, gens, totals, series, partners, segments):
        sh = cuda.shared.array(4, nb.int64)
        slot = cuda.blockIdx.x
        nslots = cuda.gridDim.x
        tid = cuda.threadIdx.x
        nthr = cuda.blockDim.x
        if slot >= gens.shape[0]:  # (never: a launch has at most as many blocks as the scratch has slots)
            return
        n = indptr.shape[0] - 1
        n_sched = pdraw.shape[0]
        abase = np.int64(slot) * n
        lbase = np.int64(slot) * 3 * n
        ebase = np.int64(slot) * m_slots
        rbase = lbase + L_RESHARERS * n
        nbase = lbase + L_NEXT * n
        tbase = lbase + L_TOUCHED * n
        gen = gens[slot]
        index = np.int64(slot)
        while index < ntr:  # the same value in every thread of the block (read from shared memory)
            gen += 1
            t = index
            # This trial's rows start at zero (then a barrier: other threads add to them).
            for j in range(tid, totals.shape[1], nthr):
                totals[t, j] = 0
            for j in range(tid, days * series.shape[2], nthr):
                series[t, j // series.shape[2], j % series.shape[2]] = 0
            for j in range(tid, partners.shape[1] * partners.shape[2], nthr):
                partners[t, j // partners.shape[2], j % partners.shape[2]] = 0
            for j in range(tid, segments.shape[1] * segments.shape[2], nthr):
                segments[t, j // segments.shape[2], j % segments.shape[2]] = 0
            if tid == 0:
                sh[_SH_TOUCHED] = 0
            cuda.syncthreads()
            tr = np.uint64(trials[index])
            k_expose = trial_key(root, _EXPOSE, tr)
            k_engage = trial_key(root, _ENGAGE, tr)
            k_discover = trial_key(root, _DISCOVER, tr)
            k_dengage = trial_key(root, _DENGAGE, tr)
            k_reshare = trial_key(root, _RESHARE, tr)
            k_thresh = trial_key(root, _THRESH, tr)
            k_press = trial_key(root, _PRESS, tr)
            k_pengage = trial_key(root, _PENGAGE, tr)
            n_resharers = np.int64(0)
            ordinal = 0
            sp = 0
            for d in range(days):
                dmark = gen * (days + 1) + d + 1
                while sp < n_sched and pi[sp, P_DAY] < d:
                    sp += 1
                first = sp
                while sp < n_sched and pi[sp, P_DAY] == d:
                    sp += 1
                n_today = sp - first
                for q in range(n_today + n_resharers):
                    scheduled = q < n_today
                    if scheduled:
                        pid = np.int64(first + q)
                        u = pi[pid, P_ACCOUNT]
                        p_root = pi[pid, P_PARTNER]
                        p_gen = 1
                        factor = pf[pid, P_FACTOR]
                        draw = pdraw[pid]
                        c = pi[pid, P_CHANNEL]
                        n_disc = pi[pid, P_NDISC] if plat_ptr[c + 1] > plat_ptr[c] else 0
                        n_press = pi[pid, P_NPRESS] if n_audience > 0 else 0
                        e_off = ebase + slot_base[p_root] - indptr[u]
                    else:
                        u = np.int64(lst[rbase + q - n_today])
                        pid = RESHARE_ID_BASE + u
                        p_root = np.int64(a32[abase + u, A_ROOT_OF])
                        p_gen = np.int64(a32[abase + u, A_GEN_OF]) + 1
                        factor = reshare_factor
                        draw = np.uint64(pid)
                        c = 0
                        n_disc = 0
                        n_press = 0
                        e_off = 0
                    ordinal += 1
                    lo = indptr[u]
                    hi = indptr[u + 1]
                    p_reach = wf[u, W_REACH] * shock[wi[u, W_CHANNEL], d]
                    if p_reach > 1.0:
                        p_reach = 1.0
                    reach_threshold = np.uint64(math.ceil(p_reach * _TWO53))
                    kp_exp = derive(k_expose, draw)
                    kp_eng = derive(k_engage, draw)
                    t0 = wf[u, W_TRUST0]
                    eng0 = wf[u, W_ENGAGEMENT]
                    mark = n_disc + n_press > 0
                    n_follow = np.int64(0)
                    for e in range(lo + tid, hi, nthr):
                        if (bits(kp_exp, np.uint64(e)) >> _S11) >= reach_threshold:
                            continue
                        v = np.int64(indices[e])
                        if scheduled:
                            es = e_off + e
                            nth = _edge_state(ef, ei, e32, es, gen, dmark, d, t0, ceiling, growth, wear, recovery)
                            trust = ef[es, E_TRUST]
                            fatigue = ef[es, E_FATIGUE]
                        else:
                            nth = 0
                            trust = t0
                            fatigue = 0.0
                        dose = fmul(fmul(trust, factor), 1.0 - fatigue)
                        if REPETITION:
                            dose = fmul(dose, repetition[nth])
                        if t0 > 0.0:
                            p_eng = eng0 * trust / t0
                        else:
                            p_eng = eng0
                        if p_eng > 1.0:
                            p_eng = 1.0
                        ud = uniform(kp_eng, np.uint64(e))
                        _book(a64, adose, a32, src, lst, tbase, sh, totals, series, partners, segments, t, wi, pi,
                              abase, v, d, gen, dose, ud < p_eng, ud < p_eng * click, ud < p_eng * act, False, False,
                              mark, pid, ordinal, p_root, p_gen, SOURCES, cap, dose_unit)
                        n_follow += 1
                    if n_follow > 0:
                        cuda.atomic.add(totals, (t, _IMPR), n_follow)
                        cuda.atomic.add(series, (t, d, 1), n_follow)
                        if p_root >= 0:
                            cuda.atomic.add(partners, (t, p_root, 0), n_follow)
                    if tid == 0:
                        totals[t, _PAIRS] += hi - lo  # one thread: the others never write this column
                        if not scheduled:
                            totals[t, _RESHARES] += 1
                    # Discovery (§7.3), then press coverage (§7.12): each account's first pick not yet reached.
                    for kind in range(2):
                        press = kind == 1
                        n_picks = n_press if press else n_disc
                        if n_picks > 0:
                            if press:
                                mlo = np.int64(0)
                                size = np.int64(0)
                                dose = fmul(pf[pid, P_PTRUST], factor)
                                p_eng = pf[pid, P_PENG]
                                kpick = derive(k_press, draw)
                                kpe = derive(k_pengage, draw)
                            else:
                                mlo = plat_ptr[c]
                                size = plat_ptr[c + 1] - mlo
                                dose = fmul(pf[pid, P_DTRUST], factor)
                                p_eng = pf[pid, P_DENG]
                                kpick = derive(k_discover, draw)
                                kpe = derive(k_dengage, draw)
                            cuda.syncthreads()  # the marks of the followers (and of discovery) are in place
                            for j in range(tid, n_picks, nthr):
                                v = _pick(plat_members, mlo, size, n_audience, kpick, j, press)
                                if v != u:
                                    a32[abase + v, A_PICK] = _NO_PICK
                            cuda.syncthreads()
                            for j in range(tid, n_picks, nthr):
                                v = _pick(plat_members, mlo, size, n_audience, kpick, j, press)
                                av = abase + v
                                if v != u and not (a32[av, A_SEEN] == gen and a32[av, A_PMARK] == ordinal):
                                    cuda.atomic.min(a32, (av, A_PICK), np.int32(j))
                            cuda.syncthreads()
                            for j in range(tid, n_picks, nthr):
                                v = _pick(plat_members, mlo, size, n_audience, kpick, j, press)
                                if v != u and a32[abase + v, A_PICK] == j:
                                    ud = uniform(kpe, np.uint64(j))
                                    _book(a64, adose, a32, src, lst, tbase, sh, totals, series, partners, segments,
                                          t, wi, pi, abase, v, d, gen, dose, ud < p_eng, ud < p_eng * click,
                                          ud < p_eng * act, True, press, mark, pid, ordinal, p_root, p_gen, SOURCES,
                                          cap, dose_unit)
                    cuda.syncthreads()  # the post is booked: the next one may read and write the same records
                n_touched = sh[_SH_TOUCHED]
                if tid == 0:
                    sh[_SH_NEXT] = 0
                cuda.syncthreads()
                for i in range(tid, n_touched, nthr):
                    _adopt(a64, a32, lst, tbase, nbase, sh, i, totals, series, partners, segments, t, wf, wi, decay,
                           synergy, SOURCES, reshare, k_thresh, k_reshare, abase, d, gen)
                cuda.syncthreads()
                n_resharers = sh[_SH_NEXT]
                for i in range(tid, n_resharers, nthr):
                    lst[rbase + i] = lst[nbase + i]
                if tid == 0:
                    sh[_SH_TOUCHED] = 0
                cuda.syncthreads()
            if tid == 0:
                sh[_SH_TRIAL] = nslots + cuda.atomic.add(counter, 0, _ONE)
            cuda.syncthreads()
            index = sh[_SH_TRIAL]
        if tid == 0:
            gens[slot] = gen

    return campaign_block_trials
