"""One thread pool for a step (``step_pool.py``, ``threads.pool_threads``):
a compiled function whose ops split their work over the pool (threaded
convolutions, the pooling gradient, and then its dense products) holds
numpy's BLAS at one thread for the whole call and gives its count back
after a call, one that raises and one interrupted; W7-like and W4-like
training steps on the pool equal the py backend's; SYMNET_NUM_THREADS=1
keeps everything serial and leaves BLAS alone; a function without such ops
never touches BLAS's count; holds nest across threads; a forked child
forgets its parent's hold and runs the pool of its own; ``step_pool.dot``
equals ``np.dot``."""
import os
import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import conv as nconv
from symnet.backend.numba_cpu import conv_threads, pool_fused, step_pool, threads
from symnet.compile.mode import Mode
from symnet.tensor.ops.pool import pool_2d

from .helpers import use_tmp_cache
from .test_conv_threads import in_forked_child

_POOL_THREADS = threads.pool_threads


def _pool_of(monkeypatch, n):
    """A pool of ``n`` threads whatever the machine's CPUs (not through
    SYMNET_NUM_THREADS, which would also thread numba's loops: a forked
    child of a process that ran them is killed by GNU OpenMP)."""
    monkeypatch.delenv("SYMNET_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "pool_threads", lambda: n)


@pytest.fixture
def blas2():
    """numpy's BLAS on two threads for the test (its count set back after)."""
    before = step_pool.blas_count()
    if before is None:
        pytest.skip("numpy's BLAS is not an OpenBLAS whose threads this build can set")
    setter = step_pool._blas()[1]
    setter(2)
    if step_pool.blas_count() != 2:
        setter(before)
        pytest.skip("numpy's OpenBLAS would not run two threads here")
    yield setter
    setter(before)


@pytest.fixture
def on_pool(monkeypatch):
    """Two pool threads and every threaded path taken at test sizes; returns
    the (work, BLAS count inside) of each ``step_pool.run``."""
    _pool_of(monkeypatch, 2)
    monkeypatch.setattr(conv_threads, "MIN_BYTES", 0)
    monkeypatch.setattr(pool_fused, "MIN_BYTES", 0)
    monkeypatch.setattr(step_pool, "DOT_MIN_MACS", 0)
    ran, real = [], step_pool.run

    def watch(fn, nt, *args):
        ran.append((fn.__name__, step_pool.blas_count()))
        return real(fn, nt, *args)
    monkeypatch.setattr(step_pool, "run", watch)
    return ran


def _net(kind):
    """``(inputs, loss, updates, x, y, shared)``: a W7-like step (two conv +
    relu + 2x2 max pool layers, dense relu, dense softmax; per-chunk
    convolutions) or a W4-like one (one 5x5 conv with 256 output positions:
    the per-image layout), SGD, batch 17, float32."""
    rng = np.random.default_rng(3 if kind == "w7" else 4)
    if kind == "w7":
        x_shape, convs, flat = (17, 2, 14, 14), [(4, 2, 3, 3), (6, 4, 3, 3)], 6 * 2 * 2
    else:
        x_shape, convs, flat = (17, 1, 20, 20), [(4, 1, 5, 5)], 4 * 8 * 8
    shapes = [s for w in convs for s in (w, w[:1])] + [(flat, 16), (16,), (16, 5), (5,)]
    sh = [symnet.shared((rng.normal(size=s) * 0.3).astype("float32"), name=f"p{i}")
          for i, s in enumerate(shapes)]
    X = T.TensorType("float32", shape=(None,) + x_shape[1:])("x")
    Y = T.ivector("y")
    h = X
    for k in range(len(convs)):
        h = T.nnet.relu(T.nnet.conv2d(h, sh[2 * k]) + sh[2 * k + 1].dimshuffle("x", 0, "x", "x"))
        h = pool_2d(h, (2, 2), ignore_border=True)
    n = 2 * len(convs)
    h = T.nnet.relu(T.dot(h.flatten(2), sh[n]) + sh[n + 1])
    logits = T.dot(h, sh[n + 2]) + sh[n + 3]
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(logits), Y))
    updates = [(p, p - 0.1 * g) for p, g in zip(sh, symnet.grad(loss, sh))]
    x = rng.normal(size=x_shape).astype("float32")
    y = rng.integers(0, 5, x_shape[0]).astype("int32")
    return [X, Y], loss, updates, x, y, sh


