"""Moments: the simulated counterpart of each target, computed from a run's tables.

A calibration evaluates the panel scenario (``calibration/panel.yaml``) at one parameter
vector and keeps, per strategy, the trial totals and the per-partner tables as arrays
(:class:`StrategyRun`). Each moment is a small named function of those arrays and of trial
weights (all 1 for the estimate; multinomial counts for the bootstrap over trials that gives
the simulated moments' covariance), so a new moment is one function and one entry in
:data:`MOMENTS`.

Strategy conventions (checked when a calibration is loaded): engagement moments read the
*panel* strategy named after the target's platform (creators of several tiers posting once);
action, cascade and cost moments read the single-message strategy ``<tier>_campaign``.

Definitions (docs/calibration.md has the mapping of each published figure):

* ``er_follower_median``: per partner of the tier, the trial-mean of engagements over its
  followers (simulated followers x scale: what the creator has in the model), then the median
  across partners. Engagements attributed to a partner include its discovery exposures and its
  re-share descendants, as the scenario produces them.
* ``er_slope``: least-squares slope of log per-partner ER on log followers, across every
  partner of the panel with ER > 0.
* ``er_ratio``: ratio of two tiers' ``er_follower_median`` on the same panel.
* ``cascade_size``: mean(adopted) / mean(adopters_direct), posters per seed poster of an
  organic cascade (targets.yaml, ``cascade_size``: the re-share probability cancels).
* ``action_rate_reached``: mean(adopted) / mean(reach).
* ``action_rate_engaged``: mean(adopters_engaged) / mean(engagers), the share of accounts that
  engaged at least once which also acted (the action funnel, docs/model.md §7.7).
* ``engagements_per_reached``: mean(engagements) / mean(reach).
* ``clicks_per_reached``: mean(clickers) / mean(reach), the share of reached accounts that
  clicked through to the action page at least once (the click stage, docs/model.md §7.7).
* ``action_rate_clicked``: mean(adopters_clicked) / mean(clickers), the share of accounts that
  clicked at least once which also acted (the bottom step of the funnel M+R measures).
* ``cost_per_action``: cost / mean(adopted) (USD).
* ``action_ratio``: ``action_rate_reached`` of ``<tier>_campaign`` over that of ``<versus>_campaign``.
* ``adopters_per_follower_ratio``: mean(adopted) / sum of partners' followers, tier over versus.
* ``abs_engagement_peak``: followers at the top of the inverted U of *absolute* engagement
  (per-partner trial-mean engagements) against followers, from a least-squares quadratic in
  log-log across the panel's partners with engagement > 0: exp(-b / 2a) when the curve is
  concave (a < 0), +inf when it has no top (Wies, Bleier & Edeling 2023).
* ``one_hop_share``: share of organic cascades that end within one hop of their seed (no
  adopter of generation 3 or more below a direct adopter; Goel, Watts & Goldstein 2012), by
  maximum likelihood from each trial's deepest generation and its number of seeds (below).
* ``wearout_peak_exposures``: exposures to one creator at which a follower's attitude peaks
  over daily exposures (Schmidt & Eisend 2015), from the model's repetition, trust-growth,
  fatigue and decay rules at the parameter vector (:func:`attitude_curve`).

Means are ratios of means over trials (what a planner's totals are), never means of ratios.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from sim.calibration.targets import PANEL_MOMENTS, MomentName, Target

#: Trial totals a moment may read.
TOTALS = ("reach", "engagements", "adopted", "adopters_direct", "adopters_reshare", "reshares", "engagers",
          "adopters_engaged", "clickers", "adopters_clicked", "depth")
#: Per-partner columns a moment may read.
PARTNER = ("impressions", "engagements", "adopters")
#: Model values a rule-based moment may read (:attr:`StrategyRun.dynamics`).
DYNAMICS = ("conviction_decay", "trust_growth", "trust_ceiling", "fatigue", "fatigue_recovery", "repetition_peak")
#: Exposures over which the wear-out peak is searched (Schmidt & Eisend's range is 5-20).
WEAROUT_MAX = 30


@dataclass(frozen=True, eq=False)
class StrategyRun:
    """One strategy's trials at one parameter vector, as arrays.

    Attributes
    ----------
    name : str
    totals : dict of str -> float64[T]
        Trial totals (real accounts), columns :data:`TOTALS`.
    partners : dict of str -> float64[T, P]
        Per trial and partner (real accounts), columns :data:`PARTNER`.
    tier, platform : tuple of str, length P
    followers : float64[P]
        Followers each partner has in the model (simulated followers x scale).
    cost : float
        USD per trial (the same in every trial).
    scale : float
        Real accounts per simulated account (totals are real; ``depth`` is a generation number).
    dynamics : dict of str -> float
        The scenario's values that shape one follower's attitude over repeated exposures
        (:data:`DYNAMICS`: the model's ``conviction_decay``, ``trust_growth``, ``trust_ceiling``,
        ``fatigue``, ``fatigue_recovery``, ``repetition_peak`` (NaN for none) and ``trust.<tier>``,
        each tier's initial trust), for the moments that are functions of the rules, not of runs.
    """

    name: str
    totals: Mapping[str, np.ndarray]
    partners: Mapping[str, np.ndarray]
    tier: tuple[str, ...]
    platform: tuple[str, ...]
    followers: np.ndarray
    cost: float
    scale: float = 1.0
    dynamics: Mapping[str, float] = field(default_factory=dict)

    @property
    def trials(self) -> int:
        """Number of trials."""
        return len(next(iter(self.totals.values())))

    def mean(self, column: str, w: np.ndarray) -> float:
        """Weighted trial mean of a total."""
        return float(np.dot(w, self.totals[column]) / w.sum())

    def partner_mean(self, column: str, w: np.ndarray) -> np.ndarray:
        """Weighted trial mean per partner, float64[P]."""
        return (w @ self.partners[column]) / w.sum()

    def of_tier(self, tier: str) -> np.ndarray:
        """Positions of the partners of a tier."""
        return np.flatnonzero(np.asarray(self.tier) == tier)


class NotComputable(RuntimeError):
    """A moment that needs a mechanism the model does not have yet (its target is ``pending``)."""


#: A run of every strategy a calibration needs, by strategy name.
PanelRun = Mapping[str, StrategyRun]

Moment = Callable[[PanelRun, Target, np.ndarray], float]


def strategy_of(target: Target, tier: str | None = None) -> str:
    """The strategy a target's moment reads (``tier`` overrides the target's, for ``versus``)."""
    if target.moment in PANEL_MOMENTS:
        return target.platform
    return f"{tier or target.tier}_campaign"


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("nan")


def _partner_er(run: StrategyRun, w: np.ndarray) -> np.ndarray:
    return run.partner_mean("engagements", w) / run.followers


def _median_er(run: StrategyRun, tier: str, w: np.ndarray) -> float:
    idx = run.of_tier(tier)
    if len(idx) == 0:
        return float("nan")
    return float(np.median(_partner_er(run, w)[idx]))


def er_follower_median(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Median across a tier's panel partners of engagements per follower per post."""
    return _median_er(runs[strategy_of(t)], t.tier, w)


