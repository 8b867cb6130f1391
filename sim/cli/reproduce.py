"""``reproduce [DEFINITION ...]``: reproduce published figures and print one table of verdicts.

``python run_experiment.py reproduce [--quick]`` runs every definition in ``experiments/``;
``python run_experiment.py experiments/<id>.yaml [--quick]`` (the ``run`` command) or
``reproduce experiments/<id>.yaml`` runs one, writing its figures and comparison table. Exit
status: 0 whatever the model concludes (validation checks that miss their published value and
claims found false are reported, never failures); 1 when a verification check fails (the code
does not compute what the model says) or an experiment crashes (the others still run; the
traceback is printed); 2 on an invalid definition or arguments (nothing is run).
"""

from __future__ import annotations

import argparse
import traceback
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim.experiments.definition import (
    ExperimentError,
    input_problems,
    load_experiment,
    run_experiment,
)
from sim.experiments.report import FAIL, FINDING, HIT, MISS, PASS, reason, status
from sim.input import keypaths
from sim.input.strict import located, read_document
from sim.input.yaml_source import YamlDocument

NAME = "reproduce"
HELP = "reproduce published figures: the experiment definitions given, or every one in experiments/"
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
#: Parent of the output folders ``<out>/<id>/``.
OUT = Path("results/experiments")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``reproduce`` command's arguments."""
    p.add_argument("definitions", type=Path, nargs="*", metavar="DEFINITION",
                   help="experiment definitions (experiments/<id>.yaml); default: every one in --experiments")
    p.add_argument("--quick", action="store_true", help="reduced sizes (what the test suite runs)")
    p.add_argument("--out", type=Path, default=OUT,
                   help=f"parent of the output folders <out>/<id>/ (default: {OUT})")
    p.add_argument("--experiments", type=Path, default=Path("experiments"),
                   help="folder of definitions when none is given (default: experiments)")
    p.add_argument("--only", help="comma-separated ids to run")
    p.add_argument("--no-publish", action="store_true",
                   help="full runs: do not copy the figures to docs/figures/")
    p.add_argument("--check", action="store_true", help="only validate the definitions, run nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _table(reports) -> Table:
    table = Table(title="Reproductions: verification (gates), validation (PASS / MISS, reported) and findings",
                  show_lines=False)
    for head in ("experiment", "kind", "check", "published", "ours", "criterion", "result"):
        table.add_column(head, overflow="fold")
    colour = {PASS: "green", FAIL: "bold red", HIT: "green", MISS: "yellow"}
    for r in reports:
        name = r.spec.id + (" (quick)" if r.quick else "")
        for c in r._ordered():
            s = status(c)
            why = reason(c, r.spec)
            table.add_row(name, c.kind.value, c.name, c.published, c.ours.text(c.unit), c.criterion,
                          f"[{colour[s]}]{s}[/]" + (f" ({why})" if why else ""))
        for f in r.findings:
            table.add_row(name, FINDING, f.name, f.claim, f.ours.text(f.unit), f"{f.reading}. {f.detail}".strip(),
                          f"[cyan]{f.verdict}[/]")
    return table


def main(args: argparse.Namespace) -> int:
    """Run the definitions given, or every one in ``--experiments``; returns the exit status."""
    if args.definitions:
        paths = list(args.definitions)
    else:
        paths = sorted(args.experiments.glob("*.yaml"))
        if not paths:
            err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
            err.print(f"{args.experiments}: no experiment definitions (*.yaml) found", markup=False)
            return EXIT_BAD_INPUT
    return run_definitions(paths, args, out=args.out, only=args.only)


def _located(doc: YamlDocument, line: str) -> str:
    """A problem about the definition's own keys (``parameters.fixed: ...``) as ``file:line: key: message``;
    a line about another file already names it."""
    key, sep, message = line.partition(": ")
    keys = tuple(int(k) if k.isdigit() else k for k in keypaths.split(key))
    if not sep or not isinstance(doc.data, dict) or keys[0] not in doc.data:
        return line
    return located(doc, keys, message)


def run_definitions(paths: list[Path], args: argparse.Namespace, *, out: Path, only: str | None = None,
                    parsed: dict[Path, YamlDocument] | None = None) -> int:
    """Validate the definitions (all of them, before anything runs), run them, print the table.

    ``args`` gives ``quick``, ``no_publish``, ``check``, ``quiet`` and the command line as given
    (``argv``, recorded in each manifest); ``parsed`` holds files already read.
    """
    err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)  # ':100:' is a line number
    console = Console(highlight=False, emoji=False)
    if not console.is_terminal:
        console.width = 200
    specs, problems, docs = [], [], {}
    for path in paths:
        try:
            docs[path] = (parsed or {}).get(path) or read_document(path, ExperimentError)
            specs.append((path, load_experiment(path, docs[path])))
        except ExperimentError as exc:
            problems.extend(exc.problems)
    if only:
        wanted = {x.strip() for x in only.split(",") if x.strip()}
        unknown = wanted - {s.id for _, s in specs}
        if unknown:
            problems.append(f"--only: unknown experiment id(s) {', '.join(sorted(unknown))} "
                            f"(known: {', '.join(s.id for _, s in specs)})")
        specs = [(p, s) for p, s in specs if s.id in wanted]
    for path, spec in specs:
        problems.extend(_located(docs[path], line) for line in input_problems(spec))
    if problems:
        for line in problems:
            err.print(line, markup=False)
        return EXIT_BAD_INPUT
    if args.check:
        for path, spec in specs:
            console.print(f"{path}: valid ({spec.experiment}, id {spec.id})", markup=False)
        return 0
    reports, crashed = [], []
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=args.quiet, console=err) as progress:
        for path, spec in specs:
            folder = out / spec.id
            try:
                report = run_experiment(spec, quick=args.quick, parts=folder / "parts", progress=progress)
                docs_dir = path.resolve().parent.parent / "docs"
                publish = (docs_dir / "figures" if (not args.quick and not args.no_publish and docs_dir.is_dir())
                           else None)
                report.write(folder, publish, command=["run_experiment.py", *getattr(args, "argv", [])])
            except Exception:  # noqa: BLE001 -- a crash is reported and fails the run; the others still run
                crashed.append(spec.id)
                progress.console.print(f"{spec.id}: CRASHED\n{traceback.format_exc()}", markup=False)
                continue
            reports.append(report)
            misses = len(report.misses)
            progress.console.print(
                f"{spec.id}: {'ok' if report.ok else 'VERIFICATION FAILED'} in {report.elapsed:.1f} s"
                + (f" ({misses} validation miss{'es' if misses != 1 else ''} reported)" if misses else "")
                + f", written to {folder}/" + (f" and {publish}/" if publish else ""), markup=False)
    console.print(_table(reports))
    if crashed:
        err.print(f"crashed: {', '.join(crashed)}", markup=False)
    return 0 if all(r.ok for r in reports) and not crashed else EXIT_FAIL
