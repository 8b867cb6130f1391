"""E9 — the project's headline: cost per adopter of celebrity, macro, micro, nano and hybrid strategies.

The source article (``../shared/reference/source-article.txt``) argues that advocacy money is
better spent on many micro- and nano-creators than on one celebrity ("better ROI"; micro posts at
$2,000-8,000 against six-to-seven-figure celebrity fees). This experiment makes that a measured
quantity: one campaign world (``scenarios/headline.yaml``: its world, model and ``parameters:``),
every strategy spending the same budget on one tier of creators (or a hybrid), each partner
posting once; cost per adopter with a 95% interval, and the ratio of each swarm's cost per adopter
to the celebrity's at the same budget **on the same platform mix** (Instagram alone, TikTok alone,
a 50/50 mix), on common random numbers (paired trials). The **platform effect** is reported
apart: the same tier on TikTok against Instagram. The comparison runs under rate cards
(``sim/campaign/rate_cards.py``) at budgets each card can buy.

What it reports (``sim/experiments/comparison.py``): *verification* that every strategy of a case
spends the same budget (to within one partner's price); *findings*, never checks: whether each
swarm beats the celebrity on each platform mix (the 95% interval of the ratio below 1: holds;
above 1: does not hold; else undetermined), the platform effect per tier, and how much of a
cross-platform comparison (a swarm on the mix against a celebrity on Instagram, as the headline
used to be read) is platform rather than tier. Nothing here is fitted to the claim, and no finding
can fail a run.
"""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field

from sim.base.stats import mean_interval, t_quantile
from sim.campaign.rate_cards import RATE_CARDS
from sim.experiments.comparison import Check, Estimate, Finding, Kind
from sim.experiments.report import Report, Steps, Workspace
from sim.experiments.schema import ExperimentSpec, Name
from sim.experiments.seeds import replicate_seed
from sim.input import keypaths
from sim.input.schema import PositiveInt, Spec
from sim.input.sweep import budget_label
from sim.results.summary import ratio_row

#: The tier every ratio is taken against, and the swarms whose claim is reported.
CELEBRITY = "celebrity"
SWARMS = ("micro", "nano")
SCHEDULE = "burst"
#: The platform mixes every tier runs on (the suffix of its mix name: ``micro_tiktok``).
PLATFORMS = ("instagram", "tiktok", "mix")
#: Tiers in the order tables and figures show them.
TIERS = ("celebrity", "macro", "micro", "nano", "hybrid")


def split_mix(mix: str) -> tuple[str, str]:
    """``micro_tiktok`` -> ``("micro", "tiktok")``; a mix without a platform suffix is on ``instagram``."""
    tier, _, platform = mix.rpartition("_")
    return (tier, platform) if tier and platform in PLATFORMS else (mix, "instagram")


class Case(Spec):
    """One comparison: a rate card, the budgets (USD) compared under it, and parameter changes.

    Attributes
    ----------
    name : str
        Labels the case's panel, checks and tables (default: the rate card's name).
    rate_card : str
        A named card of :data:`sim.campaign.rate_cards.RATE_CARDS`.
    budgets : list of float
        USD per strategy; each must buy at least one partner of every mix.
    set : dict
        Scenario key path (dotted) -> value, written over the scenario for this case, e.g.
        ``world.tiers.celebrity.trust: 0.40`` for the source fit's celebrity trust, or a price the
        card lacks (``rate_card.tiktok.celebrity``).
    """

    name: Name | None = None
    rate_card: str
    budgets: Annotated[list[Annotated[float, Field(gt=0.0)]], Field(min_length=1)]
    set: dict[str, float | str] = {}

    def model_post_init(self, _context) -> None:
        """Refuse a rate card that is not in :data:`RATE_CARDS`."""
        if self.rate_card not in RATE_CARDS:
            raise ValueError(f"unknown rate card {self.rate_card!r}; allowed: {', '.join(sorted(RATE_CARDS))}")

    @property
    def label(self) -> str:
        """The case's name, or its rate card's."""
        return self.name or self.rate_card


