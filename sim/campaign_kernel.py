"""numba kernel of the campaign model (docs/model.md, "Submodels"): arrays in, arrays out.

One trial runs day by day. On day ``d``:

1. **Posts**: the scheduled posts of day ``d`` (in schedule order), then one re-share
   by every account that adopted on day ``d - 1`` and drew ``U(RESHARE, v) < reshare``.
   Post ids: scheduled post ``i`` has id ``i``; a re-share by account ``u`` has id
   ``RESHARE_ID_BASE + u`` (the same in every strategy: common random numbers).
2. **Exposure**: the target of out-edge ``e`` of poster ``u`` sees post ``p`` iff
   ``U(EXPOSE, p; e) < reach[u] * shock[channel[u], d]``; a scheduled post also reaches
   ``n_discovery[p]`` platform members drawn with ``U(DISCOVER, p; j)`` (an account
   already reached by the post, or the poster, is skipped).
3. **Engagement**: an exposed account engages iff
   ``U(ENGAGE, p; e) < min(1, engagement[u] * trust_e / trust0[u])`` (``engagement[u]``
   if ``trust0[u] == 0``; discovery: ``U(DISCOVER_ENGAGE, p; j) < discovery_engagement[p]``).
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
   :func:`sim.rng.lane_below` against ``ceil(q * 2**56)``), so the model reduces to IC draw
   for draw; a discovery exposure converts iff
   ``U(DISCOVER_CONVERT, p; j) < 1 - exp(-rate * dose)``.
   The adopter is attributed to the exposure with the largest dose that day (in
   independent mode, the largest among those that converted; ties: the lower post id):
   its partner (root of the re-share chain) and generation (1 for a partner's post,
   re-sharer's generation + 1 for a re-share).
6. **Edge state** of edges hit ``k`` times today: ``trust <- ceiling - (ceiling - trust)
   * growth[k]``, ``fatigue <- 1 - (1 - fatigue_start) * wear[k]``; fatigue recovers by
   ``recovery[days]`` between hits. Powers come from tables so both engines agree.

Keep all jitted helpers of this kernel in this module, :mod:`sim.rng` or :mod:`sim.cascade`
(``prefetch``): numba's cache does not see edits to helpers elsewhere, and
:mod:`sim.kernel_cache` watches only those files.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from sim.cascade import prefetch
from sim.rng import LANE_SCALE, LANES, Stream, below, bits, derive, lane_below, trial_key, uniform

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
_THRESH = np.uint64(int(Stream.THRESHOLD))

#: Post id of account ``u``'s re-share is ``RESHARE_ID_BASE + u``: independent of the
#: schedule, so re-share draws are paired across strategies (common random numbers), and
#: above every scheduled post id (ties in attribution go to scheduled posts).
RESHARE_ID_BASE = np.int64(2**40)

#: Adoption rules (``mode`` argument).
THRESHOLD_MODE = 0
INDEPENDENT_MODE = 1

#: Columns of the per-trial totals matrix.
TOTALS = ("reach", "impressions", "engagements", "adopters", "adopters_direct", "adopters_reshare",
          "depth", "reshares", "discovery_impressions", "pairs_examined")
(_REACH, _IMPR, _ENG, _ADOPT, _ADIRECT, _ARESHARE, _DEPTH, _RESHARES, _DIMPR, _PAIRS) = range(len(TOTALS))
#: Per-day series columns.
SERIES = ("new_reach", "impressions", "engagements", "adopters")
#: Per-partner columns.
PARTNER = ("impressions", "engagements", "adopters")
#: Per-segment columns.
SEGMENT = ("reach", "adopters")


#: Per-account state that booking an exposure reads and writes, as one 64-byte record
#: per account: an exposure then touches one or two cache lines instead of ten (the
#: accounts reached are scattered over the graph, so separate arrays meant a cache
#: miss per array). ``seen``: trial stamp of the first exposure; ``conviction`` and
#: ``c_last``: threshold-mode conviction and the day it was last updated;
#: ``today_mark``/``today``: day stamp and today's summed doses; ``conv_mark``: day
#: stamp of a converting exposure (independent mode); ``best_*``: today's attribution.
_ACCT = np.dtype([
    ("today_mark", np.int64), ("today", np.int64), ("best_dose", np.float64), ("best_pid", np.int64),
    ("conviction", np.int64), ("conv_mark", np.int64),
    ("seen", np.int32), ("c_last", np.int32), ("best_root", np.int32), ("best_gen", np.int32),
], align=True)
#: State of one edge-state slot (a scheduled poster's out-edge), one 32-byte record so a post
#: touches one cache line per exposed follower instead of one per field (nano partners have
#: a few dozen followers each: the fields of separate arrays were a miss apiece).
_SLOT = np.dtype([
    ("trust", np.float64), ("fatigue", np.float64), ("daymark", np.int64),
    ("gen", np.int32), ("last", np.int32), ("count", np.int32), ("today", np.int32),
], align=True)


@nb.njit(cache=True, nogil=True)
def _campaign_trial(
    indptr, indices, channel, reach, trust0, engagement,
    eligible, threshold_scale, segment,
    post_day, post_account, post_channel, post_partner, post_factor, post_ndisc, post_deng, post_dtrust,
    plat_ptr, plat_members,
    shock, decay, growth, wear, recovery, ceiling, reshare_p, reshare_factor, mode, rate, dose_unit, days,
    root, trial, gen, slot_base, s,
    totals, series, partner_out, segment_out, adopted, adopted_day, adopted_post,
):
    """One trial; fills the output rows and the adopter list, returns the number of adopters.

    ``channel``, ``reach``, ``trust0`` and ``engagement`` are per *posting account* (all
    out-edges of an account share them). Edge state (trust, fatigue, exposure count) is
    kept only for the out-edges of scheduled posters, in slots
    ``slot_base[partner] + (e - indptr[account])``: a re-sharer posts once per trial, so
    its edges are always fresh (initial trust, no fatigue, first exposure), and memory
    stays proportional to the partners' followers, not to the graph.
    ``s`` is the scratch tuple made by :func:`_scratch`; its stamps make per-trial cost
    proportional to what the trial touches.

    Each post runs in two phases: the draws (followers, then discovery) append the
    post's exposures to the ``x_*`` buffers, then one loop books them (reach,
    impressions, doses, attribution). The booking code exists once and inline: as a
    helper taking the ~25 state arrays, even with ``inline="always"``, numba emitted
    an incref and a decref of every array argument per exposure (~40 atomic
    operations, well over half of a trial's time).
    """
    (acct, adopt_gen, root_of, gen_of, post_seen, slots, touched, hit_slots, resharers, next_resharers,
     x_v, x_dose, x_eng, x_conv) = s
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
        n_hit = 0
        while sp < n_sched and post_day[sp] < d:
            sp += 1
        first = sp
        while sp < n_sched and post_day[sp] == d:
            sp += 1
        n_sched_today = sp - first
        for q in range(n_sched_today + n_resharers):
            scheduled = q < n_sched_today
            if scheduled:
                pid = np.int64(first + q)
                u = post_account[pid]
                factor = post_factor[pid]
                p_root = post_partner[pid]
                p_gen = 1
                base = slot_base[p_root] - indptr[u]
            else:
                u = resharers[q - n_sched_today]
                pid = RESHARE_ID_BASE + u
                factor = reshare_factor
                p_root = root_of[u]
                p_gen = gen_of[u] + 1
                base = 0
                totals[_RESHARES] += 1
            kp_exp = derive(k_expose, np.uint64(pid))
            kp_eng = derive(k_engage, np.uint64(pid))
            n_posted += 1
            mark = (np.int64(gen) << 32) + n_posted
            p_reach = reach[u] * shock[channel[u], d]
            reach_threshold = np.uint64(math.ceil(min(p_reach, 1.0) * _TWO53))
            totals[_PAIRS] += indptr[u + 1] - indptr[u]  # follower-post pairs examined
            t0 = trust0[u]
            eng0 = engagement[u]
            n_x = 0  # exposures of this post so far (x_* buffers)
            # -------- followers of the poster
            for e in range(indptr[u], indptr[u + 1]):
                # u >= p exactly when the draw's 53-bit integer is >= ceil(p * 2**53): no float per pair.
                if (bits(kp_exp, np.uint64(e)) >> _S11) >= reach_threshold:
                    continue
                v = indices[e]
                post_seen[v] = mark
                if scheduled:
                    k = base + e
                    st = slots[k]
                    if st.gen != gen:  # first use of this edge in the trial
                        st.gen = gen
                        st.trust = t0
                        st.fatigue = 0.0
                        st.last = d
                        st.count = 0
                    if st.daymark != dmark:  # first hit today: recover fatigue since the last update
                        st.daymark = dmark
                        st.fatigue = st.fatigue * recovery[d - st.last]
                        st.last = d
                        st.today = 0
                        hit_slots[n_hit] = k
                        n_hit += 1
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
                    q = 1.0 - math.exp(-rate * dose)
                    if nth == 0:
                        conv = lane_below(k_lanes, np.uint64(e), lane, np.uint64(math.ceil(q * _SCALE)))
                    else:
                        conv = uniform(derive(k_live, np.uint64(nth)), np.uint64(e)) < q
                x_v[n_x] = v
                x_dose[n_x] = dose
                x_eng[n_x] = engaged
                x_conv[n_x] = conv
                n_x += 1
            # -------- platform discovery of non-followers (scheduled posts only)
            if scheduled and post_ndisc[pid] > 0:
                c = post_channel[pid]
                lo = plat_ptr[c]
                size = plat_ptr[c + 1] - lo
                kd = derive(k_disc, np.uint64(pid))
                kdc = derive(k_dconv, np.uint64(pid))
                kde = derive(k_deng, np.uint64(pid))
                for j in range(post_ndisc[pid] if size > 0 else 0):
                    v = plat_members[lo + below(kd, np.uint64(j), np.int64(size))]
                    if post_seen[v] == mark or v == u:
                        continue
                    post_seen[v] = mark
                    totals[_DIMPR] += 1
                    dose = post_dtrust[pid] * factor
                    engaged = uniform(kde, np.uint64(j)) < post_deng[pid]
                    conv = False
                    if mode == INDEPENDENT_MODE:
                        conv = uniform(kdc, np.uint64(j)) < 1.0 - math.exp(-rate * dose)
                    x_v[n_x] = v
                    x_dose[n_x] = dose
                    x_eng[n_x] = engaged
                    x_conv[n_x] = conv
                    n_x += 1
            # -------- book the post's exposures (followers in edge order, then discovery)
            totals[_IMPR] += n_x
            series[d, 1] += n_x
            if p_root >= 0:
                partner_out[p_root, 0] += n_x
            for x in range(n_x):
                if x + _AHEAD < n_x:  # exposures arrive in random account order: overlap the misses
                    prefetch(acct, x_v[x + _AHEAD])
                v = x_v[x]
                a = acct[v]  # this account's booking state: one record, one or two cache lines
                dose = x_dose[x]
                conv = x_conv[x]
                if a.seen != gen:  # first exposure of the trial: reach, and fresh persuasion state
                    a.seen = gen
                    a.conviction = 0
                    a.c_last = -1
                    totals[_REACH] += 1
                    series[d, 0] += 1
                    segment_out[segment[v], 0] += 1
                if x_eng[x]:
                    totals[_ENG] += 1
                    series[d, 2] += 1
                    if p_root >= 0:
                        partner_out[p_root, 1] += 1
                if a.today_mark != dmark:  # first exposure today
                    a.today_mark = dmark
                    a.today = 0
                    a.best_dose = -1.0
                    a.best_pid = -1
                    touched[n_touched] = v
                    n_touched += 1
                a.today += np.int64(dose * dose_unit)
                if conv:
                    a.conv_mark = dmark
                # Attribution: the largest candidate dose of the day, ties to the lower post id
                # (independent mode: only exposures that converted are candidates).
                if (conv or mode != INDEPENDENT_MODE) and (
                        dose > a.best_dose or (dose == a.best_dose and pid < a.best_pid)):
                    a.best_dose = dose
                    a.best_pid = pid
                    a.best_root = p_root
                    a.best_gen = p_gen
        # ---- end of day: edge state (trust growth, wear-out) for edges hit today
        for h in range(n_hit):
            st = slots[hit_slots[h]]
            hits = st.today
            st.trust = ceiling - (ceiling - st.trust) * growth[hits]
            st.fatigue = 1.0 - (1.0 - st.fatigue) * wear[hits]
        # ---- adoption of accounts exposed today
        n_next = 0
        for i in range(n_touched):
            if i + _AHEAD < n_touched:
                prefetch(acct, touched[i + _AHEAD])
            v = touched[i]
            a = acct[v]
            if not eligible[v] or adopt_gen[v] == gen:
                continue
            if mode == INDEPENDENT_MODE:
                adopt = a.conv_mark == dmark
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
            adopt_gen[v] = gen
            root_of[v] = a.best_root
            gen_of[v] = a.best_gen
            adopted[n_adopted] = v
            adopted_day[n_adopted] = d
            adopted_post[n_adopted] = a.best_pid
            n_adopted += 1
            totals[_ADOPT] += 1
            totals[_ADIRECT if a.best_gen == 1 else _ARESHARE] += 1
            totals[_DEPTH] = max(totals[_DEPTH], a.best_gen)
            series[d, 3] += 1
            if a.best_root >= 0:
                partner_out[a.best_root, 2] += 1
            segment_out[segment[v], 1] += 1
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
def _scratch(n, m, indptr, post_ndisc):
    """Per-call scratch arrays (``m``: edge-state slots); stamps (``gen``) make clearing
    them per trial unnecessary. The last four buffer one post's exposures: at most the
    poster's out-degree plus its discovery exposures (distinct accounts)."""
    max_deg = np.int64(0)
    for i in range(n):
        max_deg = max(max_deg, indptr[i + 1] - indptr[i])
    max_disc = np.int64(0)
    for i in range(post_ndisc.shape[0]):
        max_disc = max(max_disc, np.int64(post_ndisc[i]))
    nx = max_deg + min(max_disc, n)
    return (
        np.zeros(n, _ACCT), np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(n, np.int32),
        np.full(n, -1, np.int64),
        np.zeros(m, _SLOT),
        np.zeros(n, np.int32), np.zeros(m, np.int64), np.zeros(n, np.int32), np.zeros(n, np.int32),
        np.empty(nx, np.int32), np.empty(nx, np.float64), np.empty(nx, np.bool_), np.empty(nx, np.bool_),
    )


@nb.njit(cache=True, nogil=True)
def _run_trials(
    indptr, indices, channel, reach, trust0, engagement,
    eligible, threshold_scale, segment,
    post_day, post_account, post_channel, post_partner, post_factor, post_ndisc, post_deng, post_dtrust,
    plat_ptr, plat_members,
    shock, decay, growth, wear, recovery, ceiling, reshare_p, reshare_factor, mode, rate, dose_unit, days,
    root, trials, n_partners, n_segments,
):
    """Trials in a row on one set of scratch arrays; the adopter lists are the last trial's."""
    n = indptr.shape[0] - 1
    slot_base, n_slots = _slot_base(indptr, post_account, post_partner, n_partners)
    s = _scratch(n, n_slots, indptr, post_ndisc)
    nt = trials.shape[0]
    totals = np.zeros((nt, len(TOTALS)), np.int64)
    series = np.zeros((nt, days, len(SERIES)), np.int64)
    partners = np.zeros((nt, n_partners, len(PARTNER)), np.int64)
    segments = np.zeros((nt, n_segments, len(SEGMENT)), np.int64)
    adopted = np.empty(n, np.int32)
    adopted_day = np.empty(n, np.int32)
    adopted_post = np.empty(n, np.int64)
    k = 0
    for i in range(nt):
        k = _campaign_trial(indptr, indices, channel, reach, trust0, engagement, eligible, threshold_scale,
                            segment, post_day, post_account, post_channel, post_partner, post_factor, post_ndisc,
                            post_deng, post_dtrust, plat_ptr, plat_members, shock, decay, growth, wear, recovery,
                            ceiling, reshare_p, reshare_factor, mode, rate, dose_unit, days, root, trials[i],
                            np.int32(i + 1), slot_base, s, totals[i], series[i], partners[i], segments[i],
                            adopted, adopted_day, adopted_post)
    return totals, series, partners, segments, adopted[:k], adopted_day[:k], adopted_post[:k]


@nb.njit(cache=True, nogil=True)
def campaign_trials(
    indptr, indices, channel, reach, trust0, engagement,
    eligible, threshold_scale, segment,
    post_day, post_account, post_channel, post_partner, post_factor, post_ndisc, post_deng, post_dtrust,
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
                      post_dtrust, plat_ptr, plat_members, shock, decay, growth, wear, recovery, ceiling,
                      reshare_p, reshare_factor, mode, rate, dose_unit, days, root, trials, n_partners, n_segments)
    return out[0], out[1], out[2], out[3]


@nb.njit(cache=True, nogil=True)
def campaign_adoption_days(
    indptr, indices, channel, reach, trust0, engagement,
    eligible, threshold_scale, segment,
    post_day, post_account, post_channel, post_partner, post_factor, post_ndisc, post_deng, post_dtrust,
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
    """
    trials = np.full(1, trial, np.int64)
    totals, _, _, _, adopters, adopted_day, adopted_post = _run_trials(
        indptr, indices, channel, reach, trust0, engagement, eligible, threshold_scale, segment, post_day,
        post_account, post_channel, post_partner, post_factor, post_ndisc, post_deng, post_dtrust, plat_ptr,
        plat_members, shock, decay, growth, wear, recovery, ceiling, reshare_p, reshare_factor, mode, rate,
        dose_unit, days, root, trials, n_partners, n_segments)
    out = np.full(indptr.shape[0] - 1, -1, np.int32)
    for i in range(adopters.shape[0]):
        out[adopters[i]] = adopted_day[i]
    return out, totals[0], adopters.copy(), adopted_day.copy(), adopted_post.copy()
