"""The per-chunk convolution split over threads (``conv_threads.py``,
``lib/conv_par.py``): forward (plain and with the fused epilogue), filter
gradient and input gradient agree with the serial path and the float64
reference over odd batches, chunks, paddings, strides, dilations, groups and
dtypes; BLAS runs one thread inside and gets its count back; the column
buffers of all threads stay within the budget for a batch of 4,096; the
policy (``chunk_threads``) follows the step's pool (``SYMNET_NUM_THREADS``,
the CPUs), not BLAS's thread count."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from symnet.backend.numba_cpu import conv as nconv
from symnet.backend.numba_cpu import conv_fused as nfused
from symnet.backend.numba_cpu import conv_threads, step_pool
from symnet.tensor.ops.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights
from symnet.tensor.ops.conv_fused import bias_act, sign_of

from tests.oracles import examples
from .test_conv_kernels import _fits, convs


def _run_all(x, w, gz, kw, dtype, groups=1, budget=None):
    args = (kw["border_mode"], kw["subsample"], kw["filter_dilation"], kw["filter_flip"],
            dtype, groups, budget)
    return [nconv.conv2d_forward(x, w, *args), nconv.conv2d_grad_weights(x, gz, w.shape, *args),
            nconv.conv2d_grad_inputs(w, gz, x.shape, *args)]


def _reference(x, w, gz, kw):
    """Forward, filter gradient, input gradient of the ops' numpy forms, float64."""
    xd, wd, gd = (a.astype("float64") for a in (x, w, gz))
    ops = dict(border_mode=kw["border_mode"], subsample=kw["subsample"],
               filter_flip=kw["filter_flip"], filter_dilation=kw["filter_dilation"],
               num_groups=kw.get("num_groups", 1))
    gw_op = Conv2dGradWeights(**ops)
    gw = np.concatenate([gw_op._weights1(xd[:, xs], gd[:, ws], *w.shape[2:]) for xs, ws in
                         gw_op._groups(x.shape[1], w.shape[0])], axis=0)
    return [Conv2d(**ops).forward(xd, wd), gw, Conv2dGradInputs(**ops).backward(wd, gd, x.shape)]


def _threads(monkeypatch, n):
    monkeypatch.setattr(nconv, "PER_IMAGE_POSITIONS", 10 ** 9)   # the per-chunk layout
    monkeypatch.setattr(conv_threads, "chunk_threads", lambda nbytes: n)


@settings(max_examples=examples(15), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=convs())
def test_threaded_chunks_agree_with_serial_and_reference(case, monkeypatch):
    """Hypothesis-drawn shapes, border modes, strides, dilations, flips,
    groups and dtypes; a budget of one image a thread (chunks of one image,
    the batch not a multiple of the threads)."""
    x, w, gz, kw, dtype = draw_arrays(case)
    _threads(monkeypatch, 0)
    serial = _run_all(x, w, gz, kw, dtype, kw["num_groups"])
    _threads(monkeypatch, 2)
    threaded = _run_all(x, w, gz, kw, dtype, kw["num_groups"], budget=1)
    check_three(serial, threaded, x, w, gz, kw, dtype)


def draw_arrays(case):
    """``(x, w, gz, kw, dtype)`` for a hypothesis-drawn ``convs()`` case
    (rejected where the filters do not fit)."""
    x_shape, w_shape, kw, dtype = case
    assume(_fits(x_shape, w_shape, kw))
    rng = np.random.default_rng(sum(x_shape) + sum(w_shape))
    x = rng.normal(size=x_shape).astype(dtype)
    w = rng.normal(size=w_shape).astype(dtype)
    out_shape = Conv2d(**kw).forward(x.astype("float64"), w.astype("float64")).shape
    return x, w, rng.normal(size=out_shape).astype(dtype), kw, dtype


def check_three(serial, threaded, x, w, gz, kw, dtype):
    """The threaded forward and gradients equal the serial ones and the reference."""
    tol = 1e-4 if dtype == "float32" else 1e-10
    for s, t, r in zip(serial, threaded, _reference(x, w, gz, kw)):
        assert t.dtype == np.dtype(dtype) and t.shape == r.shape
        np.testing.assert_allclose(t, s, rtol=tol, atol=tol)
        np.testing.assert_allclose(t, r, rtol=tol, atol=tol)


@pytest.mark.parametrize("nt", [2, 3])
@pytest.mark.parametrize("kw", [dict(border_mode="valid", subsample=(1, 1),
                                     filter_dilation=(1, 1), filter_flip=True),
                                dict(border_mode=(2, 1), subsample=(2, 1),
                                     filter_dilation=(1, 2), filter_flip=False)])
