"""Elementwise ops: every scalar op against numpy, broadcasting, and the
dtype rules of API.md."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symnet
import symnet.tensor as T
from symnet.configdefaults import config
from symnet.tensor.ops import _special_ref
from symnet.tensor.ops.elemwise import SCALAR_OPS, DimShuffle
from tests.oracles import check_op, examples, rand


def _math(fn):
    return lambda x: np.vectorize(fn, otypes=[np.float64])(x)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# name: (numpy reference, (low, high) of the float inputs, check gradient)
FLOAT_OPS = {
    "add": (np.add, (-2, 2), True), "sub": (np.subtract, (-2, 2), True),
    "mul": (np.multiply, (-2, 2), True), "true_div": (np.true_divide, (0.5, 2), True),
    "pow": (np.power, (0.5, 2), True), "maximum": (np.maximum, (-2, 2), True),
    "minimum": (np.minimum, (-2, 2), True), "arctan2": (np.arctan2, (0.5, 2), True),
    "mod": (np.mod, (0.5, 3), False), "int_div": (np.floor_divide, (0.5, 3), False),
    "eq": (np.equal, (-2, 2), False), "neq": (np.not_equal, (-2, 2), False),
    "lt": (np.less, (-2, 2), False), "le": (np.less_equal, (-2, 2), False),
    "gt": (np.greater, (-2, 2), False), "ge": (np.greater_equal, (-2, 2), False),
    "isnan": (np.isnan, (-2, 2), False), "isinf": (np.isinf, (-2, 2), False),
    "neg": (np.negative, (-2, 2), True), "abs": (np.abs, (0.2, 2), True),
    "sgn": (np.sign, (-2, 2), False), "exp": (np.exp, (-2, 2), True),
    "exp2": (np.exp2, (-2, 2), True), "expm1": (np.expm1, (-2, 2), True),
    "log": (np.log, (0.5, 2), True), "log2": (np.log2, (0.5, 2), True),
    "log10": (np.log10, (0.5, 2), True), "log1p": (np.log1p, (-0.5, 2), True),
    "sqrt": (np.sqrt, (0.5, 2), True), "sqr": (np.square, (-2, 2), True),
    "reciprocal": (np.reciprocal, (0.5, 2), True), "tanh": (np.tanh, (-2, 2), True),
    "sinh": (np.sinh, (-2, 2), True), "cosh": (np.cosh, (-2, 2), True),
    "sin": (np.sin, (-2, 2), True), "cos": (np.cos, (-2, 2), True),
    "tan": (np.tan, (-1, 1), True), "arcsin": (np.arcsin, (-0.9, 0.9), True),
    "arccos": (np.arccos, (-0.9, 0.9), True), "arctan": (np.arctan, (-2, 2), True),
    "arcsinh": (np.arcsinh, (-2, 2), True), "arccosh": (np.arccosh, (1.5, 3), True),
    "arctanh": (np.arctanh, (-0.9, 0.9), True), "sigmoid": (_sigmoid, (-3, 3), True),
    "softplus": (lambda x: np.log1p(np.exp(x)), (-3, 3), True),
    "floor": (np.floor, (-2, 2), False), "ceil": (np.ceil, (-2, 2), False),
    "round": (np.round, (-2, 2), False), "trunc": (np.trunc, (-2, 2), False),
    "identity": (np.copy, (-2, 2), True),
    "clip": (lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi), (-2, 2), True),
    # special functions: Python's math module (psi and tri_gamma, which it
    # lacks, against the py reference; tests/tensor/ops/test_special.py
    # checks their known values)
    "erf": (_math(math.erf), (-2, 2), True), "erfc": (_math(math.erfc), (-2, 2), True),
    "gamma": (_math(math.gamma), (0.5, 3), True), "gammaln": (_math(math.lgamma), (0.5, 3), True),
    "psi": (_special_ref.psi, (0.5, 3), True), "tri_gamma": (_special_ref.tri_gamma, (0.5, 3), False),
}
INT_OPS = {"and_": np.bitwise_and, "or_": np.bitwise_or, "xor": np.bitwise_xor,
           "invert": np.invert}
SPECIAL = {"switch", "second"}


def _op(name):
    return lambda *xs: T.elemwise(SCALAR_OPS[name], *xs)


def test_every_scalar_op_is_tested():
    assert set(SCALAR_OPS) == set(FLOAT_OPS) | set(INT_OPS) | SPECIAL


@pytest.mark.parametrize("name", sorted(FLOAT_OPS))
def test_float_op(name):
    ref, (lo, hi), grad = FLOAT_OPS[name]
    nin = SCALAR_OPS[name].nin
    rng = np.random.default_rng(len(name))
    if name == "clip":
        args = [rand((3, 4), rng=rng, low=-2, high=2), rand((1, 4), rng=rng, low=-1, high=-0.5),
                rand((3, 1), rng=rng, low=0.5, high=1)]
    else:
        # broadcasting with rank padding: (4,) meets (3, 4)
        shapes = [(3, 4), (4,), (1, 4)][:nin]
        args = [rand(s, rng=rng, low=lo, high=hi) for s in shapes]
    check_op(_op(name), args, ref=ref, grad=grad)
    # float32 stays float32
    args32 = [a.astype("float32") for a in args]
    out = check_op(_op(name), args32, ref=ref)[0]
    if out.dtype.kind == "f":
        assert out.dtype == np.float32


@pytest.mark.parametrize("name", sorted(INT_OPS))
@pytest.mark.parametrize("dtype", ["int8", "int32", "bool"])
def test_int_op(name, dtype):
    nin = SCALAR_OPS[name].nin
    args = [rand((2, 5), dtype, rng=np.random.default_rng(k), low=-50, high=50)
            for k in range(nin)]
    ref = np.logical_not if (name == "invert" and dtype == "bool") else INT_OPS[name]
    check_op(_op(name), args, ref=ref)


def test_switch():
    c = rand((3, 4), "bool")
    a, b = rand((3, 4)), rand((4,))
    check_op(T.switch, [c, a, b], ref=np.where)
    check_op(lambda a, b: T.switch(T.gt(a, 0), a, b), [a, rand((3, 4))],
             ref=lambda a, b: np.where(a > 0, a, b), grad=True)


@pytest.mark.parametrize("sa,sb", [((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((), (2,))])
def test_second(sa, sb):
    # Theano's second(x, y) (its fill, the gradient seed): y broadcast with x
    second = SCALAR_OPS["second"]
    x, y = rand(sa, rng=np.random.default_rng(1)), rand(sb, rng=np.random.default_rng(2))
    check_op(lambda a, b: T.elemwise(second, a, b), [x, y],
             ref=lambda a, b: np.broadcast_arrays(a, b)[1].copy(), grad=True)
    out = T.elemwise(second, T.fmatrix(), T.bvector())
    assert out.dtype == "int8" and out.ndim == 2


def test_gradient_second_order():
    check_op(lambda x, y: T.tanh(x) * T.exp(y), [rand((2, 3)), rand((2, 3))],
             ref=lambda x, y: np.tanh(x) * np.exp(y), grad2=True)


def test_transcendental_of_ints_is_floatx():
    x = T.ivector("x")
    assert T.exp(x).dtype == config.floatX
    config.floatX = "float64"
    assert T.exp(x).dtype == "float64"
    check_op(T.sqrt, [np.arange(5, dtype="int32")], ref=lambda a: np.sqrt(a))


@pytest.mark.parametrize("dtype", ["int8", "uint8", "bool"])
@pytest.mark.parametrize("name", ["sigmoid", "softplus", "exp", "tanh", "log1p"])
def test_transcendental_of_small_ints_in_full_precision(name, dtype):
    # numpy computes int8/uint8 in float16, and -x of a uint8 wraps around:
    # the values must be those of the float64 function, on every backend
    # (Theano's SigmoidTester/SoftplusTester check int8 and uint8)
    vals = {"int8": [-100, -3, 0, 1, 5, 100], "uint8": [0, 1, 5, 100, 200, 255],
            "bool": [0, 1, 1, 0, 1, 0]}[dtype]
    a = np.array(vals, dtype=dtype)
    f64 = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "softplus": lambda v: np.logaddexp(0, v),
           "exp": np.exp, "tanh": np.tanh, "log1p": np.log1p}[name]
    fn = getattr(T.nnet, name, None) or getattr(T, name)
    with np.errstate(over="ignore"):
        want = f64(a.astype("float64")).astype(config.floatX)
    got = check_op(fn, [a], ref=lambda v: want, rtol=1e-6, atol=1e-30)
    assert got[0].dtype == config.floatX


@settings(max_examples=examples(15), deadline=None)
@given(st.lists(st.integers(1, 4), min_size=0, max_size=3),
       st.lists(st.booleans(), min_size=3, max_size=3),
       st.integers(0, 3))
def test_broadcasting_hypothesis(shape, ones, drop):
    a_shape = tuple(shape)
    b_shape = tuple(1 if o else s for s, o in zip(a_shape, ones))[min(drop, len(a_shape)):]
    check_op(lambda a, b: a * b - b, [rand(a_shape), rand(b_shape)],
             ref=lambda a, b: a * b - b)


def test_build_time_shape_mismatch_names_both():
    a = T.matrix("a", shape=(3, 4))
    b = T.matrix("b", shape=(3, 5))
    with pytest.raises(ValueError) as info:
        a + b
    msg = str(info.value)
    assert "a" in msg and "(3, 4)" in msg and "b" in msg and "(3, 5)" in msg


def test_runtime_broadcast_only_on_declared_axes():
    x = T.matrix("x")
    y = T.matrix("y")
    f = symnet.function([x, y], x + y, mode="py")
    with pytest.raises(ValueError, match="broadcastable"):
        f(np.ones((3, 1), config.floatX), np.ones((3, 4), config.floatX))


# -- dtype rules of API.md --------------------------------------------------------------

def test_weak_python_scalars():
    assert (T.fmatrix() * 2.0).dtype == "float32"
    assert (T.bvector() - 0.9).dtype == config.floatX
    assert (T.bvector() + 1).dtype == "int8"
    assert T.constant(1).dtype == "int8"
    assert (T.ivector() + T.fvector()).dtype == "float64"
    assert (T.dvector() * 2).dtype == "float64"
    assert (T.fvector() * 2).dtype == "float32"
    assert (T.bvector() + 1000).dtype == "int16"


def test_numpy_scalars_are_strong():
    assert (T.fvector() * np.float64(2.0)).dtype == "float64"
    assert (T.bvector() + np.int32(1)).dtype == "int32"
    assert (T.fvector() + np.ones(3, "float64")).dtype == "float64"


def test_floatx_read_at_build_time():
    config.floatX = "float64"
    assert T.matrix().dtype == "float64"
    assert (T.bvector() - 0.9).dtype == "float64"
    assert T.constant(0.5).dtype == "float64"
    config.floatX = "float32"
    assert T.matrix().dtype == "float32"
    assert (T.bvector() - 0.9).dtype == "float32"


def test_weak_values_computed_right():
    x = T.bvector("x")
    f = symnet.function([x], [x + 1, x - 0.5], mode="py")
    a, b = f(np.array([1, 2], "int8"))
    assert a.dtype == np.int8 and list(a) == [2, 3]
    np.testing.assert_allclose(b, [0.5, 1.5])


def test_cast():
    x = T.dvector("x")
    check_op(lambda v: T.cast(v, "int32"), [np.array([1.7, -2.2, 3.0])],
             ref=lambda v: v.astype("int32"))
    assert T.cast(x, "float64") is x
    check_op(lambda v: v.astype("float32") * 3, [rand((4,))],
             ref=lambda v: v.astype("float32") * 3)


def test_dimshuffle_and_transpose():
    check_op(lambda x: x.dimshuffle(1, "x", 0), [rand((3, 4))],
             ref=lambda x: x.T[:, None, :], grad=True)
    check_op(lambda x: x.T, [rand((2, 3, 4))], ref=lambda x: x.T, grad=True)
    check_op(lambda x: x.dimshuffle(1), [rand((1, 4))], ref=lambda x: x[0], grad=True)
    with pytest.raises(ValueError, match="not broadcastable"):
        T.matrix("m").dimshuffle(1)
    assert isinstance(T.matrix().dimshuffle(1, 0).owner.op, DimShuffle)


def test_comparison_chain_is_refused():
    x = T.scalar("x")
    with pytest.raises(TypeError, match="chained"):
        bool(x < 1)


def test_composed_expression_on_int_and_float():
    check_op(lambda x, i: T.maximum(x, 0) * i + T.sqr(x) // 1,
             [rand((3, 2)), rand((3, 2), "int16", low=-3, high=3)],
             ref=lambda x, i: np.maximum(x, 0) * i + np.floor_divide(np.square(x), 1))


def test_clip_with_min_above_max_follows_theano():
    # Theano tests x < min first: below min gives min, otherwise at most max
    # (numpy 2's clip gives max wherever min > max), on every backend.
    x = np.array([[-3.0, 0.0, 0.5, 2.0, np.nan]])
    ref = lambda v, lo, hi: np.where(v < lo, lo, np.minimum(v, hi))  # noqa: E731
    out = check_op(lambda v, lo, hi: T.clip(v, lo, hi), [x, np.array(1.0), np.array(-1.0)],
                   ref=ref)[0]
    np.testing.assert_array_equal(out, [[1.0, 1.0, 1.0, -1.0, np.nan]])
    # clip(x, 0, x) is 0 for x < 0 and x elsewhere, so its gradient is the
    # mask x >= 0 (Theano's gh-633 case); finite differences agree
    v = np.array([[-1.5, -0.2, 0.3, 2.0]])
    check_op(lambda a: T.clip(a, 0, a), [v], ref=lambda a: np.where(a < 0, 0, a), grad=True)


def test_dimshuffle_errors_name_the_axis():
    x = T.matrix("x")
    with pytest.raises(ValueError, match=r"axis 0 of x may not appear twice"):
        x.dimshuffle(0, 0)
    with pytest.raises(ValueError, match=r"invalid pattern for x with 2 dimensions"):
        x.dimshuffle(0, 2)
