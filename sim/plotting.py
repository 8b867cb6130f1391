"""Figures of a run, drawn on plain :class:`matplotlib.figure.Figure` objects.

No pyplot: figures are not registered in a global state machine, so drawing is
thread-safe and independent of the interactive backend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


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
        half = 1.96 * cum.std(axis=0, ddof=1) / np.sqrt(len(cum)) if len(cum) > 1 else np.zeros_like(mean)
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
            errs = [1.96 * np.nan_to_num(sub[f"{stage}_sem"].get(k, 0.0)) for k in keys]
            ax.bar(np.arange(len(keys)) + i * width, means, width, yerr=errs, label=name, capsize=2)
        ax.set_xticks(np.arange(len(keys)) + width * (len(strategies) - 1) / 2, keys)
        ax.set_yscale("symlog")
        ax.set_title(stage)
    axes[0].set_ylabel("per trial (real accounts)")
    axes[-1].legend(frameon=False, fontsize="small")
    fig.suptitle("Funnel by partner tier: reach -> engagement -> adoption")
    fig.tight_layout()
    return fig
