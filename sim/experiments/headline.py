"""E9 — the project's headline: cost per adopter of celebrity, macro, micro, nano and hybrid strategies.

The source article (``../shared/reference/source-article.txt``) argues that advocacy money is
better spent on many micro- and nano-creators than on one celebrity ("better ROI"; micro posts at
$2,000-8,000 against six-to-seven-figure celebrity fees). This experiment makes that a measured
quantity: one campaign world (``scenarios/headline.yaml``: its world, model and, once calibrated,
its ``parameters:``), every strategy spending the same budget on one tier of creators (or a
hybrid), each partner posting once; cost per adopter with a 95% interval, and the ratio of each
swarm's cost per adopter to the celebrity's at the same budget, on common random numbers
(paired trials). The comparison runs under two rate cards (``sim/campaign/rate_cards.py``): the
industry card and the source article's own prices, at budgets each card can buy.

A claim check passes when the 95% interval of the ratio lies below 1 (the claim holds in this
model); a check that fails is a finding about the claim, reported as a documented deviation
when the definition explains it. Nothing here is fitted to the claim.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field

from sim.base.stats import mean_interval, t_quantile
from sim.campaign.rate_cards import RATE_CARDS
from sim.experiments.comparison import Check, Estimate
from sim.experiments.report import Report, Steps, Workspace
from sim.experiments.schema import ExperimentSpec, Name
from sim.experiments.seeds import replicate_seed
from sim.input import keypaths
from sim.input.schema import PositiveInt, Spec
from sim.input.sweep import budget_label
from sim.results.summary import ratio_row

#: The mix every ratio is taken against, and the swarms whose claim is checked.
CELEBRITY = "celebrity"
SWARMS = ("micro", "nano")
SCHEDULE = "burst"


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
        ``world.tiers.mega.trust: 0.40`` for the source fit's celebrity trust.
    """

    name: Name | None = None
    rate_card: str
    budgets: Annotated[list[Annotated[float, Field(gt=0.0)]], Field(min_length=1)]
    set: dict[str, float | str] = {}

    def model_post_init(self, _context) -> None:
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
        root. Its ``strategy_grid`` must have a ``celebrity`` mix and a ``burst`` schedule; its
        budgets, rate card, trials and baseline are replaced per case.
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

    values = {("rate_card",): case.rate_card, ("strategy_grid", "budgets"): [budget],
              ("trials",): sizes.trials, ("seed",): replicate_seed(spec.seed, 9, index),
              ("baseline",): f"{CELEBRITY}.{SCHEDULE}.{budget_label(budget)}"}
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
    """Per (rate card, budget, strategy): spend, adopters and cost per adopter with 95% intervals,
    cost per engagement, and the paired ratio of cost per adopter to the celebrity's."""
    rows = []
    for (case, card, budget), frame in trials.groupby(["case", "rate_card", "budget"], sort=False):
        by = {name: g.sort_values("trial") for name, g in frame.groupby("strategy", sort=False)}
        celeb = by[f"{CELEBRITY}.{SCHEDULE}.{budget_label(budget)}"]
        for name, g in by.items():
            cost = float(g["cost"].iloc[0])
            adopted = g["adopted"].to_numpy(np.float64)
            _, cpa, _, cpa_low, cpa_high = ratio_row(cost, adopted)
            eng = float(g["engagements"].mean())
            if not np.array_equal(g["trial"].to_numpy(), celeb["trial"].to_numpy()):
                raise ValueError(f"{name}: trials are not paired with the celebrity strategy")
            ratio = ratio_of_costs(cost, adopted, float(celeb["cost"].iloc[0]), celeb["adopted"].to_numpy(np.float64))
            sem = mean_interval(adopted).sem
            rows.append({"case": case, "rate_card": card, "budget": budget, "strategy": name, "mix": name.split(".")[0],
                         "trials": len(g), "cost": cost, "adopted_mean": float(adopted.mean()),
                         "adopted_sem": sem, "reach_mean": float(g["reach"].mean()), "engagements_mean": eng,
                         "cost_per_engagement": cost / eng if eng > 0 else math.nan,
                         "cost_per_adopter": cpa, "cost_per_adopter_low": cpa_low,
                         "cost_per_adopter_high": cpa_high, "ratio_to_celebrity": ratio.value,
                         "ratio_low": ratio.low, "ratio_high": ratio.high})
    return pd.DataFrame(rows)


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
    cards = list(dict.fromkeys(table["case"]))
    fig = Figure(figsize=(5.2 * len(cards), 4.2), layout="constrained")
    axes = fig.subplots(1, len(cards), squeeze=False)[0]
    mixes = list(dict.fromkeys(table["mix"]))
    colours = {m: c for m, c in zip(mixes, ("#444444", "#8c6bb1", "#2b8cbe", "#41ab5d", "#e6550d", "#bbbbbb"),
                                      strict=False)}
    for ax, card in zip(axes, cards, strict=True):
        sub = table[table["case"] == card]
        budgets = list(dict.fromkeys(sub["budget"]))
        width = 0.8 / max(len(mixes), 1)
        for mi, mix in enumerate(mixes):
            rows = sub[sub["mix"] == mix].set_index("budget").reindex(budgets)
            x = np.arange(len(budgets)) + (mi - (len(mixes) - 1) / 2) * width
            y = rows["cost_per_adopter"].to_numpy()
            err = np.vstack([y - rows["cost_per_adopter_low"].to_numpy(), rows["cost_per_adopter_high"].to_numpy() - y])
            ax.bar(x, y, width, color=colours.get(mix), label=mix, yerr=err, capsize=2, error_kw={"lw": 0.8})
        ax.set_yscale("log")
        ax.set_xticks(np.arange(len(budgets)), [f"${budget_label(b)}" for b in budgets])
        ax.set_xlabel("budget per strategy")
        ax.set_ylabel("cost per adopter (USD, 95% CI)")
        ax.set_title(card, fontsize=10)
        ax.grid(axis="y", which="both", alpha=0.3)
    axes[0].legend(fontsize=8, frameon=False)
    fig.suptitle("E9: cost per adopter at equal budgets (one post per partner, common random numbers)",
                 fontsize=10)
    return fig


