"""Preparing a point: its world built (or found among those built), its model compiled, its plans chosen.

The model's family does the model's part (:mod:`sim.families.registry`); this module owns the
worlds: building them from the root seed, refusing one that would not fit in memory, and keeping
them for the other points of a run that share them.
"""

from __future__ import annotations

from sim.families.protocol import Prepared
from sim.families.registry import family_of
from sim.input.scenario import Scenario, ScenarioError
from sim.world import footprint
from sim.world.build import World, build_world, structure_key
from sim.world.datasets import DatasetUnavailable
from sim.world.edgelist import EdgeListError
from sim.world.spec import graph_key


class WorldCache:
    """The worlds a run has built, by what decides them (:func:`sim.world.build.structure_key`).

    A sweep whose points differ only in parameters the builder does not read (trust, reach,
    engagement, the model) builds one world. Worlds stay in memory for the whole run, so a new
    one is refused if it would not fit beside those already held.

    Parameters
    ----------
    limit : int, optional
        Bytes the worlds may hold (default: 90% of the memory available now).
    """

    def __init__(self, limit: int | None = None) -> None:
        self._worlds: dict[str, World] = {}
        self.held_bytes = 0
        self.limit = footprint.memory_limit() if limit is None else limit

    def __len__(self) -> int:
        return len(self._worlds)

    def world(self, scenario: Scenario, workers: int) -> World:
        """The scenario's world, built now or earlier.

        Raises
        ------
        ScenarioError
            If it cannot be built, or would not fit in memory beside the worlds already held.
        """
        key = structure_key(scenario.world, scenario.seed)
        world = self._worlds.get(key)
        if world is not None:
            return world
        need = footprint.estimate(scenario.world, workers, family_of(scenario).scratch_slots(scenario))
        try:
            footprint.check(need, limit=self.limit - self.held_bytes)
        except footprint.WorldTooLarge as exc:
            held = (f" beside the {len(self._worlds)} other worlds of this sweep already built "
                    f"({self.held_bytes / 2**30:.1f} GiB); sweep fewer world parameters or points"
                    if self._worlds else "")
            raise ScenarioError([scenario.locate(("world",), f"{exc}{held}")]) from None
        try:
            world = build_world(scenario.world, scenario.seed)
        except DatasetUnavailable as exc:
            raise ScenarioError([scenario.locate((*graph_key(scenario.world), "name"), str(exc))]) from None
        except (EdgeListError, OSError) as exc:
            raise ScenarioError([scenario.locate((*graph_key(scenario.world), "path"), str(exc))]) from None
        self._worlds[key] = world
        self.held_bytes += need.run_bytes
        return world


def prepare(scenario: Scenario, workers: int = 1, worlds: WorldCache | None = None) -> Prepared:
    """Build the world, compile the model and resolve the recruits or partners; nothing is written.

    The world's memory is estimated first (:mod:`sim.world.footprint`) and a world that would
    not fit, with ``workers`` sets of kernel scratch, is refused before anything is built.

    Parameters
    ----------
    scenario : Scenario
    workers : int
        Sets of kernel scratch the memory estimate allows for.
    worlds : WorldCache, optional
        Worlds already built for this run (a sweep's points share them).

    Raises
    ------
    ScenarioError
        If the scenario cannot be built (missing data, recruits or partners not in the world,
        weights the graph lacks, an engine the model's family does not have, not enough
        memory); each message names the scenario file, line and key.
    """
    family = family_of(scenario)
    engine = family.engine(scenario)  # an unknown engine is refused before anything is built
    engine.check(scenario)  # and one that cannot run here (no GPU, a model it lacks)
    world = (worlds if worlds is not None else WorldCache()).world(scenario, workers)
    compiled = family.compile(scenario, world)
    point = Prepared(scenario, world, compiled, family.plan(scenario, world, compiled))
    engine.check(scenario, point)  # a world too large for the engine's device
    return point


def rebuild(scenario: Scenario) -> Prepared:
    """A point as a worker that has not seen it rebuilds it: its world and compiled model (no plans:
    a task carries its strategy's plan, chosen once by the process that prepared the run)."""
    world = build_world(scenario.world, scenario.seed)
    return Prepared(scenario, world, family_of(scenario).compile(scenario, world), ())
