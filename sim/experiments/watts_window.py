"""E2 — Watts (2002), "A simple model of global cascades on random networks", PNAS 99(9):5766-5771, Fig. 1.

Threshold model (an account adopts when the active fraction of its neighbours is >= phi) on
Erdős–Rényi graphs, one random recruit per trial. Plotted against the mean degree z: the
frequency of global cascades (more than ``global_fraction`` of the graph) and their mean size.
Theory: global cascades occur inside the window where Watts' condition z e^{-z} sum_{j<=K*-2}
z^j / j! > 1 holds (1.0207 < z < 5.7647 for phi = 0.18); their frequency is 1 - G0(u) and their
size the Gleeson fixed point from an infinitesimal recruit fraction (:mod:`sim.classic.theory`).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field

from sim.base.rng import root_key
from sim.base.stats import Z95
from sim.classic import theory
from sim.classic.kernel import final_sizes
from sim.classic.model import compile_model
from sim.classic.recruits import plan_recruits
from sim.classic.spec import FractionalThreshold, RandomRecruits
from sim.experiments.comparison import (
    Check,
    Estimate,
    Kind,
    mean_interval,
    proportion_interval,
    standard_error,
)
from sim.experiments.report import Report, Steps, Workspace
from sim.experiments.schema import ExperimentSpec
from sim.input.schema import PositiveInt, Probability, Spec
from sim.world.build import build_graph
from sim.world.spec import ErdosRenyiGraph

#: Standard errors a simulated frequency may sit from theory, plus a finite-size allowance.
K_SE = 4.0


class Parameters(Spec):
    """Watts' set-up: phi, what counts as global."""

    phi: Annotated[float, Field(gt=0.0, le=1.0)] = 0.18
    global_fraction: Probability = 0.1


class Sizes(Spec):
    """Accounts per graph, graphs per mean degree, one-recruit trials per graph, the z grid."""

    n: PositiveInt
    graphs: PositiveInt
    trials: PositiveInt
    mean_degrees: Annotated[list[Annotated[float, Field(gt=0.0)]], Field(min_length=2)]


class Definition(ExperimentSpec):
    """E2 definition."""

    experiment: Literal["watts_window"]
    parameters: Parameters = Parameters()
    full: Sizes
    quick: Sizes


def _point(p: Parameters, sizes: Sizes, seed_of, zi: int, z: float) -> pd.DataFrame:
    from sim.experiments.seeds import replicate_seed

    model_spec = FractionalThreshold(kind="fractional_threshold", phi=p.phi)
    rows = []
    for gi in range(sizes.graphs):
        s = replicate_seed(seed_of, zi, gi)
        g = build_graph(ErdosRenyiGraph(kind="erdos_renyi", n=sizes.n, mean_degree=z), s)
        adopted, _ = final_sizes(g, compile_model(model_spec, g), plan_recruits(
            RandomRecruits(rule="random", count=1), g), root_key(s), np.arange(sizes.trials))
        big = adopted > p.global_fraction * g.n
        rows.append({"z": z, "graph": gi, "trials": sizes.trials, "global": int(big.sum()),
                     "global_size": float(adopted[big].mean() / g.n) if big.any() else np.nan,
                     "mean_size": float(adopted.mean() / g.n)})
    return pd.DataFrame(rows)


