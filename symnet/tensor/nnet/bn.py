"""``theano.tensor.nnet.bn``: batch normalization as functions of tensors.

``batch_normalization`` applies given statistics; ``batch_normalization_train``
computes them from the batch (and, given running averages, their updated
values); ``batch_normalization_test`` applies stored statistics. They are
compositions of elementwise ops and reductions, so their gradients (of any
order) come from those ops and every backend runs them.

The normalization axes are ``'per-activation'`` (``(0,)``), ``'spatial'``
(``(0, 2, 3, ...)``) or a tuple of ints. Parameters (``gamma``, ``beta``,
means, variances) either have the input's number of dimensions, with size 1
on the normalized axes, or only the other axes (``gamma.ndim == inputs.ndim
- len(axes)``); the statistics returned have the parameters' layout.

Examples
--------
>>> import numpy as np, symnet.tensor as T
>>> from symnet.tensor.nnet import bn
>>> x, g, b = T.matrix('x'), T.vector('g'), T.vector('b')
>>> out, mean, invstd = bn.batch_normalization_train(x, g, b)
>>> xv = np.array([[1., 2.], [3., 6.]], 'float32')
>>> out.eval({x: xv, g: np.ones(2, 'float32'), b: np.zeros(2, 'float32')},
...          mode='py').round(3)
array([[-1., -1.],
       [ 1.,  1.]], dtype=float32)
"""
import numpy as np

from ...configdefaults import config
from ..basic import as_tensor_variable
from ..ops.elemwise import cast
from ..ops.shape import addbroadcast

__all__ = ["batch_normalization", "batch_normalization_train", "batch_normalization_test"]


def batch_normalization(inputs, gamma, beta, mean, std, mode="low_mem"):
    """``(inputs - mean) * (gamma / std) + beta``.

    Parameters
    ----------
    inputs : tensor
    gamma, beta, mean, std : tensors broadcastable against ``inputs``
    mode : {'low_mem', 'high_mem'}
        Theano's choice of implementation (how much its gradient kept in
        memory); the values are the same, and so is symnet's graph.

    Returns
    -------
    tensor of ``inputs``' shape
    """
    if mode not in ("low_mem", "high_mem"):
        raise ValueError(f"batch_normalization: mode must be 'low_mem' or 'high_mem', "
                         f"got {mode!r}")
    inputs, gamma, beta, mean, std = (as_tensor_variable(v)
                                      for v in (inputs, gamma, beta, mean, std))
    return (inputs - mean) * (gamma / std) + beta


def _axes(axes, ndim):
    """The sorted normalization axes and the others."""
    if isinstance(axes, str):
        if axes == "per-activation":
            axes = (0,)
        elif axes == "spatial":
            axes = (0,) + tuple(range(2, ndim))
        else:
            raise ValueError(f"batch normalization: axes must be 'per-activation', "
                             f"'spatial' or a tuple of ints, got {axes!r}")
    elif isinstance(axes, (tuple, list, np.ndarray)):
        axes = tuple(int(a) for a in axes)
    else:
        raise ValueError(f"batch normalization: axes must be 'per-activation', 'spatial' "
                         f"or a tuple of ints, got {axes!r}")
    axes = tuple(sorted(axes))
    if not axes:
        raise ValueError("batch normalization: there should be at least one "
                         "normalization axis, got axes=()")
    if axes[0] < 0 or axes[-1] >= ndim:
        raise ValueError(f"batch normalization: axes should be in [0, {ndim}) for an "
                         f"input of {ndim} dims, got {axes}")
    return axes, tuple(i for i in range(ndim) if i not in axes)


def _epsilon(epsilon):
    # cuDNN's lower bound, kept so a program behaves as on Theano; checked
    # in floatX, where 1e-5 may round below itself
    eps = np.asarray(epsilon, dtype=config.floatX)
    if eps < np.asarray(1e-5, dtype=config.floatX):
        raise ValueError(f"batch normalization: epsilon must be at least 1e-5, got {epsilon}")
    return eps


