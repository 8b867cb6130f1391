"""numba kernel of the campaign model (docs/model.md, "Submodels"): arrays in, arrays out.

One trial runs day by day. On day ``d``:

1. **Posts**: the scheduled posts of day ``d`` (in schedule order), then one re-share
   by every account that adopted on day ``d - 1`` and drew ``U(RESHARE, v) < reshare``.
   Post ids: scheduled post ``i`` has id ``i`` (it orders attribution ties); its draws are
   keyed by ``posts.draw[i]``, which names the post by its creator, day and rank that day
   (:func:`sim.campaign.model.post_draw_key`), so a creator's post draws the same numbers
   in every strategy that schedules it. A re-share by account ``u`` has id and draw key
   ``RESHARE_ID_BASE + u`` (the same in every strategy: common random numbers). Below,
   ``U(S, p; i)`` for a post ``p`` means the draw under ``p``'s draw key.
2. **Exposure**: the target of out-edge ``e`` of poster ``u`` sees post ``p`` iff
   ``U(EXPOSE, p; e) < reach[u] * shock[channel[u], d]``; a scheduled post also reaches
   ``n_discovery[p]`` platform members drawn with ``U(DISCOVER, p; j)`` and ``n_press[p]``
   audience accounts drawn with ``U(PRESS, p; j)`` (press coverage, earned media; an account
   already reached by the post, or the poster, is skipped).
3. **Engagement**: an exposed account engages iff
   ``U(ENGAGE, p; e) < p_eng = min(1, engagement[u] * trust_e / trust0[u])`` (``engagement[u]``
   if ``trust0[u] == 0``; discovery and press: ``U(DISCOVER_ENGAGE, p; j) <
   discovery_engagement[p]``, ``U(PRESS_ENGAGE, p; j) < press_engagement[p]``); the engagement
   is a *click* through the post's call to action iff that draw is ``< click * p_eng``
   (``click_share``), and the exposure *acts* (the click is the advocacy action itself) iff the
   draw is ``< act * p_eng`` (``act = click_share * action_on_engagement``, computed on the host).
   Engagement feeds no dose: it is counted per exposure (``engagements``), per account at its
   first engagement of the trial (``engagers``, ``new_engagers``), and per adopter by whether
   it had engaged by the end of its adoption day (``adopters_engaged``, ``adopters_unengaged``);
   clicks per account (``clickers``) and per adopter that had clicked by then (``adopters_clicked``).
4. **Dose** ``= trust_e * factor[p] * (1 - fatigue_e)``, times ``repetition[n]`` for the
   ``n``-th exposure on the edge when ``repetition_on`` (wear-in / wear-out: negative past the
   peak), with edge state read as of the start of day ``d`` (synchronous update); stored as
   ``int64(dose * dose_unit)`` so sums are exact in any order. Discovery and press doses use
   their post's trust and no fatigue. ``factor[p]`` holds the creator's authenticity and
   alignment (:mod:`sim.campaign.model`). With ``sources_on``, booking counts each account's
   distinct posters (up to ``sources_cap``).
5. **Adoption** (eligible accounts only), at the end of the day:
   threshold mode: ``conviction = int64(conviction * decay[d - last]) + doses today``;
   adopt iff ``conviction * synergy[k] >= U(THRESHOLD; v) * threshold_scale[v]`` (``k``: distinct
   sources so far; the weight only when ``sources_on``); in both modes an account that
   acted today adopts.
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

**Layout.** The kernel takes three records built (and checked) by
:mod:`sim.campaign.model`: :class:`KernelWorld` (the follow graph and per-account
arrays), :class:`KernelPosts` (one strategy's scheduled posts) and :class:`KernelParams`
(the model's tables and scalars). A trial (:func:`_campaign_trial`) runs day by day through
phase functions, one per step of ``docs/model.md`` §3, inlined into the trial, so a new
mechanism changes one phase:

* posts of the day: :func:`_todays_posts`; :func:`_scheduled_post` and :func:`_reshare_post`
  (a post's numbers: poster, draw key, factor, root partner, generation, discovery picks);
* exposure (§7.2-7.5): :func:`_reach` (which followers see the post), then
  :func:`_expose_followers`, per reached edge its state (:func:`_edge_first_use`,
  :func:`_edge_new_day`, :func:`_edge_exposure`), engagement (:func:`_engages`), dose
  (:func:`_dose`) and conversion draw (:func:`_edge_converts`, :func:`_settle_ties`); and
  :func:`_expose_discovery` (platform picks, :func:`_discovery_dose`). Each appends exposures to
  the buffer (:class:`_Buffer`);
* bookkeeping: :func:`_book` books each buffered exposure into its account's record (reach,
  impressions, engagers, today's summed dose, the attribution candidate, :func:`_better`);
* persuasion and adoption at the end of the day: :func:`_adopt` (:func:`_conviction` against
  the threshold, or today's conversions), with each adopter's attribution and counts;
* re-share: the draw (:func:`_reshares`) in :func:`_adopt`; the re-sharers post the next day
  (:func:`_reshare_post`).

Where the mechanisms of issue 19 are (docs/model.md §5, §7): alignment and per-creator
authenticity in each post's ``factor`` and per-creator trust and engagement (engagement per tier
and platform included) in the per-posting-account arrays of :class:`KernelWorld`, all compiled
in :mod:`sim.campaign.model` (no kernel code); the click and the action on engagement in
:func:`_engages` (the engagement draw decides both), :func:`_book` (bits :data:`_A_ACT`,
:data:`_A_CLICKED`) and :func:`_adopt`;
wear-in / wear-out in :func:`_expose_followers` (``params.repetition``, by the edge's exposure
count); the multiple-source weight in :func:`_book` (distinct posters counted in bits 3-6 of the
account record's ``state`` and the first ``cap - 1`` of them in ``_Scratch.src``) and
:func:`_adopt`; press coverage in :func:`_expose_press`, one more exposure phase after
discovery with its own streams (``PRESS``, ``PRESS_ENGAGE``, ``PRESS_CONVERT``). With every
mechanism at its neutral value the kernel computes the earlier model bit for bit, and the new
work is behind flags (``repetition_on``, ``sources_on``) or never triggered (``act = 0``,
``n_press = 0``).

**Rules that keep the phases free** (numba counts references to arrays with an atomic
increment and decrement, a call each; in a loop over posts or exposures that made trials
2-4x slower, with the same numbers):

1. per-exposure rules (:func:`_dose`, :func:`_engages`, ...) take numbers and record
   references (``acct[v]``, ``slots[k]``), never arrays: table lookups happen in the phase;
2. a phase reads its records' arrays at its top and uses them in **one** loop (two loops in
   one inlined function, or an array used last inside one branch of an ``if``, left numba's
   reference counts in place);
3. no call to a compiled function that is not inlined inside a phase's loop (the lane draw's
   rare tie is settled by :func:`_settle_ties`, run only when a post has one).

``python -m benchmarks.refcounts`` checks the compiled trial; ``python -m
benchmarks.ab_kernels`` times it against an older commit.

Keep all jitted helpers of this kernel in this module, :mod:`sim.base.rng` or :mod:`sim.base.intrinsics`
(``prefetch``): numba's cache does not see edits to helpers elsewhere, and
:mod:`sim.base.kernel_cache` watches only those files.
"""

