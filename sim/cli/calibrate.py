"""Command line of calibrations: ``python run_experiment.py calibrate calibration/<name>.yaml [--quick]``.

Fits by ABC-SMC (:mod:`sim.calibration.abc`) and writes next to the definition, in ``fitted/``:
``<name>.yaml`` (point estimate, intervals, provenance), ``<name>.posterior.parquet`` (the draws),
``<name>.checks.csv``, the figures ``<name>.png`` (posterior predictive) and
``<name>.posterior.png``, and ``<name>.md`` (``--quick`` writes into ``--out``, default
``results/calibration``, so a reduced fit never replaces a committed one). The fit resumes from
its database after a crash (``--fresh`` starts over). Exit status 0 on success, 2 on an invalid
definition (nothing runs), 1 on other failures.
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
    p.add_argument("--workers", type=int, default=None,
                   help="evaluations at once (pyABC's multicore sampler; the predictive checks on a thread pool)")
    p.add_argument("--db-dir", type=Path, default=None,
                   help="folder of the resumable pyABC database (default results/calibration)")
    p.add_argument("--fresh", action="store_true", help="start over instead of resuming a fit of the same definition")
    p.add_argument("--check", action="store_true", help="only validate the definition, run nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


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
    from sim.calibration.abc import budget_of, calibrate
    from sim.calibration.report import (
        comparison_rows,
        figure,
        markdown,
        posterior_figure,
        write_posterior,
        write_tables,
    )
    from sim.input.fitted import FittedParameter, FittedSet, write_fitted

    folder = args.out or (Path("results/calibration") if args.quick else
                          args.definition.resolve().parent / "fitted")
    b = budget_of(calibration, args.quick)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[what]}"), TimeElapsedColumn())
    with Progress(*columns, disable=args.quiet, console=err) as bar:
        gen = bar.add_task(f"calibrate {calibration.spec.name}", total=b.generations, what="generations")
        evals = bar.add_task("  evaluations", total=None, what="")
        seen = set()

        def progress(message: str, t: int | None) -> None:
            if t is not None and t not in seen:
                seen.add(t)
                bar.update(gen, completed=len(seen), what=message)
            elif not message:
                bar.advance(evals, 1)

        post = calibrate(calibration, quick=args.quick, db_dir=args.db_dir, workers=args.workers,
                         fresh=args.fresh, progress=progress)
    spec = calibration.spec
    name = spec.name
    try:
        targets_rel = calibration.targets.path.resolve().relative_to(Path.cwd()).as_posix()
        definition_rel = args.definition.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        targets_rel, definition_rel = str(calibration.targets.path), str(args.definition)
    commit = git_commit()
    iv = post.interval
    fitted = FittedSet(
        name=name, calibration=definition_rel, targets=targets_rel, targets_sha256=calibration.targets.sha256,
        set=spec.set.value, seed=spec.seed, trials=post.trials, quick=args.quick, git_commit=commit,
        date=today(), elapsed_seconds=round(post.elapsed, 1), evaluations=post.evaluations,
        objective=float(post.chi2[post.map_index]),
        parameters=[FittedParameter(path=p.path, value=float(v), interval=(float(lo), float(hi)),
                                    bounds=(p.low, p.high), start=float(s), prior_sd=float(ps),
                                    posterior_sd=float(qs), contraction=float(c))
                    for p, v, (lo, hi), s, ps, qs, c in zip(post.parameters, post.estimate, iv, post.start,
                                                            post.prior_sd, post.posterior_sd, post.contraction,
                                                            strict=True)],
        confounded=[(a, b_, round(r, 3)) for a, b_, r in post.confounded()],
        method="abc-smc", posterior=f"{name}.posterior.parquet", assumed=dict(spec.assumed),
        final_temperature=post.final_temperature, effective_sample_size=round(post.ess, 1))
    path = write_fitted(fitted, comparison_rows(post), folder / f"{name}.yaml")
    write_posterior(post, {"name": name, "calibration": definition_rel, "targets_sha256": calibration.targets.sha256,
                           "seed": spec.seed, "quick": args.quick, "git_commit": commit, "method": "abc-smc",
                           "final_temperature": post.final_temperature, "assumed": dict(spec.assumed)},
                    folder / f"{name}.posterior.parquet")
    figure(post, spec.set.value, folder / f"{name}.png")
    posterior_figure(post, folder / f"{name}.posterior.png")
    write_tables(post, name, spec.set.value, folder)
    out = Console(highlight=False, soft_wrap=True, emoji=False)
    out.print(markdown(post, name, spec.set.value), markup=False)
    out.print(f"written {path} (+ .posterior.parquet, .checks.csv, .png, .posterior.png, .md) in "
              f"{post.elapsed:.0f} s", markup=False)
    return 0
