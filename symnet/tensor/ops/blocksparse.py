"""Block-sparse products (``theano.tensor.nnet.blocksparse``): a layer whose
weight ``W`` is a grid of blocks ``(n_in_blocks, n_out_blocks, in_size,
out_size)`` of which each example uses only a window.

``SparseBlockGemv``: for each example ``b`` and each chosen output block
``j``, ``o[b, j] + sum_i h[b, i] @ W[iIdx[b, i], oIdx[b, j]]``.
``SparseBlockOuter``: ``o`` with ``alpha * outer(x[b, i], y[b, j])`` added
to block ``(xIdx[b, i], yIdx[b, j])`` for every ``b, i, j`` (repeated
blocks accumulate).  Each is the other's gradient: the gradient of a gemv
to ``W`` is an outer into zeros, and to ``h`` a gemv with ``W``'s blocks
transposed; the index inputs are integers and get none.
"""
import numpy as np

from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType

__all__ = ["SparseBlockGemv", "SparseBlockOuter", "sparse_block_gemv", "sparse_block_outer",
           "sparse_block_dot"]


def _check(opname, names, vars_, ndims):
    for name, v, nd in zip(names, vars_, ndims):
        if v.ndim != nd:
            raise TypeError(f"{opname}: {name} must have {nd} dimensions, got {v} with "
                            f"{v.ndim} ({v.type})")
        if name.endswith("Idx") and not v.dtype.startswith(("int", "uint")):
            raise TypeError(f"{opname}: {name} holds block indices and must have an integer "
                            f"dtype, got {v} ({v.dtype})")


class SparseBlockGemv(Op):
    """``o[b, j] + sum_i h[b, i] @ W[iIdx[b, i], oIdx[b, j]]`` for ``o``
    ``(batch, out_window, out_size)``, ``W`` ``(in_blocks, out_blocks,
    in_size, out_size)``, ``h`` ``(batch, in_window, in_size)``, ``iIdx``
    ``(batch, in_window)``, ``oIdx`` ``(batch, out_window)``; the result has
    ``o``'s type.  ``inplace=True`` writes into ``o``."""

    __props__ = ("inplace",)

    def __init__(self, inplace=False):
        self.inplace = bool(inplace)
        if self.inplace:
            self.destroy_map = {0: [0]}

    def make_node(self, o, W, h, inputIdx, outputIdx):
        o, W, h, inputIdx, outputIdx = map(as_tensor_variable, (o, W, h, inputIdx, outputIdx))
        _check("SparseBlockGemv", ("o", "W", "h", "inputIdx", "outputIdx"),
               (o, W, h, inputIdx, outputIdx), (3, 4, 3, 2, 2))
        out = TensorType(o.dtype, shape=(None,) * 3)()
        return Apply(self, [o, W, h, inputIdx, outputIdx], [out])

    def perform(self, node, inputs, output_storage):
        (output_storage[0][0],) = self.compute(*inputs)

    def compute(self, o, W, h, iIdx, oIdx):
        """``[output]`` for these arrays (also the numba backend's driver
        line)."""
        out = o if self.inplace else o.copy()
        for b in range(o.shape[0]):
            # the blocks this example uses: (in_window, out_window, in, out)
            w = W[np.ix_(iIdx[b], oIdx[b])]
            out[b] += np.einsum("ik,ijkl->jl", h[b], w).astype(out.dtype, copy=False)
        return [out]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from .shape import zeros_like
        o, W, h, iIdx, oIdx = inputs
        (go,) = output_grads
        gh = sparse_block_gemv(zeros_like(h), W.dimshuffle(1, 0, 3, 2), go, oIdx, iIdx)
        gW = sparse_block_outer(zeros_like(W), h, go, iIdx, oIdx)
        return [go, gW, gh, None, None]


