"""The calibration's report: posterior-predictive checks, identifiability, figures and tables.

Written next to the fitted set (``calibration/fitted/<name>.*``):

* ``<name>.posterior.parquet``: the posterior draws (one column per parameter path, and
  ``weight``);
* ``<name>.checks.csv``: ``target, role, value, low, high, predicted_low, predicted_high, hit, independent``,
  one row per target of the calibration's set with a computable moment (90% posterior-predictive
  interval; hit when it overlaps the target's range);
* ``<name>.png``: the posterior-predictive figure (each target's range beside its predictive
  interval, relative to the published value);
* ``<name>.posterior.png``: each parameter's posterior beside its prior (identifiability);
* ``<name>.md``: the whole report (parameters with prior and posterior widths, the ABC-SMC
  generations, the checks, the pending targets, confounded pairs).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.base.files import atomic_text, atomic_write
from sim.calibration.abc import PREDICTIVE_LEVEL, Posterior
from sim.input.fitted import FittedComparison


def comparison_rows(post: Posterior) -> list[FittedComparison]:
    """The fitted file's comparison entries: predictive median and 90% interval of every check."""
    checks = post.checks()
    med = post.predictive_median()
    out = []
    for (_, r), t, m in zip(checks.iterrows(), post.predictive_targets, med, strict=True):
        fin = lambda v: float(v) if v is not None and math.isfinite(v) else None  # noqa: E731
        out.append(FittedComparison(
            target=t.name, set=t.set.value, role=t.role.value, moment=t.moment.value, value=t.value,
            range=t.range, simulated=fin(m), interval=(fin(r.predicted_low), fin(r.predicted_high)),
            hit=bool(r.hit)))
    return out


def parameter_table(post: Posterior) -> pd.DataFrame:
    """One row per free parameter: estimate, median, 95% interval, bounds, start, widths, contraction."""
    iv = post.interval
    return pd.DataFrame({
        "path": [p.path for p in post.parameters], "estimate": post.estimate, "median": post.median,
        "ci95_low": iv[:, 0], "ci95_high": iv[:, 1],
        "bound_low": [p.low for p in post.parameters], "bound_high": [p.high for p in post.parameters],
        "start": post.start, "prior_sd": post.prior_sd, "posterior_sd": post.posterior_sd,
        "width_ratio": post.width_ratio, "contraction": post.contraction})


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.4g}"


def hits(post: Posterior) -> tuple[int, int, int, int]:
    """(held-out hits, held-out checked, fit hits, fit checked)."""
    c = post.checks()
    h, f = c[c.role == "held_out"], c[c.role == "fit"]
    return int(h.hit.sum()), len(h), int(f.hit.sum()), len(f)


def independent_hits(post: Posterior) -> tuple[int, int]:
    """(hits, checked) among the held-out targets that test the fit independently."""
    c = post.checks()
    h = c[(c.role == "held_out") & c.independent]
    return int(h.hit.sum()), len(h)


