"""``run FILE``: run a scenario and write its results folder, or run an experiment definition.

``python run_experiment.py scenarios/quickstart.yaml`` runs the scenario's strategies for its
Monte Carlo trials and writes ``results/<name>/``. A file whose top-level ``experiment`` key
names a reproduction is run as ``reproduce FILE`` would run it (``--quick``, ``--no-publish``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from sim.api import run
from sim.cli import reproduce
from sim.execution.executor import ExecutorKind, ExecutorSpec
from sim.execution.store import RunStore, StoreError
from sim.execution.tasks import TaskError, data_files
from sim.experiments.definition import names_an_experiment
from sim.families.registry import engine_names, family_of
from sim.input.design import design
from sim.input.errors import InputError
from sim.input.scenario import scenario_from_document
from sim.input.strict import read_document
from sim.report.console import print_run
from sim.world.footprint import parse_bytes

NAME = "run"
HELP = ("run a scenario's strategies for its Monte Carlo trials and write a results folder "
        "(or run an experiment definition)")
EXIT_BAD_INPUT = 2

#: Options only a scenario takes (their ``argparse`` destinations and flags).
_SCENARIO_ONLY = {"trials": "--trials", "seed": "--seed", "engine": "--engine", "executor": "--executor",
                  "workers": "--workers", "scheduler": "--scheduler", "dashboard": "--dashboard",
                  "resume": "--resume", "max_memory": "--max-memory", "overwrite": "--overwrite"}
#: Options only an experiment definition takes.
_EXPERIMENT_ONLY = {"quick": "--quick", "no_publish": "--no-publish"}


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
    try:
        return parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``run`` command's arguments."""
    p.add_argument("file", type=Path, metavar="FILE",
                   help="a scenario (YAML), or an experiment definition (experiments/<id>.yaml)")
    p.add_argument("--check", action="store_true", help="only validate the file, run nothing")
    p.add_argument("--out", type=Path, default=None,
                   help="parent folder of the run folder <out>/<name>/ (default: results; for an experiment "
                        "definition, results/experiments)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    s = p.add_argument_group("scenarios")
    s.add_argument("--trials", type=_positive_int, help="override the number of trials per strategy")
    s.add_argument("--seed", type=_seed, help="override the root random seed")
    s.add_argument("--engine", choices=engine_names(),
                   help="override the scenario's engine (every engine gives identical results; mesa is slower)")
    s.add_argument("--executor", choices=["serial", "local", "dask"], default=None,
                   help="where chunks of trials run: serial (this thread), local (a thread pool; the default) "
                        "or dask (an embedded local cluster, or --scheduler's); every one gives the same table")
    s.add_argument("--workers", type=_positive_int,
                   help="threads (local) or worker processes (embedded dask cluster); default: one per core")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on an existing Dask cluster: its scheduler address (tcp://host:8786) or "
                        "scheduler file (implies --executor dask)")
    s.add_argument("--dashboard", action="store_true",
                   help="serve the embedded Dask cluster's dashboard on 127.0.0.1:8787 (needs bokeh)")
    s.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in its folder (rerunning the same command does too); "
                        "only the missing chunks run")
    s.add_argument("--max-memory", type=_size, metavar="SIZE",
                   help="memory the run may use, e.g. 4G or 512M (default: 90%% of what is available); worlds and "
                        "result tables that would not fit are refused before anything runs")
    s.add_argument("--overwrite", action="store_true",
                   help="replace a run folder that holds another scenario's results")
    e = p.add_argument_group("experiment definitions")
    e.add_argument("--quick", action="store_true", help="reduced sizes (what the test suite runs)")
    e.add_argument("--no-publish", action="store_true", help="full runs: do not copy the figures to docs/figures/")


def _given(args: argparse.Namespace, options: dict[str, str]) -> list[str]:
    return [flag for dest, flag in options.items() if getattr(args, dest) not in (None, False)]


def _executor(args):
    kind = args.executor or ("dask" if args.scheduler else "local")
    if args.scheduler and kind != "dask":
        raise ValueError(f"--scheduler needs --executor dask (got --executor {kind})")
    if args.dashboard and (kind != "dask" or args.scheduler):
        raise ValueError("--dashboard is for the embedded dask cluster (--executor dask without --scheduler)")
    return ExecutorSpec(ExecutorKind(kind), workers=args.workers, scheduler=args.scheduler, dashboard=args.dashboard)


