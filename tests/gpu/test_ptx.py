"""The PTX of every CUDA kernel the project launches rounds as the CPU does: no fused multiply-add, no approximation.

The cuda engines give the numba CPU kernels' per-trial results bit for bit only if every float operation
on the device rounds as the CPU's does. libNVVM contracts ``a * b + c`` into a fused multiply-add
(``fma.rn.f64``, one rounding instead of two) unless the product and the sum go through
:func:`sim.base.cuda_device.fmul` / :func:`~sim.base.cuda_device.fadd` (libdevice's ``dmul_rn`` /
``dadd_rn``), and ``fastmath`` would bring approximate instructions (``div.approx``, ``rcp.approx``,
``sqrt.approx``, ``ex2.approx`` ...). So each kernel is compiled here to PTX for compute capability
9.0 (``sm_90``, the H200 the engines are measured on) by libNVVM, without a GPU, with the kernel's
own ``cuda.jit`` options, and its instructions are read: no ``fma`` / ``mad`` on floats, no
``.approx``, no ``div.full``, and every float division ``div.rn`` (IEEE).

The kernels' argument types are those the engines' own host code passes: each engine entry point
(:func:`sim.classic.cuda_kernel.ic_final_sizes`, ``lt_final_sizes``,
:func:`sim.campaign.cuda_kernel.simulate` on either layout) runs on a tiny world with
:mod:`sim.base.cuda_host`'s device calls replaced by host stand-ins, up to the point where it asks
:func:`sim.base.cuda_host.resident_blocks` for the kernel compiled for its arguments; there the
kernel and the arguments are taken and nothing is launched. An argument list that changes in the
engine therefore reaches this test without editing it. The default suite compiles the variant each
entry point chose (and IC's recording variant, ``ic_activation_times``'); ``-m slow`` every
compile-time variant of every kernel factory, with the same argument types.

numba decides when it is imported whether ``numba.cuda`` is the CUDA simulator; under
``NUMBA_ENABLE_CUDASIM=1`` there is no PTX to read and the module is skipped (the simulator tests
run in subprocesses of their own, see ``test_cuda_engine.py``). Without libNVVM / libdevice it is
skipped with the reason. numba compiles a kernel's device functions for the current device's
compute capability, which it asks the driver for: while compiling, that question is answered
with 9.0 (no driver is needed to compile, only to launch; on a machine with a GPU the device
functions' cached compilations then carry 9.0 as the capability their typing saw, which changes
nothing numba types here).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml

CC = (9, 0)


def _simulated() -> bool:
    """Whether numba.cuda is (or will be, when imported) the CUDA simulator in this process."""
    import numba

    env = os.environ.get("NUMBA_ENABLE_CUDASIM", "0").strip() or "0"
    return env != "0" or bool(getattr(numba.config, "ENABLE_CUDASIM", 0))


if _simulated():
    pytest.skip("NUMBA_ENABLE_CUDASIM is set: numba.cuda is the simulator, which produces no PTX",
                allow_module_level=True)


def _nvvm_missing() -> str | None:
    """Why PTX cannot be produced here (no numba.cuda, libNVVM or libdevice); None when it can."""
    try:
        from sim.base import cuda_host

        cuda_host.cuda()  # numba.cuda with the NumPy >= 2.5 shim
        from numba.cuda.cudadrv import nvvm

        nvvm.NVVM()
        nvvm.LibDevice()
    except Exception as exc:  # noqa: BLE001 - any failure to load the toolchain means no PTX
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return None


_why = _nvvm_missing()
if _why is not None:
    pytest.skip(f"libNVVM / libdevice not available, no PTX to check: {_why}", allow_module_level=True)

from numba import cuda  # noqa: E402 - after the checks above (never the simulator here)
from numba import types as nbt  # noqa: E402
from numba.cuda import dispatcher as cuda_dispatcher  # noqa: E402
from numba.np import numpy_support  # noqa: E402

from sim.base import cuda_host  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- reading PTX

# An instruction starts a line, after an optional predicate guard (``@%p1`` / ``@!%p1``).
_OP = r"^\s*(?:@!?%\w+\s+)?"
#: What must never appear, by why. ``mad`` on floats is the old spelling of a fused multiply-add.
FORBIDDEN = {
    "fused multiply-add": re.compile(_OP + r"(?:fma|mad)(?:\.\w+)*\.(?:f16|f16x2|bf16|f32|f64)\b", re.M),
    "approximate instruction": re.compile(_OP + r"[a-z0-9]+(?:\.\w+)*\.approx\b", re.M),
    "approximate division (div.full)": re.compile(_OP + r"div\.full\b", re.M),
    "float division not rounded to nearest (div.rn)": re.compile(_OP + r"div\.(?!rn\.)(?:\w+\.)*f(?:32|64)\b", re.M),
    "square root / reciprocal not IEEE": re.compile(_OP + r"(?:sqrt|rcp|rsqrt)\.(?!rn\.)(?:\w+\.)*f(?:32|64)\b", re.M),
    "transcendental instruction": re.compile(_OP + r"(?:ex2|lg2|sin|cos|tanh)\.", re.M),
}
_DIV_RN = re.compile(_OP + r"div\.rn\.f64\b", re.M)


def offences(ptx: str) -> dict[str, list[str]]:
    """Forbidden instructions in ``ptx`` by why (at most 5 lines each); empty when there are none."""
    found = {}
    for why, pattern in FORBIDDEN.items():
        lines = [m.group(0).strip() + ptx[m.end():].split("\n", 1)[0] for m in pattern.finditer(ptx)]
        if lines:
            found[why] = lines[:5]
    return found


def _device_type(a):
    """The numba type a launch gives ``a``: an array as numba.cuda types a device array (dtype, ndim and
    C / F / A layout, never read-only), a scalar as numba types it."""
    if isinstance(a, np.ndarray):
        broadcast = 0 in a.strides
        layout = "C" if a.flags.c_contiguous and not broadcast else "F" if a.flags.f_contiguous and not broadcast \
            else "A"
        return nbt.Array(numpy_support.from_dtype(a.dtype), a.ndim, layout)
    import numba

    return numba.typeof(a)


def ptx_of(kernel, argtypes: tuple) -> str:
    """PTX of a ``cuda.jit`` kernel (a dispatcher) for ``argtypes``, for compute capability :data:`CC`, compiled
    with the kernel's own options (``fastmath``, ``opt``, ``debug``, ``lineinfo``) as its launch would be."""
    opts = kernel.targetoptions
    saved = cuda_dispatcher.get_current_device
    cuda_dispatcher.get_current_device = lambda: SimpleNamespace(compute_capability=CC)
    try:
        ptx, _ = cuda.compile_ptx(kernel.py_func, argtypes, cc=CC, fastmath=bool(opts.get("fastmath", False)),
                                  opt=bool(opts.get("opt", True)), debug=bool(opts.get("debug", False)),
                                  lineinfo=bool(opts.get("lineinfo", False)))
    finally:
        cuda_dispatcher.get_current_device = saved
    return ptx


