"""The conv epilogue fusion (``conv_epilogue``, tensor/rewriting/conv_fuse.py):
``act(conv2d(x, w) + b)`` and its gradient fused into ``Conv2dBiasAct`` /
``BiasActGrad``.  Fused graphs agree with the py reference (no rewrites)
over hypothesis-drawn convolutions and both GEMM layouts, on numba (which
includes the rewrite) and on py with the rewrite (the ops' perform);
gradients check against finite differences on both backends; the rewrite
fires on Lasagne's Conv2DLayer and on W7's net and stays off where the
convolution's output is read by anything else; the kernels keep the
unfused graph's values at ``c + b == 0`` and for NaN."""
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.backend.numba_cpu import conv as nconv
from symnet.backend.numba_cpu import conv_fused as nfused
from symnet.compile.mode import Mode
from symnet.gradient import verify_grad
from symnet.tensor.ops.conv import Conv2d, conv2d
from symnet.tensor.ops.conv_fused import (NAN_SIGN, BiasActGrad, Conv2dBiasAct, bias_act,
                                          bias_act_grad, sign_of)
from symnet.tensor.ops.reduction import Reduce

from tests.oracles import check_op, examples
from .helpers import use_tmp_cache
from .test_conv_kernels import _fits, convs

ACTS = {"relu": T.nnet.relu, "max": lambda a: T.maximum(a, 0), "linear": lambda a: a}
FUSED_PY = Mode("py").including("conv_epilogue")


def _out_size(x_shape, w_shape, kw):
    y = Conv2d(**kw).forward(np.zeros(x_shape), np.zeros(w_shape))
    return int(np.prod(y.shape[1:]))


def _net(act, kw, n_out):
    """``fn(x, w, b, v)``: the activation of the biased convolution, a dense
    layer on it (``v``: (K*Ho*Wo, 2)) and the gradients wrt x, w, b."""
    def fn(x, w, b, v):
        y = ACTS[act](conv2d(x, w, **kw) + b.dimshuffle("x", 0, "x", "x"))
        out = T.dot(y.flatten(2), v)
        return [out, y] + symnet.grad(T.sum(out), [x, w, b])
    return fn


def _op_names(f):
    return [type(n.op).__name__ for n in f.fgraph.toposort()]


@settings(max_examples=examples(12), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=convs(), act=st.sampled_from(sorted(ACTS)), seed=st.integers(0, 2 ** 16),
       per_image=st.booleans())
def test_fused_conv_and_gradients_agree_with_py(case, act, seed, per_image):
    x_shape, w_shape, kw, dtype = case
    assume(_fits(x_shape, w_shape, kw))
    use_tmp_cache()
    # both GEMM layouts: the epilogue on per-image blocks or on a chunk's GEMM result
    with mock.patch.object(nconv, "PER_IMAGE_POSITIONS", 1 if per_image else 10 ** 9):
        _agree_with_py(x_shape, w_shape, kw, dtype, act, seed)


def _agree_with_py(x_shape, w_shape, kw, dtype, act, seed):
    rng = np.random.default_rng(seed)
    n_out = _out_size(x_shape, w_shape, kw)
    vals = [rng.normal(size=s).astype(dtype) for s in
            (x_shape, w_shape, (w_shape[0],), (n_out, 2))]
    fn = _net(act, kw, n_out)
    check_op(fn, vals, static_shapes=True,
             modes=[Mode("numba"), FUSED_PY, Mode("py")])
    # the rewrite did fire on both (the test checks the fused ops, not the loops)
    sym = [T.TensorType(v.dtype, shape=v.shape)() for v in vals]
    for mode in (Mode("numba"), FUSED_PY):
        names = _op_names(symnet.function(sym, fn(*sym), mode=mode))
        assert "Conv2d" not in names and names.count("Conv2dBiasAct") == 1, names
        assert names.count("BiasActGrad") == (act != "linear"), names


@pytest.mark.parametrize("act", sorted(ACTS))
@pytest.mark.parametrize("kw", [dict(border_mode="valid"),
                                dict(border_mode="half", subsample=(2, 1), filter_flip=False),
                                dict(border_mode="full", num_groups=2, filter_dilation=(1, 2))])