def main(args: argparse.Namespace) -> int:
    """Run the file; returns the exit status."""
    err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)  # ':100:' is a line number
    try:
        doc = read_document(args.file, InputError)
    except InputError as exc:
        for line in exc.problems:
            err.print(line, markup=False)
        return EXIT_BAD_INPUT
    if names_an_experiment(doc):
        wrong = _given(args, _SCENARIO_ONLY)
        if wrong:
            err.print(f"run_experiment.py: error: {', '.join(wrong)}: options of scenarios; {args.file} is an "
                      "experiment definition", markup=False)
            return EXIT_BAD_INPUT
        return reproduce.run_definitions([args.file], args, out=args.out or reproduce.OUT,
                                         parsed={args.file: doc})
    wrong = _given(args, _EXPERIMENT_ONLY)
    if wrong:
        err.print(f"run_experiment.py: error: {', '.join(wrong)}: options of experiment definitions; {args.file} "
                  "is a scenario", markup=False)
        return EXIT_BAD_INPUT
    return _run_scenario(doc, args, err)


def _run_scenario(doc, args: argparse.Namespace, err: Console) -> int:
    out = Console(highlight=False, soft_wrap=True, emoji=False)
    if not out.is_terminal:  # logs and pipes: do not squeeze the summary into 80 columns
        out.width = 140
    parent = args.out or Path("results")
    try:
        executor = _executor(args)
        scenario = scenario_from_document(doc, Path(args.file).resolve().parent)
        scenario = scenario.with_overrides(trials=args.trials, seed=args.seed, engine=args.engine)
        points = len(design(scenario).points)
        family = family_of(scenario)
        # An engine the model does not have, or one that cannot run here, is an input error.
        family.engine(scenario).check(scenario)
        problems = family.feasibility(scenario)  # e.g. budgets that buy nobody: refused before any world is built
        if problems:
            raise InputError(problems)
    except InputError as exc:
        for line in exc.problems:
            err.print(line, markup=False)
        return EXIT_BAD_INPUT
    except ValueError as exc:
        err.print(f"run_experiment.py: error: {exc}", markup=False)
        return EXIT_BAD_INPUT
    if args.check:
        kind = "posterior draws" if scenario.sweep is not None and scenario.sweep.design.value == "posterior" \
            else "sweep points"
        at = f" x {points} {kind}" if scenario.sweep is not None else ""
        out.print(f"{args.file}: valid ({len(scenario.strategy_list)} strategies{at}, "
                  f"{scenario.trials:,} trials each)", markup=False)
        for path in data_files(scenario):  # relative paths are resolved against the scenario's folder
            out.print(f"  reads {path}", markup=False)
        out.print(f"  writes {(parent / scenario.name).resolve()}/", markup=False)
        return 0

    folder = parent / scenario.name
    if args.resume:
        manifest = RunStore(folder).read_manifest()
        if manifest is None:
            err.print(f"--resume: {folder} holds no run yet; starting one", markup=False)
        elif manifest.get("scenario_sha256") != scenario.digest():
            err.print(f"--resume: {folder} holds another scenario's results (or the same file edited since); "
                      "nothing to resume. Choose another --out, or pass --overwrite to replace them", markup=False)
            return EXIT_BAD_INPUT
    try:
        results = run(scenario, executor=executor, out=folder, overwrite=args.overwrite, progress=not args.quiet,
                      max_memory=args.max_memory)
    except (InputError, StoreError) as exc:
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
    chunks = results.info.chunks
    if chunks.resumed:
        err.print(f"resumed: {folder} held {chunks.resumed} of {chunks.total} finished chunks of this "
                  f"scenario; ran the other {chunks.total - chunks.resumed} (delete the folder to start "
                  "afresh)", markup=False)
    if not args.quiet:
        print_run(out, results)
        report = " (open report.html)" if (folder / "report.html").exists() else ""
        out.print(f"results written to {folder}/{report}", markup=False)
    return 0
