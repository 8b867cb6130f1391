"""numba.cuda device code of the campaign model: the trials of :mod:`sim.campaign.kernel`, one GPU thread per trial.

Imported only by :mod:`sim.campaign.cuda_kernel`. A thread runs whole trials, day by day, in the
order the CPU kernel's docstring states (posts of the day in schedule order, then the re-shares;
each post's reached followers in edge order, then its discovery picks, then its press picks; the
end-of-day adoption over the accounts exposed that day, in the order they were first exposed), with
the same keyed draws (:mod:`sim.base.cuda_device`, shared with the classic kernels), the same
fixed-point doses and the same tables, so every per-trial row equals the CPU kernel's.

What differs is only the layout, chosen for the device:

* **no exposure buffer**: the CPU kernel buffers a batch of exposures to prefetch account records
  before booking them; nothing a draw reads is written by booking, so booking each exposure as it
  is drawn gives the same results (the CPU tests check any batch size does), and a GPU thread has
  no use for software prefetching;
* **records as rows of a few arrays** (``a32``: the int32 fields of an account, one 32-byte
  sector plus two words; ``a64``: its int64 sums; ``adose``: its best dose today), per slot, rather
  than one structured array: device arrays of plain types only;
* **stamps, never clears**: each slot's generation counter (``gens``) survives launches, so an
  account's or an edge's state from an earlier trial is recognised as stale by its stamp, as on the
  CPU; per-trial cost is proportional to what the trial touches;
* **outcomes written in place**: each trial's totals, series, partner and segment rows are
  accumulated in its own rows of the output arrays on the device; only those rows go back.

Not ported: independent adoption (its conversion probability ``1 - exp(-rate * dose)`` calls
``exp``, whose last bit differs between the CPU's libm and the GPU's libdevice). With threshold
adoption the kernel needs no transcendental function; every float operation whose rounding could
differ (an add of a product, which libNVVM would fuse) goes through ``fmul`` / ``fadd``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from sim.base.cuda_device import (
    SIMULATOR,
    below,
    bits,
    cuda,
    derive,
    device,
    fadd,
    fmul,
    trial_key,
    uniform,
)
from sim.base.rng import Stream

__all__ = ["SIMULATOR", "THREADS", "campaign_kernel"]

#: Threads per CUDA block on a device (one trial each), and in the simulator (one Python thread each).
DEVICE_THREADS = 64
THREADS = 2 if SIMULATOR else DEVICE_THREADS

_EXPOSE = np.uint64(int(Stream.EXPOSE))
_ENGAGE = np.uint64(int(Stream.ENGAGE))
_DISCOVER = np.uint64(int(Stream.DISCOVER))
_DENGAGE = np.uint64(int(Stream.DISCOVER_ENGAGE))
_PRESS = np.uint64(int(Stream.PRESS))
_PENGAGE = np.uint64(int(Stream.PRESS_ENGAGE))
_RESHARE = np.uint64(int(Stream.RESHARE))
_THRESH = np.uint64(int(Stream.THRESHOLD))
_S11 = np.uint64(11)
_TWO53 = 9007199254740992.0
RESHARE_ID_BASE = np.int64(2**40)  # as sim.campaign.kernel.RESHARE_ID_BASE (checked by the host module)

# Columns of the totals row (sim.campaign.kernel.TOTALS; the host module checks the order).
(_REACH, _IMPR, _ENG, _ADOPT, _ADIRECT, _ARESHARE, _DEPTH, _RESHARES, _DIMPR, _PAIRS,
 _ENGAGERS, _AENGAGED, _AUNENGAGED, _PIMPR, _CLICKERS, _ACLICKED) = range(16)
#: Columns of an account's int32 row (``a32``): the CPU record's int32 fields, its state bits,
#: and the adopter's root partner and generation (``_Scratch.root_of`` / ``gen_of`` on the CPU).
(A_SEEN, A_ADOPTED, A_TMARK, A_CLAST, A_BROOT, A_BGEN, A_PMARK, A_STATE, A_ROOT_OF, A_GEN_OF) = range(10)
A32_COLS = 10
#: Columns of an account's int64 row (``a64``).
(A_TODAY, A_BPID, A_CONVICTION) = range(3)
A64_COLS = 3
#: Columns of a post's int64 row (``pi``) and float64 row (``pf``).
(P_DAY, P_ACCOUNT, P_CHANNEL, P_PARTNER, P_NDISC, P_NPRESS) = range(6)
PI_COLS = 6
(P_FACTOR, P_DENG, P_DTRUST, P_PENG, P_PTRUST) = range(5)
PF_COLS = 5
#: Columns of an account's world rows: ``wf`` (float64) and ``wi`` (int32).
(W_REACH, W_TRUST0, W_ENGAGEMENT, W_TSCALE) = range(4)
WF_COLS = 4
(W_CHANNEL, W_ELIGIBLE, W_SEGMENT) = range(3)
WI_COLS = 3
#: Edge-state rows: ``ef`` (trust, fatigue), ``e32`` (gen, last, count, today); ``ei`` the day mark.
(E_TRUST, E_FATIGUE) = range(2)
(E_GEN, E_LAST, E_COUNT, E_TODAY) = range(4)
#: Lists per slot in ``lst``: re-sharers of today, of tomorrow, accounts exposed today.
L_RESHARERS, L_NEXT, L_TOUCHED = 0, 1, 2

# Bits of an account's state (as sim.campaign.kernel's _A_*).
_A_CONV = 1
_A_ENGAGED = 2
_A_ACT = 4
_A_CLICKED = 128  # clicked through a post's call to action in this trial (reset with the state, like _A_ENGAGED)
_A_NOT_TODAY = 0xFF ^ 5
_A_SRC_SHIFT = 3
_A_NOT_SRC = 0xFF ^ (15 << 3)


@device
def _book(a64, adose, a32, src, lst, tbase, n_touched, totals, series, partners, segments, t, wi, pi, rec32, record,
          abase, v, d, gen, dose, engaged, clicked, acts, discovery, press, mark, pid, ordinal, p_root, p_gen,
          sources_on, cap, dose_unit):
    """Book one exposure of account ``v`` (as ``sim.campaign.kernel._book`` books a buffered one).

    Returns the new count of accounts exposed today (listed in ``lst[tbase:]``).
    """
    av = abase + v
    if discovery:
        if a32[av, A_SEEN] == gen and a32[av, A_PMARK] == ordinal:
            return n_touched  # reached by this post already: as a follower, or by an earlier pick
        if press:
            totals[t, _PIMPR] += 1
        else:
            totals[t, _DIMPR] += 1
        totals[t, _IMPR] += 1
        series[t, d, 1] += 1
        if p_root >= 0:
            partners[t, p_root, 0] += 1
    if a32[av, A_SEEN] != gen:  # first exposure of the trial: reach, and fresh persuasion state
        a32[av, A_SEEN] = gen
        a64[av, A_CONVICTION] = 0
        a32[av, A_CLAST] = -1
        a32[av, A_TMARK] = -1
        a32[av, A_PMARK] = 0
        a32[av, A_STATE] = 0
        totals[t, _REACH] += 1
        series[t, d, 0] += 1
        segments[t, wi[v, W_SEGMENT], 0] += 1
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
            if i == k:  # a source not seen before in this trial
                if k < cap - 1:
                    src[sb + k] = poster
                state = (state & _A_NOT_SRC) | ((k + 1) << _A_SRC_SHIFT)
    if engaged:
        totals[t, _ENG] += 1
        series[t, d, 2] += 1
        if p_root >= 0:
            partners[t, p_root, 1] += 1
        if (state & _A_ENGAGED) == 0:  # the account's first engagement in the trial
            state |= _A_ENGAGED
            if record:
                k = totals[t, _ENGAGERS]
                rec32[k, 2] = v
                rec32[k, 3] = d
            totals[t, _ENGAGERS] += 1
            series[t, d, 4] += 1
        # A click is an engagement (click * p_eng <= p_eng): tested only for engagements, as on the CPU.
        if clicked and (state & _A_CLICKED) == 0:  # the account's first click in the trial
            state |= _A_CLICKED
            totals[t, _CLICKERS] += 1
    if a32[av, A_TMARK] != d:  # first exposure today
        a32[av, A_TMARK] = d
        a64[av, A_TODAY] = 0
        adose[av] = -math.inf  # doses past the repetition peak are negative: any candidate beats this
        a64[av, A_BPID] = -1
        state &= _A_NOT_TODAY
        lst[tbase + n_touched] = v
        n_touched += 1
    a64[av, A_TODAY] += np.int64(dose * dose_unit)
    if acts:
        state |= _A_ACT
    a32[av, A_STATE] = state
    # Threshold mode: every exposure is an attribution candidate (larger dose; ties to the lower post id).
    best = adose[av]
    if dose > best or (dose == best and pid < a64[av, A_BPID]):
        adose[av] = dose
        a64[av, A_BPID] = pid
        a32[av, A_BROOT] = p_root
        a32[av, A_BGEN] = p_gen
    return n_touched


@device
def _adopt(a64, adose, a32, lst, tbase, nbase, n_touched, totals, series, partners, segments, t, wf, wi, decay,
           synergy, sources_on, reshare, k_thresh, k_reshare, rec32, rec_post, record, abase, d, gen):
    """Persuasion and adoption at the end of day ``d`` (``sim.campaign.kernel._adopt``, threshold mode).

    Returns the number of tomorrow's re-sharers (listed in ``lst[nbase:]``).
    """
    n_next = 0
    for i in range(n_touched):
        v = lst[tbase + i]
        av = abase + v
        if wi[v, W_ELIGIBLE] == 0 or a32[av, A_ADOPTED] == gen:
            continue
        c = np.int64(0)
        c_last = a32[av, A_CLAST]
        if c_last >= 0:
            c = np.int64(a64[av, A_CONVICTION] * decay[d - c_last])
        c += a64[av, A_TODAY]
        a64[av, A_CONVICTION] = c
        a32[av, A_CLAST] = d
        state = a32[av, A_STATE]
        lhs = float(c)
        if sources_on:  # the multiple-source weight of the distinct sources so far
            lhs = lhs * synergy[(state >> _A_SRC_SHIFT) & 15]
        adopt = lhs >= uniform(k_thresh, np.uint64(v)) * wf[v, W_TSCALE]
        if not adopt and (state & _A_ACT) != 0:
            adopt = True  # acted on a post's call to action today
        if not adopt:
            continue
        a32[av, A_ADOPTED] = gen
        b_root = a32[av, A_BROOT]
        b_gen = a32[av, A_BGEN]
        a32[av, A_ROOT_OF] = b_root
        a32[av, A_GEN_OF] = b_gen
        if record:
            k = totals[t, _ADOPT]
            rec32[k, 0] = v
            rec32[k, 1] = d
            rec_post[k] = a64[av, A_BPID]
        totals[t, _ADOPT] += 1
        if b_gen == 1:
            totals[t, _ADIRECT] += 1
        else:
            totals[t, _ARESHARE] += 1
        if state & _A_ENGAGED:
            totals[t, _AENGAGED] += 1
        else:
            totals[t, _AUNENGAGED] += 1
        if state & _A_CLICKED:  # clicked on or before its adoption day (booked like adopters_engaged)
            totals[t, _ACLICKED] += 1
        if b_gen > totals[t, _DEPTH]:
            totals[t, _DEPTH] = b_gen
        series[t, d, 3] += 1
        if b_root >= 0:
            partners[t, b_root, 2] += 1
        segments[t, wi[v, W_SEGMENT], 1] += 1
        if uniform(k_reshare, np.uint64(v)) < reshare:
            lst[nbase + n_next] = v
            n_next += 1
    return n_next


@device
def _edge_state(ef, ei, e32, es, gen, dmark, d, t0, ceiling, growth, wear, recovery):
    """The edge-state slot ``es`` at an exposure on day ``d``: first use in the trial, a new day's growth,
    wear-out and recovery, then the exposure counted (``sim.campaign.kernel._edge_first_use``,
    ``_edge_new_day``, ``_edge_exposure``). Returns the exposures it had before in the trial."""
    if e32[es, E_GEN] != gen:
        e32[es, E_GEN] = gen
        ef[es, E_TRUST] = t0
        ef[es, E_FATIGUE] = 0.0
        e32[es, E_LAST] = d
        e32[es, E_COUNT] = 0
        e32[es, E_TODAY] = 0
    if ei[es] != dmark:
        ei[es] = dmark
        today = e32[es, E_TODAY]
        if today > 0:
            ef[es, E_TRUST] = fadd(ceiling, -fmul(ceiling - ef[es, E_TRUST], growth[today]))
            ef[es, E_FATIGUE] = fadd(1.0, -fmul(1.0 - ef[es, E_FATIGUE], wear[today]))
        ef[es, E_FATIGUE] = fmul(ef[es, E_FATIGUE], recovery[d - e32[es, E_LAST]])
        e32[es, E_LAST] = d
        e32[es, E_TODAY] = 0
    nth = e32[es, E_COUNT]
    e32[es, E_COUNT] = nth + 1
    e32[es, E_TODAY] += 1
    return nth


@functools.cache
def campaign_kernel(sources_on: bool, repetition_on: bool, record: bool = False):
    """The campaign kernel with its mechanisms' switches as compile-time constants (a variant holds
    only the code it runs), compiled at first launch.

    ``record``: the one trial's adopters (account, day, post) and engagers (account, day) go to
    ``rec32`` / ``rec_post`` in the CPU kernel's order (for cascade trees and per-account funnels).

    Launch ``[blocks, threads]``: thread (slot) ``s`` runs trial index ``s``, then
    ``slots + atomic.add(counter)``. Arguments (device arrays unless said):

    world: indptr int64[n + 1], indices int32[m], wf float64[n, 4], wi int32[n, 3], plat_ptr, plat_members,
    ``n_audience``; posts: pi int64[posts, 6], pf float64[posts, 5], pdraw uint64[posts], slot_base
    int64[partners] (first edge-state slot of each partner); parameters: shock, decay, recovery, growth, wear,
    repetition, synergy and the scalars ``ceiling``, ``reshare``, ``reshare_factor``, ``dose_unit``, ``act``
    (click share x action on engagement), ``click`` (click share), ``days``, ``cap``; run: ``root`` uint64,
    trials int64[T], ``ntr``, counter int64[1] (zero); scratch per slot: a64 int64[S n, 3], adose float64[S n],
    a32 int32[S n, 10] (stamps below ``gens``), lst int32[S 3 n], src int32[S n (cap - 1)], ef float64[S M, 2],
    ei int64[S M], e32 int32[S M, 4] (stamps below ``gens``), ``m_slots`` (M), gens int64[S] (updated); outputs:
    totals int64[T, 16], series int64[T, days, 5], partners int64[T, P, 3], segments int64[T, segments, 2] (each
    trial's rows are zeroed by its thread); rec32 int32[n, 4], rec_post int64[n].
    """
    SOURCES = bool(sources_on)
    REPETITION = bool(repetition_on)
    RECORD = bool(record)

    @cuda.jit
    def campaign_trials(indptr, indices, wf, wi, plat_ptr, plat_members, n_audience, pi, pf, pdraw, slot_base,
                        shock, decay, recovery, growth, wear, repetition, synergy, ceiling, reshare, reshare_factor,
                        dose_unit, act, click, days, cap, root, trials, ntr, counter, a64, adose, a32, lst, src, ef,
                        ei, e32, m_slots, gens, totals, series, partners, segments, rec32, rec_post):
        slot = cuda.grid(1)
        nslots = cuda.gridsize(1)
        if slot >= gens.shape[0]:  # (never: a launch has at most as many threads as the scratch has slots)
            return
        n = indptr.shape[0] - 1
        n_sched = pdraw.shape[0]
        abase = np.int64(slot) * n
        lbase = np.int64(slot) * 3 * n
        ebase = np.int64(slot) * m_slots
        gen = gens[slot]
        index = np.int64(slot)
        while index < ntr:
            gen += 1
            t = index
            # This trial's rows start at zero.
            for j in range(totals.shape[1]):
                totals[t, j] = 0
            for dd in range(days):
                for j in range(series.shape[2]):
                    series[t, dd, j] = 0
            for p in range(partners.shape[1]):
                for j in range(partners.shape[2]):
                    partners[t, p, j] = 0
            for g in range(segments.shape[1]):
                for j in range(segments.shape[2]):
                    segments[t, g, j] = 0
            tr = np.uint64(trials[index])
            k_expose = trial_key(root, _EXPOSE, tr)
            k_engage = trial_key(root, _ENGAGE, tr)
            k_discover = trial_key(root, _DISCOVER, tr)
            k_dengage = trial_key(root, _DENGAGE, tr)
            k_reshare = trial_key(root, _RESHARE, tr)
            k_thresh = trial_key(root, _THRESH, tr)
            k_press = trial_key(root, _PRESS, tr)
            k_pengage = trial_key(root, _PENGAGE, tr)
            rbase = lbase + L_RESHARERS * n
            nbase = lbase + L_NEXT * n
            tbase = lbase + L_TOUCHED * n
            n_resharers = 0
            ordinal = 0  # posts so far in this trial: marks "reached by this post"
            sp = 0
            for d in range(days):
                dmark = gen * (days + 1) + d + 1
                while sp < n_sched and pi[sp, P_DAY] < d:
                    sp += 1
                first = sp
                while sp < n_sched and pi[sp, P_DAY] == d:
                    sp += 1
                n_today = sp - first
                n_touched = 0
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
                        n_disc = pi[pid, P_NDISC] if plat_ptr[c + 1] > plat_ptr[c] else 0  # nobody to discover
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
                    # Followers (§7.2): u < p exactly when the draw's 53-bit integer is < ceil(p * 2**53).
                    p_reach = wf[u, W_REACH] * shock[wi[u, W_CHANNEL], d]
                    if p_reach > 1.0:
                        p_reach = 1.0
                    reach_threshold = np.uint64(math.ceil(p_reach * _TWO53))
                    kp_exp = derive(k_expose, draw)
                    kp_eng = derive(k_engage, draw)
                    t0 = wf[u, W_TRUST0]
                    eng0 = wf[u, W_ENGAGEMENT]
                    mark = n_disc + n_press > 0
                    n_follow = 0
                    for e in range(lo, hi):
                        if (bits(kp_exp, np.uint64(e)) >> _S11) >= reach_threshold:
                            continue
                        v = np.int64(indices[e])
                        if scheduled:
                            es = e_off + e
                            nth = _edge_state(ef, ei, e32, es, gen, dmark, d, t0, ceiling, growth, wear, recovery)
                            trust = ef[es, E_TRUST]
                            fatigue = ef[es, E_FATIGUE]
                        else:  # a re-sharer posts once per trial: its edges are fresh
                            nth = 0
                            trust = t0
                            fatigue = 0.0
                        dose = fmul(fmul(trust, factor), 1.0 - fatigue)
                        if REPETITION:  # wear-in / wear-out over the exposures on this edge (§7.5)
                            dose = fmul(dose, repetition[nth])
                        if t0 > 0.0:
                            p_eng = eng0 * trust / t0
                        else:
                            p_eng = eng0
                        if p_eng > 1.0:
                            p_eng = 1.0
                        ud = uniform(kp_eng, np.uint64(e))
                        n_touched = _book(a64, adose, a32, src, lst, tbase, n_touched, totals, series, partners,
                                          segments, t, wi, pi, rec32, RECORD, abase, v, d, gen, dose, ud < p_eng,
                                          ud < p_eng * click, ud < p_eng * act, False, False, mark, pid, ordinal,
                                          p_root, p_gen, SOURCES, cap, dose_unit)
                        n_follow += 1
                    totals[t, _IMPR] += n_follow
                    series[t, d, 1] += n_follow
                    if p_root >= 0:
                        partners[t, p_root, 0] += n_follow
                    totals[t, _PAIRS] += hi - lo  # follower-post pairs examined
                    if not scheduled:
                        totals[t, _RESHARES] += 1
                    if n_disc > 0:  # platform discovery of non-followers (§7.3)
                        mlo = plat_ptr[c]
                        size = plat_ptr[c + 1] - mlo
                        dose = fmul(pf[pid, P_DTRUST], factor)
                        p_eng = pf[pid, P_DENG]
                        kd = derive(k_discover, draw)
                        kde = derive(k_dengage, draw)
                        for j in range(n_disc):
                            v = np.int64(plat_members[mlo + below(kd, np.uint64(j), size)])
                            if v != u:
                                ud = uniform(kde, np.uint64(j))
                                n_touched = _book(a64, adose, a32, src, lst, tbase, n_touched, totals, series,
                                                  partners, segments, t, wi, pi, rec32, RECORD, abase, v, d, gen,
                                                  dose, ud < p_eng, ud < p_eng * click, ud < p_eng * act, True,
                                                  False, mark, pid, ordinal, p_root, p_gen, SOURCES, cap, dose_unit)
                    if n_press > 0:  # press coverage (§7.12): audience accounts, whatever their platforms
                        dose = fmul(pf[pid, P_PTRUST], factor)
                        p_eng = pf[pid, P_PENG]
                        kp = derive(k_press, draw)
                        kpe = derive(k_pengage, draw)
                        for j in range(n_press):
                            v = below(kp, np.uint64(j), n_audience)
                            if v != u:
                                ud = uniform(kpe, np.uint64(j))
                                n_touched = _book(a64, adose, a32, src, lst, tbase, n_touched, totals, series,
                                                  partners, segments, t, wi, pi, rec32, RECORD, abase, v, d, gen,
                                                  dose, ud < p_eng, ud < p_eng * click, ud < p_eng * act, True,
                                                  True, mark, pid, ordinal, p_root, p_gen, SOURCES, cap, dose_unit)
                n_resharers = _adopt(a64, adose, a32, lst, tbase, nbase, n_touched, totals, series, partners,
                                     segments, t, wf, wi, decay, synergy, SOURCES, reshare, k_thresh, k_reshare,
                                     rec32, rec_post, RECORD, abase, d, gen)
                for i in range(n_resharers):
                    lst[rbase + i] = lst[nbase + i]
            index = nslots + cuda.atomic.add(counter, 0, 1)
        gens[slot] = gen

    return campaign_trials
