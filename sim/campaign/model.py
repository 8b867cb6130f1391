"""A campaign compiled against a population: the arrays the campaign kernel (and the Mesa engine) read.

Three layers, each plain frozen data:

* :class:`CampaignWorldArrays` — per edge and per account, from the population and the
  model (reach, initial trust, engagement, thresholds, tables of powers). Shared by all
  strategies of a run.
* :class:`Schedule` — one strategy's posts: partners chosen by the strategy's rules,
  every post's day, platform, persuasion factor and discovery count, and its cost.
* :func:`simulate` — runs trials on the numba kernel and returns :class:`CampaignOutcome`.

Rules and their sources are in ``docs/model.md``; the kernel's docstring states the
update order.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.base.kernel_records import build, memo
from sim.base.rng import Stream, derive, numpy_generator, root_key
from sim.campaign import kernel as ck
from sim.campaign.kernel import TOTALS
from sim.campaign.spec import CampaignModel, PostGroup
from sim.influence.greedy import lazy_greedy
from sim.input.errors import KeyedProblem
from sim.world.levels import CreatorLevels, creator_levels
from sim.world.population import Population
from sim.world.spec import CreatorAudienceWorld

#: Fixed-point unit of persuasion doses: integer sums are exact whatever the order.
DOSE_UNIT = float(2**32)


class CampaignError(KeyedProblem):
    """A strategy that does not fit the world; ``key`` is the scenario key path to blame."""


@dataclass(frozen=True, eq=False)
class CampaignWorldArrays:
    """Model parameters laid onto the population (see ``docs/model.md`` for every symbol).

    Per-edge values depend only on who posts, so they are stored per posting account
    (memory O(accounts), not O(edges)).

    Attributes
    ----------
    channel : int8[n]
        Channel of an account's posts: its home platform (creators), or the peer channel.
    reach : float64[n]
        Probability that a follower sees a post of account ``u``, before shocks.
    trust0 : float64[n]
        A follower's initial trust in account ``u`` (its tier's trust, or peer trust).
    engagement : float64[n]
        Engagement probability per exposure to ``u``'s posts at initial trust.
    threshold_scale : float64[n]
        Adoption threshold in dose units is ``U * threshold_scale[v]``.
    eligible : bool[n]
        Accounts that can adopt (audience accounts; partners never do).
    shock : float64[channels, days]
        Reach multiplier per channel (platforms, then the peer channel) and day.
    decay, recovery : float64[days + 1]
        ``(1 - conviction_decay)**k`` and ``(1 - fatigue_recovery)**k``.
    growth, wear : float64[k_max + 1]
        ``(1 - trust_growth)**k`` and ``(1 - fatigue)**k`` for k exposures in one day.
    plat_ptr, plat_members : int64[P + 1], int32[...]
        Audience members of each platform (CSR), for discovery.
    act : float
        Share of engagements that are the advocacy action itself, ``click_share *
        action_on_engagement`` (computed once here, in float64): an exposure acts iff its
        engagement draw is below ``act`` times its engagement probability.
    click : float
        Share of engagements that are a click through the post's call to action to the action page
        (``click_share``, >= ``act``): an exposure clicks iff its engagement draw is below ``click``
        times its engagement probability (docs/model.md §7.7c). 1: every engagement is a click.
    repetition : float64[k]
        Weight of the ``n``-th exposure (from 0) on one edge (``repetition_peak``, §7.5); all 1
        when ``repetition_on`` is False.
    synergy : float64[cap + 1]
        ``min(k, cap) ** sources.synergy`` for ``k`` distinct sources (entry 0 unused).
    sources_cap : int
        Distinct sources counted at most (``sources.cap``).
    sources_on, repetition_on : bool
        Whether the multiple-source weight and the repetition weights are in use (False: the
        old rules, and the kernel skips them).
    n_audience : int
        Audience accounts (indices below it): press coverage draws from them.
    """

    channel: np.ndarray
    reach: np.ndarray
    trust0: np.ndarray
    engagement: np.ndarray
    threshold_scale: np.ndarray
    eligible: np.ndarray
    segment: np.ndarray
    shock: np.ndarray
    decay: np.ndarray
    recovery: np.ndarray
    growth: np.ndarray
    wear: np.ndarray
    plat_ptr: np.ndarray
    plat_members: np.ndarray
    ceiling: float
    reshare: float
    reshare_factor: float
    mode: int
    rate: float
    dose_unit: float
    days: int
    act: float = 0.0
    click: float = 1.0
    repetition: np.ndarray = field(default_factory=lambda: np.ones(1))
    synergy: np.ndarray = field(default_factory=lambda: np.ones(2))
    sources_cap: int = 1
    sources_on: bool = False
    repetition_on: bool = False
    n_audience: int = -1

    def __post_init__(self) -> None:
        if self.n_audience < 0:  # every eligible account is audience (hand-built arrays of the tests)
            object.__setattr__(self, "n_audience", int(self.eligible.sum()))


@dataclass(frozen=True, eq=False)
class Schedule:
    """One strategy's partners and posts, sorted by day.

    Attributes
    ----------
    partner_creator : int64[P]
        Creator number of each partner (``Population.creator_tier`` etc. index by it).
    partner_posts, partner_cost : int64[P], float64[P]
        Posts and cost (USD: posts at the rate card plus the partnership cost) of each partner.
    partner_fee : float64[P]
        The partnership part of each partner's cost (USD).
    day, account, channel, partner : int arrays [posts]
        When, by which account, on which platform, for which partner.
    factor : float64[posts]
        Message strength x (1 - dilution x variant distance) x authenticity (paid posts).
    n_discovery : int64[posts]
        Non-followers the platform shows the post to.
    discovery_engagement, discovery_trust : float64[posts]
        Engagement probability and trust of a discovery exposure.
    draw : uint64[posts]
        Key of each post's random numbers (:func:`post_draw_key`): who posts, on which day,
        and the how-manieth that day, never its position in this schedule.
    n_press : int64[posts]
        Audience draws of the post's press coverage (0: none).
    press_engagement, press_trust : float64[posts]
        Engagement probability and trust of a press exposure.
    """

    partner_creator: np.ndarray
    partner_posts: np.ndarray
    partner_cost: np.ndarray
    partner_fee: np.ndarray
    day: np.ndarray
    account: np.ndarray
    channel: np.ndarray
    partner: np.ndarray
    factor: np.ndarray
    n_discovery: np.ndarray
    discovery_engagement: np.ndarray
    discovery_trust: np.ndarray
    draw: np.ndarray
    n_press: np.ndarray | None = None
    press_engagement: np.ndarray | None = None
    press_trust: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.day)
        for name, dtype in (("n_press", np.int64), ("press_engagement", np.float64), ("press_trust", np.float64)):
            if getattr(self, name) is None:  # no press coverage (hand-built schedules of the tests)
                object.__setattr__(self, name, np.zeros(n, dtype))

    @property
    def cost(self) -> float:
        """Cost of the strategy in USD (posts x rate card + partnership costs)."""
        return float(self.partner_cost.sum())


@dataclass(frozen=True, eq=False)
class CampaignOutcome:
    """Kernel output for a batch of trials (simulated accounts, not yet scaled).

    ``totals[t, j]`` has columns :data:`sim.campaign.kernel.TOTALS`; ``series[t, d, j]``
    :data:`~sim.campaign.kernel.SERIES`; ``partners[t, p, j]``
    :data:`~sim.campaign.kernel.PARTNER`; ``segments[t, s, j]`` :data:`~sim.campaign.kernel.SEGMENT`.
    """

    trials: np.ndarray
    totals: np.ndarray
    series: np.ndarray
    partners: np.ndarray
    segments: np.ndarray


#: Draw keys of scheduled posts have the top bit set: re-share ids (``RESHARE_ID_BASE + u``,
#: below 2**41) never collide with them.
_SCHEDULED_DRAW = np.uint64(1) << np.uint64(63)


def post_draw_key(account: np.ndarray, day: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Keys of scheduled posts' random numbers: ``2**63 | account << 32 | day << 8 | rank``.

    A post is named by what it is, not by where it sits in a strategy's schedule: account
    ``account`` posting for the ``rank``-th time on day ``day``. Two strategies that both
    have a creator post on a day therefore draw the same exposures, engagements and
    discovery for that post (common random numbers), whatever else they schedule.

    Parameters
    ----------
    account : int array
        Posting account, in [0, 2**31).
    day : int array
        Day of the post, in [0, 2**24).
    rank : int array
        How many posts the account made earlier that day in this schedule, in [0, 256).
    """
    account, day, rank = (np.asarray(a, dtype=np.uint64) for a in (account, day, rank))
    if account.size and (account.max() >= 2**31 or day.max() >= 2**24 or rank.max() >= 2**8):
        raise ValueError("post draw keys hold accounts < 2**31, days < 2**24 and < 256 posts per account and day")
    return _SCHEDULED_DRAW | (account << np.uint64(32)) | (day << np.uint64(8)) | rank


