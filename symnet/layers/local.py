"""Locally connected layers: convolutions whose weights differ per output position.

:class:`LocallyConnected2DLayer` is Lasagne's layer of that name: like a
``Conv2DLayer`` with ``pad='same'`` and stride 1, but every output pixel
has its own filter, so ``W`` carries the output's spatial shape as two
trailing axes. The output is a sum over filter taps of shifted input
windows times per-position weights (a few elementwise ops per tap, no
special kernel).

Examples
--------
>>> from symnet.layers import InputLayer, LocallyConnected2DLayer
>>> l = LocallyConnected2DLayer(InputLayer((None, 3, 5, 6)), num_filters=4, filter_size=3)
>>> l.output_shape, l.W.get_value().shape
((None, 4, 5, 6), (4, 3, 3, 3, 5, 6))
"""
from .. import init
from .. import nonlinearities
from ..theano_extensions.padding import pad as _pad
from ..utils import as_tuple
from .base import _layer_label, _resolve_incoming
from .conv import BaseConvLayer

__all__ = ["LocallyConnected2DLayer"]


class LocallyConnected2DLayer(BaseConvLayer):
    """2-d convolution with unshared weights over ``(batch, channels, rows, cols)``.

    Parameters
    ----------
    incoming : Layer or tuple
        All sizes but the batch size must be known.
    num_filters : int
    filter_size : int or (int, int)
    stride : 1 or (1, 1)
        Only stride 1 is supported (NotImplementedError otherwise).
    pad : 'same'
        Only 'same' is supported (NotImplementedError otherwise): the
        output has the input's spatial shape.
    untie_biases : bool
    W : parameter spec
        Shape ``(num_filters, channels, filter_rows, filter_cols, rows, cols)``,
        or ``(num_filters, filter_rows, filter_cols, rows, cols)`` when
        ``channelwise``.
    b : parameter spec or None
    nonlinearity : callable or None
    flip_filters : bool
        True flips the filters (a convolution), False does not (a correlation).
    channelwise : bool
        Filter ``k`` sees input channel ``k`` only; ``num_filters`` must
        equal the number of input channels.
    """

    _groups_supported = False

    def __init__(self, incoming, num_filters, filter_size, stride=1, pad="same",
                 untie_biases=False, W=init.GlorotUniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify, flip_filters=True, channelwise=False,
                 **kwargs):
        self.name = kwargs.get("name")
        self.channelwise = channelwise
        input_shape, _ = _resolve_incoming(self, incoming)
        label = _layer_label(self)
        if pad != "same":
            raise NotImplementedError(f"{label}: a LocallyConnected2DLayer requires "
                                      f"pad='same', got pad={pad!r}")
        if as_tuple(stride, 2, int) != (1, 1):
            raise NotImplementedError(f"{label}: a LocallyConnected2DLayer requires "
                                      f"stride=1 / (1, 1), got stride={stride!r}")
        if len(input_shape) != 4:
            raise ValueError(f"{label}: expected a 4-d input (batch, channels, rows, cols), "
                             f"got input shape {input_shape}")
        if any(s is None for s in input_shape[1:]):
            raise ValueError(f"{label}: A LocallyConnected2DLayer requires a fixed input "
                             f"shape (except for the batch size), got {input_shape}")
        if channelwise and num_filters != input_shape[1]:
            raise ValueError(f"{label}: with channelwise=True, num_filters and the number of "
                             f"input channels should match, got num_filters={num_filters} "
                             f"and {input_shape[1]} input channels")
        super().__init__(incoming, num_filters, filter_size, stride, pad, untie_biases, W, b,
                         nonlinearity, flip_filters, n=2, **kwargs)

    def get_W_shape(self):
        """``(num_filters[, channels]) + filter_size + output rows and cols``."""
        channels = () if self.channelwise else (self.input_shape[1],)
        return (self.num_filters,) + channels + self.filter_size + tuple(self.input_shape[2:])

    def convolve(self, input, **kwargs):
        fr, fc = self.filter_size
        rows, cols = self.input_shape[2:]
        # 'same': the output keeps the input's size; tap (a, b) reads input
        # pixel (i + a - fr // 2, j + b - fc // 2), zeros outside the input.
        padded = _pad(input, [(fr // 2, fr - 1 - fr // 2), (fc // 2, fc - 1 - fc // 2)],
                      batch_ndim=2)
        out = None
        for a in range(fr):
            for b in range(fc):
                window = padded[:, :, a:a + rows, b:b + cols]
                wa, wb = (fr - 1 - a, fc - 1 - b) if self.flip_filters else (a, b)
                if self.channelwise:
                    # W[f, a, b, i, j] weighs input channel f
                    term = window * self.W[:, wa, wb].dimshuffle("x", 0, 1, 2)
                else:
                    # W[f, c, a, b, i, j], summed over the input channels c
                    term = (window.dimshuffle(0, "x", 1, 2, 3)
                            * self.W[:, :, wa, wb].dimshuffle("x", 0, 1, 2, 3)).sum(axis=2)
                out = term if out is None else out + term
        return out
