"""E4 — Watts & Dodds (2007), "Influentials, networks, and public opinion formation", Fig. 2.

J. Consumer Research 34(4):441-458.

Model 1 of the paper: a directed influence network in which each of N individuals influences a
Poisson(n_avg) number of others chosen at random (a directed Erdős–Rényi graph, edge u -> v: u
influences v); homogeneous threshold phi = 0.18 on the fraction of one's influencers who have
adopted; one initiator per cascade. *Influentials* are the top ``influential_fraction`` of the
influence distribution (out-degree). S_avg is the mean cascade size triggered by a random
initiator, S_inf by a random influential, and the multiplier M = S_inf / S_avg.

The model is deterministic given the initiator, so each sampled initiator is run once, as a
fixed recruit, on the kernel; the samples (random accounts, random influentials) are drawn by a
keyed generator per graph. The cascade window of this directed model is computed in
:func:`sim.classic.theory.directed_condition` (1.004 < n_avg < 7.48 for phi = 0.18).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field

from sim.base.rng import Stream, numpy_generator, root_key
from sim.classic import theory
from sim.classic.kernel import final_sizes
from sim.classic.model import compile_model
from sim.classic.recruits import RecruitPlan
from sim.classic.spec import FractionalThreshold
from sim.experiments.comparison import Check, Estimate, Kind, mean_interval, proportion_interval
from sim.experiments.report import Report, Steps, Workspace
from sim.experiments.schema import ExperimentSpec
from sim.experiments.seeds import replicate_seed
from sim.input.schema import PositiveInt, Probability, Spec
from sim.world.build import build_graph
from sim.world.spec import ErdosRenyiGraph

#: Where the validation checks' claims come from (the conclusion is verified, the set-up and the
#: shape of M are from memory in the notes).
SOURCE = ("Watts & Dodds (2007), J. Consumer Research 34(4):441-458, Fig. 2; literature notes §2.3 "
          "(conclusion [V], set-up and M's shape [M])")

class Parameters(Spec):
    """phi, who counts as influential, what counts as a global cascade."""

    phi: Annotated[float, Field(gt=0.0, le=1.0)] = 0.18
    influential_fraction: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.1
    global_fraction: Probability = 0.1


class Sizes(Spec):
    """Accounts, graphs per n_avg, initiators sampled per graph and group, the n_avg grid."""

    n: PositiveInt
    graphs: PositiveInt
    initiators: PositiveInt
    mean_degrees: Annotated[list[Annotated[float, Field(gt=0.0)]], Field(min_length=2)]


class Definition(ExperimentSpec):
    """E4 definition."""

    experiment: Literal["influentials"]
    parameters: Parameters = Parameters()
    full: Sizes
    quick: Sizes


def _point(spec: Definition, sizes: Sizes, zi: int, z: float) -> pd.DataFrame:
    p = spec.parameters
    rows = []
    for gi in range(sizes.graphs):
        s = replicate_seed(spec.seed, zi, gi)
        g = build_graph(ErdosRenyiGraph(kind="erdos_renyi", n=sizes.n, mean_degree=z, directed=True), s)
        model = compile_model(FractionalThreshold(kind="fractional_threshold", phi=p.phi), g)
        top = np.argsort(-g.out_degree, kind="stable")[: max(1, round(p.influential_fraction * g.n))]
        rng = numpy_generator(s, Stream.RECRUITS)
        groups = {"random": rng.integers(0, g.n, sizes.initiators), "influential": rng.choice(top, sizes.initiators)}
        root = root_key(s)
        for group, nodes in groups.items():
            for v in nodes.tolist():
                adopted, _ = final_sizes(g, model, RecruitPlan(np.array([v], np.int32), 0), root, np.arange(1))
                rows.append({"z": z, "graph": gi, "group": group, "initiator": v, "size": adopted[0] / g.n})
    return pd.DataFrame(rows)


def reproduce(spec: Definition, sizes: Sizes, ws: Workspace, steps: Steps) -> Report:
    """Run E4: S_avg, S_inf and M against n_avg across the directed cascade window."""
    p = spec.parameters
    steps.total(len(sizes.mean_degrees))
    parts = []
    for zi, z in enumerate(sizes.mean_degrees):
        parts.append(ws.piece(f"z{zi}", partial(_point, spec, sizes, zi, z)))
        steps.advance()
    runs = pd.concat(parts, ignore_index=True)
    lower, upper = theory.window(theory.directed_condition, p.phi)
    per_graph = runs.groupby(["z", "graph", "group"])["size"].mean().unstack("group").reset_index()
    rows = []
    for z, grp in per_graph.groupby("z"):
        sub = runs[runs.z == z]
        s_avg, s_inf = mean_interval(grp["random"]), mean_interval(grp["influential"])
        ratio = (grp["influential"] / grp["random"]).replace([np.inf], np.nan).dropna()
        m = s_inf.value / s_avg.value if s_avg.value > 0 else np.nan
        m_ci = mean_interval(ratio) if len(ratio) else Estimate(np.nan, np.nan, np.nan)
        big = sub[sub.group == "random"]["size"] > p.global_fraction
        rows.append({"z": z, "S_avg": s_avg.value, "S_avg_low": s_avg.low, "S_avg_high": s_avg.high,
                     "S_inf": s_inf.value, "S_inf_low": s_inf.low, "S_inf_high": s_inf.high, "M": m,
                     "M_low": m_ci.low, "M_high": m_ci.high, "global": int(big.sum()), "initiators": int(len(big)),
                     "inside": lower < z < upper})
    summary = pd.DataFrame(rows)
    report = Report(spec, quick=False, tables={"runs": runs, "summary": summary})
    active = summary[summary.inside & (summary.S_avg > 0.01)]
    worst = active.loc[active.M.idxmin()]
    report.checks.append(Check(
        "influentials_at_least_average", "influentials trigger larger cascades than average individuals (M >= 1)",
        Estimate(worst.M, worst.M_low, worst.M_high), f"M >= 0.95 at every n_avg in the window (lowest: {worst.z:g})",
        bool((active.M >= 0.95).all()), Kind.VALIDATION, SOURCE, "{:.2f}"))
    middle = active[(active.z >= lower + 1.0) & (active.z <= upper - 1.0)]
    if len(middle):
        top = middle.loc[middle.M.idxmax()]
        report.checks.append(Check(
            "modest_in_window", "over most of the window influentials are only modestly more important "
            "(cascades driven by a critical mass of easily influenced individuals)",
            Estimate(top.M, top.M_low, top.M_high),
            f"M < 2 for every n_avg in [{lower + 1:.2f}, {upper - 1:.2f}] (largest: {top.z:g})",
            bool((middle.M < 2.0).all()), Kind.VALIDATION, SOURCE + " (M 'order 1-2x' over most of the window)",
            "{:.2f}"))
    edge = active.loc[active.z.idxmin()]
    report.checks.append(Check(
        "large_near_lower_edge", "M is large near the lower edge of the window, where cascades are rare",
        Estimate(edge.M, edge.M_low, edge.M_high), f"M > 1.5 at the smallest n_avg in the window ({edge.z:g})",
        bool(edge.M > 1.5), Kind.VALIDATION, SOURCE + " (M large near the lower edge, [M])", "{:.2f}"))
    outside = summary[(summary.z <= lower - 0.05) | (summary.z >= upper + 1.0)]
    if len(outside):
        w = outside.loc[(outside["global"] / outside["initiators"]).idxmax()]
        report.checks.append(Check(
            "directed_window", f"global cascades only inside the window {lower:.3f} < n_avg < {upper:.2f} "
            "(directed Watts condition)", proportion_interval(int(w["global"]), int(w["initiators"])),
            f"frequency < 0.02 at n_avg <= {lower - 0.05:.2f} and >= {upper + 1:.2f} (worst: {w.z:g})",
            bool((outside["global"] / outside["initiators"] < 0.02).all()), Kind.VERIFICATION, unit="{:.4f}"))
    report.figures["multiplier"] = figure(summary, lower, upper, p, sizes)
    return report


def figure(summary: pd.DataFrame, lower: float, upper: float, p: Parameters, sizes: Sizes) -> Figure:
    """S_avg and S_inf (top) and the multiplier M (bottom) against n_avg."""
    fig = Figure(figsize=(7.2, 6.0))
    top, bottom = fig.subplots(2, 1, sharex=True)
    for ax in (top, bottom):
        ax.axvspan(lower, upper, color="0.93")
    for col, c, label in (("S_avg", "C0", "random initiator (S_avg)"),
                          ("S_inf", "C3", f"influential, top {p.influential_fraction:.0%} (S_inf)")):
        top.errorbar(summary.z, summary[col], yerr=[summary[col] - summary[f"{col}_low"],
                     summary[f"{col}_high"] - summary[col]], fmt="o-", color=c, ms=4, capsize=2, label=label)
    top.set_ylabel("mean cascade size / N")
    top.legend(frameon=False, fontsize="small")
    top.set_title(f"Watts & Dodds (2007), model 1: directed Poisson influence, phi = {p.phi}, N = {sizes.n:,}",
                  fontsize="medium")
    ok = summary.S_avg > 0.01
    bottom.errorbar(summary.z[ok], summary.M[ok], yerr=[(summary.M - summary.M_low)[ok].clip(lower=0),
                    (summary.M_high - summary.M)[ok].clip(lower=0)], fmt="s-", color="k", ms=4, capsize=2)
    bottom.axhline(1.0, color="0.5", lw=0.8, ls=":")
    bottom.set_ylabel("multiplier M = S_inf / S_avg")
    bottom.set_xlabel("average influence n_avg (shaded: cascade window)")
    fig.tight_layout()
    return fig
