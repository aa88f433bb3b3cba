"""``theano.tensor.extra_ops``: cumulative ops, bincount, one-hot, diff and
other numpy-like helpers.

Only names that work are listed; the ops live in ``ops/advanced.py`` and
``ops/shape.py``, and the rest are compositions (so their gradients come
from the ops they are made of).
"""
from .basic import as_tensor_variable
from .ops.advanced import bincount, cumprod, cumsum, nonzero, take  # noqa: F401
from .ops.advanced import BinCount, CumOp  # noqa: F401
from .ops.elemwise import SCALAR_OPS, cast, dimshuffle, elemwise
from .ops.shape import arange, flatten, repeat, shape_i, squeeze  # noqa: F401

__all__ = ["cumsum", "cumprod", "CumOp", "bincount", "BinCount", "repeat", "squeeze",
           "to_one_hot", "diff", "fill_diagonal", "compress"]


def to_one_hot(y, nb_class, dtype=None):
    """One-hot rows for the integer label vector ``y``: a (len(y), nb_class)
    matrix of ``dtype`` (``config.floatX`` by default).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> y = T.lvector('y')
    >>> T.extra_ops.to_one_hot(y, 3, dtype='int8').eval({y: np.array([2, 0])})
    array([[0, 0, 1],
           [1, 0, 0]], dtype=int8)
    """
    from ..configdefaults import config
    y = as_tensor_variable(y)
    if y.ndim != 1 or not y.dtype.startswith(("int", "uint")):
        raise TypeError(f"to_one_hot needs an integer vector of labels, got {y} "
                        f"({y.ndim} dims, {y.dtype})")
    cols = arange(nb_class, dtype="int64")
    hit = elemwise(SCALAR_OPS["eq"], dimshuffle(y, (0, "x")), dimshuffle(cols, ("x", 0)))
    return cast(hit, dtype or config.floatX)


def diff(x, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis`` (``np.diff``).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> v = T.vector('v')
    >>> T.extra_ops.diff(v).eval({v: np.array([1., 4., 9.], 'float32')})
    array([3., 5.], dtype=float32)
    """
    x = as_tensor_variable(x)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"diff: axis {axis} is out of range for {x} with {x.ndim} dims")
    axis %= x.ndim
    head = (slice(None),) * axis
    for _ in range(int(n)):
        x = x[head + (slice(1, None),)] - x[head + (slice(None, -1),)]
    return x


def fill_diagonal(a, val):
    """A copy of ``a`` (ndim >= 2) with its main diagonal set to the scalar
    ``val``; differentiable in both (``val`` gets the diagonal's sum).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> m = T.matrix('m')
    >>> T.extra_ops.fill_diagonal(m, 5.).eval({m: np.zeros((2, 3), 'float32')})
    array([[5., 0., 0.],
           [0., 5., 0.]], dtype=float32)
    """
    from .. import tensor as T
    a = as_tensor_variable(a)
    val = as_tensor_variable(val)
    if a.ndim < 2:
        raise TypeError(f"fill_diagonal needs at least 2 dimensions, got {a} ({a.ndim})")
    if val.ndim != 0:
        raise TypeError(f"fill_diagonal: val must be a scalar, got {val} ({val.ndim} dims)")
    n = shape_i(a, 0)
    for i in range(1, a.ndim):
        n = T.minimum(n, shape_i(a, i))
    diag = arange(n, dtype="int64")
    return T.set_subtensor(a[(diag,) * a.ndim], val)


def compress(condition, x, axis=None):
    """The slices of ``x`` along ``axis`` where ``condition`` is true
    (``np.compress``; ``axis=None`` works on the flattened ``x``)."""
    cond = flatten(as_tensor_variable(condition), 1)
    return take(x, nonzero(cond)[0], axis=axis)