def _two_steps(kind, mode):
    """The losses and final parameters of two steps of ``_net(kind)``."""
    inputs, loss, updates, x, y, sh = _net(kind)
    f = symnet.function(inputs, loss, updates=updates, mode=mode)
    losses = [float(f(x, y)) for _ in range(2)]
    return losses, [p.get_value() for p in sh], f


@pytest.mark.parametrize("kind", ["w7", "w4"])
def test_steps_on_the_pool_agree_with_py_and_hold_blas(kind, on_pool, blas2):
    """Every threaded path of the step runs on the pool (both convolution
    layouts, the pooling gradient, the dense products), each with BLAS on
    one thread; the losses and updated parameters equal the py backend's;
    BLAS runs two threads again after each call."""
    use_tmp_cache()
    losses, params, f = _two_steps(kind, Mode("numba", tiered=False))
    want_losses, want_params, _ = _two_steps(kind, Mode("py"))
    names = {name for name, _ in on_pool}
    # W4's one layer needs no input gradient: its pooling and filter
    # gradients are one op there (PoolConvGradWeights, one loop)
    conv = {"forward_chunks", "grad_weights_chunks", "grad_inputs_chunks",
            "pool_bias_act_grad_images"} if kind == "w7" \
        else {"forward_image_chunks", "pool_grad_weights_images"}
    assert conv | {"_rows"} <= names
    assert {count for _, count in on_pool} == {1}
    assert step_pool.blas_count() == 2 and step_pool._HELD == [0, None]
    assert "_held = _hold()" in f.source and "_release(_held)" in f.source
    np.testing.assert_allclose(losses, want_losses, rtol=1e-4)
    for got, want in zip(params, want_params):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def _pool_function():
    use_tmp_cache()
    inputs, loss, updates, x, y, sh = _net("w4")
    return symnet.function(inputs, loss, updates=updates,
                           mode=Mode("numba", tiered=False)), x, y, sh


@pytest.mark.parametrize("where", ["driver", "pool thread"])
def test_blas_count_back_after_a_call_that_raises(where, on_pool, blas2, monkeypatch):
    """A call failing in a driver line (an input of the wrong channels: the
    error names the convolution) or in a pool thread (thread 1 of the
    convolution) changes no parameter and leaves BLAS on two threads."""
    from symnet.backend.numba_cpu.lib import conv_par
    f, x, y, sh = _pool_function()
    before = [p.get_value().copy() for p in sh]
    if where == "driver":
        bad, match = np.concatenate([x, x], axis=1)[:, :, :20, :20], "conv"
        f.trust_input = True        # the bad shape reaches the driver
    else:
        real = conv_par.forward_image_chunks

        def fail(*a):
            if a[-1] == 1:
                raise RuntimeError("boom in pool thread 1")
            return real(*a)
        monkeypatch.setattr(conv_par, "forward_image_chunks", fail)
        bad, match = x, "boom in pool thread 1"
    with pytest.raises(Exception, match=match):
        f(bad, y)
    assert step_pool.blas_count() == 2 and step_pool._HELD == [0, None]
    for p, b in zip(sh, before):
        np.testing.assert_array_equal(p.get_value(), b)


