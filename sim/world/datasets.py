"""The real networks of the registry (:mod:`sim.world.catalog`), found on this machine or downloaded.

The graphs are other people's data and are never copied into this repository.
:func:`dataset_path` looks for a local copy first —
the folder in ``$ADVOCACY_SIM_DATA``, then ``shared/data/graphs`` beside the
checkout — verifies it, and otherwise downloads the public file once with
pooch into the user cache and verifies that.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

from sim.world.catalog import DATASETS

#: Environment variable naming a folder that holds local copies of the graphs.
DATA_ENV = "ADVOCACY_SIM_DATA"


class DatasetUnavailable(RuntimeError):
    """The graph is neither present locally nor downloadable (e.g. offline)."""


def local_folders() -> list[Path]:
    """Folders searched for local copies, in order."""
    folders = []
    if os.environ.get(DATA_ENV):
        folders.append(Path(os.environ[DATA_ENV]))
    # A checkout sits beside `shared/` in the project's workspace.
    folders.append(Path(__file__).resolve().parents[3] / "shared" / "data" / "graphs")
    return folders


def content_sha256(path: Path) -> str:
    """SHA-256 of a file's content, decompressing ``.gz`` first."""
    h = hashlib.sha256()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_verified: dict[Path, str] = {}


def _verified_sha(path: Path) -> str:
    key = path.resolve()
    if key not in _verified:
        _verified[key] = content_sha256(key)
    return _verified[key]


def dataset_path(name: str, *, download: bool = True) -> Path:
    """Path of a verified copy of the named graph.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    download : bool
        Whether to fetch the public copy when no local one exists.

    Raises
    ------
    KeyError
        If the name is unknown.
    DatasetUnavailable
        If no verified copy can be had; the message says where it looked.
    """
    ds = DATASETS[name]
    looked = []
    for folder in local_folders():
        for fname in ds.files:
            path = folder / fname
            looked.append(str(path))
            if path.is_file():
                if _verified_sha(path) != ds.sha256:
                    raise DatasetUnavailable(
                        f"{path} does not match the known checksum of '{name}' (sha256 {ds.sha256}); "
                        "it is a different or damaged copy")
                return path
    if not download:
        raise DatasetUnavailable(f"no local copy of '{name}' (looked for {', '.join(looked)})")
    import pooch  # only needed off the project's machines

    try:
        fetched = pooch.retrieve(ds.url, known_hash=f"sha256:{ds.sha256}",
                                 fname=f"{name}-{ds.files[0]}".removesuffix(".gz"),
                                 path=pooch.os_cache("advocacy-sim"), progressbar=False)
    except Exception as exc:  # network errors come in many types
        raise DatasetUnavailable(
            f"'{name}' has no local copy (looked for {', '.join(looked)}; set {DATA_ENV} to a folder "
            f"holding {ds.files[0]}) and downloading {ds.url} failed: {exc}") from None
    return Path(fetched)
