"""Interleaved A/B of the kernels of two commits in one process: whether the new code is as fast as the old.

Usage::

    git archive <old commit> | tar -x -C /tmp/old          # the old tree, anywhere
    python -m benchmarks.ab_kernels --old /tmp/old [--repeats 11] [--target 0.5] [--cases ...]

The old commit's ``sim/campaign/kernel.py`` and ``sim/classic/kernel.py`` are loaded from
that tree under other module names, next to this checkout's kernels (both import this
checkout's :mod:`sim.base.rng` and :mod:`sim.base.intrinsics`, so those must be the same in both
commits, new members of the ``Stream`` enum aside: the script refuses otherwise). Each case is
timed on the same inputs, batch and trials on both sides:

* campaign (``scenarios/celebrity_vs_micro.yaml``, each strategy): the old kernel's
  ``campaign_trials`` on its own records (built from this checkout's compiled arrays, the fields
  the old records have; or its positional arguments, for a kernel before the records) against
  new :func:`sim.campaign.model.simulate` (records built per call, as ``run()``'s chunks do).
  ``--set key.path=value`` changes the scenario of both sides (e.g. the mechanisms of issue 19 at
  their neutral values, so both compute the same model); ``--new-set`` the new side's only (the
  cost of a mechanism: outputs then differ, on purpose). Outputs are compared column by column
  of the old kernel's ``TOTALS``;
* IC p = 0.01 and p = 0.05, LT (n = 10k, the suite's cases, :mod:`benchmarks.cases`): old
  and new ``final_sizes(graph, model, plan, root, trials)``.

Method: the batch is sized so one call takes about ``--target`` seconds; then ``--repeats``
pairs are timed (wall time, ``time.perf_counter``, and the thread's CPU time,
``time.thread_time``, which leaves out time spent waiting for a core on a shared machine),
the order alternating (old first, then new first), so a drift of machine load within a pair
does not favour one side. Each pair gives a speed ratio new/old (time old / time new); the
medians over pairs and their ranges are reported, with the median trials/s of each side. The
outputs of both sides are compared once per case (``np.array_equal``). On a shared machine, read
the paired ratios, not the rates.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from benchmarks import measure as M
from benchmarks.cases import CASES, CampaignCase, CascadeCase

HERE = Path(__file__).resolve().parent.parent


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


#: Members of the ``Stream`` enum (a new stream is a new member: it changes no draw of the old kernels).
_STREAM_MEMBER = re.compile(r"^    [A-Z_]+ = \d+ +#:.*$|^    # .*$")


def _same_shared(old: Path, new: Path) -> bool:
    """Whether two copies of a shared module agree, new ``Stream`` members and comments in it aside."""
    def lines(p: Path) -> list[str]:
        return [ln for ln in p.read_text().splitlines() if not _STREAM_MEMBER.match(ln)]

    return lines(old) == lines(new)


def _shared(tree: Path, name: str) -> Path:
    """``sim/base/<name>`` (the stage-package layout) or ``sim/<name>`` (before it)."""
    staged = tree / "sim" / "base" / name
    return staged if staged.is_file() else tree / "sim" / name


def _scenario(path: Path, sets: list[str]):
    """The scenario at ``path`` with ``key.path=value`` changes (values read as YAML)."""
    import sim
    from sim.input import keypaths

    scenario = sim.load_scenario(path)
    if not sets:
        return scenario
    data = scenario.model_dump(mode="python")
    changes = {}
    for item in sets:
        key, _, value = item.partition("=")
        changes[keypaths.split(key)] = yaml.safe_load(value)
    from sim.input.scenario import Scenario

    return Scenario.model_validate(keypaths.with_values(data, changes))


def _old_records(old_ck, pop, arrays, sched):
    """The old kernel's three records, each with the fields it declares, from this checkout's arrays."""
    from sim.base.kernel_records import build
    from sim.campaign import model

    new = model.kernel_records(pop, arrays, sched)
    return tuple(build(cls, **{f: getattr(rec, f) for f in cls._fields})
                 for cls, rec in zip((old_ck.KernelWorld, old_ck.KernelPosts, old_ck.KernelParams), new, strict=True))


def _old_campaign_args(pop, a, s) -> tuple:
    """The campaign kernel's positional arguments before the records (``kernel_args`` of ``ed44704``)."""
    g = pop.graph
    return (g.indptr, g.indices, a.channel, a.reach, a.trust0, a.engagement,
            a.eligible, a.threshold_scale, a.segment,
            s.day, s.account, s.channel, s.partner, s.factor, s.n_discovery, s.discovery_engagement,
            s.discovery_trust, s.draw, a.plat_ptr, a.plat_members,
            a.shock, a.decay, a.growth, a.wear, a.recovery, a.ceiling, a.reshare, a.reshare_factor,
            a.mode, a.rate, a.dose_unit, a.days)


