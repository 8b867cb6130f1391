"""The decision layer: a planner's answer from a run's trials over assumption points with weights.

:mod:`sim.decision.points` (the points and their weights), :mod:`sim.decision.core` (the
comparison: expected value, range across assumptions, chance of being best, regret, robust
choice, the assumption that changes the answer), :mod:`sim.decision.render` (the answer in
words, for the report and the terminal).
"""

from sim.decision.core import (
           DECISION_COLUMNS,
           Decision,
           Driver,
           Objective,
           decide,
           strategy_budgets,
)
from sim.decision.points import AssumptionPoints, weighted_quantiles

__all__ = ["DECISION_COLUMNS", "AssumptionPoints", "Decision", "Driver", "Objective", "decide", "strategy_budgets",
           "weighted_quantiles"]
