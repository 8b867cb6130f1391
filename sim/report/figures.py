"""Figures of a run, drawn on plain :class:`matplotlib.figure.Figure` objects.

No pyplot: figures are not registered in a global state machine, so drawing is
thread-safe and independent of the interactive backend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.base.stats import Z95


def final_size_figure(table: pd.DataFrame, strategies: list[str], accounts: float,
                      xlabel: str = "final adopters per trial (recruits included)") -> Figure:
    """Distribution of the final number of adopters per strategy.

    Parameters
    ----------
    table : DataFrame
        The trial table (``strategy``, ``adopted``).
    strategies : list of str
        Strategies to draw, in legend order.
    accounts : float
        Accounts in the world (for the fractions in the legend).
    xlabel : str
        What ``adopted`` counts.
    """
    fig = Figure(figsize=(7, 4.2))
    ax = fig.add_subplot()
    top = max(int(table["adopted"].max()), 1) if len(table) else 1
    # Log-spaced bins: cascade sizes span orders of magnitude (a few recruits to most of the graph).
    bins = np.unique(np.round(np.geomspace(1, top + 1, 40)).astype(int))
    if len(bins) < 2:
        bins = np.array([1, 2])
    for name in strategies:
        sizes = table.loc[table["strategy"] == name, "adopted"].to_numpy()
        mean = sizes.mean() if len(sizes) else float("nan")
        ax.hist(sizes, bins=bins, histtype="step", linewidth=1.6, density=False,
                label=f"{name} (mean {mean:,.1f} = {mean / accounts:.2%})")
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("trials")
    ax.set_title(f"Final cascade size, {len(table) // max(len(strategies), 1):,} trials per strategy, "
                 f"{accounts:,} accounts")
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def adoption_over_time_figure(timeseries: pd.DataFrame, strategies: list[str]) -> Figure:
    """Mean cumulative adopters per day with a 95% band (normal approximation), per strategy."""
    fig = Figure(figsize=(7, 4.2))
    ax = fig.add_subplot()
    for name in strategies:
        sub = timeseries[timeseries["strategy"] == name]
        wide = sub.pivot(index="trial", columns="day", values="adopters").sort_index(axis=1)
        cum = wide.cumsum(axis=1).to_numpy(dtype=float)
        days = wide.columns.to_numpy()
        mean = cum.mean(axis=0)
        half = Z95 * cum.std(axis=0, ddof=1) / np.sqrt(len(cum)) if len(cum) > 1 else np.zeros_like(mean)
        (line,) = ax.plot(days, mean, label=name, linewidth=1.8)
        ax.fill_between(days, mean - half, mean + half, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("day of campaign")
    ax.set_ylabel("cumulative adopters (real accounts)")
    ax.set_title("Adoption over time (mean, 95% CI)")
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def funnel_figure(splits: pd.DataFrame, strategies: list[str]) -> Figure:
    """Funnel by tier: attributed impressions, engagements and adopters per trial, per strategy."""
    tiers = splits[splits["split"] == "tier"]
    stages = ("impressions", "engagements", "adopters")
    fig = Figure(figsize=(3.2 * len(stages), 4.0))
    axes = fig.subplots(1, len(stages), squeeze=False)[0]
    keys = sorted(tiers["key"].unique())
    width = 0.8 / max(len(strategies), 1)
    for ax, stage in zip(axes, stages, strict=True):
        for i, name in enumerate(strategies):
            sub = tiers[tiers["strategy"] == name].set_index("key")
            means = [sub[f"{stage}_mean"].get(k, 0.0) for k in keys]
            errs = [Z95 * np.nan_to_num(sub[f"{stage}_sem"].get(k, 0.0)) for k in keys]
            ax.bar(np.arange(len(keys)) + i * width, means, width, yerr=errs, label=name, capsize=2)
        ax.set_xticks(np.arange(len(keys)) + width * (len(strategies) - 1) / 2, keys)
        ax.set_yscale("symlog")
        ax.set_title(stage)
    axes[0].set_ylabel("per trial (real accounts)")
    axes[-1].legend(frameon=False, fontsize="small")
    fig.suptitle("Funnel by partner tier: reach -> engagement -> adoption")
    fig.tight_layout()
    return fig


def _point_title(values: dict) -> str:
    return ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}" for k, v in values.items())


def frontier_figure(table: pd.DataFrame, labels: list[str], most_panels: int = 6) -> Figure:
    """Mean adopters (95% CI) against cost per strategy, the Pareto frontier joined, one panel per point.

    Parameters
    ----------
    table : DataFrame
        :meth:`sim.results.Results.strategy_table` (with ``point`` and the uncertainty columns
        for sweeps).
    labels : list of str
        The sweep's uncertainty labels (empty without a sweep).
    most_panels : int
        With more points than this, one panel of the means over points (frontier recomputed).
    """
    from sim.results.summary import pareto_frontier

    if "point" not in table.columns:
        panels = [("", table)]
    elif table["point"].nunique() <= most_panels:
        panels = [(_point_title({k: g[k].iloc[0] for k in labels}), g) for _, g in table.groupby("point", sort=True)]
    else:
        mean = table.groupby("strategy", sort=False)[["cost", "adopted", "adopted_ci95_low",
                                                      "adopted_ci95_high"]].mean().reset_index()
        mean["on_frontier"] = pareto_frontier(mean["cost"].to_numpy(), mean["adopted"].to_numpy())
        panels = [(f"means over {table['point'].nunique()} points", mean)]
    fig = Figure(figsize=(min(4.6 * len(panels), 14), 4.4))
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    families = sorted({s.split(".")[0] for s in table["strategy"]})
    colors = {f: f"C{i % 10}" for i, f in enumerate(families)}
    for ax, (title, g) in zip(axes, panels, strict=True):
        for fam in families:
            sub = g[g["strategy"].str.split(".").str[0] == fam]
            err = np.vstack([sub["adopted"] - sub["adopted_ci95_low"], sub["adopted_ci95_high"] - sub["adopted"]])
            ax.errorbar(sub["cost"], sub["adopted"], yerr=np.nan_to_num(err), fmt="o", ms=5, capsize=2,
                        color=colors[fam], label=fam)
        front = g[g["on_frontier"]].sort_values("cost")
        ax.plot(front["cost"], front["adopted"], "-", color="0.3", linewidth=1, zorder=0)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"${x / 1000:,.0f}k"))
        ax.set_xlabel("cost (USD)")
        ax.set_title(title, fontsize="medium")
    axes[0].set_ylabel("adopters per campaign (mean, 95% CI)")
    axes[-1].legend(frameon=False, fontsize="small", title="strategy", title_fontsize="small")
    fig.suptitle("Adopters vs cost; the line joins the Pareto frontier (nothing cheaper does better)")
    fig.tight_layout()
    return fig


def sensitivity_figure(indices: pd.DataFrame) -> Figure:
    """Heat map of total Sobol' indices (or Morris mu*) per strategy and uncertainty, first outcome."""
    outcome = indices["outcome"].iloc[0]
    index = "ST" if (indices["index"] == "ST").any() else "mu_star"
    sub = indices[(indices["outcome"] == outcome) & (indices["index"] == index)]
    wide = sub.pivot(index="strategy", columns="parameter", values="value")
    wide = wide.reindex(index=list(dict.fromkeys(sub["strategy"])), columns=list(dict.fromkeys(sub["parameter"])))
    fig = Figure(figsize=(2.0 + 1.3 * wide.shape[1], 1.2 + 0.28 * wide.shape[0]))
    ax = fig.add_subplot()
    im = ax.imshow(wide.to_numpy(dtype=float), aspect="auto", cmap="viridis",
                   vmin=0, vmax=1 if index == "ST" else None)
    ax.set_xticks(range(wide.shape[1]), wide.columns, rotation=30, ha="right")
    ax.set_yticks(range(wide.shape[0]), wide.index, fontsize="small")
    fig.colorbar(im, ax=ax, label="total Sobol' index" if index == "ST" else "Morris mu* (outcome units)")
    ax.set_title(f"Sensitivity of {outcome} to each uncertainty")
    fig.tight_layout()
    return fig