def test_w7_like_layer_in_uneven_chunks(kw, nt, monkeypatch):
    """A conv2-like layer (many input channels, few positions), batch 13 in
    chunks of 2 images over 2 or 3 threads (an odd last chunk, threads with
    different numbers of chunks), float32, against the reference."""
    _threads(monkeypatch, nt)
    rng = np.random.default_rng(11)
    x = rng.normal(size=(13, 16, 10, 9)).astype("float32")
    w = rng.normal(size=(12, 16, 3, 3)).astype("float32")
    out_shape = Conv2d(**kw).forward(x[:1].astype("float64"), w.astype("float64")).shape[2:]
    gz = rng.normal(size=(13, 12) + out_shape).astype("float32")
    npos = out_shape[0] * out_shape[1]
    budget = nt * 2 * 16 * 9 * npos * 4                         # 2 images a thread
    got = _run_all(x, w, gz, kw, "float32", budget=budget)
    for g, r in zip(got, _reference(x, w, gz, kw)):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("act", ["relu", "max", "linear"])
def test_threaded_epilogue(keep, act, monkeypatch):
    """``Conv2dBiasAct`` on the threaded path: ``act(c + b)`` and the kept
    int8 sign equal the op's numpy forms (float64: exact signs)."""
    _threads(monkeypatch, 2)
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(7, 3, 9, 8)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    c_want = Conv2d(border_mode=(1, 0), subsample=(1, 2)).forward(x, w)
    got = nfused.conv2d_bias_act(x, w, b, (1, 0), (1, 2), (1, 1), True, "float64", 1, act,
                                 keep, budget=1)
    r = got[0] if keep else got
    np.testing.assert_allclose(r, bias_act(c_want, b, act), rtol=1e-12, atol=1e-12)
    if keep:
        assert got[1].dtype == np.int8
        np.testing.assert_array_equal(got[1], sign_of(c_want, b))


def test_blas_runs_one_thread_inside_and_gets_its_count_back(monkeypatch):
    """Inside the threaded loops numpy's BLAS runs one thread (two GEMMs at
    once, one per core); after the call, and after a call that raised (on
    the calling thread or the other), it runs as many as before."""
    from symnet.backend.numba_cpu.lib import conv_par
    before = nconv.blas_threads()
    if before is None:
        pytest.skip("numpy's BLAS is not an OpenBLAS whose threads this build can set")
    _threads(monkeypatch, 2)
    seen = []
    real = conv_par.forward_chunks

    def watch(*a):
        seen.append(nconv.blas_threads())
        return real(*a)
    monkeypatch.setattr(conv_par, "forward_chunks", watch)
    setter = step_pool._blas()[1]
    setter(2)
    try:
        rng = np.random.default_rng(0)
        x, w = rng.normal(size=(4, 3, 6, 6)), rng.normal(size=(2, 3, 3, 3))
        nconv.conv2d_forward(x, w, "valid", (1, 1), (1, 1), True, "float64")
        assert seen == [1, 1] and nconv.blas_threads() == 2    # both threads

        for bad in (0, 1):                                    # this thread, the other
            def fail(*a, _bad=bad):
                if a[-1] == _bad:
                    raise RuntimeError(f"boom in thread {_bad}")
                return real(*a)
            monkeypatch.setattr(conv_par, "forward_chunks", fail)
            with pytest.raises(RuntimeError, match=f"boom in thread {bad}"):
                nconv.conv2d_forward(x, w, "valid", (1, 1), (1, 1), True, "float64")
            assert nconv.blas_threads() == 2
    finally:
        setter(before)


@pytest.mark.parametrize("which", ["forward", "grad_weights", "grad_inputs"])
def test_threaded_large_batch_never_allocates_the_whole_column_matrix(which, monkeypatch):
    """A batch of 4,096: the column buffers of all threads together stay
    within the budget (a 16th of the whole column matrix)."""
    _threads(monkeypatch, 2)
    check_large_batch(which, monkeypatch)


