"""``SoftmaxCrossentropyWithGrad`` (the loss and its gradient wrt the logits
in one pass) and the numba modes' rewrite that makes it: values against
numpy and the py backend, its own gradient (second derivatives), bad
inputs, and where the rewrite fires (Theano's and Lasagne's spellings of a
softmax crossentropy training loss) or must not (the softmax used
elsewhere)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode, get_mode
from symnet.gradient import verify_grad
from symnet.tensor.ops.nnet import SoftmaxCrossentropyWithGrad

from tests.oracles import examples

from .helpers import both, use_tmp_cache


def _logits(dtype, rows=6, cols=10, seed=0):
    rng = np.random.default_rng(seed)
    xv = (rng.normal(size=(rows, cols)) * 3).astype(dtype)
    xv[0, :2] = [1000.0, -1000.0]           # huge logits: finite loss, exact gradient
    yv = rng.integers(0, cols, size=rows).astype("int32")
    yv[0] = 1
    return xv, yv


def _numpy_ref(xv, yv, gz):
    x = xv.astype("float64")
    lse = np.log(np.exp(x - x.max(1, keepdims=True)).sum(1)) + x.max(1)
    rows = np.arange(len(yv))
    sm = np.exp(x - lse[:, None])
    onehot = np.zeros_like(x)
    onehot[rows, yv] = 1
    g = np.asarray(gz, "float64")
    return lse - x[rows, yv], (sm - onehot) * (g[:, None] if g.ndim else g)


def _ops(f):
    return [type(n.op).__name__ for n in f.fgraph.toposort()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("ldtype", ["int32", "int64"])
@pytest.mark.parametrize("gz_ndim", [0, 1])
def test_values_against_numpy_on_both_backends(dtype, ldtype, gz_ndim):
    x, y = T.matrix("x", dtype=dtype), T.vector("y", dtype=ldtype)
    gz = T.vector("gz", dtype=dtype) if gz_ndim else T.scalar("gz", dtype=dtype)
    xv, yv = _logits(dtype)
    gv = np.linspace(-1, 2, len(yv)).astype(dtype) if gz_ndim else np.array(0.25, dtype)
    nll, dx = SoftmaxCrossentropyWithGrad()(x, y, gz)
    f = both([x, y, gz], [nll, dx], [xv, yv.astype(ldtype), gv], optimizer=None)
    assert "SoftmaxCrossentropyWithGrad" in _ops(f)
    got_nll, got_dx = f(xv, yv.astype(ldtype), gv)
    want_nll, want_dx = _numpy_ref(xv, yv, gv)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got_nll, want_nll, rtol=tol, atol=tol)
    np.testing.assert_allclose(got_dx, want_dx, rtol=tol, atol=tol)
    assert got_nll.dtype == dtype and got_dx.dtype == dtype
    assert got_nll[0] == pytest.approx(2000.0)


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_bad_inputs_raise(mode):
    use_tmp_cache()
    x, y, gz = T.fmatrix("x"), T.ivector("y"), T.fvector("gz")
    f = symnet.function([x, y, gz], SoftmaxCrossentropyWithGrad()(x, y, gz),
                        mode=Mode(mode, None))
    xv, g3 = np.zeros((3, 4), "float32"), np.ones(3, "float32")
    with pytest.raises(ValueError, match="label"):
        f(xv, np.array([0, 4, 1], "int32"), g3)
    with pytest.raises(ValueError, match="batch size"):
        f(xv, np.array([0, 1], "int32"), g3)
    with pytest.raises(ValueError, match="gradient"):
        f(xv, np.array([0, 1, 2], "int32"), np.ones(2, "float32"))
    with pytest.raises(TypeError, match="output gradient"):
        SoftmaxCrossentropyWithGrad()(x, y, T.fmatrix("g"))
    with pytest.raises(TypeError, match="output gradient"):
        SoftmaxCrossentropyWithGrad()(x, y, T.dvector("g"))


@pytest.mark.parametrize("mode", ["py", "numba"])
@pytest.mark.parametrize("gz_ndim", [0, 1])
def test_verify_grad(mode, gz_ndim):
    """Its gradient (wrt the logits and the output gradient) against finite
    differences: second derivatives of the crossentropy."""
    use_tmp_cache()
    rng = np.random.default_rng(5)
    yv = np.array([2, 0, 3], "int64")
    gv = rng.normal(size=3) if gz_ndim else np.array(0.7)

    def fun(x, gz):
        nll, dx = SoftmaxCrossentropyWithGrad()(x, yv, gz)
        return T.sum(nll * 1.3) + T.sum(dx * dx)
    verify_grad(fun, [rng.normal(size=(3, 4)), gv], rng=np.random.RandomState(0),
                mode=Mode(mode))


def _theano_loss(x, y):
    return T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(x), y))


def test_rewrite_fires_on_theano_spelling():
    x, y = T.fmatrix("x"), T.ivector("y")
    xv, yv = _logits("float32", rows=64)
    loss = _theano_loss(x, y)
    f = both([x, y], [loss, symnet.grad(loss, x)], [xv, yv])
    ops = _ops(f)
    assert ops.count("SoftmaxCrossentropyWithGrad") == 1
    # one pass: no softmax, no separate forward loss, no one-hot graph
    for gone in ("Softmax", "SoftmaxCrossentropy", "ARange", "Alloc"):
        assert gone not in ops, ops
    fp = symnet.function([x, y], [loss, symnet.grad(loss, x)], mode=Mode("py"))
    # the numba modes' rewrite only (SYMNET_FORCE_BACKEND=numba makes Mode('py') one)
    assert ("SoftmaxCrossentropyWithGrad" in _ops(fp)) == (get_mode(Mode("py")).linker == "numba")
    l, g = f(xv, yv)
    want_l, want_g = _numpy_ref(xv, yv, 1.0 / len(yv))
    assert float(l) == pytest.approx(want_l.mean(), rel=1e-5)
    np.testing.assert_allclose(g, want_g, rtol=1e-5, atol=1e-7)


def test_rewrite_fires_on_lasagne_spelling():
    """A Lasagne-style softmax output layer, ``objectives.categorical_crossentropy``
    and ``aggregate``, the gradient wrt every parameter."""
    from symnet import layers as L
    from symnet import nonlinearities, objectives
    x, y = T.fmatrix("x"), T.ivector("y")
    net = L.DenseLayer(L.InputLayer((None, 8), x), 5, nonlinearity=nonlinearities.softmax)
    pred = L.get_output(net)
    loss = objectives.aggregate(objectives.categorical_crossentropy(pred, y), mode="mean")
    params = L.get_all_params(net, trainable=True)
    rng = np.random.default_rng(2)
    xv, yv = rng.normal(size=(16, 8)).astype("float32"), rng.integers(0, 5, 16).astype("int32")
    f = both([x, y], [loss] + symnet.grad(loss, params), [xv, yv])
    ops = _ops(f)
    assert ops.count("SoftmaxCrossentropyWithGrad") == 1
    assert "Softmax" not in ops and "SoftmaxCrossentropy" not in ops


def test_weighted_loss_keeps_a_gradient_vector():
    """A per-row weight: the output gradient is a vector, not a mean's scalar."""
    x, y, w = T.fmatrix("x"), T.ivector("y"), T.fvector("w")
    xv, yv = _logits("float32", rows=8)
    wv = np.linspace(0.1, 2, 8).astype("float32")
    loss = T.sum(w * T.nnet.categorical_crossentropy(T.nnet.softmax(x), y))
    f = both([x, y, w], [loss, symnet.grad(loss, x)], [xv, yv, wv])
    node = [n for n in f.fgraph.toposort() if isinstance(n.op, SoftmaxCrossentropyWithGrad)]
    assert len(node) == 1 and node[0].inputs[2].ndim == 1
    np.testing.assert_allclose(f(xv, yv, wv)[1], _numpy_ref(xv, yv, wv)[1], rtol=1e-5,
                               atol=1e-7)


