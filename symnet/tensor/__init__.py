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


def _make(name, public=None):
    op = _S[name]

    def fn(*args):
        return elemwise(op, *args)
    fn.__name__ = public or name
    fn.__qualname__ = fn.__name__
    fn.__doc__ = f"Elementwise ``{name}`` (with broadcasting)."
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
inv = reciprocal
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
    x = as_tensor_variable(x)
    if x.ndim == 1:
        return eye(shape_i(x, 0), dtype=x.dtype) * dimshuffle(x, ("x", 0))
    return sum(x * eye(shape_i(x, 0), shape_i(x, 1), dtype=x.dtype), axis=1)


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
    return le(abs_(a - b), atol + rtol * abs_(b))


def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return all(isclose(a, b, rtol, atol, equal_nan))


def argsort_(x, axis=-1):
    return argsort(x, axis)


def real(x):
    return x


newaxis = None


def __getattr__(name):
    # shared_randomstreams needs symnet.compile, which imports this package:
    # load it on first use instead of at import time.
    # ``signal`` too, so that ``T.signal.pool.pool_2d`` works after a plain
    # ``import symnet.tensor as T`` (API.md spells it that way).
    if name in ("shared_randomstreams", "signal"):
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'symnet.tensor' has no attribute {name!r}")
