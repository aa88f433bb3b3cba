"""TensorVariable: Python operators and methods on symbolic arrays.

Operators build graph nodes (``x + 1`` is an ``add`` node).  ``==`` and
``!=`` keep Python's identity meaning, as in Theano, so variables can live in
sets and dicts; use ``T.eq``/``T.neq`` for elementwise comparison.
"""
import numpy as np

from ..configdefaults import config
from ..graph.basic import Constant, Variable

__all__ = ["TensorVariable", "TensorConstant"]


def _T():
    from .. import tensor
    return tensor


class _Operators:
    """The operator and method surface shared by every tensor variable."""

    # -- attributes ----------------------------------------------------
    @property
    def ndim(self):
        return self.type.ndim

    @property
    def dtype(self):
        return self.type.dtype

    @property
    def broadcastable(self):
        return self.type.broadcastable

    @property
    def shape(self):
        return _T().shape(self)

    @property
    def size(self):
        return _T().prod(self.shape)

    @property
    def T(self):
        return self.transpose()

    # -- arithmetic ----------------------------------------------------
    def __add__(self, other): return _T().add(self, other)
    def __radd__(self, other): return _T().add(other, self)
    def __sub__(self, other): return _T().sub(self, other)
    def __rsub__(self, other): return _T().sub(other, self)
    def __mul__(self, other): return _T().mul(self, other)
    def __rmul__(self, other): return _T().mul(other, self)
    def __truediv__(self, other): return _T().true_div(self, other)
    def __rtruediv__(self, other): return _T().true_div(other, self)
    def __floordiv__(self, other): return _T().int_div(self, other)
    def __rfloordiv__(self, other): return _T().int_div(other, self)
    def __mod__(self, other): return _T().mod(self, other)
    def __rmod__(self, other): return _T().mod(other, self)
    def __divmod__(self, other): return self // other, self % other
    def __rdivmod__(self, other): return other // self, other % self
    def __pow__(self, other): return _T().pow(self, other)
    def __rpow__(self, other): return _T().pow(other, self)
    def __matmul__(self, other): return _T().dot(self, other)
    def __rmatmul__(self, other): return _T().dot(other, self)
    def __neg__(self): return _T().neg(self)
    def __pos__(self): return self
    def __abs__(self): return _T().abs_(self)
    def __invert__(self): return _T().invert(self)
    def __and__(self, other): return _T().and_(self, other)
    def __rand__(self, other): return _T().and_(other, self)
    def __or__(self, other): return _T().or_(self, other)
    def __ror__(self, other): return _T().or_(other, self)
    def __xor__(self, other): return _T().xor(self, other)
    def __rxor__(self, other): return _T().xor(other, self)
    def __lt__(self, other): return _T().lt(self, other)
    def __le__(self, other): return _T().le(self, other)
    def __gt__(self, other): return _T().gt(self, other)
    def __ge__(self, other): return _T().ge(self, other)

    __hash__ = Variable.__hash__

    def __getitem__(self, idx):
        if isinstance(idx, list) and any(i is None or i is Ellipsis or isinstance(i, slice)
                                         for i in idx):
            # Theano (and numpy before 1.23) read a list holding slices as a
            # tuple of indices; Lasagne builds such lists.
            idx = tuple(idx)
        return _T().subtensor(self, idx)

    def __iter__(self):
        # vectors only, as Theano (get_vector_length): programs tell one
        # tensor from a sequence of them by whether tuple(x) raises
        # (AgentNet's check_sequence), whatever static sizes x has
        if self.ndim != 1:
            raise TypeError(f"cannot iterate over {self}: only a vector of known length "
                            f"iterates, and it has {self.ndim} dimensions (index it "
                            f"explicitly, or use symnet.scan)")
        shape0 = self.type.shape[0]
        if shape0 is None:
            raise TypeError(
                f"cannot iterate over {self}: its length is not known when the "
                f"graph is built (use symnet.scan or index explicitly)")
        return (self[i] for i in range(shape0))

    def __len__(self):
        raise TypeError(f"len() of symbolic variable {self}: use {self}.shape[0]")

    def __bool__(self):
        if getattr(self.tag, "comparison", False):
            raise TypeError(
                f"the truth value of the symbolic comparison {self} is unknown "
                f"until the graph runs (chained comparisons like a < b < c are "
                f"not supported; use T.and_)")
        return True

    # -- methods -------------------------------------------------------
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _T().sum(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def mean(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _T().mean(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def prod(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _T().prod(self, axis=axis, dtype=dtype, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _T().max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _T().min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _T().argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _T().argmin(self, axis=axis, keepdims=keepdims)

    def any(self, axis=None, keepdims=False):
        return _T().any(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _T().all(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _T().var(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def std(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _T().std(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def norm(self, L, axis=None, keepdims=False):
        T = _T()
        if L == 1:
            return T.sum(abs(self), axis=axis, keepdims=keepdims)
        if L == 2:
            return T.sqrt(T.sum(T.sqr(self), axis=axis, keepdims=keepdims))
        return T.pow(T.sum(T.pow(abs(self), L), axis=axis, keepdims=keepdims), 1.0 / L)

    def dot(self, other):
        return _T().dot(self, other)

    def reshape(self, shape, *more, ndim=None):
        if more:
            shape = (shape,) + more
        return _T().reshape(self, shape, ndim=ndim)

    def flatten(self, ndim=1, outdim=None):
        return _T().flatten(self, outdim if outdim is not None else ndim)

    def ravel(self):
        return _T().flatten(self, 1)

    def dimshuffle(self, *pattern):
        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = tuple(pattern[0])
        return _T().dimshuffle(self, pattern)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = tuple(axes[0])
        return _T().transpose(self, axes or None)

    def astype(self, dtype):
        return _T().cast(self, dtype)

    def clip(self, a_min, a_max):
        return _T().clip(self, a_min, a_max)

    def round(self, mode=None):
        return _T().round(self, mode)

    def squeeze(self):
        return _T().squeeze(self)

    def repeat(self, repeats, axis=None):
        return _T().repeat(self, repeats, axis)

    def copy(self, name=None):
        out = _T().tensor_copy(self)
        out.name = name
        return out

    def zeros_like(self, dtype=None):
        return _T().zeros_like(self, dtype=dtype)

    def ones_like(self, dtype=None):
        return _T().ones_like(self, dtype=dtype)

    def nonzero(self):
        return _T().nonzero(self)

    def sort(self, axis=-1):
        return _T().sort(self, axis)

    def argsort(self, axis=-1):
        return _T().argsort(self, axis)

    def cumsum(self, axis=None):
        return _T().cumsum(self, axis)

    # -- more of Theano's variable methods, as thin calls to symnet.tensor ----
    def cumprod(self, axis=None):
        return _T().cumprod(self, axis)

    def swapaxes(self, axis1, axis2):
        order = list(range(self.ndim))
        order[axis1], order[axis2] = order[axis2], order[axis1]
        return _T().dimshuffle(self, tuple(order))

    def take(self, indices, axis=None, mode="raise"):
        return _T().take(self, indices, axis, mode)

    def fill(self, value):
        return _T().fill(self, value)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return _T().diagonal(self, offset, axis1, axis2)

    def choose(self, choices, out=None, mode="raise"):
        return _T().choose(self, choices, out, mode)

    def trace(self):
        return _T().trace(self)

    def ptp(self, axis=None):
        return self.max(axis=axis) - self.min(axis=axis)

    # real dtypes only: a complex variable raises TypeError (not its own value)
    def conj(self):
        return _T().conj(self)

    @property
    def real(self):
        return _T().real(self)

    @property
    def imag(self):
        return _T().imag(self)

    def __array__(self, dtype=None, copy=None):
        if self.ndim == 0 and dtype in (None, object) and copy is not False:
            # A symbolic scalar becomes an object element, as Theano's did,
            # so numpy arithmetic over a list of symbolic sizes builds the
            # symbolic result: Lasagne's ReshapeLayer calls np.prod on them.
            box = np.empty((), dtype=object)
            box[()] = self
            return box
        raise TypeError(
            f"symbolic variable {self} cannot be converted to a numpy array; "
            f"compile a function or call .eval()")

    __array_priority__ = 1000

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.exp(x)``, ``np.sqrt(x)``... on a variable build the symbolic
        op (PyMC3-style code relies on it, as Theano allowed); an operator
        with an ndarray on its left (``ndarray + x``) gives what Python's
        reflected operator gives (``x.__radd__``), and ``ndarray == x`` stays
        Python's identity comparison. Other ufuncs and methods: TypeError."""
        if method != "__call__" or any(v is not None for v in kwargs.values()):
            return NotImplemented
        name = ufunc.__name__
        if len(inputs) == 2 and name in _UFUNC_OPERATORS:
            fwd, refl = _UFUNC_OPERATORS[name]
            if fwd is None:      # == and != compare identities (see API.md)
                same = inputs[0] is inputs[1]
                return same if name == "equal" else not same
            if inputs[0] is self:
                return getattr(self, fwd)(inputs[1])
            return getattr(self, refl)(inputs[0])
        fn = getattr(_T(), _UFUNC_NAMES.get(name, name), None)
        if fn is None or len(inputs) != ufunc.nin:
            return NotImplemented
        return fn(*inputs)


# numpy ufunc -> (operator method, reflected method) of a variable
_UFUNC_OPERATORS = {
    "add": ("__add__", "__radd__"), "subtract": ("__sub__", "__rsub__"),
    "multiply": ("__mul__", "__rmul__"), "true_divide": ("__truediv__", "__rtruediv__"),
    "floor_divide": ("__floordiv__", "__rfloordiv__"), "remainder": ("__mod__", "__rmod__"),
    "power": ("__pow__", "__rpow__"), "matmul": ("__matmul__", "__rmatmul__"),
    "bitwise_and": ("__and__", "__rand__"), "bitwise_or": ("__or__", "__ror__"),
    "bitwise_xor": ("__xor__", "__rxor__"), "less": ("__lt__", "__gt__"),
    "less_equal": ("__le__", "__ge__"), "greater": ("__gt__", "__lt__"),
    "greater_equal": ("__ge__", "__le__"), "equal": (None, None), "not_equal": (None, None),
}
# numpy ufunc names whose symnet.tensor function has another name
_UFUNC_NAMES = {"absolute": "abs_", "negative": "neg", "sign": "sgn", "square": "sqr",
                "rint": "round_half_to_even", "conjugate": "conj", "fabs": "abs_"}


class TensorVariable(_Operators, Variable):
    """A symbolic n-dimensional array."""

    def __repr__(self):
        # Theano's config.print_test_value: the name, then the test value
        if config.print_test_value and "test_value" in self.tag:
            value = self.type.filter(self.tag["test_value"], allow_downcast=True)
            return f"{Variable.__repr__(self)}\n{value!r}"
        return Variable.__repr__(self)


class TensorConstant(_Operators, Constant):
    """A tensor whose value is fixed in the graph (``data`` holds it)."""

    def __init__(self, type, data, name=None):
        Constant.__init__(self, type, data, name)
        self.data.setflags(write=False)

    @property
    def value(self):
        return self.data

    def __str__(self):
        if self.name is not None:
            return self.name
        d = self.data
        if d.ndim == 0:
            return str(d.item())
        text = np.array2string(d, threshold=6)
        return text if len(text) < 30 else f"Constant{{{d.shape}}}"
