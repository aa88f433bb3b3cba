"""Neural-network ops: softmax, log_softmax, the crossentropies, and the
elementwise activations (relu, elu, selu, softplus, hard_sigmoid).

``Softmax`` and ``LogSoftmax`` are ops (stable: the max is subtracted
first) whose gradients are graphs of ordinary ops, so second derivatives
work.  ``CrossentropyCategorical1Hot`` is ``-log(p[i, y_i])`` and
``SoftmaxCrossentropy`` the fused, stable ``-log_softmax(x)[i, y_i]``
that the stabilization rewrite substitutes for
``categorical_crossentropy(softmax(x), y)``; ``SoftmaxCrossentropyWithGrad``
is that loss and its gradient wrt ``x`` in one op (made by the numba modes'
rewrite).  Activations are plain
compositions of elementwise ops with Theano's exact definitions.
"""
import numpy as np

from ...configdefaults import config
from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType
from .elemwise import SCALAR_OPS, cast, dimshuffle, elemwise

__all__ = ["Softmax", "LogSoftmax", "CrossentropyCategorical1Hot", "SoftmaxCrossentropy",
           "SoftmaxCrossentropyWithGrad",
           "softmax", "log_softmax", "sigmoid", "softplus", "relu", "elu", "selu",
           "hard_sigmoid", "ultra_fast_sigmoid", "categorical_crossentropy",
           "crossentropy_categorical_1hot", "binary_crossentropy",
           "sigmoid_binary_crossentropy", "softmax_crossentropy_with_int_labels",
           "softmax_crossentropy_with_onehot", "crossentropy_softmax_1hot", "logsoftmax"]


def _float_input(x, who):
    x = as_tensor_variable(x)
    if x.dtype.startswith("complex"):
        raise TypeError(f"{who}: complex input {x} is not supported")
    if not x.dtype.startswith("float"):
        x = cast(x, config.floatX)
    return x


def _check_axis(op, x):
    if x.ndim == 0 or not -x.ndim <= op.axis < x.ndim:
        raise ValueError(f"{op}: axis {op.axis} is out of range for {x} with "
                         f"{x.ndim} dimensions")


def _stable_exp(x, axis):
    """``exp(x - max(x))`` and the max, along ``axis`` (numpy)."""
    # initial: a row of length 0 has max -inf (then 0), as in the numba kernel
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)  # rows of -inf: avoid inf - inf
    return np.exp(x - m), m


