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
    summary = results.summary()
    table = Table(title=f"{results.scenario.name}: {results.scenario.trials:,} trials per strategy, "
                  f"{results.world['accounts']:,} accounts")
    for col in ("strategy", "adopted (mean)", "95% CI", "fraction", "steps (mean)"):
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for name in results.strategies:
        rows = summary[summary["strategy"] == name].set_index("outcome")
        a, f, s = rows.loc["adopted"], rows.loc["adopted_fraction"], rows.loc["steps"]
        ci = f"{a.ci95_low:,.1f} – {a.ci95_high:,.1f}" if a.trials > 1 else "–"
        table.add_row(name, f"{a['mean']:,.1f}", ci, f"{f['mean']:.4f}", f"{s['mean']:.2f}")
    return table


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = parser().parse_args(argv)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    out = Console(highlight=False, soft_wrap=True)

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
    if not args.quiet:
        out.print(_summary_table(results))
        out.print(f"results written to {folder}/ (runs.parquet, summary.csv, manifest.json, figures/)",
                  markup=False)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