from __future__ import annotations

import math
from typing import Annotated, NamedTuple

import numba as nb
import numpy as np

from sim.base.intrinsics import prefetch
from sim.base.kernel_records import Array, Scalar
from sim.base.rng import LANE_SCALE, LANES, Stream, below, bits, derive, lane_tie_below, lane_word, trial_key, uniform

_EXPOSE = np.uint64(int(Stream.EXPOSE))
_ENGAGE = np.uint64(int(Stream.ENGAGE))
_DISCOVER = np.uint64(int(Stream.DISCOVER))
_DCONVERT = np.uint64(int(Stream.DISCOVER_CONVERT))
_DENGAGE = np.uint64(int(Stream.DISCOVER_ENGAGE))
_PRESS_S = np.uint64(int(Stream.PRESS))
_PENGAGE = np.uint64(int(Stream.PRESS_ENGAGE))
_PCONVERT = np.uint64(int(Stream.PRESS_CONVERT))
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
#: ``press_impressions``: exposures through press coverage (earned media; included in ``impressions``).
#: ``clickers``: accounts that clicked through a post's call to action at least once in the trial
#: (a click is an engagement whose draw is below ``click * p_eng``: ``click_share``, §7.7c);
#: ``adopters_clicked``: adopters that had clicked on or before their adoption day (the booking
#: rule of ``adopters_engaged``). Appended last, so the earlier columns keep their indices.
TOTALS = ("reach", "impressions", "engagements", "adopters", "adopters_direct", "adopters_reshare",
          "depth", "reshares", "discovery_impressions", "pairs_examined",
          "engagers", "adopters_engaged", "adopters_unengaged", "press_impressions",
          "clickers", "adopters_clicked")
(_REACH, _IMPR, _ENG, _ADOPT, _ADIRECT, _ARESHARE, _DEPTH, _RESHARES, _DIMPR, _PAIRS,
 _ENGAGERS, _AENGAGED, _AUNENGAGED, _PIMPR, _CLICKERS, _ACLICKED) = range(len(TOTALS))
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
#: (independent mode; reset with ``today``), bit :data:`_A_ACT`, some exposure today was the
#: action itself (``action_on_engagement``; reset with ``today``), bit :data:`_A_ENGAGED`, the
#: account has engaged in this trial, bits 3-6, the distinct sources that reached it in this
#: trial, up to ``sources_cap``, and bit :data:`_A_CLICKED`, the account has clicked in this trial
#: (the last three reset with the persuasion state at the trial's first exposure; the sources
#: themselves are in ``_Scratch.src``);
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
_A_ACT = np.uint8(4)
_A_NOT_TODAY = np.uint8(0xFF ^ 5)  # clears the day's bits (_A_CONV, _A_ACT)
_A_SRC_SHIFT = 3  # distinct sources so far, in bits 3-6 (at most 8)
_A_NOT_SRC = 0xFF ^ (15 << 3)
_A_CLICKED = np.uint8(128)  # the account has clicked in this trial (click_share; the record's last free bit)
#: Outcomes of :func:`_edge_converts`.
_NO, _YES, _TIE = 0, 1, 2
_S3 = np.uint64(3)
_S7 = np.uint64(7)
_S48 = np.uint64(48)
_BYTE = np.uint64(0xFF)
#: Bits of an exposure's flags (``_Buffer.flag``) from the draws to booking.
_ENGAGED = np.uint8(1)
_CONVERTS = np.uint8(2)
_MARKS = np.uint8(4)  # a follower exposure of a post with discovery or press: mark the account reached by it
_DISCOVERY = np.uint8(8)  # a discovery or press draw: an exposure unless the post reached the account already
_PRESS = np.uint8(16)  # a press draw (with _DISCOVERY)
_ACTS = np.uint8(32)  # the exposure is the action itself (action_on_engagement)
_CLICKS = np.uint8(64)  # the engagement is a click through to the action page (click_share)
#: State of one edge-state slot (a scheduled poster's out-edge), one 40-byte record so a post
#: touches one or two cache lines per exposed follower instead of one per field (nano partners have
#: a few dozen followers each: the fields of separate arrays were a miss apiece).
_SLOT = np.dtype([
    ("trust", np.float64), ("fatigue", np.float64), ("daymark", np.int64),
    ("gen", np.int32), ("last", np.int32), ("count", np.int32), ("today", np.int32),
], align=True)


# --------------------------------------------------------------------------- records (inputs)


class KernelWorld(NamedTuple):
    """The population as the kernel reads it; built by :func:`sim.campaign.model.world_record`.

    ``channel``, ``reach``, ``trust0`` and ``engagement`` are per *posting account* (all
    out-edges of an account share them; :class:`sim.campaign.model.CampaignWorldArrays`).
    """

    indptr: Annotated[np.ndarray, Array(np.int64, "n+1")]  #: CSR follow graph: out-edges of each account
    indices: Annotated[np.ndarray, Array(np.int32, "m")]  #: target (follower) of each edge
    channel: Annotated[np.ndarray, Array(np.int8, "n")]  #: channel of an account's posts
    reach: Annotated[np.ndarray, Array(np.float64, "n")]  #: P(a follower sees a post), before shocks
    trust0: Annotated[np.ndarray, Array(np.float64, "n")]  #: a follower's initial trust in the poster
    engagement: Annotated[np.ndarray, Array(np.float64, "n")]  #: engagement probability at initial trust
    eligible: Annotated[np.ndarray, Array(np.bool_, "n")]  #: accounts that can adopt
    threshold_scale: Annotated[np.ndarray, Array(np.float64, "n")]  #: threshold = U * threshold_scale (dose units)
    segment: Annotated[np.ndarray, Array(np.int16, "n")]  #: audience segment of each account
    plat_ptr: Annotated[np.ndarray, Array(np.int64, "platforms+1")]  #: CSR of each platform's audience
    plat_members: Annotated[np.ndarray, Array(np.int32, "*")]  #: members, for discovery picks
    n_segments: Annotated[int, Scalar(int)]  #: rows of the per-segment outputs
    n_audience: Annotated[int, Scalar(int)]  #: audience accounts (0 .. n_audience - 1): press picks


