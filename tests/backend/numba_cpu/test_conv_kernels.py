"""The numba backend's convolution (im2col + GEMM over chunks of the
batch): forward and both gradients agree with the py reference over
hypothesis-drawn shapes, border modes, strides, dilations and flips;
gradients check against finite differences on both backends; the column
buffer of a large batch is bounded by ``COLUMN_BUDGET``."""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import conv as nconv
from symnet.compile.mode import Mode
from symnet.configdefaults import config
from symnet.gradient import verify_grad
from symnet.tensor.ops.conv import (Conv2d, Conv2dGradInputs, _padding, _windows, conv2d,
                                    conv_output_length)

from tests.oracles import check_op, examples
from .helpers import use_tmp_cache


@st.composite
def convs(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    border = draw(st.one_of(st.sampled_from(["valid", "full", "half"]),
                            st.tuples(st.integers(0, 2), st.integers(0, 2))))
    groups = draw(st.integers(1, 3))
    kw = dict(border_mode=border, subsample=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
              filter_flip=draw(st.booleans()), filter_dilation=dil, num_groups=groups)
    x_shape = (draw(st.integers(1, 3)), groups * draw(st.integers(1, 2)),
               draw(st.integers(1, 7)), draw(st.integers(1, 7)))
    w_shape = (groups * draw(st.integers(1, 2)), x_shape[1] // groups) + k
    return x_shape, w_shape, kw, draw(st.sampled_from(["float32", "float64"]))


def _fits(x_shape, w_shape, kw):
    pad = _padding(kw["border_mode"], w_shape[2:], kw["filter_dilation"])
    return all(conv_output_length(n, k, p, s, d) > 0 for n, k, p, s, d in
               zip(x_shape[2:], w_shape[2:], pad, kw["subsample"], kw["filter_dilation"]))


@settings(max_examples=examples(15), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=convs(), seed=st.integers(0, 2 ** 16), per_image=st.booleans())
def test_conv_and_its_gradients_agree_with_py(case, seed, per_image):
    x_shape, w_shape, kw, dtype = case
    assume(_fits(x_shape, w_shape, kw))
    use_tmp_cache()
    # both GEMM layouts: per image (large outputs) or one per chunk (small)
    saved = nconv.PER_IMAGE_POSITIONS
    nconv.PER_IMAGE_POSITIONS = 1 if per_image else 10 ** 9
    try:
        _agree_with_py(x_shape, w_shape, kw, dtype, seed)
    finally:
        nconv.PER_IMAGE_POSITIONS = saved


def _agree_with_py(x_shape, w_shape, kw, dtype, seed):
    rng = np.random.default_rng(seed)
    xv = rng.normal(size=x_shape).astype(dtype)
    wv = rng.normal(size=w_shape).astype(dtype)

    def fn(x, w):
        y = conv2d(x, w, **kw)
        gx, gw = symnet.grad(T.sum(y * y), [x, w])
        return [y, gx, gw]
    # static filter shapes: conv2d's infer_shape needs them for string border modes
    check_op(fn, [xv, wv], static_shapes=True)


@pytest.mark.parametrize("kw", [dict(border_mode="valid"),
                                dict(border_mode="half", subsample=(2, 1), filter_flip=False),
                                dict(border_mode=(1, 0), filter_dilation=(2, 1)),
                                dict(border_mode="full", num_groups=2)])
def test_conv_gradients_by_finite_differences_on_both_backends(kw):
    use_tmp_cache()
    rng = np.random.default_rng(2)
    g = kw.get("num_groups", 1)
    xv, wv = rng.normal(size=(2, 2, 5, 6)), rng.normal(size=(2 * g, 2 // g, 2, 3))
    for backend in ("numba", "py"):
        verify_grad(lambda x, w: conv2d(x, w, **kw), [xv, wv],
                    rng=np.random.RandomState(1), mode=Mode(backend))


def test_chunk_size_bounds_the_column_buffer():
    """W7's first layer on a batch of 4,096: the whole column matrix is
    236 MB; one chunk stays within the budget."""
    b, rows, npos, item = 4096, 1 * 5 * 5, 24 * 24, 4
    n = nconv.column_chunk(b, rows, npos, item)
    assert 1 <= n < b and n * rows * npos * item <= nconv.COLUMN_BUDGET
    assert nconv.column_chunk(b, rows, npos, item, budget=1) == 1     # at least one image
    assert nconv.column_chunk(3, rows, npos, item) == 3               # small batches: one chunk


@pytest.mark.parametrize("positions", [1, 10 ** 9])
@pytest.mark.parametrize("kw", [dict(border_mode="valid"),
                                dict(border_mode=(2, 1), subsample=(2, 3),
                                     filter_dilation=(1, 2)),
                                dict(border_mode="full", subsample=(1, 2), filter_flip=False)])
def test_both_gemm_layouts_agree_with_the_reference_op(kw, positions, monkeypatch):
    """Per-image and per-chunk GEMMs over a batch split into chunks
    (a small budget), against the op's numpy forward and gradients."""
    monkeypatch.setattr(nconv, "PER_IMAGE_POSITIONS", positions)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 3, 9, 8))
    w = rng.normal(size=(4, 3, 3, 2))
    kw = dict(dict(subsample=(1, 1), filter_dilation=(1, 1), filter_flip=True), **kw)
    args = (kw["border_mode"], kw["subsample"], kw["filter_dilation"], kw["filter_flip"],
            "float64", 1, 3 * 6 * 200 * 8)           # budget: a few images per chunk
    xs, ws = T.dtensor4("x"), T.dtensor4("w")
    y = conv2d(xs, ws, **kw)
    gz = rng.normal(size=symnet.function([xs, ws], y, mode="py")(x, w).shape)
    gx, gw = symnet.grad(None, [xs, ws], known_grads={y: T.constant(gz)})
    want = symnet.function([xs, ws], [y, gx, gw], mode="py")(x, w)
    got = [nconv.conv2d_forward(x, w, *args), nconv.conv2d_grad_inputs(w, gz, x.shape, *args),
           nconv.conv2d_grad_weights(x, gz, w.shape, *args)]
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("positions", [1, 10 ** 9])      # both GEMM layouts
@pytest.mark.parametrize("which", ["forward", "grad_weights", "grad_inputs"])
def test_large_batch_never_allocates_the_whole_column_matrix(which, positions, monkeypatch):
    monkeypatch.setattr(nconv, "PER_IMAGE_POSITIONS", positions)
    rng = np.random.default_rng(0)
    b = 4096
    x = rng.normal(size=(b, 2, 5, 5)).astype("float32")
    w = rng.normal(size=(3, 2, 3, 3)).astype("float32")
    op = Conv2d("half", (1, 1), True, (1, 1))
    whole = b * 2 * 9 * 25 * 4               # bytes of the full column matrix
    budget = whole // 16
    monkeypatch.setattr(nconv, "COLUMN_BUDGET", budget)
    sizes = []
    real_alloc = nconv._alloc

    def watch(shape, dtype):
        sizes.append(int(np.prod(shape)) * np.dtype(dtype).itemsize)
        return real_alloc(shape, dtype)
    monkeypatch.setattr(nconv, "_alloc", watch)
    args = ("half", (1, 1), (1, 1), True, "float32")
    gz = rng.normal(size=(b, 3, 5, 5)).astype("float32")
    if which == "forward":
        got, want = nconv.conv2d_forward(x, w, *args), op.forward(x, w)
    elif which == "grad_weights":
        got = nconv.conv2d_grad_weights(x, gz, w.shape, *args)
        want = np.tensordot(gz, _windows_of(x), axes=([0, 2, 3], [0, 2, 3]))[:, :, ::-1, ::-1]
    else:
        got = nconv.conv2d_grad_inputs(w, gz, x.shape, *args)
        want = Conv2dGradInputs("half").backward(w, gz, x.shape)
    assert sizes and max(sizes) <= budget < whole
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def _windows_of(x):
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    return _windows(xp, 3, 3, (1, 1), (1, 1), (5, 5))


def test_conv_net_step_has_no_python_perform(monkeypatch):
    """A conv + pool step and its gradient compile with no fallback."""
    from symnet.tensor.ops.pool import pool_2d
    use_tmp_cache()
    monkeypatch.setattr(config, "strict", True)
    x = T.tensor4("x", dtype="float32")
    w = symnet.shared(np.random.default_rng(0).normal(size=(4, 1, 3, 3)).astype("float32"))
    h = pool_2d(T.maximum(conv2d(x, w, border_mode="half"), 0), (2, 2), ignore_border=True)
    loss = T.mean(h ** 2)
    g = symnet.grad(loss, w)
    f = symnet.function([x], [loss, g], mode=Mode("numba"))
    fp = symnet.function([x], [loss, g], mode=Mode("py"))
    assert "Python perform" not in f.source
    xv = np.random.default_rng(1).normal(size=(3, 1, 6, 6)).astype("float32")
    for a, b in zip(f(xv), fp(xv)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_grouped_conv_is_the_concatenation_of_its_groups():
    """num_groups=2 equals two separate convolutions, concatenated (py and numba)."""
    use_tmp_cache()
    rng = np.random.default_rng(5)
    xv = rng.normal(size=(2, 4, 6, 5))
    wv = rng.normal(size=(6, 2, 3, 2))
    x, w = T.tensor4("x", dtype="float64"), T.tensor4("w", dtype="float64")
    want = np.concatenate([Conv2d("half").forward(xv[:, :2], wv[:3]),
                           Conv2d("half").forward(xv[:, 2:], wv[3:])], axis=1)
    for backend in ("numba", "py"):
        f = symnet.function([x, w], conv2d(x, w, border_mode="half", num_groups=2),
                            mode=Mode(backend))
        np.testing.assert_allclose(f(xv, wv), want, rtol=1e-10)


def test_grouped_conv_channel_mismatch_is_named():
    x = T.TensorType("float32", shape=(None, 4, None, None))("x")
    w = T.TensorType("float32", shape=(6, 3, 3, 3))("w")
    with pytest.raises(ValueError, match="expect 3 .*per group, 6 in all"):
        conv2d(x, w, num_groups=2)
    with pytest.raises(ValueError, match="num_groups must be a positive integer"):
        conv2d(x, w, num_groups=0)


@pytest.mark.parametrize("per_image,blas", [(True, 2), (False, 2), (False, 1)])
def test_columns_beyond_the_cache_chunk(per_image, blas, monkeypatch):
    """A batch whose columns (6.9 MB) exceed ``CACHE_CHUNK`` but not the
    budget: the per-image layout runs in chunks of at most ``CACHE_CHUNK``
    bytes (an odd last chunk), the per-chunk layout in one chunk (fewer
    GEMM calls, each a synchronisation of BLAS's threads) or, when BLAS
    runs one thread, in chunks of at most ``SERIAL_CHUNK`` bytes; all with
    the reference's values (forward, both gradients).  (The per-chunk layout
    split over threads, taken where numba has threads too, is
    test_conv_threads.py's.)"""
    from symnet.backend.numba_cpu import conv_threads
    monkeypatch.setattr(nconv, "PER_IMAGE_POSITIONS", 1 if per_image else 10 ** 9)
    monkeypatch.setattr(nconv, "blas_threads", lambda: blas)
    monkeypatch.setattr(conv_threads, "chunk_threads", lambda nbytes: 0)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(67, 16, 12, 12)).astype("float32")
    w = rng.normal(size=(16, 16, 5, 5)).astype("float32")
    gz = rng.normal(size=(67, 16, 8, 8)).astype("float32")
    sizes, real_alloc = [], nconv._alloc
    monkeypatch.setattr(nconv, "_alloc", lambda shape, dtype: sizes.append(
        int(np.prod(shape)) * np.dtype(dtype).itemsize) or real_alloc(shape, dtype))
    args = ("valid", (1, 1), (1, 1), True, "float32")
    got = [nconv.conv2d_forward(x, w, *args), nconv.conv2d_grad_inputs(w, gz, x.shape, *args),
           nconv.conv2d_grad_weights(x, gz, w.shape, *args)]
    whole = 67 * 16 * 25 * 64 * 4
    assert len(sizes) == 3 and nconv.CACHE_CHUNK < whole <= nconv.COLUMN_BUDGET
    if per_image:
        assert max(sizes) <= nconv.CACHE_CHUNK
    elif blas == 1:
        assert max(sizes) <= nconv.SERIAL_CHUNK
    else:
        assert sizes == [whole] * 3
    xd, wd, gd = (a.astype("float64") for a in (x, w, gz))
    want = [Conv2d("valid").forward(xd, wd), Conv2dGradInputs("valid").backward(wd, gd, x.shape),
            np.tensordot(gd, _windows(xd, 5, 5, (1, 1), (1, 1), (8, 8)),
                         axes=([0, 2, 3], [0, 2, 3]))[:, :, ::-1, ::-1]]
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("per_image", [True, False])      # both GEMM layouts
def test_threaded_column_loops_agree_with_serial_and_py(per_image, monkeypatch):
    """With SYMNET_NUM_THREADS=2 a chunk of at least ``THREAD_MIN_BYTES`` of
    columns runs the threaded im2col/col2im: odd sizes (batch 7, 3
    channels, stride 2, padding) give the serial loops' values bit for bit
    and the py reference's.  (Not the per-chunk layout split over threads,
    which is test_conv_threads.py's.)"""
    from symnet.backend.numba_cpu import conv_threads
    from symnet.backend.numba_cpu.lib import conv_loops
    monkeypatch.setattr(nconv, "PER_IMAGE_POSITIONS", 1 if per_image else 10 ** 9)
    monkeypatch.setattr(conv_threads, "chunk_threads", lambda nbytes: 0)
    monkeypatch.setattr(nconv, "THREAD_MIN_BYTES", 1)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(7, 3, 11, 9)).astype("float32")
    w = rng.normal(size=(5, 3, 3, 2)).astype("float32")
    args = ((1, 2), (2, 1), (1, 1), True, "float32")
    gz = rng.normal(size=nconv.conv2d_forward(x, w, *args).shape).astype("float32")
    ran = []
    for name in ("im2col_images", "col2im_images"):    # serve both layouts
        fn = getattr(conv_loops, name + "_threads")
        monkeypatch.setattr(conv_loops, name + "_threads",
                            lambda *a, _fn=fn, _n=name: ran.append(_n) or _fn(*a))

    def run():
        return [nconv.conv2d_forward(x, w, *args), nconv.conv2d_grad_inputs(w, gz, x.shape, *args),
                nconv.conv2d_grad_weights(x, gz, w.shape, *args)]
    monkeypatch.setenv("SYMNET_NUM_THREADS", "1")
    serial = run()
    assert ran == []
    monkeypatch.setenv("SYMNET_NUM_THREADS", "2")
    import numba
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here: no threaded loops to compare")
    threaded = run()
    assert sorted(set(ran)) == ["col2im_images", "im2col_images"]
    for s, t in zip(serial, threaded):
        np.testing.assert_array_equal(s, t)
    xd, wd, gd = (a.astype("float64") for a in (x, w, gz))
    want = [Conv2d((1, 2), (2, 1)).forward(xd, wd),
            Conv2dGradInputs((1, 2), (2, 1)).backward(wd, gd, x.shape)]
    for g, r in zip(threaded, want):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4)


