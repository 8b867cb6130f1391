"""Evaluating many variants of one scenario on common random numbers, keeping the worlds they share.

A calibration evaluates its model at thousands of parameter vectors; an optimiser or a study
may do the same. Each variant is a scenario (the base with some values written at their key
paths, :func:`sim.input.design.apply`) run on the same root seed and trial numbers, so the
difference between two variants is not sampling noise (common random numbers). The worlds are
built once for all variants that share what decides them (:class:`~sim.execution.prepare.WorldCache`);
nothing is written.

A :class:`PointEvaluator` may be shared by threads once the world of its variants is built (call
:meth:`PointEvaluator.evaluate` once before handing it to a pool): evaluations then only read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.execution.prepare import WorldCache, prepare
from sim.execution.tasks import compute_chunk
from sim.families.chunks import ChunkTables
from sim.families.protocol import Prepared
from sim.input.scenario import Scenario
from sim.world import footprint


@dataclass(frozen=True, eq=False)
class Evaluation:
    """One variant's trials.

    Attributes
    ----------
    point : Prepared
        The variant, prepared: its world, compiled model and every strategy's plan.
    tables : dict of str to ChunkTables
        By strategy name: the tables of trials ``0 .. trials - 1`` (Arrow, as a chunk's).
    """

    point: Prepared
    tables: dict[str, ChunkTables]

    def plan(self, strategy: str):
        """The plan of a strategy (its recruits, or its partners and posts)."""
        names = [s.name for s in self.point.scenario.strategy_list]
        return self.point.plans[names.index(strategy)]


class PointEvaluator:
    """Runs variants of a scenario and keeps the worlds they build.

    Parameters
    ----------
    max_memory : int, optional
        Bytes the worlds may hold (default: 90% of the memory available now).
    """

    def __init__(self, max_memory: int | None = None) -> None:
        self._worlds = WorldCache(footprint.memory_limit(max_memory))
        self.evaluations = 0

    def evaluate(self, scenario: Scenario, strategies: Sequence[str] | None = None) -> Evaluation:
        """Run all of ``scenario``'s trials for ``strategies`` (default: every strategy), in this thread.

        Raises
        ------
        ScenarioError
            If the variant cannot be prepared (located problems).
        """
        point = prepare(scenario, 1, self._worlds)
        names = tuple(s.name for s in scenario.strategy_list)
        wanted = names if strategies is None else tuple(strategies)
        tables = {}
        for name in wanted:
            i = names.index(name)
            tables[name] = compute_chunk(point, point.plans[i], names, i, (0, scenario.trials))
        self.evaluations += 1
        return Evaluation(point, tables)
