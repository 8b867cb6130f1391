"""A planner's decision: which strategy to choose, how sure we are, and what would change the answer.

Two kinds of uncertainty are kept apart (Kwakkel 2017's EMA Workbench keeps them apart too):

* **Assumption uncertainty**: strategies are compared at every assumption point (a sweep's
  points, later calibration's posterior draws), each with a weight (:class:`AssumptionPoints`).
  A strategy's *range across assumptions* is the 10th-90th percentile of its mean outcome over
  the points; its *regret* at a point is its shortfall to the best strategy at that point
  (Savage 1951), averaged and maximised over the points.
* **Monte Carlo error**: each point's mean is an average over a finite number of trials. The
  *chance of being best* resamples the trials within each point (a paired bootstrap: the same
  resampled trials for every strategy, which keeps common random numbers; Efron & Tibshirani
  1993) and counts how often each strategy wins, weighted over the points; the Monte Carlo
  standard error of an expected value is the bootstrap's.

The recommendation is the best expected value of the objective among the strategies within
budget; the robust choice beside it minimises the largest regret (minimax regret, Savage 1951),
and the best 10th percentile is named too. "The assumption that most changes the answer" is
the uncertainty whose values explain most of the recommendation's regret over the points (a
weighted correlation ratio, eta squared; McKay 1995): where the recommendation loses, which
strategy wins instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from sim.base.fmt import param
from sim.base.rng import Stream, numpy_generator
from sim.results.assumptions import AssumptionPoints, weighted_quantiles


class Objective(StrEnum):
    """What a planner maximises: ``adopters`` (sign-ups within the budget) or minimises:
    ``cost_per_adopter`` (USD per sign-up)."""

    ADOPTERS = "adopters"
    COST_PER_ADOPTER = "cost_per_adopter"

    @property
    def higher_is_better(self) -> bool:
        """Whether a larger value of the objective is better."""
        return self is Objective.ADOPTERS


#: Bootstrap resamples of the trials per point behind ``p_best`` (fewer with many points).
RESAMPLES = 400
#: Most (resamples x points x strategies x trials) values one decision resamples.
_RESAMPLE_WORK = 2e8

#: Per-strategy decision columns, in order (see :class:`Decision`).
DECISION_COLUMNS = (
    "strategy", "rank", "within_budget", "budget", "cost", "unspent", "adopters_mean", "adopters_p10",
    "adopters_p50", "adopters_p90", "adopters_mc_sem", "cost_per_adopter", "objective_mean", "objective_mc_sem",
    "objective_worst10", "p_best", "regret_mean", "regret_max", "best_at")


@dataclass(frozen=True)
class Driver:
    """The assumption that most changes the answer.

    Attributes
    ----------
    label : str
        The uncertainty (or posterior parameter).
    explained : float
        Share in [0, 1] of the weighted variance over points of the recommendation's regret
        (or, where it never has regret, of its objective) that the label's values explain.
    where : str
        The values where the recommendation does worst (``trust_growth = 0``).
    winner : str or None
        The best strategy there in expectation (None: the recommendation itself).
    loss : float
        The recommendation's mean regret there (objective units; 0 when it is best there).
    low, high : float
        The recommendation's mean objective at the label's worst and best values.
    """

    label: str
    explained: float
    where: str
    winner: str | None
    loss: float
    low: float
    high: float


@dataclass(frozen=True, eq=False)
class Decision:
    """The planner's answer, typed.

    Attributes
    ----------
    objective : Objective
    budget : float or None
        The planner's budget (USD): strategies costing more are not candidates. None: no cap.
    recommended : str or None
        Best expected objective among the candidates, the cheapest of equals (None: no strategy is
        within budget).
    robust : str or None
        Smallest largest regret (minimax regret) among the candidates.
    best_worst10 : str or None
        Best 10th-percentile outcome across assumptions (for cost per adopter: best 90th).
    runner_up : str or None
        Second-best expected objective.
    margin : float
        Expected objective of the recommendation minus the runner-up's, signed so that > 0 means
        the recommendation is better (sign-ups, or USD per sign-up saved).
    margin_mc_sem : float
        Monte Carlo standard error of ``margin`` (paired bootstrap).
    beats_runner_up : float
        Weighted share of the points where the recommendation beats the runner-up.
    points : AssumptionPoints
    trials : int
        Trials per strategy and point.
    resamples : int
        Bootstrap resamples per point behind ``p_best`` and the Monte Carlo errors.
    driver : Driver or None
        The assumption that most changes the answer (None: one point, or nothing varies).
    table : DataFrame
        :data:`DECISION_COLUMNS`, one row per strategy, best first (candidates before
        strategies over budget). ``objective_*`` and ``regret_*`` are in objective units
        (sign-ups, or USD per sign-up); ``adopters_p10/p50/p90`` are percentiles across
        assumption points of the mean sign-ups at each point; ``best_at`` is the weighted share
        of points where the strategy has the best mean.
    """

    objective: Objective
    budget: float | None
    recommended: str | None
    robust: str | None
    best_worst10: str | None
    runner_up: str | None
    margin: float
    margin_mc_sem: float
    beats_runner_up: float
    points: AssumptionPoints
    trials: int
    resamples: int
    driver: Driver | None
    table: pd.DataFrame

    def row(self, strategy: str) -> pd.Series:
        """The decision columns of one strategy."""
        return self.table.set_index("strategy").loc[strategy]


def _arrays(table: pd.DataFrame, strategies: Sequence[str], ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Adopters per (strategy, point, trial) and cost per (strategy, point), trials in the same order."""
    has_point = "point" in table.columns
    keys = ["point", "strategy"] if has_point else ["strategy"]
    ordered = table.sort_values([*keys, "trial"], kind="stable")
    groups = ordered.groupby(keys, sort=False, observed=True).indices
    adopted = ordered["adopted"].to_numpy(np.float64)
    cost = ordered["cost"].to_numpy(np.float64) if "cost" in ordered.columns else np.zeros(len(ordered))
    trial = ordered["trial"].to_numpy()
    first = groups.get((ids[0], strategies[0]) if has_point else strategies[0])
    if first is None:
        raise ValueError(f"no trials of strategy {strategies[0]} at point {ids[0]}")
    trials = trial[first]
    a = np.empty((len(strategies), len(ids), len(trials)))
    c = np.empty((len(strategies), len(ids)))
    for j, p in enumerate(ids):
        for i, s in enumerate(strategies):
            rows = groups.get((p, s) if has_point else s)
            if rows is None or not np.array_equal(trial[rows], trials):
                raise ValueError(f"strategy {s} at point {p} was not run on the same trials as the others; "
                                 "a decision compares strategies on common random numbers")
            a[i, j] = adopted[rows]
            c[i, j] = cost[rows[0]]
    return a, c