class Softmax(Op):
    """``exp(x) / sum(exp(x))`` along ``axis`` (the last by default)."""

    __props__ = ("axis",)

    def __init__(self, axis=-1):
        self.axis = int(axis)

    def make_node(self, x):
        x = _float_input(x, "softmax")
        _check_axis(self, x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        e, _ = _stable_exp(inputs[0], self.axis)
        output_storage[0][0] = (e / e.sum(axis=self.axis, keepdims=True)).astype(
            node.outputs[0].dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from .reduction import sum as _sum
        (sm,) = outputs
        (gz,) = output_grads
        # d softmax: J^T g = sm * (g - sum(g * sm))
        return [sm * (gz - _sum(gz * sm, axis=self.axis, keepdims=True))]

    def R_op(self, inputs, eval_points):
        from .reduction import sum as _sum
        if eval_points[0] is None:
            return [None]
        sm = self(inputs[0])
        v = eval_points[0]
        return [sm * (v - _sum(v * sm, axis=self.axis, keepdims=True))]


class LogSoftmax(Op):
    """``x - logsumexp(x)`` along ``axis``, finite for any finite input."""

    __props__ = ("axis",)

    def __init__(self, axis=-1):
        self.axis = int(axis)

    def make_node(self, x):
        x = _float_input(x, "log_softmax")
        _check_axis(self, x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        x = inputs[0]
        e, m = _stable_exp(x, self.axis)
        out = x - m - np.log(e.sum(axis=self.axis, keepdims=True))
        output_storage[0][0] = out.astype(node.outputs[0].dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from .reduction import sum as _sum
        (gz,) = output_grads
        sm = Softmax(self.axis)(inputs[0])
        return [gz - sm * _sum(gz, axis=self.axis, keepdims=True)]


def _check_labels(who, x, y):
    """``x`` is a (batch, classes) matrix and ``y`` an int vector of labels."""
    if x.ndim != 2:
        raise TypeError(f"{who}: the distribution {x} must be a matrix (batch, classes), "
                        f"got {x.ndim} dimensions")
    if y.ndim != 1:
        raise TypeError(f"{who}: integer labels {y} must be a vector (one per row of "
                        f"{x}), got {y.ndim} dimensions (shape {y.type.shape})")
    if not y.dtype.startswith(("int", "uint")):
        raise TypeError(f"{who}: labels {y} must have an integer dtype, got {y.dtype}")
    n, m = x.type.shape[0], y.type.shape[0]
    if n is not None and m is not None and n != m:
        raise ValueError(f"{who}: {x} of shape {x.type.shape} has {n} rows but the "
                         f"labels {y} of shape {y.type.shape} have {m} entries")


def _label_check_runtime(op, x, y):
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{op}: distribution of shape {x.shape} and labels of shape "
                         f"{y.shape} differ in batch size")
    if y.size and (y.min() < 0 or y.max() >= x.shape[1]):
        raise ValueError(f"{op}: labels must be in [0, {x.shape[1]}), got values in "
                         f"[{y.min()}, {y.max()}]")


class CrossentropyCategorical1Hot(Op):
    """``-log(p[i, y_i])`` per row of the probability matrix ``p``."""

    def make_node(self, p, y):
        p = _float_input(p, "crossentropy_categorical_1hot")
        y = as_tensor_variable(y)
        _check_labels(str(self), p, y)
        return Apply(self, [p, y], [TensorType(p.dtype, shape=p.type.shape[:1])()])

    def perform(self, node, inputs, output_storage):
        p, y = inputs
        _label_check_runtime(self, p, y)
        with np.errstate(divide="ignore"):
            out = -np.log(p[np.arange(p.shape[0]), y])
        output_storage[0][0] = out.astype(node.outputs[0].dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0][:1]]

    def L_op(self, inputs, outputs, output_grads):
        from .advanced import ARR, AdvancedIncSubtensor, AdvancedSubtensor
        from .shape import arange, shape_i, zeros_like
        p, y = inputs
        (gz,) = output_grads
        rows = arange(shape_i(p, 0), dtype="int64")
        desc = ((ARR,), (ARR,))
        picked = AdvancedSubtensor(desc)(p, rows, y)
        # the only nonzero of row i is at column y_i: -g_i / p[i, y_i]
        gp = AdvancedIncSubtensor(desc)(zeros_like(p), -gz / picked, rows, y)
        return [gp, None]


class SoftmaxCrossentropy(Op):
    """``-log_softmax(x)[i, y_i]`` per row: the fused, stable crossentropy of
    the softmax of logits ``x`` against integer labels ``y``.  Its gradient
    is ``(softmax(x) - onehot(y)) * g``."""

    def make_node(self, x, y):
        x = _float_input(x, "softmax_crossentropy_with_int_labels")
        y = as_tensor_variable(y)
        _check_labels(str(self), x, y)
        return Apply(self, [x, y], [TensorType(x.dtype, shape=x.type.shape[:1])()])

    def perform(self, node, inputs, output_storage):
        x, y = inputs
        _label_check_runtime(self, x, y)
        e, m = _stable_exp(x, 1)
        # log(sum(exp(x - m))) - (x_y - m): never forms the large lse itself
        out = np.log(e.sum(axis=1)) - (x[np.arange(x.shape[0]), y] - m[:, 0])
        output_storage[0][0] = out.astype(node.outputs[0].dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0][:1]]

    def L_op(self, inputs, outputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        sm = Softmax(-1)(x)
        onehot = _one_hot_like(y, x)
        return [(sm - onehot) * dimshuffle(gz, (0, "x")), None]



class SoftmaxCrossentropyWithGrad(Op):
    """``(nll, dx)`` of logits ``x`` (batch, classes) and integer labels
    ``y`` in one pass over ``x``: ``nll`` is ``SoftmaxCrossentropy(x, y)``
    and ``dx = (softmax(x) - onehot(y)) * gz`` its gradient for the output
    gradient ``gz`` (a vector, one per row, or a scalar for every row).

    Only the numba modes' rewrite ``local_softmax_crossentropy_fuse`` makes
    it (from ``SoftmaxCrossentropy`` and the gradient graph the
    stabilization rewrite builds), so the softmax is computed once per step.
    Its gradient is a graph of ordinary ops (second derivatives work)."""

    def make_node(self, x, y, gz):
        x = _float_input(x, "softmax_crossentropy_with_grad")
        y, gz = as_tensor_variable(y), as_tensor_variable(gz)
        _check_labels(str(self), x, y)
        if gz.ndim > 1 or gz.dtype != x.dtype:
            raise TypeError(f"{self}: the output gradient {gz} must be a scalar or a vector "
                            f"of {x.dtype} (one per row of {x}), got {gz.ndim} dimensions "
                            f"of {gz.dtype}")
        return Apply(self, [x, y, gz], [TensorType(x.dtype, shape=x.type.shape[:1])(),
                                        x.type()])

    def perform(self, node, inputs, output_storage):
        x, y, gz = inputs
        _label_check_runtime(self, x, y)
        if gz.ndim == 1 and gz.shape[0] != x.shape[0]:
            raise ValueError(f"{self}: output gradient of shape {gz.shape} for logits of "
                             f"shape {x.shape}: one entry per row expected")
        e, m = _stable_exp(x, 1)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(x.shape[0])
        nll = np.log(s[:, 0]) - (x[rows, y] - m[:, 0])
        dx = e / s
        dx[rows, y] -= 1
        dx *= gz[:, None] if gz.ndim else gz
        dt = node.outputs[0].dtype
        output_storage[0][0] = nll.astype(dt, copy=False)
        output_storage[1][0] = dx.astype(dt, copy=False)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0][:1], input_shapes[0]]

    def L_op(self, inputs, outputs, output_grads):
        from .reduction import sum as _sum
        x, y, gz = inputs
        g_nll, g_dx = output_grads
        sm = Softmax(-1)(x)
        diff = sm - _one_hot_like(y, x)
        gzb = dimshuffle(gz, (0, "x")) if gz.ndim else gz
        # dx is linear in gz and softmax(x) * gz in x: Softmax's J^T applied to g_dx * gz
        h = g_dx * gzb
        gx = diff * dimshuffle(g_nll, (0, "x")) + sm * (h - _sum(h * sm, axis=1, keepdims=True))
        ggz = _sum(diff * g_dx, axis=1) if gz.ndim else _sum(diff * g_dx)
        return [gx, None, ggz]

