"""The search: Optuna's TPE sampler over the plan space, on common random numbers, seeded with the grid.

Why Optuna (Akiba et al. 2019, KDD): the plan space mixes continuous budget weights, a categorical
schedule and a yes/no choice, which its define-by-run API takes as they are (SciPy's optimizers
want a box of reals; pymoo and nevergrad need the categorical encoded by hand); its Tree-structured
Parzen Estimator (Bergstra et al. 2011; multivariate, Falkner et al. 2018) copes with a noisy,
non-smooth objective at a few dozen evaluations, each of which costs a simulation; ``enqueue_trial``
evaluates given points first, which is how the grid's strategies seed the search; and its journal
storage appends every finished evaluation to a file, so an interrupted search resumes with
nothing lost. It is maintained, seeded (reproducible) and pure Python.

Every plan is evaluated on the same trials at every assumption point (common random numbers), so
plans are compared on the same random numbers; those trials are keyed apart from the trials the
results are reported on (stream ``OPTIMIZE``), so the optimizer's choice is then scored on fresh
randomness and does not look better than it is (the optimizer's curse; Smith & Winkler 2006).
Since every grid strategy inside the search space is evaluated first, exactly, on the search's
trials, the plan returned is never worse than the best of them on those trials; on the report's
trials it is within Monte Carlo error of it or better (tested).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.base.rng import Stream, derive, numpy_generator, root_key
from sim.campaign.family import prices
from sim.campaign.kernel import TOTALS
from sim.campaign.model import CampaignError, CampaignWorldArrays, Schedule, build_schedule, simulate
from sim.campaign.spec import CampaignModel
from sim.execution.prepare import WorldCache
from sim.families.registry import family_of
from sim.input.design import design
from sim.input.scenario import Scenario, Strategy
from sim.optimize.plan import (
    OFF,
    Params,
    Problem,
    initial_budgets,
    partners_by_cell,
    resolve,
    schedule_days,
    spent_by_cell,
    split_cell,
    strategy,
)
from sim.results.assumptions import AssumptionPoints, weighted_quantiles
from sim.results.decision import Objective
from sim.world.population import Population
from sim.world.spec import CreatorAudienceWorld


@dataclass(frozen=True, eq=False)
class PointContext:
    """One assumption point made ready: its scenario, population, compiled world arrays and weight."""

    scenario: Scenario
    pop: Population
    arrays: CampaignWorldArrays
    weight: float


def contexts(scenario: Scenario, workers: int = 1) -> tuple[list[PointContext], AssumptionPoints]:
    """Every assumption point of the scenario's sweep, built (worlds shared where the sweep allows)."""
    des = design(scenario)
    points = AssumptionPoints.from_design(des)
    cache = WorldCache()
    out = []
    for point, w in zip(des.points, points.weights, strict=True):
        world = cache.world(point.scenario, workers)
        compiled = family_of(point.scenario).compile(point.scenario, world)
        # an optimize block is a campaign scenario's (sim.campaign.spec): a population and its arrays
        assert world.population is not None and isinstance(compiled, CampaignWorldArrays)
        out.append(PointContext(point.scenario, world.population, compiled, float(w)))
    return out, points


def search_key(scenario: Scenario) -> str:
    """What identifies a search: the scenario without the number of evaluations (a search asked for
    more evaluations continues the one that stopped at fewer)."""
    import hashlib
    import json

    data = json.loads(scenario.canonical_json())
    data.get("optimize", {}).pop("evaluations", None)
    return hashlib.sha256(json.dumps(data, separators=(",", ":")).encode()).hexdigest()


def search_root(seed: int) -> np.uint64:
    """Root key of the trials plans are searched on (stream ``OPTIMIZE``), apart from the reported trials."""
    return derive(root_key(seed), np.uint64(int(Stream.OPTIMIZE)))


@dataclass(frozen=True)
class Evaluation:
    """A plan built and simulated.

    Attributes
    ----------
    budgets : dict
        USD per cell the written strategy gives (what its partners cost), heaviest cell first.
    partners : dict
        Partners per cell (at the first point).
    cost, unspent : float
        USD spent and left of the budget (at the first point).
    adopters : float64[points]
        Mean sign-ups per point over the search trials (real accounts).
    costs : float64[points]
    value : float
        The criterion (higher is better: sign-ups, or minus USD per sign-up).
    """

    budgets: dict[str, float]
    partners: dict[str, int]
    cost: float
    unspent: float
    adopters: np.ndarray
    costs: np.ndarray
    value: float