def test_fused_gradients_by_finite_differences_on_both_backends(act, kw):
    use_tmp_cache()
    rng = np.random.default_rng(5)
    g = kw.get("num_groups", 1)
    x_shape, w_shape = (2, 2, 5, 6), (2 * g, 2 // g, 2, 3)
    n_out = _out_size(x_shape, w_shape, kw)
    # values away from the kink of relu at 0: finite differences cross it otherwise
    xv, wv = rng.normal(size=x_shape), rng.normal(size=w_shape)
    bv, vv = rng.normal(size=w_shape[0]) + 0.05, rng.normal(size=(n_out, 2))
    fn = _net(act, kw, n_out)
    for mode in (Mode("numba"), FUSED_PY, Mode("py")):
        verify_grad(lambda x, w, b: fn(x, w, b, T.constant(vv))[0], [xv, wv, bv],
                    rng=np.random.RandomState(1), mode=mode)


def _lasagne_net(nonlinearity):
    from symnet import layers as L
    x = T.tensor4("x")
    net = L.Conv2DLayer(L.InputLayer((None, 2, 8, 8), x), 3, 3, nonlinearity=nonlinearity)
    net = L.DenseLayer(net, 4)
    loss = T.sum(L.get_output(net))
    params = L.get_all_params(net)
    return x, [loss] + symnet.grad(loss, params)


@pytest.mark.parametrize("spelling", ["rectify", "maximum", "linear"])
def test_rewrite_fires_on_lasagne_conv2dlayer(spelling):
    """Conv2DLayer + DenseLayer: the conv, its bias+activation loop, the
    activation's gradient loop and the bias gradient's sum become two nodes;
    values as without the rewrite."""
    import symnet.nonlinearities as nl
    nonlin = {"rectify": nl.rectify, "maximum": lambda a: T.maximum(a, 0),
              "linear": nl.linear}[spelling]
    x, outs = _lasagne_net(nonlin)
    use_tmp_cache()
    plain = symnet.function([x], outs, mode=Mode("numba").excluding("conv_epilogue"))
    fused = symnet.function([x], outs, mode=Mode("numba"))
    before, after = _op_names(plain), _op_names(fused)
    assert after.count("Conv2dBiasAct") == 1 and "Conv2d" not in after
    bias_sums = [n for n in plain.fgraph.toposort()
                 if isinstance(n.op, Reduce) and tuple(n.op.axis) == (0, 2, 3)]
    assert len(bias_sums) == 1
    # the bias's DimShuffle goes too: the fused ops read the vector
    assert before.count("DimShuffle") == after.count("DimShuffle") + 1
    if spelling == "linear":    # conv, DimShuffle, add -> one node; the sum stays
        assert len(after) == len(before) - 2 and "BiasActGrad" not in after
    else:   # conv, DimShuffle, forward loop, gradient loop, bias sum -> two nodes
        assert after.count("BiasActGrad") == 1
        assert len(after) == len(before) - 3
        assert not any(isinstance(n.op, Reduce) and tuple(n.op.axis) == (0, 2, 3)
                       for n in fused.fgraph.toposort())
    xv = np.random.default_rng(0).normal(size=(3, 2, 8, 8)).astype(x.dtype)
    for a, b in zip(plain(xv), fused(xv)):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


def _conv_relu(x, w, b):
    return T.nnet.relu(conv2d(x, w) + b.dimshuffle("x", 0, "x", "x"))


def test_gradient_wrt_the_input_only_runs_in_place():
    """A gradient wrt the input image alone (the Recipes' style transfer):
    no bias gradient is asked for, so BiasActGrad's second output is not in
    the graph; the in-place rewrite replaces the first only."""
    from symnet import layers as L
    x = T.tensor4("x")
    c1 = L.Conv2DLayer(L.InputLayer((1, 3, 16, 16), x), 4, 3, pad=1, flip_filters=False)
    c2 = L.Conv2DLayer(c1, 4, 3, pad=1, flip_filters=False)
    pool = L.Pool2DLayer(c2, 2, mode="average_exc_pad")
    cost = sum(T.sum(o ** 2) for o in L.get_output([c1, pool]))
    g = symnet.grad(cost, x)
    use_tmp_cache()
    xv = np.random.default_rng(0).normal(size=(1, 3, 16, 16)).astype("float32")
    fused = symnet.function([x], g, mode=Mode("numba"))
    names = _op_names(fused)
    assert names.count("BiasActGrad") == 1
    assert [n.op.inplace for n in fused.fgraph.toposort()
            if isinstance(n.op, BiasActGrad)] == [True]
    want = symnet.function([x], g, mode=Mode("py"))(xv)
    np.testing.assert_allclose(fused(xv), want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", ["conv_output", "conv_read_twice", "untied_bias",
                                  "other_activation", "sum_of_conv"])