def _one_hot_like(y, x):
    """One-hot rows of ``y`` with ``x``'s number of columns and dtype."""
    from .shape import arange, shape_i
    cols = arange(shape_i(x, 1), dtype="int64")
    hit = elemwise(SCALAR_OPS["eq"], dimshuffle(y, (0, "x")), dimshuffle(cols, ("x", 0)))
    return cast(hit, x.dtype)


# -- public functions ------------------------------------------------------------------------

def _theano_rows(x, axis):
    # Theano 1.0's softmax has no axis: it works on rows, and a vector is
    # taken as one row, so softmax(vector) is a (1, n) matrix. An explicit
    # axis keeps the input's shape.
    if axis is not None:
        return x, axis
    x = as_tensor_variable(x)
    return (dimshuffle(x, ("x", 0)) if x.ndim == 1 else x), -1


def softmax(x, axis=None):
    """The softmax of ``x`` along ``axis`` (the last), computed stably.

    Without ``axis`` a vector is taken as one row, as in Theano 1.0: the
    result is a (1, n) matrix.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.matrix('x')
    >>> out = T.nnet.softmax(x).eval({x: np.array([[0., 0.], [1000., 0.]], 'float32')})
    >>> out.tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    >>> T.nnet.softmax(T.vector('v')).type.shape
    (1, None)
    """
    x, axis = _theano_rows(x, axis)
    return Softmax(axis)(x)


