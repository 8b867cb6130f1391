"""Simulation-based inference: ABC-SMC with pyABC, a posterior of the free parameters.

The fit targets are read as noisy observations of the model's moments: on each target's scale
h (log for multiplicative uncertainty), the published figure is h(m(x)) + e, e ~ N(0, sd^2),
sd the target's range read as a 95% interval (:attr:`sim.calibration.targets.Target.sd`). The
posterior is then p(x | targets) proportional to prior(x) * prod_i N(h(y_i); h(m_i(x)), sd_i^2),
priors uniform on the definition's bounds. pyABC (Klinger, Rickert & Hasenauer 2018; Schaelte
et al. 2022) samples it by ABC-SMC with a *stochastic acceptor* (Wilkinson 2013, "noisy ABC";
Schaelte & Hasenauer 2020): a proposal is accepted with probability
exp(-(chi^2 - c) / 2T), chi^2 the squared distance scaled by the targets' sd and c the smallest
chi^2 found so far (pyABC's ``pdf_norm_max_found``: normalising by the highest density found
rather than the kernel's maximum raises acceptance by exp(c / 2T) without biasing the result; a
proposal above the norm is accepted with an importance weight that corrects it, Schaelte &
Hasenauer 2020), and a temperature T lowered generation by generation (adaptive: the acceptance
rate aimed at and at least a fixed decay) down to T = 1, where acceptance is proportional to the
Gaussian error model's likelihood. Tempering stops at :data:`TEMPER_TO`; the posterior at T = 1
is then reached by adaptive importance sampling (:func:`importance_final`): under common random
numbers the likelihood is computed exactly for every proposal, where rejection at T = 1 would
accept well under 1% of them. Every round's ``final_population`` points, weighted against the
mixture of the rounds' proposals (:func:`_mixture_weights`), are the posterior.

Common random numbers: every evaluation runs trials ``0 .. trials-1`` of the definition's root
seed on one world (:class:`sim.calibration.evaluate.Evaluator`), so m(x) is a deterministic
function of x and acceptance varies only through the accept draw; the posterior is conditional
on those trials (their standard errors are small against the targets' sd: docs/calibration.md).
The posterior-predictive checks do the opposite: each draw runs on a world and trials of its own
(a root seed keyed by the draw), so their intervals hold trial and world noise as well as
parameter uncertainty.

Resumable: pyABC writes every finished generation to an SQLite database
(``results/calibration/<name>-<fingerprint>.db``); a rerun of the same definition, targets and
budget continues from the last finished generation (its proposals use fresh random numbers, so a
resumed fit is a valid posterior sample but not bit-identical to an uninterrupted one).

Randomness: pyABC draws from NumPy's global generator; it is seeded once per phase from a keyed
generator on stream ``CALIBRATION`` (:mod:`sim.base.rng`). With one worker (the default) a fit is
reproducible; with ``workers > 1`` (pyABC's multicore sampler, processes forked with the built
world) the draws differ from run to run within Monte Carlo error. The resampling of predictive
draws and their seeds are keyed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.base.files import atomic_write
from sim.base.rng import Stream, numpy_generator, numpy_global_seeded
from sim.base.stats import effective_sample_size, systematic_resample, weighted_moments, weighted_quantile
from sim.calibration.evaluate import Evaluator, moments_at
from sim.calibration.moments import on_scale, strategies_needed
from sim.calibration.spec import Calibration, FreeParameter
from sim.calibration.targets import Target
from sim.input.posterior import WEIGHT

#: Summary statistic given to pyABC for a moment that is undefined at a parameter vector (no
#: adopters, no partners): far outside every target, so the proposal is rejected.
UNDEFINED = 1e6
#: |weighted correlation| of two parameters' posterior draws above which they are named confounded.
CONFOUNDED = 0.7
#: Central share of the posterior-predictive interval (the checks table).
PREDICTIVE_LEVEL = 0.90
#: Tempering stops at or below this temperature; the final generation then runs at T = 1 with the
#: full population (a tempering generation at T = 1 with the smaller population would cost
#: nearly as many evaluations per particle as the final one and add nothing to the posterior).
TEMPER_TO = 2.5
#: Database folder of fits (not committed).
DB_DIR = Path("results/calibration")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Budget:
    """How much work a fit does (the definition's full budget, or its ``quick`` one)."""

    trials: int
    population: int
    final_population: int
    generations: int
    target_rate: float
    decay: float
    min_acceptance_rate: float
    max_evaluations: int
    predictive_draws: int
    predictive_trials: int
    exact_final: bool

    def as_dict(self) -> dict:
        """The budget as plain data (part of the fit's fingerprint)."""
        return dict(self.__dict__)


def budget_of(calibration: Calibration, quick: bool) -> Budget:
    """The definition's budget, or its reduced one (quick: no final generation forced to T = 1)."""
    s = calibration.spec
    a = s.abc
    if quick:
        q = s.quick
        return Budget(q.trials, q.population, q.final_population, q.generations, a.target_rate, a.decay,
                      0.0, 20 * q.generations * max(q.population, q.final_population), q.predictive_draws,
                      q.trials, False)
    return Budget(s.trials, a.population, a.final_population, a.generations, a.target_rate, a.decay,
                  a.min_acceptance_rate, a.max_evaluations, s.predictive.draws, s.predictive.trials or s.trials,
                  True)


def safe_name(path: str) -> str:
    """The name pyABC gives a parameter path (letters, digits and ``_`` only)."""
    return "p_" + path.replace(".", "__")


def fingerprint(calibration: Calibration, budget: Budget) -> str:
    """SHA-256 of what a fit depends on: definition, targets, base scenario, budget."""
    h = hashlib.sha256()
    h.update(calibration.path.read_bytes())
    h.update(calibration.targets.sha256.encode())
    h.update(calibration.base.digest().encode())
    h.update(json.dumps(budget.as_dict(), sort_keys=True).encode())
    return h.hexdigest()


def _seed(seed: int, *keys: int) -> int:
    return int(numpy_generator(seed, Stream.CALIBRATION, *keys).integers(0, 2**32 - 1))


class _Model:
    """pyABC's model: a parameter dict -> the fit targets' moments on their scales."""

    def __init__(self, evaluator: Evaluator, free: tuple[FreeParameter, ...], targets: tuple[Target, ...],
                 tick: Callable[[], None] | None = None) -> None:
        self.evaluator, self.free, self.targets, self.tick = evaluator, free, targets, tick

    def __call__(self, pars) -> dict[str, float]:
        x = [float(pars[safe_name(p.path)]) for p in self.free]
        h = on_scale(self.targets, moments_at(self.evaluator, x, self.targets))
        if self.tick is not None:
            self.tick()
        return {t.name: float(v) if np.isfinite(v) else UNDEFINED for t, v in zip(self.targets, h, strict=True)}


@dataclass(frozen=True, eq=False)
class Posterior:
    """A calibration's posterior and its checks.

    Attributes
    ----------
    parameters : tuple of FreeParameter
    draws : float64[N, k]
        The last generation's particles (in the parameters' units).
    weights : float64[N]
        Their importance weights (sum 1).
    chi2 : float64[N]
        Each draw's squared distance to the fit targets, in target sd (common random numbers).
    assumed : dict of str -> float
        Values the fit assumed (written with the draws; not free).
    generations : DataFrame
        One row per generation: t, temperature, evaluations, particles, acceptance_rate, ess.
    final_temperature : float
        1: the draws are the posterior; above 1, a tempered (wider) one: the budget ran out.
    start : float64[k]
        The base scenario's values.
    predictive_targets : tuple of Target
        The targets compared in the posterior-predictive checks.
    predictive : float64[P, len(predictive_targets)]
        Their moments (natural units) at P draws resampled from the posterior, each on a world
        and trials of its own.
    pending : tuple of Target
        Targets whose moment is not computable yet (listed, never compared).
    evaluations : int
        Model evaluations of the fit (pyABC's count; the predictive draws not included).
    elapsed : float
        Seconds, fit and checks (the whole history's when resumed: only this session's).
    trials, seed : int
    fit_target_names : tuple of str
    """

    parameters: tuple[FreeParameter, ...]
    draws: np.ndarray
    weights: np.ndarray
    chi2: np.ndarray
    assumed: dict[str, float]
    generations: pd.DataFrame
    final_temperature: float
    start: np.ndarray
    predictive_targets: tuple[Target, ...]
    predictive: np.ndarray
    pending: tuple[Target, ...]
    evaluations: int
    elapsed: float
    trials: int
    seed: int
    fit_target_names: tuple[str, ...]

    @property
    def converged(self) -> bool:
        """Whether the last generation ran at temperature 1 (the posterior, not a tempered one)."""
        return bool(self.final_temperature <= 1.0 + 1e-9)

    @property
    def ess(self) -> float:
        """Effective sample size of the draws, 1 / sum(w^2)."""
        return effective_sample_size(self.weights)

    @property
    def map_index(self) -> int:
        """The draw of highest posterior density (lowest chi^2 under the uniform prior)."""
        return int(np.argmin(self.chi2))

    @property
    def estimate(self) -> np.ndarray:
        """The point estimate: the highest-density draw."""
        return self.draws[self.map_index]

    def quantile(self, q: float | list[float]) -> np.ndarray:
        """Weighted quantiles of each parameter, float64[len(q), k] (or [k] for a scalar q)."""
        return weighted_quantile(self.draws, self.weights, q)

    @property
    def median(self) -> np.ndarray:
        """Weighted posterior median of each parameter."""
        return self.quantile(0.5)

    @property
    def interval(self) -> np.ndarray:
        """95% equal-tailed posterior interval of each parameter, float64[k, 2]."""
        return self.quantile([0.025, 0.975]).T

    @property
    def mean(self) -> np.ndarray:
        """Weighted posterior mean."""
        return weighted_moments(self.draws, self.weights)[0]

    @property
    def posterior_sd(self) -> np.ndarray:
        """Weighted posterior standard deviation."""
        return weighted_moments(self.draws, self.weights)[1]

    @property
    def prior_sd(self) -> np.ndarray:
        """Standard deviation of each uniform prior."""
        return np.array([p.prior_sd for p in self.parameters])

    @property
    def contraction(self) -> np.ndarray:
        """1 - posterior variance / prior variance: near 1 identified by the targets, near 0 not."""
        return 1.0 - (self.posterior_sd / self.prior_sd) ** 2

    @property
    def width_ratio(self) -> np.ndarray:
        """Width of the 95% posterior interval over the prior's (0.95 x the bounds' width)."""
        width = np.array([p.high - p.low for p in self.parameters])
        return (self.interval[:, 1] - self.interval[:, 0]) / (0.95 * width)

    @property
    def correlation(self) -> np.ndarray:
        """Weighted correlation matrix of the draws."""
        return weighted_moments(self.draws, self.weights)[2]

    def confounded(self) -> list[tuple[str, str, float]]:
        """Pairs whose posterior correlation exceeds :data:`CONFOUNDED` in absolute value."""
        r = self.correlation
        out = []
        for i in range(len(self.parameters)):
            for j in range(i + 1, len(self.parameters)):
                if np.isfinite(r[i, j]) and abs(r[i, j]) > CONFOUNDED:
                    out.append((self.parameters[i].path, self.parameters[j].path, float(r[i, j])))
        return out

    def frame(self) -> pd.DataFrame:
        """The draws as written to ``<name>.posterior.parquet``: one column per parameter path
        (free ones, then assumed ones, constant), and :data:`WEIGHT`."""
        data = {p.path: self.draws[:, j] for j, p in enumerate(self.parameters)}
        data.update({path: np.full(len(self.draws), value) for path, value in self.assumed.items()})
        data[WEIGHT] = self.weights
        return pd.DataFrame(data)

    def checks(self) -> pd.DataFrame:
        """One row per compared target: ``target, role, value, low, high, predicted_low,
        predicted_high, hit, independent`` (90% posterior-predictive interval; hit when it overlaps
        the range; ``independent`` false for a held-out check the target marks ``not_independent``)."""
        rows = []
        lo_q, hi_q = (1 - PREDICTIVE_LEVEL) / 2, 1 - (1 - PREDICTIVE_LEVEL) / 2
        for j, t in enumerate(self.predictive_targets):
            v = self.predictive[:, j]
            v = v[~np.isnan(v)]
            if len(v):
                p_lo, p_hi = np.quantile(v, [lo_q, hi_q], method="inverted_cdf")
            else:
                p_lo = p_hi = math.nan
            low, high = t.range
            top = math.inf if high is None else high
            hit = bool(len(v) and p_hi >= low and p_lo <= top)
            rows.append({"target": t.name, "role": t.role.value, "value": t.value, "low": low, "high": high,
                         "predicted_low": float(p_lo), "predicted_high": float(p_hi), "hit": hit,
                         "independent": t.not_independent is None})
        return pd.DataFrame(rows, columns=["target", "role", "value", "low", "high", "predicted_low",
                                           "predicted_high", "hit", "independent"])

    def predictive_median(self) -> np.ndarray:
        """Median of each compared target's predictive draws (natural units)."""
        out = []
        for j in range(len(self.predictive_targets)):
            v = self.predictive[:, j]
            v = v[~np.isnan(v)]
            out.append(float(np.quantile(v, 0.5, method="inverted_cdf")) if len(v) else math.nan)
        return np.array(out)


def _savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez`` to exactly ``path`` (given a name, NumPy would append ``.npz`` to it)."""
    with open(path, "wb") as f:
        np.savez(f, **arrays)


class _GenerationLog(logging.Handler):
    """Feeds pyABC's per-generation log lines ("t: 3, eps: ...") to a progress callback."""

    def __init__(self, callback: Callable[[int, float], None]) -> None:
        super().__init__(logging.INFO)
        self.callback = callback

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("t: ") and "eps:" in msg:
            try:
                t = int(msg.split(",")[0].split(":")[1])
                eps = float(msg.split("eps:")[1].split()[0].rstrip(","))
            except (ValueError, IndexError):
                return
            self.callback(t, eps)


def _generations(history) -> pd.DataFrame:
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].sort_values("t")
    rows = []
    for _, r in pops.iterrows():
        _, w = history.get_distribution(m=0, t=int(r["t"]))
        w = np.asarray(w, dtype=np.float64)
        rows.append({"t": int(r["t"]), "temperature": float(r["epsilon"]), "evaluations": int(r["samples"]),
                     "particles": int(r["particles"]), "acceptance_rate": float(r["particles"] / r["samples"]),
                     "ess": effective_sample_size(w)})
    return pd.DataFrame(rows, columns=["t", "temperature", "evaluations", "particles", "acceptance_rate", "ess"])


