"""symnet.nonlinearities against numpy references, dtypes and gradients."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import nonlinearities as N

SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


CASES = [
    ("sigmoid", N.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    ("softmax", N.softmax, _softmax),
    ("tanh", N.tanh, np.tanh),
    ("scaled_tanh", N.ScaledTanH(0.5, 2.0), lambda x: 2.0 * np.tanh(0.5 * x)),
    ("ScaledTanh_alias", N.ScaledTanh(scale_in=3, scale_out=0.1),
     lambda x: 0.1 * np.tanh(3 * x)),
    ("rectify", N.rectify, lambda x: np.maximum(0, x)),
    ("leaky_rectify", N.leaky_rectify, lambda x: np.where(x > 0, x, 0.01 * x)),
    ("very_leaky_rectify", N.very_leaky_rectify, lambda x: np.where(x > 0, x, x / 3.)),
    ("LeakyRectify", N.LeakyRectify(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    ("elu", N.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    ("selu", N.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))),
    ("SELU", N.SELU(2.0, 3.0), lambda x: 2.0 * np.where(x > 0, x, 3.0 * np.expm1(x))),
    ("softplus", N.softplus, lambda x: np.log1p(np.exp(x))),
    ("linear", N.linear, lambda x: x),
    ("identity", N.identity, lambda x: x),
]


@pytest.mark.parametrize("name,fn,ref", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values_and_dtype(name, fn, ref, dtype):
    x = T.matrix("x", dtype=dtype)
    y = fn(x)
    assert y.dtype == dtype
    f = symnet.function([x], y, mode="py")
    val = np.random.RandomState(0).uniform(-3, 3, (4, 5)).astype(dtype)
    val[0, 0] = 0.0
    got = f(val)
    assert got.dtype == dtype and got.shape == val.shape
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, ref(val.astype("float64")), rtol=tol * 10, atol=tol)


@pytest.mark.parametrize("fn", [N.sigmoid, N.tanh, N.rectify, N.leaky_rectify, N.elu,
                                N.selu, N.softplus, N.ScaledTanH(0.5, 2.0)])
def test_gradient_matches_finite_differences(fn):
    # avoid the kinks at zero
    pt = np.array([-1.3, -0.4, 0.7, 2.1])
    symnet.gradient.verify_grad(fn, [pt], rng=np.random.RandomState(1), mode="py")


def test_rectify_gradient_is_step():
    x = T.dvector("x")
    g = symnet.grad(T.sum(N.rectify(x)), x)
    out = symnet.function([x], g, mode="py")(np.array([-2.0, 3.0]))
    np.testing.assert_allclose(out, [0.0, 1.0])


def test_linear_returns_input_itself():
    x = T.matrix("x")
    assert N.linear(x) is x and N.identity is N.linear


def test_parametrised_instances_keep_parameters():
    assert N.LeakyRectify().leakiness == 0.01
    assert np.isclose(N.very_leaky_rectify.leakiness, 1. / 3)
    assert (N.selu.scale, N.selu.scale_neg) == (SELU_SCALE, SELU_ALPHA)
    assert N.ScaledTanh is N.ScaledTanH
    s = N.ScaledTanH()
    assert (s.scale_in, s.scale_out) == (1, 1)


@pytest.mark.parametrize("missing", ["relu", "softmax"])
def test_fallbacks_without_nnet_ops(monkeypatch, missing):
    # the compositions used when T.nnet lacks the op must agree with numpy
    monkeypatch.delattr(T.nnet, missing, raising=False)
    x = T.fmatrix("x")
    val = np.random.RandomState(3).uniform(-2, 2, (3, 4)).astype("float32")
    fns = {"relu": [(N.rectify, lambda v: np.maximum(v, 0)),
                    (N.LeakyRectify(0.1), lambda v: np.where(v > 0, v, 0.1 * v))],
           "softmax": [(N.softmax, _softmax)]}[missing]
    for fn, ref in fns:
        y = fn(x)
        assert y.dtype == "float32"
        got = symnet.function([x], y, mode="py")(val)
        np.testing.assert_allclose(got, ref(val.astype("float64")), rtol=1e-5, atol=1e-6)
