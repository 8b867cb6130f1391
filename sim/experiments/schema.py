"""The part every experiment definition shares: who, what it reproduces, seed, documented validation misses.

Each experiment module (``sim/experiments/<name>.py``) derives its definition from
:class:`ExperimentSpec`, adding ``experiment: Literal[...]`` (its kind), ``parameters`` (the
published set-up) and two ``Sizes`` blocks, ``full`` and ``quick`` (how big: graphs, trials,
accounts). All blocks are strict, frozen :class:`sim.input.schema.Spec` models, so unknown keys and
wrong types are refused with file, line and key like scenario errors.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sim.input.schema import Spec

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)]


class ExperimentSpec(Spec):
    """Fields common to every experiment definition.

    Attributes
    ----------
    id : str
        Names the output folder ``<out>/<id>/`` and the published figures ``docs/figures/<id>_*``.
    title, reference : str
        What is reproduced, and the paper (authors, year, venue, figure).
    seed : int
        Root seed; every graph and trial of the experiment derives from it.
    misses : dict
        Validation check name -> why the model misses the published value there (the cause,
        with a pointer to ``docs/experiments.md``). A validation MISS never fails ``reproduce``
        whether documented or not; the table shows this reason beside it, and a MISS without
        one is marked undocumented. Verification checks cannot be excused here.
    """

    id: Name
    title: str
    reference: str
    description: str = ""
    seed: Annotated[int, Field(ge=0, lt=2**64)]
    misses: dict[Name, str] = {}