def test_no_fusion_where_the_softmax_is_used_elsewhere():
    """The predictions returned beside the loss: the softmax stays, unfused."""
    x, y = T.fmatrix("x"), T.ivector("y")
    xv, yv = _logits("float32")
    sm = T.nnet.softmax(x)
    loss = T.mean(T.nnet.categorical_crossentropy(sm, y))
    f = both([x, y], [loss, symnet.grad(loss, x), sm], [xv, yv])
    ops = _ops(f)
    assert "SoftmaxCrossentropyWithGrad" not in ops and "Softmax" in ops


def test_loss_alone_or_gradient_alone():
    """Without the gradient nothing changes; the gradient alone (a loss
    that is not returned) fuses with an unused loss output."""
    x, y = T.fmatrix("x"), T.ivector("y")
    xv, yv = _logits("float32")
    loss = _theano_loss(x, y)
    f = both([x, y], loss, [xv, yv])
    assert "SoftmaxCrossentropyWithGrad" not in _ops(f)
    f = both([x, y], symnet.grad(loss, x), [xv, yv])
    assert _ops(f).count("SoftmaxCrossentropyWithGrad") == 1 and "Softmax" not in _ops(f)


@pytest.mark.parametrize("reduce", [T.sum, T.mean])
def test_sum_or_mean_gives_a_scalar_output_gradient(reduce):
    """A sum's gradient (a folded constant 1) and a mean's (1/rows) reach
    the fused op as a scalar, with no per-row vector allocated."""
    x, y = T.fmatrix("x"), T.ivector("y")
    xv, yv = _logits("float32", rows=7)
    loss = reduce(T.nnet.categorical_crossentropy(T.nnet.softmax(x), y))
    f = both([x, y], [loss, symnet.grad(loss, x)], [xv, yv])
    node = [n for n in f.fgraph.toposort() if isinstance(n.op, SoftmaxCrossentropyWithGrad)]
    assert len(node) == 1 and node[0].inputs[2].ndim == 0 and "Alloc" not in _ops(f)
    scale = 1.0 if reduce is T.sum else 1.0 / len(yv)
    np.testing.assert_allclose(f(xv, yv)[1], _numpy_ref(xv, yv, scale)[1], rtol=1e-5, atol=1e-7)


