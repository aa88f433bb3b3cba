"""Normalization layers: ``LocalResponseNormalization2DLayer``,
``BatchNormLayer`` and the ``batch_norm`` helper.

While training (``deterministic=False``) the layer normalizes with the
statistics of the current batch and, through the ``default_update`` of its
running-average variables, moves ``mean`` and ``inv_std`` towards them on
every call of a compiled function; with ``deterministic=True`` it
normalizes with the running averages instead.
"""
import warnings

from .. import init
from .. import nonlinearities
from .. import tensor as T
from ..compile.sharedvalue import SharedVariable, TensorSharedVariable
from ..graph.basic import Variable
from .base import Layer, _layer_label
from .special import NonlinearityLayer

__all__ = ["LocalResponseNormalization2DLayer", "BatchNormLayer", "batch_norm",
           "StandardizationLayer", "instance_norm", "layer_norm"]


class _Alias(TensorSharedVariable):
    """A second handle on another shared variable's storage.

    Carrying a ``default_update`` on the alias (not on the parameter itself)
    means only graphs built in training mode update the running averages;
    functions that merely read ``mean`` leave it alone.
    """

    def __init__(self, base):
        Variable.__init__(self, base.type, None, None, base.name)
        self._base = base
        self.container = base.container   # the same storage: reads and updates reach base
        self.default_update = None

    def clone(self):
        cp = _Alias(self._base)
        cp.default_update = self.default_update
        return cp

    @property
    def _value(self):
        return self._base._value

    @_value.setter
    def _value(self, value):
        self._base._value = value


class LocalResponseNormalization2DLayer(Layer):
    """Cross-channel local response normalization (Krizhevsky et al., 2012).

    ``out = x / (k + alpha * sum of x**2 over n neighbouring channels) ** beta``
    for input of shape ``(batch, channels, rows, columns)``.

    Parameters
    ----------
    incoming : Layer or tuple
    alpha, k, beta : float
    n : int
        Number of channels summed over (odd).

    Examples
    --------
    >>> from symnet.layers import LocalResponseNormalization2DLayer
    >>> LocalResponseNormalization2DLayer((None, 8, 4, 4)).output_shape
    (None, 8, 4, 4)
    """

    def __init__(self, incoming, alpha=1e-4, k=2, beta=0.75, n=5, **kwargs):
        super().__init__(incoming, **kwargs)
        if n % 2 == 0:
            raise NotImplementedError(f"{_layer_label(self)}: only works with odd n, "
                                      f"got n={n}")
        if len(self.input_shape) != 4:
            raise ValueError(f"{_layer_label(self)} needs 4-dimensional input, got shape "
                             f"{self.input_shape}")
        self.alpha = alpha
        self.k = k
        self.beta = beta
        self.n = n

    def get_output_for(self, input, **kwargs):
        half = self.n // 2
        ch = input.shape[1]
        sqr = T.sqr(input)
        b, _, r, c = (input.shape[i] for i in range(4))
        padded = T.zeros((b, ch + 2 * half, r, c), dtype=input.dtype)
        padded = T.set_subtensor(padded[:, half:half + ch], sqr)
        scale = self.k
        for i in range(self.n):
            scale = scale + self.alpha * padded[:, i:i + ch]
        return input / scale ** self.beta


