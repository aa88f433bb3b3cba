"""``scan_join_transposed`` (numba only): a Scan's non-sequence
``join(1, A, B, ...).T`` becomes ``join(0, A.T, B.T, ...)``, already in C
order; the graph changes as stated, the values do not (against numpy
loops, the py backend and the numba backend without the rewrite)."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.scan import Scan
from symnet.tensor.ops.elemwise import DimShuffle
from symnet.tensor.ops.shape import Join

rng = np.random.default_rng(11)
NAME = "scan_join_transposed"


def without(ins, outs):
    return symnet.function(ins, outs, mode=Mode("numba", exclude=(NAME,)))


def joins(f):
    """(axis, [is each part a transpose]) of every Join in ``f``'s graph."""
    return sorted((n.op.axis, [p.owner is not None and isinstance(p.owner.op, DimShuffle)
                               and p.owner.op.new_order == (1, 0) for p in n.inputs])
                  for n in f.fgraph.toposort() if isinstance(n.op, Join))


def scan_nonseqs(f):
    (node,) = [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]
    op = node.op
    return node.inputs[1 + op.n_seqs + op.n_states:]


def gated_rnn(dtype, parts=3):
    """``h_t = tanh(h_{t-1} @ join(1, A, B, C).T)`` (parts 12 x 4), plus
    the join itself read by a second output (it must stay for that reader)."""
    h0 = T.TensorType(dtype, shape=(None, 12))("h0")
    ws = [T.TensorType(dtype, shape=(12, 4))(f"w{k}") for k in range(parts)]
    J = T.join(1, *ws)                              # (12, 12)
    h, _ = symnet.scan(lambda h, w: T.tanh(T.dot(h, w)),
                       outputs_info=h0, non_sequences=J.T, n_steps=5)
    return [h0] + ws, [h, J.sum()]


def numpy_loop(h0, ws, steps=5):
    J = np.concatenate(ws, axis=1)
    out, h = [], h0
    for _ in range(steps):
        h = np.tanh(h @ J.T)
        out.append(h)
    return np.stack(out), J.sum()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_transposed_join_becomes_a_join_of_transposes(dtype):
    ins, outs = gated_rnn(dtype)
    f = symnet.function(ins, outs, mode="numba")
    ref = without(ins, outs)
    assert f.rewrite_stats.get(NAME, 0) == 1 and ref.rewrite_stats.get(NAME, 0) == 0
    # before: one Join along axis 1, read transposed by the loop; after: that
    # Join stays (the sum reads it) and the loop reads a new Join along axis 0
    # of the three parts' transposes
    assert joins(ref) == [(1, [False] * 3)]
    assert joins(f) == [(0, [True] * 3), (1, [False] * 3)]
    (w,) = scan_nonseqs(f)
    assert isinstance(w.owner.op, Join) and w.owner.op.axis == 0
    (w0,) = scan_nonseqs(ref)
    assert isinstance(w0.owner.op, DimShuffle) and w0.type == w.type
    h0 = rng.normal(size=(2, 12)).astype(dtype)
    ws = [(rng.normal(size=(12, 4)) * 0.3).astype(dtype) for _ in range(3)]
    want_h, want_s = numpy_loop(h0.astype("float64"), [v.astype("float64") for v in ws])
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12)
    py = symnet.function(ins, outs, mode="py")(h0, *ws)
    for got in (f(h0, *ws), ref(h0, *ws), py):
        np.testing.assert_allclose(got[0], want_h, **tol)
        np.testing.assert_allclose(got[1], want_s, **tol)
        assert got[0].dtype == dtype


