"""The source article's claims, audited with the calibrated model over a population of campaigns.

The source (JCI Worldwide blog, 2024; docs/calibration.md §1.2) makes five claims about
micro-influencers and celebrities. Each is read as a per-campaign quantity whose value above 1
means "the claim holds in this campaign" (an *advantage ratio*), computed for every campaign of
a population and summarised by one verdict rule:

* ``roi_micro``, ``roi_nano`` ("56% of marketers report better ROI with micro and
  nano-influencers"): cost per adopter of one celebrity post over that of a micro (nano) swarm
  bought with the same budget, at the industry rate card.
* ``micro_price`` ("micro-influencers typically charge between $2,000 and $8,000 per post";
  celebrities six to seven figures): the same ratio for micro at the source's own prices
  (``source_article``: $5,000 micro, $500,000 celebrity, the budget matched to the latter),
  reported as cost per adopter micro / celebrity and set against the industry card's.
* ``micro_more_genuine`` ("63.6% of people perceive micro-influencer promotions as more
  genuine"): actions per reached account of the micro swarm over the celebrity's (the two reach
  about as many accounts), the model's per-exposure persuasion ratio (Bradley-Terry reading of
  63.6%: 1.75).
* ``micro_higher_engagement`` ("superior engagement metrics"): engagements per follower of the
  micro swarm's partners over the celebrity's.
* ``cumulative_trust`` (long-term ambassadors build "cumulative trust"): adopters of ten micro
  partners posting weekly for 12 weeks over those of the same 120 posts by 120 creators on day 0
  (the same cost on any card); ``cumulative_trust_per_reached``: the same per reached account,
  the effect of repeated trusted exposure without the burst's larger reach.

**Population.** ``worlds`` replicate worlds (root seeds ``replicate_seed(seed, CLAIMS, w)``,
stream ``CLAIMS`` = 16), each running a Latin hypercube of ``points`` campaigns (the sweep
machinery: ``sweep: latin_hypercube`` written into the base scenario, sampled by SALib from the
world's root seed, stream ``DESIGN``) over the 95% intervals of the scenario's fitted set
(engagement by tier, threshold scale, re-share) and over ranges of the unfitted parameters
(celebrity trust, trust growth). Every campaign runs under every rate card of the definition.

**Verdict rule** (:func:`verdict`), per claim, from the campaigns' advantage ratios:

1. the share of campaigns in which the claim holds (ratio > 1), with a Wilson interval;
2. the parameter with the largest |Spearman rho| between the log ratio and the campaign's
   parameter values (Bonferroni-adjusted p over the parameters);
3. "depends on X" if the share in the lower half of X's range and in the upper half have
   intervals on opposite sides of 1/2 (the verdict flips with X); otherwise "supported" if the
   share's interval lies above 1/2, "not supported" if below; otherwise "depends on X" if X's
   adjusted p is below ``alpha``; otherwise "undetermined".

A check passes when the verdict is determined (anything but "undetermined"): a claim the model
does not support is a finding reported in the verdict, not a failed check; a failed check means
the population is too small to decide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from pydantic import Field, field_validator
from scipy import stats

from sim.api import run
from sim.base.rng import Stream
from sim.campaign.rate_cards import RATE_CARDS
from sim.execution.executor import machine_cores
from sim.experiments.comparison import Check, Estimate, proportion_interval
from sim.experiments.report import Report, Steps, Workspace, pieces
from sim.experiments.schema import ExperimentSpec
from sim.experiments.seeds import replicate_seed
from sim.input import keypaths
from sim.input.design import apply
from sim.input.scenario import Scenario, load_scenario
from sim.input.schema import PositiveInt, Spec
from sim.input.sweep import MAX_POINTS, SweepSpec

ROOT = Path(__file__).resolve().parents[2]
Label = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$", max_length=40)]

SUPPORTED, NOT_SUPPORTED, DEPENDS, UNDETERMINED = "supported", "not supported", "depends on", "undetermined"


class FittedRange(Spec):
    """A fitted parameter varied over its 95% interval in the scenario's fitted set."""

    path: str
    name: Label


