"""The numba kernels of the crossentropy ops agree with the py backend:
values and gradients, extreme logits, bad labels; the W1-style training
graph runs without any Python perform."""
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.tensor.ops.nnet import CrossentropyCategorical1Hot, SoftmaxCrossentropy

from .helpers import both, mlp_nesterov, use_tmp_cache


def _is_kernel(f, opname):
    """Every ``opname`` node of ``f`` calls a compiled kernel."""
    heads = [ln for ln in f.source.splitlines()
             if "# node" in ln and (f": {opname}(" in ln or f": {opname}{{" in ln)]
    return heads and not any("Python perform" in ln for ln in heads)


def _logits(dtype, rows=5, cols=7, seed=0):
    rng = np.random.default_rng(seed)
    xv = (rng.normal(size=(rows, cols)) * 3).astype(dtype)
    xv[0, :] = [1000.0, -1000.0] + [0.0] * (cols - 2)    # huge logits, label 1 is far off
    xv[1, :] = -1000.0
    xv[1, 3] = 1000.0
    labels = rng.integers(0, cols, size=rows).astype("int32")
    labels[0], labels[1] = 1, 3
    return xv, labels


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ldtype", ["int32", "int64"])
def test_softmax_crossentropy_kernel_values_and_grad(dtype, ldtype):
    x = T.matrix("x", dtype=dtype)
    y = T.vector("y", dtype=ldtype)
    xv, yv = _logits(dtype)
    ce = SoftmaxCrossentropy()(x, y)
    loss = T.mean(ce)
    g = symnet.grad(loss, x)
    f = both([x, y], [ce, loss, g], [xv, yv.astype(ldtype)], optimizer=None,
             rtol=1e-5, atol=1e-6)
    assert _is_kernel(f, "SoftmaxCrossentropy")
    out = f(xv, yv.astype(ldtype))[0]
    assert out[0] == pytest.approx(2000.0) and out[1] == pytest.approx(0.0)
    # finite: the fused op never forms exp(1000)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rewritten_categorical_crossentropy_of_softmax(dtype):
    """The default rewrites fuse it into SoftmaxCrossentropy, and with its
    gradient (numba modes) into SoftmaxCrossentropyWithGrad: a kernel."""
    x = T.matrix("x", dtype=dtype)
    y = T.ivector("y")
    xv, yv = _logits(dtype, rows=8, cols=10, seed=3)
    loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(x), y))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "the numba backend has no kernel")
        f = both([x, y], [loss, symnet.grad(loss, x)], [xv, yv], rtol=1e-5, atol=1e-6)
        assert _is_kernel(f, "SoftmaxCrossentropyWithGrad")
        f = both([x, y], loss, [xv, yv], rtol=1e-5, atol=1e-6)
    assert _is_kernel(f, "SoftmaxCrossentropy")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_crossentropy_1hot_kernel_values_and_grad(dtype):
    p = T.matrix("p", dtype=dtype)
    y = T.ivector("y")
    rng = np.random.default_rng(1)
    pv = rng.uniform(0.01, 1.0, size=(6, 4)).astype(dtype)
    pv /= pv.sum(axis=1, keepdims=True)
    yv = rng.integers(0, 4, size=6).astype("int32")
    ce = CrossentropyCategorical1Hot()(p, y)
    f = both([p, y], [ce, symnet.grad(T.sum(ce), p)], [pv, yv], optimizer=None,
             rtol=1e-5, atol=1e-6)
    assert _is_kernel(f, "CrossentropyCategorical1Hot")
    pv[2, yv[2]] = 0.0     # log(0): +inf, as in py
    assert np.isinf(f(pv, yv)[0][2])


@pytest.mark.parametrize("op", [SoftmaxCrossentropy, CrossentropyCategorical1Hot])
def test_bad_labels_raise(op):
    use_tmp_cache()
    x, y = T.fmatrix("x"), T.ivector("y")
    f = symnet.function([x, y], op()(x, y), mode=Mode("numba", None))
    xv = np.full((3, 4), 0.25, "float32")
    with pytest.raises(ValueError, match="labels"):
        f(xv, np.array([0, 4, 1], "int32"))
    with pytest.raises(ValueError, match="labels"):
        f(xv, np.array([0, -1, 1], "int32"))
    with pytest.raises(ValueError, match="batch size"):
        f(xv, np.array([0, 1], "int32"))
    assert f(xv, np.array([0, 3, 1], "int32")) == pytest.approx([np.log(4)] * 3, rel=1e-6)


