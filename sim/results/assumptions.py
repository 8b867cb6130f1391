"""The assumption points a decision is taken over: points with weights.

A decision compares strategies at every *assumption point* (a set of values for what nobody
controls) and averages over the points with their weights. The points are a sweep's design
(equal weights: every design here samples uniformly over its ranges or levels) or calibration's
posterior draws (``parameters: {posterior: ..., draws: N}``, :mod:`sim.input.posterior`): the
draws are chosen from the file by systematic resampling on their importance weights, so each
chosen draw stands for an equal share of the posterior and the points are equally weighted too
(a row drawn twice is two points, i.e. twice the weight). Points with unequal weights (importance
weights used as they are) go through :meth:`AssumptionPoints.weighted`; the decision layer takes
any :class:`AssumptionPoints` and does not know where they came from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.base.fmt import assignment
from sim.input.sweep import DesignKind

Value = float | str


@dataclass(frozen=True, eq=False)
class AssumptionPoints:
    """Points (assumption sets) with weights.

    Attributes
    ----------
    ids : tuple of int
        Point numbers as in the trial table's ``point`` column (``(0,)`` for a run without one).
    weights : float64[points]
        Probability of each point, >= 0, summing to 1.
    labels : tuple of str
        Names of the values that vary across points (uncertainty labels, or parameter names of
        posterior draws); empty when nothing varies.
    values : tuple of tuple
        Per point, the value of each label in ``labels`` order.
    source : str
        Where the points come from, in words (``"the sweep's factorial design"``).
    """

    ids: tuple[int, ...]
    weights: np.ndarray
    labels: tuple[str, ...]
    values: tuple[tuple[Value, ...], ...]
    source: str

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=np.float64)
        if len(w) != len(self.ids) or len(self.values) != len(self.ids) or not len(w):
            raise ValueError("one weight and one row of values per point, and at least one point")
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be finite, >= 0 and not all 0")
        if any(len(v) != len(self.labels) for v in self.values):
            raise ValueError("every point needs a value for every label")
        object.__setattr__(self, "weights", w / w.sum())

    @classmethod
    def weighted(cls, ids: Sequence[int], weights: Sequence[float] | None, labels: Sequence[str],
                 values: Sequence[Sequence[Value]], source: str) -> AssumptionPoints:
        """Points with the given weights (None: equal), e.g. posterior draws with importance weights."""
        w = np.ones(len(ids)) if weights is None else np.asarray(weights, dtype=np.float64)
        return cls(tuple(int(i) for i in ids), w, tuple(labels), tuple(tuple(v) for v in values), source)

    @classmethod
    def single(cls, point: int = 0) -> AssumptionPoints:
        """One point: nothing varies but Monte Carlo noise."""
        return cls((point,), np.ones(1), (), ((),), "one set of assumptions (the scenario as written)")

    @classmethod
    def from_design(cls, design) -> AssumptionPoints:
        """A sweep's points, equally weighted (every design here samples points uniformly over the
        uncertainties' ranges or levels, and a posterior design's draws were resampled by their
        weights), or the single point of a run without a sweep."""
        if design is None or not design.is_sweep:
            return cls.single()
        spec = design.spec
        n = len(design.points)
        source = f"the sweep's {spec.design.value.replace('_', ' ')} design ({n} point{'s' if n != 1 else ''})"
        if spec.design is DesignKind.POSTERIOR:  # resampled by weight: the draws are equally weighted
            ref = getattr(design.points[0].scenario, "parameters", None)
            where = f" of {ref.posterior}" if ref is not None and hasattr(ref, "posterior") else ""
            source = f"{n} posterior draw{'s' if n != 1 else ''}{where} (chosen by weight, so equally weighted)"
        return cls.weighted([p.index for p in design.points], None, design.labels,
                            [[v for _, v in p.values] for p in design.points], source)

    @property
    def n(self) -> int:
        """Number of points."""
        return len(self.ids)

    def describe(self, i: int) -> str:
        """Point ``i`` (position, not id) in words: ``trust_growth = 0.1, rate_card = source_article``."""
        return ", ".join(assignment(k, v) for k, v in zip(self.labels, self.values[i], strict=True)) or "as written"


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: Sequence[float] | np.ndarray) -> np.ndarray:
    """Quantiles of a weighted sample: the weighted empirical distribution with each point's mass
    at the middle of its step (Hazen's plotting positions generalised to weights), linear between,
    clamped at the smallest and largest value. Equal values pool their weights.

    With equal weights and n points, point k (from 1) sits at (k - 1/2)/n: with three points
    the 10% and 90% quantiles are the smallest and largest value.
    """
    v = np.asarray(values, dtype=np.float64)
    w: np.ndarray = np.asarray(weights, dtype=np.float64)  # stays float64: bincount with weights is float64
    keep = (w > 0) & ~np.isnan(v)
    v, w = v[keep], w[keep]
    if not len(v):
        return np.full(len(qs), math.nan)
    # Equal values pool their weight: a point listed twice is a point of twice the weight.
    v, inverse = np.unique(v, return_inverse=True)
    w = np.bincount(inverse, weights=w)
    pos = (np.cumsum(w) - w / 2) / w.sum()
    if len(v) == 1:
        return np.full(len(qs), v[0])
    finite = np.isfinite(v)
    if not finite.all():  # inf (cost per adopter with no adopter): interpolate on ranks instead
        out = []
        for q in qs:
            k = int(np.searchsorted(pos, q))
            out.append(v[min(k, len(v) - 1)])
        return np.asarray(out)
    return np.interp(np.asarray(qs, dtype=np.float64), pos, v)
