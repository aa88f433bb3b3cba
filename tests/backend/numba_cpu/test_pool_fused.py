"""The ``local_pool_bias_act_grad`` rewrite (tensor/rewriting/pool_fuse.py)
and the numba kernel of ``MaxPoolBiasActGrad``: a CNN layer's gradient
``pool(act(conv2d(x, w) + b))`` gets the fused op on numba (and on py
when the rewrites are included), its values agree with the py reference
(no rewrites) over hypothesis-drawn shapes (odd sizes the windows do not
cover), activations and NaN inputs, with and without the input gradient;
gradients pass verify_grad on both backends; the rewrite stays off where
the pooling gradient has another reader or the windows overlap."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.gradient import verify_grad
from symnet.tensor.ops.conv import conv2d
from symnet.tensor.ops.pool import pool_2d

from tests.oracles import check_op, examples
from .helpers import use_tmp_cache

ACTS = {"relu": T.nnet.relu, "max": lambda a: T.maximum(a, 0), "linear": lambda a: a}
# the numba backend's optional rewrites (tag ``numba``), on the py backend
FUSED_PY = Mode("py").including("numba")


def _net(act, wrt, ws=(2, 2), stride=None):
    """``fn(x, w, b, v)``: a conv layer, max pooling, a dense map, and the
    gradients of a loss wrt ``wrt`` (names among x, w, b)."""
    def fn(x, w, b, v):
        h = ACTS[act](conv2d(x, w) + b.dimshuffle("x", 0, "x", "x"))
        out = T.dot(pool_2d(h, ws, ignore_border=True, stride=stride).flatten(2), v)
        args = dict(x=x, w=w, b=b)
        return [out] + symnet.grad(T.sum(out * out), [args[n] for n in wrt])
    return fn


def _values(x_shape, w_shape, seed, ws=(2, 2), stride=None, nan=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape)
    if nan:
        x[0, 0, 0, 0] = np.nan
    w, b = rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    ho, wo = (n - k + 1 for n, k in zip(x_shape[2:], w_shape[2:]))
    st_ = stride or ws
    n_out = w_shape[0] * ((ho - ws[0]) // st_[0] + 1) * ((wo - ws[1]) // st_[1] + 1)
    return [x, w, b, rng.normal(size=(n_out, 2))]


def _names(fn, vals, mode):
    sym = [T.TensorType(v.dtype, shape=v.shape)() for v in vals]
    return [type(n.op).__name__ for n in symnet.function(sym, fn(*sym), mode=mode)
            .fgraph.toposort()]


@settings(max_examples=examples(8), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(act=st.sampled_from(sorted(ACTS)), wrt=st.sampled_from([("w", "b"), ("x", "w", "b")]),
       size=st.tuples(st.integers(3, 9), st.integers(3, 9)), ws=st.sampled_from([(2, 2), (3, 2)]),
       c_in=st.integers(1, 3), dtype=st.sampled_from(["float32", "float64"]),
       seed=st.integers(0, 2 ** 16))
def test_fused_gradient_agrees_with_py(act, wrt, size, ws, c_in, dtype, seed):
    use_tmp_cache()
    x_shape, w_shape = (2, c_in) + size, (3, c_in, 2, 2)
    if any(n - 1 < k for n, k in zip(size, ws)):
        return                                    # no window fits the conv output
    vals = [v.astype(dtype) for v in _values(x_shape, w_shape, seed, ws)]
    fn = _net(act, wrt, ws)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else {}
    check_op(fn, vals, static_shapes=True, modes=[Mode("numba"), FUSED_PY, Mode("py")], **tol)
    if act != "linear":                           # linear: no BiasActGrad to fuse
        for mode in (Mode("numba"), FUSED_PY):
            names = _names(fn, vals, mode)
            # without the input's gradient only the filter gradient reads
            # gc: that pair fuses further (test_pool_conv_grad.py)
            fused = "MaxPoolBiasActGrad" if "x" in wrt else "PoolConvGradWeights"
            assert fused in names, names
            assert "BiasActGrad" not in names and "MaxPoolArgmaxGrad" not in names, names


@pytest.mark.parametrize("act", ["relu", "max"])
def test_nan_inputs_keep_the_unfused_values(act):
    use_tmp_cache()
    vals = _values((2, 2, 7, 8), (3, 2, 3, 3), 4, nan=True)
    check_op(_net(act, ("w", "b")), vals, static_shapes=True,
             modes=[Mode("numba"), FUSED_PY, Mode("py")])


def test_rewrite_stays_off_for_overlapping_windows_and_other_readers():
    use_tmp_cache()
    vals = _values((2, 1, 9, 9), (2, 1, 2, 2), 5, ws=(2, 2), stride=(1, 1))
    names = _names(_net("relu", ("w", "b"), stride=(1, 1)), vals, Mode("numba"))
    assert "MaxPoolBiasActGrad" not in names and "BiasActGrad" in names, names

    def also_pool_grad(x, w, b, v):
        h = T.nnet.relu(conv2d(x, w) + b.dimshuffle("x", 0, "x", "x"))
        out = T.dot(pool_2d(h, (2, 2), ignore_border=True).flatten(2), v)
        gh = symnet.grad(T.sum(out * out), h)          # the pooling gradient itself
        return [out, gh] + symnet.grad(T.sum(out * out), [w, b])
    vals = _values((2, 1, 9, 9), (2, 1, 2, 2), 6)
    names = _names(also_pool_grad, vals, Mode("numba"))
    assert "MaxPoolBiasActGrad" not in names, names
    check_op(also_pool_grad, vals, static_shapes=True, modes=[Mode("numba"), Mode("py")])


def test_fused_gradients_by_finite_differences_on_both_backends():
    use_tmp_cache()
    x, w, b, v = _values((2, 1, 7, 7), (2, 1, 2, 2), 7)

    def loss(ws, bs):
        h = T.nnet.relu(conv2d(T.constant(x), ws) + bs.dimshuffle("x", 0, "x", "x"))
        return T.dot(pool_2d(h, (2, 2), ignore_border=True).flatten(2), T.constant(v))
    for mode in (Mode("numba"), FUSED_PY):
        names = _names(lambda ws, bs: symnet.grad(T.sum(loss(ws, bs)), ws), [w, b], mode)
        assert "PoolConvGradWeights" in names, names
        verify_grad(loss, [w, b], rng=np.random.RandomState(1), mode=mode)
