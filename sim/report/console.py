"""A run's summary as tables on the console (what the command line prints after a run)."""

from __future__ import annotations

from rich.table import Table

from sim.families.registry import family_of
from sim.results.data import Results


def summary_table(results: Results) -> Table:
    """Per (point,) strategy: the family's headline outcomes with 95% CIs and the paired difference
    to the baseline."""
    summary = results.summary()
    world = results.world
    title = f"{results.scenario.name}: {results.scenario.trials:,} trials per strategy, {world.accounts:,} accounts"
    if world.audience is not None:
        title += f" (x{world.audience.scale:g} = {world.audience.real_accounts:,.0f} real)"
    present = set(summary["outcome"])
    columns = [c for c in family_of(results.scenario).headline if c.outcome in present]  # older folders lack some
    paired = len(results.strategies) > 1
    labels = results.design.labels if results.is_sweep else []
    table = Table(title=title)
    for label in labels:
        table.add_column(label)
    table.add_column("strategy")
    for c in columns:
        table.add_column(c.header, justify="right")
    if paired:
        table.add_column(f"adopted vs {results.scenario.baseline_name} ± 95% CI", justify="right")
    keys = ["point", "strategy"] if results.is_sweep else ["strategy"]
    by = summary.set_index([*keys, "outcome"])
    for key, _ in summary.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        cells = []
        if results.is_sweep:
            values = dict(results.design.points[int(key[0])].values)
            cells += [f"{values[k]:.4g}" if isinstance(values[k], float) else str(values[k]) for k in labels]
        cells.append(key[-1])
        for c in columns:
            row = by.loc[(*key, c.outcome)]
            if c.fmt is None:
                half = f" ± {row.ci95_high - row['mean']:,.1f}" if row.trials > 1 else ""
                cells.append(f"{row['mean']:,.1f}{half}")
            else:
                cells.append(c.fmt.format(row["mean"]) if row.trials else "–")
        if paired:
            row = by.loc[(*key, "adopted")]
            d = row["diff_mean"]
            cells.append("baseline" if d != d else f"{d:+,.1f} ± {row['diff_ci95_high'] - d:,.1f}")
        table.add_row(*cells)
    return table


def sweep_table(results: Results) -> Table | None:
    """Sweeps of strategies that cost something: per strategy, averages over the points, and how
    often it is on the frontier (None for other runs)."""
    table = results.strategy_table()
    if not results.is_sweep or table is None:
        return None
    n_points = len(results.design.points)
    title = (f"{results.scenario.name}: {len(results.strategies)} strategies x {n_points} points "
             f"({results.scenario.sweep.design.value}), {results.scenario.trials:,} trials each; means over points")
    out = Table(title=title)
    for head in ("strategy", "cost (USD)", "adopters", "USD/adopter", "vs baseline", "on frontier"):
        out.add_column(head, justify="left" if head == "strategy" else "right")
    g = table.groupby("strategy", sort=False)
    for name in results.strategies:
        rows = g.get_group(name)
        diff = rows["adopted_vs_baseline"].mean()
        out.add_row(name, f"{rows['cost'].mean():,.0f}", f"{rows['adopted'].mean():,.1f}",
                    f"{rows['cost_per_adopter'].mean():,.2f}", "–" if diff != diff else f"{diff:+,.1f}",
                    f"{int(rows['on_frontier'].sum())}/{n_points}")
    return out


def run_table(results: Results) -> Table:
    """What the command line prints after a run: the sweep's table where there is one, else the summary."""
    return sweep_table(results) or summary_table(results)
