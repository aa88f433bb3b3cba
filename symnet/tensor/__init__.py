"""The user-facing tensor namespace, mirroring ``theano.tensor``.

Thin constructors over the op families in ``symnet/tensor/ops/``;
compositions (``softplus``, ``mean``, ``var``) are plain functions.
"""
import numpy as np

from .type import TensorType  # noqa: F401
Tensor = TensorType  # Theano's older name (theano.tensor.Tensor)
from .variable import TensorVariable, TensorConstant  # noqa: F401
from ..graph.basic import Variable  # noqa: F401  (theano.tensor.Variable)
from .basic import *  # noqa: F401,F403
from .basic import as_tensor_variable, as_tensor, constant, NotScalarConstantError  # noqa: F401
from .ops.elemwise import (Elemwise, DimShuffle, SCALAR_OPS, elemwise, cast,  # noqa: F401
                           dimshuffle, transpose)
from .ops.reduction import (sum, prod, max, min, any, all, argmax, argmin,  # noqa: F401
                            mean, var, std)
from .ops.shape import (shape, shape_i, reshape, flatten, alloc, join, concatenate,  # noqa: F401
                        stack, arange, zeros, ones, zeros_like, ones_like, fill,
                        shape_padleft, shape_padright, shape_padaxis, patternbroadcast,
                        addbroadcast, unbroadcast, squeeze, tile, repeat, make_vector)
from .ops.indexing import (subtensor, set_subtensor, inc_subtensor,  # noqa: F401
                           take, nonzero, sort, argsort, cumsum, cumprod)
from .ops.choose import Choose, choose  # noqa: F401
from .ops.blas import dot, tensordot, batched_dot, outer, batched_tensordot  # noqa: F401
from .ops.debug import specify_shape  # noqa: F401
from .io import load  # noqa: F401  (theano.tensor.load)
from .ops.elemwise import SCALAR_OPS as _S

from . import nnet  # noqa: F401,E402
from . import extra_ops  # noqa: F401,E402
from . import nlinalg, slinalg  # noqa: F401,E402
from .ops.nnet import softplus  # noqa: F401,E402
from . import rewriting  # noqa: F401,E402  (registers the tensor rewrites)

# ``T.grad``, ``T.jacobian``... (theano.tensor's names) are symnet.gradient's,
# which is built on this package: the root package, always imported first,
# puts them here (symnet/__init__.py), so that tensor/ does not import gradient


class _ElemwiseFunction:
    """``T.add``, ``T.exp``...: calling one applies its scalar op elementwise.
    It prints as Theano's (``Elemwise{add,no_inplace}``), whose ``T.add`` is
    the op itself; code that names things after ``str(T.add)`` (Theano's
    op tests) finds the same names."""

    def __init__(self, op, name, fn=None):
        self.op, self._fn = op, fn       # fn: a composition (T.deg2rad, T.erf...)
        self.__name__ = self.__qualname__ = name
        self.__doc__ = fn.__doc__ if fn is not None else \
            f"Elementwise ``{op.name}`` (with broadcasting)."

    def __call__(self, *args):
        if self._fn is not None:
            return self._fn(*args)
        if self.op.associative and len(args) > 2:
            # T.add(a, b, c) and T.mul(a, b, c, d): Theano's are variadic
            out = elemwise(self.op, args[0], args[1])
            for a in args[2:]:
                out = elemwise(self.op, out, a)
            return out
        return elemwise(self.op, *args)

    def __str__(self):
        return f"Elemwise{{{self.__name__},no_inplace}}"

    def __repr__(self):
        return f"<symnet.tensor.{self.__name__}>"

    def __reduce__(self):
        return self.__name__   # pickles as the module attribute of that name


def _make(name, public=None):
    fn = _ElemwiseFunction(_S[name], public or name)
    fn.__module__ = __name__
    return fn


