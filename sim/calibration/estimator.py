"""Simulated method of moments on common random numbers, with a parametric bootstrap.

The estimate minimises J(x) = d' W d, d = h(m_sim(x)) - h(m_target), over the free
parameters' box with :func:`scipy.optimize.differential_evolution` (Storn & Price 1997), h the
targets' scales (log for multiplicative ones). Every evaluation runs the same trials on the same
root seed (common random numbers), so J is a deterministic function of x and differences
between candidates are not sampling noise (McFadden 1989; Grazzini & Richiardi 2015). The
weight matrix is W = (diag(sd_target^2) + S)^-1, S the covariance of the simulated moments at
a pilot point (the base scenario's values), estimated by a bootstrap over trials.

Uncertainty: a parametric bootstrap. Each replicate redraws the targets within their
uncertainty (normal on their scale) and the simulation's random numbers (a new root seed, so a
new world and new trials), and refits, starting from the estimate. Percentiles of the
replicates give each parameter's interval; their spread against the prior's (the uniform box)
is the identifiability check, and their correlations name the confounded pairs.

Randomness: the optimiser's seed, the replicates' seeds and target draws all come from keyed
generators on stream ``CALIBRATION`` (:mod:`sim.base.rng`); nothing is unseeded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import differential_evolution

from sim.base.rng import Stream, numpy_generator
from sim.base.stats import Z95
from sim.calibration.moments import TOTALS as MOMENT_TOTALS
from sim.calibration.moments import (
    PanelRun,
    StrategyRun,
    moment_vector,
    on_scale,
    strategies_needed,
    trial_covariance,
)
from sim.calibration.spec import Calibration, FreeParameter
from sim.calibration.targets import Target
from sim.campaign import kernel as ck
from sim.execution.evaluate import PointEvaluator
from sim.execution.executor import ExecutorKind, ExecutorSpec
from sim.input.design import apply
from sim.input.scenario import Scenario

#: Objective value of a parameter vector whose moments are undefined (no adopters, no partners).
PENALTY = 1e6
#: |correlation| of two parameters' bootstrap estimates above which they are called confounded.
CONFOUNDED = 0.7
#: Bootstrap replicates below which no pair is called confounded.
MIN_REPLICATES = 5


@dataclass(frozen=True)
class Budget:
    """How much work a fit does (the definition's full budget, or its ``quick`` one)."""

    trials: int
    popsize: int
    maxiter: int
    replicates: int
    bootstrap_maxiter: int
    trial_replicates: int
    tol: float = 0.0


def budget_of(calibration: Calibration, quick: bool) -> Budget:
    """The definition's budget, or its reduced one."""
    s = calibration.spec
    if quick:
        q = s.quick
        return Budget(q.trials, q.popsize, q.maxiter, q.replicates, q.bootstrap_maxiter, 50, s.optimiser.tol)
    return Budget(s.trials, s.optimiser.popsize, s.optimiser.maxiter, s.bootstrap.replicates, s.bootstrap.maxiter,
                  s.bootstrap.trial_replicates, s.optimiser.tol)


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
        # partners, and a replicate's world (a new seed) need only staff these.
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
        ev = self._points.evaluate(self.scenario(x), self.strategies)
        pop = ev.point.world.population
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
                          for k in ck.PARTNER},
                tier=tuple(pop.tiers[t] for t in pop.creator_tier[c]),
                platform=tuple(pop.platforms[p] for p in pop.creator_platform[c]),
                followers=pop.followers_sim[c].astype(np.float64) * pop.scale,
                cost=float(plan.cost))
        return out


def weight_matrix(targets: tuple[Target, ...], covariance: np.ndarray) -> np.ndarray:
    """W = (diag(sd_target^2) + S)^-1 on the targets' scales."""
    sd = np.array([t.sd for t in targets])
    return np.linalg.pinv(np.diag(sd**2) + covariance)


def objective(moments: np.ndarray, goal: np.ndarray, weights: np.ndarray) -> float:
    """(m - goal)' W (m - goal), on the targets' scales; :data:`PENALTY` where a moment is undefined."""
    d = moments - goal
    if not np.all(np.isfinite(d)):
        return PENALTY
    return float(d @ weights @ d)


