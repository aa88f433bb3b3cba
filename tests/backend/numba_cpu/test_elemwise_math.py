"""The numba backend's branch-free float32 exp / tanh / sigmoid helpers
(``elemwise.HELPERS``): ulp bounds on dense sweeps, special values, and a
fused graph with its gradient against numpy."""
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode

from .helpers import run_cold, use_tmp_cache

NB = Mode("numba", optimizer=None)


def _compile(build, dtype="float32"):
    """A numba function of one vector input; it must really run numba code."""
    use_tmp_cache()
    x = T.vector("x", dtype=dtype)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "the numba backend failed")
        fn = symnet.function([x], build(x), mode=NB)
    return fn


def _ulps(got, want):
    """|got - want| in units of the float32 spacing at ``want`` (float32)."""
    want = np.asarray(want, np.float32)
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    return err / np.spacing(np.abs(want)).astype(np.float64)


def _run(fn, x):
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "the numba kernel failed")
        with np.errstate(all="ignore"):
            return fn(x)


@pytest.fixture(scope="module")
def fns():
    return {"exp": _compile(T.exp), "tanh": _compile(T.tanh),
            "sigmoid": _compile(T.sigmoid)}


def test_float32_uses_helpers_float64_uses_numpy(fns):
    assert "_exp32(" in fns["exp"].source
    assert "_tanh32(" in fns["tanh"].source
    assert "_sigmoid32(" in fns["sigmoid"].source
    f64 = _compile(lambda x: T.exp(x) + T.tanh(x), "float64")
    assert "_exp32(" not in f64.source and "_tanh32(" not in f64.source
    x = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(f64(x), np.exp(x) + np.tanh(x), rtol=1e-14, atol=1e-15)


def test_exp_ulp_sweep(fns):
    x = np.linspace(-88, 88, 4_000_001, dtype=np.float32)
    got = _run(fns["exp"], x)
    assert got.dtype == np.float32
    exact = np.exp(x.astype(np.float64)).astype(np.float32)
    assert _ulps(got, exact).max() <= 1.0
    # numpy's own float32 exp is up to ~2.5 ulp off the rounded exact value
    assert _ulps(got, np.exp(x)).max() <= 3.0


def test_exp_denormal_and_overflow_edges(fns):
    # outputs in the subnormal range lose relative precision: compare in
    # units of the smallest subnormal there, and near the overflow edge
    x = np.linspace(-103.9, -87.4, 200_001, dtype=np.float32)
    got = _run(fns["exp"], x)
    want = np.exp(x.astype(np.float64))
    tiny = np.float64(np.finfo(np.float32).smallest_subnormal)
    assert np.max(np.abs(got - want) / np.maximum(np.spacing(want.astype(np.float32)),
                                                  tiny)) <= 2.0
    hi = np.array([88.72, 88.7228, 88.7229, 88.75, 89.0, 89.5, 1e4, 3e38], np.float32)
    got = _run(fns["exp"], hi)
    with np.errstate(over="ignore"):
        want = np.exp(hi.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    assert _ulps(got[finite], want[finite]).max() <= 1.0


def test_exp_special_values(fns):
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, -104.0, -105.0, -1e30, -3e38,
                  1e-30, -1e-30, 1e-45], np.float32)
    got = _run(fns["exp"], x)
    np.testing.assert_array_equal(got, np.array(
        [np.inf, 0, np.nan, 1, 1, 0, 0, 0, 0, 1, 1, 1], np.float32))


def test_tanh_ulp_sweep(fns):
    x = np.linspace(-10, 10, 4_000_001, dtype=np.float32)
    got = _run(fns["tanh"], x)
    assert got.dtype == np.float32
    # at most 2 steps from the rounded exact tanh; numpy's float32 tanh is
    # itself up to 1 step off, so up to 3 from it
    assert _ulps(got, np.tanh(x.astype(np.float64)).astype(np.float32)).max() <= 2.0
    assert _ulps(got, np.tanh(x)).max() <= 3.0
    # near zero (t = e^{2|x|} - 1 must keep its relative accuracy), around
    # each change of the reduction's n, and near the cut to +-1 at 9
    small = np.concatenate([np.geomspace(1e-38, 1.0, 200_000, dtype=np.float32),
                            np.linspace(0.1, 2.2, 200_001, dtype=np.float32),
                            np.linspace(8.5, 9.5, 100_001, dtype=np.float32)])
    for s in (small, -small):
        got = _run(fns["tanh"], s)
        assert _ulps(got, np.tanh(s.astype(np.float64)).astype(np.float32)).max() <= 2.0
        assert _ulps(got, np.tanh(s)).max() <= 3.0
    assert np.array_equal(_run(fns["tanh"], -small), -_run(fns["tanh"], small))


