"""FlattenLayer, ReshapeLayer, DimshuffleLayer, PadLayer, SliceLayer."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.layers import (InputLayer, FlattenLayer, ReshapeLayer, DimshuffleLayer,
                           PadLayer, SliceLayer, flatten, reshape, dimshuffle, pad,
                           get_output, get_output_shape)

from ._util import run

X = np.random.RandomState(0).randn(2, 3, 4, 5).astype("float32")


def test_flatten():
    l = FlattenLayer(InputLayer((None, 3, 4, 5)))
    assert l.output_shape == (None, 60) and flatten is FlattenLayer
    np.testing.assert_array_equal(run(l, X), X.reshape(2, 60))
    l3 = FlattenLayer(InputLayer((None, 3, None, 5)), outdim=3)
    assert l3.output_shape == (None, 3, None)
    np.testing.assert_array_equal(run(l3, X), X.reshape(2, 3, 20))
    with pytest.raises(ValueError, match="outdim=0"):
        FlattenLayer((2, 3), outdim=0)


def test_reshape_with_references():
    l_in = InputLayer((None, 3, 4, 5))
    l = ReshapeLayer(l_in, ([0], [1], -1))
    assert l.output_shape == (None, 3, 20) and reshape is ReshapeLayer
    np.testing.assert_array_equal(run(l, X), X.reshape(2, 3, 20))
    l2 = ReshapeLayer(l_in, (-1, 5))
    assert l2.output_shape == (None, 5)
    np.testing.assert_array_equal(run(l2, X), X.reshape(-1, 5))
    l3 = ReshapeLayer(InputLayer((2, 3, 4, 5)), (4, [1], -1))
    assert l3.output_shape == (4, 3, 10)
    np.testing.assert_array_equal(run(l3, X), X.reshape(4, 3, 10))
    assert get_output_shape(l, (7, 3, 4, 5)) == (7, 3, 20)


def test_reshape_symbolic_size():
    n = T.lscalar("n")
    l_in = InputLayer((2, 3, 4, 5))
    l = ReshapeLayer(l_in, (n, -1))
    assert l.output_shape == (None, None)
    f = symnet.function([l_in.input_var, n], get_output(l), mode="py")
    np.testing.assert_array_equal(f(X, 6), X.reshape(6, 20))
    with pytest.raises(ValueError, match="scalar"):
        ReshapeLayer(l_in, (T.lvector(), -1))


def test_reshape_errors():
    with pytest.raises(ValueError, match="total size mismatches"):
        ReshapeLayer(InputLayer((2, 3)), (4, 2))
    with pytest.raises(ValueError, match="multiple -1"):
        ReshapeLayer(InputLayer((2, 3)), (-1, -1))
    with pytest.raises(ValueError, match=r"contains \[5\]"):
        ReshapeLayer(InputLayer((2, 3)), ([5], -1))
    with pytest.raises(ValueError, match="tuple of int"):
        ReshapeLayer(InputLayer((2, 3)), (2.5, 2))
    with pytest.raises(ValueError, match="must be a tuple"):
        ReshapeLayer(InputLayer((2, 3)), 6)


def test_dimshuffle():
    l = DimshuffleLayer(InputLayer((None, 3, 4, 5)), (0, 3, "x", 1, 2))
    assert l.output_shape == (None, 5, 1, 3, 4) and dimshuffle is DimshuffleLayer
    np.testing.assert_array_equal(run(l, X), X.transpose(0, 3, 1, 2)[:, :, None])
    ld = DimshuffleLayer(InputLayer((2, 1, 3)), (2, 0))
    assert ld.output_shape == (3, 2)
    x = np.arange(6, dtype="float32").reshape(2, 1, 3)
    np.testing.assert_array_equal(run(ld, x), x[:, 0].T)
    with pytest.raises(ValueError, match="collapse dimension 1 of size 3"):
        DimshuffleLayer(InputLayer((2, 3)), (0,))
    with pytest.raises(ValueError, match="more than once"):
        DimshuffleLayer(InputLayer((2, 3)), (0, 0))
    with pytest.raises(ValueError, match="ints or 'x'"):
        DimshuffleLayer(InputLayer((2, 3)), (0, "y"))


def test_pad():
    l = PadLayer(InputLayer((None, 3, 4, 5)), width=[1, (2, 0)], val=3)
    assert l.output_shape == (None, 3, 6, 7) and pad is PadLayer
    ref = np.pad(X, [(0, 0), (0, 0), (1, 1), (2, 0)], constant_values=3)
    out = run(l, X)
    np.testing.assert_array_equal(out, ref)
    assert out.dtype == np.float32
    l0 = PadLayer(InputLayer((None, 3, 4, 5)), 2, batch_ndim=1)
    assert l0.output_shape == (None, 7, 8, 9)
    np.testing.assert_array_equal(run(l0, X), np.pad(X, [(0, 0)] + [(2, 2)] * 3))


def test_slice():
    l_in = InputLayer((None, 3, 4, 5))
    l = SliceLayer(l_in, indices=slice(1, None, 2), axis=-1)
    assert l.output_shape == (None, 3, 4, 2)
    np.testing.assert_array_equal(run(l, X), X[..., 1::2])
    l2 = SliceLayer(l_in, indices=1, axis=1)
    assert l2.output_shape == (None, 4, 5)
    np.testing.assert_array_equal(run(l2, X), X[:, 1])
    l3 = SliceLayer(l_in, indices=slice(0, 1), axis=0)
    assert l3.output_shape == (None, 3, 4, 5)
    np.testing.assert_array_equal(run(l3, X), X[:1])
