"""Measuring one case on every engine: the procedures behind ``python -m benchmarks.run``.

:class:`Suite` measures a cascade case (:meth:`Suite.run_case`: our kernel and the other
engines of ours asked for (``Settings.engines``, :data:`benchmarks.engines.ENGINES`),
cynetdiff's two loops, interleaved; ``run()``; NDlib; agreement of the means; edges examined;
two workers) and the campaign case (:meth:`Suite.run_campaign`), each into a JSON-ready
record that :mod:`benchmarks.report` turns into tables. :func:`warm_up` loads or compiles
every kernel before anything is timed. Timing, memory and load primitives are in
:mod:`benchmarks.measure`; what is measured in :mod:`benchmarks.cases`; how each engine is
called in :mod:`benchmarks.engines`.
"""

from __future__ import annotations

import functools
import importlib
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import measure as M
from benchmarks.cases import PARALLEL_FLOOR, CampaignCase, CascadeCase
from benchmarks.engines import (
    ENGINES,
    IMPRESSIONS,
    PAIRS,
    RUN_TOTALS,
    CampaignMesa,
    Cynetdiff,
    NDlib,
    OursCampaignKernel,
    OursCampaignRun,
    OursKernel,
    OursRun,
    ba_graph,
    campaign_prepared,
    edge_attribute,
    fixed_recruits,
    hetero_probs,
    to_digraph,
    weighted_graph,
)
from benchmarks.measure import Settings, log, median
from sim.campaign.kernel import TOTALS as CAMPAIGN_TOTALS