class _Layout:
    """Moves parameters between their own layout and the input's."""

    def __init__(self, ndim, axes, params_ndim, who):
        self.ndim, self.axes = ndim, axes
        self.keep = tuple(i for i in range(ndim) if i not in axes)
        if params_ndim not in (ndim, len(self.keep)):
            raise ValueError(f"{who}: parameters must have {ndim} dims (size 1 on the "
                             f"normalized axes {axes}) or {len(self.keep)} (only the "
                             f"other axes), got {params_ndim}")
        self.full = params_ndim == ndim

    def spread(self, p, name, who):
        p = as_tensor_variable(p)
        want = self.ndim if self.full else len(self.keep)
        if p.ndim != want:
            raise ValueError(f"{who}: {name} must have {want} dims like gamma, got {p} "
                             f"with {p.ndim}")
        if self.full:
            return addbroadcast(p, *self.axes)
        pattern = ["x"] * self.ndim
        for i, axis in enumerate(self.keep):
            pattern[axis] = i
        return p.dimshuffle(pattern)

    def gather(self, v):
        # a statistic of the input's layout, back in the parameters' layout
        return v if self.full else v.dimshuffle(self.keep)


def batch_normalization_train(inputs, gamma, beta, axes="per-activation", epsilon=1e-4,
                              running_average_factor=0.1, running_mean=None,
                              running_var=None):
    """Normalize ``inputs`` with the mean and variance of the batch.

    Parameters
    ----------
    inputs : tensor
    gamma, beta : tensors
        Scale and shift, in either parameter layout (module docstring).
    axes : 'per-activation', 'spatial' or tuple of int
    epsilon : float
        Added to the variance (at least 1e-5).
    running_average_factor : float
    running_mean, running_var : tensors or None
        Both or neither; given, their updated values are returned too:
        ``running_mean * (1 - f) + mean * f`` and
        ``running_var * (1 - f) + m / (m - 1) * var * f``, ``m`` the number of
        values each statistic is taken over.

    Returns
    -------
    out, mean, invstd[, new_running_mean, new_running_var]
        ``invstd`` is ``1 / sqrt(var + epsilon)``; the statistics have
        ``gamma``'s layout.
    """
    who = "batch_normalization_train"
    inputs = as_tensor_variable(inputs)
    axes, _ = _axes(axes, inputs.ndim)
    gamma = as_tensor_variable(gamma)
    layout = _Layout(inputs.ndim, axes, gamma.ndim, who)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{who}: running_mean and running_var must either both be given "
                         f"or both be None")
    eps = _epsilon(epsilon)
    gamma, beta = layout.spread(gamma, "gamma", who), layout.spread(beta, "beta", who)
    mean = inputs.mean(axis=axes, keepdims=True)
    var = inputs.var(axis=axes, keepdims=True)
    invstd = 1 / (var + eps) ** 0.5
    out = (inputs - mean) * invstd * gamma + beta
    results = [out, mean, invstd]
    if running_mean is not None:
        f = np.asarray(running_average_factor, dtype=config.floatX)
        rm = layout.spread(running_mean, "running_mean", who)
        rv = layout.spread(running_var, "running_var", who)
        m = 1
        for a in axes:
            m = m * inputs.shape[a]
        m = cast(m, inputs.dtype)
        results += [rm * (1 - f) + mean * f, rv * (1 - f) + (m / (m - 1)) * var * f]
    return tuple([out] + [layout.gather(r) for r in results[1:]])


def batch_normalization_test(inputs, gamma, beta, mean, var, axes="per-activation",
                             epsilon=1e-4):
    """Normalize ``inputs`` with given statistics (at inference time):
    ``(inputs - mean) * gamma / sqrt(var + epsilon) + beta``.

    Parameters
    ----------
    inputs : tensor
    gamma, beta, mean, var : tensors, all in one parameter layout
    axes : 'per-activation', 'spatial' or tuple of int
    epsilon : float
        At least 1e-5.

    Returns
    -------
    tensor of ``inputs``' shape
    """
    who = "batch_normalization_test"
    inputs = as_tensor_variable(inputs)
    axes, _ = _axes(axes, inputs.ndim)
    gamma = as_tensor_variable(gamma)
    layout = _Layout(inputs.ndim, axes, gamma.ndim, who)
    eps = _epsilon(epsilon)
    gamma, beta, mean, var = (layout.spread(p, n, who) for p, n in
                              ((gamma, "gamma"), (beta, "beta"), (mean, "mean"),
                               (var, "var")))
    return (inputs - mean) * (gamma / (var + eps) ** 0.5) + beta
