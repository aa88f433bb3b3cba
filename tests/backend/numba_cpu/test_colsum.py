"""Column sums (a bias gradient) computed in the fused loop of the matrix
they sum (colsum.py, plan.is_column_sum): values against py and against
the separate Sum kernel (to the bit), the plan's order, the cases that
decline (threads, other axes), and a training step's updates."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symnet
import symnet.tensor as T
from symnet.backend import plan as plan_mod
from symnet.backend.numba_cpu import linker as numba_linker
from symnet.backend.plan import Run, build_plan
from symnet.compile.mode import Mode
from symnet.graph.fg import FunctionGraph

from tests.oracles import check_op, examples
from .emitters import built_by, each_emitter, emitter_mode, kernels
from .helpers import both, use_tmp_cache
from .test_inplace_updates import _data, _nesterov


def _relu_grad(dtype="float32"):
    x, g = T.matrix("x", dtype=dtype), T.matrix("g", dtype=dtype)
    b = T.vector("b", dtype=dtype)
    z = x + b
    d = g * 0.5 * (1 + T.sgn(z))       # relu's gradient, as grad() writes it
    return [x, g, b], d


def _values(dtype="float32", n=37, m=53, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randn(n, m).astype(dtype), rng.randn(n, m).astype(dtype),
            rng.randn(m).astype(dtype)]


def _fused_titles(fn):
    """The ops of each fused kernel of ``fn`` (either emitter's)."""
    return [k.title[len("fused: "):] for k in kernels(fn) if k.title.startswith("fused: ")]


def _without_column_sums(monkeypatch):
    orig = numba_linker.build_plan
    monkeypatch.setattr(numba_linker, "build_plan",
                        lambda *a, **k: orig(*a, **{**k, "column_sums": False}))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@each_emitter
def test_relu_gradient_and_its_column_sum_are_one_loop_and_agree_with_py(dtype, emitter):
    ins, d = _relu_grad(dtype)
    fn = both(ins, [d, d.sum(axis=0)], _values(dtype), emitter=emitter)
    ks = built_by(fn, emitter)
    titles = _fused_titles(fn)
    assert len(ks) == len(titles) == 1 and titles[0].endswith("Sum{axis=[0]}"), titles
    assert not [k for k in ks if k.title.startswith("Sum")]   # no kernel of its own
    (k,) = ks
    if emitter == "llvm":      # the llvm loop computes the gradient and sums it
        assert [str(n.op) for n in k.loop.nodes][-1] == "Sum{axis=[0]}"
        assert len(k.loop.results) == 2
    assert len(re.findall(rf"\(one loop: {k.name}\)", fn.source)) == 2   # both nodes


def test_the_fused_sum_equals_the_separate_sum_kernel_to_the_bit(monkeypatch):
    use_tmp_cache()
    ins, d = _relu_grad()
    vals = _values(n=64, m=500)
    new = symnet.function(ins, [d, d.sum(axis=0)], mode=Mode("numba", tiered=False))
    _without_column_sums(monkeypatch)
    old = symnet.function(ins, [d, d.sum(axis=0)], mode=Mode("numba", tiered=False))
    assert any(t.endswith("Sum{axis=[0]}") for t in _fused_titles(new))
    assert not any("Sum" in t for t in _fused_titles(old))
    kept = [v.copy() for v in vals]
    (a, sa), (b, sb) = new(*vals), old(*vals)
    for v, k in zip(vals, kept):     # the loop writes in place, never into an input
        np.testing.assert_array_equal(v, k)
    assert sa.dtype == sb.dtype == np.float32 and sa.shape == (500,)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(sa, sb)
    # float64 accumulation of the rows in order, as the Sum kernel does
    np.testing.assert_array_equal(sa, a.astype("float64").sum(axis=0).astype("float32"))


def test_a_sum_used_later_and_the_matrix_used_by_a_product():
    ins, d = _relu_grad()
    w = T.fmatrix("w")
    out = [T.dot(d, w), d.sum(axis=0) * 3.0, (d * d).sum(axis=0)]
    vals = _values() + [np.random.RandomState(1).randn(53, 7).astype("float32")]
    both(ins + [w], out, vals, rtol=1e-4, atol=1e-5)


def test_other_axes_and_threaded_loops_keep_their_own_sum_kernel():
    ins, d = _relu_grad()
    fn = both(ins, [d.sum(axis=1), d.sum()], _values())
    assert not any("Sum{axis=[1]}" in t for t in _fused_titles(fn))
    use_tmp_cache()
    x, g, b = ins
    par = symnet.function(ins, [d, d.sum(axis=0)], mode=Mode("numba", parallel=True,
                                                             tiered=False))
    py = symnet.function(ins, [d, d.sum(axis=0)], mode="py")
    vals = _values()
    for got, want in zip(par(*vals), py(*vals)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not any("Sum" in t for t in _fused_titles(par))   # declined: node by node


def test_the_plan_moves_a_column_sum_next_to_its_input_only_when_asked():
    ins, d = _relu_grad()
    w = T.fmatrix("w")
    fg = FunctionGraph(ins + [w], [T.dot(d, w), d.sum(axis=0)])
    from symnet.compile.mode import get_mode
    get_mode("numba").rewrite(fg)
    with_sums = build_plan(fg, column_sums=True)
    runs = [s for s in with_sums.steps if isinstance(s, Run)]
    assert any(plan_mod.is_column_sum(n) for r in runs for n in r.nodes)
    done = set()
    for node in with_sums.nodes():     # still every node once, after its inputs
        assert all(v.owner is None or v.owner in done for v in node.inputs)
        done.add(node)
    assert done == set(fg.apply_nodes)
    plain = build_plan(fg)                # CUDA's plan: the sum is its own step
    assert not any(plan_mod.is_column_sum(n) for s in plain.steps if isinstance(s, Run)
                   for n in s.nodes)


@each_emitter
def test_a_nesterov_step_sums_each_bias_gradient_in_its_loop_and_agrees_with_py(emitter):
    use_tmp_cache()
    params, xv, yv = _data()
    fn, shn, veln = _nesterov(emitter_mode(emitter, tiered=False), params, xv, yv)
    fp, shp, velp = _nesterov("py", params, xv, yv)
    built_by(fn, emitter)
    # the hidden bias gradient summed inside the relu gradient's fused loop; the
    # output layer's comes from SoftmaxCrossentropyWithGrad, its sum a kernel of its own
    assert len(re.findall(r"# node \d+: Sum\{axis=\[0\]\}\(v\d+\) -> v\d+  \(one loop: [kL]",
                          fn.source)) == 1
    assert len(re.findall(r"# node \d+: SoftmaxCrossentropyWithGrad\(", fn.source)) == 1
    for _ in range(3):
        np.testing.assert_allclose(fn(xv, yv), fp(xv, yv), rtol=1e-5)
    for a, b in zip(shn + veln, shp + velp):
        np.testing.assert_allclose(a.get_value(), b.get_value(), rtol=1e-5, atol=1e-6)


def test_a_run_takes_full_sums_or_column_sums_not_both():
    ins, d = _relu_grad()
    e = T.exp(d)
    fn = both(ins, [e, e.sum(axis=0), e.sum()], _values(), rtol=1e-5, atol=1e-4)
    titles = _fused_titles(fn)
    assert any(t.endswith("Sum{axis=[0]}") for t in titles), titles


def _llvm_against_numba(ins, outs, vals):
    """Each output of the llvm emitter's kernels against the numba kernels'
    (to the bit) and against py (to float tolerance)."""
    got = symnet.function(ins, outs, mode=emitter_mode("llvm", tiered=False))
    want = symnet.function(ins, outs, mode=emitter_mode("numba", tiered=False))
    py = symnet.function(ins, outs, mode="py")
    assert built_by(got, "llvm")
    kept = [v.copy() for v in vals]
    g, w, p = got(*vals), want(*vals), py(*vals)
    for v, k in zip(vals, kept):
        np.testing.assert_array_equal(v, k)
    for a, b, c in zip(g, w, p):
        assert a.dtype == b.dtype == c.dtype and a.shape == b.shape == c.shape
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-5)
    return got


@pytest.mark.parametrize("n", [1, 7, 8, 9, 21, 64])
def test_the_llvm_column_sum_over_row_groups_equals_the_numba_sum_to_the_bit(n):
    # the llvm kernel sums COL_ROWS rows per pass over the columns, the rows
    # left over one at a time; every row count around a group's size
    from symnet.backend.numba_cpu.llvm.kernel import COL_ROWS
    assert COL_ROWS == 8
    use_tmp_cache()
    ins, d = _relu_grad()
    vals = _values(n=n, m=37, seed=n)
    vals[1][0] *= 1e6           # rows of very different sizes: the order shows
    fn = _llvm_against_numba(ins, [d, d.sum(axis=0)], vals)
    (k,) = [k for k in kernels(fn) if k.title.endswith("Sum{axis=[0]}")]
    assert k.loop._col_sources()    # the grouped loop, not the one-loop form


def test_a_column_sum_of_a_value_not_stored_keeps_the_one_loop_form():
    use_tmp_cache()
    ins, d = _relu_grad()
    vals = _values(n=19, m=40, seed=3)
    fn = _llvm_against_numba(ins, [d, (d * d).sum(axis=0)], vals)
    (k,) = [k for k in kernels(fn) if k.title.endswith("Sum{axis=[0]}")]
    assert k.loop._col_sources() is None


@settings(max_examples=examples(15), deadline=None)
@given(n=st.integers(1, 40), m=st.integers(1, 70), seed=st.integers(0, 2**16),
       dtype=st.sampled_from(["float32", "float64"]))
def test_the_relu_gradient_and_its_column_sum_on_drawn_shapes(n, m, seed, dtype):
    ins, d = _relu_grad(dtype)
    vals = _values(dtype, n=n, m=m, seed=seed)
    vals[0][:, ::3] = 0.0
    vals[2][::2] = 0.0           # z == 0 in some columns: sgn's middle case
    check_op(lambda x, g, b: [d_of(x, g, b), d_of(x, g, b).sum(axis=0)], vals,
             ref=lambda x, g, b: [_ref_relu_grad(x, g, b), _ref_relu_grad(x, g, b).astype(
                 "float64").sum(axis=0).astype(dtype)])


def d_of(x, g, b):
    return g * 0.5 * (1 + T.sgn(x + b))


def _ref_relu_grad(x, g, b):
    dt = x.dtype.type
    return g * dt(0.5) * (dt(1) + np.sign(x + b))