@settings(max_examples=examples(15), deadline=None)
@given(rows=st.integers(1, 70), cols=st.integers(1, 40), scale=st.sampled_from([0.1, 3.0, 40.0]),
       seed=st.integers(0, 2**16))
def test_float32_values_on_drawn_shapes_against_numpy_and_py(rows, cols, scale, seed):
    # the float32 kernel's exp is fastmath32's: within float32 rounding of
    # the float64 reference and of the py perform, every row and column
    x, y, gz = T.fmatrix("x"), T.ivector("y"), T.fscalar("gz")
    rng = np.random.default_rng(seed)
    xv = (rng.normal(size=(rows, cols)) * scale).astype("float32")
    yv = rng.integers(0, cols, size=rows).astype("int32")
    gv = np.float32(1.0 / rows)
    nll, dx = SoftmaxCrossentropyWithGrad()(x, y, gz)
    f = symnet.function([x, y, gz], [nll, dx], mode=Mode("numba", tiered=False))
    assert "SoftmaxCrossentropyWithGrad" in _ops(f)
    got = f(xv, yv, gv)
    want = _numpy_ref(xv, yv, gv)
    py = symnet.function([x, y, gz], [nll, dx], mode="py")(xv, yv, gv)
    for g, w, p in zip(got, want, py):
        assert g.dtype == np.float32 and g.shape == p.shape
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(g, p, rtol=2e-5, atol=1e-6)
