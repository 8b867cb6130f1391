"""How much memory a world will need, estimated from the scenario before anything is built.

A run that would not fit is refused up front, with the estimate and the limit, instead
of swapping or being killed half-way through building a hundred-million-edge world.
The estimate counts the arrays the builders and kernels allocate (bytes per account and
per edge, measured on this code base); it is meant to be right within a factor of ~1.5,
which is what a refusal needs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import psutil

from sim.world.spec import (
    BarabasiAlbertGraph,
    CommunitiesGraph,
    ConfigurationGraph,
    CreatorAudienceWorld,
    DatasetGraph,
    EdgeListGraph,
    ErdosRenyiGraph,
    GraphSpec,
    PmfDegrees,
    PoissonDegrees,
    PowerLawDegrees,
    RandomRegularGraph,
    WattsStrogatzGraph,
    WorldSpec,
)

# Bytes per stored (directed) edge while building: int64 sort key + int32 result + the
# endpoint arrays it came from (direct builders); NetworkX holds dict-of-dict objects.
_DIRECT_BUILD_PER_EDGE = 20
_NETWORKX_BUILD_PER_EDGE = 450
# Bytes per account: population attributes, campaign arrays and one kernel scratch set (its
# remembered sources for the multiple-source weight included: up to 7 x 4 bytes).
_PER_ACCOUNT = 288
# Bytes per partner edge of kernel scratch (trust, fatigue, counters, marks).
_PER_SLOT = 45


class WorldTooLarge(MemoryError):
    """The world would not fit in memory; the message gives the estimate and the limit."""


@dataclass(frozen=True)
class Footprint:
    """Estimated size of a scenario's world.

    Attributes
    ----------
    accounts, edges : int
        Accounts and stored directed follow edges (expected).
    build_bytes : int
        Peak while building the world.
    run_bytes : int
        World arrays plus one set of kernel scratch per worker while trials run.
    """

    accounts: int
    edges: int
    build_bytes: int
    run_bytes: int

    @property
    def peak_bytes(self) -> int:
        """The larger of the build and run peaks."""
        return max(self.build_bytes, self.run_bytes)


def _mean_degree(spec: GraphSpec) -> float | None:
    """Expected stored (directed) edges per account, or None for graphs read from files."""
    if isinstance(spec, ErdosRenyiGraph):
        return spec.mean_degree
    if isinstance(spec, CommunitiesGraph):
        return spec.mean_degree
    if isinstance(spec, BarabasiAlbertGraph):
        return 2.0 * spec.m
    if isinstance(spec, WattsStrogatzGraph):
        return float(spec.k)
    if isinstance(spec, RandomRegularGraph):
        return float(spec.degree)
    if isinstance(spec, ConfigurationGraph):
        d = spec.degrees
        if isinstance(d, PoissonDegrees):
            return d.mean
        if isinstance(d, PmfDegrees):
            return sum(k * p for k, p in d.pmf.items())
        if isinstance(d, PowerLawDegrees):
            ks = range(d.min, d.max + 1)
            w = [k ** -d.exponent for k in ks]
            return sum(k * x for k, x in zip(ks, w, strict=True)) / sum(w)
    return None


def _graph(spec: GraphSpec) -> tuple[int, int, int]:
    """(accounts, edges, build bytes) of a graph spec; files count as small."""
    degree = _mean_degree(spec)
    if degree is None or isinstance(spec, EdgeListGraph | DatasetGraph):
        return 0, 0, 0
    from sim.world.build import uses_direct_builder  # the builder choice lives with the builders

    n = spec.n
    edges = int(n * degree)
    per_edge = _DIRECT_BUILD_PER_EDGE if uses_direct_builder(spec) else _NETWORKX_BUILD_PER_EDGE
    return n, edges, edges * per_edge + n * 16


def _log_uniform_mean(lo: int, hi: int) -> float:
    return (hi - lo) / math.log(hi / lo)


def expected_followers(world: CreatorAudienceWorld) -> dict[str, float]:
    """Expected simulated followers of one creator of each tier (followers are log-uniform on the
    tier's range, times the tier's ``audience_share``, divided by ``scale``, and at most the audience)."""
    n = _graph(world.audience.peers)[0]
    return {name: min(n, _log_uniform_mean(*t.followers) * t.audience_share / world.scale)
            for name, t in world.tiers.items()}


def estimate(world: WorldSpec | CreatorAudienceWorld, workers: int = 1, slots: float = 0.0) -> Footprint:
    """Estimate the memory a world needs to build and to run.

    Parameters
    ----------
    world : WorldSpec or CreatorAudienceWorld
        The scenario's world block.
    workers : int
        Sets of kernel scratch held at once.
    slots : float
        Creator-audience worlds: kernel edge state of the largest strategy, one slot per
        follower of each of its partners (the campaign family estimates it).
    """
    if isinstance(world, CreatorAudienceWorld):
        n, peer_edges, build = _graph(world.audience.peers)
        followers = expected_followers(world)
        counts = world.tier_counts()
        roster = world.roster()
        if roster is not None:  # the roster's own follower counts
            edges = peer_edges + int(np.minimum(n, roster.followers / world.scale).sum())
        else:
            edges = peer_edges + int(sum(counts[name] * followers[name] for name in world.tiers))
        accounts = n + sum(counts.values())
        # Concatenating peers' CSR with creators' rows holds two copies of the indices.
        build = max(build, 8 * edges + _PER_ACCOUNT * accounts)
        run = 4 * edges + 8 * accounts + workers * (_PER_ACCOUNT * accounts + _PER_SLOT * slots)
        return Footprint(accounts, edges, int(build), int(run))
    n, edges, build = _graph(world.graph)
    run = 4 * edges + 8 * n + workers * 40 * n
    return Footprint(n, edges, int(build), int(run))


def available_bytes() -> int:
    """Memory the operating system can give this process now."""
    return int(psutil.virtual_memory().available)


def _gib(x: float) -> str:
    """Bytes for people: MiB below a GiB, else GiB."""
    return f"{x / 2**20:,.1f} MiB" if abs(x) < 2**30 else f"{x / 2**30:,.2f} GiB"


def check(footprint: Footprint, limit: int | None = None) -> None:
    """Refuse a world that will not fit in ``limit`` bytes (default: 90% of available memory).

    Raises
    ------
    WorldTooLarge
        With the estimate and the limit.
    """
    limit = int(0.9 * available_bytes()) if limit is None else limit
    if footprint.peak_bytes > limit:
        raise WorldTooLarge(
            f"this world needs about {_gib(footprint.peak_bytes)} "
            f"({footprint.accounts:,} accounts, ~{footprint.edges:,} follow edges; build "
            f"{_gib(footprint.build_bytes)}, run {_gib(footprint.run_bytes)}) but the "
            f"limit is {_gib(limit)}; reduce the audience, raise `scale`, use fewer workers or raise --max-memory")


@dataclass(frozen=True)
class ResultsFootprint:
    """Estimated size of a run's result tables (upper bounds; Parquet on disk compresses them).

    Attributes
    ----------
    rows : int
        Rows of all tables together.
    memory_bytes : int
        Held while the tables are gathered and summarised (about two copies).
    disk_bytes : int
        Written to the run folder.
    """

    rows: int
    memory_bytes: int
    disk_bytes: int


def results_estimate(tables: Iterable[tuple[int, int]]) -> ResultsFootprint:
    """The size of the tables a run will write, from ``(rows, bytes per row)`` of each table (the
    model family counts them: :meth:`sim.families.protocol.ModelFamily.result_tables`)."""
    tables = list(tables)
    rows = sum(r for r, _ in tables)
    size = sum(r * b for r, b in tables)
    return ResultsFootprint(int(rows), int(2 * size), int(size))


def check_results(need: ResultsFootprint, memory_limit: int, disk_free: int) -> None:
    """Refuse result tables that would not fit in memory or on disk, with the estimates and limits.

    Raises
    ------
    WorldTooLarge
        Naming the estimate, the limit and what to lower.
    """
    if need.memory_bytes > memory_limit:
        raise WorldTooLarge(f"the result tables ({need.rows:,} rows) need about {_gib(need.memory_bytes)} of memory "
                            f"while they are gathered, but the limit is {_gib(memory_limit)}; run fewer trials, "
                            "strategies or sweep points, or raise --max-memory")
    if need.disk_bytes > disk_free:
        raise WorldTooLarge(f"the result tables ({need.rows:,} rows) need up to {_gib(need.disk_bytes)} on disk, but "
                            f"the output folder's disk has {_gib(disk_free)} free; free space, choose another --out, "
                            "or run fewer trials")


def memory_limit(max_memory: int | None = None) -> int:
    """Bytes a run may use: 90% of the memory available now, and at most ``max_memory``."""
    limit = int(0.9 * available_bytes())
    return limit if max_memory is None else min(limit, int(max_memory))


def parse_bytes(text: str) -> int:
    """``"4G"``, ``"512MiB"``, ``"1.5GB"``, ``"2000000"`` -> bytes (binary multiples).

    Raises
    ------
    ValueError
        If the text is not a positive size.
    """
    import re

    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(i?B)?\s*", text, re.IGNORECASE)
    size = float(m.group(1)) * 1024 ** "_KMGT".index(m.group(2).upper() or "_") if m else 0.0
    if not 1 <= size < 2**63:  # at least a byte; thousands of digits would read as infinity
        raise ValueError(f"must be a size such as 4G, 512M or 1.5GiB (got {text[:40]!r})")
    return int(size)
