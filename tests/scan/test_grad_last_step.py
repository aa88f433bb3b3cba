"""BPTT without sequences of zeros: a recurrent output whose gradient is zeros
(an LSTM's cell states) or zeros but for the last step (``h[-1]``) gives the
backward Scan no sequence; the last step's gradient starts the pending
buffer (``scan/grad.py``'s ``_last_step_only``).  Graphs are counted with
and without it, values compared with it switched off and with finite
differences, on both backends."""
import importlib

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.gradient import verify_grad
from symnet.graph.traversal import io_toposort
from symnet.scan import Scan
from symnet.tensor.ops.shape import Alloc

from tests.scan._recurrent import KINDS, assert_same, with_and_without

G = importlib.import_module("symnet.scan.grad")
MODES = ["py", "numba"]


@pytest.fixture
def without(monkeypatch):
    """Switch the change off: every output gradient becomes a sequence."""
    def off():
        monkeypatch.setattr(G, "_last_step_only", lambda g: None)
        monkeypatch.setattr(G, "_all_zeros", lambda g: False)
    return off


def _backward(f):
    (node,) = [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)
               and (n.op.name or "").startswith("grad_of")]
    return node


def _zero_fills(f, ndim):
    """The ``Alloc``s of ``ndim``-d arrays in ``f``'s graph."""
    return [n for n in f.fgraph.toposort() if isinstance(n.op, Alloc)
            and n.outputs[0].ndim == ndim]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_final_state_backward_reads_no_zero_sequences(kind, mode, without):
    """W8's graphs: ``only_return_final`` reads ``h[-1]``."""
    from symnet.layers import GRULayer, InputLayer, LSTMLayer, get_all_params, get_output
    l_in = InputLayer((3, 5, 4))
    net = (LSTMLayer if kind == "lstm" else GRULayer)(l_in, 6, only_return_final=True)
    loss = T.sum(get_output(net) ** 2)
    params = get_all_params(net, trainable=True)
    x = np.random.default_rng(0).normal(size=(3, 5, 4)).astype("float32")
    f = symnet.function([l_in.input_var], [loss] + symnet.grad(loss, params), mode=Mode(mode))
    without()
    ref = symnet.function([l_in.input_var], [loss] + symnet.grad(loss, params),
                          mode=Mode(mode))
    new, old = _backward(f), _backward(ref)
    # h's gradient (zeros but h[-1]'s) and the LSTM's cell states' (zeros)
    # were sequences of (steps, batch, units) filled in memory; now none is
    fewer = 2 if kind == "lstm" else 1
    assert old.op.n_seqs - new.op.n_seqs == fewer
    assert len(_zero_fills(ref, 3)) - len(_zero_fills(f, 3)) == fewer
    inner_new = io_toposort(new.op.inner_inputs, new.op.inner_outputs)
    inner_old = io_toposort(old.op.inner_inputs, old.op.inner_outputs)
    assert len(inner_new) < len(inner_old)
    assert_same(f, ref, [x], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_recurrent_layers_same_values_as_with_zero_sequences(kind, mode, without):
    f, ref, args = with_and_without(kind, mode, without, 3)
    # the LSTM's cell states (gradient zeros) are no sequence any more; the
    # loss reads h through a DimShuffle (h[:, -1] of (batch, steps, units)),
    # whose gradient stays a sequence
    fewer = 0 if kind == "gru" else 1
    assert _backward(ref).op.n_seqs - _backward(f).op.n_seqs == fewer
    assert_same(f, ref, args, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_grad_of_last_state_two_taps(mode):
    """Taps [-2, -1]: the pending buffer holds two states; the last step's
    gradient must start its entry for the current step, not the older one."""
    def f(x, x0, a):
        y, _ = symnet.scan(lambda v, x2, x1, a: T.tanh(a * x1 + x2 * v),
                           sequences=x, outputs_info={"initial": x0, "taps": [-2, -1]},
                           non_sequences=a)
        return y[-1] * 1.5
    r = np.random.RandomState(7)
    verify_grad(f, [r.randn(5, 3), r.randn(2, 3), r.randn(3)], rng=r, mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("truncate", [0, 1, 3])
def test_grad_of_last_state_truncated(mode, truncate, without):
    x, h0, w = T.dmatrix("x"), T.dvector("h0"), T.dvector("w")

    def graph():
        h, _ = symnet.scan(lambda v, h, w: T.tanh(h * w + v), sequences=x,
                           outputs_info=h0, non_sequences=w, truncate_gradient=truncate)
        cost = T.sum(h[-1] ** 2)
        return [cost] + symnet.grad(cost, [x, h0, w])
    r = np.random.RandomState(5)
    args = [r.randn(4, 3), r.randn(3), r.randn(3)]
    f = symnet.function([x, h0, w], graph(), mode=Mode(mode))
    without()
    ref = symnet.function([x, h0, w], graph(), mode=Mode(mode))
    assert _backward(ref).op.n_seqs - _backward(f).op.n_seqs == 1
    for got, want in zip(f(*args), ref(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_grad_of_last_step_of_output_without_taps_and_of_every_state(mode):
    """``out[-1]`` of an output without taps stays a sequence (no pending
    buffer to start); a state read at every step keeps its sequence."""
    def f(x, h0, w):
        (h, y), _ = symnet.scan(lambda v, h, w: [T.tanh(h * w + v), T.sin(h * v)],
                                sequences=x, outputs_info=[h0, None], non_sequences=w)
        return y[-1] + T.sum(h, axis=0)
    r = np.random.RandomState(11)
    verify_grad(f, [r.randn(4, 3), r.randn(3), r.randn(3)], rng=r, mode=mode)
