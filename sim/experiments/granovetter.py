"""E8 — Granovetter (1978), "Threshold models of collective behavior", AJS 83(6):1420-1443.

Complete mixing (everyone sees everyone: a complete graph), thresholds as the number of others
who must act first, instigators (threshold <= 0) act at once; the general threshold model of
:mod:`sim.classic.spec` with ``units: count, instigators: true``. Reproduced:

* the deterministic riot: thresholds 0, 1, ..., 99 bring all 100 out; moving the threshold-1
  person to 2 leaves only the instigator;
* normal thresholds (mean 25 of 100, sd sigma): participation against sigma, jumping from a
  few percent to nearly everyone at sigma_c = 12.2 in the continuum. The continuum curve is
  computed exactly (:func:`sim.classic.theory.granovetter_normal`); the N = 100 simulation is
  compared with the exact finite-N expectation (:func:`sim.classic.theory.granovetter_finite`),
  and a larger population with the continuum away from sigma_c.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field
from scipy.stats import norm

from sim.base.rng import root_key
from sim.classic import theory
from sim.classic.kernel import final_sizes
from sim.classic.model import compile_model
from sim.classic.recruits import RecruitPlan
from sim.classic.spec import GeneralThreshold
from sim.experiments.comparison import Check, Estimate, Kind, mean_interval
from sim.experiments.report import Report, Steps, Workspace
from sim.experiments.schema import ExperimentSpec
from sim.experiments.seeds import replicate_seed
from sim.input.schema import PositiveInt, Spec
from sim.world.graph import FlatGraph

K_SE = 4.0
NOBODY = RecruitPlan(np.zeros(0, dtype=np.int32), 0)


class Parameters(Spec):
    """Population and threshold distribution of Granovetter's example."""

    n: Annotated[int, Field(ge=3)] = 100
    mean: float = 25.0  #: mean threshold, in people of ``n``


class Sizes(Spec):
    """Trials per sd, the sd grid (people of n = 100), and the larger population for the continuum."""

    trials: PositiveInt
    sds: Annotated[list[Annotated[float, Field(gt=0.0)]], Field(min_length=2)]
    large_n: Annotated[int, Field(ge=3)]
    large_trials: PositiveInt


class Definition(ExperimentSpec):
    """E8 definition."""

    experiment: Literal["granovetter"]
    parameters: Parameters = Parameters()
    full: Sizes
    quick: Sizes


def complete_graph(n: int) -> FlatGraph:
    """Everyone sees everyone: the complete directed graph on n accounts."""
    i, j = np.nonzero(~np.eye(n, dtype=bool))
    return FlatGraph.from_edges(n, i, j, directed=True, name=f"complete({n})")


def _model(**law) -> GeneralThreshold:
    return GeneralThreshold.model_validate({"kind": "threshold", "thresholds": law, "units": "count",
                                            "instigators": True})


def _sweep(spec: Definition, sizes: Sizes, n: int, trials: int, tag: int) -> pd.DataFrame:
    """Final participation for Normal(mean * n / 100, sd * n / 100) thresholds, each sd of the grid."""
    g = complete_graph(n)
    scale = n / spec.parameters.n
    rows = []
    for si, sd in enumerate(sizes.sds):
        model = compile_model(_model(kind="normal", mean=spec.parameters.mean * scale, sd=sd * scale), g)
        adopted, _ = final_sizes(g, model, NOBODY, root_key(replicate_seed(spec.seed, tag, si)), np.arange(trials))
        rows += [{"n": n, "sd": sd, "trial": t, "fraction": a / n} for t, a in enumerate(adopted.tolist())]
    return pd.DataFrame(rows)