class BatchNormLayer(Layer):
    """Normalize the input over ``axes``, then scale by ``gamma`` and shift
    by ``beta``.

    Parameters
    ----------
    incoming : Layer or tuple
    axes : 'auto', int or tuple of int
        Axes to normalize over; 'auto' is the batch axis and all axes from 2
        on (per-channel statistics for convolutional inputs).
    epsilon : float
        Added to the variance for stability.
    alpha : float
        Weight of the new batch statistics in the running averages.
    beta, gamma : parameter spec or None
        Shift and scale (None leaves them out).
    mean, inv_std : parameter spec
        Running averages of the mean and of ``1 / sqrt(var + epsilon)``;
        not trainable.

    Examples
    --------
    >>> from symnet.layers import BatchNormLayer
    >>> l = BatchNormLayer((None, 3, 4, 4))
    >>> l.axes, l.mean.get_value().shape
    ((0, 2, 3), (3,))
    """

    def __init__(self, incoming, axes="auto", epsilon=1e-4, alpha=0.1,
                 beta=init.Constant(0), gamma=init.Constant(1), mean=init.Constant(0),
                 inv_std=init.Constant(1), **kwargs):
        super().__init__(incoming, **kwargs)
        if axes == "auto":
            axes = (0,) + tuple(range(2, len(self.input_shape)))
        elif isinstance(axes, int):
            axes = (axes,)
        self.axes = tuple(axes)
        self.epsilon = epsilon
        self.alpha = alpha
        shape = [size for axis, size in enumerate(self.input_shape) if axis not in self.axes]
        if any(size is None for size in shape):
            raise ValueError(f"{_layer_label(self)} needs specified input sizes for all axes "
                             f"not normalized over; got input shape {self.input_shape} "
                             f"with axes={self.axes}")
        if beta is None:
            self.beta = None
        else:
            self.beta = self.add_param(beta, shape, "beta", trainable=True,
                                       regularizable=False)
        if gamma is None:
            self.gamma = None
        else:
            self.gamma = self.add_param(gamma, shape, "gamma", trainable=True,
                                        regularizable=True)
        # tagged batch_norm_stat, as in Lasagne: get_params(batch_norm_stat=True)
        # finds the running statistics
        self.mean = self.add_param(mean, shape, "mean", trainable=False, regularizable=False,
                                   batch_norm_stat=True)
        self.inv_std = self.add_param(inv_std, shape, "inv_std", trainable=False,
                                      regularizable=False, batch_norm_stat=True)

    def get_output_for(self, input, deterministic=False, batch_norm_use_averages=None,
                       batch_norm_update_averages=None, **kwargs):
        input_mean = input.mean(self.axes)
        input_inv_std = T.inv(T.sqrt(input.var(self.axes) + self.epsilon))
        use_averages = deterministic if batch_norm_use_averages is None \
            else batch_norm_use_averages
        if use_averages:
            mean, inv_std = self.mean, self.inv_std
        else:
            mean, inv_std = input_mean, input_inv_std
        update_averages = (not deterministic) if batch_norm_update_averages is None \
            else batch_norm_update_averages
        if update_averages:
            if not (isinstance(self.mean, SharedVariable)
                    and isinstance(self.inv_std, SharedVariable)):
                raise TypeError(f"{_layer_label(self)}: updating the running averages needs "
                                f"mean and inv_std to be shared variables")
            running_mean = _Alias(self.mean)
            running_inv_std = _Alias(self.inv_std)
            running_mean.default_update = ((1 - self.alpha) * running_mean
                                           + self.alpha * input_mean)
            running_inv_std.default_update = ((1 - self.alpha) * running_inv_std
                                              + self.alpha * input_inv_std)
            # make the aliases part of the graph so their updates are found
            mean = mean + 0 * running_mean
            inv_std = inv_std + 0 * running_inv_std
        param_axes = iter(range(input.ndim - len(self.axes)))
        pattern = ["x" if axis in self.axes else next(param_axes) for axis in range(input.ndim)]
        out = (input - mean.dimshuffle(pattern))
        scale = inv_std if self.gamma is None else self.gamma * inv_std
        out = out * scale.dimshuffle(pattern)
        if self.beta is not None:
            out = out + self.beta.dimshuffle(pattern)
        return out


def batch_norm(layer, **kwargs):
    """Insert batch normalization after ``layer``'s linear part.

    ``layer``'s bias is removed (the normalization's ``beta`` replaces it)
    and its nonlinearity is moved after a new :class:`BatchNormLayer`.

    Parameters
    ----------
    layer : Layer
    **kwargs
        Passed to :class:`BatchNormLayer`; a ``name`` defaults to the layer's
        name plus ``'_bn'``.

    Returns
    -------
    Layer
        The :class:`BatchNormLayer`, or a :class:`NonlinearityLayer` on it.

    Examples
    --------
    >>> from symnet.layers import DenseLayer, batch_norm, get_all_params
    >>> l = batch_norm(DenseLayer((None, 10), 5, name='d'))
    >>> type(l).__name__, l.name, [p.name for p in get_all_params(l)]
    ('NonlinearityLayer', 'd_bn_nonlin',
     ['d.W', 'd_bn.beta', 'd_bn.gamma', 'd_bn.mean', 'd_bn.inv_std'])
    """
    return _normalize_layer(layer, BatchNormLayer, kwargs)


def _normalize_layer(layer, norm_class, kwargs):
    # batch_norm's work with another normalization layer class (layers/dnn.py)
    nonlinearity = getattr(layer, "nonlinearity", None)
    if nonlinearity is not None:
        layer.nonlinearity = nonlinearities.identity
    if getattr(layer, "b", None) is not None:
        del layer.params[layer.b]
        layer.b = None
    bn_name = kwargs.pop("name", None) or (
        layer.name + "_bn" if getattr(layer, "name", None) else None)
    layer = norm_class(layer, name=bn_name, **kwargs)
    if nonlinearity is not None:
        layer = NonlinearityLayer(layer, nonlinearity,
                                  name=bn_name + "_nonlin" if bn_name else None)
    return layer


