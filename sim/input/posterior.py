"""Scenarios that use the evidence: a posterior as the points of a run, and notes on hand-set values.

The posterior file's format and its reading belong to the input stage: a scenario that names a
posterior is composed from it before it is validated (:mod:`sim.input.scenario`); the
calibration that writes the file (:mod:`sim.calibration.abc`) and the claims audit that draws
from it (:mod:`sim.experiments.assumptions`) read it here too.

``parameters:`` in a scenario names either a fitted point estimate (``calibration/fitted/<name>.yaml``)
or a posterior::

    parameters: {posterior: calibration/fitted/benchmarks.posterior.parquet, draws: 200}

Each of ``draws`` posterior draws becomes a point of the run (a sweep point): every strategy runs
at every draw on the same random numbers, so every table, per point and pooled over points,
carries the parameters' uncertainty. The draws are chosen by systematic resampling of the file's
rows by their ``weight`` column (equal weights without one; :func:`sim.base.stats.systematic_resample`),
with an offset keyed by the scenario's root seed (stream ``DESIGN``, key 1): the same scenario
always runs the same draws, a new seed other ones, and no global generator is touched. The chosen
draws are equally weighted (the resampling has turned the importance weights into repetitions),
so the planner's decision layer averages over the points with equal weights
(:meth:`sim.results.assumptions.AssumptionPoints.from_design`). A posterior cannot be combined with a
``sweep`` block (refused: its points would be a product the sweep's design does not describe).

:func:`calibration_notes` says which calibrated parameters a scenario sets by hand (none named,
or a sweep that varies one); the loader warns with them and the report prints them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field

from sim.base.rng import Stream, numpy_generator
from sim.base.stats import systematic_resample
from sim.campaign.spec import CampaignModel
from sim.input import keypaths
from sim.input.errors import InputError
from sim.input.fitted import FittedError, find_fitted, read_fitted
from sim.input.schema import PositiveInt, Spec

if TYPE_CHECKING:
    from sim.input.scenario import Scenario

#: The importance-weight column of a posterior file (every other column is a parameter path).
WEIGHT = "weight"
#: Largest posterior file read (bytes): a million draws of a dozen parameters take about 100 MB; an
#: enormous file is refused before it is read, like every other input (docs/reliability.md).
MAX_BYTES = 512 * 2**20
#: The project's calibrated set: which parameters a scenario without ``parameters`` sets by hand.
DEFAULT_SET = Path("calibration/fitted/benchmarks.yaml")


class HandSetWarning(UserWarning):
    """A scenario sets calibrated parameters by hand (:func:`calibration_notes`)."""


class PosteriorRef(Spec):
    """``parameters: {posterior: <file>.posterior.parquet, draws: N}``.

    Attributes
    ----------
    posterior : str
        The posterior draws (relative to the scenario's folder or the repository).
    draws : int
        How many draws become points of the run (at most the file's rows).
    """

    posterior: Annotated[str, Field(min_length=1, max_length=500)]
    draws: PositiveInt


@dataclass(frozen=True)
class PosteriorDraws:
    """Draws chosen for a run.

    Attributes
    ----------
    path : Path
        The file.
    paths : tuple of str
        Parameter paths that vary between draws, in file order.
    constant : dict of str -> float
        Paths whose value is the same in every row (assumed values): written once.
    values : float64[draws, len(paths)]
        The chosen draws, one row per point.
    rows : int64[draws]
        Their row numbers in the file.
    """

    path: Path
    paths: tuple[str, ...]
    constant: dict[str, float]
    values: np.ndarray
    rows: np.ndarray


class PosteriorError(InputError):
    """A posterior file that cannot be used; the message says why (without location).

    Attributes
    ----------
    key : str
        The key of ``parameters`` to blame: ``"posterior"`` (the file) or ``"draws"``.
    """

    def __init__(self, message: str, key: str = "posterior") -> None:
        super().__init__([message])
        self.key = key


def read_posterior(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The file's parameter paths, their values float64[rows, k] and normalised weights float64[rows].

    Raises
    ------
    PosteriorError
        Unreadable or too large a file (:data:`MAX_BYTES`), no rows, a column that is not a number
        or not a key path, weights that are negative, not finite or all zero, values that are not
        finite.
    """
    import pyarrow.parquet as pq

    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise PosteriorError(f"{path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    if size > MAX_BYTES:
        raise PosteriorError(f"{path} has {size:,} bytes, more than the {MAX_BYTES:,} a posterior may have")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 (pyarrow raises several kinds for a bad file)
        raise PosteriorError(f"{path} is not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    if table.num_rows == 0:
        raise PosteriorError(f"{path} has no draws")

    names = [n for n in table.column_names if n != WEIGHT]
    if not names:
        raise PosteriorError(f"{path} has no parameter columns (one column per parameter path, e.g. "
                             "model.threshold.max, and optionally 'weight')")
    for n in names:
        if not re.fullmatch(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+", n):
            raise PosteriorError(f"{path}: column '{n}' is not a parameter key path (e.g. model.threshold.max) "
                                 "nor 'weight'")
    try:
        values = np.column_stack([table.column(n).to_numpy().astype(np.float64) for n in names])
        weights = (table.column(WEIGHT).to_numpy().astype(np.float64) if WEIGHT in table.column_names
                   else np.ones(table.num_rows))
    except (TypeError, ValueError) as exc:
        raise PosteriorError(f"{path}: every column must hold numbers ({exc})") from None
    if not np.isfinite(values).all():
        raise PosteriorError(f"{path}: parameter values must be finite numbers")
    if not np.isfinite(weights).all() or (weights < 0).any() or weights.sum() <= 0:
        raise PosteriorError(f"{path}: weights must be finite, non-negative and not all zero")
    return names, values, weights / weights.sum()


def choose(path: Path, draws: int, seed: int) -> PosteriorDraws:
    """The ``draws`` points of a run: systematic resampling keyed by the root seed.

    Raises
    ------
    PosteriorError
        As :func:`read_posterior`, or more draws asked for than the file holds.
    """
    names, values, weights = read_posterior(path)
    if draws > len(values):
        raise PosteriorError(f"{draws} asked for, but {path.name} holds {len(values)}", key="draws")
    u0 = float(numpy_generator(seed, Stream.DESIGN, 1).random())
    rows = systematic_resample(weights, draws, u0)
    same = np.all(values == values[0], axis=0)
    paths = tuple(n for n, s in zip(names, same, strict=True) if not s)
    constant = {n: float(values[0, j]) for j, (n, s) in enumerate(zip(names, same, strict=True)) if s}
    chosen = values[rows][:, ~same]
    return PosteriorDraws(path, paths, constant, chosen, rows)


def label(path: str) -> str:
    """A short column label for a parameter path (``world.tiers.micro.engagement`` -> ``micro.engagement``)."""
    keys = path.split(".")
    if keys[0] == "world" and len(keys) > 2:
        keys = keys[2:] if keys[1] == "tiers" else keys[1:]
    elif keys[0] == "model":
        keys = keys[1:]
    return ".".join(keys)[:60].replace("/", "_")


def calibrated_paths(base_dir: Path | None = None) -> tuple[str, ...]:
    """Parameter paths of the project's calibrated set (:data:`DEFAULT_SET`), empty if it is missing."""
    path = find_fitted(str(DEFAULT_SET), base_dir or Path.cwd())
    if path is None:
        return ()
    try:
        return _paths_of(str(path.resolve()), path.stat().st_mtime_ns)
    except (FittedError, OSError):
        return ()


@lru_cache(maxsize=8)
def _paths_of(path: str, mtime_ns: int) -> tuple[str, ...]:  # noqa: ARG001 (the file's version: part of the key)
    fitted = read_fitted(path)
    return tuple([*fitted.assumed, *(p.path for p in fitted.parameters)])


def _shown(value: object) -> str:
    """A hand-set value as a note shows it (a calibrated parameter may be null, e.g. no repetition peak)."""
    return "null" if value is None else f"{float(value):g}"  # type: ignore[arg-type]


def calibration_notes(scenario: Scenario) -> list[str]:
    """Sentences on the calibrated parameters a campaign scenario sets by hand (empty: none).

    * no ``parameters``: every calibrated parameter the scenario has is hand-set;
    * a ``sweep`` varying a calibrated parameter: its calibrated value is replaced at every point.
    """
    if not isinstance(scenario.model, CampaignModel):
        return []
    data = scenario.model_dump(mode="python")
    calibrated = [p for p in calibrated_paths() if keypaths.problem(data, keypaths.split(p)) is None]
    if not calibrated:
        return []
    notes = []
    if scenario.parameters is None:
        shown = ", ".join(f"{p} = {_shown(keypaths.get(data, keypaths.split(p)))}" for p in calibrated)
        notes.append(f"uncalibrated: this scenario sets calibrated parameters by hand ({shown}); name the "
                     f"calibrated set with 'parameters: {DEFAULT_SET.as_posix()}' (or its posterior, "
                     "docs/calibration.md)")
    sweep = scenario.sweep
    if sweep is not None and sweep.design.value != "posterior":
        varied = [u.path for u in sweep.uncertainties if u.path in calibrated]
        if varied:
            notes.append(f"the sweep sets calibrated parameters by hand at every point ({', '.join(varied)}): their "
                         "calibrated values are replaced")
    return notes