def _float32_grid(lo, hi, step):
    """Every ``step``-th float32 from lo to hi (>= 0), by bit pattern, in
    chunks of 4M."""
    a, b = np.float32(lo).view(np.int32), np.float32(hi).view(np.int32)
    for s in range(int(a), int(b) + 1, step << 22):
        yield np.arange(s, min(s + (step << 22), int(b) + 1), step,
                        dtype=np.int32).view(np.float32)


@pytest.mark.parametrize("name, lo, hi, sign, bound", [
    ("exp", 0.0, 89.0, 1, 1), ("exp", 0.0, 104.0, -1, 1), ("tanh", 0.0, 10.0, 1, 2)])
def test_dense_float32_grid(fns, name, lo, hi, sign, bound):
    """Every 16th float32 of the range (70 million; subnormal inputs and
    results included, the latter in steps of 2^-149) within the bound
    lib/fastmath32.py states, against the float64 function rounded once."""
    ref = {"exp": np.exp, "tanh": np.tanh}[name]
    for x in _float32_grid(lo, hi, 16):
        x = x * np.float32(sign)
        got = _run(fns[name], x)
        with np.errstate(over="ignore"):
            want = ref(x.astype(np.float64)).astype(np.float32)
        fin = np.isfinite(want)
        unit = np.maximum(np.spacing(np.abs(want[fin])).astype(np.float64), 2.0 ** -149)
        assert np.max(np.abs(got[fin].astype(np.float64) - want[fin]) / unit) <= bound
        np.testing.assert_array_equal(got[~fin], want[~fin])


def test_tanh_special_values(fns):
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 9.5, -9.5, 50, -1e30, 1e-45,
                  -1e-45], np.float32)
    got = _run(fns["tanh"], x)
    want = np.array([1, -1, np.nan, 0, -0.0, 1, -1, 1, -1, 1e-45, -1e-45], np.float32)
    np.testing.assert_array_equal(got, want)
    assert np.signbit(got[4]) and not np.signbit(got[3])


def test_sigmoid_ulp_and_special_values(fns):
    x = np.linspace(-80, 80, 2_000_001, dtype=np.float32)
    got = _run(fns["sigmoid"], x)
    want = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    assert _ulps(got, want.astype(np.float32)).max() <= 2.0
    sp = np.array([np.inf, -np.inf, np.nan, 0.0, 200.0, -200.0], np.float32)
    np.testing.assert_array_equal(_run(fns["sigmoid"], sp),
                                  np.array([1, 0, np.nan, 0.5, 1, 0], np.float32))


def test_fused_graph_and_gradient_match_numpy():
    """The bench's W2 graph (fused tanh * exp with its gradient) in numba
    mode against a float64 numpy reference."""
    a, b = np.float32(0.7), np.float32(-0.2)
    use_tmp_cache()
    x = T.fvector("x")
    e = T.tanh(a * x + b) * T.exp(-x * x)
    loss = T.sum(e)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "the numba backend failed")
        fn = symnet.function([x], [e, loss, symnet.grad(loss, x)], mode="numba")
    assert "_exp32(" in fn.source and "_tanh32(" in fn.source
    xv = np.random.RandomState(0).randn(10_000).astype(np.float32) * 3
    xv[:4] = [0.0, -0.0, 12.0, -12.0]
    got_e, got_loss, got_g = _run(fn, xv)
    # exp's argument -x*x as the graph rounds it (its rounding error times
    # x*x is the rest); a*x + b may be one fused multiply-add, hence the
    # absolute term in the tolerance below
    x64 = xv.astype(np.float64)
    t = np.tanh(0.7 * x64 - 0.2)
    ex = np.exp((-(xv * xv)).astype(np.float64))
    slack = 2e-7 * (np.abs(0.7 * x64) + 0.2) * ex   # one rounding of a*x + b
    g1, g2 = (1 - t * t) * 0.7 * ex, 2 * x64 * t * ex
    want_g = g1 - g2
    assert got_e.dtype == got_g.dtype == np.float32
    # each element: tanh and exp at <= 2 ulp each plus a few float32 roundings
    assert np.all(np.abs(got_e - t * ex) <= 1e-6 * np.abs(t * ex) + slack + 1e-44)
    # the two terms of the gradient cancel: bound by their magnitudes; where
    # exp(-x*x) is subnormal (|x| > 9.3) float32 keeps only a few digits
    assert np.all(np.abs(got_g - want_g)
                  <= 2e-6 * (np.abs(g1) + np.abs(g2)) + 3 * (1 + np.abs(x64)) * slack + 1e-40)
    np.testing.assert_allclose(got_loss, np.sum(t * ex), rtol=1e-5)