class Parameters(Spec):
    """The scenario whose world, model and strategy mixes are compared, and the cases to run.

    Attributes
    ----------
    scenario : str
        Path of the campaign scenario, relative to the working directory or the repository
        root. Its ``strategy_grid`` names its mixes ``<tier>_<platform>`` (platform
        ``instagram``, ``tiktok`` or ``mix``), with a ``celebrity_<platform>`` mix for each
        platform a tier runs on, and has a ``burst`` schedule; its budgets, rate card, trials and
        baseline are replaced per case.
    cases : list of Case
        Rate card and budgets of each comparison.
    """

    scenario: str = "scenarios/headline.yaml"
    cases: Annotated[list[Case], Field(min_length=1)]


class Sizes(Spec):
    """Trials per strategy, and optionally a smaller audience (``world.audience.peers.n``)."""

    trials: Annotated[int, Field(ge=2)]
    audience: PositiveInt | None = None


class Definition(ExperimentSpec):
    """E9 definition."""

    experiment: Literal["headline"]
    parameters: Parameters
    full: Sizes
    quick: Sizes


def _scenario_path(name: str) -> Path:
    path = Path(name)
    if path.is_absolute() or path.exists():
        return path
    # run from elsewhere than the checkout: the repository root holds scenarios/
    root = Path(__file__).resolve().parents[2] / name
    if root.exists():
        return root
    raise FileNotFoundError(f"parameters.scenario: {name} not found (relative to {Path.cwd()} or the repository)")


def _case_scenario(spec: Definition, sizes: Sizes, base, case: Case, budget: float, index: int):
    """The headline scenario ``base`` at one case and budget, validated again."""
    from sim.input.design import apply

    # the card's prices, not its name, so that the case's ``set`` can change one of them
    values = {("rate_card",): RATE_CARDS[case.rate_card].as_dict(), ("strategy_grid", "budgets"): [budget],
              ("trials",): sizes.trials, ("seed",): replicate_seed(spec.seed, 9, index),
              ("baseline",): f"{CELEBRITY}_instagram.{SCHEDULE}.{budget_label(budget)}"}
    if sizes.audience is not None:
        values[("world", "audience", "peers", "n")] = sizes.audience
    values.update({keypaths.split(key): value for key, value in case.set.items()})
    try:
        scenario, _ = apply(base, values)
    except ValueError as exc:
        raise ValueError(f"{spec.parameters.scenario}, case {case.label} at "
                         f"${budget:,.0f}: {exc}") from None
    return scenario


def _trials(scenario, case: Case, budget: float) -> pd.DataFrame:
    """Per strategy and trial: cost, adopters, engagements (the headline scenario at one case)."""
    from sim.api import run

    results = run(scenario, workers=1)
    table = results.table[["strategy", "trial", "cost", "adopted", "engagements", "reach"]].copy()
    table["strategy"] = table["strategy"].astype(str)
    table.insert(0, "budget", float(budget))
    table.insert(0, "rate_card", case.rate_card)
    table.insert(0, "case", case.label)
    return table


def ratio_of_costs(cost_a: float, adopted_a: np.ndarray, cost_b: float, adopted_b: np.ndarray,
                   level: float = 0.95) -> Estimate:
    """(cost_a / mean adopted_a) / (cost_b / mean adopted_b) on paired trials, with a delta-method interval.

    The log of the ratio is log(cost_a / cost_b) + log mean(b) - log mean(a); its standard error
    comes from the trial-by-trial linearisation d_t = b_t / mean(b) - a_t / mean(a), so trials
    shared by both strategies (common random numbers) tighten it. The interval is exp(log ratio
    +- t * se), Student t with n - 1 degrees of freedom.
    """
    a = np.asarray(adopted_a, dtype=np.float64)
    b = np.asarray(adopted_b, dtype=np.float64)
    ma, mb = float(a.mean()), float(b.mean())
    if ma <= 0 or mb <= 0:
        return Estimate(math.nan, math.nan, math.nan)
    value = (cost_a / ma) / (cost_b / mb)
    d = b / mb - a / ma
    se = mean_interval(d, level).sem
    half = t_quantile(len(d) - 1, level) * se
    return Estimate(value, value * math.exp(-half), value * math.exp(half))


