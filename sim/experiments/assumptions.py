"""The assumption space: every parameter no calibration identifies, with its range and source.

``calibration/assumptions.yaml`` lists each unidentified parameter of the campaign model with the
range the evidence leaves open and where that range comes from, and names the fitted set whose
calibrated parameters the space takes over. :func:`load_assumptions` reads it strictly (every
problem as ``file:line: key.path: message``, like scenarios); :func:`space` turns it into the
:class:`Space` an audit samples: one :class:`Dimension` per parameter, in the file's order, fitted
ones first.

A dimension maps the unit interval onto its range (uniformly, or uniformly in the logarithm for
``scale: log``) and writes its value at its scenario path, divided by the value at ``per`` when
given (a real audience size written as ``world.scale``, real accounts per simulated account).

**The calibrated parameters are drawn jointly from the posterior** when the fitted set has one
(``<name>.posterior.parquet`` beside it, :mod:`sim.input.posterior`): they are one *factor* of
the design, :data:`CALIBRATED`, whose unit coordinate picks a posterior draw by the weighted
inverse distribution function of the draws (each draw covers a share of [0, 1) equal to its
importance weight), and every calibrated parameter takes that draw's value. Their correlations in
the posterior are kept, and a sample of the space integrates over the posterior rather than over
a box. For Sobol indices the correlated parameters are a group whose indices are computed
together, one first-order and one total index for the whole set (Jacques, Lavergne & Devictor
2006, *Reliab. Eng. Syst. Saf.* 91:1126-1134: with groups independent of each other, Sobol's
decomposition holds between groups); every other assumption is a factor of its own. Without a
posterior the calibrated parameters are sampled independently and uniformly over the fitted
set's 95% intervals, each its own factor (what the audit did before posteriors existed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.base.stats import effective_sample_size
from sim.input import keypaths
from sim.input.errors import InputError
from sim.input.fitted import FittedError, read_fitted
from sim.input.posterior import PosteriorError, read_posterior
from sim.input.schema import Spec
from sim.input.strict import read_strict

ROOT = Path(__file__).resolve().parents[2]
#: The design factor of the calibrated parameters when they are drawn jointly from a posterior.
CALIBRATED = "calibrated"
Label = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
KeyPath = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$", max_length=200)]


class AssumptionError(InputError):
    """An invalid assumptions file; ``problems`` holds one ``file:line: key: message`` per problem."""


class Assumption(Spec):
    """One unidentified parameter: its scenario path, range, sampling scale and source.

    Attributes
    ----------
    name : str
        Label in tables and figures (lower case, digits, underscores).
    path : str
        Dotted scenario key path the value is written to.
    low, high : float
        The range, ``low < high`` (both positive for ``scale: log``).
    scale : {"linear", "log"}
        Sampled uniformly in the value or in its logarithm.
    per : str, optional
        A scenario path whose value divides the sampled one before it is written.
    hand_set : float, optional
        The value the example scenarios use (documentation; checked to lie in the range).
    source : str
        Where the range comes from, or why it is what it is.
    """

    name: Label
    path: KeyPath
    low: float
    high: float
    scale: Literal["linear", "log"] = "linear"
    per: KeyPath | None = None
    hand_set: float | None = None
    source: Annotated[str, Field(min_length=10)]

    @model_validator(mode="after")
    def _range(self) -> Assumption:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"need finite low < high (low={self.low:g}, high={self.high:g})")
        if self.scale == "log" and self.low <= 0:
            raise ValueError(f"a log-scale range must be positive (low={self.low:g})")
        if self.hand_set is not None and not self.low <= self.hand_set <= self.high:
            raise ValueError(f"hand_set {self.hand_set:g} lies outside [{self.low:g}, {self.high:g}]")
        return self


class FittedParameter(Spec):
    """A parameter of the fitted set, varied over its 95% interval."""

    path: KeyPath
    name: Label


class FittedBlock(Spec):
    """The fitted set (path relative to the checkout) and which of its parameters the space varies."""

    set: Annotated[str, Field(min_length=1)]
    parameters: Annotated[list[FittedParameter], Field(min_length=1)]


class AssumptionsFile(Spec):
    """``calibration/assumptions.yaml``: the fitted parameters and the unidentified assumptions."""

    fitted: FittedBlock
    assumptions: Annotated[list[Assumption], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> AssumptionsFile:
        names = [f.name for f in self.fitted.parameters] + [a.name for a in self.assumptions]
        paths = [f.path for f in self.fitted.parameters] + [a.path for a in self.assumptions]
        for what, items in (("name", names), ("path", paths)):
            dup = sorted({x for x in items if items.count(x) > 1})
            if dup:
                raise ValueError(f"each {what} once; repeated: {', '.join(dup)}")
        return self


@dataclass(frozen=True)
class Dimension:
    """One axis of the space: a parameter, its range and how a unit-interval coordinate maps onto it.

    Attributes
    ----------
    name, path : str
    low, high : float
    scale : {"linear", "log"}
    per : str or None
    fitted : bool
        Whether the parameter is calibrated (its range a fitted set's 95% interval, or the range
        of its posterior draws).
    source : str
    group : str or None
        The design factor it belongs to when it is drawn jointly with others (:data:`CALIBRATED`:
        from the posterior, by :class:`JointDraws`); None: a factor of its own.
    """

    name: str
    path: str
    low: float
    high: float
    scale: str
    per: str | None
    fitted: bool
    source: str
    group: str | None = None

    @property
    def factor(self) -> str:
        """The design factor whose unit coordinate decides this parameter's value."""
        return self.group or self.name

    def value(self, u: np.ndarray | float) -> np.ndarray | float:
        """The parameter's value at unit coordinate(s) ``u`` in [0, 1] (a dimension of its own)."""
        if self.group is not None:
            raise ValueError(f"{self.name} is drawn jointly with the {self.group} factor (Space.values)")
        if self.scale == "log":
            return np.exp(np.log(self.low) + np.asarray(u) * (np.log(self.high) - np.log(self.low)))
        return self.low + np.asarray(u) * (self.high - self.low)

    @property
    def keys(self) -> tuple[str, ...]:
        """The scenario path as keys."""
        return keypaths.split(self.path)