def markdown(post: Posterior, name: str, fitted_set: str) -> str:
    """The report as markdown."""
    g = post.generations
    k, n_fit = len(post.parameters), len(post.fit_target_names)
    ident = ("over-identified" if n_fit > k else "just-identified" if n_fit == k else "under-identified")
    held_hit, held_n, fit_hit, fit_n = hits(post)
    ind_hit, ind_n = independent_hits(post)
    n_smc = int((g["step"] != "importance").sum()) if "step" in g else len(g)
    lines = [f"# Calibration `{name}` (set `{fitted_set}`): ABC-SMC posterior", "",
             f"{n_fit} fit targets for {k} free parameters ({ident}); {post.trials} trials per evaluation "
             f"(common random numbers, root seed {post.seed}); {post.evaluations:,} model evaluations in "
             f"{n_smc} tempering generations and {len(g) - n_smc} importance rounds; final temperature "
             f"{post.final_temperature:.3g} "
             f"({'the posterior' if post.converged else 'NOT 1: a tempered posterior, the budget ran out'}); "
             f"{len(post.draws):,} weighted draws, effective sample size {post.ess:.0f}; "
             f"{post.elapsed:.0f} s in this run (a fit resumed from its database counts only its own time).", "",
             f"**Checks** (90% posterior-predictive interval of {len(post.predictive)} draws, each on a world and "
             f"trials of its own, overlapping the target's range): held-out **{held_hit} of {held_n}**"
             + (f" (**{ind_hit} of {ind_n}** of those that test the fit independently; the others are marked "
                "below)" if ind_n < held_n else "")
             + f", fit {fit_hit} of {fit_n}.", "",
             "| parameter | estimate (highest density) | median | 95% interval | prior (bounds) | hand-set | "
             "posterior / prior width | contraction |", "|---|---|---|---|---|---|---|---|"]
    for _, r in parameter_table(post).iterrows():
        lines.append(f"| `{r.path}` | {_fmt(r.estimate)} | {_fmt(r['median'])} | {_fmt(r.ci95_low)} – "
                     f"{_fmt(r.ci95_high)} | {_fmt(r.bound_low)} – {_fmt(r.bound_high)} | {_fmt(r.start)} | "
                     f"{_fmt(r.width_ratio)} | {_fmt(r.contraction)} |")
    if post.assumed:
        lines += ["", "Assumed (not free; scenarios using this set take them too): " +
                  ", ".join(f"`{p}` = {v:g}" for p, v in post.assumed.items()) + "."]
    lines += ["", "| target | role | published (range) | predicted median | 90% predictive interval | hit |",
              "|---|---|---|---|---|---|"]
    med = post.predictive_median()
    for (_, r), m in zip(post.checks().iterrows(), med, strict=True):
        role = r.role if r.independent else f"{r.role} (not independent)"
        lines.append(f"| {r.target} | {role} | {_fmt(r.value)} ({_fmt(r.low)} – {_fmt(r.high)}) | {_fmt(m)} | "
                     f"{_fmt(r.predicted_low)} – {_fmt(r.predicted_high)} | {'yes' if r.hit else 'no'} |")
    dependent = [t for t in post.predictive_targets if t.not_independent is not None]
    if dependent:
        lines += ["", "Not independent of the fit (compared and reported, counted apart): " +
                  "; ".join(f"`{t.name}`: {t.not_independent}" for t in dependent) + "."]
    if post.pending:
        lines += ["", "Pending (moment not computable yet, never compared): " +
                  "; ".join(f"`{t.name}` ({t.pending})" for t in post.pending) + "."]
    pairs = post.confounded()
    lines += ["", "Confounded pairs (|weighted posterior correlation| > 0.7): " +
              (", ".join(f"`{a}` ~ `{b}` ({r:+.2f})" for a, b, r in pairs) if pairs else "none"), "",
              "| generation | temperature | evaluations | particles | acceptance rate | ESS |",
              "|---|---|---|---|---|---|"]
    k_is = 0
    for _, r in g.iterrows():
        if r.get("step", "abc-smc") == "importance":
            k_is += 1
            lines.append(f"| importance round {k_is} | {r.temperature:.4g} | {int(r.evaluations):,} | "
                         f"{int(r.particles)} | — (weighted, not rejected) | {r.ess:.0f} |")
        else:
            lines.append(f"| {int(r.t)} | {r.temperature:.4g} | {int(r.evaluations):,} | {int(r.particles)} | "
                         f"{r.acceptance_rate:.3g} | {r.ess:.0f} |")
    return "\n".join(lines) + "\n"


