"""The cuda engine (sim.classic.cuda_kernel) reproduces the numba kernel (sim.classic.kernel) trial for trial.

Run by ``tests/gpu/test_cuda_engine.py`` in a subprocess with ``NUMBA_ENABLE_CUDASIM=1`` (numba's
CUDA simulator; numba reads that variable when it is imported, so it cannot be switched on in the
suite's own process), or directly on a machine with a GPU::

    NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/gpu/cudasim_checks.py -q   # no GPU
    python -m pytest tests/gpu/cudasim_checks.py -q                           # on a GPU

Every draw is a keyed pure function, every sum an integer and every threshold the same double,
so the expectation is ``np.array_equal`` of every per-trial outcome (final size, step of the last
activation) and of every account's activation step, not a statistical match. The simulator runs
each GPU thread as a Python thread, so the worlds are small (a hundred and fifty accounts) and the
trials few blocks of 64; the kernels' block sizes are small here too (the per-lane steps loop),
and one test runs the device's block sizes.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from sim.base.rng import root_key
from sim.classic import cuda_kernel as gpu
from sim.classic import kernel as cpu
from sim.classic.model import IndependentCascadeArrays, ThresholdArrays, compile_model
from sim.classic.recruits import RecruitPlan
from sim.classic.spec import (
    FractionalThreshold,
    GeneralThreshold,
    IndependentCascade,
    LinearThreshold,
    ListedThresholds,
    NormalThresholds,
    SignalThresholds,
    UniformThresholds,
)
from sim.world.build import build_graph
from sim.world.graph import FlatGraph
from sim.world.spec import BarabasiAlbertGraph

_why = gpu.unavailable()
if _why is not None:
    pytest.skip(f"cuda engine unavailable: {_why}", allow_module_level=True)

from sim.classic import cuda_device  # noqa: E402 - after the availability check

SIM = cuda_device.SIMULATOR
# The simulator hands the GIL from thread to thread at every __syncthreads(); the default 5 ms
# switch interval makes each barrier cost that much.
if SIM:
    sys.setswitchinterval(1e-4)
# uint64 hashing runs through NumPy scalars in the simulator, which warn on (intended) wrap-around.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
warnings.filterwarnings("ignore", "overflow encountered", RuntimeWarning)

#: Block sizes of the kernels (the defaults: small in the simulator, the device's on a GPU).
IC_T = cuda_device.IC_THREADS
LT_T = cuda_device.LT_THREADS
ROOT = root_key(20261204)


@pytest.fixture(scope="module")
def ba() -> FlatGraph:
    """Barabási–Albert, both directions (n = 150, m = 3): hubs, so several edge groups per account."""
    return build_graph(BarabasiAlbertGraph(kind="barabasi_albert", n=150, m=3), 7)


@pytest.fixture(scope="module")
def weighted(ba) -> FlatGraph:
    """The same edges plus parallel ones, with weights in [0, 1] and exact 0, 1/2 and 1 mixed in."""
    rng = np.random.default_rng(3)
    src, dst = ba.sources.astype(np.int64), ba.indices.astype(np.int64)
    extra = rng.integers(0, len(src), 60)
    src, dst = np.concatenate([src, src[extra]]), np.concatenate([dst, dst[extra]])
    w = rng.random(len(src)) * 0.4
    pick = rng.random(len(src))
    w[pick < 0.08] = 0.0
    w[(pick >= 0.08) & (pick < 0.12)] = 1.0
    w[(pick >= 0.12) & (pick < 0.2)] = 0.5
    return FlatGraph.from_edges(ba.n, src, dst, weight=w, directed=True, name="weighted multigraph")


def _fixed(graph: FlatGraph, k: int) -> np.ndarray:
    return np.sort(np.random.default_rng(11).choice(graph.n, k, replace=False)).astype(np.int32)


def _plan(graph: FlatGraph, kind: str) -> RecruitPlan:
    if kind == "fixed":
        return RecruitPlan(_fixed(graph, 8), 0)
    if kind == "random":
        return RecruitPlan(np.zeros(0, np.int32), 4)
    return RecruitPlan(_fixed(graph, 3), 2)  # both at once: Floyd's fallback meets fixed recruits


def _same(graph, model, plan, trials, max_steps=None, **threads):
    got = gpu.final_sizes(graph, model, plan, ROOT, trials, max_steps) if not threads else _arrays(
        graph, model, plan, trials, max_steps, **threads)
    want = cpu.final_sizes(graph, model, plan, ROOT, trials, max_steps)
    assert got[0].dtype == want[0].dtype and got[1].dtype == want[1].dtype
    assert np.array_equal(got[0], want[0]), (got[0], want[0])
    assert np.array_equal(got[1], want[1]), (got[1], want[1])
    return want


def _arrays(graph, model, plan, trials, max_steps, threads):
    limit = gpu.UNLIMITED if max_steps is None else max_steps
    if isinstance(model, IndependentCascadeArrays):
        return gpu.ic_final_sizes(graph.indptr, graph.indices, model.kernel_threshold, model.top_words, plan.fixed,
                                  plan.n_random, ROOT, trials, limit, threads=threads)
    return gpu.lt_final_sizes(graph.indptr, graph.indices, model.kernel_weight, model.scale, model.theta_lo,
                              model.theta_span, plan.fixed, plan.n_random, ROOT, trials, limit, model.law,
                              model.table, model.instigators, threads=threads)


# --------------------------------------------------------------------------- independent cascade

@pytest.mark.parametrize("plan_kind", ["fixed", "random", "mixed"])
def test_ic_homogeneous_p(ba, plan_kind):
    """One probability for every edge (the kernel reads a single threshold): two whole blocks."""
    model = compile_model(IndependentCascade(kind="independent_cascade", edge_prob=0.15), ba)
    want = _same(ba, model, _plan(ba, plan_kind), np.arange(128), threads=IC_T)
    assert want[0].std() > 0 and want[1].max() >= 3  # the trials differ and spread several steps


def test_ic_heterogeneous_p_any_trials(weighted):
    """Per-edge probabilities (0, 1 and ties on the first digit included), trials in any order with repeats."""
    model = compile_model(IndependentCascade(kind="independent_cascade", edge_prob="edge_weight"), weighted)
    rng = np.random.default_rng(5)
    trials = np.concatenate([rng.permutation(200)[:40], [2**40 + 7, 5, 5, 199]])
    want = _same(weighted, model, _plan(weighted, "mixed"), trials, threads=IC_T)
    assert want[0].std() > 0


def test_ic_weighted_cascade_step_limit(ba):
    """1 / in-degree probabilities, random recruits, at most two steps, a block not starting at 0."""
    model = compile_model(IndependentCascade(kind="independent_cascade", edge_prob="weighted_cascade"), ba)
    want = _same(ba, model, _plan(ba, "random"), np.arange(64, 128), max_steps=2, threads=IC_T)
    assert want[1].max() == 2


def test_ic_certain_and_impossible_edges(ba):
    """Edge cases p = 1 (the threshold 2**56, past the top digit) and p = 0."""
    plan = _plan(ba, "fixed")
    for p in (1.0, 0.0):
        model = compile_model(IndependentCascade(kind="independent_cascade", edge_prob=p), ba)
        want = _same(ba, model, plan, np.arange(3, 9), threads=IC_T)
        assert (want[0] == (ba.n if p else len(plan.fixed))).all()


# --------------------------------------------------------------------------- threshold models

def test_lt_in_degree_weights(ba):
    model = compile_model(LinearThreshold(kind="linear_threshold", weights="in_degree"), ba)
    want = _same(ba, model, _plan(ba, "fixed"), np.arange(24), threads=LT_T)
    assert want[0].std() > 0


def test_lt_fixed_point_weights_step_limit(weighted):
    """Real weights as multiples of 2**-32 summed as integers; mixed recruits; three steps at most."""
    model = compile_model(LinearThreshold(kind="linear_threshold", weights="edge_weight"), weighted)
    assert model.kernel_weight.shape[0] == weighted.m
    want = _same(weighted, model, _plan(weighted, "mixed"), np.arange(100, 116), max_steps=3, threads=LT_T)
    assert want[0].std() > 0


def test_fractional_threshold(ba):
    """Watts' fixed fraction phi of active in-neighbours, random recruits."""
    model = compile_model(FractionalThreshold(kind="fractional_threshold", phi=0.3), ba)
    _same(ba, model, _plan(ba, "random"), np.arange(16), threads=LT_T)


