"""The cuda engine: equality with the numba kernel under numba's CUDA simulator, and what happens without a GPU.

numba decides once, when it is imported, whether ``numba.cuda`` is the simulator
(``NUMBA_ENABLE_CUDASIM``, read into ``numba.core.config`` and re-read only by the CPU compiler),
and this suite imports numba long before this file. The simulated checks
(``cudasim_checks.py``) therefore run in a subprocess of their own, which leaves this process's
numba (CPU kernels, and a real ``numba.cuda`` if a GPU is present) untouched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def test_equal_to_the_numba_kernel_under_the_simulator():
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "1", "PYTHONWARNINGS": "ignore::RuntimeWarning"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         str(HERE / "cudasim_checks.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    tail = (proc.stdout[-6000:] + "\n" + proc.stderr[-3000:]).strip()
    assert proc.returncode == 0, tail
    assert " passed" in proc.stdout and "skipped" not in proc.stdout.splitlines()[-1], tail


def test_units_of_trials():
    """Trials map to 64-trial blocks (units) and back, for runs of consecutive trials and for any others."""
    from sim.classic.cuda_kernel import _units

    for trials in (np.arange(5, 300), np.arange(64, 128), np.array([7]), np.array([2**40 + 3, 1, 1, 64, 63, 2])):
        ublocks, masks, where, offset = _units(np.asarray(trials, dtype=np.int64))
        slots = np.arange(len(ublocks) * 64).reshape(-1, 64)
        got = np.arange(len(trials)) + offset if where is None else where
        # every trial lands on its block's row and its lane's column, and that lane is asked for
        assert np.array_equal(ublocks[got // 64], trials // 64)
        assert np.array_equal(got % 64, trials % 64)
        asked = (masks[got // 64] >> (trials % 64).astype(np.uint64)) & np.uint64(1)
        assert asked.all()
        assert sum(bin(int(x)).count("1") for x in masks) == len(set(trials.tolist()))
        assert slots.size >= len(set(trials.tolist()))
    with pytest.raises(ValueError):
        _units(np.array([-1], dtype=np.int64))


# --------------------------------------------------------------------------- selection and refusals

TINY = """\
name: tiny_cuda
seed: 3
trials: 40
engine: cuda
world:
  graph: {kind: erdos_renyi, n: 300, mean_degree: 3.0}
model: {kind: independent_cascade, edge_prob: 0.3}
recruits: {rule: random, count: 2}
"""


def test_campaign_and_normal_thresholds_refused_on_cuda(tmp_path):
    """Not ported: refused when the scenario is validated, located at its engine key."""
    import sim

    campaign = sim.load_scenario(ROOT / "scenarios" / "celebrity_vs_micro.yaml")
    with pytest.raises(sim.ScenarioError, match=r"^engine: the cuda engine runs the classic models"):
        campaign.with_overrides(engine="cuda")
    text = TINY.replace("model: {kind: independent_cascade, edge_prob: 0.3}",
                        "model: {kind: threshold, thresholds: {kind: normal, mean: 0.3, sd: 0.1}}")
    path = tmp_path / "normal.yaml"
    path.write_text(text)
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(path)
    assert info.value.problems == [f"{path}:4: engine: the cuda engine does not run normal thresholds (their quantile "
                                   "calls log(), whose last bit differs between the CPU and the GPU, so trials "
                                   "would not match): use engine numba"]


def test_cli_campaign_on_cuda_exits_2_one_line(tmp_path, capsys):
    from sim.cli import main

    out = tmp_path / "out"
    assert main([str(ROOT / "scenarios" / "celebrity_vs_micro.yaml"), "--engine", "cuda", "--out", str(out),
                 "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "campaign model is not ported" in err[0]
    assert not out.exists()


def test_cli_without_a_gpu_exits_2_one_line(tmp_path, capsys):
    """Where numba.cuda finds no GPU (CI), --engine cuda says why in one line and runs nothing."""
    from sim.classic import cuda_kernel
    from sim.cli import main

    why = cuda_kernel.unavailable()
    if why is None:
        pytest.skip("this machine has a usable GPU (or runs the simulator)")
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY.replace("engine: cuda\n", ""))
    out = tmp_path / "out"
    assert main([str(path), "--engine", "cuda", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{path}:1: engine: the cuda engine cannot run here: {why}"]
    assert not out.exists()
    with pytest.raises(__import__("sim").ScenarioError, match="cuda engine cannot run here"):
        import sim

        sim.run(sim.load_scenario(path), engine="cuda", trials=64)
