"""Gradient-descent update rules (Lasagne's ``lasagne.updates``).

Each rule takes a loss (or a list of gradients) and a list of shared
parameters and returns an ``OrderedDict`` mapping every shared variable to
its new value expression, ready for ``symnet.function(..., updates=...)``.
Rules with state (momentum velocities, running averages, Adam's step count)
create that state as new shared variables with the parameter's shape, dtype
and broadcastable pattern and include them as keys, in Lasagne's order.

Every update expression has its shared variable's dtype: Python-float
hyper-parameters are weak, and anything stronger (numpy float64 scalars,
float64 symbolic learning rates) is cast back, so float32 and float16
parameters keep their dtype.

Examples
--------
>>> import numpy as np, symnet, symnet.tensor as T
>>> w = symnet.shared(np.float32(3.0), name='w')
>>> upd = sgd(w ** 2, [w], learning_rate=0.25)
>>> f = symnet.function([], w ** 2, updates=upd, mode='py')
>>> _ = f(); float(w.get_value())
1.5
"""
from collections import OrderedDict

import numpy as np

from . import tensor as T
from .compile.sharedvalue import SharedVariable, shared
# `import theano.updates` gives this module: Theano's OrderedUpdates lives there
from .compile.updates import OrderedUpdates  # noqa: F401
from .configdefaults import config
from .gradient import grad as _grad
from .utils import default_norm_axes

__all__ = ["sgd", "apply_momentum", "momentum", "apply_nesterov_momentum",
           "nesterov_momentum", "adagrad", "rmsprop", "adadelta", "adam",
           "adamax", "amsgrad", "norm_constraint", "total_norm_constraint",
           "get_or_compute_grads"]


class NotSharedParamError(ValueError, TypeError):
    """A parameter given to an update rule is not a shared variable:
    Lasagne's ValueError, and a TypeError as API.md wants for a wrong type."""


def get_or_compute_grads(loss_or_grads, params):
    """Gradients of a loss with respect to ``params``, or given gradients.

    Parameters
    ----------
    loss_or_grads : symbolic scalar or list of symbolic tensors
        A scalar loss to differentiate, or the gradients themselves.
    params : list of shared variables

    Returns
    -------
    list of symbolic tensors
        One gradient per parameter.

    Raises
    ------
    ValueError
        If a parameter is not a shared variable, or if the number of given
        gradients differs from the number of parameters.
    """
    bad = [p for p in params if not isinstance(p, SharedVariable)]
    if bad:
        raise NotSharedParamError(
            "params must contain shared variables only; got "
            + ", ".join(f"{p} ({type(p).__name__})" for p in bad)
            + ". If a parameter is an expression of shared variables, collect "
            "them with symnet.utils.collect_shared_vars()")
    if isinstance(loss_or_grads, (list, tuple)):
        if len(loss_or_grads) != len(params):
            raise ValueError(f"got {len(loss_or_grads)} gradients for {len(params)} "
                             f"parameters")
        # a list is returned as is (the very object), as Lasagne does
        return loss_or_grads if isinstance(loss_or_grads, list) else list(loss_or_grads)
    return _grad(loss_or_grads, params)


# -- helpers -------------------------------------------------------------------

def _state_like(param):
    """A zero-filled shared variable with ``param``'s shape, dtype and type."""
    value = param.get_value(borrow=True)
    return shared(np.zeros(value.shape, dtype=value.dtype), shape=param.type.shape)


def _as_dtype(expr, dtype):
    """``expr`` cast to ``dtype`` (strong hyper-parameters may upcast it)."""
    expr = T.as_tensor_variable(expr)
    return expr if expr.dtype == dtype else T.cast(expr, dtype)


def _step_counter():
    # Adam-style step counts are floatX scalars, as in Lasagne
    return shared(np.asarray(0.0, dtype=config.floatX))


# -- plain and momentum SGD ------------------------------------------------------

def sgd(loss_or_grads, params, learning_rate):
    """Stochastic gradient descent: ``param - learning_rate * grad``.

    Parameters
    ----------
    loss_or_grads : symbolic scalar or list of symbolic tensors
    params : list of shared variables
    learning_rate : float or symbolic scalar

    Returns
    -------
    OrderedDict
        ``{param: new_value}``.
    """
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OrderedDict()
    for param, g in zip(params, grads):
        updates[param] = _as_dtype(param - learning_rate * g, param.dtype)
    return updates


