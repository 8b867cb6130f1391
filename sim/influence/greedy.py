"""Greedy maximisation of a set function, plain and lazy (CELF), with or without costs.

The objective is any function from a set of candidates to a number, e.g. the mean number of
adopters over a fixed batch of trials. Estimated on common random numbers (the same trials
for every set), it is a deterministic function of the set, so lazy and plain greedy can be
compared exactly. For a monotone submodular objective (Independent Cascade spread under fixed
live-edge draws, Kempe, Kleinberg & Tardos 2003) a candidate's marginal gain can only shrink
as the chosen set grows, which is what lets CELF (Leskovec et al. 2007, "Cost-effective
outbreak detection in networks", KDD) re-evaluate only the candidate at the top of its queue:
it then picks exactly what plain greedy picks, with far fewer evaluations. For objectives that
are not submodular (complex contagion) CELF is a heuristic and may differ from plain greedy.

With costs, both pick by marginal gain per unit cost among the candidates the remaining
budget affords (Leskovec et al.'s cost-benefit rule).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Objective = Callable[[tuple[int, ...]], float]


@dataclass(frozen=True)
class GreedyChoice:
    """The outcome of a greedy selection.

    Attributes
    ----------
    chosen : tuple of int
        Candidates in the order they were picked.
    values : tuple of float
        Objective of the chosen set after each pick (``values[i]`` = f(chosen[:i + 1])).
    spent : float
        Total cost of the chosen candidates (their number without costs).
    evaluations : int
        Objective evaluations made (plain greedy: about ``k * candidates``).
    """

    chosen: tuple[int, ...]
    values: tuple[float, ...]
    spent: float
    evaluations: int


def _costs(candidates: Sequence[int], cost: Sequence[float] | None) -> np.ndarray:
    c = np.ones(len(candidates)) if cost is None else np.asarray(cost, dtype=np.float64)
    if c.shape != (len(candidates),):
        raise ValueError(f"need one cost per candidate ({len(candidates)}), got shape {c.shape}")
    if not np.all(np.isfinite(c)) or np.any(c <= 0):
        raise ValueError("costs must be finite and > 0")
    return c


def _limits(k: int | None, budget: float | None, n: int) -> tuple[int, float]:
    if k is None and budget is None:
        raise ValueError("give k (how many to pick), budget (how much to spend), or both")
    if k is not None and k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if budget is not None and not budget >= 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    return (n if k is None else min(k, n)), (np.inf if budget is None else float(budget))


def plain_greedy(candidates: Sequence[int], objective: Objective, *, k: int | None = None,
                 budget: float | None = None, cost: Sequence[float] | None = None) -> GreedyChoice:
    """Greedy selection re-evaluating every affordable candidate at every step.

    Parameters
    ----------
    candidates : sequence of int
        Distinct candidate ids; ties in gain (per cost) go to the one listed first.
    objective : callable
        ``objective(tuple_of_ids) -> float``; called with the empty tuple once.
    k : int, optional
        Most candidates to pick.
    budget : float, optional
        Most total cost to spend (same unit as ``cost``).
    cost : sequence of float, optional
        Cost of each candidate (> 0); without it every candidate costs 1 and gains are compared
        as they are.

    Returns
    -------
    GreedyChoice
    """
    c = _costs(candidates, cost)
    k, budget = _limits(k, budget, len(candidates))
    chosen: list[int] = []
    values: list[float] = []
    left = list(range(len(candidates)))
    base = float(objective(()))
    evaluations, spent = 1, 0.0
    while len(chosen) < k:
        best, best_ratio, best_value = -1, -np.inf, base
        for i in left:
            if spent + c[i] > budget:
                continue
            value = float(objective((*chosen, candidates[i])))
            evaluations += 1
            ratio = (value - base) / c[i]
            if ratio > best_ratio:
                best, best_ratio, best_value = i, ratio, value
        if best < 0:
            break
        chosen.append(candidates[best])
        values.append(best_value)
        spent += c[best]
        base = best_value
        left.remove(best)
    return GreedyChoice(tuple(chosen), tuple(values), spent if cost is not None else float(len(chosen)),
                        evaluations)


def lazy_greedy(candidates: Sequence[int], objective: Objective, *, k: int | None = None,
                budget: float | None = None, cost: Sequence[float] | None = None) -> GreedyChoice:
    """CELF: greedy selection with lazy re-evaluation of marginal gains (Leskovec et al. 2007).

    Same parameters and result as :func:`plain_greedy`, and the same picks whenever the
    objective is submodular (gains never grow as the set grows). Each candidate's last
    computed gain per cost is kept in a priority queue as an upper bound; the top candidate is
    re-evaluated against the current set and picked if it is still on top, otherwise put back
    with its new gain. Ties go to the candidate listed first, as in :func:`plain_greedy`.
    """
    c = _costs(candidates, cost)
    k, budget = _limits(k, budget, len(candidates))
    base = float(objective(()))
    evaluations, spent = 1, 0.0
    # Queue entries: (-gain per cost, position, round the gain was computed in, value of set + it).
    queue: list[tuple[float, int, int, float]] = []
    for i, cand in enumerate(candidates):
        value = float(objective((cand,)))
        evaluations += 1
        queue.append((-(value - base) / c[i], i, 0, value))
    heapq.heapify(queue)
    chosen: list[int] = []
    values: list[float] = []
    while len(chosen) < k and queue:
        neg_ratio, i, computed, value = heapq.heappop(queue)
        if spent + c[i] > budget:
            continue  # spending only grows: never affordable again
        if computed == len(chosen):
            chosen.append(candidates[i])
            values.append(value)
            spent += c[i]
            base = value
            continue
        value = float(objective((*chosen, candidates[i])))
        evaluations += 1
        heapq.heappush(queue, (-(value - base) / c[i], i, len(chosen), value))
    return GreedyChoice(tuple(chosen), tuple(values), spent if cost is not None else float(len(chosen)),
                        evaluations)
