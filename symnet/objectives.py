"""Loss and accuracy expressions for training (Lasagne's ``lasagne.objectives``).

The functions here return *item-wise* expressions (one value per example,
or per element); :func:`aggregate` turns them into a scalar, optionally
weighted.  Targets given as a vector next to a single-column prediction
matrix are aligned to a column, as in Lasagne.

Examples
--------
>>> import numpy as np, symnet, symnet.tensor as T
>>> p, t = T.dmatrix('p'), T.ivector('t')
>>> loss = aggregate(categorical_crossentropy(p, t))
>>> f = symnet.function([p, t], loss, mode='py')
>>> round(float(f(np.array([[.5, .5], [.9, .1]]), np.array([0, 0], 'int32'))), 4)
0.3993
"""
import warnings

import numpy as np

from . import tensor as T
from .configdefaults import config

__all__ = ["binary_crossentropy", "categorical_crossentropy", "squared_error",
           "aggregate", "binary_hinge_loss", "multiclass_hinge_loss",
           "binary_accuracy", "categorical_accuracy", "huber_loss"]


def align_targets(predictions, targets):
    """Make a target vector a column when predictions are one column.

    Lasagne allows ``(N, 1)`` predictions with ``(N,)`` targets; without
    this, broadcasting would silently produce an ``(N, N)`` loss.
    """
    if (getattr(predictions, "broadcastable", None) == (False, True)
            and getattr(targets, "ndim", None) == 1):
        targets = targets.dimshuffle(0, "x")
    return predictions, targets


def _check_ranks(where, predictions, targets):
    """Targets are class indices (one rank less than predictions) or one-hot rows."""
    if targets.ndim not in (predictions.ndim - 1, predictions.ndim):
        raise TypeError(f"{where}: rank mismatch between targets and predictions: targets "
                        f"must have ndim {predictions.ndim} (one-hot) or "
                        f"{predictions.ndim - 1} (class indices) for predictions of ndim "
                        f"{predictions.ndim}, got {targets.ndim}")


def _one_hot(labels, num_classes, dtype):
    """``(N,)`` integer labels -> ``(N, num_classes)`` indicator matrix."""
    classes = T.arange(num_classes).dimshuffle("x", 0)
    return T.cast(T.eq(labels.dimshuffle(0, "x"), classes), dtype)


def binary_crossentropy(predictions, targets):
    """Item-wise ``-(t * log(p) + (1 - t) * log(1 - p))``.

    Parameters
    ----------
    predictions : symbolic tensor
        Probabilities in (0, 1), e.g. a sigmoid output.
    targets : symbolic tensor
        Targets in [0, 1], same shape (or a vector for a one-column matrix).

    Returns
    -------
    symbolic tensor
        The item-wise loss.
    """
    predictions, targets = align_targets(predictions, targets)
    fn = getattr(T.nnet, "binary_crossentropy", None)
    if fn is not None:
        return fn(predictions, targets)
    return -(targets * T.log(predictions) + (1 - targets) * T.log(1 - predictions))


def categorical_crossentropy(predictions, targets):
    """Item-wise ``-sum(t * log(p))`` over classes.

    Parameters
    ----------
    predictions : symbolic matrix
        Rows of class probabilities (e.g. a softmax output).
    targets : symbolic vector of int, or matrix
        Class indices, or one-hot / probability rows like ``predictions``.

    Returns
    -------
    symbolic vector
        One loss per row.
    """
    fn = getattr(T.nnet, "categorical_crossentropy", None)
    if fn is not None:
        return fn(predictions, targets)
    targets = T.as_tensor_variable(targets)
    if targets.ndim == predictions.ndim:
        return -T.sum(targets * T.log(predictions), axis=predictions.ndim - 1)
    if targets.ndim == predictions.ndim - 1:
        picked = predictions[T.arange(predictions.shape[0]), targets]
        return -T.log(picked)
    raise TypeError(f"categorical_crossentropy: targets must have ndim "
                    f"{predictions.ndim} (one-hot) or {predictions.ndim - 1} "
                    f"(class indices), got {targets.ndim}")


def squared_error(a, b):
    """Item-wise squared difference ``(a - b) ** 2``.

    Parameters
    ----------
    a, b : symbolic tensors

    Returns
    -------
    symbolic tensor
    """
    a, b = align_targets(a, b)
    return T.sqr(a - b)


def huber_loss(predictions, targets, delta=1):
    """Item-wise Huber loss: quadratic for ``|d| <= delta``, linear beyond.

    ``0.5 * d**2`` where ``|d| <= delta``, else ``delta * (|d| - delta / 2)``,
    with ``d = targets - predictions``.

    Parameters
    ----------
    predictions, targets : symbolic tensors of the same shape
    delta : scalar, default 1

    Returns
    -------
    symbolic tensor

    Examples
    --------
    >>> import numpy as np, symnet.tensor as T
    >>> p = T.dvector('p')
    >>> huber_loss(p, np.zeros(3)).eval({p: np.array([0.5, -2.0, 3.0])})
    array([0.125, 1.5  , 2.5  ])
    """
    predictions, targets = align_targets(predictions, targets)
    abs_diff = abs(targets - predictions)
    quad = 0.5 * T.sqr(targets - predictions)
    lin = delta * (abs_diff - delta / 2.)
    return T.switch(abs_diff <= delta, quad, lin)


