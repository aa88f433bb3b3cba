"""CUDA implementations of the shape family: shapes are host values (small
int64 arrays the next kernel's launch reads), reshapes of C-contiguous
arrays are views, ``Alloc`` fills a new device array with a broadcast
copy, ``Join`` copies each input into its slice of a new array,
``Rebroadcast`` passes its input through.  ARange, Tile and Repeat run
their ``perform`` (``linker.FALLBACK_OPS``)."""
import numpy as np

from ..registry import register_kernel
from ...tensor.ops.shape import (Alloc, Join, MakeVector, Rebroadcast, Reshape, Shape,
                                 ShapeBeyondRank, Shape_i)
from .elemwise import broadcast_to, copy_into, is_c_contiguous
from .memory import c_strides, is_device, to_device, to_host, view

__all__ = ["host_ints"]


def host_ints(values):
    """Scalars (host or device) as Python ints."""
    return tuple(int(to_host(v)) for v in values)


@register_kernel("cuda", Shape)
def shape_impl(node, rt):
    return lambda x: [np.asarray(x.shape, dtype="int64")]


@register_kernel("cuda", Shape_i)
def shape_i_impl(node, rt):
    i = node.op.i
    return lambda x: [np.asarray(x.shape[i], dtype="int64")]


@register_kernel("cuda", ShapeBeyondRank)
def shape_beyond_rank_impl(node, rt):
    message = node.op.message(node.inputs[0])

    def run(x):
        raise IndexError(message)
    return run


@register_kernel("cuda", MakeVector)
def make_vector_impl(node, rt):
    dtype = node.op.dtype
    return lambda *xs: [np.asarray([to_host(x) for x in xs], dtype=dtype).reshape(len(xs))]


@register_kernel("cuda", Rebroadcast)
def rebroadcast_impl(node, rt):
    def run(x):
        for axis, flag in node.op.axes:
            if flag and x.shape[axis] != 1:
                raise ValueError(f"{node.op.short_name()}: axis {axis} of shape "
                                 f"{tuple(x.shape)} is marked broadcastable but has size "
                                 f"{x.shape[axis]}")
        return [x]
    return run


@register_kernel("cuda", Reshape)
def reshape_impl(node, rt):
    def run(x, shp):
        if not is_device(x):
            return [np.reshape(x, host_ints(to_host(shp)))]
        want = [int(s) for s in to_host(shp)]
        size = int(np.prod(x.shape))
        if want.count(-1) == 1:
            rest = int(np.prod([s for s in want if s != -1]))
            want[want.index(-1)] = size // rest if rest else 0
        if int(np.prod(want)) != size or any(s < 0 for s in want):
            raise ValueError(f"cannot reshape array of shape {tuple(x.shape)} ({size} "
                             f"elements) into shape {tuple(int(s) for s in to_host(shp))}")
        if is_c_contiguous(x):     # a view, as the op declares
            return [view(x, want, c_strides(want, x.dtype.itemsize))]
        out = rt.empty(want, x.dtype)     # a copy, returned itself (pooled)
        copy_into(view(out, x.shape, c_strides(x.shape, x.dtype.itemsize)), x)
        return [out]
    return run


@register_kernel("cuda", Alloc)
def alloc_impl(node, rt):
    dtype = node.outputs[0].type.dtype

    def run(value, *shp):
        shape = host_ints(shp)
        out = rt.empty(shape, dtype)
        return [copy_into(out, broadcast_to(value, shape))]
    return run


@register_kernel("cuda", Join)
def join_impl(node, rt):
    axis = node.op.axis
    dtype = node.outputs[0].type.dtype

    def run(*xs):
        xs = [to_device(x) for x in xs]
        first = tuple(xs[0].shape)
        for x in xs[1:]:
            if any(a != b for k, (a, b) in enumerate(zip(first, x.shape)) if k != axis):
                raise ValueError(f"join along axis {axis} of shapes "
                                 f"{[tuple(x.shape) for x in xs]}: sizes differ off the axis")
        shape = list(first)
        shape[axis] = sum(x.shape[axis] for x in xs)
        out = rt.empty(shape, dtype)
        at = 0
        for x in xs:
            key = tuple(slice(at, at + x.shape[axis]) if k == axis else slice(None)
                        for k in range(len(shape)))
            if x.shape[axis]:
                copy_into(out[key], x)
            at += x.shape[axis]
        return [out]
    return run
