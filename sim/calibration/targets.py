"""Calibration targets: published (or claimed) figures, each mapped to a simulated moment.

``calibration/targets.yaml`` lists every target with its definition, value, range, platform,
tier, source, set and role. It is validated strictly (unknown keys, wrong types, a fit target
without a moment or a finite range are errors naming file, line and key) with the project's
YAML loader, and identified by its SHA-256 in every fitted set.

The range is read as a 95% interval: on the target's ``scale`` (``log`` for multiplicative
uncertainty, e.g. engagement rates spanning 1.8-7.2%), the target's standard deviation is
(h(high) - h(low)) / (2 x 1.96), h the identity or the natural logarithm. That is what the
estimator's weight matrix and the parametric bootstrap use.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from sim.base.stats import Z95
from sim.input.errors import InputError
from sim.input.schema import Spec
from sim.input.strict import read_strict
from sim.world.spec import TierName


class TargetSet(StrEnum):
    """Which body of evidence a target belongs to."""

    SOURCE = "source"  #: the source article's figures, exactly as stated
    BENCHMARKS = "benchmarks"  #: independent data (industry reports, peer-reviewed studies)


class Role(StrEnum):
    """What the estimator does with a target."""

    FIT = "fit"  #: matched by the estimator
    HELD_OUT = "held_out"  #: only compared after fitting


class MomentName(StrEnum):
    """Simulated counterparts of targets (definitions in :mod:`sim.calibration.moments`)."""

    ER_FOLLOWER_MEDIAN = "er_follower_median"
    ER_SLOPE = "er_slope"
    ER_RATIO = "er_ratio"
    CASCADE_SIZE = "cascade_size"
    ACTION_RATE_REACHED = "action_rate_reached"
    ACTION_RATE_ENGAGED = "action_rate_engaged"
    ENGAGEMENTS_PER_REACHED = "engagements_per_reached"
    CLICKS_PER_REACHED = "clicks_per_reached"
    ACTION_RATE_CLICKED = "action_rate_clicked"
    COST_PER_ACTION = "cost_per_action"
    ACTION_RATIO = "action_ratio"
    ADOPTERS_PER_FOLLOWER_RATIO = "adopters_per_follower_ratio"
    ABS_ENGAGEMENT_PEAK = "abs_engagement_peak"
    ONE_HOP_SHARE = "one_hop_share"
    WEAROUT_PEAK = "wearout_peak_exposures"


#: Moments that compare two tiers (they need ``versus``).
RATIO_MOMENTS = frozenset({MomentName.ER_RATIO, MomentName.ACTION_RATIO, MomentName.ADOPTERS_PER_FOLLOWER_RATIO})
#: Moments read from an engagement panel (they need ``platform``).
PANEL_MOMENTS = frozenset({MomentName.ER_FOLLOWER_MEDIAN, MomentName.ER_SLOPE, MomentName.ER_RATIO,
                           MomentName.ABS_ENGAGEMENT_PEAK})


class Target(Spec):
    """One published or claimed figure and the model quantity it is compared with.

    Attributes
    ----------
    name : str
        Identifier (letters, digits, ``_``), unique in the file.
    set, role : TargetSet, Role
    moment : MomentName or None
        The simulated counterpart; None for a figure that maps to no model quantity
        (``mapping`` says why), which is listed and never fitted.
    platform : str or None
        Platform of the engagement panel a panel moment reads.
    tier, versus : tier names or None
        The tier a moment is about, and the tier a ratio divides by.
    value : float or None
        The central figure (None: only a range is stated, e.g. an inequality).
    range : (float, float or None)
        Low and high ends, read as a 95% interval; a high end of None is open-ended.
    scale : {"linear", "log"}
        How the uncertainty is read: additive, or multiplicative (compared in logarithms).
    definition, source, mapping : str
        What the figure measures; where it comes from (with year, page where known); how it
        becomes the moment and what is lost on the way.
    year : int
    page : str or None
    not_independent : str or None
        For a held-out target whose check does not test the fit independently, why (it reads the
        moment a fit target pins, or a value hand-set from its own source). It is still compared
        and reported; the held-out count states the independent rows apart.
    pending : str or None
        Why the moment cannot be computed yet (the mechanism it needs): such a target is listed
        with its mapping and never fitted or compared until the line is removed.
    """

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
    set: TargetSet
    role: Role
    moment: MomentName | None = None
    platform: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")] | None = None
    tier: TierName | None = None
    versus: TierName | None = None
    value: float | None = None
    range: tuple[float, float | None]
    scale: Literal["linear", "log"] = "linear"
    definition: Annotated[str, Field(min_length=1)]
    source: Annotated[str, Field(min_length=1)]
    year: Annotated[int, Field(ge=1900, le=2100)]
    page: str | None = None
    mapping: Annotated[str, Field(min_length=1)]
    not_independent: Annotated[str, Field(min_length=1)] | None = None
    pending: Annotated[str, Field(min_length=1)] | None = None

    @field_validator("set", "role", "moment", mode="before")
    @classmethod
    def _choice(cls, value: Any, info: ValidationInfo) -> Any:
        kind = {"set": TargetSet, "role": Role, "moment": MomentName}[info.field_name]
        if value is None or isinstance(value, kind):
            return value
        try:
            return kind(value)
        except ValueError:
            raise PydanticCustomError("enum", "unknown {field} {value!r} (allowed: {allowed})",
                                      {"field": info.field_name, "value": value,
                                       "allowed": ", ".join(k.value for k in kind)}) from None

    @field_validator("range", mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        lo, hi = self.range
        if hi is not None and not lo < hi:
            raise ValueError(f"range: low ({lo:g}) must be below high ({hi:g})")
        if self.scale == "log" and lo <= 0:
            raise ValueError(f"range: a log-scale target needs a positive low end (got {lo:g})")
        if self.value is not None and not (lo <= self.value and (hi is None or self.value <= hi)):
            raise ValueError(f"value {self.value:g} lies outside its range [{lo:g}, {hi}]")
        if self.role is Role.FIT:
            if self.moment is None:
                raise ValueError("a fit target needs a moment (a figure with no model counterpart can only be "
                                 "held out)")
            if self.value is None or hi is None:
                raise ValueError("a fit target needs a value and a finite range")
            if self.pending is not None:
                raise ValueError("a pending target cannot be fitted: its moment is not computable yet")
            if self.not_independent is not None:
                raise ValueError("'not_independent' qualifies a held-out check; a fit target is fitted")
        if self.pending is not None and self.moment is None:
            raise ValueError("'pending' names what the target's moment waits for: give the moment too")
        if self.moment in RATIO_MOMENTS and (self.tier is None or self.versus is None):
            raise ValueError(f"moment {self.moment.value} compares two tiers: give 'tier' and 'versus'")
        if self.moment in PANEL_MOMENTS and self.platform is None:
            raise ValueError(f"moment {self.moment.value} reads an engagement panel: give 'platform'")
        if self.moment is not None and self.moment not in PANEL_MOMENTS and self.tier is None:
            raise ValueError(f"moment {self.moment.value} reads a one-post campaign of a tier: give 'tier'")
        return self

    def h(self, x: float) -> float:
        """The target's scale applied to ``x`` (log for log targets; NaN for x <= 0 there)."""
        if self.scale == "log":
            return math.log(x) if x > 0 else math.nan
        return x

    @property
    def sd(self) -> float:
        """Standard deviation on the target's scale, from its range read as a 95% interval."""
        lo, hi = self.range
        if hi is None:
            return math.nan
        return (self.h(hi) - self.h(lo)) / (2 * Z95)

    def within(self, x: float) -> bool:
        """Whether ``x`` lies in the target's range."""
        lo, hi = self.range
        return bool(x >= lo and (hi is None or x <= hi))


