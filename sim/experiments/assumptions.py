"""The assumption space: every parameter no calibration identifies, with its range and source.

``calibration/assumptions.yaml`` lists each unidentified parameter of the campaign model with the
range the evidence leaves open and where that range comes from, and names the fitted set whose
95% intervals give the ranges of the fitted parameters. :func:`load_assumptions` reads it strictly
(every problem as ``file:line: key.path: message``, like scenarios); :func:`space` turns it into
the :class:`Space` an audit samples: one :class:`Dimension` per parameter, in the file's order,
fitted ones first.

A dimension maps the unit interval onto its range (uniformly, or uniformly in the logarithm for
``scale: log``) and writes its value at its scenario path, divided by the value at ``per`` when
given (a real audience size written as ``world.scale``, real accounts per simulated account).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.input import keypaths
from sim.input.errors import InputError
from sim.input.fitted import FittedError, read_fitted
from sim.input.schema import Spec
from sim.input.strict import read_strict

ROOT = Path(__file__).resolve().parents[2]
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
        Whether the range is a fitted set's 95% interval.
    source : str
    """

    name: str
    path: str
    low: float
    high: float
    scale: str
    per: str | None
    fitted: bool
    source: str

    def value(self, u: np.ndarray | float) -> np.ndarray | float:
        """The parameter's value at unit coordinate(s) ``u`` in [0, 1]."""
        if self.scale == "log":
            return np.exp(np.log(self.low) + np.asarray(u) * (np.log(self.high) - np.log(self.low)))
        return self.low + np.asarray(u) * (self.high - self.low)

    @property
    def keys(self) -> tuple[str, ...]:
        """The scenario path as keys."""
        return keypaths.split(self.path)


@dataclass(frozen=True)
class Space:
    """The dimensions an audit varies, and the files they came from.

    Attributes
    ----------
    dimensions : tuple of Dimension
    source : Path
        The assumptions file.
    fitted_set : Path
        The fitted set whose intervals gave the fitted dimensions.
    """

    dimensions: tuple[Dimension, ...]
    source: Path
    fitted_set: Path

    @property
    def names(self) -> list[str]:
        """Dimension names, in order."""
        return [d.name for d in self.dimensions]

    def values(self, unit: np.ndarray) -> np.ndarray:
        """Parameter values of unit-cube points, float64[points, D]."""
        unit = np.atleast_2d(np.asarray(unit, dtype=np.float64))
        return np.column_stack([d.value(unit[:, i]) for i, d in enumerate(self.dimensions)])

    def subset(self, names: list[str]) -> Space:
        """The space restricted to ``names`` (in this space's order)."""
        keep = set(names)
        return Space(tuple(d for d in self.dimensions if d.name in keep), self.source, self.fitted_set)

    def table(self) -> list[dict]:
        """One row per dimension (name, path, low, high, scale, fitted, source), for reports."""
        return [{"parameter": d.name, "path": d.path, "low": d.low, "high": d.high, "scale": d.scale,
                 "fitted": d.fitted, "source": d.source} for d in self.dimensions]


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
    """The full space of an assumptions file: its fitted parameters over the fitted set's intervals,
    then its assumptions.

    Raises
    ------
    AssumptionError
        If the file is invalid, its fitted set is missing or lacks a parameter it names.
    """
    source = _resolve(path)
    spec = load_assumptions(source)
    fitted_path = _resolve(spec.fitted.set)
    if not fitted_path.is_file():
        raise AssumptionError([f"{source}: fitted.set: {spec.fitted.set} not found"])
    try:
        fitted = {p.path: p for p in read_fitted(fitted_path).parameters}
    except FittedError as exc:
        raise AssumptionError([f"{source}: fitted.set: {exc}"]) from None
    dims, problems = [], []
    for i, f in enumerate(spec.fitted.parameters):
        if f.path not in fitted:
            problems.append(f"{source}: fitted.parameters.{i}.path: {f.path} is not a parameter of {spec.fitted.set} "
                            f"(it has {', '.join(fitted)})")
            continue
        lo, hi = fitted[f.path].interval
        dims.append(Dimension(f.name, f.path, float(lo), float(hi), "linear", None, True,
                              f"fitted: 95% bootstrap interval of {spec.fitted.set}"))
    if problems:
        raise AssumptionError(problems)
    dims += [Dimension(a.name, a.path, a.low, a.high, a.scale, a.per, False, " ".join(a.source.split()))
             for a in spec.assumptions]
    return Space(tuple(dims), source, fitted_path)
