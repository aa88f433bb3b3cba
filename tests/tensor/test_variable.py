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


def test_divmod_of_tensors_is_floor_division_and_remainder():
    a, b = T.ivectors("a", "b")
    f = symnet.function([a, b], [*divmod(a, b), *divmod(7, a)], mode="py")
    x, y = np.array([7, -7, 5], "int32"), np.array([2, 2, -3], "int32")
    d, m, d7, m7 = f(x, y)
    for got, want in zip((d, m, d7, m7), (*divmod(x, y), *divmod(7, x))):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype


def test_full_transpose_of_a_named_variable_is_named_dot_t():
    x = T.matrix("x")
    assert x.T.name == "x.T" and T.transpose(x).name == "x.T"
    assert T.transpose(T.tensor3("y"), (0, 2, 1)).name is None
    assert T.matrix().T.name is None


def test_conj_real_imag_of_a_complex_variable_raise_instead_of_returning_it():
    # symnet computes on real dtypes only: z.conj() used to return z itself
    z = T.matrix("z", dtype="complex64")
    for get in (lambda: z.conj(), lambda: z.real, lambda: z.imag, lambda: T.conj(z),
                lambda: T.real(z), lambda: T.imag(z)):
        with pytest.raises(TypeError, match=r"real dtypes only, got z"):
            get()
    x = T.matrix("x")
    assert x.conj() is x and x.real is x and T.real(x) is x
    np.testing.assert_array_equal(x.imag.eval({x: np.ones((2, 3), x.dtype)}), np.zeros((2, 3)))


@pytest.mark.parametrize("args", [(0, 0, 1), (1, 0, 1), (-2, 0, 1), (2, 1, 2), (-1, 2, 0),
                                  (0, -1, -2), (7, 0, 1)])
def test_diagonal_is_numpys_with_offset_and_axes(args):
    x = rand((3, 4, 5), rng=np.random.default_rng(4))
    check_op(lambda v: v.diagonal(*args), [x], ref=lambda a: np.diagonal(a, *args), grad=True)
    check_op(lambda v: T.diagonal(v, *args), [x], ref=lambda a: np.diagonal(a, *args))


def test_diag_indexes_so_infinities_off_the_diagonal_stay_out():
    # diag(matrix) was sum(m * eye): an inf off the diagonal gave NaN
    m = np.array([[1.0, np.inf], [2.0, 3.0]])
    v = np.array([np.inf, 2.0])
    check_op(T.diag, [m], ref=np.diag)
    check_op(T.diag, [v], ref=np.diag)
    check_op(T.diag, [rand((4,))], ref=np.diag, grad=True)
    with pytest.raises(ValueError, match="axis1 and axis2 are the same"):
        T.diagonal(T.matrix(), 0, 1, -1)


def test_choose_method():
    a = np.array([[0, 1, 2], [2, 1, 0]], "int32")
    c = rand((3, 2, 3), rng=np.random.default_rng(2))
    check_op(lambda i, ch: i.choose(ch, mode="raise"), [a, c], ref=lambda i, ch: i.choose(ch))
