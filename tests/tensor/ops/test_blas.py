"""Linear algebra: dot for every rank combination, build-time inner-size
errors, tensordot, batched_dot, outer."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from tests.oracles import check_op, rand


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)),
                                   ((4,), (4,)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)),
                                   ((), (3,))])
def test_dot(sa, sb):
    a, b = rand(sa, rng=np.random.default_rng(1)), rand(sb, rng=np.random.default_rng(2))
    check_op(T.dot, [a, b], ref=np.dot, grad=True)


def test_dot_dtypes():
    check_op(T.dot, [rand((2, 3), "float32"), rand((3, 2), "float32")], ref=np.dot)
    assert T.dot(T.fmatrix(), T.dmatrix()).dtype == "float64"
    assert T.dot(T.imatrix(), T.fmatrix()).dtype == "float64"
    check_op(T.dot, [rand((2, 3), "int32", low=-3, high=3), rand((3,), "int32", low=-3, high=3)],
             ref=np.dot)


def test_dot_second_order():
    check_op(lambda a, b: T.dot(T.tanh(a), b), [rand((2, 3)), rand((3, 2))],
             ref=lambda a, b: np.dot(np.tanh(a), b), grad2=True)


def test_matmul_operator():
    check_op(lambda a, b: a @ b, [rand((2, 3)), rand((3, 4))], ref=np.matmul)


def test_dot_build_time_error_message():
    a = T.matrix("a", shape=(64, 784))
    b = T.matrix("b", shape=(500, 10))
    with pytest.raises(ValueError) as info:
        T.dot(a, b)
    assert str(info.value) == ("dot: inner dimensions do not match: a has shape (64, 784) "
                               "and b has shape (500, 10) (784 != 500)")
    w = symnet.shared(np.zeros((500, 10), "float32"), name="W")
    with pytest.raises(ValueError, match=r"W has shape \(500, 10\)"):
        T.dot(a, w)


def test_dot_runtime_error():
    a, b = T.matrix("a"), T.matrix("b")
    f = symnet.function([a, b], T.dot(a, b), mode="py")
    with pytest.raises(ValueError, match="not aligned"):
        f(np.zeros((2, 3), a.dtype), np.zeros((4, 2), a.dtype))


def test_dot_static_shape():
    assert T.dot(T.matrix(shape=(3, None)), T.matrix(shape=(None, 5))).type.shape == (3, 5)
    assert T.dot(T.vector(shape=(4,)), T.matrix(shape=(4, 2))).type.shape == (2,)


@pytest.mark.parametrize("sa,sb,axes", [((2, 3, 4), (3, 4, 5), 2), ((2, 3, 4), (4, 3, 5), [[1, 2], [1, 0]]),
                                        ((3, 4), (4, 5), 1), ((2, 3), (3, 2), [[0, 1], [1, 0]]),
                                        ((2, 3, 4), (5, 4), [[-1], [-1]])])
def test_tensordot(sa, sb, axes):
    a, b = rand(sa, rng=np.random.default_rng(3)), rand(sb, rng=np.random.default_rng(4))
    check_op(lambda x, y: T.tensordot(x, y, axes), [a, b],
             ref=lambda x, y: np.tensordot(x, y, axes), grad=True)


def test_tensordot_mismatch():
    with pytest.raises(ValueError, match="tensordot"):
        T.tensordot(T.tensor3(shape=(2, 3, 4)), T.matrix(shape=(5, 6)), [[2], [0]])


@pytest.mark.parametrize("sa,sb", [((4, 2, 3), (4, 3, 5)), ((4, 3), (4, 3, 5)),
                                   ((4, 2, 3), (4, 3)), ((4, 3), (4, 3)),
                                   # Theano's other forms: a vector is a batch of
                                   # scalars; 4-D goes through batched_tensordot
                                   ((4,), (4, 3, 5)), ((4, 2, 3), (4,)), ((4,), (4,)),
                                   ((4, 2, 2, 3), (4, 3, 5)), ((4, 2, 3), (4, 2, 3, 5))])
def test_batched_dot(sa, sb):
    a, b = rand(sa, rng=np.random.default_rng(5)), rand(sb, rng=np.random.default_rng(6))

    def ref(x, y):
        return np.stack([np.dot(x[i], y[i]) for i in range(x.shape[0])])
    check_op(T.batched_dot, [a, b], ref=ref, grad=True)


def test_batched_dot_errors():
    with pytest.raises(ValueError, match="batch sizes"):
        T.batched_dot(T.tensor3(shape=(2, 3, 4)), T.tensor3(shape=(3, 4, 5)))
    with pytest.raises(ValueError, match="inner"):
        T.batched_dot(T.tensor3(shape=(2, 3, 4)), T.tensor3(shape=(2, 5, 5)))


@pytest.mark.parametrize("sa,sb,axes", [((3, 4, 5, 2), (3, 5, 6, 4), [[1, 2], [3, 1]]),
                                        ((3, 4), (3, 4), 1), ((3, 2, 4, 5), (3, 4, 5, 6), 2),
                                        ((3, 2, 4), (3, 4), [[-1], [1]])])
def test_batched_tensordot(sa, sb, axes):
    a, b = rand(sa, rng=np.random.default_rng(7)), rand(sb, rng=np.random.default_rng(8))
    n = axes if isinstance(axes, int) else None
    ax = ([list(range(len(sa) - n, len(sa))), list(range(1, n + 1))] if n is not None
          else [[i - 1 for i in np.array(axes[0]) % len(sa)],
                [i - 1 for i in np.array(axes[1]) % len(sb)]])

    def ref(x, y):
        if n is not None:
            return np.stack([np.tensordot(x[i], y[i], n) for i in range(x.shape[0])])
        return np.stack([np.tensordot(x[i], y[i], ax) for i in range(x.shape[0])])
    check_op(lambda x, y: T.batched_tensordot(x, y, axes), [a, b], ref=ref, grad=True)


def test_batched_tensordot_errors():
    x, y = T.tensor4("x"), T.tensor4("y")
    with pytest.raises(ValueError, match="include the batch axis 0"):
        T.batched_tensordot(x, y, [[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="different lengths"):
        T.batched_tensordot(x, y, [[1, 2], [1]])
    with pytest.raises(ValueError, match="inner"):
        T.batched_tensordot(T.tensor3(shape=(2, 3, 4)), T.tensor3(shape=(2, 5, 5)), [[2], [1]])
    with pytest.raises(TypeError, match="batch axis"):
        T.batched_dot(T.scalar("s"), y)


def test_outer():
    check_op(T.outer, [rand((3,)), rand((4,))], ref=np.outer, grad=True)
    check_op(T.outer, [rand((2, 2)), rand((3,))], ref=np.outer)
