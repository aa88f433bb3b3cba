"""Lasagne's recurrent layers on both backends against numpy implementations
of their equations (the references of tests/layers/test_recurrent.py), and
their gradients on numba against py."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import init
from symnet.compile.mode import Mode
from symnet.graph.traversal import io_toposort
from symnet.layers import GRULayer, Gate, InputLayer, LSTMLayer, get_all_params, get_output
from symnet.scan import Scan
from symnet.tensor.ops.blas import Dot
from tests.layers.test_recurrent import B, F, S, U, data, gru_ref, lstm_ref, mask_data

MODES = ["py", "numba"]


def build(cls, precompute, backwards=False):
    l_in, l_mask = InputLayer((None, S, F)), InputLayer((None, S))
    gate = Gate(W_in=init.Normal(0.5), W_hid=init.Normal(0.5),
                W_cell=init.Normal(0.5) if cls is LSTMLayer else None)
    kw = {"ingate": gate} if cls is LSTMLayer else {"resetgate": gate}
    return l_in, l_mask, cls(l_in, U, mask_input=l_mask, backwards=backwards,
                             precompute_input=precompute, **kw)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cls,ref", [(LSTMLayer, lstm_ref), (GRULayer, gru_ref)])
@pytest.mark.parametrize("precompute,backwards", [(True, False), (False, True)])
def test_layer_matches_numpy(mode, cls, ref, precompute, backwards):
    l_in, l_mask, l = build(cls, precompute, backwards)
    f = symnet.function([l_in.input_var, l_mask.input_var], get_output(l), mode=mode)
    x, m = data(5), mask_data()
    np.testing.assert_allclose(f(x, m), ref(l, x, m), rtol=1e-4, atol=1e-5)
    (node,) = [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]
    # with or without precompute_input, the only product left inside the loop
    # is h_{t-1} @ W_hid (gates stacked): x_t @ W_in is one GEMM before it
    op = node.op
    dots = [n for n in io_toposort(op.inner_inputs, op.inner_outputs)
            if isinstance(n.op, Dot)]
    taps = op.inner_inputs[op.n_seqs:op.n_seqs + op.n_taps]
    assert len(dots) == 1 and dots[0].inputs[0] in taps


@pytest.mark.parametrize("cls", [LSTMLayer, GRULayer])
def test_layer_gradients_on_numba_match_py_without_scan_rewrites(cls):
    l_in, l_mask, l = build(cls, False)
    params = get_all_params(l, trainable=True)
    cost = T.sum(get_output(l)[:, -1] ** 2)
    grads = symnet.grad(cost, params)
    ins = [l_in.input_var, l_mask.input_var]
    x, m = data(6), mask_data()
    f = symnet.function(ins, grads, mode="numba")
    assert f.rewrite_stats.get("scan_sum_out", 0) >= 1
    got = f(x, m)
    # the reference: py with the scan rewrites off
    want = symnet.function(ins, grads, mode=Mode("py", exclude=("scan",)))(x, m)
    for p, a, b in zip(params, got, want):
        assert a.shape == p.get_value().shape
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-5, err_msg=str(p))
