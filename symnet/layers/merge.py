"""Layers joining several inputs: ``ConcatLayer``, ``ElemwiseMergeLayer``,
``ElemwiseSumLayer``, and the cropping helpers ``autocrop`` and
``autocrop_array_shapes``."""
from .. import tensor as T
from .base import MergeLayer, _layer_label

__all__ = ["autocrop", "autocrop_array_shapes", "ConcatLayer", "concat",
           "ElemwiseMergeLayer", "ElemwiseSumLayer"]

_CROP_MODES = ("lower", "center", "upper")


def _cropping_list(cropping, ndim):
    cropping = list(cropping)
    for cr in cropping:
        if cr is not None and cr not in _CROP_MODES:
            raise ValueError(f"Unknown crop mode {cr!r}; expected None or one of "
                             f"{_CROP_MODES}")
    return cropping + [None] * (ndim - len(cropping))


def autocrop(inputs, cropping):
    """Crop expressions to the smallest size along each cropped axis.

    Parameters
    ----------
    inputs : list of expressions, all of the same ndim
    cropping : None or list of (None, 'lower', 'center', 'upper')
        Per axis: keep as is, or keep the first, middle or last entries.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> a = T.as_tensor_variable(np.arange(4.)); b = T.as_tensor_variable(np.arange(2.))
    >>> [x.eval(mode="py").tolist() for x in autocrop([a, b], ['upper'])]
    [[2.0, 3.0], [0.0, 1.0]]
    """
    if cropping is None:
        return inputs
    ndim = inputs[0].ndim
    if any(x.ndim != ndim for x in inputs):
        raise ValueError(f"Not all inputs are of the same dimensionality: "
                         f"{[x.ndim for x in inputs]}")
    cropping = _cropping_list(cropping, ndim)
    slices = [[] for _ in inputs]
    for axis, cr in enumerate(cropping):
        if cr is None:
            for s in slices:
                s.append(slice(None))
            continue
        sizes = [T.shape_i(x, axis) for x in inputs]
        smallest = sizes[0]
        for s in sizes[1:]:
            smallest = T.minimum(smallest, s)
        for x, size, s in zip(inputs, sizes, slices):
            if cr == "lower":
                s.append(slice(None, smallest))
            elif cr == "upper":
                s.append(slice(size - smallest, None))
            else:
                start = (size - smallest) // 2
                s.append(slice(start, start + smallest))
    return [x[tuple(s)] for x, s in zip(inputs, slices)]


def autocrop_array_shapes(input_shapes, cropping):
    """The shapes :func:`autocrop` produces for ``input_shapes``.

    Examples
    --------
    >>> autocrop_array_shapes([(1, 5, 4), (1, 3, None)], [None, 'center', 'lower'])
    [(1, 3, None), (1, 3, None)]
    """
    if cropping is None:
        return input_shapes
    ndim = len(input_shapes[0])
    if any(len(sh) != ndim for sh in input_shapes):
        raise ValueError(f"Not all inputs are of the same dimensionality: {input_shapes}")
    cropping = _cropping_list(cropping, ndim)
    per_axis = []
    for sizes, cr in zip(zip(*input_shapes), cropping):
        if cr is None:
            per_axis.append(sizes)
        else:
            smallest = None if any(s is None for s in sizes) else min(sizes)
            per_axis.append([smallest] * len(sizes))
    return [tuple(sh) for sh in zip(*per_axis)]


def _check_early(layer):
    """Fail at construction on mismatched input shapes, when they are known.

    A duck-typed incoming (anything with an ``output_shape``) may carry a
    placeholder instead of a shape tuple; then the check waits until
    ``get_output_shape_for`` is called with real shapes.
    """
    if all(isinstance(sh, (tuple, list)) for sh in layer.input_shapes):
        layer.get_output_shape_for(layer.input_shapes)


def _first_known(sizes):
    return next((s for s in sizes if s is not None), None)