add = _make("add")
sub = _make("sub")
mul = _make("mul")
true_div = _make("true_div")
int_div = _make("int_div")
mod = _make("mod")
pow = _make("pow")
maximum = _make("maximum")
minimum = _make("minimum")
arctan2 = _make("arctan2")
eq = _make("eq")
neq = _make("neq")
lt = _make("lt")
le = _make("le")
gt = _make("gt")
ge = _make("ge")
and_ = _make("and_")
or_ = _make("or_")
xor = _make("xor")
invert = _make("invert")
isnan = _make("isnan")
isinf = _make("isinf")
neg = _make("neg")
abs_ = _make("abs", "abs_")
abs = abs_
sgn = _make("sgn")
exp = _make("exp")
exp2 = _make("exp2")
expm1 = _make("expm1")
log = _make("log")
log2 = _make("log2")
log10 = _make("log10")
log1p = _make("log1p")
sqrt = _make("sqrt")
sqr = _make("sqr")
square = sqr
reciprocal = _make("reciprocal")
inv = _make("reciprocal", "inv")
tanh = _make("tanh")
sinh = _make("sinh")
cosh = _make("cosh")
sin = _make("sin")
cos = _make("cos")
tan = _make("tan")
arcsin = _make("arcsin")
arccos = _make("arccos")
arctan = _make("arctan")
arcsinh = _make("arcsinh")
arccosh = _make("arccosh")
arctanh = _make("arctanh")
floor = _make("floor")
ceil = _make("ceil")
round_half_to_even = _make("round", "round_half_to_even")


def round_half_away_from_zero(a):
    """Round to nearest, halves away from zero (``0.5 -> 1``, ``-2.5 -> -3``)."""
    # Built from existing ops: sgn(a) * floor(|a| + 0.5); gradient is zero
    # almost everywhere like the other rounding ops.
    return sgn(a) * floor(abs_(a) + 0.5)


def round(a, mode=None):
    """Elementwise rounding; ``mode`` is ``'half_to_even'`` (default, as NumPy
    and Theano 1.0) or ``'half_away_from_zero'``."""
    if mode is None or mode == "half_to_even":
        return round_half_to_even(a)
    if mode == "half_away_from_zero":
        return round_half_away_from_zero(a)
    raise ValueError(f"round: mode must be 'half_to_even' or 'half_away_from_zero', "
                     f"got {mode!r}")
trunc = _make("trunc")
switch = _make("switch")
where = switch
tensor_copy = _make("identity", "tensor_copy")
bitwise_and, bitwise_or, bitwise_xor, bitwise_not = and_, or_, xor, invert
divide = true_div
floor_div = int_div
sigmoid = _make("sigmoid")
abs_.__doc__ = "Elementwise absolute value."


def clip(x, min, max):
    """``x`` limited to [min, max]; gradient passes at the bounds (Theano)."""
    return elemwise(_S["clip"], x, min, max)


def power(x, y):
    return pow(x, y)


def iround(x):
    return cast(round(x), "int64")


def largest(*args):
    out = args[0]
    for a in args[1:]:
        out = maximum(out, a)
    return out


def smallest(*args):
    out = args[0]
    for a in args[1:]:
        out = minimum(out, a)
    return out


def log_add(a, b):
    return maximum(a, b) + log1p(exp(-abs_(a - b)))


