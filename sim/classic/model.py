"""A contagion model compiled against a graph: the per-edge and per-account arrays the kernels read.

This is where a scenario's model block (:mod:`sim.input.scenario`) meets a concrete
graph. The result is plain frozen data; :mod:`sim.classic.kernel` does the spreading.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.base.rng import lane_threshold
from sim.classic.spec import (
    ClassicModel,
    FixedThresholds,
    FractionalThreshold,
    GeneralThreshold,
    IndependentCascade,
    LinearThreshold,
    ListedThresholds,
    NormalThresholds,
    SignalThresholds,
    UniformThresholds,
)
from sim.world.graph import FlatGraph

#: Fixed-point unit for real-valued LT weights: integer sums are exact in any order.
WEIGHT_UNIT = 2**32


class ModelInputError(ValueError):
    """The model asks for something the graph does not have (e.g. edge weights)."""


@dataclass(frozen=True, eq=False)
class IndependentCascadeArrays:
    """IC compiled: ``prob[e]`` is the transmission probability of edge ``e`` (float64[m], in [0, 1]).

    ``threshold[e] = ceil(prob[e] * 2**56)`` (uint64, :func:`sim.base.rng.lane_threshold`) lets
    the kernel test a lane draw with integer comparisons: for the 56-bit number ``k`` of a
    lane draw, ``k / 2**56 < p`` exactly when ``k < ceil(p * 2**56)``.
    ``kernel_threshold`` is what :mod:`sim.classic.kernel` reads: ``threshold``, or its single
    value (uint64[1]) when all edges share one probability. ``top_words`` packs the top
    base-256 digit of each of those thresholds (capped at 255), eight edges to a word, so
    the kernel compares a lane's digits for eight edges at once (:func:`top_words`).
    """

    prob: np.ndarray
    threshold: np.ndarray = field(init=False, repr=False)
    kernel_threshold: np.ndarray = field(init=False, repr=False)
    top_words: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        threshold = lane_threshold(self.prob)
        object.__setattr__(self, "threshold", threshold)
        # One value when every edge has the same probability: the kernel then reads no
        # per-edge array (a cache line per account saved; see docs/performance.md).
        uniform = threshold.size > 0 and bool((threshold == threshold[0]).all())
        kernel = threshold[:1].copy() if uniform else threshold
        object.__setattr__(self, "kernel_threshold", kernel)
        object.__setattr__(self, "top_words", top_words(kernel))


#: How a threshold is made from the account's keyed uniform U (``ThresholdArrays.law``).
LAW_UNIFORM = 0  #: theta_lo + theta_span * U
LAW_NORMAL = 1  #: theta_lo + theta_span * Phi^-1(U)
LAW_LISTED = 2  #: table[v] (no draw)
LAW_STEPS = 3  #: the first j with U < table[j] gives j + 1 (a count); +inf beyond the table


@dataclass(frozen=True, eq=False)
class ThresholdArrays:
    """Linear/fractional/general threshold compiled.

    Account ``v`` activates once the integer weights of its active in-edges sum to at least
    ``theta_v * scale[v]``; ``theta_v`` is ``theta_lo + theta_span * U`` for the default
    ``law`` (``LAW_UNIFORM``), U the account's keyed uniform, or another law below.

    Attributes
    ----------
    weight : int64[m]
        Integer weight of every edge.
    scale : float64[n]
        Weight units making a threshold of 1 for each account.
    theta_lo, theta_span : float
        Threshold distribution: U(theta_lo, theta_lo + theta_span).
    law : int
        ``LAW_UNIFORM`` (default), ``LAW_NORMAL`` (mean ``theta_lo``, sd ``theta_span``),
        ``LAW_LISTED`` (``table[v]``) or ``LAW_STEPS`` (``table`` the cumulative probabilities
        of thresholds 1, 2, ...: Centola-style reinforcement counts).
    table : float64 array
        Per-account thresholds (``LAW_LISTED``) or the cumulative table (``LAW_STEPS``).
    instigators : bool
        Accounts whose threshold is <= 0 are active at step 0 (Granovetter 1978).
    kernel_weight : int64[m] or int64[1]
        What :mod:`sim.classic.kernel` reads: ``weight``, or its single value when all are equal.
    """

    weight: np.ndarray
    scale: np.ndarray
    theta_lo: float
    theta_span: float
    law: int = LAW_UNIFORM
    table: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    instigators: bool = False
    kernel_weight: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # One value when all edges weigh the same (in-degree LT, fractional threshold): the
        # kernel then streams no per-edge weights.
        w = self.weight
        uniform = w.size > 0 and bool((w == w[0]).all())
        object.__setattr__(self, "kernel_weight", w[:1].copy() if uniform else w)


CompiledModel = IndependentCascadeArrays | ThresholdArrays


def top_words(threshold: np.ndarray) -> np.ndarray:
    """Top base-256 digits of 56-bit thresholds, capped at 255, packed eight to a uint64.

    Byte ``k`` (from the least significant) of word ``c`` belongs to ``threshold[8c + k]``;
    a single threshold gives one word with its digit in every byte.
    """
    top = np.minimum(threshold >> np.uint64(48), np.uint64(255)).astype(np.uint64)
    if threshold.size == 1:
        return (top * np.uint64(0x0101010101010101)).astype(np.uint64)
    padded = np.zeros(-(-top.size // 8) * 8, dtype=np.uint64)
    padded[: top.size] = top
    lanes = padded.reshape(-1, 8) << (np.arange(8, dtype=np.uint64) * np.uint64(8))
    return np.bitwise_or.reduce(lanes, axis=1).astype(np.uint64)


def _edge_weights(graph: FlatGraph) -> np.ndarray:
    if graph.weight is None:
        raise ModelInputError(f"the graph '{graph.name}' has no edge weights to use")
    return graph.weight


def _general_threshold(spec: GeneralThreshold, graph: FlatGraph) -> ThresholdArrays:
    """Weights 1 per edge; scale = in-degree (fractions) or 1 (counts); the law's parameters."""
    scale = graph.in_degree.astype(np.float64) if spec.units == "fraction" else np.ones(graph.n)
    table: np.ndarray = np.zeros(0, dtype=np.float64)
    law, lo, span = LAW_UNIFORM, 0.0, 0.0
    t = spec.thresholds
    if isinstance(t, FixedThresholds):
        lo = float(t.value)
    elif isinstance(t, UniformThresholds):
        lo, span = float(t.low), float(t.high - t.low)
    elif isinstance(t, NormalThresholds):
        law, lo, span = LAW_NORMAL, float(t.mean), float(t.sd)
    elif isinstance(t, ListedThresholds):
        if len(t.values) != graph.n:
            raise ModelInputError(f"thresholds.values lists {len(t.values)} thresholds, but the graph has "
                                  f"{graph.n} accounts (one per account, in index order)")
        law, table = LAW_LISTED, np.asarray(t.values, dtype=np.float64)
    elif isinstance(t, SignalThresholds):
        # P(T <= j) for j = 1 .. the largest in-degree (a larger threshold can never be met).
        top = int(graph.in_degree.max()) if graph.n else 0
        hazard = np.array([t.adopt[min(j, len(t.adopt) - 1)] for j in range(top)], dtype=np.float64)
        law, lo, span = LAW_STEPS, 0.0, 1.0
        table = 1.0 - np.cumprod(1.0 - hazard)
    else:  # pragma: no cover - the schema admits no other law
        raise TypeError(t)
    return ThresholdArrays(np.ones(graph.m, np.int64), scale, lo, span, law, table, bool(spec.instigators))


