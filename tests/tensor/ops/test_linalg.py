"""matrix_inverse and solve: values on every backend, shapes, gradients to
second order, and errors naming the operand."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from tests.oracles import check_op, rand


def well_conditioned(n, dtype="float64", seed=0):
    return (rand((n, n), dtype, rng=np.random.default_rng(seed)) +
            n * np.eye(n)).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matrix_inverse(dtype):
    a = well_conditioned(4, dtype)
    check_op(T.nlinalg.matrix_inverse, [a], ref=np.linalg.inv, grad=True, grad2=True)


@pytest.mark.parametrize("bshape", [(4,), (4, 3)])
def test_solve(bshape):
    a = well_conditioned(4)
    b = rand(bshape, rng=np.random.default_rng(1))
    check_op(T.slinalg.solve, [a, b], ref=np.linalg.solve, grad=True, grad2=True)


@pytest.mark.parametrize("structure", ["lower_triangular", "upper_triangular"])
def test_solve_triangular_structure_and_its_gradient(structure):
    a = np.tril(well_conditioned(3)) if structure == "lower_triangular" \
        else np.triu(well_conditioned(3))
    b = rand((3,), rng=np.random.default_rng(2))
    op = T.slinalg.Solve(A_structure=structure, lower=structure == "lower_triangular")
    check_op(lambda x, y: op(x, y), [a, b], ref=np.linalg.solve, grad=True)


def test_inverse_times_matrix_is_identity_in_a_graph():
    x = T.dmatrix("x")
    a = well_conditioned(5)
    out = T.dot(T.nlinalg.matrix_inverse(x), x).eval({x: a}, mode="py")
    np.testing.assert_allclose(out, np.eye(5), atol=1e-12)


def test_errors_name_the_operand():
    with pytest.raises(TypeError, match="matrix_inverse: x must be a matrix"):
        T.nlinalg.matrix_inverse(T.dvector("v"))
    with pytest.raises(TypeError, match="float matrix, got m of dtype int32"):
        T.nlinalg.matrix_inverse(T.imatrix("m"))
    sq = T.TensorType("float64", shape=(2, 3))("rect")
    with pytest.raises(ValueError, match="rect must be square"):
        T.nlinalg.matrix_inverse(sq)
    a = T.TensorType("float64", shape=(3, 3))("A")
    with pytest.raises(ValueError, match="A is \\(3, 3\\) but b has 2 rows"):
        T.slinalg.solve(a, T.TensorType("float64", shape=(2,))("b"))
    with pytest.raises(ValueError, match="A_structure"):
        T.slinalg.Solve(A_structure="banded")
    x = T.dmatrix("x")
    f = symnet.function([x], T.nlinalg.matrix_inverse(x), mode="py")
    with pytest.raises(ValueError, match="must be square"):
        f(np.ones((2, 3)))


def test_eig_values_vectors_and_numpys_order():
    a = np.array([[2., 1., 0.], [1., 3., 1.], [0., 1., 4.]])

    def ref(a):
        return [v.real for v in np.linalg.eig(a)]
    w, v = check_op(T.nlinalg.eig, [a], ref=ref)
    np.testing.assert_allclose(a @ v, v * w, atol=1e-10)
    x = T.fmatrix()
    assert [o.dtype for o in T.nlinalg.eig(x)] == ["float32", "float32"]
    with pytest.raises(ValueError, match="must be square, got static shape"):
        T.nlinalg.eig(T.TensorType("float64", shape=(2, 3))())


@pytest.mark.parametrize("bshape", [(5,), (5, 2)])
def test_lstsq_matches_numpy(bshape):
    a = rand((5, 3), rng=np.random.default_rng(4))
    b = rand(bshape, rng=np.random.default_rng(5))

    def ref(a, b, rcond):
        x, res, rank, s = np.linalg.lstsq(a, b, rcond=float(rcond))
        return [x, res, np.int64(rank), s]
    got = check_op(lambda a, b, r: T.nlinalg.lstsq()(a, b, r), [a, b, np.array(-1.0)], ref=ref)
    assert got[0].shape == (3,) + bshape[1:] and got[2] == 3


def test_lstsq_integer_inputs_and_errors():
    x, y, z = T.lmatrix(), T.lmatrix(), T.lscalar()
    out = T.nlinalg.lstsq()(x, y, z)
    assert [o.dtype for o in out] == ["float64", "float64", "int64", "float64"]
    m = symnet.function([x, y, z], out, mode="py")(np.array([[2, 1], [3, 4]]),
                                                    np.array([[17, 20], [43, 50]]), 1)
    np.testing.assert_allclose(m[0], [[5, 6], [7, 8]])
    with pytest.raises(TypeError, match="coefficient matrix a must have 2 dims"):
        T.nlinalg.lstsq()(T.dvector(), T.dvector(), T.dscalar())
    with pytest.raises(TypeError, match="rcond must be a scalar"):
        T.nlinalg.lstsq()(T.dmatrix(), T.dvector(), T.dvector())


def test_eig_is_an_op_instance_like_theanos():
    assert isinstance(T.nlinalg.eig, T.nlinalg.Eig)

    class Holder:
        op = T.nlinalg.eig        # stored on a class and called through self
    w, v = Holder().op(T.dmatrix())
    assert (w.ndim, v.ndim) == (1, 2)
