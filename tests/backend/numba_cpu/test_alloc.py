"""lib/alloc.py's ``_empty``: arrays allocated inside kernels without
numba's ``np.empty`` overload (one more function compiled per shape rank
and dtype in every cold process, #13); the reductions use it."""
import numba as nb
import numpy as np
import pytest
from numba.core.errors import TypingError

from symnet.backend.numba_cpu.lib.alloc import _empty
from .helpers import run_cold


@nb.njit
def _fill(shape, dtype):
    a = _empty(shape, dtype)
    a.ravel()[:] = 1
    return a


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_, np.complex64])
@pytest.mark.parametrize("shape", [(0,), (5,), (3, 4), (2, 0, 3), (2, 3, 4)])
def test_empty_gives_a_c_contiguous_writable_array(shape, dtype):
    a = _fill(shape, dtype)
    assert a.shape == shape and a.dtype == np.dtype(dtype)
    assert a.flags.c_contiguous and a.flags.writeable
    assert np.all(a == 1)


def test_empty_rejects_what_np_empty_would_not_take_here():
    @nb.njit
    def by_int(n):
        return _empty(n, np.float32)

    @nb.njit
    def by_float(n):
        return _empty((n,), np.float32)
    with pytest.raises(TypingError):
        by_int(3)
    with pytest.raises(TypingError):
        by_float(3.0)


SCRIPT = """
import json, warnings, numpy as np, symnet, symnet.tensor as T
from symnet.compile.mode import Mode
x, d = T.ftensor3("x"), T.dtensor3("d")
with warnings.catch_warnings():
    warnings.filterwarnings("error", "the numba backend failed")
    f = symnet.function([x, d], [T.sum(x, axis=0), T.sum(x, axis=(0, 2)), T.max(x, axis=1),
                                 T.sum(d, axis=2)],
                        mode=Mode("numba", optimizer=None))
xv = np.random.RandomState(0).randn(5, 6, 7).astype("float32")
res = f(xv, xv.astype("float64"))
outs = [np.asarray(o).tolist() for o in res]
print(json.dumps(dict(seen=seen, outs=outs, dtypes=[str(np.asarray(o).dtype) for o in res],
                      src=f.source)))
"""


def test_reductions_compile_no_np_empty(tmp_path):
    """A cold process compiling partial reductions (float32 sums accumulate
    in a float64 buffer) compiles no ``np.empty`` overload; the values are
    numpy's."""
    got = run_cold(SCRIPT, tmp_path, SYMNET_TIERED="0")
    assert "_empty(" in got["src"] and "np.empty(" not in got["src"]
    empties = [q for m, q in got["seen"] if "empty" in q]
    assert empties == [], empties
    assert sum(q == "kernel" for m, q in got["seen"]) == 4
    xv = np.random.RandomState(0).randn(5, 6, 7).astype("float32")
    want = [xv.sum(axis=0, dtype=np.float64).astype(np.float32),
            xv.sum(axis=(0, 2), dtype=np.float64).astype(np.float32),
            xv.max(axis=1), xv.astype(np.float64).sum(axis=2)]
    assert got["dtypes"] == ["float32", "float32", "float32", "float64"]
    for g, w in zip(got["outs"], want):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-6, atol=1e-6)
