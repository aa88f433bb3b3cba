"""Layers adding noise while training: ``DropoutLayer`` (and its shortcuts
``dropout``, ``dropout_channels``, ``spatial_dropout``,
``dropout_locations``) and ``GaussianNoiseLayer``.

Both draw from a random stream seeded from :func:`symnet.random.get_rng`,
so seeding that generator makes networks reproducible; the stream advances
through the updates the compiled function applies.  With
``deterministic=True`` they pass their input through unchanged.
"""
from .. import tensor as T
from ..graph.basic import Variable
from ..random import get_rng
from .base import Layer, _layer_label

__all__ = ["DropoutLayer", "dropout", "dropout_channels", "spatial_dropout",
           "dropout_locations", "GaussianNoiseLayer"]


def _random_streams():
    from ..tensor.shared_randomstreams import RandomStreams
    # Lasagne's seed range, so the same generator state gives the same seed
    return RandomStreams(get_rng().randint(1, 2147462579))


def _sizes(input):
    """The input's shape as a tuple: ints where static, scalars otherwise."""
    return tuple(s if s is not None else input.shape[i]
                 for i, s in enumerate(input.type.shape))


class DropoutLayer(Layer):
    """Set input entries to zero with probability ``p`` while training.

    Parameters
    ----------
    incoming : Layer or tuple
    p : float or scalar expression
        Probability of dropping an entry.
    rescale : bool
        Divide the kept entries by ``1 - p`` so the expected value is kept
        (the output of an integer input is then a float, as in numpy).
    shared_axes : tuple of int
        Axes along which one mask value is shared (e.g. ``(2, 3)`` drops
        whole feature maps).

    Examples
    --------
    >>> import numpy as np, symnet
    >>> from symnet.layers import InputLayer, DropoutLayer, get_output
    >>> l = DropoutLayer(InputLayer((2, 3)), p=0.5)
    >>> x = np.ones((2, 3), 'float32')
    >>> get_output(l, x, deterministic=True).eval(mode="py").tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(self, incoming, p=0.5, rescale=True, shared_axes=(), **kwargs):
        super().__init__(incoming, **kwargs)
        if not isinstance(p, Variable) and not 0 <= p < 1:
            raise ValueError(f"{_layer_label(self)}: p must be in [0, 1), got p={p}")
        self._srng = _random_streams()
        self.p = p
        self.rescale = rescale
        self.shared_axes = tuple(shared_axes)

    def get_output_for(self, input, deterministic=False, **kwargs):
        symbolic = isinstance(self.p, Variable)
        if deterministic or (not symbolic and self.p == 0):
            return input
        # a Python float is weak, so float32 inputs stay float32; a symbolic
        # p (e.g. a shared variable annealed during training) is used as is
        retain = 1 - self.p if symbolic else 1.0 - float(self.p)
        if self.rescale:
            input = input / retain
        sizes = _sizes(input)
        if self.shared_axes:
            axes = {a + input.ndim if a < 0 else a for a in self.shared_axes}
            sizes = tuple(1 if a in axes else s for a, s in enumerate(sizes))
        mask = self._srng.binomial(sizes, p=retain, dtype=input.dtype)
        if self.shared_axes:
            mask = T.patternbroadcast(mask, tuple(isinstance(s, int) and s == 1
                                                  for s in sizes))
        return input * mask


dropout = DropoutLayer


def dropout_channels(incoming, *args, **kwargs):
    """Dropout of whole channels: one mask value per (sample, channel).

    Examples
    --------
    >>> dropout_channels((None, 3, 8, 8)).shared_axes
    (2, 3)
    """
    shape = getattr(incoming, "output_shape", incoming)
    kwargs["shared_axes"] = tuple(range(2, len(shape)))
    return DropoutLayer(incoming, *args, **kwargs)


spatial_dropout = dropout_channels


def dropout_locations(incoming, *args, **kwargs):
    """Dropout of whole locations: one mask value shared over channels.

    Examples
    --------
    >>> dropout_locations((None, 3, 8, 8)).shared_axes
    (1,)
    """
    kwargs["shared_axes"] = (1,)
    return DropoutLayer(incoming, *args, **kwargs)


class GaussianNoiseLayer(Layer):
    """Add zero-mean Gaussian noise of standard deviation ``sigma`` while
    training.

    Examples
    --------
    >>> from symnet.layers import GaussianNoiseLayer
    >>> GaussianNoiseLayer((None, 4), sigma=0.2).sigma
    0.2
    """

    def __init__(self, incoming, sigma=0.1, **kwargs):
        super().__init__(incoming, **kwargs)
        self._srng = _random_streams()
        self.sigma = sigma

    def get_output_for(self, input, deterministic=False, **kwargs):
        if deterministic or self.sigma == 0:
            return input
        noise = self._srng.normal(_sizes(input), avg=0.0, std=self.sigma,
                                  dtype=input.dtype)
        return input + noise
