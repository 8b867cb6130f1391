"""The summary of a run: per (point, strategy) means with intervals, paired differences, costs per outcome.

Every strategy runs on the same trial numbers, and trial ``t`` of two strategies shares every
random number that does not depend on the strategy (common random numbers), so the difference
of two strategies is estimated trial by trial: its standard error is that of the per-trial
differences, usually far below what two independent samples give (Glasserman & Yao 1992;
Law 2015, *Simulation Modeling and Analysis*, §11.2).

Intervals are Student-t 95% intervals over trials. Cost per engagement and cost per adopter
are ratios of means, ``cost / mean(engagements)``: the price of an expected outcome, which is
what a planner buys (a mean of per-trial ratios would be biased up by trials with few
adopters and undefined in trials with none). Cost is the same in every trial of a strategy at
a point, so the ratio's interval is the mean's interval mapped through ``cost / x``; the
paired difference of two ratios is estimated by the delta method with the trials' covariance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.base.stats import mean_interval, paired_ratio_difference, ratio_of_mean

#: Outcomes reported as ratios of means: outcome -> the count in the denominator.
RATIO_OUTCOMES = {"cost_per_engagement": "engagements", "cost_per_adopter": "adopted"}

#: Columns of :func:`summarize`'s table after the ``point`` column (present for sweeps).
SUMMARY_COLUMNS = ("strategy", "outcome", "trials", "mean", "sem", "ci95_low", "ci95_high", "baseline",
                   "diff_mean", "diff_sem", "diff_ci95_low", "diff_ci95_high")


def _mean_row(x: np.ndarray) -> tuple[int, float, float, float, float]:
    return mean_interval(x).as_tuple()


def ratio_row(cost: float, x: np.ndarray) -> tuple[int, float, float, float, float]:
    """``cost / mean(x)`` (e.g. USD per adopter): values used, the ratio, its delta-method standard
    error, and the mean's Student-t 95% interval mapped through cost / x (NaN when mean <= 0;
    :func:`sim.base.stats.ratio_of_mean`)."""
    return ratio_of_mean(cost, x).as_tuple()


def summarize(table: pd.DataFrame, strategies: Sequence[str], outcomes: Sequence[str],
              baseline: str | None = None) -> pd.DataFrame:
    """Per (point,) strategy and outcome: trials, mean, standard error, 95% CI, and the paired
    difference to ``baseline`` (mean, standard error, 95% CI).

    Parameters
    ----------
    table : DataFrame
        The trial table: ``strategy``, ``trial``, the outcomes, and ``point`` for sweeps.
    strategies : sequence of str
        Strategy names in the order to report them.
    outcomes : sequence of str
        Columns to summarise. Missing values are left out of an outcome's statistics
        (``trials`` counts the values used); :data:`RATIO_OUTCOMES` are ratios of means.
    baseline : str, optional
        Strategy the differences are taken against (default: the first); its own rows have
        no difference.

    Returns
    -------
    DataFrame
        Columns ``point`` (sweeps only), then :data:`SUMMARY_COLUMNS`.
    """
    baseline = baseline or strategies[0]
    has_point = "point" in table.columns
    keys = ["point", "strategy"] if has_point else ["strategy"]
    # One pass over the table: the rows of every (point, strategy) in trial order.
    ordered = table.sort_values([*keys, "trial"], kind="stable") if len(table) else table
    columns = {c: ordered[c].to_numpy(np.float64) for c in {*outcomes, *RATIO_OUTCOMES.values(), "cost"}
               if c in ordered.columns and c not in RATIO_OUTCOMES}
    trial = ordered["trial"].to_numpy()
    groups = ordered.groupby(keys, sort=False, observed=True).indices
    points = sorted(ordered["point"].unique()) if has_point else [None]
    rows = []
    for point in points:
        def rows_of(name: str, point=point):
            return groups.get((point, name) if has_point else name)

        base = rows_of(baseline)
        for name in strategies:
            sub = rows_of(name)
            if sub is None:
                continue
            paired = base is not None and name != baseline and np.array_equal(trial[sub], trial[base])
            for col in outcomes:
                if col in RATIO_OUTCOMES:
                    x = columns[RATIO_OUTCOMES[col]][sub]
                    cost = float(columns["cost"][sub[0]]) if len(sub) else math.nan
                    stat = ratio_row(cost, x)
                    diff = (paired_ratio_difference(cost, x, float(columns["cost"][base[0]]),
                                                    columns[RATIO_OUTCOMES[col]][base])
                            if paired else (math.nan,) * 4)
                else:
                    x = columns[col][sub]
                    stat = _mean_row(x)
                    if paired:
                        _, dm, ds, dlo, dhi = _mean_row(x - columns[col][base])
                        diff = (dm, ds, dlo, dhi)
                    else:
                        diff = (math.nan,) * 4
                row = {"point": point} if has_point else {}
                row.update(zip(SUMMARY_COLUMNS, (name, col, *stat, baseline, *diff), strict=True))
                rows.append(row)
    names = (["point"] if has_point else []) + list(SUMMARY_COLUMNS)
    return pd.DataFrame(rows, columns=names)


def pareto_frontier(cost: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Which options are not dominated: no other costs no more and yields at least as much, one of
    the two strictly. Equal options are all on the frontier.

    Parameters
    ----------
    cost, value : float arrays of the same length
        E.g. USD spent and mean adopters per strategy.

    Returns
    -------
    bool array
    """
    cost = np.asarray(cost, dtype=np.float64)
    value = np.asarray(value, dtype=np.float64)
    out = np.ones(len(cost), dtype=bool)
    for i in range(len(cost)):
        dominated = (cost <= cost[i]) & (value >= value[i]) & ((cost < cost[i]) | (value > value[i]))
        out[i] = not dominated.any() and not math.isnan(value[i])
    return out