def test_mlp_training_step_has_no_python_perform():
    """A W1-shaped step (relu MLP, softmax crossentropy, Nesterov updates)."""
    use_tmp_cache()
    rng = np.random.default_rng(2)
    sizes = (12, 9, 7, 5)
    vals = [rng.normal(size=s).astype("float32") * 0.3
            for a, b in zip(sizes[:-1], sizes[1:]) for s in ((a, b), (b,))]

    def make(mode):
        f, sh, _ = mlp_nesterov(mode, vals, 0.1, 0.9)
        return f, sh

    fn, shn = make("numba")
    fp, shp = make("py")
    assert "Python perform" not in fn.source
    xv = rng.normal(size=(16, 12)).astype("float32")
    yv = rng.integers(0, 5, size=16).astype("int32")
    for _ in range(3):
        np.testing.assert_allclose(fn(xv, yv), fp(xv, yv), rtol=1e-5)
    for a, b in zip(shn, shp):
        np.testing.assert_allclose(a.get_value(), b.get_value(), rtol=1e-4, atol=1e-6)


# -- advanced indexing (the gradient of CrossentropyCategorical1Hot) ---------------------------

def test_advanced_pick_and_inc_kernels_agree_with_py():
    x = T.dmatrix("x")
    r, c = T.lvector("r"), T.lvector("c")
    v = T.dvector("v")
    rng = np.random.default_rng(4)
    xv = rng.normal(size=(5, 4))
    rv = np.array([0, 4, -1, 2, 2, 0])       # negative and repeated rows
    cv = np.array([1, 3, 0, -2, -2, 1])      # repeated (row, col) pairs accumulate
    vv = rng.normal(size=6)
    picked = x[r, c]
    outs = [picked, T.inc_subtensor(x[r, c], v), T.set_subtensor(x[r, c], v),
            T.inc_subtensor(x[r, c], 2.5), x[r], T.inc_subtensor(x[r], x[0]),
            T.inc_subtensor(x[r], T.ones((6, 4)) * v.dimshuffle(0, "x")),
            symnet.grad(T.sum(picked * v), x)]
    f = both([x, r, c, v], outs, [xv, rv, cv, vv], optimizer=None)
    for name in ("AdvancedSubtensor", "AdvancedIncSubtensor", "AdvancedSetSubtensor"):
        assert _is_kernel(f, name), name
    with pytest.raises(IndexError):
        f(xv, np.array([0, 5, 1, 1, 1, 1]), cv, vv)
    with pytest.raises(IndexError):
        f(xv, rv, np.array([0, 1, 2, 3, -5, 0]), vv)


def test_crossentropy_1hot_gradient_runs_kernels():
    p, y = T.fmatrix("p"), T.ivector("y")
    rng = np.random.default_rng(6)
    pv = rng.uniform(0.1, 1.0, size=(8, 3)).astype("float32")
    yv = rng.integers(0, 3, size=8).astype("int32")
    loss = T.mean(CrossentropyCategorical1Hot()(p, y))
    f = both([p, y], [loss, symnet.grad(loss, p)], [pv, yv])
    for name in ("CrossentropyCategorical1Hot", "AdvancedSubtensor", "AdvancedIncSubtensor"):
        assert _is_kernel(f, name), name


def test_tune_malloc_is_set_once_on_glibc():
    import os
    import platform
    from symnet.backend.numba_cpu.linker import tune_malloc
    use_tmp_cache()
    x = T.fvector("x")
    f = symnet.function([x], x * 2, mode="numba")     # compiling tunes malloc
    expect = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc" and not any(
        k in os.environ for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"))
    assert tune_malloc() is expect and tune_malloc() is expect
    # big temporaries are still correct after the change
    xv = np.arange(3_000_000, dtype="float32")
    for _ in range(3):
        np.testing.assert_array_equal(f(xv), xv * 2)