def test_rewrite_stays_off_where_the_conv_output_is_read_elsewhere(case):
    x, w, b, bu = T.tensor4("x"), T.tensor4("w"), T.vector("b"), T.tensor3("bu")
    c = conv2d(x, w)
    if case == "conv_output":          # the conv's output is a function output
        outs = [_conv_relu(x, w, b), c]
    elif case == "conv_read_twice":    # another loop reads it
        outs = [T.sum(T.nnet.relu(c + b.dimshuffle("x", 0, "x", "x")).flatten(2), axis=1),
                T.sum((c * 3).flatten(2), axis=1)]
    elif case == "untied_bias":        # a bias per position, not per channel
        outs = [T.nnet.relu(c + bu.dimshuffle("x", 0, 1, 2))]
    elif case == "other_activation":
        outs = [T.tanh(c + b.dimshuffle("x", 0, "x", "x"))]
    else:                              # a reduction, not an elementwise loop
        outs = [T.sum(c, axis=(2, 3))]
    ins = [x, w, b, bu]
    f = symnet.function(ins, outs, mode=FUSED_PY, on_unused_input="ignore")
    names = _op_names(f)
    assert "Conv2dBiasAct" not in names and "Conv2d" in names, names


def test_fused_w7_step_agrees_with_unfused():
    """W7's net (two conv+relu+pool layers, Adam) at batch 4: the rewrite
    fuses both convolutions and both gradients; three steps give the
    parameters of the unfused graph."""
    import sys
    import os
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))))
    from bench.w7_lenet import lenet_data, symnet_step
    use_tmp_cache()
    params, x, y = lenet_data(4)
    base = Mode("numba", tiered=False)
    steps = {k: symnet_step(params, x, y, m)
             for k, m in (("plain", base.excluding("conv_epilogue")), ("fused", base))}
    for _ in range(3):
        losses = {k: float(s[0]()) for k, s in steps.items()}
        assert abs(losses["plain"] - losses["fused"]) < 1e-5, losses
    def params_of(f):
        return {v.name: v.get_value() for v in f.shared_vars if v.name}
    plain, fused = params_of(steps["plain"][1]), params_of(steps["fused"][1])
    assert sorted(plain) == sorted(fused) and len(plain) == 8
    for name, value in plain.items():
        np.testing.assert_allclose(fused[name], value, rtol=1e-4, atol=1e-6, err_msg=name)
    names = _op_names(steps["fused"][1])
    # each layer's BiasActGrad, fused with its pooling gradient (pool_fuse.py);
    # the first layer's, which no input gradient reads, with its filter
    # gradient too; each layer's forward with its max pooling
    assert names.count("Conv2dBiasActPool") == 2 and names.count("MaxPoolBiasActGrad") == 1 \
        and names.count("PoolConvGradWeights") == 1, names
    assert "Conv2d" not in names


