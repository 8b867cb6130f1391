"""The calibration definition: ``calibration/<name>.yaml``.

A definition names the base scenario (the panel world, ``calibration/panel.yaml``), the targets
file and which set of it to fit, values to fix before fitting (``fixed``: the panel's only, e.g.
the source article's rate card), values assumed by the fit that every scenario using the fitted
set takes too (``assumed``: a parameter the targets cannot identify, set at a stated value), the
free parameters as scenario key paths with bounds (their uniform priors), the Monte Carlo trials
of every evaluation, the ABC-SMC budget, the posterior-predictive draws, a reduced ``quick``
budget (what the test suite runs) and the root seed. Values are written at their paths and the scenario is
validated again as a whole, with the sweep machinery (:func:`sim.input.design.apply`), so a
bound the schema refuses is an error of the definition, before anything runs.

Example::

    name: benchmarks
    base: panel.yaml
    targets: targets.yaml
    set: benchmarks
    free:
      - {path: world.tiers.micro.engagement, low: 0.02, high: 0.6}
      - {path: model.threshold.max, low: 2.0, high: 80.0}
    trials: 32
    seed: 20261211
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from sim.calibration.moments import strategies_needed
from sim.calibration.targets import Role, Targets, TargetsError, TargetSet, load_targets
from sim.campaign.spec import CampaignModel
from sim.input import keypaths
from sim.input.errors import InputError
from sim.input.posterior import HandSetWarning
from sim.input.scenario import Scenario, ScenarioError, load_scenario
from sim.input.schema import PositiveInt, Spec
from sim.input.strict import located, read_strict


class FreeParameter(Spec):
    """A scenario value the estimator moves, within bounds (its uniform prior for identifiability)."""

    path: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+$")]
    low: float
    high: float

    @model_validator(mode="after")
    def _bounds(self) -> FreeParameter:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self

    @property
    def keys(self) -> tuple[str, ...]:
        """The path as keys."""
        return keypaths.split(self.path)

    @property
    def prior_sd(self) -> float:
        """Standard deviation of the uniform distribution on the bounds."""
        return (self.high - self.low) / math.sqrt(12.0)


class AbcSpec(Spec):
    """Budget of the ABC-SMC fit (pyABC; :mod:`sim.calibration.abc`).

    Attributes
    ----------
    population : int
        Particles of every tempering generation (temperature above 1).
    final_population : int
        Particles of the last generation, at temperature 1: the posterior draws written.
    generations : int
        At most this many generations in all (the last one included); if the temperature has not
        reached 1 by then, the fit stops and says so (its draws are then a tempered posterior).
    target_rate : float
        Acceptance rate the adaptive temperature aims at (pyABC's ``AcceptanceRateScheme``).
    decay : float
        Each generation's temperature is at most ``decay`` times the previous one.
    min_acceptance_rate : float
        Stop when a generation accepts fewer proposals than this share.
    max_evaluations : int
        Stop after this many model evaluations in all.
    """

    population: Annotated[int, Field(ge=10, le=100000)] = 400
    final_population: Annotated[int, Field(ge=10, le=100000)] = 1000
    generations: Annotated[int, Field(ge=2, le=100)] = 15
    target_rate: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.3
    decay: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    min_acceptance_rate: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.001
    max_evaluations: Annotated[int, Field(ge=10)] = 200000


class PredictiveSpec(Spec):
    """Posterior-predictive checks: posterior draws simulated, each on a world and trials of its own."""

    draws: Annotated[int, Field(ge=2, le=100000)] = 200
    trials: PositiveInt | None = None  #: default: the calibration's trials


class QuickSpec(Spec):
    """Reduced budget for ``--quick`` (the test suite): seconds, not a posterior to use."""

    trials: PositiveInt = 4
    population: Annotated[int, Field(ge=10, le=100000)] = 20
    final_population: Annotated[int, Field(ge=10, le=100000)] = 30
    generations: Annotated[int, Field(ge=2, le=100)] = 3
    predictive_draws: Annotated[int, Field(ge=2, le=100000)] = 6


class CalibrationSpec(Spec):
    """A calibration definition (see the module docstring)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)]
    description: str = ""
    base: str
    targets: str = "targets.yaml"
    set: TargetSet
    fixed: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")], float | str] = {}
    assumed: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+$")], float] = {}
    free: Annotated[list[FreeParameter], Field(min_length=1)]
    trials: PositiveInt = 32
    seed: Annotated[int, Field(ge=0, lt=2**64)]
    abc: AbcSpec = AbcSpec()
    predictive: PredictiveSpec = PredictiveSpec()
    quick: QuickSpec = QuickSpec()
    workers: PositiveInt = 1

    @field_validator("set", mode="before")
    @classmethod
    def _set(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return TargetSet(value)
            except ValueError:
                from pydantic_core import PydanticCustomError

                raise PydanticCustomError("enum", "unknown set {value!r} (allowed: {allowed})",
                                          {"value": value, "allowed": ", ".join(s.value for s in TargetSet)}) from None
        return value

    @model_validator(mode="after")
    def _unique(self) -> CalibrationSpec:
        paths = [p.path for p in self.free]
        dup = sorted({p for p in paths if paths.count(p) > 1})
        if dup:
            raise ValueError(f"free parameters must be distinct; repeated: {', '.join(dup)}")
        both = sorted(set(paths) & (set(self.assumed) | set(self.fixed)))
        if both:
            raise ValueError(f"a free parameter cannot also be fixed or assumed: {', '.join(both)}")
        return self


class CalibrationError(InputError):
    """An invalid calibration definition; ``problems`` holds ``file:line: key: message`` lines."""


@dataclass(frozen=True, eq=False)
class Calibration:
    """A loaded definition: the spec, its base scenario (fixed values applied) and its targets.

    Attributes
    ----------
    spec : CalibrationSpec
    path : Path
        The definition file.
    base : Scenario
        The base scenario with ``fixed`` written in (free parameters at their base values).
    targets : Targets
    """

    spec: CalibrationSpec
    path: Path
    base: Scenario
    targets: Targets

    @property
    def fit_targets(self):
        """The targets the estimator matches: the spec's set, role ``fit``."""
        return self.targets.select(self.spec.set, Role.FIT)

    @property
    def compared(self):
        """Every target with a moment (both sets, fit and held out): what the report compares."""
        return self.targets.comparable()

    def base_values(self) -> list[float]:
        """The free parameters' values in the base scenario."""
        data = self.base.model_dump(mode="python")
        return [float(keypaths.get(data, p.keys)) for p in self.spec.free]


def _resolve(base_dir: Path, name: str) -> Path:
    path = Path(name)
    return path if path.is_absolute() else (base_dir / path)


def load_calibration(path: str | Path) -> Calibration:
    """Read and validate a calibration definition, its base scenario and its targets.

    Raises
    ------
    CalibrationError
        With one ``file:line: key.path: message`` line per problem (the definition's, the base
        scenario's or the targets file's); nothing runs.
    """
    from sim.input.design import apply

    path = Path(path)
    spec, doc = read_strict(path, CalibrationSpec.model_validate, CalibrationError,
                            "a calibration is a mapping of keys to values")
    here = path.resolve().parent
    try:
        with warnings.catch_warnings():  # the panel is what calibrations fit: its hand-set values are the point
            warnings.simplefilter("ignore", HandSetWarning)
            base = load_scenario(_resolve(here, spec.base))
    except ScenarioError as exc:
        raise CalibrationError([located(doc, ("base",), "the base scenario is not valid:"), *exc.problems]) from None
    if not isinstance(base.model, CampaignModel):
        raise CalibrationError([located(doc, ("base",), "the base scenario must be a campaign scenario")])
    try:
        targets = load_targets(_resolve(here, spec.targets))
    except TargetsError as exc:
        raise CalibrationError([located(doc, ("targets",), "the targets file is not valid:"), *exc.problems]) from None
    problems = []
    data = base.model_dump(mode="python")
    for key in spec.fixed:
        keys = keypaths.split(key)
        if keys[0] not in ("rate_card",) and (problem := keypaths.problem(data, keys)):
            problems.append(located(doc, ("fixed", key), problem))
    for key in spec.assumed:
        if problem := keypaths.problem(data, keypaths.split(key)):
            problems.append(located(doc, ("assumed", key), problem))
    for i, p in enumerate(spec.free):
        if problem := keypaths.problem(data, p.keys):
            problems.append(located(doc, ("free", i, "path"), problem))
    if problems:
        raise CalibrationError(problems)
    try:
        fixed, _ = apply(base, {keypaths.split(k): v for k, v in {**spec.fixed, **spec.assumed}.items()})
    except ValueError as exc:
        raise CalibrationError([located(doc, ("fixed",), f"the base scenario with the fixed and assumed values is "
                                        f"not valid: {exc}")]) from None
    for i, p in enumerate(spec.free):
        for end in ("low", "high"):
            try:
                apply(fixed, {p.keys: getattr(p, end)})
            except ValueError as exc:
                problems.append(located(doc, ("free", i, end), f"{p.path} = {getattr(p, end):g} is not a valid "
                                         f"scenario value: {exc}"))
    calibration = Calibration(spec, path, fixed, targets)
    if not calibration.fit_targets:
        problems.append(located(doc, ("set",), f"the targets file has no fit targets of set '{spec.set.value}'"))
    names = {s.name for s in fixed.strategy_list}
    for name in strategies_needed(calibration.compared):
        if name not in names:
            problems.append(located(doc, ("base",), f"the base scenario has no strategy '{name}', which the "
                                     f"targets' moments read (strategies: {', '.join(sorted(names))})"))
    if problems:
        raise CalibrationError(problems)
    return calibration