def _day_ranks(day: np.ndarray, account: np.ndarray) -> np.ndarray:
    """For each post (sorted by day), how many posts its account made earlier that day."""
    rank = np.zeros(len(day), dtype=np.int64)
    seen: dict[tuple[int, int], int] = {}
    for i, key in enumerate(zip(day.tolist(), account.tolist(), strict=True)):
        rank[i] = seen.get(key, 0)
        seen[key] = rank[i] + 1
    return rank


def _powers(base: float, upto: int) -> np.ndarray:
    return base ** np.arange(upto + 1, dtype=np.float64)


def alignment_factor(alignment: np.ndarray, weight: float) -> np.ndarray:
    """Match-up multiplier of a creator's doses (§7.5): ``1 + weight (2 A - 1)``, 1 at average fit A = 1/2."""
    return 1.0 + weight * (2.0 * np.asarray(alignment, dtype=np.float64) - 1.0)


def repetition_weights(peak: float | None, upto: int) -> np.ndarray:
    """Weight of the ``n``-th exposure (from 0) on one edge, ``n = 0 .. upto - 1`` (§7.5).

    With ``peak`` P, ``(2P - 2n - 1) / (2P - 1)``: the first exposure weighs 1, and the sum over
    the first N exposures, ``N (2P - N) / (2P - 1)``, is an inverted U in N with its top at N = P
    (Montoya et al. 2017's linear-plus-negative-quadratic attitude curve, its peak where Schmidt &
    Eisend 2015 put it, ~10 exposures); later exposures lower the attitude. None: all 1.
    """
    n = np.arange(max(upto, 1), dtype=np.float64)
    if peak is None:
        return np.ones(len(n))
    return (2.0 * peak - 2.0 * n - 1.0) / (2.0 * peak - 1.0)