def check_large_batch(which, monkeypatch):
    """``which`` of a batch of 4,096 with a budget of a 16th of the whole
    column matrix: no buffer beyond it, the reference's values."""
    rng = np.random.default_rng(0)
    b = 4096
    x = rng.normal(size=(b, 2, 5, 5)).astype("float32")
    w = rng.normal(size=(3, 2, 3, 3)).astype("float32")
    gz = rng.normal(size=(b, 3, 5, 5)).astype("float32")
    whole = b * 2 * 9 * 25 * 4
    monkeypatch.setattr(nconv, "COLUMN_BUDGET", whole // 16)
    sizes, real_alloc = [], nconv._alloc
    monkeypatch.setattr(nconv, "_alloc", lambda shape, dtype: sizes.append(
        int(np.prod(shape)) * np.dtype(dtype).itemsize) or real_alloc(shape, dtype))
    kw = dict(border_mode="half", subsample=(1, 1), filter_dilation=(1, 1), filter_flip=True)
    k = ["forward", "grad_weights", "grad_inputs"].index(which)
    got = _run_all(x, w, gz, kw, "float32")[k]
    assert sizes and max(sizes) <= whole // 16
    np.testing.assert_allclose(got, _reference(x, w, gz, kw)[k], rtol=1e-4, atol=1e-3)


def test_chunk_threads_policy(monkeypatch):
    """Threads from ``MIN_BYTES`` of columns, as many as the step's pool
    (the CPUs, or SYMNET_NUM_THREADS), whatever numpy's BLAS runs (one
    when ``symnet train`` set it); never with SYMNET_NUM_THREADS=1."""
    import os
    before = step_pool.blas_count()
    if before is None:
        pytest.skip("numpy's BLAS is not an OpenBLAS whose threads this build can set")
    monkeypatch.delenv("SYMNET_NUM_THREADS", raising=False)
    big = conv_threads.MIN_BYTES
    n = len(os.sched_getaffinity(0))
    setter = step_pool._blas()[1]
    try:
        for blas in (1, 2):
            setter(blas)
            assert conv_threads.chunk_threads(big) == (n if n >= 2 else 0)
    finally:
        setter(before)
    assert conv_threads.chunk_threads(big - 1) == 0          # too small to pay
    monkeypatch.setenv("SYMNET_NUM_THREADS", "3")
    assert conv_threads.chunk_threads(big) == 3
    monkeypatch.setenv("SYMNET_NUM_THREADS", "1")
    assert conv_threads.chunk_threads(big) == 0


def test_compiled_conv_relu_step_agrees_with_py(monkeypatch):
    """A compiled conv + bias + relu layer and its gradients (the fused
    epilogue, ``BiasActGrad``, both conv gradients) on the threaded path:
    the same values as the py backend."""
    import symnet
    import symnet.tensor as T
    from symnet.compile.mode import Mode
    from .helpers import use_tmp_cache
    use_tmp_cache()
    _threads(monkeypatch, 2)
    ran = []
    from symnet.backend.numba_cpu.lib import conv_par
    for name in ("forward_chunks", "grad_weights_chunks", "grad_inputs_chunks"):
        fn = getattr(conv_par, name)
        monkeypatch.setattr(conv_par, name, lambda *a, _fn=fn, _n=name: ran.append(_n) or _fn(*a))
    rng = np.random.default_rng(6)
    x = T.TensorType("float32", shape=(None, 6, 8, 8))("x")
    w = symnet.shared(rng.normal(size=(5, 6, 3, 3)).astype("float32"), name="w")
    b = symnet.shared(rng.normal(size=5).astype("float32"), name="b")
    h = T.nnet.relu(T.nnet.conv2d(x, w) + b.dimshuffle("x", 0, "x", "x"))
    loss = T.sum(h * h)
    outs = [loss] + symnet.grad(loss, [x, w, b])
    xv = rng.normal(size=(9, 6, 8, 8)).astype("float32")
    got = symnet.function([x], outs, mode=Mode("numba", tiered=False))(xv)
    want = symnet.function([x], outs, mode=Mode("py"))(xv)
    assert sorted(set(ran)) == ["forward_chunks", "grad_inputs_chunks", "grad_weights_chunks"]
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-3)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_forked_child_runs_the_threaded_path(monkeypatch):
    """After a fork (a data loader's worker) the child's threaded convolution
    runs on a pool of its own and gives the parent's result, not a hang on
    the parent's workers, which do not exist there."""
    _threads(monkeypatch, 2)
    rng = np.random.default_rng(12)
    x, w = rng.normal(size=(6, 4, 7, 7)), rng.normal(size=(3, 4, 3, 3))
    want = nconv.conv2d_forward(x, w, "valid", (1, 1), (1, 1), True, "float64")  # makes the pool
    assert in_forked_child(lambda: np.array_equal(
        nconv.conv2d_forward(x, w, "valid", (1, 1), (1, 1), True, "float64"), want))


def in_forked_child(check, what="convolution"):
    """Run ``check()`` in a forked child (threads running here, as in a data
    loader's worker); True when it returned True there in 120 s (a hung
    child is killed, not left behind)."""
    import os
    import select
    import signal
    import warnings
    r, wfd = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # fork with threads running
        pid = os.fork()
    if pid == 0:                                       # the child: exit, never return
        code = 1
        try:
            code = 0 if check() else 2
        finally:
            os.write(wfd, bytes([code]))
            os._exit(code)
    os.close(wfd)
    ready, _, _ = select.select([r], [], [], 120)
    if not ready:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    try:
        assert ready, f"the forked child's {what} did not finish in 120 s"
        return os.read(r, 1) == b"\x00"
    finally:
        os.close(r)
