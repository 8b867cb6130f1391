"""Centola (2010) inside the campaign model: whether the multiple-source weight makes clustered networks win.

A validation of the campaign model's complex-contagion mechanism (docs/model.md §7.7a, §7.13),
reported PASS / MISS and never a test gate. Centola's networks (a triangular lattice on a torus,
N = 98, 128, 144, Z = 6, and its degree-preserving rewiring: :mod:`sim.world.generators`) are the
audience's peer graph of a campaign world; one creator with a single follower (the seed) posts on
day 0 and convinces it; every adopter re-shares once to all its neighbours (``reshare: 1``,
``peer_reach: 1``), which is Centola's signal to network neighbours. The same world seed on both
topologies gives the same seed account and the same thresholds (common random numbers), so only
the ties differ.

Nothing is fitted on the level checked. The individual-level response comes from Centola's
return-visit rates read as per-signal adoption chances, h = (0.14, 0.32, 0.42), flat after the
3rd (the E6 default before its level fit), so the chance of having adopted after k signals is
P_k = 1 - prod_{j <= k}(1 - h_j) = 0.14, 0.415, 0.661. In the campaign model with uniform
thresholds and no decay, k distinct sources each delivering dose x give P_k = min(1, k^(1+s) x /
theta) up to the cap (3): theta = 1 (so the seed's creator post, dose 1, convinces it surely),
x = peer_trust = P_1, and s is the least-squares fit of log P_k = log x + (1 + s) log k over k = 2,
3 (:func:`hazard_parameters`). Two readings:

* *as read*: nothing fitted; the network-level outcomes (final adoption clustered vs random,
  53.77% vs 38.26%) are predictions. As E6 found, these chances are subcritical from one seed on
  Z = 6 (6 x 0.14 < 1): most cascades stop near the seed on both topologies.
* *clustered level fitted*: the peer dose x is scaled by one factor so the clustered mean is
  53.77% (on trials of their own), as E6 does; the random level and the clustered-vs-random
  difference are then predictions, and those are what is checked.

The same runs with s = 0 (additive doses: the Linear Threshold limit) are the control: there,
redundant ties are wasted and random networks should do at least as well.

An experiment definition (``experiments/e10_centola_campaign.yaml``; ``python run_experiment.py
reproduce --only e10_centola_campaign``): the five readings above are validation checks (PASS /
MISS against Centola's numbers with E6's tolerances, never a failure); verification checks that
the set-up is what it says (the seed adopts on day 0 in every trial; numba and Mesa give the same
trials). ``python -m sim.experiments.centola_campaign [--networks 20 --trials 100]`` prints the
same readings without writing anything.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field

from sim.base.rng import Stream, numpy_generator, root_key
from sim.campaign import kernel as ck
from sim.campaign.family import compile_campaign
from sim.campaign.model import simulate
from sim.experiments.comparison import Check, Estimate, Kind, mean_interval
from sim.experiments.report import Report, Steps, Workspace, pieces
from sim.experiments.schema import ExperimentSpec
from sim.experiments.seeds import replicate_seed
from sim.input.scenario import Scenario
from sim.input.schema import PositiveInt, Probability, Spec
from sim.world.generators import rewired, torus_sides, triangular_torus
from sim.world.graph import FlatGraph
from sim.world.population import build_population
from sim.world.spec import CreatorAudienceWorld

#: Centola (2010): mean final adoption over the 6 paired trials, clustered and random (fractions).
PUBLISHED_CLUSTERED, PUBLISHED_RANDOM = 0.5377, 0.3826
#: Per-signal adoption chances read off Centola's return-visit figure (<15%, >30%, >40%), flat after the 3rd.
HAZARD = (0.14, 0.32, 0.42)
SIZES = (98, 128, 144)
TOPOLOGIES = ("clustered", "random")
#: Where the validation checks' numbers and tolerances come from (E6's, for the same numbers).
SOURCE = ("Centola (2010), Science 329:1194-1197 (results [V], sizes [M]); literature notes §2.5; tolerances "
          "as E6's checks of the same numbers (docs/experiments.md, E6)")
CONTROL_SOURCE = ("Centola & Macy (2007), AJS 113(3):702-734: simple contagions spread at least as far on "
                  "random networks (long ties); literature notes §2.5")


def hazard_parameters(hazard: tuple[float, ...] = HAZARD) -> tuple[float, float]:
    """``(x, s)``: the peer dose (threshold scale 1) and the synergy exponent matching ``P_k``.

    ``x = P_1``; ``1 + s`` is the least-squares slope through the origin of ``log(P_k / x)`` on
    ``log k`` for ``k = 2 .. len(hazard)`` (P_k: the chance of having adopted after k signals).
    """
    p = 1.0 - np.cumprod(1.0 - np.asarray(hazard))
    k = np.arange(1, len(p) + 1, dtype=np.float64)
    x = float(p[0])
    lk, lp = np.log(k[1:]), np.log(p[1:] / x)
    return x, float((lk @ lp) / (lk @ lk)) - 1.0


def _scenario(n: int, seed: int, dose: float, synergy: float, days: int) -> Scenario:  # noqa: D103
    """A campaign world on n accounts: one creator with one follower, every adopter re-shares to all peers."""
    world = {
        "kind": "creator_audience",
        "audience": {"peers": {"kind": "random_regular", "n": n, "degree": 6},  # replaced by Centola's graph
                     "segments": [{"name": "all", "share": 1.0, "platforms": {"web": 1.0}}],
                     "interest": {"mean": 0.5, "homophily": 0.0}},
        "platforms": {"web": {"organic_reach": 1.0}},
        "tiers": {"nano": {"followers": [1, 2], "count": 1, "platforms": {"web": 1.0},
                           "engagement": 0.0, "trust": 1.0}},
        "follower_homophily": 0.0,
    }
    model = {"kind": "campaign", "adoption": "threshold", "threshold": {"max": 1.0, "interest_effect": 0.0},
             "reshare": 1.0, "peer_reach": 1.0, "peer_trust": dose, "peer_engagement": 0.0,
             "alignment_weight": 0.0, "repetition_peak": None, "sources": {"synergy": synergy, "cap": 3}}
    return Scenario.model_validate({
        "name": "centola_campaign", "seed": seed, "trials": 1, "days": days, "world": world, "model": model,
        "strategies": [{"name": "seed", "posts": [{"tier": "nano", "platform": "web", "creators": 1,
                                                    "paid": False, "days": [0]}]}]})


def _graphs(n: int, seed: int, swaps: float = 10.0) -> dict[str, FlatGraph]:
    rows, cols = torus_sides(n)
    indptr, indices = triangular_torus(rows, cols)
    nx_seed = int(numpy_generator(seed, Stream.WORLD).integers(2**62))
    r_indptr, r_indices = rewired(n, indptr, indices, swaps, nx_seed)
    labels = np.arange(n, dtype=np.int64)
    return {"clustered": FlatGraph(indptr, indices, labels, None, False, "triangular torus"),
            "random": FlatGraph(r_indptr, r_indices, labels, None, False, "rewired torus")}


def final_adoption(n: int, network: int, trials: int, synergy: float, *, seed: int = 2010, dose: float | None = None,
                   engine: str = "numba", topologies: tuple[str, ...] = TOPOLOGIES) -> dict[str, np.ndarray]:
    """Final adopted fraction per trial on the lattice and its rewiring (same seed account and thresholds).

    ``dose``: the peer dose (default: Centola's P_1 as read, :func:`hazard_parameters`).
    """
    if dose is None:
        dose, _ = hazard_parameters()
    s = replicate_seed(seed, n, network)
    sc = _scenario(n, s, dose, synergy, days=4 * n)
    out = {}
    world = sc.world
    assert isinstance(world, CreatorAudienceWorld)  # _scenario writes a creator_audience world
    for topology, g in _graphs(n, s).items():
        if topology not in topologies:
            continue
        pop = build_population(world, g, s)
        arrays, (schedule,) = compile_campaign(sc, pop)
        if engine == "numba":
            res = simulate(pop, arrays, schedule, root_key(s), np.arange(trials))
        else:
            from sim.campaign import agents

            res = agents.simulate(pop, arrays, schedule, root_key(s), np.arange(trials))
        out[topology] = res.totals[:, ck.TOTALS.index("adopters")] / n
    return out


#: Networks of their own (seed parts 10,000 + size) on which a dose scale is fitted to the clustered level.
_FIT = 10_000


def fitted_dose(synergy: float, networks: int, trials: int, seed: int = 2010,
                sizes: tuple[int, ...] = SIZES, hazard: tuple[float, ...] = HAZARD) -> float:
    """The peer dose x' making the mean final adoption on the lattices 53.77% (Brent's method).

    Fitted on lattices of their own (never the validation's); with the draws fixed, adoption rises
    with the dose, so the root is bracketed by Centola's P_1 (subcritical) and 1.
    """
    from scipy.optimize import brentq

    def gap(dose: float) -> float:
        means = [final_adoption(n, _FIT + g, trials, synergy, seed=seed, dose=dose, topologies=("clustered",))
                 ["clustered"].mean() for n in sizes for g in range(networks)]
        return float(np.mean(means)) - PUBLISHED_CLUSTERED

    lo, hi = hazard_parameters(hazard)[0], 1.0
    if gap(lo) >= 0:
        return lo
    return float(brentq(gap, lo, hi, xtol=1e-3)) if gap(hi) > 0 else hi


@dataclass(frozen=True)
class Reading:
    """Clustered vs random final adoption at one peer dose and synergy (fractions; 95% intervals over
    the (size, network) pairs' means)."""

    dose: float
    synergy: float
    clustered: Estimate
    random: Estimate
    difference: Estimate


def reading(dose: float, synergy: float, networks: int, trials: int, seed: int = 2010) -> Reading:
    """Run Centola's paired networks (every size, ``networks`` rewirings each, ``trials`` trials per pair).

    A network's trials share a seed account, so the unit of replication is the (size, network)
    pair: intervals are over the pairs' means.
    """
    c, r, d = [], [], []
    for n in SIZES:
        for g in range(networks):
            out = final_adoption(n, g, trials, synergy, seed=seed, dose=dose)
            c.append(out["clustered"].mean())
            r.append(out["random"].mean())
            d.append((out["clustered"] - out["random"]).mean())
    return Reading(dose, synergy, mean_interval(c), mean_interval(r), mean_interval(d))


@dataclass(frozen=True)
class Validation:
    """The two readings with the multiple-source weight, and the additive control (clustered level fitted)."""

    as_read: Reading
    fitted: Reading
    control: Reading

    def verdicts(self) -> list[tuple[str, str, str, str]]:
        """Rows ``(check, published, ours, PASS or MISS)``: a finding each, never a failure."""
        a, f, k = self.as_read, self.fitted, self.control
        fmt = "{:.3f}"
        return [
            ("as read: clustered farther than random", "53.77% vs 38.26%: +15.5 points", a.difference.text(fmt),
             "PASS" if a.difference.low > 0 else "MISS"),
            ("as read: clustered level", "53.77% (+-0.10)", a.clustered.text(fmt),
             "PASS" if abs(a.clustered.value - PUBLISHED_CLUSTERED) < 0.1 else "MISS"),
            ("clustered level fitted: clustered farther than random", "+15.5 points", f.difference.text(fmt),
             "PASS" if f.difference.low > 0 else "MISS"),
            ("clustered level fitted: random level", "38.26% (+-0.10)", f.random.text(fmt),
             "PASS" if abs(f.random.value - PUBLISHED_RANDOM) < 0.1 else "MISS"),
            ("control (additive doses, clustered level fitted): no clustered advantage",
             "simple contagion: random >= clustered", k.difference.text(fmt),
             "PASS" if k.difference.low <= 0 else "MISS"),
        ]


def validate(networks: int = 20, trials: int = 100, fit_networks: int = 10, fit_trials: int = 100,
             seed: int = 2010) -> Validation:
    """Both readings with the fitted synergy, and the additive control, on Centola's three sizes."""
    x, s = hazard_parameters()
    return Validation(reading(x, s, networks, trials, seed),
                      reading(fitted_dose(s, fit_networks, fit_trials, seed), s, networks, trials, seed),
                      reading(fitted_dose(0.0, fit_networks, fit_trials, seed), 0.0, networks, trials, seed))


# --------------------------------------------------------------------------- the experiment definition

class Parameters(Spec):
    """Centola's network sizes and the per-signal adoption chances read off his return-visit figure."""

    sizes: Annotated[list[Annotated[int, Field(ge=9)]], Field(min_length=1)] = list(SIZES)
    hazard: Annotated[list[Probability], Field(min_length=2)] = list(HAZARD)


class Sizes(Spec):
    """Rewired networks per size and trials per pair (checked), and the lattices and trials per lattice
    the clustered level is fitted on (their own, never the checked ones)."""

    networks: PositiveInt
    trials: PositiveInt
    fit_networks: PositiveInt
    fit_trials: PositiveInt
    engine_trials: PositiveInt = 8  #: trials of the numba-Mesa comparison (one pair of the smallest size)


class Definition(ExperimentSpec):
    """E10 definition."""

    experiment: Literal["centola_campaign"]
    parameters: Parameters = Parameters()
    full: Sizes
    quick: Sizes


#: The three readings: (name, synergy from the hazard or 0, clustered level fitted).
READINGS = (("as_read", True, False), ("fitted", True, True), ("control", False, True))


def _doses(spec: Definition, sizes: Sizes) -> pd.DataFrame:
    """The peer dose and synergy of each reading (the fits run on lattices of their own)."""
    p = spec.parameters
    hazard = tuple(p.hazard)
    x, s = hazard_parameters(hazard)
    rows = []
    for name, synergy_on, fit in READINGS:
        synergy = s if synergy_on else 0.0
        dose = fitted_dose(synergy, sizes.fit_networks, sizes.fit_trials, spec.seed, tuple(p.sizes), hazard) \
            if fit else x
        rows.append({"reading": name, "dose": dose, "synergy": synergy})
    return pd.DataFrame(rows)


def _pair(spec: Definition, sizes: Sizes, doses: pd.DataFrame, n: int, network: int) -> pd.DataFrame:
    """Final adoption per trial of every reading on one (lattice, rewired) pair."""
    rows = []
    for r in doses.itertuples():
        out = final_adoption(n, network, sizes.trials, r.synergy, seed=spec.seed, dose=r.dose)
        rows.append(pd.DataFrame({"reading": r.reading, "n": n, "network": network, "trial": np.arange(sizes.trials),
                                  "clustered": out["clustered"], "random": out["random"]}))
    return pd.concat(rows, ignore_index=True)


def _engines(spec: Definition, sizes: Sizes, doses: pd.DataFrame) -> pd.DataFrame:
    """Final adoption on numba and Mesa, every reading, one pair of the smallest size."""
    n = min(spec.parameters.sizes)
    rows = []
    for r in doses.itertuples():
        for engine in ("numba", "mesa"):
            out = final_adoption(n, 0, sizes.engine_trials, r.synergy, seed=spec.seed, dose=r.dose, engine=engine)
            for topology in TOPOLOGIES:
                rows.append(pd.DataFrame({"reading": r.reading, "engine": engine, "topology": topology,
                                          "trial": np.arange(sizes.engine_trials), "final": out[topology]}))
    return pd.concat(rows, ignore_index=True)


def readings_table(finals: pd.DataFrame, doses: pd.DataFrame) -> pd.DataFrame:
    """Per reading: dose, synergy, clustered, random and their difference (95% intervals over the
    (size, network) pairs' means: a network's trials share a seed account)."""
    pairs = finals.groupby(["reading", "n", "network"], sort=False)[["clustered", "random"]].mean().reset_index()
    pairs["difference"] = pairs.clustered - pairs.random
    rows = []
    for d in doses.itertuples():
        sub = pairs[pairs.reading == d.reading]
        row = {"reading": d.reading, "dose": d.dose, "synergy": d.synergy, "pairs": len(sub)}
        for col in ("clustered", "random", "difference"):
            e = mean_interval(sub[col].to_numpy())
            row.update({col: e.value, f"{col}_low": e.low, f"{col}_high": e.high})
        rows.append(row)
    return pd.DataFrame(rows)


def _estimate(table: pd.DataFrame, reading: str, col: str) -> Estimate:
    r = table.set_index("reading").loc[reading]
    return Estimate(float(r[col]), float(r[f"{col}_low"]), float(r[f"{col}_high"]))


def reproduce(spec: Definition, sizes: Sizes, ws: Workspace, steps: Steps) -> Report:
    """Run the validation: the three readings on Centola's paired networks, and the engines' agreement."""
    p = spec.parameters
    doses = ws.piece("doses", lambda: _doses(spec, sizes))
    finals = pieces(ws, steps, {f"n{n}_g{g}": partial(_pair, spec, sizes, doses, n, g)
                                for n in p.sizes for g in range(sizes.networks)})
    engines = ws.piece("engines", lambda: _engines(spec, sizes, doses))
    table = readings_table(finals, doses)
    wide = engines.pivot_table(index=["reading", "topology", "trial"], columns="engine", values="final")
    differ = int((wide["numba"] != wide["mesa"]).sum())
    n_of = finals.n.to_numpy()
    seedless = int(((finals.clustered.to_numpy() * n_of < 1 - 1e-9)
                    | (finals.random.to_numpy() * n_of < 1 - 1e-9)).sum())
    fmt = "{:.3f}"
    diff = {name: _estimate(table, name, "difference") for name, *_ in READINGS}
    as_read_c = _estimate(table, "as_read", "clustered")
    fitted_r = _estimate(table, "fitted", "random")
    x, s = hazard_parameters(tuple(p.hazard))
    report = Report(spec, quick=False, tables={"readings": table, "doses": doses})
    report.checks += [
        Check("seed_adopts", "the creator's one follower (the seed) adopts on day 0 in every trial", Estimate.exact(
              seedless), "trials of any reading or topology with no adopter: 0", seedless == 0, Kind.VERIFICATION,
              unit="{:.0f}"),
        Check("engines_agree", "Mesa gives the numba kernel's final adoption, trial for trial", Estimate.exact(differ),
              f"trials that differ ({sizes.engine_trials} per reading and topology, N = {min(p.sizes)}): 0",
              differ == 0, Kind.VERIFICATION, unit="{:.0f}"),
        Check("as_read_clustered_farther", "behaviour spread farther in clustered than in random networks "
              "(53.77% vs 38.26%: +15.5 points)", diff["as_read"], "mean paired difference with its 95% CI above 0 "
              f"(nothing fitted: x = {x:.3f}, s = {s:.3f})", diff["as_read"].low > 0, Kind.VALIDATION, SOURCE, fmt),
        Check("as_read_clustered_level", "clustered networks: mean final adoption 53.77%", as_read_c,
              "|ours - 0.5377| < 0.1 (the return-visit rates read as per-signal chances, as E6's return_visit_level)",
              abs(as_read_c.value - PUBLISHED_CLUSTERED) < 0.1, Kind.VALIDATION, SOURCE, fmt),
        Check("fitted_clustered_farther", "behaviour spread farther in clustered than in random networks "
              "(+15.5 points)", diff["fitted"], "mean paired difference with its 95% CI above 0 (predicted: the "
              "peer dose is fitted on the clustered level, the gap is not)", diff["fitted"].low > 0, Kind.VALIDATION,
              SOURCE, fmt),
        Check("fitted_random_level", "random networks: mean final adoption 38.26%", fitted_r,
              "|ours - 0.3826| < 0.05 (a prediction once the clustered level is fitted; E6's random_level)",
              abs(fitted_r.value - PUBLISHED_RANDOM) < 0.05, Kind.VALIDATION, SOURCE, fmt),
        Check("control_no_clustered_advantage", "simple contagion (additive doses, s = 0): random networks spread "
              "at least as far", diff["control"], "clustered - random: 95% CI not above 0 (clustered level fitted)",
              diff["control"].low <= 0, Kind.VALIDATION, CONTROL_SOURCE, fmt),
    ]
    report.figures["readings"] = figure(table, sizes)
    return report


def figure(table: pd.DataFrame, sizes: Sizes) -> Figure:
    """Clustered and random final adoption per reading (95% intervals), against Centola's levels."""
    fig = Figure(figsize=(7.0, 4.0))
    ax = fig.subplots()
    x = np.arange(len(table))
    for k, (topology, shift) in enumerate((("clustered", -0.2), ("random", 0.2))):
        mid = table[topology].to_numpy()
        err = np.vstack([mid - table[f"{topology}_low"].to_numpy(), table[f"{topology}_high"].to_numpy() - mid])
        ax.bar(x + shift, mid, 0.4, yerr=err, capsize=3, color=f"C{k}", label=f"{topology} (ours)")
    ax.axhline(PUBLISHED_CLUSTERED, color="C0", ls=":", lw=1, label="clustered, published 53.8%")
    ax.axhline(PUBLISHED_RANDOM, color="C1", ls=":", lw=1, label="random, published 38.3%")
    labels = {"as_read": "as read\n(nothing fitted)", "fitted": "clustered level\nfitted",
              "control": "control: additive\n(s = 0, fitted)"}
    ax.set_xticks(x, [f"{labels.get(r, r)}\nx = {d:.3f}, s = {s:.2f}" for r, d, s in
                      zip(table.reading, table.dose, table.synergy, strict=True)], fontsize="small")
    ax.set_ylabel("mean final adoption")
    ax.set_title(f"Centola (2010) inside the campaign model: {sizes.networks} networks x {sizes.trials} trials "
                 "per N", fontsize="medium")
    ax.legend(frameon=False, fontsize="x-small")
    fig.tight_layout()
    return fig


def main(argv: list[str] | None = None) -> int:
    """Command line: run the comparison and print it (``python -m sim.experiments.centola_campaign``)."""
    ap = argparse.ArgumentParser(prog="python -m sim.experiments.centola_campaign",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--networks", type=int, default=20, help="rewired networks per size (default 20)")
    ap.add_argument("--trials", type=int, default=100, help="trials per network pair (default 100)")
    ap.add_argument("--fit-networks", type=int, default=10, help="lattices per size the dose scale is fitted on")
    ap.add_argument("--fit-trials", type=int, default=100, help="trials per fitting lattice")
    ap.add_argument("--seed", type=int, default=2010)
    args = ap.parse_args(argv)
    x, s = hazard_parameters()
    print(f"peer dose x = {x:.3f} (theta 1), synergy s = {s:.3f}, cap 3: P_k = "
          + ", ".join(f"{min(1.0, k ** (1 + s) * x):.3f}" for k in (1, 2, 3)) + " (Centola, as read: "
          + ", ".join(f"{p:.3f}" for p in 1.0 - np.cumprod(1.0 - np.asarray(HAZARD))) + ")")
    v = validate(args.networks, args.trials, args.fit_networks, args.fit_trials, args.seed)
    print(f"doses: as read {v.as_read.dose:.3f}; fitted to the clustered level {v.fitted.dose:.3f} "
          f"(synergy {v.fitted.synergy:.3f}), {v.control.dose:.3f} (control, synergy 0)")
    for name, r in (("as read", v.as_read), ("fitted", v.fitted), ("control", v.control)):
        print(f"  {name:<8} clustered {r.clustered.text('{:.3f}')}, random {r.random.text('{:.3f}')}")
    width = max(len(r[0]) for r in v.verdicts())
    for check, published, ours, verdict in v.verdicts():
        print(f"{check:<{width}}  {verdict:<4}  ours {ours}  (published {published})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
