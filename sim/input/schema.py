"""Conventions shared by every block of a scenario: strict, frozen pydantic models.

Each model family keeps its own blocks next to its kernel (``sim/world/spec.py``,
``sim/classic/spec.py``, ``sim/campaign/spec.py``); :mod:`sim.input.scenario` composes them.
Every block derives from :class:`Spec`, which forbids unknown keys (naming the allowed
ones and the closest match), refuses type coercion, and is immutable.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

if TYPE_CHECKING:
    from sim.input.scenario import Scenario

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveInt = Annotated[int, Field(ge=1)]
NonNegative = Annotated[float, Field(ge=0.0)]


class Spec(BaseModel):
    """Base of every scenario block: strict types, frozen, unknown keys rejected with suggestions."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = list(cls.model_fields)
            for key in data:
                if key not in allowed:
                    close = difflib.get_close_matches(str(key), allowed, n=1)
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    raise PydanticCustomError(
                        "unknown_key", "unknown key '{key}' (allowed: {allowed}){hint}",
                        {"key": key, "allowed": ", ".join(allowed), "hint": hint})
        return data


class ModelBlock(Spec):
    """Base of a model family's ``model:`` block: what the scenario needs to know of the family.

    The scenario is composed from the families' blocks and asks them, not the model's kind,
    what fits: which outcomes a sweep may summarise, which key of a strategy holds its plan,
    and whether the rest of the scenario (world, strategies, prices) fits the model.

    Attributes
    ----------
    family : str
        The family's name in :mod:`sim.families.registry` (``classic``, ``campaign``).
    outcomes : tuple of str
        Per-trial outcome columns of a run of this model.
    plan_key : str
        The key of a strategy that holds its plan (``recruits``, ``posts``).
    """

    family: ClassVar[str]
    outcomes: ClassVar[tuple[str, ...]]
    plan_key: ClassVar[str]

    def check_scenario(self, scenario: Scenario) -> None:
        """Refuse a scenario whose other blocks do not fit this model.

        Called once the scenario's blocks are valid on their own (and its strategy grid is
        expanded); raise ``ValueError`` with the message (it is reported at the scenario's top
        level, with file and line).
        """


def number_or(choices: tuple[str, ...], lo: float, hi: float, lo_open: bool = False):
    """Validator for a field that is a number in a range or one of a few names."""

    def check(value: Any) -> Any:
        if isinstance(value, str) and value in choices:
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (lo < value if lo_open else lo <= value) and value <= hi:
                return float(value)
        lo_b = "(" if lo_open else "["
        raise PydanticCustomError(
            "number_or_choice", "must be a number in {rng} or one of {choices} (got {got})",
            {"rng": f"{lo_b}{lo:g}, {hi:g}]", "choices": ", ".join(choices), "got": repr(value)})

    return check

