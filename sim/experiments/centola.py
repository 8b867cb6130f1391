"""E6 — Centola (2010), "The spread of behavior in an online social network experiment", Science 329:1194-1197.

Paired networks of N = 98, 128, 144 accounts with Z = 6 neighbours each: a triangular lattice
on a torus (clustered) and its degree-preserving rewiring (random,
:func:`sim.world.generators.rewired`); one random recruit. An account adopts on the signal of
its k-th distinct adopting neighbour with chance h(k) (rising to k = 3, then flat): the
general threshold model with ``signals`` thresholds (:class:`sim.classic.spec.SignalThresholds`),
whose threshold T is the first signal whose chance comes up, which is this rule exactly.
Each paired trial uses the same recruit and the same per-account draws on both topologies
(common random numbers), so only the ties differ. Reproduced: final adoption in clustered vs
random networks, the share of paired trials the clustered network wins, and the adoption
curves over time (steps of the synchronous cascade).
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field
from scipy.optimize import brentq

from sim.base.rng import Stream, numpy_generator, root_key
from sim.base.stats import Z95
from sim.classic.kernel import activation_times, final_sizes
from sim.classic.model import compile_model
from sim.classic.recruits import RecruitPlan
from sim.classic.spec import GeneralThreshold
from sim.experiments.comparison import Check, Estimate, Kind, mean_interval, proportion_interval
from sim.experiments.report import Report, Steps, Workspace, pieces
from sim.experiments.schema import ExperimentSpec
from sim.experiments.seeds import replicate_seed
from sim.input.schema import PositiveInt, Probability, Spec
from sim.world.generators import rewired, torus_sides, triangular_torus
from sim.world.graph import FlatGraph

#: Centola (2010): mean final adoption over the 6 paired trials, clustered and random (fractions).
PUBLISHED_CLUSTERED, PUBLISHED_RANDOM, PUBLISHED_PAIRS = 0.5377, 0.3826, 6
#: Where the validation checks' claims come from.
SOURCE = "Centola (2010), Science 329:1194-1197 (results [V], sizes [M]); literature notes §2.5"
ONE_RECRUIT = RecruitPlan(np.zeros(0, dtype=np.int32), 1)
TOPOLOGIES = ("clustered", "random")


class Parameters(Spec):
    """Network sizes (two paired trials each in the paper) and the per-signal adoption chances h(k).

    The default h = (0.14, 0.32, 0.42), flat after the third signal, sits on the bounds of the
    paper's return-visit figure (< 15% after 1 signal, > 30% after 2, > 40% after 3), read as
    the chance of adopting on receiving the k-th signal.
    """

    sizes: Annotated[list[Annotated[int, Field(ge=9)]], Field(min_length=1)] = [98, 128, 144]
    adopt: Annotated[list[Probability], Field(min_length=1)] = [0.14, 0.32, 0.42]
    swaps_per_tie: Annotated[float, Field(gt=0.0)] = 10.0
    fit_clustered_level: bool = True  #: scale h(k) by one factor so the clustered mean is the published 53.77%


class Sizes(Spec):
    """Rewired networks per size (each paired with the lattice) and trials per pair."""

    networks: PositiveInt
    trials: PositiveInt
    fit_trials: PositiveInt  #: one-recruit trials per lattice size the scale factor is fitted on


class Definition(ExperimentSpec):
    """E6 definition."""

    experiment: Literal["centola"]
    parameters: Parameters = Parameters()
    full: Sizes
    quick: Sizes


def _graphs(n: int, swaps: float, seed: int) -> dict[str, FlatGraph]:
    rows, cols = torus_sides(n)
    indptr, indices = triangular_torus(rows, cols)
    nx_seed = int(numpy_generator(seed, Stream.WORLD).integers(2**62))
    r_indptr, r_indices = rewired(n, indptr, indices, swaps, nx_seed)
    labels = np.arange(n, dtype=np.int64)
    return {"clustered": FlatGraph(indptr, indices, labels, None, False, f"triangular torus {rows}x{cols}"),
            "random": FlatGraph(r_indptr, r_indices, labels, None, False, f"rewired torus {rows}x{cols}")}


def _law(adopt: list[float]) -> GeneralThreshold:
    return GeneralThreshold.model_validate({"kind": "threshold", "units": "count",
                                            "thresholds": {"kind": "signals", "adopt": adopt}})


def _lattice_mean(spec: Definition, adopt: list[float], trials: int) -> float:
    """Mean final adoption on the lattices of every size (trials keyed apart from the paired runs')."""
    total = 0.0
    for ni, n in enumerate(spec.parameters.sizes):
        rows, cols = torus_sides(n)
        g = FlatGraph(*triangular_torus(rows, cols), np.arange(n, dtype=np.int64), None, False, "lattice")
        sizes_, _ = final_sizes(g, compile_model(_law(adopt), g), ONE_RECRUIT,
                                root_key(replicate_seed(spec.seed, 10_000 + ni)), np.arange(trials))
        total += float(sizes_.mean()) / n
    return total / len(spec.parameters.sizes)


def fitted_scale(spec: Definition, trials: int) -> float:
    """The factor c making the clustered mean of h'(k) = c h(k) the published 53.77% (Brent's method).

    With the trials' draws fixed the mean rises with c (every threshold falls), so the root is
    bracketed by c = 1 (or the smallest c the mean already exceeds the target at) and the c
    that puts the largest h at 1.
    """
    h = np.asarray(spec.parameters.adopt)
    top = 1.0 / float(h.max())
    f = lambda c: _lattice_mean(spec, np.minimum(c * h, 1.0).tolist(), trials) - PUBLISHED_CLUSTERED  # noqa: E731
    lo = 1.0
    while f(lo) > 0 and lo > 1e-3:
        lo /= 2
    if f(top) < 0:
        return top
    return float(brentq(f, lo, top, xtol=1e-3))


def _pair(spec: Definition, sizes: Sizes, adopt: list[float], ni: int, n: int, gi: int) -> pd.DataFrame:
    """Activation steps of every trial of one (lattice, rewired) pair: one row per trial, topology and step."""
    s = replicate_seed(spec.seed, ni, gi)
    law = _law(adopt)
    rows = []
    root = root_key(s)  # the same root on both topologies: same recruit, same thresholds per account
    for topology, g in _graphs(n, spec.parameters.swaps_per_tie, s).items():
        model = compile_model(law, g)
        for t in range(sizes.trials):
            times = activation_times(g, model, ONE_RECRUIT, root, t)
            steps = np.bincount(times[times >= 0])
            rows += [{"n": n, "network": gi, "trial": t, "topology": topology, "step": k,
                      "adopted": int(c)} for k, c in enumerate(np.cumsum(steps).tolist())]
    return pd.DataFrame(rows)


def reproduce(spec: Definition, sizes: Sizes, ws: Workspace, steps: Steps) -> Report:
    """Run E6: final adoption and curves on paired clustered and random networks."""
    p = spec.parameters
    as_read = _lattice_mean(spec, p.adopt, sizes.fit_trials)
    scale = fitted_scale(spec, sizes.fit_trials) if p.fit_clustered_level else 1.0
    adopt = np.minimum(scale * np.asarray(p.adopt), 1.0).tolist()
    units = [(ni, n, gi) for ni, n in enumerate(p.sizes) for gi in range(sizes.networks)]
    runs = pieces(ws, steps, {f"n{n}_g{gi}": partial(_pair, spec, sizes, adopt, ni, n, gi)
                              for ni, n, gi in units})
    final = (runs.groupby(["n", "network", "trial", "topology"])["adopted"].max() / runs.groupby(
        ["n", "network", "trial", "topology"])["n"].first()).unstack("topology").reset_index()
    report = Report(spec, quick=False, tables={"final": final, "hazard": pd.DataFrame(
        {"k": np.arange(1, len(adopt) + 1), "as_read": p.adopt, "used": adopt, "scale": scale})})
    report.checks.append(Check(
        "return_visit_level", "clustered networks: mean final adoption 53.77% (with h(k) as read off the "
        "return-visit figure)", Estimate.exact(as_read), "|ours - 0.5377| < 0.1 (h(k) not rescaled)",
        abs(as_read - PUBLISHED_CLUSTERED) < 0.1, Kind.VALIDATION,
        SOURCE + "; the return-visit rates (< 15%, > 30%, > 40%) read as h(k)", "{:.3f}"))
    clustered, random_ = mean_interval(final.clustered), mean_interval(final.random)
    diff = mean_interval(final.clustered - final.random)
    wins = int((final.clustered > final.random).sum())
    losses = int((final.clustered < final.random).sum())
    win = proportion_interval(wins, len(final))
    # a mean of the paper's 6 paired trials, under our model: the 95% range it falls in
    sd_c, sd_r = float(final.clustered.std(ddof=1)), float(final.random.std(ddof=1))
    half_c, half_r = Z95 * sd_c / np.sqrt(PUBLISHED_PAIRS), Z95 * sd_r / np.sqrt(PUBLISHED_PAIRS)
    hazard = ", ".join(f"{x:.3f}" for x in adopt)
    report.checks += [
        Check("hazard_shape", "adoption chance rises with the 2nd and 3rd signal, no gain after the 3rd",
              Estimate.exact(scale), f"scale c = {scale:.3f}: h = ({hazard}, ...) rises to k = 3, then flat",
              len(adopt) >= 3 and adopt[0] < adopt[1] < adopt[2] and adopt[-1] == adopt[2], Kind.VERIFICATION,
              unit="{:.3f}"),
        Check("clustered_farther", "behaviour spread farther in clustered than in random networks "
              "(53.77% vs 38.26%: +15.5 points)", diff, "mean paired difference > 0 with its 95% CI above 0",
              diff.low > 0, Kind.VALIDATION, SOURCE + (" (predicted: h is scaled on the clustered level, the gap is "
                                                       "not fitted)" if p.fit_clustered_level else ""), "{:.3f}"),
        Check("random_level", "random networks: mean final adoption 38.26% over 6 trials", random_,
              f"|ours - 0.3826| < 0.05 (a prediction once h is scaled; a 6-trial mean under our model "
              f"spreads +- {half_r:.3f})", abs(random_.value - PUBLISHED_RANDOM) < 0.05, Kind.VALIDATION,
              SOURCE + " ('means ~ 54% vs 38%'); nothing is fitted on the random networks", "{:.3f}"),
        Check("wins_over_losses", "clustered ahead in every paired trial", proportion_interval(
              wins, wins + losses), "of pairs that differ, clustered ahead in more than half (95% CI above 0.5)",
              proportion_interval(wins, wins + losses).low > 0.5, Kind.VALIDATION, SOURCE, "{:.3f}"),
        Check("all_six_pairs", "clustered ahead in 6 of 6 paired trials", Estimate(
              win.value ** PUBLISHED_PAIRS, win.low ** PUBLISHED_PAIRS, win.high ** PUBLISHED_PAIRS),
              "P(clustered ahead in all 6 pairs) = P(ahead)^6 >= 0.05 (the published outcome is not improbable)",
              win.value ** PUBLISHED_PAIRS >= 0.05, Kind.VALIDATION, SOURCE, "{:.3f}"),
    ]
    if p.fit_clustered_level:
        # the clustered level is what c was fitted to: reported beside the fit, never checked
        report.tables["hazard"]["clustered_mean"] = clustered.value
        report.tables["hazard"]["clustered_low"] = clustered.low
        report.tables["hazard"]["clustered_high"] = clustered.high
    else:
        report.checks.append(Check(
            "clustered_level", "clustered networks: mean final adoption 53.77% over 6 trials", clustered,
            f"0.5377 within the 95% range of a 6-trial mean under our model (ours +- {half_c:.3f})",
            abs(clustered.value - PUBLISHED_CLUSTERED) <= half_c, Kind.VALIDATION, SOURCE, "{:.3f}"))
    curves = _curves(runs)
    report.tables["curves"] = curves
    report.figures["adoption"] = figure(curves, final, adopt, p, sizes)
    return report


def _curves(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean fraction adopted by step, per size and topology (a trial's count stays flat after it stops)."""
    last = int(runs.step.max())
    out = []
    for (n, topology), grp in runs.groupby(["n", "topology"]):
        wide = grp.pivot_table(index=["network", "trial"], columns="step", values="adopted").reindex(
            columns=range(last + 1)).ffill(axis=1)
        m = wide.mean(axis=0) / n
        se = wide.std(axis=0, ddof=1) / n / np.sqrt(len(wide))
        out.append(pd.DataFrame({"n": n, "topology": topology, "step": m.index, "mean": m.values,
                                 "se": se.values}))
    return pd.concat(out, ignore_index=True)


def figure(curves: pd.DataFrame, final: pd.DataFrame, adopt: list[float], p: Parameters, sizes: Sizes) -> Figure:
    """Adoption curves by topology and size (left) and the paired final adoptions (right)."""
    fig = Figure(figsize=(9.0, 4.0))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    styles = {"clustered": "-", "random": "--"}
    for i, n in enumerate(p.sizes):
        for topology in TOPOLOGIES:
            c = curves[(curves.n == n) & (curves.topology == topology)]
            left.plot(c.step, c["mean"], styles[topology], color=f"C{i}", lw=1.3, label=f"N = {n}, {topology}")
    left.set_xlabel("step of the cascade")
    left.set_ylabel("mean fraction adopted")
    left.legend(frameon=False, fontsize="x-small", ncol=2)
    h = ", ".join(f"{x:.2f}" for x in adopt)
    left.set_title(f"Centola (2010) paired networks, Z = 6, h(k) = ({h}, ...)", fontsize="medium")
    means = final.groupby("n")[list(TOPOLOGIES)].mean()
    x = np.arange(len(means))
    right.bar(x - 0.2, means.clustered, 0.4, label="clustered (ours)", color="C0")
    right.bar(x + 0.2, means.random, 0.4, label="random (ours)", color="C1")
    right.axhline(PUBLISHED_CLUSTERED, color="C0", ls=":", lw=1, label="clustered, published 53.8%")
    right.axhline(PUBLISHED_RANDOM, color="C1", ls=":", lw=1, label="random, published 38.3%")
    right.set_xticks(x, [f"N = {n}" for n in means.index])
    right.set_ylabel("mean final adoption")
    right.set_title(f"{sizes.networks} networks x {sizes.trials} trials per N", fontsize="medium")
    right.legend(frameon=False, fontsize="x-small")
    fig.tight_layout()
    return fig
