"""E7 — Goldenberg, Libai & Muller (2001), "Talk of the network", Marketing Letters 12(3):211-223.

The stochastic cellular automaton of :mod:`sim.experiments.talk` (personal networks of s
strong ties, w random weak-tie contacts per period, advertising alpha), run on a full
factorial over the paper's ranges of alpha, beta_w, beta_s, s and w. Outcome: the periods to
16%, 50% and 95% penetration. As in the paper, time is regressed on the factors; here log
time on log factors, so coefficients are elasticities (comparable across factors whose
ranges differ in width), with t intervals. Reproduced: weak ties' effect is at least as strong as strong
ties' at every stage, and advertising matters early (time to 16%) far more than afterwards
(the 16% -> 95% stretch).
"""

from __future__ import annotations

import itertools
from functools import partial
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field

from sim.base.rng import root_key
from sim.base.stats import Z95, t_quantile
from sim.experiments.comparison import Check, Estimate, Kind
from sim.experiments.report import Report, Steps, Workspace, pieces
from sim.experiments.schema import ExperimentSpec
from sim.experiments.seeds import replicate_seed
from sim.experiments.talk import informed_periods, penetration_times
from sim.input.schema import PositiveInt, Probability, Spec

FACTORS = ("alpha", "beta_w", "beta_s", "s", "w")
LEVELS = (0.16, 0.5, 0.95)
STAGES = ("t16", "t50", "t95", "t16_95")
Levels = Annotated[list[Annotated[float, Field(ge=0.0)]], Field(min_length=2)]


#: Where the validation checks' claims come from.
SOURCE = ("Goldenberg, Libai & Muller (2001), Marketing Letters 12(3):211-223 (findings [V] from the abstract)"
          "; literature notes §2.6 (factor ranges [M])")


class Parameters(Spec):
    """The factorial: levels of each factor (the paper's ranges), and the market size."""

    alpha: Annotated[list[Probability], Field(min_length=2)] = [0.0005, 0.00525, 0.01]
    beta_w: Annotated[list[Probability], Field(min_length=2)] = [0.005, 0.01, 0.015]
    beta_s: Annotated[list[Probability], Field(min_length=2)] = [0.01, 0.04, 0.07]
    s: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=2)] = [5, 17, 29]
    w: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=2)] = [5, 17, 29]
    market: Annotated[int, Field(ge=100)] = 3000  #: accounts, rounded to whole personal networks
    max_periods: PositiveInt = 5000
    early_ratio: Annotated[float, Field(gt=1.0)] = 3.0  #: how much larger alpha's early effect must be


class Sizes(Spec):
    """Replicates per cell, and which levels of each factor to use (indices; all by default)."""

    replicates: PositiveInt
    level_indices: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=2)] | None = None


class Definition(ExperimentSpec):
    """E7 definition."""

    experiment: Literal["goldenberg"]
    parameters: Parameters = Parameters()
    full: Sizes
    quick: Sizes


def design(p: Parameters, sizes: Sizes) -> list[dict]:
    """The cells of the full factorial (levels picked by ``level_indices``)."""
    levels = [getattr(p, f) for f in FACTORS]
    if sizes.level_indices is not None:
        levels = [[lv[i] for i in sizes.level_indices if i < len(lv)] for lv in levels]
    return [dict(zip(FACTORS, cell, strict=True)) for cell in itertools.product(*levels)]


def _cell(spec: Definition, sizes: Sizes, ci: int, cell: dict) -> pd.DataFrame:
    p = spec.parameters
    s, w = int(cell["s"]), int(cell["w"])
    groups = max(2, round(p.market / (s + 1)))
    root = root_key(replicate_seed(spec.seed, ci))
    rows = []
    for r in range(sizes.replicates):
        when = informed_periods(groups, s, w, cell["alpha"], cell["beta_w"], cell["beta_s"], root, r, p.max_periods)
        t16, t50, t95 = penetration_times(when, LEVELS, p.max_periods)
        rows.append({"cell": ci, **cell, "replicate": r, "n": len(when), "t16": t16, "t50": t50, "t95": t95,
                     "t16_95": t95 - t16})
    return pd.DataFrame(rows)


def effects(runs: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """OLS of log(outcome) on the log factors: elasticities, standard errors, 95% intervals.

    An elasticity is the % change of the time per 1% change of the factor, so factors whose
    ranges differ in width (beta_s spans 7x, beta_w 3x) are compared per relative change.
    """
    x = np.column_stack([np.log(runs[f].to_numpy(dtype=float)) for f in FACTORS])
    x = np.column_stack([np.ones(len(runs)), x])
    y = np.log(runs[outcome].to_numpy(dtype=float))
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    dof = len(y) - x.shape[1]
    cov = float(resid @ resid) / dof * np.linalg.inv(x.T @ x)
    se = np.sqrt(np.diag(cov))
    half = t_quantile(dof) * se
    r2 = 1 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum())
    return pd.DataFrame({"outcome": outcome, "factor": ("intercept", *FACTORS), "effect": beta, "se": se,
                         "low": beta - half, "high": beta + half, "r2": r2, "cov_ws": cov[2, 3]})


