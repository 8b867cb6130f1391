"""``python run_experiment.py optimize SCENARIO``: search the plan space, then run the plan beside the grid.

Writes the usual results folder ``<out>/<name>/`` for the scenario with the optimizer's plan added
as a strategy (``optimized``), and in it ``optimize.csv`` (the search's trace) and ``optimized.yaml``
(the plan as a runnable scenario). The search appends every finished evaluation to
``<out>/.optimize/<name>-<digest>.journal``: run the same command again after a stop and it
continues; the run of the plan resumes from its finished chunks like any run.

Exit status: 0 on success, 2 for invalid input (nothing is run), 1 on other failures.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sim.api import run
from sim.cli.run import _positive_int
from sim.execution.executor import ExecutorKind, ExecutorSpec, machine_cores
from sim.execution.store import RunStore, StoreError
from sim.families.registry import family_of
from sim.input.errors import InputError
from sim.input.scenario import Scenario, ScenarioError, load_scenario
from sim.optimize.compare import comparison
from sim.optimize.search import search, search_key
from sim.report.console import print_answer
from sim.report.writer import write_reports

NAME = "optimize"
HELP = ("search a campaign scenario's optimize: space (budget shares, schedule, partner counts) with Optuna on "
        "common random numbers, seeded with the grid's strategies; run the best plan beside the grid and report both")
EXIT_BAD_INPUT = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``optimize`` command's arguments."""
    p.add_argument("scenario", type=Path, help="scenario YAML file with an optimize: block")
    p.add_argument("--out", type=Path, default=Path("results"), help="parent of the run folder (default: results)")
    p.add_argument("--trials", type=_positive_int, help="override the trials the report's run uses")
    p.add_argument("--evaluations", type=_positive_int, help="override optimize.evaluations")
    p.add_argument("--workers", type=_positive_int, help="threads (default: one per core)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a run folder that holds another scenario's results")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")


def augmented(scenario: Scenario, plan, name: str) -> Scenario:
    """The scenario with the optimizer's plan added to its listed strategies (named ``name``)."""
    data = scenario.model_dump(mode="python")
    data["strategies"] = [*(data.get("strategies") or []), {**plan.model_dump(mode="python"), "name": name}]
    out = Scenario.model_validate(data)
    out._source = scenario._source
    return out


def plan_yaml(scenario, plan, grid_best: str | None, source: Path) -> str:
    """The plan as a runnable scenario: the resolved scenario with the plan (and the grid's best
    strategy in the space, to compare) as its strategies, no grid and no optimize block."""
    data = scenario.model_dump(mode="json")
    data.pop("optimize", None)
    data.pop("parameters", None)  # its values are written in already
    listed = [s for s in scenario.strategy_list if s.name == grid_best]
    data["strategy_grid"] = None
    data["strategies"] = [plan.model_dump(mode="json", exclude_defaults=True),
                          *(s.model_dump(mode="json", exclude_defaults=True) for s in listed)]
    data["baseline"] = grid_best
    data["name"] = f"{scenario.name}_optimized"
    data = {k: v for k, v in data.items() if v is not None}
    head = (f"# The optimizer's plan for {scenario.name} (python run_experiment.py optimize {source}),\n"
            "# with the best grid strategy inside its search space to compare. Paths and prices are resolved.\n"
            f"# Run:  python run_experiment.py <this file>\n")
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def ours(manifest: dict, scenario: Scenario) -> bool:
    """Whether a run folder's manifest is this optimization's (finished, or stopped while running the plan)."""
    if manifest.get("optimized_from") == search_key(scenario):
        return True
    held = manifest.get("scenario") or {}
    mine = scenario.model_dump(mode="json")
    return held.get("optimize") == mine.get("optimize") and all(
        held.get(k) == mine.get(k) for k in ("world", "model", "seed", "trials", "strategy_grid", "sweep"))


def main(args: argparse.Namespace) -> int:
    """Search, run the plan beside the grid, write the folder; returns the exit status."""
    err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
    out = Console(highlight=False, soft_wrap=True, emoji=False)
    if not out.is_terminal:
        out.width = 140
    try:
        scenario = load_scenario(args.scenario)
        scenario = scenario.with_overrides(trials=args.trials)
        if scenario.optimize is None:  # only campaign scenarios may have one (their family checks it)
            raise ScenarioError([scenario.locate(("optimize",), "optimize needs a campaign scenario with an "
                                                 "'optimize:' block (budget, cells, schedules, ...; docs/sweeps.md, "
                                                 "'Optimizing')")])
        if args.evaluations:
            scenario = scenario.with_overrides(optimize=scenario.optimize.model_copy(
                update={"evaluations": args.evaluations}))
        problems = family_of(scenario).feasibility(scenario)
        if problems:
            raise ScenarioError(problems)
    except InputError as exc:
        for line in exc.problems:
            err.print(line, markup=False)
        return EXIT_BAD_INPUT
    folder = args.out / scenario.name
    manifest = RunStore(folder).read_manifest()
    if manifest is not None and not args.overwrite and not ours(manifest, scenario):
        err.print(f"{folder} holds another run's results; choose another --out or pass --overwrite to replace them",
                  markup=False)
        return EXIT_BAD_INPUT
    workers = args.workers or machine_cores()
    key = search_key(scenario)
    checkpoint = args.out / ".optimize" / f"{scenario.name}-{key[:16]}.journal"
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("plans"),
               TimeRemainingColumn())
    with Progress(*columns, disable=args.quiet, transient=False, console=err) as bar:
        task = bar.add_task("search", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        found = search(scenario, checkpoint, workers=workers, progress=advance)
    if found.resumed and not args.quiet:
        err.print(f"resumed the search: {found.resumed} plans were already evaluated ({checkpoint})", markup=False)
    names = {s.name for s in scenario.strategy_list}
    name = next(n for n in ("optimized", "optimized_plan", "optimizer") if n not in names)
    full = augmented(scenario, found.best, name)
    try:
        results = run(full, executor=ExecutorSpec(ExecutorKind.LOCAL, workers=workers), out=folder,
                      overwrite=True, progress=not args.quiet)
    except (InputError, StoreError) as exc:
        for line in getattr(exc, "problems", [str(exc)]):
            err.print(line, markup=False)
        return EXIT_BAD_INPUT
    results = dataclasses.replace(results, optimized=name)
    section, lines, numbers = comparison(results, found, name)
    store = RunStore(folder)
    write_reports(store, results, sections=[section], annotations={
        "optimized_from": key,
        "optimizer": {"evaluations": numbers["evaluations"], "checkpoint": str(checkpoint),
                      "grid_best_in_space": numbers["grid_best"], "gain": numbers["gain"],
                      "gain_sem": numbers["gain_sem"]}})
    store.write_csv("optimize.csv", found.trace)
    assert full.strategies is not None  # augmented() lists the plan as the last strategy
    store.write_text("optimized.yaml", plan_yaml(scenario, full.strategies[-1], numbers["grid_best"], args.scenario))
    store.finish()
    if not args.quiet:
        print_answer(out, results)
        for line in lines:
            out.print(line, markup=False)
        out.print(f"results written to {folder}/ (open report.html; optimized.yaml, optimize.csv)", markup=False)
    return 0