def _timed(fn) -> tuple[float, float]:
    """Wall and CPU seconds (this thread's) of one call."""
    w0, c0 = time.perf_counter(), time.thread_time()
    fn()
    return time.perf_counter() - w0, time.thread_time() - c0


def _pairs(old, new, repeats: int) -> dict:
    """Alternating paired timings of two no-argument callables (wall and CPU time)."""
    t_old, t_new = [], []
    for r in range(repeats):
        for side in ("old", "new") if r % 2 == 0 else ("new", "old"):
            (t_old if side == "old" else t_new).append(_timed(old if side == "old" else new))
    wall = [o[0] / n[0] for o, n in zip(t_old, t_new, strict=True)]
    cpu = [o[1] / n[1] for o, n in zip(t_old, t_new, strict=True)]
    return {"ratio_median": statistics.median(wall), "ratio_min": min(wall), "ratio_max": max(wall),
            "ratios": [round(x, 4) for x in wall],
            "cpu_ratio_median": statistics.median(cpu), "cpu_ratio_min": min(cpu), "cpu_ratio_max": max(cpu),
            "seconds_old": [o[0] for o in t_old], "seconds_new": [n[0] for n in t_new],
            "cpu_seconds_old": [o[1] for o in t_old], "cpu_seconds_new": [n[1] for n in t_new]}


def _same_outputs(old_ck, old_out, new_out) -> bool:
    """Old and new kernel outputs agree: totals on the old ``TOTALS`` columns, the rest whole."""
    from sim.campaign import kernel as ck

    cols = [ck.TOTALS.index(c) for c in old_ck.TOTALS]
    return (np.array_equal(old_out[0], new_out[0][:, cols])
            and all(np.array_equal(x, y) for x, y in zip(old_out[1:], new_out[1:], strict=True)))


def _campaign(case: CampaignCase, old_ck, args) -> list[dict]:
    from sim.base.rng import root_key
    from sim.campaign.model import simulate
    from sim.execution.prepare import prepare

    base = prepare(_scenario(case.path, args.set))
    new = prepare(_scenario(case.path, args.set + args.new_set)) if args.new_set else base
    root = root_key(base.scenario.seed)
    records = hasattr(old_ck, "KernelWorld")
    out = []
    for si, (sched, new_sched) in enumerate(zip(base.plans, new.plans, strict=True)):
        name = base.scenario.strategy_list[si].name
        pop, arrays = base.world.population, base.model
        if records:
            old_rec = _old_records(old_ck, pop, arrays, sched)

            def run_old(k, old_rec=old_rec):
                return old_ck.campaign_trials(*old_rec, np.uint64(root), np.arange(k, dtype=np.int64))
        else:
            old_args = _old_campaign_args(pop, arrays, sched)
            n_p, n_s = len(sched.partner_creator), len(pop.segments)

            def run_old(k, old_args=old_args, n_p=n_p, n_s=n_s):
                return old_ck.campaign_trials(*old_args, np.uint64(root), np.arange(k, dtype=np.int64), n_p, n_s)

        def run_new(k, sched=new_sched, pop=new.world.population, arrays=new.model):
            o = simulate(pop, arrays, sched, root, np.arange(k, dtype=np.int64))
            return o.totals, o.series, o.partners, o.segments

        same = _same_outputs(old_ck, run_old(64), run_new(64))
        batch = M.calibrate(run_new, args.target)
        rec = _pairs(functools.partial(run_old, batch), functools.partial(run_new, batch), args.repeats)
        out.append(_finish(f"campaign {name}", batch, rec, same))
    return out