class Varied(Spec):
    """An unfitted parameter varied over a stated range."""

    path: str
    name: Label
    low: float
    high: float


class Card(Spec):
    """A rate card, the budget every budget-matched strategy gets under it, and the strategies run."""

    name: str
    budget: Annotated[float, Field(gt=0)]
    strategies: Annotated[list[str], Field(min_length=1)]

    @field_validator("name")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in RATE_CARDS:
            raise ValueError(f"unknown rate card {value!r} (allowed: {', '.join(RATE_CARDS)})")
        return value


class Parameters(Spec):
    """The base scenario, what varies across campaigns, the rate cards and the verdict's levels."""

    scenario: str = "experiments/source_claims/campaigns.yaml"
    fitted: Annotated[list[FittedRange], Field(min_length=1)]
    unfitted: list[Varied] = []
    cards: Annotated[list[Card], Field(min_length=1)]
    budget_strategies: list[str] = ["micro_swarm", "nano_swarm"]
    level: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95
    alpha: Annotated[float, Field(gt=0.0, lt=0.5)] = 0.05


class Sizes(Spec):
    """Replicate worlds, Latin-hypercube campaigns per world, trials per campaign, scenario overrides."""

    worlds: PositiveInt
    points: Annotated[int, Field(ge=2, le=MAX_POINTS)]  # a sweep's limit
    trials: PositiveInt
    overrides: dict[str, float] = {}


class Definition(ExperimentSpec):
    """Claims-audit definition."""

    experiment: Literal["claims"]
    parameters: Parameters
    full: Sizes
    quick: Sizes


# --------------------------------------------------------------------------- the verdict rule

@dataclass(frozen=True)
class Verdict:
    """A claim's verdict over a population of campaigns.

    Attributes
    ----------
    kind : str
        ``supported``, ``not supported``, ``depends on`` or ``undetermined``.
    share : Estimate
        Share of campaigns in which the claim holds, Wilson interval.
    parameter : str or None
        The parameter with the largest |Spearman rho| with the log advantage ratio.
    rho, p : float
        Its rank correlation and Bonferroni-adjusted p-value.
    halves : (Estimate, Estimate) or None
        Shares in the lower and upper half of that parameter's values.
    """

    kind: str
    share: Estimate
    parameter: str | None
    rho: float
    p: float
    halves: tuple[Estimate, Estimate] | None

    @property
    def decided(self) -> bool:
        """Whether the evidence determines the verdict."""
        return self.kind != UNDETERMINED

    @property
    def text(self) -> str:
        """``supported``, ``not supported``, ``depends on <parameter>`` or ``undetermined``."""
        return f"{DEPENDS} {self.parameter}" if self.kind == DEPENDS else self.kind


def verdict(holds: np.ndarray, effect: np.ndarray, x: np.ndarray, labels: list[str], level: float = 0.95,
            alpha: float = 0.05) -> Verdict:
    """Supported / not supported / depends on a parameter, from a population of campaigns.

    Parameters
    ----------
    holds : bool[N]
        Whether the claim holds in each campaign.
    effect : float[N]
        The size of the advantage (the log advantage ratio), ranked against each parameter.
    x : float[N, D]
        Each campaign's parameter values.
    labels : list of str, length D
    level : float
        Of the Wilson intervals.
    alpha : float
        Family-wise level of the rank-correlation test (Bonferroni over the D parameters).
    """
    holds = np.asarray(holds, dtype=bool)
    x = np.asarray(x, dtype=np.float64)
    n = len(holds)
    share = proportion_interval(int(holds.sum()), n, level)
    rhos = np.full(x.shape[1], np.nan)
    ps = np.ones(x.shape[1])
    for d in range(x.shape[1]):
        if np.ptp(x[:, d]) > 0 and np.ptp(effect) > 0:
            res = stats.spearmanr(x[:, d], effect)
            rhos[d], ps[d] = float(res.statistic), float(res.pvalue)
    if not np.isfinite(rhos).any():
        top, rho, p, halves = None, float("nan"), 1.0, None
    else:
        d = int(np.nanargmax(np.abs(rhos)))
        top, rho, p = labels[d], float(rhos[d]), min(1.0, float(ps[d]) * x.shape[1])
        low = x[:, d] <= np.median(x[:, d])
        halves = (proportion_interval(int(holds[low].sum()), int(low.sum()), level),
                  proportion_interval(int(holds[~low].sum()), int((~low).sum()), level))
    flips = halves is not None and ((halves[0].low > 0.5 and halves[1].high < 0.5)
                                    or (halves[0].high < 0.5 and halves[1].low > 0.5))
    if flips:
        kind = DEPENDS
    elif share.low > 0.5:
        kind = SUPPORTED
    elif share.high < 0.5:
        kind = NOT_SUPPORTED
    elif top is not None and p < alpha:
        kind = DEPENDS
    else:
        kind = UNDETERMINED
    return Verdict(kind, share, top, rho, p, halves)


