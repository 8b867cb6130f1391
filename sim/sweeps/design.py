"""The points of a sweep: a design over the uncertainties, each point a complete scenario.

Sampling is SALib's (Latin hypercube, Saltelli's scheme for Sobol' indices, Morris
trajectories; Herman & Usher 2017, Iwanaga, Usher & Herman 2022), seeded from the run's root
seed through stream ``DESIGN``; a full factorial is every combination of the listed levels.
Each point's scenario is the sweep's scenario with the point's values written at their key
paths and validated again as a whole, so a value the schema refuses is reported as a problem
of the sweep, with the point, before anything runs.

Every point runs on the same root seed: trial ``t`` of every strategy at every point draws the
same random numbers wherever they mean the same thing (common random numbers across points as
well as across strategies). A point's mean outcome is then a smooth function of the uncertain
values for a fixed set of random numbers, which is what variance-based indices assume.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass

import numpy as np
from pydantic import ValidationError

from sim.rng import Stream, numpy_generator
from sim.scenario import Scenario, ScenarioError
from sim.sweeps.spec import DesignKind, SweepSpec, Uncertainty

Value = float | str


@dataclass(frozen=True, eq=False)
class Point:
    """One point of a design.

    Attributes
    ----------
    index : int
        Position in the design (the ``point`` column of every table).
    values : tuple of (str, float or str)
        ``(label, value)`` of every uncertainty, in the sweep's order.
    scenario : Scenario
        The complete scenario at this point (no ``sweep`` block).
    """

    index: int
    values: tuple[tuple[str, Value], ...]
    scenario: Scenario


@dataclass(frozen=True, eq=False)
class Design:
    """The points of a run, and the sample they came from.

    Attributes
    ----------
    spec : SweepSpec or None
        The sweep (None: a run of one point, the scenario itself).
    matrix : float64[points, D] or None
        Sampled designs: SALib's sample, one row per point, in the uncertainties' units
        (what :mod:`sim.sweeps.sensitivity` analyses).
    points : tuple of Point
    """

    spec: SweepSpec | None
    matrix: np.ndarray | None
    points: tuple[Point, ...]

    @property
    def labels(self) -> list[str]:
        """Uncertainty labels, in order (empty without a sweep)."""
        return [] if self.spec is None else [u.label for u in self.spec.uncertainties]

    @property
    def is_sweep(self) -> bool:
        """Whether the run has a sweep block (even one of a single point)."""
        return self.spec is not None


def salib_problem(spec: SweepSpec) -> dict:
    """SALib's problem description of a sampled sweep (its one stringly-typed dict, kept here)."""
    return {"num_vars": len(spec.uncertainties), "names": [u.label for u in spec.uncertainties],
            "bounds": [[u.low, u.high] for u in spec.uncertainties]}


def design_seed(seed: int) -> int:
    """A positive int seed for SALib's samplers, keyed by (root seed, DESIGN).

    Positive: SALib's Sobol analysis treats a seed of 0 as "no seed" and falls back to NumPy's
    global generator.
    """
    return int(numpy_generator(seed, Stream.DESIGN).integers(1, 2**31 - 1))


def sample(spec: SweepSpec, seed: int) -> np.ndarray | list[tuple[Value, ...]]:
    """The design's points as values: a float matrix (sampled designs) or tuples of levels.

    Parameters
    ----------
    spec : SweepSpec
    seed : int
        The run's root seed (the design draws from stream ``DESIGN``).
    """
    if spec.design is DesignKind.FACTORIAL:
        return list(itertools.product(*(u.levels for u in spec.uncertainties)))
    from SALib.sample import latin, morris, sobol

    problem = salib_problem(spec)
    s = design_seed(seed)
    if spec.design is DesignKind.LATIN_HYPERCUBE:
        return latin.sample(problem, spec.samples, seed=s)
    if spec.design is DesignKind.SOBOL:
        return sobol.sample(problem, spec.samples, calc_second_order=False, scramble=True, seed=s)
    return morris.sample(problem, spec.samples, num_levels=spec.levels, seed=s)


def _leaf(data: dict, keys: tuple[str, ...]):
    node = data
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node


def apply(scenario: Scenario, values: dict[tuple[str, ...], Value]) -> Scenario:
    """The scenario with ``values`` written at their key paths, its sweep removed, validated again.

    A sampled float written where the schema wants a whole number (a count) is rounded.

    Raises
    ------
    ValueError
        With the schema's message if the result is not a valid scenario.
    """
    data = copy.deepcopy(scenario.model_dump(mode="python"))
    data["sweep"] = None
    for keys, value in values.items():
        parent = _leaf(data, keys)
        last = int(keys[-1]) if isinstance(parent, list) else keys[-1]
        old = parent[last] if (isinstance(parent, list) or last in parent) else None
        if isinstance(value, float) and isinstance(old, int) and not isinstance(old, bool):
            value = int(round(value))
        parent[last] = value
    try:
        out = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ValueError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
                                   for e in exc.errors()[:3])) from None
    out._source = scenario._source
    return out


def _shown(value: Value) -> str:
    return value if isinstance(value, str) else f"{value:.6g}"


def design(scenario: Scenario) -> Design:
    """The points a scenario runs at: its sweep's design, or the scenario alone.

    Raises
    ------
    ScenarioError
        If a point is not a valid scenario; the message names the sweep's key and line, the
        point and the values.
    """
    spec = scenario.sweep
    if spec is None:
        return Design(None, None, (Point(0, (), scenario),))
    rows = sample(spec, scenario.seed)
    matrix = np.asarray(rows, dtype=np.float64) if spec.design.sampled else None
    points, problems = [], []
    uncertainties: list[Uncertainty] = list(spec.uncertainties)
    for i, row in enumerate(rows):
        row = [float(v) if isinstance(v, (int, float, np.floating)) else v for v in row]
        try:
            point = apply(scenario, {u.keys: v for u, v in zip(uncertainties, row, strict=True)})
        except ValueError as exc:
            shown = ", ".join(f"{u.path} = {_shown(v)}" for u, v in zip(uncertainties, row, strict=True))
            problems.append(scenario.locate(("sweep", "uncertainties"),
                                            f"point {i} ({shown}) is not a valid scenario: {exc}"))
            if len(problems) >= 5:
                break
            continue
        points.append(Point(i, tuple((u.label, v) for u, v in zip(uncertainties, row, strict=True)), point))
    if problems:
        raise ScenarioError(problems)
    return Design(spec, matrix, tuple(points))
