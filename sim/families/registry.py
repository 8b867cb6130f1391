"""The model families, by name and by the model blocks they own.

Adding a family is one entry in :data:`FAMILIES` (and its ``model:`` block in the scenario's
union of blocks, :data:`sim.input.scenario.ModelSpec`); adding an engine is one entry in the
family's own ``ENGINES``.
"""

from __future__ import annotations

from sim.campaign.family import FAMILY as CAMPAIGN
from sim.classic.family import FAMILY as CLASSIC
from sim.families.protocol import ModelFamily
from sim.input.scenario import Scenario
from sim.input.schema import ModelBlock

#: Every family, by name.
FAMILIES: dict[str, ModelFamily] = {f.name: f for f in (CLASSIC, CAMPAIGN)}


def family_of(what: Scenario | ModelBlock) -> ModelFamily:
    """The family of a scenario's model (or of a ``model:`` block)."""
    block = what.model if isinstance(what, Scenario) else what
    return FAMILIES[block.family]


def engine_names() -> list[str]:
    """Every engine name of every family (what ``--engine`` may say)."""
    return sorted({name for f in FAMILIES.values() for name in f.engines})