class Suite:
    """Shared state across cases: cached graphs, a work directory, settings."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.s = settings
        self.workdir = workdir
        self._graphs: dict[tuple, dict] = {}

    def inputs(self, case: CascadeCase) -> dict:
        """Graph (FlatGraph + DiGraph) of the case, built once per (n, m, seed)."""
        key = (case.n, case.m, case.seed)
        if key not in self._graphs:
            for old in list(self._graphs):  # keep one size in memory at a time
                del self._graphs[old]
            log(f"  building BA graph n={case.n} m={case.m} (sim.world.build.build_graph) ...")
            t0 = time.perf_counter()
            with M.PeakRSS() as mem_g:
                graph = ba_graph(case.n, case.m, case.seed)
            t1 = time.perf_counter()
            with M.PeakRSS() as mem_d:
                digraph = to_digraph(graph)
            t2 = time.perf_counter()
            flat_bytes = (
                graph.indptr.nbytes
                + graph.indices.nbytes
                + graph.labels.nbytes
                + graph.in_degree.nbytes
            )
            self._graphs[key] = {
                "graph": graph,
                "digraph": digraph,
                "facts": {
                    "n": graph.n,
                    "directed_edges": graph.m,
                    "mean_out_degree": graph.m / graph.n,
                    "max_out_degree": int(graph.out_degree.max()),
                    "build_graph_s": round(t1 - t0, 2),
                    "to_digraph_s": round(t2 - t1, 2),
                    "flatgraph_mib": round(flat_bytes / 2**20, 1),
                    "flatgraph_build": mem_g.as_dict(),
                    "digraph": mem_d.as_dict(),
                },
            }
        return self._graphs[key]

    # ------------------------------------------------------------------ one case

    def run_case(self, case: CascadeCase) -> dict:
        """Measure one case on every engine; returns its JSON record."""
        s = self.s
        shared = self.inputs(case)
        graph, digraph = shared["graph"], shared["digraph"]
        recruits = fixed_recruits(case.n, case.recruits)
        prob = hetero_probs(case, graph.m) if case.p_range is not None else None
        kgraph = weighted_graph(graph, prob) if prob is not None else graph
        rec: dict[str, Any] = {
            "name": case.name,
            "label": case.label,
            "status": "ok",
            "spec": asdict(case),
            "graph": shared["facts"],
            "recruits": recruits.tolist(),
            "engines": {},
        }
        eng = rec["engines"]
        monitor = M.LoadMonitor()

        # -- set-up of our engines and of cynetdiff (each in its own memory window)
        with M.PeakRSS() as mem_k_setup:
            t0 = time.perf_counter()
            ours = OursKernel(case, kgraph, recruits)
            k_setup_s = time.perf_counter() - t0
        ours.run_batch(2)  # warm-up (kernels already compiled / loaded from cache by warm_up)
        others = {}  # other engines of ours (--engine): name -> (adapter, set-up s, set-up memory)
        for name in s.engines:
            if name == "numba":
                continue
            with M.PeakRSS() as mem_o:
                t0 = time.perf_counter()
                other = ENGINES[name](case, kgraph, recruits)
                o_setup_s = time.perf_counter() - t0
            other.run_batch(2)
            others[name] = (other, o_setup_s, mem_o)
        ctx = (
            edge_attribute(digraph, graph, "activation_prob", prob) if prob is not None else _null()
        )
        with ctx:
            with M.PeakRSS() as mem_c_setup:
                t0 = time.perf_counter()
                cyn = Cynetdiff(case, digraph, recruits)
                c_setup_s = time.perf_counter() - t0
        cyn.run_bulk(10)
        cyn.run_loop(10)

        # -- batch sizes; one full batch per engine inside a memory window (trial working memory)
        with M.PeakRSS() as mem_k_trials:
            batch = M.calibrate(ours.run_batch, s.target)
            ours.run_batch(batch)
        o_batch, o_mem = {}, {}
        for name, (other, _, _) in others.items():
            with M.PeakRSS() as o_mem[name]:
                o_batch[name] = M.calibrate(other.run_batch, s.target)
                other.run_batch(o_batch[name])
        with M.PeakRSS() as mem_c_trials:
            b_batch = M.calibrate(cyn.run_bulk, s.target, start=10)
            l_batch = M.calibrate(cyn.run_loop, s.target, start=10)
            cyn.run_bulk(b_batch)

        # -- interleaved repeats (ours, our other engines, cynetdiff C loop, cynetdiff Python loop),
        #    the order reversed in every other repeat, so that a change of machine load hits all
        #    alike; each repeat also gives paired ratios
        calls = [functools.partial(ours.run_batch, batch)]
        calls += [functools.partial(other.run_batch, o_batch[name]) for name, (other, _, _) in others.items()]
        calls += [functools.partial(cyn.run_bulk, b_batch), functools.partial(cyn.run_loop, l_batch)]
        seconds, results = M.interleave(calls, s.repeats)
        timing = M.Timing(batch, [row[0] for row in seconds])
        b_timing = M.Timing(b_batch, [row[-2] for row in seconds])
        l_timing = M.Timing(l_batch, [row[-1] for row in seconds])
        sizes, b_mean, l_sizes = results[0], results[-2], results[-1]
        peer = [max(b_batch / row[-2], l_batch / row[-1]) for row in seconds]  # faster cynetdiff loop, per repeat
        paired = [batch / row[0] / c for row, c in zip(seconds, peer, strict=True)]
        ref = M.mean_sd(sizes)
        loop_stats = M.mean_sd(l_sizes)
        eng["ours_kernel"] = {
            **timing.summary(),
            **ref,
            "setup_s": round(k_setup_s, 4),
            "setup_mem": mem_k_setup.as_dict(),
            "trials_mem": mem_k_trials.as_dict(),
        }
        eng["cynetdiff_bulk"] = {
            **b_timing.summary(),
            "mean": b_mean,
            "trials": b_batch,
            "call": "model.compute_marginal_gains(seeds, [], k)",
        }
        eng["cynetdiff_loop"] = {
            **l_timing.summary(),
            **loop_stats,
            "call": "reset_model(); advance_until_completion(); get_num_activated_nodes()",
        }
        eng["cynetdiff"] = {
            "setup_s": round(c_setup_s, 3),
            "setup_mem": mem_c_setup.as_dict(),
            "trials_mem": mem_c_trials.as_dict(),
        }
        k_rate = timing.summary()["trials_per_s"]
        cb, cl = eng["cynetdiff_bulk"]["trials_per_s"], eng["cynetdiff_loop"]["trials_per_s"]
        log(f"  ours kernel     {k_rate:12,.0f} trials/s  (batch {batch}, mean {ref['mean']:.2f})")
        for i, (name, (other, o_setup_s, mem_o)) in enumerate(others.items(), start=1):
            o_timing = M.Timing(o_batch[name], [row[i] for row in seconds])
            o_rates = [o_batch[name] / row[i] for row in seconds]
            same = bool(np.array_equal(other.sizes(np.arange(min(batch, 4096), dtype=np.int64)),
                                       ours.sizes(np.arange(min(batch, 4096), dtype=np.int64))))
            eng[f"ours_{name}"] = {
                **o_timing.summary(),
                "engine": name,
                "label": other.label,
                "setup_s": round(o_setup_s, 4),
                "setup_mem": mem_o.as_dict(),
                "trials_mem": o_mem[name].as_dict(),
                "identical_to_kernel": same,
                "identical_trials": min(batch, 4096),
                "vs_kernel_paired": [r / (batch / row[0]) for r, row in zip(o_rates, seconds, strict=True)],
                "vs_cynetdiff_paired": [r / c for r, c in zip(o_rates, peer, strict=True)],
            }
            e_ = eng[f"ours_{name}"]
            log(f"  ours {name:<10} {e_['trials_per_s']:12,.0f} trials/s  (batch {o_batch[name]}; "
                f"{median(e_['vs_kernel_paired']):.2f}x the kernel; identical to it: {same})")
        log(f"  cynetdiff       {cb:12,.0f} trials/s  C loop; {cl:,.0f} Python loop")

        # -- edges examined: exact, for a sample of trials
        sample = int(min(batch, 2000, max(50, k_rate * 0.5)))
        edges = ours.edges_examined(np.arange(sample, dtype=np.int64))
        rec["edges_examined"] = {
            "per_trial_mean": float(edges.mean()),
            "per_trial_se": float(edges.std(ddof=1) / math.sqrt(sample)),
            "sample_trials": sample,
            "method": "exact sum of out-degrees of activated accounts (sim.classic.kernel.activation_times) "
            "over trials 0..sample-1; the same mean is applied to every engine",
        }

        # -- public API: run() (run() and its imports were warmed up once for the whole suite: see warm_up);
        #    each run() is followed by one batch of each cynetdiff loop for a paired ratio
        runner = OursRun(case, recruits, self.workdir, kgraph if prob is not None else None)
        runs, run_paired = [], []
        with M.PeakRSS() as mem_run:
            for rep in range(s.run_repeats):
                if rep % 2:  # alternating order, as for the kernel
                    dt_l, _ = M.timed(lambda: cyn.run_loop(l_batch))
                    dt_b, _ = M.timed(lambda: cyn.run_bulk(b_batch))
                runs.append(runner.run(batch))
                if not rep % 2:
                    dt_b, _ = M.timed(lambda: cyn.run_bulk(b_batch))
                    dt_l, _ = M.timed(lambda: cyn.run_loop(l_batch))
                total, prep = runs[-1][0], runs[-1][1]
                run_paired.append((batch / (total - prep)) / max(b_batch / dt_b, l_batch / dt_l))
        cyn = None  # free cynetdiff's model before NDlib is measured
        pg = runner.last_prepared.world.graph
        same_graph = (
            np.array_equal(pg.indptr, kgraph.indptr)
            and np.array_equal(pg.indices, kgraph.indices)
            and (prob is None or np.array_equal(pg.weight, kgraph.weight))
        )
        same_sizes = all(np.array_equal(r[2], sizes) for r in runs)
        totals, preps = [r[0] for r in runs], [r[1] for r in runs]
        phases = [t - p for t, p in zip(totals, preps, strict=True)]
        eng["ours_run"] = {
            **M.run_rates(batch, totals, phases),
            "batch": batch,
            "repeats": len(runs),
            "seconds": [round(t, 3) for t in totals],
            "prepare_seconds": [round(p, 3) for p in preps],
            "world": "barabasi_albert (generated in each run)"
            if prob is None
            else "edgelist file (read in each run)",
            "mem": mem_run.as_dict(),
            "same_graph_as_kernel": bool(same_graph),
            "identical_sizes_to_kernel": bool(same_sizes),
        }
        r = eng["ours_run"]
        log(
            f"  ours run()      {r['trial_phase_trials_per_s']:12,.0f} trials/s  excluding world build; "
            f"{r['trials_per_s']:,.0f} end to end (prepare {median(preps):.2f} s); identical to kernel: {same_sizes}"
        )

        # -- NDlib
        if s.ndlib:
            try:
                with M.PeakRSS() as mem_nd:
                    t0 = time.perf_counter()
                    nd = NDlib(case, digraph, graph, recruits, prob)
                    nd_setup = time.perf_counter() - t0
                    out = nd.run_budget(s.ndlib_budget, s.ndlib_cap)
                del nd
                nd_stats = M.mean_sd(out["sizes"])
                eng["ndlib"] = {
                    "trials_per_s": out["trials_per_s"],
                    "upper_bound": out["upper_bound"],
                    "elapsed": round(out["elapsed"], 2),
                    "aborted": out["aborted"],
                    **nd_stats,
                    "setup_s": round(nd_setup, 2),
                    "mem": mem_nd.as_dict(),
                }
                if out["trials_per_s"] is not None:
                    log(
                        f"  NDlib           {out['trials_per_s']:12,.2f} trials/s  ({nd_stats['trials']} trial(s))"
                    )
                else:
                    log(
                        f"  NDlib           no trial finished in {out['elapsed']:.1f} s "
                        f"(< {out['upper_bound']:.3f} trials/s)"
                    )
            except Exception as exc:  # a peer failing must not lose the rest of the case
                eng["ndlib"] = {"error": f"{type(exc).__name__}: {exc}"}
                log(f"  NDlib failed: {exc}")

        # -- agreement of mean final sizes with our kernel
        agree = {
            "reference": {"engine": "ours_kernel", **ref},
            "cynetdiff_loop": M.agreement(
                ref, loop_stats["mean"], loop_stats["sd"], loop_stats["trials"]
            ),
            "cynetdiff_bulk": M.agreement(
                ref,
                b_mean,
                loop_stats["sd"],
                b_batch,
                "sd taken from the Python loop (the C loop returns only a float32 mean)",
            ),
            "ours_run_identical": bool(same_sizes),
        }
        nd = eng.get("ndlib", {})
        if nd.get("trials"):
            small = nd["trials"] < 10
            sd = ref["sd"] if small else nd["sd"]
            agree["ndlib"] = M.agreement(
                ref,
                nd["mean"],
                sd,
                nd["trials"],
                "fewer than 10 trials: our sd used for NDlib's standard error" if small else "",
            )
        rec["agreement"] = agree

        # -- ratios, edges/s, floors
        cyn_best = max(cb, cl)
        kt_best = eng["ours_kernel"]["best"]
        rec["ratios"] = {
            "reference": "faster of cynetdiff's C loop and Python loop, per repeat",
            "kernel_vs_cynetdiff": median(paired),
            "kernel_vs_cynetdiff_paired": paired,
            "kernel_vs_cynetdiff_range": [min(paired), max(paired)],
            "kernel_vs_cynetdiff_of_medians": k_rate / cyn_best,
            "kernel_vs_cynetdiff_best_of": kt_best
            / max(eng["cynetdiff_bulk"]["best"], eng["cynetdiff_loop"]["best"]),
            "run_trial_phase_vs_cynetdiff": median(run_paired),
            "run_trial_phase_vs_cynetdiff_paired": run_paired,
            "run_trial_phase_vs_cynetdiff_range": [min(run_paired), max(run_paired)],
            "run_end_to_end_vs_cynetdiff": r["trials_per_s"] / cyn_best,
            "kernel_vs_ndlib": (k_rate / nd["trials_per_s"]) if nd.get("trials_per_s") else None,
            "engines": {
                name: {
                    "vs_kernel": median(eng[f"ours_{name}"]["vs_kernel_paired"]),
                    "vs_cynetdiff": median(eng[f"ours_{name}"]["vs_cynetdiff_paired"]),
                    "vs_cynetdiff_range": [min(eng[f"ours_{name}"]["vs_cynetdiff_paired"]),
                                           max(eng[f"ours_{name}"]["vs_cynetdiff_paired"])],
                }
                for name in others
            },
        }
        e = rec["edges_examined"]["per_trial_mean"]
        rec["edges_per_s"] = {
            "ours_kernel": k_rate * e,
            "ours_run_trial_phase": r["trial_phase_trials_per_s"] * e,
            "cynetdiff_bulk": cb * e,
            "cynetdiff_loop": cl * e,
            "ndlib": nd["trials_per_s"] * e if nd.get("trials_per_s") else None,
        }
        if case.floor is not None:
            rec["floor"] = {
                "required": case.floor,
                "kernel": rec["ratios"]["kernel_vs_cynetdiff"] >= case.floor,
                "run_trial_phase": rec["ratios"]["run_trial_phase_vs_cynetdiff"] >= case.floor,
                "run_end_to_end": rec["ratios"]["run_end_to_end_vs_cynetdiff"] >= case.floor,
            }
        log(
            f"  ratio to cynetdiff: kernel {rec['ratios']['kernel_vs_cynetdiff']:.2f}x, "
            f"run() {rec['ratios']['run_trial_phase_vs_cynetdiff']:.2f}x"
            + (f"  (floor {case.floor:g}x)" if case.floor else "")
        )

        # -- 2 workers
        if case.parallel:
            rec["parallel"] = self.parallel(ours, runner, k_rate)
            p = rec["parallel"]
            log(
                f"  2 workers: kernel {p['kernel_speedup']:.2f}x, run() trial phase "
                f"{p['run_trial_phase_speedup']:.2f}x, end to end {p['run_end_to_end_speedup']:.2f}x "
                f"(other processes {p['load']['foreign_cores']:.2f} cores)"
            )
        rec["load"] = monitor.read()
        return rec

    def parallel(self, ours: OursKernel, runner: OursRun, k_rate: float) -> dict:
        """run(workers=2) vs run(workers=1), and two kernel threads vs one, interleaved repeats."""
        s = self.s
        batch = max(100, int(round(k_rate * s.parallel_target)))
        M.wait_for_quiet(s.quiet_threshold, s.max_wait, log)  # the most load-sensitive measurement
        monitor = M.LoadMonitor()
        k1, k2, r1, r2 = [], [], [], []
        identical = True
        ref = ours.run_batch(batch)
        for i in range(max(5, s.run_repeats)):  # kernel: cheap, more repeats; order alternates
            for threads in (1, 2) if i % 2 == 0 else (2, 1):
                if threads == 1:
                    dt, a = M.timed(lambda: ours.run_batch(batch))
                    k1.append(dt)
                else:
                    dt, a = M.timed(lambda: ours.run_batch_threads(batch, 2))
                    k2.append(dt)
                identical &= bool(np.array_equal(a, ref))
        for i in range(s.run_repeats):
            for workers in (1, 2) if i % 2 == 0 else (2, 1):
                t, p, x = runner.run(batch, workers=workers)
                (r1 if workers == 1 else r2).append((t, p))
                identical &= bool(np.array_equal(x, ref))
        return {
            "batch": batch,
            "repeats": {"kernel": len(k1), "run": len(r1)},
            "kernel_speedup": median(k1) / median(k2),
            "kernel_speedup_best_of": min(k1) / min(k2),
            "run_end_to_end_speedup": median([t for t, _ in r1]) / median([t for t, _ in r2]),
            "run_trial_phase_speedup": median([t - p for t, p in r1])
            / median([t - p for t, p in r2]),
            "kernel_seconds": {"1": [round(x, 3) for x in k1], "2": [round(x, 3) for x in k2]},
            "run_seconds": {
                "1": [[round(t, 3), round(p, 3)] for t, p in r1],
                "2": [[round(t, 3), round(p, 3)] for t, p in r2],
            },
            "identical_results": identical,
            "floor": PARALLEL_FLOOR,
            "load": monitor.read(),
        }

    # ------------------------------------------------------------------ the campaign case

    def run_campaign(self, case: CampaignCase) -> dict:
        """Measure the campaign case: kernel per strategy, run() on the scenario, Mesa briefly."""
        s = self.s
        monitor = M.LoadMonitor()

        # -- set-up: the world, campaign arrays and schedules, as run() builds them
        with M.PeakRSS() as mem_setup:
            t0 = time.perf_counter()
            prepared = campaign_prepared(case)
            setup_s = time.perf_counter() - t0
        scenario = prepared.scenario
        names = [st.name for st in scenario.strategy_list]
        kernels = [OursCampaignKernel(prepared, i) for i in range(len(names))]
        facts = prepared.world_facts().as_dict()
        rec: dict[str, Any] = {
            "name": case.name,
            "label": case.label,
            "status": "ok",
            "kind": "campaign",
            "spec": asdict(case),
            "scenario": {
                "path": case.scenario,
                "seed": scenario.seed,
                "days": scenario.days,
                "adoption": scenario.model.adoption,
                "strategies": names,
            },
            "world": facts,
            "setup_s": round(setup_s, 3),
            "setup_mem": mem_setup.as_dict(),
        }
        log(
            f"  world: {facts['accounts']:,} audience accounts + {facts['creators']:,} creators, "
            f"{facts['edges']:,} follow edges (prepare {setup_s:.2f} s); "
            f"strategies: {', '.join(names)}"
        )

        # -- warm-up call per strategy (kernel loaded by warm_up; first touch of its scratch here)
        for kern in kernels:
            kern.run_batch(2)

        # -- batch sizes; one full batch per strategy inside a memory window (trial working memory)
        batches, mem_trials = [], []
        for kern in kernels:
            with M.PeakRSS() as mem:
                batches.append(M.calibrate(kern.run_batch, s.target))
                kern.run_batch(batches[-1])
            mem_trials.append(mem)

        # -- interleaved repeats over the strategies: a change of machine load hits all alike
        timings = [M.Timing(b) for b in batches]
        first: list[np.ndarray | None] = [None] * len(kernels)
        repeatable = [True] * len(kernels)
        for _ in range(s.repeats):
            for i, kern in enumerate(kernels):
                dt, tot = M.timed(functools.partial(kern.run_batch, batches[i]))
                timings[i].seconds.append(dt)
                if first[i] is None:
                    first[i] = tot
                else:
                    repeatable[i] &= bool(np.array_equal(tot, first[i]))

        strategies = []
        for i, kern in enumerate(kernels):
            tot, timing, sched = first[i], timings[i], kern.schedule
            summ = timing.summary()
            impressions, pairs = int(tot[:, IMPRESSIONS].sum()), int(tot[:, PAIRS].sum())
            exp_rates = [impressions / dt for dt in timing.seconds]
            pair_rates = [pairs / dt for dt in timing.seconds]
            pairs_med = median(pair_rates)
            strategies.append(
                {
                    "strategy": names[i],
                    "partners": len(sched.partner_creator),
                    "posts": len(sched.day),
                    "cost": sched.cost,
                    "kernel": summ,
                    "per_trial_mean": {
                        c: float(tot[:, j].mean()) for j, c in enumerate(CAMPAIGN_TOTALS)
                    },
                    "impressions_timed": impressions,
                    "pairs_examined_timed": pairs,
                    "exposures_per_s": {
                        "median": median(exp_rates),
                        "min": min(exp_rates),
                        "max": max(exp_rates),
                    },
                    "pairs_per_s": {
                        "median": pairs_med,
                        "min": min(pair_rates),
                        "max": max(pair_rates),
                    },
                    "floor": {
                        "required_pairs_per_s": case.pairs_floor,
                        "met": pairs_med >= case.pairs_floor,
                        "met_best_of": max(pair_rates) >= case.pairs_floor,
                    },
                    "trials_mem": mem_trials[i].as_dict(),
                    "repeatable": repeatable[i],
                }
            )
            log(
                f"  kernel {names[i]:>14} {summ['trials_per_s']:10,.0f} trials/s  "
                f"{median(exp_rates) / 1e6:6.2f} M exposures/s  {pairs_med / 1e6:6.1f} M pairs/s "
                f"({min(pair_rates) / 1e6:.1f}–{max(pair_rates) / 1e6:.1f})  "
                f"(batch {timing.batch}, {tot[:, PAIRS].mean():,.0f} pairs/trial)"
            )
        rec["strategies"] = strategies
        rec["floor"] = {
            "metric": "follower-post pairs examined per second, kernel, one core, each strategy",
            "required": case.pairs_floor,
            "per_strategy": {st["strategy"]: st["floor"]["met"] for st in strategies},
            "all": all(st["floor"]["met"] for st in strategies),
        }
        # trials/s of the kernel over all strategies, one trial of each in turn (as run() does)
        inv = sum(1.0 / st["kernel"]["trials_per_s"] for st in strategies)
        kernel_all = len(strategies) / inv
        rec["kernel_all_strategies"] = {
            "trials_per_s": kernel_all,
            "definition": "strategies / sum over strategies of 1 / (median kernel trials/s); "
            "a trial is one strategy's trial",
        }

        # -- public API: run() on the whole scenario (its imports warmed up in warm_up);
        #    batch: k trials per strategy, so that its trial phase takes ~target s
        k_run = max(1, min(min(batches), round(s.target / inv)))
        runner = OursCampaignRun(case)
        runs = []
        with M.PeakRSS() as mem_run:
            for _ in range(s.run_repeats):
                runs.append(runner.run(k_run))
        same_world = bool(
            np.array_equal(runner.last_prepared.world.graph.indptr, prepared.world.graph.indptr)
            and np.array_equal(
                runner.last_prepared.world.graph.indices, prepared.world.graph.indices
            )
        )
        identical = True
        for _, _, cols in runs:
            for i, name in enumerate(names):
                got = cols.get(name)
                identical &= got is not None and bool(
                    np.array_equal(got["trials"], np.arange(k_run))
                )
                for key in RUN_TOTALS:
                    want = first[i][:k_run, CAMPAIGN_TOTALS.index(key)]
                    identical &= got is not None and bool(np.array_equal(got[key], want))
        totals, preps = [r[0] for r in runs], [r[1] for r in runs]
        phases = [t - p for t, p in zip(totals, preps, strict=True)]
        n_run = k_run * len(names)
        run_pairs = sum(int(first[i][:k_run, PAIRS].sum()) for i in range(len(names)))
        run_imp = sum(int(first[i][:k_run, IMPRESSIONS].sum()) for i in range(len(names)))
        rec["ours_run"] = {
            "call": "sim.run(scenario, trials=k, workers=1)",
            "trials_per_strategy": k_run,
            "strategy_trials": n_run,
            **M.run_rates(n_run, totals, phases),
            "trial_phase_vs_kernel": (n_run / median(phases)) / kernel_all,
            "trial_phase_exposures_per_s": run_imp / median(phases),
            "trial_phase_pairs_per_s": run_pairs / median(phases),
            "repeats": len(runs),
            "seconds": [round(t, 3) for t in totals],
            "prepare_seconds": [round(p, 3) for p in preps],
            "mem": mem_run.as_dict(),
            "same_world_as_kernel": same_world,
            "identical_to_kernel": identical,
            "compared_columns": list(RUN_TOTALS.values()),
        }
        r = rec["ours_run"]
        log(
            f"  run()          {r['trial_phase_trials_per_s']:12,.0f} trials/s  "
            f"excluding world build; {r['trials_per_s']:,.0f} end to end "
            f"(prepare {median(preps):.2f} s; {k_run} trials x {len(names)} strategies); "
            f"kernel, all strategies {kernel_all:,.0f}; "
            f"identical to kernel: {identical}"
        )

        # -- Mesa engine of the campaign model, a few seconds, one strategy
        if s.mesa:
            j = case.mesa_strategy
            try:
                with M.PeakRSS() as mem_m:
                    t0 = time.perf_counter()
                    mesa = CampaignMesa(prepared, j)
                    m_setup = time.perf_counter() - t0
                    out = mesa.run_budget(s.ndlib_budget, s.ndlib_cap)
                del mesa
                outs = out["outputs"]
                n_m = len(outs)
                ref = kernels[j].outcome(np.arange(n_m, dtype=np.int64)) if n_m else None
                same = {
                    field: bool(
                        n_m and np.array_equal(np.stack([o[f] for o in outs]), getattr(ref, field))
                    )
                    for f, field in enumerate(("totals", "series", "partners", "segments"))
                }
                k_rate = strategies[j]["kernel"]["trials_per_s"]
                rec["mesa"] = {
                    "strategy": names[j],
                    "call": "sim.campaign.agents.CampaignAgentModel(pop, arrays, schedule, root, "
                    "0); start_trial(t); step() until not running",
                    "trials_per_s": out["trials_per_s"],
                    "upper_bound": out["upper_bound"],
                    "trials": n_m,
                    "elapsed": round(out["elapsed"], 2),
                    "aborted": out["aborted"],
                    "setup_s": round(m_setup, 2),
                    "mem": mem_m.as_dict(),
                    "totals_identical": same["totals"],
                    "identical": same,
                    "kernel_vs_mesa": k_rate / out["trials_per_s"] if out["trials_per_s"] else None,
                }
                m = rec["mesa"]
                if m["trials_per_s"] is not None:
                    log(
                        f"  Mesa {names[j]:>16} {m['trials_per_s']:10,.2f} trials/s  "
                        f"({n_m} trials, set-up {m_setup:.2f} s); "
                        f"kernel / Mesa {m['kernel_vs_mesa']:,.0f}x; "
                        f"totals identical to kernel: {same['totals']}"
                    )
                else:
                    log(
                        f"  Mesa: no trial finished in {out['elapsed']:.1f} s "
                        f"(< {out['upper_bound']:.3f} trials/s)"
                    )
            except Exception as exc:  # an engine failing must not lose the rest of the case
                rec["mesa"] = {"strategy": names[j], "error": f"{type(exc).__name__}: {exc}"}
                log(f"  Mesa failed: {exc}")
        rec["load"] = monitor.read()
        return rec


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


# --------------------------------------------------------------------------- warm-up


def warm_up(workdir: Path, cascade: bool = True, campaign: list[CampaignCase] = (),
            engines: tuple[str, ...] = ("numba",)) -> float:
    """Load or compile every kernel signature and import run()'s dependencies; returns seconds.

    ``cascade``: the cascade kernels (IC, LT, heterogeneous IC) and run() on them, and the
    other ``engines`` of ours on the same small cases. For each campaign case, one short
    ``run()`` of its scenario loads (or compiles) the campaign kernel and warms up run()'s
    campaign path; the Mesa engine is imported.
    """
    t0 = time.perf_counter()
    for case in campaign:
        OursCampaignRun(case).run(2)
        importlib.import_module("sim.campaign.agents")  # Mesa, imported outside any measured phase
    warm_cascades = (
        CascadeCase("warmup_ic", "ic", 200, p=0.1, recruits=5),
        CascadeCase("warmup_lt", "lt", 200, recruits=5),
        CascadeCase("warmup_het", "ic", 200, p_range=(0.0, 0.2), recruits=5),
    )
    for case in warm_cascades if cascade else ():
        graph = ba_graph(case.n, case.m, case.seed)
        prob = hetero_probs(case, graph.m) if case.p_range else None
        kgraph = weighted_graph(graph, prob) if prob is not None else graph
        rec = fixed_recruits(case.n, case.recruits)
        k = OursKernel(case, kgraph, rec)
        k.run_batch(3)
        k.run_batch_threads(4, 2)
        k.edges_examined(np.arange(2))
        for name in engines:
            if name != "numba":
                ENGINES[name](case, kgraph, rec).run_batch(3)
        OursRun(case, rec, workdir, kgraph if prob is not None else None).run(3, workers=2)
    return time.perf_counter() - t0