def test_blas_count_back_after_an_interrupted_call(on_pool, blas2, monkeypatch):
    """A KeyboardInterrupt inside the step passes through as itself, and
    BLAS runs two threads again."""
    f, x, y, _ = _pool_function()

    def interrupt(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(nconv, "_split", interrupt)
    with pytest.raises(KeyboardInterrupt):
        f(x, y)
    assert step_pool.blas_count() == 2 and step_pool._HELD == [0, None]


def test_one_thread_keeps_everything_serial_and_blas_alone(on_pool, blas2, monkeypatch):
    """SYMNET_NUM_THREADS=1: nothing runs on the pool, the convolution's
    serial path sees BLAS on its two threads, and the values are py's."""
    monkeypatch.setattr(threads, "pool_threads", _POOL_THREADS)
    monkeypatch.setenv("SYMNET_NUM_THREADS", "1")
    seen, real = [], nconv._fill
    monkeypatch.setattr(nconv, "_fill", lambda *a: seen.append(step_pool.blas_count())
                        or real(*a))
    use_tmp_cache()
    losses, params, _ = _two_steps("w4", Mode("numba", tiered=False))
    want_losses, want_params, _ = _two_steps("w4", Mode("py"))
    assert on_pool == [] and seen and set(seen) == {2}
    assert step_pool.blas_count() == 2
    np.testing.assert_allclose(losses, want_losses, rtol=1e-4)
    for got, want in zip(params, want_params):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_function_without_pool_ops_never_touches_blas(on_pool, blas2, monkeypatch):
    """An MLP step (products, no convolution) neither holds nor sets BLAS's
    count, and its driver calls numpy's dot, not the pool's."""
    calls = []
    get, put = step_pool._blas()
    monkeypatch.setattr(step_pool, "_FNS", [(lambda: calls.append("get") or get(),
                                             lambda n: calls.append(n) or put(n))])
    use_tmp_cache()
    rng = np.random.default_rng(0)
    w = symnet.shared(rng.normal(size=(40, 30)).astype("float32"))
    X = T.fmatrix("x")
    loss = T.sum(T.nnet.relu(T.dot(X, w)) ** 2)
    f = symnet.function([X], loss, updates=[(w, w - 0.01 * symnet.grad(loss, w))],
                        mode=Mode("numba", tiered=False))
    xv = rng.normal(size=(64, 40)).astype("float32")
    want = float(np.sum(np.maximum(xv @ w.get_value(), 0) ** 2))
    np.testing.assert_allclose(float(f(xv)), want, rtol=1e-4)
    assert calls == [] and on_pool == []
    assert "_hold" not in f.source and "_pdot" not in f.source and "_np.dot(" in f.source


def test_holds_nest_across_threads(blas2, monkeypatch):
    """The first hold sets one thread, the last release sets two back, in
    whatever order threads release."""
    _pool_of(monkeypatch, 2)
    a = step_pool.hold()
    assert a and step_pool.blas_count() == 1
    got, go = [], threading.Event()

    def other():
        tok = step_pool.hold()
        got.append(step_pool.blas_count())
        go.wait(10)
        step_pool.release(tok)
        got.append(step_pool.blas_count())
    t = threading.Thread(target=other)
    t.start()
    b = step_pool.hold()                  # nested on this thread
    step_pool.release(a)                  # released before the other thread's
    step_pool.release(b)
    assert step_pool.blas_count() == 1    # the other thread still holds
    go.set()
    t.join(10)
    assert got == [1, 2] and step_pool.blas_count() == 2


def test_hold_with_one_pool_thread_is_none(blas2, monkeypatch):
    monkeypatch.setenv("SYMNET_NUM_THREADS", "1")
    tok = step_pool.hold()
    assert tok is False and step_pool.blas_count() == 2
    step_pool.release(tok)
    assert step_pool.blas_count() == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_forgets_the_hold_and_runs_its_own_pool(on_pool, blas2):
    """Forked while a hold is open (another thread's step), the child has
    BLAS's count back and no hold open; its compiled step runs on a pool
    of its own and gives the parent's loss."""
    f, x, y, sh = _pool_function()
    start = [p.get_value().copy() for p in sh]
    want = float(f(x, y))                           # makes the parent's pool
    for p, v in zip(sh, start):
        p.set_value(v)
    tok = step_pool.hold()
    try:
        assert in_forked_child(lambda: step_pool.blas_count() == 2 and step_pool._HELD == [0, None]
                               and float(f(x, y)) == want and step_pool.blas_count() == 2,
                               "step")
    finally:
        step_pool.release(tok)
    assert step_pool.blas_count() == 2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dot_equals_numpy(dtype, monkeypatch):
    """Row blocks over 2 and 3 threads, also of transposed views; below the
    size, mixed dtypes, vectors and a one-thread pool: numpy's own call."""
    monkeypatch.setattr(step_pool, "DOT_MIN_MACS", 0)
    rng = np.random.default_rng(1)
    a = rng.normal(size=(67, 45)).astype(dtype)
    b = rng.normal(size=(45, 31)).astype(dtype)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for n in (2, 3):
        _pool_of(monkeypatch, n)
        for x, y in ((a, b), (b.T, a.T), (a[:, :40], b[:40].T.copy().T)):
            got = step_pool.dot(x, y)
            assert got.dtype == np.dtype(dtype) and got.flags.c_contiguous
            np.testing.assert_allclose(got, np.dot(x, y), rtol=tol, atol=tol)
    ran = []
    monkeypatch.setattr(step_pool, "run", lambda *a: ran.append(a))
    _pool_of(monkeypatch, 2)
    for x, y in ((a, b.astype("float64" if dtype == "float32" else "float32")),
                 (a[0], b), (a[:15], b)):
        np.testing.assert_allclose(step_pool.dot(x, y), np.dot(x, y), rtol=tol)
    monkeypatch.setattr(step_pool, "DOT_MIN_MACS", 67 * 45 * 31 + 1)
    step_pool.dot(a, b)
    _pool_of(monkeypatch, 1)
    monkeypatch.setattr(step_pool, "DOT_MIN_MACS", 0)
    step_pool.dot(a, b)
    assert ran == []


def _split_names(monkeypatch, nt):
    """A pool of ``nt`` threads, every product split at any size; returns
    the list the name of each ``step_pool.run``'s function is added to."""
    monkeypatch.setattr(step_pool, "DOT_MIN_MACS", 0)
    _pool_of(monkeypatch, nt)
    ran, real = [], step_pool.run

    def watch(fn, n, *args):
        ran.append(fn.__name__)
        return real(fn, n, *args)
    monkeypatch.setattr(step_pool, "run", watch)
    return ran


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.integers(1, 20), inner=st.integers(100, 160), cols=st.integers(1, 330),
       nt=st.integers(2, 3), dtype=st.sampled_from(["float32", "float64"]))