def reproduce(spec: Definition, sizes: Sizes, ws: Workspace, steps: Steps) -> Report:
    """Run E9: every case's strategies at each budget, cost per adopter, the swarms against the celebrity."""
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
        frames.append(ws.piece(f"trials_{tag}", lambda s=scenario, c=case, b=budget: _trials(s, c, b)))
        spent = frames[-1].groupby("strategy", sort=False)["cost"].first()
        worst = min(budget - _largest_unit(scenario, name.split(".")[0]) - cost for name, cost in spent.items())
        over = max(cost - budget for cost in spent)
        report.checks.append(Check(
            f"equal_budgets_{tag}", f"every strategy spends the same budget (${budget:,.0f}, {case.label})",
            Estimate.exact(float(spent.min())),
            "each spends <= budget and more than budget - its dearest partner (least spend shown)",
            over <= 1e-6 and worst < 0, "{:,.0f}"))
        steps.advance()
    trials = pd.concat(frames, ignore_index=True)
    table = headline_table(trials)
    for (card, budget), sub in table.groupby(["case", "budget"], sort=False):
        for swarm in SWARMS:
            row = sub[sub["mix"] == swarm].iloc[0]
            est = Estimate(row["ratio_to_celebrity"], row["ratio_low"], row["ratio_high"])
            report.checks.append(Check(
                f"{swarm}_beats_celebrity_{card}_{budget_label(budget)}",
                f"source: {swarm}-creators give better ROI than a celebrity (56% of marketers; micro at "
                f"$2,000-8,000 vs six-to-seven-figure celebrity fees); here {card}, ${budget:,.0f}",
                est, f"cost per adopter of {swarm} / celebrity: 95% CI below 1 (claim holds)",
                bool(est.high < 1.0), "{:.3f}"))
    report.tables["cost_per_adopter"] = table
    report.figures["cost_per_adopter"] = _figure(table)
    return report
