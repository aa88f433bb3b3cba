"""Turning Python values into graph variables, and the typed constructors.

``as_tensor_variable`` is the gate every op's ``make_node`` passes its inputs
through.  Python scalars become constants here; the dtype rules of API.md
(NumPy 2 promotion, ``config.floatX`` as the default float) live in
``constant`` and in ``elemwise.weak_constants``.
"""
import numpy as np

from ..configdefaults import config
from ..graph.basic import Apply, Constant, Variable
from .type import TensorType, normalize_dtype
from .variable import TensorConstant, TensorVariable

__all__ = ["as_tensor_variable", "as_tensor", "constant", "tensor",
           "scalar", "vector", "row", "col", "matrix", "tensor3", "tensor4", "tensor5",
           "scalars", "vectors", "matrices", "tensor3s", "tensor4s",
           "tensor6", "tensor7", "rows", "cols", "tensor5s", "tensor6s", "tensor7s",
           "get_scalar_constant_value", "NotScalarConstantError", "_as_shape_var",
           "stacklists", "mgrid", "ogrid"]


class NotScalarConstantError(ValueError):
    """The variable is not a constant scalar known at build time."""


def constant(x, name=None, ndim=None, dtype=None):
    """A TensorConstant holding ``x``.

    Python ints become the smallest signed integer type holding them (as in
    Theano: ``constant(1)`` is int8), Python floats become ``config.floatX``,
    numpy values keep their dtype.

    Examples
    --------
    >>> constant(1).dtype, constant(1000).dtype, constant(np.float64(1)).dtype
    ('int8', 'int16', 'float64')
    """
    if isinstance(x, TensorConstant) and dtype is None:
        return x
    if dtype is not None:
        arr = np.asarray(x, dtype=normalize_dtype(dtype))
    else:
        arr = _python_value_to_array(x)
    if ndim is not None:
        if arr.ndim > ndim:
            raise ValueError(f"constant {x!r} has {arr.ndim} dims, more than ndim={ndim}")
        arr = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape)
    return TensorConstant(TensorType(arr.dtype, shape=arr.shape), arr, name=name)


def _python_value_to_array(x):
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x)
    if isinstance(x, bool):
        return np.asarray(x)
    if isinstance(x, int):
        return np.asarray(x, dtype=_smallest_int(x))
    if isinstance(x, float):
        return np.asarray(x, dtype=config.floatX)
    arr = np.asarray(x)
    if arr.dtype == np.float64 and _all_python(x):
        arr = arr.astype(config.floatX)
    elif arr.dtype.kind == "i" and _all_python(x):
        arr = arr.astype(_smallest_int_array(arr))
    elif arr.dtype == object:
        raise TypeError(f"cannot make a tensor constant from {type(x).__name__} {x!r}")
    return arr


def _all_python(x):
    return isinstance(x, (list, tuple))


def _smallest_int(v):
    for dt in ("int8", "int16", "int32", "int64"):
        info = np.iinfo(dt)
        if info.min <= v <= info.max:
            return dt
    return "uint64" if v > 0 else "int64"


def _smallest_int_array(arr):
    if arr.size == 0:
        return "int8"
    lo, hi = int(arr.min()), int(arr.max())
    for dt in ("int8", "int16", "int32", "int64"):
        info = np.iinfo(dt)
        if info.min <= lo and hi <= info.max:
            return dt
    return "int64"


