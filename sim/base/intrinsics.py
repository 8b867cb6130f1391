"""LLVM intrinsics the numba kernels call (no effect on any result).

Kept in one module, which :mod:`sim.base.kernel_cache` watches: numba's on-disk cache does not
notice edits to a jitted helper in another module.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, index):
    """Ask the CPU to start loading ``arr[index]`` into cache (LLVM ``llvm.prefetch``; no effect on results).

    Loops over accounts in random order are bound by memory latency; a load issued some
    iterations ahead overlaps the misses. ``arr`` must be 1-D and ``index`` a valid index
    (it is not bounds-checked).
    """
    sig = types.void(arr, index)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # read, keep in all cache levels, data cache
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
