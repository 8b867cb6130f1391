"""Figures of a run, drawn on plain :class:`matplotlib.figure.Figure` objects.

No pyplot: figures are not registered in a global state machine, so drawing is
thread-safe and independent of the interactive backend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def final_size_figure(table: pd.DataFrame, strategies: list[str], accounts: int) -> Figure:
    """Distribution of the final number of adopters per strategy.

    Parameters
    ----------
    table : DataFrame
        The trial table (``strategy``, ``adopted``).
    strategies : list of str
        Strategies to draw, in legend order.
    accounts : int
        Accounts in the world (for the fraction axis).
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
    ax.set_xlabel("final adopters per trial (recruits included)")
    ax.set_ylabel("trials")
    ax.set_title(f"Final cascade size, {len(table) // max(len(strategies), 1):,} trials per strategy, "
                 f"{accounts:,} accounts")
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig
