"""Where a result came from: the checkout's commit, the versions, the command line, the machine.

Every run folder, reproduction and fitted parameter set records it, so a number can be traced to
the code and the environment that produced it.
"""

from __future__ import annotations

import datetime as dt
import functools
import platform
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

#: The checkout this package runs from (where scenarios' relative paths may also start).
REPO = Path(__file__).resolve().parents[2]

#: Packages whose versions decide the numbers.
PACKAGES = ("advocacy-sim", "numpy", "numba", "networkx", "scipy", "pandas", "pyarrow", "pydantic", "mesa")


def git_commit(where: str | Path = REPO) -> str | None:
    """The commit checked out at ``where`` (default: this package's checkout); None outside git."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


@functools.cache
def package_versions() -> tuple[tuple[str, str | None], ...]:
    """``(package, version)`` of :data:`PACKAGES` (None when not installed).

    Read once per process: parsing the installed packages' metadata takes ~30 ms, which a sweep of
    many short runs would pay every time.
    """
    out: list[tuple[str, str | None]] = []
    for pkg in PACKAGES:
        try:
            out.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            out.append((pkg, None))
    return tuple(out)


def today() -> str:
    """Today's date in UTC, ISO format."""
    return dt.datetime.now(dt.UTC).date().isoformat()


@dataclass(frozen=True)
class Provenance:
    """Where a result came from.

    Attributes
    ----------
    git_commit : str or None
    python : str
        The interpreter's version.
    packages : dict of str to str or None
        Versions of :data:`PACKAGES`.
    command : list of str
        The command line (``sys.argv``).
    machine : dict of str to str
        Platform and processor.
    """

    git_commit: str | None
    python: str
    packages: dict[str, str | None]
    command: list[str]
    machine: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        """The fields as a mapping (for JSON manifests)."""
        return {"git_commit": self.git_commit, "python": self.python, "packages": dict(self.packages),
                "command": list(self.command), "machine": dict(self.machine)}


def provenance() -> Provenance:
    """The provenance of this process."""
    return Provenance(git_commit=git_commit(), python=sys.version.split()[0], packages=dict(package_versions()),
                      command=list(sys.argv),
                      machine={"platform": platform.platform(), "processor": platform.machine()})
