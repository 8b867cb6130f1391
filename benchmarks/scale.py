"""Scale run: build a 10-million-account creator-audience world and time one campaign trial.

Usage::

    python -m benchmarks.scale [--scenario benchmarks/scale_world.yaml] [--out benchmarks/out/scale.json]

Prints and writes (JSON) the memory estimate, the build time and peak resident memory, the
world's size, and the time of one trial per strategy (numba compilation excluded: a small
world is run first to compile the kernel). Not part of CI.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import numpy as np

from sim import load_scenario
from sim.base.rng import root_key
from sim.campaign.family import compile_campaign
from sim.campaign.model import simulate
from sim.world.build import build_world
from sim.world.footprint import available_bytes, check, estimate

HERE = Path(__file__).resolve().parent


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=HERE / "scale_world.yaml")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "scale.json")
    args = ap.parse_args()

    # Compile the campaign kernel on a small world so the timings below exclude compilation.
    small = load_scenario(HERE.parent / "scenarios" / "celebrity_vs_micro.yaml").with_overrides(trials=1)
    pop = build_world(small.world, small.seed).population
    arrays, schedules = compile_campaign(small, pop)
    simulate(pop, arrays, schedules[0], root_key(small.seed), np.arange(1))
    del pop, arrays, schedules

    scenario = load_scenario(args.scenario)
    fp = estimate(scenario)
    check(fp)
    report = {"machine": platform.platform(), "available_gib": round(available_bytes() / 2**30, 1),
              "estimate": {"accounts": fp.accounts, "edges": fp.edges,
                           "build_gib": round(fp.build_bytes / 2**30, 2), "run_gib": round(fp.run_bytes / 2**30, 2)}}
    print(json.dumps(report, indent=2), flush=True)

    t = time.perf_counter()
    world = build_world(scenario.world, scenario.seed)
    build_s = time.perf_counter() - t
    pop = world.population
    t = time.perf_counter()
    arrays, schedules = compile_campaign(scenario, pop)
    compile_s = time.perf_counter() - t
    report["world"] = {"audience": pop.n_audience, "creators": pop.n_creators, "accounts": world.graph.n,
                       "follow_edges": world.graph.m, "build_seconds": round(build_s, 1),
                       "campaign_arrays_seconds": round(compile_s, 1),
                       "peak_rss_gib_after_build": round(peak_rss_gib(), 2)}
    print(json.dumps(report["world"], indent=2), flush=True)

    trials = {}
    for strategy, schedule in zip(scenario.strategy_list, schedules, strict=True):
        t = time.perf_counter()
        out = simulate(pop, arrays, schedule, root_key(scenario.seed), np.arange(1))
        seconds = time.perf_counter() - t
        totals = dict(zip(("reach", "impressions", "engagements", "adopters"), out.totals[0, :4].tolist(), strict=True))
        trials[strategy.name] = {"seconds": round(seconds, 2), "partners": len(schedule.partner_creator),
                                 "posts": len(schedule.day), **totals,
                                 "exposures_per_second": round(totals["impressions"] / seconds)}
        print(strategy.name, json.dumps(trials[strategy.name]), flush=True)
    report["one_trial"] = trials
    report["peak_rss_gib"] = round(peak_rss_gib(), 2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"peak resident memory {report['peak_rss_gib']} GiB; written {args.out}")


if __name__ == "__main__":
    main()
