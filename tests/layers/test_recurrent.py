"""Recurrent layers against numpy loops (py backend)."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import init
from symnet.layers import (InputLayer, DenseLayer, CustomRecurrentLayer, RecurrentLayer,
                           Gate, LSTMLayer, GRULayer, get_output, get_all_params)
from symnet.updates import sgd

from ._util import run

B, S, F, U = 3, 5, 4, 6


def data(seed=0):
    r = np.random.RandomState(seed)
    return r.randn(B, S, F).astype("float32")


def mask_data():
    m = np.ones((B, S), "float32")
    m[0, 3:] = 0
    m[2, 1:] = 0
    return m


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_loop(step, x, states, mask=None, backwards=False):
    """Run step(x_t, *states) -> states over time; returns (B, S, ...) of the
    last state, in the input's order."""
    order = range(S - 1, -1, -1) if backwards else range(S)
    out = [None] * S
    for t in order:
        new = step(x[:, t], *states)
        if mask is not None:
            m = mask[:, t][:, None]
            new = [m * n + (1 - m) * s for n, s in zip(new, states)]
        states = new
        out[t] = states[-1]
    return np.stack(out, axis=1)


def vals(*params):
    return [p.get_value() for p in params]


def rnn_ref(layer, x, mask=None):
    W, Wh, b = vals(layer.W_in_to_hid, layer.W_hid_to_hid, layer.b)
    h0 = np.zeros((B, U), "float32")
    return np_loop(lambda xt, h: [np.tanh(xt @ W + h @ Wh + b)], x, [h0], mask,
                   layer.backwards)


def lstm_ref(l, x, mask=None):
    g = {n: vals(getattr(l, f"W_in_to_{n}"), getattr(l, f"W_hid_to_{n}"),
                 getattr(l, f"b_{n}")) for n in ("ingate", "forgetgate", "cell", "outgate")}
    pc = {n: getattr(l, f"W_cell_to_{n}").get_value()
          for n in ("ingate", "forgetgate", "outgate")}

    def lin(n, xt, h):
        Wi, Wh, b = g[n]
        return xt @ Wi + h @ Wh + b

    def step(xt, c, h):
        i = sigmoid(lin("ingate", xt, h) + c * pc["ingate"])
        f = sigmoid(lin("forgetgate", xt, h) + c * pc["forgetgate"])
        c_new = f * c + i * np.tanh(lin("cell", xt, h))
        o = sigmoid(lin("outgate", xt, h) + c_new * pc["outgate"])
        return [c_new, o * np.tanh(c_new)]
    z = np.zeros((B, U), "float32")
    return np_loop(step, x, [z, z], mask, l.backwards)


def gru_ref(l, x, mask=None, h0=None):
    g = {n: vals(getattr(l, f"W_in_to_{n}"), getattr(l, f"W_hid_to_{n}"),
                 getattr(l, f"b_{n}")) for n in ("resetgate", "updategate", "hidden_update")}

    def step(xt, h):
        r = sigmoid(xt @ g["resetgate"][0] + h @ g["resetgate"][1] + g["resetgate"][2])
        u = sigmoid(xt @ g["updategate"][0] + h @ g["updategate"][1] + g["updategate"][2])
        Wc, Whc, bc = g["hidden_update"]
        c = np.tanh(xt @ Wc + r * (h @ Whc) + bc)
        return [(1 - u) * h + u * c]
    h0 = np.zeros((B, U), "float32") if h0 is None else h0
    return np_loop(step, x, [h0], mask, l.backwards)


@pytest.mark.parametrize("backwards", [False, True])
def test_recurrent_layer_matches_numpy(backwards):
    l_in = InputLayer((None, S, F))
    l = RecurrentLayer(l_in, U, nonlinearity=T.tanh, W_in_to_hid=init.Normal(0.5),
                       W_hid_to_hid=init.Normal(0.5), b=init.Normal(0.1),
                       backwards=backwards)
    assert l.output_shape == (None, S, U)
    x = data()
    np.testing.assert_allclose(run(l, x), rnn_ref(l, x), rtol=1e-4, atol=1e-5)


def test_recurrent_layer_options_agree():
    x = data(1)
    outs = []
    for kw in ({}, {"unroll_scan": True}, {"precompute_input": False}):
        l = RecurrentLayer(InputLayer((None, S, F)), U, nonlinearity=T.tanh,
                           W_in_to_hid=np.full((F, U), 0.1, "float32"),
                           W_hid_to_hid=np.eye(U, dtype="float32") * 0.5,
                           b=np.zeros(U, "float32"), **kw)
        outs.append(run(l, x))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outs[0], outs[2], rtol=1e-5, atol=1e-6)


