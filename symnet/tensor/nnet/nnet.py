"""``theano.tensor.nnet.nnet``: the module Theano's softmax and
crossentropy functions live in, with the compositions it adds to them.

Everything of :mod:`symnet.tensor.ops.nnet` is here, plus Theano's
convenience forms: softmax of ``x + b`` (``softmax_with_bias``) and its
crossentropies, ``softmax_graph`` (the plain ``exp(x) / sum(exp(x))``),
``softsign``, ``prepend_*_to_each_row`` and the two-level hierarchical
softmax ``h_softmax``. All are graphs of existing ops, so gradients and
every backend come with them.

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> from symnet.tensor.nnet.nnet import softmax_with_bias, prepend_1_to_each_row
>>> x, b = T.matrix('x'), T.vector('b')
>>> out = softmax_with_bias(x, b).eval({x: np.zeros((1, 2), 'float32'),
...                                     b: np.array([0., np.log(3.)], 'float32')})
>>> np.round(out, 6)
array([[0.25, 0.75]], dtype=float32)
>>> prepend_1_to_each_row(x).eval({x: np.zeros((2, 1), 'float32')}, mode='py')
array([[1., 0.],
       [1., 0.]], dtype=float32)
"""
from ..basic import as_tensor_variable
from ..ops.blas import batched_dot, dot, tensordot
from ..ops.elemwise import SCALAR_OPS, elemwise
from ..ops.nnet import *  # noqa: F401,F403
from ..ops.nnet import __all__ as _ops_all
from ..ops.nnet import LogSoftmax, Softmax, crossentropy_softmax_1hot, softmax
from ..ops.reduction import argmax, max as _max, sum as _sum
from ..ops.shape import alloc, arange, concatenate

__all__ = list(_ops_all) + [
    "softmax_op", "logsoftmax_op", "softmax_graph", "softmax_with_bias", "softsign",
    "crossentropy_softmax_1hot_with_bias", "crossentropy_softmax_argmax_1hot_with_bias",
    "crossentropy_softmax_max_and_argmax_1hot",
    "crossentropy_softmax_max_and_argmax_1hot_with_bias", "prepend_scalar_to_each_row",
    "prepend_0_to_each_row", "prepend_1_to_each_row", "h_softmax",
    "crossentropy_softmax_1hot_with_bias_dx", "confusion_matrix"]

#: Theano's op instances (softmax over the last axis; its log).
softmax_op = Softmax()
logsoftmax_op = LogSoftmax()


def softmax_graph(c):
    """``exp(c) / sum(exp(c), axis=-1)`` written out (no max subtracted:
    large inputs overflow, as in Theano; :func:`softmax` is the stable one)."""
    e = elemwise(SCALAR_OPS["exp"], as_tensor_variable(c))
    return e / _sum(e, axis=-1, keepdims=True)


def softmax_with_bias(x, b):
    """``softmax(x + b)`` of a matrix ``x`` and a bias vector ``b``, row by row."""
    return softmax(as_tensor_variable(x) + b, axis=-1)


def softsign(x):
    """``x / (1 + |x|)``."""
    x = as_tensor_variable(x)
    return x / (1 + elemwise(SCALAR_OPS["abs"], x))


def crossentropy_softmax_1hot_with_bias(x, b, y_idx):
    """``(nll, softmax(x + b))`` for logits ``x``, bias ``b`` and int labels."""
    return crossentropy_softmax_1hot(as_tensor_variable(x) + b, y_idx)


def crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx):
    """``(nll, softmax(x + b), argmax(x + b, axis=-1))``."""
    z = as_tensor_variable(x) + b
    nll, sm = crossentropy_softmax_1hot(z, y_idx)
    return nll, sm, argmax(z, axis=-1)


def crossentropy_softmax_max_and_argmax_1hot_with_bias(x, b, y_idx):
    """``(nll, max(softmax(x + b)), argmax(x + b))``, row by row."""
    nll, sm, am = crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx)
    return nll, _max(sm, axis=-1), am


def crossentropy_softmax_max_and_argmax_1hot(x, y_idx):
    """``(nll, max(softmax(x)), argmax(x))``, row by row."""
    x = as_tensor_variable(x)
    return crossentropy_softmax_max_and_argmax_1hot_with_bias(x, 0, y_idx)


def prepend_scalar_to_each_row(val, mat):
    """``mat`` with a first column of ``val`` (a Python or symbolic scalar)."""
    val, mat = as_tensor_variable(val), as_tensor_variable(mat)
    if (val.ndim, mat.ndim) != (0, 2):
        raise TypeError(f"prepend_scalar_to_each_row needs a scalar val and a matrix mat, "
                        f"got {val} ({val.ndim} dims) and {mat} ({mat.ndim} dims)")
    return concatenate([alloc(val, mat.shape[0], 1), mat], axis=1)


def prepend_0_to_each_row(mat):
    """``mat`` with a first column of zeros."""
    return prepend_scalar_to_each_row(0.0, mat)


