"""Save every output of the kernels on a fixed set of inputs, and compare two such saves bit for bit.

A kernel change that should change no number (a refactor, a speed-up) is checked by saving
the outputs before it, again after it, and comparing::

    python -m benchmarks.kernel_outputs save /tmp/before.npz      # at the old commit
    python -m benchmarks.kernel_outputs save /tmp/after.npz       # at the new one
    python -m benchmarks.kernel_outputs compare /tmp/before.npz /tmp/after.npz

Only the kernels' public entry points are called (``sim.campaign.model.simulate``,
``funnel_days``, ``cascade_tree``; ``sim.classic.kernel.final_sizes`` and
``activation_times``), so one copy of this script runs against both commits. The inputs:

* campaign: every campaign scenario in ``scenarios/`` as it is (every strategy, trials 0-15
  and 2**40 + 3), ``celebrity_vs_micro`` in independent adoption mode, and the random worlds
  of ``tests/equivalence/test_campaign_engines.py`` (36 worlds, both adoption modes, every
  mechanism on in most), plus per-account adoption and first-engagement days and the cascade
  tree of three trials per strategy;
* classic: IC at p = 0.005 ... 1 (one probability, so the kernel's single-threshold path),
  weighted cascade and heterogeneous per-edge p, LT with in-degree, numeric and per-edge
  weights, the fractional threshold and every general-threshold law (fixed, uniform, normal,
  signals, listed; instigators; counts), each with fixed, mixed and random recruits, on
  trial sets in and out of order and across blocks, with step limits; activation times of
  single trials.

This is a tool for kernel work, not a test: the numbers it saves are draws of the current
draw scheme, and a change of the model changes them on purpose.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path.cwd()
TRIALS = np.array([*range(16), 2**40 + 3], dtype=np.int64)
DETAIL_TRIALS = (0, 7, 2**40 + 3)


def _campaign_outputs(out: dict, tag: str, prepared) -> None:
    from sim.base.rng import root_key
    from sim.campaign import model as campaign

    pop, arrays = prepared.world.population, prepared.model
    root = root_key(prepared.scenario.seed)
    for si, sched in enumerate(prepared.plans):
        key = f"{tag}/s{si}"
        out[f"{key}/partner_creator"] = sched.partner_creator
        res = campaign.simulate(pop, arrays, sched, root, TRIALS)
        for name in ("totals", "series", "partners", "segments"):
            out[f"{key}/{name}"] = getattr(res, name)
        for t in DETAIL_TRIALS:
            days, engaged, totals = campaign.funnel_days(pop, arrays, sched, root, t)
            out[f"{key}/t{t}/adopted_day"] = days
            out[f"{key}/t{t}/engaged_day"] = engaged
            out[f"{key}/t{t}/totals"] = totals
            tree = campaign.cascade_tree(pop, arrays, sched, root, t)
            for name in ("account", "day", "parent", "post", "partner", "generation"):
                out[f"{key}/t{t}/tree_{name}"] = getattr(tree, name)


def _scenarios(out: dict) -> None:
    import sim
    from sim.campaign.model import CampaignWorldArrays
    from sim.execution.prepare import prepare

    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        scenario = sim.load_scenario(path)
        prepared = prepare(scenario)
        if not isinstance(prepared.model, CampaignWorldArrays):
            continue
        t0 = time.perf_counter()
        _campaign_outputs(out, f"scenario/{path.stem}", prepared)
        print(f"  {path.stem}: {len(prepared.plans)} strategies, {time.perf_counter() - t0:.1f} s", flush=True)
    path = ROOT / "scenarios" / "celebrity_vs_micro.yaml"
    text = path.read_text()
    assert "adoption: threshold" in text
    scenario = sim.parse_scenario(text.replace("adoption: threshold", "adoption: independent"),
                                  base_dir=path.parent, source=str(path))
    _campaign_outputs(out, "scenario/celebrity_vs_micro_independent", prepare(scenario))


def _random_worlds(out: dict) -> None:
    from sim.campaign.model import compile_campaign
    from sim.world.build import build_world

    spec = importlib.util.spec_from_file_location(
        "_equivalence_worlds", ROOT / "tests" / "equivalence" / "test_campaign_engines.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for i in range(mod.N_WORLDS):
        scenario = mod._scenario(i)
        pop = build_world(scenario.world, scenario.seed).population
        arrays, schedules = compile_campaign(scenario, pop)

        class _Prepared:  # what _campaign_outputs reads of sim.families.protocol.Prepared
            pass

        p = _Prepared()
        p.world = type("W", (), {"population": pop})()
        p.model, p.plans, p.scenario = arrays, schedules, scenario
        _campaign_outputs(out, f"world/{i}", p)
    print(f"  {mod.N_WORLDS} random worlds", flush=True)


def _classic(out: dict) -> None:
    from sim.base.rng import root_key
    from sim.classic import spec as cs
    from sim.classic.kernel import activation_times, final_sizes
    from sim.classic.model import compile_model
    from sim.classic.recruits import RecruitPlan
    from sim.world.build import build_graph
    from sim.world.graph import FlatGraph
    from sim.world.spec import BarabasiAlbertGraph, ErdosRenyiGraph

    ba = build_graph(BarabasiAlbertGraph(kind="barabasi_albert", n=3000, m=3), 4)
    er = build_graph(ErdosRenyiGraph(kind="erdos_renyi", n=2000, mean_degree=4.0, directed=True), 5)
    rng = np.random.default_rng(17)
    graphs = {}
    for gname, g in (("ba", ba), ("er", er)):
        w = rng.uniform(0.0, 0.1, g.m)
        graphs[gname] = FlatGraph(g.indptr, g.indices, g.labels, w, True, g.name + " + weights")
    models = {
        **{f"ic_p{p:g}": cs.IndependentCascade(kind="independent_cascade", edge_prob=p)
           for p in (0.005, 0.02, 0.05, 0.12, 0.3, 1.0)},
        "ic_wc": cs.IndependentCascade(kind="independent_cascade", edge_prob="weighted_cascade"),
        "ic_het": cs.IndependentCascade(kind="independent_cascade", edge_prob="edge_weight"),
        "lt_indeg": cs.LinearThreshold(kind="linear_threshold", weights="in_degree"),
        "lt_w0.1": cs.LinearThreshold(kind="linear_threshold", weights=0.1),
        "lt_edge": cs.LinearThreshold(kind="linear_threshold", weights="edge_weight"),
        "frac_0.2": cs.FractionalThreshold(kind="fractional_threshold", phi=0.2),
        "frac_0.5": cs.FractionalThreshold(kind="fractional_threshold", phi=0.5),
    }
    thresholds = {
        "fixed": {"kind": "fixed", "value": 0.25},
        "uniform": {"kind": "uniform", "low": 0.1, "high": 0.6},
        "normal": {"kind": "normal", "mean": 0.3, "sd": 0.15},
        "signals": {"kind": "signals", "adopt": [0.05, 0.3, 0.6]},
    }
    for name, th in thresholds.items():
        for inst in (False, True):
            for units in ("fraction", "count"):
                if (units == "count") != (name == "signals") and name in ("normal", "signals"):
                    continue  # normal: fractions only; signals: counts only
                t = dict(th)
                if units == "count" and name == "fixed":
                    t["value"] = 2
                if units == "count" and name == "uniform":
                    t.update(low=1, high=3)
                models[f"gt_{name}_{units}_{'inst' if inst else 'plain'}"] = cs.GeneralThreshold(
                    kind="threshold", thresholds=t, units=units, instigators=inst)
    trial_sets = {
        "block": np.arange(256, dtype=np.int64),
        "shuffled": np.random.default_rng(3).permutation(np.arange(40, 300, dtype=np.int64))[:150],
        "far": np.array([2**40 + 3, 7, 64, 63, 2**40 + 3, 0], dtype=np.int64),
    }
    root = root_key(20261126)
    for gname, g in graphs.items():
        rng = np.random.default_rng(23)
        fixed = np.sort(rng.choice(g.n, 40, replace=False)).astype(np.int32)
        plans = {"fixed40": RecruitPlan(fixed, 0), "mixed": RecruitPlan(fixed[:5], 3),
                 "random2": RecruitPlan(np.zeros(0, np.int32), 2), "one": RecruitPlan(fixed[:1], 0)}
        listed = cs.GeneralThreshold(kind="threshold", thresholds={
            "kind": "listed", "values": np.round(rng.uniform(-0.05, 0.8, g.n), 3).tolist()}, instigators=True)
        for mname, spec in {**models, "gt_listed_inst": listed}.items():
            model = compile_model(spec, g)
            for pname, plan in plans.items():
                key = f"classic/{gname}/{mname}/{pname}"
                for tname, trials in trial_sets.items():
                    for limit in (None, 0, 1, 3):
                        if limit is not None and tname != "block":
                            continue
                        sizes, steps = final_sizes(g, model, plan, root, trials, limit)
                        out[f"{key}/{tname}/{limit}/sizes"] = sizes
                        out[f"{key}/{tname}/{limit}/steps"] = steps
                for t in (0, 1, 65, 2**40 + 3):
                    for limit in (None, 2):
                        out[f"{key}/times/{t}/{limit}"] = activation_times(g, model, plan, root, t, limit)
    print(f"  classic: {len(models) + 1} models x {len(graphs)} graphs", flush=True)


def save(path: Path, parts: list[str]) -> None:
    import sim

    print(f"sim from {Path(sim.__file__).parent}", flush=True)
    out: dict[str, np.ndarray] = {}
    t0 = time.perf_counter()
    if "classic" in parts:
        _classic(out)
    if "scenarios" in parts:
        _scenarios(out)
    if "worlds" in parts:
        _random_worlds(out)
    np.savez_compressed(path, **out)
    print(f"{len(out)} arrays ({sum(a.size for a in out.values()):,} values) in {time.perf_counter() - t0:.0f} s "
          f"-> {path}")


def compare(a_path: Path, b_path: Path, subset: bool = False) -> int:
    """Compare two saves array by array (dtype, shape and bytes); returns 1 if any differs.

    ``subset``: arrays in only one of the saves (one saved with fewer ``--parts``) are allowed.
    """
    a, b = np.load(a_path), np.load(b_path)
    ka, kb = set(a.files), set(b.files)
    common = sorted(ka & kb)
    differ = [k for k in common
              if a[k].dtype != b[k].dtype or a[k].shape != b[k].shape or a[k].tobytes() != b[k].tobytes()]
    values = sum(a[k].size for k in common)
    print(f"{len(common)} arrays in both ({values:,} values): {len(differ)} differ; "
          f"only in {a_path}: {len(ka - kb)}, only in {b_path}: {len(kb - ka)}")
    for k in differ[:20]:
        print(f"  differs: {k}")
    return 1 if differ or (not subset and ka != kb) else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.kernel_outputs", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("save", help="run the kernels on every input and save their outputs")
    s.add_argument("path", type=Path)
    s.add_argument("--parts", default="classic,scenarios,worlds")
    c = sub.add_parser("compare", help="compare two saves bit for bit (exit 1 if any array differs)")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    c.add_argument("--subset", action="store_true", help="allow arrays saved in only one of the two")
    args = ap.parse_args(argv)
    if args.cmd == "save":
        save(args.path, args.parts.split(","))
        return 0
    return compare(args.a, args.b, args.subset)


if __name__ == "__main__":
    sys.exit(main())