def compile_world(pop: Population, world: CreatorAudienceWorld, model: CampaignModel, days: int,
                  max_daily_posts: int) -> CampaignWorldArrays:
    """Lay the model's parameters onto the population's edges and accounts."""
    g = pop.graph
    n = g.n
    is_creator = np.arange(n) >= pop.n_audience
    creator = np.where(is_creator, np.arange(n) - pop.n_audience, 0)
    tier_specs = [world.tiers[t] for t in pop.tiers]
    plat_specs = [world.platforms[p] for p in pop.platforms]
    levels = creator_levels(pop, world)
    t_reach = np.array([t.reach for t in tier_specs])
    p_reach = np.array([p.organic_reach for p in plat_specs])
    ctier = pop.creator_tier[creator] if pop.n_creators else np.zeros(n, np.int8)
    cplat = pop.creator_platform[creator] if pop.n_creators else np.zeros(n, np.int8)
    c_trust = levels.trust[creator] if pop.n_creators else np.zeros(n)
    c_eng = levels.exposure_engagement[creator] if pop.n_creators else np.zeros(n)
    reach = np.where(is_creator, np.minimum(1.0, p_reach[cplat] * t_reach[ctier]), model.peer_reach)
    trust0 = np.where(is_creator, c_trust, model.peer_trust)
    # One engagement per creator (its tier's level spread by the dispersion, times the platform's
    # multipliers; or its roster rate made per exposure): sim.world.levels.creator_levels.
    engagement = np.where(is_creator, c_eng, model.peer_engagement)

    interest = np.zeros(n)
    interest[: pop.n_audience] = pop.interest
    th = model.threshold
    threshold_scale = DOSE_UNIT * th.max * (1.0 - th.interest_effect * interest)
    eligible = np.zeros(n, dtype=bool)
    eligible[: pop.n_audience] = True
    segment = np.zeros(n, dtype=np.int16)
    segment[: pop.n_audience] = pop.segment

    shock = np.ones((len(pop.platforms) + 1, days))
    for k, p in enumerate(plat_specs):
        if p.shock is not None and p.shock.day < days:
            shock[k, p.shock.day:] = p.shock.reach_factor
    members = [pop.members(k) for k in range(len(pop.platforms))]
    plat_ptr = np.zeros(len(members) + 1, dtype=np.int64)
    np.cumsum([len(m) for m in members], out=plat_ptr[1:])
    plat_members = np.concatenate(members).astype(np.int32) if members else np.zeros(0, np.int32)
    src = model.sources
    cap = int(src.cap)
    synergy = np.ones(cap + 1)
    synergy[1:] = np.arange(1, cap + 1, dtype=np.float64) ** src.synergy
    return CampaignWorldArrays(
        channel=pop.account_channel(), reach=reach, trust0=trust0, engagement=engagement,
        threshold_scale=threshold_scale,
        eligible=eligible, segment=segment, shock=shock,
        decay=_powers(1.0 - model.conviction_decay, days), recovery=_powers(1.0 - model.fatigue_recovery, days),
        growth=_powers(1.0 - model.trust_growth, max_daily_posts), wear=_powers(1.0 - model.fatigue, max_daily_posts),
        plat_ptr=plat_ptr, plat_members=plat_members, ceiling=model.trust_ceiling, reshare=model.reshare,
        reshare_factor=model.message_strength, mode=ck.INDEPENDENT_MODE if model.adoption == "independent"
        else ck.THRESHOLD_MODE, rate=model.conversion_rate, dose_unit=DOSE_UNIT, days=days,
        # P(act | engaged) = P(click | engaged) * P(act | clicked); 1.0 * a == a exactly, so the
        # default click_share = 1 leaves every earlier result bit for bit.
        act=model.click_share * model.action_on_engagement, click=model.click_share,
        # A partner posts at most max_daily_posts a day: no edge has more exposures in a trial.
        repetition=repetition_weights(model.repetition_peak, days * max_daily_posts),
        synergy=synergy, sources_cap=cap, sources_on=src.synergy != 0.0 and cap > 1,
        repetition_on=model.repetition_peak is not None, n_audience=pop.n_audience)


