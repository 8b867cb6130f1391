"""Scenario blocks of the classic cascade models and their recruit rules.

Independent Cascade and Linear Threshold (Kempe, Kleinberg & Tardos 2003), Watts' (2002)
fractional threshold; compiled by :mod:`sim.classic.model`, run by :mod:`sim.classic.kernel`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from sim.input.schema import ModelBlock, PositiveInt, Probability, Spec, number_or
from sim.world.spec import CreatorAudienceWorld

if TYPE_CHECKING:
    from sim.input.scenario import Scenario

#: Per-trial outcome columns of a classic (IC/LT) run.
CLASSIC_OUTCOMES = ("adopted", "adopted_fraction", "steps")


class ClassicModelBlock(ModelBlock):
    """What the classic models share as scenario blocks: a network world, recruits as plans."""

    family: ClassVar[str] = "classic"
    outcomes: ClassVar[tuple[str, ...]] = CLASSIC_OUTCOMES
    plan_key: ClassVar[str] = "recruits"

    def check_scenario(self, scenario: Scenario) -> None:
        """A network world (not creators and an audience), strategies of recruits, and none of the
        campaign's keys."""
        if isinstance(scenario.world, CreatorAudienceWorld):
            raise ValueError("the campaign model needs a creator_audience world, and a creator_audience "
                             "world needs the campaign model")
        if scenario.strategy_grid is not None:
            raise ValueError("strategy_grid spans campaign strategies (budgets, mixes, schedules); "
                             "classic models take 'strategies' with 'recruits'")
        if scenario.strategies and any(s.recruits is None for s in scenario.strategies):
            raise ValueError("classic models need 'recruits' in every strategy")
        if scenario.cascade_trees:
            raise ValueError("cascade_trees are written for the campaign model only")
        if scenario.partnership_cost:
            raise ValueError("partnership_cost is for the campaign model only")
        if scenario.optimize is not None or scenario.budget is not None or scenario.objective != "adopters":
            raise ValueError("objective, budget and optimize are for campaign scenarios (strategies that cost money)")


class IndependentCascade(ClassicModelBlock):
    """Independent Cascade (Kempe, Kleinberg & Tardos 2003).

    ``edge_prob``: a probability for every edge; ``weighted_cascade`` = 1 / in-degree of
    the target; ``edge_weight`` = the weight column of the input file. Parallel edges
    each try once.
    """

    kind: Literal["independent_cascade"]
    edge_prob: float | Literal["weighted_cascade", "edge_weight"]

    @field_validator("edge_prob", mode="plain")
    @classmethod
    def _edge_prob(cls, value: Any) -> Any:
        return number_or(("weighted_cascade", "edge_weight"), 0.0, 1.0)(value)


class LinearThreshold(ClassicModelBlock):
    """Linear Threshold (Kempe et al. 2003), thresholds U(0, 1) redrawn every trial.

    ``weights``: ``in_degree`` = 1 / in-degree of the target (the default, Kempe's
    c_uv / d_v with multiplicity); ``edge_weight`` = the input file's weights; or one
    number for every edge.
    """

    kind: Literal["linear_threshold"]
    weights: float | Literal["in_degree", "edge_weight"] = "in_degree"

    @field_validator("weights", mode="plain")
    @classmethod
    def _weights(cls, value: Any) -> Any:
        return number_or(("in_degree", "edge_weight"), 0.0, 1.0, lo_open=True)(value)


class FractionalThreshold(ClassicModelBlock):
    """Watts (2002) threshold model: adopt when the active fraction of in-neighbours is >= phi."""

    kind: Literal["fractional_threshold"]
    phi: Probability


class FixedThresholds(Spec):
    """Every account has the same threshold ``value``."""

    kind: Literal["fixed"]
    value: float


class UniformThresholds(Spec):
    """Thresholds uniform on [low, high), redrawn every trial."""

    kind: Literal["uniform"]
    low: float = 0.0
    high: float = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> UniformThresholds:
        if not self.high >= self.low:
            raise ValueError(f"need high >= low (low={self.low}, high={self.high})")
        return self


class NormalThresholds(Spec):
    """Normal(mean, sd) thresholds, redrawn every trial (Granovetter 1978's normal case)."""

    kind: Literal["normal"]
    mean: float
    sd: Annotated[float, Field(gt=0.0)]


class SignalThresholds(Spec):
    """Count thresholds from reinforcement: ``adopt[j - 1]`` is the chance of adopting at the
    j-th distinct active in-neighbour, the last value repeating (Centola 2010's hazard h(k)).

    The threshold T of an account is the first j whose chance comes up, so
    P(T = j) = h_j prod_{i<j} (1 - h_i); it is drawn once per account and trial.
    """

    kind: Literal["signals"]
    adopt: Annotated[list[Probability], Field(min_length=1)]


class ListedThresholds(Spec):
    """One fixed threshold per account, in account (index) order: the same in every trial."""

    kind: Literal["listed"]
    values: Annotated[list[float], Field(min_length=1)]


ThresholdLaw = Annotated[FixedThresholds | UniformThresholds | NormalThresholds | SignalThresholds
                         | ListedThresholds, Field(discriminator="kind")]


class GeneralThreshold(ClassicModelBlock):
    """Threshold model with a threshold distribution (Granovetter 1978; Watts 2002; Centola 2010).

    Account v adopts once its active in-neighbours reach its threshold theta_v: as a fraction of
    its in-degree (``units: fraction``, Watts) or as a number of accounts (``units: count``,
    Granovetter's "how many others must act first"; parallel edges count with multiplicity).
    ``thresholds`` is the distribution of theta_v, drawn per account and trial on the
    ``THRESHOLD`` stream. With ``instigators: true`` accounts whose threshold is <= 0 act at
    step 0 without anyone before them (Granovetter's instigators); otherwise only recruits start.
    """

    kind: Literal["threshold"]
    thresholds: ThresholdLaw
    units: Literal["fraction", "count"] = "fraction"
    instigators: bool = False

    @model_validator(mode="after")
    def _counts(self) -> GeneralThreshold:
        if isinstance(self.thresholds, SignalThresholds) and self.units != "count":
            raise ValueError("signal thresholds count active in-neighbours: give units: count")
        return self


ClassicModel = IndependentCascade | LinearThreshold | FractionalThreshold | GeneralThreshold


class RandomRecruits(Spec):
    """Recruits drawn uniformly without replacement, afresh in every trial: ``count`` or ``fraction`` of accounts."""

    rule: Literal["random"]
    count: PositiveInt | None = None
    fraction: Annotated[float, Field(gt=0.0, le=1.0)] | None = None

    @model_validator(mode="after")
    def _one_size(self) -> RandomRecruits:
        if (self.count is None) == (self.fraction is None):
            raise ValueError("give exactly one of 'count' or 'fraction'")
        return self


class TopDegreeRecruits(Spec):
    """The ``count`` accounts with the most followers (out-degree); ties go to the lower index."""

    rule: Literal["top_degree"]
    count: PositiveInt


class ExplicitRecruits(Spec):
    """Named accounts, by their id in the input file."""

    rule: Literal["explicit"]
    nodes: Annotated[list[int | str], Field(min_length=1)]


RecruitSpec = Annotated[RandomRecruits | TopDegreeRecruits | ExplicitRecruits, Field(discriminator="rule")]