@pytest.mark.parametrize("law", ["uniform_instigators", "signals", "listed"])
def test_general_threshold_laws(ba, law):
    """Granovetter's instigators (thresholds <= 0 act at step 0), reinforcement counts, listed thresholds."""
    if law == "uniform_instigators":
        spec = GeneralThreshold(kind="threshold", instigators=True,
                                thresholds=UniformThresholds(kind="uniform", low=-0.05, high=0.7))
    elif law == "signals":
        spec = GeneralThreshold(kind="threshold", units="count",
                                thresholds=SignalThresholds(kind="signals", adopt=[0.1, 0.5, 0.3]))
    else:
        values = np.random.default_rng(2).uniform(-0.1, 0.9, ba.n).round(3).tolist()
        spec = GeneralThreshold(kind="threshold", instigators=True,
                                thresholds=ListedThresholds(kind="listed", values=values))
    model = compile_model(spec, ba)
    _same(ba, model, _plan(ba, "fixed"), np.arange(12), threads=LT_T)


def test_normal_thresholds_are_refused(ba):
    """Their quantile's log() is libm's on the CPU and libdevice's on a GPU: not the same last bit."""
    spec = GeneralThreshold(kind="threshold", thresholds=NormalThresholds(kind="normal", mean=0.3, sd=0.1))
    model = compile_model(spec, ba)
    assert gpu.check_model(model) is not None
    with pytest.raises(ValueError, match="normal thresholds"):
        gpu.final_sizes(ba, model, _plan(ba, "fixed"), ROOT, np.arange(2))


