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

import numpy as np
import pyarrow as pa

from sim.campaign.metrics import campaign_tables
from sim.campaign.model import CampaignWorldArrays, Schedule
from sim.chunks import ChunkTables
from sim.classic.metrics import classic_tables
from sim.classic.model import CompiledModel
from sim.classic.recruits import RecruitPlan
from sim.rng import root_key
from sim.scenario import Scenario
from sim.world.build import World
from sim.world.spec import CreatorAudienceWorld, EdgeListGraph

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
    plan : Schedule or RecruitPlan
        The strategy's partners and posts, or its recruits: chosen once by the process that
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
    plan: Schedule | RecruitPlan
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
    """Paths of the files a scenario's world is read from (edge lists; named datasets are checked
    against the registry's checksums wherever they are read)."""
    world = scenario.world
    graph = world.audience.peers if isinstance(world, CreatorAudienceWorld) else world.graph
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
_registered: dict[str, tuple[Scenario, World, CompiledModel | CampaignWorldArrays]] = {}
_built: OrderedDict[str, tuple[Scenario, World, CompiledModel | CampaignWorldArrays]] = OrderedDict()


def register(digest: str, scenario: Scenario, world: World, model: CompiledModel | CampaignWorldArrays) -> None:
    """Make a prepared point available to tasks run in this process (until :func:`forget`)."""
    with _lock:
        _registered[digest] = (scenario, world, model)


def forget(digests) -> None:
    """Drop registered points (at the end of a run)."""
    with _lock:
        for d in digests:
            _registered.pop(d, None)


def _model_of(task: ChunkTask) -> tuple[Scenario, World, CompiledModel | CampaignWorldArrays]:
    with _lock:
        found = _registered.get(task.digest) or _built.get(task.digest)
        if found is not None:
            if task.digest in _built:
                _built.move_to_end(task.digest)
            return found
    # The runner owns building; imported late (it imports this module).
    from sim.runner import build_model
    from sim.world.build import build_world

    _check_data(task)
    scenario = Scenario.model_validate_json(task.scenario)
    world = build_world(scenario.world, scenario.seed)
    entry = (scenario, world, build_model(scenario, world))
    with _lock:
        _built[task.digest] = entry
        while len(_built) > _KEPT:
            _built.popitem(last=False)
    return entry


def engine_module(name: str, campaign: bool):
    """The module running trials: numba kernels, or the Mesa agent models (same numbers)."""
    if campaign:
        if name == "mesa":
            from sim.campaign import agents as module
        else:
            from sim.campaign import model as module
    elif name == "mesa":
        from sim.classic import agents as module
    else:
        from sim.classic import kernel as module
    return module


def compute_chunk(scenario: Scenario, world: World, model: CompiledModel | CampaignWorldArrays,
                  plan: Schedule | RecruitPlan, names: tuple[str, ...], strategy: int,
                  bounds: tuple[int, int]) -> ChunkTables:
    """Run one chunk of one strategy's trials and tabulate it."""
    trials = np.arange(*bounds, dtype=np.int64)
    engine = engine_module(scenario.engine, scenario.is_campaign)
    root = root_key(scenario.seed)
    if scenario.is_campaign:
        pop = world.population
        outcome = engine.simulate(pop, model, plan, root, trials)
        return campaign_tables(names, strategy, outcome, plan, pop)
    adopted, steps = engine.final_sizes(world.graph, model, plan, root, trials, scenario.max_steps)
    return classic_tables(names, strategy, trials, adopted, steps, world.graph.n)


def _with_point(table: pa.Table, point: int) -> pa.Table:
    return table.add_column(0, "point", pa.array(np.full(table.num_rows, point, np.int32)))


def run_chunk(task: ChunkTask) -> ChunkTables:
    """Compute a task's tables (with a ``point`` column for sweeps)."""
    scenario, world, model = _model_of(task)
    tables = compute_chunk(scenario, world, model, task.plan, task.names, task.strategy, task.bounds)
    if task.point is None:
        return tables
    return ChunkTables(*(None if t is None else _with_point(t, task.point)
                         for t in (tables.runs, tables.timeseries, tables.partners, tables.segments)))


def run_chunks(tasks: tuple[ChunkTask, ...]) -> list[ChunkTables]:
    """Compute several tasks in a row (one Dask task, so each carries enough work to be worth sending)."""
    return [run_chunk(task) for task in tasks]
