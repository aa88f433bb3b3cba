"""The ops of ``symnet/gradient.py`` in the numba backend, under
``SYMNET_STRICT``: the run-time-sized jacobian (its inner graph compiled
with the outer graph, its rows looped in the driver) and hessian against
finite differences, including shared variables and the Theano shim's
names; the gradient-modifying identities."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import compat
from symnet.compile.mode import Mode
from symnet.configdefaults import config
from symnet.gradient import (disconnected_grad, grad_clip, grad_scale, hessian, jacobian,
                             zero_grad)
from symnet.graph import compiler

from .helpers import use_tmp_cache


@pytest.fixture(autouse=True)
def strict(monkeypatch):
    use_tmp_cache()
    monkeypatch.setattr(config, "strict", True)


def numeric_jacobian(f, x, eps=1e-6):
    """Central differences of ``f`` (a vector function) at ``x``."""
    cols = []
    for k in range(x.size):
        d = np.zeros_like(x)
        d.flat[k] = eps
        cols.append((np.ravel(f(x + d)) - np.ravel(f(x - d))) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(np.shape(f(x)) + x.shape)


def test_jacobian_of_run_time_size_against_finite_differences():
    x = T.dvector("x")          # size unknown until run time: the jacobian op
    w = symnet.shared(np.array([0.5, -1.0, 2.0, 0.3]), name="w")
    expr = T.tanh(x * w[:x.shape[0]]) * T.sum(x ** 2)
    f = symnet.function([x], jacobian(expr, x), mode=Mode("numba"))
    assert "Python perform" not in f.source and "the inner graph of Jacobian" in f.source
    value = symnet.function([x], expr, mode=Mode("numba"))
    for xv in (np.array([0.1, -0.4, 0.7]), np.array([1.0, 0.2, -0.3, 0.5])):
        np.testing.assert_allclose(f(xv), numeric_jacobian(value, xv), atol=1e-7)
    w.set_value(np.array([2.0, 1.0, -1.0, 0.0]))    # the loop reads the shared value now
    xv = np.array([0.3, -0.2])
    np.testing.assert_allclose(f(xv), numeric_jacobian(value, xv), atol=1e-7)


def test_jacobian_wrt_a_matrix_and_of_a_matrix():
    m, v = T.dmatrix("m"), T.dvector("v")
    jm, jv = jacobian(T.dot(m, v) ** 2, [m, v])
    f = symnet.function([m, v], [jm, jv], mode=Mode("numba"))
    mv = np.random.default_rng(0).normal(size=(3, 2))
    vv = np.array([0.5, -1.5])
    got_m, got_v = f(mv, vv)
    assert got_m.shape == (3, 3, 2) and got_v.shape == (3, 2)
    np.testing.assert_allclose(got_m, numeric_jacobian(lambda a: (a @ vv) ** 2, mv),
                               atol=1e-7)
    np.testing.assert_allclose(got_v, numeric_jacobian(lambda b: (mv @ b) ** 2, vv),
                               atol=1e-7)
    jmat = jacobian(T.exp(m) * 2, m)             # a matrix expression: 4-d result
    got = symnet.function([m], jmat, mode=Mode("numba"))(mv)
    np.testing.assert_allclose(got, numeric_jacobian(lambda a: np.exp(a) * 2, mv),
                               atol=1e-6)


def test_hessian_of_run_time_size_against_finite_differences():
    x = T.dvector("x")
    cost = T.sum(T.sin(x) * x ** 2) + T.sum(x) ** 2
    h = symnet.function([x], hessian(cost, x), mode=Mode("numba"))
    g = symnet.function([x], T.grad(cost, x), mode=Mode("numba"))
    xv = np.array([0.3, -1.2, 0.8, 2.0])
    got = h(xv)
    np.testing.assert_allclose(got, numeric_jacobian(g, xv), atol=1e-6)
    np.testing.assert_allclose(got, symnet.function([x], hessian(cost, x), mode="py")(xv),
                               rtol=1e-12)


def test_empty_expression_gives_no_rows():
    x = T.dvector("x")
    got = symnet.function([x], jacobian(x * 3, x), mode=Mode("numba"))(np.zeros(0))
    assert got.shape == (0, 0) and got.dtype == np.float64


def test_the_outer_call_compiles_nothing(monkeypatch):
    """The inner graph is compiled when the outer function is: calling it
    runs no ``function()``."""
    calls = []

    def counting(inputs, outputs, **kwargs):
        calls.append(kwargs.get("name"))
        return symnet.function(inputs, outputs, **kwargs)
    monkeypatch.setattr(compiler, "_COMPILER", {"function": counting})
    x = T.dvector("x")
    f = symnet.function([x], jacobian(T.exp(x) * 2, x), mode=Mode("numba"))
    built = len(calls)
    assert built == 1 and calls[0] == "Jacobian.inner"
    for n in (2, 3):
        xv = np.linspace(-1, 1, n)
        np.testing.assert_allclose(f(xv), np.diag(2 * np.exp(xv)))
    assert len(calls) == built


def test_theano_shim_jacobian_and_hessian_on_numba():
    compat.install(lasagne=False)
    import theano
    import theano.tensor as TT
    x = TT.dvector("x")
    cost = TT.sum(x ** 3)
    f = theano.function([x], [theano.gradient.jacobian(x ** 2, x),
                              theano.gradient.hessian(cost, x)], mode=Mode("numba"))
    xv = np.array([1.0, -2.0, 0.5])
    jac, hes = f(xv)
    np.testing.assert_allclose(jac, np.diag(2 * xv))
    np.testing.assert_allclose(hes, np.diag(6 * xv))


def test_gradient_identities_are_their_input():
    x, s = T.dvector("x"), T.dscalar("s")
    outs = [disconnected_grad(x), zero_grad(x) * 2, grad_clip(x, -1, 1), grad_scale(s, 3.0)]
    loss = T.sum(outs[0] * x) + T.sum(outs[1]) + T.sum(outs[2] ** 2) + outs[3] ** 2
    grads = symnet.grad(loss, [x, s])
    xv, sv = np.array([0.5, -2.0, 3.0]), np.float64(1.5)
    for mode in (Mode("numba"), Mode("numba", optimizer=None)):
        f = symnet.function([x, s], outs + grads, mode=mode)
        assert "Python perform" not in f.source
        got = f(xv, sv)
        np.testing.assert_allclose(got[0], xv)
        np.testing.assert_allclose(got[1], 2 * xv)
        np.testing.assert_allclose(got[2], xv)
        assert got[3].shape == () and got[3] == sv
        # d/dx: x (through the disconnected factor only), clipped 2x
        np.testing.assert_allclose(got[4], xv + np.clip(2 * xv, -1, 1))
        np.testing.assert_allclose(got[5], 3.0 * 2 * sv)