def test_recurrent_layer_mask_and_only_return_final():
    l_in = InputLayer((None, S, F))
    l_mask = InputLayer((None, S))
    l = RecurrentLayer(l_in, U, nonlinearity=T.tanh, mask_input=l_mask,
                       W_hid_to_hid=init.Normal(0.5))
    lf = RecurrentLayer(l_in, U, nonlinearity=T.tanh, mask_input=l_mask,
                        W_in_to_hid=l.W_in_to_hid, W_hid_to_hid=l.W_hid_to_hid, b=l.b,
                        only_return_final=True)
    assert lf.output_shape == (None, U)
    x, m = data(), mask_data()
    f = symnet.function([l_in.input_var, l_mask.input_var], get_output([l, lf]),
                        mode="py")
    full, final = f(x, m)
    ref = rnn_ref(l, x, m)
    np.testing.assert_allclose(full, ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(final, ref[:, -1], rtol=1e-4, atol=1e-5)
    # masked steps carry the state: sequence 2 keeps its first state
    np.testing.assert_allclose(final[2], ref[2, 0], rtol=1e-5)


def test_custom_recurrent_layer_params_and_values():
    l_in = InputLayer((None, S, F))
    l_ih = DenseLayer(InputLayer((None, F)), U, nonlinearity=None, name="ih")
    l_hh = DenseLayer(InputLayer((None, U)), U, nonlinearity=None, b=None, name="hh")
    l = CustomRecurrentLayer(l_in, l_ih, l_hh, nonlinearity=T.tanh, learn_init=True)
    names = [p.name for p in get_all_params(l)]
    assert names == ["hid_init", "ih.W", "ih.b", "hh.W"]
    x = data()
    W, b, Wh = l_ih.W.get_value(), l_ih.b.get_value(), l_hh.W.get_value()
    ref = np_loop(lambda xt, h: [np.tanh(xt @ W + b + h @ Wh)], x,
                  [np.zeros((B, U), "float32")])
    np.testing.assert_allclose(run(l, x), ref, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="must match"):
        CustomRecurrentLayer(l_in, DenseLayer(InputLayer((None, F)), U + 1), l_hh)


@pytest.mark.parametrize("backwards,unroll", [(False, False), (True, False), (True, True)])
def test_lstm_matches_numpy(backwards, unroll):
    l_in, l_mask = InputLayer((None, S, F)), InputLayer((None, S))
    l = LSTMLayer(l_in, U, mask_input=l_mask, backwards=backwards, unroll_scan=unroll,
                  ingate=Gate(W_in=init.Normal(0.5), W_hid=init.Normal(0.5)))
    assert l.output_shape == (None, S, U)
    x, m = data(2), mask_data()
    f = symnet.function([l_in.input_var, l_mask.input_var], get_output(l), mode="py")
    np.testing.assert_allclose(f(x, m), lstm_ref(l, x, m), rtol=1e-4, atol=1e-5)


def fixed_gate(seed, W_cell=True, nonlinearity=T.nnet.sigmoid):
    r = np.random.RandomState(seed)
    return Gate(W_in=r.randn(F, U).astype("float32") * 0.5,
                W_hid=r.randn(U, U).astype("float32") * 0.5,
                W_cell=r.randn(U).astype("float32") if W_cell else None,
                b=r.randn(U).astype("float32") * 0.1, nonlinearity=nonlinearity)


def test_lstm_unrolled_and_not_precomputed_agree():
    x = data(3)
    outs = []
    for kw in ({}, {"unroll_scan": True}, {"precompute_input": False}):
        l = LSTMLayer(InputLayer((B, S, F)), U, only_return_final=True,
                      ingate=fixed_gate(0), forgetgate=fixed_gate(1),
                      cell=fixed_gate(2, False, T.tanh), outgate=fixed_gate(3), **kw)
        outs.append(run(l, x))
    assert outs[0].shape == (B, U)
    for o in outs[1:]:
        np.testing.assert_allclose(outs[0], o, rtol=1e-5, atol=1e-6)


def test_gru_unrolled_and_not_precomputed_agree():
    x = data(3)
    outs = []
    for kw in ({}, {"unroll_scan": True, "backwards": True},
               {"precompute_input": False, "backwards": True}):
        l = GRULayer(InputLayer((B, S, F)), U, resetgate=fixed_gate(0, False),
                     updategate=fixed_gate(1, False), hidden_update=fixed_gate(
                         2, False, T.tanh), **kw)
        outs.append(run(l, x))
    assert outs[0].shape == (B, S, U)
    np.testing.assert_allclose(outs[1], outs[2], rtol=1e-5, atol=1e-6)
    l = GRULayer(InputLayer((B, S, F)), U, resetgate=fixed_gate(0, False),
                 updategate=fixed_gate(1, False), hidden_update=fixed_gate(2, False, T.tanh))
    np.testing.assert_allclose(outs[0], gru_ref(l, x), rtol=1e-4, atol=1e-5)


def test_lstm_without_peepholes_has_no_cell_weights():
    l = LSTMLayer(InputLayer((None, S, F)), U, peepholes=False)
    names = {p.name for p in l.get_params()}
    assert not any(n.startswith("W_cell") for n in names)
    assert run(l, data()).shape == (B, S, U)


@pytest.mark.parametrize("backwards", [False, True])
def test_gru_matches_numpy(backwards):
    l_in, l_mask = InputLayer((None, S, F)), InputLayer((None, S))
    l = GRULayer(l_in, U, mask_input=l_mask, backwards=backwards,
                 resetgate=Gate(W_in=init.Normal(0.5), W_hid=init.Normal(0.5), W_cell=None))
    x, m = data(4), mask_data()
    f = symnet.function([l_in.input_var, l_mask.input_var], get_output(l), mode="py")
    np.testing.assert_allclose(f(x, m), gru_ref(l, x, m), rtol=1e-4, atol=1e-5)


def test_gru_hid_init_from_layer():
    l_in, l_h0 = InputLayer((None, S, F)), InputLayer((None, U))
    l = GRULayer(l_in, U, hid_init=l_h0)
    assert l.hid_init is l_h0 and "hid_init" not in {p.name for p in l.get_params()}
    x = data(5)
    h0 = np.random.RandomState(9).randn(B, U).astype("float32")
    f = symnet.function([l_in.input_var, l_h0.input_var], get_output(l), mode="py")
    np.testing.assert_allclose(f(x, h0), gru_ref(l, x, h0=h0), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", [RecurrentLayer, LSTMLayer, GRULayer])
def test_gradients_reach_every_param_and_sgd_lowers_loss(cls):
    l_in = InputLayer((None, S, F))
    l = cls(l_in, U, learn_init=True, grad_clipping=5.0, only_return_final=True)
    target = T.matrix("target")
    loss = T.mean((get_output(l) - target) ** 2)
    params = get_all_params(l, trainable=True)
    assert any("hid_init" in p.name for p in params)
    grads = symnet.grad(loss, params)
    x = data(6)
    y = np.random.RandomState(7).uniform(-0.5, 0.5, (B, U)).astype("float32")
    gvals = symnet.function([l_in.input_var, target], grads, mode="py")(x, y)
    for p, g in zip(params, gvals):
        assert g.shape == p.get_value().shape
        if "init" not in p.name:
            assert np.abs(g).sum() > 0, p.name
    train = symnet.function([l_in.input_var, target], loss,
                            updates=sgd(loss, params, 0.5), mode="py")
    losses = [float(train(x, y)) for _ in range(8)]
    assert losses[-1] < losses[0]


def test_rnn_gradient_matches_finite_differences():
    l_in = InputLayer((None, S, F))
    l = RecurrentLayer(l_in, U, nonlinearity=T.tanh, W_hid_to_hid=init.Normal(0.3))
    x = data(8).astype("float64")
    W = l.W_hid_to_hid
    loss = T.sum(get_output(l) ** 2)
    f = symnet.function([l_in.input_var], [loss, symnet.grad(loss, W)], mode="py",
                        allow_input_downcast=True)
    _, g = f(x)
    base = W.get_value()
    eps = 1e-2
    for idx in [(0, 0), (2, 3), (5, 1)]:
        vs = []
        for sign in (1, -1):
            wv = base.copy()
            wv[idx] += sign * eps
            W.set_value(wv)
            vs.append(float(f(x)[0]))
        W.set_value(base)
        np.testing.assert_allclose(g[idx], (vs[0] - vs[1]) / (2 * eps), rtol=2e-2, atol=1e-3)


def test_gradient_steps_truncates():
    l_in = InputLayer((None, S, F))
    l = RecurrentLayer(l_in, U, nonlinearity=T.tanh, gradient_steps=1,
                       only_return_final=True)
    gx = symnet.grad(T.sum(get_output(l)), l_in.input_var)
    g = symnet.function([l_in.input_var], gx, mode="py")(data())
    assert np.all(g[:, :-1] == 0) and np.abs(g[:, -1]).sum() > 0


def test_errors():
    with pytest.raises(ValueError, match="unroll_scan"):
        RecurrentLayer(InputLayer((None, None, F)), U, unroll_scan=True)
    with pytest.raises(ValueError, match="sequence_length"):
        LSTMLayer(InputLayer((None, F)), U)
    with pytest.raises(ValueError, match="peepholes"):
        LSTMLayer(InputLayer((None, S, F)), U, ingate=Gate(W_cell=None))