LAZY_SCRIPT = """
import json, warnings, numpy as np, symnet, symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.backend.numba_cpu.lib import fastmath32 as fm
names = ("_exp32", "_tanh32", "_sigmoid32", "_reduce", "_exp_poly", "_expm1_poly", "_pow2",
         "_with_sign")
def compiled():
    return {n: [str(s) for s in getattr(fm, n).signatures] for n in names}
at_import = compiled()
x = T.fvector("x")
mode = Mode("numba", optimizer=None)
mode.emitter = EMITTER
with warnings.catch_warnings():
    warnings.filterwarnings("error", "the numba backend failed")
    f = symnet.function([x], [T.tanh(x) * 2, T.sum(x * 3)], mode=mode)
xv = np.linspace(-5, 5, 1001).astype("float32")
out, total = f(xv)
after, seen_f = compiled(), list(seen)
ir = {k: v.ir_text for k, v in f.thunk.linker.code.llvm_kernels.items()}
print(json.dumps(dict(at_import=at_import, after=after, src=f.source, seen=seen_f,
                      out=np.asarray(out).tolist(), total=float(total), ir=ir,
                      py=float(fm._tanh32.py_func(0.5)))))
"""


def test_helpers_compile_on_first_use_and_their_parts_are_inlined(tmp_path):
    """Compile time (#13): importing fastmath32 compiles nothing; a tanh
    graph compiles _tanh32 alone, for float32 only; its parts (_reduce,
    _expm1_poly, _pow2, _with_sign) are inlined into it, never compiled on their own.
    (The numba emitter's helpers: pinned to it.)"""
    got = run_cold(LAZY_SCRIPT.replace("EMITTER", "'numba'"), tmp_path)
    assert all(sigs == [] for sigs in got["at_import"].values()), got["at_import"]
    assert got["after"]["_tanh32"] == ["(float32,)"]
    assert {n: s for n, s in got["after"].items() if n != "_tanh32"} == \
        {n: [] for n in ("_exp32", "_sigmoid32", "_reduce", "_exp_poly", "_expm1_poly",
                         "_pow2", "_with_sign")}
    assert "_tanh32(" in got["src"]
    # nothing else of ours compiled, and neither min() nor max() (numba
    # overloads, one more compile each) for the clamps or the sum's blocks
    ours = sorted(q for m, q in got["seen"] if not m.startswith("numba"))
    assert ours == ["_tanh32", "kernel"] or ours == ["_tanh32", "kernel", "kernel"], ours
    assert not [q for m, q in got["seen"] if q.startswith(("ol_min", "ol_max"))]
    xv = np.linspace(-5, 5, 1001).astype("float32")
    assert np.max(_ulps(np.float32(got["out"]) / 2, np.tanh(xv))) <= 3
    assert abs(got["total"] - 3 * np.sum(xv, dtype=np.float64)) < 1e-3
    # the helper still runs as plain Python (the parts compile on that call)
    assert abs(got["py"] - np.tanh(0.5)) < 1e-6


def test_llvm_kernels_carry_their_helpers_and_compile_nothing_with_numba(tmp_path):
    """The llvm emitter's equivalent: the same graph's kernels define the
    float32 tanh in their own IR (llvm/fastmath32.py), so numba compiles
    nothing at all, helpers included; values as accurate as numba's."""
    got = run_cold(LAZY_SCRIPT.replace("EMITTER", "'llvm'"), tmp_path)
    assert got["seen"] == [] and all(s == [] for s in got["after"].values()), got
    tanh_ir = [t for t in got["ir"].values() if 'call float @"_tanh32"(' in t]
    assert len(tanh_ir) == 1 and 'define internal float @"_tanh32"(' in tanh_ir[0]
    assert not [t for t in got["ir"].values() if "@\"_exp32\"" in t]   # only what is used
    xv = np.linspace(-5, 5, 1001).astype("float32")
    assert np.max(_ulps(np.float32(got["out"]) / 2, np.tanh(xv))) <= 3
    assert abs(got["total"] - 3 * np.sum(xv, dtype=np.float64)) < 1e-3
