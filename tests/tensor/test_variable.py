"""TensorVariable: operators, methods and attributes against numpy."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from tests.oracles import check_op, rand


def test_arithmetic_operators():
    check_op(lambda a, b: [a + b, a - b, a * b, a / b, -a, +a, abs(a), a ** 2, 2 - a,
                           3.0 / b, 1 + a, 2 * a, a @ b.T],
             [rand((2, 3)), rand((2, 3), low=0.5, high=2)],
             ref=lambda a, b: [a + b, a - b, a * b, a / b, -a, a, abs(a), a ** 2, 2 - a,
                               3.0 / b, 1 + a, 2 * a, a @ b.T])


def test_integer_operators():
    check_op(lambda a, b: [a // b, a % b, a & b, a | b, a ^ b, ~a],
             [rand((5,), "int32", low=-9, high=9), rand((5,), "int32", low=1, high=4)],
             ref=lambda a, b: [a // b, a % b, a & b, a | b, a ^ b, ~a])


def test_comparisons_return_variables():
    a, b = T.dvector("a"), T.dvector("b")
    for expr in (a < b, a <= b, a > b, a >= b):
        assert isinstance(expr, symnet.Variable) and expr.dtype == "bool"
    assert (a == b) is False and a != b  # identity semantics, like Theano
    check_op(lambda x, y: [x < y, x >= y, T.eq(x, y), T.neq(x, y)],
             [np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])],
             ref=lambda x, y: [x < y, x >= y, x == y, x != y])


def test_numpy_array_on_the_left():
    x = T.dvector("x")
    y = np.ones(3) + x
    assert isinstance(y, symnet.Variable)
    np.testing.assert_array_equal(y.eval({x: np.arange(3.0)}, mode="py"), [1, 2, 3])


def test_methods():
    check_op(lambda x: [x.sum(axis=0), x.mean(), x.max(axis=1), x.min(), x.prod(),
                        x.argmax(axis=0), x.var(), x.std(axis=1), x.dot(x.T),
                        x.reshape((3, 2)), x.flatten(), x.dimshuffle(1, 0), x.T,
                        x.astype("float32"), x.clip(-0.5, 0.5), x.norm(2), x.norm(1),
                        x.ravel(), x.sum(keepdims=True)],
             [rand((2, 3))],
             ref=lambda x: [x.sum(0), x.mean(), x.max(1), x.min(), x.prod(), x.argmax(0),
                            x.var(), x.std(1), x.dot(x.T), x.reshape(3, 2), x.flatten(),
                            x.T, x.T, x.astype("float32"), x.clip(-0.5, 0.5),
                            np.sqrt((x ** 2).sum()), np.abs(x).sum(), x.ravel(),
                            x.sum(keepdims=True)])


def test_attributes():
    x = T.ftensor3("x")
    assert (x.ndim, x.dtype, x.broadcastable, x.name, x.owner) == \
        (3, "float32", (False, False, False), "x", None)
    y = x.sum(axis=0)
    assert y.owner is not None and y.type.ndim == 2
    check_op(lambda v: [v.shape, v.size], [rand((2, 3))],
             ref=lambda v: [np.array(v.shape), np.int64(v.size)])


def test_python_protocol_errors():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="len"):
        len(x)
    with pytest.raises(TypeError, match="iterate"):
        iter(x)
    with pytest.raises(TypeError, match="numpy array"):
        np.asarray(x)
    assert [v.ndim for v in T.dvector(shape=(2,))] == [0, 0]
    # only vectors iterate, as in Theano, even with a static first size
    # (AgentNet tells a tensor from a list of tensors by tuple(x) raising)
    m = T.dmatrix("m", shape=(2, 3))
    with pytest.raises(TypeError, match="only a vector.*2 dimensions"):
        tuple(m)
    with pytest.raises(TypeError, match="iterate"):
        iter(T.dscalar())
    v = T.dvector("v", shape=(2,))
    a, b = v
    f = symnet.function([v], [a, b], mode="py")
    assert [float(r) for r in f(np.array([3.0, 4.0]))] == [3.0, 4.0]


def test_numpy_reduces_a_list_of_symbolic_sizes():
    # Lasagne's ReshapeLayer.get_output_shape_for calls np.prod on symbolic
    # sizes; with Theano that built the symbolic product.
    x = T.tensor3("x")
    batch, seq, feat = x.shape
    size = np.prod([batch, seq, feat])
    assert isinstance(size, symnet.Variable)
    value = np.ones((3, 5, 7), dtype=symnet.config.floatX)
    assert int(size.eval({x: value})) == 105
    assert int(np.sum([batch, 2 * seq]).eval({x: value})) == 13


def test_a_symbolic_value_for_an_input_is_named():
    a, b = T.iscalar("a"), T.iscalar("b")
    f = symnet.function([a], 2 * a)
    with pytest.raises(TypeError, match=r"input 0 \(a\), got the symbolic variable b; "
                                        r"pass its value"):
        f(b)


def test_names_and_str():
    x = T.dvector("x")
    assert str(x) == "x" and str(x + 1) == "Elemwise{add,no_inplace}.0"
    assert str(T.constant(2.5, dtype="float64")) == "2.5"


def test_repr_shows_the_test_value_with_print_test_value():
    from symnet.configdefaults import config
    x = T.dscalar("x")
    x.tag.test_value = 42
    assert repr(x) == "x"
    config.print_test_value = True
    try:
        assert repr(x) == "x\narray(42.)"      # filtered to the variable's type
        assert repr(T.dscalar("y")) == "y"      # no test value: the name alone
    finally:
        config.print_test_value = False
