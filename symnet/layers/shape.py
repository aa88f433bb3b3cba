"""Layers that only rearrange their input: ``FlattenLayer``,
``ReshapeLayer``, ``DimshuffleLayer``, ``PadLayer``, ``SliceLayer``."""
import numpy as np

from ..graph.basic import Variable
from ..theano_extensions import padding
from .base import Layer, _layer_label

__all__ = ["FlattenLayer", "flatten", "ReshapeLayer", "reshape", "DimshuffleLayer",
           "dimshuffle", "PadLayer", "pad", "SliceLayer"]


class FlattenLayer(Layer):
    """Flatten the trailing axes so the output has ``outdim`` dimensions.

    Examples
    --------
    >>> from symnet.layers import FlattenLayer
    >>> FlattenLayer((None, 3, 4, 5)).output_shape
    (None, 60)
    """

    def __init__(self, incoming, outdim=2, **kwargs):
        super().__init__(incoming, **kwargs)
        self.outdim = outdim
        if outdim < 1:
            raise ValueError(f"{_layer_label(self)}: dim must be > 0, got outdim={outdim}")

    def get_output_shape_for(self, input_shape):
        to_flatten = input_shape[self.outdim - 1:]
        size = None if any(s is None for s in to_flatten) else int(np.prod(to_flatten))
        return tuple(input_shape[:self.outdim - 1]) + (size,)

    def get_output_for(self, input, **kwargs):
        return input.flatten(self.outdim)


flatten = FlattenLayer


class ReshapeLayer(Layer):
    """Reshape the input to ``shape``.

    Parameters
    ----------
    incoming : Layer or tuple
    shape : tuple
        Entries are ints, ``[i]`` (the size of input axis ``i``), a symbolic
        scalar, or at most one ``-1`` (inferred from the total size).

    Examples
    --------
    >>> from symnet.layers import ReshapeLayer
    >>> ReshapeLayer((None, 100, 20), ([0], 1, 20, -1)).output_shape
    (None, 1, 20, 100)
    """

    def __init__(self, incoming, shape, **kwargs):
        super().__init__(incoming, **kwargs)
        shape = tuple(shape) if isinstance(shape, list) else shape
        if not isinstance(shape, tuple):
            raise ValueError(f"{_layer_label(self)}: shape must be a tuple, got {shape!r}")
        for s in shape:
            if isinstance(s, list):
                if len(s) != 1 or not isinstance(s[0], int) or s[0] < 0:
                    raise ValueError(f"{_layer_label(self)}: `shape` input references must "
                                     f"be single-element lists of int >= 0, got {s!r}")
            elif isinstance(s, Variable):
                if s.ndim != 0:
                    raise ValueError(f"{_layer_label(self)}: a symbolic variable in a shape "
                                     f"specification must be a scalar, but had {s.ndim} "
                                     f"dimensions")
            elif not isinstance(s, (int, np.integer)) or isinstance(s, bool):
                raise ValueError(f"{_layer_label(self)}: `shape` must be a tuple of int "
                                 f"and/or [int], got {shape!r}")
            elif s < -1:
                raise ValueError(f"{_layer_label(self)}: `shape` sizes must be positive "
                                 f"(or -1 for one inferred size), got {s} in {shape!r}")
        if sum(1 for s in shape if isinstance(s, (int, np.integer)) and s == -1) > 1:
            raise ValueError(f"{_layer_label(self)}: `shape` cannot contain multiple -1, "
                             f"got {shape!r}")
        self.shape = shape
        # check the specification against the input shape right away
        self.get_output_shape_for(self.input_shape)

    def get_output_shape_for(self, input_shape, **kwargs):
        # A symbolic input size (e.g. ``x.shape[0]``) is unknown here.
        input_shape = tuple(None if isinstance(s, Variable) else s for s in input_shape)
        out = list(self.shape)
        # sizes used to compare totals; an axis copied from an unknown input
        # axis cancels out, so both sides count it as 1
        known_in = list(input_shape)
        known_out = list(self.shape)
        for dim, o in enumerate(self.shape):
            if isinstance(o, list):
                if o[0] >= len(input_shape):
                    raise ValueError(f"{_layer_label(self)}: specification contains [{o[0]}], "
                                     f"but input shape has {len(input_shape)} dimensions only")
                out[dim] = known_out[dim] = input_shape[o[0]]
                if input_shape[o[0]] is None and known_in[o[0]] is None:
                    known_in[o[0]] = 1
                    known_out[dim] = 1
            elif isinstance(o, Variable):
                out[dim] = known_out[dim] = None
        in_size = None if None in known_in else int(np.prod(known_in))
        out_size = None if None in known_out else int(np.prod(known_out))
        if -1 in out:
            dim = out.index(-1)
            if in_size is None or out_size is None:
                out[dim] = None
                out_size = None
            else:
                out_size = -out_size
                out[dim] = in_size // out_size
                out_size *= out[dim]
        if in_size is not None and out_size is not None and in_size != out_size:
            raise ValueError(f"{_layer_label(self)}: input shape {tuple(input_shape)} cannot "
                             f"be reshaped to specification {self.shape}: the total size "
                             f"mismatches ({in_size} vs {out_size})")
        return tuple(out)

    def get_output_for(self, input, **kwargs):
        shape = [input.shape[o[0]] if isinstance(o, list) else o for o in self.shape]
        return input.reshape(tuple(shape))


