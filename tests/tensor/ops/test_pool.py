"""pool_2d against a direct transcription of Theano's documented rules."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.gradient import verify_grad
from symnet.tensor.ops.pool import pool_2d, pool_output_length


def reference(x, ws, ignore_border, stride, pad, mode):
    stride = stride or ws
    h, w = x.shape[-2:]
    oh = pool_output_length(h, ws[0], stride[0], pad[0], ignore_border)
    ow = pool_output_length(w, ws[1], stride[1], pad[1], ignore_border)
    rows, cols = h + 2 * pad[0], w + 2 * pad[1]
    padded = np.zeros(x.shape[:-2] + (rows, cols))
    padded[..., pad[0]:pad[0] + h, pad[1]:pad[1] + w] = x
    out = np.zeros(x.shape[:-2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * stride[0], j * stride[1]
            r1, c1 = min(r0 + ws[0], rows), min(c0 + ws[1], cols)
            if mode != "average_inc_pad":
                r0, c0 = max(r0, pad[0]), max(c0, pad[1])
                r1, c1 = min(r1, pad[0] + h), min(c1, pad[1] + w)
            win = padded[..., r0:r1, c0:c1]
            if mode == "max":
                out[..., i, j] = win.max(axis=(-2, -1))
            elif mode == "sum":
                out[..., i, j] = win.sum(axis=(-2, -1))
            else:
                out[..., i, j] = win.mean(axis=(-2, -1))
    return out


CASES = [((2, 2), True, None, (0, 0), "max"), ((3, 2), False, (2, 1), (0, 0), "max"),
         ((3, 3), True, (2, 2), (1, 1), "average_inc_pad"),
         ((3, 3), True, (2, 2), (1, 1), "average_exc_pad"),
         ((2, 3), False, (1, 2), (0, 0), "sum"), ((3, 3), False, (2, 2), (0, 0), "average_exc_pad"),
         ((2, 2), True, (1, 1), (1, 1), "max"),
         # padding without ignore_border: on 7 rows three windows; on 6
         # columns the third window would start in the right padding
         ((3, 3), False, (4, 4), (2, 2), "max"),
         ((3, 3), False, (4, 4), (2, 2), "average_inc_pad"),
         ((3, 2), False, (2, 1), (1, 1), "average_exc_pad"),
         ((2, 3), False, (1, 3), (1, 2), "sum")]


@pytest.mark.parametrize("ws,ignore_border,stride,pad,mode", CASES)
def test_pool_forward_and_grad(ws, ignore_border, stride, pad, mode):
    rng = np.random.RandomState(0)
    x = rng.randn(2, 3, 7, 6)
    xs = T.dtensor4("x")
    y = pool_2d(xs, ws, ignore_border, stride, pad, mode)
    out, shp = symnet.function([xs], [y, T.shape(y)], mode="py")(x)
    np.testing.assert_allclose(out, reference(x, ws, ignore_border, stride, pad, mode))
    assert tuple(shp) == out.shape
    verify_grad(lambda v: pool_2d(v, ws, ignore_border, stride, pad, mode), [x], rng=rng)


def test_pool_static_shape_and_errors():
    x = T.tensor4("x", shape=(64, 32, 24, 24))
    assert pool_2d(x, (2, 2), ignore_border=True).type.shape == (64, 32, 12, 12)
    assert pool_2d(T.tensor4("y", shape=(1, 1, 5, 5)), (2, 2),
                   ignore_border=False).type.shape == (1, 1, 3, 3)
    with pytest.raises(ValueError, match="mode"):
        pool_2d(x, (2, 2), mode="median")
    with pytest.raises(ValueError, match="smaller than the window"):
        pool_2d(x, (2, 2), ignore_border=True, pad=(2, 2))


def _windows(n, w, s, p, ignore_border):
    """Brute-force count of pooling windows along one axis: windows start at
    k*s on the padded axis of length n + 2p; with ignore_border they must fit
    it; without, they are added while the earlier ones do not cover it (and
    start inside it, Theano's rule), and one starting in the right padding
    is dropped."""
    v, k = n + 2 * p, 0
    while True:
        start = k * s
        if ignore_border:
            ok = start + w <= v
        else:
            ok = start < v and (k == 0 or (k - 1) * s + w < v or s >= w) and start < n + p
        if not ok:
            return k
        k += 1


def test_pool_output_length_against_brute_force():
    for n in range(1, 12):
        for w in (1, 2, 3, 4):
            for s in (1, 2, 3, 5):
                for p in range(w):
                    for ib in (True, False):
                        if ib and n + 2 * p < w:
                            continue
                        assert pool_output_length(n, w, s, p, ib) == _windows(n, w, s, p, ib), \
                            (n, w, s, p, ib)


def test_pad_without_ignore_border_shapes():
    x = T.dtensor4("x")
    y = pool_2d(x, (3, 3), ignore_border=False, stride=(4, 4), pad=(2, 2))
    f = symnet.function([x], [y, T.shape(y)], mode="py")
    out, shp = f(np.random.RandomState(1).randn(1, 2, 7, 6))
    assert out.shape == (1, 2, 3, 2) and tuple(shp) == (1, 2, 3, 2)
    assert np.isfinite(out).all()      # no window holds only padding
    static = pool_2d(T.tensor4("z", shape=(1, 2, 7, 6)), (3, 3), ignore_border=False,
                     stride=(4, 4), pad=(2, 2))
    assert static.type.shape == (1, 2, 3, 2)


def test_max_pool_gradient_goes_to_the_first_tied_maximum():
    x = T.dmatrix("x")
    g = symnet.grad(T.sum(pool_2d(x, (2, 2), ignore_border=True)), x)
    out = symnet.function([x], g, mode="py")(np.array([[0.0, 1.0, 2.0, 2.0],
                                                        [1.0, 1.0, 2.0, 2.0]]))
    np.testing.assert_array_equal(out, [[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])


@pytest.mark.perform_fallback      # pool_3d has no numba kernel yet: it runs its perform
def test_max_pool_3d_gradient_goes_to_the_first_tied_maximum():
    from symnet.tensor.ops.pool import pool_3d
    x = T.dtensor3("x")
    g = symnet.grad(T.sum(pool_3d(x, (2, 2, 2), ignore_border=True)), x)
    out = symnet.function([x], g, mode="py")(np.ones((2, 4, 2)))
    want = np.zeros((2, 4, 2))
    want[0, 0, 0] = want[0, 2, 0] = 1.0      # the first position of each of two windows
    np.testing.assert_array_equal(out, want)
