"""``claim(counter)``: the next piece of a split loop, taken by whichever
thread asks first (an atomic fetch-and-add on ``counter[0]``, an int64
array the caller zeroes), for the ``nogil`` loops the step's pool runs on
several threads at once (``lib/conv_par.py``, ``lib/pool_fused_loops.py``).

Why not a fixed share per thread (pieces ``t, t + nt, ...``): the pool's
second thread shares its core with other processes and starts late; in
W4's step (2 cores, load 1.6, medians of 100 steps) it began the
convolution's images 60 us after the calling thread and ended them 280 us
later, the filter gradient's 530 us later, while the calling thread
waited.  Claimed one at a time, the pieces go to the thread that is free.
"""
import numba as nb  # noqa: F401
from numba.core import types
from numba.extending import intrinsic

__all__ = ["claim"]


@intrinsic
def claim(typingctx, counter):
    """``counter[0]`` before adding 1 to it, atomically (``counter``: a 1-d
    int64 array)."""
    if not isinstance(counter, types.Array) or counter.dtype != types.int64 \
            or counter.ndim != 1:
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        one = context.get_constant(types.int64, 1)
        # monotonic: the counter orders nothing else; each piece's results are
        # read by the caller only after every thread has ended (step_pool.run)
        return builder.atomic_rmw("add", ary.data, one, "monotonic")
    return types.int64(counter), codegen
