"""The out= protocol of a compiled scan step (numba backend, llvm emitter):
the step's llvm kernels and joins write its outputs straight into the
slots of the loop's buffers that the Scan driver gives them
(``codegen.Source.given``, ``run(..., _o=buffers)``, ``codegen.into``).
Values against numpy loops and the py backend; the buffers given are the
arrays returned; a buffer that does not fit is left alone and the Scan
driver's own errors still name the output."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu.codegen import into
from symnet.compile.mode import Mode
from symnet.scan import Scan

rng = np.random.default_rng(17)
B, H = 3, 4
# the protocol's kernels are the llvm emitter's (the default; asked for here
# so that a run under SYMNET_NUMBA_EMITTER=numba checks the same thing)
LLVM = Mode("numba", emitter="llvm")


def step(x_t, h, c, W):
    z = T.dot(h, W) + x_t
    g = T.sigmoid(z)
    c_new = g * c + (1 - g) * T.tanh(z)
    h_new = T.tanh(c_new) * g
    return [h_new, c_new, g, T.join(1, g, h_new), (g * x_t).sum(axis=0)]


def graph(dtype, go_backwards=False, last_only=False):
    x = T.TensorType(dtype, shape=(None, B, H))("x")
    h0 = T.TensorType(dtype, shape=(B, H))("h0")
    c0 = T.TensorType(dtype, shape=(B, H))("c0")
    W = T.TensorType(dtype, shape=(H, H))("W")
    outs, _ = symnet.scan(step, sequences=x, outputs_info=[h0, c0, None, None, None],
                          non_sequences=W, go_backwards=go_backwards)
    if last_only:       # the states kept in a ring of their last steps
        outs = [outs[0][-1], outs[1][-1], outs[3], outs[4]]
    return [x, h0, c0, W], outs


def numpy_loop(x, h, c, W, go_backwards=False, last_only=False):
    sig = lambda a: 1 / (1 + np.exp(-a))    # noqa: E731
    res = [[] for _ in range(5)]
    for x_t in (x[::-1] if go_backwards else x):
        z = h @ W + x_t
        g = sig(z)
        c = g * c + (1 - g) * np.tanh(z)
        h = np.tanh(c) * g
        for r, v in zip(res, (h, c, g, np.concatenate([g, h], axis=1), (g * x_t).sum(0))):
            r.append(v)
    res = [np.stack(r) for r in res]
    return [res[0][-1], res[1][-1], res[3], res[4]] if last_only else res


def data(dtype, steps=6):
    return [rng.standard_normal((steps, B, H)).astype(dtype),
            rng.standard_normal((B, H)).astype(dtype),
            rng.standard_normal((B, H)).astype(dtype),
            (rng.standard_normal((H, H)) * 0.5).astype(dtype)]


def inner(f):
    (node,) = [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]
    (thunk,) = node.op._backend_fns.values()
    return node, thunk


def tol(dtype):
    return dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("last_only", [False, True])
def test_values_against_numpy_and_py(dtype, go_backwards, last_only):
    ins, outs = graph(dtype, go_backwards, last_only)
    f = symnet.function(ins, outs, mode="numba")
    ref = symnet.function(ins, outs, mode="py")
    args = data(dtype)
    got, want = f(*args), numpy_loop(*args, go_backwards=go_backwards, last_only=last_only)
    for g, p, w in zip(got, ref(*args), want):
        assert g.dtype == np.dtype(dtype) and g.shape == w.shape
        np.testing.assert_allclose(g, w, **tol(dtype))
        np.testing.assert_allclose(g, p, **tol(dtype))
    # a second call (buffers of the first are not reused wrongly)
    args = data(dtype, steps=4)
    for g, w in zip(f(*args), numpy_loop(*args, go_backwards=go_backwards,
                                         last_only=last_only)):
        np.testing.assert_allclose(g, w, **tol(dtype))


def test_the_step_writes_into_the_buffers_given():
    ins, outs = graph("float32")
    f = symnet.function(ins, outs, mode=LLVM)
    _, run = inner(f)
    # the join (output 3) and the llvm kernels' results among the others
    assert 3 in run.given_outputs and set(run.given_outputs) - {3}
    assert "_o=_NO" in run.source and "out=_into(_o[3]" in run.source
    x, h, c, W = data("float32")
    args = [x[0], h, c, W]
    plain = run(*args)
    bufs = [np.full(np.shape(v), np.nan, np.float32) for v in plain]
    got = run(*args, _o=tuple(bufs))
    for k, (g, b, p) in enumerate(zip(got, bufs, plain)):
        if k in run.given_outputs:
            assert g is b, k
        np.testing.assert_allclose(g, p, rtol=1e-6)


@pytest.mark.parametrize("bad", ["shape", "dtype", "strided", "readonly"])
def test_a_buffer_that_does_not_fit_is_left_alone(bad):
    ins, outs = graph("float32")
    f = symnet.function(ins, outs, mode=LLVM)
    _, run = inner(f)
    args = data("float32")
    args = [args[0][0]] + args[1:]
    plain = run(*args)
    k = 3       # the join's output, (B, 2H)
    buf = {"shape": np.zeros((B, 2 * H + 1), np.float32),
           "dtype": np.zeros((B, 2 * H), np.float64),
           "strided": np.zeros((B, 4 * H), np.float32)[:, ::2],
           "readonly": np.zeros((B, 2 * H), np.float32)}[bad]
    if bad == "readonly":
        buf.flags.writeable = False
    keep = buf.copy()
    o = [None] * len(plain)
    o[k] = buf
    got = run(*args, _o=tuple(o))
    assert got[k] is not buf and got[k].shape == (B, 2 * H) and got[k].dtype == np.float32
    np.testing.assert_array_equal(buf, keep)
    np.testing.assert_allclose(got[k], plain[k], rtol=1e-6)


def test_into():
    d = np.zeros((2, 3), np.float32)
    assert into(d, (2, 3), np.float32) is d
    assert into(d, (2, 3), np.dtype("float32")) is d
    for dest, shape, dtype in [(None, (2, 3), np.float32), (d, (3, 2), np.float32),
                               (d, (2, 3), np.float64), (d.T, (3, 2), np.float32)]:
        r = into(dest, shape, dtype)
        assert r is not dest and r.shape == shape and r.dtype == dtype and r.flags.c_contiguous
    ro = np.zeros((2, 3), np.float32)
    ro.flags.writeable = False
    assert into(ro, (2, 3), np.float32) is not ro


def test_numba_emitter_gives_no_buffers_and_agrees():
    ins, outs = graph("float64")
    f = symnet.function(ins, outs, mode=Mode("numba", emitter="numba"))
    _, run = inner(f)
    assert run.given_outputs == ()
    assert "_o=" not in run.source
    args = data("float64")
    for g, w in zip(f(*args), numpy_loop(*args)):
        np.testing.assert_allclose(g, w, **tol("float64"))


def test_only_scan_steps_take_buffers():
    x = T.fmatrix("x")
    f = symnet.function([x], [T.join(1, T.tanh(x), x * 2)], mode=LLVM)
    assert "_o" not in f.source and "_into" not in f.source
    a = rng.standard_normal((3, 4)).astype("float32")
    np.testing.assert_allclose(f(a)[0], np.concatenate([np.tanh(a), a * 2], 1), rtol=1e-6)


def test_a_state_of_another_shape_is_still_named():
    # the join writes a (2B,) state: it does not fit the (B,) slot given for
    # it, and the Scan driver's own error names the output
    h0 = T.fvector("h0")
    h, _ = symnet.scan(lambda h: T.join(0, h, h) * 0.5, outputs_info=h0, n_steps=3)
    f = symnet.function([h0], h, mode=LLVM)
    with pytest.raises(ValueError, match="returned shape .* for recurrent output 0"):
        f(np.ones(B, np.float32))


def grad_graph(dtype):
    ins, outs = graph(dtype)
    x, h0, c0, W = ins
    loss = (outs[0][-1] ** 2).sum() + outs[3].sum() * 0.1 + outs[4].sum() * 0.2
    return ins, T.grad(loss, [W, h0, c0, x])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bptt_states_go_into_their_slots(dtype):
    # BPTT's states are step values with a leading axis added (``g[None]``):
    # the kernel or GEMM computing ``g`` writes into the slot's entry and the
    # step returns the slot itself
    ins, grads = grad_graph(dtype)
    f = symnet.function(ins, grads, mode=LLVM)
    ref = symnet.function(ins, grads, mode="py")
    args = data(dtype)
    for g, p in zip(f(*args), ref(*args)):
        assert g.dtype == np.dtype(dtype)
        np.testing.assert_allclose(g, p, **tol(dtype))
    (node,) = [n for n in f.fgraph.toposort()
               if isinstance(n.op, Scan) and n.op.n_seqs > 1]   # the BPTT scan
    (run,) = node.op._backend_fns.values()
    states = [j for j, t in enumerate(node.op.taps) if t is not None]
    lifted = [j for j in states if j in run.given_outputs]
    assert lifted, (states, run.given_outputs)
    # the step called with buffers: the given ones come back as themselves
    step_args = []
    for v in node.op.inner_inputs:
        shp = tuple(s if s is not None else B for s in v.type.shape)
        step_args.append(rng.standard_normal(shp).astype(dtype))
    plain = run(*step_args)
    bufs = tuple(np.zeros(np.shape(v), dtype) for v in plain)
    got = run(*step_args, _o=bufs)
    for k, (g, b, p) in enumerate(zip(got, bufs, plain)):
        if k in run.given_outputs:
            assert g is b, k
        np.testing.assert_allclose(g, p, **tol(dtype))


def test_verify_grad_through_the_step_with_buffers():
    x = rng.standard_normal((4, B, H))
    W = rng.standard_normal((H, H)) * 0.5

    def fun(x, W):
        h0 = T.zeros((B, H), dtype="float64")
        outs, _ = symnet.scan(step, sequences=x, outputs_info=[h0, h0, None, None, None],
                              non_sequences=W)
        return (outs[0] ** 2).sum() + outs[3].sum()
    symnet.gradient.verify_grad(fun, [x, W], rng=np.random.RandomState(3), mode=LLVM)



def test_a_gain_gradient_whose_bptt_state_is_a_step_sum():
    # BPTT's state for the gradient of a gain ``a`` is a per-step sum (0-d)
    # that the loop stacks with an axis added: its llvm kernel returns a
    # scalar and takes no buffer (its wrapper once had an empty
    # ``if out is None:`` block, a compile failure that sent the graph to
    # the py backend with a warning)
    import warnings
    a, x, h0 = T.TensorType("float64", shape=(1,))("a"), T.dtensor3("x"), T.dmatrix("h0")
    h, _ = symnet.scan(lambda v, h, a: T.tanh(v + a * h), sequences=x,
                       outputs_info=h0, non_sequences=a)
    g = symnet.grad(T.sum(h[-1]), a)
    av, xv, hv = np.array([0.8]), rng.standard_normal((4, 2, 3)), rng.standard_normal((2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = symnet.function([a, x, h0], g, mode=LLVM)(av, xv, hv)
    want = symnet.function([a, x, h0], g, mode="py")(av, xv, hv)
    np.testing.assert_allclose(got, want, rtol=1e-10)