def er_slope(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Least-squares slope of log ER on log followers across the panel's partners with ER > 0."""
    run = runs[strategy_of(t)]
    er = _partner_er(run, w)
    keep = er > 0
    if keep.sum() < 3:
        return float("nan")
    return float(np.polyfit(np.log(run.followers[keep]), np.log(er[keep]), 1)[0])


def er_ratio(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Ratio of two tiers' median ER per follower on one panel."""
    run = runs[strategy_of(t)]
    return _ratio(_median_er(run, t.tier, w), _median_er(run, t.versus, w))


def cascade_size(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Posters per seed poster of organic cascades: mean(adopted) / mean(adopters_direct)."""
    run = runs[strategy_of(t)]
    return _ratio(run.mean("adopted", w), run.mean("adopters_direct", w))


def _action_rate(run: StrategyRun, w: np.ndarray) -> float:
    return _ratio(run.mean("adopted", w), run.mean("reach", w))


def action_rate_reached(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Share of reached accounts that act: mean(adopted) / mean(reach)."""
    return _action_rate(runs[strategy_of(t)], w)


def action_rate_engaged(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Share of engaged accounts that act: mean(adopters_engaged) / mean(engagers).

    ``adopters_engaged`` counts adopters that had engaged by the end of their adoption day, and
    ``engagers`` every account that engaged at least once (docs/model.md §7.7), so this is the
    middle-to-bottom step of the funnel, not adopted / engagements.
    """
    run = runs[strategy_of(t)]
    return _ratio(run.mean("adopters_engaged", w), run.mean("engagers", w))


def engagements_per_reached(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Engagements per reached account: mean(engagements) / mean(reach)."""
    run = runs[strategy_of(t)]
    return _ratio(run.mean("engagements", w), run.mean("reach", w))


def clicks_per_reached(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Share of reached accounts that clicked through to the action page: mean(clickers) / mean(reach)."""
    run = runs[strategy_of(t)]
    return _ratio(run.mean("clickers", w), run.mean("reach", w))


def action_rate_clicked(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Share of clickers that act: mean(adopters_clicked) / mean(clickers).

    ``adopters_clicked`` counts adopters that had clicked by the end of their adoption day (the
    booking rule of ``adopters_engaged``); an email benchmark's response rate over its click rate
    (M+R) is this step when every response comes through a click.
    """
    run = runs[strategy_of(t)]
    return _ratio(run.mean("adopters_clicked", w), run.mean("clickers", w))


def cost_per_action(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """USD per action: cost / mean(adopted)."""
    run = runs[strategy_of(t)]
    return _ratio(run.cost, run.mean("adopted", w))


def action_ratio(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Action rate of reached accounts, one-post campaign of ``tier`` over that of ``versus``."""
    return _ratio(_action_rate(runs[strategy_of(t)], w), _action_rate(runs[strategy_of(t, t.versus)], w))


def _per_follower(run: StrategyRun, w: np.ndarray) -> float:
    return _ratio(run.mean("adopted", w), float(run.followers.sum()))


def adopters_per_follower_ratio(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Actions per follower, one-post campaign of ``tier`` over that of ``versus``."""
    return _ratio(_per_follower(runs[strategy_of(t)], w), _per_follower(runs[strategy_of(t, t.versus)], w))


def abs_engagement_peak(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Followers at the top of absolute engagement against followers (log-log quadratic), +inf if none.

    Per partner of the panel: the trial-mean engagements of its post (absolute, not per
    follower). Fit log(engagements) = a x^2 + b x + c, x = log(followers), by least squares
    across partners with engagements > 0; an inverted U (a < 0) peaks at x* = -b / 2a. A convex
    or straight curve, or a top beyond the largest partner, means absolute engagement rises over
    the whole range: +inf, above every range (a miss, not an error); a top below the smallest
    partner gives that partner's followers.
    """
    run = runs[strategy_of(t)]
    eng = run.partner_mean("engagements", w)
    keep = eng > 0
    if keep.sum() < 4:
        return float("nan")
    x = np.log(run.followers[keep])
    a, b, _ = np.polyfit(x, np.log(eng[keep]), 2)
    if a >= 0 or -b / (2 * a) > x.max():
        return float("inf")  # no top, or a top beyond the largest creator: rising over the whole range
    return float(np.exp(max(-b / (2 * a), x.min())))  # a top below the smallest creator: falling throughout


def _one_hop_mle(deep: np.ndarray, seeds: np.ndarray, w: np.ndarray) -> float:
    """Maximum-likelihood s of P(trial has no cascade deeper than one hop) = s ** seeds.

    Each trial t has ``seeds[t]`` independent cascades, each ending within one hop with
    probability s; ``deep[t]`` says whether some cascade went further. With q = -log s >= 0 the
    log-likelihood sum_t w_t [-(1 - deep_t) n_t q + deep_t log(1 - exp(-n_t q))] is concave in q,
    so a bounded scalar search finds its one maximum; no deep trial gives s = 1.
    """
    from scipy.optimize import minimize_scalar

    live = seeds > 0
    if not live.any():
        return float("nan")
    d, n, ww = deep[live], seeds[live], w[live]
    if not (ww * d).any():
        return 1.0
    if (d >= 1).all() and (ww > 0).all():
        return 0.0

    def nll(q: float) -> float:
        with np.errstate(divide="ignore"):
            return -float(np.sum(ww * (-(1 - d) * n * q + d * np.log(-np.expm1(-n * q)))))

    res = minimize_scalar(nll, bounds=(1e-12, 20.0), method="bounded", options={"xatol": 1e-10})
    return float(np.exp(-res.x))


def one_hop_share(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Share of organic cascades that end within one hop of their seed.

    A cascade is a direct adopter (generation 1, the seed; Goel et al. count seeds that nobody
    followed as cascades of size one) and the re-share adopters below it. It ends within one hop
    when no adopter of generation 3 or more descends from it. The kernel reports per trial the
    deepest generation (``depth``) and the number of seeds (``adopters_direct``, divided by the
    scale to count simulated accounts); taking a trial's cascades as independent, each ending
    within one hop with probability s, P(depth <= 2) = s ** seeds, and s is estimated by maximum
    likelihood over the trials (weights w). Cascades can meet (an account reached by two
    re-shares is credited to one), which makes them slightly dependent: an approximation.
    """
    run = runs[strategy_of(t)]
    deep = (run.totals["depth"] >= 3).astype(np.float64)
    seeds = np.rint(run.totals["adopters_direct"] / run.scale)
    return _one_hop_mle(deep, seeds, w)


def attitude_curve(d: Mapping[str, float], tier: str, n: int = WEAROUT_MAX) -> np.ndarray:
    """A follower's attitude after 1..n daily exposures to one creator of ``tier``, float64[n].

    The model's rules (docs/model.md §7.5-7.7) for one (follower, creator) edge hit once a day,
    in units of the creator's persuasion factor (which scales every term, so the peak does not
    depend on it): before the k-th exposure (k = 0, 1, ...) fatigue recovers f <- f (1 - omega),
    the dose is x_k = tau_k (1 - f_k) rho(k), rho(k) = (2P - 2k - 1) / (2P - 1) (1 without a
    peak), conviction decays and adds it, C <- C (1 - gamma) + x_k, and at the end of the day trust
    grows towards its ceiling, tau <- tau_max - (tau_max - tau)(1 - g), and fatigue wears,
    f <- 1 - (1 - f)(1 - w). The attitude after k + 1 exposures is C then (the conviction the
    threshold rule tests; its fixed-point truncation, below 2^-32 of a dose, is ignored).
    """
    tau = float(d[f"trust.{tier}"])
    tau_max, g = float(d["trust_ceiling"]), float(d["trust_growth"])
    w, omega, gamma = float(d["fatigue"]), float(d["fatigue_recovery"]), float(d["conviction_decay"])
    peak = float(d["repetition_peak"])
    f, c = 0.0, 0.0
    out = np.empty(n)
    for k in range(n):
        f *= (1.0 - omega) if k else 1.0
        rho = 1.0 if not np.isfinite(peak) else (2 * peak - 2 * k - 1) / (2 * peak - 1)
        c = c * (1.0 - gamma) + tau * (1.0 - f) * rho
        out[k] = c
        tau = tau_max - (tau_max - tau) * (1.0 - g)
        f = 1.0 - (1.0 - f) * (1.0 - w)
    return out


def wearout_peak_exposures(runs: PanelRun, t: Target, w: np.ndarray) -> float:
    """Exposures to one creator at which attitude peaks (Schmidt & Eisend 2015: about 10).

    The n in 1..:data:`WEAROUT_MAX` that maximises the attitude of a follower after n spaced
    (daily) exposures to one ``tier`` creator (:func:`attitude_curve`), under the scenario's
    repetition peak, trust growth, fatigue and conviction decay. A function of the rules at the
    parameter vector, not of the trials (``w`` is not used): with trust growth, fatigue and decay
    all 0 it is exactly the repetition peak P (rounded; the attitude N(2P - N)/(2P - 1) peaks at
    N = P); decay and fatigue move it earlier, trust growth later. Without a peak (and without
    decay) attitude rises over the whole range: :data:`WEAROUT_MAX`, the top of the search.
    """
    d = runs[strategy_of(t)].dynamics
    if not d:
        raise NotComputable("the run carries no model dynamics (StrategyRun.dynamics)")
    return float(np.argmax(attitude_curve(d, t.tier)) + 1)


#: Every moment, by the name targets use.
MOMENTS: Mapping[MomentName, Moment] = {
    MomentName.ER_FOLLOWER_MEDIAN: er_follower_median,
    MomentName.ER_SLOPE: er_slope,
    MomentName.ER_RATIO: er_ratio,
    MomentName.CASCADE_SIZE: cascade_size,
    MomentName.ACTION_RATE_REACHED: action_rate_reached,
    MomentName.ACTION_RATE_ENGAGED: action_rate_engaged,
    MomentName.ENGAGEMENTS_PER_REACHED: engagements_per_reached,
    MomentName.CLICKS_PER_REACHED: clicks_per_reached,
    MomentName.ACTION_RATE_CLICKED: action_rate_clicked,
    MomentName.COST_PER_ACTION: cost_per_action,
    MomentName.ACTION_RATIO: action_ratio,
    MomentName.ADOPTERS_PER_FOLLOWER_RATIO: adopters_per_follower_ratio,
    MomentName.ABS_ENGAGEMENT_PEAK: abs_engagement_peak,
    MomentName.ONE_HOP_SHARE: one_hop_share,
    MomentName.WEAROUT_PEAK: wearout_peak_exposures,
}


def strategies_needed(targets: tuple[Target, ...]) -> tuple[str, ...]:
    """Names of the strategies the targets' moments read, in first-use order."""
    out: list[str] = []
    for t in targets:
        names = [strategy_of(t)] + ([strategy_of(t, t.versus)] if t.moment in (
            MomentName.ACTION_RATIO, MomentName.ADOPTERS_PER_FOLLOWER_RATIO) else [])
        out.extend(n for n in names if n not in out)
    return tuple(out)


def moment_vector(runs: PanelRun, targets: tuple[Target, ...], weights: np.ndarray | None = None) -> np.ndarray:
    """Every target's simulated moment, float64[len(targets)] (natural units).

    Parameters
    ----------
    runs : PanelRun
    targets : tuple of Target
    weights : float64[T], optional
        Trial weights (default: all 1).
    """
    trials = next(iter(runs.values())).trials
    w = np.ones(trials) if weights is None else np.asarray(weights, dtype=np.float64)
    return np.array([MOMENTS[t.moment](runs, t, w) for t in targets])


def on_scale(targets: tuple[Target, ...], values: np.ndarray) -> np.ndarray:
    """Values moved onto each target's scale (log for log targets)."""
    return np.array([t.h(float(v)) if np.isfinite(v) else np.nan for t, v in zip(targets, values, strict=True)])


def trial_covariance(runs: PanelRun, targets: tuple[Target, ...], replicates: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Covariance of the moments (on the targets' scales) by a bootstrap over trials.

    Every strategy's trial ``t`` shares its random numbers with the others' trial ``t`` (common
    random numbers), so trials are resampled jointly across strategies.
    """
    trials = next(iter(runs.values())).trials
    draws = []
    for _ in range(replicates):
        w = rng.multinomial(trials, np.full(trials, 1.0 / trials)).astype(np.float64)
        draws.append(on_scale(targets, moment_vector(runs, targets, w)))
    draws = np.array(draws)
    draws = draws[np.isfinite(draws).all(axis=1)]
    return np.atleast_2d(np.cov(draws, rowvar=False))
