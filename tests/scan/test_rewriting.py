"""The scan rewrites: each changes the graph as stated (the Scan's inner
nodes counted before and after) and keeps the values (against the same
graph compiled with the scan rewrites switched off)."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.graph.traversal import io_toposort
from symnet.scan import Scan
from symnet.tensor.ops.blas import Dot
from symnet.tensor.ops.elemwise import DimShuffle, Elemwise

MODES = ["py", "numba"]
rng = np.random.default_rng(3)


def inner_nodes(op):
    return io_toposort(op.inner_inputs, op.inner_outputs)


def scans(f):
    return [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]


def check_values(ins, outs, args, mode, fired):
    f = symnet.function(ins, outs, mode=Mode(mode))
    ref = symnet.function(ins, outs, mode=Mode("py", exclude=("scan",)))
    assert all(f.rewrite_stats.get(name, 0) >= 1 for name in fired), f.rewrite_stats
    assert not any(k.startswith("scan_") for k in ref.rewrite_stats)
    for a, b in zip(f(*args), ref(*args)):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    return f


def rnn(x, h0, W, U):
    return symnet.scan(lambda v, h, W, U: T.tanh(T.dot(v, W) + T.dot(h, U)),
                       sequences=x, outputs_info=h0, non_sequences=[W, U])[0]


@pytest.mark.parametrize("mode", MODES)
def test_push_out_turns_x_t_dot_w_into_one_gemm(mode):
    x, h0, W, U = T.dtensor3("x"), T.dmatrix("h0"), T.dmatrix("W"), T.dmatrix("U")
    h = rnn(x, h0, W, U)
    before = inner_nodes(h.owner.op)
    assert sum(isinstance(n.op, Dot) for n in before) == 2
    args = (rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(3, 4)),
            rng.normal(size=(4, 4)) * 0.5)
    f = check_values([x, h0, W, U], h, args, mode, ["scan_push_out"])
    (node,) = scans(f)
    after = inner_nodes(node.op)
    # only h @ U stays in the loop; x @ W is one Dot outside over every step
    assert sum(isinstance(n.op, Dot) for n in after) == 1
    assert len(after) < len(before)
    outer_dots = [n for n in f.fgraph.toposort() if isinstance(n.op, Dot)]
    assert len(outer_dots) == 1 and outer_dots[0].inputs[0].ndim == 2
    assert outer_dots[0].inputs[1] is W or W in outer_dots[0].inputs


@pytest.mark.parametrize("mode", MODES)
def test_push_out_leaves_elementwise_of_sequences_read_only_in_the_loop(mode):
    # a_t + b_t feeds only the state update: outside it would be one more
    # pass over (steps, ...) arrays for the same adds, so it stays inside;
    # exp(W) (no sequence) is still computed once outside
    a, b, h0, W = T.dtensor3("a"), T.dtensor3("b"), T.dmatrix("h0"), T.dmatrix("W")
    h, _ = symnet.scan(lambda a_t, b_t, h, W: T.tanh((a_t + b_t) * h + T.exp(W)),
                       sequences=[a, b], outputs_info=h0, non_sequences=W)
    args = (rng.normal(size=(5, 2, 3)), rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 3)),
            rng.normal(size=(2, 3)))
    f = check_values([a, b, h0, W], h, args, mode, ["scan_push_out"])
    (node,) = scans(f)
    op = node.op
    assert op.n_seqs == 2 and node.inputs[1] is not node.inputs[2]
    inner = inner_nodes(op)
    seq_in = set(op.inner_inputs[:2])
    assert any(set(n.inputs) == seq_in for n in inner)      # the add is in the loop
    assert not any("exp" in str(n.op) for n in inner)       # exp(W) is not
    # no elementwise pass over the (steps, 2, 3) sequences outside the loop
    assert not [n for n in f.fgraph.toposort()
                if isinstance(n.op, Elemwise) and n.outputs[0].ndim == 3]


@pytest.mark.parametrize("mode", MODES)
def test_push_out_hoists_loop_invariants(mode):
    h0, W = T.dvector("h0"), T.dmatrix("W")
    h, _ = symnet.scan(lambda h, W: T.tanh(T.dot(h, T.exp(W) * 0.5)), outputs_info=h0,
                       non_sequences=W, n_steps=4)
    n_before = len(inner_nodes(h.owner.op))
    f = check_values([h0, W], h, (rng.normal(size=3), rng.normal(size=(3, 3))), mode,
                     ["scan_push_out"])
    (node,) = scans(f)
    inner = inner_nodes(node.op)
    assert len(inner) < n_before
    # every node left inside depends on the state (nothing on W alone)
    dep = {node.op.inner_inputs[0]}
    for n in inner:
        if any(v in dep for v in n.inputs):
            dep.update(n.outputs)
    assert all(n.outputs[0] in dep for n in inner)


@pytest.mark.parametrize("mode", MODES)
def test_unused_outputs_and_inputs_are_dropped(mode):
    x, y, h0 = T.dvector("x"), T.dvector("y"), T.dscalar("h0")
    (h, z), _ = symnet.scan(lambda a, b, h: [h * 0.5 + a, T.exp(b) * a],
                            sequences=[x, y], outputs_info=[h0, None])
    op = h.owner.op
    assert len(op.inner_outputs) == 2 and op.n_seqs == 2
    f = check_values([x, y, h0], h, (rng.normal(size=5), rng.normal(size=5), 0.3), mode,
                     ["scan_drop_unused"])
    (node,) = scans(f)
    assert len(node.outputs) == 1 and node.op.n_seqs == 1
    assert len(inner_nodes(node.op)) < len(inner_nodes(op))


@pytest.mark.parametrize("mode", MODES)
def test_only_last_step_is_kept(mode):
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    h, _ = symnet.scan(lambda v, h: T.tanh(h * 0.9 + v), sequences=x, outputs_info=h0)
    f = check_values([x, h0], h[-1], (rng.normal(size=(6, 3)), rng.normal(size=3)), mode,
                     ["scan_keep_last"])
    (node,) = scans(f)
    assert node.op.keep == [1]
    assert len(inner_nodes(node.op)) == len(inner_nodes(h.owner.op))
    if mode == "numba":       # a ring of lag + 1 = 2 slots, not one per step
        assert "_np.empty((2,)" in f.source
    # the whole output used elsewhere: every step is stored
    g = symnet.function([x, h0], [h[-1], h.sum()], mode=Mode(mode))
    assert scans(g)[0].op.keep == [None]
    with pytest.raises(IndexError):
        f(np.zeros((0, 3)), np.zeros(3))


@pytest.mark.parametrize("mode", MODES)
def test_last_steps_of_two_taps_and_outputs_without_state(mode):
    init = T.dvector("init")
    (y, z), _ = symnet.scan(lambda y2, y1: [y2 + y1, y1 * 2],
                            outputs_info=[{"initial": init, "taps": [-2, -1]}, None],
                            n_steps=7)
    check_values([init], [y[-1], z[-1]], (np.array([1.0, 1.0]),), mode, ["scan_keep_last"])


@pytest.mark.parametrize("mode", MODES)
def test_constant_length_one_and_zero(mode):
    x, h0, W = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W")
    h1, _ = symnet.scan(lambda v, h, W: T.tanh(T.dot(h, W) + v), sequences=x,
                        outputs_info=h0, non_sequences=W, n_steps=1)
    args = (rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(2, 2)))
    f = check_values([x, h0, W], h1, args, mode, ["scan_trivial_length"])
    assert scans(f) == [] and f(*args).shape == (1, 2)
    h0_, _ = symnet.scan(lambda v, h: h + v, sequences=x, outputs_info=h0, n_steps=0)
    f = check_values([x, h0], h0_, args[:2], mode, ["scan_trivial_length"])
    assert scans(f) == [] and f(*args[:2]).shape == (0, 2)


@pytest.mark.parametrize("mode", MODES)
def test_running_sums_of_the_gradient_leave_the_loop(mode):
    x, h0, W, U, b = (T.dtensor3("x"), T.dmatrix("h0"), T.dmatrix("W"), T.dmatrix("U"),
                      T.dvector("b"))
    h, _ = symnet.scan(lambda v, h, W, U, b: T.tanh(T.dot(v, W) + T.dot(h, U) + b),
                       sequences=x, outputs_info=h0, non_sequences=[W, U, b])
    grads = symnet.grad(T.sum(h[-1] ** 2), [W, U, b, h0])
    back = [n for n in symnet.graph.traversal.toposort(grads)
            if isinstance(n.op, Scan) and (n.op.name or "").startswith("grad_of")]
    (bnode,) = {n for n in back}
    n_states_before = bnode.op.n_states
    args = (rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(3, 4)),
            rng.normal(size=(4, 4)) * 0.5, rng.normal(size=4))
    f = check_values([x, h0, W, U, b], grads, args, mode, ["scan_sum_out"])
    (fwd, bwd) = scans(f)
    # only the pending gradient of h is carried back; the sums for W, U and b
    # are taken after the loop, W's and U's as one GEMM each
    assert n_states_before == 4 and bwd.op.n_states == 1
    assert len(inner_nodes(bwd.op)) < len(inner_nodes(bnode.op))
    gemms = [n for n in f.fgraph.toposort() if isinstance(n.op, Dot) and
             n.inputs[0].owner is not None and isinstance(n.inputs[0].owner.op, DimShuffle)]
    assert len(gemms) == 2 and all(n.inputs[1].ndim == 2 for n in gemms)


@pytest.mark.parametrize("mode", MODES)
def test_outputs_stacking_the_same_value_are_merged(mode):
    x, h0 = T.dvector("x"), T.dscalar("h0")

    def step(v, h):
        y = T.exp(h) * v
        return [h * 0.5 + v, y, y]
    (h, a, b), _ = symnet.scan(step, sequences=x, outputs_info=[h0, None, None])
    assert len(h.owner.op.inner_outputs) == 3
    f = check_values([x, h0], [h, a, b * 2], (rng.normal(size=4), 0.2), mode,
                     ["scan_merge_outputs"])
    (node,) = scans(f)
    assert len(node.outputs) == 2


@pytest.mark.parametrize("mode", MODES)
def test_scans_over_the_same_sequences_and_steps_are_merged(mode):
    x, h0, W = T.dtensor3("x"), T.dmatrix("h0"), T.dmatrix("W")
    # two loops over x: a recurrence and a running max, sharing x_t @ W
    h, _ = symnet.scan(lambda v, h, W: T.tanh(T.dot(v, W) + h), sequences=x,
                       outputs_info=h0, non_sequences=W)
    m, _ = symnet.scan(lambda v, m, W: T.maximum(m, T.dot(v, W)), sequences=x,
                       outputs_info=h0, non_sequences=W)
    n_before = len(inner_nodes(h.owner.op)) + len(inner_nodes(m.owner.op))
    args = (rng.normal(size=(5, 2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(3, 4)))
    f = check_values([x, h0, W], [h, m * 2], args, mode, ["scan_merge"])
    (node,) = scans(f)            # one loop computes both
    assert len(node.outputs) == 2 and node.op.n_states == 2
    after = inner_nodes(node.op)
    assert len(after) < n_before
    # by hand: the loops as Python loops over numpy
    xv, hv, Wv = args
    hs, ms, hh, mm = [], [], hv, hv
    for t in range(5):
        hh, mm = np.tanh(xv[t] @ Wv + hh), np.maximum(mm, xv[t] @ Wv)
        hs.append(hh)
        ms.append(mm)
    got_h, got_m = f(*args)
    np.testing.assert_allclose(got_h, np.stack(hs), rtol=1e-12)
    np.testing.assert_allclose(got_m, 2 * np.stack(ms), rtol=1e-12)


def test_scans_that_cannot_be_merged_stay_apart():
    x, y, h0, k = T.dmatrix("x"), T.dmatrix("y"), T.dvector("h0"), T.iscalar("k")
    step = lambda v, h: h + v     # noqa: E731
    a, _ = symnet.scan(step, sequences=x, outputs_info=h0)
    b, _ = symnet.scan(step, sequences=y, outputs_info=h0)          # no common sequence
    c, _ = symnet.scan(step, sequences=x, outputs_info=a[-1])       # reads a's result
    d, _ = symnet.scan(step, sequences=x, outputs_info=h0, n_steps=k)  # another length
    f = symnet.function([x, y, h0, k], [a, b, c, d], mode=Mode("py"))
    assert "scan_merge" not in f.rewrite_stats
    assert len(scans(f)) == 4
    xv, yv, hv = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=3)
    ga, gb, gc, gd = f(xv, yv, hv, 2)
    np.testing.assert_allclose(ga, hv + np.cumsum(xv, 0))
    np.testing.assert_allclose(gb, hv + np.cumsum(yv, 0))
    np.testing.assert_allclose(gc, ga[-1] + np.cumsum(xv, 0))
    np.testing.assert_allclose(gd, (hv + np.cumsum(xv, 0))[:2])


@pytest.mark.parametrize("mode", MODES)
def test_push_out_keeps_static_shapes_of_hoisted_shape_vectors(mode):
    # A conv1d written as Lasagne writes it (conv2d over W.dimshuffle(0, 1,
    # 'x', 2)) inside the loop, as pixel-rnn-lasagne's DiagLSTM does: the
    # gradient's filter shape is hoisted out of the loop, and the weight
    # gradient must keep its static height of 1 for the DimShuffle that
    # drops that axis (a placeholder for the shape used to lose it:
    # "dimshuffle(0, 1, 3) drops axis 2 ... which is not broadcastable")
    from symnet.tensor.nnet import conv2d
    x = T.dtensor3("x")
    W = symnet.shared(rng.uniform(-1, 1, (3, 1, 2)), name="W")

    def step(x_t, h):
        inp = (x_t + h.sum(axis=1)).dimshuffle(0, "x", "x", 1)
        out = conv2d(inp, W.dimshuffle(0, 1, "x", 2), border_mode="full", filter_flip=False)
        return T.tanh(out[:, :, 0, :-1])
    hs = symnet.scan(step, sequences=x,
                     outputs_info=T.zeros((x.shape[1], 3, x.shape[2]), dtype="float64"))[0]
    cost = hs[-1].sum()
    g = symnet.grad(cost, W)
    xv = rng.uniform(-1, 1, (4, 2, 5))
    f = check_values([x], [cost, g], (xv,), mode, ["scan_push_out"])
    # the gradient against central differences of the cost
    c = symnet.function([x], cost, mode="py")
    w0, eps = W.get_value(), 1e-6
    for ix in [(0, 0, 0), (2, 0, 1)]:
        w = w0.copy(); w[ix] += eps
        W.set_value(w)
        plus = c(xv)
        w[ix] -= 2 * eps
        W.set_value(w)
        minus = c(xv)
        W.set_value(w0)
        assert f(xv)[1][ix] == pytest.approx((plus - minus) / (2 * eps), rel=1e-6, abs=1e-8)
