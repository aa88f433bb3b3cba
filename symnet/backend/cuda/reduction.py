"""CUDA reductions as block tree reductions: ``Reduce`` (sum, prod, max,
min, any, all over any axes; a mean is a sum times a constant after the
rewrites) and ``Argmax`` (argmax/argmin over one axis or all).

One block computes one output element (blocks stride over the outputs):
each thread folds a strided share of the reduced elements into a private
accumulator, the block then combines the ``TPB`` partials pairwise in
shared memory (log2(TPB) rounds), and thread 0 writes the result.  float32
sums accumulate in float64 (about as accurate as numpy's pairwise sum).
NaN rules are numpy's: max/min return NaN when any element is NaN, argmax
the first NaN; ties go to the lowest index.
"""
import numpy as np

from ..registry import register_kernel
from ...tensor.ops.reduction import Argmax, Reduce
from .memory import to_device, view
from .runtime import compile_kernel, launch, tpb

__all__ = ["reduction_text"]


_NEUTRAL = {"sum": "0", "any": "0", "prod": "1", "all": "1"}


def _init(kind, acc_dt):
    """The accumulator's start: the neutral element, or for max/min the
    lowest/highest value of ``acc_dt`` (never bool: any/all count in int32)."""
    if kind in _NEUTRAL:
        return _NEUTRAL[kind]
    low = kind == "max"
    if np.dtype(acc_dt).kind == "f":
        return "-np.inf" if low else "np.inf"
    info = np.iinfo(acc_dt)
    return str(info.min if low else info.max)


# how two partial results combine (any/all count in int32: max/min of 0/1)
_FOLD = {"sum": "{a} + {b}", "prod": "{a} * {b}", "any": "max({a}, {b})",
         "all": "min({a}, {b})",
         # NaN wins (numpy's rule): b replaces a when better or NaN
         "max": "{b} if ({b} > {a} or {b} != {b}) else {a}",
         "min": "{b} if ({b} < {a} or {b} != {b}) else {a}"}


def _combine(kind, a, b):
    return _FOLD[kind].format(a=a, b=b)


def _decode(names, sizes, var, lines, indent):
    """Lines splitting flat index ``var`` into ``names`` (C order)."""
    pad = " " * indent
    lines.append(f"{pad}_r = {var}")
    for k in range(len(names) - 1, 0, -1):
        lines += [f"{pad}{names[k]} = _r % {sizes[k]}", f"{pad}_r = _r // {sizes[k]}"]
    if names:
        lines.append(f"{pad}{names[0]} = _r")


def reduction_text(nd, axes, kind, acc_dt, out_dt, threads, arg=False):
    """Source of the block tree reduction of an ``nd``-dim input over ``axes``
    (``arg``: an argmax/argmin, ``kind`` then 'max' or 'min')."""
    kept = [a for a in range(nd) if a not in axes]
    idx = {a: f"i{a}" for a in range(nd)}
    lines = ["@cuda.jit", "def kernel(nout, nred, x, out):",
             f"  sh = cuda.shared.array({threads}, np.{acc_dt})"]
    if arg:
        lines.append(f"  si = cuda.shared.array({threads}, np.int64)")
    lines += ["  tid = cuda.threadIdx.x",
              "  for o in range(cuda.blockIdx.x, nout, cuda.gridDim.x):"]
    _decode([idx[a] for a in kept], [f"x.shape[{a}]" for a in kept], "o", lines, 4)
    lines.append(f"    acc = np.{acc_dt}({_init(kind, acc_dt)})")
    if arg:
        lines.append("    at = np.int64(-1)")
    lines.append(f"    for q in range(tid, nred, {threads}):")
    _decode([idx[a] for a in axes], [f"x.shape[{a}]" for a in axes], "q", lines, 6)
    at = ", ".join(idx[a] for a in range(nd)) if nd else "0"
    lines.append(f"      v = np.{acc_dt}(x[{at}])")
    if arg:
        cmp = ">" if kind == "max" else "<"
        # strictly better, or the first NaN (a NaN accumulator stays)
        lines += [f"      if at < 0 or (acc == acc and (v {cmp} acc or v != v)):",
                  "        acc = v",
                  "        at = q"]
    else:
        if kind in ("any", "all"):
            lines.append("      v = np.{0}(1 if v != 0 else 0)".format(acc_dt))
        lines.append(f"      acc = {_combine(kind, 'acc', 'v')}")
    lines += ["    sh[tid] = acc"] + (["    si[tid] = at"] if arg else []) + [
        "    cuda.syncthreads()",
        f"    s = {threads // 2}",
        "    while s > 0:",
        "      if tid < s:"]
    if arg:
        cmp = ">" if kind == "max" else "<"
        lines += ["        a, b = sh[tid], sh[tid + s]",
                  "        ia, ib = si[tid], si[tid + s]",
                  "        if ib >= 0 and (ia < 0 or (a == a and (b != b or b "
                  f"{cmp} a or (b == a and ib < ia))) or (a != a and b != b and ib < ia)):",
                  "          sh[tid] = b",
                  "          si[tid] = ib"]
    else:
        lines.append(f"        sh[tid] = {_combine(kind, 'sh[tid]', 'sh[tid + s]')}")
    lines += ["      cuda.syncthreads()",
              "      s = s // 2",
              "    if tid == 0:",
              f"      out[o] = {'si[0]' if arg else f'np.{out_dt}(sh[0])'}",
              "    cuda.syncthreads()"]
    return "\n".join(lines) + "\n"


