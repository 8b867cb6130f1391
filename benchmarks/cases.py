"""The benchmark cases: small frozen descriptions, nothing computed at import.

Every cascade case runs on a Barabási–Albert graph (``m = 5``, each edge stored in
both directions) built by :func:`sim.world.build.build_graph` from the case seed, with
50 recruits drawn once from a fixed generator and used in every trial by every
engine. The same seed is the scenario seed of ``sim.run`` (world and trial
randomness), so the kernel called directly and ``run()`` compute the same trials.

The campaign case runs a bundled scenario file as it is (its own world, seed and
strategies): the campaign kernel on each strategy, ``run()`` on the whole scenario,
and the Mesa engine of the campaign model for a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: Seed of every world and of the trials of our engine (scenario ``seed``).
SEED = 20261126
#: Seed of the generator that picks the fixed recruits.
RECRUIT_SEED = 1
#: Repository root (scenario paths of campaign cases are relative to it).
ROOT = Path(__file__).resolve().parent.parent
#: Required run(workers=2) / run(workers=1) speedup on 2 cores (cases with ``parallel``).
PARALLEL_FLOOR = 1.7
#: The case whose ratio to cynetdiff every run prints last (issue 13): added to ``--cases``
#: unless ``--no-headline``.
HEADLINE = "ic_p01_10k"
#: The performance issue's goal for it (its floor is the case's ``floor``).
HEADLINE_GOAL = 8.0


@dataclass(frozen=True)
class CascadeCase:
    """One IC or LT workload, run by every engine.

    Attributes
    ----------
    name : str
        Short identifier used in tables and JSON.
    model : "ic" or "lt"
        Independent Cascade or Linear Threshold (1/in-degree weights, U(0, 1) thresholds).
    n : int
        Accounts in the Barabási–Albert graph.
    p : float or None
        IC probability of every edge (None for LT and heterogeneous IC).
    p_range : (lo, hi) or None
        Heterogeneous IC: each directed edge gets its own probability, uniform in
        [lo, hi), drawn once (rounded to float32 so cynetdiff stores exactly the same
        values) and read by our engine as the edge weight (``edge_prob: edge_weight``).
    floor : float or None
        Required ratio of our trials/s to cynetdiff's (None: report only).
    parallel : bool
        Also measure ``run(workers=2)`` against ``run(workers=1)``.
    quick : bool
        Part of ``--quick``.
    """

    name: str
    model: Literal["ic", "lt"]
    n: int
    p: float | None = None
    p_range: tuple[float, float] | None = None
    floor: float | None = None
    parallel: bool = False
    quick: bool = False
    m: int = 5
    recruits: int = 50
    seed: int = SEED

    @property
    def label(self) -> str:
        """Human-readable description."""
        size = f"{self.n // 1000}k"
        if self.model == "lt":
            return f"LT, n={size}"
        if self.p is not None:
            return f"IC p={self.p:g}, n={size}"
        lo, hi = self.p_range
        return f"IC p~U[{lo:g},{hi:g}], n={size}"


@dataclass(frozen=True)
class CampaignCase:
    """The full campaign model on a bundled creator–audience scenario.

    Attributes
    ----------
    name : str
        Short identifier used in tables and JSON.
    scenario : str
        Scenario file, relative to the repository root; run as it is (world, seed,
        days, strategies). Every strategy is measured on the kernel separately.
    pairs_floor : float
        Required follower–post pairs examined per second (kernel, one core), per
        strategy: the kernel's own ``pairs_examined`` total (the out-degree of every
        post's author, summed over the posts of a trial) over the trials timed.
    mesa_strategy : int
        Index of the strategy the Mesa engine runs (a few seconds only).
    quick : bool
        Part of ``--quick``.
    """

    name: str
    scenario: str
    pairs_floor: float = 50e6
    mesa_strategy: int = 0
    quick: bool = False

    @property
    def path(self) -> Path:
        """Absolute path of the scenario file."""
        return ROOT / self.scenario

    @property
    def label(self) -> str:
        """Human-readable description."""
        return f"campaign, {Path(self.scenario).stem}"


@dataclass(frozen=True)
class PlannedCase:
    """A case the suite will measure once the feature exists; reported as skipped, never with a number."""

    name: str
    metric: str
    note: str


CASES: tuple[CascadeCase | CampaignCase | PlannedCase, ...] = (
    CascadeCase("ic_p01_10k", "ic", 10_000, p=0.01, floor=4.0, parallel=True, quick=True),
    CascadeCase("ic_p05_10k", "ic", 10_000, p=0.05, floor=2.5, parallel=True, quick=True),
    CascadeCase("lt_10k", "lt", 10_000, floor=8.0, parallel=True, quick=True),
    CascadeCase("ic_het_10k", "ic", 10_000, p_range=(0.0, 0.02), quick=True),
    CascadeCase("ic_p01_100k", "ic", 100_000, p=0.01, floor=4.0),
    CascadeCase("ic_p05_100k", "ic", 100_000, p=0.05, floor=2.5, parallel=True),
    CascadeCase("lt_100k", "lt", 100_000, floor=8.0),
    CascadeCase("ic_het_100k", "ic", 100_000, p_range=(0.0, 0.02)),
    CampaignCase("campaign_exposures", "scenarios/celebrity_vs_micro.yaml", quick=True),
)
