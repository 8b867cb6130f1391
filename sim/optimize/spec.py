"""The ``optimize:`` block of a campaign scenario: the plan space ``run_experiment.py optimize`` searches.

```yaml
optimize:
  budget: 150000                 # USD to spend (default: the scenario's top-level budget)
  max_partners: 200              # most partners a plan may hire
  cells: [mega.instagram, micro.instagram, micro.tiktok, nano.tiktok]   # tier.platform allowed
  schedules:                     # default: the strategy grid's schedules
    burst: {days: [0]}
    ambassador: {schedule: {start: 0, every: 7, count: 3}}
  objective: adopters            # or cost_per_adopter (default: the scenario's objective)
  criterion: expected            # expected (mean over assumption points) or robust (10th percentile)
  evaluations: 60                # plans evaluated (the grid's strategies in the space first)
  trials: 64                     # trials per plan and point during the search
```
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.input.schema import PositiveInt, Spec
from sim.input.sweep import _MIX_KEY, GridSchedule, Name


class OptimizeSpec(Spec):
    """What the optimizer may choose, and what it maximises.

    Attributes
    ----------
    budget : float or None
        USD a plan may spend (default: the scenario's ``budget``; one of the two is required).
    max_partners : int or None
        The most partners a plan hires in all (default: no cap).
    cells : list of str or None
        ``tier.platform`` cells a plan may spend on (default: every tier on every platform its
        creators are on).
    schedules : dict or None
        Name -> ``{days}`` or ``{schedule}``: when a plan's partners post, one choice per plan
        (default: the strategy grid's schedules).
    objective : {"adopters", "cost_per_adopter"} or None
        Default: the scenario's ``objective``.
    criterion : {"expected", "robust"}
        ``expected``: the plan's mean objective over the assumption points (weighted);
        ``robust``: its 10th percentile over the points (the bad-case outcome).
    evaluations : int
        Plans evaluated in all, the grid's strategies inside the space included.
    trials : int
        Trials per plan and point during the search, keyed apart from the trials results are
        reported on (stream ``OPTIMIZE``): a plan chosen on the very random numbers it is then
        scored on would look better than it is.
    select : str or None
        How a plan's partners are chosen in each cell (default: the grid's, or ``top_followers``).
    """

    budget: Annotated[float, Field(gt=0)] | None = None
    max_partners: PositiveInt | None = None
    cells: Annotated[list[str], Field(min_length=1, max_length=64)] | None = None
    schedules: Annotated[dict[Name, GridSchedule], Field(min_length=1, max_length=16)] | None = None
    objective: Literal["adopters", "cost_per_adopter"] | None = None
    criterion: Literal["expected", "robust"] = "expected"
    evaluations: Annotated[int, Field(ge=1, le=5000)] = 60
    trials: Annotated[int, Field(ge=8, le=4096)] = 64
    select: Literal["random", "top_followers", "most_aligned"] | None = None

    @model_validator(mode="after")
    def _cells(self) -> OptimizeSpec:
        for cell in self.cells or ():
            if not _MIX_KEY.match(cell):
                raise ValueError(f"cells: '{cell}' is not tier.platform (tiers: nano, micro, macro, mega, celebrity)")
        if self.cells is not None and len(set(self.cells)) != len(self.cells):
            raise ValueError("cells: each tier.platform once")
        return self