def _cascade(case: CascadeCase, old_kernel, args) -> dict:
    from benchmarks.engines import OursKernel, ba_graph, fixed_recruits, hetero_probs, weighted_graph
    from sim.classic.kernel import final_sizes

    graph = ba_graph(case.n, case.m, case.seed)
    kgraph = weighted_graph(graph, hetero_probs(case, graph.m)) if case.p_range is not None else graph
    ours = OursKernel(case, kgraph, fixed_recruits(case.n, case.recruits))

    def run_old(k):
        return old_kernel.final_sizes(ours.graph, ours.model, ours.plan, ours.root, np.arange(k, dtype=np.int64))

    def run_new(k):
        return final_sizes(ours.graph, ours.model, ours.plan, ours.root, np.arange(k, dtype=np.int64))

    same = all(np.array_equal(x, y) for x, y in zip(run_old(4096), run_new(4096), strict=True))
    batch = M.calibrate(run_new, args.target)
    rec = _pairs(lambda: run_old(batch), lambda: run_new(batch), args.repeats)
    return _finish(case.label, batch, rec, same)


def _finish(label: str, batch: int, rec: dict, same: bool) -> dict:
    rec.update(case=label, batch=batch, identical_outputs=same,
               old_trials_per_s=batch / statistics.median(rec["seconds_old"]),
               new_trials_per_s=batch / statistics.median(rec["seconds_new"]))
    print(f"  {label:<28} new/old {rec['ratio_median']:.3f} (range {rec['ratio_min']:.3f}-{rec['ratio_max']:.3f}; "
          f"CPU time {rec['cpu_ratio_median']:.3f}, {rec['cpu_ratio_min']:.3f}-{rec['cpu_ratio_max']:.3f}); "
          f"{rec['old_trials_per_s']:,.0f} -> {rec['new_trials_per_s']:,.0f} trials/s; identical: {same}", flush=True)
    return rec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ab_kernels", description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", type=Path, required=True, help="a tree of the old commit (git archive ... | tar -x)")
    ap.add_argument("--repeats", type=int, default=11, help="alternating pairs per case (default 11)")
    ap.add_argument("--target", type=float, default=0.5, help="seconds per timed call (default 0.5)")
    ap.add_argument("--cases", default="campaign_exposures,ic_p01_10k,ic_p05_10k,lt_10k")
    ap.add_argument("--out", type=Path, default=None, help="write the raw timings as JSON")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="change the campaign scenario on both sides (repeatable)")
    ap.add_argument("--new-set", action="append", default=[], metavar="KEY=VALUE",
                    help="change the campaign scenario on the new side only (repeatable)")
    args = ap.parse_args(argv)
    for shared in ("rng.py", "intrinsics.py"):
        if not _same_shared(_shared(args.old, shared), _shared(HERE, shared)):
            ap.error(f"{shared} differs between the commits: the old kernels would run this checkout's {shared}")
    old_ck = _load(args.old / "sim" / "campaign" / "kernel.py", "_old_campaign_kernel")
    old_classic = _load(args.old / "sim" / "classic" / "kernel.py", "_old_classic_kernel")
    wanted = args.cases.split(",")
    info = M.machine_info()
    print(f"new: {info['git_commit'][:10]}{' (dirty)' if info['git_dirty'] else ''}, old: {args.old}; "
          f"other processes now use {M.foreign_load():.2f} cores", flush=True)
    results, monitor = [], M.LoadMonitor()
    for case in CASES:
        if case.name not in wanted:
            continue
        if isinstance(case, CampaignCase):
            results += _campaign(case, old_ck, args)
        elif isinstance(case, CascadeCase):
            results.append(_cascade(case, old_classic, args))
    load = monitor.read()
    print(f"other processes used {load['foreign_cores']:.2f} cores on average (load {load['loadavg_start'][0]} -> "
          f"{load['loadavg_end'][0]})")
    if args.out:
        args.out.write_text(json.dumps({"machine": info, "load": load, "repeats": args.repeats,
                                        "target": args.target, "results": results}, indent=1))
    return 0 if all(r["identical_outputs"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