def _schedule(ctx: PointContext, strat: Strategy) -> Schedule:
    """The plan's partners and posts at one point (problems are reported at the ``optimize`` block)."""
    s = ctx.scenario
    # a campaign scenario (see contexts) and a plan's strategy, which always has post groups
    assert isinstance(s.world, CreatorAudienceWorld) and isinstance(s.model, CampaignModel)
    assert strat.posts is not None
    return build_schedule(ctx.pop, s.world, s.model, strat.name, strat.posts, [("optimize",)] * len(strat.posts),
                          prices(s), s.seed, ctx.arrays, strat.max_partners)


def build_plan(problem: Problem, ctx: PointContext, params: Params) -> tuple[dict[str, float], Schedule]:
    """A plan's budgets per cell after leftover money has moved on (when it may), and its schedule.

    Each cell first gets its share of the budget. With ``spend_leftover``, the money the cells
    leave (whole partners, a roster running out, the partner cap) is offered to each cell in turn,
    heaviest first, and the cell keeps what buys partners. The budgets returned are what each
    cell's partners cost, so the strategy hires the same creators when run.
    """
    days = schedule_days(problem.schedules[params.schedule])
    budgets: dict[str, float] = {}
    for cell, b in initial_budgets(problem, params).items():
        cheapest, most = cell_capacity(ctx, cell, days)
        # Money that buys nobody in a cell, or more than the cell's creators cost, is left over.
        budgets[cell] = 0.0 if b < cheapest else min(b, most)
    budgets = {c: b for c, b in budgets.items() if b > 0} or {problem.cells[0]: 0.0}
    sched = _schedule(ctx, strategy(problem, budgets, params.schedule))
    spent = spent_by_cell(sched, ctx.pop)
    if params.spend_leftover:
        for cell in list(budgets):
            left = problem.budget - sum(spent.values())
            if left <= 0:
                break
            cheapest, most = cell_capacity(ctx, cell, days)
            offer = min(spent.get(cell, 0.0) + left, most)
            if offer < cheapest:
                continue
            trial = {c: (offer if c == cell else spent.get(c, 0.0)) for c in budgets}
            try:
                sched_ = _schedule(ctx, strategy(problem, trial, params.schedule))
            except CampaignError:
                continue
            spent_ = spent_by_cell(sched_, ctx.pop)
            if sum(spent_.values()) > sum(spent.values()):
                sched, spent = sched_, spent_
    final = {c: spent[c] for c in budgets if spent.get(c, 0.0) > 0}
    return final, sched


def cell_capacity(ctx: PointContext, cell: str, days: list[int]) -> tuple[float, float]:
    """The cheapest partner of a cell and what all its creators cost together (USD), at this point."""
    pop, scenario = ctx.pop, ctx.scenario
    tier, platform = split_cell(cell)
    mask = (pop.creator_tier == pop.tiers.index(tier)) & (pop.creator_platform == pop.platforms.index(platform)) \
        if tier in pop.tiers and platform in pop.platforms else np.zeros(pop.n_creators, dtype=bool)
    if not mask.any():
        return math.inf, 0.0
    fee = float(scenario.partnership_cost.get(tier, 0.0))
    if pop.price_per_post is not None:
        each = pop.price_per_post[mask] * len(days) + fee
    else:
        card = scenario.rate_card
        assert card is not None  # validated (sim.campaign.spec): without a roster every cell has a card price
        each = np.full(int(mask.sum()), float(card[platform][tier]) * len(days) + fee)
    return float(each.min()), float(each.sum())


def _utility(objective: Objective, adopters: np.ndarray, costs: np.ndarray) -> np.ndarray:
    if objective is Objective.ADOPTERS:
        return adopters
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(adopters > 0, -costs / np.where(adopters > 0, adopters, 1.0), -np.inf)


def criterion_value(problem: Problem, points: AssumptionPoints, adopters: np.ndarray, costs: np.ndarray) -> float:
    """The search's objective: the weighted mean over points of the utility (``expected``) or its 10th
    percentile (``robust``); utility is sign-ups, or minus USD per sign-up."""
    u = _utility(problem.objective, adopters, costs)
    if problem.criterion == "robust":
        return float(weighted_quantiles(u, points.weights, (0.1,))[0])
    return float(np.sum(points.weights * u)) if np.isfinite(u).all() else -math.inf


