"""Figures of a run, drawn on plain :class:`matplotlib.figure.Figure` objects.

No pyplot: figures are not registered in a global state machine, so drawing is
thread-safe and independent of the interactive backend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.base import fmt
from sim.base.stats import Z95

#: Markers for schedules (burst, ambassador, ...), in order of first appearance.
_MARKERS = "osD^vP*X<>"
#: Line styles telling strategies of one family apart in line and bar charts.
_DASHES = ["-", "--", ":", "-."]
_HATCHES = ["", "//", "..", "xx", "\\\\", "++"]


#: Names the optimizer gives its plan among a run's strategies (sim.cli.optimize).
OPTIMIZER_NAMES = ("optimized", "optimized_plan", "optimizer")


def family(name: str) -> str:
    """A strategy's family: its mix for grid strategies (``micro.ambassador.150k`` -> ``micro``), else its name."""
    return name.split(".")[0]


def schedule_of(name: str) -> str | None:
    """A grid strategy's schedule (``micro.ambassador.150k`` -> ``ambassador``), else None."""
    parts = name.split(".")
    return parts[1] if len(parts) >= 3 else None


def family_colors(strategies) -> dict[str, str]:
    """One colour per strategy family, the same in every figure of a run: families take the
    colour cycle in the order they first appear among ``strategies`` (scenario order)."""
    families = [f for f in dict.fromkeys(family(s) for s in strategies) if f not in OPTIMIZER_NAMES]
    colors = {f: f"C{i % 10}" for i, f in enumerate(families)}
    # The optimizer's plan is black, so a run's families keep the colours they have without it.
    colors.update({f: "black" for f in dict.fromkeys(family(s) for s in strategies) if f in OPTIMIZER_NAMES})
    return colors


def _variant(strategies: list[str], name: str) -> int:
    """How many strategies of ``name``'s family come before it among ``strategies``."""
    fam = family(name)
    return [s for s in strategies if family(s) == fam].index(name)


def _people(x, _=None) -> str:
    """Axis ticks of counts of people: ``500k``, ``1.5M``, ``40``."""
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}"


