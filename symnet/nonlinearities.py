"""Activation functions for layers (Lasagne's ``lasagne.nonlinearities``).

Every nonlinearity is a callable taking a symbolic tensor and returning a
symbolic tensor of the same shape and (for float inputs) the same dtype;
constants are Python scalars, which are weak, so float32 stays float32.
Parametrised families are classes whose instances are the callables
(``LeakyRectify(0.1)``), with ready-made instances for the usual values.
"""
from . import tensor as T

__all__ = ["sigmoid", "softmax", "tanh", "ScaledTanH", "ScaledTanh",
           "rectify", "LeakyRectify", "leaky_rectify", "very_leaky_rectify",
           "elu", "SELU", "selu", "softplus", "linear", "identity"]


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, in (0, 1).

    Parameters
    ----------
    x : symbolic tensor

    Returns
    -------
    symbolic tensor
        The elementwise sigmoid of ``x``.

    Examples
    --------
    >>> import symnet, symnet.tensor as T
    >>> x = T.dvector('x')
    >>> f = symnet.function([x], sigmoid(x), mode='py')
    >>> [round(float(v), 4) for v in f([0.0, 100.0])]
    [0.5, 1.0]
    """
    return T.nnet.sigmoid(x)


def softmax(x):
    """Row-wise softmax ``exp(x) / sum(exp(x), axis=1)`` of a matrix.

    Parameters
    ----------
    x : symbolic matrix
        One row per example.

    Returns
    -------
    symbolic matrix
        Non-negative rows summing to one.
    """
    nnet = T.nnet
    if hasattr(nnet, "softmax"):
        return nnet.softmax(x)
    # the softmax op is written elsewhere; until it lands, a stable composition
    e = T.exp(x - T.max(x, axis=1, keepdims=True))
    return e / T.sum(e, axis=1, keepdims=True)


def tanh(x):
    """Hyperbolic tangent, in (-1, 1).

    Parameters
    ----------
    x : symbolic tensor

    Returns
    -------
    symbolic tensor
    """
    return T.tanh(x)


class ScaledTanH(object):
    """Scaled tanh ``scale_out * tanh(scale_in * x)``.

    Parameters
    ----------
    scale_in : float
        Scale of the input (the slope at zero is ``scale_in * scale_out``).
    scale_out : float
        Scale of the output (the range is ``(-scale_out, scale_out)``).

    Examples
    --------
    LeCun's recommended scaling ``1.7159 * tanh(2x/3)``:

    >>> import symnet, symnet.tensor as T
    >>> x = T.dvector('x')
    >>> f = symnet.function([x], ScaledTanH(2. / 3, 1.7159)(x), mode='py')
    >>> round(float(f([30.0])[0]), 4)
    1.7159
    """

    def __init__(self, scale_in=1, scale_out=1):
        self.scale_in = scale_in
        self.scale_out = scale_out

    def __call__(self, x):
        return T.tanh(x * self.scale_in) * self.scale_out


ScaledTanh = ScaledTanH  # Lasagne exports both spellings


def rectify(x):
    """Rectified linear unit ``max(0, x)``.

    Parameters
    ----------
    x : symbolic tensor

    Returns
    -------
    symbolic tensor

    Examples
    --------
    >>> import symnet, symnet.tensor as T
    >>> x = T.dvector('x')
    >>> f = symnet.function([x], rectify(x), mode='py')
    >>> f([-2.0, 3.0]).tolist()
    [0.0, 3.0]
    """
    relu = getattr(T.nnet, "relu", None)
    if relu is not None:
        return relu(x)
    # 0.5 * (x + |x|) has a well-defined gradient everywhere (0.5 at zero)
    return 0.5 * (x + abs(x))


class LeakyRectify(object):
    """Leaky rectifier ``max(leakiness * x, x)`` (for ``leakiness <= 1``).

    Parameters
    ----------
    leakiness : float
        Slope for negative inputs.

    Examples
    --------
    >>> import symnet, symnet.tensor as T
    >>> x = T.dvector('x')
    >>> f = symnet.function([x], LeakyRectify(0.1)(x), mode='py')
    >>> [round(float(v), 4) for v in f([-2.0, 3.0])]
    [-0.2, 3.0]
    """

    def __init__(self, leakiness=0.01):
        self.leakiness = leakiness

    def __call__(self, x):
        relu = getattr(T.nnet, "relu", None)
        if relu is not None:
            return relu(x, self.leakiness)
        # a*x + b*|x| with a + b = 1 (x > 0) and a - b = leakiness (x < 0)
        a = 0.5 * (1 + self.leakiness)
        b = 0.5 * (1 - self.leakiness)
        return a * x + b * abs(x)


leaky_rectify = LeakyRectify()  # shortcut with the default leakiness 0.01
very_leaky_rectify = LeakyRectify(1. / 3)  # shortcut with leakiness 1/3


def elu(x):
    """Exponential linear unit: ``x`` for ``x > 0``, ``exp(x) - 1`` otherwise.

    Parameters
    ----------
    x : symbolic tensor

    Returns
    -------
    symbolic tensor
    """
    return T.switch(x > 0, x, T.expm1(x))


class SELU(object):
    """Scaled exponential linear unit.

    ``scale * x`` for ``x > 0``, ``scale * scale_neg * (exp(x) - 1)``
    otherwise.  The instance :data:`selu` uses the self-normalising constants
    of Klambauer et al. (2017).

    Parameters
    ----------
    scale : float
        Overall output scale.
    scale_neg : float
        Extra scale of the negative part.
    """

    def __init__(self, scale=1, scale_neg=1):
        self.scale = scale
        self.scale_neg = scale_neg

    def __call__(self, x):
        return self.scale * T.switch(x > 0, x, self.scale_neg * T.expm1(x))


selu = SELU(scale=1.0507009873554804934193349852946,
            scale_neg=1.6732632423543772848170429916717)


def softplus(x):
    """Smooth rectifier ``log(1 + exp(x))``, computed stably.

    Parameters
    ----------
    x : symbolic tensor

    Returns
    -------
    symbolic tensor
    """
    return T.nnet.softplus(x)


def linear(x):
    """The identity: returns ``x`` unchanged.

    Parameters
    ----------
    x : symbolic tensor

    Returns
    -------
    symbolic tensor
        ``x`` itself.
    """
    return x


identity = linear
