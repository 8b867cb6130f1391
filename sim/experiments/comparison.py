"""A reproduction's verdicts: each published value or claim next to ours, with an interval and a criterion.

Every check of every experiment is a :class:`Check`: the claim as published (a number or a
qualitative statement, with the paper), our value as an :class:`Estimate` (point and 95%
interval), the criterion in words, and whether it holds. Intervals come from the helpers here
(Student t over independent replicates, Wilson for proportions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.base import stats


@dataclass(frozen=True)
class Estimate:
    """A number with its 95% interval (``low == high == value`` for exact or deterministic values)."""

    value: float
    low: float
    high: float

    @classmethod
    def exact(cls, value: float) -> Estimate:
        """A value with no sampling error (closed form, deterministic run)."""
        return cls(float(value), float(value), float(value))

    def text(self, fmt: str = "{:.4g}") -> str:
        """``value [low, high]`` (just ``value`` when exact)."""
        if self.low == self.high == self.value or not np.isfinite(self.low):
            return fmt.format(self.value)
        return f"{fmt.format(self.value)} [{fmt.format(self.low)}, {fmt.format(self.high)}]"


def mean_interval(values, level: float = 0.95) -> Estimate:
    """Mean of independent replicates with a Student-t interval (one value: no interval)."""
    m = stats.mean_interval(values, level)
    if m.n < 2:
        return Estimate(m.mean, m.mean, m.mean)
    return Estimate(m.mean, m.low, m.high)


def standard_error(values) -> float:
    """Standard error of the mean of independent replicates."""
    sem = stats.mean_interval(values).sem
    return 0.0 if math.isnan(sem) else sem


def proportion_interval(successes: int, trials: int, level: float = 0.95) -> Estimate:
    """A proportion with its Wilson score interval (Wilson 1927)."""
    return Estimate(*stats.wilson_interval(successes, trials, level))


@dataclass(frozen=True)
class Check:
    """One published value or claim against ours.

    Attributes
    ----------
    name : str
        Short identifier, unique within the experiment (what ``deviations`` refers to).
    published : str
        The published value or qualitative claim, as the paper states it.
    ours : Estimate
        Our value with its 95% interval.
    criterion : str
        What must hold for the reproduction to pass, in words (with the tolerance).
    passed : bool
        Whether it holds.
    unit : str
        Format of ``ours`` in tables (a ``str.format`` spec such as ``"{:.3f}"``).
    """

    name: str
    published: str
    ours: Estimate
    criterion: str
    passed: bool
    unit: str = "{:.4g}"
