"""Scenario blocks of the classic cascade models and their recruit rules.

Independent Cascade and Linear Threshold (Kempe, Kleinberg & Tardos 2003), Watts' (2002)
fractional threshold; compiled by :mod:`sim.classic.model`, run by :mod:`sim.classic.kernel`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from sim.schema import PositiveInt, Probability, Spec, number_or

#: Per-trial outcome columns of a classic (IC/LT) run.
CLASSIC_OUTCOMES = ("adopted", "adopted_fraction", "steps")


class IndependentCascade(Spec):
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


class LinearThreshold(Spec):
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


class FractionalThreshold(Spec):
    """Watts (2002) threshold model: adopt when the active fraction of in-neighbours is >= phi."""

    kind: Literal["fractional_threshold"]
    phi: Probability


ClassicModel = IndependentCascade | LinearThreshold | FractionalThreshold


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