def run_abc(calibration: Calibration, *, quick: bool = False, db_dir: str | Path | None = None,
            workers: int | None = None, fresh: bool = False,
            progress: Callable[[str, int | None], None] | None = None) -> tuple:
    """Run (or resume) the ABC-SMC fit; return (draws, weights, chi2, generations, evaluations, budget, db).

    Parameters
    ----------
    calibration : Calibration
    quick : bool
        The definition's reduced budget (tests): no final generation forced to T = 1.
    db_dir : path, optional
        Folder of the pyABC database (default :data:`DB_DIR`).
    workers : int, optional
        Processes evaluating at once (pyABC's multicore sampler); default the definition's.
    fresh : bool
        Start over even if a database of the same fit exists.
    progress : callable, optional
        Called with (message, generation or None) as the fit goes.
    """
    import pyabc

    spec = calibration.spec
    b = budget_of(calibration, quick)
    free = tuple(spec.free)
    fit_t = calibration.fit_targets
    evaluator = Evaluator(calibration.base, free, strategies_needed(fit_t), b.trials, spec.seed)
    start = np.clip(np.array(calibration.base_values()), [p.low for p in free], [p.high for p in free])
    evaluator.runs(start)  # builds the world once (before any fork), and fails at once if the panel cannot staff

    folder = Path(db_dir) if db_dir is not None else DB_DIR
    folder.mkdir(parents=True, exist_ok=True)
    fp = fingerprint(calibration, b)
    db = folder / f"{spec.name}{'-quick' if quick else ''}-{fp[:12]}.db"
    if fresh and db.exists():
        db.unlink()

    n_workers = workers or spec.workers
    tick = None if n_workers > 1 or progress is None else (lambda: progress("", None))
    model = _Model(evaluator, free, fit_t, tick)
    prior = pyabc.Distribution(**{safe_name(p.path): pyabc.RV("uniform", p.low, p.high - p.low) for p in free})
    kernel = pyabc.IndependentNormalKernel(var=[t.sd**2 for t in fit_t], keys=[t.name for t in fit_t])
    eps = pyabc.Temperature(schemes=[pyabc.AcceptanceRateScheme(target_rate=b.target_rate),
                                     pyabc.ExpDecayFixedRatioScheme(alpha=b.decay)],
                            enforce_exact_final_temperature=False)
    sampler = (pyabc.sampler.SingleCoreSampler() if n_workers == 1 else
               pyabc.sampler.MulticoreEvalParallelSampler(n_procs=n_workers))
    abc = pyabc.ABCSMC(model, prior, kernel, population_size=b.population, eps=eps,
                       acceptor=pyabc.StochasticAcceptor(pdf_norm_method=pyabc.pdf_norm_max_found),
                       sampler=sampler)
    observed = {t.name: t.h(t.value) for t in fit_t}
    url = f"sqlite:///{db.resolve()}"
    resumed = db.exists()
    if resumed:
        abc.load(url, 1)
    else:
        abc.new(url, observed, meta_info={"calibration": spec.name, "fingerprint": fp})

    handler = None
    if progress is not None:
        handler = _GenerationLog(lambda t, e: progress(f"generation {t}, temperature {e:.3g}", t))
        logging.getLogger("ABC").addHandler(handler)
    try:
        history = abc.history
        done = history.max_t + 1
        gens = _generations(history)
        last_t = float(gens["temperature"].iloc[-1]) if len(gens) else math.inf
        # Phase A: tempering with `population` particles, down to TEMPER_TO or the budget's end,
        # one generation kept for the final phase.
        if last_t > TEMPER_TO and done < b.generations - 1:
            # pyABC draws from NumPy's global generator: keyed seed, state restored afterwards
            with numpy_global_seeded(_seed(spec.seed, 0, 10, done)):
                abc.run(minimum_epsilon=TEMPER_TO, max_nr_populations=b.generations - 1 - done,
                        min_acceptance_rate=b.min_acceptance_rate, max_total_nr_simulations=b.max_evaluations)
    finally:
        if handler is not None:
            logging.getLogger("ABC").removeHandler(handler)

    # Phase B: the posterior at T = 1 by adaptive importance sampling (see importance_final).
    history = abc.history
    df, w = history.get_distribution(m=0, t=history.max_t)
    names = [safe_name(p.path) for p in free]
    gens = _generations(history)
    draws, weights, chi2, rounds = importance_final(
        model, free, fit_t, df[names].to_numpy(dtype=np.float64), np.asarray(w, dtype=np.float64), b,
        _seed(spec.seed, 0, 12), db.with_suffix(".final.npz"), workers=n_workers, progress=progress)
    gens = pd.concat([gens.assign(step="abc-smc"), rounds.assign(step="importance")], ignore_index=True)
    evaluations = int(history.total_nr_simulations) + int(rounds["evaluations"].sum())
    return draws, weights, chi2, gens, evaluations, b, db, start, resumed