def compile_model(spec: ClassicModel, graph: FlatGraph) -> CompiledModel:
    """Turn a model spec into kernel arrays for ``graph``.

    Raises
    ------
    ModelInputError
        If the model needs edge weights the graph lacks, or weights are outside [0, 1].
    """
    if isinstance(spec, IndependentCascade):
        if spec.edge_prob == "weighted_cascade":
            indeg = graph.in_degree[graph.indices].astype(np.float64)
            prob = 1.0 / indeg
        elif spec.edge_prob == "edge_weight":
            prob = _edge_weights(graph).copy()
            if np.any((prob < 0) | (prob > 1)) or np.isnan(prob).any():
                raise ModelInputError("edge weights used as probabilities must lie in [0, 1]")
        else:
            prob = np.full(graph.m, float(spec.edge_prob))
        return IndependentCascadeArrays(prob=prob)
    if isinstance(spec, FractionalThreshold):
        return ThresholdArrays(np.ones(graph.m, np.int64), graph.in_degree.astype(np.float64), spec.phi, 0.0)
    if isinstance(spec, GeneralThreshold):
        return _general_threshold(spec, graph)
    if isinstance(spec, LinearThreshold):
        if spec.weights == "in_degree":
            return ThresholdArrays(np.ones(graph.m, np.int64), graph.in_degree.astype(np.float64), 0.0, 1.0)
        w = _edge_weights(graph) if spec.weights == "edge_weight" else np.full(graph.m, float(spec.weights))
        if np.any((w < 0) | (w > 1)) or np.isnan(w).any():
            raise ModelInputError("LT edge weights must lie in [0, 1]")
        weight = np.rint(w * WEIGHT_UNIT).astype(np.int64)
        return ThresholdArrays(weight, np.full(graph.n, float(WEIGHT_UNIT)), 0.0, 1.0)
    raise TypeError(f"unknown model {spec!r}")  # pragma: no cover
