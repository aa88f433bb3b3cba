"""Reductions over axes: sum, prod, max, min, any, all, argmax, argmin.

One Op, ``Reduce``, covers the accumulating reductions; ``keepdims`` is a
DimShuffle added after it, so backends only ever see plain reductions.
``mean``, ``var`` and ``std`` are compositions of these.
"""
import builtins

import numpy as np

from ...configdefaults import config
from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType
from .elemwise import cast, dimshuffle

__all__ = ["Reduce", "Argmax", "sum", "prod", "max", "min", "any", "all",
           "argmax", "argmin", "mean", "var", "std", "normalize_axis"]


def normalize_axis(x, axis):
    """``axis`` (None, int or sequence, negatives allowed) -> sorted tuple."""
    if axis is None:
        return tuple(range(x.ndim))
    if isinstance(axis, (int, np.integer)) or (isinstance(axis, np.ndarray) and axis.ndim == 0):
        axis = [axis]   # (Theano's tests pass np.array(1) as an axis)
    out = []
    for a in (axis if not isinstance(axis, str) else [axis]):
        try:
            a = int(a) if not isinstance(a, str) else None
        except (TypeError, ValueError):
            a = None
        if a is None:       # int('a') would be a ValueError naming nothing
            raise TypeError(f"axis must be None, an int or a sequence of ints, got "
                            f"{axis!r} (reducing {x})")
        if not -x.ndim <= a < builtins.max(x.ndim, 1):
            raise ValueError(f"axis {a} is out of range for {x} with {x.ndim} dimensions")
        out.append(a % x.ndim if x.ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(sorted(out))


def _acc_dtype(kind, dtype):
    if kind in ("any", "all"):
        return "bool"
    if kind in ("sum", "prod"):
        if dtype in ("bool", "int8", "int16", "int32", "int64"):
            return "int64"
        if dtype.startswith("uint"):
            return "uint64"
    return dtype


_WIDER = {"float16": "float32", "float32": "float64"}

_IMPL = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min,
         "any": np.any, "all": np.all}


