"""Backpropagation through time: Scan gradients vs finite differences."""
import numpy as np

import symnet
import symnet.tensor as T
from symnet.gradient import verify_grad

MODE = "py"


def rng():
    return np.random.RandomState(1234)


def test_grad_sequence_initial_state_non_sequence():
    def f(x, h0, w):
        h, _ = symnet.scan(lambda v, h, w: T.tanh(h * w + v), sequences=x,
                           outputs_info=h0, non_sequences=w)
        return h
    r = rng()
    verify_grad(f, [r.randn(5, 3), r.randn(3), r.randn(3)], rng=r, mode=MODE)


def test_grad_two_taps_and_go_backwards():
    def f(x, x0, a):
        y, _ = symnet.scan(lambda v, x2, x1, a: T.tanh(a * x1 + x2 * v),
                           sequences=x, outputs_info={"initial": x0, "taps": [-2, -1]},
                           non_sequences=a, go_backwards=True)
        return y
    r = rng()
    verify_grad(f, [r.randn(4, 3), r.randn(2, 3), r.randn(3)], rng=r, mode=MODE)


def test_grad_sequence_taps_and_nit_sot():
    def f(x, w):
        y, _ = symnet.scan(lambda a, b, w: T.sin(a * w) * b,
                           sequences={"input": x, "taps": [0, 1]}, non_sequences=w)
        return y
    r = rng()
    verify_grad(f, [r.randn(5, 2), r.randn(2)], rng=r, mode=MODE)


def test_grad_shared_variable_inside_fn():
    w = symnet.shared(np.array([[0.5, -0.3], [0.2, 0.8]]), name="w")
    x = T.dmatrix("x")
    h, _ = symnet.scan(lambda v, h: T.tanh(T.dot(h, w) + v), sequences=x,
                       outputs_info=T.zeros_like(x[0]))
    cost = T.sum(h[-1] ** 2)
    gw = symnet.grad(cost, w)
    f = symnet.function([x], [cost, gw], mode=MODE)
    xv = rng().randn(4, 2)
    c0, g = f(xv)
    # central differences on w
    num = np.zeros_like(g)
    base = w.get_value()
    for idx in np.ndindex(*base.shape):
        for sign in (1, -1):
            wv = base.copy()
            wv[idx] += sign * 1e-6
            w.set_value(wv)
            num[idx] += sign * f(xv)[0] / 2e-6
    w.set_value(base)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7)


def test_second_order_through_scan():
    x, w = T.dvector("x"), T.dscalar("w")
    s, _ = symnet.scan(lambda v, h, w: h * w + v ** 2, sequences=x,
                       outputs_info=T.constant(np.float64(0)), non_sequences=w)
    c = s[-1]        # x1^2 w^2 + x2^2 w + x3^2
    gw = symnet.grad(c, w)
    f = symnet.function([x, w], [c, gw, symnet.grad(gw, w), symnet.grad(gw, x)],
                        mode=MODE)
    c_v, gw_v, hw_v, gx_v = f(np.array([1.0, 2.0, 3.0]), 2.0)
    assert float(c_v) == 21.0 and float(gw_v) == 8.0 and float(hw_v) == 2.0
    np.testing.assert_allclose(gx_v, [8.0, 4.0, 0.0])


def test_truncate_gradient():
    x = T.dvector("x")
    h0 = T.dscalar("h0")
    h, _ = symnet.scan(lambda v, h: 0.5 * h + v, sequences=x, outputs_info=h0,
                       truncate_gradient=2)
    gx, gh0 = symnet.grad(h[-1], [x, h0])
    f = symnet.function([x, h0], [gx, gh0], mode=MODE)
    a, b = f(np.ones(4), 1.0)
    # only the last two steps pass gradient back
    np.testing.assert_allclose(a, [0.0, 0.0, 0.5, 1.0])
    assert float(b) == 0.0
    full, _ = symnet.scan(lambda v, h: 0.5 * h + v, sequences=x, outputs_info=h0)
    a, b = symnet.function([x, h0], symnet.grad(full[-1], [x, h0]), mode=MODE)(
        np.ones(4), 1.0)
    np.testing.assert_allclose(a, [0.125, 0.25, 0.5, 1.0])
    assert float(b) == 0.0625


def test_grad_with_n_steps_shorter_than_sequence():
    x = T.dvector("x")
    y, _ = symnet.scan(lambda v: v ** 2, sequences=x, n_steps=2)
    g = symnet.grad(T.sum(y), x)
    np.testing.assert_allclose(g.eval({x: np.array([1.0, 2.0, 3.0])}, mode=MODE),
                               [2.0, 4.0, 0.0])