def compiled(name: str, kernel, argtypes: tuple) -> tuple[str, list[str]]:
    """Compile ``kernel`` for ``argtypes``: its PTX and what is wrong with it (empty: nothing), for the test to
    assert on: compiled with fastmath, no kernel for the target, instructions that do not round as the CPU's."""
    problems = [f"{name}: compiled with fastmath"] if kernel.targetoptions.get("fastmath", False) else []
    ptx = ptx_of(kernel, argtypes)
    if not (".entry" in ptx and f".target sm_{CC[0]}{CC[1]}" in ptx):
        problems.append(f"{name}: no kernel for sm_{CC[0]}{CC[1]}")
    bad = offences(ptx)
    if bad:
        problems.append(f"{name}: instructions that do not round as the CPU does: {bad}")
    return ptx, problems


# --------------------------------------------------------------------------- the engines' launches, captured

class _Captured(Exception):  # noqa: N818 - not an error: how a launch's kernel and arguments come out
    def __init__(self, kernel, args, threads) -> None:
        super().__init__("captured")
        self.kernel, self.args, self.threads = kernel, tuple(args), threads


def _host_array(arr, dtype=None):
    """A writable host copy of at least one element standing in for a device array."""
    arr = np.array(np.ascontiguousarray(arr), dtype=dtype, copy=True)
    if arr.size == 0:
        arr = np.zeros((1,) + tuple(max(k, 1) for k in arr.shape[1:]), dtype=arr.dtype)
    return arr


def _resident_blocks(kernel, args, threads, simulated=2):
    raise _Captured(kernel, args, threads)


_FAKE_CUDA = SimpleNamespace(
    device_array=lambda shape, dtype=np.float64, **_: np.zeros(shape, dtype),
    to_device=lambda arr, **_: _host_array(arr),
)
#: sim.base.cuda_host's device calls and their host stand-ins (a launch's types, no device).
_STAND_INS = {
    "cuda": lambda: _FAKE_CUDA,
    "to_device": _host_array,
    "zeros": lambda shape, dtype: np.zeros(tuple(max(int(k), 1) for k in np.atleast_1d(shape)), dtype),
    "free_bytes": lambda: None,
    "held_bytes": lambda: 0,
    "drop_scratch": lambda keep: None,
    "resident_blocks": _resident_blocks,
}


