"""Layers that transform their input elementwise or by a user function:
``NonlinearityLayer``, ``BiasLayer``, ``ScaleLayer``, ``standardize``,
``ExpressionLayer``, ``InverseLayer``, ``ParametricRectifierLayer``,
``prelu``, ``RandomizedRectifierLayer`` and ``rrelu``; the spatial
transformers (``TransformerLayer``, ``TPSTransformerLayer``) live in
``transform.py`` and are exported here too, where Lasagne has them."""
import numpy as np

from .. import init
from .. import nonlinearities
from .. import tensor as T
from ..configdefaults import config
from ..utils import floatX
from ..gradient import grad
from ..random import get_rng
from .base import Layer, MergeLayer, _layer_label, _nonlinearity
from .transform import TransformerLayer, TPSTransformerLayer

__all__ = ["NonlinearityLayer", "BiasLayer", "ScaleLayer", "standardize",
           "ExpressionLayer", "InverseLayer", "ParametricRectifierLayer", "prelu",
           "RandomizedRectifierLayer", "rrelu", "TransformerLayer", "TPSTransformerLayer"]


def _shared_axes(layer, shared_axes, ndim):
    """Normalise a ``shared_axes`` argument to a tuple of axes."""
    if shared_axes == "auto":
        # share over the batch axis and all spatial axes: one value per channel
        return (0,) + tuple(range(2, ndim))
    if shared_axes == "all":
        return tuple(range(ndim))
    if isinstance(shared_axes, int):
        return (shared_axes,)
    return tuple(shared_axes)


def _per_axis_shape(layer, shared_axes, what):
    shape = [size for axis, size in enumerate(layer.input_shape) if axis not in shared_axes]
    if any(size is None for size in shape):
        raise ValueError(f"{_layer_label(layer)} needs specified input sizes for all axes "
                         f"that {what} are not shared over; got input shape "
                         f"{layer.input_shape} with shared_axes={shared_axes}")
    return tuple(shape)


def _broadcast_pattern(shared_axes, ndim):
    """Dimshuffle pattern placing a parameter's axes among the input's."""
    param_axes = iter(range(ndim - len(shared_axes)))
    return ["x" if axis in shared_axes else next(param_axes) for axis in range(ndim)]


