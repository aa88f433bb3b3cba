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
from .ops.unique import Unique, unique  # noqa: F401

__all__ = ["cumsum", "cumprod", "CumOp", "bincount", "BinCount", "repeat", "squeeze",
           "to_one_hot", "diff", "fill_diagonal", "compress", "searchsorted", "bartlett",
           "fill_diagonal_offset", "unravel_index", "ravel_multi_index", "cpu_contiguous",
           "Unique", "unique"]


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


def searchsorted(x, v, side="left", sorter=None):
    """``np.searchsorted``: where the values ``v`` go in the sorted vector
    ``x`` (``side='right'``: after equal entries); ``sorter`` sorts ``x``.
    Built as a count of the entries before each value (memory
    ``len(x) * v.size``)."""
    from .. import tensor as T
    x, v = as_tensor_variable(x), as_tensor_variable(v)
    if x.ndim != 1:
        raise TypeError(f"searchsorted: x must be a vector, got {x} ({x.ndim} dims)")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if sorter is not None:
        x = x[as_tensor_variable(sorter)]
    before = T.lt if side == "left" else T.le
    return T.sum(before(x, dimshuffle(v, tuple(range(v.ndim)) + ("x",))), axis=-1,
                 dtype="int64")


def bartlett(M):
    """The Bartlett (triangular) window of ``M`` points (``np.bartlett``)."""
    from .. import tensor as T
    from ..configdefaults import config
    M = as_tensor_variable(M)
    if M.ndim != 0 or not M.dtype.startswith(("int", "uint")):
        raise TypeError(f"bartlett: M must be an integer scalar, got {M}")
    n = cast(arange(M, dtype="int64"), config.floatX)
    half = cast(M - 1, config.floatX) / 2
    w = 1 - abs(n - half) / T.maximum(half, 1e-30)
    return T.switch(T.eq(M, 1), 1, w).astype(config.floatX)


def fill_diagonal_offset(a, val, offset):
    """A copy of the matrix ``a`` with its ``offset``-th diagonal (above the
    main one for ``offset > 0``) set to the scalar ``val``."""
    from .. import tensor as T
    a, val, offset = as_tensor_variable(a), as_tensor_variable(val), as_tensor_variable(offset)
    if a.ndim != 2:
        raise TypeError(f"fill_diagonal_offset: a must be a matrix, got {a} ({a.ndim} dims)")
    rows, cols = shape_i(a, 0), shape_i(a, 1)
    start_r = T.maximum(-offset, 0)
    start_c = T.maximum(offset, 0)
    n = T.maximum(T.minimum(rows - start_r, cols - start_c), 0)
    i = arange(n, dtype="int64")
    return T.set_subtensor(a[i + start_r, i + start_c], val)


def unravel_index(indices, dims, order="C", ndim=None):
    """``np.unravel_index``: a tuple of coordinate arrays, one per dimension
    of the shape ``dims``, for the flat ``indices``; ``ndim`` gives the
    number of dimensions when ``dims`` is a vector of unknown length."""
    from .. import tensor as T
    if order not in ("C", "F"):
        raise ValueError(f"unravel_index: order must be 'C' or 'F', got {order!r}")
    indices = as_tensor_variable(indices)
    dims = as_tensor_variable(dims)
    n = dims.type.shape[0] if ndim is None else int(ndim)
    if n is None:
        raise ValueError(f"unravel_index: the length of dims {dims} is not known when the "
                         f"graph is built; pass ndim=")
    axes = range(n - 1, -1, -1) if order == "C" else range(n)
    out, rest = [None] * n, indices
    for k in axes:
        out[k] = rest % dims[k]
        rest = rest // dims[k]
    return tuple(T.cast(o, "int64") for o in out)


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """``np.ravel_multi_index``: flat indices of the coordinate arrays
    ``multi_index`` into the shape ``dims`` (``mode``: 'raise' is not
    checked, 'wrap' and 'clip' as numpy)."""
    from .. import tensor as T
    if order not in ("C", "F"):
        raise ValueError(f"ravel_multi_index: order must be 'C' or 'F', got {order!r}")
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"ravel_multi_index: mode must be 'raise', 'wrap' or 'clip', "
                         f"got {mode!r}")
    coords = [as_tensor_variable(c) for c in multi_index]
    dims = as_tensor_variable(dims)
    if mode == "wrap":
        coords = [c % dims[k] for k, c in enumerate(coords)]
    elif mode == "clip":
        coords = [T.clip(c, 0, dims[k] - 1) for k, c in enumerate(coords)]
    axes = range(len(coords)) if order == "C" else range(len(coords) - 1, -1, -1)
    flat = None
    for k in axes:
        flat = coords[k] if flat is None else flat * dims[k] + coords[k]
    return T.cast(flat, "int64")


def cpu_contiguous(x):
    """``x`` itself: symnet's arrays are C-contiguous when a kernel needs it."""
    return as_tensor_variable(x)
