"""Run the benchmark suite: ``python -m benchmarks.run [--quick] [--out benchmarks/out/latest.json]``.

For every case (:mod:`benchmarks.cases`) and in one process, on the same graph,
recruits and probabilities:

1. our kernel, ``sim.classic.kernel.final_sizes`` (single thread);
2. the public API, ``sim.run(scenario, trials=k, workers=1)`` (world building
   included; also reported without it);
3. cynetdiff (its C loop and its Python per-trial loop);
4. NDlib for a few seconds only;

then the agreement of the mean final sizes (|z| <= 4 with combined standard
errors), the edges examined per second, peak memory, and for some cases the
speedup of ``run(workers=2)`` over ``workers=1``.

The campaign case (:class:`benchmarks.cases.CampaignCase`) runs a bundled scenario
file instead: the campaign kernel on every strategy (trials/s, exposures/s and
follower–post pairs examined/s from the kernel's own totals, against a floor on
pairs/s), ``run()`` on the whole scenario, and the Mesa engine of the campaign model
for a few seconds (its totals checked equal to the kernel's, trial for trial).

Results are printed and written as JSON (``--out``) and as Markdown tables next to
it (same name, ``.md``). ``--engine`` adds engines of ours (:data:`benchmarks.engines.ENGINES`)
to the cascade cases' interleaved timing.

Modules: this one is the command line and the loop over cases (quiet-machine waits,
reruns of a case measured on a busy machine, writing the outputs); :mod:`benchmarks.cases`
what is measured; :mod:`benchmarks.engines` how each engine is called;
:mod:`benchmarks.suite` how a case is measured; :mod:`benchmarks.measure` timing, memory,
load and statistics; :mod:`benchmarks.report` the tables and the headline.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import measure as M
from benchmarks.cases import CASES, HEADLINE, CampaignCase, CascadeCase, PlannedCase
from benchmarks.engines import ENGINES
from benchmarks.measure import QUICK, Z_LIMIT, Settings, log
from benchmarks.report import headline, json_default, markdown
from benchmarks.suite import Suite, warm_up


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    ap.add_argument(
        "--quick", action="store_true", help="10k cases only, short measurements (a smoke run)"
    )
    ap.add_argument(
        "--out",
        default="benchmarks/out/latest.json",
        help="JSON output (a .md with tables is written next to it)",
    )
    ap.add_argument(
        "--cases", default=None, help="comma-separated case names (default: all, or the quick set)"
    )
    ap.add_argument("--no-ndlib", action="store_true", help="skip NDlib")
    ap.add_argument("--no-mesa", action="store_true", help="skip the campaign model's Mesa engine")
    ap.add_argument("--target", type=float, default=None, help="seconds per measurement")
    ap.add_argument("--repeats", type=int, default=None, help="measurements per engine")
    ap.add_argument(
        "--max-retries", type=int, default=None, help="reruns of a case measured on a busy machine"
    )
    ap.add_argument(
        "--max-wait",
        type=float,
        default=None,
        help="seconds to wait for a quiet machine before each case (default 300, --quick 10; "
        "0: start at once). The wait ends early once other processes use < --quiet cores",
    )
    ap.add_argument(
        "--quiet",
        type=float,
        default=None,
        help="cores used by other processes below which the machine counts as quiet (default 0.3)",
    )
    ap.add_argument(
        "--engine",
        default=None,
        help="our engines timed on the cascade cases, comma-separated (known: "
        + ", ".join(ENGINES)
        + "; default numba). The numba kernel is always timed: the reference",
    )
    ap.add_argument(
        "--no-headline",
        action="store_true",
        help=f"do not add the headline case {HEADLINE} when --cases leaves it out",
    )
    args = ap.parse_args(argv)

    s = QUICK if args.quick else Settings()
    changes = {
        k: v
        for k, v in (
            ("target", args.target),
            ("repeats", args.repeats),
            ("max_retries", args.max_retries),
            ("max_wait", args.max_wait),
            ("quiet_threshold", args.quiet),
        )
        if v is not None
    }
    if args.no_ndlib:
        changes["ndlib"] = False
    if args.no_mesa:
        changes["mesa"] = False
    if args.engine:
        names = [e for e in args.engine.split(",") if e]
        unknown = [e for e in names if e not in ENGINES]
        if unknown:
            ap.error(f"unknown engine {', '.join(unknown)} in --engine (known: {', '.join(ENGINES)})")
        changes["engines"] = tuple(dict.fromkeys(["numba", *names]))
    s = Settings(**{**asdict(s), **changes})

    wanted = set(args.cases.split(",")) if args.cases else None
    cases = [
        c
        for c in CASES
        if (wanted is None and (not args.quick or isinstance(c, PlannedCase) or c.quick))
        or (wanted is not None and c.name in wanted)
    ]
    if wanted and len(cases) != len(wanted):
        known = ", ".join(c.name for c in CASES)
        ap.error(f"unknown case in --cases (known: {known})")
    if not args.no_headline and all(c.name != HEADLINE for c in cases):
        cases.insert(0, next(c for c in CASES if c.name == HEADLINE))

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "schema": 1,
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": M.machine_info(),
        "settings": asdict(s),
        "methods": {
            "timing": "time.perf_counter; warm-up call first (numba compilation/cache load excluded); "
            "batch sized so one measurement takes ~target s; median of repeats, min and max kept",
            "memory": "peak RSS (VmHWM, reset through /proc/self/clear_refs, malloc_trim first) "
            "above the RSS at the start of each phase; counts numba, NumPy, Python and C++ allocations "
            "(tracemalloc would miss numba's and C++'s)",
            "load": "cores used by other processes = (busy time in /proc/stat - this process's CPU time) / wall time",
            "agreement": "z = (mean_other - mean_ours) / sqrt(sd_ours^2/k_ours + sd_other^2/k_other); "
            f"pass if |z| <= {Z_LIMIT:g}",
            "edges_examined": "out-edges visited per trial = sum of out-degrees of activated accounts, "
            "exact on a sample of trials; edges/s = trials/s x that mean "
            "(the same definition holds for cynetdiff, which also "
            "scans every out-edge of every activated node)",
            "campaign": "campaign case: the scenario file as it is; sim.execution.prepare.prepare once, then "
            "per strategy sim.campaign.model.simulate (the kernel call of run()'s chunks) on trials "
            "0..batch-1, "
            "single thread, strategies interleaved in each repeat; exposures = the kernel's "
            "'impressions' total (follower and discovery exposures), pairs examined = its "
            "'pairs_examined' total (out-degree of each post's author, summed over posts), both "
            "summed over the trials timed and divided by the time; floor on the median pairs/s of "
            "each strategy. run(): whole scenario, k trials per strategy, a trial counted per "
            "strategy. Mesa: CampaignAgentModel on one strategy for ndlib_budget seconds, its "
            "outputs compared with the kernel's for the same trials (np.array_equal)",
        },
        "cases": [],
    }
    log(
        f"machine: {report['machine']['cpu_model']}, {report['machine']['usable_cpus']} cores; "
        f"other processes now use {M.foreign_load():.2f} cores"
    )
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        log("warming up (loading/compiling kernels, importing run() dependencies) ...")
        report["warm_up_s"] = round(
            warm_up(
                workdir,
                cascade=any(isinstance(c, CascadeCase) for c in cases),
                campaign=[c for c in cases if isinstance(c, CampaignCase)],
                engines=s.engines,
            ),
            2,
        )
        suite = Suite(s, workdir)
        for case in cases:
            if isinstance(case, PlannedCase):
                log(f"\n{case.name}: SKIPPED — {case.note}")
                report["cases"].append(
                    {
                        "name": case.name,
                        "status": "skipped",
                        "metric": case.metric,
                        "note": case.note,
                    }
                )
                continue
            log(f"\n{case.name}: {case.label}")
            attempts = []
            for attempt in range(s.max_retries + 1):
                pre = M.wait_for_quiet(s.quiet_threshold, s.max_wait, log)
                try:
                    if isinstance(case, CampaignCase):
                        rec = suite.run_campaign(case)
                    else:
                        rec = suite.run_case(case)
                except Exception as exc:
                    traceback.print_exc()
                    rec = {
                        "name": case.name,
                        "label": case.label,
                        "status": "error",
                        "error": f"{type(exc).__name__}: {exc}",
                    }
                    attempts.append(rec)
                    break
                rec["load"]["foreign_cores_before"] = pre
                attempts.append(rec)
                busy = max(
                    rec["load"]["foreign_cores"],
                    rec.get("parallel", {}).get("load", {}).get("foreign_cores", 0),
                )
                if busy < s.quiet_threshold:
                    break
                if attempt < s.max_retries:
                    log(f"  other processes used {busy:.2f} cores during this case: rerunning it")
            best = min(attempts, key=lambda r: r.get("load", {}).get("foreign_cores", math.inf))
            best["attempts"] = [a.get("load") for a in attempts]
            report["cases"].append(best)
            out.write_text(
                json.dumps(report, indent=1, default=json_default)
            )  # partial results survive a crash

    report["finished"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report["process_max_rss_mib"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    out.write_text(json.dumps(report, indent=1, default=json_default))
    md = markdown(report)
    out.with_suffix(".md").write_text(md)
    log("\n" + md)
    log(f"wrote {out} and {out.with_suffix('.md')}")
    for line in headline(report):
        log(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