def partner_pool(pop: Population, group: PostGroup, seed: int, taken: set[int]) -> np.ndarray:
    """Creator numbers a post group may choose from, in the order its ``select`` rule takes them.

    ``random`` orders the tier's creators on the platform by a permutation keyed by (seed,
    PARTNERS, tier, platform), so strategies asking for 5 and for 10 random micro creators on
    one platform get nested sets (common random numbers); ``top_followers`` and
    ``most_aligned`` sort, ties to the lower number; ``greedy`` keeps creator order (the
    greedy choice decides). Creators already ``taken`` by the strategy are left out.
    """
    t = pop.tiers.index(group.tier)
    k = pop.platforms.index(group.platform)
    pool = np.flatnonzero((pop.creator_tier == t) & (pop.creator_platform == k))
    if group.select == "random":
        pool = numpy_generator(seed, Stream.PARTNERS, t, k).permutation(pool)
    elif group.select == "top_followers":
        pool = pool[np.argsort(-pop.followers_real[pool], kind="stable")]
    elif group.select == "most_aligned":
        pool = pool[np.argsort(-pop.alignment[pool], kind="stable")]
    return np.array([c for c in pool if c not in taken], dtype=np.int64)


@dataclass(frozen=True)
class PartnerPrice:
    """What one partner of a post group costs, in USD.

    Attributes
    ----------
    per_post : float
        Rate-card price of one post (0 for unpaid posts).
    posts : int
        Posts per partner.
    partnership : float
        Fixed cost per partner (finding, vetting, contracting, managing: ``partnership_cost``).
    """

    per_post: float
    posts: int
    partnership: float

    @property
    def total(self) -> float:
        """Posts x price + partnership cost."""
        return self.per_post * self.posts + self.partnership

    def describe(self) -> str:
        """E.g. ``$1,400 (4 posts x $300 + $200 partnership)``."""
        fee = f" + ${self.partnership:,.0f} partnership" if self.partnership else ""
        return f"${self.total:,.0f} ({self.posts} post{'s' if self.posts > 1 else ''} x ${self.per_post:,.0f}{fee})"


def partner_price(group: PostGroup, rate_card: dict | None, partnership_cost: dict) -> PartnerPrice:
    """The price of one partner of ``group`` under a rate card and partnership costs."""
    per_post = float(rate_card[group.platform][group.tier]) if group.paid else 0.0
    return PartnerPrice(per_post, len(group.post_days()), float(partnership_cost.get(group.tier, 0.0)))


def partners_wanted(group: PostGroup, price: PartnerPrice, available: int, strategy: str,
                    cap: int | None = None) -> int:
    """How many partners a group asks for: ``creators``, or as many as ``budget`` buys, at most ``cap``
    (what the strategy's ``max_partners`` leaves for this group).

    Raises
    ------
    ValueError
        If a positive budget buys no partner, or the group asks for (or its budget buys) more
        creators than the world has left for it; the message says which and by how much.
    """
    where = f"{group.tier} creators on {group.platform}"
    if group.creators is not None:
        n = group.creators
        if cap is not None and n > cap:
            raise ValueError(f"strategy {strategy}: {n} {where} asked for, but max_partners leaves room for {cap} "
                             "after the strategy's earlier groups")
        if n > available:
            raise ValueError(f"strategy {strategy}: {n} {where} asked for, but the world has {available} "
                             "(not already partners of this strategy)")
        return n
    if group.budget == 0:
        return 0
    # A budget that is an exact multiple of the price buys that many (not one fewer to rounding).
    n = int(np.floor(group.budget / price.total * (1 + 1e-12)))
    if n == 0:
        raise ValueError(f"strategy {strategy}: a budget of ${group.budget:,.0f} buys no partner: one of the "
                         f"{where} costs {price.describe()}")
    if cap is not None:
        n = min(n, cap)
    if n > available:
        raise ValueError(f"strategy {strategy}: a budget of ${group.budget:,.0f} buys {n} partners among the "
                         f"{where} at {price.describe()} each, but the world has {available} (not already "
                         "partners of this strategy): lower the budget or add creators to the world")
    return n


