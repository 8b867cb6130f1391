"""Recruit rules resolved against a graph: who starts the cascade in each trial.

A plan is a fixed set (``top_degree``, ``explicit``) plus a number of accounts
drawn uniformly without replacement in every trial (``random``), keyed by
``(root, RECRUITS, trial)`` inside the kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.classic.spec import ExplicitRecruits, RandomRecruits, RecruitSpec, TopDegreeRecruits
from sim.input.errors import KeyedProblem
from sim.world.graph import FlatGraph


class RecruitError(KeyedProblem):
    """A recruit rule that does not fit the graph; ``key`` is the offending scenario key path."""


@dataclass(frozen=True, eq=False)
class RecruitPlan:
    """Recruits of every trial: ``fixed`` (int32 node indices) or ``n_random`` random accounts.

    The kernels accept both at once, but then Floyd's algorithm does not avoid the fixed
    recruits: a draw that lands on one takes the fallback ``j`` instead, and when ``j`` is
    fixed too the trial has one recruit fewer. The recruit rules never mix them, and
    :meth:`size` then overcounts.
    """

    fixed: np.ndarray
    n_random: int

    def size(self) -> int:
        """Number of recruits per trial."""
        return len(self.fixed) + self.n_random


def plan_recruits(spec: RecruitSpec, graph: FlatGraph, key: tuple = ("recruits",)) -> RecruitPlan:
    """Resolve a recruit rule against ``graph``.

    Raises
    ------
    RecruitError
        If more recruits are asked for than there are accounts, or a named account is not in the graph.
    """
    empty = np.zeros(0, dtype=np.int32)
    if isinstance(spec, RandomRecruits):
        if spec.count is not None:
            k = spec.count
        else:
            assert spec.fraction is not None  # validated: exactly one of count and fraction
            k = max(1, round(spec.fraction * graph.n))
        if k > graph.n:
            raise RecruitError((*key, "count"), f"{k} recruits asked for, but the graph has {graph.n} accounts")
        return RecruitPlan(empty, int(k))
    if isinstance(spec, TopDegreeRecruits):
        if spec.count > graph.n:
            raise RecruitError((*key, "count"),
                               f"{spec.count} recruits asked for, but the graph has {graph.n} accounts")
        # Stable sort on -degree: ties go to the lower index, the same on every machine.
        order = np.argsort(-graph.out_degree, kind="stable")[: spec.count]
        return RecruitPlan(np.sort(order).astype(np.int32), 0)
    if isinstance(spec, ExplicitRecruits):
        try:
            fixed = graph.index_of(list(spec.nodes))
        except KeyError as exc:
            pos = list(spec.nodes).index(exc.args[0])
            raise RecruitError((*key, "nodes", pos), f"account {exc.args[0]!r} is not in the graph") from None
        return RecruitPlan(np.unique(fixed).astype(np.int32), 0)
    raise TypeError(f"unknown recruit rule {spec!r}")  # pragma: no cover