def reproduce(spec: Definition, sizes: Sizes, ws: Workspace, steps: Steps) -> Report:
    """Run E8: the deterministic riot, the sd sweep at n and at ``large_n``, against exact values."""
    p = spec.parameters
    steps.total(3)
    report = Report(spec, quick=False)
    g = complete_graph(p.n)
    ladder = [float(i) for i in range(p.n)]
    riot, _ = final_sizes(g, compile_model(_model(kind="listed", values=ladder), g), NOBODY, root_key(spec.seed),
                          np.arange(1))
    ladder[1] = 2.0
    broken, _ = final_sizes(g, compile_model(_model(kind="listed", values=ladder), g), NOBODY, root_key(spec.seed),
                            np.arange(1))
    report.checks.append(Check("riot", f"thresholds 0..{p.n - 1}: all {p.n} act", Estimate.exact(riot[0]),
                               f"= {p.n} (deterministic)", int(riot[0]) == p.n, Kind.VERIFICATION, unit="{:.0f}"))
    report.checks.append(Check("riot_broken", "threshold-1 person moved to 2: only 1 acts",
                               Estimate.exact(broken[0]), "= 1 (deterministic)", int(broken[0]) == 1, Kind.VERIFICATION,
                               unit="{:.0f}"))
    steps.advance()
    small = ws.piece("sweep_n", lambda: _sweep(spec, sizes, p.n, sizes.trials, 1))
    steps.advance()
    large = ws.piece("sweep_large", lambda: _sweep(spec, sizes, sizes.large_n, sizes.large_trials, 2))
    steps.advance()
    mean_f = p.mean / p.n
    sc = theory.granovetter_critical_sd(mean_f) * p.n
    report.checks.append(Check("critical_sd", "sigma_c = 12.2 (continuum, mean 25)", Estimate.exact(sc),
                               "|ours - 12.2| < 0.05", abs(sc - 12.2) < 0.05 if p.mean == 25 else True,
                               Kind.VERIFICATION, unit="{:.3f}"))
    below = theory.granovetter_normal(mean_f, 0.122)
    report.checks.append(Check("below_critical", "just below sigma_c the equilibrium is ~4-5.5%",
                               Estimate.exact(below), "continuum at sigma = 12.2 in [0.04, 0.056]",
                               0.04 <= below <= 0.056, Kind.VERIFICATION, unit="{:.4f}"))
    rows = []
    worst_z = 0.0
    worst: tuple[float, Estimate, float] | None = None
    for sd, grp in small.groupby("sd"):
        dist = theory.granovetter_finite(p.n, lambda x, sd=sd: norm.cdf(x, p.mean, sd))
        r = np.arange(p.n + 1) / p.n
        exact = float(r @ dist)
        est = mean_interval(grp.fraction)
        # the standard error from the exact distribution (a sample SE is 0 when every trial gives 0)
        se = float(np.sqrt(max(float((r - exact) ** 2 @ dist), 0.0) / len(grp)))
        z = abs(est.value - exact) / se if se > 0 else (0.0 if abs(est.value - exact) < 1e-12 else np.inf)
        if z >= worst_z:
            worst_z, worst = z, (sd, est, exact)
        rows.append({"n": p.n, "sd": sd, "ours": est.value, "low": est.low, "high": est.high, "exact": exact,
                     "continuum": theory.granovetter_normal(mean_f, sd / p.n)})
    assert worst is not None  # the grid has sds, and z >= 0 keeps the first
    sd, est, exact = worst
    report.checks.append(Check(
        "finite_n_exact", f"N = {p.n}: mean participation = exact finite-N expectation (worst sd = {sd:g}: "
        f"{exact:.4f})", est, f"within {K_SE:g} SE at every sd of the grid (worst {worst_z:.2f} SE)",
        worst_z <= K_SE, Kind.VERIFICATION, unit="{:.4f}"))
    far = []
    for sd, grp in large.groupby("sd"):
        est = mean_interval(grp.fraction)
        cont = theory.granovetter_normal(mean_f, sd / p.n)
        rows.append({"n": sizes.large_n, "sd": sd, "ours": est.value, "low": est.low, "high": est.high,
                     "exact": np.nan, "continuum": cont})
        if abs(sd - sc) >= 2.5:
            far.append((abs(est.value - cont), sd, est, cont))
    gap, sd, est, cont = max(far, key=lambda x: x[0])
    report.checks.append(Check(
        "continuum", f"continuum equilibrium (worst sd = {sd:g}: {cont:.4f})", est,
        f"N = {sizes.large_n}: |ours - continuum| < 0.02 at every sd >= 2.5 from sigma_c (worst {gap:.4f})",
        gap < 0.02, Kind.VERIFICATION, unit="{:.4f}"))
    summary = pd.DataFrame(rows)
    report.tables = {"summary": summary}
    report.figures["participation"] = figure(summary, p, sizes, sc)
    return report


def figure(summary: pd.DataFrame, p: Parameters, sizes: Sizes, sc: float) -> Figure:
    """Participation against the sd of thresholds: continuum, exact N = 100, and simulations."""
    fig = Figure(figsize=(7.2, 4.2))
    ax = fig.add_subplot()
    sds = np.linspace(min(summary.sd.min(), 4.0), summary.sd.max(), 400)
    ax.plot(sds, [theory.granovetter_normal(p.mean / p.n, s / p.n) for s in sds], "k-", lw=1.2,
            label="continuum (exact)")
    grid = np.linspace(sds[0], sds[-1], 16)
    ex = [float(np.arange(p.n + 1) @ theory.granovetter_finite(p.n, lambda x, s=s: norm.cdf(x, p.mean, s))) / p.n
          for s in grid]
    ax.plot(grid, ex, "C0--", lw=1.2, label=f"N = {p.n}, exact expectation")
    for i, (n, sub) in enumerate(summary.groupby("n")):
        ax.errorbar(sub.sd, sub.ours, yerr=[sub.ours - sub.low, sub.high - sub.ours], fmt="o", ms=4,
                    color=f"C{2 * i}" if n != p.n else "C0", capsize=2, label=f"N = {n}, ours")
    ax.axvline(sc, color="0.5", lw=0.8, ls=":", label=f"sigma_c = {sc:.2f}")
    ax.set_xlabel(f"sd of thresholds (people of {p.n}; mean {p.mean:g})")
    ax.set_ylabel("final fraction acting")
    ax.set_title("Granovetter (1978): normal thresholds under complete mixing", fontsize="medium")
    ax.legend(frameon=False, fontsize="small", loc="center right")
    fig.tight_layout()
    return fig