def log_softmax(x, axis=None):
    """``log(softmax(x))`` along ``axis``, finite for large logits (a vector
    without ``axis`` is one row, as for :func:`softmax`).

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.vector('x')
    >>> T.nnet.log_softmax(x).eval({x: np.array([1000., 0.], 'float32')}).tolist()
    [[0.0, -1000.0]]
    """
    x, axis = _theano_rows(x, axis)
    return LogSoftmax(axis)(x)


logsoftmax = log_softmax  # Theano 1.0's spelling


def sigmoid(x):
    """``1 / (1 + exp(-x))`` elementwise."""
    return elemwise(SCALAR_OPS["sigmoid"], x)


def ultra_fast_sigmoid(x):
    """Theano's fast sigmoid approximation; here the exact sigmoid."""
    return sigmoid(x)


def softplus(x):
    """``log(1 + exp(x))``, computed stably."""
    return elemwise(SCALAR_OPS["softplus"], x)


def _abs(x):
    return elemwise(SCALAR_OPS["abs"], x)


def relu(x, alpha=0):
    """Rectified linear unit, ``max(x, alpha * x)``, as Theano defines it:
    ``0.5 * (x + abs(x))`` for ``alpha == 0`` (so the derivative at 0 is
    0.5), else ``0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * abs(x)``.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x = T.vector('x')
    >>> T.nnet.relu(x, 0.1).eval({x: np.array([-2., 3.], 'float32')}).round(3)
    array([-0.2,  3. ], dtype=float32)
    """
    if not hasattr(x, "owner") and not hasattr(alpha, "owner"):
        # Theano's relu is plain arithmetic, so numpy in gives numpy out
        # (Lasagne's tests use lasagne.nonlinearities.rectify as a reference).
        x = np.asarray(x)
        if np.all(alpha == 0):
            return 0.5 * (x + np.abs(x))
        return 0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * np.abs(x)
    if isinstance(alpha, (int, float)) and alpha == 0:
        return 0.5 * (x + _abs(x))
    if isinstance(alpha, (int, float)):
        f1, f2 = 0.5 * (1 + alpha), 0.5 * (1 - alpha)
    else:
        alpha = as_tensor_variable(alpha)
        f1, f2 = 0.5 * (1 + alpha), 0.5 * (1 - alpha)
    return f1 * x + f2 * _abs(x)


def elu(x, alpha=1):
    """Exponential linear unit: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    x = as_tensor_variable(x)
    neg = alpha * elemwise(SCALAR_OPS["expm1"], x)
    return elemwise(SCALAR_OPS["switch"], elemwise(SCALAR_OPS["gt"], x, 0), x, neg)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    """Scaled ELU of Klambauer et al. (2017): ``scale * elu(x, alpha)``."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``."""
    return elemwise(SCALAR_OPS["clip"], 0.2 * as_tensor_variable(x) + 0.5, 0, 1)


def crossentropy_categorical_1hot(coding_dist, true_one_of_n):
    """``-log(coding_dist[i, true_one_of_n[i]])`` for each row ``i``."""
    return CrossentropyCategorical1Hot()(coding_dist, true_one_of_n)


def categorical_crossentropy(coding_dist, true_dist):
    """Crossentropy between predicted distributions and targets, per row.

    ``true_dist`` is either an integer vector of class labels (one per row
    of the matrix ``coding_dist``) or a distribution of the same shape as
    ``coding_dist`` (e.g. one-hot), for which ``-sum(t * log(p), axis=-1)``.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> p, y = T.matrix('p'), T.ivector('y')
    >>> ce = T.nnet.categorical_crossentropy(p, y)
    >>> ce.eval({p: np.array([[0.5, 0.5], [0.25, 0.75]], 'float32'),
    ...          y: np.array([0, 1], 'int32')}).round(4)
    array([0.6931, 0.2877], dtype=float32)
    """
    from .reduction import sum as _sum
    coding_dist = as_tensor_variable(coding_dist)
    true_dist = as_tensor_variable(true_dist)
    if true_dist.ndim == coding_dist.ndim:
        if true_dist.type.shape != coding_dist.type.shape:
            from .elemwise import broadcast_shapes
            broadcast_shapes([coding_dist.type.shape, true_dist.type.shape],
                             [f"coding_dist {coding_dist}", f"true_dist {true_dist}"])
        log_p = elemwise(SCALAR_OPS["log"], coding_dist)
        return -_sum(true_dist * log_p, axis=coding_dist.ndim - 1)
    if true_dist.ndim == coding_dist.ndim - 1:
        return crossentropy_categorical_1hot(coding_dist, true_dist)
    raise TypeError(
        f"categorical_crossentropy: true_dist {true_dist} must have the same number of "
        f"dimensions as coding_dist {coding_dist} ({coding_dist.ndim}) or one less "
        f"(integer labels), got {true_dist.ndim}")