def figure(post: Posterior, fitted_set: str, path: str | Path) -> Path:
    """Posterior-predictive figure: each target's range beside its 90% predictive interval and median."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    checks = post.checks()
    med = post.predictive_median()
    n = len(checks)
    fig, ax = plt.subplots(figsize=(9, 0.42 * n + 1.8))
    for i, ((_, r), t, m) in enumerate(zip(checks.iterrows(), post.predictive_targets, med, strict=True)):
        ref = abs(t.value) if t.value is not None else abs(t.range[0])
        sign = -1.0 if (t.value is not None and t.value < 0) else 1.0
        y = n - 1 - i
        top = r.high if r.high is not None and math.isfinite(r.high) else ref * 30
        ax.plot(sorted([sign * r.low / ref, sign * top / ref]), [y + 0.12] * 2, color="0.6", lw=6,
                solid_capstyle="butt", alpha=0.6)
        if t.value is not None:
            ax.plot([1.0], [y + 0.12], "|", color="0.2", ms=12, mew=2)
        colour = "C0" if r.role == "fit" else "C3"
        lo, hi = sign * r.predicted_low / ref, sign * r.predicted_high / ref
        lo, hi = min(lo, hi), max(lo, hi)
        if math.isfinite(lo) and lo > 0:
            hi = min(hi, 1e4)
            ax.plot([lo, hi], [y - 0.12] * 2, color=colour, lw=2)
            mm = sign * m / ref
            if math.isfinite(mm) and mm > 0:
                ax.plot([min(mm, 1e4)], [y - 0.12], "o" if r.role == "fit" else "D", color=colour, ms=5)
        elif math.isinf(lo):  # e.g. no top of the inverted U: the moment is +inf in the whole interval
            ax.annotate("∞ (no finite value)", xy=(1.0, y - 0.12), xycoords=("axes fraction", "data"), fontsize=7,
                        ha="right", va="center", color=colour)
        ax.text(1.02, y, "hit" if r.hit else "miss", transform=ax.get_yaxis_transform(), fontsize=7,
                va="center", color="C2" if r.hit else "C3")
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"{t} ({role})" for t, role in zip(checks.target[::-1], checks.role[::-1], strict=True)],
                       fontsize=8)
    ax.set_xscale("log")
    ax.axvline(1.0, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel(f"relative to the published value (grey: published range; line: {PREDICTIVE_LEVEL:.0%} "
                  "posterior-predictive interval; marker: its median)", fontsize=8)
    ax.legend(handles=[Line2D([], [], marker="o", color="C0", label="fit target"),
                       Line2D([], [], marker="D", color="C3", label="held out")], loc="lower right", fontsize=8)
    ax.set_title(f"Calibration '{fitted_set}': posterior-predictive checks", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def posterior_figure(post: Posterior, path: str | Path) -> Path:
    """Each parameter's weighted posterior histogram over its prior's box (identifiability)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = len(post.parameters)
    cols = min(k, 4)
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for j, p in enumerate(post.parameters):
        ax = axes[j // cols][j % cols]
        bins = np.linspace(p.low, p.high, 31)
        ax.hist(post.draws[:, j], bins=bins, weights=post.weights, density=True, color="C0", alpha=0.7,
                label="posterior")
        ax.axhline(1.0 / (p.high - p.low), color="0.4", lw=1, ls="--", label="prior")
        ax.axvline(post.estimate[j], color="C3", lw=1, label="estimate")
        ax.set_title(f"{p.path}\ncontraction {post.contraction[j]:.2f}", fontsize=8)
        ax.tick_params(labelsize=7)
    for j in range(k, rows * cols):
        axes[j // cols][j % cols].axis("off")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_posterior(post: Posterior, meta: dict, path: str | Path) -> Path:
    """``<name>.posterior.parquet``: the draws, with the fit's provenance in the file's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(post.frame(), preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           b"advocacy_sim": json.dumps(meta, sort_keys=True).encode()})
    return atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def write_tables(post: Posterior, name: str, fitted_set: str, folder: str | Path) -> tuple[Path, Path]:
    """``<name>.checks.csv`` and ``<name>.md``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / f"{name}.checks.csv"
    checks = post.checks()
    atomic_write(csv, lambda tmp: checks.to_csv(tmp, index=False, float_format="%.6g"))
    md = atomic_text(folder / f"{name}.md", markdown(post, name, fitted_set))
    return csv, md
