"""The fused convolution ops (``tensor/ops/conv_fused.py``) on their own:
``Conv2dBiasAct`` and ``BiasActGrad`` built by hand give the unfused
graph's values on every backend, their static shapes and dtypes, and bad
inputs fail naming what is wrong.  The rewrite that makes them and the
numba kernels are tested in tests/backend/numba_cpu/test_conv_fuse.py."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.tensor.ops.conv import conv2d
from symnet.tensor.ops.conv_fused import NAN_SIGN, BiasActGrad, Conv2dBiasAct, sign_of

from tests.oracles import check_op


@pytest.mark.parametrize("act", ["relu", "max", "linear"])
@pytest.mark.parametrize("keep", [False, True])
def test_conv2d_bias_act_equals_the_unfused_graph(act, keep):
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(2, 4, 7, 6)), rng.normal(size=(6, 2, 3, 2)), rng.normal(size=6)
    kw = dict(border_mode=(1, 0), subsample=(2, 1), filter_dilation=(1, 2), num_groups=2)
    spell = {"relu": T.nnet.relu, "max": lambda a: T.maximum(a, 0), "linear": lambda a: a}[act]

    def unfused(xs, ws, bs):
        a = conv2d(xs, ws, **kw) + bs.dimshuffle("x", 0, "x", "x")
        return [spell(a), T.sgn(a)] if keep else spell(a)

    def fused(xs, ws, bs):
        out = Conv2dBiasAct(act=act, keep_sign=keep, **kw)(xs, ws, bs)
        return [out[0], T.cast(out[1], "float64")] if keep else out
    ref = symnet.function(*_io(unfused, [x, w, b]), mode=Mode("py", optimizer=None))(x, w, b)
    check_op(fused, [x, w, b], ref=lambda *_: ref,
             modes=[Mode("py"), Mode("py", optimizer=None), Mode("numba")], static_shapes=True)


def _io(fn, vals):
    sym = [T.TensorType(v.dtype, shape=v.shape)() for v in vals]
    return sym, fn(*sym)


@pytest.mark.parametrize("act", ["relu", "max", "linear"])
def test_bias_act_grad_values_and_the_bias_sum(act):
    rng = np.random.default_rng(1)
    g = rng.normal(size=(3, 4, 2, 5))
    s = rng.integers(-1, 3, size=g.shape).astype("int8")     # 2 is NaN's sign
    sgn = np.where(s == NAN_SIGN, np.nan, s)
    want = {"relu": g * 0.5 + g * 0.5 * sgn,
            "max": g * ((s == 0) | (s == 1)), "linear": g}[act]
    check_op(lambda gs, ss: BiasActGrad(act)(gs, ss), [g, s],
             ref=lambda *_: [want, np.nansum(want, axis=(0, 2, 3)) if act != "relu"
                             else want.sum(axis=(0, 2, 3))])


def test_sign_of_marks_nan():
    c = np.array([[[[-2.0, 0.0, 3.0, np.nan]]]])
    s = sign_of(c, np.zeros(1))
    assert s.dtype == np.int8 and s.ravel().tolist() == [-1, 0, 1, NAN_SIGN]


def test_types_and_bad_inputs():
    x, w, b = T.ftensor4("x"), T.TensorType("float32", shape=(5, 3, 2, 2))("w"), T.fvector("b")
    r, s = Conv2dBiasAct(act="relu", keep_sign=True)(x, w, b)
    assert r.dtype == "float32" and r.type.shape[1] == 5 and s.dtype == "int8"
    with pytest.raises(ValueError, match="bias .* has 4 entries for 5 filters"):
        Conv2dBiasAct(act="relu")(x, w, T.TensorType("float32", shape=(4,))("b4"))
    with pytest.raises(TypeError, match="must be a vector"):
        Conv2dBiasAct()(x, w, T.fmatrix("bm"))
    with pytest.raises(ValueError, match="act must be one of"):
        Conv2dBiasAct(act="tanh")
    gc, gb = BiasActGrad("max")(T.ftensor4("g"), s)
    assert gc.dtype == gb.dtype == "float32" and gb.ndim == 1
    f = symnet.function([x, b], Conv2dBiasAct(act="relu")(x, T.constant(
        np.ones((5, 3, 2, 2), "float32")), b), mode="py")
    with pytest.raises(ValueError, match=r"bias of shape \(2,\) for 5 filters"):
        f(np.ones((1, 3, 4, 4), "float32"), np.ones(2, "float32"))