def strategy_table(summary: pd.DataFrame, points: pd.DataFrame | None = None) -> pd.DataFrame:
    """The planner's table: one row per (point,) strategy, from a campaign run's summary.

    Columns: cost; adopters (mean and 95% CI); adopters' paired difference to the baseline
    (mean and 95% CI); reach and engagements (means); when the summary has them, engagers,
    adopters that had / had not engaged, clickers and adopters that had clicked (means); cost
    per engagement and per adopter (with the adopters-based 95% CI); ``on_frontier`` (not
    dominated in cost vs adopters at its point). With ``points`` (the sweep's point values), those columns come first.
    """
    key = ["point", "strategy"] if "point" in summary.columns else ["strategy"]
    s = summary.set_index([*key, "outcome"])

    def col(outcome: str, field: str) -> pd.Series:
        return s.xs(outcome, level="outcome")[field]

    outcomes = set(s.index.get_level_values("outcome"))
    # The action funnel (results layout 4 on): who engaged, and adopters split by whether they had;
    # (layout 6 on) who clicked through to the action page, and adopters that had clicked.
    funnel = {c: col(c, "mean") for c in ("engagers", "adopters_engaged", "adopters_unengaged", "clickers",
                                          "adopters_clicked") if c in outcomes}
    out = pd.DataFrame({
        "cost": col("cost", "mean"),
        "adopted": col("adopted", "mean"),
        "adopted_ci95_low": col("adopted", "ci95_low"),
        "adopted_ci95_high": col("adopted", "ci95_high"),
        "baseline": col("adopted", "baseline"),
        "adopted_vs_baseline": col("adopted", "diff_mean"),
        "adopted_vs_baseline_ci95_low": col("adopted", "diff_ci95_low"),
        "adopted_vs_baseline_ci95_high": col("adopted", "diff_ci95_high"),
        "reach": col("reach", "mean"),
        "engagements": col("engagements", "mean"),
        **funnel,
        "cost_per_engagement": col("cost_per_engagement", "mean"),
        "cost_per_adopter": col("cost_per_adopter", "mean"),
        "cost_per_adopter_ci95_low": col("cost_per_adopter", "ci95_low"),
        "cost_per_adopter_ci95_high": col("cost_per_adopter", "ci95_high"),
    }).reset_index()
    groups = out.groupby("point", sort=False).indices.values() if "point" in out.columns else [np.arange(len(out))]
    frontier = np.zeros(len(out), dtype=bool)
    for idx in groups:
        idx = np.asarray(idx)
        frontier[idx] = pareto_frontier(out["cost"].to_numpy()[idx], out["adopted"].to_numpy()[idx])
    out["on_frontier"] = frontier
    if points is not None and "point" in out.columns:
        out = points.merge(out, on="point", how="right")
    return out
