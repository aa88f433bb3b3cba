"""det, eigh, svd, qr and pinv (symnet/tensor/ops/linalg.py) and the
compositions of theano.tensor.nlinalg: values against numpy on every
backend, shapes, and the gradients of det and eigh against finite
differences."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.tensor import nlinalg
from tests.oracles import check_op, rand

A = rand((4, 4), rng=np.random.default_rng(0)) + 4 * np.eye(4)
R = rand((5, 3), rng=np.random.default_rng(1))


def test_det_and_its_gradient():
    check_op(nlinalg.det, [A], ref=np.linalg.det, grad=True, grad2=True)
    with pytest.raises(ValueError, match="square"):
        nlinalg.det(T.TensorType("float64", shape=(2, 3))())


@pytest.mark.parametrize("UPLO", ["L", "U"])
def test_eigh_values_and_gradients(UPLO):
    sym = A + A.T
    check_op(lambda x: list(nlinalg.eigh(x, UPLO)), [sym],
             ref=lambda a: list(np.linalg.eigh(a, UPLO)))
    # the gradient sees only the triangle eigh reads (check_grad perturbs every entry)
    check_op(lambda x: nlinalg.eigh(x, UPLO)[0], [sym], grad=True)
    check_op(lambda x: nlinalg.eigh(x, UPLO)[1][:, -1] ** 2, [sym], grad=True)


@pytest.mark.parametrize("full, uv", [(True, True), (False, True), (True, False)])
def test_svd(full, uv):
    out = check_op(lambda x: nlinalg.svd(x, full, uv), [R],
                   ref=lambda a: list(np.linalg.svd(a, full, uv)) if uv else np.linalg.svd(a, full, uv))
    if uv:
        u, s, vt = out
        k = len(s)
        np.testing.assert_allclose((u[:, :k] * s) @ vt[:k], R, atol=1e-12)


@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr(mode):
    def ref(a):
        res = np.linalg.qr(a, mode)
        return res if mode == "r" else list(res)
    check_op(lambda x: nlinalg.qr(x, mode), [R], ref=ref)
    with pytest.raises(ValueError, match="mode must be"):
        nlinalg.qr(T.dmatrix(), "bogus")


def test_pinv_trace_diag_matrix_dot():
    check_op(nlinalg.pinv, [R], ref=np.linalg.pinv)
    check_op(nlinalg.trace, [A], ref=np.trace, grad=True)
    check_op(nlinalg.diag, [A], ref=np.diag)
    check_op(nlinalg.diag, [np.array([1.0, 2.0])], ref=np.diag)
    check_op(nlinalg.matrix_dot, [A, A, A], ref=lambda a, b, c: a @ b @ c, grad=True)
    with pytest.raises(TypeError, match="vector or a matrix"):
        nlinalg.diag(T.dtensor3())


@pytest.mark.parametrize("n", [0, 1, 2, 5, -2])
def test_matrix_power(n):
    check_op(lambda x: nlinalg.matrix_power(x, n), [A],
             ref=lambda a: np.linalg.matrix_power(a, n), rtol=1e-9)


@pytest.mark.parametrize("ord", [None, 2, 1, 3, 0, np.inf, -np.inf])
def test_vector_norms(ord):
    v = np.array([3.0, -4.0, 0.0, 1.5])
    check_op(lambda x: nlinalg.norm(x, ord), [v], ref=lambda a: np.linalg.norm(a, ord))


@pytest.mark.parametrize("ord", [None, "fro", 1, -1, np.inf, -np.inf])
def test_matrix_norms(ord):
    check_op(lambda x: nlinalg.norm(x, ord), [R], ref=lambda a: np.linalg.norm(a, ord))
    with pytest.raises(ValueError, match="not supported for matrices"):
        nlinalg.norm(T.dmatrix(), "nuc")


def test_tensorinv_and_tensorsolve():
    a = np.eye(6).reshape(6, 2, 3) + rand((6, 2, 3), rng=np.random.default_rng(2)) / 10
    check_op(lambda x: nlinalg.tensorinv(x, ind=1), [a],
             ref=lambda v: np.linalg.tensorinv(v, ind=1))
    b = rand((6,), rng=np.random.default_rng(3))
    check_op(nlinalg.tensorsolve, [a, b], ref=np.linalg.tensorsolve)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_pinv_gradient(shape):
    x = rand(shape, rng=np.random.default_rng(5))
    check_op(nlinalg.pinv, [x], ref=np.linalg.pinv, grad=True)


def test_norm_string_infinities_and_tensors():
    check_op(lambda x: [nlinalg.norm(x, "inf"), nlinalg.norm(x, "-inf")], [R],
             ref=lambda a: [np.linalg.norm(a, np.inf), np.linalg.norm(a, -np.inf)])
    with pytest.raises(NotImplementedError, match="only vectors and matrices"):
        nlinalg.norm(T.dtensor3(), None)


def test_tensorsolve_of_integers_and_norm_of_a_scalar():
    a = np.eye(6, dtype="int32").reshape(6, 2, 3)
    b = rand((6,), rng=np.random.default_rng(3))
    check_op(nlinalg.tensorsolve, [a, b], ref=np.linalg.tensorsolve)
    with pytest.raises(ValueError, match="scalar"):
        nlinalg.norm(3, None)
