"""Split GEMMs (numba_cpu/gemm_split.py): ``pdot`` equals numpy's product,
``ptail`` the serial update calls; under ``SYMNET_GEMM_SPLIT=auto`` a
training step with a large shared weight is split and agrees with py, the
others keep numpy's dot (``SYMNET_GEMM_SPLIT=0``, the variable unset (the
``DEFAULT``) and ``SYMNET_NUM_THREADS=1`` win); numpy's BLAS
thread count is back after every call, also one that raised or was
interrupted; an error or Ctrl-C in a part raises once every part has
run."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import gemm_split, step_pool
from symnet.compile.mode import Mode

from .helpers import use_tmp_cache

RNG = np.random.RandomState(5)
pytestmark = pytest.mark.skipif(not gemm_split.available(),
                                reason="no OpenBLAS thread count to hold (another BLAS)")


def _blas_threads():
    return step_pool._blas()[0]()


@pytest.mark.parametrize("a_shape, b_shape", [
    ((64, 784), (784, 500)),     # split by columns (W1's forward product)
    ((784, 64), (64, 500)),      # split by rows (a weight gradient)
    ((500, 64), (64, 33)),       # rows, an odd size
    ((3, 1000), (1000, 1001)),   # columns, fewer columns than a half's block
    ((8, 8), (8, 8)),            # below MIN_MACS: numpy's own call
    ((1, 3000), (3000, 1000)),   # one row: columns
    ((1000, 3000), (3000, 1)),   # one column: rows
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pdot_equals_numpy(a_shape, b_shape, dtype):
    a, b = RNG.randn(*a_shape).astype(dtype), RNG.randn(*b_shape).astype(dtype)
    want = a.astype("float64") @ b.astype("float64")
    tol = 1e-4 if dtype == "float32" else 1e-10
    for x, y in ((a, b), (np.asfortranarray(a), b), (a.T.copy().T, b.T.copy().T),
                 (a, np.asfortranarray(b))):
        got = gemm_split.pdot(x, y)
        assert got.dtype == np.dtype(dtype) and got.shape == want.shape
        assert got.flags.c_contiguous
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 10)


def test_pdot_of_other_operands_is_numpys():
    a, b = RNG.randn(40, 300).astype("float32"), RNG.randn(300, 200)
    np.testing.assert_array_equal(gemm_split.pdot(a, b), np.dot(a, b))   # mixed dtypes
    v = RNG.randn(300)
    np.testing.assert_array_equal(gemm_split.pdot(b.T, v), np.dot(b.T, v))
    with pytest.raises(ValueError, match="not aligned"):
        gemm_split.pdot(RNG.randn(300, 301), RNG.randn(300, 300))


def _mlp(split, monkeypatch, w_init):
    monkeypatch.setenv(gemm_split.ENV, "1" if split else "0")
    x, y = T.fmatrix("x"), T.ivector("y")
    w1 = symnet.shared(w_init[0].copy(), name="w1")
    w2 = symnet.shared(w_init[1].copy(), name="w2")
    h = T.nnet.relu(T.dot(x, w1))
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(T.dot(h, w2)), y))
    g1, g2 = symnet.grad(loss, [w1, w2])
    f = symnet.function([x, y], loss, updates=[(w1, w1 - 0.1 * g1), (w2, w2 - 0.1 * g2)],
                        mode=Mode("numba"))
    return f, w1, w2


def test_training_step_agrees_with_the_serial_path(monkeypatch):
    use_tmp_cache()
    w_init = [RNG.randn(300, 400).astype("float32") * 0.05,
              RNG.randn(400, 10).astype("float32") * 0.05]
    xv, yv = RNG.randn(64, 300).astype("float32"), RNG.randint(0, 10, 64).astype("int32")
    fs, ws1, ws2 = _mlp(True, monkeypatch, w_init)
    fp, wp1, wp2 = _mlp(False, monkeypatch, w_init)
    assert "_gsdot(" in fs.source and "_gsdot(" not in fp.source
    before = _blas_threads()
    for _ in range(3):
        np.testing.assert_allclose(fs(xv, yv), fp(xv, yv), rtol=1e-5)
        assert _blas_threads() == before
    np.testing.assert_allclose(ws1.get_value(), wp1.get_value(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ws2.get_value(), wp2.get_value(), rtol=1e-4, atol=1e-6)


def test_blas_threads_restored_after_an_error(monkeypatch):
    use_tmp_cache()
    w_init = [RNG.randn(300, 400).astype("float32"), RNG.randn(400, 10).astype("float32")]
    f, w1, _ = _mlp(True, monkeypatch, w_init)
    put = step_pool._blas()[1]
    seen, start = [], _blas_threads()
    put(2)
    try:
        xv = RNG.randn(64, 300).astype("float32")
        with pytest.raises(Exception, match="label|range|out of"):
            f(xv, np.full(64, 99, "int32"))          # labels out of range: the step raises
        seen.append(_blas_threads())
        np.testing.assert_array_equal(w1.get_value(), w_init[0])   # nothing written
        f(xv, RNG.randint(0, 10, 64).astype("int32"))
        seen.append(_blas_threads())
    finally:
        put(start)
    assert seen == [2, 2]


def test_the_split_runs_at_one_blas_thread(monkeypatch):
    """``hold_blas``: one BLAS thread inside the call, the count before after it."""
    put = step_pool._blas()[1]
    inside, start = [], _blas_threads()
    held = gemm_split.hold_blas(lambda: inside.append(_blas_threads()))
    put(2)
    try:
        held()
        assert inside == [1] and _blas_threads() == 2

        def boom():
            raise KeyboardInterrupt
        with pytest.raises(KeyboardInterrupt):
            gemm_split.hold_blas(boom)()
        assert _blas_threads() == 2
    finally:
        put(start)


def test_bad_setting_is_an_error(monkeypatch):
    monkeypatch.setenv(gemm_split.ENV, "yes")
    with pytest.raises(ValueError, match="SYMNET_GEMM_SPLIT: expected 0, 1 or auto.*'yes'"):
        gemm_split.setting()


# what an empty or unset variable means: DEFAULT's setting
_UNSET = {"0": False, "1": True, "auto": None}[gemm_split.DEFAULT]


@pytest.mark.parametrize("raw, want", [("1", True), ("0", False), ("auto", None),
                                       (" AUTO ", None), ("", _UNSET)])
def test_setting_values(raw, want, monkeypatch):
    monkeypatch.setenv(gemm_split.ENV, raw)
    assert gemm_split.setting() is want
    monkeypatch.delenv(gemm_split.ENV)
    assert gemm_split.setting() is _UNSET


# -- the default policy (gemm_split.chosen) --------------------------------------------

def _clear_env(monkeypatch, split="auto"):
    for k in (gemm_split.ENV, "SYMNET_NUM_THREADS", "SYMNET_TAIL_THREADS",
              "SYMNET_NUMBA_NJIT_DRIVER"):
        monkeypatch.delenv(k, raising=False)
    if split is not None:
        monkeypatch.setenv(gemm_split.ENV, split)


def _step(mode, dtype="float32", sizes=(37, 401, 333, 7), updates=True, scan=False):
    """A relu MLP's Nesterov step (the weights' static shapes from ``sizes``),
    or with ``scan`` a recurrence over the first weight; returns (f, shared,
    inputs).  ``updates=False``: the gradients are returned instead."""
    rng = np.random.default_rng(11)
    ws = [symnet.shared((rng.normal(size=(a, b)) * 0.05).astype(dtype), name=f"w{k}")
          for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
    vel = [symnet.shared(np.zeros_like(w.get_value()), name=f"v{k}") for k, w in enumerate(ws)]
    x, y = T.matrix("x", dtype=dtype), T.ivector("y")
    h = x
    if scan:
        h, _ = symnet.scan(lambda v, h, W: T.tanh(T.dot(h, W) + v),
                           sequences=T.tile(x[None], (2, 1, 1)), outputs_info=x,
                           non_sequences=ws[0] if sizes[0] == sizes[1] else None)
        h = h[-1]
    for k, w in enumerate(ws):
        h = T.dot(h, w)
        if k < len(ws) - 1:
            h = T.nnet.relu(h)
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(h), y))
    grads = symnet.grad(loss, ws)
    lr, mom = np.asarray(0.05, dtype), np.asarray(0.9, dtype)
    ups = []
    for w, v, g in zip(ws, vel, grads):
        nv = mom * v - lr * g
        ups += [(v, nv), (w, w + mom * nv - lr * g)]
    m = Mode(mode, tiered=False) if mode == "numba" else Mode(mode)
    if updates:
        f = symnet.function([x, y], loss, updates=ups, mode=m)
    else:
        f = symnet.function([x, y], [loss] + grads, mode=m)
    xv = rng.normal(size=(sizes[0] + 3, sizes[0])).astype(dtype)
    yv = rng.integers(0, sizes[-1], len(xv)).astype("int32")
    return f, ws + vel, (xv, yv)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_large_dense_step_is_split_under_auto_and_agrees_with_py(dtype, monkeypatch):
    _clear_env(monkeypatch, "auto")
    use_tmp_cache()
    f, sh, args = _step("numba", dtype)
    fp, shp, _ = _step("py", dtype)
    assert "_gsdot(" in f.source and "_np.dot(" not in f.source
    # the 401x333 update loop: its serial kernel in row blocks, no threaded copy
    assert "_ptail(" in f.source and "nb.prange" not in f.source
    put = step_pool._blas()[1]
    start = _blas_threads()
    put(2)
    try:
        for _ in range(3):
            np.testing.assert_allclose(f(*args), fp(*args), rtol=1e-5 if dtype == "float32"
                                       else 1e-12)
            assert _blas_threads() == 2
    finally:
        put(start)
    tol = 1e-5 if dtype == "float32" else 1e-12
    for a, b in zip(sh, shp):
        assert a.get_value().dtype == np.dtype(dtype)
        np.testing.assert_allclose(a.get_value(), b.get_value(), rtol=tol, atol=tol)


@pytest.mark.parametrize("case", ["small weights", "no updates", "split off", "unset",
                                  "one thread", "one BLAS thread", "scan"])
def test_other_functions_keep_numpys_dot(case, monkeypatch):
    # "unset": the default (gemm_split.DEFAULT) keeps even the large step unsplit
    _clear_env(monkeypatch, None if case == "unset" else "auto")
    kw = {}
    if case == "small weights":
        kw["sizes"] = (37, 300, 400, 7)      # 120,000 and 2,800 elements: below MIN_SHARED
    elif case == "no updates":
        kw["updates"] = False
    elif case == "split off":
        monkeypatch.setenv(gemm_split.ENV, "0")
    elif case == "one thread":
        monkeypatch.setenv("SYMNET_NUM_THREADS", "1")
    elif case == "scan":
        kw.update(scan=True, sizes=(401, 401, 7))
    use_tmp_cache()
    get, put = step_pool._blas()
    start = get()
    put(1 if case == "one BLAS thread" else 2)     # as OPENBLAS_NUM_THREADS=1 would
    try:
        f, sh, args = _step("numba", **kw)
        put(2)
        fp, shp, _ = _step("py", **kw)
        want_all = fp(*args)      # (numba too, and split, under SYMNET_FORCE_BACKEND)
        calls = []
        monkeypatch.setattr(step_pool, "_FNS", [(lambda: calls.append("get") or get(),
                                                 lambda n: calls.append(n) or put(n))])
        got_all = f(*args)
        if case == "scan":
            # a scan step's products read the count (step_dot: blocked GEMMs
            # where BLAS runs one thread) but never set it
            assert set(calls) <= {"get"}
        else:
            assert calls == []        # the call neither reads nor sets BLAS's count
    finally:
        put(start)
    assert "_gsdot(" not in f.source and "nb.prange" not in f.source
    assert "_ptail(" not in f.source
    plan = f.thunk.linker.plan
    assert any(type(n.op).__name__ == "Scan" for n in plan.order) == (case == "scan")
    assert bool(plan.tail) == (case != "no updates")
    if not kw.get("updates", True):
        assert len(got_all) == len(want_all) == 4
    else:
        got_all, want_all = [got_all], [want_all]
    for got, want in zip(got_all, want_all):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    for a, b in zip(sh, shp):
        np.testing.assert_allclose(a.get_value(), b.get_value(), rtol=1e-4, atol=1e-6)


def test_an_interrupted_split_step_restores_blas_and_writes_nothing(monkeypatch):
    _clear_env(monkeypatch)
    use_tmp_cache()
    real, seen = gemm_split.pdot, []

    def interrupt_once(a, b):
        if not seen:
            seen.append(_blas_threads())
            raise KeyboardInterrupt
        return real(a, b)
    monkeypatch.setattr(gemm_split, "pdot", interrupt_once)
    f, sh, args = _step("numba")
    fp, shp, _ = _step("py")
    before = [s.get_value() for s in sh]
    put = step_pool._blas()[1]
    start = _blas_threads()
    put(2)
    try:
        with pytest.raises(KeyboardInterrupt):
            f(*args)
        assert seen == [1] and _blas_threads() == 2 and step_pool._HELD == [0, None]
        for s, b in zip(sh, before):
            np.testing.assert_array_equal(s.get_value(), b)
        np.testing.assert_allclose(f(*args), fp(*args), rtol=1e-5)
    finally:
        put(start)


# -- the parts: ptail and the crew (gemm_split._crew_run) ---------------------------

def _update_kernel():
    """A numba kernel as the tail's: ``p += lr * g`` (lr a (1, 1) array, as
    the driver passes scalars), ``v`` scaled by the row vector ``s`` (broadcast
    over rows); returns the arguments it wrote."""
    import numba as nb

    @nb.njit(nogil=True)
    def k(lr, p, g, v, s):
        for i in range(p.shape[0]):
            for j in range(p.shape[1]):
                p[i, j] += lr[0, 0] * g[i, j]
                v[i, j] *= s[0, j]
        return p, v
    return k


@pytest.mark.parametrize("rows", [1, 3, 4, 401])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ptail_equals_the_serial_calls(rows, dtype):
    k = _update_kernel()
    rng = np.random.default_rng(rows)

    def args():
        r = np.random.default_rng(rows)
        return (np.full((1, 1), 0.5, dtype), r.normal(size=(rows, 33)).astype(dtype),
                r.normal(size=(rows, 33)).astype(dtype), r.normal(size=(rows, 33)).astype(dtype),
                r.normal(size=(1, 33)).astype(dtype))
    small = [rng.normal(size=(5, 2)).astype(dtype) for _ in range(3)]
    small.insert(0, np.full((1, 1), 2.0, dtype))
    small.append(np.ones((1, 2), dtype))
    want_big, want_small = k(*args()), k(*[a.copy() for a in small])
    big_args = args()
    got = gemm_split.ptail(((k,) + big_args, (k,) + tuple(small)), ((1, 3), (1, 3)), (0,))
    assert len(got) == 2
    assert got[0][0] is big_args[1] and got[0][1] is big_args[3]   # written in place
    for g, w in zip(got[0] + got[1], want_big + want_small):
        assert g.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(g, w)


def test_crew_runs_every_part_once():
    import threading
    seen = []

    def part(out, i, n):
        return [(out.append, (i, n, threading.get_ident()))]
    for _ in range(50):
        gemm_split._crew_run(part, 2, 2, seen)
    by_call = [sorted(x[:2] for x in seen[k:k + 2]) for k in range(0, len(seen), 2)]
    assert by_call == [[(0, 2), (1, 2)]] * 50


class _CountingQueue:
    """A crew thread's queue that counts its polls (``get_nowait``) after
    ``mark`` is set: how a thread waits for its next job is seen from here."""

    def __init__(self, real):
        self.q, self.mark, self.polls = real(), [False], [0]

    def put(self, job):
        self.q.put(job)

    def get(self):
        return self.q.get()

    def get_nowait(self):
        self.polls[0] += self.mark[0]
        return self.q.get_nowait()


@pytest.mark.parametrize("linger", [True, False])
def test_a_crew_thread_polls_after_a_job_only_when_it_lingers(linger, monkeypatch):
    # the update tail of a pool step (step_pool.tail) runs with linger=False:
    # its crew thread blocks at once instead of polling for SPIN_S, while
    # the next step's convolution needs both cores for the pool's threads
    import threading
    import time
    queues, real = [], gemm_split.queue.SimpleQueue

    def make():
        queues.append(_CountingQueue(real))
        return queues[-1]
    monkeypatch.setattr(gemm_split, "_CREW", [])          # a crew of its own
    monkeypatch.setattr(gemm_split.queue, "SimpleQueue", make)
    monkeypatch.setattr(gemm_split, "SPIN_S", 0.2)
    ran, both = [], threading.Barrier(2)

    def part(i, n):
        both.wait(timeout=10)      # one part on this thread, one on the crew's
        return [(ran.append, threading.get_ident())]
    gemm_split._crew_run(part, 2, 2, linger=linger)
    assert len(set(ran)) == 2 and len(queues) == 1
    queues[0].mark[0] = True
    time.sleep(0.05)
    assert (queues[0].polls[0] > 0) == linger
    # the crew still takes the next job either way
    ran.clear()
    both.reset()
    gemm_split._crew_run(part, 2, 2)
    assert len(set(ran)) == 2


def test_a_pool_steps_tail_runs_without_lingering(monkeypatch):
    seen = []
    monkeypatch.setattr(step_pool, "_TAIL", [lambda *a, **k: seen.append(k) or "done"])
    assert step_pool.tail((), (), ()) == "done" and seen == [{"linger": False}]


@pytest.mark.parametrize("exc", [ValueError("bad part"), KeyboardInterrupt()])
@pytest.mark.parametrize("where", [0, 1])
def test_an_error_in_a_part_is_raised_after_every_part_has_run(exc, where):
    import threading
    import time
    done, fired = [], []

    def part(i, n):
        # an error every time; a Ctrl-C once, as a user's would be
        if i == where and not (fired and isinstance(exc, KeyboardInterrupt)):
            fired.append(i)
            raise exc
        time.sleep(0.01)
        return [(done.append, i)]
    with pytest.raises(type(exc), match="bad part" if isinstance(exc, ValueError) else None):
        gemm_split._crew_run(part, 2, 2)
    # a part that raised before its calls is run again after an interrupt
    # (it has written nothing), so every update is whole; an error's part is not
    want = [1 - where] + ([where] if isinstance(exc, KeyboardInterrupt) else [])
    assert sorted(done) == sorted(want)
    assert gemm_split._crew_run(lambda i, n: [(done.append, -1)], 2, 2) is None  # usable after
    assert done[-1] == -1 and threading.active_count() >= 2


@pytest.mark.parametrize("first", ["error", "interrupt"])
def test_a_part_that_failed_is_not_run_again_after_an_interrupt(first):
    # part 0 writes, then its kernel fails; part 1 is interrupted before its
    # calls (a Ctrl-C), before or after part 0's failure: part 0 must not
    # write twice (the interrupt's re-run), and its error is the one raised
    import time
    done, fired = [], []

    def fail():
        raise ValueError("kernel failed")

    def part(i, n):
        if i == 0:
            return [(time.sleep, 0.05 if first == "interrupt" else 0),
                    (done.append, 0), (fail,)]
        if not fired:
            fired.append(1)
            time.sleep(0 if first == "interrupt" else 0.05)
            raise KeyboardInterrupt
        return [(done.append, 1)]
    with pytest.raises(ValueError, match="kernel failed"):
        gemm_split._crew_run(part, 2, 2)
    assert done.count(0) == 1


def test_one_thread_runs_the_parts_on_the_caller(monkeypatch):
    # SYMNET_NUM_THREADS=1: ptail and pdot make one call each, no crew
    monkeypatch.setenv("SYMNET_NUM_THREADS", "1")
    k = _update_kernel()
    p = np.zeros((400, 3))
    calls = ((k, np.ones((1, 1)), p, np.ones((400, 3)), np.ones((400, 3)), np.ones((1, 3))),)
    seen = []
    real = gemm_split._crew_run
    monkeypatch.setattr(gemm_split, "_crew_run", lambda *a: seen.append(a) or real(*a))
    got = gemm_split.ptail(calls, ((1, 3),), (0,))
    a, b = RNG.randn(400, 600), RNG.randn(600, 500)
    np.testing.assert_array_equal(gemm_split.pdot(a, b), np.dot(a, b))
    assert seen == [] and (p == 1).all() and got[0][0] is p