#: Rounds of adaptive importance sampling at T = 1 after tempering (quick: 1); all rounds' points
#: make the posterior (:func:`_mixture_weights`).
IMPORTANCE_ROUNDS = 6

_EVAL: _Model | None = None


def _eval_one(x: np.ndarray) -> np.ndarray:
    return np.array(list(_EVAL({safe_name(p.path): v for p, v in zip(_EVAL.free, x, strict=True)}).values()))


def importance_final(model: _Model, free: tuple[FreeParameter, ...], targets: tuple[Target, ...],
                     particles: np.ndarray, weights: np.ndarray, b: Budget, seed: int, store: Path, *,
                     workers: int = 1, progress: Callable[[str, int | None], None] | None = None):
    """The posterior at T = 1 by adaptive importance sampling from the last tempered population.

    Under common random numbers the simulator is deterministic, so the error model's likelihood
    exp(-chi^2 / 2) is computed exactly for every proposal instead of being sampled by an accept
    draw: each round proposes ``final_population`` points from pyABC's multivariate normal kernel
    density of the previous weighted sample (its ``MultivariateNormalTransition``, Silverman
    bandwidth; points outside the prior's box redrawn, the density renormalised by the share
    inside) and weights them by prior x likelihood / proposal density (population Monte
    Carlo; Cappe, Guillin, Marin & Robert 2004). This is the reweighting step of an SMC sampler
    without the rejection: pyABC's stochastic acceptor at T = 1 would accept only about 0.6% of
    such proposals here (about 180,000 evaluations for 1,000 particles). Every round's points,
    weighted against the mixture of all rounds' proposals (:func:`_mixture_weights`), are the
    posterior; every round is saved to ``store`` (resumable).

    Returns
    -------
    draws float64[N, k], weights float64[N] (sum 1), chi2 float64[N], rounds DataFrame
    """
    import pyabc

    global _EVAL
    rounds = IMPORTANCE_ROUNDS if b.exact_final else 1
    lows = np.array([p.low for p in free])
    highs = np.array([p.high for p in free])
    log_prior = -float(np.sum(np.log(highs - lows)))
    sd = np.array([t.sd for t in targets])
    goal = np.array([t.h(t.value) for t in targets])
    names = [safe_name(p.path) for p in free]
    saved = dict(np.load(store)) if store.exists() else {}
    rows, x, w = [], particles, weights / weights.sum()
    chi2 = np.zeros(len(x))
    # every round's proposals, their chi^2 and their proposal's (untruncated) density at all points so far
    props: list[np.ndarray] = []
    c2s: list[np.ndarray] = []
    transitions: list[Any] = []
    for r in range(rounds):
        key = f"round{r}"
        trans = pyabc.MultivariateNormalTransition()
        trans.fit(pd.DataFrame(x, columns=names), w)
        if key + "_x" in saved:
            prop, stats = saved[key + "_x"], saved[key + "_stats"]
        else:
            prop = np.zeros((0, len(names)))
            with numpy_global_seeded(seed + r):  # the transition's rvs draws from NumPy's global generator
                while len(prop) < b.final_population:  # proposals outside the prior's box have weight 0: redrawn
                    more = np.asarray(trans.rvs(size=b.final_population)[names],
                                      dtype=np.float64).reshape(-1, len(names))
                    more = more[np.all((more >= lows) & (more <= highs), axis=1)]
                    prop = np.vstack([prop, more])[:b.final_population]
            inside = np.ones(len(prop), dtype=bool)
            stats = np.full((len(prop), len(targets)), np.nan)
            todo = prop[inside]
            _EVAL = model
            if workers > 1:
                import multiprocessing

                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    out = pool.map(_eval_one, list(todo), chunksize=8)
            else:
                out = []
                for xi in todo:
                    out.append(_eval_one(xi))
            if progress is not None:
                for _ in range(len(todo)):
                    progress("", None)
            stats[inside] = np.array(out).reshape(-1, len(targets)) if len(out) else stats[inside]
            saved[key + "_x"], saved[key + "_stats"] = prop, stats
            atomic_write(store, partial(_savez, arrays=saved))
        inside = np.all(np.isfinite(stats), axis=1)
        c2 = np.where(inside, np.sum(((stats - goal) / sd) ** 2, axis=1), np.inf)
        q = np.asarray(trans.pdf(pd.DataFrame(prop, columns=names)), dtype=np.float64).reshape(-1)
        # (the truncation to the box divides q by one constant, which normalising the weights removes)
        with np.errstate(divide="ignore"):
            logw = np.where(inside, log_prior - c2 / 2 - np.log(q), -np.inf)
        w = np.exp(logw - logw[np.isfinite(logw)].max())
        w /= w.sum()
        x, chi2 = prop, c2
        props.append(prop)
        c2s.append(c2)
        transitions.append(trans)
        rows.append({"t": -1, "temperature": 1.0, "evaluations": int(inside.sum()), "particles": len(prop),
                     "acceptance_rate": 1.0, "ess": effective_sample_size(w)})
        if progress is not None:
            progress(f"importance round {r + 1}: ESS {effective_sample_size(w):.0f}", None)
    frame = pd.DataFrame(rows)
    frame["t"] = range(-len(rows), 0)
    x, w, chi2 = _mixture_weights(props, c2s, transitions, names, lows, highs, log_prior, seed)
    keep = np.isfinite(chi2) & (w > 0)
    return x[keep], w[keep] / w[keep].sum(), chi2[keep], frame


