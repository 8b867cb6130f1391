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


def _size(text: str) -> int:
    from sim.world.footprint import parse_bytes

    try:
        return parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    p.add_argument("--executor", choices=["serial", "local", "dask"], default=None,
                   help="where chunks of trials run: serial (this thread), local (a thread pool; the default) "
                        "or dask (an embedded local cluster, or --scheduler's); every one gives the same table")
    p.add_argument("--workers", type=_positive_int,
                   help="threads (local) or worker processes (embedded dask cluster); default: one per core")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on an existing Dask cluster: its scheduler address (tcp://host:8786) or "
                        "scheduler file (implies --executor dask)")
    p.add_argument("--dashboard", action="store_true",
                   help="serve the embedded Dask cluster's dashboard on 127.0.0.1:8787 (needs bokeh)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in its folder (rerunning the same command does too); "
                        "only the missing chunks run")
    p.add_argument("--max-memory", type=_size, metavar="SIZE",
                   help="memory the run may use, e.g. 4G or 512M (default: 90%% of what is available); worlds and "
                        "result tables that would not fit are refused before anything runs")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a run folder that holds another scenario's results")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    return p


def _summary_table(results) -> Table:
    """Per (point,) strategy: the headline outcomes with 95% CIs and the paired difference to the baseline."""
    summary = results.summary()
    world = results.world
    title = f"{results.scenario.name}: {results.scenario.trials:,} trials per strategy, {world['accounts']:,} accounts"
    if results.scenario.is_campaign:
        title += f" (x{world['scale']:g} = {world['real_accounts']:,.0f} real)"
        columns = [("cost", "cost (USD)", "{:,.0f}"), ("reach", "reach", "{:,.0f}"),
                   ("engagements", "engagements", "{:,.0f}"), ("engagers", "engagers", "{:,.0f}"),
                   ("adopted", "adopters ± 95% CI", None), ("adopters_engaged", "of whom engaged", "{:,.0f}"),
                   ("cost_per_adopter", "USD/adopter", "{:,.2f}"),
                   ("depth", "depth", "{:.2f}")]
    else:
        columns = [("adopted", "adopted ± 95% CI", None),
                   ("adopted_fraction", "fraction", "{:.4f}"), ("steps", "steps (mean)", "{:.2f}")]
    present = set(summary["outcome"])
    columns = [c for c in columns if c[0] in present]  # a folder from before the funnel columns
    paired = len(results.strategies) > 1
    labels = results.design.labels if results.is_sweep else []
    table = Table(title=title)
    for label in labels:
        table.add_column(label)
    table.add_column("strategy")
    for _, head, _ in columns:
        table.add_column(head, justify="right")
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
        for outcome, _, fmt in columns:
            row = by.loc[(*key, outcome)]
            if fmt is None:
                half = f" ± {row.ci95_high - row['mean']:,.1f}" if row.trials > 1 else ""
                cells.append(f"{row['mean']:,.1f}{half}")
            else:
                cells.append(fmt.format(row["mean"]) if row.trials else "–")
        if paired:
            row = by.loc[(*key, "adopted")]
            d = row["diff_mean"]
            cells.append("baseline" if d != d else f"{d:+,.1f} ± {row['diff_ci95_high'] - d:,.1f}")
        table.add_row(*cells)
    return table


def _sweep_table(results) -> Table:
    """Sweeps: per strategy, averages over the points, and how often it is on the frontier."""
    table = results.strategy_table()
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