class _Objective:
    """J(x) for DE, picklable-free (threads only): moments of the fit targets against a goal."""

    def __init__(self, evaluator: Evaluator, targets: tuple[Target, ...], goal: np.ndarray,
                 weights: np.ndarray) -> None:
        self.evaluator, self.targets, self.goal, self.weights = evaluator, targets, goal, weights

    def __call__(self, x: np.ndarray) -> float:
        runs = self.evaluator.runs(x)
        return objective(on_scale(self.targets, moment_vector(runs, self.targets)), self.goal, self.weights)


@dataclass(frozen=True)
class Comparison:
    """A target beside its simulated value at the estimate.

    Attributes
    ----------
    target : Target
    simulated : float
        The moment at the estimate (natural units).
    low, high : float
        95% interval of the simulated value: trial noise and parameter uncertainty (bootstrap
        replicates' estimates) combined on the target's scale.
    """

    target: Target
    simulated: float
    low: float
    high: float

    @property
    def hit(self) -> bool:
        """Whether the simulated value lies in the target's range."""
        return bool(np.isfinite(self.simulated) and self.target.within(self.simulated))


@dataclass(frozen=True)
class Fit:
    """A calibration's result.

    Attributes
    ----------
    parameters : tuple of FreeParameter
    estimate : float64[k]
    interval : float64[k, 2]
        2.5 and 97.5 percentiles of the bootstrap replicates' estimates.
    replicates : float64[B, k]
    objective : float
        J at the estimate.
    start : float64[k]
        The base scenario's values (the pilot point).
    comparisons : tuple of Comparison
        Every target with a moment (both sets, fit and held out).
    evaluations : int
        Model evaluations in all (fit, bootstrap, comparison).
    elapsed : float
        Seconds.
    trials, seed : int
    """

    parameters: tuple[FreeParameter, ...]
    estimate: np.ndarray
    interval: np.ndarray
    replicates: np.ndarray
    objective: float
    start: np.ndarray
    comparisons: tuple[Comparison, ...]
    evaluations: int
    elapsed: float
    trials: int
    seed: int

    @property
    def prior_sd(self) -> np.ndarray:
        """Standard deviation of each parameter's uniform prior (its bounds)."""
        return np.array([p.prior_sd for p in self.parameters])

    @property
    def posterior_sd(self) -> np.ndarray:
        """Standard deviation of the bootstrap replicates' estimates."""
        return self.replicates.std(axis=0, ddof=1)

    @property
    def contraction(self) -> np.ndarray:
        """1 - posterior variance / prior variance: near 1 identified, near 0 not."""
        return 1.0 - (self.posterior_sd / self.prior_sd) ** 2

    @property
    def correlation(self) -> np.ndarray:
        """Correlation matrix of the replicates' estimates (NaN where a parameter did not move)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.corrcoef(self.replicates, rowvar=False)

    def confounded(self) -> list[tuple[str, str, float]]:
        """Pairs whose replicate estimates correlate beyond :data:`CONFOUNDED` in absolute value."""
        if len(self.replicates) < MIN_REPLICATES:
            return []  # a correlation of two or three points says nothing
        r = np.atleast_2d(self.correlation)
        out = []
        for i in range(len(self.parameters)):
            for j in range(i + 1, len(self.parameters)):
                if np.isfinite(r[i, j]) and abs(r[i, j]) > CONFOUNDED:
                    out.append((self.parameters[i].path, self.parameters[j].path, float(r[i, j])))
        return out


Mapper = Callable[[Callable, list], list]


def _minimise(fn: _Objective, bounds: list[tuple[float, float]], budget_maxiter: int, popsize: int, tol: float,
              rng: np.random.Generator, mapper: Mapper, x0: np.ndarray | None) -> tuple[np.ndarray, float]:
    res = differential_evolution(fn, bounds, maxiter=budget_maxiter, popsize=popsize, tol=tol, rng=rng,
                                 polish=False, init="latinhypercube", updating="deferred", workers=mapper, x0=x0)
    return np.asarray(res.x, dtype=np.float64), float(res.fun)


def _redrawn(targets: tuple[Target, ...], goal: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return goal + np.array([t.sd for t in targets]) * rng.standard_normal(len(targets))


def calibrate(calibration: Calibration, *, quick: bool = False, workers: int | None = None,
              progress: Callable[[int], None] | None = None) -> Fit:
    """Fit a calibration's free parameters to its fit targets and bootstrap their uncertainty.

    Parameters
    ----------
    calibration : Calibration
    quick : bool
        The definition's reduced budget (tests).
    workers : int, optional
        Evaluations at once on a local thread pool (:mod:`sim.execution.executor`); default the
        definition's ``workers`` (1: serial). The estimate does not depend on it.
    progress : callable, optional
        Called with the number of evaluations just finished.
    """
    started = time.perf_counter()
    spec = calibration.spec
    b = budget_of(calibration, quick)
    free = tuple(spec.free)
    bounds = [(p.low, p.high) for p in free]
    fit_t = calibration.fit_targets
    compared = calibration.compared
    fit_strategies = strategies_needed(fit_t)
    goal = np.array([t.h(t.value) for t in fit_t])
    start = np.clip(np.array(calibration.base_values()), [p.low for p in free], [p.high for p in free])
    n_workers = workers or spec.workers
    kind = ExecutorKind.SERIAL if n_workers == 1 else ExecutorKind.LOCAL
    evaluations = 0

    with ExecutorSpec(kind, workers=n_workers).open() as ex:
        def mapper(fn, items):
            items = list(items)
            out = ex.map(fn, items)
            if progress is not None:
                progress(len(items))
            return out

        # The comparison's world is built first, so that a panel the seed cannot staff fails at once.
        Evaluator(calibration.base, free, strategies_needed(compared), b.trials, spec.seed).runs(start)
        main = Evaluator(calibration.base, free, fit_strategies, b.trials, spec.seed)
        pilot = main.runs(start)  # also builds the world once, before threads share the cache
        cov = trial_covariance(pilot, fit_t, b.trial_replicates, numpy_generator(spec.seed, Stream.CALIBRATION, 0, 0))
        weights = weight_matrix(fit_t, cov)
        estimate, value = _minimise(_Objective(main, fit_t, goal, weights), bounds, b.maxiter, b.popsize, b.tol,
                                    numpy_generator(spec.seed, Stream.CALIBRATION, 0, 1), mapper, start)
        evaluations += main.evaluations

        replicates = []
        for r in range(1, b.replicates + 1):
            seed_r = int(numpy_generator(spec.seed, Stream.CALIBRATION, r, 1).integers(0, 2**63))
            goal_r = _redrawn(fit_t, goal, numpy_generator(spec.seed, Stream.CALIBRATION, r, 2))
            ev = Evaluator(calibration.base, free, fit_strategies, b.trials, seed_r)
            ev.runs(estimate)  # world built before threads share the cache
            x_r, _ = _minimise(_Objective(ev, fit_t, goal_r, weights), bounds, b.bootstrap_maxiter, b.popsize, b.tol,
                               numpy_generator(spec.seed, Stream.CALIBRATION, r, 3), mapper, estimate)
            replicates.append(x_r)
            evaluations += ev.evaluations
        replicates = np.array(replicates)

        comparisons, n = _compare(calibration, free, compared, estimate, replicates, b, spec.seed, mapper)
        evaluations += n
    interval = np.percentile(replicates, [2.5, 97.5], axis=0).T
    return Fit(free, estimate, interval, replicates, value, start, comparisons, evaluations,
               time.perf_counter() - started, b.trials, spec.seed)


def _compare(calibration: Calibration, free: tuple[FreeParameter, ...], compared: tuple[Target, ...],
             estimate: np.ndarray, replicates: np.ndarray, b: Budget, seed: int,
             mapper: Mapper) -> tuple[tuple[Comparison, ...], int]:
    """Every comparable target's simulated value at the estimate, with its 95% interval."""
    ev = Evaluator(calibration.base, free, strategies_needed(compared), b.trials, seed)
    at = ev.runs(estimate)
    m_hat = moment_vector(at, compared)
    cov = trial_covariance(at, compared, b.trial_replicates, numpy_generator(seed, Stream.CALIBRATION, 0, 2))
    at_reps = mapper(lambda x: on_scale(compared, moment_vector(ev.runs(x), compared)), list(replicates))
    at_reps = np.array(at_reps)
    var_param = np.nanvar(at_reps, axis=0, ddof=1) if len(at_reps) > 1 else np.zeros(len(compared))
    h_hat = on_scale(compared, m_hat)
    half = Z95 * np.sqrt(np.diag(cov) + var_param)
    out = []
    for t, m, h, w in zip(compared, m_hat, h_hat, half, strict=True):
        lo, hi = h - w, h + w
        if t.scale == "log":
            lo, hi = float(np.exp(lo)), float(np.exp(hi))
        out.append(Comparison(t, float(m), float(lo), float(hi)))
    return tuple(out), ev.evaluations
