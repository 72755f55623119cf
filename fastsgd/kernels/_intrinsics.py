"""Low-level helpers numba lacks: a software prefetch and a cast to an array's dtype."""

import platform

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload


def cast_like(value, array):
    """value converted to ``array``'s dtype (inside ``@njit`` code only).

    The kernels keep float32 data in float32 vector arithmetic while their scalar math runs in
    float64; this rounds such a scalar to X's dtype without a store to memory on the critical
    path (a one-element buffer measured ~10% slower per epoch at k=100).
    """
    raise NotImplementedError("cast_like is only available inside @njit functions")


@overload(cast_like, jit_options={"cache": True, "nogil": True})
def _cast_like(value, array):
    target = array.dtype

    def impl(value, array):
        return target(value)

    return impl


CACHE_LINE = 64

# Rows are prefetched about PREFETCH_BYTES ahead in the visiting order (4 to 32 rows), when a row
# is at most PREFETCH_MAX_ROW_BYTES long. Longer rows span whole pages, where the hardware
# prefetcher already streams well and the extra prefetch instructions measured 10-20% slower
# (k=1000 float32). 8 KiB ahead measured ~10% faster than 4 rows ahead at k=100 float64.
PREFETCH_BYTES = 8192
PREFETCH_MAX_ROW_BYTES = 2048


@njit(cache=True, nogil=True)
def prefetch_distance(X):
    """How many visits ahead to prefetch rows of X; 0 means do not prefetch.

    Only rows stored contiguously are prefetched (prefetch_row assumes it); other layouts
    (Fortran order, strided views) get none.
    """
    row_bytes = max(X.shape[1] * X.itemsize, 1)
    contiguous_rows = X.shape[1] <= 1 or X.strides[1] == X.itemsize
    if row_bytes > PREFETCH_MAX_ROW_BYTES or not contiguous_rows:
        return 0
    return min(max(PREFETCH_BYTES // row_bytes, 4), 32)


def _prefetch_call(builder, pointer):
    """Emit llvm.prefetch(pointer): a read, into the data cache, kept in every level."""
    byte_ptr = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    prefetch = cgutils.get_or_insert_function(
        builder.module,
        ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]),
        "llvm.prefetch.p0i8",
    )
    hint = [ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)]
    builder.call(prefetch, [builder.bitcast(pointer, byte_ptr), *hint])


def _prefetch_lines(context, builder, base, begin, end):
    """Prefetch every cache line of the bytes [begin, end) after the byte pointer base."""
    with cgutils.for_range_slice(
        builder, begin, end, context.get_constant(types.intp, CACHE_LINE)
    ) as (offset, _):
        _prefetch_call(builder, builder.gep(base, [offset]))


@intrinsic
def prefetch_row(typingctx, array, row):
    """Ask the CPU to start loading every cache line of ``array[row]`` (2-D, C-contiguous).

    A hint only: it never faults and changes no result. Shuffled epochs read rows in random
    order, which the hardware prefetcher cannot predict; prefetching a few visits ahead measured
    1.8x faster at k=100 (430 -> 235 ms per 1e6 samples), and ~10% on sequential orders.
    """
    sig = types.void(array, row)

    def codegen(context, builder, signature, args):
        array_type, row_type = signature.args
        arr = context.make_array(array_type)(context, builder, args[0])
        shape = cgutils.unpack_tuple(builder, arr.shape)
        strides = cgutils.unpack_tuple(builder, arr.strides)
        index = context.cast(builder, args[1], row_type, types.intp)
        start = cgutils.get_item_pointer2(
            context,
            builder,
            data=arr.data,
            shape=shape,
            strides=strides,
            layout=array_type.layout,
            inds=[index, context.get_constant(types.intp, 0)],
        )
        byte_ptr = ir.IntType(8).as_pointer()
        base = builder.bitcast(start, byte_ptr)
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(
            context.get_data_type(array_type.dtype)))  # fmt: skip
        row_bytes = builder.mul(shape[1], itemsize)
        _prefetch_lines(context, builder, base, context.get_constant(types.intp, 0), row_bytes)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def prefetch_span(typingctx, array, start, stop):
    """Prefetch every cache line of ``array[start:stop]`` (1-D, contiguous): a CSR row's
    data or indices. A hint only, like prefetch_row."""
    sig = types.void(array, start, stop)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        arr = context.make_array(array_type)(context, builder, args[0])
        first = context.cast(builder, args[1], signature.args[1], types.intp)
        last = context.cast(builder, args[2], signature.args[2], types.intp)
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(
            context.get_data_type(array_type.dtype)))  # fmt: skip
        byte_ptr = ir.IntType(8).as_pointer()
        base = builder.bitcast(arr.data, byte_ptr)
        _prefetch_lines(
            context, builder, base, builder.mul(first, itemsize), builder.mul(last, itemsize)
        )
        return context.get_dummy_value()

    return sig, codegen


# MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6) flags.
FLUSH_SUBNORMALS = 0x8040
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


@intrinsic
def flush_subnormals(typingctx):
    """Make this thread's SSE/AVX arithmetic treat subnormal numbers as 0 (x86: MXCSR's FTZ and
    DAZ flags); returns the previous control word for restore_subnormals. Elsewhere a no-op
    that returns 0.

    For the momentum sweep: velocities of units that get no gradient shrink towards the
    subnormals, whose arithmetic is many times slower on x86 (see kernels/net.py). Always pair
    it with restore_subnormals in the same kernel, with no exit in between.
    """
    sig = types.uint32()

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        if not _X86:
            return ir.Constant(i32, 0)
        byte_ptr = ir.IntType(8).as_pointer()
        slot = cgutils.alloca_once(builder, i32)
        store = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr]), "llvm.x86.sse.stmxcsr"
        )
        load = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr]), "llvm.x86.sse.ldmxcsr"
        )
        builder.call(store, [builder.bitcast(slot, byte_ptr)])
        previous = builder.load(slot)
        builder.store(builder.or_(previous, ir.Constant(i32, FLUSH_SUBNORMALS)), slot)
        builder.call(load, [builder.bitcast(slot, byte_ptr)])
        return previous

    return sig, codegen


@intrinsic
def restore_subnormals(typingctx, previous):
    """Put back the control word that flush_subnormals returned (a no-op off x86)."""
    sig = types.void(types.uint32)

    def codegen(context, builder, signature, args):
        if not _X86:
            return context.get_dummy_value()
        i32 = ir.IntType(32)
        byte_ptr = ir.IntType(8).as_pointer()
        slot = cgutils.alloca_once(builder, i32)
        builder.store(context.cast(builder, args[0], signature.args[0], types.uint32), slot)
        load = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr]), "llvm.x86.sse.ldmxcsr"
        )
        builder.call(load, [builder.bitcast(slot, byte_ptr)])
        return context.get_dummy_value()

    return sig, codegen
