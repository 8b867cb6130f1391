"""numba kernel of the campaign model (docs/model.md, "Submodels"): arrays in, arrays out.

One trial runs day by day. On day ``d``:

1. **Posts**: the scheduled posts of day ``d`` (in schedule order), then one re-share
   by every account that adopted on day ``d - 1`` and drew ``U(RESHARE, v) < reshare``.
   Post ids: scheduled post ``i`` has id ``i`` (it orders attribution ties); its draws are
   keyed by ``post_draw[i]``, which names the post by its creator, day and rank that day
   (:func:`sim.campaign.model.post_draw_key`), so a creator's post draws the same numbers
   in every strategy that schedules it. A re-share by account ``u`` has id and draw key
   ``RESHARE_ID_BASE + u`` (the same in every strategy: common random numbers). Below,
   ``U(S, p; i)`` for a post ``p`` means the draw under ``p``'s draw key.
2. **Exposure**: the target of out-edge ``e`` of poster ``u`` sees post ``p`` iff
   ``U(EXPOSE, p; e) < reach[u] * shock[channel[u], d]``; a scheduled post also reaches
   ``n_discovery[p]`` platform members drawn with ``U(DISCOVER, p; j)`` (an account
   already reached by the post, or the poster, is skipped).
3. **Engagement**: an exposed account engages iff
   ``U(ENGAGE, p; e) < min(1, engagement[u] * trust_e / trust0[u])`` (``engagement[u]``
   if ``trust0[u] == 0``; discovery: ``U(DISCOVER_ENGAGE, p; j) < discovery_engagement[p]``).
   Engagement is only counted (it feeds no dose): per exposure (``engagements``), per
   account at its first engagement of the trial (``engagers``, ``new_engagers``), and per
   adopter by whether it had engaged by the end of its adoption day (``adopters_engaged``,
   ``adopters_unengaged``).
4. **Dose** ``= trust_e * factor[p] * (1 - fatigue_e)``, with edge state read as of the
   start of day ``d`` (synchronous update); stored as ``int64(dose * dose_unit)`` so sums
   are exact in any order. Discovery doses use ``stranger_trust`` and no fatigue.
5. **Adoption** (eligible accounts only), at the end of the day:
   threshold mode: ``conviction = int64(conviction * decay[d - last]) + doses today``;
   adopt iff ``conviction >= U(THRESHOLD; v) * threshold_scale[v]``.
   Independent mode: adopt iff some exposure today converted, the n-th exposure on
   edge ``e`` (counted over the trial, in post-id order within a day) converting iff
   ``U(EDGE_LIVE, n; e) < 1 - exp(-rate * dose)`` for ``n >= 1``; the first (``n = 0``) uses
   the core IC kernel's lane draw of edge ``e`` (``LIVE_LANES`` key of the trial's block,
   :func:`sim.base.rng.lane_below` against ``ceil(q * 2**56)``), so the model reduces to IC draw
   for draw; a discovery exposure converts iff
   ``U(DISCOVER_CONVERT, p; j) < 1 - exp(-rate * dose)``.
   The adopter is attributed to the exposure with the largest dose that day (in
   independent mode, the largest among those that converted; ties: the lower post id):
   its partner (root of the re-share chain) and generation (1 for a partner's post,
   re-sharer's generation + 1 for a re-share).
6. **Edge state** of edges hit ``k`` times today: ``trust <- ceiling - (ceiling - trust)
   * growth[k]``, ``fatigue <- 1 - (1 - fatigue_start) * wear[k]``; fatigue recovers by
   ``recovery[days]`` between hits. Powers come from tables so both engines agree. (This
   kernel applies a day's growth and wear-out at the edge's next hit, before that day's
   recovery: the same operations in the same order as an end-of-day pass.)

Keep all jitted helpers of this kernel in this module, :mod:`sim.base.rng` or :mod:`sim.base.intrinsics`
(``prefetch``): numba's cache does not see edits to helpers elsewhere, and
:mod:`sim.base.kernel_cache` watches only those files.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim.base.intrinsics import prefetch
from sim.base.rng import LANE_SCALE, LANES, Stream, below, bits, derive, lane_below, trial_key, uniform

_EXPOSE = np.uint64(int(Stream.EXPOSE))
_ENGAGE = np.uint64(int(Stream.ENGAGE))
_DISCOVER = np.uint64(int(Stream.DISCOVER))
_DCONVERT = np.uint64(int(Stream.DISCOVER_CONVERT))
_DENGAGE = np.uint64(int(Stream.DISCOVER_ENGAGE))
_RESHARE = np.uint64(int(Stream.RESHARE))
_EDGE = np.uint64(int(Stream.EDGE_LIVE))
_LIVE = np.uint64(int(Stream.LIVE_LANES))
_LANES = np.uint64(LANES)
_SCALE = float(LANE_SCALE)
_TWO53 = 9007199254740992.0
_S11 = np.uint64(11)
#: Exposures ahead whose account record is prefetched while booking.
_AHEAD = 8
#: Exposures buffered before booking (at least; the buffers also hold any poster's
#: followers): ~150 kB, which stay in cache.
_BATCH = 4096
_THRESH = np.uint64(int(Stream.THRESHOLD))

#: Post id of account ``u``'s re-share is ``RESHARE_ID_BASE + u``: independent of the
#: schedule, so re-share draws are paired across strategies (common random numbers), and
#: above every scheduled post id (ties in attribution go to scheduled posts).
RESHARE_ID_BASE = np.int64(2**40)

#: Adoption rules (``mode`` argument).
THRESHOLD_MODE = 0
INDEPENDENT_MODE = 1

#: Columns of the per-trial totals matrix.
#: ``engagers``: accounts that engaged at least once in the trial (any post, any account);
#: ``adopters_engaged``: adopters that had engaged on or before their adoption day (booking
#: comes before the end-of-day adoption, so an engagement on the adoption day counts);
#: ``adopters_unengaged``: the other adopters (``adopters`` is the sum of the two).
TOTALS = ("reach", "impressions", "engagements", "adopters", "adopters_direct", "adopters_reshare",
          "depth", "reshares", "discovery_impressions", "pairs_examined",
          "engagers", "adopters_engaged", "adopters_unengaged")
(_REACH, _IMPR, _ENG, _ADOPT, _ADIRECT, _ARESHARE, _DEPTH, _RESHARES, _DIMPR, _PAIRS,
 _ENGAGERS, _AENGAGED, _AUNENGAGED) = range(len(TOTALS))
#: Per-day series columns (``new_engagers``: accounts engaging for the first time in the trial).
SERIES = ("new_reach", "impressions", "engagements", "adopters", "new_engagers")
#: Per-partner columns.
PARTNER = ("impressions", "engagements", "adopters")
#: Per-segment columns.
SEGMENT = ("reach", "adopters")


#: Per-account state that booking an exposure reads and writes, as one 64-byte record
#: per account (the allocator has given 64-byte aligned arrays here; numba asks for 32): an
#: exposure then touches one cache line instead of ten (the accounts reached are scattered over the graph, so
#: separate arrays meant a cache miss per array). ``seen``: trial stamp of the first
#: exposure; ``post_mark``: the last post (ordinal within the trial) that reached the
#: account, valid when ``seen`` is current; ``conviction`` and ``c_last``: threshold-mode
#: conviction and the day it was last updated; ``today_mark``/``today``: day stamp and
#: today's summed doses; ``state``: bit :data:`_A_CONV`, some exposure today converted
#: (independent mode; reset with ``today``), and bit :data:`_A_ENGAGED`, the account has
#: engaged in this trial (reset with the persuasion state at the trial's first exposure);
#: ``best_*``: today's attribution. ``segment`` and ``eligible`` are copies of the inputs,
#: so booking and adoption read them from the same line. The record is full (64 bytes):
#: new per-account facts go into spare bits, not new fields.
_ACCT = np.dtype([
    ("today", np.int64), ("best_dose", np.float64), ("best_pid", np.int64), ("conviction", np.int64),
    ("seen", np.int32), ("adopted", np.int32), ("today_mark", np.int32), ("c_last", np.int32),
    ("best_root", np.int32), ("best_gen", np.int32), ("post_mark", np.int32),
    ("segment", np.int16), ("state", np.uint8), ("eligible", np.bool_),
], align=True)
#: Bits of an account record's ``state``.
_A_CONV = np.uint8(1)
_A_ENGAGED = np.uint8(2)
_A_NOT_CONV = np.uint8(0xFF ^ 1)
#: Bits of an exposure's flags (``x_flag``) from the draws to booking.
_ENGAGED = np.uint8(1)
_CONVERTS = np.uint8(2)
_MARKS = np.uint8(4)  # a follower exposure of a post with discovery: mark the account reached by it
_DISCOVERY = np.uint8(8)  # a discovery draw: an exposure unless the post reached the account already
#: State of one edge-state slot (a scheduled poster's out-edge), one 40-byte record so a post
#: touches one or two cache lines per exposed follower instead of one per field (nano partners have
#: a few dozen followers each: the fields of separate arrays were a miss apiece).
_SLOT = np.dtype([
    ("trust", np.float64), ("fatigue", np.float64), ("daymark", np.int64),
    ("gen", np.int32), ("last", np.int32), ("count", np.int32), ("today", np.int32),
], align=True)


@nb.njit(cache=True, nogil=True)
def _campaign_trial(
    indptr, indices, channel, reach, trust0, engagement, threshold_scale,
    post_day, post_account, post_channel, post_partner, post_factor, post_ndisc, post_deng, post_dtrust, post_draw,
    plat_ptr, plat_members,
    shock, decay, growth, wear, recovery, ceiling, reshare_p, reshare_factor, mode, rate, dose_unit, days,
    root, trial, gen, slot_base, s,
    totals, series, partner_out, segment_out, adopted, adopted_day, adopted_post, engager, engaged_day,
):
    """One trial; fills the output rows and the adopter list, returns the number of adopters.

    ``engager[:totals[_ENGAGERS]]`` and ``engaged_day`` receive the accounts that engaged, in
    the order of their first engagement, and its day.

    ``channel``, ``reach``, ``trust0`` and ``engagement`` are per *posting account* (all
    out-edges of an account share them). Edge state (trust, fatigue, exposure count) is
    kept only for the out-edges of scheduled posters, in slots
    ``slot_base[partner] + (e - indptr[account])``: a re-sharer posts once per trial, so
    its edges are always fresh (initial trust, no fatigue, first exposure), and memory
    stays proportional to the partners' followers, not to the graph.
    ``s`` is the scratch tuple made by :func:`_scratch`; its stamps make per-trial cost
    proportional to what the trial touches.

    A day runs in two phases, repeated while the day's posts do not fit the buffers: the
    draws (each post's followers, then its discovery) append exposures to the ``x_*``
    buffers, then one loop books them (reach, impressions, doses, attribution) with the
    account records prefetched ahead. The booking code exists once and inline: as a
    helper taking the ~25 state arrays, even with ``inline="always"``, numba emitted
    an incref and a decref of every array argument per exposure (~40 atomic
    operations, well over half of a trial's time).
    """
    (acct, root_of, gen_of, slots, touched, resharers, next_resharers,
     x_v, x_dose, x_flag, x_pid, x_post, x_root, x_gen, x_e) = s
    n_sched = post_day.shape[0]
    t = np.uint64(trial)
    k_expose = trial_key(root, _EXPOSE, t)
    k_engage = trial_key(root, _ENGAGE, t)
    k_disc = trial_key(root, _DISCOVER, t)
    k_dconv = trial_key(root, _DCONVERT, t)
    k_deng = trial_key(root, _DENGAGE, t)
    k_reshare = trial_key(root, _RESHARE, t)
    k_live = trial_key(root, _EDGE, t)
    k_lanes = trial_key(root, _LIVE, t // _LANES)  # first exposures: IC's lane draws
    lane = t % _LANES
    k_thresh = trial_key(root, _THRESH, t)
    n_adopted = 0
    n_resharers = 0
    n_posted = np.int64(0)  # posts so far in this trial: marks "reached by this post"
    sp = 0
    for d in range(days):
        dmark = np.int64(gen) * (days + 1) + d + 1
        n_touched = 0
        while sp < n_sched and post_day[sp] < d:
            sp += 1
        first = sp
        while sp < n_sched and post_day[sp] == d:
            sp += 1
        n_sched_today = sp - first
        n_posts = n_sched_today + n_resharers
        for i in range(n_resharers):  # re-sharers are scattered accounts: start loading what their posts read
            w = resharers[i]
            prefetch(indptr, w)
            prefetch(reach, w)
            prefetch(channel, w)
            prefetch(trust0, w)
            prefetch(engagement, w)
            prefetch(root_of, w)
            prefetch(gen_of, w)
        q = 0
        n_x = 0  # exposures buffered (x_*), not yet booked
        j = 0  # next discovery draw of post q (when in_disc)
        in_disc = False
        # Values of the post being drawn, kept across a flush of the buffers mid-discovery.
        pid = np.int64(0)
        draw = np.uint64(0)
        u = np.int32(0)
        factor = 0.0
        p_root = np.int32(-1)
        p_gen = np.int32(1)
        n_disc = np.int64(0)
        lo = np.int64(0)
        size = np.int64(0)
        kd = kdc = kde = np.uint64(0)
        while True:
            # ---- draws: posts in order append their exposures to the x_* buffers until they are
            # full. Nothing here reads what booking writes (the account records; booking keeps
            # its own local names), so booking in batches, in draw order, changes no result; a
            # nano post exposes a few followers, and only a batch of many posts gives the
            # prefetch distance to work.
            while q < n_posts:
                if not in_disc:
                    scheduled = q < n_sched_today
                    if scheduled:
                        pid = np.int64(first + q)
                        u = post_account[pid]
                        draw = post_draw[pid]
                    else:
                        u = resharers[q - n_sched_today]
                        pid = RESHARE_ID_BASE + u
                        draw = np.uint64(pid)
                    if n_x + indptr[u + 1] - indptr[u] > x_v.shape[0]:
                        break  # book what is buffered first (the buffers hold any poster's followers)
                    if scheduled:
                        factor = post_factor[pid]
                        p_root = post_partner[pid]
                        p_gen = 1
                        base = slot_base[p_root] - indptr[u]
                        n_disc = post_ndisc[pid]
                    else:
                        factor = reshare_factor
                        p_root = root_of[u]
                        p_gen = gen_of[u] + 1
                        base = 0
                        n_disc = 0
                        totals[_RESHARES] += 1
                    kp_exp = derive(k_expose, draw)
                    kp_eng = derive(k_engage, draw)
                    n_posted += 1
                    p_reach = reach[u] * shock[channel[u], d]
                    reach_threshold = np.uint64(math.ceil(min(p_reach, 1.0) * _TWO53))
                    totals[_PAIRS] += indptr[u + 1] - indptr[u]  # follower-post pairs examined
                    t0 = trust0[u]
                    eng0 = engagement[u]
                    x0 = n_x
                    # Followers reached are marked (at booking) only for the post's discovery to skip them.
                    f_mark = _MARKS if n_disc > 0 else np.uint8(0)
                    # -------- followers of the poster: first the reach draw of every out-edge, without
                    # a branch (a post reaches ~15% of followers at random: a branch mispredicts
                    # often), listing the edges reached; then their exposures.
                    n_r = 0
                    for e in range(indptr[u], indptr[u + 1]):
                        # u < p exactly when the draw's 53-bit integer is < ceil(p * 2**53): no float per pair.
                        x_e[n_r] = e
                        n_r += np.int64((bits(kp_exp, np.uint64(e)) >> _S11) < reach_threshold)
                    for r in range(n_r):
                        e = x_e[r]
                        v = indices[e]
                        if scheduled:
                            k = base + e
                            st = slots[k]
                            if st.gen != gen:  # first use of this edge in the trial
                                st.gen = gen
                                st.trust = t0
                                st.fatigue = 0.0
                                st.last = d
                                st.count = 0
                                st.today = 0
                            if st.daymark != dmark:  # first hit today
                                st.daymark = dmark
                                if st.today > 0:
                                    # Growth and wear-out for the hits of the edge's last hit day,
                                    # applied now rather than at that day's end: the same operations
                                    # in the same order, without a second visit to a scattered record.
                                    st.trust = ceiling - (ceiling - st.trust) * growth[st.today]
                                    st.fatigue = 1.0 - (1.0 - st.fatigue) * wear[st.today]
                                st.fatigue = st.fatigue * recovery[d - st.last]  # recovery since then
                                st.last = d
                                st.today = 0
                            nth = st.count
                            st.count += 1
                            st.today += 1
                            trust = st.trust
                            fatigue = st.fatigue
                        else:
                            nth = 0
                            trust = t0
                            fatigue = 0.0
                        dose = trust * factor * (1.0 - fatigue)
                        p_eng = eng0 * trust / t0 if t0 > 0.0 else eng0
                        engaged = uniform(kp_eng, np.uint64(e)) < min(1.0, p_eng)
                        conv = False
                        if mode == INDEPENDENT_MODE:
                            cq = 1.0 - math.exp(-rate * dose)
                            if nth == 0:
                                conv = lane_below(k_lanes, np.uint64(e), lane, np.uint64(math.ceil(cq * _SCALE)))
                            else:
                                conv = uniform(derive(k_live, np.uint64(nth)), np.uint64(e)) < cq
                        x_v[n_x] = v
                        x_dose[n_x] = dose
                        x_flag[n_x] = (_ENGAGED if engaged else 0) | (_CONVERTS if conv else 0) | f_mark
                        x_pid[n_x] = pid
                        x_post[n_x] = n_posted
                        x_root[n_x] = p_root
                        x_gen[n_x] = p_gen
                        n_x += 1
                    n_follow = n_x - x0  # discovery impressions are counted at booking
                    totals[_IMPR] += n_follow
                    series[d, 1] += n_follow
                    if p_root >= 0:
                        partner_out[p_root, 0] += n_follow
                    if n_disc > 0:
                        c = post_channel[pid]
                        lo = plat_ptr[c]
                        size = plat_ptr[c + 1] - lo
                        if size == 0:
                            n_disc = 0
                        kd = derive(k_disc, draw)
                        kdc = derive(k_dconv, draw)
                        kde = derive(k_deng, draw)
                    j = 0
                    in_disc = True
                # -------- platform discovery of non-followers (scheduled posts only), as many draws as
                # fit; a post may have more than the buffers hold.
                while j < n_disc and n_x < x_v.shape[0]:
                    v = plat_members[lo + below(kd, np.uint64(j), size)]
                    if v != u:
                        # Whether the post reached v already (as a follower, or by an earlier draw)
                        # is settled at booking, which reads v's record anyway.
                        dose = post_dtrust[pid] * factor
                        engaged = uniform(kde, np.uint64(j)) < post_deng[pid]
                        conv = False
                        if mode == INDEPENDENT_MODE:
                            conv = uniform(kdc, np.uint64(j)) < 1.0 - math.exp(-rate * dose)
                        x_v[n_x] = v
                        x_dose[n_x] = dose
                        x_flag[n_x] = (_ENGAGED if engaged else 0) | (_CONVERTS if conv else 0) | _DISCOVERY
                        x_pid[n_x] = pid
                        x_post[n_x] = n_posted
                        x_root[n_x] = p_root
                        x_gen[n_x] = p_gen
                        n_x += 1
                    j += 1
                if j < n_disc:
                    break  # buffers full: book, then go on with this post's discovery
                in_disc = False
                q += 1
            # ---- booking, in draw order (posts in order; followers in edge order, then discovery)
            for x in range(n_x):
                if x + _AHEAD < n_x:  # exposures arrive in random account order: overlap the misses
                    prefetch(acct, x_v[x + _AHEAD])
                v = x_v[x]
                a = acct[v]  # this account's booking state: one record, one cache line
                dose = x_dose[x]
                flags = x_flag[x]
                conv = (flags & _CONVERTS) != 0
                # Own names: pid, p_root and the like carry the post being drawn across a flush.
                b_pid = x_pid[x]
                b_root = x_root[x]
                if flags & _DISCOVERY:
                    if a.seen == gen and a.post_mark == x_post[x]:
                        continue  # reached by this post already: as a follower, or by an earlier draw
                    totals[_DIMPR] += 1
                    totals[_IMPR] += 1
                    series[d, 1] += 1
                    if b_root >= 0:
                        partner_out[b_root, 0] += 1
                if a.seen != gen:  # first exposure of the trial: reach, and fresh persuasion state
                    a.seen = gen
                    a.conviction = 0
                    a.c_last = -1
                    a.today_mark = -1
                    a.post_mark = 0  # post ordinals start at 1
                    a.state = 0  # not engaged yet in this trial (and not converted today)
                    totals[_REACH] += 1
                    series[d, 0] += 1
                    segment_out[a.segment, 0] += 1
                if flags & (_MARKS | _DISCOVERY):
                    a.post_mark = x_post[x]
                if flags & _ENGAGED:
                    totals[_ENG] += 1
                    series[d, 2] += 1
                    if b_root >= 0:
                        partner_out[b_root, 1] += 1
                    if not (a.state & _A_ENGAGED):  # the account's first engagement in the trial
                        a.state |= _A_ENGAGED
                        engager[totals[_ENGAGERS]] = v
                        engaged_day[totals[_ENGAGERS]] = d
                        totals[_ENGAGERS] += 1
                        series[d, 4] += 1
                if a.today_mark != d:  # first exposure today
                    a.today_mark = d
                    a.today = 0
                    a.best_dose = -1.0
                    a.best_pid = -1
                    a.state &= _A_NOT_CONV
                    touched[n_touched] = v
                    n_touched += 1
                a.today += np.int64(dose * dose_unit)
                if conv:
                    a.state |= _A_CONV
                # Attribution: the largest candidate dose of the day, ties to the lower post id
                # (independent mode: only exposures that converted are candidates). A post
                # reaches an account at most once, so the order of booking cannot matter.
                if (conv or mode != INDEPENDENT_MODE) and (
                        dose > a.best_dose or (dose == a.best_dose and b_pid < a.best_pid)):
                    a.best_dose = dose
                    a.best_pid = b_pid
                    a.best_root = b_root
                    a.best_gen = x_gen[x]
            n_x = 0
            if q == n_posts:
                break
        # ---- adoption of accounts exposed today
        n_next = 0
        for i in range(n_touched):
            if i + _AHEAD < n_touched:
                w = touched[i + _AHEAD]
                prefetch(acct, w)
                prefetch(threshold_scale, w)
            v = touched[i]
            a = acct[v]
            if not a.eligible or a.adopted == gen:
                continue
            if mode == INDEPENDENT_MODE:
                adopt = (a.state & _A_CONV) != 0
            else:
                c = np.int64(0)
                if a.c_last >= 0:
                    c = np.int64(a.conviction * decay[d - a.c_last])
                c += a.today
                a.conviction = c
                a.c_last = d
                adopt = float(c) >= uniform(k_thresh, np.uint64(v)) * threshold_scale[v]
            if not adopt:
                continue
            a.adopted = gen
            root_of[v] = a.best_root
            gen_of[v] = a.best_gen
            adopted[n_adopted] = v
            adopted_day[n_adopted] = d
            adopted_post[n_adopted] = a.best_pid
            n_adopted += 1
            totals[_ADOPT] += 1
            totals[_ADIRECT if a.best_gen == 1 else _ARESHARE] += 1
            # Today's engagements were booked above, before this end-of-day decision: an
            # engagement on the adoption day counts as engaged before adopting.
            totals[_AENGAGED if a.state & _A_ENGAGED else _AUNENGAGED] += 1
            totals[_DEPTH] = max(totals[_DEPTH], a.best_gen)
            series[d, 3] += 1
            if a.best_root >= 0:
                partner_out[a.best_root, 2] += 1
            segment_out[a.segment, 1] += 1
            if uniform(k_reshare, np.uint64(v)) < reshare_p:
                next_resharers[n_next] = v
                n_next += 1
        for i in range(n_next):
            resharers[i] = next_resharers[i]
        n_resharers = n_next
    return n_adopted


@nb.njit(cache=True, nogil=True)
def _slot_base(indptr, post_account, post_partner, n_partners):
    """First edge-state slot of each partner (partners' out-edges laid end to end), and the total."""
    base = np.full(max(n_partners, 1), -1, np.int64)
    total = np.int64(0)
    for i in range(post_account.shape[0]):
        p = post_partner[i]
        if base[p] < 0:
            base[p] = total
            u = post_account[i]
            total += indptr[u + 1] - indptr[u]
    return base, total


@nb.njit(cache=True, nogil=True)
def _scratch(n, m, indptr, segment, eligible, batch):
    """Per-call scratch arrays (``m``: edge-state slots); stamps (``gen``) make clearing
    them per trial unnecessary. ``x_*`` buffer exposures between draws and booking: at
    least ``batch`` (:data:`_BATCH`), and room for the followers of any one poster."""
    max_deg = np.int64(0)
    for i in range(n):
        max_deg = max(max_deg, indptr[i + 1] - indptr[i])
    nx = max(max_deg, batch, 1)
    acct = np.zeros(n, _ACCT)
    for v in range(n):
        acct[v].segment = segment[v]
        acct[v].eligible = eligible[v]
    return (
        acct, np.zeros(n, np.int32), np.zeros(n, np.int32),
        np.zeros(m, _SLOT),
        np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(n, np.int32),
        np.empty(nx, np.int32), np.empty(nx, np.float64), np.empty(nx, np.uint8),
        np.empty(nx, np.int64), np.empty(nx, np.int32), np.empty(nx, np.int32), np.empty(nx, np.int32),
        np.empty(max_deg + 1, np.int64),
    )


@nb.njit(cache=True, nogil=True)
def _run_trials(
    indptr, indices, channel, reach, trust0, engagement,
    eligible, threshold_scale, segment,
    post_day, post_account, post_channel, post_partner, post_factor, post_ndisc, post_deng, post_dtrust, post_draw,
    plat_ptr, plat_members,
    shock, decay, growth, wear, recovery, ceiling, reshare_p, reshare_factor, mode, rate, dose_unit, days,
    root, trials, n_partners, n_segments, batch,
):
    """Trials in a row on one set of scratch arrays; the adopter and engager lists are the last trial's.

    ``batch``: exposures buffered between draws and booking (:data:`_BATCH`; any value
    >= 1 gives the same results, which the tests check).
    """
    n = indptr.shape[0] - 1
    slot_base, n_slots = _slot_base(indptr, post_account, post_partner, n_partners)
    s = _scratch(n, n_slots, indptr, segment, eligible, batch)
    nt = trials.shape[0]
    totals = np.zeros((nt, len(TOTALS)), np.int64)
    series = np.zeros((nt, days, len(SERIES)), np.int64)
    partners = np.zeros((nt, n_partners, len(PARTNER)), np.int64)
    segments = np.zeros((nt, n_segments, len(SEGMENT)), np.int64)
    adopted = np.empty(n, np.int32)
    adopted_day = np.empty(n, np.int32)
    adopted_post = np.empty(n, np.int64)
    engaged = np.empty(n, np.int32)
    engaged_day = np.empty(n, np.int32)
    k = 0
    for i in range(nt):
        k = _campaign_trial(indptr, indices, channel, reach, trust0, engagement, threshold_scale, post_day, post_account, post_channel, post_partner, post_factor, post_ndisc,
                            post_deng, post_dtrust, post_draw, plat_ptr, plat_members, shock, decay, growth, wear, recovery,
                            ceiling, reshare_p, reshare_factor, mode, rate, dose_unit, days, root, trials[i],
                            np.int32(i + 1), slot_base, s, totals[i], series[i], partners[i], segments[i],
                            adopted, adopted_day, adopted_post, engaged, engaged_day)
    n_eng = totals[nt - 1, _ENGAGERS] if nt > 0 else 0
    return (totals, series, partners, segments, adopted[:k], adopted_day[:k], adopted_post[:k],
            engaged[:n_eng], engaged_day[:n_eng])


@nb.njit(cache=True, nogil=True)
def campaign_trials(
    indptr, indices, channel, reach, trust0, engagement,
    eligible, threshold_scale, segment,
    post_day, post_account, post_channel, post_partner, post_factor, post_ndisc, post_deng, post_dtrust, post_draw,
    plat_ptr, plat_members,
    shock, decay, growth, wear, recovery, ceiling, reshare_p, reshare_factor, mode, rate, dose_unit, days,
    root, trials, n_partners, n_segments,
):
    """Run many campaign trials (see the module docstring for the rules).

    Returns
    -------
    totals : int64[T, len(TOTALS)]
    series : int64[T, days, len(SERIES)]
    partners : int64[T, n_partners, len(PARTNER)]
    segments : int64[T, n_segments, len(SEGMENT)]
    """
    out = _run_trials(indptr, indices, channel, reach, trust0, engagement, eligible, threshold_scale, segment,
                      post_day, post_account, post_channel, post_partner, post_factor, post_ndisc, post_deng,
                      post_dtrust, post_draw, plat_ptr, plat_members, shock, decay, growth, wear, recovery, ceiling,
                      reshare_p, reshare_factor, mode, rate, dose_unit, days, root, trials, n_partners, n_segments,
                      _BATCH)
    return out[0], out[1], out[2], out[3]


@nb.njit(cache=True, nogil=True)
def campaign_adoption_days(
    indptr, indices, channel, reach, trust0, engagement,
    eligible, threshold_scale, segment,
    post_day, post_account, post_channel, post_partner, post_factor, post_ndisc, post_deng, post_dtrust, post_draw,
    plat_ptr, plat_members,
    shock, decay, growth, wear, recovery, ceiling, reshare_p, reshare_factor, mode, rate, dose_unit, days,
    root, trial, n_partners, n_segments,
):
    """One trial in full detail.

    Returns
    -------
    days : int32[n]
        Adoption day of every account (-1: never).
    totals : int64[len(TOTALS)]
        The trial's totals row.
    adopters, adopted_day : int32[k]
        Adopters in adoption order (by day; within a day, in the order they were reached).
    adopted_post : int64[k]
        Post each adopter is attributed to (largest dose on its adoption day): a scheduled
        post's id, or ``RESHARE_ID_BASE + u`` for a re-share by account ``u``.
    engaged_days : int32[n]
        Day of every account's first engagement in the trial (-1: never engaged). An adopter
        counts in ``adopters_engaged`` iff ``0 <= engaged_days[v] <= days[v]``.
    """
    trials = np.full(1, trial, np.int64)
    totals, _, _, _, adopters, adopted_day, adopted_post, engagers, engaged_day = _run_trials(
        indptr, indices, channel, reach, trust0, engagement, eligible, threshold_scale, segment, post_day,
        post_account, post_channel, post_partner, post_factor, post_ndisc, post_deng, post_dtrust, post_draw, plat_ptr,
        plat_members, shock, decay, growth, wear, recovery, ceiling, reshare_p, reshare_factor, mode, rate,
        dose_unit, days, root, trials, n_partners, n_segments, _BATCH)
    out = np.full(indptr.shape[0] - 1, -1, np.int32)
    for i in range(adopters.shape[0]):
        out[adopters[i]] = adopted_day[i]
    first = np.full(indptr.shape[0] - 1, -1, np.int32)
    for i in range(engagers.shape[0]):
        first[engagers[i]] = engaged_day[i]
    return out, totals[0], adopters.copy(), adopted_day.copy(), adopted_post.copy(), first