class StandardizationLayer(Layer):
    """Standardize each example to zero mean and unit variance over ``axes``.

    Uses the statistics of the example itself (no running averages), so it
    behaves the same in training and at test time.

    Parameters
    ----------
    incoming : Layer or shape tuple
    axes : 'auto', 'spatial', 'features', int or tuple of int
        ``'spatial'``: every axis after the second (each channel of each
        example separately, as in instance normalization); ``'features'``:
        every axis after the first (layer normalization); ``'auto'``:
        'spatial', or axis 1 for a 2-d input.
    epsilon : float
        Added to the variance before the square root.

    Examples
    --------
    >>> import numpy as np
    >>> from symnet.layers import InputLayer, StandardizationLayer, get_output
    >>> l = StandardizationLayer(InputLayer((None, 3)), axes='features')
    >>> out = get_output(l, np.array([[1., 2., 3.]])).eval()
    >>> np.round(out, 3)
    array([[-1.225,  0.   ,  1.225]])
    """

    def __init__(self, incoming, axes="auto", epsilon=1e-4, **kwargs):
        super().__init__(incoming, **kwargs)
        ndim = len(self.input_shape)
        if axes == "auto":
            # the spatial axes, or the features of an input without any
            axes = tuple(range(2, ndim)) if ndim > 2 else (1,)
        elif axes == "spatial":
            axes = tuple(range(2, ndim))
        elif axes == "features":
            axes = tuple(range(1, ndim))
        elif isinstance(axes, int):
            axes = (axes,)
        elif isinstance(axes, str):
            raise ValueError(f"{_layer_label(self)}: axes must be 'auto', 'spatial', "
                             f"'features', an int or a tuple of ints, got {axes!r}")
        axes = tuple(axes)
        if not axes:
            # Lasagne computes it (every item is its own mean: all zeros)
            warnings.warn(f"{_layer_label(self)}: no axes to standardize over for input "
                          f"shape {self.input_shape} (axes={axes!r}); the output is all "
                          f"zeros", stacklevel=2)
        for a in axes:
            if not -ndim <= a < ndim:
                raise ValueError(f"{_layer_label(self)}: axis {a} is out of range for "
                                 f"input shape {self.input_shape}")
        self.axes = axes
        self.epsilon = epsilon

    def get_output_for(self, input, **kwargs):
        mean = input.mean(self.axes, keepdims=True)
        std = T.sqrt(input.var(self.axes, keepdims=True) + self.epsilon)
        return (input - mean) / std


def _strip_bias_and_nonlinearity(layer):
    # The normalization replaces the bias and must come before the
    # nonlinearity: take both off the layer, return the nonlinearity.
    nonlinearity = getattr(layer, "nonlinearity", None)
    if nonlinearity is not None:
        layer.nonlinearity = nonlinearities.identity
    if getattr(layer, "b", None) is not None:
        del layer.params[layer.b]
        layer.b = None
    return nonlinearity


def instance_norm(layer, learn_scale=True, learn_bias=True, **kwargs):
    """Insert instance normalization after ``layer``'s linear part.

    A :class:`StandardizationLayer` over the spatial axes, then (optionally)
    a per-channel :class:`ScaleLayer` and :class:`BiasLayer`, then the
    layer's nonlinearity (its bias is removed).

    Parameters
    ----------
    layer : Layer
    learn_scale, learn_bias : bool
    **kwargs
        Passed to :class:`StandardizationLayer`; a ``name`` defaults to the
        layer's name plus ``'_in'``.

    Returns
    -------
    Layer
        The last layer added.
    """
    from .special import BiasLayer, ScaleLayer
    nonlinearity = _strip_bias_and_nonlinearity(layer)
    name = kwargs.pop("name", None) or (layer.name + "_in" if getattr(layer, "name", None)
                                        else None)
    layer = StandardizationLayer(layer, axes="auto", name=name, **kwargs)
    if learn_scale:
        layer = ScaleLayer(layer, shared_axes="auto", name=name and name + "_scale")
    if learn_bias:
        layer = BiasLayer(layer, shared_axes="auto", name=name and name + "_bias")
    if nonlinearity is not None:
        layer = NonlinearityLayer(layer, nonlinearity, name=name and name + "_nonlin")
    return layer


def layer_norm(layer, **kwargs):
    """Insert layer normalization after ``layer``'s linear part.

    A :class:`StandardizationLayer` over all axes but the first, then a
    :class:`ScaleLayer` and a :class:`BiasLayer` with one parameter per
    feature (shared over the batch axis), then the layer's nonlinearity
    (its bias is removed).

    Parameters
    ----------
    layer : Layer
    **kwargs
        Passed to :class:`StandardizationLayer`; a ``name`` defaults to the
        layer's name plus ``'_ln'``.

    Returns
    -------
    Layer

    Examples
    --------
    >>> from symnet.layers import DenseLayer, layer_norm, get_all_params
    >>> l = layer_norm(DenseLayer((None, 10), 5, name='d'))
    >>> [(p.name, p.get_value().shape) for p in get_all_params(l)]
    [('d.W', (10, 5)), ('d_ln_scale.scales', (5,)), ('d_ln_bias.b', (5,))]
    """
    from .special import BiasLayer, ScaleLayer
    nonlinearity = _strip_bias_and_nonlinearity(layer)
    name = kwargs.pop("name", None) or (layer.name + "_ln" if getattr(layer, "name", None)
                                        else None)
    layer = StandardizationLayer(layer, axes="features", name=name, **kwargs)
    layer = ScaleLayer(layer, shared_axes=(0,), name=name and name + "_scale")
    layer = BiasLayer(layer, shared_axes=(0,), name=name and name + "_bias")
    if nonlinearity is not None:
        layer = NonlinearityLayer(layer, nonlinearity, name=name and name + "_nonlin")
    return layer
