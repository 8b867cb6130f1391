"""Command line of calibrations: ``python run_experiment.py calibrate calibration/<name>.yaml [--quick]``.

Writes ``calibration/fitted/<name>.yaml`` (estimates, intervals, provenance), its figure
``<name>.png`` and tables ``<name>.csv`` / ``<name>.md`` next to it (``--quick`` writes into
``--out``, default ``results/calibration``, so a reduced fit never replaces a committed one).
Exit status 0 on success, 2 on an invalid definition (nothing runs), 1 on other failures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

NAME = "calibrate"
HELP = "fit a calibration definition's free parameters to its targets and write the fitted set"
EXIT_BAD_INPUT = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``calibrate`` command's arguments."""
    p.add_argument("definition", type=Path, help="calibration definition (calibration/<name>.yaml)")
    p.add_argument("--quick", action="store_true", help="the definition's reduced budget (what the tests run)")
    p.add_argument("--out", type=Path, default=None,
                   help="folder of the fitted set and figure (default: calibration/fitted next to the definition; "
                        "results/calibration with --quick)")
    p.add_argument("--workers", type=int, default=None, help="evaluations at once on a local thread pool")
    p.add_argument("--check", action="store_true", help="only validate the definition, run nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _evaluations(calibration, quick: bool) -> int:
    from sim.calibration.estimator import budget_of

    b = budget_of(calibration, quick)
    k = len(calibration.spec.free)
    per_de = lambda it: b.popsize * k * (it + 1)  # noqa: E731 (DE: initial population + one per generation)
    return per_de(b.maxiter) + b.replicates * per_de(b.bootstrap_maxiter) + b.replicates


def main(args: argparse.Namespace) -> int:
    """Fit the definition; returns the exit status."""
    err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
    from sim.calibration.spec import CalibrationError, load_calibration

    try:
        calibration = load_calibration(args.definition)
    except CalibrationError as exc:
        for line in exc.problems:
            err.print(line, markup=False)
        return EXIT_BAD_INPUT
    if args.workers is not None and args.workers < 1:
        err.print("--workers must be >= 1", markup=False)
        return EXIT_BAD_INPUT
    if args.check:
        err.print(f"{args.definition}: valid ({len(calibration.spec.free)} free parameters, "
                  f"{len(calibration.fit_targets)} fit targets)", markup=False)
        return 0
    from sim.base.provenance import git_commit, today
    from sim.calibration.estimator import calibrate
    from sim.calibration.report import comparison_rows, figure, markdown, write_tables
    from sim.input.fitted import FittedParameter, FittedSet, write_fitted

    folder = args.out or (Path("results/calibration") if args.quick else
                          args.definition.resolve().parent / "fitted")
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("evaluations"),
               TimeElapsedColumn())
    with Progress(*columns, disable=args.quiet, console=err) as bar:
        task = bar.add_task(f"calibrate {calibration.spec.name}", total=_evaluations(calibration, args.quick))
        fit = calibrate(calibration, quick=args.quick, workers=args.workers,
                        progress=lambda n: bar.advance(task, n))
    spec = calibration.spec
    name = spec.name
    try:
        targets_rel = calibration.targets.path.resolve().relative_to(Path.cwd()).as_posix()
        definition_rel = args.definition.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        targets_rel, definition_rel = str(calibration.targets.path), str(args.definition)
    fitted = FittedSet(
        name=name, calibration=definition_rel, targets=targets_rel, targets_sha256=calibration.targets.sha256,
        set=spec.set.value, seed=spec.seed, trials=fit.trials, quick=args.quick, git_commit=git_commit(),
        date=today(), elapsed_seconds=round(fit.elapsed, 1), evaluations=fit.evaluations,
        objective=fit.objective,
        parameters=[FittedParameter(path=p.path, value=float(v), interval=(float(lo), float(hi)),
                                    bounds=(p.low, p.high), start=float(s), prior_sd=float(ps),
                                    posterior_sd=float(qs), contraction=float(c))
                    for p, v, (lo, hi), s, ps, qs, c in zip(fit.parameters, fit.estimate, fit.interval, fit.start,
                                                            fit.prior_sd, fit.posterior_sd, fit.contraction,
                                                            strict=True)],
        confounded=[(a, b, round(r, 3)) for a, b, r in fit.confounded()])
    path = write_fitted(fitted, comparison_rows(fit), folder / f"{name}.yaml")
    figure(fit, spec.set.value, folder / f"{name}.png")
    write_tables(fit, name, spec.set.value, folder)
    out = Console(highlight=False, soft_wrap=True, emoji=False)
    out.print(markdown(fit, name, spec.set.value), markup=False)
    out.print(f"written {path} (+ .png, .csv, .md) in {fit.elapsed:.0f} s", markup=False)
    return 0