def prepend_1_to_each_row(mat):
    """``mat`` with a first column of ones."""
    return prepend_scalar_to_each_row(1.0, mat)


def h_softmax(x, batch_size, n_outputs, n_classes, n_outputs_per_class, W1, b1, W2, b2,
              target=None):
    """Two-level hierarchical softmax: the outputs are split into
    ``n_classes`` classes of ``n_outputs_per_class``; ``p(output) =
    p(class) * p(output | class)``, each a softmax.

    Parameters
    ----------
    x : matrix (batch_size, n_in)
    batch_size, n_outputs, n_classes, n_outputs_per_class : int
        ``n_classes * n_outputs_per_class >= n_outputs``.
    W1, b1 : (n_in, n_classes), (n_classes,)
        The class softmax.
    W2, b2 : (n_classes, n_in, n_outputs_per_class), (n_classes, n_outputs_per_class)
        One softmax over the outputs of each class.
    target : int vector (batch_size,), optional
        Given, only each row's target probability is computed.

    Returns
    -------
    (batch_size, n_outputs) matrix of probabilities, or (batch_size,) with
    ``target``
    """
    x = as_tensor_variable(x)
    class_probs = softmax(dot(x, W1) + b1, axis=-1)
    if target is None:
        # every class's output softmax: (batch, n_classes, n_outputs_per_class)
        inner = softmax(tensordot(x, W2, axes=[[1], [1]]) + b2, axis=-1)
        probs = class_probs.dimshuffle(0, 1, "x") * inner
        return probs.reshape((batch_size, n_classes * n_outputs_per_class))[:, :n_outputs]
    target = as_tensor_variable(target)
    cls, within = target // n_outputs_per_class, target % n_outputs_per_class
    inner = softmax(batched_dot(x, W2[cls]) + b2[cls], axis=-1)
    rows = arange(batch_size)
    return class_probs[rows, cls] * inner[rows, within]


def crossentropy_softmax_1hot_with_bias_dx(dy, sm, y_idx):
    """The gradient of ``crossentropy_softmax_1hot_with_bias`` with respect
    to its input: ``dy[i] * (sm[i, j] - (j == y_idx[i]))`` for the softmax
    rows ``sm``, class indices ``y_idx`` and the gradients ``dy`` of the
    per-row costs.

    Examples
    --------
    >>> import numpy as np
    >>> dx = crossentropy_softmax_1hot_with_bias_dx(
    ...     np.array([2.]), np.array([[0.25, 0.75]]), np.array([1]))
    >>> dx.eval(mode='py')
    array([[ 0.5, -0.5]])
    """
    dy, sm, y_idx = as_tensor_variable(dy), as_tensor_variable(sm), as_tensor_variable(y_idx)
    if dy.ndim != 1 or sm.ndim != 2 or y_idx.ndim != 1:
        raise TypeError(f"crossentropy_softmax_1hot_with_bias_dx: dy and y_idx must be vectors "
                        f"and sm a matrix, got {dy.ndim}, {sm.ndim} and {y_idx.ndim} dimensions")
    if not y_idx.dtype.startswith(("int", "uint")):
        raise TypeError(f"crossentropy_softmax_1hot_with_bias_dx: y_idx must hold integer class "
                        f"indices, got {y_idx} ({y_idx.dtype})")
    hit = elemwise(SCALAR_OPS["eq"], arange(sm.shape[1]).dimshuffle("x", 0),
                   y_idx.dimshuffle(0, "x"))
    return dy.dimshuffle(0, "x") * (sm - hit.astype(sm.dtype))


def confusion_matrix(actual, pred):
    """The confusion matrix of the label vectors ``actual`` and ``pred``:
    ``[conf_mat, order]``, ``order`` the sorted labels that occur in either
    and ``conf_mat[i, j]`` (int64) the number of positions where ``actual``
    is ``order[i]`` and ``pred`` is ``order[j]``.

    Examples
    --------
    >>> import numpy as np
    >>> m, order = confusion_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]))
    >>> m.eval(mode='py'), order.eval(mode='py')
    (array([[1, 0],
           [1, 1]]), array([0, 1]))
    """
    from ..ops.unique import unique
    actual, pred = as_tensor_variable(actual), as_tensor_variable(pred)
    if actual.ndim != 1 or pred.ndim != 1:
        raise ValueError(f"confusion_matrix: actual and pred must be vectors, got "
                         f"{actual.ndim} and {pred.ndim} dimensions")
    order = unique(concatenate([actual, pred]))
    eq = SCALAR_OPS["eq"]
    one_hot_a = elemwise(eq, actual.dimshuffle(0, "x"), order.dimshuffle("x", 0)).astype("int64")
    one_hot_p = elemwise(eq, pred.dimshuffle(0, "x"), order.dimshuffle("x", 0)).astype("int64")
    return [dot(one_hot_a.T, one_hot_p), order]
