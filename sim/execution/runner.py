"""Running a scenario: points → worlds → compiled models → chunks of trials on an executor → tables.

A run is every strategy at every point of the scenario's sweep (one point without a sweep).
Trials are split into chunks whose boundaries depend only on the number of trials, never on
the number of workers or the executor. Each (point, strategy, chunk) is one task
(:mod:`sim.execution.tasks`) computed from keyed randomness, so it gives the same rows on any
worker, in any order, in an interrupted and resumed run, or in one go. With an output folder,
each finished chunk is written at once (see :mod:`sim.execution.store`). :func:`execute` hands
back :class:`~sim.execution.output.RunData`; :func:`sim.run` turns it into
:class:`sim.results.Results` and writes the report.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from sim.base.provenance import provenance
from sim.base.rng import LANES
from sim.execution.executor import ExecutorKind, ExecutorSpec, machine_cores
from sim.execution.output import ChunkCount, RunData, RunInfo, manifest
from sim.execution.prepare import Prepared, WorldCache, prepare
from sim.execution.store import RunStore
from sim.execution.tasks import ChunkTask, data_files, file_digest, forget, register, run_chunks
from sim.families.chunks import ChunkTables
from sim.families.registry import family_of
from sim.input.design import Design, design
from sim.input.scenario import Scenario, ScenarioError
from sim.world import footprint

#: Chunks per strategy a run aims for (finer chunks: less lost on a crash, more files).
TARGET_CHUNKS = 16
#: Smallest chunk worth a task and a file (one IC block of 64 trials).
MIN_CHUNK = 64


def chunk_bounds(trials: int) -> list[tuple[int, int]]:
    """Half-open trial ranges ``[a, b)`` covering ``0..trials-1``; a function of ``trials`` only.

    Chunks of 64 trials or more are whole multiples of ``sim.base.rng.LANES`` (64): the IC
    kernel runs trials in blocks of 64 aligned on multiples of 64, and a block split between
    two chunks would repeat the work the block's trials share.
    """
    size = max(min(trials, MIN_CHUNK), math.ceil(trials / TARGET_CHUNKS))
    if size >= LANES:
        size = -(-size // LANES) * LANES
    return [(a, min(a + size, trials)) for a in range(0, trials, size)]


@contextmanager
def _progress(enabled: bool, total: int, done: int) -> Iterator:
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("chunks"), TimeRemainingColumn())
    with Progress(*columns, disable=not enabled, transient=False) as bar:
        task = bar.add_task("trials", total=total, completed=done)
        yield lambda: bar.advance(task)


#: Chunks one Dask task carries at most (results come back, and are written, per task).
MAX_PACK = 16


def _pack(tasks: int, workers: int) -> int:
    """Chunks per Dask task: enough that a task's ~4 ms of scheduling overhead is small against
    its work, while every worker still gets at least four tasks to balance the load."""
    return max(1, min(MAX_PACK, tasks // (4 * max(workers, 1))))


def _check_results(scenario: Scenario, prepared: list[Prepared], worlds: WorldCache,
                   out: str | Path | None) -> None:
    """Refuse, before anything runs, result tables that would not fit beside the worlds or on disk."""
    need = footprint.results_estimate(family_of(scenario).result_tables(scenario, prepared))
    free = shutil.disk_usage(_existing_ancestor(Path(out))).free if out is not None else need.disk_bytes
    try:
        footprint.check_results(need, worlds.limit - worlds.held_bytes, free)
    except footprint.WorldTooLarge as exc:
        raise ScenarioError([scenario.locate(("trials",), str(exc))]) from None


def _existing_ancestor(path: Path) -> Path:
    path = path.resolve()
    while not path.exists():
        path = path.parent
    return path


def _prepare_points(des: Design, workers: int, worlds: WorldCache) -> list[Prepared]:
    """Every point made ready (worlds shared between points that differ only in the model)."""
    out = []
    for point in des.points:
        try:
            out.append(prepare(point.scenario, workers, worlds))
        except ScenarioError as exc:
            if not des.is_sweep:
                raise
            shown = ", ".join(f"{k} = {v}" for k, v in point.values)
            raise ScenarioError([f"{line} (at sweep point {point.index}: {shown})" for line in exc.problems]) from None
    return out


def execute(
    scenario: Scenario,
    *,
    trials: int | None = None,
    seed: int | None = None,
    engine: str | None = None,
    workers: int = 1,
    executor: ExecutorSpec | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = False,
    max_memory: int | None = None,
) -> RunData:
    """Run every strategy of a scenario for its trials, at every point of its sweep.

    The parameters are :func:`sim.run`'s; this returns the run's tables and facts and, with
    ``out``, leaves every finished chunk (and a manifest of status ``running``) in the folder.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if executor is None:
        executor = ExecutorSpec(ExecutorKind.SERIAL if workers == 1 else ExecutorKind.LOCAL, workers=workers)
    scenario = scenario.with_overrides(trials=trials, seed=seed, engine=engine)
    family = family_of(scenario)
    started = time.perf_counter()
    des = design(scenario)
    worlds = WorldCache(footprint.memory_limit(max_memory))
    prepared = _prepare_points(des, executor.workers or machine_cores(), worlds)
    _check_results(scenario, prepared, worlds, out)
    names = tuple(s.name for s in scenario.strategy_list)
    chunks = chunk_bounds(scenario.trials)
    jobs = [(p, s, c) for p in range(len(des.points)) for s in range(len(names)) for c in range(len(chunks))]

    store = RunStore(out) if out is not None else None
    done: set[tuple[int, int, int]] = set()
    if store is not None:
        store.open(scenario.digest(), overwrite=overwrite)
        done = store.finished() & set(jobs)
    todo = [j for j in jobs if j not in done]
    count = ChunkCount(len(jobs), len(done))
    facts = prepared[0].world_facts()
    texts = [p.scenario.canonical_json() for p in prepared]
    digests = [hashlib.sha256(x.encode()).hexdigest() for x in texts]
    hashed: dict[str, str] = {}
    data = [tuple((f, hashed.setdefault(f, file_digest(f))) for f in data_files(p.scenario)) for p in prepared]
    tasks = [ChunkTask(texts[p], digests[p], p if des.is_sweep else None, s, names, prepared[p].plans[s], chunks[c],
                       data[p])
             for p, s, c in todo]

    chunks_done: dict[tuple[int, int, int], ChunkTables] = {}
    for d, prep in zip(digests, prepared, strict=True):
        register(d, prep)
    try:
        with executor.open() as ex, _progress(progress, len(jobs), len(done)) as advance:
            info = RunInfo(provenance(), scenario.engine, ex.description, ex.workers, count)
            if store is not None:
                shell = RunData(scenario, des, pd.DataFrame(), facts, info)
                store.write_manifest(manifest(shell, status="running") | {"resumed_chunks": len(done)})
            pack = _pack(len(tasks), ex.workers) if executor.kind is ExecutorKind.DASK else 1
            batches = [tuple(tasks[i:i + pack]) for i in range(0, len(tasks), pack)]
            for b, tables_list in ex.as_completed(run_chunks, batches):
                for k, tables in enumerate(tables_list):
                    job = todo[b * pack + k]
                    if store is not None:
                        for table_name, part in tables.named():
                            store.write_part(job, part, table_name)
                    else:
                        chunks_done[job] = tables
                    advance()
    finally:
        forget(digests)

    def gather(field: str) -> pd.DataFrame | None:
        if store is not None:
            table = store.read_parts(field)
        else:
            parts = [getattr(chunks_done[j], field) for j in jobs]
            table = None if parts[0] is None else pa.concat_tables(parts)
        return None if table is None else _in_order(table, list(names))

    gathered = {f.name: gather(f.name) for f in fields(ChunkTables)}
    runs = gathered.pop("runs")
    detail = family.detail(prepared, {k: v for k, v in gathered.items() if v is not None}, des.is_sweep)
    info = RunInfo(info.provenance, info.engine, info.executor, info.workers, count,
                   round(time.perf_counter() - started, 3))
    return RunData(scenario, des, runs.astype(dict(family.dtypes)) if family.dtypes else runs, facts, info,
                   point_worlds=tuple(p.world_facts() for p in prepared) if des.is_sweep else None,
                   campaign=detail)


