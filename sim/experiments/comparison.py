"""What an experiment reports: checks of two kinds, and findings.

Every line of an experiment's comparison table is one of three things (docs/experiments.md,
"Verification, validation, findings"):

* a **verification** :class:`Check` (:attr:`Kind.VERIFICATION`): the code computes what the
  model says it computes (closed forms, exact oracles, two algorithms or engines agreeing,
  conservation, equal budgets). A failed verification is a bug: it fails ``reproduce`` and CI.
* a **validation** :class:`Check` (:attr:`Kind.VALIDATION`): the model against an independent
  published number or pattern, with the tolerance of the reference notes and a ``source`` that
  says where number and tolerance come from. It is reported PASS or MISS with our interval; a
  MISS is a finding about the model, documented with its cause (``misses:`` of the definition),
  never a CI failure and never redefined to pass.
* a :class:`Finding`: what the model concludes about a claim (the source article's, the
  project's headline). Reported with its evidence, never a check: no value of it fails anything.

Our values are :class:`Estimate` objects (point and 95% interval). Intervals come from the
helpers here (Student t over independent replicates, Wilson for proportions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

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


class Kind(StrEnum):
    """What a check establishes: the code is right (verification) or the model is (validation)."""

    VERIFICATION = "verification"
    VALIDATION = "validation"


@dataclass(frozen=True)
class Check:
    """One computed or published value against ours.

    Attributes
    ----------
    name : str
        Short identifier, unique within the experiment (what ``misses`` refers to).
    published : str
        The published value or qualitative claim as the paper states it (validation), or what
        the code must reproduce (verification: the closed form, the other algorithm).
    ours : Estimate
        Our value with its 95% interval.
    criterion : str
        What must hold, in words, with the tolerance.
    passed : bool
        Whether it holds.
    kind : Kind
        :attr:`Kind.VERIFICATION` (gates ``reproduce`` and CI) or :attr:`Kind.VALIDATION`
        (reported PASS / MISS, never a failure).
    source : str
        Validation: where the published number and its tolerance come from (paper, figure or
        page, and the reference notes' section). Required for validation checks.
    unit : str
        Format of ``ours`` in tables (a ``str.format`` spec such as ``"{:.3f}"``).
    """

    name: str
    published: str
    ours: Estimate
    criterion: str
    passed: bool
    kind: Kind
    source: str = ""
    unit: str = "{:.4g}"

    def __post_init__(self) -> None:
        if not isinstance(self.kind, Kind):
            raise TypeError(f"check {self.name}: kind must be a Kind, got {self.kind!r}")
        if self.kind is Kind.VALIDATION and not self.source.strip():
            raise ValueError(f"validation check {self.name} must cite the source of its number and tolerance")


@dataclass(frozen=True)
class Finding:
    """What the model concludes about a claim: reported with its evidence, never a check.

    Attributes
    ----------
    name : str
        Stable identifier (a claim id, possibly with its platform and case).
    claim : str
        The claim as its author states it.
    reading : str
        The model quantity the claim is read as, and when it counts as holding.
    verdict : str
        The finding in a few words (``holds``, ``does not hold``, ``supported``,
        ``depends on mega_trust`` ...).
    ours : Estimate
        The quantity with its 95% interval.
    detail : str
        Conditions, shares, the evidence behind the verdict.
    unit : str
        Format of ``ours``.
    """

    name: str
    claim: str
    reading: str
    verdict: str
    ours: Estimate
    detail: str = ""
    unit: str = "{:.4g}"