def _assemble(pop: Population, world: CreatorAudienceWorld, model: CampaignModel,
              groups: list[tuple[PostGroup, PartnerPrice, np.ndarray]],
              levels: CreatorLevels | None = None) -> Schedule:
    """The schedule of partners chosen for each group: every post's day, account and factors.

    ``levels``: the creators' trust, authenticity and engagement (computed when not given).
    """
    if levels is None:
        levels = creator_levels(pop, world)
    align = alignment_factor(pop.alignment, model.alignment_weight)
    followers_sim = pop.followers_sim  # once: the property differences the whole graph's offsets
    partners, ppost, pcost, pfee = [], [], [], []
    rows = []  # (day, partner index, account, channel, factor, n_disc, d_eng, d_trust, n_press, p_eng, p_trust)
    for group, price, chosen, *own in groups:
        costs = own[0] if own else None  # a roster's per-creator costs
        days = group.post_days()
        tier = world.tiers[group.tier]
        plat = world.platforms[group.platform]
        k = pop.platforms.index(group.platform)
        base = model.message_strength * (1.0 - model.dilution * group.variant_distance)
        press = tier.press
        n_press = int(round(press.reach * pop.n_audience)) if press is not None else 0
        p_eng = press.engagement if press is not None else 0.0
        p_trust = press.trust if press is not None else 0.0
        for i, c in enumerate(chosen):
            # The creator's own levels (its tier's spread by the world's dispersion, or its roster
            # rate), engagement on its platform, and fit.
            factor = base
            if group.paid:
                factor = factor * levels.authenticity[c]
            factor = factor * align[c]
            trust0 = levels.trust[c]
            eng = levels.exposure_engagement[c]
            d_eng = min(1.0, eng * model.stranger_trust / trust0) if trust0 > 0 else eng
            p = len(partners)
            partners.append(int(c))
            ppost.append(len(days))
            pcost.append(price.total if costs is None else float(costs[i]))
            pfee.append(price.partnership)
            account = pop.creator_account(int(c))
            followers = int(followers_sim[c])
            for d in days:
                shock = plat.shock.reach_factor if plat.shock is not None and d >= plat.shock.day else 1.0
                n_disc = int(round(plat.discovery * followers * shock))
                rows.append((d, p, account, k, float(factor), n_disc, float(d_eng), model.stranger_trust,
                             n_press, p_eng, p_trust))
    rows.sort(key=lambda r: (r[0], r[1]))
    cols = list(zip(*rows, strict=True)) if rows else [[] for _ in range(11)]
    day = np.array(cols[0], dtype=np.int32)
    account = np.array(cols[2], dtype=np.int32)
    return Schedule(
        partner_creator=np.array(partners, dtype=np.int64),
        partner_posts=np.array(ppost, dtype=np.int64),
        partner_cost=np.array(pcost, dtype=np.float64),
        partner_fee=np.array(pfee, dtype=np.float64),
        day=day,
        partner=np.array(cols[1], dtype=np.int32),
        account=account,
        channel=np.array(cols[3], dtype=np.int8),
        factor=np.array(cols[4], dtype=np.float64),
        n_discovery=np.array(cols[5], dtype=np.int64),
        discovery_engagement=np.array(cols[6], dtype=np.float64),
        discovery_trust=np.array(cols[7], dtype=np.float64),
        draw=post_draw_key(account, day, _day_ranks(day, account)),
        n_press=np.array(cols[8], dtype=np.int64),
        press_engagement=np.array(cols[9], dtype=np.float64),
        press_trust=np.array(cols[10], dtype=np.float64),
    )


def selection_root(seed: int) -> np.uint64:
    """Root key of the trials ``select: greedy`` estimates adopters on (stream ``SELECTION``).

    Independent of the run's own trials: a selection tuned to the very random numbers it is
    then scored on would look better than it is (the optimiser's curse).
    """
    return derive(root_key(seed), np.uint64(int(Stream.SELECTION)))


