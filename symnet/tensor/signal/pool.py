"""``theano.tensor.signal.pool``: 2-d and 3-d pooling over the last axes.

The op itself (forward, shape rule, gradient) lives in
``symnet/tensor/ops/pool.py``; this module is the user-facing namespace with
Theano's names.

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> from symnet.tensor.signal.pool import pool_2d
>>> x = T.tensor4('x')
>>> y = pool_2d(x, ws=(2, 2), ignore_border=True, mode='average_inc_pad')
>>> y.eval({x: np.arange(16, dtype='float32').reshape(1, 1, 4, 4)}, mode='py')[0, 0]
array([[ 2.5,  4.5],
       [10.5, 12.5]], dtype=float32)
"""
from ..basic import as_tensor_variable
from ..ops import pool as _ops
from ..ops.pool import PoolGrad, is_symbolic_size, pool_2d, pool_3d, pool_output_length

__all__ = ["Pool", "PoolGrad", "MaxPoolGrad", "AveragePoolGrad", "DownsampleFactorMaxGradGrad",
           "pool_2d", "pool_3d", "pool_output_length", "max_pool_2d_same_size",
           "max_pool_2d"]


class _OpForm(type):
    # isinstance(node.op, Pool) holds for the op a Pool(...) call applied
    def __instancecheck__(cls, obj):
        return isinstance(obj, cls._op) or type.__instancecheck__(cls, obj)


class _TheanoPoolOp(metaclass=_OpForm):
    """Theano's op form: settings when made (``ignore_border``, ``mode``,
    ``ndim``), the window, stride and padding when called. Made with a
    window first (``Pool((2, 2), ...)``), it is symnet's op itself."""

    _op = None
    _mode = "max"

    def __new__(cls, *args, **kwargs):
        if (args and isinstance(args[0], (tuple, list))) or "ws" in kwargs:
            return cls._op(*args, **kwargs)
        return super().__new__(cls)

    #: the largest ndim the op form takes (Pool composes more axes)
    _max_ndim = 3

    def __init__(self, ignore_border=False, mode=None, ndim=2, openmp=None):
        if not 1 <= ndim <= self._max_ndim:
            raise ValueError(f"{type(self).__name__}: ndim must be between 1 and "
                             f"{self._max_ndim}, got {ndim}")
        self.ignore_border, self.ndim = bool(ignore_border), ndim
        self.mode = mode or self._mode

    def _window(self, ws, stride, pad):
        """(ws, stride, pad, symbolic)."""
        stride = ws if stride is None else stride
        pad = (0,) * self.ndim if pad is None else pad
        if any(is_symbolic_size(v) for v in (ws, stride, pad)):
            if self.ndim == 1:
                raise NotImplementedError(f"{type(self).__name__}(ndim=1): the window "
                                          f"must be known when the graph is built")
            return ws, stride, pad, True
        ws, stride, pad = (tuple(int(v) for v in a) for a in (ws, stride, pad))
        if not len(ws) == len(stride) == len(pad) == self.ndim:
            raise ValueError(f"{type(self).__name__}(ndim={self.ndim}): ws {ws}, stride "
                             f"{stride} and pad {pad} need {self.ndim} entries each")
        if self.ndim == 1:
            # 1-d pooling is 2-d pooling of rows of height 1
            return (1,) + ws, (1,) + stride, (0,) + pad, False
        return ws, stride, pad, False

    def _lift(self, *tensors):
        """1-d: the tensors with an axis of size 1 before their last."""
        if self.ndim != 1:
            return tensors
        tensors = [as_tensor_variable(t) for t in tensors]
        return [t.dimshuffle(*range(t.ndim - 1), "x", t.ndim - 1) for t in tensors]

    def _drop(self, y):
        """1-d: ``y`` without the axis ``_lift`` added."""
        return y[(slice(None),) * (y.ndim - 2) + (0,)] if self.ndim == 1 else y

    def _grad(self, x, out, gz, ws, stride, pad):
        ws, stride, pad, symbolic = self._window(ws, stride, pad)
        x, out, gz = self._lift(x, out, gz)
        if symbolic:
            if self.ndim != 2 or self._op is _ops.DownsampleFactorMaxGradGrad:
                raise NotImplementedError(f"{type(self).__name__}: a window known only at "
                                          f"run time is supported by 2-d pool gradients")
            sizes = [_ops._size_vector(v, what) for v, what in
                     ((ws, "ws"), (stride, "stride"), (pad, "pad"))]
            return _ops.DynamicPoolGrad(self.ignore_border, self.mode)(x, out, gz, *sizes)
        return self._drop(self._op(ws, self.ignore_border, stride, pad, self.mode)(x, out, gz))


