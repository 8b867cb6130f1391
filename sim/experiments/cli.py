"""Command line of the reproductions.

``python run_experiment.py experiments/<id>.yaml [--quick]`` runs one definition and writes its
figures and comparison table; ``python run_experiment.py reproduce [--quick]`` runs every
definition in ``experiments/`` and prints one table. Exit status: 0 when every criterion passes
or fails with a documented deviation, 1 when one fails without, 2 on an invalid definition or
arguments (nothing is run).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
REPRODUCE = "reproduce"


def handles(argv: list[str]) -> bool:
    """Whether the arguments ask for a reproduction (``reproduce``, or an experiment definition file)."""
    if not argv:
        return False
    if argv[0] == REPRODUCE:
        return True
    from sim.experiments.definition import is_definition

    path = Path(argv[0])
    return path.suffix in (".yaml", ".yml") and path.is_file() and is_definition(path)


def parser() -> argparse.ArgumentParser:
    """Arguments of the reproduction command."""
    p = argparse.ArgumentParser(
        prog="run_experiment.py",
        description="Reproduce published figures: one experiment definition, or 'reproduce' for all of them.")
    p.add_argument("target", help="an experiment definition (experiments/<id>.yaml) or 'reproduce'")
    p.add_argument("--quick", action="store_true", help="reduced sizes (what the test suite runs)")
    p.add_argument("--out", type=Path, default=Path("results/experiments"),
                   help="parent of the output folders <out>/<id>/ (default: results/experiments)")
    p.add_argument("--experiments", type=Path, default=Path("experiments"),
                   help="folder of definitions for 'reproduce' (default: experiments)")
    p.add_argument("--only", help="comma-separated ids to run with 'reproduce'")
    p.add_argument("--no-publish", action="store_true",
                   help="full runs: do not copy the figures to docs/figures/")
    p.add_argument("--check", action="store_true", help="only validate the definitions, run nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _table(reports) -> Table:
    from sim.experiments.report import status

    table = Table(title="Reproductions: published value or claim against ours (95% interval)", show_lines=False)
    for head in ("experiment", "check", "published", "ours", "criterion", "result"):
        table.add_column(head, overflow="fold")
    colour = {"pass": "green", "FAIL": "bold red", "deviation": "yellow"}
    for r in reports:
        for c in r.checks:
            s = status(c, r.spec)
            table.add_row(r.spec.id + (" (quick)" if r.quick else ""), c.name, c.published, c.ours.text(c.unit),
                          c.criterion, f"[{colour[s]}]{s}[/]")
    return table


def main(argv: list[str]) -> int:
    """Entry point of the reproduction command; returns the exit status."""
    args = parser().parse_args(argv)
    err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
    out = Console(highlight=False, emoji=False)
    if not out.is_terminal:
        out.width = 200
    from sim.experiments.definition import ExperimentError, load_experiment, run_experiment

    if args.target == REPRODUCE:
        paths = sorted(args.experiments.glob("*.yaml"))
        if not paths:
            err.print(f"{args.experiments}: no experiment definitions (*.yaml) found", markup=False)
            return EXIT_BAD_INPUT
    else:
        paths = [Path(args.target)]
    specs, problems = [], []
    for path in paths:
        try:
            specs.append((path, load_experiment(path)))
        except ExperimentError as exc:
            problems.extend(exc.problems)
    if args.only:
        wanted = {x.strip() for x in args.only.split(",") if x.strip()}
        unknown = wanted - {s.id for _, s in specs}
        if unknown:
            problems.append(f"--only: unknown experiment id(s) {', '.join(sorted(unknown))} "
                            f"(known: {', '.join(s.id for _, s in specs)})")
        specs = [(p, s) for p, s in specs if s.id in wanted]
    if problems:
        for line in problems:
            err.print(line, markup=False)
        return EXIT_BAD_INPUT
    if args.check:
        for path, spec in specs:
            out.print(f"{path}: valid ({spec.experiment}, id {spec.id})", markup=False)
        return 0
    reports = []
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=args.quiet, console=err) as progress:
        for path, spec in specs:
            folder = args.out / spec.id
            report = run_experiment(spec, quick=args.quick, parts=folder / "parts", progress=progress)
            docs = path.resolve().parent.parent / "docs"
            publish = docs / "figures" if (not args.quick and not args.no_publish and docs.is_dir()) else None
            report.write(folder, publish, command=["run_experiment.py", *argv])
            reports.append(report)
            progress.console.print(f"{spec.id}: {'ok' if report.ok else 'FAILED'} in {report.elapsed:.1f} s, "
                                   f"written to {folder}/" + (f" and {publish}/" if publish else ""), markup=False)
    out.print(_table(reports))
    return 0 if all(r.ok for r in reports) else EXIT_FAIL