def apply_momentum(updates, params=None, momentum=0.9):
    """Add classical momentum to existing updates.

    With ``x = momentum * velocity + updates[param]``, the parameter becomes
    ``x`` and the velocity ``x - param``.

    Parameters
    ----------
    updates : OrderedDict
        Updates to modify (not changed in place; a copy is returned).
    params : list of shared variables, optional
        Which parameters get momentum (default: all keys of ``updates``).
    momentum : float or symbolic scalar

    Returns
    -------
    OrderedDict
        A copy of ``updates`` with momentum and the velocity updates added.
    """
    if params is None:
        params = list(updates.keys())
    updates = OrderedDict(updates)
    for param in params:
        velocity = _state_like(param)
        x = momentum * velocity + updates[param]
        updates[velocity] = _as_dtype(x - param, param.dtype)
        updates[param] = _as_dtype(x, param.dtype)
    return updates


def momentum(loss_or_grads, params, learning_rate, momentum=0.9):
    """SGD with classical momentum (:func:`sgd` then :func:`apply_momentum`).

    Parameters
    ----------
    loss_or_grads : symbolic scalar or list of symbolic tensors
        A loss to differentiate, or the gradients of ``params``.
    params : list of shared variables
    learning_rate : float or symbolic scalar
    momentum : float or symbolic scalar

    Returns
    -------
    OrderedDict
    """
    updates = sgd(loss_or_grads, params, learning_rate)
    return apply_momentum(updates, momentum=momentum)


def apply_nesterov_momentum(updates, params=None, momentum=0.9):
    """Add Nesterov momentum to existing updates.

    With ``x = momentum * velocity + updates[param] - param``, the velocity
    becomes ``x`` and the parameter ``momentum * x + updates[param]``.

    Parameters
    ----------
    updates : OrderedDict
    params : list of shared variables, optional
    momentum : float or symbolic scalar

    Returns
    -------
    OrderedDict
    """
    if params is None:
        params = list(updates.keys())
    updates = OrderedDict(updates)
    for param in params:
        velocity = _state_like(param)
        x = momentum * velocity + updates[param] - param
        updates[velocity] = _as_dtype(x, param.dtype)
        updates[param] = _as_dtype(momentum * x + updates[param], param.dtype)
    return updates


def nesterov_momentum(loss_or_grads, params, learning_rate, momentum=0.9):
    """SGD with Nesterov momentum (:func:`sgd` then
    :func:`apply_nesterov_momentum`).

    Parameters
    ----------
    loss_or_grads : symbolic scalar or list of symbolic tensors
        A loss to differentiate, or the gradients of ``params``.
    params : list of shared variables
    learning_rate : float or symbolic scalar
    momentum : float or symbolic scalar

    Returns
    -------
    OrderedDict
    """
    updates = sgd(loss_or_grads, params, learning_rate)
    return apply_nesterov_momentum(updates, momentum=momentum)


# -- adaptive learning rates ---------------------------------------------------

def adagrad(loss_or_grads, params, learning_rate=1.0, epsilon=1e-6):
    """Adagrad: steps scaled by the root of the summed squared gradients.

    ``accu += grad ** 2``; ``param -= learning_rate * grad / sqrt(accu + epsilon)``.

    Parameters
    ----------
    loss_or_grads : symbolic scalar or list of symbolic tensors
        A loss to differentiate, or the gradients of ``params``.
    params : list of shared variables
    learning_rate : float or symbolic scalar
    epsilon : float
        Keeps the division finite.

    Returns
    -------
    OrderedDict
        Per parameter, the accumulator then the parameter.
    """
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OrderedDict()
    for param, g in zip(params, grads):
        accu = _state_like(param)
        accu_new = accu + g ** 2
        updates[accu] = _as_dtype(accu_new, param.dtype)
        updates[param] = _as_dtype(
            param - learning_rate * g / T.sqrt(accu_new + epsilon), param.dtype)
    return updates


def rmsprop(loss_or_grads, params, learning_rate=1.0, rho=0.9, epsilon=1e-6):
    """RMSProp: steps scaled by a running average of squared gradients.

    ``accu = rho * accu + (1 - rho) * grad ** 2``;
    ``param -= learning_rate * grad / sqrt(accu + epsilon)``.

    Parameters
    ----------
    loss_or_grads : symbolic scalar or list of symbolic tensors
        A loss to differentiate, or the gradients of ``params``.
    params : list of shared variables
    learning_rate : float or symbolic scalar
    rho : float
        Decay of the running average.
    epsilon : float

    Returns
    -------
    OrderedDict
        Per parameter, the accumulator then the parameter.
    """
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OrderedDict()
    for param, g in zip(params, grads):
        accu = _state_like(param)
        accu_new = rho * accu + (1 - rho) * g ** 2
        updates[accu] = _as_dtype(accu_new, param.dtype)
        updates[param] = _as_dtype(
            param - learning_rate * g / T.sqrt(accu_new + epsilon), param.dtype)
    return updates


