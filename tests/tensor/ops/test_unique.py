"""T.extra_ops.unique / Unique: np.unique's values, first indices, inverse
and counts (with and without axis) on every backend, int64 vectors, shapes,
and no gradient."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.extra_ops import Unique, unique
from tests.oracles import check_op


def _numpy(x, axis):
    u, i, inv, c = np.unique(x, True, True, True, axis=axis)
    return [u, i, inv.reshape(-1), c]


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_all_outputs_match_numpy(axis):
    x = np.array([[3, 1, 3], [0, 1, 2], [3, 1, 3]], dtype="float32")
    got = check_op(lambda x: unique(x, True, True, True, axis=axis), [x],
                   ref=lambda x: _numpy(x, axis))
    assert all(g.dtype == np.int64 for g in got[1:])
    u, _, inv, _ = got
    back = u[inv] if axis is None else np.take(u, inv, axis=axis)
    np.testing.assert_array_equal(back.reshape(-1) if axis is None else back,
                                  x.reshape(-1) if axis is None else x)


def test_single_output_and_subsets():
    v = T.lvector("v")
    u = unique(v)
    assert u.ndim == 1 and u.dtype == "int64"
    val = np.array([5, 1, 5, 2])
    np.testing.assert_array_equal(u.eval({v: val}), [1, 2, 5])
    u2, counts = unique(v, return_counts=True)
    np.testing.assert_array_equal(counts.eval({v: val}), [1, 1, 2])
    u3, inv = Unique(False, True)(v)
    np.testing.assert_array_equal(inv.eval({v: val}), [2, 0, 2, 1])


def test_types_and_errors():
    m = T.TensorType("float64", shape=(1, 4))()
    assert unique(m, axis=1).type.shape == (1, None)
    assert unique(m).type.shape == (None,)
    with pytest.raises(ValueError, match="axis 2 is out of range for an input of 2 dims"):
        unique(m, axis=2)
    with pytest.raises(symnet.gradient.NullTypeGradError, match="not differentiable"):
        x = T.dvector()
        symnet.grad(unique(x).sum(), x)


def test_return_list_keyword_of_an_op_call():
    v = T.dvector("v")
    outs = Unique()(v, return_list=True)
    assert isinstance(outs, list) and len(outs) == 1
    np.testing.assert_array_equal(outs[0].eval({v: np.array([2., 2., 1.])}), [1., 2.])
    assert len(Unique(True, True)(v, return_list=True)) == 3