def headline_table(trials: pd.DataFrame) -> pd.DataFrame:
    """Per (case, budget, strategy): spend, adopters and cost per adopter with 95% intervals, cost per
    engagement, and the paired ratio of cost per adopter to the celebrity's on the same platform mix
    (``<tier>_<platform>`` against ``celebrity_<platform>``; a mix without a platform suffix, and one
    whose platform has no celebrity, against the first celebrity mix)."""
    rows = []
    for (case, card, budget), frame in trials.groupby(["case", "rate_card", "budget"], sort=False):
        by = {name: g.sort_values("trial") for name, g in frame.groupby("strategy", sort=False)}
        celebs = {split_mix(n.split(".")[0])[1]: g for n, g in by.items() if split_mix(n.split(".")[0])[0] == CELEBRITY}
        if not celebs:
            raise ValueError(f"case {case}: no {CELEBRITY} strategy to compare with")
        first = next(iter(celebs.values()))
        for name, g in by.items():
            mix = name.split(".")[0]
            tier, platform = split_mix(mix)
            celeb = celebs.get(platform, first)
            cost = float(g["cost"].iloc[0])
            adopted = g["adopted"].to_numpy(np.float64)
            _, cpa, _, cpa_low, cpa_high = ratio_row(cost, adopted)
            eng = float(g["engagements"].mean())
            if not np.array_equal(g["trial"].to_numpy(), celeb["trial"].to_numpy()):
                raise ValueError(f"{name}: trials are not paired with the celebrity strategy")
            ratio = ratio_of_costs(cost, adopted, float(celeb["cost"].iloc[0]), celeb["adopted"].to_numpy(np.float64))
            sem = mean_interval(adopted).sem
            rows.append({"case": case, "rate_card": card, "budget": budget, "strategy": name, "mix": mix,
                         "tier": tier, "platform": platform, "trials": len(g), "cost": cost,
                         "adopted_mean": float(adopted.mean()),
                         "adopted_sem": sem, "reach_mean": float(g["reach"].mean()), "engagements_mean": eng,
                         "cost_per_engagement": cost / eng if eng > 0 else math.nan,
                         "cost_per_adopter": cpa, "cost_per_adopter_low": cpa_low,
                         "cost_per_adopter_high": cpa_high, "ratio_to_celebrity": ratio.value,
                         "ratio_low": ratio.low, "ratio_high": ratio.high})
    return pd.DataFrame(rows)


def _paired(trials: pd.DataFrame, case: str, budget: float, a: str, b: str) -> Estimate:
    """Cost per adopter of strategy ``a`` over ``b`` (mix names) on the case's paired trials."""
    sub = trials[(trials["case"] == case) & (trials["budget"] == budget)]
    label = budget_label(budget)
    ga = sub[sub["strategy"] == f"{a}.{SCHEDULE}.{label}"].sort_values("trial")
    gb = sub[sub["strategy"] == f"{b}.{SCHEDULE}.{label}"].sort_values("trial")
    return ratio_of_costs(float(ga["cost"].iloc[0]), ga["adopted"].to_numpy(np.float64), float(gb["cost"].iloc[0]),
                          gb["adopted"].to_numpy(np.float64))


