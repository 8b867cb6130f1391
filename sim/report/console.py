"""A run's summary on the console (what the command line prints after a run).

Runs whose strategies cost something print the planner's answer first (the recommendation, its
range across assumptions, its chance of being best, what would change it) and then every
strategy, best first; other runs print the summary table.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sim.base import fmt
from sim.families.registry import family_of
from sim.report import answer
from sim.results.data import Results


def summary_table(results: Results) -> Table:
    """Per (point,) strategy: the family's headline outcomes with 95% CIs and the paired difference
    to the baseline."""
    summary = results.summary()
    world = results.world
    title = f"{results.scenario.name}: {results.scenario.trials:,} trials per strategy, {world.accounts:,} accounts"
    if world.audience is not None:
        title += f" (x{fmt.param(world.audience.scale)} = {fmt.count(world.audience.real_accounts)} real)"
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
            cells += [fmt.param(values[k]) for k in labels]
        cells.append(key[-1])
        for c in columns:
            row = by.loc[(*key, c.outcome)]
            if c.fmt is None:  # people: whole numbers
                half = f" ± {fmt.count(row.ci95_high - row['mean'])}" if row.trials > 1 else ""
                cells.append(f"{fmt.count(row['mean'])}{half}")
            else:
                cells.append(c.fmt.format(row["mean"]) if row.trials else "–")
        if paired:
            row = by.loc[(*key, "adopted")]
            d = row["diff_mean"]
            cells.append("baseline" if d != d else f"{fmt.signed_count(d)} ± {fmt.count(row['diff_ci95_high'] - d)}")
        table.add_row(*cells)
    return table


def print_answer(out: Console, results: Results) -> None:
    """The planner's answer first (recommendation, ranges, chance of being best, what would change it),
    then every strategy, best first. Runs without costs (no decision) print nothing."""
    decision = results.decision()
    if decision is None:
        return
    s = results.scenario
    for line in answer.terminal_lines(decision, results):
        head, _, text = line.partition(": ")
        out.print(f"[bold]{head}:[/bold] {escape(text)}")
    points = f" x {decision.points.n} assumption points" if decision.points.n > 1 else ""
    n = len(results.strategies)
    out.print(answer.terminal_table(decision, f"{s.name}: {n} strateg{'y' if n == 1 else 'ies'}{points}, "
                                              f"{decision.trials:,} trials each; best first"))


def print_run(out: Console, results: Results) -> None:
    """What the command line prints after a run: the planner's answer where there is one, else the summary."""
    if results.decision() is not None:
        print_answer(out, results)
    else:
        out.print(summary_table(results))