class Pool(_TheanoPoolOp):
    """``Pool(ignore_border=False, mode='max', ndim=2)(input, ws, stride=None,
    pad=None)``: :func:`pool_2d` (or ``pool_3d``) as Theano's op; ``ndim``
    above 3 pools the last 3 axes, then each earlier one (see
    :func:`_pool_more_axes`)."""

    _op = _ops.Pool
    _max_ndim = 32

    def __call__(self, input, ws, stride=None, pad=None):
        ws, stride, pad, symbolic = self._window(ws, stride, pad)
        if self.ndim > 3:
            if symbolic:
                raise NotImplementedError(f"Pool(ndim={self.ndim}): the window must be known "
                                          f"when the graph is built")
            return _pool_more_axes(as_tensor_variable(input), ws, self.ignore_border, stride,
                                   pad, self.mode)
        fn = pool_3d if self.ndim == 3 else pool_2d
        (x,) = self._lift(input)
        return self._drop(fn(x, ws, self.ignore_border, stride, pad, self.mode))

    @staticmethod
    def out_shape(imgshape, ws=None, ignore_border=False, stride=None, pad=None, ndim=2,
                  ds=None, st=None, padding=None):
        """The shape pooling gives an input of shape ``imgshape`` (a list;
        symbolic where a size or setting is).

        Examples
        --------
        >>> Pool.out_shape((9, 8, 6), (2, 2))
        [9, 4, 3]
        """
        ws = ws if ws is not None else ds
        stride = stride if stride is not None else (st if st is not None else ws)
        pad = pad if pad is not None else (padding if padding is not None else (0,) * ndim)
        if len(imgshape) < ndim:
            raise TypeError(f"Pool.out_shape: imgshape {tuple(imgshape)} has fewer than "
                            f"ndim={ndim} sizes")
        out = list(imgshape[:-ndim])
        for n, w, s, p in zip(imgshape[-ndim:], ws, stride, pad):
            if any(is_symbolic_size(v) for v in (n, w, s, p)):
                out.append(_ops.pool_output_length_expr(n, w, s, p, ignore_border))
            else:
                out.append(pool_output_length(int(n), int(w), int(s), int(p), ignore_border))
        return out


def _pool_more_axes(x, ws, ignore_border, stride, pad, mode):
    """Pooling over the last ``len(ws)`` (> 3) axes as ``pool_3d`` over the
    last three, then, for each earlier pooled axis, a ``pool_2d`` of that
    axis (the later ones flattened beside it, window 1 there).  Every mode
    is separable so: a window's max, sum or element count is that of its
    per-axis parts, and max's gradient still reaches the window's first
    maximum in row-major order (the earliest axis is pooled last)."""
    nd = len(ws)
    if x.ndim < nd:
        raise TypeError(f"Pool(ndim={nd}) needs at least {nd} dims, got {x} with {x.ndim}")
    y = pool_3d(x, ws[-3:], ignore_border, stride[-3:], pad[-3:], mode)
    for axis in range(x.ndim - 4, x.ndim - nd - 1, -1):
        k = axis - (x.ndim - nd)
        lead = [y.shape[i] for i in range(axis)]
        flat = y.reshape(lead + [y.shape[axis], -1], ndim=axis + 2)
        pooled = pool_2d(flat, (ws[k], 1), ignore_border, (stride[k], 1), (pad[k], 0), mode)
        y = pooled.reshape(lead + [pooled.shape[axis]] +
                           [y.shape[i] for i in range(axis + 1, y.ndim)], ndim=y.ndim)
    return y