class Reduce(Op):
    """Reduce ``x`` over ``axis`` (a tuple) with ``kind`` (sum, prod, ...)."""

    __props__ = ("kind", "axis")

    def __init__(self, kind, axis):
        if kind not in _IMPL:
            raise ValueError(f"unknown reduction {kind!r}")
        self.kind = kind
        self.axis = tuple(axis)

    def short_name(self):
        return f"{self.kind.capitalize()}{{axis={list(self.axis)}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if builtins.any(a >= x.ndim for a in self.axis):
            raise ValueError(f"{self}: axis out of range for {x} with {x.ndim} dims")
        shape = tuple(s for i, s in enumerate(x.type.shape) if i not in self.axis)
        out = TensorType(_acc_dtype(self.kind, x.dtype), shape=shape)()
        return Apply(self, [x], [out])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        if self.kind in ("max", "min") and builtins.any(x.shape[a] == 0 for a in self.axis):
            raise ValueError(f"{self}: cannot take the {self.kind} of an empty axis "
                             f"(input shape {x.shape})")
        if self.kind in ("sum", "prod") and x.dtype.name in _WIDER:
            # float32 sums accumulate in float64 (float16 in float32), as in
            # Theano and the numba kernels: numpy's float32 pairwise sum of
            # [1e8, 1, -1e8] is 0
            out = _IMPL[self.kind](x, axis=self.axis, dtype=_WIDER[x.dtype.name])
        else:
            out = _IMPL[self.kind](x, axis=self.axis)
        output_storage[0][0] = np.asarray(out, dtype=node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        return [tuple(s for i, s in enumerate(input_shapes[0]) if i not in self.axis)]

    def _expand(self, v, x):
        """Reinsert the reduced axes of ``x`` into ``v`` as broadcastable axes."""
        pattern, k = [], 0
        for i in range(x.ndim):
            if i in self.axis:
                pattern.append("x")
            else:
                pattern.append(k)
                k += 1
        return dimshuffle(v, tuple(pattern))

    def L_op(self, inputs, outputs, output_grads):
        from .shape import alloc
        from ... import tensor as T
        (x,) = inputs
        (gz,) = output_grads
        if x.dtype not in ("float16", "float32", "float64"):
            return [None]
        gz_b = self._expand(gz, x)
        if self.kind == "sum":
            return [cast(alloc(gz_b, *[x.shape[i] for i in range(x.ndim)]), x.dtype)]
        if self.kind in ("max", "min"):
            mask = T.eq(x, self._expand(outputs[0], x))
            return [cast(gz_b * mask, x.dtype)]
        if self.kind == "prod":
            # Exact with zeros: the product of the *other* entries.
            is_zero = T.eq(x, 0)
            x_nz = T.switch(is_zero, 1, x)
            p_nz = self._expand(prod(x_nz, axis=self.axis), x)
            n_zero = self._expand(sum(is_zero, axis=self.axis), x)
            g = T.switch(T.eq(n_zero, 0), p_nz / x_nz,
                         T.switch(T.and_(T.eq(n_zero, 1), is_zero), p_nz, 0))
            return [cast(gz_b * g, x.dtype)]
        return [None]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        if self.kind == "sum":
            return [self(eval_points[0])]
        return [None]


class Argmax(Op):
    """Index of the max (or min, ``kind='argmin'``) along a single axis or all."""

    __props__ = ("kind", "axis")

    def __init__(self, kind, axis):
        self.kind = kind
        self.axis = axis  # None (flattened) or int

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is None:
            shape = ()
        else:
            shape = tuple(s for i, s in enumerate(x.type.shape) if i != self.axis)
        return Apply(self, [x], [TensorType("int64", shape=shape)()])

    def perform(self, node, inputs, output_storage):
        fn = np.argmax if self.kind == "argmax" else np.argmin
        output_storage[0][0] = np.asarray(fn(inputs[0], axis=self.axis), dtype="int64")

    def infer_shape(self, node, input_shapes):
        if self.axis is None:
            return [()]
        return [tuple(s for i, s in enumerate(input_shapes[0]) if i != self.axis)]

    def L_op(self, inputs, outputs, output_grads):
        return [None]


def _reduce(kind, x, axis, keepdims, dtype=None, acc_dtype=None):
    x = as_tensor_variable(x)
    axes = normalize_axis(x, axis)
    if acc_dtype is not None and acc_dtype != _acc_dtype(kind, x.dtype):
        # Theano's acc_dtype: accumulate in that dtype; the result keeps the
        # default dtype unless ``dtype`` says otherwise
        dtype = dtype or _acc_dtype(kind, x.dtype)
        x = cast(x, acc_dtype)
    elif (dtype is not None and kind in ("sum", "prod") and x.dtype != dtype
          and np.promote_types(x.dtype, dtype) == dtype):
        x = cast(x, dtype)   # a wider output dtype accumulates in it (a float16 sum)
    op = Reduce(kind, axes)
    out = op(x) if axes else _no_reduce(kind, x)
    if dtype is not None:
        out = cast(out, dtype)
    if keepdims:
        out = op._expand(out, x)
    return out


def _no_reduce(kind, x):
    return cast(x, _acc_dtype(kind, x.dtype))


def sum(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Sum over ``axis`` (all axes by default).

    Examples
    --------
    >>> import symnet.tensor as T
    >>> x = T.matrix('x')
    >>> T.sum(x, axis=1).type.shape, T.sum(x, axis=1, keepdims=True).type.shape
    ((None,), (None, 1))
    """
    return _reduce("sum", x, axis, keepdims, dtype, acc_dtype)


def prod(x, axis=None, dtype=None, keepdims=False, acc_dtype=None, no_zeros_in_input=False):
    return _reduce("prod", x, axis, keepdims, dtype, acc_dtype)


def max(x, axis=None, keepdims=False):
    return _reduce("max", x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    return _reduce("min", x, axis, keepdims)


def any(x, axis=None, keepdims=False):
    return _reduce("any", x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    return _reduce("all", x, axis, keepdims)


def _arg(kind, x, axis, keepdims):
    x = as_tensor_variable(x)
    if axis is None and x.ndim > 1:
        from .shape import flatten
        out = Argmax(kind, 0)(flatten(x, 1))
        ax = tuple(range(x.ndim))
    elif axis is None or x.ndim == 0:
        out = Argmax(kind, 0 if x.ndim else None)(x)
        ax = tuple(range(x.ndim))
    else:
        ax = tuple(sorted(set(normalize_axis(x, axis))))
        if len(ax) == x.ndim:
            return _arg(kind, x, None, keepdims)
        if len(ax) == 1:
            out = Argmax(kind, ax[0])(x)
        else:
            # Several axes (Theano's meaning): the index into those axes
            # flattened in C order, i.e. the argmax over the last axis once
            # they are moved to the end and merged.
            from .elemwise import dimshuffle
            from .shape import reshape, shape_i
            keep = [d for d in range(x.ndim) if d not in ax]
            moved = dimshuffle(x, tuple(keep) + ax)
            out = Argmax(kind, len(keep))(
                reshape(moved, [shape_i(x, d) for d in keep] + [-1], ndim=len(keep) + 1))
    if keepdims:
        out = Reduce("max", ax)._expand(out, x)
    return out


def argmax(x, axis=None, keepdims=False):
    return _arg("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    return _arg("argmin", x, axis, keepdims)


def max_and_argmax(x, axis=None, keepdims=False):
    """``[max(x, axis), argmax(x, axis)]`` (Theano's pair; several axes are
    allowed, the index then counts into those axes flattened in C order).

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x = T.dmatrix('x')
    >>> m, i = T.max_and_argmax(x, axis=1)
    >>> f = symnet.function([x], [m, i], mode='py')
    >>> [a.tolist() for a in f(np.array([[1., 5., 2.], [7., 0., 3.]]))]
    [[5.0, 7.0], [1, 0]]
    """
    return [max(x, axis, keepdims), argmax(x, axis, keepdims)]


def _count(x, axes):
    from .shape import shape_i
    from .elemwise import elemwise, SCALAR_OPS
    n = None
    for a in axes:
        s = x.type.shape[a]
        term = s if s is not None else shape_i(x, a)
        n = term if n is None else (n * term if not isinstance(n, int) or isinstance(term, int)
                                    else term * n)
    return 1 if n is None else n


def mean(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Arithmetic mean; integer inputs give ``config.floatX``."""
    x = as_tensor_variable(x)
    axes = normalize_axis(x, axis)
    out_dtype = dtype or (x.dtype if x.dtype.startswith("float") else config.floatX)
    # a float16 sum and count overflow at 65504: divide in float32 (Theano's)
    div_dtype = "float32" if out_dtype == "float16" else out_dtype
    s = sum(x, axis=axes, keepdims=keepdims, acc_dtype=acc_dtype,
            dtype=div_dtype if x.dtype == "float16" else None)
    s = cast(s, div_dtype)
    n = _count(x, axes)
    if isinstance(n, int):
        return cast(s / float(n) if n != 1 else s, out_dtype)
    return cast(s / cast(n, div_dtype), out_dtype)


def var(x, axis=None, ddof=0, keepdims=False, corrected=False):
    """Variance over ``axis``, divided by ``N - ddof`` (numpy's ``ddof``).

    ``corrected=True`` is Theano's "corrected two-pass" algorithm, not a
    choice of divisor: it subtracts ``sum(c) ** 2 / (N * (N - ddof))`` (``c``
    the centered input), which is zero in exact arithmetic and removes the
    rounding error of the mean from the result.

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> x = T.dvector('x')
    >>> f = symnet.function([x], [T.var(x), T.var(x, ddof=1, corrected=True)], mode='py')
    >>> [round(float(v), 6) for v in f(np.array([1., 2., 4.]))]
    [1.555556, 2.333333]
    """
    x = as_tensor_variable(x)
    axes = normalize_axis(x, axis)
    centered = x - mean(x, axis=axes, keepdims=True)
    from .elemwise import elemwise, SCALAR_OPS
    sq = elemwise(SCALAR_OPS["sqr"], centered)
    n = _count(x, axes)
    if ddof == 0:
        v = mean(sq, axis=axes, keepdims=keepdims)
    else:
        total = sum(sq, axis=axes, keepdims=keepdims)
        v = total / (float(n - ddof) if isinstance(n, int) else cast(n - ddof, total.dtype))
    if not corrected:
        return v
    if ddof == 0:
        err = elemwise(SCALAR_OPS["sqr"], mean(centered, axis=axes, keepdims=keepdims))
    else:
        err = elemwise(SCALAR_OPS["sqr"], sum(centered, axis=axes, keepdims=keepdims))
        err = err / (float(n * (n - ddof)) if isinstance(n, int)
                     else cast(n * (n - ddof), err.dtype))
    return v - err


def std(x, axis=None, ddof=0, keepdims=False, corrected=False):
    from .elemwise import elemwise, SCALAR_OPS
    return elemwise(SCALAR_OPS["sqrt"], var(x, axis, ddof, keepdims, corrected))
