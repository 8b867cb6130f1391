"""The Mesa engine of the campaign model: one agent per account, with readable state.

This engine runs the model of :mod:`sim.campaign.kernel` (whose module docstring
states the rules) and gives, for the same population, compiled arrays
(:class:`sim.campaign.model.CampaignWorldArrays`), schedule, root key and trial, the
**same adoption day for every account and the same outcome arrays** (totals,
daily series, per-partner and per-segment counts) as the numba kernel, to the
bit. No random number is drawn in sequence: each is computed from a key that
says what it is for (:mod:`sim.base.rng`), exactly as the kernel computes it:

* exposure of the follower on edge ``e`` to post ``p``: ``U(EXPOSE, p; e)``, where a
  scheduled post's draws are keyed by its schedule's ``draw`` key (creator, day, rank that
  day; :func:`sim.campaign.model.post_draw_key`) and a re-share's by its id;
  engagement ``U(ENGAGE, p; e)`` (the same draw decides whether the engagement is a click,
  ``click_share``, and whether it is the action itself, ``action_on_engagement``); discovery draw ``j`` of post ``p``:
  ``U(DISCOVER, p; j)``, ``U(DISCOVER_ENGAGE, p; j)``, ``U(DISCOVER_CONVERT, p; j)``; press
  draw ``j``: ``U(PRESS, p; j)``, ``U(PRESS_ENGAGE, p; j)``, ``U(PRESS_CONVERT, p; j)``;
* independent mode, the ``n``-th exposure on edge ``e``: ``U(EDGE_LIVE, n; e)`` for
  ``n >= 1``; the first is the trial's lane draw of edge ``e`` under the block key
  ``LIVE_LANES`` (:func:`sim.base.rng.lane_below`), as in the IC kernel;
* threshold of account ``v``: ``U(THRESHOLD; v)``; re-share ``U(RESHARE; v)``.

Every float expression is evaluated with the kernel's operations in the kernel's
order (``trust * factor * (1.0 - fatigue)``, ``engagement * trust / trust0``,
``int(dose * dose_unit)``, ``float(c) >= u * threshold_scale``, ``int(c * decay[k])``,
scalar :func:`math.exp`, the same libm call numba makes), since IEEE results depend
on the order of operations. Doses are summed as integers (fixed point), so their sum
does not depend on the order exposures arrive in.

Time and scheduling (``DESIGN.md`` §2): one Mesa step is one day ``d`` (``d =
model.steps - 1`` while the step runs), in two phases:

1. **post** -- the accounts that post today (the strategy's partners with a post on
   day ``d``, and yesterday's adopters that drew a re-share) are visited in a
   shuffled order; each draws which of its followers see each of its posts (and,
   for scheduled posts, which non-followers the platform shows it to) and writes an
   exposure into those accounts' pending inboxes. Nothing another agent can read
   changes in this phase.
2. **advance** -- every account with a non-empty inbox is visited in a shuffled
   order and commits: it books its exposures (in post-id order), updates the state
   of the edges it was reached on (trust growth, wear-out, recovery) and decides
   adoption; an adopter that draws a re-share posts tomorrow.

An account reads only its own state and the (unchanging) posts delivered to it, so
the visiting order cannot matter; it is shuffled anyway, with Mesa's generator
seeded by ``shuffle_seed`` (never the keyed streams), to show that it does not.
Within an inbox, the order that the kernel's rules depend on is the post id: the
``n`` of the ``n``-th exposure on an edge (independent mode) counts exposures in
post-id order, and attribution takes the largest dose, ties to the lower post id.

Notes
-----
The two traps of Mesa 3.3.1 are handled in :mod:`sim.base.mesa_compat` (the start method
that ``import mesa`` overwrites is restored; agent ids are counted in a weak
dictionary so models do not live for ever).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.base.mesa_compat import WeakIdCounters, mesa
from sim.base.rng import LANE_DIGITS, LANE_SCALE, LANES, Stream, as_key, uniforms
from sim.campaign import kernel as ck
from sim.campaign.model import CampaignOutcome, CampaignWorldArrays, Schedule
from sim.world.population import Population

__all__ = [
    "CampaignAccount",
    "CampaignAgentModel",
    "EdgeState",
    "adoption_days",
    "funnel_days",
    "simulate",
]

# Column indices of the outcome arrays (same names as the kernel's).
(_REACH, _IMPR, _ENG, _ADOPT, _ADIRECT, _ARESHARE, _DEPTH, _RESHARES, _DIMPR, _PAIRS,
 _ENGAGERS, _AENGAGED, _AUNENGAGED, _PIMPR, _CLICKERS, _ACLICKED) = range(len(ck.TOTALS))
_FOLLOW, _DISCOVERY, _PRESS = 0, 1, 2  # kinds of inbox entries (a post's are booked in this order)

# --------------------------------------------------------------------------- scalar keyed draws
# Python-integer twins of sim.base.rng.derive / uniform (uint64 arithmetic modulo 2**64); tested
# bit for bit against the jitted functions. Scalars from Python cost less this way than
# through numba's dispatcher.

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_INV53 = 1.0 / 9007199254740992.0


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _derive(key: int, part: int) -> int:
    """:func:`sim.base.rng.derive` on Python integers."""
    return _mix(key ^ _mix((part + _GOLDEN) & _MASK))


def _uniform(key: int, counter: int) -> float:
    """:func:`sim.base.rng.uniform` on Python integers."""
    return (_mix((key + (counter + 1) * _GOLDEN) & _MASK) >> 11) * _INV53


def _lane_below(key: int, item: int, lane: int, threshold: int) -> bool:
    """:func:`sim.base.rng.lane_below` on Python integers."""
    if threshold >= LANE_SCALE:
        return True
    counter = ((item >> 3) << 6) + lane
    shift = 8 * (item & 7)
    for i in range(LANE_DIGITS):
        k = key if i == 0 else _derive(key, i)
        d = (_mix((k + (counter + 1) * _GOLDEN) & _MASK) >> shift) & 0xFF
        t = (threshold >> (8 * (LANE_DIGITS - 1 - i))) & 0xFF
        if d != t:
            return d < t
    return False


def _trial_key(root: int, stream: Stream, trial: int) -> int:
    """:func:`sim.base.rng.trial_key` on Python integers."""
    return _derive(_derive(root, int(stream)), trial)


# --------------------------------------------------------------------------- agents

@dataclass(slots=True)
class EdgeState:
    """State of one follow edge (a creator or peer the account follows), as of the end of a day.

    An edge not yet used in the trial has no entry in :attr:`CampaignAccount.edges`; its
    state is then ``trust = trust0[e]``, ``fatigue = 0``, no exposures.

    Attributes
    ----------
    trust : float
        The follower's trust in the poster.
    fatigue : float
        Wear-out, in [0, 1]; recovers by ``recovery[days]`` between hits.
    exposures : int
        Exposures delivered on this edge so far in the trial.
    last_day : int
        Day of the last update (the last day the edge was hit).
    """

    trust: float
    fatigue: float
    exposures: int
    last_day: int


class CampaignAccount(mesa.Agent):
    """An account: an audience member or a creator.

    Attributes
    ----------
    index : int
        Account index in the population's graph (``unique_id`` is ``index + 1``).
    creator : int
        Creator number, or -1 for an audience account.
    partner : int
        Partner index in the schedule (creators hired by the strategy), or -1.
    eligible : bool
        Whether the account can adopt (audience accounts).
    segment : int
        Segment index (0 for creators).
    threshold : float
        This trial's adoption threshold in dose units, ``U(THRESHOLD; v) * threshold_scale[v]``
        (computed when read).
    reached : bool
        Whether any post has reached the account in this trial.
    conviction : int
        Accumulated dose in fixed point (``dose_unit`` per unit dose), as of :attr:`conviction_day`.
    conviction_day : int
        Day of the last conviction update (-1: never); decay is applied lazily.
    sources : set of int
        The distinct accounts whose posts reached this account in the trial until it adopted
        (the multiple-source weight counts at most ``sources_cap`` of them; kept only when that
        weight is in use).
    engaged_day : int
        Day of the account's first engagement in the trial (-1: never engaged). Engagement
        feeds no dose (an engagement that is the action adopts); an adopter counts as engaged before adopting iff
        ``0 <= engaged_day <= adopted_day`` (the day's exposures, engagements included, are
        booked before the end-of-day adoption decision).
    clicked_day : int
        Day of the account's first click through a post's call to action in the trial (-1: never;
        ``click_share``); a click is an engagement, so ``engaged_day <= clicked_day`` when both are set.
        An adopter counts in ``adopters_clicked`` iff ``0 <= clicked_day <= adopted_day``.
    adopted_day : int
        Day of adoption (-1: not adopted).
    adopted_by_action : bool
        Whether the adoption came through an engagement that was the action itself
        (``action_on_engagement``) on a day its persuasion alone did not adopt.
    root_partner : int
        Partner at the root of the chain the adoption is attributed to (-1: not adopted).
    generation : int
        1 if attributed to a partner's post, else the re-sharer's generation + 1 (0: not adopted).
    reshare_day : int
        Day the account re-shares (the day after adoption, if it drew a re-share), else -1.
    edges : dict of int to EdgeState
        State of every follow edge used so far in the trial, keyed by edge id.
    in_edges, in_sources : tuples
        Ids of the edges ``u -> self`` (the creators and peers the account follows) and
        their source accounts.
    out_edges : range
        Ids of the edges ``self -> v`` (to the account's followers), in CSR order.
    posts : dict of int to list of int
        Creators: ids of the account's scheduled posts, by day.
    inbox : list of tuple
        Exposures delivered today, committed in :meth:`advance`.
    """

    _ids = WeakIdCounters()

    def __init__(self, model: CampaignAgentModel, index: int) -> None:
        super().__init__(model)
        self.index = index
        self.creator = -1
        self.partner = -1
        self.eligible = False
        self.segment = 0
        self.out_edges = range(0)
        self._out_channel = 0
        self.posts: dict[int, list[int]] = {}
        self.reset()

    @property
    def threshold(self) -> float:
        """Adoption threshold of the current trial in dose units (the kernel's product)."""
        m = self.model
        return _uniform(m.k_thresh, self.index) * m.threshold_scale[self.index]

    @property
    def effective_conviction(self) -> float:
        """Conviction (as of :attr:`conviction_day`) weighed by the multiple-source weight of the
        distinct sources so far: what the threshold is compared with."""
        m = self.model
        c = float(self.conviction)
        return c * m.synergy[min(len(self.sources), m.sources_cap)] if m.sources_on else c

    @property
    def in_edges(self) -> tuple[int, ...]:
        """Ids of the edges ``u -> self``: the creators and peers this account follows."""
        m = self.model
        return tuple(m.in_edge_ids[m.in_bounds[self.index]:m.in_bounds[self.index + 1]])

    @property
    def in_sources(self) -> tuple[CampaignAccount, ...]:
        """Source account of each edge in :attr:`in_edges`."""
        sources = self.model.pop.graph.sources
        return tuple(self.model.accounts[int(sources[e])] for e in self.in_edges)

    def reset(self) -> None:
        """Return to the untouched state before a new trial."""
        self.reached = False
        self.conviction = 0
        self.conviction_day = -1
        self.sources: set[int] = set()
        self.adopted_by_action = False
        self.engaged_day = -1
        self.clicked_day = -1
        self.adopted_day = -1
        self.adopted_post = -1
        self.root_partner = -1
        self.generation = 0
        self.reshare_day = -1
        self.edges: dict[int, EdgeState] = {}
        self.inbox: list[tuple] = []

    # ------------------------------------------------------------------ phase 1: post
    def post(self) -> None:
        """Publish today's posts: deliver exposures to the followers (and discovered accounts)."""
        m = self.model
        d = m.day
        for pid in self.posts.get(d, ()):
            self._publish(pid, m.post_factor[pid], m.post_partner[pid], 1, scheduled=True)
        if self.reshare_day == d:
            m.count_reshare()
            self._publish(int(ck.RESHARE_ID_BASE) + self.index, m.reshare_factor, self.root_partner,
                          self.generation + 1, scheduled=False)

    def _publish(self, pid: int, factor: float, p_root: int, p_gen: int, *,
                 scheduled: bool) -> None:
        m = self.model
        d = m.day
        reached = set()
        lo, hi = self.out_edges.start, self.out_edges.stop
        m._totals[_PAIRS] += hi - lo  # follower-post pairs examined
        if hi > lo:
            draws = uniforms(np.uint64(_derive(m.k_expose, m.draw_of(pid))), np.arange(lo, hi))
            # reach[u] * shock[channel[u], d]: the kernel's product, once per post.
            seen = np.flatnonzero(draws < m.reach[self.index] * m.shock[self._out_channel, d])
            for e in (seen + lo).tolist():
                v = m.targets[e]
                reached.add(v)
                m.deliver(m.accounts[v], (pid, _FOLLOW, e, factor, p_root, p_gen))
        n_disc = m.post_ndisc[pid] if scheduled else 0
        members = m.plat_members[m.post_channel[pid]] if scheduled else []
        if n_disc > 0 and len(members) > 0:  # no members: nobody to discover
            size = len(members)
            kd = np.uint64(_derive(m.k_disc, m.draw_of(pid)))
            # sim.base.rng.below: int64(uniform * bound), elementwise.
            picks = (uniforms(kd, np.arange(n_disc, dtype=np.int64)) * size).astype(np.int64)
            for j, r in enumerate(picks.tolist()):
                v = members[r]
                if v in reached or v == self.index:
                    continue
                reached.add(v)
                m.deliver(m.accounts[v], (pid, _DISCOVERY, j, factor, p_root, p_gen))
        n_press = m.post_npress[pid] if scheduled and m.n_audience > 0 else 0
        if n_press > 0:  # earned media: press coverage reaches any audience account
            kp = np.uint64(_derive(m.k_press, m.draw_of(pid)))
            picks = (uniforms(kp, np.arange(n_press, dtype=np.int64)) * m.n_audience).astype(np.int64)
            for j, v in enumerate(picks.tolist()):
                if v in reached or v == self.index:
                    continue
                reached.add(v)
                m.deliver(m.accounts[v], (pid, _PRESS, j, factor, p_root, p_gen))

    # ------------------------------------------------------------------ phase 2: advance
    def advance(self) -> None:
        """Commit today's exposures: outcome counts, edge state, conviction and adoption."""
        m = self.model
        d = m.day
        inbox = sorted(self.inbox, key=lambda x: (x[0], x[1], x[2]))
        self.inbox = []
        independent = m.mode == ck.INDEPENDENT_MODE
        hit: dict[int, list] = {}  # edge id -> [state, hits today]
        today = 0
        converted = False
        acted = False
        best_dose, best_pid, best_root, best_gen = -math.inf, -1, -1, -1
        for pid, kind, idx, factor, p_root, p_gen in inbox:
            if kind == _FOLLOW:
                e = idx
                entry = hit.get(e)
                if entry is None:
                    st = self.edges.get(e)
                    if st is None:  # first use of this edge in the trial
                        st = self.edges[e] = EdgeState(m.trust0[m.edge_source[e]], 0.0, 0, d)
                    # Recovery since the last hit (recovery[0] = 1 for a fresh edge).
                    st.fatigue = st.fatigue * m.recovery[d - st.last_day]
                    st.last_day = d
                    entry = hit[e] = [st, 0]
                st = entry[0]
                entry[1] += 1
                nth = st.exposures
                st.exposures += 1
                trust = st.trust
                dose = trust * factor * (1.0 - st.fatigue)
                if m.repetition_on:  # wear-in / wear-out over the exposures on this edge
                    dose = dose * m.repetition[nth]
                u = m.edge_source[e]
                trust0 = m.trust0[u]
                p_eng = min(1.0, m.engagement[u] * trust / trust0 if trust0 > 0.0 else m.engagement[u])
                draw = _uniform(m.post_key(m.k_engage, pid), e)
                engaged, clicked, acts = draw < p_eng, draw < p_eng * m.click, draw < p_eng * m.act
                conv = False
                if independent:
                    q = 1.0 - math.exp(-m.rate * max(dose, 0.0))
                    if nth == 0:
                        conv = _lane_below(m.k_lanes, e, m.lane, math.ceil(q * float(LANE_SCALE)))
                    else:
                        conv = _uniform(_derive(m.k_live, nth), e) < q
            elif kind == _DISCOVERY:
                j = idx
                dose = m.post_dtrust[pid] * factor
                draw = _uniform(m.post_key(m.k_deng, pid), j)
                p_eng = m.post_deng[pid]
                engaged, clicked, acts = draw < p_eng, draw < p_eng * m.click, draw < p_eng * m.act
                conv = False
                if independent:
                    conv = _uniform(m.post_key(m.k_dconv, pid), j) < 1.0 - math.exp(-m.rate * max(dose, 0.0))
                m.count_discovery()
            else:  # press coverage
                j = idx
                dose = m.post_ptrust[pid] * factor
                draw = _uniform(m.post_key(m.k_peng, pid), j)
                p_eng = m.post_peng[pid]
                engaged, clicked, acts = draw < p_eng, draw < p_eng * m.click, draw < p_eng * m.act
                conv = False
                if independent:
                    conv = _uniform(m.post_key(m.k_pconv, pid), j) < 1.0 - math.exp(-m.rate * max(dose, 0.0))
                m.count_press()
            if not self.reached:
                self.reached = True
                m.count_reach(self.segment)
            if m.sources_on and self.adopted_day < 0:  # the sources an adopter meets later change nothing
                self.sources.add(m.poster_of(pid))
            m.count_exposure(p_root, engaged)
            if engaged and self.engaged_day < 0:
                self.engaged_day = d
                m.count_engager()
            if clicked and self.clicked_day < 0:
                self.clicked_day = d
                m.count_clicker()
            today += int(dose * m.dose_unit)
            converted = converted or conv
            acted = acted or acts
            candidate = conv or acts or not independent
            if candidate and (dose > best_dose or (dose == best_dose and pid < best_pid)):
                best_dose, best_pid, best_root, best_gen = dose, pid, p_root, p_gen
        # Edge state at the end of the day: trust growth and wear-out for k hits today.
        for st, k in hit.values():
            st.trust = m.ceiling - (m.ceiling - st.trust) * m.growth[k]
            st.fatigue = 1.0 - (1.0 - st.fatigue) * m.wear[k]
        if not self.eligible or self.adopted_day >= 0:
            return
        if independent:
            adopt = converted
        else:
            c = 0
            if self.conviction_day >= 0:
                c = int(self.conviction * m.decay[d - self.conviction_day])
            c += today
            self.conviction = c
            self.conviction_day = d
            lhs = float(c)
            if m.sources_on:  # weighed by the distinct sources so far (at most sources_cap)
                lhs = lhs * m.synergy[min(len(self.sources), m.sources_cap)]
            adopt = lhs >= self.threshold
        if not adopt and acted:
            adopt = True  # acted on a post's call to action today
            self.adopted_by_action = True
        if not adopt:
            return
        self.adopted_day = d
        self.adopted_post = best_pid
        self.root_partner = best_root
        self.generation = best_gen
        m.count_adoption(self.segment, best_root, best_gen, engaged=self.engaged_day >= 0,
                         clicked=self.clicked_day >= 0)
        if _uniform(m.k_reshare, self.index) < m.reshare_p:
            self.reshare_day = d + 1
            m.resharers_next.append(self)


# --------------------------------------------------------------------------- model

class CampaignAgentModel(mesa.Model):
    """Mesa model of campaign trials: one agent per account, one step per day.

    Parameters
    ----------
    pop : Population
        The creator-audience world.
    arrays : CampaignWorldArrays
        The model laid onto the population (:func:`sim.campaign.model.compile_world`).
    schedule : Schedule
        One strategy's partners and posts (:func:`sim.campaign.model.build_schedule`).
    root : numpy.uint64
        Root key of the run (:func:`sim.base.rng.root_key`).
    trial : int, default 0
        First trial to set up (>= 0); :meth:`start_trial` moves to another.
    shuffle_seed : int, default 0
        Seed (>= 0) of Mesa's generators, used **only** to shuffle the order in which
        agents are visited. No modelled quantity depends on it.

    Attributes
    ----------
    accounts : list of CampaignAccount
        The agents, indexed by account index.
    day : int
        The day in progress (during :meth:`step`) or last run.
    totals, series, partners, segments : numpy arrays
        The trial's outcome so far, laid out as the kernel lays it out
        (:class:`sim.campaign.model.CampaignOutcome`).

    Examples
    --------
    >>> m = CampaignAgentModel(pop, arrays, schedule, root_key(5), trial=2)  # doctest: +SKIP
    >>> m.run()                                                             # doctest: +SKIP
    >>> a = m.accounts[17]; a.adopted_day, a.root_partner, a.edges          # doctest: +SKIP
    """

    def __init__(self, pop: Population, arrays: CampaignWorldArrays, schedule: Schedule,
                 root: np.uint64, trial: int = 0, *, shuffle_seed: int = 0) -> None:
        # An int seed: Mesa seeds both of its generators from it without drawing from anything else.
        super().__init__(rng=int(shuffle_seed))
        if arrays.mode not in (ck.THRESHOLD_MODE, ck.INDEPENDENT_MODE):
            raise ValueError(f"unknown adoption mode {arrays.mode}")
        g = pop.graph
        self.pop = pop
        self.arrays = arrays
        self.schedule = schedule
        self.root = int(as_key(int(root)))
        self.days = int(arrays.days)
        self.mode = int(arrays.mode)
        # Parameters as Python scalars and lists (same float64 values as the arrays).
        self.trust0 = arrays.trust0.tolist()
        self.engagement = arrays.engagement.tolist()
        self.decay = arrays.decay.tolist()
        self.recovery = arrays.recovery.tolist()
        self.growth = arrays.growth.tolist()
        self.wear = arrays.wear.tolist()
        self.shock = np.asarray(arrays.shock, dtype=np.float64)
        self.ceiling = float(arrays.ceiling)
        self.reshare_p = float(arrays.reshare)
        self.reshare_factor = float(arrays.reshare_factor)
        self.rate = float(arrays.rate)
        self.dose_unit = float(arrays.dose_unit)
        self.threshold_scale = arrays.threshold_scale.tolist()
        self.reach = np.asarray(arrays.reach, dtype=np.float64)
        self.act = float(arrays.act)
        self.click = float(arrays.click)
        self.repetition = arrays.repetition.tolist()
        self.repetition_on = bool(arrays.repetition_on)
        self.synergy = arrays.synergy.tolist()
        self.sources_cap = int(arrays.sources_cap)
        self.sources_on = bool(arrays.sources_on)
        self.n_audience = int(arrays.n_audience)
        ptr = arrays.plat_ptr.tolist()
        self.plat_members = [arrays.plat_members[ptr[k]:ptr[k + 1]].tolist()
                             for k in range(len(ptr) - 1)]
        s = schedule
        self.n_scheduled = len(s.day)
        self.n_partners = len(s.partner_creator)
        self.n_segments = len(pop.segments)
        self.post_factor = s.factor.tolist()
        self.post_partner = s.partner.tolist()
        self.post_channel = s.channel.tolist()
        self.post_ndisc = s.n_discovery.tolist()
        self.post_deng = s.discovery_engagement.tolist()
        self.post_dtrust = s.discovery_trust.tolist()
        self.post_draw = s.draw.tolist()
        self.post_account = s.account.tolist()
        self.post_npress = s.n_press.tolist()
        self.post_peng = s.press_engagement.tolist()
        self.post_ptrust = s.press_trust.tolist()

        self.accounts = [CampaignAccount(self, v) for v in range(g.n)]
        self._wire(pop, arrays)
        self._posters_by_day: dict[int, list[CampaignAccount]] = {}
        posts = zip(s.day.tolist(), s.account.tolist(), s.partner.tolist(), strict=True)
        for pid, (d, u, p) in enumerate(posts):
            a = self.accounts[u]
            a.partner = p
            if d not in a.posts:
                a.posts[d] = []
                self._posters_by_day.setdefault(d, []).append(a)
            a.posts[d].append(pid)
        self.trial = -1
        self._dirty: list[CampaignAccount] = []
        self.start_trial(trial)

    def _wire(self, pop: Population, arrays: CampaignWorldArrays) -> None:
        """Give every account its follow edges and its per-account parameters."""
        g = pop.graph
        self.targets = g.indices.tolist()
        by_target = np.argsort(g.indices, kind="stable")
        self.in_edge_ids = by_target.tolist()
        self.in_bounds = [0, *np.cumsum(g.in_degree).tolist()]
        # All out-edges of an account share its channel (its platform, or the peer channel).
        indptr = g.indptr.tolist()
        channel = arrays.channel.tolist()
        self.edge_source = g.sources.tolist()
        eligible = arrays.eligible.tolist()
        segment = arrays.segment.tolist()
        for v, a in enumerate(self.accounts):
            a.out_edges = range(indptr[v], indptr[v + 1])
            a._out_channel = channel[v]
            a.eligible = bool(eligible[v])
            a.segment = int(segment[v])
            if v >= pop.n_audience:
                a.creator = v - pop.n_audience

    # ------------------------------------------------------------------ trials
    def start_trial(self, trial: int) -> None:
        """Reset the accounts and outcome counters, and key the randomness of ``trial`` (>= 0).

        Only the accounts the last trial touched are reset (no other account's state changed),
        so a trial costs what it touches, as in the kernel.
        """
        self.trial = int(trial)
        t = int(as_key(trial))
        self.steps = 0
        self.day = -1
        self.running = self.days > 0
        r = self.root
        self.k_expose = _trial_key(r, Stream.EXPOSE, t)
        self.k_engage = _trial_key(r, Stream.ENGAGE, t)
        self.k_disc = _trial_key(r, Stream.DISCOVER, t)
        self.k_dconv = _trial_key(r, Stream.DISCOVER_CONVERT, t)
        self.k_deng = _trial_key(r, Stream.DISCOVER_ENGAGE, t)
        self.k_reshare = _trial_key(r, Stream.RESHARE, t)
        self.k_live = _trial_key(r, Stream.EDGE_LIVE, t)
        self.k_lanes = _trial_key(r, Stream.LIVE_LANES, t // LANES)
        self.lane = t % LANES
        self.k_thresh = _trial_key(r, Stream.THRESHOLD, t)
        self.k_press = _trial_key(r, Stream.PRESS, t)
        self.k_peng = _trial_key(r, Stream.PRESS_ENGAGE, t)
        self.k_pconv = _trial_key(r, Stream.PRESS_CONVERT, t)
        self._post_keys: dict[tuple[int, int], int] = {}
        for a in self._dirty:
            a.reset()
        self._dirty = []
        self.resharers_next: list[CampaignAccount] = []
        self._resharers: list[CampaignAccount] = []
        self._touched: list[CampaignAccount] = []
        self._totals = [0] * len(ck.TOTALS)
        self._series = [[0] * len(ck.SERIES) for _ in range(self.days)]
        self._partners = [[0] * len(ck.PARTNER) for _ in range(self.n_partners)]
        self._segments = [[0] * len(ck.SEGMENT) for _ in range(self.n_segments)]

    def draw_of(self, pid: int) -> int:
        """Draw key of post ``pid``: the schedule's key of a scheduled post (who, which day, which
        rank that day), the post id itself for a re-share (as in the kernel)."""
        return self.post_draw[pid] if pid < self.n_scheduled else pid

    def poster_of(self, pid: int) -> int:
        """The account that made post ``pid`` (a partner, or the re-sharer)."""
        return self.post_account[pid] if pid < self.n_scheduled else pid - int(ck.RESHARE_ID_BASE)

    def post_key(self, trial_stream_key: int, pid: int) -> int:
        """Key of post ``pid`` under a trial's stream key (cached; a pure function of both)."""
        k = (trial_stream_key, pid)
        key = self._post_keys.get(k)
        if key is None:
            key = self._post_keys[k] = _derive(trial_stream_key, self.draw_of(pid))
        return key

    def step(self) -> None:
        """One day: posting accounts deliver exposures, then touched accounts commit (shuffled)."""
        self.day = d = self.steps - 1  # Mesa counts the step in progress from 1
        if d >= self.days:
            raise RuntimeError(f"the campaign horizon is {self.days} days; start a new trial")
        posters = dict.fromkeys(self._posters_by_day.get(d, []))
        posters.update(dict.fromkeys(self._resharers))
        self._touched = []
        if posters:
            mesa.agent.AgentSet(list(posters), random=self.random).shuffle_do(CampaignAccount.post)
        self.resharers_next = []
        touched, self._touched = self._touched, []
        self._dirty.extend(touched)
        if touched:
            mesa.agent.AgentSet(touched, random=self.random).shuffle_do(CampaignAccount.advance)
        self._resharers = self.resharers_next
        if self.steps >= self.days:
            self.running = False

    def run(self) -> None:
        """Run the trial to the horizon."""
        while self.running:
            self.step()

    # ------------------------------------------------------------------ bookkeeping (outcomes)
    def deliver(self, account: CampaignAccount, exposure: tuple) -> None:
        """Put an exposure in ``account``'s pending inbox (read by its ``advance``)."""
        if not account.inbox:
            self._touched.append(account)
        account.inbox.append(exposure)

    def count_reshare(self) -> None:
        """Book one re-share post."""
        self._totals[_RESHARES] += 1

    def count_discovery(self) -> None:
        """Book one discovery impression."""
        self._totals[_DIMPR] += 1

    def count_press(self) -> None:
        """Book one press impression (earned media)."""
        self._totals[_PIMPR] += 1

    def count_reach(self, segment: int) -> None:
        """Book an account reached for the first time in the trial."""
        self._totals[_REACH] += 1
        self._series[self.day][0] += 1
        self._segments[segment][0] += 1

    def count_exposure(self, p_root: int, engaged: bool) -> None:
        """Book one impression (and engagement) of a post of the chain of partner ``p_root``."""
        row = self._series[self.day]
        self._totals[_IMPR] += 1
        row[1] += 1
        if p_root >= 0:
            self._partners[p_root][0] += 1
        if engaged:
            self._totals[_ENG] += 1
            row[2] += 1
            if p_root >= 0:
                self._partners[p_root][1] += 1

    def count_engager(self) -> None:
        """Book an account engaging for the first time in the trial."""
        self._totals[_ENGAGERS] += 1
        self._series[self.day][4] += 1

    def count_clicker(self) -> None:
        """Book an account clicking through a post's call to action for the first time in the trial."""
        self._totals[_CLICKERS] += 1

    def count_adoption(self, segment: int, root: int, gen: int, *, engaged: bool, clicked: bool) -> None:
        """Book one adoption attributed to partner ``root`` at generation ``gen``, by an account
        that has (``engaged``) or has not engaged in the trial so far, today included, and that
        has or has not (``clicked``) clicked."""
        t = self._totals
        t[_ADOPT] += 1
        t[_ADIRECT if gen == 1 else _ARESHARE] += 1
        t[_AENGAGED if engaged else _AUNENGAGED] += 1
        if clicked:
            t[_ACLICKED] += 1
        t[_DEPTH] = max(t[_DEPTH], gen)
        self._series[self.day][3] += 1
        if root >= 0:
            self._partners[root][2] += 1
        self._segments[segment][1] += 1

    # ------------------------------------------------------------------ outcomes
    @property
    def totals(self) -> np.ndarray:
        """int64[len(TOTALS)] of the trial so far."""
        return np.array(self._totals, dtype=np.int64)

    @property
    def series(self) -> np.ndarray:
        """int64[days, len(SERIES)] of the trial so far."""
        return np.array(self._series, dtype=np.int64).reshape(self.days, len(ck.SERIES))

    @property
    def partners(self) -> np.ndarray:
        """int64[partners, len(PARTNER)] of the trial so far."""
        return np.array(self._partners, dtype=np.int64).reshape(self.n_partners, len(ck.PARTNER))

    @property
    def segments(self) -> np.ndarray:
        """int64[segments, len(SEGMENT)] of the trial so far."""
        return np.array(self._segments, dtype=np.int64).reshape(self.n_segments, len(ck.SEGMENT))

    def adoption_days(self) -> np.ndarray:
        """Adoption day of every account (-1 = never), int32[n]."""
        return np.array([a.adopted_day for a in self.accounts], dtype=np.int32)

    def engagement_days(self) -> np.ndarray:
        """Day of every account's first engagement in the trial (-1 = never), int32[n]."""
        return np.array([a.engaged_day for a in self.accounts], dtype=np.int32)


# --------------------------------------------------------------------------- engine front

def adoption_days(pop: Population, arrays: CampaignWorldArrays, schedule: Schedule,
                  root: np.uint64, trial: int, *,
                  shuffle_seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One trial as a Mesa model: adoption day of every account (int32, -1 = never), totals row.

    Same arguments and result as :func:`sim.campaign.model.adoption_days`, which it reproduces
    exactly; ``shuffle_seed`` only changes the order agents are visited in.
    """
    m = CampaignAgentModel(pop, arrays, schedule, root, trial, shuffle_seed=shuffle_seed)
    m.run()
    return m.adoption_days(), m.totals


def funnel_days(pop: Population, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64,
                trial: int, *, shuffle_seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One trial as a Mesa model: adoption day and first engagement day of every account (int32,
    -1 = never) and the totals row; equals :func:`sim.campaign.model.funnel_days`."""
    m = CampaignAgentModel(pop, arrays, schedule, root, trial, shuffle_seed=shuffle_seed)
    m.run()
    return m.adoption_days(), m.engagement_days(), m.totals


def cascade_tree(pop: Population, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64,
                 trial: int, *, shuffle_seed: int = 0):
    """Who activated whom in one trial, read off the agents; equals :func:`sim.campaign.model.cascade_tree`."""
    from sim.campaign.model import tree_from_posts

    m = CampaignAgentModel(pop, arrays, schedule, root, trial, shuffle_seed=shuffle_seed)
    m.run()
    adopters = [a for a in m.accounts if a.adopted_day >= 0]
    return tree_from_posts(schedule, np.array([a.index for a in adopters], np.int32),
                           np.array([a.adopted_day for a in adopters], np.int32),
                           np.array([a.adopted_post for a in adopters], np.int64))


def simulate(pop: Population, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64,
             trials: np.ndarray, *, shuffle_seed: int = 0) -> CampaignOutcome:
    """Campaign trials run as a Mesa model (one model, reset for each trial).

    Same arguments and result as :func:`sim.campaign.model.simulate`, which it reproduces exactly.
    """
    trials = np.ascontiguousarray(trials, dtype=np.int64)
    nt = trials.shape[0]
    days, n_p, n_s = int(arrays.days), len(schedule.partner_creator), len(pop.segments)
    totals = np.zeros((nt, len(ck.TOTALS)), np.int64)
    series = np.zeros((nt, days, len(ck.SERIES)), np.int64)
    partners = np.zeros((nt, n_p, len(ck.PARTNER)), np.int64)
    segments = np.zeros((nt, n_s, len(ck.SEGMENT)), np.int64)
    if nt:
        m = CampaignAgentModel(pop, arrays, schedule, root, int(trials[0]),
                               shuffle_seed=shuffle_seed)
        for i, t in enumerate(trials.tolist()):
            if i > 0:
                m.start_trial(t)
            m.run()
            totals[i], series[i] = m.totals, m.series
            partners[i], segments[i] = m.partners, m.segments
    return CampaignOutcome(trials, totals, series, partners, segments)