class KernelPosts(NamedTuple):
    """One strategy's scheduled posts, sorted by day; built by :func:`sim.campaign.model.posts_record`.

    Post ``i`` of the schedule has id ``i`` (attribution ties go to the lower id); its random
    numbers are keyed by ``draw[i]`` (:func:`sim.campaign.model.post_draw_key`).
    """

    day: Annotated[np.ndarray, Array(np.int32, "posts")]
    account: Annotated[np.ndarray, Array(np.int32, "posts")]  #: posting account
    channel: Annotated[np.ndarray, Array(np.int8, "posts")]  #: platform (discovery draws from its members)
    partner: Annotated[np.ndarray, Array(np.int32, "posts")]  #: partner index (< n_partners)
    factor: Annotated[np.ndarray, Array(np.float64, "posts")]  #: persuasion factor of the post
    n_discovery: Annotated[np.ndarray, Array(np.int64, "posts")]  #: discovery picks
    discovery_engagement: Annotated[np.ndarray, Array(np.float64, "posts")]
    discovery_trust: Annotated[np.ndarray, Array(np.float64, "posts")]
    draw: Annotated[np.ndarray, Array(np.uint64, "posts")]  #: key of the post's random numbers
    n_press: Annotated[np.ndarray, Array(np.int64, "posts")]  #: press picks (earned media)
    press_engagement: Annotated[np.ndarray, Array(np.float64, "posts")]
    press_trust: Annotated[np.ndarray, Array(np.float64, "posts")]
    n_partners: Annotated[int, Scalar(int)]  #: rows of the per-partner outputs


class KernelParams(NamedTuple):
    """The model's tables and scalars; built by :func:`sim.campaign.model.params_record`.

    Symbols as :class:`sim.campaign.model.CampaignWorldArrays` (``docs/model.md`` §7).
    """

    shock: Annotated[np.ndarray, Array(np.float64, "channels", "days")]  #: reach multiplier per channel and day
    decay: Annotated[np.ndarray, Array(np.float64, "days+1")]  #: (1 - conviction_decay)**k
    recovery: Annotated[np.ndarray, Array(np.float64, "days+1")]  #: (1 - fatigue_recovery)**k
    growth: Annotated[np.ndarray, Array(np.float64, "hits")]  #: (1 - trust_growth)**k for k hits in a day
    wear: Annotated[np.ndarray, Array(np.float64, "hits")]  #: (1 - fatigue)**k
    ceiling: Annotated[float, Scalar(float)]  #: trust ceiling
    reshare: Annotated[float, Scalar(float)]  #: P(an adopter re-shares)
    reshare_factor: Annotated[float, Scalar(float)]  #: persuasion factor of a re-share
    mode: Annotated[int, Scalar(int)]  #: THRESHOLD_MODE or INDEPENDENT_MODE
    rate: Annotated[float, Scalar(float)]  #: independent mode: P(convert) = 1 - exp(-rate * dose)
    dose_unit: Annotated[float, Scalar(float)]  #: fixed-point unit of doses
    days: Annotated[int, Scalar(int)]  #: days of a trial
    act: Annotated[float, Scalar(float)]  #: click_share * action_on_engagement: P(act | engaged)
    click: Annotated[float, Scalar(float)]  #: share of engagements that are a click (click_share; >= act)
    repetition: Annotated[np.ndarray, Array(np.float64, "reps")]  #: weight of the n-th exposure on an edge
    synergy: Annotated[np.ndarray, Array(np.float64, "caps")]  #: min(k, cap) ** synergy for k distinct sources
    sources_cap: Annotated[int, Scalar(int)]  #: distinct sources counted at most
    sources_on: Annotated[bool, Scalar(bool)]  #: weigh conviction by distinct sources
    repetition_on: Annotated[bool, Scalar(bool)]  #: weigh repeated exposures on an edge


# --------------------------------------------------------------------------- records (working state)


class _Scratch(NamedTuple):
    """Per-call working arrays (:func:`_scratch`); generation stamps make clearing them per trial unnecessary."""

    acct: np.ndarray  # _ACCT[n]: booking and adoption state of every account
    root_of: np.ndarray  # int32[n]: root partner of an adopter's chain (re-shares inherit it)
    gen_of: np.ndarray  # int32[n]: generation of an adopter
    slots: np.ndarray  # _SLOT[slots]: edge state of the partners' out-edges
    slot_base: np.ndarray  # int64[partners]: first slot of each partner's out-edges
    touched: np.ndarray  # int32[n]: accounts exposed today
    resharers: np.ndarray  # int32[n]: accounts re-sharing today
    next_resharers: np.ndarray  # int32[n]: ... tomorrow
    src: np.ndarray  # int32[n * (sources_cap - 1)] (or empty): the distinct sources of each account so far


class _Buffer(NamedTuple):
    """Exposures drawn but not yet booked, one entry per exposure (and the reached edges of one post)."""

    v: np.ndarray  # int32: exposed account
    dose: np.ndarray  # float64
    flag: np.ndarray  # uint8: _ENGAGED | _CONVERTS | _MARKS | _DISCOVERY | _PRESS | _ACTS | _CLICKS
    pid: np.ndarray  # int64: post id
    post: np.ndarray  # int32: post ordinal within the trial
    root: np.ndarray  # int32: root partner
    gen: np.ndarray  # int32: generation an adoption through it gets
    edges: np.ndarray  # int64[max out-degree + 1]: the edges one post reaches
    tie_at: np.ndarray  # int64[max out-degree + 1]: exposures whose conversion draw tied (_settle_ties)
    tie_threshold: np.ndarray  # uint64[max out-degree + 1]: their lane thresholds


class _Out(NamedTuple):
    """Where one trial writes: its rows of the output arrays, and the adopter and engager lists."""

    totals: np.ndarray  # int64[len(TOTALS)]
    series: np.ndarray  # int64[days, len(SERIES)]
    partners: np.ndarray  # int64[n_partners, len(PARTNER)]
    segments: np.ndarray  # int64[n_segments, len(SEGMENT)]
    adopted: np.ndarray  # int32[n]: adopters in adoption order
    adopted_day: np.ndarray  # int32[n]
    adopted_post: np.ndarray  # int64[n]: the post each adoption is attributed to
    engager: np.ndarray  # int32[n]: accounts in the order of their first engagement
    engaged_day: np.ndarray  # int32[n]


class _Keys(NamedTuple):
    """A trial's stream keys (:func:`_trial_keys`)."""

    expose: np.uint64
    engage: np.uint64
    discover: np.uint64
    discover_convert: np.uint64
    discover_engage: np.uint64
    reshare: np.uint64
    edge_live: np.uint64
    lanes: np.uint64  # the trial's block key of LIVE_LANES (first exposures: IC's lane draws)
    lane: np.uint64
    threshold: np.uint64
    press: np.uint64
    press_engage: np.uint64
    press_convert: np.uint64


class _Post(NamedTuple):
    """One post of the day, as its exposures need it (:func:`_scheduled_post`, :func:`_reshare_post`)."""

    pid: np.int64  # post id: schedule index, or RESHARE_ID_BASE + re-sharer
    draw: np.uint64  # key of its random numbers
    u: np.int32  # poster
    scheduled: bool
    factor: float
    root: np.int32  # root partner (-1: none)
    gen: np.int64  # generation of an adoption through this post
    base: np.int64  # edge-state slot of out-edge e is base + e (scheduled posts)
    n_disc: np.int64  # discovery picks (0 when the platform has no members)
    n_press: np.int64  # press picks, after the discovery picks (0: no press coverage)