def adadelta(loss_or_grads, params, learning_rate=1.0, rho=0.95, epsilon=1e-6):
    """Adadelta: RMSProp with a step scaled by the running RMS of past steps.

    Parameters
    ----------
    loss_or_grads : symbolic scalar or list of symbolic tensors
        A loss to differentiate, or the gradients of ``params``.
    params : list of shared variables
    learning_rate : float or symbolic scalar
        Multiplies the step (1.0 in the original method).
    rho : float
        Decay of both running averages.
    epsilon : float

    Returns
    -------
    OrderedDict
        Per parameter: gradient accumulator, parameter, step accumulator.
    """
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OrderedDict()
    for param, g in zip(params, grads):
        accu = _state_like(param)
        delta_accu = _state_like(param)
        accu_new = rho * accu + (1 - rho) * g ** 2
        updates[accu] = _as_dtype(accu_new, param.dtype)
        step = g * T.sqrt(delta_accu + epsilon) / T.sqrt(accu_new + epsilon)
        updates[param] = _as_dtype(param - learning_rate * step, param.dtype)
        delta_new = rho * delta_accu + (1 - rho) * step ** 2
        updates[delta_accu] = _as_dtype(delta_new, param.dtype)
    return updates


def _adam_family(loss_or_grads, params, step_size, moments):
    """The skeleton adam, adamax and amsgrad share.

    ``step_size(t)`` is the bias-corrected learning rate at step ``t``;
    ``moments(param, g, a_t)`` makes the parameter's state and returns
    ``(pairs, step)``: ``(state, new value)`` pairs in update order and the
    step to subtract from ``param``. The step counter ``t`` is updated last.
    """
    grads = get_or_compute_grads(loss_or_grads, params)
    t_prev = _step_counter()
    updates = OrderedDict()
    t = t_prev + 1
    a_t = step_size(t)
    for param, g in zip(params, grads):
        pairs, step = moments(param, g, a_t)
        for state, new in pairs:
            updates[state] = _as_dtype(new, param.dtype)
        updates[param] = _as_dtype(param - step, param.dtype)
    updates[t_prev] = _as_dtype(t, t_prev.dtype)
    return updates


def adam(loss_or_grads, params, learning_rate=0.001, beta1=0.9, beta2=0.999,
         epsilon=1e-8):
    """Adam (Kingma and Ba, 2014) with bias-corrected step size.

    Parameters
    ----------
    loss_or_grads : symbolic scalar or list of symbolic tensors
        A loss to differentiate, or the gradients of ``params``.
    params : list of shared variables
    learning_rate : float or symbolic scalar
    beta1, beta2 : float
        Decay of the first and second moment estimates.
    epsilon : float

    Returns
    -------
    OrderedDict
        Per parameter: first moment, second moment, parameter; then the
        step counter ``t`` (a shared floatX scalar) last.

    Examples
    --------
    >>> import numpy as np, symnet
    >>> w = symnet.shared(np.ones(3, dtype='float32'))
    >>> upd = adam((w ** 2).sum(), [w])
    >>> len(upd), [v.dtype for v in upd.values()]
    (4, ['float32', 'float32', 'float32', 'float32'])
    """
    def moments(param, g, a_t):
        m_prev = _state_like(param)
        v_prev = _state_like(param)
        m_t = beta1 * m_prev + (1 - beta1) * g
        v_t = beta2 * v_prev + (1 - beta2) * g ** 2
        step = a_t * m_t / (T.sqrt(v_t) + epsilon)
        return [(m_prev, m_t), (v_prev, v_t)], step

    return _adam_family(loss_or_grads, params,
                        lambda t: learning_rate * T.sqrt(1 - beta2 ** t) / (1 - beta1 ** t),
                        moments)