@pytest.mark.parametrize("act", ["relu", "max", "linear"])
@pytest.mark.parametrize("inplace", [False, True])
def test_kernels_keep_the_graphs_values_at_zero_and_nan(act, inplace, monkeypatch):
    """``c + b`` exactly 0 (relu's gradient there is 0.5 g, maximum's g)
    and NaN, through the numba loops (both GEMM layouts' epilogues) and the
    ops' numpy forms, against the unfused graph's formulas."""
    c = np.array([[[[-1.0, 0.0, 1.0, np.nan], [2.0, -0.5, 0.5, 0.0]]]], "float32")
    c = np.concatenate([c, c * 2], axis=1)        # two channels
    b = np.array([0.0, 1.0], "float32")
    a = c + b[None, :, None, None]
    g = np.arange(1, c.size + 1, dtype="float32").reshape(c.shape)
    h, sgn = g * np.float32(0.5), np.sign(a)
    want = {"relu": (0.5 * (a + np.abs(a)), h + h * sgn),
            "max": (np.maximum(a, 0), g * (np.maximum(a, 0) == a)),
            "linear": (a, g)}[act]
    s = sign_of(c, b)
    assert s.dtype == np.int8 and s[0, 0, 0].tolist() == [-1, 0, 1, NAN_SIGN]
    np.testing.assert_array_equal(bias_act(c, b, act), want[0])
    np.testing.assert_array_equal(bias_act_grad(g, s, act)[0], want[1])
    gc, gb = nfused.bias_act_grad(g.copy(), s, act, "float32", inplace)
    np.testing.assert_array_equal(gc, want[1])
    np.testing.assert_allclose(gb, np.sum(want[1], axis=(0, 2, 3)), rtol=1e-6)
    if act == "relu":
        assert gc[0, 0, 0, 1] == 0.5 * g[0, 0, 0, 1] and np.isnan(gc[0, 0, 0, 3])
    # the forward epilogue, per image and per chunk: the conv of a 1x1 identity filter
    w = np.eye(2, dtype="float32")[:, :, None, None]
    for positions in (1, 10 ** 9):
        monkeypatch.setattr(nconv, "PER_IMAGE_POSITIONS", positions)
        r, s2 = nfused.conv2d_bias_act(c, w, b, "valid", (1, 1), (1, 1), False, "float32", 1,
                                       act, True)
        np.testing.assert_array_equal(r, want[0])
        np.testing.assert_array_equal(s2, s)


def test_bad_inputs_name_the_shapes():
    with pytest.raises(TypeError, match="must be a vector"):
        Conv2dBiasAct(act="relu")(T.tensor4("x"), T.tensor4("w"), T.matrix("b"))
    with pytest.raises(ValueError, match="act must be one of"):
        BiasActGrad("tanh")
    x, w = np.zeros((1, 2, 4, 4), "float32"), np.zeros((3, 2, 2, 2), "float32")
    with pytest.raises(ValueError, match=r"bias of shape \(2,\) for filters of shape"):
        nfused.conv2d_bias_act(x, w, np.zeros(2, "float32"), "valid", (1, 1), (1, 1), True,
                               "float32", 1, "relu", False)
    g = np.zeros((1, 3, 3, 3), "float32")
    with pytest.raises(ValueError, match=r"sign of shape \(1, 3, 3, 2\) differ"):
        nfused.bias_act_grad(g, np.zeros((1, 3, 3, 2), "int8"), "relu", "float32")
    with pytest.raises(TypeError, match="int8 sign"):
        BiasActGrad("relu")(T.tensor4("g"), T.tensor4("s"))


@pytest.mark.parametrize("positions", [1, 10 ** 9])      # both GEMM layouts
@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("act", ["relu", "max"])
def test_epilogue_over_chunks(positions, keep, act, monkeypatch):
    """A batch split into chunks (a small column budget): the result and
    the kept sign equal the op's numpy forms."""
    monkeypatch.setattr(nconv, "PER_IMAGE_POSITIONS", positions)
    rng = np.random.default_rng(4)
    x, w, b = rng.normal(size=(7, 3, 9, 8)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    c_want = Conv2d(border_mode=(1, 0), subsample=(1, 2)).forward(x, w)
    got = nfused.conv2d_bias_act(x, w, b, (1, 0), (1, 2), (1, 1), True, "float64", 1, act,
                                 keep, budget=3 * 6 * 9 * 4 * 8 * 3)   # 3 images a chunk
    r = got[0] if keep else got
    np.testing.assert_allclose(r, bias_act(c_want, b, act), rtol=1e-12, atol=1e-12)
    if keep:
        np.testing.assert_array_equal(got[1], sign_of(c_want, b))
