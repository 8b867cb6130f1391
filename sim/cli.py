"""Command line: ``python run_experiment.py SCENARIO [options]`` (also installed as ``advocacy-sim``).

Exit status: 0 on success, 2 when the scenario or the arguments are invalid
(nothing is run and nothing is written), 1 on any other failure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

EXIT_BAD_INPUT = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1 (got {text!r})") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1 (got {value})")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number in [0, 2**64) (got {text!r})") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"must be a whole number in [0, 2**64) (got {value})")
    return value


def parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so docs and tests can inspect it)."""
    p = argparse.ArgumentParser(
        prog="run_experiment.py",
        description="Run a scenario's strategies for its Monte Carlo trials and write a results folder.")
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument("--check", action="store_true", help="only validate the scenario, run nothing")
    p.add_argument("--out", type=Path, default=Path("results"),
                   help="parent folder of the run folder <out>/<name>/ (default: results)")
    p.add_argument("--trials", type=_positive_int, help="override the number of trials per strategy")
    p.add_argument("--seed", type=_seed, help="override the root random seed")
    p.add_argument("--engine", choices=["numba", "mesa"],
                   help="override the scenario's engine (both give identical results; mesa is slower)")
    p.add_argument("--workers", type=_positive_int, default=1, help="threads running trials (default 1)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a run folder that holds another scenario's results")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    return p


def _summary_table(results) -> Table:
    summary = results.summary().set_index(["strategy", "outcome"])
    world = results.world
    title = f"{results.scenario.name}: {results.scenario.trials:,} trials per strategy, {world['accounts']:,} accounts"
    if results.scenario.is_campaign:
        title += f" (x{world['scale']:g} = {world['real_accounts']:,.0f} real)"
        columns = [("cost", "cost (USD)", "{:,.0f}"), ("reach", "reach", "{:,.0f}"),
                   ("engagements", "engagements", "{:,.0f}"), ("adopted", "adopters ± 95% CI", None),
                   ("cost_per_adopter", "USD/adopter", "{:,.2f}"),
                   ("depth", "depth", "{:.2f}")]
    else:
        columns = [("adopted", "adopted ± 95% CI", None),
                   ("adopted_fraction", "fraction", "{:.4f}"), ("steps", "steps (mean)", "{:.2f}")]
    table = Table(title=title)
    table.add_column("strategy")
    for _, head, _ in columns:
        table.add_column(head, justify="right")
    for name in results.strategies:
        cells = [name]
        for outcome, _, fmt in columns:
            row = summary.loc[(name, outcome)]
            if fmt is None:
                half = f" ± {row.ci95_high - row['mean']:,.1f}" if row.trials > 1 else ""
                cells.append(f"{row['mean']:,.1f}{half}")
            else:
                cells.append(fmt.format(row["mean"]) if row.trials else "–")
        table.add_row(*cells)
    return table


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    from sim.experiments import cli as experiments_cli  # reproductions: `reproduce` or a definition file

    if experiments_cli.handles(argv):
        return experiments_cli.main(argv)
    args = parser().parse_args(argv)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    out = Console(highlight=False, soft_wrap=True)
    if not out.is_terminal:  # logs and pipes: do not squeeze the summary into 80 columns
        out.width = 140

    from sim.scenario import ScenarioError, load_scenario
    from sim.store import StoreError

    try:
        scenario = load_scenario(args.scenario)
        scenario = scenario.with_overrides(trials=args.trials, seed=args.seed, engine=args.engine)
    except ScenarioError as exc:
        for line in exc.problems:
            err.print(line, markup=False)
        return EXIT_BAD_INPUT
    if args.check:
        out.print(f"{args.scenario}: valid ({len(scenario.strategy_list)} strategies, "
                  f"{scenario.trials:,} trials each)", markup=False)
        return 0

    from sim.runner import run

    folder = args.out / scenario.name
    try:
        results = run(scenario, workers=args.workers, out=folder, overwrite=args.overwrite,
                      progress=not args.quiet)
    except (ScenarioError, StoreError) as exc:
        for line in getattr(exc, "problems", [str(exc)]):
            err.print(line, markup=False)
        return EXIT_BAD_INPUT
    chunks = results.info["chunks"]
    if chunks["resumed"]:
        err.print(f"{folder} held {chunks['resumed']} of {chunks['total']} finished chunks of this scenario: "
                  "resumed, only the rest were run (delete the folder to start afresh)", markup=False)
    if not args.quiet:
        out.print(_summary_table(results))
        out.print(f"results written to {folder}/", markup=False)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