@dataclass(frozen=True, eq=False)
class JointDraws:
    """Posterior draws of the calibrated parameters, chosen jointly by one unit coordinate.

    Attributes
    ----------
    path : Path
        The posterior file.
    columns : dict of str to float64[rows]
        Each calibrated parameter's draws, by scenario path.
    weights : float64[rows]
        Importance weights, summing to 1.
    """

    path: Path
    columns: dict[str, np.ndarray]
    weights: np.ndarray

    def rows(self, u: np.ndarray) -> np.ndarray:
        """The draw of each unit coordinate in [0, 1): the weighted inverse distribution function of
        the draws in file order (draw i covers [c_(i-1), c_i), c the cumulative weights), so a
        uniform coordinate picks draw i with probability w_i."""
        cw = np.cumsum(self.weights)
        cw /= cw[-1]
        return np.minimum(np.searchsorted(cw, np.asarray(u, dtype=np.float64), side="right"), len(cw) - 1)

    @property
    def effective_size(self) -> float:
        """Kish's effective sample size of the weights."""
        return effective_sample_size(self.weights)


@dataclass(frozen=True)
class Space:
    """The dimensions an audit varies, the design factors they form, and the files they came from.

    Attributes
    ----------
    dimensions : tuple of Dimension
    source : Path
        The assumptions file.
    fitted_set : Path
        The fitted set of the calibrated dimensions.
    posterior : JointDraws or None
        The posterior the calibrated dimensions are drawn from jointly (None: each over its
        fitted interval).
    """

    dimensions: tuple[Dimension, ...]
    source: Path
    fitted_set: Path
    posterior: JointDraws | None = None

    @property
    def names(self) -> list[str]:
        """Dimension names, in order."""
        return [d.name for d in self.dimensions]

    @property
    def factors(self) -> list[str]:
        """The design's factors, in order: a dimension's own name, or its group's (once)."""
        return list(dict.fromkeys(d.factor for d in self.dimensions))

    def members(self, factor: str) -> list[str]:
        """The dimensions a factor decides (one, or a group's)."""
        return [d.name for d in self.dimensions if d.factor == factor]

    def values(self, unit: np.ndarray) -> np.ndarray:
        """Parameter values of points of the factors' unit cube, float64[points, D].

        ``unit`` has one column per factor (:attr:`factors`); a group's column picks a posterior
        draw for all of its dimensions at once.
        """
        unit = np.atleast_2d(np.asarray(unit, dtype=np.float64))
        factors = self.factors
        if unit.shape[1] != len(factors):
            raise ValueError(f"one unit coordinate per factor ({len(factors)}), got {unit.shape[1]}")
        rows = {}
        cols = []
        for d in self.dimensions:
            u = unit[:, factors.index(d.factor)]
            if d.group is None:
                cols.append(d.value(u))
            else:
                # grouped dimensions are the calibrated ones drawn jointly, which exist only with a posterior
                assert self.posterior is not None
                if d.group not in rows:
                    rows[d.group] = self.posterior.rows(u)
                cols.append(self.posterior.columns[d.path][rows[d.group]])
        return np.column_stack(cols)

    def subset(self, names: list[str]) -> Space:
        """The space restricted to ``names`` (in this space's order); a group keeps the members named
        (its draws are still chosen jointly)."""
        keep = set(names)
        return Space(tuple(d for d in self.dimensions if d.name in keep), self.source, self.fitted_set,
                     self.posterior)

    def table(self) -> list[dict]:
        """One row per dimension (name, path, low, high, scale, fitted, factor, source), for reports."""
        return [{"parameter": d.name, "path": d.path, "low": d.low, "high": d.high, "scale": d.scale,
                 "fitted": d.fitted, "factor": d.factor, "source": d.source} for d in self.dimensions]


