"""Facts about a built world, for manifests, summaries and the report: its size and make-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.world.build import World
from sim.world.spec import CreatorAudienceWorld, WorldSpec


@dataclass(frozen=True)
class AudienceFacts:
    """A creator-audience world's population.

    Attributes
    ----------
    creators : int
    scale : float
        Real people one simulated account stands for.
    real_accounts : float
        The audience in real people (``accounts x scale``).
    audience_per_platform : dict of str to int
        Simulated accounts on each platform.
    creators_per_tier : dict of str to int
    creators_capped_at_platform_audience : int
        Creators who got fewer simulated followers than followers / scale (usually because every
        member of their platform already follows them); raise ``scale`` or the audience if not 0.
    """

    creators: int
    scale: float
    real_accounts: float
    audience_per_platform: dict[str, int]
    creators_per_tier: dict[str, int]
    creators_capped_at_platform_audience: int


@dataclass(frozen=True)
class WorldFacts:
    """Accounts, edges and description of a world.

    Attributes
    ----------
    accounts : int
        Accounts of the follow graph (the audience, in a creator-audience world).
    edges : int
        Stored follow edges.
    graph : str
        The graph's description.
    directed : bool
    audience : AudienceFacts or None
        Creator-audience worlds only.
    """

    accounts: int
    edges: int
    graph: str
    directed: bool
    audience: AudienceFacts | None = None

    def as_dict(self) -> dict[str, Any]:
        """The facts as one flat mapping (the ``world`` of ``manifest.json``)."""
        out: dict[str, Any] = {"accounts": self.accounts, "edges": self.edges, "graph": self.graph,
                               "directed": self.directed}
        if self.audience is not None:
            a = self.audience
            out.update({"creators": a.creators, "scale": a.scale, "real_accounts": a.real_accounts,
                        "audience_per_platform": dict(a.audience_per_platform),
                        "creators_per_tier": dict(a.creators_per_tier),
                        "creators_capped_at_platform_audience": a.creators_capped_at_platform_audience})
        return out


def world_facts(world: World, spec: WorldSpec | CreatorAudienceWorld) -> WorldFacts:
    """The facts of a built world (``spec`` is the world block it was built from)."""
    g = world.graph
    pop = world.population
    if pop is None or not isinstance(spec, CreatorAudienceWorld):
        return WorldFacts(g.n, g.m, g.name, g.directed)
    audience = pop.on_platform.sum(axis=0)
    wanted = np.maximum(1, np.rint(pop.followers_real / pop.scale)).astype(np.int64)
    return WorldFacts(
        accounts=pop.n_audience, edges=g.m, graph=g.name, directed=g.directed,
        audience=AudienceFacts(
            creators=pop.n_creators, scale=pop.scale, real_accounts=pop.n_audience * pop.scale,
            audience_per_platform=dict(zip(pop.platforms, audience.tolist(), strict=True)),
            creators_per_tier=spec.tier_counts(),
            creators_capped_at_platform_audience=int((pop.followers_sim < wanted).sum())))
