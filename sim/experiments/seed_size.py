"""E3 — Gleeson & Cahalane (2007), "Seed size strongly affects cascades on random networks", PRE 75:056103.

Watts' threshold model (phi = 0.18) on Erdős–Rényi graphs with a random recruit *fraction*
rho0: the final adopting fraction against the mean degree z, for several rho0. The analytic
fixed point (:func:`sim.classic.theory.gleeson_fraction`) predicts the seed-size effect: with
rho0 = 0.5% cascades persist beyond the one-recruit window but collapse at z = 8, where 2% still
takes over. The project's analogue: many micro-creators against one celebrity recruit.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field

from sim.base.rng import root_key
from sim.classic import theory
from sim.classic.kernel import final_sizes
from sim.classic.model import compile_model
from sim.classic.recruits import plan_recruits
from sim.classic.spec import FractionalThreshold, RandomRecruits
from sim.experiments.comparison import Check, Kind, mean_interval
from sim.experiments.report import Report, Steps, Workspace
from sim.experiments.schema import ExperimentSpec
from sim.experiments.seeds import replicate_seed
from sim.input.schema import PositiveInt, Spec
from sim.world.build import build_graph
from sim.world.spec import ErdosRenyiGraph

#: The table of literature notes §3.4 (phi = 0.18, ER), z -> values for rho0 = 0.005, 0.02, 0.10,
#: recomputed from Gleeson & Cahalane's fixed point (their Fig. 2 shows the same curves).
PUBLISHED = {2: (0.7983, 0.8034, 0.8282), 3: (0.9408, 0.9419, 0.9476), 4: (0.9803, 0.9806, 0.9823),
             5: (0.9931, 0.9932, 0.9937), 6: (0.9975, 0.9975, 0.9977), 7: (0.9991, 0.9991, 0.9992),
             8: (0.0154, 0.9997, 0.9997)}
PUBLISHED_FRACTIONS = (0.005, 0.02, 0.10)


class Parameters(Spec):
    """phi, the recruit fractions, and the tolerance of the comparison."""

    phi: Annotated[float, Field(gt=0.0, le=1.0)] = 0.18
    fractions: Annotated[list[Annotated[float, Field(gt=0.0, lt=1.0)]], Field(min_length=1)] = [0.005, 0.02, 0.1]
    tolerance: Annotated[float, Field(gt=0.0)] = 0.01


class Sizes(Spec):
    """Accounts, graphs per point, trials per graph, the z grid."""

    n: PositiveInt
    graphs: PositiveInt
    trials: PositiveInt
    mean_degrees: Annotated[list[Annotated[float, Field(gt=0.0)]], Field(min_length=1)]


class Definition(ExperimentSpec):
    """E3 definition."""

    experiment: Literal["seed_size"]
    parameters: Parameters = Parameters()
    full: Sizes
    quick: Sizes


def _point(spec: Definition, sizes: Sizes, zi: int, z: float) -> pd.DataFrame:
    p = spec.parameters
    model_spec = FractionalThreshold(kind="fractional_threshold", phi=p.phi)
    rows = []
    for gi in range(sizes.graphs):
        s = replicate_seed(spec.seed, zi, gi)
        g = build_graph(ErdosRenyiGraph(kind="erdos_renyi", n=sizes.n, mean_degree=z), s)
        model = compile_model(model_spec, g)
        for fi, rho0 in enumerate(p.fractions):
            plan = plan_recruits(RandomRecruits(rule="random", fraction=rho0), g)
            adopted, _ = final_sizes(g, model, plan, root_key(replicate_seed(s, fi)), np.arange(sizes.trials))
            rows.append({"z": z, "rho0": rho0, "graph": gi, "fraction": float(adopted.mean() / g.n)})
    return pd.DataFrame(rows)


def reproduce(spec: Definition, sizes: Sizes, ws: Workspace, steps: Steps) -> Report:
    """Run E3: simulated final fractions against the fixed point and the published table."""
    p = spec.parameters
    steps.total(len(sizes.mean_degrees))
    parts = []
    for zi, z in enumerate(sizes.mean_degrees):
        parts.append(ws.piece(f"z{zi}", partial(_point, spec, sizes, zi, z)))
        steps.advance()
    runs = pd.concat(parts, ignore_index=True)
    rows = []
    report = Report(spec, quick=False)
    for (z, rho0), grp in runs.groupby(["z", "rho0"], sort=True):
        est = mean_interval(grp["fraction"])
        exact = theory.gleeson_fraction(z, rho0, p.phi)
        rows.append({"z": z, "rho0": rho0, "ours": est.value, "low": est.low, "high": est.high, "theory": exact})
        published = None
        if float(z).is_integer() and int(z) in PUBLISHED and rho0 in PUBLISHED_FRACTIONS and p.phi == 0.18:
            published = PUBLISHED[int(z)][PUBLISHED_FRACTIONS.index(rho0)]
        claim = (f"rho = {published:.4f} (fixed point, table)" if published is not None
                 else f"rho = {exact:.4f} (fixed point)")
        ok = abs(est.value - exact) < p.tolerance and (published is None or abs(exact - published) < 1e-4)
        report.checks.append(Check(f"rho_z{z:g}_{rho0:g}", claim, est,
                                   f"|ours - {exact:.4f}| < {p.tolerance:g}", ok, Kind.VERIFICATION,
                                   unit="{:.4f}"))
    summary = pd.DataFrame(rows)
    report.tables = {"runs": runs, "summary": summary}
    report.figures["seed_size"] = figure(summary, p, sizes)
    return report


def figure(summary: pd.DataFrame, p: Parameters, sizes: Sizes) -> Figure:
    """Final fraction against z for each recruit fraction: fixed point (lines) and simulation (points)."""
    fig = Figure(figsize=(7.2, 4.2))
    ax = fig.add_subplot()
    zs = np.linspace(1.0, max(summary.z.max(), 9.5), 300)
    for i, rho0 in enumerate(p.fractions):
        ax.plot(zs, [theory.gleeson_fraction(z, rho0, p.phi) for z in zs], f"C{i}-", lw=1.2,
                label=f"fixed point, rho0 = {rho0:g}")
        sub = summary[summary.rho0 == rho0]
        ax.errorbar(sub.z, sub.ours, yerr=[sub.ours - sub.low, sub.high - sub.ours], fmt="o", color=f"C{i}",
                    ms=4, capsize=2, label=f"ours, rho0 = {rho0:g}")
    ax.set_xlabel("mean degree z")
    ax.set_ylabel("final adopting fraction rho")
    ax.set_title(f"Gleeson & Cahalane (2007) seed-size effect: phi = {p.phi}, N = {sizes.n:,}, "
                 f"{sizes.graphs} graphs x {sizes.trials} trials", fontsize="medium")
    ax.legend(frameon=False, fontsize="small", ncol=2, loc="lower left")
    fig.tight_layout()
    return fig