def evaluate(problem: Problem, ctxs: list[PointContext], points: AssumptionPoints, params: Params,
             pool: ThreadPoolExecutor | None = None) -> Evaluation:
    """Build a plan, simulate it on the search trials at every point, and score it."""
    budgets, first = build_plan(problem, ctxs[0], params)
    strat = strategy(problem, budgets, params.schedule)
    root = search_root(ctxs[0].scenario.seed)
    trials = np.arange(problem.trials, dtype=np.int64)
    column = TOTALS.index("adopters")

    def one(k: int) -> tuple[float, float]:
        ctx = ctxs[k]
        sched = first if k == 0 else _schedule(ctx, strat)
        out = simulate(ctx.pop, ctx.arrays, sched, root, trials)
        return float(out.totals[:, column].mean() * ctx.pop.scale), sched.cost

    results = list(pool.map(one, range(len(ctxs)))) if pool is not None and len(ctxs) > 1 else \
        [one(k) for k in range(len(ctxs))]
    adopters = np.array([a for a, _ in results])
    costs = np.array([c for _, c in results])
    return Evaluation(budgets=budgets, partners=partners_by_cell(first, ctxs[0].pop), cost=first.cost,
                      unspent=problem.budget - first.cost, adopters=adopters, costs=costs,
                      value=criterion_value(problem, points, adopters, costs))


def grid_in_space(scenario: Scenario, problem: Problem) -> dict[str, Params]:
    """The grid's strategies the plan space contains, as search points: same budget, cells among the
    allowed, a schedule with the same posting days, the same selection and partner cap."""
    grid = scenario.strategy_grid
    if grid is None:
        return {}
    days = {name: schedule_days(s) for name, s in problem.schedules.items()}
    out = {}
    for g in grid.expand():
        if abs(g.budget - problem.budget) > 1e-9 * problem.budget or grid.select != problem.select:
            continue
        if grid.max_partners != problem.max_partners:
            continue
        gdays = list(g.posts[0].post_days())
        match = next((n for n, d in days.items() if sorted(d) == gdays), None)
        mix = grid.mixes[g.mix]
        if match is None or not set(mix) <= set(problem.cells):
            continue
        top = max(mix.values())
        weights = tuple(mix.get(c, 0.0) / top for c in problem.cells)
        if min(w for w in weights if w > 0) < OFF:
            continue  # a share too small for the space's "off" threshold to keep
        out[g.name] = Params(weights, match, False)
    return out


@dataclass(frozen=True, eq=False)
class SearchResult:
    """What the search found.

    Attributes
    ----------
    problem : Problem
    best : Strategy
        The best plan as a runnable strategy (named ``optimized``).
    best_evaluation : Evaluation
    best_source : str
        ``search`` or ``grid:<name>`` (a grid strategy was best).
    trace : DataFrame
        One row per evaluation (see :func:`search`).
    grid : dict
        Grid strategies inside the space -> their search value.
    points : AssumptionPoints
    resumed : int
        Evaluations found in the checkpoint.
    """

    problem: Problem
    best: Strategy
    best_evaluation: Evaluation
    best_source: str
    trace: pd.DataFrame
    grid: dict[str, float]
    points: AssumptionPoints
    resumed: int


def _params(trial, problem: Problem) -> Params:
    weights = tuple(trial.suggest_float(f"w:{c}", 0.0, 1.0) for c in problem.cells)
    names = list(problem.schedules)
    schedule = trial.suggest_categorical("schedule", names) if len(names) > 1 else names[0]
    leftover = trial.suggest_categorical("spend_leftover", [True, False])
    return Params(weights, schedule, leftover)


def _enqueue(problem: Problem, params: Params) -> dict[str, float | str | bool]:
    out: dict[str, float | str | bool] = {f"w:{c}": w for c, w in zip(problem.cells, params.weights, strict=True)}
    if len(problem.schedules) > 1:
        out["schedule"] = params.schedule
    out["spend_leftover"] = params.spend_leftover
    return out


