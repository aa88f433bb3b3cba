"""Gradients of the elementwise ops (every entry of ``SCALAR_OPS``), of
DimShuffle and of cast, against finite differences, plus Theano's
subgradients at kinks."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.gradient import verify_grad
from symnet.tensor.ops.elemwise import SCALAR_OPS, elemwise
from tests.oracles import examples

SETTINGS = settings(max_examples=examples(10), deadline=None, derandomize=True)

# shapes of up to 3 axes with small sizes (1 included: broadcastable axes)
shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


def check(fun, *pts, **kwargs):
    verify_grad(fun, [np.asarray(p, dtype="float64") for p in pts], n_tests=1,
                rng=np.random.RandomState(0), mode="py", **kwargs)


def draw(rng, shape, lo, hi, away_from_zero=False):
    """Uniform values in [lo, hi] (magnitudes, with random signs if
    ``away_from_zero``) so every op is smooth around the test point."""
    v = rng.uniform(lo, hi, size=shape)
    if away_from_zero:
        v = v * rng.choice([-1.0, 1.0], size=shape)
    return v


# name -> (low, high, signed magnitude): domains where the op is smooth
UNARY = {
    "neg": (-2, 2, False), "abs": (0.2, 2, True), "exp": (-2, 2, False),
    "exp2": (-2, 2, False), "expm1": (-2, 2, False), "log": (0.2, 3, False),
    "log2": (0.2, 3, False), "log10": (0.2, 3, False), "log1p": (-0.5, 2, False),
    "sqrt": (0.2, 3, False), "sqr": (-2, 2, False), "reciprocal": (0.3, 2, True),
    "tanh": (-2, 2, False), "sinh": (-2, 2, False), "cosh": (-2, 2, False),
    "sin": (-3, 3, False), "cos": (-3, 3, False), "tan": (-1.2, 1.2, False),
    "arcsin": (-0.9, 0.9, False), "arccos": (-0.9, 0.9, False),
    "arctan": (-2, 2, False), "arcsinh": (-2, 2, False), "arccosh": (1.2, 3, False),
    "arctanh": (-0.9, 0.9, False), "sigmoid": (-3, 3, False),
    "softplus": (-3, 3, False), "identity": (-2, 2, False),
    "erf": (-2, 2, False), "erfc": (-2, 2, False), "gamma": (0.5, 3, False),
    "gammaln": (0.5, 3, False), "psi": (0.5, 3, False),
    # piecewise constant: zero gradient away from the jumps
    "sgn": (0.2, 2, True), "floor": (0.1, 0.4, True), "ceil": (0.1, 0.4, True),
    "round": (0.1, 0.4, True), "trunc": (0.1, 0.4, True),
}
ZERO_GRAD = {"sgn", "floor", "ceil", "round", "trunc", "int_div"}

# name -> ((x low, high, signed), (y low, high, signed))
BINARY = {
    "add": ((-2, 2, False), (-2, 2, False)),
    "sub": ((-2, 2, False), (-2, 2, False)),
    "mul": ((-2, 2, False), (-2, 2, False)),
    "true_div": ((-2, 2, False), (0.5, 2, True)),
    "int_div": ((2.2, 2.6, False), (1.4, 1.6, False)),
    "mod": ((2.2, 2.6, False), (1.4, 1.6, False)),
    "pow": ((0.5, 2, False), (-1.5, 1.5, False)),
    "maximum": ((-2, -0.1, False), (0.1, 2, False)),
    "minimum": ((-2, -0.1, False), (0.1, 2, False)),
    "arctan2": ((0.3, 2, True), (0.3, 2, True)),
}

NOT_DIFFERENTIABLE = {"eq", "neq", "lt", "le", "gt", "ge", "and_", "or_", "xor",
                      "invert", "isnan", "isinf"}


def test_every_scalar_op_is_covered():
    # tri_gamma: its gradient raises (tests/tensor/ops/test_special.py);
    # second's is checked with its broadcasting (tests/tensor/ops/test_elemwise.py)
    covered = set(UNARY) | set(BINARY) | NOT_DIFFERENTIABLE | {"switch", "clip", "tri_gamma",
                                                                "second"}
    assert set(SCALAR_OPS) == covered


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2 ** 16))
def test_unary(name, shape, seed):
    lo, hi, signed = UNARY[name]
    x = draw(np.random.RandomState(seed), shape, lo, hi, signed)
    op = SCALAR_OPS[name]
    check(lambda a: elemwise(op, a), x)
    # used twice in the same expression
    check(lambda a: elemwise(op, a) * a, x)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradient_value(name):
    """The symbolic gradient against a float64 numpy central difference."""
    lo, hi, signed = UNARY[name]
    x0 = draw(np.random.RandomState(3), (5,), lo, hi, signed)
    x = T.dvector("x")
    g = symnet.function([x], T.grad(T.sum(elemwise(SCALAR_OPS[name], x)), x), mode="py")(x0)
    f = SCALAR_OPS[name].impl
    num = (f(x0 + 1e-6) - f(x0 - 1e-6)) / 2e-6
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-6)
    if name in ZERO_GRAD:
        assert np.all(g == 0)


# pairs of broadcast-compatible shapes: equal, size-1 axes, fewer dims
pairs = st.sampled_from([((2, 3), (2, 3)), ((2, 3), (1, 3)), ((2, 3), (2, 1)),
                         ((3,), (2, 3)), ((), (2, 3)), ((2, 1, 3), (1, 4, 1)),
                         ((4,), ()), ((), ())])


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(pair=pairs, swap=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_binary_broadcasting(name, pair, swap, seed):
    rng = np.random.RandomState(seed)
    (xs, ys) = pair[::-1] if swap else pair
    (xl, xh, xsig), (yl, yh, ysig) = BINARY[name]
    x = draw(rng, xs, xl, xh, xsig)
    y = draw(rng, ys, yl, yh, ysig)
    op = SCALAR_OPS[name]
    check(lambda a, b: elemwise(op, a, b), x, y)


@pytest.mark.parametrize("name", sorted(set(BINARY) - {"maximum", "minimum"}))
def test_binary_input_used_twice(name):
    (xl, xh, xsig), _ = BINARY[name]
    if name in ("true_div", "mod", "int_div", "arctan2"):
        xl, xh, xsig = 0.5, 2, True  # x / x, x mod x... stay away from 0
    x = draw(np.random.RandomState(1), (2, 3), xl, xh, xsig)
    op = SCALAR_OPS[name]
    check(lambda a: elemwise(op, a, a) + elemwise(op, a, a * 0.5 + 3), x)


def test_broadcast_gradient_sums_over_broadcast_axes():
    x = T.dmatrix("x")
    b = T.drow("b")
    y = T.sum(x * b)
    gb = symnet.function([x, b], T.grad(y, b), mode="py")
    xv = np.arange(6.0).reshape(2, 3)
    out = gb(xv, np.ones((1, 3)))
    assert out.shape == (1, 3)
    np.testing.assert_allclose(out, xv.sum(0, keepdims=True))


def test_switch_and_clip():
    rng = np.random.RandomState(0)
    a, b = rng.uniform(-2, 2, (3, 4)), rng.uniform(-2, 2, (3, 4))
    check(lambda x, y: T.switch(T.gt(x, y), x * y, T.tanh(y)), a, b)
    check(lambda x, y: T.switch(T.gt(x, 0), x, T.addbroadcast(y[:1], 0)), a, b)  # broadcast branch
    x = rng.uniform(-2, 2, (10,))
    x = np.where(np.abs(np.abs(x) - 1) < 0.1, 0.5, x)
    check(lambda v, lo, hi: T.clip(v, lo, hi), x, np.full((1,), -1.0), np.full((1,), 1.0))


def _grad_values(expr_fn, *vals):
    vs = [T.TensorType("float64", shape=(None,) * np.ndim(v))(f"v{i}")
          for i, v in enumerate(vals)]
    out = T.grad(T.sum(expr_fn(*vs)), vs)
    return symnet.function(vs, out, mode="py")(*vals)


def test_kinks_match_theano():
    # abs at 0 -> 0
    (g,) = _grad_values(T.abs_, np.array([0.0, -1.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, -1.0, 1.0])
    # maximum / minimum ties: the first input alone gets the gradient
    for fn in (T.maximum, T.minimum):
        gx, gy = _grad_values(fn, np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0]))
        np.testing.assert_array_equal(gx, [1.0, 1.0 if fn is T.maximum else 0.0,
                                           0.0 if fn is T.maximum else 1.0])
        np.testing.assert_array_equal(gx + gy, [1.0, 1.0, 1.0])
    # clip at the bounds: gradient 1 for x
    (g,) = _grad_values(lambda v: T.clip(v, -1.0, 1.0), np.array([-1.0, 1.0, 0.0, 2.0, -3.0]))
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0, 0.0, 0.0])
    # pow at x = 0: d/dy 0**y is 0, not nan
    gx, gy = _grad_values(T.pow, np.array([0.0, 2.0]), np.array([2.0, 3.0]))
    np.testing.assert_allclose(gx, [0.0, 12.0])
    np.testing.assert_allclose(gy, [0.0, 8.0 * np.log(2.0)])


def test_relu_subgradient_at_zero():
    # Theano's relu, 0.5 * (x + |x|), has gradient 0.5 at 0 since |x|' = 0 there
    for relu in (T.nnet.relu, lambda v: 0.5 * (v + T.abs_(v))):
        (g,) = _grad_values(relu, np.array([0.0, -1.0, 2.0]))
        np.testing.assert_array_equal(g, [0.5, 0.0, 1.0])


@pytest.mark.parametrize("name", sorted(NOT_DIFFERENTIABLE))
def test_non_differentiable_ops_give_zero_not_errors(name):
    op = SCALAR_OPS[name]
    x = T.dvector("x")
    if op.nin == 2:
        if name in ("and_", "or_", "xor"):
            out = elemwise(op, T.gt(x, 0), T.lt(x, 1))
        else:
            out = elemwise(op, x, x * 2)
    elif name == "invert":
        out = elemwise(op, T.gt(x, 0))
    else:
        out = elemwise(op, x)
    cost = T.sum(T.cast(out, "float64") * x)
    g = symnet.function([x], T.grad(cost, x), mode="py")
    xv = np.array([-1.0, 0.5, 2.0])
    np.testing.assert_allclose(g(xv), symnet.function([x], T.cast(out, "float64"),
                                                      mode="py")(xv))
    # only through the comparison: connected but zero (Theano), no error
    gz = symnet.function([x], T.grad(T.sum(T.cast(out, "float64")), x), mode="py")
    np.testing.assert_array_equal(gz(xv), np.zeros(3))


def test_cast():
    x = T.vector("x", dtype="float32")
    y = T.cast(x, "float64")
    g = T.grad(T.sum(y * y), x)
    assert g.dtype == "float32"
    np.testing.assert_allclose(symnet.function([x], g, mode="py")(
        np.array([1, 2], "float32")), [2, 4])
    # float -> int: zero gradient, no error
    gi = T.grad(T.sum(T.cast(x, "int32")), x)
    assert gi.dtype == "float32"
    np.testing.assert_array_equal(symnet.function([x], gi, mode="py")(
        np.array([1.5, 2.5], "float32")), [0, 0])
    # float64 -> float32 -> back: passes through, dtype follows the input
    check(lambda v: T.cast(T.cast(v, "float32"), "float64") * 3, np.array([0.5, 1.0]),
          eps=1e-2)  # float32 rounding: a larger step


@SETTINGS
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple),
       seed=st.integers(0, 2 ** 16))
def test_dimshuffle_transpose(shape, seed):
    rng = np.random.RandomState(seed)
    x = rng.uniform(-1, 1, shape)
    perm = tuple(rng.permutation(len(shape)))
    check(lambda v: T.transpose(v, perm) ** 2, x)
    pattern = ("x",) + perm + ("x",)
    check(lambda v: T.tanh(v.dimshuffle(*pattern)), x)
    check(lambda v: v.T * 2.0, x)


def test_dimshuffle_drops_broadcastable_axis():
    x = np.array([[1.0, 2.0, 3.0]])  # (1, 3): axis 0 broadcastable
    check(lambda v: v.dimshuffle(1) ** 2, x)
    check(lambda v: v.dimshuffle(1, "x", 0) * v.dimshuffle("x", 1, 0), x)
