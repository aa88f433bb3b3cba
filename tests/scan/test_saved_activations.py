"""BPTT reads the forward step's sigmoid/tanh/exp values back instead of
computing them again (``scan/grad.py``'s ``SAVE_ACTIVATIONS``); a saved value
the backward step needs only the shape of (the LSTM's gate pre-activations)
is not stacked.  Graphs counted with and without it; values against it
switched off, finite differences and second order, on both backends."""
import importlib

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.gradient import verify_grad
from symnet.graph.traversal import io_toposort
from symnet.scan import Scan
from symnet.tensor.ops.blas import Dot
from symnet.tensor.ops.elemwise import Elemwise

from tests.scan._recurrent import KINDS, assert_same, with_and_without

G = importlib.import_module("symnet.scan.grad")
MODES = ["py", "numba"]
BY_VALUE = ("sigmoid", "tanh", "exp")


@pytest.fixture
def recompute(monkeypatch):
    """Switch saving off: the backward step computes the values again."""
    return lambda: monkeypatch.setattr(G, "SAVE_ACTIVATIONS", False)


def _scans(f):
    fwd = [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)
           and not (n.op.name or "").startswith("grad_of")]
    bwd = [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)
           and (n.op.name or "").startswith("grad_of")]
    return fwd, bwd


def _inner(node):
    return io_toposort(node.op.inner_inputs, node.op.inner_outputs)


def _by_value(nodes):
    return [n for n in nodes if isinstance(n.op, Elemwise) and
            getattr(n.op.scalar_op, "name", None) in BY_VALUE]


def _lstm(mode):
    from symnet.layers import InputLayer, LSTMLayer, get_all_params, get_output
    l_in = InputLayer((3, 5, 4))
    net = LSTMLayer(l_in, 6, only_return_final=True)
    loss = T.sum(get_output(net) ** 2)
    params = get_all_params(net, trainable=True)
    return l_in.input_var, loss, params


@pytest.mark.parametrize("mode", MODES)
def test_lstm_backward_step_computes_no_activation(mode, recompute):
    x, loss, params = _lstm(mode)
    xv = np.random.default_rng(4).normal(size=(3, 5, 4)).astype("float32")
    f = symnet.function([x], [loss] + symnet.grad(loss, params), mode=Mode(mode))
    recompute()
    ref = symnet.function([x], [loss] + symnet.grad(loss, params), mode=Mode(mode))
    (fwd,), (bwd,) = _scans(f)
    (rfwd,), (rbwd,) = _scans(ref)
    # recomputed: the three sigmoids and two tanh of the step; saved: none
    assert len(_by_value(_inner(rbwd))) == 5 and _by_value(_inner(bwd)) == []
    assert len(_inner(bwd)) < len(_inner(rbwd))
    # the forward stacks the five values instead of the gates' input
    # (4 x 6 wide): every stacked output is 6 wide
    widths = sorted(o.type.shape[-1] for o in fwd.outputs)
    assert widths == [6] * 7, widths
    assert sorted(o.type.shape[-1] for o in rfwd.outputs) == [6, 6, 24]
    # and no product was moved out of the loop for a size only
    dots = lambda g: sum(isinstance(n.op, Dot) for n in g.fgraph.toposort())  # noqa: E731
    assert dots(f) == dots(ref)
    assert_same(f, ref, [xv], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_recurrent_layers_same_values_as_recomputed(kind, mode, recompute):
    f, ref, args = with_and_without(kind, mode, recompute, 8)
    assert _by_value(_inner(_scans(f)[1][0])) == []
    assert _by_value(_inner(_scans(ref)[1][0])) != []
    assert_same(f, ref, args, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_grad_through_saved_tanh_sigmoid_exp(mode):
    def f(x, h0, w):
        h, _ = symnet.scan(
            lambda v, h, w: T.tanh(h * w + v) * T.nnet.sigmoid(v - h) + 0.1 * T.exp(-h * h),
            sequences=x, outputs_info=h0, non_sequences=w)
        return h
    r = np.random.RandomState(21)
    verify_grad(f, [r.randn(5, 3), r.randn(3), r.randn(3)], rng=r, mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_second_order_through_saved_values(mode, recompute):
    x, h0, w = T.dmatrix("x"), T.dvector("h0"), T.dvector("w")

    def graph():
        h, _ = symnet.scan(lambda v, h, w: T.nnet.sigmoid(T.tanh(h * w) + v), sequences=x,
                           outputs_info=h0, non_sequences=w)
        cost = T.sum(h[-1] ** 2) + T.sum(h)
        gw = symnet.grad(cost, w)
        return [gw, symnet.grad(T.sum(gw * gw), w)]
    r = np.random.RandomState(9)
    args = [r.randn(4, 3), r.randn(3), r.randn(3)]
    got = symnet.function([x, h0, w], graph(), mode=Mode(mode))(*args)
    recompute()
    want = symnet.function([x, h0, w], graph(), mode=Mode(mode))(*args)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