def search(scenario: Scenario, checkpoint: str | Path | None = None, *, workers: int = 1,
           progress: Callable[[int, int], None] | None = None) -> SearchResult:
    """Search the scenario's ``optimize`` space.

    Parameters
    ----------
    scenario : Scenario
        A campaign scenario with an ``optimize`` block.
    checkpoint : path, optional
        Optuna journal file: every finished evaluation is appended; a search started again with the
        same file (and the same scenario) continues where it stopped.
    workers : int
        Threads simulating a plan's assumption points side by side.
    progress : callable, optional
        Called with (evaluations done, evaluations in all) after each evaluation.

    Returns
    -------
    SearchResult
        ``trace`` columns: ``evaluation``, ``source`` (``grid:<name>`` or ``search``), ``schedule``,
        ``spend_leftover``, ``share:<cell>`` and ``partners:<cell>`` per cell, ``cost``, ``unspent``,
        ``adopters_mean`` and ``adopters_p10`` (over points, search trials), ``value`` (the criterion)
        and ``best_so_far``.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    problem = resolve(scenario)
    ctxs, points = contexts(scenario, workers)
    seeded = grid_in_space(scenario, problem)
    seed = int(numpy_generator(scenario.seed, Stream.OPTIMIZE).integers(1, 2**31 - 1))
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=max(10, len(seeded)))
    storage = None
    if checkpoint is not None:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
        storage = JournalStorage(JournalFileBackend(str(checkpoint)))
    study = optuna.create_study(study_name=f"{scenario.name}-{search_key(scenario)[:16]}", storage=storage,
                                direction="maximize", sampler=sampler, load_if_exists=True)
    done = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    resumed = len(done)
    have = {t.user_attrs.get("source") for t in done}
    waiting = {t.user_attrs.get("source") for t in study.get_trials(deepcopy=False)
               if t.state == optuna.trial.TrialState.WAITING}
    for name, params in seeded.items():  # the grid's strategies first (again, if a stop cut one short)
        if f"grid:{name}" not in have | waiting:
            study.enqueue_trial(_enqueue(problem, params), user_attrs={"source": f"grid:{name}"})
    total = max(problem.evaluations, len(seeded) + 1)
    pool = ThreadPoolExecutor(max(1, min(workers, len(ctxs)))) if workers > 1 and len(ctxs) > 1 else None

    def objective(trial) -> float:
        params = _params(trial, problem)
        if "source" not in trial.user_attrs:
            trial.set_user_attr("source", "search")
        try:
            ev = evaluate(problem, ctxs, points, params, pool)
        except CampaignError:  # a plan the world cannot staff (e.g. a creators count): the worst value
            trial.set_user_attr("budgets", {})
            return -1e300
        trial.set_user_attr("budgets", ev.budgets)
        trial.set_user_attr("partners", ev.partners)
        trial.set_user_attr("cost", ev.cost)
        trial.set_user_attr("adopters", ev.adopters.tolist())
        trial.set_user_attr("costs", ev.costs.tolist())
        return ev.value if math.isfinite(ev.value) else -1e300

    try:
        while True:
            complete = sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.get_trials(deepcopy=False))
            if progress is not None:
                progress(complete, total)
            if complete >= total:
                break
            study.optimize(objective, n_trials=1)
    finally:
        if pool is not None:
            pool.shutdown()
    trials = sorted((t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE),
                    key=lambda t: t.number)[:total]
    values: list[float] = []
    for t in trials:
        assert t.value is not None  # a complete single-objective trial has its value
        values.append(t.value)
    rows, best_so_far = [], -math.inf
    for k, (t, value) in enumerate(zip(trials, values, strict=True)):
        adopters = np.asarray(t.user_attrs.get("adopters", [math.nan] * points.n), dtype=float)
        best_so_far = max(best_so_far, value)
        params = Params(tuple(t.params[f"w:{c}"] for c in problem.cells),
                        t.params.get("schedule", next(iter(problem.schedules))), t.params["spend_leftover"])
        row = {"evaluation": k + 1, "source": t.user_attrs["source"], "schedule": params.schedule,
               "spend_leftover": params.spend_leftover}
        row.update({f"share:{c}": float(s) for c, s in zip(problem.cells, params.shares(), strict=True)})
        row.update({f"partners:{c}": int(t.user_attrs.get("partners", {}).get(c, 0)) for c in problem.cells})
        cost = float(t.user_attrs.get("cost", math.nan))
        row.update({"cost": cost, "unspent": problem.budget - cost,
                    "adopters_mean": float(np.sum(points.weights * adopters)),
                    "adopters_p10": float(weighted_quantiles(adopters, points.weights, (0.1,))[0]),
                    "value": value, "best_so_far": best_so_far})
        rows.append(row)
    trace = pd.DataFrame(rows)
    best_index = int(np.argmax(values))  # ties: the earliest (grid strategies come first)
    best_trial = trials[best_index]
    params = Params(tuple(best_trial.params[f"w:{c}"] for c in problem.cells),
                    best_trial.params.get("schedule", next(iter(problem.schedules))),
                    best_trial.params["spend_leftover"])
    budgets = dict(best_trial.user_attrs["budgets"])
    best = strategy(problem, budgets, params.schedule)
    ev = Evaluation(budgets=budgets, partners=dict(best_trial.user_attrs.get("partners", {})),
                    cost=float(best_trial.user_attrs.get("cost", math.nan)),
                    unspent=problem.budget - float(best_trial.user_attrs.get("cost", math.nan)),
                    adopters=np.asarray(best_trial.user_attrs.get("adopters", []), dtype=float),
                    costs=np.asarray(best_trial.user_attrs.get("costs", []), dtype=float), value=values[best_index])
    grid_values = {t.user_attrs["source"][5:]: value for t, value in zip(trials, values, strict=True)
                   if t.user_attrs["source"].startswith("grid:")}
    return SearchResult(problem=problem, best=best, best_evaluation=ev, best_source=best_trial.user_attrs["source"],
                        trace=trace, grid=grid_values, points=points, resumed=resumed)
