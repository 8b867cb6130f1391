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

import itertools
from dataclasses import dataclass

import numpy as np
from pydantic import ValidationError

from sim.base.rng import Stream, numpy_generator
from sim.input import keypaths
from sim.input.scenario import Scenario, ScenarioError
from sim.input.sweep import DesignKind, SweepSpec, Uncertainty

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
        (what :mod:`sim.results.sensitivity` analyses).
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


def factorial(spec: SweepSpec) -> list[tuple[Value, ...]]:
    """A factorial design's points: every combination of the levels, the last uncertainty fastest."""
    return list(itertools.product(*(u.levels for u in spec.uncertainties)))


def sample(spec: SweepSpec, seed: int) -> np.ndarray:
    """A sampled design's points, float64[points, D] in the uncertainties' units (SALib's samplers).

    Parameters
    ----------
    spec : SweepSpec
        A ``latin_hypercube``, ``sobol`` or ``morris`` sweep.
    seed : int
        The run's root seed (the design draws from stream ``DESIGN``).
    """
    from SALib.sample import latin, morris, sobol

    problem = salib_problem(spec)
    s = design_seed(seed)
    if spec.design is DesignKind.LATIN_HYPERCUBE:
        return latin.sample(problem, spec.samples, seed=s)
    if spec.design is DesignKind.SOBOL:
        return sobol.sample(problem, spec.samples, calc_second_order=False, scramble=True, seed=s)
    if spec.design is DesignKind.MORRIS:
        return morris.sample(problem, spec.samples, num_levels=spec.morris_levels, seed=s)
    raise ValueError("a factorial design is not sampled; see factorial()")


_INT_ERRORS = frozenset({"int_type", "int_from_float", "int_parsing"})


def apply(scenario: Scenario, values: dict[tuple[str, ...], Value]) -> tuple[Scenario, dict[tuple[str, ...], Value]]:
    """The scenario with ``values`` written at their key paths, its sweep removed, validated again.

    A value where the schema wants a whole number (a count, a number of days) is rounded to the
    nearest integer: sampled ranges over counts give their end values half the weight of the
    values between them (widen the range by 0.5 on each side for equal weights).

    Returns
    -------
    (Scenario, dict)
        The point's scenario and the values as written (rounded where the schema wanted integers).

    Raises
    ------
    ValueError
        With the schema's message if the result is not a valid scenario.
    """
    base = scenario.model_dump(mode="python")
    base["sweep"] = None
    written = dict(values)
    for attempt in range(2):
        data = keypaths.with_values(base, written)
        try:
            out = Scenario.model_validate(data)
            break
        except ValidationError as exc:
            wants_int = {tuple(map(str, keypaths.existing(data, e["loc"])))
                         for e in exc.errors() if e["type"] in _INT_ERRORS}
            rounded = {k: int(round(v)) for k, v in written.items() if isinstance(v, float) and k in wants_int}
            if attempt or not rounded:
                problems = []
                for e in exc.errors()[:3]:
                    where = keypaths.dotted(keypaths.existing(data, e["loc"]))
                    msg = e["msg"].removeprefix("Value error, ")
                    problems.append(f"{where}: {msg}" if where else msg)
                raise ValueError("; ".join(problems)) from None
            written.update(rounded)
    out._source = scenario._source
    return out, written


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
    matrix = sample(spec, scenario.seed) if spec.design.sampled else None
    if spec.design is DesignKind.POSTERIOR:  # listed points: level i of every uncertainty is point i
        rows = list(zip(*(u.levels for u in spec.uncertainties), strict=True))
    else:
        rows = factorial(spec) if matrix is None else matrix.tolist()
    points, problems = [], []
    uncertainties: list[Uncertainty] = list(spec.uncertainties)
    for i, row in enumerate(rows):
        try:
            point, written = apply(scenario, {u.keys: v for u, v in zip(uncertainties, row, strict=True)})
        except ValueError as exc:
            shown = ", ".join(f"{u.path} = {_shown(v)}" for u, v in zip(uncertainties, row, strict=True))
            problems.append(scenario.locate(("sweep", "uncertainties"),
                                            f"point {i} ({shown}) is not a valid scenario: {exc}"))
            if len(problems) >= 5:
                break
            continue
        points.append(Point(i, tuple((u.label, written[u.keys]) for u in uncertainties), point))
    if problems:
        raise ScenarioError(problems)
    return Design(spec, matrix, tuple(points))