class MaxPoolGrad(_TheanoPoolOp):
    """``MaxPoolGrad(ignore_border, ndim=2)(x, maxout, gz, ws, stride=None,
    pad=None)``: the gradient of max pooling."""

    _op = _ops.PoolGrad

    def __init__(self, ignore_border, ndim=2, openmp=None, mode="max"):
        super().__init__(ignore_border, mode, ndim, openmp)

    def __call__(self, x, maxout, gz, ws, stride=None, pad=None):
        return self._grad(x, maxout, gz, ws, stride, pad)


class AveragePoolGrad(_TheanoPoolOp):
    """``AveragePoolGrad(ignore_border, mode='average_inc_pad', ndim=2)(x, gz,
    ws, stride=None, pad=None)``: the gradient of sum or average pooling."""

    _op = _ops.PoolGrad
    _mode = "average_inc_pad"

    def __init__(self, ignore_border, mode="average_inc_pad", ndim=2, openmp=None):
        super().__init__(ignore_border, mode, ndim, openmp)

    def __call__(self, x, gz, ws, stride=None, pad=None):
        # the pooled output only matters to max pooling: gz stands in for it
        return self._grad(x, gz, gz, ws, stride, pad)


class DownsampleFactorMaxGradGrad(_TheanoPoolOp):
    """``DownsampleFactorMaxGradGrad(ignore_border, mode='max', ndim=2)(x,
    maxout, ggx, ws, stride=None, pad=None)``: the gradient of
    ``MaxPoolGrad`` with respect to its ``gz``."""

    _op = _ops.DownsampleFactorMaxGradGrad

    def __init__(self, ignore_border, mode="max", ndim=2, openmp=None):
        super().__init__(ignore_border, mode, ndim, openmp)

    def __call__(self, x, maxout, ggx, ws, stride=None, pad=None):
        return self._grad(x, maxout, ggx, ws, stride, pad)


def max_pool_2d(input, ds, ignore_border=None, st=None, padding=(0, 0), mode="max"):
    """Theano 0.7/0.8's name (and argument names) for :func:`pool_2d`:
    ``ds`` is the window, ``st`` the stride, ``padding`` the padding.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.matrix('x')
    >>> max_pool_2d(x, (2, 2), ignore_border=True).eval(
    ...     {x: np.arange(16, dtype='float32').reshape(4, 4)}, mode='py')
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    return pool_2d(input, ws=ds, ignore_border=ignore_border, stride=st, pad=padding,
                   mode=mode)


def max_pool_2d_same_size(input, patch_size):
    """Keep the maximum of each non-overlapping patch, zero everything else.

    The output has the input's shape.  Where a patch holds its maximum more
    than once, every copy is kept (as Theano does).  Rows and columns that do
    not fill a whole patch become zero.

    Parameters
    ----------
    input : tensor with at least 2 dimensions
        Pooled over its last two axes.
    patch_size : pair of int

    Returns
    -------
    tensor of the input's shape and dtype

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.matrix('x')
    >>> max_pool_2d_same_size(x, (2, 2)).eval(
    ...     {x: np.array([[1., 2.], [4., 3.]], 'float32')}, mode='py')
    array([[0., 0.],
           [4., 0.]], dtype=float32)
    """
    args = (tuple(patch_size), True, None, (0, 0), "max")
    pooled = _ops.Pool(*args)(input)
    # the gradient of max pooling routes each window's value back to the
    # position(s) of its maximum: fed the maxima themselves, it is exactly this
    return _ops.PoolGrad(*args)(input, pooled, pooled)