def test_left_alone_a_join_along_rows_a_plain_transpose_and_a_join_no_loop_reads():
    h0 = T.dmatrix("h0")
    a, b = T.dmatrix("a"), T.dmatrix("b")

    def loop(w):
        h, _ = symnet.scan(lambda h, w: T.tanh(T.dot(h, w)), outputs_info=h0,
                           non_sequences=w, n_steps=3)
        return h

    def np_loop(h, w):
        out = []
        for _ in range(3):
            h = np.tanh(h @ w)
            out.append(h)
        return np.stack(out)
    h, sq = rng.normal(size=(2, 6)), rng.normal(size=(6, 6)) * 0.3
    av, bv = rng.normal(size=(3, 6)) * 0.3, rng.normal(size=(3, 6)) * 0.3
    cases = [   # (graph, inputs' values, numpy's values)
        (loop(T.join(0, a, b).T), (h, av, bv), np_loop(h, np.concatenate([av, bv], 0).T)),
        (loop(a.T), (h, sq, bv), np_loop(h, sq.T)),
        (T.dot(T.join(1, a, b).T, h0.T), (h[:, :3], av[:, :3], bv[:, :3]),
         np.concatenate([av[:, :3], bv[:, :3]], 1).T @ h[:, :3].T)]
    for out, vals, want in cases:
        f = symnet.function([h0, a, b], out, mode="numba", on_unused_input="ignore")
        assert f.rewrite_stats.get(NAME, 0) == 0
        np.testing.assert_allclose(f(*vals), want, rtol=1e-12)


def test_lstm_gradient_rewritten_and_same_as_py_and_without_it():
    """An LSTM layer's BPTT reads its joined recurrent weight transposed:
    rewritten there; gradients agree with py and with numba without it."""
    from symnet.layers import InputLayer, LSTMLayer, get_all_params, get_output
    l_in = InputLayer((3, 5, 4))
    layer = LSTMLayer(l_in, 6, only_return_final=True)
    loss = T.sum(get_output(layer) ** 2)
    params = get_all_params(layer, trainable=True)
    grads = symnet.grad(loss, params)
    f = symnet.function([l_in.input_var], grads, mode="numba")
    assert f.rewrite_stats.get(NAME, 0) == 1
    assert any(axis == 0 and all(t) and len(t) == 4 for axis, t in joins(f))
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    got = f(x)
    for want in (symnet.function([l_in.input_var], grads, mode="py")(x),
                 without([l_in.input_var], grads)(x)):
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_verify_grad_through_the_rewritten_loop():
    """verify_grad through a loop whose weight is the rewritten join, both
    backends (the rewrite only fires on numba)."""
    def fun(a, b):
        h, _ = symnet.scan(lambda h, w: T.tanh(T.dot(h, w)),
                           outputs_info=T.ones((2, 3), "float64") * 0.3,
                           non_sequences=T.join(1, a, b).T, n_steps=3)
        return h[-1].sum()
    pts = [rng.normal(size=(3, 2)) * 0.5, rng.normal(size=(3, 1)) * 0.5]
    for mode in ("py", "numba"):
        symnet.gradient.verify_grad(fun, pts, rng=np.random.RandomState(0), mode=mode)


@pytest.mark.parametrize("axis", [0, 1])
def test_the_numba_join_of_transposes_writes_a_c_ordered_result(axis):
    """The rewrite's join, in the numba driver: the parts transposed straight
    into a C-ordered result (numpy alone returns the join of F views in F
    order); the values, a kernel reading it, and the error for parts whose
    other axis differs are those of py."""
    from symnet.backend.numba_cpu.shape import _join_in_njit
    a, b = T.dmatrix("a"), T.dmatrix("b")
    j = T.join(axis, a.T, b.T)
    f = symnet.function([a, b], [j, T.tanh(j) * 2], mode="numba")
    (node,) = [n for n in f.fgraph.toposort() if isinstance(n.op, Join)]
    assert not _join_in_njit(node)          # numba's concatenate takes no ``out=``
    assert "out=_np.empty(" in f.source
    av, bv = rng.normal(size=(3, 4)), rng.normal(size=(3, 4) if axis == 0 else (2, 3))
    if axis == 1:
        av = rng.normal(size=(4, 3))
    want = np.concatenate([av.T, bv.T], axis)
    got, th = f(av, bv)
    assert got.flags.c_contiguous and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(th, np.tanh(want) * 2, rtol=1e-12)
    py = symnet.function([a, b], j, mode="py")
    bad = rng.normal(size=(5, 4) if axis == 1 else (2, 4))   # the other axis differs
    for g in (f, py):
        with pytest.raises(ValueError, match="must match exactly"):
            g(av, bad)
