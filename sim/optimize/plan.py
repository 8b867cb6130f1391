"""The optimizer's plan space: a point of it (budget shares, schedule, whether leftover money moves on)
turned into a runnable strategy, its partners and its cost.

A plan gives each allowed ``tier.platform`` cell a weight in [0, 1] (below :data:`OFF` the cell is not
used; the others share the budget in proportion), picks one schedule, and says whether money a cell
cannot spend (partners come in whole units, and a roster may run out of creators) moves on to the
other cells, heaviest first. Partner counts follow: each cell hires as many partners as its money
buys, in the ``select`` order, and the plan as a whole at most ``max_partners``. Whatever is still
left is reported as unspent. The strategy written out spends, in each cell, exactly what its
partners cost, so running it hires the same creators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from sim.campaign.feasibility import cells_of
from sim.campaign.spec import PostGroup
from sim.input.scenario import Scenario, Strategy
from sim.input.sweep import GridSchedule
from sim.results.decision import Objective
from sim.world.spec import TierName, is_tier

#: Weights below this leave a cell out of the plan (so that "not at all" is reachable by a
#: continuous search).
OFF = 0.05

#: How a post group picks its partners (:class:`sim.campaign.spec.PostGroup`'s ``select``).
SelectRule = Literal["random", "top_followers", "most_aligned", "greedy"]


@dataclass(frozen=True)
class Problem:
    """An ``optimize`` block resolved against its scenario (defaults filled in).

    Attributes
    ----------
    budget : float
        USD a plan may spend.
    max_partners : int or None
    cells : tuple of str
        ``tier.platform`` cells, in order.
    schedules : dict
        Name -> :class:`sim.input.sweep.GridSchedule`.
    objective : Objective
    criterion : {"expected", "robust"}
    evaluations, trials : int
    select : str
    """

    budget: float
    max_partners: int | None
    cells: tuple[str, ...]
    schedules: dict[str, GridSchedule]
    objective: Objective
    criterion: str
    evaluations: int
    trials: int
    select: SelectRule


def schedule_days(schedule: GridSchedule) -> list[int]:
    """The posting days of a schedule choice (its ``days``, or its ``schedule``'s)."""
    if schedule.days is not None:
        return schedule.days
    assert schedule.schedule is not None  # GridSchedule is validated: exactly one of days and schedule
    return schedule.schedule.days()


def split_cell(cell: str) -> tuple[TierName, str]:
    """A ``tier.platform`` cell's tier and platform."""
    parts = cell.split(".")
    tier = parts[0]
    assert is_tier(tier)  # cells are validated against the world's tiers (sim.campaign.spec)
    return tier, parts[1]


def resolve(scenario: Scenario) -> Problem:
    """The scenario's ``optimize`` block with its defaults (budget, schedules, objective, select)."""
    spec = scenario.optimize
    if spec is None:
        raise ValueError("the scenario has no 'optimize' block (docs/sweeps.md, 'Optimizing')")
    grid = scenario.strategy_grid
    select: SelectRule = spec.select or (grid.select if grid is not None and grid.select != "greedy"
                                         else "top_followers")
    # validated (sim.campaign.spec): a budget here or at the top level, schedules here or in the grid
    budget = spec.budget or scenario.budget
    assert budget is not None
    schedules = spec.schedules
    if not schedules:
        assert grid is not None
        schedules = grid.schedules
    return Problem(budget=float(budget), max_partners=spec.max_partners,
                   cells=tuple(cells_of(scenario)), schedules=dict(schedules),
                   objective=Objective(spec.objective or scenario.objective), criterion=spec.criterion,
                   evaluations=spec.evaluations, trials=spec.trials, select=select)


@dataclass(frozen=True)
class Params:
    """A point of the search space: a weight per cell, a schedule, and whether leftover money moves on."""

    weights: tuple[float, ...]
    schedule: str
    spend_leftover: bool

    def shares(self) -> np.ndarray:
        """Budget shares per cell (0 for cells below :data:`OFF`); all 0 if every cell is off."""
        w = np.where(np.asarray(self.weights) >= OFF, np.asarray(self.weights), 0.0)
        return w / w.sum() if w.sum() > 0 else w


def strategy(problem: Problem, budgets: dict[str, float], schedule: str, name: str = "optimized") -> Strategy:
    """A runnable strategy spending ``budgets[cell]`` in each cell, heaviest cell first."""
    sched = problem.schedules[schedule]
    when = {"days": sched.days} if sched.days is not None else {"schedule": sched.schedule}
    groups = [PostGroup(tier=split_cell(c)[0], platform=split_cell(c)[1], budget=float(b), select=problem.select,
                        **when) for c, b in budgets.items() if b > 0]
    if not groups:  # nothing to spend: a plan that hires nobody (scored as such)
        tier, platform = split_cell(problem.cells[0])
        groups = [PostGroup(tier=tier, platform=platform, budget=0.0, select=problem.select, **when)]
    return Strategy(name=name, posts=groups, max_partners=problem.max_partners)


def initial_budgets(problem: Problem, params: Params) -> dict[str, float]:
    """Each cell's share of the budget, heaviest cell first (ties in cell order)."""
    shares = params.shares()
    order = sorted(range(len(problem.cells)), key=lambda i: (-shares[i], i))
    return {problem.cells[i]: float(shares[i] * problem.budget) for i in order if shares[i] > 0}


def spent_by_cell(schedule, pop) -> dict[str, float]:
    """USD a built plan spends in each cell (its partners' costs; a plan has one group per cell)."""
    out: dict[str, float] = {}
    for c, cost in zip(schedule.partner_creator, schedule.partner_cost, strict=True):
        cell = f"{pop.tiers[pop.creator_tier[c]]}.{pop.platforms[pop.creator_platform[c]]}"
        out[cell] = out.get(cell, 0.0) + float(cost)
    return out


def partners_by_cell(schedule, pop) -> dict[str, int]:
    """Partners a built plan hires in each cell."""
    out: dict[str, int] = {}
    for c in schedule.partner_creator:
        cell = f"{pop.tiers[pop.creator_tier[c]]}.{pop.platforms[pop.creator_platform[c]]}"
        out[cell] = out.get(cell, 0) + 1
    return out