def _in_order(table: pa.Table, names: list[str]) -> pd.DataFrame:
    """Rows in ([point,] strategy order, trial, ...) order, whatever produced them; strategy as string.

    ``table``'s strategy column is dictionary-encoded (the runner's chunks) or plain strings
    (parts read back from a run folder); either way the order comes from integer codes.
    """
    col = table.column("strategy")
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)  # Arrow hashes ~10x faster than pandas
    # A categorical (any category order) recoded onto the scenario's order: no per-row strings.
    codes = pd.Categorical(col.to_pandas(), categories=names).codes
    frame = table.drop_columns(["strategy"]).to_pandas()
    major = ["point"] if "point" in frame.columns else []
    keys = ["trial", *[c for c in ("day", "partner", "segment") if c in frame.columns]]
    columns = [*(frame[k].to_numpy() for k in major), codes, *(frame[k].to_numpy() for k in keys)]
    if not all(m.dtype.kind in "iu" for m in columns) or not _nondecreasing(*columns):
        # (the runner's chunks come in order already: gathered in job order, rows in trial order)
        order = frame.assign(_s=codes).sort_values([*major, "_s", *keys], kind="stable").index.to_numpy()
        frame = frame.take(order).reset_index(drop=True)
        codes = codes[order]
    frame.insert(len(major), "strategy", _strategy_strings(codes, names))
    return frame.astype({"trial": "int64"})


def _strategy_strings(codes: np.ndarray, names: list[str]) -> pd.api.extensions.ExtensionArray:
    """The strategy column as pandas ``string``, built in Arrow from codes (a cast from a
    categorical or from Python strings costs ~0.25 µs a row)."""
    return pd.array(pa.array(names, pa.large_string()).take(pa.array(codes)), dtype="string")


def _nondecreasing(*columns: np.ndarray) -> bool:
    """Whether the rows ``(columns[0][i], columns[1][i], ...)`` are in lexicographic order."""
    n = len(columns[0])
    ok = np.ones(max(n - 1, 0), dtype=bool)
    tied = np.ones(max(n - 1, 0), dtype=bool)  # equal in every column so far
    for col in columns:
        d = np.diff(col.astype(np.int64))
        ok &= ~(tied & (d < 0))
        tied &= d == 0
    return bool(ok.all())
