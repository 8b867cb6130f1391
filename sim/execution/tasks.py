"""A task: one chunk of one strategy's trials at one point, computed wherever an executor runs it.

A :class:`ChunkTask` is plain data (the point's scenario as canonical JSON, the strategy's plan,
the trial range), so it can be pickled to a Dask worker; :func:`run_chunk` computes its tables
from keyed randomness only, so the result does not depend on which process, thread or machine
computed it. Workers keep the worlds and compiled models they built (keyed by the point
scenario's digest) for the tasks that follow; the process that prepared a run registers its
own, so threads never rebuild anything.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sim.execution.prepare import rebuild
from sim.families.chunks import ChunkTables
from sim.families.protocol import Prepared
from sim.families.registry import family_of
from sim.input.scenario import Scenario
from sim.world.spec import CreatorAudienceWorld, EdgeListGraph, graph_of

#: Models a worker process keeps (a sweep's tasks are ordered by point, so a few suffice).
_KEPT = 4


@dataclass(frozen=True, eq=False)
class ChunkTask:
    """What to compute: trials ``bounds`` of strategy ``strategy`` at sweep point ``point``.

    Attributes
    ----------
    scenario : str
        The point's scenario as canonical JSON (how a worker that has not seen it rebuilds it).
    digest : str
        Its SHA-256 (the key under which workers keep the built world and model).
    point : int or None
        The sweep point (None: a run without a sweep; the tables get no ``point`` column).
    strategy : int
        Strategy number in the scenario's order.
    names : tuple of str
        All strategy names (the tables' dictionary-encoded ``strategy`` column).
    plan
        The strategy's plan (its recruits, or its partners and posts): chosen once by the process that
        prepared the run (greedy selection included), never again by workers.
    bounds : (int, int)
        Half-open trial range.
    data : tuple of (str, str)
        ``(path, sha256)`` of every data file the world is read from (edge lists): a worker
        that builds the world checks it reads the same bytes.
    """

    scenario: str
    digest: str
    point: int | None
    strategy: int
    names: tuple[str, ...]
    plan: Any
    bounds: tuple[int, int]
    data: tuple[tuple[str, str], ...] = ()


class TaskError(RuntimeError):
    """A worker could not compute a task (e.g. its copy of a data file is missing or different)."""


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_files(scenario: Scenario) -> tuple[str, ...]:
    """Paths of the files a scenario's world is read from (edge lists, a planner's roster; named
    datasets are checked against the registry's checksums wherever they are read)."""
    world = scenario.world
    graph = graph_of(world)
    roster = (world.creators.roster,) if isinstance(world, CreatorAudienceWorld) and world.creators else ()
    return ((graph.path,) if isinstance(graph, EdgeListGraph) else ()) + roster


def _check_data(task: ChunkTask) -> None:
    where = socket.gethostname()
    for path, digest in task.data:
        if not Path(path).is_file():
            raise TaskError(f"worker on {where}: no file {path}; every worker needs the scenario's data files "
                            "at the same paths")
        if file_digest(path) != digest:
            raise TaskError(f"worker on {where}: {path} differs from the file the run was started with "
                            f"(SHA-256 {digest[:12]}...); every worker needs the same data")


_lock = threading.Lock()
_registered: dict[str, Prepared] = {}
_built: OrderedDict[str, Prepared] = OrderedDict()


def register(digest: str, point: Prepared) -> None:
    """Make a prepared point available to tasks run in this process (until :func:`forget`)."""
    with _lock:
        _registered[digest] = point


def forget(digests) -> None:
    """Drop registered points (at the end of a run)."""
    with _lock:
        for d in digests:
            _registered.pop(d, None)


def _point_of(task: ChunkTask) -> Prepared:
    with _lock:
        found = _registered.get(task.digest) or _built.get(task.digest)
        if found is not None:
            if task.digest in _built:
                _built.move_to_end(task.digest)
            return found
    _check_data(task)
    point = rebuild(Scenario.model_validate_json(task.scenario))
    with _lock:
        _built[task.digest] = point
        while len(_built) > _KEPT:
            _built.popitem(last=False)
    return point


def compute_chunk(point: Prepared, plan: Any, names: tuple[str, ...], strategy: int,
                  bounds: tuple[int, int]) -> ChunkTables:
    """Run one chunk of one strategy's trials on the scenario's engine and tabulate it.

    Parameters
    ----------
    point : Prepared
        The point (world and compiled model).
    plan
        The strategy's plan.
    names : tuple of str
        All strategy names (the tables' ``strategy`` column).
    strategy : int
        The strategy's number in ``names``.
    bounds : (int, int)
        Half-open trial range.
    """
    family = family_of(point.scenario)
    trials = np.arange(*bounds, dtype=np.int64)
    outcome = family.engine(point.scenario).simulate(point, plan, trials)
    return family.tabulate(point, plan, names, strategy, outcome)


def _with_point(table: pa.Table, point: int) -> pa.Table:
    return table.add_column(0, "point", pa.array(np.full(table.num_rows, point, np.int32)))


def run_chunk(task: ChunkTask) -> ChunkTables:
    """Compute a task's tables (with a ``point`` column for sweeps)."""
    tables = compute_chunk(_point_of(task), task.plan, task.names, task.strategy, task.bounds)
    if task.point is None:
        return tables
    return ChunkTables(*(None if t is None else _with_point(t, task.point)
                         for t in (tables.runs, tables.timeseries, tables.partners, tables.segments)))


def run_chunks(tasks: tuple[ChunkTask, ...]) -> list[ChunkTables]:
    """Compute several tasks in a row (one Dask task, so each carries enough work to be worth sending)."""
    return [run_chunk(task) for task in tasks]