def _mixture_weights(props: list[np.ndarray], c2s: list[np.ndarray], transitions: list[Any], names: list[str],
                     lows: np.ndarray, highs: np.ndarray, log_prior: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every round's points, weighted against the mixture of all rounds' proposals.

    Each round adapts its proposal to the previous round's own weights (as in the modified AMIS of
    Marin, Pudlo & Sedki 2019, which keeps adaptation from feeding back through the mixture); the
    posterior is then estimated from *all* rounds' points with deterministic-mixture weights,
    prior x likelihood / sum_r (n_r / N) q_r(x) (Owen & Zhou 2000; Cornuet, Marin, Mira & Robert
    2012, AMIS), q_r the r-th proposal's density truncated to the prior's box. Points already
    paid for are kept instead of discarded, and a point that one round's proposal under-covers is
    not given a huge weight when another round covers it, so the combined sample's effective
    size is usually above each round's (not guaranteed). With one round this is the plain
    importance weight.
    """
    x = np.vstack(props)
    chi2 = np.concatenate(c2s)
    n_total = len(x)
    frame = pd.DataFrame(x, columns=names)
    mix = np.zeros(n_total)
    for r, (prop, trans) in enumerate(zip(props, transitions, strict=True)):
        q = np.asarray(trans.pdf(frame), dtype=np.float64).reshape(-1)
        # each round drew from its proposal truncated to the prior's box: divide by the mass inside
        mix += len(prop) / n_total * q / _inside_share(trans, names, lows, highs, seed, r)
    with np.errstate(divide="ignore"):
        logw = np.where(np.isfinite(chi2) & (mix > 0), log_prior - chi2 / 2 - np.log(mix), -np.inf)
    w = np.exp(logw - logw[np.isfinite(logw)].max())
    return x, w / w.sum(), chi2


def _inside_share(trans: Any, names: list[str], lows: np.ndarray, highs: np.ndarray, seed: int, key: int,
                  n: int = 20_000) -> float:
    """Share of a fitted proposal's mass inside the prior's box (Monte Carlo of ``n`` draws from the
    generator keyed by ``seed`` and ``key``).

    One round's truncation constant cancels when its weights are normalised; across rounds it
    does not, so the mixture density divides each round's density by its own share. The draws are
    the transition's own law (pyABC's ``MultivariateNormalTransition``: a weighted point plus
    N(0, ``cov``)), taken from our keyed generator rather than its ``rvs`` on NumPy's global one.
    """
    rng = numpy_generator(seed, Stream.CALIBRATION, 13, key)
    x = np.asarray(trans.X[names], dtype=np.float64)
    pick = rng.choice(len(x), size=n, p=np.asarray(trans.w, dtype=np.float64))
    pts = x[pick] + rng.multivariate_normal(np.zeros(len(names)), trans.cov, size=n, method="svd")
    return max(float(np.mean(np.all((pts >= lows) & (pts <= highs), axis=1))), 1.0 / n)


def posterior_predictive(calibration: Calibration, draws: np.ndarray, weights: np.ndarray, b: Budget,
                         targets: tuple[Target, ...], *, workers: int = 1,
                         progress: Callable[[str, int | None], None] | None = None) -> np.ndarray:
    """The targets' moments at ``b.predictive_draws`` posterior draws, each on its own seed.

    Draws are resampled systematically (offset keyed by the root seed), so weights are honoured
    and the rows are equally weighted; draw j runs on root seed ``s_j`` keyed by (seed, j): a new
    world and new trials, so the spread holds world and trial noise as well as the parameters'. A
    world too small to staff a panel strategy (e.g. fewer than 3 mega creators on YouTube, about
    1% of worlds) is replaced by the next keyed seed (seed, j, attempt).

    Returns
    -------
    float64[P, len(targets)]
        Natural units; NaN where a moment is undefined.
    """
    from sim.execution.executor import ExecutorKind, ExecutorSpec

    spec = calibration.spec
    free = tuple(spec.free)
    u0 = float(numpy_generator(spec.seed, Stream.CALIBRATION, 2, 0).random())
    rows = systematic_resample(weights, b.predictive_draws, u0)
    strategies = strategies_needed(targets)

    def one(j: int) -> np.ndarray:
        from sim.input.scenario import ScenarioError

        for attempt in range(20):  # a world that cannot staff a panel strategy (too few creators of a
            # tier on a platform, a rare draw) is replaced by the next keyed one
            seed_j = int(numpy_generator(spec.seed, Stream.CALIBRATION, 3, j, attempt).integers(0, 2**63))
            ev = Evaluator(calibration.base, free, strategies, b.predictive_trials, seed_j)
            try:
                out = moments_at(ev, draws[rows[j]], targets)
                break
            except ScenarioError:
                if attempt == 19:
                    raise
        if progress is not None:
            progress("", None)
        return out

    kind = ExecutorKind.SERIAL if workers == 1 else ExecutorKind.LOCAL
    with ExecutorSpec(kind, workers=workers).open() as ex:
        values = ex.map(one, list(range(len(rows))))
    return np.array(values, dtype=np.float64).reshape(len(rows), len(targets))


def calibrate(calibration: Calibration, *, quick: bool = False, db_dir: str | Path | None = None,
              workers: int | None = None, fresh: bool = False,
              progress: Callable[[str, int | None], None] | None = None) -> Posterior:
    """Fit a calibration by ABC-SMC and check its posterior against every comparable target of its set.

    See :func:`run_abc` for the arguments. The predictive checks cover the calibration's own set
    (fit and held-out targets with a computable moment); pending targets are listed.
    """
    started = time.perf_counter()
    spec = calibration.spec
    draws, weights, chi2, gens, evaluations, b, _, start, _ = run_abc(
        calibration, quick=quick, db_dir=db_dir, workers=workers, fresh=fresh, progress=progress)
    own = tuple(t for t in calibration.compared if t.set is spec.set)
    predictive = posterior_predictive(calibration, draws, weights, b, own, workers=workers or spec.workers,
                                      progress=progress)
    pending = tuple(t for t in calibration.targets.pending() if t.set is spec.set)
    return Posterior(tuple(spec.free), draws, weights, chi2, dict(spec.assumed), gens,
                     float(gens["temperature"].iloc[-1]), start, own, predictive, pending, evaluations,
                     time.perf_counter() - started, b.trials, spec.seed,
                     tuple(t.name for t in calibration.fit_targets))