# --------------------------------------------------------------------------- per-exposure rules
#
# Numbers in, numbers out (and record references): inlined into the loops over exposures at
# no cost. See "Rules that keep the phases free" in the module docstring.


@nb.njit(cache=True, inline="always")
def _dose(trust, factor, fatigue):
    """Dose of an exposure on an edge (§7.5): start-of-day trust, the post's factor, start-of-day fatigue."""
    return trust * factor * (1.0 - fatigue)


@nb.njit(cache=True, inline="always")
def _discovery_dose(trust, factor):
    """Dose of a discovery exposure (§7.3): stranger trust, no edge, so no fatigue."""
    return trust * factor


@nb.njit(cache=True, inline="always")
def _engages(key, e, eng0, trust, t0, act, click):
    """Does the exposure on edge ``e`` engage (§7.4; ``key``: the post's ENGAGE key), is the
    engagement a click through to the action page, and is it the action itself (§7.7c)?
    P(engage) = p = min(1, eng0 * trust / t0), proportional to trust; the one engagement draw
    clicks iff it is below ``click * p`` and acts iff below ``act * p`` (``act = click *
    action_on_engagement <= click``, so an action is a click and a click an engagement;
    P(click | engaged) = click, P(act | clicked) = act / click). Returns ``(engaged, clicked, acts)``."""
    p_eng = min(1.0, eng0 * trust / t0 if t0 > 0.0 else eng0)
    return _engages_drawn(uniform(key, np.uint64(e)), p_eng, act, click)


@nb.njit(cache=True, inline="always")
def _engages_drawn(u, p_eng, act, click):
    """:func:`_engages` for an exposure without an edge (discovery, press): draw ``u``, probability ``p_eng``."""
    return u < p_eng, u < p_eng * click, u < p_eng * act


@nb.njit(cache=True, inline="always")
def _conversion_probability(rate, dose):
    """Independent mode (§7.7b): P(an exposure of this dose converts); 0 for a dose <= 0 (an
    exposure past the repetition peak cannot convert)."""
    return 1.0 - math.exp(-rate * max(dose, 0.0))


@nb.njit(cache=True, inline="always")
def _edge_converts(keys, e, nth, cq):
    """Independent mode: whether the ``nth`` exposure (from 0, over the trial) on edge ``e`` converts.

    Returns :data:`_YES`, :data:`_NO` or, for a first exposure whose lane draw ties the
    threshold on its first digit (1 in 256), :data:`_TIE`, settled later by
    :func:`_settle_ties`. The first exposure uses IC's lane draw of the edge
    (:func:`sim.base.rng.lane_below`, whose first step this is), so the model reduces to IC draw
    for draw; later ones the ``EDGE_LIVE`` stream keyed by ``nth``.
    """
    if nth == 0:
        top = np.uint64(math.ceil(cq * _SCALE)) >> _S48
        digit = (lane_word(keys.lanes, np.uint64(e), keys.lane) >> ((np.uint64(e) & _S7) << _S3)) & _BYTE
        if digit != top:
            return _YES if digit < top else _NO
        return _TIE
    return _YES if uniform(derive(keys.edge_live, np.uint64(nth)), np.uint64(e)) < cq else _NO


@nb.njit(cache=True, inline="always")
def _edge_first_use(st, gen, d, t0):
    """Edge-state slot ``st`` at its first exposure in the trial: initial trust, no fatigue."""
    st.gen = gen
    st.trust = t0
    st.fatigue = 0.0
    st.last = d
    st.count = 0
    st.today = 0


@nb.njit(cache=True, inline="always")
def _edge_new_day(st, dmark, d, ceiling, growth_k, wear_k, recovery_k):
    """First exposure of day ``d`` on an edge (§7.6, §7.5): the growth and wear-out of its last hit
    day's ``k = st.today`` hits (``growth_k``, ``wear_k``: the tables at ``k``), then the recovery
    since that day (``recovery_k``: the table at ``d - st.last``).

    Applied here rather than at that day's end: the same operations in the same order, without
    a second visit to a scattered record.
    """
    st.daymark = dmark
    if st.today > 0:
        st.trust = ceiling - (ceiling - st.trust) * growth_k
        st.fatigue = 1.0 - (1.0 - st.fatigue) * wear_k
    st.fatigue = st.fatigue * recovery_k
    st.last = d
    st.today = 0


@nb.njit(cache=True, inline="always")
def _edge_exposure(st):
    """Count one exposure on the edge; returns how many it had before in the trial."""
    nth = st.count
    st.count += 1
    st.today += 1
    return nth


@nb.njit(cache=True, inline="always")
def _better(dose, pid, best_dose, best_pid):
    """Attribution (§7.8): a candidate beats today's best with a larger dose, ties to the lower post id."""
    return dose > best_dose or (dose == best_dose and pid < best_pid)


@nb.njit(cache=True, inline="always")
def _conviction(a, d, decay_k):
    """Threshold mode (§7.7a): the account's conviction decayed since its last update
    (``decay_k``: the table at ``d - a.c_last``) plus today's doses; stored as of day ``d``."""
    c = np.int64(0)
    if a.c_last >= 0:
        c = np.int64(a.conviction * decay_k)
    c += a.today
    a.conviction = c
    a.c_last = d
    return c


@nb.njit(cache=True, inline="always")
def _reshares(keys, v, reshare):
    """Whether adopter ``v`` re-shares (on the next day; §7.9)."""
    return uniform(keys.reshare, np.uint64(v)) < reshare


# --------------------------------------------------------------------------- phases of a day