class SparseBlockOuter(Op):
    """``o`` plus ``alpha * outer(x[b, i], y[b, j])`` in block ``(xIdx[b,
    i], yIdx[b, j])`` for every example ``b`` and window positions ``i,
    j``: ``o`` ``(x_blocks, y_blocks, x_size, y_size)``, ``x`` ``(batch,
    x_window, x_size)``, ``y`` ``(batch, y_window, y_size)``, ``alpha`` a
    scalar (1 when not given).  ``inplace=True`` writes into ``o``."""

    __props__ = ("inplace",)

    def __init__(self, inplace=False):
        self.inplace = bool(inplace)
        if self.inplace:
            self.destroy_map = {0: [0]}

    def make_node(self, o, x, y, xIdx, yIdx, alpha=None):
        o, x, y, xIdx, yIdx = map(as_tensor_variable, (o, x, y, xIdx, yIdx))
        alpha = as_tensor_variable(np.asarray(1, dtype=o.dtype) if alpha is None else alpha)
        _check("SparseBlockOuter", ("o", "x", "y", "xIdx", "yIdx", "alpha"),
               (o, x, y, xIdx, yIdx, alpha), (4, 3, 3, 2, 2, 0))
        out = TensorType(o.dtype, shape=(None,) * 4)()
        return Apply(self, [o, x, y, xIdx, yIdx, alpha], [out])

    def perform(self, node, inputs, output_storage):
        (output_storage[0][0],) = self.compute(*inputs)

    def compute(self, o, x, y, xIdx, yIdx, alpha):
        """``[output]`` for these arrays (also the numba backend's driver
        line)."""
        out = o if self.inplace else o.copy()
        outer = alpha * np.einsum("bik,bjl->bijkl", x, y)
        rows = np.broadcast_to(xIdx[:, :, None], outer.shape[:3])
        cols = np.broadcast_to(yIdx[:, None, :], outer.shape[:3])
        # add.at: two window positions naming the same block both count
        np.add.at(out, (rows, cols), outer.astype(out.dtype, copy=False))
        return [out]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from .reduction import sum as tsum
        from .shape import zeros_like
        o, x, y, xIdx, yIdx, alpha = inputs
        (go,) = output_grads
        gx = sparse_block_gemv(zeros_like(x), go.dimshuffle(1, 0, 3, 2), y, yIdx, xIdx)
        xgo = sparse_block_gemv(zeros_like(y), go, x, xIdx, yIdx)
        galpha = tsum(xgo * y).astype(alpha.dtype)
        return [go, gx * alpha, xgo * alpha, None, None, galpha]


sparse_block_gemv = SparseBlockGemv(False)
sparse_block_outer = SparseBlockOuter(False)


def sparse_block_dot(W, h, inputIdx, b, outputIdx):
    """The block-sparse layer ``b[oIdx] + h @ W`` restricted to the chosen
    blocks: for each example, output block ``j`` is ``b[outputIdx[j]] +
    sum_i h[i] @ W[inputIdx[i], outputIdx[j]]``.

    Parameters
    ----------
    W : tensor4 ``(in_blocks, out_blocks, in_size, out_size)``
    h : tensor3 ``(batch, in_window, in_size)`` (or a matrix: one example)
    inputIdx : int matrix ``(batch, in_window)`` (a vector with a matrix ``h``)
    b : matrix ``(out_blocks, out_size)``, the biases of the blocks
    outputIdx : int matrix ``(batch, out_window)`` (a vector with a matrix ``h``)

    Returns
    -------
    tensor3 ``(batch, out_window, out_size)`` (batch 1 for a matrix ``h``)

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> from symnet.tensor.nnet.blocksparse import sparse_block_dot
    >>> W = np.arange(2 * 2 * 1 * 1, dtype='float32').reshape(2, 2, 1, 1)
    >>> out = sparse_block_dot(W, np.ones((1, 2, 1), 'float32'), np.array([[0, 1]]),
    ...                        np.zeros((2, 1), 'float32'), np.array([[1]]))
    >>> out.eval()   # W[0, 1] + W[1, 1]
    array([[[4.]]], dtype=float32)
    """
    W, h, b = map(as_tensor_variable, (W, h, b))
    inputIdx, outputIdx = as_tensor_variable(inputIdx), as_tensor_variable(outputIdx)
    if inputIdx.ndim != h.ndim - 1 or outputIdx.ndim != inputIdx.ndim:
        raise TypeError(f"sparse_block_dot: inputIdx and outputIdx must have one dimension "
                        f"less than h ({h.ndim}), got {inputIdx.ndim} and {outputIdx.ndim}")
    if h.ndim == 2:
        h = h.dimshuffle("x", 0, 1)
        inputIdx = inputIdx.dimshuffle("x", 0)
        outputIdx = outputIdx.dimshuffle("x", 0)
    return sparse_block_gemv(b.take(outputIdx, axis=0), W, h, inputIdx, outputIdx)