def platform_tables(trials: pd.DataFrame, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The platform effect and the decomposition of a cross-platform comparison.

    Returns
    -------
    (effect, decomposition)
        ``effect``: per (case, budget, tier), cost per adopter on TikTok over Instagram (paired
        trials, 95% interval; < 1: TikTok cheaper). ``decomposition``: per (case, budget, swarm),
        the log cost-per-adopter ratio of the swarm on the 50/50 mix against the celebrity on
        Instagram alone (the comparison the headline used to make) split into the tier effect
        (swarm against celebrity, both on the mix) and the platform effect (celebrity on the mix
        against celebrity on Instagram); the two add up to the whole exactly.
    """
    effect, parts = [], []
    for (case, budget), sub in table.groupby(["case", "budget"], sort=False):
        mixes = set(sub["mix"])
        for tier in TIERS:
            if f"{tier}_instagram" in mixes and f"{tier}_tiktok" in mixes:
                e = _paired(trials, case, budget, f"{tier}_tiktok", f"{tier}_instagram")
                effect.append({"case": case, "budget": budget, "tier": tier, "tiktok_over_instagram": e.value,
                               "low": e.low, "high": e.high})
        for swarm in SWARMS:
            need = {f"{swarm}_mix", f"{CELEBRITY}_mix", f"{CELEBRITY}_instagram"}
            if need <= mixes:
                whole = _paired(trials, case, budget, f"{swarm}_mix", f"{CELEBRITY}_instagram")
                tier_part = _paired(trials, case, budget, f"{swarm}_mix", f"{CELEBRITY}_mix")
                platform_part = _paired(trials, case, budget, f"{CELEBRITY}_mix", f"{CELEBRITY}_instagram")
                lw = math.log(whole.value)
                parts.append({"case": case, "budget": budget, "swarm": swarm, "cross_platform_ratio": whole.value,
                              "tier_ratio": tier_part.value, "platform_ratio": platform_part.value,
                              "log_cross_platform": lw, "log_tier": math.log(tier_part.value),
                              "log_platform": math.log(platform_part.value),
                              "platform_share": math.log(platform_part.value) / lw if lw != 0 else math.nan})
    return pd.DataFrame(effect), pd.DataFrame(parts)


def _largest_unit(scenario, mix: str) -> float:
    """The price of the dearest single partner a strategy of ``mix`` can hire (USD)."""
    grid = scenario.strategy_grid
    prices = scenario.rate_card
    units = []
    for key in grid.mixes[mix]:
        tier, platform = key.split(".")
        units.append(prices[platform][tier] + scenario.partnership_cost.get(tier, 0.0))
    return max(units)


def _figure(table: pd.DataFrame) -> Figure:
    """One panel per case and budget: cost per adopter of each tier (bars) on each platform mix (groups)."""
    panels = list(dict.fromkeys(zip(table["case"], table["budget"], strict=True)))
    fig = Figure(figsize=(4.3 * len(panels), 4.3), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    tiers = [t for t in TIERS if t in set(table["tier"])]
    colours = dict(zip(TIERS, ("#444444", "#8c6bb1", "#2b8cbe", "#41ab5d", "#e6550d"), strict=True))
    width = 0.8 / max(len(tiers), 1)
    for ax, (case, budget) in zip(axes, panels, strict=True):
        sub = table[(table["case"] == case) & (table["budget"] == budget)]
        platforms = [p for p in PLATFORMS if p in set(sub["platform"])]
        for ti, tier in enumerate(tiers):
            rows = sub[sub["tier"] == tier].set_index("platform").reindex(platforms)
            x = np.arange(len(platforms)) + (ti - (len(tiers) - 1) / 2) * width
            y = rows["cost_per_adopter"].to_numpy()
            err = np.vstack([y - rows["cost_per_adopter_low"].to_numpy(), rows["cost_per_adopter_high"].to_numpy() - y])
            ax.bar(x, y, width, color=colours[tier], label=tier, yerr=err, capsize=2, error_kw={"lw": 0.8})
        ax.set_yscale("log")
        ax.set_xticks(np.arange(len(platforms)), [p if p != "mix" else "50/50 mix" for p in platforms])
        ax.set_title(f"{case}, ${budget_label(budget)} per strategy", fontsize=9)
        ax.grid(axis="y", which="both", alpha=0.3)
    axes[0].set_ylabel("cost per adopter (USD, 95% CI)")
    axes[0].legend(fontsize=8, frameon=False)
    fig.suptitle("E9: cost per adopter at equal budgets, each tier on the same platform mix "
                 "(one post per partner, common random numbers)", fontsize=10)
    return fig


def _verdict(est: Estimate) -> str:
    """``holds`` when the ratio's 95% interval lies below 1, ``does not hold`` above, else ``undetermined``."""
    if est.high < 1.0:
        return "holds"
    if est.low > 1.0:
        return "does not hold"
    return "undetermined"


def reproduce(spec: Definition, sizes: Sizes, ws: Workspace, steps: Steps) -> Report:
    """Run E9: every case's strategies at each budget, cost per adopter, each swarm against the celebrity
    on the same platform mix, and the platform effect."""
    from sim.input.scenario import load_scenario

    p = spec.parameters
    base = load_scenario(_scenario_path(p.scenario))
    jobs = [(case, budget) for case in p.cases for budget in case.budgets]
    steps.total(len(jobs))
    frames = []
    report = Report(spec, quick=False)
    for index, (case, budget) in enumerate(jobs):
        tag = f"{case.label}_{budget_label(budget)}"
        scenario = _case_scenario(spec, sizes, base, case, budget, index)
        frames.append(ws.piece(f"trials_{tag}", partial(_trials, scenario, case, budget)))
        spent = frames[-1].groupby("strategy", sort=False)["cost"].first()
        worst = min(budget - _largest_unit(scenario, name.split(".")[0]) - cost for name, cost in spent.items())
        over = max(cost - budget for cost in spent)
        report.checks.append(Check(
            f"equal_budgets_{tag}", f"every strategy spends the same budget (${budget:,.0f}, {case.label})",
            Estimate.exact(float(spent.min())),
            "each spends <= budget and more than budget - its dearest partner (least spend shown)",
            over <= 1e-6 and worst < 0, Kind.VERIFICATION, unit="{:,.0f}"))
        steps.advance()
    trials = pd.concat(frames, ignore_index=True)
    table = headline_table(trials)
    effect, parts = platform_tables(trials, table)
    for (case, budget), sub in table.groupby(["case", "budget"], sort=False):
        for swarm in SWARMS:
            for platform in PLATFORMS:
                rows = sub[(sub["tier"] == swarm) & (sub["platform"] == platform)]
                if rows.empty:
                    continue
                row = rows.iloc[0]
                est = Estimate(row["ratio_to_celebrity"], row["ratio_low"], row["ratio_high"])
                where = "a 50/50 Instagram/TikTok mix" if platform == "mix" else f"{platform} alone"
                celeb = sub[(sub["tier"] == CELEBRITY) & (sub["platform"] == platform)]
                detail = (f"{row['adopted_mean']:,.0f} vs {celeb['adopted_mean'].iloc[0]:,.0f} adopters for "
                          f"${row['cost']:,.0f} vs ${celeb['cost'].iloc[0]:,.0f}") if len(celeb) else ""
                report.findings.append(Finding(
                    f"{swarm}_vs_celebrity_{platform}_{case}_{budget_label(budget)}",
                    f"source: {swarm}-creators give better ROI than a celebrity (56% of marketers; micro at "
                    f"$2,000-8,000 vs six-to-seven-figure celebrity fees)",
                    f"cost per adopter {swarm} / celebrity, both on {where}, {case}, ${budget:,.0f} each; "
                    "holds where the 95% CI lies below 1", _verdict(est),
                    est, detail, "{:.3f}"))
    for _, r in effect.iterrows():
        est = Estimate(r["tiktok_over_instagram"], r["low"], r["high"])
        verdict = "TikTok cheaper" if est.high < 1 else "Instagram cheaper" if est.low > 1 else "no clear difference"
        report.findings.append(Finding(
            f"platform_effect_{r['tier']}_{r['case']}_{budget_label(r['budget'])}",
            "(not a claim of the source) the platform effect: the same tier and budget on TikTok vs Instagram",
            f"cost per adopter of {r['tier']} on TikTok / on Instagram, {r['case']}, ${r['budget']:,.0f}",
            verdict, est, "", "{:.3f}"))
    for _, r in parts.iterrows():
        report.findings.append(Finding(
            f"cross_platform_{r['swarm']}_{r['case']}_{budget_label(r['budget'])}",
            "(how much of a cross-platform headline is platform) a swarm on the 50/50 mix against a celebrity "
            "on Instagram alone",
            f"log cost-per-adopter ratio {r['swarm']} (mix) / celebrity (Instagram) = tier effect (both on the mix) "
            f"+ platform effect (celebrity mix / Instagram), {r['case']}, ${r['budget']:,.0f}",
            f"platform {r['platform_share']:.0%} of the log advantage",
            Estimate.exact(r["cross_platform_ratio"]),
            f"tier ratio {r['tier_ratio']:.3f}, platform ratio {r['platform_ratio']:.3f}", "{:.3f}"))
    report.tables["cost_per_adopter"] = table
    report.tables["platform_effect"] = effect
    report.tables["cross_platform"] = parts
    report.figures["cost_per_adopter"] = _figure(table)
    return report
