"""Host side of the GPU engines: importing numba.cuda, telling whether a GPU can run, device memory.

Shared by the classic models' and the campaign model's cuda engines
(:mod:`sim.classic.cuda_kernel`, :mod:`sim.campaign.cuda_kernel`), so both refuse a machine
without a usable GPU with the same one line (:func:`unavailable`), refuse a world that does not fit
in the same words (:class:`DeviceMemoryError`, worded like ``--max-memory``'s refusals), keep one
cache of device copies of read-only host arrays (a world's graph is uploaded once, whichever engine
reads it), and count kernel time in one :data:`STATS`.

Nothing here imports ``numba.cuda`` at import time: :func:`cuda` does, with the shim numba-cuda
needs on NumPy >= 2.5 (it still names ``np.row_stack``).
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any

import numpy as np


class DeviceMemoryError(MemoryError):
    """The world does not fit in the GPU's memory; the message gives the need and what is free."""


class EngineUnavailable(RuntimeError):
    """The cuda engine cannot run on this machine; the message says why."""


def gib(x: float) -> str:
    """Bytes in MiB below a GiB, else GiB (as the refusals print them)."""
    return f"{x / 2**20:,.1f} MiB" if abs(x) < 2**30 else f"{x / 2**30:,.2f} GiB"


def cuda():
    """``numba.cuda``, imported with the NumPy >= 2.5 shim (numba-cuda still names ``np.row_stack``)."""
    if not hasattr(np, "row_stack"):
        np.row_stack = np.vstack
    from numba import cuda as numba_cuda

    # A launch of fewer blocks than the device holds (a small chunk, one trial's activation steps)
    # is deliberate here: numba's "likely under-utilization" warning would only be noise.
    warnings.filterwarnings("ignore", message=r"Grid size .* under-utilization")
    return numba_cuda


def device_module():
    """:mod:`sim.base.cuda_device` (imports ``numba.cuda``)."""
    cuda()
    from sim.base import cuda_device

    return cuda_device


def simulator() -> bool:
    """Whether ``numba.cuda`` is numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``)."""
    return bool(device_module().SIMULATOR)


def first_line(message) -> str:
    """The first non-blank line of an error message (the driver's span several)."""
    for line in str(message or "").splitlines():
        if line.strip():
            return line.strip().rstrip(":")
    return ""


@functools.cache
def unavailable() -> str | None:
    """Why the cuda engines cannot run here, in one line; None when they can (a GPU or the simulator).

    Imports ``numba.cuda``, asks it for a driver and a device, and compiles and runs a tiny
    kernel (libNVVM and the driver must both work). The answer is cached for the process.
    """
    try:
        numba_cuda = cuda()
    except Exception as exc:  # noqa: BLE001 - any import failure makes the engine unusable
        return f"numba.cuda cannot be imported ({type(exc).__name__}: {first_line(exc)}); install advocacy-sim[gpu]"
    try:
        if not numba_cuda.is_available():
            why = first_line(numba_cuda.cuda_error())
            return f"no usable CUDA GPU: {why or 'numba.cuda finds no driver or no device'}"
        dev = device_module()
        out = numba_cuda.device_array(4, dtype=np.int64)
        dev.fill_zero[1, 4](out)
        if out.copy_to_host().any():
            return "a test kernel ran on the GPU but gave wrong results"
    except Exception as exc:  # noqa: BLE001 - driver, NVVM and launch errors alike
        return f"the CUDA GPU cannot run numba kernels ({type(exc).__name__}: {first_line(exc)})"
    return None


def require() -> None:
    """Raise :class:`EngineUnavailable` when :func:`unavailable` has a reason."""
    why = unavailable()
    if why is not None:
        raise EngineUnavailable(why)


def device_info() -> dict:
    """Name, compute capability, multiprocessors, memory and versions of the device (for reports)."""
    import numba

    numba_cuda = cuda()
    info = {"numba": numba.__version__, "numpy": np.__version__,
            "numba_cuda": getattr(numba_cuda, "implementation", "?")}
    try:
        from importlib.metadata import version

        info["numba_cuda"] = version("numba-cuda")
    except Exception:  # noqa: BLE001 - the built-in numba.cuda
        pass
    if simulator():
        info["device"] = "numba CUDA simulator"
        return info
    dev = numba_cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    free, total = numba_cuda.current_context().get_memory_info()
    info.update(device=name, compute_capability=".".join(map(str, dev.compute_capability)),
                multiprocessors=dev.MULTIPROCESSOR_COUNT, memory_gib=round(total / 2**30, 1),
                free_gib=round(free / 2**30, 1))
    try:
        info["driver_api"] = ".".join(map(str, numba_cuda.cudadrv.driver.driver.get_version()))
    except Exception:  # noqa: BLE001
        pass
    try:  # the driver's own version (nvidia-ml-py), as nvidia-smi prints it
        import pynvml

        pynvml.nvmlInit()
        version = pynvml.nvmlSystemGetDriverVersion()
        info["driver"] = version.decode() if isinstance(version, bytes) else str(version)
    except Exception:  # noqa: BLE001
        pass
    try:
        info["runtime"] = ".".join(map(str, numba_cuda.runtime.get_version()))
    except Exception:  # noqa: BLE001
        pass
    return info


