"""lib/cblas.py: the GEMM njit code calls through numpy's own BLAS (no
SciPy), against np.dot over shapes, transposes, layouts and both dtypes."""
import ctypes
import glob
import os
import warnings

import numpy as np
import pytest

from symnet.backend.numba_cpu.lib import cblas

from .helpers import use_tmp_cache

use_tmp_cache()

_TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _views(rng, shape, dtype):
    """The same matrix as C, F, a column slice, a row slice with a row step
    (non-unit leading stride) and a fully strided view (copied by gemm)."""
    r, c = shape
    base = rng.normal(size=(2 * r + 1, 2 * c + 3)).astype(dtype)
    x = base[:r, 1:c + 1]
    yield "C", np.ascontiguousarray(x)
    yield "F", np.asfortranarray(x)
    yield "column slice", x
    yield "row step", base[:2 * r:2, :c] if r else base[:0, :c]
    yield "both steps", base[:2 * r:2, :2 * c:2] if r and c else base[:r, :c]


def test_numpys_own_blas_is_found():
    libs = glob.glob(os.path.join(os.path.dirname(os.path.dirname(np.__file__)),
                                  "numpy.libs", "*blas*.so*"))
    if libs:      # numpy's wheels: its OpenBLAS exports a CBLAS gemm
        assert cblas.AVAILABLE and cblas.LIBRARY in libs and cblas.ABI in (32, 64)
    else:         # another numpy build: found where the process mapped it
        assert cblas.AVAILABLE == (cblas.LIBRARY is not None)


# (numba compiles gemm once per dtype and layout triple: C, F, A)
@pytest.mark.parametrize("dtype,m,k,n", [(np.float32, 5, 7, 3), (np.float64, 5, 7, 3),
                                         (np.float64, 1, 9, 4), (np.float64, 6, 1, 2),
                                         (np.float32, 4, 5, 1), (np.float32, 32, 64, 48)])
def test_gemm_matches_np_dot_over_layouts_and_transposes(dtype, m, k, n):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    for ta in (False, True):
        for tb in (False, True):
            for na, a in _views(rng, (k, m) if ta else (m, k), dtype):
                for nb_, b in _views(rng, (n, k) if tb else (k, n), dtype):
                    want = (a.T if ta else a) @ (b.T if tb else b)
                    out = np.full((m, n), np.nan, dtype)
                    cblas.gemm(a, b, out, ta, tb, 1.0, 0.0)
                    np.testing.assert_allclose(out, want, **_TOL[dtype],
                                               err_msg=f"{na} x {nb_}, trans {ta} {tb}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_alpha_beta_and_an_f_ordered_or_sliced_out(dtype):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(6, 4)).astype(dtype), rng.normal(size=(4, 5)).astype(dtype)
    c0 = rng.normal(size=(6, 5)).astype(dtype)
    for out in (c0.copy(), np.asfortranarray(c0), np.hstack([c0, c0])[:, 2:7] * 0):
        out[...] = c0
        cblas.gemm(a, b, out, False, False, 0.5, -2.0)
        np.testing.assert_allclose(out, 0.5 * (a @ b) - 2.0 * c0, **_TOL[dtype])


def test_gemm_with_an_empty_inner_dimension_scales_out_by_beta():
    a, b = np.zeros((3, 0)), np.zeros((0, 2))
    out = np.ones((3, 2))
    cblas.gemm(a, b, out, False, False, 1.0, 3.0)
    np.testing.assert_array_equal(out, np.full((3, 2), 3.0))
    cblas.gemm(a, b, out, False, False, 1.0, 0.0)
    np.testing.assert_array_equal(out, np.zeros((3, 2)))
    empty = np.zeros((0, 2))
    cblas.gemm(np.zeros((0, 4)), np.ones((4, 2)), empty, False, False, 1.0, 0.0)
    assert empty.shape == (0, 2)


def test_gemm_refuses_bad_shapes_an_out_without_unit_stride_and_other_dtypes():
    from numba.core.errors import TypingError
    a, b = np.ones((3, 4)), np.ones((4, 2))
    with pytest.raises(ValueError, match="shapes do not match"):
        cblas.gemm(a, np.ones((5, 2)), np.empty((3, 2)), False, False, 1.0, 0.0)
    with pytest.raises(ValueError, match="shapes do not match"):
        cblas.gemm(a, b, np.empty((2, 3)), False, False, 1.0, 0.0)
    with pytest.raises(ValueError, match="unit stride"):
        cblas.gemm(a, b, np.empty((6, 4))[::2, ::2], False, False, 1.0, 0.0)
    with pytest.raises(TypingError, match="float32 or float64"):
        cblas.gemm(a.astype(np.int64), b.astype(np.int64), np.empty((3, 2), np.int64),
                   False, False, 1.0, 0.0)
    with pytest.raises(TypingError, match="one dtype"):
        cblas.gemm(a.astype(np.float32), b, np.empty((3, 2)), False, False, 1.0, 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dot_is_c_contiguous_and_matches_np_dot_also_where_it_swaps(dtype):
    rng = np.random.default_rng(2)
    g = rng.normal(size=(8, 256)).astype(dtype)
    w = rng.normal(size=(64, 256)).astype(dtype)
    # g @ w.T with few rows in g: the swapped product (b.T @ a.T).T
    for a, b in ((g, w.T), (g, np.ascontiguousarray(w.T)), (w, g.T), (g[:, :128], w[:, :128].T)):
        got = cblas.dot(a, b)
        assert got.flags.c_contiguous and got.dtype == dtype
        np.testing.assert_allclose(got, a @ b, **_TOL[dtype])
    with pytest.raises(ValueError, match="not aligned"):
        cblas.dot(g, w)


def test_a_32_bit_cblas_is_reached_through_the_narrowing_shim():
    # SciPy's own OpenBLAS (LP64) where this machine has one; numpy's is ILP64
    paths = glob.glob(os.path.join(os.path.dirname(os.path.dirname(np.__file__)),
                                   "scipy.libs", "*blas*.so*")) + \
        glob.glob("/work/venv-bench/lib/python3*/site-packages/scipy.libs/*blas*.so*")
    found = [(p, cblas.lookup(p)) for p in paths]
    found = [(p, f) for p, f in found if f is not None and f[0] == 32]
    if not found:
        pytest.skip("no 32-bit CBLAS library on this machine")
    from numba import types
    _, (abi, s_addr, _) = found[0]
    shim = cblas.narrowing_shim(s_addr, types.float32)
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, 4)).astype(np.float32)
    b = rng.normal(size=(4, 2)).astype(np.float32)
    out = np.zeros((3, 2), np.float32)
    p = ctypes.c_void_p
    shim.ctypes(101, 111, 111, 3, 2, 4, 1.0, p(a.ctypes.data), 4, p(b.ctypes.data), 2, 0.0,
                p(out.ctypes.data), 2)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5)


def test_without_a_blas_the_note_is_said_once(monkeypatch):
    monkeypatch.setattr(cblas, "AVAILABLE", False)
    monkeypatch.setattr(cblas, "_NOTED", [])
    with pytest.warns(RuntimeWarning, match="found no CBLAS gemm.*keeps numpy's np.dot"):
        cblas.note_missing("this graph")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cblas.note_missing("this graph")      # once per process
