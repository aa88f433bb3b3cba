"""pool_2d with symbolic window, stride and padding (Theano accepts them;
Lasagne's SpatialPyramidPoolingLayer sizes its windows from the input):
the same values, gradients and shapes as the fixed-size op."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.signal.pool import pool_2d
from tests.oracles import check_op, rand

MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]


def _fixed(a, ws, stride, pad, ib, mode):
    x = T.dtensor4("x")
    return pool_2d(x, ws=ws, stride=stride, pad=pad, ignore_border=ib,
                   mode=mode).eval({x: a}, mode="py")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ignore_border", [True, False])
def test_windows_from_the_input_shape(mode, ignore_border):
    a = rand((2, 3, 5, 7))
    # Spatial pyramid pooling in 2x2 regions: window ceil(n / 2), stride n // 2.
    def fn(x):
        n, m = x.shape[2], x.shape[3]
        return pool_2d(x, ws=((n + 1) // 2, (m + 1) // 2), stride=(n // 2, m // 2),
                       ignore_border=ignore_border, mode=mode)
    ref = _fixed(a, (3, 4), (2, 3), (0, 0), ignore_border, mode)
    check_op(fn, [a], ref=lambda _: ref, grad=True)


@pytest.mark.parametrize("mode", ["max", "average_exc_pad"])
def test_integer_vector_sizes_with_padding(mode):
    x, ws, st, pd = T.dtensor4("x"), T.ivector("ws"), T.ivector("st"), T.ivector("pd")
    out = pool_2d(x, ws=ws, stride=st, pad=pd, ignore_border=True, mode=mode)
    assert out.type.shape == (None, None, None, None)
    a = rand((1, 2, 6, 5))
    f = symnet.function([x, ws, st, pd], [out, out.shape], mode="py")
    got, shape = f(a, np.array([3, 2], "int32"), np.array([2, 2], "int32"),
                   np.array([1, 1], "int32"))
    np.testing.assert_allclose(got, _fixed(a, (3, 2), (2, 2), (1, 1), True, mode))
    assert tuple(shape) == got.shape
    with pytest.raises(ValueError, match="pad .* must be smaller than the window"):
        f(a, np.array([2, 2], "int32"), np.array([1, 1], "int32"),
          np.array([2, 0], "int32"))


def test_bad_symbolic_sizes_are_named():
    x = T.dtensor4("x")
    with pytest.raises(TypeError, match="ws must be 2 integers"):
        pool_2d(x, ws=T.dvector("w"), ignore_border=True)
    with pytest.raises(ValueError, match="stride needs 2 entries"):
        pool_2d(x, ws=T.ivector("w"), stride=(T.iscalar("s"),) * 3, ignore_border=True)