def median_interval(values: np.ndarray, level: float = 0.95) -> Estimate:
    """Median with its distribution-free interval from order statistics (scipy's quantile test)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    med = float(np.median(v))
    ci = stats.quantile_test(v, q=med, p=0.5).confidence_interval(confidence_level=level)
    low, high = float(ci.low), float(ci.high)
    return Estimate(med, low if np.isfinite(low) else float(v.min()), high if np.isfinite(high) else float(v.max()))


# --------------------------------------------------------------------------- the campaigns

@lru_cache(maxsize=4)
def _base(path: str) -> Scenario:
    p = Path(path)
    return load_scenario(p if p.is_absolute() or p.exists() else ROOT / p)


def fitted_intervals(spec: Definition) -> list[Varied]:
    """The fitted ranges as :class:`Varied`, from the base scenario's fitted set."""
    from sim.input.fitted import find_fitted, read_fitted

    base = _base(spec.parameters.scenario)
    where = Path(spec.parameters.scenario)
    path = find_fitted(base.parameters, (where if where.is_absolute() else ROOT / where).parent)
    by_path = {p.path: p for p in read_fitted(path).parameters}
    out = []
    for f in spec.parameters.fitted:
        if f.path not in by_path:
            raise ValueError(f"parameters.fitted: {f.path} is not in {path} (fitted: {', '.join(by_path)})")
        lo, hi = by_path[f.path].interval
        out.append(Varied(path=f.path, name=f.name, low=lo, high=hi))
    return out


def varied(spec: Definition) -> list[Varied]:
    """Every parameter the campaigns vary, fitted first."""
    return fitted_intervals(spec) + list(spec.parameters.unfitted)


def scenario_for(spec: Definition, sizes: Sizes, card: Card, world: int) -> Scenario:
    """The base scenario at the sizes, under ``card`` (its strategies, budgets), world ``world``'s
    root seed, with the Latin-hypercube sweep over :func:`varied`."""
    base = _base(spec.parameters.scenario)
    data = base.model_dump(mode="python")
    names = [s.name for s in base.strategy_list]
    missing = [s for s in card.strategies if s not in names]
    if missing:
        raise ValueError(f"parameters.cards ({card.name}): no strategy {', '.join(missing)} in "
                         f"{spec.parameters.scenario} (strategies: {', '.join(names)})")
    data["strategies"] = [s for s in data["strategies"] if s["name"] in card.strategies]
    data.update(trials=sizes.trials, seed=replicate_seed(spec.seed, int(Stream.CLAIMS), world))
    shell = Scenario.model_validate(data)
    shell._source = base._source
    values: dict[tuple[str, ...], float | str] = {keypaths.split(k): v for k, v in sizes.overrides.items()}
    values[("rate_card",)] = card.name
    for i, s in enumerate(shell.strategy_list):
        if s.name in spec.parameters.budget_strategies:
            values[("strategies", str(i), "posts", "0", "budget")] = card.budget
    out, _ = apply(shell, values)
    data = out.model_dump(mode="python")
    data["sweep"] = SweepSpec(design="latin_hypercube", samples=sizes.points, uncertainties=[
        {"path": v.path, "name": v.name, "low": v.low, "high": v.high} for v in varied(spec)]).model_dump(mode="python")
    swept = Scenario.model_validate(data)
    swept._source = base._source
    return swept


