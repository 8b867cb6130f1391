"""Files written whole or not at all.

A result, a fitted parameter set or a report page is written to a temporary file and moved over
its name with :func:`os.replace`, which is atomic on one filesystem: a reader (or a resumed run)
sees the old file or the new one, never half of one, and a write killed half-way (a full disk, a
kill) leaves no temporary behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def atomic_write(target: str | Path, write: Callable[[Path], object], scratch: str | Path | None = None) -> Path:
    """Write ``target`` atomically: ``write(tmp)`` fills a temporary file that then replaces it.

    Parameters
    ----------
    target : path
        The file to write; its folder must exist (or be creatable).
    write : callable
        Writes the content to the path it is given (``lambda tmp: frame.to_csv(tmp)``). A writer
        that infers a format from the file name must be told the format: the temporary's name
        ends in ``.tmp``.
    scratch : path, optional
        Folder for the temporary (default: the target's own folder, as a hidden file). It must be
        on the target's filesystem; a run folder uses one away from its Parquet folders, where a
        stray temporary would be read as a part.

    Returns
    -------
    Path
        ``target``.
    """
    target = Path(target)
    folder = target.parent if scratch is None else Path(scratch)
    folder.mkdir(parents=True, exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{target.parent.name}.{target.name}.tmp"  # unique per target within a scratch folder
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def atomic_text(target: str | Path, text: str, scratch: str | Path | None = None) -> Path:
    """Write a UTF-8 text file atomically (:func:`atomic_write`)."""
    return atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"), scratch)