def _greedy_partners(pop: Population, world: CreatorAudienceWorld, model: CampaignModel,
                     arrays: CampaignWorldArrays, before: list, group: PostGroup, price: PartnerPrice,
                     pool: np.ndarray, n: int, seed: int, levels: CreatorLevels) -> np.ndarray:
    """The ``n`` creators of ``pool`` that lazy greedy picks for ``group``, given the partners
    the strategy's earlier groups already chose (``before``)."""
    trials = np.arange(group.greedy_trials, dtype=np.int64)
    root = selection_root(seed)
    adopters = TOTALS.index("adopters")

    def expected_adopters(chosen: tuple[int, ...]) -> float:
        schedule = _assemble(pop, world, model, [*before, (group, price, np.array(chosen, dtype=np.int64))],
                             levels)
        return float(simulate(pop, arrays, schedule, root, trials).totals[:, adopters].mean())

    pick = lazy_greedy([int(c) for c in pool], expected_adopters, k=n, cost=np.full(len(pool), price.total))
    return np.array(pick.chosen, dtype=np.int64)


@dataclass(frozen=True)
class Prices:
    """What partners cost: USD per post by platform then tier (None: no card), and USD per partner
    by tier (finding, vetting, contracting, managing)."""

    rate_card: dict[str, dict[str, float]] | None
    partnership_cost: dict[str, float]


def build_schedule(pop: Population, world: CreatorAudienceWorld, model: CampaignModel, name: str,
                   posts: Sequence[PostGroup], keys: Sequence[tuple], prices: Prices, seed: int,
                   arrays: CampaignWorldArrays | None = None, max_partners: int | None = None) -> Schedule:
    """Partners and posts of one strategy.

    Groups choose in order, each from the creators the earlier groups left. ``arrays`` (the
    compiled world) is needed by groups that ``select: greedy``. In a roster world every creator
    has its own price (:func:`roster_hire`); elsewhere every partner of a group costs the rate
    card's price.

    Parameters
    ----------
    pop : Population
    world, model
        The scenario's world and model blocks.
    name : str
        The strategy's name (in messages).
    posts : sequence of PostGroup
        The strategy's post groups.
    keys : sequence of tuple
        Key path of each group in the scenario, where a group that does not fit is reported.
    prices : Prices
        Rate card and partnership costs (a roster's creators bring their own price per post).
    seed : int
        The run's root seed (partners are drawn from it).
    arrays : CampaignWorldArrays, optional
    max_partners : int, optional
        The most partners the strategy hires over all its groups (earlier groups first).

    Raises
    ------
    CampaignError
        If a group asks for, or its budget buys, more creators than the world has, or a
        positive budget buys nobody; the key names the group.
    """
    taken: set[int] = set()
    groups: list[tuple[PostGroup, PartnerPrice, np.ndarray]] = []
    levels = creator_levels(pop, world)
    for group, key in zip(posts, keys, strict=True):
        price = partner_price(group, prices.rate_card, prices.partnership_cost) if pop.price_per_post is None \
            else PartnerPrice(math.nan, len(group.post_days()), float(prices.partnership_cost.get(group.tier, 0.0)))
        pool = partner_pool(pop, group, seed, taken)
        cap = None if max_partners is None else max_partners - len(taken)
        if pop.price_per_post is not None:  # a roster: every creator has its own price
            costs = roster_costs(pop, group, prices.partnership_cost, pool)
            try:
                chosen = roster_hire(pop, world, model, arrays, groups, group, price, pool, costs, cap, seed, name,
                                     levels)
            except ValueError as exc:
                raise CampaignError(key, str(exc)) from None
            taken.update(int(c) for c in chosen)
            position = {int(c): i for i, c in enumerate(pool)}
            groups.append((group, price, chosen, costs[[position[int(c)] for c in chosen]]))
            continue
        try:
            n = partners_wanted(group, price, len(pool), name, cap)
        except ValueError as exc:
            raise CampaignError(key, str(exc)) from None
        if group.select == "greedy" and n > 0:
            if arrays is None:
                raise ValueError("select: greedy needs the compiled world arrays")
            chosen = _greedy_partners(pop, world, model, arrays, groups, group, price, pool, n, seed, levels)
        else:
            chosen = pool[:n]
        taken.update(int(c) for c in chosen)
        groups.append((group, price, chosen))
    return _assemble(pop, world, model, groups, levels)


def roster_costs(pop: Population, group: PostGroup, partnership_cost: dict, pool: np.ndarray) -> np.ndarray:
    """A roster's cost of each creator of ``pool`` as a partner of ``group``: its own price per post x
    posts (0 for unpaid posts) + the tier's partnership cost (USD)."""
    posts = len(group.post_days()) if group.paid else 0
    return pop.price_per_post[pool] * posts + float(partnership_cost.get(group.tier, 0.0))