MEANS = ("cost", "reach", "engagements", "engagers", "adopted", "adopters_engaged")


def campaigns(spec: Definition, sizes: Sizes, card: Card, world: int) -> pd.DataFrame:
    """One world's campaigns under one card: per point and strategy, trial means and partners' followers."""
    scenario = scenario_for(spec, sizes, card, world)
    res = run(scenario, workers=min(2, machine_cores()))
    means = res.table.groupby(["point", "strategy"], observed=True)[list(MEANS)].mean()
    roster = res.campaign.roster.groupby(["point", "strategy"], observed=True).agg(
        followers=("followers", "sum"), partners=("partner", "size"))
    frame = means.join(roster).reset_index()
    frame["strategy"] = frame.strategy.astype(str)
    values = pd.DataFrame([dict(p.values) for p in res.design.points]).assign(point=range(len(res.design.points)))
    return frame.merge(values, on="point").assign(card=card.name, world=world)


# --------------------------------------------------------------------------- the claims

Wide = pd.DataFrame  # one row per campaign (world, point); columns (card, strategy, quantity)


def _cpa(w: Wide, card: str, s: str) -> pd.Series:
    return w[(card, s, "cost")] / w[(card, s, "adopted")]


def _per(w: Wide, card: str, s: str, num: str, den: str) -> pd.Series:
    return w[(card, s, num)] / w[(card, s, den)]


@dataclass(frozen=True)
class Claim:
    """One claim of the source, its reading as an advantage ratio (> 1: it holds in a campaign).

    Attributes
    ----------
    name, published, reading : str
        Check name; the claim as the source states it; the model's reading in words.
    card : str
        The rate card the ratio is computed under.
    advantage : callable
        Wide table -> advantage ratio per campaign.
    ours : {"share", "median", "inverse_median"}
        What the check reports: the share of campaigns in which the claim holds, or the median
        ratio (``inverse_median``: of 1 / ratio, for cost ratios read micro over celebrity).
    """

    name: str
    published: str
    reading: str
    card: str
    advantage: Callable[[Wide], pd.Series]
    ours: str


INDUSTRY, SOURCE = "industry_midpoint", "source_article"

CLAIMS: tuple[Claim, ...] = (
    Claim("roi_micro", "'56% of marketers report better ROI with micro and nano-influencers' (micro)",
          "share of campaigns in which a micro swarm's cost per adopter is below one celebrity post's at "
          "equal budget (industry card)", INDUSTRY,
          lambda w: _cpa(w, INDUSTRY, "celebrity") / _cpa(w, INDUSTRY, "micro_swarm"), "share"),
    Claim("roi_nano", "'56% of marketers report better ROI with micro and nano-influencers' (nano)",
          "share of campaigns in which a nano swarm's cost per adopter is below one celebrity post's at equal "
          "budget (industry card)", INDUSTRY,
          lambda w: _cpa(w, INDUSTRY, "celebrity") / _cpa(w, INDUSTRY, "nano_swarm"), "share"),
    Claim("micro_price", "micro 'between $2,000 and $8,000 per post', celebrities 'hundreds of thousands to "
          "millions'", "median cost per adopter micro / celebrity at the source's prices ($5,000 / $500,000, "
          "budget $500,000); holds where < 1", SOURCE,
          lambda w: _cpa(w, SOURCE, "celebrity") / _cpa(w, SOURCE, "micro_swarm"), "inverse_median"),
    Claim("micro_more_genuine", "'63.6% of people perceive micro-influencer promotions as more genuine' "
          "(Bradley-Terry: micro:mega persuasion 1.75)", "median ratio of actions per reached account, micro "
          "swarm / celebrity at about equal reach (industry card); holds where > 1", INDUSTRY,
          lambda w: _per(w, INDUSTRY, "micro_swarm", "adopted", "reach")
          / _per(w, INDUSTRY, "celebrity", "adopted", "reach"), "median"),
    Claim("micro_higher_engagement", "'micro-influencer partnerships deliver superior engagement metrics'",
          "median ratio of engagements per follower, micro swarm partners / the celebrity (industry card); holds "
          "where > 1", INDUSTRY,
          lambda w: _per(w, INDUSTRY, "micro_swarm", "engagements", "followers")
          / _per(w, INDUSTRY, "celebrity", "engagements", "followers"), "median"),
    Claim("cumulative_trust", "long-term ambassadors build 'cumulative trust' (better than one-off posts)",
          "median ratio of adopters, 10 micro ambassadors posting weekly for 12 weeks / the same 120 posts by 120 "
          "creators on day 0 (equal cost); holds where > 1", INDUSTRY,
          lambda w: w[(INDUSTRY, "ambassadors", "adopted")] / w[(INDUSTRY, "burst", "adopted")], "median"),
    Claim("cumulative_trust_per_reached", "long-term ambassadors build 'cumulative trust' (per person reached)",
          "median ratio of actions per reached account, ambassadors / burst (the trust effect without the burst's "
          "larger reach); holds where > 1", INDUSTRY,
          lambda w: _per(w, INDUSTRY, "ambassadors", "adopted", "reach")
          / _per(w, INDUSTRY, "burst", "adopted", "reach"), "median"),
)