def _resolve(path: str | Path) -> Path:
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    return ROOT / p


def load_assumptions(path: str | Path) -> AssumptionsFile:
    """Read and validate an assumptions file.

    Raises
    ------
    AssumptionError
        One ``file:line: key.path: message`` line per problem; nothing is returned.
    """
    spec, _ = read_strict(_resolve(path), AssumptionsFile.model_validate, AssumptionError,
                          "an assumptions file is a mapping with 'fitted' and 'assumptions'")
    return spec


def space(path: str | Path) -> Space:
    """The full space of an assumptions file: its calibrated parameters, then its assumptions.

    The calibrated parameters are drawn jointly from the fitted set's posterior
    (``posterior:`` in the fitted set, a file beside it) when there is one, one factor
    :data:`CALIBRATED`; otherwise each over the fitted set's 95% interval.

    Raises
    ------
    AssumptionError
        If the file is invalid, its fitted set is missing or lacks a parameter it names, the
        posterior cannot be read or lacks one, or an assumption varies a calibrated parameter by
        hand (it belongs under ``fitted``).
    """
    source = _resolve(path)
    spec = load_assumptions(source)
    fitted_path = _resolve(spec.fitted.set)
    if not fitted_path.is_file():
        raise AssumptionError([f"{source}: fitted.set: {spec.fitted.set} not found"])
    try:
        fitted_set = read_fitted(fitted_path)
    except FittedError as exc:
        raise AssumptionError([f"{source}: fitted.set: {exc}"]) from None
    fitted = {p.path: p for p in fitted_set.parameters}
    problems = []
    for i, f in enumerate(spec.fitted.parameters):
        if f.path not in fitted:
            problems.append(f"{source}: fitted.parameters.{i}.path: {f.path} is not a parameter of {spec.fitted.set} "
                            f"(it has {', '.join(fitted)})")
    for i, a in enumerate(spec.assumptions):
        if a.path in fitted:
            problems.append(f"{source}: assumptions.{i}.path: {a.path} is calibrated by {spec.fitted.set}: list it "
                            "under fitted.parameters (it is drawn from the fit, not varied by hand)")
        if a.name == CALIBRATED:
            problems.append(f"{source}: assumptions.{i}.name: '{CALIBRATED}' names the calibrated parameters' factor")
    if problems:
        raise AssumptionError(problems)
    joint = _posterior(source, spec, fitted_set, fitted_path)
    dims = []
    for f in spec.fitted.parameters:
        if joint is None:
            lo, hi = fitted[f.path].interval
            dims.append(Dimension(f.name, f.path, float(lo), float(hi), "linear", None, True,
                                  f"fitted: 95% interval of {spec.fitted.set} (no posterior draws)"))
        else:
            v = joint.columns[f.path]
            dims.append(Dimension(f.name, f.path, float(v.min()), float(v.max()), "linear", None, True,
                                  f"fitted: drawn jointly with the other calibrated parameters from "
                                  f"{_shown(joint.path)} ({len(v):,} weighted draws, effective size "
                                  f"{joint.effective_size:,.0f}); low and high are the draws' range",
                                  CALIBRATED))
    dims += [Dimension(a.name, a.path, a.low, a.high, a.scale, a.per, False, " ".join(a.source.split()))
             for a in spec.assumptions]
    return Space(tuple(dims), source, fitted_path, joint)


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def _posterior(source: Path, spec: AssumptionsFile, fitted_set, fitted_path: Path) -> JointDraws | None:
    """The fitted set's posterior draws of the parameters the space takes over, or None without one."""
    if fitted_set.posterior is None:
        return None
    post = fitted_path.parent / fitted_set.posterior
    if not post.is_file():
        return None
    try:
        names, values, weights = read_posterior(post)
    except PosteriorError as exc:
        raise AssumptionError([f"{source}: fitted.set: {spec.fitted.set}'s posterior: {exc}"]) from None
    missing = [f.path for f in spec.fitted.parameters if f.path not in names]
    if missing:
        raise AssumptionError([f"{source}: fitted.set: {_shown(post)} has no draws of {', '.join(missing)}"])
    return JointDraws(post, {f.path: values[:, names.index(f.path)] for f in spec.fitted.parameters}, weights)