reshape = ReshapeLayer


class DimshuffleLayer(Layer):
    """Permute axes, add broadcastable axes ('x') or drop size-1 axes.

    Examples
    --------
    >>> from symnet.layers import DimshuffleLayer
    >>> DimshuffleLayer((2, 3, 4), (2, 'x', 0, 1)).output_shape
    (4, 1, 2, 3)
    """

    def __init__(self, incoming, pattern, **kwargs):
        super().__init__(incoming, **kwargs)
        used = set()
        for p in pattern:
            if isinstance(p, (int, np.integer)) and not isinstance(p, bool):
                if p in used:
                    raise ValueError(f"{_layer_label(self)}: pattern {pattern} uses "
                                     f"dimension {p} more than once")
                used.add(p)
            elif p != "x":
                raise ValueError(f"{_layer_label(self)}: pattern should only contain "
                                 f"ints or 'x', got {p!r}")
        self.pattern = tuple(pattern)
        self.get_output_shape_for(self.input_shape)

    def get_output_shape_for(self, input_shape):
        out = []
        used = [False] * len(input_shape)
        for p in self.pattern:
            if p == "x":
                out.append(1)
                continue
            if p >= len(input_shape):
                raise ValueError(f"{_layer_label(self)}: pattern {self.pattern} refers to "
                                 f"dimension {p}, but the input has only "
                                 f"{len(input_shape)} dimensions {tuple(input_shape)}")
            out.append(input_shape[p])
            used[p] = True
        for axis, (size, u) in enumerate(zip(input_shape, used)):
            if not u and size != 1 and size is not None:
                raise ValueError(f"{_layer_label(self)}: pattern {self.pattern} attempted to "
                                 f"collapse dimension {axis} of size {size}; only axes of "
                                 f"size 1 (or None) can be dropped")
        return tuple(out)

    def get_output_for(self, input, **kwargs):
        return input.dimshuffle(self.pattern)


dimshuffle = DimshuffleLayer


class PadLayer(Layer):
    """Pad the axes after ``batch_ndim`` with ``val``.

    Parameters
    ----------
    incoming : Layer or tuple
    width : int, or iterable of int or (before, after) pairs
        Padding per padded axis.
    val : float
        Value of the padded entries.
    batch_ndim : int
        Leading axes left alone.

    Examples
    --------
    >>> from symnet.layers import PadLayer
    >>> PadLayer((None, 3, 5, 5), width=[1, (2, 0)]).output_shape
    (None, 3, 7, 7)
    """

    def __init__(self, incoming, width, val=0, batch_ndim=2, **kwargs):
        super().__init__(incoming, **kwargs)
        self.width = width
        self.val = val
        self.batch_ndim = batch_ndim

    def get_output_shape_for(self, input_shape):
        out = list(input_shape)
        widths = padding.pad_widths(self.width, len(input_shape) - self.batch_ndim)
        for k, (lo, hi) in enumerate(widths):
            axis = k + self.batch_ndim
            if out[axis] is not None:
                out[axis] += lo + hi
        return tuple(out)

    def get_output_for(self, input, **kwargs):
        return padding.pad(input, self.width, self.val, self.batch_ndim)


pad = PadLayer


class SliceLayer(Layer):
    """Take ``indices`` (an int or a slice) along ``axis``.

    An int index removes the axis, as in numpy.

    Examples
    --------
    >>> from symnet.layers import SliceLayer
    >>> SliceLayer((None, 10, 3), indices=slice(2, 8, 2), axis=1).output_shape
    (None, 3, 3)
    >>> SliceLayer((None, 10, 3), indices=0).output_shape
    (None, 10)
    """

    def __init__(self, incoming, indices, axis=-1, **kwargs):
        super().__init__(incoming, **kwargs)
        self.slice = indices
        self.axis = axis

    def get_output_shape_for(self, input_shape):
        out = list(input_shape)
        if isinstance(self.slice, (int, np.integer)):
            del out[self.axis]
        elif input_shape[self.axis] is not None:
            out[self.axis] = len(range(*self.slice.indices(input_shape[self.axis])))
        else:
            out[self.axis] = None
        return tuple(out)

    def get_output_for(self, input, **kwargs):
        axis = self.axis if self.axis >= 0 else self.axis + input.ndim
        return input[(slice(None),) * axis + (self.slice,)]