@nb.njit(cache=True, inline="always")
def _trial_keys(root, trial):
    t = np.uint64(trial)
    return _Keys(trial_key(root, _EXPOSE, t), trial_key(root, _ENGAGE, t), trial_key(root, _DISCOVER, t),
                 trial_key(root, _DCONVERT, t), trial_key(root, _DENGAGE, t), trial_key(root, _RESHARE, t),
                 trial_key(root, _EDGE, t), trial_key(root, _LIVE, t // _LANES), t % _LANES,
                 trial_key(root, _THRESH, t), trial_key(root, _PRESS_S, t), trial_key(root, _PENGAGE, t),
                 trial_key(root, _PCONVERT, t))


@nb.njit(cache=True, inline="always")
def _todays_posts(post_day, sp, d):
    """The schedule's posts of day ``d``: ``(first, end)``, given ``sp``, the first not before ``d``."""
    n_sched = post_day.shape[0]
    while sp < n_sched and post_day[sp] < d:
        sp += 1
    first = sp
    while sp < n_sched and post_day[sp] == d:
        sp += 1
    return first, sp


@nb.njit(cache=True, inline="always")
def _scheduled_post(world, posts, s, pid):
    """Scheduled post ``pid``: its creator's followers, edge-state slots and discovery."""
    u = posts.account[pid]
    p_root = posts.partner[pid]
    c = posts.channel[pid]
    has_members = world.plat_ptr[c + 1] > world.plat_ptr[c]
    n_disc = posts.n_discovery[pid] if has_members else np.int64(0)  # nobody to discover
    n_press = posts.n_press[pid] if world.n_audience > 0 else np.int64(0)
    return _Post(pid, posts.draw[pid], u, True, posts.factor[pid], p_root, np.int64(1),
                 s.slot_base[p_root] - world.indptr[u], n_disc, n_press)


@nb.njit(cache=True, inline="always")
def _reshare_post(params, s, u):
    """Account ``u``'s re-share: its root partner and generation from its own adoption; no slots, no discovery."""
    pid = RESHARE_ID_BASE + u
    return _Post(pid, np.uint64(pid), u, False, params.reshare_factor, s.root_of[u], np.int64(s.gen_of[u] + 1),
                 np.int64(0), np.int64(0), np.int64(0))


@nb.njit(cache=True, inline="always")
def _prefetch_posters(world, s, n_resharers):
    """Re-sharers are scattered accounts: start loading what their posts read."""
    for i in range(n_resharers):
        w = s.resharers[i]
        prefetch(world.indptr, w)
        prefetch(world.reach, w)
        prefetch(world.channel, w)
        prefetch(world.trust0, w)
        prefetch(world.engagement, w)
        prefetch(s.root_of, w)
        prefetch(s.gen_of, w)


@nb.njit(cache=True, inline="always")
def _reach(world, params, p, keys, buf, d):
    """Which followers see post ``p`` on day ``d`` (§7.2): the edges reached, listed in
    ``buf.edges``; returns how many.

    Every out-edge's draw is made without a branch (a post reaches ~15% of followers at
    random: a branch mispredicts often); the edge is listed, and kept if its draw is below.
    """
    indptr = world.indptr
    x_e = buf.edges
    u = p.u
    p_reach = world.reach[u] * params.shock[world.channel[u], d]
    # u < p exactly when the draw's 53-bit integer is < ceil(p * 2**53): no float per pair.
    reach_threshold = np.uint64(math.ceil(min(p_reach, 1.0) * _TWO53))
    kp_exp = derive(keys.expose, p.draw)
    n_r = 0
    for e in range(indptr[u], indptr[u + 1]):
        x_e[n_r] = e
        n_r += np.int64((bits(kp_exp, np.uint64(e)) >> _S11) < reach_threshold)
    return n_r


@nb.njit(cache=True, inline="always")
def _expose_followers(world, params, p, keys, s, buf, d, dmark, gen, ordinal, n_r, n_x):
    """The exposures of the ``n_r`` followers post ``p`` reached (:func:`_reach`), each with its
    edge state (§7.6), engagement (§7.4), dose (§7.5) and (independent mode) conversion draw
    (§7.7b); appends them to ``buf`` from ``n_x``, returns the new end.

    Returns ``(new end, ties)``: independent-mode first exposures whose conversion needs
    more digits of the lane draw, listed in ``buf.tie_at`` / ``buf.tie_threshold`` for
    :func:`_settle_ties` (their ``_CONVERTS`` bit is not set yet).

    (:func:`_reach` is a phase of its own, and the ties are settled after the loop, for the
    rules in the module docstring.)
    """
    indices = world.indices
    slots = s.slots
    growth = params.growth
    wear = params.wear
    recovery = params.recovery
    ceiling = params.ceiling
    independent = params.mode == INDEPENDENT_MODE
    rate = params.rate
    act = params.act
    click = params.click
    repetition = params.repetition
    repetition_on = params.repetition_on
    x_e = buf.edges
    b_v = buf.v
    b_dose = buf.dose
    b_flag = buf.flag
    b_pid = buf.pid
    b_post = buf.post
    b_root = buf.root
    b_gen = buf.gen
    tie_at = buf.tie_at
    tie_threshold = buf.tie_threshold
    n_ties = 0
    u = p.u
    t0 = world.trust0[u]
    eng0 = world.engagement[u]
    kp_eng = derive(keys.engage, p.draw)
    # Followers reached are marked (at booking) only for the post's discovery and press to skip them.
    f_mark = _MARKS if p.n_disc + p.n_press > 0 else np.uint8(0)
    for r in range(n_r):
        e = x_e[r]
        v = indices[e]
        if p.scheduled:
            st = slots[p.base + e]
            if st.gen != gen:
                _edge_first_use(st, gen, d, t0)
            if st.daymark != dmark:
                _edge_new_day(st, dmark, d, ceiling, growth[st.today], wear[st.today], recovery[d - st.last])
            nth = _edge_exposure(st)
            trust = st.trust
            fatigue = st.fatigue
        else:  # a re-sharer posts once per trial: its edges are fresh
            nth = 0
            trust = t0
            fatigue = 0.0
        dose = _dose(trust, p.factor, fatigue)
        if repetition_on:  # wear-in / wear-out over the exposures on this edge (§7.5)
            dose = dose * repetition[nth]
        engaged, clicked, acts = _engages(kp_eng, e, eng0, trust, t0, act, click)
        conv = False
        if independent:
            cq = _conversion_probability(rate, dose)
            verdict = _edge_converts(keys, e, nth, cq)
            conv = verdict == _YES
            if verdict == _TIE:
                tie_at[n_ties] = n_x
                tie_threshold[n_ties] = np.uint64(math.ceil(cq * _SCALE))
                n_ties += 1
        b_v[n_x] = v
        b_dose[n_x] = dose
        b_flag[n_x] = ((_ENGAGED if engaged else 0) | (_CONVERTS if conv else 0) | (_ACTS if acts else 0)
                       | (_CLICKS if clicked else 0) | f_mark)
        b_pid[n_x] = p.pid
        b_post[n_x] = ordinal
        b_root[n_x] = p.root
        b_gen[n_x] = p.gen
        n_x += 1
    return n_x, n_ties


@nb.njit(cache=True, inline="always")
def _settle_ties(keys, buf, x0, n_ties):
    """Settle the conversion of first exposures whose lane draw tied its threshold's first digit
    (:func:`sim.base.rng.lane_tie_below`: the draw's further digits), for the post whose exposures
    start at ``x0`` in the buffer (``buf.edges`` still lists its reached edges)."""
    b_flag = buf.flag
    x_e = buf.edges
    tie_at = buf.tie_at
    tie_threshold = buf.tie_threshold
    for i in range(n_ties):
        x = tie_at[i]
        if lane_tie_below(keys.lanes, np.uint64(x_e[x - x0]), keys.lane, tie_threshold[i]):
            b_flag[x] |= _CONVERTS


@nb.njit(cache=True, inline="always")
def _expose_discovery(world, posts, params, p, keys, buf, ordinal, j, n_x):
    """Platform discovery of non-followers (§7.3) by scheduled post ``p`` (with ``j < p.n_disc``):
    picks ``j``, ``j + 1``, ... as long as the buffer has room. Returns ``(next pick, new end of
    the buffer)``.

    Whether the post reached a pick already (as a follower, or by an earlier pick) is settled
    at booking, which reads the account's record anyway.
    """
    members = world.plat_members
    b_v = buf.v
    b_dose = buf.dose
    b_flag = buf.flag
    b_pid = buf.pid
    b_post = buf.post
    b_root = buf.root
    b_gen = buf.gen
    independent = params.mode == INDEPENDENT_MODE
    rate = params.rate
    act = params.act
    click = params.click
    c = posts.channel[p.pid]
    lo = world.plat_ptr[c]
    size = world.plat_ptr[c + 1] - lo
    dose = _discovery_dose(posts.discovery_trust[p.pid], p.factor)
    p_engage = posts.discovery_engagement[p.pid]
    kd = derive(keys.discover, p.draw)
    kdc = derive(keys.discover_convert, p.draw)
    kde = derive(keys.discover_engage, p.draw)
    cap = b_v.shape[0]
    while j < p.n_disc and n_x < cap:
        v = members[lo + below(kd, np.uint64(j), size)]
        if v != p.u:
            engaged, clicked, acts = _engages_drawn(uniform(kde, np.uint64(j)), p_engage, act, click)
            conv = False
            if independent:
                conv = uniform(kdc, np.uint64(j)) < _conversion_probability(rate, dose)
            b_v[n_x] = v
            b_dose[n_x] = dose
            b_flag[n_x] = ((_ENGAGED if engaged else 0) | (_CONVERTS if conv else 0) | (_ACTS if acts else 0)
                           | (_CLICKS if clicked else 0) | _DISCOVERY)
            b_pid[n_x] = p.pid
            b_post[n_x] = ordinal
            b_root[n_x] = p.root
            b_gen[n_x] = p.gen
            n_x += 1
        j += 1
    return j, n_x


@nb.njit(cache=True, inline="always")
def _expose_press(world, posts, params, p, keys, buf, ordinal, j, n_x):
    """Press coverage of scheduled post ``p`` (§7.12, earned media): audience accounts drawn
    uniformly with replacement, whatever platforms they are on. Picks are numbered after the
    post's discovery picks: ``j`` runs from ``p.n_disc`` to ``p.n_disc + p.n_press``, and pick
    ``j`` is account ``below(PRESS, p; j - n_disc, n_audience)``. As :func:`_expose_discovery`
    (booking skips accounts the post reached already), with the press trust and engagement and
    its own streams. Returns ``(next pick, new end of the buffer)``.
    """
    b_v = buf.v
    b_dose = buf.dose
    b_flag = buf.flag
    b_pid = buf.pid
    b_post = buf.post
    b_root = buf.root
    b_gen = buf.gen
    independent = params.mode == INDEPENDENT_MODE
    rate = params.rate
    act = params.act
    click = params.click
    n_aud = world.n_audience
    dose = _discovery_dose(posts.press_trust[p.pid], p.factor)
    p_engage = posts.press_engagement[p.pid]
    kp = derive(keys.press, p.draw)
    kpc = derive(keys.press_convert, p.draw)
    kpe = derive(keys.press_engage, p.draw)
    cap = b_v.shape[0]
    first = p.n_disc
    end = p.n_disc + p.n_press
    while j < end and n_x < cap:
        i = np.uint64(j - first)
        v = below(kp, i, n_aud)
        if v != p.u:
            engaged, clicked, acts = _engages_drawn(uniform(kpe, i), p_engage, act, click)
            conv = False
            if independent:
                conv = uniform(kpc, i) < _conversion_probability(rate, dose)
            b_v[n_x] = v
            b_dose[n_x] = dose
            b_flag[n_x] = ((_ENGAGED if engaged else 0) | (_CONVERTS if conv else 0) | (_ACTS if acts else 0)
                           | (_CLICKS if clicked else 0) | _DISCOVERY | _PRESS)
            b_pid[n_x] = p.pid
            b_post[n_x] = ordinal
            b_root[n_x] = p.root
            b_gen[n_x] = p.gen
            n_x += 1
        j += 1
    return j, n_x


@nb.njit(cache=True, inline="always")
def _book(params, posts, s, buf, out, d, gen, n_x, n_touched):
    """Book the buffered exposures, in draw order, into their accounts' records: reach,
    impressions (discovery), engagements and engagers, today's summed dose and conversion,
    the attribution candidate (§7.4, §7.5, §7.8). Returns the number of accounts exposed today.

    With ``sources_on``, each exposure's poster is counted among the account's distinct sources
    (§7.7a), up to ``sources_cap``: the count is in bits 3-6 of ``state``, the first ``cap - 1``
    sources in ``s.src[v * (cap - 1) ..]`` (the cap-th need not be remembered: nothing is
    counted after it).

    Exposures arrive in random account order: the records are prefetched a few ahead.
    """
    acct = s.acct
    touched = s.touched
    src = s.src
    post_account = posts.account
    sources_on = params.sources_on
    cap = params.sources_cap
    totals = out.totals
    series = out.series
    partners = out.partners
    segments = out.segments
    engager = out.engager
    engaged_day = out.engaged_day
    b_v = buf.v
    b_dose = buf.dose
    b_flag = buf.flag
    b_pid = buf.pid
    b_post = buf.post
    b_root = buf.root
    b_gen = buf.gen
    independent = params.mode == INDEPENDENT_MODE
    dose_unit = params.dose_unit
    for x in range(n_x):
        if x + _AHEAD < n_x:
            prefetch(acct, b_v[x + _AHEAD])
        v = b_v[x]
        a = acct[v]  # this account's booking state: one record, one cache line
        dose = b_dose[x]
        flags = b_flag[x]
        conv = (flags & _CONVERTS) != 0
        pid = b_pid[x]
        p_root = b_root[x]
        if flags & _DISCOVERY:
            if a.seen == gen and a.post_mark == b_post[x]:
                continue  # reached by this post already: as a follower, or by an earlier pick
            totals[_PIMPR if flags & _PRESS else _DIMPR] += 1
            totals[_IMPR] += 1
            series[d, 1] += 1
            if p_root >= 0:
                partners[p_root, 0] += 1
        if a.seen != gen:  # first exposure of the trial: reach, and fresh persuasion state
            a.seen = gen
            a.conviction = 0
            a.c_last = -1
            a.today_mark = -1
            a.post_mark = 0  # post ordinals start at 1
            a.state = 0  # not engaged or clicked yet in this trial, no source yet (and not converted today)
            totals[_REACH] += 1
            series[d, 0] += 1
            segments[a.segment, 0] += 1
        if flags & (_MARKS | _DISCOVERY):
            a.post_mark = b_post[x]
        if sources_on and a.adopted != gen:  # the sources an adopter meets later change nothing
            k = (np.int64(a.state) >> _A_SRC_SHIFT) & 15
            if k < cap:
                poster = np.int32(pid - RESHARE_ID_BASE) if pid >= RESHARE_ID_BASE else post_account[pid]
                base = np.int64(v) * (cap - 1)
                i = 0
                while i < k and src[base + i] != poster:
                    i += 1
                if i == k:  # a source not seen before in this trial
                    if k < cap - 1:
                        src[base + k] = poster
                    a.state = np.uint8((np.int64(a.state) & _A_NOT_SRC) | ((k + 1) << _A_SRC_SHIFT))
        if flags & _ENGAGED:
            totals[_ENG] += 1
            series[d, 2] += 1
            if p_root >= 0:
                partners[p_root, 1] += 1
            if not (a.state & _A_ENGAGED):  # the account's first engagement in the trial
                a.state |= _A_ENGAGED
                engager[totals[_ENGAGERS]] = v
                engaged_day[totals[_ENGAGERS]] = d
                totals[_ENGAGERS] += 1
                series[d, 4] += 1
            # A click is an engagement (click * p_eng <= p_eng): tested only for engagements.
            if (flags & _CLICKS) and not (a.state & _A_CLICKED):  # the account's first click in the trial
                a.state |= _A_CLICKED
                totals[_CLICKERS] += 1
        if a.today_mark != d:  # first exposure today
            a.today_mark = d
            a.today = 0
            a.best_dose = -np.inf  # doses past the repetition peak are negative: any candidate beats this
            a.best_pid = -1
            a.state &= _A_NOT_TODAY
            touched[n_touched] = v
            n_touched += 1
        a.today += np.int64(dose * dose_unit)
        if conv:
            a.state |= _A_CONV
        acts = (flags & _ACTS) != 0
        if acts:
            a.state |= _A_ACT
        # Attribution candidates: every exposure (threshold mode), or those that converted or
        # acted. A post reaches an account at most once, so the order of booking cannot matter.
        if (conv or acts or not independent) and _better(dose, pid, a.best_dose, a.best_pid):
            a.best_dose = dose
            a.best_pid = pid
            a.best_root = p_root
            a.best_gen = b_gen[x]
    return n_touched


@nb.njit(cache=True, inline="always")
def _adopt(world, params, keys, s, out, d, gen, n_touched):
    """Persuasion and adoption at the end of day ``d`` (§7.7) over the eligible accounts exposed
    today, each adopter attributed to today's best exposure (§7.8) and drawing whether it
    re-shares tomorrow (§7.9). Returns the number of re-sharers of day ``d + 1`` (in ``s.next_resharers``).

    Threshold mode: conviction (:func:`_conviction`), weighed by ``synergy[k]`` for ``k``
    distinct sources when ``sources_on``, against ``U(THRESHOLD; v) * threshold_scale[v]``;
    independent mode: some exposure today converted. In both, an exposure today that was the
    action itself (§7.7c) adopts.
    """
    acct = s.acct
    touched = s.touched
    root_of = s.root_of
    gen_of = s.gen_of
    next_resharers = s.next_resharers
    threshold_scale = world.threshold_scale
    decay = params.decay
    synergy = params.synergy
    sources_on = params.sources_on
    independent = params.mode == INDEPENDENT_MODE
    reshare = params.reshare
    totals = out.totals
    series = out.series
    partners = out.partners
    segments = out.segments
    adopted = out.adopted
    adopted_day = out.adopted_day
    adopted_post = out.adopted_post
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
        if independent:
            adopt = (a.state & _A_CONV) != 0
        else:
            c = _conviction(a, d, decay[d - a.c_last] if a.c_last >= 0 else 1.0)
            lhs = float(c)
            if sources_on:  # the multiple-source weight of the distinct sources so far
                lhs = lhs * synergy[(np.int64(a.state) >> _A_SRC_SHIFT) & 15]
            adopt = lhs >= uniform(keys.threshold, np.uint64(v)) * threshold_scale[v]
        if not adopt and (a.state & _A_ACT) != 0:
            adopt = True  # acted on a post's call to action today
        if not adopt:
            continue
        a.adopted = gen
        root_of[v] = a.best_root
        gen_of[v] = a.best_gen
        k = totals[_ADOPT]
        adopted[k] = v
        adopted_day[k] = d
        adopted_post[k] = a.best_pid
        totals[_ADOPT] += 1
        totals[_ADIRECT if a.best_gen == 1 else _ARESHARE] += 1
        # Today's engagements were booked before this end-of-day decision: an engagement on
        # the adoption day counts as engaged before adopting.
        totals[_AENGAGED if a.state & _A_ENGAGED else _AUNENGAGED] += 1
        if a.state & _A_CLICKED:  # likewise a click on the adoption day counts
            totals[_ACLICKED] += 1
        totals[_DEPTH] = max(totals[_DEPTH], a.best_gen)
        series[d, 3] += 1
        if a.best_root >= 0:
            partners[a.best_root, 2] += 1
        segments[a.segment, 1] += 1
        if _reshares(keys, v, reshare):
            next_resharers[n_next] = v
            n_next += 1
    return n_next


# --------------------------------------------------------------------------- a trial


@nb.njit(cache=True, nogil=True)
def _campaign_trial(world, posts, params, root, trial, gen, s, buf, out):
    """One trial; fills ``out`` (its rows and the adopter and engager lists); returns the number of adopters.

    ``out.engager[:totals[_ENGAGERS]]`` and ``out.engaged_day`` receive the accounts that
    engaged, in the order of their first engagement, and its day.

    Edge state (trust, fatigue, exposure count) is kept only for the out-edges of
    scheduled posters, in slots ``slot_base[partner] + (e - indptr[account])``: a re-sharer
    posts once per trial, so its edges are always fresh (initial trust, no fatigue, first
    exposure), and memory stays proportional to the partners' followers, not to the graph.
    ``gen`` stamps what this trial touches in the scratch ``s``, so per-trial cost is
    proportional to what the trial touches.

    A day runs in two phases, repeated while the day's posts do not fit the buffer: the
    draws (each post's followers, then its discovery) append exposures to ``buf``, then
    :func:`_book` books them with the account records prefetched ahead. Nothing in the
    draws reads what booking writes (the account records), so booking in batches, in draw
    order, changes no result; a nano post exposes a few followers, and only a batch of many
    posts gives the prefetch distance to work.
    """
    keys = _trial_keys(root, trial)
    totals = out.totals
    series = out.series
    partners = out.partners
    indptr = world.indptr
    resharers = s.resharers
    next_resharers = s.next_resharers
    post_day = posts.day
    cap = buf.v.shape[0]
    days = params.days
    n_resharers = 0
    ordinal = np.int32(0)  # posts so far in this trial: marks "reached by this post"
    sp = 0
    for d in range(days):
        dmark = np.int64(gen) * (days + 1) + d + 1
        first, sp = _todays_posts(post_day, sp, d)
        n_sched_today = sp - first
        n_posts = n_sched_today + n_resharers
        _prefetch_posters(world, s, n_resharers)
        n_touched = 0
        q = 0  # post being drawn
        j = -1  # its next discovery pick; -1: its followers are not drawn yet
        while True:
            n_x = 0
            while q < n_posts:
                if q < n_sched_today:
                    p = _scheduled_post(world, posts, s, first + q)
                else:
                    p = _reshare_post(params, s, resharers[q - n_sched_today])
                if j < 0:
                    deg = indptr[p.u + 1] - indptr[p.u]
                    if n_x + deg > cap:
                        break  # book what is buffered first (the buffer holds any poster's followers)
                    ordinal += 1
                    x0 = n_x
                    n_r = _reach(world, params, p, keys, buf, d)
                    n_x, n_ties = _expose_followers(world, params, p, keys, s, buf, d, dmark, gen, ordinal, n_r, n_x)
                    if n_ties > 0:
                        _settle_ties(keys, buf, x0, n_ties)
                    n_follow = n_x - x0  # discovery impressions are counted at booking
                    totals[_IMPR] += n_follow
                    series[d, 1] += n_follow
                    if p.root >= 0:
                        partners[p.root, 0] += n_follow
                    totals[_PAIRS] += deg  # follower-post pairs examined
                    if not p.scheduled:
                        totals[_RESHARES] += 1
                    j = 0
                if j < p.n_disc:
                    j, n_x = _expose_discovery(world, posts, params, p, keys, buf, ordinal, j, n_x)
                    if j < p.n_disc:
                        break  # buffer full: book, then go on with this post's discovery
                if j < p.n_disc + p.n_press:
                    j, n_x = _expose_press(world, posts, params, p, keys, buf, ordinal, j, n_x)
                    if j < p.n_disc + p.n_press:
                        break  # buffer full: book, then go on with this post's press coverage
                q += 1
                j = -1
            n_touched = _book(params, posts, s, buf, out, d, gen, n_x, n_touched)
            if q == n_posts:
                break
        n_resharers = _adopt(world, params, keys, s, out, d, gen, n_touched)
        for i in range(n_resharers):
            resharers[i] = next_resharers[i]
    return totals[_ADOPT]


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
def _scratch(world, posts, params):
    """Per-call working arrays (stamps, never cleared per trial)."""
    slot_base, m = _slot_base(world.indptr, posts.account, posts.partner, posts.n_partners)
    n = world.indptr.shape[0] - 1
    acct = np.zeros(n, _ACCT)
    for v in range(n):
        acct[v].segment = world.segment[v]
        acct[v].eligible = world.eligible[v]
    n_src = n * (params.sources_cap - 1) if params.sources_on else 0
    return _Scratch(acct, np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(m, _SLOT), slot_base,
                    np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(n_src, np.int32))


@nb.njit(cache=True, nogil=True)
def _buffer(indptr, batch):
    """Exposure buffer: at least ``batch`` (:data:`_BATCH`) entries, and room for the followers of any one poster."""
    n = indptr.shape[0] - 1
    max_deg = np.int64(0)
    for i in range(n):
        max_deg = max(max_deg, indptr[i + 1] - indptr[i])
    nx = max(max_deg, batch, 1)
    return _Buffer(np.empty(nx, np.int32), np.empty(nx, np.float64), np.empty(nx, np.uint8), np.empty(nx, np.int64),
                   np.empty(nx, np.int32), np.empty(nx, np.int32), np.empty(nx, np.int32),
                   np.empty(max_deg + 1, np.int64), np.empty(max_deg + 1, np.int64), np.empty(max_deg + 1, np.uint64))


@nb.njit(cache=True, nogil=True)
def _run_trials(world, posts, params, root, trials, batch):
    """Trials in a row on one set of scratch arrays; the adopter and engager lists are the last trial's.

    ``batch``: exposures buffered between draws and booking (:data:`_BATCH`; any value
    >= 1 gives the same results, which the tests check).
    """
    n = world.indptr.shape[0] - 1
    s = _scratch(world, posts, params)
    buf = _buffer(world.indptr, batch)
    nt = trials.shape[0]
    totals = np.zeros((nt, len(TOTALS)), np.int64)
    series = np.zeros((nt, params.days, len(SERIES)), np.int64)
    partners = np.zeros((nt, posts.n_partners, len(PARTNER)), np.int64)
    segments = np.zeros((nt, world.n_segments, len(SEGMENT)), np.int64)
    adopted = np.empty(n, np.int32)
    adopted_day = np.empty(n, np.int32)
    adopted_post = np.empty(n, np.int64)
    engaged = np.empty(n, np.int32)
    engaged_day = np.empty(n, np.int32)
    k = 0
    for i in range(nt):
        out = _Out(totals[i], series[i], partners[i], segments[i], adopted, adopted_day, adopted_post, engaged,
                   engaged_day)
        k = _campaign_trial(world, posts, params, root, trials[i], np.int32(i + 1), s, buf, out)
    n_eng = totals[nt - 1, _ENGAGERS] if nt > 0 else 0
    return (totals, series, partners, segments, adopted[:k], adopted_day[:k], adopted_post[:k],
            engaged[:n_eng], engaged_day[:n_eng])


@nb.njit(cache=True, nogil=True)
def campaign_trials(world, posts, params, root, trials):
    """Run many campaign trials (see the module docstring for the rules).

    Parameters
    ----------
    world, posts, params : KernelWorld, KernelPosts, KernelParams
        Built by :func:`sim.campaign.model.kernel_records`.
    root : uint64
        Root key of the run.
    trials : int64[T]
        Trial numbers.

    Returns
    -------
    totals : int64[T, len(TOTALS)]
    series : int64[T, days, len(SERIES)]
    partners : int64[T, n_partners, len(PARTNER)]
    segments : int64[T, n_segments, len(SEGMENT)]
    """
    out = _run_trials(world, posts, params, root, trials, _BATCH)
    return out[0], out[1], out[2], out[3]


@nb.njit(cache=True, nogil=True)
def campaign_adoption_days(world, posts, params, root, trial):
    """One trial in full detail (arguments as :func:`campaign_trials`, with one ``trial``).

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
        world, posts, params, root, trials, _BATCH)
    n = world.indptr.shape[0] - 1
    out = np.full(n, -1, np.int32)
    for i in range(adopters.shape[0]):
        out[adopters[i]] = adopted_day[i]
    first = np.full(n, -1, np.int32)
    for i in range(engagers.shape[0]):
        first[engagers[i]] = engaged_day[i]
    return out, totals[0], adopters.copy(), adopted_day.copy(), adopted_post.copy(), first
