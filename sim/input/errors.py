"""Input that cannot be used, reported the one way the tool reports it.

Every document the tool reads (a scenario, a calibration definition, a targets file, an
experiment definition, a fitted parameter set) refuses bad input with :class:`InputError`: one
line per problem, ``file:line: key.path: message``, all of them at once, before anything runs.
The command line prints the lines and exits with status 2. Problems found later, while a world
is built or partners are chosen, are :class:`KeyedProblem` instances naming the key path to
blame; the scenario turns them into the same lines (:meth:`sim.input.scenario.Scenario.locate`).
"""

from __future__ import annotations

from collections.abc import Sequence


class InputError(ValueError):
    """Invalid input; ``problems`` holds one ``file:line: key.path: message`` line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class KeyedProblem(ValueError):
    """A problem found after validation (building a world, choosing partners) at ``key``, a key path
    of the scenario (``("strategies", 2, "posts", 0, "budget")``)."""

    def __init__(self, key: tuple, message: str) -> None:
        self.key = tuple(key)
        super().__init__(message)