def test_dot_of_a_transposed_wide_operand(rows, inner, cols, nt, dtype, monkeypatch):
    """``g @ W.T``: row blocks of ``W @ g.T`` (16-row runs, the last block
    takes the rest), each written transposed into its column block of the
    result (``_rows_t``), where ``blas._SWAP``'s rule swaps it; else row
    blocks of ``g @ W.T``; too few rows: not split.  Always numpy's values,
    C order."""
    ran = _split_names(monkeypatch, nt)
    rng = np.random.default_rng(rows * 1000 + cols)
    g = rng.normal(size=(rows, inner)).astype(dtype)
    w = rng.normal(size=(cols, inner)).astype(dtype)
    got = step_pool.dot(g, w.T)
    tol = 1e-4 if dtype == "float32" else 1e-12
    assert got.dtype == np.dtype(dtype) and got.flags.c_contiguous and got.shape == (rows, cols)
    np.testing.assert_allclose(got, np.dot(g, w.T), rtol=tol, atol=tol)
    swap = rows * 4 <= cols and inner >= 128
    if (cols if swap else rows) >= 8 * nt:
        assert ran == ["_rows_t" if swap else "_rows"]
    else:
        assert ran == []


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.integers(1, 40), inner=st.integers(1, 70), cols=st.integers(1, 120),
       nt=st.integers(2, 3), dtype=st.sampled_from(["float32", "float64"]))