def final_size_figure(table: pd.DataFrame, strategies: list[str], accounts: float,
                      xlabel: str = "final adopters per trial (recruits included)",
                      colors: dict[str, str] | None = None) -> Figure:
    """Distribution of the final number of adopters per strategy (Monte Carlo spread).

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
    colors : dict, optional
        Family -> colour (:func:`family_colors` of the run's strategies).
    """
    colors = colors or family_colors(strategies)
    fig = Figure(figsize=(10, 4.6))
    ax = fig.add_subplot()
    shown = table[table["strategy"].isin(strategies)]
    sizes = {name: shown.loc[shown["strategy"] == name, "adopted"].to_numpy(np.float64) for name in strategies}
    values = np.concatenate([v for v in sizes.values() if len(v)]) if len(shown) else np.zeros(1)
    lo, hi = float(values.min()), float(values.max())
    # A log axis only when the sizes span orders of magnitude (cascades from a few recruits to most
    # of the graph); otherwise bins over the data's own range, so the data fill the axis.
    log = lo > 0 and hi / lo > 50
    if log:
        bins = np.geomspace(lo, hi * 1.001, 40)
    else:
        span = max(hi - lo, 1.0)
        bins = np.linspace(lo - 0.02 * span, hi + 0.02 * span, 40)
    counts = {len(v) for v in sizes.values()}
    for name in strategies:
        x = sizes[name]
        mean = x.mean() if len(x) else float("nan")
        # matplotlib's stubs type bins as int | Sequence[float] | str; an array of edges is documented and works
        ax.hist(x, bins=bins, histtype="step", linewidth=1.6, color=colors[family(name)],  # type: ignore[arg-type]
                linestyle=_DASHES[_variant(strategies, name) % len(_DASHES)],
                label=f"{name} (mean {fmt.count(mean)} = {fmt.share(mean / accounts)})")
    if log:
        ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(_people))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("trials")
    per = f"{counts.pop():,} trials per strategy" if len(counts) == 1 else "trials per strategy vary"
    ax.set_title(f"Sign-ups per trial: {per}, {fmt.count(accounts)} people")
    ax.legend(frameon=False, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def adoption_over_time_figure(timeseries: pd.DataFrame, strategies: list[str],
                              colors: dict[str, str] | None = None) -> Figure:
    """Mean cumulative adopters per day with a 95% band (normal approximation), per strategy."""
    colors = colors or family_colors(strategies)
    fig = Figure(figsize=(10, 4.6))
    ax = fig.add_subplot()
    for name in strategies:
        sub = timeseries[timeseries["strategy"] == name]
        wide = sub.pivot(index="trial", columns="day", values="adopters").sort_index(axis=1)
        cum = wide.cumsum(axis=1).to_numpy(dtype=float)
        days = wide.columns.to_numpy()
        mean = cum.mean(axis=0)
        half = Z95 * cum.std(axis=0, ddof=1) / np.sqrt(len(cum)) if len(cum) > 1 else np.zeros_like(mean)
        color = colors[family(name)]
        ax.plot(days, mean, label=name, linewidth=1.8, color=color,
                linestyle=_DASHES[_variant(strategies, name) % len(_DASHES)])
        ax.fill_between(days, mean - half, mean + half, color=color, alpha=0.2, linewidth=0)
    ax.yaxis.set_major_formatter(FuncFormatter(_people))
    ax.set_xlabel("day of campaign")
    ax.set_ylabel("cumulative sign-ups (people)")
    ax.set_title("Sign-ups over time (mean, 95% CI)")
    ax.legend(frameon=False, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def funnel_figure(splits: pd.DataFrame, strategies: list[str], colors: dict[str, str] | None = None) -> Figure:
    """Funnel by tier: attributed impressions, engagements and adopters per trial, per strategy.

    Bars are coloured by strategy family and hatched to tell a family's strategies apart; the
    legend sits below the panels, and the log axis leaves room above the tallest bar.
    """
    colors = colors or family_colors(strategies)
    tiers = splits[splits["split"] == "tier"]
    stages = ("impressions", "engagements", "adopters")
    fig = Figure(figsize=(3.4 * len(stages), 4.6))
    axes = fig.subplots(1, len(stages), squeeze=False)[0]
    keys = sorted(tiers["key"].unique())
    width = 0.8 / max(len(strategies), 1)
    for ax, stage in zip(axes, stages, strict=True):
        top, bottom = 0.0, np.inf
        for i, name in enumerate(strategies):
            sub = tiers[tiers["strategy"] == name].set_index("key")
            means = np.array([sub[f"{stage}_mean"].get(k, 0.0) for k in keys], dtype=float)
            errs = [Z95 * np.nan_to_num(sub[f"{stage}_sem"].get(k, 0.0)) for k in keys]
            ax.bar(np.arange(len(keys)) + i * width, means, width, yerr=errs, capsize=2,
                   color=colors[family(name)], edgecolor="white",
                   hatch=_HATCHES[_variant(strategies, name) % len(_HATCHES)], label=name)
            if (means > 0).any():
                top = max(top, means.max())
                bottom = min(bottom, means[means > 0].min())
        ax.set_xticks(np.arange(len(keys)) + width * (len(strategies) - 1) / 2, keys)
        if top > 0:
            ax.set_yscale("log")
            ax.set_ylim(bottom / 3, top * 4)  # headroom: the tallest bar and its error bar stay inside
        ax.yaxis.set_major_formatter(FuncFormatter(_people))
        ax.set_title(stage.replace("adopters", "sign-ups"))
    axes[0].set_ylabel("per campaign (people, log scale)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, max(1, len(labels))), frameon=False,
               fontsize="small", bbox_to_anchor=(0.5, 0.0))
    fig.suptitle("Funnel by partner tier: reach -> engagement -> sign-up")
    rows = -(-len(labels) // 4)
    fig.tight_layout(rect=(0, 0.06 * rows + 0.02, 1, 1))
    return fig


def frontier_figure(table: pd.DataFrame, labels: list[str], decision=None, colors: dict[str, str] | None = None,
                    optimized: str | None = None) -> Figure:
    """Expected sign-ups against spend, one point per strategy, legible at any number of assumption points.

    Each strategy is drawn once: its expected sign-ups over the assumption points (weighted, as
    the decision takes them) with a bar from the 10th to the 90th percentile across the points;
    colour is the strategy's family (its mix of creators), the marker its schedule. The line joins
    the Pareto frontier of the expected values (nothing cheaper gets more); the recommendation is
    ringed.

    Parameters
    ----------
    table : DataFrame
        :meth:`sim.results.Results.strategy_table` (with ``point`` for sweeps).
    labels : list of str
        The sweep's uncertainty labels (empty without a sweep), for the subtitle.
    decision : Decision, optional
        Gives the weights, percentiles and the recommendation (default: equal weights over points).
    colors : dict, optional
        Family -> colour (:func:`family_colors`).
    optimized : str, optional
        The optimizer's plan among the strategies (drawn as a star).
    """
    from sim.results.summary import pareto_frontier

    names = list(dict.fromkeys(table["strategy"]))
    colors = colors or family_colors(names)
    if decision is not None:
        stats = decision.table.set_index("strategy").reindex(names)
        x, y = stats["cost"].to_numpy(), stats["adopters_mean"].to_numpy()
        lo, hi = stats["adopters_p10"].to_numpy(), stats["adopters_p90"].to_numpy()
        points = decision.points.n
    else:
        g = table.groupby("strategy", sort=False)
        x = g["cost"].mean().reindex(names).to_numpy()
        y = g["adopted"].mean().reindex(names).to_numpy()
        lo = g["adopted"].quantile(0.1).reindex(names).to_numpy()
        hi = g["adopted"].quantile(0.9).reindex(names).to_numpy()
        points = table["point"].nunique() if "point" in table.columns else 1
    schedules = list(dict.fromkeys(s for s in map(schedule_of, names) if s is not None))
    marker: dict[str | None, str] = {s: _MARKERS[i % len(_MARKERS)] for i, s in enumerate(schedules)}
    fig = Figure(figsize=(9.5, 5.2))
    ax = fig.add_subplot()
    for i, name in enumerate(names):
        m = "*" if name == optimized else marker.get(schedule_of(name), "o")
        ax.errorbar(x[i], y[i], yerr=[[max(y[i] - lo[i], 0)], [max(hi[i] - y[i], 0)]] if points > 1 else None,
                    fmt=m, ms=12 if name == optimized else 7, capsize=2, color=colors[family(name)],
                    markeredgecolor="black" if name == optimized else colors[family(name)], elinewidth=1.2)
    front = pareto_frontier(x, y)
    order = np.argsort(x[front])
    ax.plot(x[front][order], y[front][order], "-", color="0.35", linewidth=1, zorder=0)
    if decision is not None and decision.recommended in names:
        i = names.index(decision.recommended)
        ax.plot(x[i], y[i], "o", ms=18, mfc="none", mec="black", mew=1.5)
        ax.annotate(f"recommended: {decision.recommended}", (x[i], y[i]), xytext=(-10, 14),
                    textcoords="offset points", ha="right", fontsize="small")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt.money(v, compact=True)))
    ax.yaxis.set_major_formatter(FuncFormatter(_people))
    ax.set_xlabel("spend (USD)")
    ax.set_ylabel("expected sign-ups (people)")
    ax.margins(x=0.08, y=0.1)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    mixes = [Patch(color=c, label=f) for f, c in colors.items() if any(family(n) == f for n in names)]
    legend = ax.legend(handles=mixes, title="mix (colour)", frameon=False, fontsize="small", title_fontsize="small",
                       loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if schedules:
        ax.add_artist(legend)
        marks = [Line2D([], [], color="0.3", marker=marker[s], linestyle="", ms=7, label=s) for s in schedules]
        if optimized is not None:
            marks.append(Line2D([], [], color="0.3", marker="*", linestyle="", ms=10, label="optimizer's plan"))
        ax.legend(handles=marks, title="schedule (marker)", frameon=False, fontsize="small", title_fontsize="small",
                  loc="lower left", bbox_to_anchor=(1.01, 0.0))
    sub = (f"bars: 80% range across {points} assumption points ({', '.join(labels)})" if points > 1 and labels
           else "one set of assumptions")
    ax.set_title(f"Sign-ups vs spend; the line joins strategies nothing cheaper beats\n{sub}", fontsize="medium")
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