class NonlinearityLayer(Layer):
    """Apply a nonlinearity elementwise.

    Parameters
    ----------
    incoming : Layer or tuple
    nonlinearity : callable or None
        Default ``rectify``; None means the identity.

    Examples
    --------
    >>> from symnet.layers import NonlinearityLayer
    >>> NonlinearityLayer((None, 4)).output_shape
    (None, 4)
    """

    def __init__(self, incoming, nonlinearity=nonlinearities.rectify, **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = _nonlinearity(self, nonlinearity)

    def get_output_for(self, input, **kwargs):
        return self.nonlinearity(input)


class BiasLayer(Layer):
    """Add a learned bias, shared over ``shared_axes``.

    Parameters
    ----------
    incoming : Layer or tuple
    b : parameter spec or None
        Shape: the input shape without the shared axes.  None means no bias.
    shared_axes : 'auto', int or tuple of int
        'auto' shares over axis 0 and axes 2 and up (one bias per channel).

    Examples
    --------
    >>> from symnet.layers import BiasLayer
    >>> BiasLayer((None, 3, 4, 4)).b.get_value().shape
    (3,)
    """

    def __init__(self, incoming, b=init.Constant(0), shared_axes="auto", **kwargs):
        super().__init__(incoming, **kwargs)
        self.shared_axes = _shared_axes(self, shared_axes, len(self.input_shape))
        if b is None:
            self.b = None
        else:
            shape = _per_axis_shape(self, self.shared_axes, "biases")
            self.b = self.add_param(b, shape, "b", regularizable=False)

    def get_output_for(self, input, **kwargs):
        if self.b is None:
            return input
        return input + self.b.dimshuffle(*_broadcast_pattern(self.shared_axes, input.ndim))


class ScaleLayer(Layer):
    """Multiply by learned scales, shared over ``shared_axes``.

    Parameters
    ----------
    incoming : Layer or tuple
    scales : parameter spec
        Shape: the input shape without the shared axes.
    shared_axes : 'auto', int or tuple of int

    Examples
    --------
    >>> from symnet.layers import ScaleLayer
    >>> ScaleLayer((None, 3, 4, 4)).scales.get_value()
    array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, incoming, scales=init.Constant(1), shared_axes="auto", **kwargs):
        super().__init__(incoming, **kwargs)
        self.shared_axes = _shared_axes(self, shared_axes, len(self.input_shape))
        shape = _per_axis_shape(self, self.shared_axes, "scales")
        self.scales = self.add_param(scales, shape, "scales", regularizable=False)

    def get_output_for(self, input, **kwargs):
        return input * self.scales.dimshuffle(
            *_broadcast_pattern(self.shared_axes, input.ndim))


def standardize(layer, offset, scale, shared_axes="auto"):
    """Subtract ``offset`` and divide by ``scale`` with two fixed layers.

    Returns a :class:`ScaleLayer` on a :class:`BiasLayer` whose parameters
    are neither trainable nor regularizable (so ``set_all_param_values``
    still saves and restores them).

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.layers import standardize, get_all_params
    >>> l = standardize((None, 2), np.array([1., 2.]), np.array([2., 4.]), shared_axes=0)
    >>> len(get_all_params(l)), len(get_all_params(l, trainable=True))
    (2, 0)
    """
    layer = BiasLayer(layer, -np.asarray(offset), shared_axes)
    layer.params[layer.b].discard("trainable")
    layer = ScaleLayer(layer, floatX(1.) / np.asarray(scale), shared_axes)
    layer.params[layer.scales].discard("trainable")
    return layer


class ExpressionLayer(Layer):
    """Apply any function of one expression, e.g. ``lambda X: X.mean(-1)``.

    Parameters
    ----------
    incoming : Layer or tuple
    function : callable
        Maps the input expression to the output expression.
    output_shape : None, tuple, callable or 'auto'
        None: same as the input; a tuple: that shape; a callable: maps the
        input shape to the output shape; 'auto': found by running
        ``function`` on zeros of the input shape (None sizes become 0, and
        output sizes of 0 become None).

    Examples
    --------
    >>> from symnet.layers import ExpressionLayer
    >>> l = ExpressionLayer((2, 3, 4), lambda X: X.mean(-1), output_shape='auto')
    >>> l.output_shape
    (2, 3)
    """

    def __init__(self, incoming, function, output_shape=None, **kwargs):
        super().__init__(incoming, **kwargs)
        self.function = function
        if output_shape is None or isinstance(output_shape, str) and output_shape == "auto":
            self._output_shape = output_shape
        elif callable(output_shape):
            self.get_output_shape_for = output_shape
        else:
            self._output_shape = tuple(output_shape)

    def get_output_shape_for(self, input_shape):
        if self._output_shape is None:
            return input_shape
        if isinstance(self._output_shape, str):
            sizes = [0 if s is None else s for s in input_shape]
            x = T.zeros(sizes, dtype=config.floatX)
            from ..compile.function import function
            shape = function([], self.function(x).shape, mode="py")()
            return tuple(int(s) if s else None for s in shape)
        return self._output_shape

    def get_output_for(self, input, **kwargs):
        return self.function(input)


class ParametricRectifierLayer(Layer):
    """Leaky rectifier with learned leakiness ``alpha`` (PReLU).

    Parameters
    ----------
    incoming : Layer or tuple
    alpha : parameter spec
        Shape: the input shape without the shared axes.
    shared_axes : 'auto', 'all', int or tuple of int

    Examples
    --------
    >>> from symnet.layers import ParametricRectifierLayer
    >>> ParametricRectifierLayer((None, 3, 5)).alpha.get_value()
    array([0.25, 0.25, 0.25], dtype=float32)
    """

    def __init__(self, incoming, alpha=init.Constant(0.25), shared_axes="auto", **kwargs):
        super().__init__(incoming, **kwargs)
        self.shared_axes = _shared_axes(self, shared_axes, len(self.input_shape))
        shape = _per_axis_shape(self, self.shared_axes, "alpha")
        self.alpha = self.add_param(alpha, shape, name="alpha", regularizable=False)

    def get_output_for(self, input, **kwargs):
        alpha = self.alpha.dimshuffle(*_broadcast_pattern(self.shared_axes, input.ndim))
        return T.maximum(input, 0) + alpha * T.minimum(input, 0)


def prelu(layer, **kwargs):
    """Replace ``layer``'s nonlinearity by a learned leaky rectifier.

    The layer's own nonlinearity becomes the identity and a
    :class:`ParametricRectifierLayer` (with ``kwargs``) is stacked on it.

    Examples
    --------
    >>> from symnet.layers import DenseLayer, prelu
    >>> l = prelu(DenseLayer((None, 4), 3))
    >>> type(l).__name__, l.input_layer.nonlinearity.__name__
    ('ParametricRectifierLayer', 'linear')
    """
    if getattr(layer, "nonlinearity", None) is not None:
        layer.nonlinearity = nonlinearities.identity
    return ParametricRectifierLayer(layer, **kwargs)


class InverseLayer(MergeLayer):
    """The "inverse" of ``layer``: its input-gradient applied to ``incoming``.

    The output is the gradient of ``layer``'s output with respect to its
    input, with ``incoming`` as the output gradient (backpropagation).  For
    a dense layer without nonlinearity that is ``dot(incoming, W.T)``; for
    other layers it is the transposed linear map, e.g. an upsampling for
    pooling.

    Parameters
    ----------
    incoming : Layer or tuple
        Shaped like ``layer``'s output.
    layer : Layer
        The layer to invert; its output shape is that of ``incoming`` and
        the inverse has its input shape.

    Examples
    --------
    >>> from symnet.layers import InputLayer, DenseLayer, InverseLayer
    >>> l_in = InputLayer((None, 10))
    >>> l1 = DenseLayer(l_in, 5)
    >>> InverseLayer(l1, l1).output_shape
    (None, 10)
    """

    def __init__(self, incoming, layer, **kwargs):
        super().__init__([incoming, layer, layer.input_layer], **kwargs)

    def get_output_shape_for(self, input_shapes):
        return input_shapes[2]

    def get_output_for(self, inputs, **kwargs):
        input, layer_out, layer_in = inputs
        return grad(None, wrt=layer_in, known_grads={layer_out: input})


def _is_numeric(x):
    """A number or numpy array (bounds may also be symbolic, then unchecked)."""
    return isinstance(x, (int, float, np.number, np.ndarray))


def _same_bounds(lower, upper):
    return _is_numeric(lower) and _is_numeric(upper) and bool(np.all(
        np.asarray(lower) == np.asarray(upper)))


class RandomizedRectifierLayer(Layer):
    """Leaky rectifier with random leakiness while training (RReLU).

    While training, each negative slope is drawn uniformly from
    ``[lower, upper]`` (shared over ``shared_axes``); with
    ``deterministic=True`` the slope is the mean ``(lower + upper) / 2``.

    Parameters
    ----------
    incoming : Layer or tuple
    lower, upper : float
        Range of the slopes, ``0 <= lower <= upper``.
    shared_axes : 'auto', 'all', int or tuple of int
        Axes sharing one slope; 'auto' is all but the channel axis 1.

    Examples
    --------
    >>> from symnet.layers import RandomizedRectifierLayer
    >>> RandomizedRectifierLayer((None, 3, 5), lower=0.1, upper=0.2).shared_axes
    (0, 2)
    """

    def __init__(self, incoming, lower=0.3, upper=0.8, shared_axes="auto", **kwargs):
        super().__init__(incoming, **kwargs)
        from ..tensor.shared_randomstreams import RandomStreams
        self._srng = RandomStreams(get_rng().randint(1, 2147462579))
        if _is_numeric(lower) and _is_numeric(upper) and \
                not np.all((0 <= np.asarray(lower)) & (np.asarray(lower) <= upper)):
            raise ValueError(f"{_layer_label(self)}: need 0 <= lower <= upper, got "
                             f"lower={lower}, upper={upper}")
        self.lower = lower
        self.upper = upper
        self.shared_axes = _shared_axes(self, shared_axes, len(self.input_shape))

    def get_output_for(self, input, deterministic=False, **kwargs):
        input = T.as_tensor_variable(input)
        if deterministic or _same_bounds(self.lower, self.upper):
            slope = (self.upper + self.lower) / 2.0
            return T.maximum(input, 0) + slope * T.minimum(input, 0)
        sizes = tuple(1 if axis in self.shared_axes
                      else (s if s is not None else input.shape[axis])
                      for axis, s in enumerate(input.type.shape))
        slope = self._srng.uniform(sizes, low=self.lower, high=self.upper,
                                   dtype=input.dtype)
        slope = T.patternbroadcast(slope, tuple(isinstance(s, int) and s == 1
                                                for s in sizes))
        return T.maximum(input, 0) + slope * T.minimum(input, 0)


def rrelu(layer, **kwargs):
    """Replace ``layer``'s nonlinearity by a randomized leaky rectifier.

    Examples
    --------
    >>> from symnet.layers import DenseLayer, rrelu
    >>> type(rrelu(DenseLayer((None, 4), 3))).__name__
    'RandomizedRectifierLayer'
    """
    if getattr(layer, "nonlinearity", None) is not None:
        layer.nonlinearity = nonlinearities.identity
    return RandomizedRectifierLayer(layer, **kwargs)
