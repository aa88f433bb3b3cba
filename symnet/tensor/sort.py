"""``theano.tensor.sort``: sorting and the k largest (or smallest) entries.

``sort`` and ``argsort`` are symnet's (``T.sort``, ``T.argsort``); this
module adds Theano's ``kind``/``order`` arguments and ``topk``, ``argtopk``
and ``topk_and_argtopk``, built from ``argsort`` and advanced indexing, so
their gradient (to the selected entries) comes from those ops.

Examples
--------
>>> import numpy as np, symnet, symnet.tensor as T
>>> from symnet.tensor.sort import topk, argtopk
>>> x = T.dvector('x')
>>> f = symnet.function([x], [topk(x, 2), argtopk(x, -1)], mode='py')
>>> [a.tolist() for a in f(np.array([3., 1., 4., 1.5]))]
[[4.0, 3.0], [1]]
"""
from ..graph.basic import Constant
from .basic import as_tensor_variable
from .ops import advanced as _adv
from .ops.advanced import Sort, ArgSort

__all__ = ["sort", "argsort", "topk", "argtopk", "topk_and_argtopk", "SortOp", "ArgSortOp"]

#: Theano's op class names for symnet's sort ops.
SortOp, ArgSortOp = Sort, ArgSort


def _plain_kind(fn, kind, order):
    if order is not None:
        raise ValueError(f"{fn}: order= sorts structured arrays, which symnet does not "
                         f"have; got order={order!r}")
    if kind not in ("quicksort", "mergesort", "heapsort", "stable"):
        raise ValueError(f"{fn}: kind must be 'quicksort', 'mergesort', 'heapsort' or "
                         f"'stable', got {kind!r}")


def sort(a, axis=-1, kind="quicksort", order=None):
    """``a`` sorted along ``axis`` (``None``: flattened); ``kind`` only
    chooses numpy's algorithm, the values are the same."""
    _plain_kind("sort", kind, order)
    return _adv.sort(a, axis)


def argsort(a, axis=-1, kind="quicksort", order=None):
    """The int64 indices that sort ``a`` along ``axis`` (``None``: flattened)."""
    _plain_kind("argsort", kind, order)
    return _adv.argsort(a, axis)


def _topk(x, kth, axis, sorted, idx_dtype):
    from .ops.elemwise import cast
    from .ops.shape import flatten, shape_i
    from . import switch, gt
    x = as_tensor_variable(x)
    if axis is None:
        x, axis = flatten(x, 1), 0
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"topk: axis {axis} is out of range for {x} with {x.ndim} dims")
    axis %= x.ndim
    if not idx_dtype.startswith(("int", "uint")):
        raise TypeError(f"topk: idx_dtype must be an integer dtype, got {idx_dtype!r}")
    k = kth.data if isinstance(kth, Constant) else kth
    perm = ArgSort(axis)(x)
    pre = (slice(None),) * axis
    if isinstance(k, int) or getattr(k, "ndim", None) == 0 and not hasattr(k, "owner"):
        k = int(k)
        if k == 0:
            raise ValueError("topk: kth must not be 0")
        # largest first for k > 0 (so the result is also sorted), smallest first for k < 0
        sel = perm[pre + (slice(None, -k - 1, -1),)] if k > 0 else perm[pre + (slice(None, -k),)]
    else:
        if sorted:
            raise NotImplementedError("topk: sorted=True needs a constant kth; pass "
                                      "sorted=False (as Theano requires)")
        k = as_tensor_variable(k)
        n = shape_i(x, axis)
        start = switch(gt(k, 0), n - k, 0)
        stop = switch(gt(k, 0), n, -k)
        sel = perm[pre + (slice(start, stop),)]
    desc = ((_adv.ARR,),) * x.ndim
    values = _adv.AdvancedSubtensor(desc)(x, *_adv._along_axis(x, sel, axis))
    return values, cast(sel, idx_dtype)


def topk(x, kth, axis=-1, sorted=True, idx_dtype="int64"):
    """The ``kth`` largest entries of ``x`` along ``axis`` (the ``-kth``
    smallest when ``kth < 0``; ``axis=None``: of the flattened array).

    With a constant ``kth`` the result is sorted (largest first, or smallest
    first for ``kth < 0``), which also satisfies Theano's ``sorted=False``;
    a symbolic ``kth`` needs ``sorted=False``, as in Theano.
    """
    return _topk(x, kth, axis, sorted, idx_dtype)[0]


def argtopk(x, kth, axis=-1, sorted=True, idx_dtype="int64"):
    """The indices along ``axis`` of :func:`topk`'s entries (``idx_dtype``)."""
    return _topk(x, kth, axis, sorted, idx_dtype)[1]


def topk_and_argtopk(x, kth, axis=-1, sorted=True, idx_dtype="int64"):
    """``(topk(...), argtopk(...))`` from one argsort."""
    return _topk(x, kth, axis, sorted, idx_dtype)