# --------------------------------------------------------------------------- activation steps, block sizes

def test_activation_times(ba, weighted):
    """Every account's activation step in single trials (each alone in its block)."""
    ic = compile_model(IndependentCascade(kind="independent_cascade", edge_prob="edge_weight"), weighted)
    lt = compile_model(LinearThreshold(kind="linear_threshold", weights="in_degree"), ba)
    for graph, model, plan, trials in ((weighted, ic, _plan(weighted, "mixed"), (0, 63, 64 * 5 + 17)),
                                       (ba, lt, _plan(ba, "random"), (1, 70))):
        for t in trials:
            for limit in (None, 2):
                got = _times(graph, model, plan, t, limit)
                want = cpu.activation_times(graph, model, plan, ROOT, t, limit)
                assert np.array_equal(got, want), (t, limit)
                assert (want > 0).any()
    assert np.array_equal(gpu.activation_times(ba, lt, _plan(ba, "fixed"), ROOT, 9),  # the model-level front
                          cpu.activation_times(ba, lt, _plan(ba, "fixed"), ROOT, 9))


def _times(graph, model, plan, trial, max_steps):
    limit = gpu.UNLIMITED if max_steps is None else max_steps
    if isinstance(model, IndependentCascadeArrays):
        return gpu.ic_activation_times(graph.indptr, graph.indices, model.kernel_threshold, model.top_words,
                                       plan.fixed, plan.n_random, ROOT, trial, limit, threads=IC_T)
    return gpu.lt_activation_times(graph.indptr, graph.indices, model.kernel_weight, model.scale, model.theta_lo,
                                   model.theta_span, plan.fixed, plan.n_random, ROOT, trial, limit, model.law,
                                   model.table, model.instigators, threads=LT_T)


def test_device_block_sizes(ba):
    """The block sizes a GPU uses (one thread per lane and more), on one block of trials."""
    ic = compile_model(IndependentCascade(kind="independent_cascade", edge_prob=0.15), ba)
    _same(ba, ic, _plan(ba, "mixed"), np.arange(64), threads=cuda_device.DEVICE_IC_THREADS)
    lt = compile_model(LinearThreshold(kind="linear_threshold", weights="in_degree"), ba)
    _same(ba, lt, _plan(ba, "fixed"), np.arange(2), threads=cuda_device.DEVICE_LT_THREADS)


def test_scratch_reused_across_calls(ba):
    """Kept scratch (IC: cleared by each block; LT: generation stamps) gives the same trials on later calls."""
    ic = compile_model(IndependentCascade(kind="independent_cascade", edge_prob=0.15), ba)
    lt = ThresholdArrays(np.ones(ba.m, np.int64), ba.in_degree.astype(np.float64), 0.0, 1.0)
    plan = _plan(ba, "fixed")
    for _ in range(2):
        _same(ba, ic, plan, np.arange(192, 200), threads=IC_T)
        _same(ba, lt, plan, np.arange(30, 36), threads=LT_T)


# --------------------------------------------------------------------------- the engine through run()

def test_run_with_engine_cuda_gives_the_numba_table(tmp_path):
    """``engine: cuda`` through ``sim.run``: the same table as the numba engine, row for row."""
    import sim

    path = tmp_path / "s.yaml"
    path.write_text("""\
name: cuda_run
seed: 11
trials: 130
max_steps: 6
world:
  graph: {kind: barabasi_albert, n: 120, m: 2}
model: {kind: independent_cascade, edge_prob: 0.2}
strategies:
  - {name: hubs, recruits: {rule: top_degree, count: 4}}
  - {name: anyone, recruits: {rule: random, count: 3}}
""")
    scenario = sim.load_scenario(path)
    numba = sim.run(scenario).table
    cuda = sim.run(scenario, engine="cuda").table
    assert len(cuda) == 260
    assert numba.equals(cuda)
