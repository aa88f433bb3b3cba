"""ConcatLayer, ElemwiseMergeLayer, ElemwiseSumLayer, autocrop."""
import numpy as np
import pytest

import symnet.tensor as T
from symnet.layers import (InputLayer, ConcatLayer, concat, ElemwiseMergeLayer,
                           ElemwiseSumLayer, autocrop, autocrop_array_shapes)

from ._util import run

rng = np.random.RandomState(0)


def test_concat():
    a, b = InputLayer((None, 2, 3)), InputLayer((None, 4, 3))
    l = ConcatLayer([a, b])
    assert l.output_shape == (None, 6, 3) and concat is ConcatLayer
    xa, xb = rng.randn(2, 2, 3).astype("float32"), rng.randn(2, 4, 3).astype("float32")
    np.testing.assert_array_equal(run(l, xa, xb), np.concatenate([xa, xb], 1))
    l2 = ConcatLayer([InputLayer((2, 3)), InputLayer((None, 3))], axis=0)
    assert l2.output_shape == (None, 3)
    l3 = ConcatLayer([InputLayer((2, 3)), InputLayer((2, 4))], axis=-1)
    assert l3.output_shape == (2, 7)
    with pytest.raises(ValueError, match="Mismatch"):
        ConcatLayer([InputLayer((2, 3)), InputLayer((3, 4))], axis=1)


def test_concat_cropping():
    a, b = InputLayer((1, 2, 5)), InputLayer((1, 3, 3))
    l = ConcatLayer([a, b], axis=1, cropping=[None, None, "center"])
    assert l.output_shape == (1, 5, 3)
    xa, xb = rng.randn(1, 2, 5).astype("float32"), rng.randn(1, 3, 3).astype("float32")
    np.testing.assert_array_equal(run(l, xa, xb), np.concatenate([xa[:, :, 1:4], xb], 1))


def test_autocrop_modes():
    x = T.as_tensor_variable(np.arange(5, dtype="float32"))
    y = T.as_tensor_variable(np.arange(3, dtype="float32"))
    for mode, sl in [("lower", slice(0, 3)), ("upper", slice(2, 5)), ("center", slice(1, 4))]:
        cx, cy = autocrop([x, y], [mode])
        np.testing.assert_array_equal(cx.eval(mode="py"), np.arange(5)[sl])
        np.testing.assert_array_equal(cy.eval(mode="py"), np.arange(3))
    assert autocrop([x, y], None) == [x, y]
    assert autocrop_array_shapes([(5, 2), (3, None)], ["lower", "upper"]) == [(3, None)] * 2
    with pytest.raises(ValueError, match="crop mode"):
        autocrop_array_shapes([(5,), (3,)], ["middle"])
    with pytest.raises(ValueError, match="dimensionality"):
        autocrop_array_shapes([(5,), (3, 2)], ["lower"])


def test_elemwise_merge_and_sum():
    a, b = InputLayer((None, 3)), InputLayer((2, 3))
    xa, xb = rng.randn(2, 3).astype("float32"), rng.randn(2, 3).astype("float32")
    m = ElemwiseMergeLayer([a, b], T.maximum)
    assert m.output_shape == (2, 3)
    np.testing.assert_array_equal(run(m, xa, xb), np.maximum(xa, xb))
    s = ElemwiseSumLayer([a, b], coeffs=[2, -0.5])
    np.testing.assert_allclose(run(s, xa, xb), 2 * xa - 0.5 * xb, rtol=1e-6)
    s1 = ElemwiseSumLayer([a, b])
    np.testing.assert_allclose(run(s1, xa, xb), xa + xb, rtol=1e-6)
    with pytest.raises(ValueError, match="got 1 coeffs for 2 incomings"):
        ElemwiseSumLayer([a, b], coeffs=[1])
    with pytest.raises(ValueError, match="not all input shapes are the same"):
        ElemwiseMergeLayer([a, InputLayer((2, 4))], T.add)