def capture(monkeypatch, call):
    """The kernel and arguments ``call()`` (an engine entry point) would launch, without a device.

    Every reference to the replaced :mod:`sim.base.cuda_host` functions in the engine modules (whatever
    name they are imported under) points to its stand-in while ``call`` runs.
    """
    from sim.campaign import cuda_kernel as campaign_host
    from sim.classic import cuda_kernel as classic_host

    originals = {name: getattr(cuda_host, name) for name in _STAND_INS}
    with monkeypatch.context() as m:
        for module in (cuda_host, classic_host, campaign_host):
            for attr, value in list(vars(module).items()):
                for name, original in originals.items():
                    if value is original:
                        m.setattr(module, attr, _STAND_INS[name])
        try:
            call()
        except _Captured as got:
            return got
    raise AssertionError("the entry point returned without asking for its kernel")


def _types(got: _Captured) -> tuple:
    return tuple(_device_type(a) for a in got.args)


# A two-account graph (each follows the other): the classic entry points only need arrays of the right kinds.
_INDPTR = np.array([0, 1, 2], np.int64)
_INDICES = np.array([1, 0], np.int32)
_FIXED = np.array([0], np.int32)


def _ic(monkeypatch, n_random: int = 1, record: bool = False) -> _Captured:
    from sim.classic import cuda_kernel as gpu

    threshold, tops = np.array([2**62], np.uint64), np.array([2**62], np.uint64)
    if record:
        return capture(monkeypatch, lambda: gpu.ic_activation_times(_INDPTR, _INDICES, threshold, tops, _FIXED,
                                                                    n_random, np.uint64(7), 3, 10))
    return capture(monkeypatch, lambda: gpu.ic_final_sizes(_INDPTR, _INDICES, threshold, tops, _FIXED, n_random,
                                                           np.uint64(7), np.arange(5), 10))


def _lt(monkeypatch, law: int = 0, instigators: bool = False, n_random: int = 1) -> _Captured:
    from sim.classic import cuda_kernel as gpu

    table = np.linspace(0.0, 1.0, 5) if law else None
    return capture(monkeypatch, lambda: gpu.lt_final_sizes(
        _INDPTR, _INDICES, np.array([1], np.int64), np.ones(2), 0.1, 0.8, _FIXED, n_random, np.uint64(7),
        np.arange(5), 10, law, table, instigators))


@pytest.fixture(scope="module")
def campaign_world():
    """``scenarios/mechanisms.yaml`` (every mechanism on: the largest variants) shrunk to a few hundred accounts."""
    from sim.base.rng import root_key
    from sim.campaign.family import compile_campaign
    from sim.input.scenario import Scenario
    from sim.world.build import build_world

    data = yaml.safe_load((ROOT / "scenarios" / "mechanisms.yaml").read_text())
    data["world"]["audience"]["peers"].update(n=200, count=5)
    data["world"]["scale"] = 1000
    scenario = Scenario.model_validate(data)
    pop = build_world(scenario.world, scenario.seed).population
    arrays, schedules = compile_campaign(scenario, pop)
    assert arrays.sources_on and arrays.repetition_on
    return SimpleNamespace(pop=pop, arrays=arrays, schedule=schedules[0], root=root_key(scenario.seed))


def _campaign(monkeypatch, world, layout: str) -> _Captured:
    from sim.campaign import cuda_kernel as gpu

    return capture(monkeypatch, lambda: gpu.simulate(world.pop, world.arrays, world.schedule, world.root,
                                                     np.arange(3), layout=layout))


# --------------------------------------------------------------------------- the checker itself

def _contracted(a, b, c, out):
    out[0] = a * b + c


