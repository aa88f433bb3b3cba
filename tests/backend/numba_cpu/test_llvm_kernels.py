"""The llvm emitter's kernels as a whole: in-place runs, full sums and
column sums against the numba emitter's kernels and numpy, the shape
errors, the float32 helpers against lib/fastmath32.py, the object cache
read back by a new process, and a W3-like graph compiled without numba."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode

from .llvm_helpers import against_py, compile_with, emitter, llvm_kernels

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _both(inputs, outputs, values, optimizer="default"):
    """(llvm results, numba-emitter results) of the same graph."""
    fl = compile_with("llvm", inputs, outputs, optimizer)
    fn = compile_with("numba", inputs, outputs, optimizer)
    assert llvm_kernels(fl) and not llvm_kernels(fn)
    return [np.asarray(r) for r in fl(*values)], [np.asarray(r) for r in fn(*values)]


def _ulps(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(invalid="ignore"):      # inf - inf: compared by ==
            return np.abs(a - b) / np.spacing(np.maximum(np.abs(b), 1e-30).astype(np.float32))


@pytest.mark.parametrize("name", ["exp", "tanh", "sigmoid"])
def test_float32_helpers_match_lib_fastmath32(name):
    fn = {"exp": T.exp, "tanh": T.tanh, "sigmoid": T.nnet.sigmoid}[name]
    x = T.fvector("x")
    sweep = np.concatenate([np.linspace(-110, 100, 400_001, dtype=np.float32),
                            np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30,
                                      2.0 ** -13, 9.0, 9.5, 89.0, -104.0], np.float32)])
    got, want = _both([x], [fn(x)], [sweep], optimizer=None)
    # the accuracy lib/fastmath32.py documents, against the float64 function
    # rounded once (finite results; the specials are compared exactly)
    with np.errstate(over="ignore"):
        exact = {"exp": np.exp, "tanh": np.tanh,
                 "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[name](sweep.astype(np.float64))
        exact = exact.astype(np.float32)
    normal = np.isfinite(exact) & (np.abs(exact) >= np.finfo(np.float32).tiny)
    assert np.all(_ulps(got[0][normal], exact[normal]) <= 2)
    tiny = np.isfinite(exact) & ~normal            # subnormal results: steps of 2^-149
    off = got[0][tiny].astype(np.float64) - exact[tiny]
    if name == "sigmoid":
        # 1 / (1 + exp(-x)): exp(-x) overflows to inf past x < -89, so the
        # subnormal tail flushes to 0 (as lib/fastmath32.py's does)
        assert np.all((got[0][tiny] >= 0) & (off <= 2 * 2.0 ** -149))
    else:
        assert np.all(np.abs(off) <= 2 * 2.0 ** -149)
    special = ~np.isfinite(exact)
    assert np.array_equal(got[0][special], exact[special], equal_nan=True)
    assert np.signbit(got[0][-10]) == np.signbit(want[0][-10])      # f(-0.0)
    if os.environ.get("NUMBA_OPT", "3") == "0":
        # numba at -O0 (CI's forced-numba run) does not contract the
        # polynomial's multiply-adds, so its reference rounds differently
        return
    same = got[0] == want[0]
    both_nan = np.isnan(got[0]) & np.isnan(want[0])
    assert np.all(same | both_nan | (_ulps(got[0], want[0]) <= 1))
    assert np.mean(same | both_nan) > 0.99       # the same algorithm, not just close


def test_full_sums_against_numba_and_numpy():
    x, y = T.fmatrix("x"), T.frow("y")
    e = T.tanh(x + y) * x
    rng = np.random.RandomState(3)
    a = rng.randn(37, 1000).astype("float32")    # the last axis spans several blocks
    b = rng.randn(1, 1000).astype("float32")
    got, want = _both([x, y], [e, T.sum(e), T.sum(e * e, dtype="float64")], [a, b])
    np.testing.assert_allclose(got[0], want[0], rtol=3e-7, atol=1e-7)
    ref = (np.tanh(a.astype(np.float64) + b) * a)
    for g, w, r in ((got[1], want[1], ref.sum()), (got[2], want[2], (ref * ref).sum())):
        np.testing.assert_allclose(g, w, rtol=1e-6)
        np.testing.assert_allclose(g, r, rtol=1e-5)
    assert got[1].dtype == np.float32 and got[2].dtype == np.float64


def test_full_sums_float64_and_int():
    x, i = T.dvector("x"), T.ivector("i")
    rng = np.random.RandomState(4)
    a, k = rng.randn(3000), rng.randint(-50, 50, 3000).astype("int32")
    f = against_py([x, i], [T.sum(T.exp(x) * 2), T.prod(x * 0 + 1.001), T.sum(i * 3 + 1)],
                   [a, k], rtol=1e-12)
    got = f(a, k)
    assert got[2].dtype == np.int64 or got[2].dtype == np.int32


def test_column_sums_bitwise_like_numba():
    """A relu-style gradient with its bias gradient in one loop: the
    column sums add each row in order into float64, as colsum.py does, so
    both emitters give the same bits."""
    g, z = T.fmatrix("g"), T.fmatrix("z")
    d = g * (z > 0)
    rng = np.random.RandomState(5)
    a, b = rng.randn(64, 300).astype("float32"), rng.randn(64, 300).astype("float32")
    got, want = _both([g, z], [d, T.sum(d, axis=0)], [a, b])
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    ref = (a * (b > 0)).astype(np.float64).sum(axis=0)
    np.testing.assert_allclose(got[1], ref, rtol=1e-6)
    d64 = T.dmatrix("d")
    w = T.sum(T.tanh(d64) * 2, axis=0)
    against_py([d64], [w, T.tanh(d64) * 2], [rng.randn(9, 17)], rtol=1e-13)


def _w3_graph(n, size=16, seed=0):
    rng = np.random.RandomState(seed)
    y = T.fmatrix("y")
    h, params = y, []
    for _ in range(n // 2):
        w = symnet.shared((rng.randn(size, size) * 0.4).astype("float32"))
        b = symnet.shared((rng.randn(size) * 0.1).astype("float32"))
        params += [w, b]
        h = T.tanh(T.dot(h, w) + b)
    return y, symnet.grad(T.sum(h), params)


def test_w3_like_graph_in_place_runs_match_py():
    y, grads = _w3_graph(8)
    x = np.random.RandomState(1).randn(5, 16).astype("float32")
    keep = x.copy()
    f = against_py([y], grads, [x], rtol=2e-5, atol=1e-6)
    # the fused tanh and the gradient loops write into their input (as the
    # numba kernels do): some wrapper returns an argument
    wrappers = [ln for ln in f.source.splitlines() if ln.startswith("#     return")]
    assert any("a0" in ln or "a2" in ln for ln in wrappers), wrappers
    np.testing.assert_array_equal(x, keep)      # the caller's input is never written


def test_shape_mismatch_error_names_node_like_numba():
    x, y = T.fmatrix("x"), T.fmatrix("y")
    out = T.tanh(x + y) * 2
    msgs = []
    for name in ("llvm", "numba"):
        f = compile_with(name, [x, y], [out, T.sum(out, axis=0)])
        with pytest.raises(ValueError) as info:
            f(np.ones((3, 4), "float32"), np.ones((3, 5), "float32"))
        msgs.append(str(info.value))
    assert "along axis 1" in msgs[0] or "shape" in msgs[0]
    assert msgs[0] == msgs[1]


def test_wrong_dtype_or_layout_is_refused():
    x = T.fmatrix("x")
    f = compile_with("llvm", [x], [T.exp(x) * x])
    (kname,) = llvm_kernels(f)
    kernel = f.thunk.linker.kernels[kname]
    np.testing.assert_allclose(kernel(np.ones((3, 4), "float32")), np.e, rtol=1e-6)
    with pytest.raises(TypeError, match="C-contiguous of its declared dtype"):
        kernel(np.ones((3, 4), "float64"))
    with pytest.raises(TypeError, match="C-contiguous"):
        kernel(np.ones((4, 3), "float32").T)


def test_njit_driver_keeps_numba_kernels(monkeypatch):
    monkeypatch.setenv("SYMNET_NUMBA_NJIT_DRIVER", "1")
    x = T.fvector("x")
    f = compile_with("llvm", [x], [T.tanh(x) * 2 + 1])
    assert not llvm_kernels(f)
    a = np.linspace(-3, 3, 11, dtype="float32")
    np.testing.assert_allclose(f(a)[0], np.tanh(a) * 2 + 1, rtol=1e-6)


def test_unknown_emitter_is_an_error(monkeypatch):
    monkeypatch.setenv("SYMNET_NUMBA_EMITTER", "gcc")
    x = T.fvector("x")
    with pytest.raises(ValueError, match="SYMNET_NUMBA_EMITTER"):
        symnet.function([x], T.exp(x), mode=Mode("numba", tiered=False))


_CHILD = r'''
import json, sys
import numpy as np
import symnet, symnet.tensor as T
from symnet.compile.mode import Mode
sys.path.insert(0, {tests!r})
rng = np.random.RandomState(0)
y = T.fmatrix("y"); h = y; params = []
for _ in range(6):
    w = symnet.shared((rng.randn(8, 8) * 0.4).astype("float32"))
    b = symnet.shared((rng.randn(8) * 0.1).astype("float32"))
    params += [w, b]; h = T.tanh(T.dot(h, w) + b)
grads = symnet.grad(T.sum(h), params)
f = symnet.function([y], grads, mode=Mode("numba", tiered=False))
x = rng.randn(4, 8).astype("float32")
got = f(x)
want = symnet.function([y], grads, mode=Mode("py"))(x)
from symnet.backend.numba_cpu.llvm import jit
print(json.dumps({{"numba": sorted(m for m in sys.modules if m == "numba" or m.startswith("numba.")),
                  "stats": jit.stats, "source": f.source,
                  "err": max(float(np.max(np.abs(g - w))) for g, w in zip(got, want))}}))
'''


def _child(tmp_path):
    # the child's reference is the real py backend (not CI's forced numba)
    env = {k: v for k, v in os.environ.items() if k != "SYMNET_FORCE_BACKEND"}
    env = dict(env, SYMNET_CACHE_DIR=str(tmp_path / "s"),
               NUMBA_CACHE_DIR=str(tmp_path / "n"), PYTHONPATH=ROOT,
               SYMNET_NUMBA_EMITTER="llvm", SYMNET_TIERED="0")
    res = subprocess.run([sys.executable, "-c", _CHILD.format(tests=ROOT)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_w3_like_graph_never_starts_numba_and_cache_is_read_back(tmp_path):
    first = _child(tmp_path)
    assert first["numba"] == [], first["numba"]      # never imported: no numba compile
    assert "# def L0(" in first["source"] and "def k0(" not in first["source"]
    assert first["err"] < 1e-4
    assert first["stats"] == {"compiled": 1, "loaded": 0}
    assert any(p.startswith("o_") for p in os.listdir(tmp_path / "s" / "numba"))
    second = _child(tmp_path)           # a new process: the object code is loaded
    assert second["stats"] == {"compiled": 0, "loaded": 1}
    assert second["numba"] == [] and second["err"] == first["err"]


def test_damaged_cache_file_is_compiled_again(tmp_path):
    _child(tmp_path)
    folder = tmp_path / "s" / "numba"
    (obj,) = [p for p in os.listdir(folder) if p.startswith("o_")]
    (folder / obj).write_bytes(b"\x7fELF garbage")
    again = _child(tmp_path)
    assert again["stats"] == {"compiled": 1, "loaded": 0} and again["err"] < 1e-4
    assert (folder / obj).read_bytes().startswith(b"symnet-llvm-object")    # rewritten


def test_builtin_entry_keeps_reference_counts():
    """A kernel whose arguments are all arrays (a scalar input arrives
    broadcast, as a 1-element array) is called as a builtin (fastcall.py):
    its new reference to the first argument is released by the wrapper."""
    x, v, s = T.fmatrix("x"), T.fvector("v"), T.fscalar("s")
    f = compile_with("llvm", [x, v, s], [T.exp(x) * x, T.tanh(v * s) + s])
    kernels = f.thunk.linker.kernels
    kinds = sorted(type(kernels[k].__globals__[f"_{k}_native"]).__name__
                   for k in llvm_kernels(f))
    assert kinds == ["builtin_function_or_method"] * 2, kinds
    a = np.linspace(-2, 2, 12, dtype="float32").reshape(3, 4)
    b = np.linspace(-2, 2, 5, dtype="float32")
    before = sys.getrefcount(a), sys.getrefcount(b)
    for _ in range(1000):
        got = f(a, b, np.float32(0.5))
    assert (sys.getrefcount(a), sys.getrefcount(b)) == before
    np.testing.assert_allclose(got[0], np.exp(a) * a, rtol=1e-6)
    np.testing.assert_allclose(got[1], np.tanh(b * 0.5) + 0.5, rtol=1e-6, atol=1e-7)


def test_profile_and_source_say_which_emitter_built_each_kernel():
    x, y = T.fmatrix("x"), T.dvector("y")
    use = compile_with("llvm", [x, y], [T.tanh(x) * 2, y // 2.0], profile=True)
    use(np.ones((2, 3), "float32"), np.ones(4))
    text = use.profile.text()
    assert "2 distinct (1 by the llvm emitter: L*)" in text, text
    assert "kernels built by the llvm emitter" in use.source and "def k0(" in use.source


def test_in_place_update_tail_stays_numba():
    """The update tail's kernels run from one C-level loop so a Ctrl-C
    never lands between two of them (inplace.py): they stay numba kernels;
    the rest of the graph is llvm, and the updates are right."""
    w = symnet.shared(np.ones(6, "float32"), name="w")
    v = symnet.shared(np.full(6, 0.5, "float32"), name="v")
    x = T.fvector("x")
    f = compile_with("llvm", [x], [T.exp(x) * 2],
                     updates=[(w, w * 0.9 + v), (v, v * 0.5 - 1.0)])
    assert "_owned(" in f.source          # the updates are a tail
    a = np.linspace(-1, 1, 6, dtype="float32")
    np.testing.assert_allclose(f(a)[0], np.exp(a) * 2, rtol=1e-6)
    np.testing.assert_allclose(w.get_value(), np.full(6, 1.4), rtol=1e-6)
    np.testing.assert_allclose(v.get_value(), np.full(6, -0.75), rtol=1e-6)
    assert llvm_kernels(f) and "def k0(" in f.source


def test_listing_stays_a_standalone_module(tmp_path):
    """``f.source`` (what ``symnet.export`` writes) lists each llvm kernel's
    numba equivalent under its name: the module runs on numba alone and
    gives the llvm kernels' values."""
    x, b = T.fmatrix("x"), T.frow("b")
    h = T.tanh(x + b)
    g = T.grad(T.sum(h * h), [x, b])
    f = compile_with("llvm", [x, b], [h] + g)
    assert llvm_kernels(f) and "# L0: built by the llvm emitter" in f.source
    import importlib.util
    path = tmp_path / "listing_mod.py"
    path.write_text(f.source)
    spec = importlib.util.spec_from_file_location("listing_mod", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    run = mod.make_run(f.thunk.linker.consts, None, None)
    rng = np.random.RandomState(2)
    a, c = rng.randn(5, 7).astype("float32"), rng.randn(1, 7).astype("float32")
    for got, want in zip(run(a.copy(), c.copy()), f(a, c)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