def _run_reduction(text, x, axes, out_shape, out_dt, rt):
    x = to_device(x)
    if x.ndim == 0:
        x = view(x, (1,), (x.dtype.itemsize,))
    nout = int(np.prod(out_shape)) if out_shape else 1
    nred = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    # the pooled buffer itself is returned (the allocator tracks it); the
    # kernel writes through a flat view of it
    out = rt.empty(out_shape, out_dt)
    if nout:
        blocks, _ = launch(nout)
        flat = view(out, (nout,), (out.dtype.itemsize,))
        compile_kernel(text)[blocks, tpb()](nout, nred, x, flat)
    return out


@register_kernel("cuda", Reduce)
def reduce_impl(node, rt):
    kind, axes = node.op.kind, tuple(sorted(node.op.axis))
    (xv,) = node.inputs
    out_dt = node.outputs[0].type.dtype
    nd = xv.type.ndim
    acc_dt = out_dt
    if kind in ("sum", "prod") and out_dt == "float32":
        acc_dt = "float64"
    if kind in ("any", "all") or out_dt == "bool":
        acc_dt = "int32"
    if nd == 0:
        axes = (0,)
    text = reduction_text(max(nd, 1), axes, kind, acc_dt, out_dt, tpb())

    def run(x):
        if kind in ("max", "min") and any(x.shape[a] == 0 for a in node.op.axis):
            raise ValueError(f"{node.op.short_name()}: cannot take the {kind} of an empty axis "
                             f"(input shape {tuple(x.shape)})")
        shape = tuple(s for a, s in enumerate(x.shape) if a not in axes)
        return [_run_reduction(text, x, axes, shape, out_dt, rt)]
    run.text = text
    return run


@register_kernel("cuda", Argmax)
def argmax_impl(node, rt):
    op = node.op
    (xv,) = node.inputs
    nd = xv.type.ndim
    kind = "max" if op.kind == "argmax" else "min"
    axes = tuple(range(max(nd, 1))) if op.axis is None else (op.axis % nd,)
    dt = xv.type.dtype
    acc_dt = "int32" if dt == "bool" else dt
    text = reduction_text(max(nd, 1), axes, kind, acc_dt, "int64", tpb(), arg=True)

    def run(x):
        if any(x.shape[a] == 0 for a in axes if a < len(x.shape)):
            raise ValueError(f"{op}: attempt to get {op.kind} of an empty sequence "
                             f"(input shape {tuple(x.shape)})")
        shape = tuple(s for a, s in enumerate(x.shape) if a not in axes)
        return [_run_reduction(text, x, axes, shape, "int64", rt)]
    run.text = text
    return run
