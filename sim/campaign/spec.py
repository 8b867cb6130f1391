"""Scenario blocks of the campaign model: its parameters and a strategy's post groups.

Compiled by :mod:`sim.campaign.model`, run by :mod:`sim.campaign.kernel`; every rule and
its source is in ``docs/model.md``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.schema import NonNegative, PositiveInt, Probability, Spec
from sim.world.spec import TierName


class ThresholdSpec(Spec):
    """Adoption thresholds: ``max * U(0, 1) * (1 - interest_effect * interest)`` per account and trial."""

    max: Annotated[float, Field(gt=0.0)] = 1.0
    interest_effect: Probability = 0.5


class CampaignModel(Spec):
    """The campaign model (docs/model.md): exposure, engagement, persuasion doses, adoption, re-sharing.

    Every rule and its source is in docs/model.md; units are per exposure or per day.
    """

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


class ScheduleSpec(Spec):
    """Posting days: ``count`` posts, one every ``every`` days from ``start``."""

    start: Annotated[int, Field(ge=0)] = 0
    every: PositiveInt = 7
    count: PositiveInt = 1

    def days(self) -> list[int]:
        """The posting days."""
        return [self.start + i * self.every for i in range(self.count)]


class PostGroup(Spec):
    """Partners of one tier on one platform, and when they post.

    Give the partners as ``creators`` (how many) or ``budget`` (as many as the budget pays
    for at the rate card, for all their posts). ``select`` picks them: ``random``,
    ``top_followers`` or ``most_aligned``. ``days`` lists posting days, or ``schedule``
    spaces them (``{start, every, count}``; 12 weekly posts = an ambassador).
    ``variant_distance`` in [0, 1] is how far the message variant is from the core message.
    """

    tier: TierName
    platform: str
    creators: Annotated[int, Field(ge=0)] | None = None
    budget: NonNegative | None = None
    select: Literal["random", "top_followers", "most_aligned"] = "random"
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
        return self

    def post_days(self) -> list[int]:
        """Sorted posting days of each partner in the group."""
        return sorted(self.days) if self.days is not None else self.schedule.days()
