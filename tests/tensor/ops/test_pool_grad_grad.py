"""The second derivative of max pooling (``DownsampleFactorMaxGradGrad``):
values against a numpy loop, and the gradient of ``PoolGrad`` with respect
to its output gradient against finite differences, on every backend."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.ops.pool import DownsampleFactorMaxGradGrad, Pool, PoolGrad, \
    pool_output_length
from tests.oracles import check_op

CASES = [((2, 2), True, None, (0, 0)), ((3, 2), False, (2, 1), (0, 0)),
         ((2, 2), True, (1, 1), (1, 1)), ((3, 3), False, (4, 4), (2, 2)),
         ((3, 2), False, (2, 1), (1, 1))]


def reference(x, ggx, ws, ignore_border, stride, pad):
    """Each window's ggx at its first (row-major) maximum, windows clipped to
    the input."""
    stride = stride or ws
    h, w = x.shape[-2:]
    oh = pool_output_length(h, ws[0], stride[0], pad[0], ignore_border)
    ow = pool_output_length(w, ws[1], stride[1], pad[1], ignore_border)
    out = np.zeros(x.shape[:-2] + (oh, ow))
    for idx in np.ndindex(*x.shape[:-2]):
        for i in range(oh):
            for j in range(ow):
                r0, c0 = max(i * stride[0] - pad[0], 0), max(j * stride[1] - pad[1], 0)
                r1 = min(i * stride[0] - pad[0] + ws[0], h)
                c1 = min(j * stride[1] - pad[1] + ws[1], w)
                win = x[idx][r0:r1, c0:c1]
                r, c = np.unravel_index(np.argmax(win), win.shape)
                out[idx + (i, j)] = ggx[idx][r0 + r, c0 + c]
    return out


@pytest.mark.parametrize("ws,ignore_border,stride,pad", CASES)
def test_values(ws, ignore_border, stride, pad):
    rng = np.random.RandomState(1)
    # ties included (rounded values): the first maximum must be the one read
    x = np.round(rng.randn(2, 3, 7, 6) * 2) / 2
    ggx = rng.randn(*x.shape)
    args = (ws, ignore_border, stride, pad, "max")
    check_op(lambda x, ggx: DownsampleFactorMaxGradGrad(*args)(x, Pool(*args)(x), ggx),
             [x, ggx], ref=lambda x, ggx: reference(x, ggx, ws, ignore_border, stride, pad))


@pytest.mark.parametrize("ws,ignore_border,stride,pad", CASES[:3])
def test_gradient_of_the_max_pool_gradient(ws, ignore_border, stride, pad):
    rng = np.random.RandomState(2)
    x = T.constant(rng.permutation(2 * 6 * 5).reshape(2, 6, 5) / 7.0)   # no ties
    args = (ws, ignore_border, stride, pad, "max")
    gz = rng.randn(*Pool(*args)(x).eval(mode="py").shape)
    check_op(lambda gz: PoolGrad(*args)(x, Pool(*args)(x), gz), [gz], grad=True)


def test_hessian_vector_product_through_max_pooling():
    # d/dv of <grad_x sum(pool(x) * w), v>: w read at each window's maximum
    x, w = T.dmatrix("x"), T.dmatrix("w")
    g = symnet.grad((T.signal.pool.pool_2d(x, (2, 2), ignore_border=True) * w).sum(), x)
    v = T.dmatrix("v")
    dw = symnet.grad((g * v).sum(), w)
    xv = np.array([[0., 3., 1., 1.], [2., 1., 5., 1.]])
    vv = np.arange(8.).reshape(2, 4)
    for mode in ("py", "numba"):
        got = symnet.function([x, w, v], dw, mode=mode)(xv, np.ones((1, 2)), vv)
        np.testing.assert_array_equal(got, [[1.0, 6.0]])


def test_errors():
    x = T.dmatrix("x")
    with pytest.raises(ValueError, match="mode must be 'max'"):
        DownsampleFactorMaxGradGrad((2, 2), mode="sum")(x, x, x)
    with pytest.raises(TypeError, match="same number of dims"):
        DownsampleFactorMaxGradGrad((2, 2))(x, x, T.dtensor3())
