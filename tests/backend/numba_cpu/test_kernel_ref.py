"""``kernel_ref.py``: compiled kernels passed to njit code by address
(``KernelRef``), called with numba's own calling convention (values,
errors raised inside the kernel) and without linking them into the caller."""
import numba as nb
import numpy as np
import pytest
from numba import types

from symnet.backend.numba_cpu.kernel_ref import KernelFn, KernelRef, dot_ref
from symnet.backend.numba_cpu.lib import cblas

RO = types.Array(types.float64, 2, "C", readonly=True)


@nb.njit((RO, RO), no_cfunc_wrapper=True, error_model="numpy")
def _axpy_tanh(a, b):
    if a.shape != b.shape:
        raise ValueError("kernel: shapes differ")
    out = np.empty(a.shape, np.float64)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = np.tanh(a[i, j]) + 2.0 * b[i, j]
    return out


@nb.njit
def _steps(f, n, x):
    acc = x
    for _ in range(n):
        acc = f(acc, x)
    return acc


def test_a_kernel_called_by_address_gives_the_values_of_direct_calls():
    ref = KernelRef(_axpy_tanh)
    assert nb.typeof(ref) == KernelFn(_axpy_tanh.nopython_signatures[0])
    x = np.random.default_rng(0).normal(size=(3, 4))
    want = x
    for _ in range(3):
        want = np.tanh(want) + 2.0 * x
    np.testing.assert_allclose(_steps(ref, 3, x), want, rtol=1e-12)
    # the caller holds an address, not the kernel's code: nothing linked in,
    # where passing the dispatcher itself links the kernel's library
    kernel_lib = _axpy_tanh.overloads[_axpy_tanh.nopython_signatures[0].args].library
    _steps(_axpy_tanh, 1, x)
    linked = {type(k[0]).__name__: cres.library._linking_libraries
              for k, cres in _steps.overloads.items()}
    assert kernel_lib not in linked["KernelFn"]
    assert kernel_lib in linked["Dispatcher"]


def test_an_error_raised_in_the_kernel_reaches_the_caller():
    x = np.ones((2, 2))

    @nb.njit
    def call(f, a, b):
        return f(a, b)
    with pytest.raises(ValueError, match="kernel: shapes differ"):
        call(KernelRef(_axpy_tanh), x, np.ones((3, 2)))


def test_a_dispatcher_of_several_signatures_needs_the_one_named():
    @nb.njit
    def twice(a):
        return a * 2
    twice(np.ones(2))
    twice(np.ones((2, 2)))
    with pytest.raises(ValueError, match="exactly one compiled signature, it has 2"):
        KernelRef(twice)
    ref = KernelRef(twice, (types.Array(types.float64, 2, "C"),))
    assert ref.signature.args == (types.Array(types.float64, 2, "C"),)


@pytest.mark.skipif(not cblas.AVAILABLE, reason="numpy's BLAS has no CBLAS gemm")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dot_by_address_takes_any_layout(dtype):
    rng = np.random.default_rng(2)
    a = rng.normal(size=(6, 9)).astype(dtype)
    w = rng.normal(size=(12, 5)).astype(dtype)

    @nb.njit
    def products(dot, a, w):
        # a C array, a column slice, a transposed view: one compiled dot
        return dot(a, w[:9]), dot(a[:, 1:4], w[2:5, :]), dot(w[:5].T, a.T[:5])
    got = products(dot_ref(dtype), a, w)
    want = (a @ w[:9], a[:, 1:4] @ w[2:5], w[:5].T @ a.T[:5])
    tol = 1e-4 if dtype == "float32" else 1e-12
    for g, v in zip(got, want):
        assert g.dtype == np.dtype(dtype) and g.flags.c_contiguous
        np.testing.assert_allclose(g, v, rtol=tol, atol=tol)
    assert dot_ref(dtype) is dot_ref(dtype)
