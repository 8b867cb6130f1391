"""Global sensitivity of outcomes to the uncertainties: SALib's Sobol' and Morris analyses.

SALib's split is kept (Herman & Usher 2017): :func:`sim.input.design.sample` makes the
points, the runner runs them, :func:`analyze` turns one output per point into indices. The
output of a point is an outcome's mean over the point's trials; every point runs on the same
random numbers (:mod:`sim.input.design`), so it is a deterministic function of the uncertain
values and the indices apportion its variance across them, not Monte Carlo noise.

* Sobol' (first-order ``S1`` and total ``ST``; Saltelli 2002, Saltelli et al. 2010 estimators;
  95% confidence intervals by SALib's bootstrap).
* Morris elementary effects (``mu_star``, the mean absolute effect, Campolongo, Cariboni &
  Saltelli 2007; ``sigma``, their spread; ``mu_star`` has a bootstrap 95% interval), in outcome
  units per full range of the uncertainty.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from sim.input.design import Design, design_seed, salib_problem
from sim.input.sweep import DesignKind, SweepSpec
from sim.results.summary import RATIO_OUTCOMES

#: Columns of an indices table.
INDEX_COLUMNS = ("method", "parameter", "index", "value", "ci95_low", "ci95_high")

_RESAMPLES = 500


def analyze(spec: SweepSpec, matrix: np.ndarray, output: np.ndarray, seed: int) -> pd.DataFrame:
    """Sensitivity indices of one output per point.

    Parameters
    ----------
    spec : SweepSpec
        A ``sobol`` or ``morris`` sweep.
    matrix : float64[points, D]
        The sample (:func:`sim.input.design.sample`), rows in point order.
    output : float64[points]
        The model's output at each point.
    seed : int
        The run's root seed (the bootstrap draws from stream ``DESIGN``).

    Returns
    -------
    DataFrame
        :data:`INDEX_COLUMNS`; an output that does not vary gives NaN indices.
    """
    from SALib.analyze import morris, sobol

    problem = salib_problem(spec)
    output = np.asarray(output, dtype=np.float64)
    names = problem["names"]
    rows = []
    flat = not np.isfinite(output).all() or np.ptp(output) == 0
    s = design_seed(seed) + 1
    if spec.design is DesignKind.SOBOL:
        if flat:
            si = {k: np.full(len(names), np.nan) for k in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                si = sobol.analyze(problem, output, calc_second_order=False, num_resamples=_RESAMPLES,
                                   conf_level=0.95, seed=s)
        for i, name in enumerate(names):
            for index in ("S1", "ST"):
                v, c = float(si[index][i]), float(si[f"{index}_conf"][i])
                rows.append(("sobol", name, index, v, v - c, v + c))
    elif spec.design is DesignKind.MORRIS:
        if flat:
            si = {k: np.full(len(names), np.nan) for k in ("mu_star", "mu_star_conf", "sigma", "mu")}
        else:
            si = morris.analyze(problem, np.asarray(matrix, dtype=np.float64), output, num_resamples=_RESAMPLES,
                                conf_level=0.95, num_levels=spec.morris_levels, seed=s)
        for i, name in enumerate(names):
            v, c = float(si["mu_star"][i]), float(si["mu_star_conf"][i])
            rows.append(("morris", name, "mu_star", v, v - c, v + c))
            rows.append(("morris", name, "sigma", float(si["sigma"][i]), np.nan, np.nan))
            rows.append(("morris", name, "mu", float(si["mu"][i]), np.nan, np.nan))
    else:
        raise ValueError(f"sensitivity indices need a sobol or morris design, not {spec.design.value}")
    return pd.DataFrame(rows, columns=list(INDEX_COLUMNS))


def point_means(table: pd.DataFrame, strategy: str, outcome: str, points: int) -> np.ndarray:
    """One strategy's outcome per point: the mean over trials (ratio outcomes: cost / mean count)."""
    sub = table[table["strategy"] == strategy]
    if outcome in RATIO_OUTCOMES:
        g = sub.groupby("point")
        with np.errstate(divide="ignore", invalid="ignore"):
            means = g["cost"].mean() / g[RATIO_OUTCOMES[outcome]].mean()
    else:
        means = sub.groupby("point")[outcome].mean()
    return means.reindex(range(points)).to_numpy(np.float64)


def indices(design: Design, table: pd.DataFrame, strategies: list[str]) -> pd.DataFrame:
    """Indices of every outcome the sweep names, for every strategy.

    Returns
    -------
    DataFrame
        ``strategy``, ``outcome``, then :data:`INDEX_COLUMNS`.

    Raises
    ------
    ValueError
        If an outcome the sweep asks for is not a column of the trial table.
    """
    spec, matrix = design.spec, design.matrix
    # Called for Sobol and Morris sweeps only: a sweep block, and points sampled from its ranges.
    assert spec is not None and matrix is not None
    known = set(table.columns) | set(RATIO_OUTCOMES)
    for outcome in spec.outcomes:
        if outcome not in known:
            outcomes = ", ".join(c for c in table.columns if c not in ("point", "strategy", "trial"))
            raise ValueError(f"sweep.outcomes: '{outcome}' is not an outcome of this run (outcomes: {outcomes})")
    scenario = design.points[0].scenario
    frames = []
    for name in strategies:
        for outcome in spec.outcomes:
            y = point_means(table, name, outcome, len(design.points))
            frames.append(analyze(spec, matrix, y, scenario.seed).assign(strategy=name, outcome=outcome))
    out = pd.concat(frames, ignore_index=True)
    return out[["strategy", "outcome", *INDEX_COLUMNS]]
