"""symnet.tensor.sort (theano.tensor.sort): sort/argsort with Theano's
arguments, and topk/argtopk/topk_and_argtopk against numpy, with gradients."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.sort import argtopk, topk, topk_and_argtopk, SortOp, ArgSortOp
from tests.oracles import check_op, rand


def _np_topk(x, k, axis):
    order = np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    sel = np.flip(order, axis=axis).take(range(k), axis=axis) if k > 0 \
        else order.take(range(-k), axis=axis)
    return np.take_along_axis(x, sel, axis=axis), sel


@pytest.mark.parametrize("k", [1, 3, -1, -4])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_topk_values_indices_and_gradient(k, axis):
    x = rand((4, 5), rng=np.random.default_rng(abs(k) + axis))   # distinct values
    vals, idx = check_op(lambda v: list(topk_and_argtopk(v, k, axis=axis)), [x],
                         ref=lambda a: list(_np_topk(a, k, axis)), grad=True)
    assert idx.dtype == np.int64


def test_topk_of_the_flattened_array_and_idx_dtype():
    x = np.array([[3.0, 9.0], [1.0, 7.0]])
    v = T.dmatrix("v")
    f = symnet.function([v], [topk(v, 2, axis=None),
                              argtopk(v, -1, axis=None, idx_dtype="int32")], mode="py")
    vals, idx = f(x)
    assert vals.tolist() == [9.0, 7.0] and idx.tolist() == [2] and idx.dtype == np.int32


def test_topk_with_a_symbolic_k_needs_sorted_false():
    v, k = T.dvector("v"), T.lscalar("k")
    with pytest.raises(NotImplementedError, match="sorted=False"):
        topk(v, k)
    f = symnet.function([v, k], argtopk(v, k, sorted=False), mode="py")
    x = np.array([5.0, 1.0, 4.0, 2.0])
    assert sorted(f(x, 2).tolist()) == [0, 2]
    assert sorted(f(x, -2).tolist()) == [1, 3]


def test_topk_errors():
    v = T.dvector("v")
    with pytest.raises(ValueError, match="kth must not be 0"):
        topk(v, 0)
    with pytest.raises(ValueError, match="axis 1 is out of range"):
        topk(v, 1, axis=1)
    with pytest.raises(TypeError, match="idx_dtype"):
        argtopk(v, 1, idx_dtype="float32")


def test_sort_takes_theano_arguments():
    x = rand((3, 4), rng=np.random.default_rng(0))
    check_op(lambda v: T.sort(v, axis=0, kind="mergesort"), [x],
             ref=lambda a: np.sort(a, axis=0))
    check_op(lambda v: T.argsort(v, None), [x], ref=lambda a: np.argsort(a, axis=None))
    with pytest.raises(ValueError, match="order="):
        T.sort(T.dvector(), order="f")
    with pytest.raises(ValueError, match="kind must be"):
        T.argsort(T.dvector(), kind="bogo")
    assert isinstance(T.sort(T.dvector()).owner.op, SortOp)
    assert isinstance(T.argsort(T.dvector()).owner.op, ArgSortOp)