def roster_hire(pop: Population, world: CreatorAudienceWorld, model: CampaignModel, arrays, before: list,
                group: PostGroup, price: PartnerPrice, pool: np.ndarray, costs: np.ndarray, cap: int | None,
                seed: int, strategy: str, levels: CreatorLevels | None = None) -> np.ndarray:
    """Roster creators a group hires: ``creators`` in ``select`` order, or, with a ``budget``, every
    creator in ``select`` order whose cost still fits what is left (``greedy``: lazy greedy on expected
    adopters per dollar within the budget), at most ``cap`` in all.

    Raises
    ------
    ValueError
        If the group asks for more creators than the roster has left, or a positive budget buys nobody.
    """
    where = f"{group.tier} creators on {group.platform}"
    if group.creators is not None:
        if cap is not None and group.creators > cap:
            raise ValueError(f"strategy {strategy}: {group.creators} {where} asked for, but max_partners leaves "
                             f"room for {cap} after the strategy's earlier groups")
        if group.creators > len(pool):
            raise ValueError(f"strategy {strategy}: {group.creators} {where} asked for, but the roster has "
                             f"{len(pool)} (not already partners of this strategy)")
        n, budget = group.creators, None
    else:
        n, budget = len(pool) if cap is None else min(cap, len(pool)), group.budget
        if budget == 0 or n == 0:
            return np.zeros(0, dtype=np.int64)
    if group.select == "greedy":
        trials = np.arange(group.greedy_trials, dtype=np.int64)
        root = selection_root(seed)
        adopters = TOTALS.index("adopters")
        position = {int(c): i for i, c in enumerate(pool)}

        def expected_adopters(chosen: tuple[int, ...]) -> float:
            picked = np.array(chosen, dtype=np.int64)
            schedule = _assemble(pop, world, model, [*before, (group, price, picked,
                                                               costs[[position[c] for c in chosen]])], levels)
            return float(simulate(pop, arrays, schedule, root, trials).totals[:, adopters].mean())

        pick = lazy_greedy([int(c) for c in pool], expected_adopters, k=n,
                           budget=None if budget is None else budget * (1 + 1e-12),
                           cost=np.maximum(costs, 1e-9) if budget is not None else None)
        chosen = np.array(pick.chosen, dtype=np.int64)
    elif budget is None:
        chosen = pool[:n]
    else:
        keep, spent = [], 0.0
        for c, cost in zip(pool, costs, strict=True):
            if len(keep) == n:
                break
            if spent + cost <= budget * (1 + 1e-12):
                keep.append(int(c))
                spent += cost
        chosen = np.array(keep, dtype=np.int64)
    if budget is not None and budget > 0 and len(chosen) == 0:
        cheapest = f"${costs.min():,.0f}" if len(costs) else "nothing: there is none left"
        raise ValueError(f"strategy {strategy}: a budget of ${budget:,.0f} buys no partner: the cheapest of the "
                         f"{where} in the roster costs {cheapest}")
    return chosen


def max_daily_posts(strategies: Iterable[Sequence[PostGroup]]) -> int:
    """Most posts one partner makes on one day in any strategy (>= 1): sizes the power tables.

    ``strategies``: every strategy's post groups."""
    most = 1
    for posts in strategies:
        for g in posts:
            most = max(most, max(collections.Counter(g.post_days()).values()))
    return most


def world_record(pop: Population, arrays: CampaignWorldArrays) -> ck.KernelWorld:
    """The kernel's view of the population and the compiled world (checked field by field).

    Raises
    ------
    sim.kernel_records.RecordError
        If an array has the wrong dtype or a size that disagrees with the graph's.
    """
    g, a = pop.graph, arrays
    return build(ck.KernelWorld, indptr=g.indptr, indices=g.indices, channel=a.channel, reach=a.reach,
                 trust0=a.trust0, engagement=a.engagement, eligible=a.eligible, threshold_scale=a.threshold_scale,
                 segment=a.segment, plat_ptr=a.plat_ptr, plat_members=a.plat_members, n_segments=len(pop.segments),
                 n_audience=a.n_audience)


def posts_record(schedule: Schedule) -> ck.KernelPosts:
    """The kernel's view of one strategy's posts (checked field by field)."""
    s = schedule
    return build(ck.KernelPosts, day=s.day, account=s.account, channel=s.channel, partner=s.partner,
                 factor=s.factor, n_discovery=s.n_discovery, discovery_engagement=s.discovery_engagement,
                 discovery_trust=s.discovery_trust, draw=s.draw, n_press=s.n_press,
                 press_engagement=s.press_engagement, press_trust=s.press_trust, n_partners=len(s.partner_creator))


def params_record(arrays: CampaignWorldArrays) -> ck.KernelParams:
    """The kernel's view of the model's tables and scalars (checked field by field)."""
    a = arrays
    return build(ck.KernelParams, shock=a.shock, decay=a.decay, recovery=a.recovery, growth=a.growth, wear=a.wear,
                 ceiling=a.ceiling, reshare=a.reshare, reshare_factor=a.reshare_factor, mode=a.mode, rate=a.rate,
                 dose_unit=a.dose_unit, days=a.days, act=a.act, click=a.click, repetition=a.repetition,
                 synergy=a.synergy, sources_cap=a.sources_cap, sources_on=a.sources_on, repetition_on=a.repetition_on)


