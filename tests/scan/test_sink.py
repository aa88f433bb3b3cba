"""``scan_sink_bias``: a sequence ``P + b`` (``b`` the same every step) is
passed as ``P`` with ``b`` added in the step; the sum over all steps is no
longer computed; values and gradients as without it, on both backends."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.graph.traversal import io_toposort
from symnet.scan import Scan
from symnet.tensor.ops.elemwise import DimShuffle, Elemwise

from tests.scan._recurrent import KINDS, assert_same, layer_case

MODES = ["py", "numba"]
rng = np.random.default_rng(11)


def scans(f):
    return [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]


def inner_nodes(op):
    return io_toposort(op.inner_inputs, op.inner_outputs)


def whole_sequence_adds(f):
    """Outer elementwise nodes over 3-d arrays that add a vector broadcast
    over steps and batch (the bias added over every step)."""
    def bias(v):
        return v.owner is not None and isinstance(v.owner.op, DimShuffle) and \
            v.owner.op.new_order == ("x", "x", 0)
    return [n for n in f.fgraph.toposort() if isinstance(n.op, Elemwise)
            and n.outputs[0].ndim == 3 and any(bias(v) for v in n.inputs)]


def layer(x, W, U, b, step=lambda s, h, U: T.tanh(s + T.dot(h, U))):
    proj = T.dot(x, W) + b            # (steps, batch, hidden), as precompute_input
    h, _ = symnet.scan(step, sequences=proj,
                       outputs_info=T.zeros((x.shape[1], U.shape[0]), dtype="float64"),
                       non_sequences=[U])
    return proj, h


def variables():
    return T.dtensor3("x"), T.dmatrix("W"), T.dmatrix("U"), T.dvector("b")


def values():
    return (rng.normal(size=(5, 2, 3)), rng.normal(size=(3, 4)), rng.normal(size=(4, 4)) * 0.4,
            rng.normal(size=4))


def compare(ins, outs, mode, args):
    f = symnet.function(ins, outs, mode=Mode(mode))
    ref = symnet.function(ins, outs, mode=Mode(mode, exclude=("scan_sink_bias",)))
    for got, want in zip(f(*args), ref(*args)):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    return f, ref


@pytest.mark.parametrize("mode", MODES)
def test_bias_added_in_the_step_not_over_every_step(mode):
    ins = variables()
    _, h = layer(*ins)
    f, ref = compare(list(ins), [h], mode, values())
    assert f.rewrite_stats.get("scan_sink_bias", 0) == 1
    assert whole_sequence_adds(f) == [] and len(whole_sequence_adds(ref)) == 1
    (node,), (before,) = scans(f), scans(ref)
    # one more non-sequence (b) and one more inner node (its add)
    assert node.op.n_nonseqs == before.op.n_nonseqs + 1
    assert len(inner_nodes(node.op)) == len(inner_nodes(before.op)) + 1


@pytest.mark.parametrize("mode", MODES)
def test_gradient_loops_both_take_the_projection_without_bias(mode):
    ins = variables()
    # s also read on its own: BPTT reads the sequence back (through
    # s[:n][::-1]), not only the saved gates' input
    _, h = layer(*ins, step=lambda s, h, U: T.tanh(s + T.dot(h, U)) + 0.1 * s * s)
    cost = T.sum(h[-1] ** 2) + T.sum(h * 0.5)
    grads = symnet.grad(cost, list(ins))
    f, ref = compare(list(ins), grads, mode, values())
    assert f.rewrite_stats.get("scan_sink_bias", 0) == 2      # forward and BPTT
    assert whole_sequence_adds(f) == []
    py = symnet.function(list(ins), grads, mode=Mode("py", exclude=("scan",)))
    a = values()
    for got, want in zip(f(*a), py(*a)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_verify_grad_through_the_sunk_bias():
    x = T.constant(rng.normal(size=(4, 2, 3)))

    def cost(W, b):
        _, h = layer(x, W, T.constant(rng.normal(size=(4, 4)) * 0.3), b)
        return T.sum(h[-1])
    symnet.gradient.verify_grad(cost, [rng.normal(size=(3, 4)), rng.normal(size=4)],
                                rng=np.random.default_rng(0), mode="numba")


@pytest.mark.parametrize("mode", MODES)
def test_left_alone_when_the_sum_is_read_elsewhere_or_changes_per_step(mode):
    ins = variables()
    proj, h = layer(*ins)
    f, _ = compare(list(ins), [h, proj], mode, values())      # the sum is an output
    assert f.rewrite_stats.get("scan_sink_bias", 0) == 0
    x, W, U, _ = ins
    c = T.dtensor3("c")                                      # a per-step addend
    h2, _ = symnet.scan(lambda s, h, U: T.tanh(s + T.dot(h, U)), sequences=T.dot(x, W) + c,
                        outputs_info=T.zeros((x.shape[1], 4), dtype="float64"),
                        non_sequences=[U])
    a = values()[:3] + (rng.normal(size=(5, 2, 4)),)
    f, _ = compare([x, W, U, c], [h2], mode, a)
    assert f.rewrite_stats.get("scan_sink_bias", 0) == 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_recurrent_layers_match_without_the_rewrite(kind, mode):
    ins, outs, args = layer_case(kind, 6, rng)
    f = symnet.function(ins, outs, mode=Mode(mode))
    ref = symnet.function(ins, outs, mode=Mode(mode, exclude=("scan_sink_bias",)))
    # the LSTM's BPTT reads only the saved gates' input (grad.py's
    # saved_products), the GRU's the sequence too: it is rewritten there as well
    assert f.rewrite_stats.get("scan_sink_bias", 0) >= (2 if kind == "gru" else 1)
    assert whole_sequence_adds(f) == [] and whole_sequence_adds(ref) != []
    assert_same(f, ref, args, rtol=1e-5, atol=1e-6)
