"""What a run hands on: its tables, the facts of its worlds, where and how it ran; and the manifest.

:class:`RunData` is plain frozen data. The results stage gives it its statistics
(:class:`sim.results.Results`), the report stage writes it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from sim.base.provenance import Provenance
from sim.campaign.metrics import CampaignTables
from sim.execution.store import RESULTS_LAYOUT
from sim.input.design import Design
from sim.input.scenario import Scenario
from sim.world.facts import WorldFacts


@dataclass(frozen=True)
class ChunkCount:
    """Chunks of a run: all of them, and those a resumed run found finished on disk."""

    total: int
    resumed: int = 0


@dataclass(frozen=True)
class RunInfo:
    """Where and how a run ran.

    Attributes
    ----------
    provenance : Provenance
        Commit, versions, command line, machine.
    engine : str
    executor : str
        What ran the chunks, in words (``serial``, ``local pool of 4 threads``, ...).
    workers : int
    chunks : ChunkCount
    elapsed_seconds : float or None
        Wall time of the run (None while it runs).
    """

    provenance: Provenance
    engine: str
    executor: str
    workers: int
    chunks: ChunkCount
    elapsed_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The fields as one flat mapping (the manifest's layout)."""
        out = {**self.provenance.as_dict(), "engine": self.engine,
               "chunks": {"total": self.chunks.total, "resumed": self.chunks.resumed},
               "executor": self.executor, "workers": self.workers}
        if self.elapsed_seconds is not None:
            out["elapsed_seconds"] = self.elapsed_seconds
        return out


@dataclass(frozen=True, eq=False)
class RunData:
    """A run's tables and facts.

    Attributes
    ----------
    scenario : Scenario
        The scenario as run (overrides applied).
    design : Design
        The points the run covered (one point without a sweep; with a sweep every table has a
        ``point`` column).
    table : DataFrame
        The trial table: one row per ([point,] strategy, trial), ordered so; the model family's
        outcome columns.
    world : WorldFacts
        Facts of the world (point 0's in a sweep).
    info : RunInfo
    point_worlds : tuple of WorldFacts or None
        Sweeps: every point's world (they differ when the sweep varies the world).
    campaign : CampaignTables or None
        Campaign runs: the per-day, per-partner and per-segment tables, the roster of partners
        and the cascade trees.
    """

    scenario: Scenario
    design: Design
    table: pd.DataFrame
    world: WorldFacts
    info: RunInfo
    point_worlds: tuple[WorldFacts, ...] | None = None
    campaign: CampaignTables | None = None

    @property
    def is_sweep(self) -> bool:
        """Whether the run swept uncertainties (its tables have a ``point`` column)."""
        return self.design.is_sweep


def manifest(run: RunData, status: str = "complete") -> dict[str, Any]:
    """The ``manifest.json`` of a run folder: the scenario as resolved, its digest, the results
    layout, seed, world, provenance and status."""
    scenario, design = run.scenario, run.design
    return {
        "status": status,
        "scenario_name": scenario.name,
        "scenario_sha256": scenario.digest(),
        "results_layout": RESULTS_LAYOUT,
        "seed": scenario.seed,
        "trials": scenario.trials,
        "world": run.world.as_dict(),
        "baseline": scenario.baseline_name,
        **({"sweep": {"design": design.spec.design.value, "points": len(design.points),
                      "uncertainties": design.labels}} if run.is_sweep else {}),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **run.info.as_dict(),
        "scenario": scenario.model_dump(mode="json"),
    }