def _utility(objective: Objective, cost: np.ndarray, adopters: np.ndarray) -> np.ndarray:
    """The objective as "higher is better": mean adopters, or minus cost per adopter (-inf with none)."""
    if objective is Objective.ADOPTERS:
        return adopters
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(adopters > 0, -cost / np.where(adopters > 0, adopters, 1.0), -np.inf)


def _win_shares(u: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Per strategy, its share of the wins in each column of ``u`` (ties split), among ``candidates``."""
    masked = np.where(candidates[:, None], u, -np.inf)
    best = masked.max(axis=0)
    tie = (masked == best) & candidates[:, None]
    return tie / np.maximum(tie.sum(axis=0), 1)


def _groups(x: Sequence, w: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Group points by a label's values: its levels (names, or at most 8 distinct numbers), else
    up to five bins of equal weight. Returns a group number per point and each group's words."""
    if any(isinstance(v, str) for v in x) or len(set(x)) <= 8:
        levels = list(dict.fromkeys(x))
        if all(not isinstance(v, str) for v in levels):
            levels.sort()
        index = {v: k for k, v in enumerate(levels)}
        return np.array([index[v] for v in x]), [param(v) for v in levels]
    v = np.asarray(x, dtype=np.float64)
    bins = min(5, max(2, len(set(x)) // 4))
    edges = weighted_quantiles(v, w, np.linspace(0, 1, bins + 1)[1:-1])
    g = np.searchsorted(edges, v, side="right")
    words = []
    for k in range(bins):
        inside = v[g == k]
        words.append(f"{param(inside.min())}–{param(inside.max())}" if len(inside) else "")
    return g, words


def _eta2(y: np.ndarray, groups: np.ndarray, w: np.ndarray) -> float:
    """Weighted correlation ratio: the share of y's weighted variance between the groups."""
    m = np.sum(w * y)
    total = np.sum(w * (y - m) ** 2)
    if not total > 1e-12 * max(1.0, m * m):
        return 0.0
    between = 0.0
    for g in np.unique(groups):
        k = groups == g
        wg = w[k].sum()
        if wg > 0:
            between += wg * (np.sum(w[k] * y[k]) / wg - m) ** 2
    return float(between / total)


def _driver(points: AssumptionPoints, u: np.ndarray, regret: np.ndarray, candidates: np.ndarray,
            rec: int, names: Sequence[str], sign: float) -> Driver | None:
    """The label that explains most of the recommendation's regret (else of its objective)."""
    if points.n < 2 or not points.labels:
        return None
    w = points.weights
    loses = regret[rec].max() > 0
    y = regret[rec] if loses else u[rec]
    best: tuple[float, int] | None = None
    for k in range(len(points.labels)):
        groups, _ = _groups([v[k] for v in points.values], w)
        e = _eta2(y, groups, w)
        if best is None or e > best[0]:
            best = (e, k)
    assert best is not None  # points.labels is not empty (checked above)
    explained, k = best
    groups, words = _groups([v[k] for v in points.values], w)
    label = points.labels[k]
    means = {}
    for g in np.unique(groups):
        m = groups == g
        wg = w[m] / w[m].sum()
        means[int(g)] = (float(np.sum(wg * regret[rec, m])), float(np.sum(wg * u[rec, m])),
                         np.where(candidates, (u[:, m] * wg).sum(axis=1), -np.inf))
    worst = max(means, key=lambda g: (means[g][0], -means[g][1]))
    top = min(means, key=lambda g: (means[g][0], -means[g][1]))
    if not loses:
        worst = min(means, key=lambda g: means[g][1])
        top = max(means, key=lambda g: means[g][1])
    winner = int(np.argmax(means[worst][2]))
    return Driver(label=label, explained=explained, where=f"{label} = {words[worst]}",
                  winner=None if winner == rec else names[winner], loss=means[worst][0],
                  low=sign * means[worst][1], high=sign * means[top][1])


def decide(table: pd.DataFrame, strategies: Sequence[str], points: AssumptionPoints, *,
           objective: Objective | str = Objective.ADOPTERS, budget: float | None = None,
           budgets: Mapping[str, float | None] | None = None, seed: int = 0,
           resamples: int = RESAMPLES) -> Decision:
    """Compare strategies over assumption points and Monte Carlo trials; recommend one.

    Parameters
    ----------
    table : DataFrame
        Trial table: ``strategy``, ``trial``, ``adopted``, ``cost`` (USD, campaign runs) and, with
        several points, ``point``. Every strategy must be run on the same trials at every point.
    strategies : sequence of str
        The strategies to compare, in scenario order (ties go to the earlier one).
    points : AssumptionPoints
        The points and their weights (:meth:`AssumptionPoints.from_design`, or posterior draws).
    objective : Objective
        ``adopters`` (default) or ``cost_per_adopter``.
    budget : float, optional
        USD: strategies whose cost exceeds it at any point are not candidates.
    budgets : mapping, optional
        What each strategy was given to spend (USD), for the ``unspent`` column.
    seed : int
        Root seed; the bootstrap draws from stream ``DECISION``.
    resamples : int
        Bootstrap resamples per point (fewer when points x strategies x trials is large).

    Returns
    -------
    Decision
    """
    objective = Objective(objective)
    names = list(strategies)
    a, c = _arrays(table, names, points.ids)
    s_n, p_n, t_n = a.shape
    w = points.weights
    sign = 1.0 if objective.higher_is_better else -1.0
    means = a.mean(axis=2)
    u = _utility(objective, c, means)
    cost = (c * w).sum(axis=1)
    candidates = np.ones(s_n, dtype=bool) if budget is None else c.max(axis=1) <= budget * (1 + 1e-9)
    best_u = np.where(candidates[:, None], u, -np.inf).max(axis=0)
    with np.errstate(invalid="ignore"):
        regret = np.where(candidates[:, None], best_u[None, :] - u, np.nan)
    regret = np.where(np.isnan(regret) & candidates[:, None], np.inf, regret)  # -inf - -inf: never adopted
    expected = np.where(np.isfinite(u), u, np.where(u > 0, np.inf, -1e300)) @ w if objective is Objective.ADOPTERS \
        else np.array([np.sum(w * u[i]) if np.isfinite(u[i]).all() else -np.inf for i in range(s_n)])
    best_at = _win_shares(u, candidates) @ w

    # Monte Carlo: resample trials within each point, the same trials for every strategy.
    resamples = int(max(20, min(resamples, _RESAMPLE_WORK // max(1, s_n * p_n * t_n))))
    wins = np.zeros(s_n)
    boot = np.zeros((s_n, resamples))
    for j in range(p_n):
        rng = numpy_generator(seed, Stream.DECISION, points.ids[j])
        idx = rng.integers(0, t_n, size=(resamples, t_n))
        mb = a[:, j, :][:, idx].mean(axis=2)  # strategies x resamples
        ub = _utility(objective, c[:, j : j + 1], mb)
        wins += w[j] * _win_shares(ub, candidates).mean(axis=1)
        boot += w[j] * ub
    with np.errstate(invalid="ignore"):
        mc_sem = np.where(np.isfinite(boot).all(axis=1), boot.std(axis=1, ddof=1), np.nan)
        sem_adopters = np.sqrt(((a.std(axis=2, ddof=1) / math.sqrt(t_n)) ** 2 * w**2).sum(axis=1)) if t_n > 1 \
            else np.full(s_n, np.nan)

    q = np.array([weighted_quantiles(means[i], w, (0.1, 0.5, 0.9)) for i in range(s_n)])
    worst10 = np.array([sign * weighted_quantiles(u[i], w, (0.1,))[0] for i in range(s_n)])
    exp_adopters = means @ w
    with np.errstate(divide="ignore", invalid="ignore"):
        cpa = np.where(exp_adopters > 0, cost / exp_adopters, np.nan)
    given = [None if budgets is None else budgets.get(s) for s in names]
    frame = pd.DataFrame({
        "strategy": names,
        "within_budget": candidates,
        "budget": [np.nan if b is None else b for b in given],
        "cost": cost,
        "unspent": [np.nan if b is None else b - cost[i] for i, b in enumerate(given)],
        "adopters_mean": exp_adopters,
        "adopters_p10": q[:, 0], "adopters_p50": q[:, 1], "adopters_p90": q[:, 2],
        "adopters_mc_sem": sem_adopters,
        "cost_per_adopter": cpa,
        "objective_mean": sign * expected,
        "objective_mc_sem": mc_sem,
        "objective_worst10": worst10,
        "p_best": np.where(candidates, wins, np.nan),
        "regret_mean": np.where(candidates, np.nansum(np.where(candidates[:, None], regret, 0) * w, axis=1), np.nan),
        "regret_max": np.where(candidates, np.where(candidates[:, None], regret, -np.inf)[:, w > 0].max(axis=1)
                               if p_n else np.nan, np.nan),
        "best_at": np.where(candidates, best_at, np.nan),
    })
    # Best first: candidates by expected objective, equal ones cheapest first (then in scenario order);
    # then the strategies over budget.
    order = sorted(range(s_n), key=lambda i: (not candidates[i], -expected[i], cost[i], i))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(1, "rank", np.arange(1, s_n + 1))
    frame = frame[list(DECISION_COLUMNS)]

    cand = [i for i in order if candidates[i]]
    rec = cand[0] if cand else None
    ru = cand[1] if len(cand) > 1 else None
    margin = margin_sem = beats = math.nan
    if rec is not None and ru is not None:
        margin = float(expected[rec] - expected[ru])
        d = boot[rec] - boot[ru]
        margin_sem = float(d.std(ddof=1)) if np.isfinite(d).all() else math.nan
        beats = float(np.sum(w * (u[rec] > u[ru])))
    robust = best10 = None
    if cand:
        robust = names[min(cand, key=lambda i: (frame.loc[frame["strategy"] == names[i], "regret_max"].iloc[0],
                                               -expected[i], i))]
        best10 = names[max(cand, key=lambda i: (sign * worst10[i], expected[i], -i))]
    driver = _driver(points, u, np.nan_to_num(regret, nan=0.0, posinf=0.0), candidates, rec, names, sign) \
        if rec is not None else None
    return Decision(objective=objective, budget=budget, recommended=None if rec is None else names[rec],
                    robust=robust, best_worst10=best10, runner_up=None if ru is None else names[ru],
                    margin=margin, margin_mc_sem=margin_sem, beats_runner_up=beats, points=points, trials=t_n,
                    resamples=resamples, driver=driver, table=frame)


def with_decision(table: pd.DataFrame, decision: Decision) -> pd.DataFrame:
    """The planner's table (:meth:`sim.results.Results.strategy_table`) with the decision columns of each
    strategy (across assumption points), rows best strategy first (then by point): ``strategies.csv``."""
    cols = ["strategy", "rank", "within_budget", "budget", "unspent", "p_best", "regret_mean", "regret_max",
            "adopters_p10", "adopters_p50", "adopters_p90"]
    out = table.merge(decision.table[cols], on="strategy", how="left")
    keys = ["rank", "point"] if "point" in out.columns else ["rank"]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)