def softmax_crossentropy_with_int_labels(x, y):
    """``categorical_crossentropy(softmax(x), y)`` for logits ``x`` (batch,
    classes) and integer labels ``y``, fused and stable for any logits.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> x, y = T.matrix('x'), T.lvector('y')
    >>> ce = T.nnet.softmax_crossentropy_with_int_labels(x, y)
    >>> ce.eval({x: np.array([[1000., 0.]], 'float32'), y: np.array([1])}).tolist()
    [1000.0]
    """
    return SoftmaxCrossentropy()(x, y)


def crossentropy_softmax_1hot(x, y_idx):
    """Theano's pair ``(nll, softmax(x))`` for logits ``x`` and int labels,
    with ``nll = softmax_crossentropy_with_int_labels(x, y_idx)``."""
    return softmax_crossentropy_with_int_labels(x, y_idx), softmax(x)


def softmax_crossentropy_with_onehot(x, t):
    """``categorical_crossentropy(softmax(x), t)`` for logits ``x`` and target
    distributions ``t`` of the same shape, stable: ``-sum(t * log_softmax(x))``."""
    from .reduction import sum as _sum
    x = as_tensor_variable(x)
    return -_sum(t * log_softmax(x, axis=-1), axis=-1)


def binary_crossentropy(output, target):
    """``-(target * log(output) + (1 - target) * log(1 - output))`` elementwise.

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> o = T.vector('o')
    >>> T.nnet.binary_crossentropy(o, 1.0).eval({o: np.array([0.5], 'float32')}).round(4)
    array([0.6931], dtype=float32)
    """
    log = SCALAR_OPS["log"]
    output = as_tensor_variable(output)
    logits = _logits_of_sigmoid(output)
    if logits is not None:
        # Of sigmoid(x): the stable form in x, so that the gradient too is
        # exact (sigmoid(x) - target) at any logits; through log(sigmoid(x))
        # it would be 0/0 at |x| ~ 800 (Theano's rewrites give the same).
        return sigmoid_binary_crossentropy(logits, target)
    return -(target * elemwise(log, output) + (1 - target) * elemwise(log, 1 - output))


def _logits_of_sigmoid(output):
    """``x`` rearranged as ``output`` is, when ``output`` is ``sigmoid(x)``
    seen through reshapes and dimshuffles (``sigmoid(x).flatten()``, a
    network's output reshaped to the targets), else None.  The walk is a
    loop: a chain of reshapes is no recursion."""
    from .elemwise import DimShuffle
    from .shape import Reshape
    chain, v = [], output
    while v.owner is not None and isinstance(v.owner.op, (Reshape, DimShuffle)):
        chain.append(v.owner)
        v = v.owner.inputs[0]
    node = v.owner
    if node is None or getattr(getattr(node.op, "scalar_op", None), "name", None) != "sigmoid":
        return None
    x = node.inputs[0]
    for step in reversed(chain):
        x = step.clone_with_new_inputs([x] + step.inputs[1:]).outputs[0]
    return x


def sigmoid_binary_crossentropy(logits, target):
    """``binary_crossentropy(sigmoid(logits), target)``, stable for any logits:
    ``relu(x) - x * t + softplus(-abs(x))`` (derivative ``sigmoid(x) - t``
    everywhere, including at 0)."""
    x = as_tensor_variable(logits)
    return relu(x) - x * target + softplus(-_abs(x))