def reproduce(spec: Definition, sizes: Sizes, ws: Workspace, steps: Steps) -> Report:
    """Run E2 and compare it with Watts' window and the branching-process frequencies."""
    p = spec.parameters
    steps.total(len(sizes.mean_degrees))
    parts = []
    for zi, z in enumerate(sizes.mean_degrees):
        parts.append(ws.piece(f"z{zi}", partial(_point, p, sizes, spec.seed, zi, z)))
        steps.advance()
    runs = pd.concat(parts, ignore_index=True)
    lower, upper = theory.window(theory.watts_condition, p.phi)
    rows = []
    for z, grp in runs.groupby("z", sort=True):
        freq = grp["global"] / grp["trials"]
        total = int(grp["global"].sum())
        n_trials = int(grp["trials"].sum())
        sizes_g = grp["global_size"].dropna()
        rows.append({"z": z, "frequency": total / n_trials, "frequency_se": standard_error(freq),
                     "frequency_theory": theory.global_cascade_probability(z, p.phi),
                     "global_size": sizes_g.mean() if len(sizes_g) else np.nan,
                     "global_size_se": standard_error(sizes_g) if len(sizes_g) > 1 else np.nan,
                     "global_size_theory": (theory.gleeson_fraction(z, 0.0, p.phi, q0=1e-9)
                                            if lower < z < upper else 0.0),
                     "global": total, "trials": n_trials})
    summary = pd.DataFrame(rows)
    report = Report(spec, quick=False, tables={"runs": runs, "summary": summary})
    report.checks.append(Check(
        "window", "1.02 < z < 5.76 for phi = 0.18 (Watts' condition; Watts 2002 Fig. 1)",
        Estimate.exact(lower), f"lower edge {lower:.4f}, upper edge {upper:.4f} within 0.005 of 1.02 and 5.76",
        abs(lower - 1.02) < 0.005 and abs(upper - 5.76) < 0.005 if abs(p.phi - 0.18) < 1e-12 else True,
        Kind.VERIFICATION, unit="{:.4f}"))
    inside = summary[(summary.z >= lower + 0.75) & (summary.z <= upper - 0.75)]
    for _, r in inside.iterrows():
        grp = runs[runs.z == r.z]
        est = mean_interval(grp["global"] / grp["trials"])
        tol = K_SE * r.frequency_se + 0.02
        report.checks.append(Check(
            f"frequency_z{r.z:g}", f"global cascades occur inside the window; 1 - G0(u) = {r.frequency_theory:.3f}",
            est, f"|ours - {r.frequency_theory:.3f}| <= 4 SE + 0.02 (finite size)",
            abs(est.value - r.frequency_theory) <= tol, Kind.VERIFICATION, unit="{:.3f}"))
        if np.isfinite(r.global_size):
            est = mean_interval(grp["global_size"].dropna())
            tol = K_SE * (r.global_size_se if np.isfinite(r.global_size_se) else 0) + 0.02
            report.checks.append(Check(
                f"size_z{r.z:g}", f"global cascades take {r.global_size_theory:.3f} of the graph (Gleeson fixed point)",
                est, f"|ours - {r.global_size_theory:.3f}| <= 4 SE + 0.02",
                abs(est.value - r.global_size_theory) <= tol,
                Kind.VERIFICATION, unit="{:.3f}"))
    # far outside the window the branching process gives no global cascades even at N = 10^4: the kernel
    # must agree (verification); at the window's edges the notes expect none either (validation below)
    far = summary[(summary.z <= lower - 0.02) | (summary.z >= upper + 1.0)]
    if len(far):
        worst = far.loc[far.frequency.idxmax()]
        est = proportion_interval(int(worst["global"]), int(worst["trials"]))
        report.checks.append(Check(
            "outside_window_far", "1 - G0(u) = 0 outside the window: no global cascades away from its edges", est,
            f"frequency < 0.02 at every z <= {lower - 0.02:.2f} and z >= {upper + 1:.2f} (worst: z = {worst.z:g})",
            bool((far.frequency < 0.02).all()), Kind.VERIFICATION, unit="{:.4f}"))
    outside = summary[(summary.z <= lower) | (summary.z >= upper)]
    if len(outside):
        worst = outside.loc[outside.frequency.idxmax()]
        est = proportion_interval(int(worst["global"]), int(worst["trials"]))
        report.checks.append(Check(
            "outside_window", "no global cascades outside 1.02 < z < 5.76, edges included (N = 10^4: cascades at "
            "z = 5, none at z = 6)", est,
            f"frequency < 0.02 at every z <= {lower:.2f} and z >= {upper:.2f} (worst: z = {worst.z:g})",
            bool((outside.frequency < 0.02).all()), Kind.VALIDATION,
            "Watts (2002) Fig. 1; literature notes §2.2 (a public replication, N = 10^4, phi = 0.18: cascades at "
            "z = 5, none at z = 6) and §7 E2 ('zero outside (1.02, 5.76)')", "{:.4f}"))
    report.figures["cascades"] = figure(summary, lower, upper, p, sizes)
    return report


def figure(summary: pd.DataFrame, lower: float, upper: float, p: Parameters, sizes: Sizes) -> Figure:
    """Frequency and size of global cascades against z, with the theory and the window."""
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot()
    zs = np.linspace(max(0.2, summary.z.min()), summary.z.max(), 400)
    ax.axvspan(lower, upper, color="0.92", label=f"window {lower:.2f} < z < {upper:.2f}")
    ax.plot(zs, [theory.global_cascade_probability(z, p.phi) for z in zs], "C0-", lw=1.2,
            label="frequency, theory 1 - G0(u)")
    ax.errorbar(summary.z, summary.frequency, yerr=Z95 * summary.frequency_se, fmt="o", color="C0",
                ms=4, capsize=2, label="frequency of global cascades (ours)")
    ax.plot(zs, [theory.gleeson_fraction(z, 0.0, p.phi, q0=1e-9) if lower < z < upper else np.nan for z in zs],
            "C3--", lw=1.2, label="size, theory (Gleeson fixed point)")
    ax.errorbar(summary.z, summary.global_size, yerr=Z95 * summary.global_size_se.fillna(0), fmt="s",
                color="C3", ms=4, capsize=2, label="mean size of global cascades (ours)")
    ax.set_xlabel("mean degree z")
    ax.set_ylabel("frequency / fraction of the graph")
    ax.set_ylim(-0.02, 1.05)
    ax.set_title(f"Watts (2002) cascade window: phi = {p.phi}, N = {sizes.n:,}, "
                 f"{sizes.graphs} graphs x {sizes.trials} trials per z", fontsize="medium")
    ax.legend(frameon=False, fontsize="small", loc="center right")
    fig.tight_layout()
    return fig
