"""The whole scan loop as one njit function (``scan.njit_loop``) with the
inner graph's products (``Dot``) inside it, through ``lib/cblas.py``:
Lasagne's LSTM and GRU layers with masks, forwards and backwards, values and
gradients against the Python loop and the py backend."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu.lib import cblas
from symnet.backend.numba_cpu.scan import _NjitLoop
from symnet.compile.mode import Mode
from symnet.graph.traversal import io_toposort
from symnet.layers import GRULayer, InputLayer, LSTMLayer, get_all_params, get_output
from symnet.scan import Scan
from symnet.tensor.ops.blas import Dot
from tests.layers.test_recurrent import F, S, U, data, mask_data
from tests.scan.test_recurrent_layers import build

pytestmark = pytest.mark.skipif(not cblas.AVAILABLE, reason="numpy's BLAS has no CBLAS gemm")


def _njit_mode():
    mode = Mode("numba", tiered=False)
    mode.njit_driver = True
    return mode


def _loops(f):
    return [c for c in f.thunk.linker.consts if isinstance(c, _NjitLoop)]


def _cost(l_in, l_mask, layer):
    """(inputs, output, cost, trainable params) of a recurrent layer."""
    out = get_output(layer)
    return ([l_in.input_var, l_mask.input_var], out,
            T.sum(out[:, -1] ** 2) + T.sum(T.tanh(out)), get_all_params(layer, trainable=True))


@pytest.mark.parametrize("cls", [LSTMLayer, GRULayer])
@pytest.mark.parametrize("backwards", [False, True])
def test_recurrent_layer_loops_with_their_gemm_in_njit_code(cls, backwards):
    ins, out, cost, params = _cost(*build(cls, False, backwards))
    outs = [cost] + symnet.grad(cost, params)
    x, m = data(6), mask_data()
    f = symnet.function(ins, outs, mode=_njit_mode())
    got = f(x, m)
    scans = [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]
    loops = _loops(f)
    assert len(scans) == 2 and len(loops) == 2           # forward and BPTT
    for loop in loops:       # every step ran in njit code, the products too
        assert loop.fn is not None and not loop.failed
        assert "_dot(" in loop.source and "_np.dot(" not in loop.source
    for s in scans:          # h_{t-1} @ W_hid (and its BPTT product) inside each loop
        inner = io_toposort(s.op.inner_inputs, s.op.inner_outputs)
        assert any(isinstance(n.op, Dot) for n in inner)
    python_loop = symnet.function(ins, outs, mode=Mode("numba", tiered=False))(x, m)
    assert not _loops(symnet.function(ins, outs, mode=Mode("numba", tiered=False)))
    ref = symnet.function(ins, outs, mode="py")(x, m)
    for a, b, c in zip(got, python_loop, ref):
        assert np.shape(a) == np.shape(c) and np.asarray(a).dtype == np.asarray(c).dtype
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-5)


def test_njit_loop_with_a_float32_recurrence_and_go_backwards():
    x, h0 = T.ftensor3("x"), T.fmatrix("h0")
    W = symnet.shared(np.random.default_rng(0).normal(size=(4, 4)).astype("float32"), name="W")
    h, _ = symnet.scan(lambda v, h: T.tanh(T.dot(h, W) + v), sequences=x, outputs_info=h0,
                       go_backwards=True)
    loss = T.sum(h[-1] ** 2)
    outs = [h, symnet.grad(loss, W)]
    f = symnet.function([x, h0], outs, mode=_njit_mode())
    rng = np.random.default_rng(1)
    xv = rng.normal(size=(5, 3, 4)).astype("float32")
    hv = rng.normal(size=(3, 4)).astype("float32")
    got = f(xv, hv)
    # the forward loop at least (a BPTT scan keeping only its last steps stays in Python)
    assert _loops(f) and all(loop.fn is not None and not loop.failed for loop in _loops(f))
    hs, cur, w = [], hv.astype("float64"), W.get_value().astype("float64")
    for v in xv[::-1]:
        cur = np.tanh(cur @ w + v)
        hs.append(cur)
    np.testing.assert_allclose(got[0], np.array(hs), rtol=1e-5, atol=1e-6)
    want = symnet.function([x, h0], outs, mode="py")(xv, hv)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-4, atol=1e-5)
    assert got[0].dtype == np.float32 and got[1].dtype == np.float32


def test_verify_grad_through_a_scan_with_a_product_in_its_njit_loop():
    from symnet.gradient import verify_grad
    rng = np.random.default_rng(4)

    def fun(x, h0, W):
        h, _ = symnet.scan(lambda v, h, W: T.tanh(T.dot(h, W) + v), sequences=x,
                           outputs_info=h0, non_sequences=W)
        return h
    verify_grad(fun, [rng.normal(size=(4, 2, 3)), rng.normal(size=(2, 3)),
                      rng.normal(size=(3, 3)) * 0.5], mode=_njit_mode(),
                rng=np.random.RandomState(1))


@pytest.mark.parametrize("cls", [LSTMLayer, GRULayer])
def test_kernels_by_address_and_linked_agree_with_truncated_bptt(cls, monkeypatch):
    """The loop calling its kernels, its GEMM and ``drive`` by address (the
    default, ``kernel_ref.py``) against the loop linking them in, the Python
    loop and py: masked, backwards, BPTT truncated to 2 steps."""
    from symnet.backend.numba_cpu import scan as nscan
    l_in, l_mask = InputLayer((None, S, F)), InputLayer((None, S))
    ins, out, cost, params = _cost(l_in, l_mask, cls(l_in, U, mask_input=l_mask, backwards=True,
                                                     gradient_steps=2))
    outs = [out] + symnet.grad(cost, params)
    x, m = data(3), mask_data()
    results = {}
    for by_address in (True, False):
        monkeypatch.setattr(nscan, "BY_ADDRESS", by_address)
        f = symnet.function(ins, outs, mode=_njit_mode())
        results[by_address] = f(x, m)
        # the forward loop (the truncated BPTT keeps its last steps only: Python loop)
        (lp,) = _loops(f)
        assert lp.fn is not None and not lp.failed
        # by address: no kernel imported into the loop's module, the GEMM an argument
        assert ("import kernel as" in lp.source) != by_address
        assert ("_dot" in lp.source.split("def loop(")[1].split(")")[0]) == by_address
    python_loop = symnet.function(ins, outs, mode=Mode("numba", tiered=False))(x, m)
    ref = symnet.function(ins, outs, mode="py")(x, m)
    for a, b, c, d in zip(results[True], results[False], python_loop, ref):
        assert a.dtype == d.dtype and a.shape == d.shape
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a, d, rtol=1e-4, atol=1e-5)
    # the truncation is real: the same layer with every step in its BPTT has
    # other gradients
    _, _, cost, full_params = _cost(l_in, l_mask, cls(l_in, U, mask_input=l_mask, backwards=True))
    for p, q in zip(full_params, params):
        p.set_value(q.get_value())
    full = symnet.function(ins, symnet.grad(cost, full_params), mode="py")(x, m)
    assert any(not np.allclose(g, h, rtol=1e-3) for g, h in zip(ref[1:], full))


def test_a_step_output_of_another_shape_is_named_in_the_njit_loop():
    x = T.ftensor3("x")
    h0 = T.fmatrix("h0")
    W = symnet.shared(np.ones((4, 4), "float32"), name="W")
    h, _ = symnet.scan(lambda v, h: T.tanh(T.dot(h, W) + v), sequences=x, outputs_info=h0)
    f = symnet.function([x, h0], h, mode=_njit_mode())
    np.testing.assert_allclose(f(np.zeros((2, 3, 4), "float32"), np.zeros((3, 4), "float32")),
                               0, atol=0)
    with pytest.raises(ValueError, match="Scan"):
        # h0 of 2 rows against steps of 3 rows: the step's output has another shape
        f(np.zeros((2, 3, 4), "float32"), np.zeros((1, 4), "float32"))


def test_a_later_call_with_strided_sequences_gets_its_own_drive():
    x, h0 = T.ftensor3("x"), T.fmatrix("h0")
    W = symnet.shared(np.random.default_rng(5).normal(size=(4, 4)).astype("float32"), name="W")
    h, _ = symnet.scan(lambda v, h: T.tanh(T.dot(h, W) + v), sequences=x, outputs_info=h0)
    f = symnet.function([x, h0], h, mode=_njit_mode())
    rng = np.random.default_rng(6)
    big = rng.normal(size=(3, 2, 9)).astype("float32")
    hv = rng.normal(size=(2, 4)).astype("float32")
    (loop,) = _loops(f)
    for xv in (np.ascontiguousarray(big[:, :, :4]), big[:, :, 2:6]):   # C, then a strided view
        want, cur = [], hv.astype("float64")
        for v in xv:
            cur = np.tanh(cur @ W.get_value().astype("float64") + v)
            want.append(cur)
        np.testing.assert_allclose(f(xv, hv), np.array(want), rtol=1e-5, atol=1e-6)
        assert not loop.failed
    assert len(loop._drives) == 2       # the C steps' drive and the strided steps'


@pytest.mark.parametrize("taps", [(-1,), (-2, -1)])
def test_njit_loop_keeps_a_state_nothing_reads_in_a_ring(taps):
    """A state only the loop reads (BPTT's ``dh``/``dc``, ``scan._kept``)
    lives in a ring of ``lag + 1`` slots in the njit loop too; the loop still
    compiles, and its values (and, through BPTT's ring, gradients) are the
    Python loop's and py's."""
    from tests.scan.test_compiled import two_states, two_states_args
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    c0 = T.dmatrix("c0") if len(taps) == 2 else T.dvector("c0")
    h, _ = two_states(x, h0, c0, taps)
    args = two_states_args(taps)
    cases = [([h], 1, [None, 1], len(taps) + 1)]
    if len(taps) == 1:  # (BPTT of the two-tap state is no njit loop: a template it lacks)
        cases.append(([h] + symnet.grad(T.sum(h[-1] ** 2), [x, h0]), 2, [1, 1, None], 2))
    for outs, n_loops, keep, ring in cases:
        f = symnet.function([x, h0, c0], outs, mode=_njit_mode())
        got = f(*args)
        loops = _loops(f)
        assert len(loops) == n_loops and all(lp.fn is not None and not lp.failed
                                               for lp in loops)
        assert loops[-1].keep == keep and f"% {ring}]" in loops[-1].source
        python_loop = symnet.function([x, h0, c0], outs, mode=Mode("numba", tiered=False))(*args)
        ref = symnet.function([x, h0, c0], outs, mode="py")(*args)
        for a, b, c in zip(got, python_loop, ref):
            assert a.shape == c.shape and a.dtype == c.dtype
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(a, c, rtol=1e-10, atol=1e-12)
