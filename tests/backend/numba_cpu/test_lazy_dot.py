"""A product only the update tail reads, computed there in row blocks
(``step_pool.LazyDot``, ``gemm_split.ptail``, ``inplace._lazy_products``):
its rows and whole value equal numpy's; the tail's updates with it equal
the serial calls on the whole product over hypothesis-drawn shapes, block
sizes, threads and dtypes; a product of a value the tail writes, or one a
call outside the row blocks reads, is computed whole before any write; a
conv step on the pool makes its weight gradients lazy and trains as the py
backend does; a product that is also an output, or read by a step that is
not an update, stays a plain ``_pdot``."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from symnet.backend.numba_cpu import gemm_split, step_pool, threads
from symnet.compile.mode import Mode

from .helpers import conv_step, use_tmp_cache


def _kernel():
    """A tail kernel as the driver's: ``v = m * v - lr * g``, ``p += v``
    (``m``, ``lr`` (1, 1) arrays, as the driver passes scalars); returns the
    arguments it wrote."""
    import numba as nb

    @nb.njit(nogil=True)
    def k(m, v, lr, g, p):
        for i in range(p.shape[0]):
            for j in range(p.shape[1]):
                v[i, j] = m[0, 0] * v[i, j] - lr[0, 0] * g[i, j]
                p[i, j] += v[i, j]
        return v, p
    return k


_K = []


def _k():
    if not _K:
        _K.append(_kernel())
    return _K[0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lazy_dot_rows_and_whole_equal_numpy(dtype):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(9, 37)).astype(dtype).T       # a transposed view, as h.T
    b = rng.normal(size=(9, 5)).astype(dtype)
    lz = step_pool.lazy_dot(a, b)
    assert isinstance(lz, step_pool.LazyDot)
    assert lz.shape == (37, 5) and lz.dtype == np.dtype(dtype) and lz.ndim == 2
    want = np.dot(a, b)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(np.asarray(lz), want, rtol=tol, atol=tol)
    out = np.empty((11, 5), dtype)
    assert lz.rows(20, 31, out) is out
    np.testing.assert_allclose(out, want[20:31], rtol=tol, atol=tol)
    # staged: a's rows copied to C order into a buffer longer than the block
    assert lz.staged()
    stage = np.full((16, 9), np.nan, dtype)
    out2 = np.empty((11, 5), dtype)
    assert lz.rows(20, 31, out2, stage) is out2
    np.testing.assert_array_equal(stage[:11], a[20:31])
    assert np.isnan(stage[11:]).all()                 # nothing past the block
    np.testing.assert_allclose(out2, want[20:31], rtol=tol, atol=tol)


@pytest.mark.parametrize("a, staged", [
    (np.ones((9, 37), "float32").T, True),               # h.T: a transposed view
    (np.ones((37, 9), "float32"), False),                # C order already
    (np.ones((37, 9), "float32")[:, :4], False),         # rows strided, columns unit
    (np.ones((1, 37), "float32").T, False),              # one column: C order too
])
def test_lazy_dot_stages_only_a_transposed_operand(a, staged):
    b = np.ones((a.shape[1], 3), "float32")
    assert step_pool.LazyDot(a, b).staged() is staged


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (64, 128), (5, 300), (8, 3),
                                   (9, 5), (16, 1), (17, 33), (23, 8)])
@pytest.mark.parametrize("block", [False, True])
def test_tcopy_into_writes_the_transpose(shape, dtype, block):
    # rows of a in tiles of 8 and the rest one by one (lib/transpose.py);
    # ``out`` a C array or a column block of a wider one (step_pool._rows_t),
    # whose other columns stay as they were
    from symnet.backend.numba_cpu.lib.transpose import tcopy_into
    base = np.arange(np.prod(shape) * 3).astype(dtype).reshape(shape[0], 3 * shape[1])
    a = base[:, shape[1]:2 * shape[1]]             # a column block: rows strided
    wide = np.full((shape[1], shape[0] + 5 if block else shape[0]), -1, dtype)
    out = wide[:, 2:2 + shape[0]] if block else wide
    assert tcopy_into(a, out) is out
    np.testing.assert_array_equal(out, a.T)
    if block:
        assert (wide[:, :2] == -1).all() and (wide[:, 2 + shape[0]:] == -1).all()


def test_lazy_dot_declines_what_it_cannot_defer():
    """Mixed dtypes and vectors are computed now, as ``dot``; mismatched
    shapes raise numpy's error at once, before the tail."""
    a, b = np.ones((4, 3), "float32"), np.ones((3, 2), "float64")
    assert isinstance(step_pool.lazy_dot(a, b), np.ndarray)
    assert isinstance(step_pool.lazy_dot(a, np.ones(3, "float32")), np.ndarray)
    with pytest.raises(ValueError):
        step_pool.lazy_dot(a, np.ones((4, 2), "float32"))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.integers(1, 300), inner=st.integers(1, 20), cols=st.integers(1, 40),
       block=st.integers(1, 64), nt=st.integers(1, 3),
       dtype=st.sampled_from(["float32", "float64"]), transposed=st.booleans())
