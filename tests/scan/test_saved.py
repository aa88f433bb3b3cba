"""Backpropagation through time reads the forward step's state products
(``h_{t-1} @ U``) back from the forward loop instead of recomputing them,
and the forward loop runs once (the ``scan_reuse_saving`` rewrite)."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.graph.traversal import io_toposort
from symnet.scan import Scan
from symnet.tensor.ops.blas import Dot
from symnet.tensor.ops.indexing import IncSubtensor

MODES = ["py", "numba"]
rng = np.random.default_rng(5)


def scans(f):
    return [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]


def inner_dots(op):
    return [n for n in io_toposort(op.inner_inputs, op.inner_outputs) if isinstance(n.op, Dot)]


def numpy_bptt(x, h0, W, U):
    """Gradients of sum(h**2) for h_t = tanh(x_t W + h_{t-1} U), by hand."""
    hs = [h0]
    for t in range(len(x)):
        hs.append(np.tanh(x[t] @ W + hs[-1] @ U))
    gW, gU, gh = np.zeros_like(W), np.zeros_like(U), np.zeros_like(h0)
    gx = np.zeros_like(x)
    for t in range(len(x) - 1, -1, -1):
        d = (2 * hs[t + 1] + gh) * (1 - hs[t + 1] ** 2)
        gW += x[t].T @ d
        gU += hs[t].T @ d
        gx[t] = d @ W.T
        gh = d @ U.T
    return gx, gh, gW, gU


@pytest.mark.parametrize("mode", MODES)
def test_the_backward_loop_reads_the_saved_products(mode):
    x, h0, W, U = T.dtensor3("x"), T.dmatrix("h0"), T.dmatrix("W"), T.dmatrix("U")
    h = symnet.scan(lambda v, h, W, U: T.tanh(T.dot(v, W) + T.dot(h, U)), sequences=x,
                    outputs_info=h0, non_sequences=[W, U])[0]
    grads = symnet.grad(T.sum(h ** 2), [x, h0, W, U])
    f = symnet.function([x, h0, W, U], grads, mode=Mode(mode))
    off = symnet.function([x, h0, W, U], grads,
                          mode=Mode(mode, exclude=("scan_reuse_saving",)))
    assert f.rewrite_stats.get("scan_reuse_saving") == 1
    fwd = [n for n in scans(f) if not n.op.short_name().startswith("Scan{grad")]
    bwd = [n for n in scans(f) if n.op.short_name().startswith("Scan{grad")]
    # one forward loop (the copy that also stacks x_t @ W + h_{t-1} @ U: the
    # product's only reader, an add of terms that read no state), one backward
    assert len(fwd) == 1 and len(bwd) == 1
    assert fwd[0].op.n_states == 1 and len(fwd[0].outputs) == 2
    (dot,) = inner_dots(fwd[0].op)
    saved = fwd[0].op.inner_outputs[1]
    assert saved.owner.op.scalar_op.name == "add" and dot.outputs[0] in saved.owner.inputs
    # backward per step: delta @ U.T and delta @ W.T (x's gradient), both
    # products with a transposed weight; h_{t-1} @ U is recomputed nowhere
    bdots = inner_dots(bwd[0].op)
    assert len(bdots) == 2 and all(n.inputs[1].type.shape == (None, None) for n in bdots)
    assert not [n for n in f.fgraph.toposort() if isinstance(n.op, Dot) and U in n.inputs]
    # the loop runs over all of x: x's gradient is the steps' gradient, not
    # zeros with the steps written in
    assert not [n for n in f.fgraph.toposort() if isinstance(n.op, IncSubtensor)]
    args = (rng.normal(size=(6, 2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(3, 4)),
            rng.normal(size=(4, 4)) * 0.5)
    want = numpy_bptt(*args)
    for got, ref, exp in zip(f(*args), off(*args), want):
        np.testing.assert_allclose(got, exp, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ref, exp, rtol=1e-10, atol=1e-12)


def test_second_order_through_the_saving_loop():
    x, h0, U = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("U")
    h = symnet.scan(lambda v, h, U: T.tanh(v + T.dot(h, U)), sequences=x, outputs_info=h0,
                    non_sequences=U)[0]
    g = symnet.grad(T.sum(h[-1]), U)
    gg = symnet.grad(T.sum(g ** 2), U)
    f = symnet.function([x, h0, U], gg, mode=Mode("py"))
    args = [rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5]
    g_fn = symnet.function([x, h0, U], T.sum(g ** 2), mode=Mode("py"))
    eps, num = 1e-6, np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            up, dn = [a.copy() for a in args], [a.copy() for a in args]
            up[2][i, j] += eps
            dn[2][i, j] -= eps
            num[i, j] = (g_fn(*up) - g_fn(*dn)) / (2 * eps)
    np.testing.assert_allclose(f(*args), num, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_of_a_sequence_longer_than_the_loop_is_zero_padded(mode):
    x, h0, U = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("U")
    h = symnet.scan(lambda v, h, U: T.tanh(v + T.dot(h, U)), sequences=x, outputs_info=h0,
                    non_sequences=U, n_steps=3)[0]
    f = symnet.function([x, h0, U], symnet.grad(T.sum(h ** 2), x), mode=Mode(mode))
    args = (rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5)
    gx, gh0, gW, gU = numpy_bptt(args[0][:3, None, :], args[1][None], np.eye(3), args[2])
    want = np.zeros((5, 3))
    want[:3] = gx[:, 0]
    np.testing.assert_allclose(f(*args), want, rtol=1e-10, atol=1e-12)
