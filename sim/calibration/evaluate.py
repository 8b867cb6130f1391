"""Evaluating the calibration panel at parameter vectors: the one place that runs the model.

:class:`Evaluator` writes a parameter vector at the free parameters' scenario paths (the sweep
machinery's :func:`sim.input.design.apply`, which validates the scenario again), runs only the
strategies the moments read, on trials ``0 .. trials-1`` of one root seed (common random
numbers: every vector sees the same trials), and returns their tables as arrays
(:class:`sim.calibration.moments.StrategyRun`). None of the calibrated parameters changes the
world, so the world is built once per seed and kept.

The runs go through the run stage's public call for exactly this,
:class:`sim.execution.evaluate.PointEvaluator` (variants of a scenario on common random numbers,
worlds kept); the tables are read by column name (the moments' :data:`~sim.calibration.moments.TOTALS`
and :data:`~sim.calibration.moments.PARTNER`), so nothing here reaches into the runner or the
campaign family's kernel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.calibration.moments import DYNAMICS as MOMENT_DYNAMICS
from sim.calibration.moments import PARTNER as MOMENT_PARTNER
from sim.calibration.moments import TOTALS as MOMENT_TOTALS
from sim.calibration.moments import PanelRun, StrategyRun, moment_vector
from sim.calibration.spec import FreeParameter
from sim.calibration.targets import Target
from sim.execution.evaluate import PointEvaluator
from sim.input.design import apply
from sim.input.scenario import Scenario


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
        self.strategies = tuple(strategies)
        self._points = PointEvaluator()

    def scenario(self, x: Sequence[float]) -> Scenario:
        """The base scenario with ``x`` written at the free parameters' paths."""
        out, _ = apply(self.base, {p.keys: float(v) for p, v in zip(self.free, x, strict=True)})
        return out

    @property
    def evaluations(self) -> int:
        """Model evaluations so far."""
        return self._points.evaluations

    def runs(self, x: Sequence[float]) -> PanelRun:
        """Every needed strategy's trials at ``x`` (the world depends on neither x nor trials: built once)."""
        scenario = self.scenario(x)
        ev = self._points.evaluate(scenario, self.strategies)
        pop = ev.point.world.population
        dynamics = _dynamics(scenario)
        out = {}
        for name in self.strategies:
            plan = ev.plan(name)
            runs, partners = ev.tables[name].runs, ev.tables[name].partners
            n_part = len(plan.partner_creator)
            c = plan.partner_creator
            out[name] = StrategyRun(
                name=name,
                totals={k: runs.column(k).to_numpy().astype(np.float64) for k in MOMENT_TOTALS},
                partners={k: partners.column(k).to_numpy().astype(np.float64).reshape(self.trials, n_part)
                          for k in MOMENT_PARTNER},
                tier=tuple(pop.tiers[t] for t in pop.creator_tier[c]),
                platform=tuple(pop.platforms[p] for p in pop.creator_platform[c]),
                followers=pop.followers_sim[c].astype(np.float64) * pop.scale,
                cost=float(plan.cost),
                scale=float(pop.scale),
                dynamics=dynamics)
        return out


def _dynamics(scenario: Scenario) -> dict[str, float]:
    """The values of :data:`sim.calibration.moments.DYNAMICS` and each tier's initial trust."""
    model = scenario.model
    out = {k: float("nan") if getattr(model, k) is None else float(getattr(model, k)) for k in MOMENT_DYNAMICS}
    out.update({f"trust.{name}": float(tier.trust) for name, tier in scenario.world.tiers.items()})
    return out


def moments_at(evaluator: Evaluator, x: Sequence[float], targets: tuple[Target, ...]) -> np.ndarray:
    """The targets' simulated moments at ``x`` (natural units), float64[len(targets)]."""
    return moment_vector(evaluator.runs(x), targets)
