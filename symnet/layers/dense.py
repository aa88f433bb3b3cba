"""Fully-connected layers: ``DenseLayer`` and ``NINLayer``."""
import numpy as np

from .. import init
from .. import nonlinearities
from .. import tensor as T
from .base import Layer, _layer_label, _nonlinearity

__all__ = ["DenseLayer", "NINLayer"]


class DenseLayer(Layer):
    """A fully connected layer: ``nonlinearity(dot(input, W) + b)``.

    Parameters
    ----------
    incoming : Layer or tuple
    num_units : int
        Number of output units.
    W : initializer, array, shared variable or expression
        Weights of shape ``(num_inputs, num_units)``, where ``num_inputs`` is
        the product of the input sizes after the leading axes.
    b : initializer, array, shared variable, expression or None
        Biases of shape ``(num_units,)``; None for no biases.
    nonlinearity : callable or None
        None means the identity.
    num_leading_axes : int
        Axes kept as they are (the batch axis by default); the remaining
        axes are flattened into one. Negative values count from the end.

    Examples
    --------
    >>> from symnet.layers import InputLayer, DenseLayer
    >>> l_in = InputLayer((100, 20))
    >>> l1 = DenseLayer(l_in, num_units=50)
    >>> l1.W.get_value().shape, l1.output_shape
    ((20, 50), (100, 50))
    """

    def __init__(self, incoming, num_units, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, num_leading_axes=1, **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = _nonlinearity(self, nonlinearity)
        if isinstance(num_units, bool) or not isinstance(num_units, (int, np.integer)):
            raise TypeError(f"{_layer_label(self)}: num_units must be an int, got "
                            f"{type(num_units).__name__} {num_units!r}")
        self.num_units = num_units
        ndim = len(self.input_shape)
        if num_leading_axes >= ndim:
            raise ValueError(f"{_layer_label(self)}: got num_leading_axes={num_leading_axes} "
                             f"for a {ndim}-dimensional input {self.input_shape}, leaving "
                             f"no trailing axes for the dot product")
        if num_leading_axes < -ndim:
            raise ValueError(f"{_layer_label(self)}: got num_leading_axes={num_leading_axes} "
                             f"for a {ndim}-dimensional input {self.input_shape}, "
                             f"requesting more trailing axes than there are input dimensions")
        if num_leading_axes < 0:
            num_leading_axes += ndim
        self.num_leading_axes = num_leading_axes
        trailing = self.input_shape[num_leading_axes:]
        if any(s is None for s in trailing):
            raise ValueError(f"{_layer_label(self)} requires a fixed input shape (except for "
                             f"the leading axes). Got {self.input_shape} for "
                             f"num_leading_axes={num_leading_axes}")
        num_inputs = int(np.prod(trailing))
        self.W = self.add_param(W, (num_inputs, num_units), name="W")
        if b is None:
            self.b = None
        else:
            self.b = self.add_param(b, (num_units,), name="b", regularizable=False)

    def get_output_shape_for(self, input_shape):
        return tuple(input_shape[:self.num_leading_axes]) + (self.num_units,)

    def get_output_for(self, input, **kwargs):
        n = self.num_leading_axes
        if input.ndim > n + 1:
            # all trailing axes become the one axis W contracts with
            input = input.flatten(n + 1)
        activation = T.dot(input, self.W)
        if self.b is not None:
            activation = activation + self.b
        return self.nonlinearity(activation)


class NINLayer(Layer):
    """Network-in-network: a dense layer applied across channels at every
    position (a 1x1 convolution).

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, channels, ...)``.
    num_units : int
    untie_biases : bool
        One bias per unit and position instead of per unit.
    W : parameter spec, shape ``(channels, num_units)``
    b : parameter spec or None, shape ``(num_units,)`` (or
        ``(num_units,) + spatial shape`` when untied)
    nonlinearity : callable or None

    Examples
    --------
    >>> from symnet.layers import NINLayer
    >>> NINLayer((None, 3, 5, 5), num_units=8).output_shape
    (None, 8, 5, 5)
    """

    def __init__(self, incoming, num_units, untie_biases=False, W=init.GlorotUniform(),
                 b=init.Constant(0.), nonlinearity=nonlinearities.rectify, **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = _nonlinearity(self, nonlinearity)
        self.num_units = num_units
        self.untie_biases = untie_biases
        num_input_channels = self.input_shape[1]
        if num_input_channels is None:
            raise ValueError(f"{_layer_label(self)} needs a known number of input "
                             f"channels (axis 1), got input shape {self.input_shape}")
        self.W = self.add_param(W, (num_input_channels, num_units), name="W")
        if b is None:
            self.b = None
        else:
            if untie_biases:
                b_shape = (num_units,) + tuple(self.input_shape[2:])
            else:
                b_shape = (num_units,)
            self.b = self.add_param(b, b_shape, name="b", regularizable=False)

    def get_output_shape_for(self, input_shape):
        return (input_shape[0], self.num_units) + tuple(input_shape[2:])

    def get_output_for(self, input, **kwargs):
        # contract the channel axis; the units axis lands last, move it to 1
        out_r = T.tensordot(input, self.W, axes=[[1], [0]])
        remaining = range(1, input.ndim - 1)
        out = out_r.dimshuffle(0, input.ndim - 1, *remaining)
        if self.b is not None:
            if self.untie_biases:
                bias = self.b.dimshuffle("x", *range(self.b.ndim))
            else:
                bias = self.b.dimshuffle("x", 0, *(["x"] * (input.ndim - 2)))
            out = out + bias
        return self.nonlinearity(out)