def adamax(loss_or_grads, params, learning_rate=0.002, beta1=0.9, beta2=0.999,
           epsilon=1e-8):
    """Adamax: Adam with the infinity norm of past gradients.

    Parameters
    ----------
    loss_or_grads : symbolic scalar or list of symbolic tensors
        A loss to differentiate, or the gradients of ``params``.
    params : list of shared variables
    learning_rate : float or symbolic scalar
    beta1, beta2 : float
        Decay of the first moment and of the infinity norm.
    epsilon : float

    Returns
    -------
    OrderedDict
        Per parameter: first moment, infinity norm, parameter; then ``t``.
    """
    def moments(param, g, a_t):
        m_prev = _state_like(param)
        u_prev = _state_like(param)
        m_t = beta1 * m_prev + (1 - beta1) * g
        u_t = T.maximum(beta2 * u_prev, abs(g))
        step = a_t * m_t / (u_t + epsilon)
        return [(m_prev, m_t), (u_prev, u_t)], step

    return _adam_family(loss_or_grads, params,
                        lambda t: learning_rate / (1 - beta1 ** t), moments)


def amsgrad(loss_or_grads, params, learning_rate=0.001, beta1=0.9, beta2=0.999,
            epsilon=1e-8):
    """AMSGrad: Adam whose second moment never decreases.

    Parameters
    ----------
    loss_or_grads : symbolic scalar or list of symbolic tensors
        A loss to differentiate, or the gradients of ``params``.
    params : list of shared variables
    learning_rate : float or symbolic scalar
    beta1, beta2 : float
    epsilon : float

    Returns
    -------
    OrderedDict
        Per parameter: first moment, second moment, its running maximum,
        parameter; then ``t``.
    """
    def moments(param, g, a_t):
        m_prev = _state_like(param)
        v_prev = _state_like(param)
        v_hat_prev = _state_like(param)
        m_t = beta1 * m_prev + (1 - beta1) * g
        v_t = beta2 * v_prev + (1 - beta2) * g ** 2
        v_hat_t = T.maximum(v_hat_prev, v_t)
        step = a_t * m_t / (T.sqrt(v_hat_t) + epsilon)
        return [(m_prev, m_t), (v_prev, v_t), (v_hat_prev, v_hat_t)], step

    return _adam_family(loss_or_grads, params,
                        lambda t: learning_rate * T.sqrt(1 - beta2 ** t) / (1 - beta1 ** t),
                        moments)


# -- constraints -----------------------------------------------------------------

def norm_constraint(tensor_var, max_norm, norm_axes=None, epsilon=1e-7):
    """Rescale ``tensor_var`` so that its norms along ``norm_axes`` are at
    most ``max_norm``.

    Parameters
    ----------
    tensor_var : symbolic tensor
        Typically an update expression for a weight.
    max_norm : float
    norm_axes : sequence of int, optional
        Axes over which norms are taken.  Default: ``(0,)`` for a matrix
        (a dense ``W``, one norm per output unit) and every axis but the
        first for ndim 3 to 5 (conv filters, one norm per output channel);
        required for other ranks.
    epsilon : float
        Guards the division for zero norms.

    Returns
    -------
    symbolic tensor
        Same shape and dtype as ``tensor_var``.

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> w = T.dmatrix('w')
    >>> f = symnet.function([w], norm_constraint(w, 1.0), mode='py')
    >>> np.round(f(np.array([[3., 0.], [4., .5]])), 3).tolist()
    [[0.6, 0.0], [0.8, 0.5]]
    """
    if norm_axes is not None:
        sum_over = tuple(norm_axes)
    else:
        sum_over = default_norm_axes(tensor_var.ndim, "norm_constraint")
    dtype = tensor_var.dtype
    norms = T.sqrt(T.sum(T.sqr(tensor_var), axis=sum_over, keepdims=True))
    target = T.clip(norms, 0, max_norm)
    return _as_dtype(tensor_var * (target / (epsilon + norms)), dtype)


def total_norm_constraint(tensor_vars, max_norm, epsilon=1e-7, return_norm=False):
    """Rescale a list of tensors so that their joint L2 norm is at most
    ``max_norm`` (gradient clipping by global norm).

    Parameters
    ----------
    tensor_vars : list of symbolic tensors
    max_norm : float
    epsilon : float
    return_norm : bool
        Also return the total norm before rescaling.

    Returns
    -------
    list of symbolic tensors, or (list, symbolic scalar) with ``return_norm``
    """
    norm = T.sqrt(sum(T.sum(T.sqr(t)) for t in tensor_vars))
    dtype = np.result_type(*[t.dtype for t in tensor_vars]).name
    norm = _as_dtype(norm, dtype)
    target = T.clip(norm, 0, max_norm)
    multiplier = target / (epsilon + norm)
    scaled = [_as_dtype(t * multiplier, t.dtype) for t in tensor_vars]
    if return_norm:
        return scaled, norm
    return scaled
