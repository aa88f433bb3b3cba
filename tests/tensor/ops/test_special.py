"""The special functions (erf, erfc, gamma, gammaln, psi, tri_gamma): values
against known constants and Python's math module on every backend, dtypes,
gradients against finite differences, and the names that only raise."""
import math

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from tests.oracles import check_op


EULER = 0.5772156649015329
X = np.array([0.3, 1.0, 2.5, 7.25, 15.0])


def _vec(fn):
    return lambda x: np.array([fn(v) for v in x.ravel()]).reshape(x.shape).astype(x.dtype)


@pytest.mark.parametrize("name, ref", [("erf", math.erf), ("erfc", math.erfc),
                                       ("gamma", math.gamma), ("gammaln", math.lgamma)])
def test_values_and_gradients_against_math(name, ref):
    x = np.array([-1.7, -0.4, 0.3, 1.0, 2.5, 4.1])
    check_op(getattr(T, name), [x], ref=_vec(ref), grad=name != "gamma")
    # gamma grows fast: its gradient is checked where it is moderate
    if name == "gamma":
        check_op(T.gamma, [np.array([0.7, 1.5, 2.2])], ref=_vec(ref), grad=True)


def test_psi_and_tri_gamma_known_values():
    x = np.array([1.0, 0.5, 2.0, -0.5, -2.5])
    psi, tri = check_op(lambda v: [T.psi(v), T.tri_gamma(v)], [x])
    np.testing.assert_allclose(psi[:3], [-EULER, -EULER - 2 * math.log(2), 1 - EULER],
                               rtol=1e-12)
    np.testing.assert_allclose(tri[:3], [math.pi ** 2 / 6, math.pi ** 2 / 2,
                                         math.pi ** 2 / 6 - 1], rtol=1e-10)
    # reflection: psi(1 - x) - psi(x) = pi / tan(pi x)
    np.testing.assert_allclose(psi[3], -EULER - 2 * math.log(2) + 2, rtol=1e-10)
    assert np.isclose(psi[4], 1.1031566406452432, rtol=1e-10)     # psi(-2.5)
    assert np.isclose(tri[3], math.pi ** 2 / 2 + 4, rtol=1e-10)   # tri_gamma(-0.5)


def test_psi_is_the_derivative_of_gammaln_and_tri_gamma_of_psi():
    check_op(T.gammaln, [X], grad=True, grad2=True)
    x = T.dvector("x")
    g = symnet.grad(T.psi(x).sum(), x)
    f = symnet.function([x], [g, T.tri_gamma(x)], mode="py")
    np.testing.assert_allclose(*f(X), rtol=1e-12)


def test_poles_give_inf_or_nan_like_scipy():
    f = symnet.function([x := T.dvector("x")],
                        [T.gamma(x), T.gammaln(x), T.psi(x)], mode="py")
    gamma, gammaln, psi = f(np.array([0.0, -1.0, -3.0]))
    assert gamma[0] == np.inf and np.isnan(gamma[1:]).all()
    assert (gammaln == np.inf).all()
    assert psi[0] == -np.inf and np.isnan(psi[1:]).all()


def test_tri_gamma_has_no_gradient():
    x = T.dvector("x")
    with pytest.raises(NotImplementedError, match="tri_gamma"):
        symnet.grad(T.tri_gamma(x).sum(), x)


def test_dtypes_follow_the_transcendental_rule():
    assert T.erf(T.fvector()).dtype == "float32"
    assert T.psi(T.dvector()).dtype == "float64"
    assert T.gammaln(T.ivector()).dtype == symnet.config.floatX
    with pytest.raises(TypeError, match="complex"):
        T.erf(T.TensorType("complex128", (None,))("z"))


def test_compositions():
    x = np.array([-1.0, 0.0, 0.5, 3.0])
    check_op(T.erfcx, [x], ref=lambda v: np.exp(v * v) * _vec(math.erfc)(v), grad=True)
    check_op(T.deg2rad, [np.array([0.0, 90.0, 180.0])], ref=np.deg2rad)
    check_op(T.rad2deg, [np.array([0.0, 1.0, np.pi])], ref=np.rad2deg)


@pytest.mark.parametrize("name", ["erfinv", "erfcinv", "chi2sf", "j0", "j1", "jv", "i0",
                                  "i1", "iv", "complex_from_polar"])
def test_scipy_only_names_raise_saying_so(name):
    with pytest.raises(NotImplementedError, match=f"T.{name} .*not implemented in symnet"):
        getattr(T, name)(T.dvector())
