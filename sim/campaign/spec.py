"""Scenario blocks of the campaign model: its parameters and a strategy's post groups.

Compiled by :mod:`sim.campaign.model`, run by :mod:`sim.campaign.kernel`; every rule and
its source is in ``docs/model.md``.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from sim.input.schema import ModelBlock, NonNegative, PositiveInt, Probability, Spec
from sim.world.spec import CreatorAudienceWorld, TierName

if TYPE_CHECKING:
    from sim.input.scenario import Scenario

#: Per-trial outcome columns of a campaign run, in order (docs/model.md §9.1).
CAMPAIGN_OUTCOMES = (
    "reach", "impressions", "engagements", "engagers", "adopted", "adopters_direct", "adopters_reshare",
    "adopters_engaged", "adopters_unengaged", "clickers", "adopters_clicked", "reshares", "discovery_impressions",
    "press_impressions", "depth", "reach_fraction", "adopted_fraction", "engagement_rate", "action_rate_engaged",
    "click_rate_reached", "action_rate_clicked", "action_rate_reached", "cost", "cost_per_engagement",
    "cost_per_adopter",
)


class ThresholdSpec(Spec):
    """Adoption thresholds: ``max * U(0, 1) * (1 - interest_effect * interest)`` per account and trial."""

    max: Annotated[float, Field(gt=0.0)] = 1.0
    interest_effect: Probability = 0.5


class SourcesSpec(Spec):
    """How doses from several distinct sources combine (the multiple-source effect; docs/model.md §7.7a).

    An account's conviction is weighed by ``min(k, cap) ** synergy`` at the adoption test, ``k``
    being the distinct accounts (partners, re-sharing peers) whose posts have reached it in the
    trial: 0 adds doses (the old rule); above 0 several sources reinforce each other (Harkins &
    Petty 1981 for strong arguments; Centola 2010's hazard rising to the 3rd source); below 0 they
    are sub-additive (Harkins & Petty 1981 for weak arguments). Threshold adoption only.
    """

    synergy: Annotated[float, Field(ge=-1.0, le=3.0)] = 0.0
    cap: Annotated[int, Field(ge=1, le=8)] = 3


class CampaignModel(ModelBlock):
    """The campaign model (docs/model.md): exposure, engagement, persuasion doses, adoption, re-sharing.

    Every rule and its source is in docs/model.md; units are per exposure or per day.
    """

    family: ClassVar[str] = "campaign"
    outcomes: ClassVar[tuple[str, ...]] = CAMPAIGN_OUTCOMES
    plan_key: ClassVar[str] = "posts"

    kind: Literal["campaign"]
    adoption: Literal["threshold", "independent"] = "threshold"
    threshold: ThresholdSpec = ThresholdSpec()
    conversion_rate: Annotated[float, Field(gt=0.0)] = 1.0
    message_strength: Annotated[float, Field(gt=0.0)] = 1.0
    dilution: Probability = 0.0
    conviction_decay: Probability = 0.0
    trust_growth: Probability = 0.0
    trust_ceiling: Probability = 1.0
    fatigue: Probability = 0.0
    fatigue_recovery: Probability = 0.0
    reshare: Probability = 0.0
    peer_reach: Probability = 1.0
    peer_trust: Probability = 0.5
    peer_engagement: Probability = 0.05
    stranger_trust: Probability = 0.1
    #: Match-up: a creator's doses are multiplied by 1 + alignment_weight * (2 * alignment - 1).
    alignment_weight: Probability = 0.2
    #: Share of engagements that are a click through the post's call to action to the action page
    #: (docs/model.md §7.7c); 1: every engagement is a click (the model before the click stage).
    click_share: Probability = 1.0
    #: Share of clicks that are the advocacy action itself, P(act | clicked); with click_share 1,
    #: P(act | engaged). P(act | engaged) = click_share * action_on_engagement.
    action_on_engagement: Probability = 0.0
    sources: SourcesSpec = SourcesSpec()
    #: Exposures from one creator at which the attitude they build peaks (null: no peak).
    repetition_peak: Annotated[float, Field(ge=1.0)] | None = 10.0

    @model_validator(mode="after")
    def _sources_need_thresholds(self) -> CampaignModel:
        if self.sources.synergy != 0.0 and self.adoption == "independent":
            raise ValueError("sources.synergy weighs accumulated conviction, which independent adoption does not "
                             "have (each exposure converts on its own, docs/model.md §8.4): use adoption: threshold, "
                             "or synergy 0")
        return self

    def check_scenario(self, scenario: Scenario) -> None:
        """A creator-audience world, strategies of posts (listed or a grid) whose tiers, platforms,
        days and prices the scenario has, budgets that buy partners who cost something, and an
        ``optimize`` block (:mod:`sim.optimize.spec`) that fits the world and prices (:func:`check_optimize`)."""
        world = scenario.world
        if not isinstance(world, CreatorAudienceWorld):
            raise ValueError("the campaign model needs a creator_audience world, and a creator_audience "
                             "world needs the campaign model")
        if (scenario.strategies is None and scenario.strategy_grid is None) or any(
                s.posts is None for s in scenario.strategies or ()):
            raise ValueError("the campaign model needs 'strategies' whose entries have 'posts', or a 'strategy_grid'")
        card = scenario.rate_card
        for s in scenario.strategy_list:
            for g in s.posts or ():
                if g.tier not in world.tiers:
                    raise ValueError(f"strategy {s.name}: tier '{g.tier}' is not in world.tiers "
                                     f"({', '.join(world.tiers)})")
                if g.platform not in world.platforms:
                    raise ValueError(f"strategy {s.name}: platform '{g.platform}' is not in world.platforms "
                                     f"({', '.join(world.platforms)})")
                if g.last_day() >= scenario.days:
                    raise ValueError(f"strategy {s.name}: a post on day {g.last_day()} is beyond the "
                                     f"horizon (days: {scenario.days})")
                if world.creators is not None:
                    continue  # a roster: every creator has its own price
                if g.paid and (card is None or g.tier not in card.get(g.platform, {})):
                    raise ValueError(f"strategy {s.name}: rate_card has no price for {g.tier} posts on "
                                     f"{g.platform}")
                price = card[g.platform][g.tier] if g.paid and card is not None else 0.0
                if g.budget is not None and price == 0 and scenario.partnership_cost.get(g.tier, 0.0) == 0:
                    raise ValueError(f"strategy {s.name}: a budget buys partners that cost something; {g.tier} "
                                     f"partners on {g.platform} cost nothing here (no price, no partnership_cost): "
                                     "give 'creators' instead")
        if scenario.optimize is not None:
            check_optimize(scenario)


def check_optimize(scenario: Scenario) -> None:
    """Checks of an ``optimize`` block that need the rest of the scenario (world, rate card, grid).

    Raises
    ------
    ValueError
        Naming the key and what is allowed.
    """
    spec = scenario.optimize
    world = scenario.world
    if spec.budget is None and scenario.budget is None:
        raise ValueError("optimize: give 'budget' (USD a plan may spend) here or at the top level")
    if spec.schedules is None and scenario.strategy_grid is None:
        raise ValueError("optimize: give 'schedules' (when partners post), or a strategy_grid whose schedules "
                         "it takes")
    for cell in spec.cells or ():
        tier, platform = cell.split(".")
        if tier not in world.tiers:
            raise ValueError(f"optimize.cells: tier '{tier}' is not in world.tiers ({', '.join(world.tiers)})")
        if platform not in world.platforms:
            raise ValueError(f"optimize.cells: platform '{platform}' is not in world.platforms "
                             f"({', '.join(world.platforms)})")
        if world.creators is None and (
                scenario.rate_card is None or tier not in scenario.rate_card.get(platform, {})):
            raise ValueError(f"optimize.cells: rate_card has no price for {tier} posts on {platform}")
    schedules = spec.schedules or scenario.strategy_grid.schedules
    for name, sched in schedules.items():
        days = sched.days if sched.days is not None else sched.schedule.days()
        if max(days) >= scenario.days:
            raise ValueError(f"optimize.schedules.{name}: a post on day {max(days)} is beyond the horizon "
                             f"(days: {scenario.days})")


#: Limits of the keys scheduled posts draw their random numbers with
#: (:func:`sim.campaign.model.post_draw_key`): days below 2**24, fewer than 256 posts of one
#: account on one day. Scenarios beyond them are refused when they are read.
MAX_DAYS = 2**24
MAX_POSTS_PER_DAY = 255


class ScheduleSpec(Spec):
    """Posting days: ``count`` posts, one every ``every`` days from ``start``."""

    start: Annotated[int, Field(ge=0)] = 0
    every: PositiveInt = 7
    count: PositiveInt = 1

    def days(self) -> list[int]:
        """The posting days."""
        return [self.start + i * self.every for i in range(self.count)]

    def last_day(self) -> int:
        """The last posting day, without listing the others (``count`` may be absurdly large)."""
        return self.start + (self.count - 1) * self.every


class PostGroup(Spec):
    """Partners of one tier on one platform, and when they post.

    Give the partners as ``creators`` (how many) or ``budget`` (USD: as many partners as it
    pays for, each costing its posts at the rate card plus the scenario's ``partnership_cost``
    of its tier; a budget of 0 buys nobody, a positive budget that buys nobody is an error).
    ``select`` picks them:

    * ``random``: a random order, the same for every strategy (common random numbers);
    * ``top_followers``, ``most_aligned``: by follower count or alignment with the cause;
    * ``greedy``: one at a time, the creator adding the most expected adopters per dollar,
      estimated with the kernel on ``greedy_trials`` trials of their own (stream ``SELECTION``,
      never the trials results are reported on), by lazy greedy (CELF; Leskovec et al. 2007).

    ``days`` lists posting days, or ``schedule`` spaces them (``{start, every, count}``; 12
    weekly posts = an ambassador). ``variant_distance`` in [0, 1] is how far the message
    variant is from the core message.
    """

    tier: TierName
    platform: str
    creators: Annotated[int, Field(ge=0)] | None = None
    budget: NonNegative | None = None
    select: Literal["random", "top_followers", "most_aligned", "greedy"] = "random"
    greedy_trials: Annotated[int, Field(ge=8, le=4096)] = 64
    days: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)] | None = None
    schedule: ScheduleSpec | None = None
    variant_distance: Probability = 0.0
    paid: bool = True

    @model_validator(mode="after")
    def _one_each(self) -> PostGroup:
        if (self.creators is None) == (self.budget is None):
            raise ValueError("give exactly one of 'creators' or 'budget'")
        if (self.days is None) == (self.schedule is None):
            raise ValueError("give exactly one of 'days' or 'schedule'")
        if self.greedy_trials != 64 and self.select != "greedy":
            raise ValueError("greedy_trials is for select: greedy")
        if self.days is not None:
            day, posts = collections.Counter(self.days).most_common(1)[0]
            if posts > MAX_POSTS_PER_DAY:  # a post's random numbers are keyed by its rank that day
                raise ValueError(f"day {day} is listed {posts} times: a partner posts at most {MAX_POSTS_PER_DAY} "
                                 "times a day")
        return self

    def post_days(self) -> list[int]:
        """Sorted posting days of each partner in the group."""
        return sorted(self.days) if self.days is not None else self.schedule.days()

    def last_day(self) -> int:
        """The last posting day (a schedule's without listing its days)."""
        return max(self.days) if self.days is not None else self.schedule.last_day()
