"""bench/w8_products.py: every form it times computes the product it names."""
import numpy as np
import pytest

pytest.importorskip("numba")

from bench.w8_products import forms, main, products  # noqa: E402
from symnet.backend.numba_cpu.lib import cblas  # noqa: E402

pytestmark = pytest.mark.skipif(not cblas.AVAILABLE, reason="no CBLAS gemm in numpy's BLAS")


@pytest.mark.parametrize("size,cols,inner", [
    (dict(batch=32, hidden=256), 64, 256),      # W8's shapes, as the bench runs them
    (dict(batch=5, hidden=40), 64, 16),         # a partial column block, inner split 16+16+8
    (dict(batch=3, hidden=7), 4, 3)])           # blocks of 4 columns of 28, inner 3+3+1
def test_each_form_is_the_product(size, cols, inner):
    for name, (x, w) in products(size).items():
        assert w.flags.c_contiguous and x.dtype == w.dtype == np.float32
        want = x.astype("float64") @ w.astype("float64")
        for form, fn in forms(x, w, cols, inner).items():
            got = fn()
            assert got.shape == want.shape and got.dtype == np.float32, (name, form)
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max(),
                                       err_msg=f"{name}, {form}")


def test_blocked_writes_only_its_threads_blocks():
    from bench.w8_products import blocked_fn
    x, w = products(dict(batch=4, hidden=8))["h @ U"]       # 4x8 @ 8x32
    out = np.full((4, 32), -1.0, np.float32)
    blocked_fn()(x, w, out, 8, 8, 2, 1)                     # thread 1 of 2: blocks 2, 3
    np.testing.assert_allclose(out[:, 16:], (x @ w)[:, 16:], rtol=1e-5, atol=1e-5)
    assert (out[:, :16] == -1.0).all()


def test_main_prints_a_row_per_product_and_thread_count(capsys):
    main(["--calls", "2", "--rounds", "1"])
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("BLAS")]
    assert len(rows) in (2, 4)          # two products, at two BLAS threads and at one
    assert all(f in rows[0] for f in ("np.dot", "swapped", "blocked", "blocked, pool"))
