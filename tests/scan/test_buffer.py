"""The ``scan_full_buffer`` rewrite: ``concatenate([init, out])`` of a
recurrent output is the loop's own buffer (no copy), so backpropagation
through time reads the forward storage in place."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.scan import Scan
from symnet.tensor.ops.shape import Join

MODES = ["py", "numba"]
rng = np.random.default_rng(11)


def rnn(x, h0, W, taps=(-1,)):
    if taps == (-1,):
        step = lambda v, h, W: T.tanh(v + T.dot(h, W))               # noqa: E731
        info = h0
    else:
        step = lambda v, h2, h1, W: T.tanh(v + T.dot(h1, W) - 0.5 * h2)  # noqa: E731
        info = dict(initial=h0, taps=list(taps))
    return symnet.scan(step, sequences=x, outputs_info=info, non_sequences=W)[0]


def joins_of_scans(f):
    return [n for n in f.fgraph.toposort() if isinstance(n.op, Join) and
            any(v.owner is not None and isinstance(v.owner.op, Scan) for v in n.inputs)]


@pytest.mark.parametrize("mode", MODES)
def test_init_and_steps_are_the_loops_buffer(mode):
    x, h0, W = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W")
    h = rnn(x, h0, W)
    full = T.concatenate([h0[None], h], axis=0)
    outs = [symnet.Out(full, borrow=True), symnet.Out(h, borrow=True)]
    f = symnet.function([x, h0, W], outs, mode=Mode(mode))
    off = symnet.function([x, h0, W], outs, mode=Mode(mode, exclude=("scan_full_buffer",)))
    assert f.rewrite_stats.get("scan_full_buffer") == 1 and not joins_of_scans(f)
    assert len(joins_of_scans(off)) == 1
    (node,) = [n for n in f.fgraph.toposort() if isinstance(n.op, Scan)]
    assert node.op.full == [True]
    args = (rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5)
    got_full, got_h = f(*args)
    ref_full, ref_h = off(*args)
    # h is a view of the buffer the loop filled: no copy of the storage
    assert np.shares_memory(got_full, got_h) and not np.shares_memory(ref_full, ref_h)
    np.testing.assert_allclose(got_full, ref_full, rtol=1e-12)
    np.testing.assert_allclose(got_h, ref_h, rtol=1e-12)
    # by hand
    hs, hh = [args[1]], args[1]
    for t in range(6):
        hh = np.tanh(args[0][t] + hh @ args[2])
        hs.append(hh)
    np.testing.assert_allclose(got_full, np.stack(hs), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("taps", [(-1,), (-2, -1)])
def test_backprop_through_time_reads_the_forward_storage(mode, taps):
    x, W = T.dmatrix("x"), T.dmatrix("W")
    h0 = T.dvector("h0") if taps == (-1,) else T.dmatrix("h0")
    h = rnn(x, h0, W, taps)
    cost = T.sum(h * h)
    grads = symnet.grad(cost, [x, h0, W])
    f = symnet.function([x, h0, W], grads, mode=Mode(mode))
    off = symnet.function([x, h0, W], grads, mode=Mode(mode, exclude=("scan_full_buffer",)))
    assert f.rewrite_stats.get("scan_full_buffer", 0) >= 1
    assert not joins_of_scans(f) and joins_of_scans(off)
    args = (rng.normal(size=(5, 3)), rng.normal(size=(3,) if taps == (-1,) else (2, 3)),
            rng.normal(size=(3, 3)) * 0.5)
    for a, b in zip(f(*args), off(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_full_buffer_of_a_constant_length_loop(mode):
    # lengths 0 and 1 are rewritten away after the buffer is asked for
    x, h0, W = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("W")
    for n in (0, 1, 3):
        h = symnet.scan(lambda v, h, W: T.tanh(v + T.dot(h, W)), sequences=x,
                        outputs_info=h0, non_sequences=W, n_steps=n)[0]
        full = T.concatenate([h0[None], h], axis=0)
        f = symnet.function([x, h0, W], full, mode=Mode(mode))
        args = (rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(3, 3)))
        hs, hh = [args[1]], args[1]
        for t in range(n):
            hh = np.tanh(args[0][t] + hh @ args[2])
            hs.append(hh)
        np.testing.assert_allclose(f(*args), np.stack(hs), rtol=1e-12)


def test_full_is_only_for_recurrent_outputs_that_keep_every_step():
    v, h = T.dvector("v"), T.dvector("h")
    with pytest.raises(ValueError, match="full must give a bool per output"):
        Scan([v], [v * 2], n_seqs=1, taps=[None], n_nonseqs=0, full=[True])
    with pytest.raises(ValueError, match="full must give a bool per output"):
        Scan([h], [h * 2], n_seqs=0, taps=[[-1]], n_nonseqs=0, keep=[1], full=[True])