def test_dot_with_fewer_rows_than_columns_splits_by_columns(rows, inner, cols, nt, dtype,
                                                            monkeypatch):
    """``h @ W`` with ``W`` in C order (a forward product): column blocks
    where it has fewer rows than columns and 16 columns a thread, else row
    blocks where there are 8 rows a thread, else one call; numpy's values,
    C order, also for a column block of a larger ``h``."""
    ran = _split_names(monkeypatch, nt)
    rng = np.random.default_rng(rows * 1000 + cols + inner)
    h = rng.normal(size=(rows, inner + 3)).astype(dtype)[:, 1:inner + 1]
    w = rng.normal(size=(inner, cols)).astype(dtype)
    got = step_pool.dot(h, w)
    tol = 1e-4 if dtype == "float32" else 1e-12
    assert got.dtype == np.dtype(dtype) and got.flags.c_contiguous and got.shape == (rows, cols)
    np.testing.assert_allclose(got, np.dot(h, w), rtol=tol, atol=tol)
    if rows < cols and cols >= 16 * nt:
        assert ran == ["_cols"]
    elif rows >= 8 * nt:
        assert ran == ["_rows"]
    else:
        assert ran == []


def test_dot_not_split_swaps_as_the_plain_driver_does(monkeypatch):
    """A product the pool does not split (one thread, or below
    ``DOT_MIN_MACS``) with few rows and a transposed operand is
    ``tcopy(np.dot(w, g.T))``, C-ordered, as ``blas._SWAP``'s driver line:
    equal to numpy's, mixed dtypes too."""
    from symnet.backend.numba_cpu import blas
    calls = []
    monkeypatch.setattr(blas, "tcopy", lambda a: calls.append(a.shape) or np.ascontiguousarray(a.T))
    rng = np.random.default_rng(5)
    g, w = rng.normal(size=(4, 130)), rng.normal(size=(40, 130)).astype("float32")
    for n, low in ((1, 0), (2, 1 << 40)):
        _pool_of(monkeypatch, n)
        monkeypatch.setattr(step_pool, "DOT_MIN_MACS", low)
        for x in (g, g.astype("float32")):
            got = step_pool.dot(x, w.T)
            assert got.flags.c_contiguous and got.dtype == np.dot(x, w.T).dtype
            np.testing.assert_allclose(got, np.dot(x, w.T), rtol=1e-5, atol=1e-4)
    assert calls == [(40, 4)] * 4
    assert step_pool.dot(g[:, :100], w[:, :100].T).flags.c_contiguous     # inner < 128: plain
    assert len(calls) == 4


def test_dot_below_the_split_size_never_asks_for_threads(monkeypatch):
    """A product below ``DOT_MIN_MACS`` (W4's 64x256x10 and 64x10x256) is
    one numpy call, swapped or not, without reading the thread count (the
    environment and the CPU affinity: paid on the driver's serial lines);
    its values are numpy's."""
    def no_threads():
        raise AssertionError("pool_threads read for a product the pool does not split")
    monkeypatch.setattr(threads, "pool_threads", no_threads)
    rng = np.random.default_rng(11)
    for a, b in ((rng.normal(size=(64, 256)), rng.normal(size=(256, 10))),
                 (rng.normal(size=(64, 10)), rng.normal(size=(256, 10)).T),
                 (rng.normal(size=(4, 130)), rng.normal(size=(40, 130)).T)):   # swapped
        for dt in ("float32", "float64"):
            x, y = a.astype(dt), b.astype(dt)
            assert x.shape[0] * x.shape[1] * y.shape[1] < step_pool.DOT_MIN_MACS
            got = step_pool.dot(x, y)
            assert got.flags.c_contiguous and got.dtype == np.dtype(dt)
            np.testing.assert_allclose(got, np.dot(x, y), rtol=1e-5, atol=1e-5)
    monkeypatch.setattr(step_pool, "DOT_MIN_MACS", 1)
    with pytest.raises(AssertionError, match="pool_threads read"):
        step_pool.dot(np.ones((64, 256), "float32"), np.ones((256, 10), "float32"))


