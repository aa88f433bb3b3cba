"""TensorType: dtype plus static shape (a size, or None where unknown).

The broadcastable pattern is derived from the shape: an axis of static size
1 broadcasts.  ``TensorType('float32', (False, True))`` (Theano's spelling,
a broadcastable pattern) and ``TensorType('float32', shape=(None, 1))`` are
the same type.
"""
import numpy as np

from ..configdefaults import config
from ..graph.basic import Variable
from ..graph.type import Type

__all__ = ["TensorType", "upcast", "ALL_DTYPES", "FLOAT_DTYPES", "INT_DTYPES",
           "DISCRETE_DTYPES", "COMPLEX_DTYPES"]

FLOAT_DTYPES = ("float16", "float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
COMPLEX_DTYPES = ("complex64", "complex128")
DISCRETE_DTYPES = ("bool",) + INT_DTYPES
ALL_DTYPES = DISCRETE_DTYPES + FLOAT_DTYPES + COMPLEX_DTYPES


_DTYPE_NAMES = {d: d for d in ALL_DTYPES}  # fast path: np.dtype(...).name is slow
_UPCAST = {}


def normalize_dtype(dtype):
    if dtype == "floatX" or dtype is None:
        return config.floatX
    if isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        return _DTYPE_NAMES[dtype]
    name = np.dtype(dtype).name
    if name not in ALL_DTYPES:
        raise TypeError(f"unsupported dtype {dtype!r}; expected one of {ALL_DTYPES}")
    return name


def upcast(*dtypes):
    """The NumPy 2 promotion of strong dtypes (``int32, float32 -> float64``)."""
    # memoised: graph building calls this for every node
    key = tuple(d if isinstance(d, str) else np.dtype(d).name for d in dtypes)
    out = _UPCAST.get(key)
    if out is None:
        out = _UPCAST[key] = np.result_type(*[np.dtype(d) for d in key]).name
    return out


_THEANO_KINDS = {(): "scalar", (False,): "vector", (False, False): "matrix",
                 (True, False): "row", (False, True): "col"}


def theano_kind(broadcastable):
    """Theano's word for a broadcastable pattern: ``scalar``, ``vector``,
    ``row``, ``col``, ``matrix``, else the pattern or ``3D``."""
    b = tuple(broadcastable)
    return _THEANO_KINDS.get(b) or (str(b) if any(b) else f"{len(b)}D")


class TensorType(Type):
    """The type of an n-dimensional array variable.

    Parameters
    ----------
    dtype : str
        A numpy dtype name, or 'floatX'.
    broadcastable : tuple of bool, optional
        Theano's pattern: True marks an axis of size 1 that broadcasts.
    shape : tuple of (int or None), optional
        Static sizes; None where unknown.  Overrides ``broadcastable``.
    sparse_grad : bool, optional
        Theano's flag (AgentNet copies it from type to type); kept as an
        attribute, with no effect: gradients are dense here.

    Examples
    --------
    >>> t = TensorType('float32', shape=(None, 1))
    >>> t.broadcastable, t.ndim
    ((False, True), 2)
    >>> t == TensorType('float32', (False, True))
    True

    The second positional argument is the broadcastable pattern, not a
    shape: ``TensorType('float32', (3,))`` warns (3 is read as True, size 1);
    write ``shape=(3,)`` for a static size.
    """

    sparse_grad = False  # types pickled before the flag existed read it too

    def __init__(self, dtype, broadcastable=None, shape=None, name=None, sparse_grad=False):
        self.dtype = normalize_dtype(dtype)
        self.sparse_grad = bool(sparse_grad)
        if shape is None:
            if broadcastable is None:
                raise TypeError("TensorType needs a broadcastable pattern or a shape")
            # None reads the same either way (an axis of unknown size)
            if any(b is not None and not isinstance(b, (bool, np.bool_)) and b not in (0, 1)
                   for b in broadcastable):
                import warnings
                warnings.warn(f"TensorType({self.dtype!r}, {tuple(broadcastable)!r}): the "
                              f"second argument is a broadcastable pattern (True/False "
                              f"per axis), not a shape; sizes other than 0/1 are read as "
                              f"True (size 1).  Pass shape={tuple(broadcastable)!r} for "
                              f"static sizes", UserWarning, stacklevel=2)
            shape = tuple(1 if b else None for b in broadcastable)
        else:
            shape = tuple(None if s is None else int(s) for s in shape)
            if any(s is not None and s < 0 for s in shape):
                raise ValueError(f"TensorType: negative static size in {shape}")
        self.shape = shape
        self.name = name

    @property
    def broadcastable(self):
        return tuple(s == 1 for s in self.shape)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def numpy_dtype(self):
        return np.dtype(self.dtype)

    def clone(self, dtype=None, shape=None, broadcastable=None):
        if shape is None and broadcastable is not None:
            shape = tuple(1 if b else None for b in broadcastable)
        return TensorType(dtype or self.dtype, shape=self.shape if shape is None else shape)

    def __call__(self, name=None, shape=None):
        """A free variable of this type, or of this dtype with static sizes
        ``shape`` (``T.dmatrix('w', shape=(3, 4))``)."""
        if shape is None:
            return self.make_variable(name)
        shape = tuple(shape)
        if len(shape) != self.ndim:
            raise ValueError(f"{self}(shape={shape}): {len(shape)} sizes for a type of "
                             f"{self.ndim} dimensions")
        return self.clone(shape=shape).make_variable(name)

    def __eq__(self, other):
        return (type(other) is type(self) and other.dtype == self.dtype
                and other.shape == self.shape)

    def __hash__(self):
        return hash((TensorType, self.dtype, self.shape))

    def is_compatible(self, other):
        """Same dtype and ndim, and no static size that contradicts."""
        return (isinstance(other, TensorType) and other.dtype == self.dtype
                and other.ndim == self.ndim
                and all(a is None or b is None or a == b
                        for a, b in zip(self.shape, other.shape)))

    # -- Theano's Type.convert_variable / filter_variable (AgentNet casts a
    # scan step's new state to its initial state's type with them) ----------

    def convert_variable(self, var):
        """``var`` as a variable of this type when it holds values of it
        (same dtype and ndim; where this type has a static size, ``var``
        has the same): ``var`` itself, or re-broadcast to this type's
        pattern. None when it does not (Theano's contract)."""
        from .basic import as_tensor_variable
        var = as_tensor_variable(var)
        other = var.type
        if not (isinstance(other, TensorType) and other.dtype == self.dtype
                and other.ndim == self.ndim
                and all(s is None or s == o for s, o in zip(self.shape, other.shape))):
            return None
        if other == self:
            return var
        from .ops.shape import patternbroadcast
        return patternbroadcast(var, self.broadcastable)

    def filter_variable(self, other, allow_convert=True):
        """``other`` (a variable, or a value made a constant) as a variable
        of this type: itself when of this type, else its convert_variable
        when ``allow_convert``; TypeError naming both types otherwise."""
        from .basic import as_tensor_variable
        var = as_tensor_variable(other)
        if var.type == self:
            return var
        converted = self.convert_variable(var) if allow_convert else None
        if converted is None:
            raise TypeError(f"Cannot convert Type {var.type} (of Variable {var}) into Type "
                            f"{self}. You can try to manually convert {var} into a {self}.")
        return converted

    def __str__(self):
        if self.name:
            return self.name
        if any(s not in (None, 1) for s in self.shape):   # static sizes: show them
            shp = ", ".join("?" if s is None else str(s) for s in self.shape)
            return f"TensorType({self.dtype}, ({shp}{',' if self.ndim == 1 else ''}))"
        # else Theano's spelling, which its users read: scalar, vector, row...
        return f"TensorType({self.dtype}, {theano_kind(self.broadcastable)})"

    __repr__ = __str__

    def filter(self, value, strict=False, allow_downcast=None, name=None):
        """Check and convert a runtime value to this type's array.

        Raises TypeError for a wrong ndim or an unsafe dtype conversion and
        ValueError for a size that contradicts the static shape, naming
        ``name`` (the variable) when given.
        """
        who = f" for {name}" if name else ""
        # exactly ndarray: a subclass (np.matrix keeps 2-d under indexing and
        # reductions) is converted to a plain array below
        if type(value) is np.ndarray and value.dtype == self.numpy_dtype:
            arr = value
        elif strict:
            raise TypeError(f"expected a numpy array of dtype {self.dtype}{who}, "
                            f"got {type(value).__name__}")
        else:
            arr = self._convert(value, allow_downcast, who)
        if arr.ndim != self.ndim:
            raise TypeError(
                f"wrong number of dimensions{who}: expected {self.ndim} "
                f"(type {self}), got {arr.ndim} (shape {arr.shape})")
        for axis, (want, got) in enumerate(zip(self.shape, arr.shape)):
            if want is not None and want != got:
                raise ValueError(
                    f"wrong shape{who}: expected {_fmt_shape(self.shape)}, got "
                    f"{arr.shape} (axis {axis} should have size {want})")
        return arr

    def filter_named(self, value, name, strict=False, allow_downcast=None):
        return self.filter(value, strict=strict, allow_downcast=allow_downcast, name=name)

    def _convert(self, value, allow_downcast, who):
        target = self.numpy_dtype
        if isinstance(value, (bool, int, float, complex)) and not isinstance(value, np.generic):
            arr = np.asarray(value)
            if allow_downcast or _fits(value, target, inexact_float=allow_downcast is None):
                return arr.astype(target)
            raise TypeError(
                f"cannot convert Python {type(value).__name__} {value!r} to "
                f"{self.dtype}{who} without loss; pass allow_input_downcast=True")
        try:
            arr = np.asarray(value)
        except ValueError as exc:        # a ragged list: numpy's words, and whose
            raise ValueError(f"cannot make an array of {self.dtype}{who} from this "
                             f"{type(value).__name__}: {exc}") from None
        if arr.dtype == target:
            return arr
        if arr.dtype.kind in "USV":      # not even allow_input_downcast makes text numbers
            raise TypeError(f"expected an array of {self.dtype}{who}, got {arr.dtype} "
                            f"data {str(value)[:40]!r} ({type(value).__name__})")
        if arr.dtype == object:
            if isinstance(value, Variable):
                raise TypeError(f"expected an array of {self.dtype}{who}, got the symbolic "
                                f"variable {value}; pass its value (compile a function or "
                                f"call .eval())")
            raise TypeError(f"expected an array of {self.dtype}{who}, got {type(value).__name__}")
        if allow_downcast or np.can_cast(arr.dtype, target, "safe"):
            return arr.astype(target)
        if allow_downcast is None and isinstance(value, (list, tuple)):
            # Theano accepts Python sequences whose values survive the cast exactly.
            converted = arr.astype(target)
            if np.array_equal(converted, arr):
                return converted
        if not isinstance(value, (np.ndarray, np.generic)) and arr.dtype.kind in "biuf":
            # Python lists (Theano's rule): accepted when the conversion is exact
            with np.errstate(all="ignore"):
                converted = arr.astype(target)
            if np.array_equal(converted, arr):
                return converted
        raise TypeError(
            f"cannot safely cast {arr.dtype} data to {self.dtype}{who}; "
            f"pass allow_input_downcast=True or cast the data "
            f"(e.g. x.astype('{self.dtype}'))")

    def value_zeros(self, shape):
        return np.zeros(shape, dtype=self.dtype)

    def make_variable(self, name=None):
        from .variable import TensorVariable
        return TensorVariable(self, name=name)

    # constant folding (graph/rewriting) asks the type for its constants
    can_fold = True

    def folded_constant(self, value):
        """A TensorConstant for a folded output of this type, with the sizes
        now known recorded in its type; None if ``value`` does not fit."""
        from .variable import TensorConstant
        arr = np.asarray(value)
        if arr.dtype != self.numpy_dtype or arr.ndim != self.ndim:
            return None
        # record the sizes we now know, but never make an axis broadcastable
        # that the graph did not treat as such
        shape = tuple(s if s is not None else (None if a == 1 else a)
                      for s, a in zip(self.shape, arr.shape))
        return TensorConstant(TensorType(arr.dtype, shape=shape), arr)

    def as_variable(self, value):
        from .basic import as_tensor_variable
        return as_tensor_variable(value)


def _fits(value, dtype, inexact_float=True):
    """Whether the Python scalar ``value`` may become ``dtype``: when the
    conversion is exact, or (``inexact_float``) a float to a float dtype.
    With allow_downcast=False Theano wants it exact (0.1 is no float32)."""
    ref = np.asarray(value)
    try:
        converted = ref.astype(dtype)
    except (OverflowError, ValueError):
        return False
    if dtype.kind in "iub" and isinstance(value, float):
        return False
    # compared at the value's own precision (float32(0.1) == 0.1 is True
    # under NEP 50, which converts the Python float to float32 first)
    return converted.astype(ref.dtype) == ref or (inexact_float and isinstance(value, float)
                                  and dtype.kind == "f")


def _fmt_shape(shape):
    inner = ", ".join("?" if s is None else str(s) for s in shape)
    return f"({inner}{',' if len(shape) == 1 else ''})"
