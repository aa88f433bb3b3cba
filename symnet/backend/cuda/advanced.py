"""CUDA kernels for the common cases of advanced indexing (those the numba
backend compiles): integer vectors picking items/rows of a vector/matrix
(``x[idx]``) or elements of a matrix (``x[rows, cols]``), read
(``AdvancedSubtensor``) or added/written into a copy
(``AdvancedIncSubtensor``).

Indices are checked and wrapped on the host (as numpy does; a GPU does
not check bounds).  Adding uses ``cuda.atomic.add``, so repeated indices
accumulate as ``np.add.at`` does; writing with repeated indices must keep
the last value as numpy does, so writes run in index order in one thread.
Other layouts fall back (loudly) to ``perform``."""
import numpy as np

from ..registry import register_kernel
from ...tensor.ops.advanced import ARR, AdvancedIncSubtensor, AdvancedSubtensor
from .elemwise import broadcast_to, copy_into
from .memory import to_device, to_host
from .runtime import compile_kernel, launch

__all__ = []

# (index layout, ndim of x) -> the kernel case
_CASES = {(((ARR,),), 1): "one", (((ARR,),), 2): "one", (((ARR,), (ARR,)), 2): "pair"}


def _case(node, n_lead):
    """The kernel case of ``node`` (NotImplementedError: it falls back)."""
    for v in node.inputs[n_lead:]:
        if v.type.ndim != 1 or v.type.dtype[0] not in "iu":
            raise NotImplementedError(
                f"{node.op.short_name()}: index {v} is not an integer vector")
    case = _CASES.get((node.op.desc, node.inputs[0].type.ndim))
    if case is None:
        raise NotImplementedError(f"{node.op.short_name()}: no CUDA kernel for this layout")
    return case


def _indices(x_shape, vecs):
    """The index vectors checked, wrapped and broadcast, as device int64."""
    host = [np.asarray(to_host(v), dtype="int64") for v in vecs]
    n = max(len(h) for h in host)
    out = []
    for axis, h in enumerate(host):
        if len(h) not in (n, 1):
            raise IndexError("shape mismatch: indexing arrays could not be broadcast "
                             f"together with shapes {[tuple(v.shape) for v in host]}")
        size = x_shape[axis]
        if h.size and (h.min() < -size or h.max() >= size):
            bad = h[(h < -size) | (h >= size)][0]
            raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {size}")
        out.append(to_device(np.ascontiguousarray(np.broadcast_to(h % max(size, 1), (n,)))))
    return n, out


# (case, ndim) -> (read statement, write target); r: the item, c: the column
_AT = {("one", 1): ("i0[r]", "r"), ("one", 2): ("i0[r], c", "r, c"),
       ("pair", 2): ("i0[r], i1[r]", "r")}


def _text(case, nd, mode):
    at, item = _AT[(case, nd)]
    cols = case == "one" and nd == 2
    head = ["@cuda.jit", "def kernel(total, x, y, i0, i1):",
            "  for flat in range(cuda.grid(1), total, cuda.gridsize(1)):"]
    if cols:
        head += ["    c = flat % x.shape[1]", "    r = flat // x.shape[1]"]
    else:
        head += ["    r = flat"]
    if mode == "read":
        body = [f"    y[{item}] = x[{at}]"]
    elif mode == "add":
        body = [f"    cuda.atomic.add(x, ({at},), y[{item}])"]
    else:
        body = [f"    x[{at}] = y[{item}]"]
    return "\n".join(head + body) + "\n"


def _launch(text, total, args, sequential=False):
    if total:
        blocks, threads = (1, 1) if sequential else launch(total)
        compile_kernel(text)[blocks, threads](total, *args)


@register_kernel("cuda", AdvancedSubtensor)
def advanced_subtensor_impl(node, rt):
    case = _case(node, 1)
    nd = node.inputs[0].type.ndim
    text = _text(case, nd, "read")
    dt = node.outputs[0].type.dtype

    def run(x, *vecs):
        x = to_device(x)
        n, idx = _indices(x.shape, vecs)
        shape = (n, x.shape[1]) if (case == "one" and nd == 2) else (n,)
        out = rt.empty(shape, dt)
        _launch(text, int(np.prod(shape)), [x, out, idx[0], idx[-1]])
        return [out]
    return run


@register_kernel("cuda", AdvancedIncSubtensor)
def advanced_inc_subtensor_impl(node, rt):
    case = _case(node, 2)
    nd = node.inputs[0].type.ndim
    setting = node.op.set_instead_of_inc
    text = _text(case, nd, "set" if setting else "add")
    dt = node.outputs[0].type.dtype

    def run(x, y, *vecs):
        x = to_device(x)
        out = copy_into(rt.empty(x.shape, dt), x)
        n, idx = _indices(x.shape, vecs)
        shape = (n, x.shape[1]) if (case == "one" and nd == 2) else (n,)
        yb = broadcast_to(y, shape)
        _launch(text, int(np.prod(shape)), [out, yb, idx[0], idx[-1]], sequential=setting)
        return [out]
    return run