def test_contraction_is_seen_and_the_guard_prevents_it():
    """The check can fail: in this toolchain a plain ``a * b + c`` in float64 becomes ``fma.rn.f64`` (so zero
    fma in a kernel means its guard worked), and the project's guard (``fmul`` / ``fadd``) gives two
    IEEE-rounded instructions instead; an approximate division is seen too."""
    from sim.base import cuda_device as shared

    f64 = nbt.float64
    sig = (f64, f64, f64, nbt.Array(f64, 1, "C"))
    plain = ptx_of(cuda.jit(_contracted), sig)
    assert "fused multiply-add" in offences(plain), plain[-2000:]

    fmul, fadd = shared.fmul, shared.fadd

    def guarded(a, b, c, out):
        out[0] = fadd(fmul(a, b), c)

    ptx, problems = compiled("guarded", cuda.jit(guarded), sig)
    assert problems == []
    assert re.search(_OP + r"mul\.rn\.f64", ptx, re.M) and re.search(_OP + r"add\.rn\.f64", ptx, re.M), ptx[-2000:]

    def divide(a, b, c, out):
        out[0] = a / b

    ptx, problems = compiled("division", cuda.jit(divide), sig)
    assert problems == [] and _DIV_RN.search(ptx)
    f32 = nbt.float32
    fast = offences(ptx_of(cuda.jit(fastmath=True)(divide), (f32, f32, f32, nbt.Array(f32, 1, "C"))))
    assert "approximate instruction" in fast or "approximate division (div.full)" in fast, fast


def test_shared_fill_zero_kernel():
    """``sim.base.cuda_device.fill_zero`` (zeroes scratch) for every dtype :func:`sim.base.cuda_host.zeros` is given."""
    from sim.base import cuda_device as shared

    problems = [p for dtype in (nbt.int64, nbt.int32, nbt.uint64, nbt.float64)
                for p in compiled(f"fill_zero[{dtype}]", shared.fill_zero, (nbt.Array(dtype, 1, "C"),))[1]]
    assert problems == []


# --------------------------------------------------------------------------- the engines' kernels (default suite)

def test_classic_ic_kernel(monkeypatch):
    """IC: the variant ``ic_final_sizes`` launches (random recruits), and ``ic_activation_times``' recording one."""
    problems = []
    for record in (False, True):
        got = _ic(monkeypatch, record=record)
        problems += compiled(f"ic_kernel record={record}", got.kernel, _types(got))[1]
    assert problems == []


def test_classic_lt_kernel(monkeypatch):
    """LT: the variant ``lt_final_sizes`` launches for uniform thresholds with random recruits."""
    got = _lt(monkeypatch)
    assert compiled("lt_kernel", got.kernel, _types(got))[1] == []


def test_campaign_thread_layout(monkeypatch, campaign_world):
    """The thread layout with every mechanism on, as ``simulate(layout="thread")`` launches it; its only division
    is IEEE (``div.rn.f64``)."""
    got = _campaign(monkeypatch, campaign_world, "thread")
    ptx, problems = compiled("campaign_kernel", got.kernel, _types(got))
    assert problems == [] and _DIV_RN.search(ptx)


def test_campaign_block_layout(monkeypatch, campaign_world):
    """The block layout with every mechanism on, as ``simulate(layout="block")`` launches it."""
    got = _campaign(monkeypatch, campaign_world, "block")
    assert got.kernel is not _campaign(monkeypatch, campaign_world, "thread").kernel
    assert compiled("campaign_block_kernel", got.kernel, _types(got))[1] == []


# --------------------------------------------------------------------------- every variant (-m slow)

@pytest.mark.slow
def test_every_variant_of_every_kernel(monkeypatch, campaign_world):
    """Every compile-time variant of every kernel factory, with the argument types its engine passes."""
    from sim.campaign import cuda_block, cuda_device
    from sim.classic import cuda_device as classic

    start = time.perf_counter()
    ic, lt = _ic(monkeypatch), _lt(monkeypatch)
    thread, block = _campaign(monkeypatch, campaign_world, "thread"), _campaign(monkeypatch, campaign_world, "block")
    variants = [(f"ic_kernel({ic.threads}, {random}, {record})", classic.ic_kernel(ic.threads, random, record),
                 _types(ic)) for random in (False, True) for record in (False, True)]
    variants += [(f"lt_kernel({lt.threads}, {law}, {instigators}, {random}, {record})",
                  classic.lt_kernel(lt.threads, law, instigators, random, record), _types(lt))
                 for random in (False, True) for record in (False, True) for law in (0, 2, 3)
                 for instigators in (False, True)]
    for sources in (False, True):
        for repetition in (False, True):
            variants += [(f"campaign_kernel({sources}, {repetition}, {record})",
                          cuda_device.campaign_kernel(sources, repetition, record), _types(thread))
                         for record in (False, True)]
            variants.append((f"campaign_block_kernel({sources}, {repetition})",
                             cuda_block.campaign_block_kernel(sources, repetition), _types(block)))
    problems = [p for name, kernel, types in variants for p in compiled(name, kernel, types)[1]]
    assert len(variants) == 40 and problems == []
    print(f"{len(variants)} kernels compiled and checked in {time.perf_counter() - start:.0f} s")
