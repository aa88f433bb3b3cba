"""Theano's op forms of ``theano.tensor.signal.pool`` (``Pool(ignore_border,
mode, ndim)(x, ws, stride, pad)``, ``MaxPoolGrad``, ``AveragePoolGrad``,
``DownsampleFactorMaxGradGrad``, ``Pool.out_shape``), 1-d pooling, and
windows larger than the input (an empty output, as in Theano)."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor.ops import pool as ops
from symnet.tensor.signal.pool import (AveragePoolGrad, DownsampleFactorMaxGradGrad,
                                       MaxPoolGrad, Pool, pool_2d)
from tests.oracles import check_op, rand


def test_pool_op_form_matches_pool_2d_and_is_the_op():
    x = rand((2, 3, 7, 6))
    for mode in ("max", "sum", "average_inc_pad", "average_exc_pad"):
        check_op(lambda v: Pool(ignore_border=True, mode=mode)(v, (3, 2), (2, 1), (1, 1)),
                 [x], ref=lambda v: pool_2d(T.constant(v), (3, 2), True, (2, 1), (1, 1),
                                            mode).eval(mode="py"))
    y = Pool(ignore_border=True)(T.dtensor4(), (2, 2))
    assert isinstance(y.owner.op, Pool) and isinstance(y.owner.op, ops.Pool)
    # symnet's own form (window first) still makes the op
    assert type(Pool((2, 2), True)) is ops.Pool


def test_one_dimensional_pooling():
    x = rand((2, 3, 10))

    def ref(v):
        return np.stack([v[..., i:i + 3].max(-1) for i in range(0, 8, 2)], axis=-1)

    check_op(lambda v: Pool(ndim=1, ignore_border=True)(v, (3,), (2,)), [x], ref=ref,
             grad=True)
    # Pool composes more axes (below); the gradient op forms stop at 3
    with pytest.raises(ValueError, match="ndim must be between 1 and 3, got 4"):
        MaxPoolGrad(True, ndim=4)


def test_gradient_op_forms():
    rng = np.random.RandomState(0)
    xv = rng.permutation(2 * 7 * 6).reshape(2, 7, 6) / 9.0
    x, gz = T.dtensor3("x"), T.dtensor3("gz")
    for mode, op in (("max", MaxPoolGrad(True)), ("sum", AveragePoolGrad(True, mode="sum")),
                     ("average_exc_pad", AveragePoolGrad(True, mode="average_exc_pad"))):
        out = Pool(True, mode)(x, (3, 2), (2, 2), (1, 0))
        want = symnet.grad(None, x, known_grads={out: gz})
        got = op(x, out, gz, (3, 2), (2, 2), (1, 0)) if mode == "max" else \
            op(x, gz, (3, 2), (2, 2), (1, 0))
        f = symnet.function([x, gz], [got, want], mode="py")
        g1, g2 = f(xv, rng.randn(2, 4, 3))
        np.testing.assert_array_equal(g1, g2)
    out = Pool(True)(x, (2, 2))
    gg = DownsampleFactorMaxGradGrad(True)(x, out, x, (2, 2))
    # each window's maximum, read back from x itself, is the pooled output
    np.testing.assert_array_equal(gg.eval({x: xv}, mode="py"), out.eval({x: xv}, mode="py"))


def test_out_shape():
    assert Pool.out_shape((9, 8, 6), (2, 2)) == [9, 4, 3]
    assert Pool.out_shape((8, 6), (2, 2)) == [4, 3]
    assert Pool.out_shape((5, 7), (3, 3), ignore_border=True, stride=(2, 2), pad=(1, 1)) == [3, 4]
    assert Pool.out_shape((2, 8, 5), (9, 9), ignore_border=True) == [2, 0, 0]
    n = T.lscalar("n")
    sym = Pool.out_shape((n, 8), (2, 2), ignore_border=True)
    assert int(sym[0].eval({n: 7}, mode="py")) == 3 and sym[1] == 4


def test_window_larger_than_input_gives_an_empty_output():
    # Theano: (n + 2 pad - ws) // stride + 1 sizes below 0 are 0
    x = rand((4, 3, 8, 5))
    check_op(lambda v: pool_2d(v, (9, 9), ignore_border=True, stride=(1, 1)), [x],
             ref=lambda v: np.zeros((4, 3, 0, 0)))
    check_op(lambda v: pool_2d(v, (5, 3), ignore_border=True, stride=(2, 2), pad=(1, 0)),
             [rand((1, 2, 2, 3))], ref=lambda v: np.zeros((1, 2, 0, 1)))
    # the gradient of an empty pooling is zero, not a stray window
    x = T.dtensor3("x")
    g = symnet.grad(Pool(ndim=1, ignore_border=True)(x, (10,), (5,), (3,)).sum(), x)
    np.testing.assert_array_equal(g.eval({x: np.ones((1, 1, 2))}, mode="py"),
                                  np.zeros((1, 1, 2)))


def _brute_pool(x, ws, stride, ignore_border, mode):
    """Pooling by enumerating windows (no padding): the numpy oracle."""
    import itertools
    nd = len(ws)
    lead, sizes = x.shape[:-nd], x.shape[-nd:]
    outs = [ops.pool_output_length(n, w, s, 0, ignore_border)
            for n, w, s in zip(sizes, ws, stride)]
    out = np.empty(lead + tuple(outs))
    for idx in itertools.product(*[range(o) for o in outs]):
        win = x[(Ellipsis,) + tuple(slice(i * s, min(i * s + w, n))
                                    for i, w, s, n in zip(idx, ws, stride, sizes))]
        win = win.reshape(lead + (-1,))
        # without padding both averages divide by the window's clipped size
        out[(Ellipsis,) + idx] = {"max": win.max(-1), "sum": win.sum(-1)}.get(
            mode, win.mean(-1))
    return out


@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
@pytest.mark.parametrize("ignore_border", [True, False])
def test_pool_over_four_and_five_axes(mode, ignore_border):
    # Theano's Pool(ndim=...) over more axes than pool_3d: values of every
    # window, partial ones at the borders without ignore_border
    x = rand((2, 5, 4, 4, 5), rng=np.random.default_rng(0))
    ws, stride = (2, 2, 3, 2), (2, 1, 2, 2)
    check_op(lambda x: Pool(ndim=4, ignore_border=ignore_border, mode=mode)(x, ws, stride),
             [x], ref=lambda x: _brute_pool(x, ws, stride, ignore_border, mode),
             grad=mode != "max")
    y = rand((1, 3, 3, 2, 4, 4), rng=np.random.default_rng(1))
    check_op(lambda y: Pool(ndim=5, ignore_border=True, mode=mode)(y, (2, 2, 1, 2, 2)),
             [y], ref=lambda y: _brute_pool(y, (2, 2, 1, 2, 2), (2, 2, 1, 2, 2), True, mode))


def test_max_pool_over_four_axes_gradient_goes_to_the_first_maximum():
    x = np.zeros((1, 2, 2, 2, 2))      # one window, all tied: the first element wins
    v = T.TensorType("float64", shape=(None,) * 5)("v")
    g = symnet.grad(Pool(ndim=4, ignore_border=True)(v, (2, 2, 2, 2)).sum(), v)
    for mode in ("py", "numba"):
        got = symnet.function([v], g, mode=mode)(x)
        assert got.sum() == 1 and got[0, 0, 0, 0, 0] == 1
    with pytest.raises(ValueError, match="ndim must be between 1 and 32"):
        Pool(ndim=40)
    with pytest.raises(TypeError, match=r"Pool\(ndim=4\) needs at least 4 dims"):
        Pool(ndim=4)(T.tensor3(), (2, 2, 2, 2))