def logsumexp(x, axis=None, keepdims=False):
    m = max(x, axis=axis, keepdims=True)
    out = log(sum(exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        from .ops.reduction import normalize_axis
        axes = normalize_axis(as_tensor_variable(x), axis)
        out = dimshuffle(out, tuple(i for i in range(out.ndim) if i not in axes))
    return out


def identity_like(x, dtype=None):
    return eye(shape_i(x, 0), shape_i(x, 1), dtype=dtype or as_tensor_variable(x).dtype)


def eye(n, m=None, k=0, dtype=None):
    from ..configdefaults import config
    m = n if m is None else m
    r = arange(n, dtype="int64")
    c = arange(m, dtype="int64")
    return cast(eq(dimshuffle(r, (0, "x")) + k, dimshuffle(c, ("x", 0))),
                dtype or config.floatX)


def diag(x):
    """``np.diag``: a vector's diagonal matrix, or a matrix's main diagonal.

    Both index the diagonal (no product with an identity matrix, where an
    infinite entry off the diagonal made NaNs).
    """
    x = as_tensor_variable(x)
    if x.ndim == 1:
        i = arange(shape_i(x, 0))
        return set_subtensor(zeros((shape_i(x, 0), shape_i(x, 0)), dtype=x.dtype)[i, i], x)
    return diagonal(x)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """``np.diagonal``: the entries ``a[..., i, i + offset, ...]`` of axes
    ``axis1`` and ``axis2``, along a new last axis.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.dmatrix('x')
    >>> m = np.arange(12.0).reshape(3, 4)
    >>> [T.diagonal(x, k).eval({x: m}).tolist() for k in (0, 1, -1)]
    [[0.0, 5.0, 10.0], [1.0, 6.0, 11.0], [4.0, 9.0]]
    """
    a = as_tensor_variable(a)
    if a.ndim < 2:
        raise ValueError(f"diagonal of {a}: needs at least 2 dimensions, got {a.ndim}")
    a1, a2 = axis1 % a.ndim, axis2 % a.ndim
    if a1 == a2:
        raise ValueError(f"diagonal of {a}: axis1 and axis2 are the same axis ({axis1}, "
                         f"{axis2})")
    offset = int(offset)
    rest = [d for d in range(a.ndim) if d not in (a1, a2)]
    y = dimshuffle(a, (a1, a2, *rest))
    n, m = shape_i(y, 0), shape_i(y, 1)
    below, above = (-offset, 0) if offset < 0 else (0, offset)   # (T.min is the reduction)
    k = arange(maximum(0, minimum(n - below, m - above)))
    d = y[k + below, k + above]
    return dimshuffle(d, (*range(1, a.ndim - 1), 0))


def trace(x):
    return sum(diag(x))


def mul_many(*args):
    out = args[0]
    for a in args[1:]:
        out = mul(out, a)
    return out


def nnet_relu(x, alpha=0):
    return nnet.relu(x, alpha)


def second(a, b):
    return fill(a, b)


def default(x, y):
    return x if x is not None else y


def isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    """``np.isclose``: ``|a - b| <= atol + rtol * |b|`` where both are finite,
    equality where either is infinite, and NaN close to NaN only with
    ``equal_nan``.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.dvector('x')
    >>> b = np.array([1.0, np.inf, 2.0, np.nan])
    >>> T.isclose(x, b, equal_nan=True).eval({x: np.array([1.0, np.inf, np.inf, np.nan])})
    array([ True,  True, False,  True])
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    out = switch(or_(isinf(a), isinf(b)), eq(a, b), le(abs_(a - b), atol + rtol * abs_(b)))
    return or_(out, and_(isnan(a), isnan(b))) if equal_nan else out


def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return all(isclose(a, b, rtol, atol, equal_nan))


def argsort_(x, axis=-1):
    return argsort(x, axis)


def real(x):
    """The real part of a real tensor: ``x`` (symnet has no complex ops)."""
    return _real_only("real", x)


# Theano's name of the operator mixin of tensor variables (user Variable
# subclasses derive from it)
from .variable import _Operators as _tensor_py_operators  # noqa: E402,F401


def _real_only(name, x):
    x = as_tensor_variable(x)
    if x.dtype.startswith("complex"):
        raise TypeError(f"T.{name}: symnet computes on real dtypes only, got {x} of type "
                        f"{x.type}")
    return x


def imag(x):
    """The imaginary part of a real tensor: zeros (symnet has no complex ops)."""
    return zeros_like(_real_only("imag", x))


def angle(x):
    """The argument of a real tensor, as numpy's: pi where x < 0, else 0."""
    x = _real_only("angle", x)
    dt = x.dtype if x.dtype.startswith("float") else "float64"
    return switch(lt(x, 0), constant(np.pi, dtype=dt), constant(0, dtype=dt))


newaxis = None

# theano.tensor's module paths elemwise, sort and subtensor (r16-tt). Loading
# them sets the attributes elemwise/sort/subtensor of this package to the
# modules (a plain `from . import sort` would not load them: the functions
# of those names are found first): the functions are bound again right after.
from .elemwise import Elemwise as _E  # noqa: E402,F401
from .subtensor import advanced_inc_subtensor as _a  # noqa: E402,F401
# Theano's tensor namespace has its subtensor call forms (r18-tt)
from .subtensor import (advanced_inc_subtensor, advanced_set_subtensor,  # noqa: E402,F401
                        advanced_subtensor1, advanced_inc_subtensor1,
                        advanced_set_subtensor1)
from .sort import topk, argtopk, topk_and_argtopk  # noqa: E402,F401
from .ops.elemwise import elemwise  # noqa: E402,F811
from .ops.indexing import subtensor  # noqa: E402,F811

# theano.tensor's dtype lists (r16-tt)
int_dtypes = ["int8", "int16", "int32", "int64"]
uint_dtypes = ["uint8", "uint16", "uint32", "uint64"]
float_dtypes = ["float16", "float32", "float64"]
complex_dtypes = ["complex64", "complex128"]
integer_dtypes = int_dtypes + uint_dtypes
discrete_dtypes = ["bool"] + integer_dtypes
continuous_dtypes = float_dtypes + complex_dtypes
all_dtypes = discrete_dtypes + continuous_dtypes


def ceil_intdiv(a, b):
    """``ceil(a / b)`` for integers, computed exactly in integer arithmetic:
    ``a // b + (a % b != 0)`` (Theano's ``ceil_intdiv``)."""
    q = int_div(a, b)
    return q + cast(neq(mod(a, b), 0), q.dtype)
from .sort import sort, argsort  # noqa: E402,F811  (with Theano's kind=, order=)
from .permute import permute_row_elements  # noqa: E402,F401  (theano.tensor.permute_row_elements)
from .ops.reduction import max_and_argmax  # noqa: E402,F401
from .ops.shape import (Alloc, Join, Reshape, ARange, Shape, Rebroadcast, Tile,  # noqa: E402,F401
                        MakeVector, Shape_i)
from .ops.reduction import Argmax  # noqa: E402,F401
from .ops.blas import Dot  # noqa: E402,F401
from .ops.debug import SpecifyShape  # noqa: E402,F401
from .arrange import *  # noqa: E402,F401,F403
Tensor = TensorType   # Theano's older name
from .special import (erf, erfc, erfcx, gamma, gammaln, psi, tri_gamma,  # noqa: E402,F401
                          deg2rad, rad2deg, UNSUPPORTED as _UNSUPPORTED)
globals().update(_UNSUPPORTED)   # erfinv, j0, ...: raise NotImplementedError when called
for _n in ["erf", "erfc", "erfcx", "gamma", "gammaln", "psi", "tri_gamma", "deg2rad",
           "rad2deg", "round_half_away_from_zero"] + list(_UNSUPPORTED):
    globals()[_n] = _ElemwiseFunction(None, _n, globals()[_n])
    globals()[_n].__module__ = __name__


class EmptyConstantError(NotScalarConstantError):
    """``get_scalar_constant_value`` of an empty constant (Theano's name)."""


def _conj(x):
    """The complex conjugate; symnet's tensors are real, so ``x`` itself."""
    return _real_only("conj", x)


conj = _ElemwiseFunction(None, "conj", _conj)
conj.__module__ = __name__


def is_flat(var, ndim=None, outdim=None):
    """Whether ``var`` has ``ndim`` dimensions (default 1; ``outdim`` is
    Theano's older name for it)."""
    ndim = ndim if ndim is not None else (outdim if outdim is not None else 1)
    return as_tensor_variable(var).ndim == ndim


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    """The covariance matrix of the variables in ``m`` (rows, or columns with
    ``rowvar=False``) and ``y``, as ``np.cov`` (without weights)."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: fweights/aweights are not supported")
    m = as_tensor_variable(m)
    x = m if rowvar else m.T
    if y is not None:
        y = as_tensor_variable(y)
        x = concatenate([x, y if rowvar else y.T], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    n = cast(shape_i(x, 1), x.dtype if x.dtype.startswith("float") else _floatX())
    centered = x - mean(x, axis=1, keepdims=True)
    return dot(centered, centered.T) / (n - ddof)


def _floatX():
    from ..configdefaults import config
    return config.floatX


from . import inplace  # noqa: E402,F401  (after the functions it names)
from .ops.indexing import Subtensor, IncSubtensor  # noqa: E402,F401
from .subtensor import (AdvancedSubtensor, AdvancedIncSubtensor,  # noqa: E402,F401
                        AdvancedSubtensor1, AdvancedIncSubtensor1,
                        AdvancedBooleanSubtensor, AdvancedBooleanIncSubtensor)


def _fill_basic():
    # theano.tensor.basic held most of theano.tensor: code reaching T's names
    # through that path (theano.tensor.basic.dot, .Join, .batched_dot) finds
    # them there.  They are set from here, above basic.py, which imports no op
    # family; builtins' names (sum, max, all...) stay out, as basic.py's own
    # code calls the builtins.
    import builtins
    import types
    from . import basic
    for name, value in list(globals().items()):
        public = not name.startswith("_") or name == "_tensor_py_operators"
        if public and not (hasattr(basic, name) or hasattr(builtins, name)
                           or isinstance(value, types.ModuleType)):
            setattr(basic, name, value)


_fill_basic()


def __getattr__(name):
    # shared_randomstreams needs symnet.compile, which imports this package:
    # load it on first use instead of at import time.
    # ``signal`` too, so that ``T.signal.pool.pool_2d`` works after a plain
    # ``import symnet.tensor as T`` (API.md spells it that way).
    if name == "_shared":  # theano.tensor._shared (Theano's tests use it): symnet.shared
        import symnet
        return symnet.shared
    if name == "TensorSharedVariable":  # theano.tensor.TensorSharedVariable
        import symnet
        return symnet.compile.TensorSharedVariable
    if name in ("shared_randomstreams", "signal"):
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'symnet.tensor' has no attribute {name!r}")
