"""The calibration's report: a figure of every target beside its simulated value, and tables.

``calibration/fitted/<name>.png``: one row per target (both sets), its published value and range
beside the simulated value at the estimate with its 95% interval (trial noise and parameter
uncertainty), each on its own axis relative to the target's value (log scale), fit targets and
held-out ones marked; ``<name>.csv`` and ``<name>.md``: the same as tables, plus the parameters
with intervals and identifiability.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from sim.calibration.estimator import Comparison, Fit
from sim.input.fitted import FittedComparison


def comparison_rows(fit: Fit) -> list[FittedComparison]:
    """The fitted file's comparison entries."""
    out = []
    for c in fit.comparisons:
        t = c.target
        out.append(FittedComparison(
            target=t.name, set=t.set.value, role=t.role.value, moment=t.moment.value, value=t.value,
            range=t.range, simulated=c.simulated if math.isfinite(c.simulated) else None,
            interval=(c.low if math.isfinite(c.low) else None, c.high if math.isfinite(c.high) else None),
            hit=c.hit))
    return out


def comparison_table(fit: Fit, fitted_set: str) -> pd.DataFrame:
    """One row per comparable target: value, range, simulated value, interval, hit, fitted or held out here."""
    rows = []
    for c in fit.comparisons:
        t = c.target
        fitted_here = t.role.value == "fit" and t.set.value == fitted_set
        rows.append({"target": t.name, "set": t.set.value, "role": t.role.value,
                     "used": "fit" if fitted_here else "check", "moment": t.moment.value,
                     "platform": t.platform or "", "tier": t.tier or "", "versus": t.versus or "",
                     "value": t.value, "range_low": t.range[0], "range_high": t.range[1],
                     "simulated": c.simulated, "sim_low": c.low, "sim_high": c.high, "hit": c.hit})
    return pd.DataFrame(rows)


def parameter_table(fit: Fit) -> pd.DataFrame:
    """One row per free parameter: estimate, interval, bounds, start, prior and posterior spread."""
    return pd.DataFrame({
        "path": [p.path for p in fit.parameters], "estimate": fit.estimate,
        "ci95_low": fit.interval[:, 0], "ci95_high": fit.interval[:, 1],
        "bound_low": [p.low for p in fit.parameters], "bound_high": [p.high for p in fit.parameters],
        "start": fit.start, "prior_sd": fit.prior_sd, "posterior_sd": fit.posterior_sd,
        "contraction": fit.contraction})


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:.4g}"


def markdown(fit: Fit, name: str, fitted_set: str) -> str:
    """The report as markdown (parameters, targets, confounded pairs)."""
    lines = [f"# Calibration `{name}` (set `{fitted_set}`)", "",
             f"{fit.trials} trials per evaluation, seed {fit.seed}, {fit.evaluations} evaluations, "
             f"{fit.elapsed:.0f} s; objective at the estimate {fit.objective:.3g}.", "",
             "| parameter | estimate | 95% interval | bounds | start | contraction |", "|---|---|---|---|---|---|"]
    for _, r in parameter_table(fit).iterrows():
        lines.append(f"| `{r.path}` | {_fmt(r.estimate)} | {_fmt(r.ci95_low)} – {_fmt(r.ci95_high)} | "
                     f"{_fmt(r.bound_low)} – {_fmt(r.bound_high)} | {_fmt(r.start)} | {_fmt(r.contraction)} |")
    lines += ["", "| target | set | role | used here | published (range) | simulated (95% interval) | in range |",
              "|---|---|---|---|---|---|---|"]
    for _, r in comparison_table(fit, fitted_set).iterrows():
        lines.append(f"| {r.target} | {r.set} | {r.role} | {r.used} | {_fmt(r.value)} ({_fmt(r.range_low)} – "
                     f"{_fmt(r.range_high)}) | {_fmt(r.simulated)} ({_fmt(r.sim_low)} – {_fmt(r.sim_high)}) | "
                     f"{'yes' if r.hit else 'no'} |")
    pairs = fit.confounded()
    lines += ["", "Confounded pairs (|correlation of bootstrap estimates| > 0.7): " +
              (", ".join(f"`{a}` ~ `{b}` ({r:+.2f})" for a, b, r in pairs) if pairs else "none"), ""]
    return "\n".join(lines)


def figure(fit: Fit, fitted_set: str, path: str | Path) -> Path:
    """Each target's range and value beside the simulated value with its interval, relative to the target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    comps: list[Comparison] = list(fit.comparisons)
    n = len(comps)
    fig, ax = plt.subplots(figsize=(9, 0.42 * n + 1.6))
    for i, c in enumerate(comps):
        t = c.target
        ref = t.value if t.value is not None else t.range[0]
        y = n - 1 - i
        lo, hi = t.range
        hi_v = hi if hi is not None else ref * 30
        ax.plot([lo / ref, hi_v / ref], [y + 0.12] * 2, color="0.6", lw=6, solid_capstyle="butt", alpha=0.6)
        if t.value is not None:
            ax.plot([1.0], [y + 0.12], "|", color="0.2", ms=12, mew=2)
        fitted_here = t.role.value == "fit" and t.set.value == fitted_set
        colour = "C0" if fitted_here else "C3"
        if math.isfinite(c.simulated) and c.simulated > 0:
            lo_s, hi_s = max(c.low, 1e-12), max(c.high, 1e-12)
            ax.errorbar([c.simulated / ref], [y - 0.12], xerr=[[max(c.simulated - lo_s, 0) / ref],
                                                              [max(hi_s - c.simulated, 0) / ref]],
                        fmt="o" if fitted_here else "D", color=colour, ms=5, capsize=3)
        elif math.isfinite(c.simulated):  # negative moments (slopes): shown by their ratio to the target
            ax.errorbar([c.simulated / ref], [y - 0.12], xerr=[[abs(c.simulated - c.low) / abs(ref)],
                                                              [abs(c.high - c.simulated) / abs(ref)]],
                        fmt="o" if fitted_here else "D", color=colour, ms=5, capsize=3)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"{c.target.name} [{c.target.set.value}]" for c in reversed(comps)], fontsize=8)
    ax.set_xscale("log")
    ax.axvline(1.0, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("relative to the published value (grey: published range; marker: simulated, 95% interval)",
                  fontsize=8)
    from matplotlib.lines import Line2D

    ax.legend(handles=[Line2D([], [], marker="o", color="C0", ls="", label=f"fitted here ({fitted_set}, fit)"),
                       Line2D([], [], marker="D", color="C3", ls="", label="checked (held out, or the other set)")],
              loc="lower right", fontsize=8)
    ax.set_title(f"Calibration '{fitted_set}': targets and simulated values at the estimate", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_tables(fit: Fit, name: str, fitted_set: str, folder: str | Path) -> tuple[Path, Path]:
    """``<name>.csv`` (targets beside simulated values) and ``<name>.md`` (the whole report)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / f"{name}.csv"
    comparison_table(fit, fitted_set).to_csv(csv, index=False, float_format="%.6g")
    md = folder / f"{name}.md"
    md.write_text(markdown(fit, name, fitted_set), encoding="utf-8")
    return csv, md

