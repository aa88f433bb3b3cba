"""``MaxPoolBiasActGrad`` (``tensor/ops/pool_fused.py``) on its own: built
by hand it gives ``BiasActGrad(MaxPoolArgmaxGrad(...))``'s values on every
backend (offsets from ``MaxPoolArgmax``, NaN signs, sizes the windows do
not cover), its static shapes and dtypes, and bad inputs fail naming what
is wrong.  The rewrite that makes it and the numba kernel are tested in
tests/backend/numba_cpu/test_pool_fused.py."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.tensor.ops.conv_fused import NAN_SIGN, BiasActGrad
from symnet.tensor.ops.pool import MaxPoolArgmax, MaxPoolArgmaxGrad
from symnet.tensor.ops.pool_fused import MaxPoolBiasActGrad

from tests.oracles import check_op

GEO = ((2, 2), True, (2, 2), (0, 0))


def _values(shape, seed, nan=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    if nan:
        x[0, 0, 0, 0] = np.nan
    s = rng.integers(-1, 3, size=shape).astype("int8")       # 2 is NaN's sign
    gz = rng.normal(size=shape[:2] + (shape[2] // 2, shape[3] // 2))
    return x, gz, s


@pytest.mark.parametrize("act", ["relu", "max", "linear"])
@pytest.mark.parametrize("shape", [(2, 3, 4, 6), (1, 2, 5, 7)])
def test_equals_the_pair_it_replaces(act, shape):
    x, gz, s = _values(shape, 3, nan=True)

    def pair(xs, gzs, ss):
        idx = MaxPoolArgmax(*GEO)(xs)[1]
        return BiasActGrad(act)(MaxPoolArgmaxGrad(*GEO)(xs, idx, gzs), ss)

    def fused(xs, gzs, ss):
        idx = MaxPoolArgmax(*GEO)(xs)[1]
        return MaxPoolBiasActGrad(*GEO, act=act)(xs, idx, gzs, ss)
    sym = [T.TensorType(v.dtype, shape=(None,) * 4)() for v in (x, gz, s)]
    ref = symnet.function(sym, pair(*sym), mode=Mode("py", optimizer=None))(x, gz, s)
    assert np.isnan(ref[0]).any() == (act == "relu")    # relu: a NaN sign gives NaN
    check_op(fused, [x, gz, s], ref=lambda *_: ref,
             modes=[Mode("py"), Mode("py", optimizer=None), Mode("numba")])


def test_static_shapes_and_dtypes():
    x = T.TensorType("float32", shape=(4, 3, 6, 6))("x")
    idx = MaxPoolArgmax(*GEO)(x)[1]
    gz = T.TensorType("float32", shape=(4, 3, 3, 3))("gz")
    s = T.TensorType("int8", shape=(4, 3, 6, 6))("s")
    gc, gb = MaxPoolBiasActGrad(*GEO, act="relu")(x, idx, gz, s)
    assert gc.type.shape == (4, 3, 6, 6) and gc.dtype == "float32"
    assert gb.type.shape == (3,) and gb.dtype == "float32"


def test_bad_inputs_are_named():
    x, gz = T.dtensor4("x"), T.dtensor4("gz")
    idx = MaxPoolArgmax(*GEO)(x)[1]
    with pytest.raises(TypeError, match="int8 4-D sign"):
        MaxPoolBiasActGrad(*GEO)(x, idx, gz, T.dtensor4("s"))
    with pytest.raises(TypeError, match="4-D input"):
        MaxPoolBiasActGrad(*GEO)(T.dtensor3("x3"), idx, gz, T.TensorType("int8", (None,) * 4)())
    with pytest.raises(ValueError, match="act must be one of"):
        MaxPoolBiasActGrad(*GEO, act="tanh")
    s = T.TensorType("int8", (None,) * 4)("s")
    f = symnet.function([x, gz, s], MaxPoolBiasActGrad(*GEO)(x, idx, gz, s),
                        mode=Mode("py"))
    with pytest.raises(ValueError, match=r"sign of shape \(1, 1, 2, 2\) differs"):
        f(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), "int8"))