def kernel_records(pop: Population, arrays: CampaignWorldArrays,
                   schedule: Schedule) -> tuple[ck.KernelWorld, ck.KernelPosts, ck.KernelParams]:
    """The three records every campaign kernel function takes, in its order (world, posts, parameters).

    Built once per population, compiled world and schedule (:func:`sim.kernel_records.memo`):
    the runner calls the kernel chunk after chunk on the same objects.
    """
    return memo(world_record, pop, arrays), memo(posts_record, schedule), memo(params_record, arrays)


def simulate(pop: Population, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64,
             trials: np.ndarray) -> CampaignOutcome:
    """Run campaign trials on the numba kernel."""
    trials = np.ascontiguousarray(trials, dtype=np.int64)
    totals, series, partners, segments = ck.campaign_trials(*kernel_records(pop, arrays, schedule),
                                                            np.uint64(root), trials)
    return CampaignOutcome(trials, totals, series, partners, segments)


def _one_trial(pop: Population, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64, trial: int):
    """:func:`sim.campaign.kernel.campaign_adoption_days` of one trial."""
    return ck.campaign_adoption_days(*kernel_records(pop, arrays, schedule), np.uint64(root), np.int64(trial))


def adoption_days(pop: Population, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64,
                  trial: int) -> tuple[np.ndarray, np.ndarray]:
    """One trial: adoption day of every account (-1 = never) and the totals row."""
    days, totals, *_ = _one_trial(pop, arrays, schedule, root, trial)
    return days, totals


def funnel_days(pop: Population, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64,
                trial: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One trial's funnel per account: adoption day, first engagement day (both int32[n], -1 = never)
    and the totals row. An adopter engaged before adopting iff ``0 <= engaged <= adopted``."""
    days, totals, _, _, _, engaged = _one_trial(pop, arrays, schedule, root, trial)
    return days, engaged, totals


@dataclass(frozen=True, eq=False)
class CascadeTree:
    """Who activated whom in one trial, one row per adopter, in adoption order.

    Attributes
    ----------
    account, day : int arrays
        The adopter and its adoption day.
    parent : int32 array
        Account whose post the adoption is attributed to (a partner creator, or a re-sharing
        peer): the post that gave the largest dose on the adoption day.
    post : int64 array
        That post's id (scheduled post index, or ``RESHARE_ID_BASE + parent``).
    partner : int32 array
        Partner at the root of the chain (index into the strategy's partners).
    generation : int32 array
        1 for a partner's own post, parent's generation + 1 for a re-share.
    """

    account: np.ndarray
    day: np.ndarray
    parent: np.ndarray
    post: np.ndarray
    partner: np.ndarray
    generation: np.ndarray


def tree_from_posts(schedule: Schedule, adopters: np.ndarray, days: np.ndarray, posts: np.ndarray) -> CascadeTree:
    """Build the cascade tree from adopters and their attributed posts; rows sorted by (day, account)."""
    order = np.lexsort((adopters, days))
    adopters, days, posts = np.asarray(adopters)[order], np.asarray(days)[order], np.asarray(posts)[order]
    n_sched = len(schedule.day)
    scheduled = posts < ck.RESHARE_ID_BASE
    parent = np.where(scheduled, schedule.account[np.minimum(posts, max(n_sched - 1, 0))] if n_sched else -1,
                      posts - ck.RESHARE_ID_BASE).astype(np.int32)
    index = {int(a): i for i, a in enumerate(adopters)}
    partner = np.empty(len(adopters), np.int32)
    generation = np.empty(len(adopters), np.int32)
    for i in range(len(adopters)):  # a re-sharer adopted on an earlier day: already filled in
        if scheduled[i]:
            partner[i] = schedule.partner[posts[i]]
            generation[i] = 1
        else:
            j = index[int(parent[i])]
            partner[i] = partner[j]
            generation[i] = generation[j] + 1
    return CascadeTree(np.asarray(adopters, np.int32), np.asarray(days, np.int32), parent,
                       np.asarray(posts, np.int64), partner, generation)


def cascade_tree(pop: Population, arrays: CampaignWorldArrays, schedule: Schedule, root: np.uint64,
                 trial: int) -> CascadeTree:
    """Who activated whom, when and through which post, in one trial (numba kernel)."""
    _, _, adopters, days, posts, _ = _one_trial(pop, arrays, schedule, root, trial)
    return tree_from_posts(schedule, adopters, days, posts)
