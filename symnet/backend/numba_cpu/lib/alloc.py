"""``_empty(shape, dtype)``: a new C-contiguous array inside a kernel, as
``np.empty`` (uninitialised), for a tuple ``shape`` and a numpy dtype class.

Why not ``np.empty``: numba implements it as an overload, a function of its
own that numba types, lowers and optimises once per (shape type, dtype) in
every process that compiles a kernel calling it (0.05-0.14 s of CPU each,
W3's bias-gradient sums: 0.24 s of a 1.9 s cold compile).  This one is an
intrinsic: a few IR instructions emitted into the calling kernel, through
the allocator numba's own ``np.empty`` ends in (``_empty_nd_impl``).
"""
import numpy as np  # noqa: F401  (the generated kernels name np.float32 etc.)
import numba as nb  # noqa: F401

# -- body (inlined by f.source)
from numba.core import cgutils as _cgutils
from numba.core import types as _types
from numba.extending import intrinsic as _intrinsic
from numba.np.arrayobj import _empty_nd_impl


@_intrinsic
def _empty(typingctx, shape, dtype):
    if not isinstance(shape, _types.UniTuple) or not isinstance(shape.dtype, _types.Integer):
        return None
    if not isinstance(dtype, _types.NumberClass):
        return None
    ndim = shape.count
    arrty = _types.Array(dtype.dtype, ndim, "C")

    def codegen(context, builder, sig, args):
        dims = _cgutils.unpack_tuple(builder, args[0], ndim)
        dims = [context.cast(builder, d, sig.args[0].dtype, _types.intp) for d in dims]
        return _empty_nd_impl(context, builder, sig.return_type, dims)._getvalue()
    return arrty(shape, dtype), codegen