def aggregate(loss, weights=None, mode="mean"):
    """Reduce an item-wise loss to a scalar, optionally weighted.

    Parameters
    ----------
    loss : symbolic tensor
    weights : symbolic tensor, optional
        Multiplied with ``loss`` (broadcasting) before aggregation.
    mode : {'mean', 'sum', 'normalized_sum'}
        ``'normalized_sum'`` divides the weighted sum by ``weights.sum()``
        and requires ``weights``.

    Returns
    -------
    symbolic scalar

    Raises
    ------
    ValueError
        For an unknown ``mode`` or ``'normalized_sum'`` without weights.
    """
    if weights is not None:
        loss = loss * weights
    if mode == "mean":
        return loss.mean()
    if mode == "sum":
        return loss.sum()
    if mode == "normalized_sum":
        if weights is None:
            raise ValueError("aggregate: mode='normalized_sum' divides by the sum of the "
                             "weights, so calls with it require weights; got weights=None")
        return loss.sum() / T.sum(weights)
    raise ValueError(f"aggregate: mode must be 'mean', 'sum' or 'normalized_sum', "
                     f"got {mode!r}")


def binary_hinge_loss(predictions, targets, delta=1, log_odds=None, binary=True):
    """Item-wise hinge loss ``max(0, delta - t * p)`` for two classes.

    Parameters
    ----------
    predictions : symbolic tensor
        Log-odds (``log_odds=True``) or probabilities in (0, 1)
        (``log_odds=False``, converted to log-odds).
    targets : symbolic tensor
        In {0, 1} (``binary=True``, mapped to {-1, 1}) or {-1, 1}.
    delta : float
        The hinge margin.
    log_odds : bool
        Whether predictions are log-odds.  ``None`` warns and assumes True,
        Lasagne's old default.
    binary : bool

    Returns
    -------
    symbolic tensor
    """
    if log_odds is None:
        warnings.warn("binary_hinge_loss: log_odds=None assumes log-odds predictions; "
                      "pass log_odds=True (or False for probabilities) explicitly",
                      FutureWarning, stacklevel=2)
        log_odds = True
    if not log_odds:
        predictions = T.log(predictions / (1 - predictions))
    if binary:
        targets = 2 * targets - 1
    predictions, targets = align_targets(predictions, targets)
    return T.maximum(0, delta - predictions * targets)


def multiclass_hinge_loss(predictions, targets, delta=1):
    """Item-wise ``max(0, max_{j != t} p_j - p_t + delta)``.

    Parameters
    ----------
    predictions : symbolic matrix
        Class scores, one row per example.
    targets : symbolic vector of int, or one-hot matrix
    delta : float
        The hinge margin.

    Returns
    -------
    symbolic vector
    """
    targets = T.as_tensor_variable(targets)
    _check_ranks("multiclass_hinge_loss", predictions, targets)
    if targets.ndim == predictions.ndim - 1:
        targets = _one_hot(targets, predictions.shape[1], predictions.dtype)
    is_target = T.gt(targets, 0)
    corrects = T.sum(T.switch(is_target, predictions, 0), axis=1)
    # the best wrong class: mask the target out with -inf before the max
    rest = T.max(T.switch(is_target, np.asarray(-np.inf, predictions.dtype),
                          predictions), axis=1)
    return T.maximum(0, rest - corrects + delta)


def binary_accuracy(predictions, targets, threshold=0.5):
    """Item-wise 1 where ``predictions >= threshold`` matches ``targets``.

    Parameters
    ----------
    predictions : symbolic tensor
        Probabilities (or scores with a suitable ``threshold``).
    targets : symbolic tensor
        In {0, 1}.
    threshold : float

    Returns
    -------
    symbolic tensor of ``config.floatX``
        1.0 for correct items, 0.0 otherwise (so ``.mean()`` is the
        accuracy in floatX).
    """
    predictions, targets = align_targets(predictions, targets)
    predictions = T.ge(predictions, threshold)
    return T.cast(T.eq(predictions, targets), config.floatX)


def categorical_accuracy(predictions, targets, top_k=1):
    """Item-wise 1 where the target class is among the ``top_k`` predicted.

    Parameters
    ----------
    predictions : symbolic matrix
        Class scores, one row per example.
    targets : symbolic vector of int, or one-hot matrix
    top_k : int
        How many of the highest-scoring classes count as correct.

    Returns
    -------
    symbolic vector of ``config.floatX``

    Examples
    --------
    >>> import numpy as np, symnet, symnet.tensor as T
    >>> p, t = T.dmatrix('p'), T.ivector('t')
    >>> f = symnet.function([p, t], categorical_accuracy(p, t, top_k=2), mode='py')
    >>> f(np.array([[.1, .3, .6], [.1, .3, .6]]), np.array([1, 0], 'int32')).tolist()
    [1.0, 0.0]
    """
    targets = T.as_tensor_variable(targets)
    _check_ranks("categorical_accuracy", predictions, targets)
    if targets.ndim == predictions.ndim:
        targets = T.argmax(targets, axis=-1)
    if top_k == 1:
        hit = T.eq(T.argmax(predictions, axis=-1), targets)
    else:
        top = T.argsort(predictions, axis=-1)[..., -top_k:]
        hit = T.any(T.eq(top, targets.dimshuffle(tuple(range(targets.ndim)) + ("x",))),
                    axis=-1)
    return T.cast(hit, config.floatX)