def test_ptail_with_a_lazy_product_equals_the_serial_calls(rows, inner, cols, block, nt,
                                                           dtype, transposed, monkeypatch):
    """The update reading a lazy product, in row blocks over ``nt`` threads
    with ``block`` rows at a time (or whole on one thread), writes what the
    same kernel writes given the whole product, whether its left operand is
    a transposed view (staged in C order block by block) or C-ordered; a
    small update beside it runs once, whole."""
    monkeypatch.setattr(threads, "pool_threads", lambda: nt)
    monkeypatch.setattr(step_pool, "LAZY_ROWS", block)
    rng = np.random.default_rng(rows * 7 + cols)
    h = rng.normal(size=(inner, rows)).astype(dtype)
    g = rng.normal(size=(inner, cols)).astype(dtype)
    ht = h.T if transposed else np.ascontiguousarray(h.T)
    v0 = rng.normal(size=(rows, cols)).astype(dtype)
    p0 = rng.normal(size=(rows, cols)).astype(dtype)
    m, lr = np.full((1, 1), 0.9, dtype), np.full((1, 1), 0.1, dtype)
    small = [rng.normal(size=(3, 2)).astype(dtype) for _ in range(3)]
    k = _k()
    want_v, want_p = k(m, v0.copy(), lr, np.dot(h.T, g), p0.copy())
    want_small = k(m, small[0].copy(), lr, small[1], small[2].copy())
    v, p = v0.copy(), p0.copy()
    sv, sp = small[0].copy(), small[2].copy()
    got = gemm_split.ptail(((k, m, v, lr, step_pool.lazy_dot(ht, g), p),
                            (k, m, sv, lr, small[1], sp)), ((1, 4), (1, 4)), (0,))
    assert got[0][0] is v and got[0][1] is p          # written in place
    tol = 1e-5 if dtype == "float32" else 1e-12
    for a, b in zip(got[0] + got[1], (want_v, want_p) + want_small):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("where", ["operand", "call outside the blocks"])