class ConcatLayer(MergeLayer):
    """Concatenate inputs along ``axis``.

    Parameters
    ----------
    incomings : list of Layer or tuple
    axis : int
    cropping : None or list
        See :func:`autocrop`; lets inputs of different sizes be joined.

    Examples
    --------
    >>> from symnet.layers import ConcatLayer
    >>> ConcatLayer([(None, 3), (None, 5)]).output_shape
    (None, 8)
    """

    def __init__(self, incomings, axis=1, cropping=None, **kwargs):
        super().__init__(incomings, **kwargs)
        self.axis = axis
        self.cropping = None if cropping is None else list(cropping)
        if self.cropping is not None and -len(self.cropping) <= axis < len(self.cropping):
            # The concatenation axis is where sizes may differ: never crop it.
            self.cropping[axis] = None
        _check_early(self)

    def get_output_shape_for(self, input_shapes):
        input_shapes = autocrop_array_shapes(input_shapes, self.cropping)
        ndim = len(input_shapes[0])
        axis = self.axis if self.axis >= 0 else self.axis + ndim
        out = [_first_known(sizes) for sizes in zip(*input_shapes)]
        for sh in input_shapes:
            if len(sh) != ndim or any(i != axis and a is not None and b is not None and a != b
                                      for i, (a, b) in enumerate(zip(sh, out))):
                raise ValueError(f"{_layer_label(self)}: Mismatch: input shapes must be the "
                                 f"same except in the concatenation axis {self.axis}; got "
                                 f"{input_shapes}")
        sizes = [sh[axis] for sh in input_shapes]
        out[axis] = None if any(s is None for s in sizes) else sum(sizes)
        return tuple(out)

    def get_output_for(self, inputs, **kwargs):
        inputs = autocrop(inputs, self.cropping)
        return T.concatenate(inputs, axis=self.axis)


concat = ConcatLayer


class ElemwiseMergeLayer(MergeLayer):
    """Fold inputs of the same shape with a binary elementwise function.

    Parameters
    ----------
    incomings : list of Layer or tuple
    merge_function : callable
        E.g. ``T.mul`` or ``T.maximum``; applied left to right.
    cropping : None or list

    Examples
    --------
    >>> import symnet.tensor as T
    >>> from symnet.layers import ElemwiseMergeLayer
    >>> ElemwiseMergeLayer([(None, 3), (4, 3)], T.mul).output_shape
    (4, 3)
    """

    def __init__(self, incomings, merge_function, cropping=None, **kwargs):
        super().__init__(incomings, **kwargs)
        self.merge_function = merge_function
        self.cropping = cropping
        _check_early(self)

    def get_output_shape_for(self, input_shapes):
        input_shapes = autocrop_array_shapes(input_shapes, self.cropping)
        ndim = len(input_shapes[0])
        if any(len(sh) != ndim for sh in input_shapes):
            raise ValueError(f"{_layer_label(self)}: Mismatch: input shapes must have the "
                             f"same number of dimensions; got {input_shapes}")
        out = tuple(_first_known(sizes) for sizes in zip(*input_shapes))
        for sh in input_shapes:
            if any(a is not None and b is not None and a != b for a, b in zip(sh, out)):
                raise ValueError(f"{_layer_label(self)}: Mismatch: not all input shapes are "
                                 f"the same; got {input_shapes}")
        return out

    def get_output_for(self, inputs, **kwargs):
        inputs = autocrop(inputs, self.cropping)
        out = inputs[0]
        for x in inputs[1:]:
            out = self.merge_function(out, x)
        return out


class ElemwiseSumLayer(ElemwiseMergeLayer):
    """Sum of the inputs, each times a coefficient.

    Parameters
    ----------
    incomings : list of Layer or tuple
    coeffs : number or list of numbers
        One per input, or one for all.
    cropping : None or list

    Examples
    --------
    >>> from symnet.layers import ElemwiseSumLayer
    >>> ElemwiseSumLayer([(2, 3), (2, 3)], coeffs=[1, -1]).output_shape
    (2, 3)
    """

    def __init__(self, incomings, coeffs=1, cropping=None, **kwargs):
        super().__init__(incomings, merge_function=T.add, cropping=cropping, **kwargs)
        if isinstance(coeffs, list):
            if len(coeffs) != len(incomings):
                raise ValueError(f"{_layer_label(self)}: Mismatch: got {len(coeffs)} coeffs "
                                 f"for {len(incomings)} incomings")
        else:
            coeffs = [coeffs] * len(incomings)
        self.coeffs = coeffs

    def get_output_for(self, inputs, **kwargs):
        # skip the multiplication for a coefficient of 1 (a plain number)
        inputs = [x if isinstance(c, (int, float)) and c == 1 else x * c
                  for x, c in zip(inputs, self.coeffs)]
        return super().get_output_for(inputs, **kwargs)
