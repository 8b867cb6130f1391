"""The kernel cache is emptied when a source the kernels inline changes, and only then."""

from __future__ import annotations

import shutil

from sim.base import kernel_cache


def test_cache_emptied_when_rng_changes(tmp_path):
    pkg = tmp_path / "sim"
    pkg.mkdir()
    src = kernel_cache.PACKAGE
    for name in kernel_cache.KERNEL_SOURCES:
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / name, pkg / name)
    cache = pkg / "__pycache__"
    cache.mkdir()
    assert kernel_cache.ensure_fresh(pkg) is False  # first run: nothing cached yet, stamp written
    sub_cache = pkg / "classic" / "__pycache__"
    sub_cache.mkdir()
    (sub_cache / "kernel._ic_run-1.py311.nbi").write_text("x")
    (sub_cache / "kernel._ic_run-1.py311.1.nbc").write_text("x")
    assert kernel_cache.ensure_fresh(pkg) is False  # same sources: cache kept
    assert len(list(sub_cache.glob("*.nb*"))) == 2
    (pkg / "base" / "rng.py").write_text((pkg / "base" / "rng.py").read_text() + "\n# edited\n")
    assert kernel_cache.ensure_fresh(pkg) is True  # helper edited: stale kernels gone
    assert list(sub_cache.glob("*.nb*")) == []  # kernels of subpackages too
    assert kernel_cache.ensure_fresh(pkg) is False