def test_pool_step_splits_its_backward_product_swapped(on_pool):
    """A step on the pool calls ``_pdot(g, W.T)`` for its dense layer's
    input gradient (no swapped branch in the driver: ``step_pool.dot``
    chooses at run time); at batch 4 against 256 inputs and 128 units it
    runs as row blocks of ``W @ g.T`` written transposed, and two steps
    equal py's."""
    rng = np.random.default_rng(8)
    shapes = [(4, 1, 5, 5), (4,), (256, 128), (128,), (128, 5), (5,)]
    vals = [(rng.normal(size=s) * 0.1).astype("float32") for s in shapes]
    x = rng.normal(size=(4, 1, 20, 20)).astype("float32")
    y = rng.integers(0, 5, 4).astype("int32")
    res = []
    for mode in (Mode("py"), Mode("numba", tiered=False)):
        sh = [symnet.shared(v.copy()) for v in vals]
        X, Y = T.TensorType("float32", shape=(None, 1, 20, 20))("x"), T.ivector("y")
        h = T.nnet.relu(T.nnet.conv2d(X, sh[0]) + sh[1].dimshuffle("x", 0, "x", "x"))
        h = pool_2d(h, (2, 2), ignore_border=True).flatten(2)
        h = T.nnet.relu(T.dot(h, sh[2]) + sh[3])
        loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h, sh[4]) + sh[5]), Y))
        f = symnet.function([X, Y], loss, mode=mode,
                            updates=[(p, p - 0.1 * g) for p, g in zip(sh, symnet.grad(loss, sh))])
        res.append(([float(f(x, y)) for _ in range(2)], [p.get_value() for p in sh], f))
    (want, want_sh, _), (got, got_sh, f) = res
    assert "_tcopy(" not in f.source and "_pdot(" in f.source
    assert ("_rows_t", 1) in on_pool
    np.testing.assert_allclose(got, want, rtol=1e-4)
    for a, b in zip(got_sh, want_sh):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_pool_threads_policy(monkeypatch):
    """The CPUs this process may run on, or SYMNET_NUM_THREADS; a bad value
    is an error naming the variable."""
    monkeypatch.delenv("SYMNET_NUM_THREADS", raising=False)
    assert threads.pool_threads() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("SYMNET_NUM_THREADS", "5")
    assert threads.pool_threads() == 5
    monkeypatch.setenv("SYMNET_NUM_THREADS", "0")
    with pytest.raises(ValueError, match="SYMNET_NUM_THREADS: expected a positive integer"):
        threads.pool_threads()


def test_run_from_two_threads_and_from_inside_a_job():
    """Two threads handing work to the pool at once, and a job handing
    work on from inside the pool: every call runs once with its own ``t``
    (a busy pool runs them on the calling thread), none waits forever."""
    seen, lock = [], threading.Lock()

    def job(tag, t):
        with lock:
            seen.append((tag, t))

    def nested(tag, t):
        job(tag, t)
        step_pool.run(job, 2, f"{tag}.{t}")

    outer = [threading.Thread(target=step_pool.run, args=(nested, 3, k)) for k in "ab"]
    for th in outer:
        th.start()
    for th in outer:
        th.join(30)
    assert not any(th.is_alive() for th in outer)
    want = [(k, t) for k in "ab" for t in range(3)] + \
        [(f"{k}.{t}", u) for k in "ab" for t in range(3) for u in range(2)]
    assert sorted(seen) == sorted(want)


@pytest.mark.parametrize("exc", [RuntimeError("boom in t=1"), KeyboardInterrupt()])
def test_an_error_of_a_pool_thread_is_raised_after_all_ended(exc):
    """A pool thread's error (a KeyboardInterrupt too) is raised on the
    calling thread once every call ended; the pool serves the next call."""
    ended = []

    def job(t):
        if t == 1:
            raise exc
        time.sleep(0.05)
        ended.append(t)
    with pytest.raises(type(exc)):
        step_pool.run(job, 3)
    assert sorted(ended) == [0, 2]
    ended.clear()
    step_pool.run(lambda t: ended.append(t), 3)
    assert sorted(ended) == [0, 1, 2]
