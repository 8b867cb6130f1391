"""Fitted parameter sets: ``calibration/fitted/<name>.yaml``, written by a calibration and named
by scenarios (``parameters: calibration/fitted/<name>.yaml``).

A fitted set holds each free parameter's path, point estimate (the posterior's highest-density
draw) and 95% posterior interval, the identifiability figures, the values the fit assumed, every
target's posterior-predictive interval beside its range, and the provenance: the targets file's
SHA-256, the seed, trials, the git commit and the date. Its posterior draws are
``<name>.posterior.parquet`` beside it. It is read back strictly; a scenario naming it gets the
estimates (and the assumed values) written at their paths before it is validated.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field

from sim.base.files import atomic_text
from sim.base.provenance import REPO
from sim.input import keypaths
from sim.input.errors import InputError
from sim.input.schema import Spec
from sim.input.strict import read_document, validate_document


class FittedParameter(Spec):
    """One free parameter's estimate."""

    path: str
    value: float
    interval: tuple[float, float]
    bounds: tuple[float, float]
    start: float
    prior_sd: float
    posterior_sd: float
    contraction: float


class FittedComparison(Spec):
    """A target's simulated value at the estimate."""

    target: str
    set: str
    role: str
    moment: str
    value: float | None
    range: tuple[float, float | None]
    simulated: float | None
    interval: tuple[float | None, float | None]
    hit: bool


class FittedSet(Spec):
    """The file ``calibration/fitted/<name>.yaml``."""

    name: str
    calibration: str
    targets: str
    targets_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    set: str
    seed: int
    trials: int
    quick: bool
    git_commit: str | None
    date: str
    elapsed_seconds: float
    evaluations: int
    objective: float
    parameters: Annotated[list[FittedParameter], Field(min_length=1)]
    confounded: list[tuple[str, str, float]] = []
    method: str = "smm"
    posterior: str | None = None
    assumed: dict[str, float] = {}
    final_temperature: float | None = None
    effective_sample_size: float | None = None

    def values(self) -> dict[tuple[str, ...], float]:
        """Estimates (and assumed values) by key path."""
        out = {keypaths.split(k): v for k, v in self.assumed.items()}
        out.update({keypaths.split(p.path): p.value for p in self.parameters})
        return out


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, float):
        return float(f"{x:.6g}") if x == x else None
    return x


def write_fitted(fitted: FittedSet, comparisons: list[FittedComparison], path: str | Path) -> Path:
    """Write a fitted set (its comparisons after it, for readers) as YAML."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _plain(fitted.model_dump(mode="json"))
    try:  # shown relative to the working directory (the checkout), never as a machine's absolute path
        shown = path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        shown = path.name
    head = (f"# Fitted parameters of calibration '{fitted.name}' (written by `python run_experiment.py calibrate "
            f"{fitted.calibration}`).\n# Scenarios apply them with `parameters: {shown}` (relative to the "
            "scenario's folder or the checkout); see docs/calibration.md.\n")
    text = head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)
    text += "# Every target beside its simulated value at the estimate (not read back).\n"
    text += yaml.safe_dump({"comparison": _plain([c.model_dump(mode="json") for c in comparisons])},
                           sort_keys=False, allow_unicode=True, width=110)
    return atomic_text(path, text)


class FittedError(InputError):
    """A fitted set that cannot be read."""


def read_fitted(path: str | Path) -> FittedSet:
    """Read a fitted set strictly (its ``comparison`` list is for readers and is skipped)."""
    doc = read_document(path, FittedError)
    return validate_document(doc, lambda data: FittedSet.model_validate(
        {k: v for k, v in data.items() if k != "comparison"}, strict=False), FittedError, "a fitted set is a mapping")


def find_fitted(name: str, base_dir: Path) -> Path | None:
    """A fitted set named in a scenario: relative to the scenario's folder, else to the repository."""
    path = Path(name)
    for candidate in [path] if path.is_absolute() else [root / path for root in (base_dir, REPO, Path.cwd())]:
        try:
            if candidate.is_file():
                return candidate
        except OSError:  # a name too long to look up: not found
            continue
    return None


def check_targets_hash(fitted: FittedSet, fitted_path: Path) -> None:
    """Warn if the targets file the set was fitted to has changed since."""
    for root in (fitted_path.parent, REPO, Path.cwd()):
        candidate = root / fitted.targets
        if candidate.is_file():
            digest = hashlib.sha256(candidate.read_bytes()).hexdigest()
            if digest != fitted.targets_sha256:
                warnings.warn(f"{fitted_path}: the targets file {candidate} has changed since these parameters were "
                              f"fitted (SHA-256 {digest[:12]}... vs {fitted.targets_sha256[:12]}...); rerun the "
                              "calibration", stacklevel=3)
            return