def wide(frame: pd.DataFrame, labels: list[str]) -> tuple[Wide, pd.DataFrame]:
    """Campaign table: one row per (world, point), columns (card, strategy, quantity); and its parameters."""
    keys = ["world", "point"]
    quantities = [*MEANS, "followers", "partners"]
    w = frame.pivot_table(index=keys, columns=["card", "strategy"], values=quantities, aggfunc="first")
    w.columns = w.columns.reorder_levels([1, 2, 0])
    params = frame.groupby(keys)[labels].first()
    return w, params


def audit(frame: pd.DataFrame, labels: list[str], cards: set[str], level: float,
          alpha: float) -> tuple[list[tuple[Claim, pd.Series, Verdict]], pd.DataFrame]:
    """Every claim whose card was run: its advantage ratio per campaign and its verdict."""
    w, params = wide(frame, labels)
    out = []
    for claim in CLAIMS:
        if claim.card not in cards:
            continue
        ratio = claim.advantage(w).astype(np.float64)
        ok = np.isfinite(ratio) & (ratio > 0)
        r = ratio[ok]
        v = verdict(r.to_numpy() > 1, np.log(r.to_numpy()), params[ok].to_numpy(), labels, level, alpha)
        out.append((claim, r, v))
    return out, params


def _check(claim: Claim, ratio: pd.Series, v: Verdict, level: float, extra: str = "") -> Check:
    if claim.ours == "share":
        ours, unit = v.share, "{:.3f}"
    else:
        ours = median_interval(1 / ratio if claim.ours == "inverse_median" else ratio, level)
        unit = "{:.3g}"
    halves = "" if v.halves is None else (f"; share with {v.parameter} in its lower / upper half "
                                          f"{v.halves[0].text('{:.2f}')} / {v.halves[1].text('{:.2f}')}")
    criterion = (f"{claim.reading}. Verdict **{v.text}**: holds in {v.share.text('{:.2f}')} of {len(ratio)} "
                 f"campaigns; strongest rank correlate {v.parameter} (Spearman {v.rho:+.2f}, adj. p {v.p:.2g})"
                 f"{halves}{extra}. Passes when the verdict is determined (rule: docs/calibration.md, Claims audit)")
    return Check(claim.name, claim.published, ours, criterion, v.decided, unit)


