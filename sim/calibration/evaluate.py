"""Evaluating the calibration panel at parameter vectors: the one place that runs the model.

:class:`Evaluator` writes a parameter vector at the free parameters' scenario paths (the sweep
machinery's :func:`sim.sweeps.design.apply`, which validates the scenario again), runs only the
strategies the moments read, on trials ``0 .. trials-1`` of one root seed (common random
numbers: every vector sees the same trials), and returns their tables as arrays
(:class:`sim.calibration.moments.StrategyRun`). None of the calibrated parameters changes the
world, so the world is built once per seed and kept.

Everything the fit needs from the run stage goes through :meth:`Evaluator.runs` (and
:func:`moments_at`): when the run stage offers a public "evaluate these points on common random
numbers, keep built worlds" call, only this module changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.calibration.moments import TOTALS as MOMENT_TOTALS
from sim.calibration.moments import PanelRun, StrategyRun, moment_vector
from sim.calibration.spec import FreeParameter
from sim.calibration.targets import Target
from sim.campaign import kernel as ck
from sim.runner import WorldCache, prepare
from sim.scenario import Scenario
from sim.sweeps.design import apply
from sim.tasks import compute_chunk


class Evaluator:
    """Runs the base scenario at a parameter vector and returns the runs the moments read.

    Parameters
    ----------
    base : Scenario
        The panel scenario (fixed values applied).
    free : sequence of FreeParameter
    strategies : sequence of str
        The strategies to run (only those the moments read).
    trials, seed : int
        Every evaluation runs trials ``0 .. trials-1`` on this root seed (common random numbers).
    """

    def __init__(self, base: Scenario, free: Sequence[FreeParameter], strategies: Sequence[str], trials: int,
                 seed: int) -> None:
        # Only the strategies the moments read are kept: each evaluation then selects no other
        # partners, and another seed's world need only staff these.
        data = base.model_dump(mode="python")
        data.update(trials=trials, seed=seed, strategy_grid=None, sweep=None, baseline=None,
                    strategies=[s.model_dump(mode="python") for s in base.strategy_list if s.name in strategies])
        self.base = Scenario.model_validate(data)
        self.base._source = base._source
        self.free = tuple(free)
        self.trials = trials
        self.seed = seed
        names = [s.name for s in self.base.strategy_list]
        self.strategies = tuple(strategies)
        self._index = {n: names.index(n) for n in self.strategies}
        self._names = tuple(names)
        self._worlds = WorldCache()
        self.evaluations = 0

    def scenario(self, x: Sequence[float]) -> Scenario:
        """The base scenario with ``x`` written at the free parameters' paths."""
        out, _ = apply(self.base, {p.keys: float(v) for p, v in zip(self.free, x, strict=True)})
        return out

    def runs(self, x: Sequence[float]) -> PanelRun:
        """Every needed strategy's trials at ``x``."""
        scenario = self.scenario(x)
        prep = prepare(scenario, 1, self._worlds)  # the world depends on neither x nor trials: built once
        pop = prep.world.population
        out = {}
        for name in self.strategies:
            i = self._index[name]
            plan = prep.plans[i]
            tables = compute_chunk(scenario, prep.world, prep.model, plan, self._names, i, (0, self.trials))
            runs = tables.runs
            partners = tables.partners
            n_part = len(plan.partner_creator)
            c = plan.partner_creator
            out[name] = StrategyRun(
                name=name,
                totals={k: runs.column(k).to_numpy().astype(np.float64) for k in MOMENT_TOTALS},
                partners={k: partners.column(k).to_numpy().astype(np.float64).reshape(self.trials, n_part)
                          for k in ck.PARTNER},
                tier=tuple(pop.tiers[t] for t in pop.creator_tier[c]),
                platform=tuple(pop.platforms[p] for p in pop.creator_platform[c]),
                followers=pop.followers_sim[c].astype(np.float64) * pop.scale,
                cost=float(plan.cost),
                scale=float(pop.scale))
        self.evaluations += 1
        return out


def moments_at(evaluator: Evaluator, x: Sequence[float], targets: tuple[Target, ...]) -> np.ndarray:
    """The targets' simulated moments at ``x`` (natural units), float64[len(targets)]."""
    return moment_vector(evaluator.runs(x), targets)
