"""Block-sparse products (theano.tensor.nnet.blocksparse): values against
loops written from the definition, gradients against finite differences
(each op's gradient is built of the other op), repeated blocks, inplace,
and the errors."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.gradient import verify_grad
from symnet.tensor.nnet.blocksparse import (SparseBlockGemv, SparseBlockOuter, sparse_block_dot,
                                            sparse_block_gemv, sparse_block_outer)
from tests.oracles import check_op


def gemv_loops(o, W, h, iIdx, oIdx):
    o = o.copy()
    for b in range(o.shape[0]):
        for j in range(o.shape[1]):
            for i in range(h.shape[1]):
                o[b, j] += h[b, i] @ W[iIdx[b, i], oIdx[b, j]]
    return o


def outer_loops(o, x, y, xIdx, yIdx, alpha=1.0):
    o = o.copy()
    for b in range(x.shape[0]):
        for i in range(xIdx.shape[1]):
            for j in range(yIdx.shape[1]):
                o[xIdx[b, i], yIdx[b, j]] += alpha * np.outer(x[b, i], y[b, j])
    return o


def gemv_data(rng, dtype="float64"):
    W = rng.standard_normal((5, 4, 3, 2)).astype(dtype)
    h = rng.standard_normal((2, 3, 3)).astype(dtype)
    iIdx = np.array([[4, 0, 2], [1, 1, 3]], dtype="int32")     # block 1 used twice
    oIdx = np.array([[3, 0], [2, 3]], dtype="int32")
    b = rng.standard_normal((4, 2)).astype(dtype)
    return W, h, iIdx, b, oIdx


def test_sparse_block_dot_values_on_every_backend():
    W, h, iIdx, b, oIdx = gemv_data(np.random.default_rng(0), "float32")
    got = check_op(sparse_block_dot, [W, h, iIdx, b, oIdx],
                   ref=lambda W, h, i, b, o: gemv_loops(b[o], W, h, i, o))
    assert got[0].shape == (2, 2, 2) and got[0].dtype == np.float32


def test_sparse_block_dot_of_one_example_matrix():
    W, h, iIdx, b, oIdx = gemv_data(np.random.default_rng(1))
    out = sparse_block_dot(W, h[0], iIdx[0], b, oIdx[0]).eval(mode="py")
    np.testing.assert_allclose(out, gemv_loops(b[oIdx[:1]], W, h[:1], iIdx[:1], oIdx[:1]))


def test_outer_values_accumulate_repeated_blocks():
    rng = np.random.default_rng(2)
    o = rng.standard_normal((3, 4, 2, 5))
    x, y = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 2, 5))
    xIdx = np.array([[0, 0, 2], [1, 0, 0]], dtype="int32")
    yIdx = np.array([[3, 3], [1, 3]], dtype="int32")
    check_op(lambda *a: sparse_block_outer(*a), [o, x, y, xIdx, yIdx], ref=outer_loops)
    alpha = np.array(0.5)
    check_op(lambda o, x, y, a: SparseBlockOuter()(o, x, y, xIdx, yIdx, a), [o, x, y, alpha],
             ref=lambda o, x, y, a: outer_loops(o, x, y, xIdx, yIdx, 0.5))


def test_gradients_against_finite_differences():
    W, h, iIdx, b, oIdx = gemv_data(np.random.default_rng(3))
    rng = np.random.RandomState(0)
    verify_grad(lambda b, h, W: sparse_block_dot(W, h, T.constant(iIdx), b, T.constant(oIdx)),
                [b, h, W], rng=rng, mode="py")
    o = np.random.default_rng(4).standard_normal((5, 4, 3, 2))
    x, y = h, np.random.default_rng(5).standard_normal((2, 2, 2))
    verify_grad(lambda o, x, y, a: SparseBlockOuter()(o, x, y, T.constant(iIdx),
                                                      T.constant(oIdx), a),
                [o, x, y, np.array(0.7)], rng=rng, mode="py")


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_gradient_shapes_and_values_compiled(mode):
    W, h, iIdx, b, oIdx = gemv_data(np.random.default_rng(6), "float32")
    vW, vh, vi, vb, vo = T.ftensor4(), T.ftensor3(), T.imatrix(), T.fmatrix(), T.imatrix()
    out = sparse_block_gemv(vb.take(vo, axis=0), vW, vh, vi, vo)
    gb, gW, gh = symnet.grad(out.sum(), [vb, vW, vh])
    f = symnet.function([vW, vh, vi, vb, vo], [gb, gW, gh], mode=mode)
    gb_, gW_, gh_ = f(W, h, iIdx, b, oIdx)
    assert gb_.shape == b.shape and gW_.shape == W.shape and gh_.shape == h.shape
    # d sum / d W[p, q] = sum of h[b, i] over the (b, i, j) with iIdx = p, oIdx = q
    want = np.zeros_like(W)
    for bb in range(2):
        for i in range(3):
            for j in range(2):
                want[iIdx[bb, i], oIdx[bb, j]] += h[bb, i][:, None]
    np.testing.assert_allclose(gW_, want, rtol=1e-5)


def test_inplace_writes_into_o_and_declares_it():
    op = SparseBlockGemv(inplace=True)
    assert op.destroy_map == {0: [0]} and not SparseBlockGemv().destroy_map
    W, h, iIdx, b, oIdx = gemv_data(np.random.default_rng(7))
    o = b[oIdx].copy()
    (out,) = op.compute(o, W, h, iIdx, oIdx)
    assert out is o
    np.testing.assert_allclose(out, gemv_loops(b[oIdx], W, h, iIdx, oIdx))


def test_errors_name_the_input():
    with pytest.raises(TypeError, match=r"SparseBlockGemv: W must have 4 dimensions, got .* 3"):
        sparse_block_gemv(T.tensor3(), T.tensor3(), T.tensor3(), T.imatrix(), T.imatrix())
    with pytest.raises(TypeError, match=r"inputIdx holds block indices and must have an integer"):
        sparse_block_gemv(T.tensor3(), T.tensor4(), T.tensor3(), T.matrix(), T.imatrix())
    with pytest.raises(TypeError, match=r"one dimension less than h \(3\), got 1 and 1"):
        sparse_block_dot(T.tensor4(), T.tensor3(), T.ivector(), T.matrix(), T.ivector())
