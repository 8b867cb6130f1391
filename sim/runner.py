"""Running a scenario: world → compiled model → trials in chunks on a pool → results.

Trials are split into chunks whose boundaries depend only on the number of
trials, never on the number of workers. Each chunk is computed by the kernel from
keyed randomness, so a chunk gives the same rows on any worker, in any order, in
an interrupted and resumed run, or in one go. With an output folder, each
finished chunk is written at once (see :mod:`sim.store`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sim.cascade import final_sizes
from sim.contagion import CompiledModel, ModelInputError, compile_model
from sim.datasets import DatasetUnavailable
from sim.edgelist import EdgeListError
from sim.recruits import RecruitError, RecruitPlan, plan_recruits
from sim.results import Results, provenance
from sim.rng import root_key
from sim.scenario import Scenario, ScenarioError
from sim.store import RunStore
from sim.world import World, build_world

#: Chunks per strategy a run aims for (finer chunks: less lost on a crash, more files).
TARGET_CHUNKS = 16
#: Smallest chunk worth a task and a file.
MIN_CHUNK = 50


def chunk_bounds(trials: int) -> list[tuple[int, int]]:
    """Half-open trial ranges ``[a, b)`` covering ``0..trials-1``; a function of ``trials`` only."""
    size = max(min(trials, MIN_CHUNK), math.ceil(trials / TARGET_CHUNKS))
    return [(a, min(a + size, trials)) for a in range(0, trials, size)]


@dataclass(frozen=True, eq=False)
class Prepared:
    """A scenario made ready to run: its world, compiled model and one recruit plan per strategy."""

    scenario: Scenario
    world: World
    model: CompiledModel
    plans: tuple[RecruitPlan, ...]

    def world_facts(self) -> dict:
        """Accounts, edges and description of the world, for manifests and summaries."""
        g = self.world.graph
        return {"accounts": g.n, "edges": g.m, "graph": g.name, "directed": g.directed}


def prepare(scenario: Scenario) -> Prepared:
    """Build the world, compile the model and resolve the recruits; nothing is written.

    Raises
    ------
    ScenarioError
        If the scenario cannot be built (missing data, recruits not in the graph, weights the
        graph lacks); each message names the scenario file, line and key.
    """
    graph_kind = scenario.world.graph.kind
    try:
        world = build_world(scenario.world, scenario.seed)
    except DatasetUnavailable as exc:
        raise ScenarioError([scenario.locate(("world", "graph", "name"), str(exc))]) from None
    except (EdgeListError, OSError) as exc:
        key = ("world", "graph", "path" if graph_kind == "edgelist" else "name")
        raise ScenarioError([scenario.locate(key, str(exc))]) from None
    try:
        model = compile_model(scenario.model, world.graph)
    except ModelInputError as exc:
        raise ScenarioError([scenario.locate(("model",), str(exc))]) from None
    plans, problems = [], []
    for i, strategy in enumerate(scenario.strategy_list):
        key = scenario.strategy_key(i)
        try:
            plans.append(plan_recruits(strategy.recruits, world.graph, key))
        except RecruitError as exc:
            problems.append(scenario.locate(exc.key, str(exc)))
    if problems:
        raise ScenarioError(problems)
    return Prepared(scenario, world, model, tuple(plans))


def _final_sizes(engine: str):
    """The ``final_sizes`` of an engine: the numba kernel, or the Mesa agent model (same numbers)."""
    if engine == "mesa":
        from sim import agents

        return agents.final_sizes
    return final_sizes


def _chunk_table(prepared: Prepared, strategy: int, bounds: tuple[int, int]) -> pd.DataFrame:
    trials = np.arange(*bounds, dtype=np.int64)
    adopted, steps = _final_sizes(prepared.scenario.engine)(prepared.world.graph, prepared.model, prepared.plans[strategy],
                                 root_key(prepared.scenario.seed), trials, prepared.scenario.max_steps)
    return pd.DataFrame({
        "strategy": prepared.scenario.strategy_list[strategy].name,
        "trial": trials,
        "adopted": adopted,
        "adopted_fraction": adopted / prepared.world.graph.n,
        "steps": steps,
    })


@contextmanager
def _progress(enabled: bool, total: int, done: int) -> Iterator:
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("chunks"), TimeRemainingColumn())
    with Progress(*columns, disable=not enabled, transient=False) as bar:
        task = bar.add_task("trials", total=total, completed=done)
        yield lambda: bar.advance(task)


def run(
    scenario: Scenario,
    *,
    trials: int | None = None,
    seed: int | None = None,
    engine: str | None = None,
    workers: int = 1,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> Results:
    """Run every strategy of a scenario for its trials.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (:func:`sim.load_scenario`).
    trials, seed : int, optional
        Override the scenario's trial count and root seed.
    engine : {"numba", "mesa"}, optional
        Override the scenario's engine; both give the same table.
    workers : int
        Threads running chunks at once (the kernel releases the GIL). The table does
        not depend on this number.
    out : path, optional
        Run folder to checkpoint into (``<out>`` itself, e.g. ``results/<name>``). A
        folder holding a killed run of the same scenario is resumed; finished chunks
        are not recomputed.
    overwrite : bool
        Replace an ``out`` folder that holds another scenario's results.
    progress : bool
        Show a progress bar.

    Returns
    -------
    Results
        The trial table and its provenance (see :mod:`sim.results`).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    scenario = scenario.with_overrides(trials=trials, seed=seed, engine=engine)
    started = time.perf_counter()
    prepared = prepare(scenario)
    names = [s.name for s in scenario.strategy_list]
    chunks = chunk_bounds(scenario.trials)
    jobs = [(s, c) for s in range(len(names)) for c in range(len(chunks))]

    store = RunStore(out) if out is not None else None
    done: set[tuple[int, int]] = set()
    info = {**provenance(), "engine": scenario.engine, "workers": workers}
    if store is not None:
        store.open(scenario.digest(), overwrite=overwrite)
        done = store.finished() & set(jobs)
        shell = Results(scenario, pd.DataFrame(), prepared.world_facts(), info)
        store.write_manifest(shell.manifest(status="running") | {"resumed_chunks": len(done)})
    todo = [j for j in jobs if j not in done]

    tables: dict[tuple[int, int], pd.DataFrame] = {}
    with _progress(progress, len(jobs), len(done)) as advance, ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_chunk_table, prepared, s, chunks[c]): (s, c) for s, c in todo}
        for fut in as_completed(futures):
            s, c = futures[fut]
            table = fut.result()
            if store is not None:
                store.write_part(s, c, table)
            else:
                tables[(s, c)] = table
            advance()

    if store is not None:
        table = store.read_parts()
    else:
        table = pd.concat([tables[j] for j in jobs], ignore_index=True)
    table = _canonical(table, names)
    info["elapsed_seconds"] = round(time.perf_counter() - started, 3)
    results = Results(scenario, table, prepared.world_facts(), info)
    if store is not None:
        results.write_reports(store)
    return results


def _canonical(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Rows in (strategy order, trial) order with fixed dtypes, whatever produced them."""
    order = {n: i for i, n in enumerate(names)}
    table = table.assign(_s=table["strategy"].map(order)).sort_values(["_s", "trial"], kind="stable")
    table = table.drop(columns="_s").reset_index(drop=True)
    return table.astype({"strategy": "string", "trial": "int64", "adopted": "int64",
                         "adopted_fraction": "float64", "steps": "int32"})