def test_threaded_column_loops_direct_calls_match_serial():
    """The threaded loops of lib/conv_loops.py write the same arrays as the
    serial ones, in the per-image layout and, through conv.py's
    (m, C*kh*kw, Ho*Wo) view, the per-chunk one (odd batch, channels and
    sizes, padding, stride, dilation)."""
    from symnet.backend.numba_cpu.lib import conv_loops as L
    rng = np.random.default_rng(8)
    x = rng.normal(size=(5, 3, 7, 6)).astype("float32")
    kh, kw, sh, sw, dh, dw, ph, pw = 3, 2, 2, 1, 1, 2, 1, 1
    ho = (7 + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (6 + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    loop = (kh, kw, sh, sw, dh, dw, ph, pw, ho, wo)
    for fill, add, shape in (("im2col", "col2im", (3 * kh * kw, 5 * ho * wo)),
                             ("im2col_images", "col2im_images", (5, 3 * kh * kw, ho * wo))):
        a, b = np.full(shape, np.nan, "float32"), np.full(shape, np.nan, "float32")
        getattr(L, fill)(x, a, *loop)
        L.im2col_images_threads(x, nconv._as_images(b, 5), *loop)
        np.testing.assert_array_equal(a, b)
        assert not np.isnan(a).any()
        ga, gb = np.full(x.shape, np.nan, "float32"), np.full(x.shape, np.nan, "float32")
        getattr(L, add)(a, ga, *loop)
        L.col2im_images_threads(nconv._as_images(a, 5), gb, *loop)
        np.testing.assert_array_equal(ga, gb)
        assert not np.isnan(ga).any()


def test_blas_threads_reads_openblas_setting():
    """``blas_threads`` asks numpy's OpenBLAS (the library cblas.py found;
    None only without one), and sees a change made while the process runs."""
    import ctypes
    from symnet.backend.numba_cpu.lib import cblas
    before = nconv.blas_threads()
    if before is None:
        pytest.skip("numpy's BLAS is not an OpenBLAS this build can ask")
    lib = ctypes.CDLL(cblas.LIBRARY)
    setter = next(getattr(lib, n) for n in (
        "scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
        "scipy_openblas_set_num_threads", "openblas_set_num_threads") if hasattr(lib, n))
    setter.argtypes, setter.restype = [ctypes.c_int], None
    other = 1 if before != 1 else 2
    try:
        setter(other)
        assert nconv.blas_threads() == other
    finally:
        setter(before)
    assert nconv.blas_threads() == before


def test_lib_threads_follows_symnet_num_threads(monkeypatch):
    """``threads.lib_threads()``: off with SYMNET_NUM_THREADS=1, on with 2
    (where numba has threads), ``LIB_THREADS`` when unset; a bad value is
    named."""
    import numba
    from symnet.backend.numba_cpu import threads
    monkeypatch.setenv("SYMNET_NUM_THREADS", "1")
    assert threads.lib_threads() is False
    monkeypatch.setenv("SYMNET_NUM_THREADS", "2")
    assert threads.lib_threads() is (numba.config.NUMBA_NUM_THREADS > 1)
    monkeypatch.delenv("SYMNET_NUM_THREADS")
    for default in (False, True):
        monkeypatch.setattr(threads, "LIB_THREADS", default)
        assert threads.lib_threads() is (default and numba.config.NUMBA_NUM_THREADS > 1)
    monkeypatch.setenv("SYMNET_NUM_THREADS", "two")
    with pytest.raises(ValueError, match="SYMNET_NUM_THREADS: expected a positive integer"):
        threads.lib_threads()


@pytest.mark.parametrize("filters", [2, 40])     # fewer / more filters than positions
def test_per_image_filter_gradient_both_ways(filters, monkeypatch):
    """The per-image layout's filter gradient: one batched matmul summed over
    the chunk when the filters are no more than the output positions (its
    products no larger than the columns), per-image GEMMs otherwise; both
    equal the reference (batch 5 in chunks of 2, an odd last one)."""
    monkeypatch.setattr(nconv, "PER_IMAGE_POSITIONS", 1)
    rng = np.random.default_rng(9)
    x = rng.normal(size=(5, 3, 7, 8)).astype("float32")          # 5x6 = 30 positions
    gz = rng.normal(size=(5, filters, 5, 6)).astype("float32")
    budget = 2 * 3 * 9 * 30 * 4                                   # two images a chunk
    got = nconv.conv2d_grad_weights(x, gz, (filters, 3, 3, 3), "valid", (1, 1), (1, 1), True,
                                    "float32", budget=budget)
    want = np.tensordot(gz.astype("float64"), _windows(x.astype("float64"), 3, 3, (1, 1),
                                                       (1, 1), (5, 6)),
                        axes=([0, 2, 3], [0, 2, 3]))[:, :, ::-1, ::-1]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("layout", ["chunk", "images"])
def test_plain_column_loops_match_numpy_windows(layout):
    """The copy path of a convolution with no padding, strides or dilation
    (``conv_loops._plain``) fills the windows numpy's sliding_window_view
    gives, and its col2im is their adjoint: <cols, im2col(x)> = <col2im(cols), x>."""
    from numpy.lib.stride_tricks import sliding_window_view
    from symnet.backend.numba_cpu.lib import conv_loops as L
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 2, 7, 6))
    kh, kw, ho, wo = 3, 2, 5, 5
    loop = (kh, kw, 1, 1, 1, 1, 0, 0, ho, wo)
    # (b, c, ho, wo, kh, kw) -> rows (c, kh, kw), columns (b, ho, wo)
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))
    want = win.transpose(1, 4, 5, 0, 2, 3).reshape(2 * kh * kw, 3 * ho * wo)
    if layout == "chunk":
        cols = np.empty((2 * kh * kw, 3 * ho * wo))
        fill, add = L.im2col, L.col2im
    else:
        want = want.reshape(2 * kh * kw, 3, ho * wo).transpose(1, 0, 2)
        cols = np.empty((3, 2 * kh * kw, ho * wo))
        fill, add = L.im2col_images, L.col2im_images
    fill(x, cols, *loop)
    np.testing.assert_array_equal(cols, want)
    c = rng.normal(size=cols.shape)
    back = np.full_like(x, np.nan)          # col2im zeroes its output first
    add(c, back, *loop)
    np.testing.assert_allclose(np.sum(c * cols), np.sum(back * x), rtol=1e-12)