def reproduce(spec: Definition, sizes: Sizes, ws: Workspace, steps: Steps) -> Report:
    """Run E7: the factorial, the regressions of log time, and the paper's two findings."""
    p = spec.parameters
    cells = design(p, sizes)
    runs = pieces(ws, steps, {f"cell{ci}": partial(_cell, spec, sizes, ci, cell)
                              for ci, cell in enumerate(cells)})
    unfinished = int(runs[list(STAGES)].isna().any(axis=1).sum())
    fx = pd.concat([effects(runs.dropna(subset=list(STAGES)), o) for o in STAGES], ignore_index=True)
    report = Report(spec, quick=False, tables={"runs": runs, "effects": fx})
    report.checks.append(Check("all_reach_95", "every run reaches 95% penetration", Estimate.exact(unfinished),
                               f"= 0 runs unfinished after {p.max_periods} periods", unfinished == 0,
                               Kind.VERIFICATION, unit="{:.0f}"))
    for stage in ("t16", "t50", "t95"):
        e = fx[fx.outcome == stage].set_index("factor")
        bw, bs = e.loc["beta_w"], e.loc["beta_s"]
        # |b_w| - |b_s| (both negative: more influence, shorter time) with its standard error
        diff = bs.effect - bw.effect  # = |b_w| - |b_s| when both are negative
        se = float(np.sqrt(bw.se ** 2 + bs.se ** 2 - 2 * bw.cov_ws))
        report.checks.append(Check(
            f"weak_vs_strong_{stage}", f"time to {stage[1:]}%: weak ties' effect at least as strong as strong ties'",
            Estimate(diff, diff - Z95 * se, diff + Z95 * se),
            "elasticities |b(beta_w)| - |b(beta_s)| not significantly below 0 (upper 95% bound >= 0; "
            f"b_w = {bw.effect:.3f}, b_s = {bs.effect:.3f})", bool(diff + Z95 * se >= 0 and bw.effect < 0),
            Kind.VALIDATION, SOURCE, "{:.3f}"))
    early = fx[(fx.outcome == "t16") & (fx.factor == "alpha")].iloc[0]
    late = fx[(fx.outcome == "t16_95") & (fx.factor == "alpha")].iloc[0]
    ratio = abs(early.effect) / max(abs(late.effect), 1e-12)
    report.checks.append(Check(
        "advertising_early", "advertising is effective early, its efficacy quickly diminishes later",
        Estimate(early.effect, early.low, early.high),
        f"|b(alpha)| on log t16 >= {p.early_ratio:g} x on log(t95 - t16) "
        f"(late: {late.effect:.3f} [{late.low:.3f}, {late.high:.3f}]; ratio {ratio:.1f})",
        bool(early.effect < 0 and ratio >= p.early_ratio), Kind.VALIDATION, SOURCE, "{:.3f}"))
    report.figures["effects"] = figure(fx, p, sizes, len(cells), int(runs.n.iloc[0]))
    return report


def figure(fx: pd.DataFrame, p: Parameters, sizes: Sizes, cells: int, n: int) -> Figure:
    """Elasticities of time with respect to each factor, by stage, with 95% intervals."""
    fig = Figure(figsize=(7.6, 4.2))
    ax = fig.add_subplot()
    names = {"alpha": "advertising alpha", "beta_w": "weak-tie beta_w", "beta_s": "strong-tie beta_s",
             "s": "strong ties s", "w": "weak contacts w"}
    width = 0.8 / len(STAGES)
    labels = {"t16": "to 16%", "t50": "to 50%", "t95": "to 95%", "t16_95": "16% -> 95%"}
    for i, stage in enumerate(STAGES):
        e = fx[(fx.outcome == stage) & (fx.factor != "intercept")]
        x = np.arange(len(FACTORS)) + (i - (len(STAGES) - 1) / 2) * width
        ax.bar(x, e.effect, width, yerr=[e.effect - e.low, e.high - e.effect], capsize=2, color=f"C{i}",
               label=f"log time {labels[stage]} (R2 {e.r2.iloc[0]:.2f})")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(np.arange(len(FACTORS)), [names[f] for f in FACTORS], fontsize="small")
    ax.set_ylabel("elasticity of time (d log T / d log factor)")
    ax.set_title(f"Goldenberg, Libai & Muller (2001): {cells} cells x {sizes.replicates} runs, N ~ {n:,}",
                 fontsize="medium")
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig
