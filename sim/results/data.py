"""Results of a run: its tables and facts (:class:`~sim.execution.output.RunData`) and their statistics.

The trial table has one row per (strategy, trial). Classic models give the columns

=================  =======  ================================================
``strategy``       str      strategy name
``trial``          int64    trial number (the same numbers for every strategy)
``adopted``        int64    final number of active accounts, recruits included
``adopted_fraction`` float  ``adopted / n`` (n = accounts in the world)
``steps``          int32    step of the last activation (0: nothing spread)
=================  =======  ================================================

Campaign runs give :data:`sim.campaign.spec.CAMPAIGN_OUTCOMES` (counts in real accounts,
fractions of the audience, USD), and their per-day, per-partner and per-segment tables, the
roster of partners and the cascade trees in :attr:`Results.campaign`
(:class:`sim.campaign.metrics.CampaignTables`).

Rows are ordered by sweep point (sweeps only), then strategy (as listed in the scenario), then
trial, whatever the executor, the number of workers or interruptions.

Results are data: writing them out is the report stage's (:func:`sim.save`, and :func:`sim.run`
with ``out``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from sim.execution.output import RunData
from sim.families.registry import family_of
from sim.input.sweep import DesignKind
from sim.results.assumptions import AssumptionPoints
from sim.results.decision import Decision, Objective, decide
from sim.results.sensitivity import indices
from sim.results.summary import strategy_table as planner_table
from sim.results.summary import summarize


@dataclass(frozen=True, eq=False)
class Results(RunData):
    """What :func:`sim.run` returns: the run's data (see :class:`~sim.execution.output.RunData` for
    the attributes) and its statistics, each computed once.

    Attributes
    ----------
    optimized : str or None
        The optimizer's plan among the strategies (``run_experiment.py optimize``): it was given
        the ``optimize`` block's budget, which its ``unspent`` is measured against.
    """

    optimized: str | None = None

    @classmethod
    def of(cls, run: RunData) -> Results:
        """The results of a run."""
        return cls(run.scenario, run.design, run.table, run.world, run.info, run.point_worlds, run.campaign)

    @property
    def points(self) -> pd.DataFrame | None:
        """Sweeps: one row per point, ``point`` and the value of each uncertainty (by label)."""
        if not self.is_sweep:
            return None
        return pd.DataFrame([{"point": p.index, **dict(p.values)} for p in self.design.points])

    @property
    def outcomes(self) -> tuple[str, ...]:
        """The outcome columns of the trial table."""
        return family_of(self.scenario).outcomes

    @property
    def strategies(self) -> list[str]:
        """Strategy names in scenario order."""
        return [s.name for s in self.scenario.strategy_list]

    def summary(self) -> pd.DataFrame:
        """Per (point,) strategy and outcome: mean, standard error, 95% CI, and the paired difference
        to the baseline strategy (see :func:`sim.results.summary.summarize`); sweeps add the points'
        values."""
        out = self._summary
        points = self.points  # None unless a sweep
        return out if points is None else points.merge(out, on="point", how="right")

    @functools.cached_property
    def _summary(self) -> pd.DataFrame:
        # Computed once: the summary feeds the CSV, the planner's table, the figures and the report.
        return summarize(self.table, self.strategies, self.outcomes, self.scenario.baseline_name)

    def strategy_table(self) -> pd.DataFrame | None:
        """Runs whose strategies cost something: the planner's table, one row per (point,) strategy:
        cost, adopters with CI, paired difference to the baseline, costs per engagement and adopter,
        Pareto frontier. None for outcomes without costs."""
        if "cost" not in self.outcomes:
            return None
        return planner_table(self._summary, self.points)

    def decision(self, points: AssumptionPoints | None = None, *, objective: Objective | str | None = None,
                 budget: float | None = None) -> Decision | None:
        """Runs whose strategies cost something: the planner's answer (:class:`sim.results.decision.Decision`):
        the recommended strategy for the scenario's ``objective`` within its ``budget``, its range across
        assumption points, chance of being best, regret, the robust choice and the assumption that most
        changes the answer. None for outcomes without costs.

        Parameters
        ----------
        points : AssumptionPoints, optional
            The points and their weights (default: the run's sweep points, equally weighted).
        objective, budget : optional
            Override the scenario's ``objective`` and ``budget``.
        """
        if "cost" not in self.outcomes:
            return None
        if points is None and objective is None and budget is None:
            return self._decision
        return self._decide(points, objective, budget)

    @functools.cached_property
    def _decision(self) -> Decision:
        return self._decide(None, None, None)

    def _decide(self, points: AssumptionPoints | None, objective, budget: float | None) -> Decision:
        s = self.scenario
        budgets = family_of(s).budgets(s)  # what each strategy was given to spend
        if self.optimized is not None and s.optimize is not None:  # the plan was given the optimizer's budget
            plan_budget = s.optimize.budget or s.budget
            assert plan_budget is not None  # validated (sim.campaign.spec): optimize or the scenario gives one
            budgets[self.optimized] = float(plan_budget)
        return decide(self.table, self.strategies, points or AssumptionPoints.from_design(self.design),
                      objective=objective or s.objective, budget=budget if budget is not None else s.budget,
                      budgets=budgets, seed=s.seed)

    def sensitivity(self) -> pd.DataFrame | None:
        """Sobol and Morris sweeps: sensitivity indices per strategy and outcome, with 95% CIs
        (see :func:`sim.results.sensitivity.indices`); None for other runs."""
        spec = self.design.spec  # None unless a sweep
        if spec is None or spec.design not in (DesignKind.SOBOL, DesignKind.MORRIS):
            return None
        return self._sensitivity

    @functools.cached_property
    def _sensitivity(self) -> pd.DataFrame:
        return indices(self.design, self.table, self.strategies)