def test_a_lazy_product_is_computed_before_any_write_when_it_must(where, monkeypatch):
    """A product of the very value the tail updates reads it before the
    update (``np.may_share_memory``); one that a call outside the row
    blocks reads is computed whole for it; both equal the serial calls on
    products computed first."""
    monkeypatch.setattr(threads, "pool_threads", lambda: 2)
    monkeypatch.setattr(step_pool, "LAZY_ROWS", 3)
    rng = np.random.default_rng(5)
    v0 = rng.normal(size=(16, 16)).astype("float32")
    p0 = rng.normal(size=(16, 16)).astype("float32")
    h = rng.normal(size=(16, 16)).astype("float32")
    m, lr = np.full((1, 1), 0.9, "float32"), np.full((1, 1), 0.1, "float32")
    k = _k()
    v, p = v0.copy(), p0.copy()
    if where == "operand":
        lz = step_pool.lazy_dot(p, h)           # p is written by the same call
        want = k(m, v0.copy(), lr, np.dot(p0, h), p0.copy())
        got = gemm_split.ptail(((k, m, v, lr, lz, p),), ((1, 4),), (0,))[0]
    else:
        lz = step_pool.lazy_dot(h, h)
        v2, p2 = v0.copy(), p0.copy()
        prod = np.dot(h, h)
        want = k(m, v0.copy(), lr, prod, p0.copy()) + k(m, v0.copy(), lr, prod, p0.copy())
        got = gemm_split.ptail(((k, m, v, lr, lz, p), (k, m, v2, lr, lz, p2)),
                               ((1, 4), (1, 4)), (0,))
        got = got[0] + got[1]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ["lazy", "output", "other reader"])
def test_conv_step_with_lazy_weight_gradients_trains_as_py(case, monkeypatch):
    """On a pool of two threads the dense layers' weight gradients, read by
    their updates only, become ``_plazy`` products run by ``_pltail`` in
    blocks of 16 rows; three momentum steps equal py's.  A gradient that is
    also an output, or read by another step, stays ``_pdot``."""
    monkeypatch.delenv("SYMNET_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "pool_threads", lambda: 2)
    monkeypatch.setattr(step_pool, "LAZY_ROWS", 16)
    use_tmp_cache()
    kw = {"lazy_out": case == "output", "other_reader": case == "other reader"}
    got, got_p, f = conv_step(Mode("numba", tiered=False), **kw)
    want, want_p, _ = conv_step(Mode("py"), **kw)
    lines = f.source.splitlines()
    lazy = sum("= _plazy(" in ln for ln in lines)
    plain = sum("= _pdot(" in ln for ln in lines)
    assert any("_t = _pltail(" in ln for ln in lines) and "_ptail(" not in f.source
    # six products: the 256x64 weight gradient is lazy only in the plain
    # step; the 64x5 one, read by its update only, in all three
    assert (lazy, plain) == ((2, 4) if case == "lazy" else (1, 5))
    np.testing.assert_allclose(got, want, rtol=1e-4)
    for a, b in zip(got_p, want_p):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["c", "transposed", "strided", "strided b"])
def test_lazy_dot_rows_equal_numpy_bit_for_bit_in_every_layout(dtype, layout):
    """``rows`` runs a block with C-ordered operands (staged ones too) by
    ``np.matmul`` (no zeroing pass over ``out``) and any other layout by
    ``np.dot``: the values are numpy's dot of the same rows, bit for bit."""
    rng = np.random.default_rng(7)
    a = rng.normal(size=(70, 64)).astype(dtype)
    b = rng.normal(size=(64, 33)).astype(dtype)
    if layout == "transposed":
        a = np.ascontiguousarray(a.T).T                  # h.T of a C-ordered h
    elif layout == "strided":
        a = rng.normal(size=(140, 128)).astype(dtype)[::2, ::2]     # no unit stride
    elif layout == "strided b":
        b = rng.normal(size=(128, 66)).astype(dtype)[::2, ::2]
    lz = step_pool.LazyDot(a, b)
    for lo, hi in ((0, 70), (3, 40), (69, 70)):
        out = np.full((hi - lo, 33), np.nan, dtype)
        assert lz.rows(lo, hi, out) is out
        np.testing.assert_array_equal(out, np.dot(a[lo:hi], b))
        if lz.staged():
            out2 = np.full((hi - lo, 33), np.nan, dtype)
            lz.rows(lo, hi, out2, np.empty((80, 64), dtype))
            np.testing.assert_array_equal(out2, np.dot(np.ascontiguousarray(a[lo:hi]), b))