def _executor(args):
    from sim.sweeps.executor import ExecutorKind, ExecutorSpec

    kind = args.executor or ("dask" if args.scheduler else "local")
    if args.scheduler and kind != "dask":
        raise ValueError(f"--scheduler needs --executor dask (got --executor {kind})")
    if args.dashboard and (kind != "dask" or args.scheduler):
        raise ValueError("--dashboard is for the embedded dask cluster (--executor dask without --scheduler)")
    return ExecutorSpec(ExecutorKind(kind), workers=args.workers, scheduler=args.scheduler, dashboard=args.dashboard)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    from sim.experiments import (
        cli as experiments_cli,  # reproductions: `reproduce` or a definition file
    )

    if experiments_cli.handles(argv):
        return experiments_cli.main(argv)
    from sim.calibration import cli as calibration_cli  # `calibrate calibration/<name>.yaml`

    if calibration_cli.handles(argv):
        return calibration_cli.main(argv)
    args = parser().parse_args(argv)
    err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
    out = Console(highlight=False, soft_wrap=True, emoji=False)
    if not out.is_terminal:  # logs and pipes: do not squeeze the summary into 80 columns
        out.width = 140

    from sim.scenario import ScenarioError, load_scenario
    from sim.store import StoreError
    from sim.sweeps.design import design

    try:
        executor = _executor(args)
        scenario = load_scenario(args.scenario)
        scenario = scenario.with_overrides(trials=args.trials, seed=args.seed, engine=args.engine)
        points = len(design(scenario).points)
    except ScenarioError as exc:
        for line in exc.problems:
            err.print(line, markup=False)
        return EXIT_BAD_INPUT
    except ValueError as exc:
        err.print(f"run_experiment.py: error: {exc}", markup=False)
        return EXIT_BAD_INPUT
    if args.check:
        from sim.tasks import data_files

        at = f" x {points} sweep points" if scenario.sweep is not None else ""
        out.print(f"{args.scenario}: valid ({len(scenario.strategy_list)} strategies{at}, "
                  f"{scenario.trials:,} trials each)", markup=False)
        for path in data_files(scenario):  # relative paths are resolved against the scenario's folder
            out.print(f"  reads {path}", markup=False)
        out.print(f"  writes {(args.out / scenario.name).resolve()}/", markup=False)
        return 0

    from sim.runner import run
    from sim.store import RunStore

    folder = args.out / scenario.name
    if args.resume:
        manifest = RunStore(folder).read_manifest()
        if manifest is None:
            err.print(f"--resume: {folder} holds no run yet; starting one", markup=False)
        elif manifest.get("scenario_sha256") != scenario.digest():
            err.print(f"--resume: {folder} holds another scenario's results (or the same file edited since); "
                      "nothing to resume. Choose another --out, or pass --overwrite to replace them", markup=False)
            return EXIT_BAD_INPUT
    from sim.tasks import TaskError

    try:
        results = run(scenario, executor=executor, out=folder, overwrite=args.overwrite, progress=not args.quiet,
                      max_memory=args.max_memory)
    except (ScenarioError, StoreError) as exc:
        for line in getattr(exc, "problems", [str(exc)]):
            err.print(line, markup=False)
        return EXIT_BAD_INPUT
    except TaskError as exc:  # finished chunks are on disk: rerun the command to resume
        err.print(f"{exc} (finished chunks are kept in {folder}; rerun to resume)", markup=False)
        return 1
    except OSError as exc:  # e.g. a full disk: every part written so far is whole
        done = len(RunStore(folder).finished())
        err.print(f"could not write the results: {exc.strerror or exc} ({exc.filename or folder}); the {done} "
                  f"finished chunks in {folder} are intact: free space and rerun the command to resume",
                  markup=False)
        return 1
    chunks = results.info["chunks"]
    if chunks["resumed"]:
        err.print(f"resumed: {folder} held {chunks['resumed']} of {chunks['total']} finished chunks of this "
                  f"scenario; ran the other {chunks['total'] - chunks['resumed']} (delete the folder to start "
                  "afresh)", markup=False)
    if not args.quiet:
        out.print(_sweep_table(results) if results.is_sweep and scenario.is_campaign else _summary_table(results))
        report = " (open report.html)" if (folder / "report.html").exists() else ""
        out.print(f"results written to {folder}/{report}", markup=False)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