def reproduce(spec: Definition, sizes: Sizes, ws: Workspace, steps: Steps) -> Report:
    """Run the audit: every card x world's Latin hypercube of campaigns, then each claim's verdict."""
    p = spec.parameters
    ranges = varied(spec)
    labels = [v.name for v in ranges]
    units = {f"{card.name}_w{w}": (lambda card=card, w=w: campaigns(spec, sizes, card, w))
             for card in p.cards for w in range(sizes.worlds)}
    frame = pieces(ws, steps, units)
    results, params = audit(frame, labels, {c.name for c in p.cards}, p.level, p.alpha)
    report = Report(spec, quick=False)
    rows, per_campaign = [], params.reset_index()
    by_name = {c.name: (c, r, v) for c, r, v in results}
    for claim, ratio, v in results:
        extra = ""
        if claim.name == "micro_price" and "roi_micro" in by_name:
            industry = by_name["roi_micro"][1]
            shift = median_interval((1 / ratio) / (1 / industry.reindex(ratio.index)), p.level)
            extra = (f"; at the industry card the median is {median_interval(1 / industry, p.level).text('{:.3g}')}, "
                     f"so the source's prices multiply micro's relative cost per adopter by {shift.text('{:.3g}')} "
                     f"(industry verdict: {by_name['roi_micro'][2].text})")
        if claim.name == "micro_more_genuine":
            med = float(np.median(ratio))
            extra = f"; Bradley-Terry share implied by the median: {med / (1 + med):.1%} (source: 63.6%)"
        check = _check(claim, ratio, v, p.level, extra)
        report.checks.append(check)
        med = median_interval(ratio, p.level)
        rows.append({"claim": claim.name, "card": claim.card, "reading": claim.reading, "campaigns": len(ratio),
                     "share_holds": v.share.value, "share_low": v.share.low, "share_high": v.share.high,
                     "median_advantage": med.value, "median_low": med.low, "median_high": med.high,
                     "parameter": v.parameter, "spearman": v.rho, "p_adjusted": v.p,
                     "share_lower_half": v.halves[0].value if v.halves else np.nan,
                     "share_upper_half": v.halves[1].value if v.halves else np.nan,
                     "verdict": v.text, "reported": check.ours.text(check.unit)})
        per_campaign[f"{claim.name}_advantage"] = ratio.reindex(params.index).to_numpy()
    report.tables["claims"] = pd.DataFrame(rows)
    report.tables["campaigns"] = per_campaign
    report.tables["runs"] = frame
    report.figures["verdicts"] = figure(results, params, sizes)
    return report


def figure(results: list[tuple[Claim, pd.Series, Verdict]], params: pd.DataFrame, sizes: Sizes) -> Figure:
    """Left: every campaign's advantage ratio per claim, coloured by the claim's strongest correlate,
    with its verdict. Right: ambassadors / burst against trust growth."""
    fig = Figure(figsize=(11.5, 4.8))
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.1, 1]})
    for i, (_claim, ratio, v) in enumerate(results):
        y = i + np.linspace(-0.25, 0.25, len(ratio))
        colour = "0.5"
        if v.parameter is not None:
            x = params.loc[ratio.index, v.parameter].to_numpy()
            colour = (x - x.min()) / (np.ptp(x) or 1.0)
        ax.scatter(ratio.to_numpy(), y, c=colour, cmap="viridis", s=9, vmin=0, vmax=1)
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if round(v, 6) in (0.5, 2, 3, 5) else ""))
    ax.set_yticks(range(len(results)), [f"{c.name}\n{v.text} ({v.share.value:.0%} hold)" for c, _, v in results],
                  fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel("advantage ratio per campaign (> 1: the claim holds)")
    ax.set_title(f"{len(params)} campaigns ({sizes.worlds} worlds x {sizes.points} LHS points, {sizes.trials} "
                 "trials); colour: strongest correlate", fontsize="medium")
    trust = [r for c, r, _ in results if c.name == "cumulative_trust"]
    if trust and "trust_growth" in params.columns:
        r = trust[0]
        bx.scatter(params.loc[r.index, "trust_growth"], r, s=9, color="C1")
        bx.axhline(1.0, color="k", lw=0.8)
        bx.set_yscale("log")
        bx.set_xlabel("model.trust_growth (per exposure)")
        bx.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        bx.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if round(v, 6) in (0.4, 0.6, 0.8) else ""))
        bx.set_ylabel("adopters, ambassadors / burst")
        bx.set_title("cumulative trust (bands: worlds)", fontsize="medium")
    fig.tight_layout()
    return fig