def as_tensor_variable(x, name=None, ndim=None, dtype=None):
    """Return ``x`` as a tensor variable (a constant for Python/numpy values).

    Raises TypeError for things that cannot be tensors (e.g. a Layer, naming
    it) and for an ``ndim`` that does not match.
    """
    if isinstance(x, Apply):
        x = x.default_output()   # Theano's: a node stands for its default output
    if isinstance(x, Variable):
        if not isinstance(x.type, TensorType):
            raise TypeError(f"{x} is not a tensor variable (type {x.type})")
        if ndim is not None and x.ndim != ndim:
            if x.ndim > ndim and all(x.broadcastable[: x.ndim - ndim]):
                from .ops.elemwise import dimshuffle
                return dimshuffle(x, tuple(range(x.ndim - ndim, x.ndim)))
            raise TypeError(f"{x} has {x.ndim} dimensions, expected {ndim}")
        if dtype is not None and x.dtype != normalize_dtype(dtype):
            from .ops.elemwise import cast
            return cast(x, dtype)
        return x
    if hasattr(x, "get_output_for") or hasattr(x, "output_shape"):
        raise TypeError(
            f"cannot use the layer {x!r} as a tensor: call "
            f"lasagne.layers.get_output on it first")
    if isinstance(x, (list, tuple)) and any(isinstance(e, Variable) for e in x):
        from .ops.shape import stack
        return stack([as_tensor_variable(e) for e in x])
    try:
        return constant(x, name=name, ndim=ndim, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot convert {x!r} to a tensor variable: {exc}") from None


as_tensor = as_tensor_variable


def stacklists(tensor_list):
    """Stack a nested list of same-shaped tensors into one tensor (Theano's).

    The nesting becomes the leading axes: a 2x2 list of scalars gives a
    matrix, of matrices a 4-d tensor.

    Examples
    --------
    >>> a, b, c, d = scalars('abcd', dtype='float64')
    >>> stacklists([[a, b], [c, d]]).eval({a: 1, b: 2, c: 3, d: 4})
    array([[1., 2.],
           [3., 4.]])
    """
    from .ops.shape import stack
    if not isinstance(tensor_list, (list, tuple)):
        return as_tensor_variable(tensor_list)
    # post-order over the nesting with an explicit stack (no recursion): a
    # list is stacked once all its items are
    done = {}
    todo = [(tensor_list, False)]
    while todo:
        item, expanded = todo.pop()
        if expanded:
            done[id(item)] = stack([done[id(e)] if isinstance(e, (list, tuple))
                                    else as_tensor_variable(e) for e in item])
            continue
        todo.append((item, True))
        todo.extend((e, False) for e in item if isinstance(e, (list, tuple)))
    return done[id(tensor_list)]


class _Grid:
    """``mgrid[0:5, 0:3]`` / ``ogrid[...]``: numpy's index grids, symbolic."""

    def __init__(self, sparse):
        self.sparse = sparse

    def __getitem__(self, key):
        from .ops.shape import alloc, arange
        from .ops.elemwise import dimshuffle
        slices = key if isinstance(key, tuple) else (key,)
        ranges = []
        for sl in slices:
            if not isinstance(sl, slice) or sl.stop is None:
                raise TypeError(f"{'ogrid' if self.sparse else 'mgrid'}[...] takes slices "
                                f"with a stop, like [0:5, 0:3], got {sl!r}")
            if isinstance(sl.step, complex):
                raise NotImplementedError("mgrid/ogrid with a complex step (a number of "
                                          "points) is not supported; use arange")
            ranges.append(arange(0 if sl.start is None else sl.start, sl.stop,
                                 1 if sl.step is None else sl.step))
        n = len(ranges)
        out = []
        for k, r in enumerate(ranges):
            v = dimshuffle(r, ("x",) * k + (0,) + ("x",) * (n - k - 1))
            out.append(v if self.sparse else alloc(v, *[q.shape[0] for q in ranges]))
        return out


#: ``mgrid[0:5, 0:3]``: two 5x3 int64 grids, as ``numpy.mgrid``.
mgrid = _Grid(sparse=False)
#: ``ogrid[0:5, 0:3]``: a 5x1 and a 1x3 grid, as ``numpy.ogrid``.
ogrid = _Grid(sparse=True)


def _as_shape_var(shape):
    """A shape given as ints, scalar variables or a vector -> int64 vector."""
    from .ops.shape import stack
    from .ops.elemwise import cast
    if isinstance(shape, Variable):
        if shape.ndim == 0:
            shape = [shape]
        else:
            return cast(shape, "int64")
    if isinstance(shape, (int, np.integer)):
        shape = [shape]
    items = list(shape)
    if all(isinstance(s, (int, np.integer)) for s in items):
        return constant(np.asarray(items, dtype="int64"))
    return stack([cast(as_tensor_variable(s), "int64") for s in items])


def get_scalar_constant_value(v):
    """The Python/numpy value of a scalar known at build time, else raise."""
    from .ops.shape import Alloc, Shape
    from .ops.elemwise import DimShuffle, Elemwise
    if isinstance(v, (int, float, np.integer, np.floating)):
        return np.asarray(v)
    # copies: the caller may change the value (``d = extract_constant(c); d += 1``)
    # and neither a constant's (read-only) data nor the caller's array may change
    if isinstance(v, np.ndarray) and v.size == 1:
        return v.reshape(()).copy()
    if isinstance(v, Constant):
        d = np.asarray(v.data)
        if d.size == 1:
            return d.reshape(()).copy()
    if isinstance(v, Variable) and v.owner is not None:
        op = v.owner.op
        from .ops.indexing import Subtensor
        from .ops.shape import Shape_i
        if isinstance(op, Shape_i):
            s = v.owner.inputs[0].type.shape[op.i]
            if s is not None:
                return np.asarray(s, dtype="int64")
        if isinstance(op, Subtensor) and isinstance(v.owner.inputs[0].owner and v.owner.inputs[0].owner.op, Shape):
            x = v.owner.inputs[0].owner.inputs[0]
            idx = op.idx_list[0] if len(op.idx_list) == 1 else None
            if isinstance(idx, (int, np.integer)) and x.type.shape[idx] is not None:
                return np.asarray(x.type.shape[idx], dtype="int64")
        if isinstance(op, Elemwise) and op.scalar_op.name == "cast":
            return get_scalar_constant_value(v.owner.inputs[0]).astype(v.dtype)
        # an element of a constant (``as_tensor_variable([3, 2])[0]``, which
        # is what iterating over a constant vector gives)
        if isinstance(op, Subtensor) and isinstance(v.owner.inputs[0], Constant) \
                and len(v.owner.inputs) == 1 \
                and all(isinstance(i, (int, np.integer)) for i in op.idx_list):
            return np.asarray(np.asarray(v.owner.inputs[0].data)[tuple(op.idx_list)])
        # an element of stack([1, 2, 3]) (a MakeVector): that scalar's value
        from .ops.shape import MakeVector
        src = v.owner.inputs[0].owner
        if isinstance(op, Subtensor) and src is not None and isinstance(src.op, MakeVector) \
                and len(v.owner.inputs) == 1 and len(op.idx_list) == 1 \
                and isinstance(op.idx_list[0], (int, np.integer)):
            return get_scalar_constant_value(src.inputs[op.idx_list[0]]).astype(v.dtype)
        if isinstance(op, DimShuffle) and v.type.shape == (1,) * v.ndim:
            return get_scalar_constant_value(v.owner.inputs[0])
        if isinstance(op, Alloc):
            # every element is the fill value (``T.zeros(n)``), as Theano
            # answered it (its fibby rewrite drops ``fibby(zeros(...))`` so)
            return get_scalar_constant_value(v.owner.inputs[0])
        if isinstance(op, Elemwise) and v.type.shape == (1,) * v.ndim:
            # an elementwise op of constant scalars (``constant(3) * 2``), as
            # Theano folds it: the op's own perform on the values
            vals = [get_scalar_constant_value(i).reshape((1,) * i.ndim) for i in v.owner.inputs]
            storage = [[None] for _ in v.owner.outputs]
            op.perform(v.owner, vals, storage)
            return np.asarray(storage[v.index][0]).reshape(())
    raise NotScalarConstantError(f"{v} is not a constant scalar")


# -- typed constructors ------------------------------------------------------

def tensor(dtype=None, broadcastable=None, name=None, shape=None, ndim=None):
    """A free tensor input variable (``T.tensor('float32', (False, True))``)."""
    if shape is None and broadcastable is None:
        if ndim is None:
            raise TypeError("tensor() needs broadcastable, shape or ndim")
        shape = (None,) * ndim
    return TensorType(dtype or config.floatX, broadcastable, shape)(name)


def _maker(ndim, pattern=None):
    def make(name=None, dtype=None, shape=None):
        if shape is None:
            shape = pattern or (None,) * ndim
        return TensorType(dtype or config.floatX, shape=shape)(name)
    return make


scalar = _maker(0)
vector = _maker(1)
row = _maker(2, (1, None))
col = _maker(2, (None, 1))
matrix = _maker(2)
tensor3 = _maker(3)
tensor4 = _maker(4)
tensor5 = _maker(5)
tensor6 = _maker(6)
tensor7 = _maker(7)


def _plural(maker):
    # Theano accepts scalars('xy'), scalars('x', 'y'), scalars(['x', 'y']) and scalars(3)
    def make(names, *more, dtype=None):
        if more:
            names = [names, *more]
        if isinstance(names, int):
            return [maker(dtype=dtype) for _ in range(names)]
        if isinstance(names, str):
            # 'x, y' and 'x y' name two variables; as in Theano, a single
            # word names one variable per letter (matrices('pt') -> p, t).
            names = names.replace(",", " ").split() if (" " in names or "," in names) \
                else list(names)
        return [maker(n, dtype=dtype) for n in names]
    return make


scalars = _plural(scalar)
vectors = _plural(vector)
matrices = _plural(matrix)
tensor3s = _plural(tensor3)
tensor4s = _plural(tensor4)
rows = _plural(row)
cols = _plural(col)
tensor5s = _plural(tensor5)
tensor6s = _plural(tensor6)
tensor7s = _plural(tensor7)

_PREFIX = {"b": "int8", "w": "int16", "i": "int32", "l": "int64",
           "f": "float32", "d": "float64", "c": "complex64", "z": "complex128"}


def _typed(prefix, base):
    # As in Theano, ``T.dmatrix`` is a TensorType, not a function: calling it
    # makes a variable of that very type (``T.dscalar('x').type is
    # T.dscalar``), and it compares equal to ``TensorType('float64', (False,
    # False))``.  ``shape=`` (symnet's static sizes) goes to TensorType.__call__.
    return base(dtype=_PREFIX[prefix]).type


def _typed_plural(prefix, base):
    dtype = _PREFIX[prefix]

    def make(names, *more):
        return base(names, *more, dtype=dtype)
    return make


_ns = globals()
for _p in _PREFIX:
    for _base in (scalar, vector, row, col, matrix, tensor3, tensor4, tensor5, tensor6,
                  tensor7):
        _base.__name__ = {scalar: "scalar", vector: "vector", row: "row", col: "col",
                          matrix: "matrix", tensor3: "tensor3", tensor4: "tensor4",
                          tensor5: "tensor5", tensor6: "tensor6", tensor7: "tensor7"}[_base]
        _ns[_p + _base.__name__] = _typed(_p, _base)
        __all__.append(_p + _base.__name__)
    for _base, _nm in ((scalars, "scalars"), (vectors, "vectors"), (matrices, "matrices"),
                       (tensor3s, "tensor3s"), (tensor4s, "tensor4s"), (rows, "rows"),
                       (cols, "cols"), (tensor5s, "tensor5s"), (tensor6s, "tensor6s"),
                       (tensor7s, "tensor7s")):
        _ns[_p + _nm] = _typed_plural(_p, _base)
        __all__.append(_p + _nm)
del _ns, _p, _base, _nm


# (atol, rtol) by the narrowest float dtype of two arrays compared
_TOLERANCES = {"float16": (1e-3, 1e-3), "float32": (1e-5, 1e-5), "complex64": (1e-5, 1e-5)}


def _allclose(a, b, rtol=None, atol=None):
    """``np.allclose`` with tolerances for the narrowest float dtype of ``a``
    and ``b`` (float16: 1e-3; float32: 1e-5; otherwise numpy's 1e-8 absolute,
    1e-5 relative) unless given: Theano's ``tensor.basic._allclose``, which
    its test helper ``utt.assert_allclose`` and ports of Theano tests call."""
    a, b = np.asarray(a), np.asarray(b)
    dtypes = {str(a.dtype), str(b.dtype)}
    narrow = next((_TOLERANCES[d] for d in ("float16", "float32", "complex64")
                   if d in dtypes), (1e-8, 1e-5))
    return bool(np.allclose(a, b, atol=narrow[0] if atol is None else atol,
                            rtol=narrow[1] if rtol is None else rtol))
