"""symnet.regularization: penalties, and their application to layers."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import regularization as R

W1 = np.array([[1.0, -2.0], [0.5, 3.0]])
W2 = np.array([-1.5, 0.25, 2.0])


def ev(expr):
    return float(symnet.function([], expr, mode="py")())


def test_l1_l2_values():
    w = symnet.shared(W1)
    assert ev(R.l1(w)) == pytest.approx(np.abs(W1).sum())
    assert ev(R.l2(w)) == pytest.approx((W1 ** 2).sum())
    x = T.dvector("x")
    g = symnet.function([x], symnet.grad(R.l2(x), x), mode="py")(W2)
    np.testing.assert_allclose(g, 2 * W2)


def test_apply_penalty_single_and_list():
    a, b = symnet.shared(W1), symnet.shared(W2)
    # a single variable of known length must not be split into rows
    assert ev(R.apply_penalty(a, R.l2)) == pytest.approx((W1 ** 2).sum())
    assert ev(R.apply_penalty([a, b], R.l1)) == pytest.approx(np.abs(W1).sum() +
                                                               np.abs(W2).sum())
    assert ev(R.apply_penalty((a,), R.l2)) == pytest.approx((W1 ** 2).sum())


def test_apply_penalty_forwards_kwargs():
    def lp(x, p=2):
        return T.sum(abs(x) ** p)
    a = symnet.shared(W2)
    assert ev(R.apply_penalty([a], lp, p=3)) == pytest.approx((np.abs(W2) ** 3).sum())


class FakeLayer:
    """The part of the Layer interface the regularizers use."""

    def __init__(self, params, incoming=None):
        self.params = params  # {shared: set(tags)}
        self.input_layer = incoming

    def get_params(self, unwrap_shared=True, **tags):
        out = []
        for p, ptags in self.params.items():
            if all((t in ptags) == v for t, v in tags.items()):
                out.append(p)
        return out


def _layers():
    W = symnet.shared(W1, name="W")
    b = symnet.shared(W2, name="b")
    W_2 = symnet.shared(W1 * 2, name="W2")
    l1 = FakeLayer({W: {"regularizable", "trainable"}, b: {"trainable"}})
    l2 = FakeLayer({W_2: {"regularizable", "trainable"}}, incoming=l1)
    return l1, l2


def test_regularize_layer_params_uses_regularizable_tag():
    l1, l2 = _layers()
    assert ev(R.regularize_layer_params(l1, R.l2)) == pytest.approx((W1 ** 2).sum())
    assert ev(R.regularize_layer_params([l1, l2], R.l1)) == pytest.approx(
        3 * np.abs(W1).sum())
    got = ev(R.regularize_layer_params(l1, R.l1, tags={"trainable": True}))
    assert got == pytest.approx(np.abs(W1).sum() + np.abs(W2).sum())


def test_regularize_layer_params_weighted():
    l1, l2 = _layers()
    got = ev(R.regularize_layer_params_weighted({l1: 0.1, l2: 0.5}, R.l2))
    assert got == pytest.approx(0.1 * (W1 ** 2).sum() + 0.5 * (4 * W1 ** 2).sum())


def test_regularize_network_params_with_layers_module():
    from symnet.layers import InputLayer, DenseLayer  # written alongside this module
    l_in = InputLayer((None, 3))
    l_h = DenseLayer(l_in, 4)
    l_out = DenseLayer(l_h, 2)
    want = sum((p.get_value() ** 2).sum() for p in (l_h.W, l_out.W))
    assert ev(R.regularize_network_params(l_out, R.l2)) == pytest.approx(want, rel=1e-5)
    allp = sum(np.abs(p.get_value()).sum() for p in (l_h.W, l_h.b, l_out.W, l_out.b))
    got = ev(R.regularize_network_params(l_out, R.l1, tags={"trainable": True}))
    assert got == pytest.approx(allp, rel=1e-5)