# --------------------------------------------------------------------------- launch planning

def resident_blocks(kernel, args, threads: int, simulated: int = 2):
    """The kernel compiled for ``args``' types, and how many of its blocks the device runs at once.

    From the driver's occupancy calculator (registers and shared memory of this very variant);
    if that is not available, multiprocessors x (threads per multiprocessor / threads). In the
    simulator (which runs blocks one after another) ``simulated`` blocks.
    """
    if simulator():
        return kernel, simulated
    try:
        spec = kernel.specialize(*args)
        blocks = int(next(iter(spec.overloads.values())).max_cooperative_grid_blocks(threads))
        if blocks >= 1:
            return spec, blocks
    except Exception:  # noqa: BLE001 - an older or newer numba-cuda: fall back to the device's limits
        pass
    dev = cuda().get_current_device()
    return kernel, dev.MULTIPROCESSOR_COUNT * max(1, dev.MAX_THREADS_PER_MULTI_PROCESSOR // threads)


def free_bytes() -> int | None:
    """Free device memory (bytes); None in the simulator (which has no device memory to run out of)."""
    if simulator():
        return None
    free, _ = cuda().current_context().get_memory_info()
    return int(free)


# --------------------------------------------------------------------------- device memory kept between calls

#: Held while a launch uses the module-level caches (one launch at a time per process).
lock = threading.RLock()
#: Device copies of read-only host arrays, by (address, shape, dtype), oldest first.
arrays: OrderedDict[tuple, tuple[np.ndarray, Any]] = OrderedDict()
_KEPT_ARRAYS = 48


def to_device(arr: np.ndarray):
    """A device copy of ``arr`` (at least one element); read-only host arrays are copied once and kept."""
    numba_cuda = cuda()
    arr = np.ascontiguousarray(arr)
    if arr.size == 0:
        arr = np.zeros((1,) + tuple(max(k, 1) for k in arr.shape[1:]), dtype=arr.dtype)
    if arr.flags.writeable:
        return numba_cuda.to_device(arr)
    key = (arr.__array_interface__["data"][0], arr.shape, arr.dtype.str)
    found = arrays.get(key)
    if found is not None and found[0] is arr:  # the same (immutable) array object, e.g. a FlatGraph's
        arrays.move_to_end(key)
        return found[1]
    dev = numba_cuda.to_device(arr)
    arrays[key] = (arr, dev)  # the host array is kept alive, so its address is not reused
    while len(arrays) > _KEPT_ARRAYS:
        arrays.popitem(last=False)
    return dev


def cached_bytes() -> int:
    """Device bytes of the cached array copies."""
    return sum(dev.nbytes for _, dev in arrays.values())


#: Each kernel's scratch kept between calls, by kind (``ic``, ``lt``, ``campaign``): ``(key,
#: tuple of objects with nbytes)``. One kind at a time is kept: a launch drops the others first.
scratch: dict[str, tuple[tuple, tuple[Any, ...]]] = {}


def drop_scratch(keep: str) -> None:
    """Free every kernel's scratch but ``keep``'s before planning (so the free memory the driver reports is real)."""
    dropped = [kind for kind in scratch if kind != keep]
    for kind in dropped:
        del scratch[kind]
    if dropped:
        free_deferred()


def held_bytes() -> int:
    """Device bytes this process keeps between calls (cached arrays and scratch): they count as free."""
    total = 0
    for _, held in scratch.values():
        total += sum(a.nbytes for a in held)
    return total + cached_bytes()


def zeros(shape, dtype):
    """A zeroed device array (at least one element), zeroed on the device."""
    numba_cuda = cuda()
    shape = (shape,) if np.isscalar(shape) else tuple(shape)
    out = numba_cuda.device_array(tuple(max(int(k), 1) for k in shape), dtype=dtype)
    flat = out.reshape(out.size) if out.ndim > 1 else out
    blocks = max(1, min(4096, -(-flat.shape[0] // 256)))
    device_module().fill_zero[blocks, 256](flat)
    return out


def free_deferred() -> None:
    """Make numba's deferred frees happen now (so the free memory the driver reports is real)."""
    try:
        cuda().current_context().deallocations.clear()
    except Exception:  # noqa: BLE001 - the simulator, or another numba: the frees happen later
        pass


#: Seconds the kernels ran (CUDA events around each launch; 0 in the simulator) and launches made,
#: since the process started: benchmarks read them to tell kernel time from the host's share.
STATS = {"kernel_seconds": 0.0, "launches": 0}


@contextmanager
def timed():
    """Add the enclosed launch's device time to :data:`STATS` (waits for the kernel to finish)."""
    numba_cuda = cuda()
    if simulator():
        yield
        STATS["launches"] += 1
        return
    start, stop = numba_cuda.event(timing=True), numba_cuda.event(timing=True)
    start.record()
    yield
    stop.record()
    stop.synchronize()
    STATS["kernel_seconds"] += numba_cuda.event_elapsed_time(start, stop) / 1e3
    STATS["launches"] += 1
