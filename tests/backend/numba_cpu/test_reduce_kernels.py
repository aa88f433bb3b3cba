"""The numba ``Reduce`` kernel agrees with numpy over hypothesis-drawn
shapes, axes (partial reductions with and without the last axis, whose
loop accumulates in a local), kinds and dtypes, NaNs included."""
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import symnet.tensor as T
from tests.oracles import check_op, examples

KINDS = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "any": np.any,
         "all": np.all}


@st.composite
def reductions(draw):
    nd = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 9)) for _ in range(nd))
    axes = tuple(a for a in range(nd) if draw(st.booleans()))
    if draw(st.booleans()) and nd - 1 not in axes:
        axes += (nd - 1,)           # the last axis reduced, most of the time
    kind = draw(st.sampled_from(sorted(KINDS)))
    dtype = draw(st.sampled_from(["float32", "float64", "int32", "bool"]))
    return shape, axes or None, kind, dtype


@settings(max_examples=examples(40), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=reductions(), seed=st.integers(0, 2 ** 16), nans=st.booleans())
def test_reduce_agrees_with_numpy(case, seed, nans):
    shape, axes, kind, dtype = case
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        x = rng.random(shape) < 0.5
    elif dtype == "int32":
        x = rng.integers(-3, 4, size=shape).astype(dtype)
    else:
        x = rng.uniform(0.5, 1.5, size=shape).astype(dtype)
        if nans:                      # NaN propagates through every kind
            x.flat[rng.integers(0, x.size)] = np.nan
    odt = getattr(T, kind)(T.TensorType(dtype, shape=(None,) * len(shape))("x"),
                           axis=axes).dtype
    # the kernel accumulates float32 sums and products in float64
    wide = dtype == "float32" and kind in ("sum", "prod")

    def ref(a):
        return np.asarray(KINDS[kind](a.astype("float64") if wide else a,
                                      axis=axes)).astype(odt)
    check_op(lambda v: getattr(T, kind)(v, axis=axes), [x], ref=ref)


def test_bias_gradient_sum_over_batch_and_positions():
    """W4/W7's conv bias gradient: Sum over axes (0, 2, 3) of a float32
    (B, C, H, W) tensor, against numpy in float64."""
    x = np.random.default_rng(1).normal(size=(5, 3, 7, 9)).astype("float32")
    out = check_op(lambda v: T.sum(v, axis=(0, 2, 3)), [x],
                   ref=lambda a: a.astype("float64").sum(axis=(0, 2, 3)).astype("float32"))
    assert out[0].shape == (3,) and out[0].dtype == np.float32
