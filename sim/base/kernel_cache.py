"""numba's on-disk kernel cache, made safe against edits to the helpers kernels inline.

numba keys a cached kernel on its own source file only. The kernels in
:mod:`sim.classic.kernel` and :mod:`sim.campaign.kernel` (and the world builders' jitted
loops) inline the draws of :mod:`sim.base.rng` and the intrinsics of :mod:`sim.base.intrinsics`, so
after a change to ``rng.py`` alone (an edit, or an upgrade of this package) numba would load
kernels compiled against the old draws: silently different random numbers, and engines that
no longer agree. :func:`ensure_fresh`, run once when :mod:`sim` is imported, stores a digest
of the files with jitted code in ``sim/__pycache__`` and, when the digest changes, empties
numba's cache in every ``__pycache__`` folder of the package.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: The ``sim`` package folder.
PACKAGE = Path(__file__).resolve().parents[1]
#: Files whose jitted code is compiled into the cached kernels, relative to :data:`PACKAGE`.
KERNEL_SOURCES = ("base/rng.py", "base/intrinsics.py", "classic/kernel.py", "campaign/kernel.py", "world/population.py",
                  "world/generators.py")
_STAMP = "kernels.sha256"


def source_digest(package: Path) -> str:
    """SHA-256 over the kernel source files, in a fixed order."""
    h = hashlib.sha256()
    for name in KERNEL_SOURCES:
        h.update(name.encode())
        h.update((package / name).read_bytes())
    return h.hexdigest()


def ensure_fresh(package: Path | None = None) -> bool:
    """Delete cached kernels compiled from other sources than the current ones.

    Parameters
    ----------
    package : Path, optional
        The ``sim`` package folder (default: :data:`PACKAGE`).

    Returns
    -------
    bool
        True if stale cache files were deleted. A read-only install (where numba caches
        elsewhere) is left alone, and so is a cache moved with ``NUMBA_CACHE_DIR``: after
        changing the kernel sources, empty that folder by hand.
    """
    package = PACKAGE if package is None else package
    cache = package / "__pycache__"
    try:
        digest = source_digest(package)
    except OSError:  # no sources to compare (an install without .py files): nothing to judge
        return False
    stamp = cache / _STAMP
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass
    removed = False
    try:
        cache.mkdir(exist_ok=True)
        for pattern in ("*.nbi", "*.nbc"):
            for f in package.rglob(f"__pycache__/{pattern}"):
                f.unlink(missing_ok=True)
                removed = True
        tmp = stamp.with_suffix(".tmp")
        tmp.write_text(digest)
        tmp.replace(stamp)
    except OSError:
        return removed
    return removed
