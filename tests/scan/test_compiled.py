"""Scan on both backends against Python loops over numpy; in numba mode the
loop is in the generated driver (no perform fallback)."""
import re
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.gradient import verify_grad
from symnet.scan import Scan

MODES = ["py", "numba"]
LOOP = re.compile(r"for _v\d+t in range")   # a Scan's loop in the driver
rng = np.random.default_rng(7)


def compile_(ins, outs, mode, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # a perform fallback would warn
        return symnet.function(ins, outs, mode=mode, **kw)


def test_numba_driver_has_the_loop():
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    h, _ = symnet.scan(lambda v, h: T.tanh(h + v), sequences=x, outputs_info=h0)
    f = compile_([x, h0], h, "numba")
    assert len(LOOP.findall(f.source)) == 1 and "(Python perform)" not in f.source
    assert f.thunk.linker.fallback_nodes == []


@pytest.mark.parametrize("mode", MODES)
def test_recurrence_with_matrix_state(mode):
    x, h0, W = T.dtensor3("x"), T.dmatrix("h0"), T.dmatrix("W")
    h, _ = symnet.scan(lambda v, h, W: T.tanh(T.dot(h, W) + v), sequences=x,
                       outputs_info=h0, non_sequences=W)
    xv, hv, Wv = rng.normal(size=(6, 2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(3, 3))
    out = compile_([x, h0, W], h, mode)(xv, hv, Wv)
    ref, s = [], hv
    for t in range(6):
        s = np.tanh(s @ Wv + xv[t])
        ref.append(s)
    np.testing.assert_allclose(out, np.stack(ref), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_taps_sequence_taps_and_go_backwards(mode):
    x = T.dvector("x")
    init = T.dvector("init")
    # y_t = y_{t-2} + 0.5 y_{t-1} + x_{t} * x_{t+1}, over x reversed
    y, _ = symnet.scan(lambda a, b, y2, y1: y2 + 0.5 * y1 + a * b,
                       sequences={"input": x, "taps": [0, 1]},
                       outputs_info={"initial": init, "taps": [-2, -1]}, go_backwards=True)
    xv, iv = rng.normal(size=7), np.array([0.3, -1.2])
    out = compile_([x, init], y, mode)(xv, iv)
    xr = xv[::-1]
    prev = list(iv)
    for t in range(6):
        prev.append(prev[-2] + 0.5 * prev[-1] + xr[t] * xr[t + 1])
    np.testing.assert_allclose(out, prev[2:], rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_mask_and_symbolic_n_steps(mode):
    x, m, h0, k = T.dmatrix("x"), T.dvector("m"), T.dvector("h0"), T.lscalar("k")

    def step(v, mt, h):
        new = T.tanh(h * 0.9 + v)
        return mt * new + (1 - mt) * h
    h, _ = symnet.scan(step, sequences=[x, m], outputs_info=h0, n_steps=k)
    f = compile_([x, m, h0, k], h, mode)
    xv, mv, hv = rng.normal(size=(5, 4)), np.array([1, 1, 0, 1, 0.]), rng.normal(size=4)
    for n in (0, 3, 5):
        out = f(xv, mv, hv, n)
        s, ref = hv, []
        for t in range(n):
            s = mv[t] * np.tanh(s * 0.9 + xv[t]) + (1 - mv[t]) * s
            ref.append(s)
        assert out.shape == (n, 4)
        np.testing.assert_allclose(out, np.array(ref).reshape(n, 4), rtol=1e-12)
    with pytest.raises(ValueError, match="sequence 0 has 5 steps"):
        f(xv, mv, hv, 6)


@pytest.mark.parametrize("mode", MODES)
def test_shared_update_inside_the_step(mode):
    acc = symnet.shared(np.zeros(3), name="acc")
    x = T.dmatrix("x")

    def step(v):
        return (v * 2).sum(), {acc: acc + v}
    s, upd = symnet.scan(step, sequences=x)
    f = compile_([x], s, mode, updates=upd)
    xv = rng.normal(size=(4, 3))
    np.testing.assert_allclose(f(xv), (xv * 2).sum(axis=1))
    np.testing.assert_allclose(acc.get_value(), xv.sum(axis=0))
    f(xv)
    np.testing.assert_allclose(acc.get_value(), 2 * xv.sum(axis=0))


@pytest.mark.parametrize("mode", MODES)
def test_shape_change_is_named(mode):
    h0 = T.dvector("h0")
    h, _ = symnet.scan(lambda h: T.concatenate([h, h]), outputs_info=h0, n_steps=2)
    f = compile_([h0], h, mode)
    with pytest.raises(ValueError, match="recurrent output 0.*keep the shape"):
        f(np.ones(2))


@pytest.mark.parametrize("mode", MODES)
def test_per_step_output_changing_shape_is_named(mode):
    k = T.lvector("k")
    ys, _ = symnet.scan(lambda n: T.arange(n) * 2, sequences=k)
    f = compile_([k], ys, mode)
    np.testing.assert_array_equal(f(np.array([3, 3])), [[0, 2, 4], [0, 2, 4]])
    # the numba driver's check stops the loop; the error raised is the one
    # of the node's reference (perform), naming the node, on both backends
    with pytest.raises(ValueError, match="same shape(.|\n)*while running node Scan"):
        f(np.array([3, 2]))


@pytest.mark.parametrize("mode", MODES)
def test_verify_grad_through_scan(mode):
    def fun(x, h0, W):
        h, _ = symnet.scan(lambda v, h, W: T.tanh(T.dot(h, W) + v), sequences=x,
                           outputs_info=h0, non_sequences=W)
        return h
    verify_grad(fun, [rng.normal(size=(4, 3)), rng.normal(size=3),
                      rng.normal(size=(3, 3)) * 0.5], mode=mode, rng=np.random.RandomState(1))


@pytest.mark.parametrize("mode", MODES)
def test_truncated_and_second_order_gradients(mode):
    x, w = T.dvector("x"), T.dscalar("w")
    s, _ = symnet.scan(lambda v, h, w: h * w + v ** 2, sequences=x,
                       outputs_info=T.constant(np.float64(0)), non_sequences=w)
    gw = symnet.grad(s[-1], w)
    f = compile_([x, w], [gw, symnet.grad(gw, w)], mode)
    gw_v, hw_v = f(np.array([1.0, 2.0, 3.0]), 2.0)
    assert float(gw_v) == 8.0 and float(hw_v) == 2.0
    h0 = T.dscalar("h0")
    h, _ = symnet.scan(lambda v, h: 0.5 * h + v, sequences=x, outputs_info=h0,
                       truncate_gradient=2)
    a, b = compile_([x, h0], symnet.grad(h[-1], [x, h0]), mode)(np.ones(4), 1.0)
    np.testing.assert_allclose(a, [0.0, 0.0, 0.5, 1.0])
    assert float(b) == 0.0


def test_backward_scan_is_compiled_too():
    x, h0, W = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W")
    h, _ = symnet.scan(lambda v, h, W: T.tanh(T.dot(h, W) + v), sequences=x,
                       outputs_info=h0, non_sequences=W)
    g = symnet.grad(h.sum(), W)
    f = compile_([x, h0, W], g, "numba")
    scans = [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]
    assert len(scans) == 2 and len(LOOP.findall(f.source)) == 2
    args = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(3, 3))
    np.testing.assert_allclose(f(*args), compile_([x, h0, W], g, "py")(*args), rtol=1e-10)


def test_errors_name_the_output_and_the_missing_input():
    x = T.dvector("x")
    with pytest.raises(TypeError, match=r"output 0 of the step function is .*float32.*"
                                        r"initial state.*float64"):
        symnet.scan(lambda v, h: T.cast(h + v, "float32"), sequences=x,
                    outputs_info=T.constant(np.float64(0)))
    # (symnet.scan with strict=True accepts a free non-shared variable, as
    # Theano does; the Scan op itself names an inner input nobody passed)
    w = T.dscalar("w_free")
    v_in = T.dscalar("v_t")
    with pytest.raises(ValueError, match="uses w_free but it is not among the inner inputs"):
        Scan([v_in], [v_in * w], n_seqs=1, taps=[None], n_nonseqs=0)
    h_in = T.dscalar("h_t")
    with pytest.raises(TypeError, match=r"output 0 .* is TensorType\(float32.*"
                                        r"outputs_info\) is TensorType\(float64"):
        Scan([h_in], [T.cast(h_in, "float32")], n_seqs=0, taps=[[-1]], n_nonseqs=0)


def test_source_lists_the_inner_graph_and_export_refuses(tmp_path):
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    h, _ = symnet.scan(lambda v, h: T.tanh(h * 0.5 + v), sequences=x, outputs_info=h0)
    f = compile_([x, h0], h, "numba")
    assert "the inner graph of Scan (called once per step)" in f.source
    with pytest.raises(NotImplementedError, match="Scan loop"):
        symnet.export(f, str(tmp_path / "m.py"))


def test_njit_loop_when_njit_drivers_are_asked_for(monkeypatch):
    from symnet.backend.numba_cpu.scan import _NjitLoop
    monkeypatch.setenv("SYMNET_NUMBA_NJIT_DRIVER", "1")
    x, init = T.dmatrix("x"), T.dmatrix("init")
    (y, z), _ = symnet.scan(lambda v, y2, y1: [T.tanh(y2 * 0.5 + y1 * v), T.exp(y1) * 2],
                            sequences=x, outputs_info=[{"initial": init, "taps": [-2, -1]},
                                                       None], go_backwards=True)
    f = compile_([x, init], [y, z], "numba")
    (loop,) = [c for c in f.thunk.linker.consts if isinstance(c, _NjitLoop)]
    xv, iv = rng.normal(size=(6, 3)), rng.normal(size=(2, 3))
    got_y, got_z = f(xv, iv)
    assert loop.fn is not None and not loop.failed     # the steps ran in njit code
    prev, zs = list(iv), []
    for v in xv[::-1]:
        zs.append(np.exp(prev[-1]) * 2)
        prev.append(np.tanh(prev[-2] * 0.5 + prev[-1] * v))
    np.testing.assert_allclose(got_y, prev[2:], rtol=1e-12)
    np.testing.assert_allclose(got_z, zs, rtol=1e-12)
    assert f(xv[:0], iv)[0].shape == (0, 3)
    with pytest.raises(ValueError, match="initial buffer"):
        f(xv, iv[:1])


# The warning is what this test checks; under SYMNET_STRICT it would be an error.
@pytest.mark.perform_fallback
def test_njit_loop_that_numba_refuses_warns_and_keeps_the_python_loop(monkeypatch):
    from numba.core.errors import TypingError
    from symnet.backend.numba_cpu import scan as nscan
    monkeypatch.setenv("SYMNET_NUMBA_NJIT_DRIVER", "1")

    def refuse(self):
        raise TypingError("no typing for this test")
    monkeypatch.setattr(nscan._NjitLoop, "_build", refuse)
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    h, _ = symnet.scan(lambda v, h: T.tanh(h * 0.5 + v), sequences=x, outputs_info=h0)
    f = symnet.function([x, h0], h, mode="numba")
    xv, hv = rng.normal(size=(4, 3)), rng.normal(size=3)
    with pytest.warns(RuntimeWarning, match="njit loop could not be compiled"):
        got = f(xv, hv)
    np.testing.assert_allclose(got, symnet.function([x, h0], h, mode="py")(xv, hv))
    monkeypatch.setenv("SYMNET_STRICT", "1")
    monkeypatch.setattr(symnet.configdefaults.config, "strict", True)
    g = symnet.function([x, h0], h, mode="numba")
    with pytest.raises(TypingError):
        g(xv, hv)


def _step_two_states(v, h, cs, taps):
    c_new = 0.8 * cs[0] + T.tanh(v)
    return [T.tanh(h * 0.5 + c_new), c_new]


def two_states(x, h0, c0, taps=(-1,)):
    """``h`` read after the loop; ``c`` a state only the loop itself reads
    (with two taps, ``c[t-2]`` feeds ``c[t]``)."""
    c_info = {"initial": c0, "taps": list(taps)} if len(taps) == 2 else c0
    (h, c), _ = symnet.scan(lambda v, h, *cs: _step_two_states(v, h, cs, taps), sequences=x,
                            outputs_info=[h0, c_info])
    return h, c


def two_states_args(taps, seed=8):
    r = np.random.default_rng(seed)
    return (r.normal(size=(6, 3)), r.normal(size=3),
            r.normal(size=(2, 3)) if len(taps) == 2 else r.normal(size=3))


@pytest.mark.parametrize("taps", [(-1,), (-2, -1)])
def test_a_state_nothing_reads_after_the_loop_lives_in_a_ring(taps):
    """BPTT's ``dh``/``dc``: the driver keeps such a state in ``lag + 1``
    slots, not one per step; the op is unchanged and the values are py's and
    a numpy loop's (also for the gradient, whose BPTT states are unread)."""
    x, h0 = T.dmatrix("x"), T.dvector("h0")
    c0 = T.dmatrix("c0") if len(taps) == 2 else T.dvector("c0")
    h, c = two_states(x, h0, c0, taps)
    args = two_states_args(taps)
    f = compile_([x, h0, c0], h, "numba")
    (node,) = [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]
    assert node.op.keep == [None, None]
    assert f"_np.empty(({len(taps) + 1},)" in f.source      # c: a ring
    assert "_np.empty((1 + " in f.source                     # h: every step
    hs, hv, cv = [], args[1], list(args[2]) if len(taps) == 2 else [args[2]]
    for v in args[0]:
        cv.append(0.8 * cv[-len(taps)] + np.tanh(v))
        hv = np.tanh(hv * 0.5 + cv[-1])
        hs.append(hv)
    np.testing.assert_allclose(f(*args), np.array(hs), rtol=1e-12, atol=1e-12)
    # c read after the loop: every step of it is stored
    g = compile_([x, h0, c0], [h, c], "numba")
    assert f"_np.empty(({len(taps) + 1},)" not in g.source
    outs = [h] + symnet.grad(T.sum(h[-1] ** 2), [x, h0])
    got = compile_([x, h0, c0], outs, "numba")(*args)
    ref = symnet.function([x, h0, c0], outs, mode="py")(*args)
    for a, b in zip(got, ref):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
