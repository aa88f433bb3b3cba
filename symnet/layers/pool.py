"""Pooling and upscaling layers with Lasagne 0.2's names and shapes.

Spatial pooling runs the ``pool_2d`` op of ``symnet/tensor/ops/pool.py``
(1-d pooling over a dummy trailing axis); feature pooling, global pooling
and the pyramid are compositions of reshapes and reductions.

Examples
--------
>>> from symnet.layers import InputLayer, MaxPool2DLayer
>>> MaxPool2DLayer(InputLayer((None, 16, 28, 28)), pool_size=2).output_shape
(None, 16, 14, 14)
"""
import numpy as np

from .. import tensor as T
from ..tensor.ops.pool import pool_2d, pool_3d_by_2d
from ..utils import as_tuple
from .base import Layer, NdimError, _layer_label

__all__ = ["MaxPool1DLayer", "MaxPool2DLayer", "MaxPool3DLayer", "Pool1DLayer",
           "Pool2DLayer", "Pool3DLayer",
           "Upscale1DLayer", "Upscale2DLayer", "Upscale3DLayer", "FeaturePoolLayer",
           "FeatureWTALayer", "GlobalPoolLayer", "SpatialPyramidPoolingLayer",
           "pool_output_length"]


def pool_output_length(input_length, pool_size, stride, pad, ignore_border):
    """The length of a pooling output along one axis.

    Parameters
    ----------
    input_length : int or None
    pool_size, stride, pad : int
    ignore_border : bool
        False keeps partial windows at the end (then ``pad`` must be 0).

    Returns
    -------
    int or None

    Examples
    --------
    >>> pool_output_length(7, 2, 2, 0, True), pool_output_length(7, 2, 2, 0, False)
    (3, 4)
    """
    if input_length is None or pool_size is None:
        return None
    if ignore_border:
        length = input_length + 2 * pad - pool_size + 1
        return (length + stride - 1) // stride
    if pad != 0:
        raise ValueError(f"pooling with ignore_border=False does not support padding, "
                         f"got pad={pad}")
    if stride >= pool_size:
        return (input_length + stride - 1) // stride
    return max(0, (input_length - pool_size + stride - 1) // stride) + 1


def _check_window(layer):
    """pool_size and stride must be positive (0 would divide by zero later)."""
    for what in ("pool_size", "stride"):
        value = getattr(layer, what)
        if any(not isinstance(v, (int, np.integer)) or v < 1 for v in value):
            raise ValueError(f"{_layer_label(layer)}: {what} must be positive integers, "
                             f"got {what}={value}")


def _check_output(layer):
    """A window larger than the (padded) input leaves nothing to pool: said
    here, naming the layer, not by the next layer's non-positive input
    shape (as Conv2DLayer says it of its filters)."""
    out = layer.get_output_shape_for(layer.input_shape)
    for axis, (size, length) in enumerate(zip(layer.input_shape[2:], out[2:])):
        if size is not None and length is not None and length < 1:
            raise ValueError(
                f"{_layer_label(layer)}: the pool (size {layer.pool_size[axis]}) is larger "
                f"than the input (size {size}, pad {layer.pad}) along spatial axis {axis} "
                f"of input shape {layer.input_shape}; the output would be empty. Use a "
                f"smaller pool_size, pad or ignore_border=False")


def _check_ndim(layer, ndim, what):
    if len(layer.input_shape) != ndim:
        raise NdimError(f"Tried to create a {what} layer ({_layer_label(layer)}) with input "
                        f"shape {layer.input_shape}. Expected {ndim} input dimensions "
                        f"(batchsize, channels, {ndim - 2} spatial dimensions).")


class Pool1DLayer(Layer):
    """1-d pooling over the last axis of ``(batch, channels, length)`` inputs.

    Parameters
    ----------
    incoming : Layer or tuple
    pool_size : int
    stride : int or None
        Defaults to ``pool_size`` (non-overlapping windows).
    pad : int
        Zero padding (or -inf for max pooling) on both sides.
    ignore_border : bool
        Drop a final partial window (True) or pool it too (False).
    mode : {'max', 'average_inc_pad', 'average_exc_pad'}

    Examples
    --------
    >>> Pool1DLayer((None, 3, 10), 3).output_shape
    (None, 3, 3)
    """

    def __init__(self, incoming, pool_size, stride=None, pad=0, ignore_border=True,
                 mode="max", **kwargs):
        super().__init__(incoming, **kwargs)
        _check_ndim(self, 3, "1D pooling")
        self.pool_size = as_tuple(pool_size, 1)
        self.stride = self.pool_size if stride is None else as_tuple(stride, 1)
        _check_window(self)
        self.pad = as_tuple(pad, 1)
        self.ignore_border = ignore_border
        self.mode = mode
        _check_output(self)

    def get_output_shape_for(self, input_shape):
        shape = list(input_shape)
        shape[-1] = pool_output_length(input_shape[-1], self.pool_size[0], self.stride[0],
                                       self.pad[0], self.ignore_border)
        return tuple(shape)

    def get_output_for(self, input, **kwargs):
        pooled = pool_2d(T.shape_padright(input, 1), ws=(self.pool_size[0], 1),
                         stride=(self.stride[0], 1), ignore_border=self.ignore_border,
                         pad=(self.pad[0], 0), mode=self.mode)
        return pooled[:, :, :, 0]


class Pool2DLayer(Layer):
    """2-d pooling over the last two axes of ``(batch, channels, rows, cols)``.

    Parameters
    ----------
    incoming : Layer or tuple
    pool_size : int or pair of int
    stride : int, pair of int or None
        Defaults to ``pool_size``.
    pad : int or pair of int
    ignore_border : bool
    mode : {'max', 'sum', 'average_inc_pad', 'average_exc_pad'}

    Examples
    --------
    >>> Pool2DLayer((None, 3, 10, 10), 3, stride=2, mode='average_exc_pad').output_shape
    (None, 3, 4, 4)
    """

    def __init__(self, incoming, pool_size, stride=None, pad=(0, 0), ignore_border=True,
                 mode="max", **kwargs):
        super().__init__(incoming, **kwargs)
        _check_ndim(self, 4, "2D pooling")
        self.pool_size = as_tuple(pool_size, 2)
        self.stride = self.pool_size if stride is None else as_tuple(stride, 2)
        _check_window(self)
        self.pad = as_tuple(pad, 2)
        self.ignore_border = ignore_border
        self.mode = mode
        _check_output(self)

    def get_output_shape_for(self, input_shape):
        shape = list(input_shape)
        for k in (0, 1):
            shape[2 + k] = pool_output_length(input_shape[2 + k], self.pool_size[k],
                                              self.stride[k], self.pad[k],
                                              self.ignore_border)
        return tuple(shape)

    def get_output_for(self, input, **kwargs):
        return pool_2d(input, ws=self.pool_size, stride=self.stride,
                       ignore_border=self.ignore_border, pad=self.pad, mode=self.mode)


class Pool3DLayer(Layer):
    """3-d pooling over the last three axes of 5-d inputs.

    Parameters are those of :class:`Pool2DLayer` with triples.  Pooling a
    box is separable, so this pools rows and columns first, then depth
    (``pool_3d_by_2d``).

    Examples
    --------
    >>> Pool3DLayer((None, 2, 6, 7, 8), 2).output_shape
    (None, 2, 3, 3, 4)
    """

    def __init__(self, incoming, pool_size, stride=None, pad=(0, 0, 0), ignore_border=True,
                 mode="max", **kwargs):
        super().__init__(incoming, **kwargs)
        _check_ndim(self, 5, "3D pooling")
        self.pool_size = as_tuple(pool_size, 3)
        self.stride = self.pool_size if stride is None else as_tuple(stride, 3)
        _check_window(self)
        self.pad = as_tuple(pad, 3)
        self.ignore_border = ignore_border
        self.mode = mode
        _check_output(self)

    def get_output_shape_for(self, input_shape):
        shape = list(input_shape)
        for k in (0, 1, 2):
            shape[2 + k] = pool_output_length(input_shape[2 + k], self.pool_size[k],
                                              self.stride[k], self.pad[k],
                                              self.ignore_border)
        return tuple(shape)

    def get_output_for(self, input, **kwargs):
        return pool_3d_by_2d(input, self.pool_size, self.stride, self.pad,
                             self.ignore_border, self.mode)


class MaxPool1DLayer(Pool1DLayer):
    """:class:`Pool1DLayer` with ``mode='max'``.

    Examples
    --------
    >>> MaxPool1DLayer((None, 3, 10), 2).output_shape
    (None, 3, 5)
    """

    def __init__(self, incoming, pool_size, stride=None, pad=0, ignore_border=True,
                 **kwargs):
        super().__init__(incoming, pool_size, stride, pad, ignore_border, mode="max",
                         **kwargs)


class MaxPool2DLayer(Pool2DLayer):
    """:class:`Pool2DLayer` with ``mode='max'``.

    Examples
    --------
    >>> MaxPool2DLayer((None, 3, 9, 9), 2, ignore_border=False).output_shape
    (None, 3, 5, 5)
    """

    def __init__(self, incoming, pool_size, stride=None, pad=(0, 0), ignore_border=True,
                 **kwargs):
        super().__init__(incoming, pool_size, stride, pad, ignore_border, mode="max",
                         **kwargs)


class MaxPool3DLayer(Pool3DLayer):
    """:class:`Pool3DLayer` with ``mode='max'``.

    Examples
    --------
    >>> MaxPool3DLayer((None, 2, 5, 5, 5), 2, ignore_border=False).output_shape
    (None, 2, 3, 3, 3)
    """

    def __init__(self, incoming, pool_size, stride=None, pad=(0, 0, 0), ignore_border=True,
                 **kwargs):
        super().__init__(incoming, pool_size, stride, pad, ignore_border, mode="max",
                         **kwargs)


class _UpscaleBase(Layer):
    """Upscaling of the trailing ``n`` axes by integer factors."""

    n = None

    def __init__(self, incoming, scale_factor, mode="repeat", **kwargs):
        super().__init__(incoming, **kwargs)
        self.scale_factor = as_tuple(scale_factor, self.n)
        if any(s < 1 for s in self.scale_factor):
            raise ValueError(f"Scale factor must be >= 1, not {self.scale_factor}")
        if mode not in ("repeat", "dilate"):
            raise ValueError(f"Mode must be either 'repeat' or 'dilate', not {mode!r}")
        self.mode = mode

    def get_output_shape_for(self, input_shape):
        shape = list(input_shape)
        for k, s in enumerate(self.scale_factor):
            if shape[2 + k] is not None:
                shape[2 + k] *= s
        return tuple(shape)

    def get_output_for(self, input, **kwargs):
        if self.mode == "repeat":
            out = input
            for k, s in enumerate(self.scale_factor):
                if s > 1:
                    out = T.repeat(out, s, axis=2 + k)
            return out
        if all(s == 1 for s in self.scale_factor):
            return input
        # 'dilate': the input lands on every s-th position, zeros in between
        shape = [input.shape[k] for k in range(input.ndim)]
        for k, s in enumerate(self.scale_factor):
            shape[2 + k] = shape[2 + k] * s
        index = (slice(None), slice(None)) + tuple(slice(None, None, s)
                                                  for s in self.scale_factor)
        return T.set_subtensor(T.zeros(shape, dtype=input.dtype)[index], input)


class Upscale1DLayer(_UpscaleBase):
    """Upscale the last axis of ``(batch, channels, length)`` inputs.

    Parameters
    ----------
    incoming : Layer or tuple
    scale_factor : int
    mode : {'repeat', 'dilate'}
        'repeat' repeats each value; 'dilate' puts zeros between values.

    Examples
    --------
    >>> Upscale1DLayer((None, 2, 5), 3).output_shape
    (None, 2, 15)
    """

    n = 1


class Upscale2DLayer(_UpscaleBase):
    """Upscale the last two axes of ``(batch, channels, rows, cols)`` inputs.

    Parameters
    ----------
    incoming : Layer or tuple
    scale_factor : int or pair of int
    mode : {'repeat', 'dilate'}

    Examples
    --------
    >>> Upscale2DLayer((None, 2, 5, 4), (2, 3)).output_shape
    (None, 2, 10, 12)
    """

    n = 2


class Upscale3DLayer(_UpscaleBase):
    """Upscale the last three axes of 5-d inputs.

    Examples
    --------
    >>> Upscale3DLayer((None, 2, 1, 2, 3), 2).output_shape
    (None, 2, 2, 4, 6)
    """

    n = 3


class FeaturePoolLayer(Layer):
    """Pool groups of ``pool_size`` consecutive features along ``axis``
    (maxout when ``pool_function`` is ``T.max``).

    Parameters
    ----------
    incoming : Layer or tuple
    pool_size : int
    axis : int
    pool_function : callable
        Called as ``pool_function(x, axis=...)``.

    Examples
    --------
    >>> FeaturePoolLayer((None, 12, 5), 3).output_shape
    (None, 4, 5)
    """

    def __init__(self, incoming, pool_size, axis=1, pool_function=T.max, **kwargs):
        super().__init__(incoming, **kwargs)
        self.pool_size = pool_size
        self.axis = axis
        self.pool_function = pool_function
        num = self.input_shape[axis]
        if num is not None and num % pool_size != 0:
            raise ValueError(f"{_layer_label(self)}: Number of input feature maps ({num}) "
                             f"is not a multiple of the pool size (pool_size={pool_size})")

    def get_output_shape_for(self, input_shape):
        shape = list(input_shape)
        if shape[self.axis] is not None:
            shape[self.axis] = shape[self.axis] // self.pool_size
        return tuple(shape)

    def get_output_for(self, input, **kwargs):
        axis = self.axis % input.ndim
        shape = [input.shape[k] for k in range(input.ndim)]
        pooled = (shape[:axis] + [shape[axis] // self.pool_size, self.pool_size]
                  + shape[axis + 1:])
        return self.pool_function(input.reshape(pooled), axis=axis + 1)


class FeatureWTALayer(Layer):
    """Winner-take-all across groups of ``pool_size`` features along
    ``axis``: the maximum of each group is kept, the rest set to zero.

    Parameters
    ----------
    incoming : Layer or tuple
    pool_size : int
    axis : int

    Examples
    --------
    >>> FeatureWTALayer((None, 6), 3).output_shape
    (None, 6)
    """

    def __init__(self, incoming, pool_size, axis=1, **kwargs):
        super().__init__(incoming, **kwargs)
        self.pool_size = pool_size
        self.axis = axis
        num = self.input_shape[axis]
        if num is not None and num % pool_size != 0:
            raise ValueError(f"{_layer_label(self)}: Number of input feature maps ({num}) "
                             f"is not a multiple of the pool size (pool_size={pool_size})")

    def get_output_for(self, input, **kwargs):
        axis = self.axis % input.ndim
        shape = [input.shape[k] for k in range(input.ndim)]
        pooled = (shape[:axis] + [shape[axis] // self.pool_size, self.pool_size]
                  + shape[axis + 1:])
        winners = T.argmax(input.reshape(pooled), axis=axis + 1, keepdims=True)
        # a position index broadcast along the group axis only
        pattern = ["x"] * (axis + 1) + [0] + ["x"] * (input.ndim - axis - 1)
        positions = T.arange(self.pool_size).dimshuffle(*pattern)
        mask = T.eq(winners, positions).reshape(input.shape)
        return input * mask


class GlobalPoolLayer(Layer):
    """Pool all trailing axes of each channel: ``(b, c, ...) -> (b, c)``.

    Parameters
    ----------
    incoming : Layer or tuple
    pool_function : callable
        Called as ``pool_function(x, axis=2)`` on the input flattened to 3-d.

    Examples
    --------
    >>> GlobalPoolLayer((None, 8, 4, 4)).output_shape
    (None, 8)
    """

    def __init__(self, incoming, pool_function=T.mean, **kwargs):
        super().__init__(incoming, **kwargs)
        self.pool_function = pool_function

    def get_output_shape_for(self, input_shape):
        return tuple(input_shape[:2])

    def get_output_for(self, input, **kwargs):
        return self.pool_function(input.flatten(3), axis=2)


_SPP_MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def _reduce_region(region, mode):
    """Pool a whole ``(batch, channels, rows, cols)`` region into one value per channel."""
    if mode == "max":
        return region.max(axis=(2, 3))
    if mode == "sum":
        return region.sum(axis=(2, 3))
    # no padding inside a region, so both averages are the plain mean
    return region.mean(axis=(2, 3))


class SpatialPyramidPoolingLayer(Layer):
    """Spatial pyramid pooling: pool each channel into ``p x p`` bins for
    every ``p`` in ``pool_dims`` and concatenate, giving a fixed-size output
    ``(batch, channels, sum(p * p))`` for any input size.

    Parameters
    ----------
    incoming : Layer or tuple
        4-d input; its spatial sizes must be known when the layer is built.
    pool_dims : list of int
    mode : {'max', 'sum', 'average_inc_pad', 'average_exc_pad'}
    implementation : {'fast', 'kaiming'}
        'fast' pools with windows ``ceil(n / p)`` and strides ``floor(n / p)``
        (one pooling op per level); 'kaiming' pools bin ``i`` over
        ``[floor(i n / p), ceil((i + 1) n / p))`` and always gives ``p`` bins.

    Examples
    --------
    >>> SpatialPyramidPoolingLayer((None, 3, 13, 13), [4, 2, 1]).output_shape
    (None, 3, 21)
    """

    def __init__(self, incoming, pool_dims=[4, 2, 1], mode="max", implementation="fast",
                 **kwargs):
        super().__init__(incoming, **kwargs)
        if len(self.input_shape) != 4:
            raise NdimError(f"{_layer_label(self)}: Expected 4 input dimensions, got input "
                            f"shape {self.input_shape}")
        if implementation not in ("fast", "kaiming"):
            raise ValueError(f"{_layer_label(self)}: implementation must be 'fast' or "
                             f"'kaiming', got {implementation!r}")
        if mode not in _SPP_MODES:
            raise ValueError(f"{_layer_label(self)}: Mode must be either 'max', "
                             f"'average_inc_pad' or 'average_exc_pad'. Got {mode!r} "
                             f"('sum' is accepted too)")
        self.pool_dims = list(pool_dims)
        self.mode = mode
        self.implementation = implementation

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], input_shape[1], sum(p * p for p in self.pool_dims))

    def get_output_for(self, input, **kwargs):
        h, w = self.input_shape[2:]
        if h is None or w is None:
            # The windows depend on the spatial sizes: with sizes known only
            # when the network runs, every bin is a reduction over a slice
            # with symbolic bounds (p * p bins per level).
            h, w = input.shape[2], input.shape[3]
            return T.concatenate([self._binned(input, h, w, p) for p in self.pool_dims],
                                 axis=2)
        levels = []
        for p in self.pool_dims:
            if self.implementation == "fast":
                ws = ((h + p - 1) // p, (w + p - 1) // p)
                st = (max(1, h // p), max(1, w // p))
                levels.append(pool_2d(input, ws=ws, stride=st, ignore_border=True,
                                      mode=self.mode).flatten(3))
            else:
                levels.append(self._binned(input, h, w, p))
        return T.concatenate(levels, axis=2)

    def _binned(self, input, h, w, p):
        """One pyramid level as ``p * p`` reductions over slices (sizes may be symbolic)."""
        if self.implementation == "fast":
            # windows of ceil(n / p) every floor(n / p) (at least 1), as the
            # known-size path pools them (only reached with symbolic sizes)
            def bounds(n, i):
                start = i * T.maximum(n // p, 1)
                return start, start + (n + p - 1) // p
        else:
            def bounds(n, i):
                return (i * n) // p, -((-(i + 1) * n) // p)
        bins = []
        for i in range(p):
            r0, r1 = bounds(h, i)
            for j in range(p):
                c0, c1 = bounds(w, j)
                region = input[:, :, r0:r1, c0:c1]
                bins.append(_reduce_region(region, self.mode).dimshuffle(0, 1, "x"))
        return T.concatenate(bins, axis=2)
