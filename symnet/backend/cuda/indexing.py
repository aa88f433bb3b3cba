"""CUDA implementations of basic indexing: ``Subtensor`` is a device view
(ints and slices), ``IncSubtensor`` copies ``x`` into a new device array
and adds (or writes) ``y`` into the indexed region with one kernel.

Slices with a negative or symbolic step fall back (loudly) to ``perform``:
a device view starts at its lowest address, which a reversed view's first
element is not (``memory.view`` relies on it)."""
import numpy as np

from ..registry import register_kernel
from ...tensor.ops.indexing import IN, IncSubtensor, Subtensor, _rebuild
from .elemwise import broadcast_to, copy_into
from .memory import is_device, to_device

__all__ = []


def _region(x, idx):
    """A view of ``x[idx]`` keeping int-indexed axes as size 1, and which
    axes those are (writes into a one-element region still go through a view)."""
    keep, ints = [], []
    for axis, e in enumerate(idx):
        if isinstance(e, slice):
            keep.append(e)
            continue
        size = x.shape[axis]
        i = int(e)
        if not -size <= i < size:
            raise IndexError(f"index {i} is out of bounds for axis {axis} with size {size}")
        i %= size
        keep.append(slice(i, i + 1))
        ints.append(axis)
    return x[tuple(keep)], ints


def _forward_steps(op):
    """NotImplementedError (a fallback) unless every slice steps forward by
    a constant."""
    for e in op.idx_list:
        if isinstance(e, slice) and e.step is not None and (e.step == IN or e.step < 0):
            raise NotImplementedError(f"{op}: a negative or symbolic slice step")


@register_kernel("cuda", Subtensor)
def subtensor_impl(node, rt):
    op = node.op
    _forward_steps(op)

    def run(x, *vals):
        idx = _rebuild(op.idx_list, [np.asarray(v) if not is_device(v) else v.copy_to_host()
                                     for v in vals])
        if not is_device(x):
            return [np.asarray(x[idx])]
        region, ints = _region(x, idx)
        if ints:     # drop the int-indexed axes (size 1) from the view
            from .memory import view
            axes = [a for a in range(region.ndim) if a not in ints]
            region = view(region, [region.shape[a] for a in axes],
                          [region.strides[a] for a in axes])
        return [region]
    return run


@register_kernel("cuda", IncSubtensor)
def inc_subtensor_impl(node, rt):
    op = node.op
    _forward_steps(op)
    dtype = node.outputs[0].type.dtype

    def run(x, y, *vals):
        idx = _rebuild(op.idx_list, [np.asarray(v) if not is_device(v) else v.copy_to_host()
                                     for v in vals])
        x = to_device(x)
        out = copy_into(rt.empty(x.shape, dtype), x)
        region, ints = _region(out, idx)
        y = to_device(y)
        # y fits the region without its int axes: put them back as size 1
        inner = [region.shape[a] for a in range(region.ndim) if a not in ints]
        yb = broadcast_to(y, inner)
        from .memory import view
        strides, it = [], iter(yb.strides)
        for a in range(region.ndim):
            strides.append(0 if a in ints else next(it))
        copy_into(region, view(yb, region.shape, strides), add=not op.set_instead_of_inc)
        return [out]
    return run