class TargetsFile(Spec):
    """The document: a list of targets."""

    targets: Annotated[list[Target], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> TargetsFile:
        names = [t.name for t in self.targets]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"target names must be unique; repeated: {', '.join(dup)}")
        return self


class TargetsError(InputError):
    """An invalid targets file; ``problems`` holds one ``file:line: key: message`` line per problem."""


@dataclass(frozen=True)
class Targets:
    """The validated targets of one file, and the file's identity.

    Attributes
    ----------
    items : tuple of Target
    path : Path
    sha256 : str
        Of the file's bytes (recorded in every fitted set).
    """

    items: tuple[Target, ...]
    path: Path
    sha256: str

    def select(self, which: TargetSet, role: Role | None = None) -> tuple[Target, ...]:
        """The targets of one set (and role)."""
        return tuple(t for t in self.items if t.set is which and (role is None or t.role is role))

    def comparable(self) -> tuple[Target, ...]:
        """Every target with a computable simulated counterpart (fit or held out, either set)."""
        return tuple(t for t in self.items if t.moment is not None and t.pending is None)

    def pending(self) -> tuple[Target, ...]:
        """Targets whose moment waits for a mechanism the model does not have yet."""
        return tuple(t for t in self.items if t.pending is not None)


def load_targets(path: str | Path) -> Targets:
    """Read and validate a targets file.

    Raises
    ------
    TargetsError
        With one ``file:line: key.path: message`` line per problem.
    """
    path = Path(path)
    spec, _ = read_strict(path, TargetsFile.model_validate, TargetsError,
                          "a targets file is a mapping with a 'targets' list")
    return Targets(tuple(spec.targets), path, hashlib.sha256(path.read_bytes()).hexdigest())
