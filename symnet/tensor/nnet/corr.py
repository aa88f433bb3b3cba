"""``theano.tensor.nnet.corr``: ``CorrMM`` and its two gradients, Theano's
2-D *correlation* ops (the filters are not flipped), called with Theano's
argument forms: ``CorrMM(border_mode, subsample, filter_dilation,
num_groups)(img, kern)``, ``CorrMM_gradWeights(...)(img, topgrad,
shape)`` and ``CorrMM_gradInputs(...)(kern, topgrad, shape)`` where
``shape`` is the spatial size of the result (it may be left out when the
stride and dilation are 1 and the border mode is not 'half': it follows
from the other two sizes then, as in Theano).  Each builds symnet's
convolution op with ``filter_flip=False``.

Examples
--------
>>> import numpy as np
>>> from symnet.tensor.nnet.corr import CorrMM
>>> img = np.arange(9, dtype='float32').reshape(1, 1, 3, 3)
>>> kern = np.array([[[[1, 0], [0, 0]]]], 'float32')   # not flipped: picks img[i, j]
>>> CorrMM()(img, kern).eval(mode='py')[0, 0]
array([[0., 1.],
       [3., 4.]], dtype=float32)
"""
from ..basic import as_tensor_variable
from ..ops.conv import Conv2d, Conv2dGradInputs, Conv2dGradWeights

__all__ = ["CorrMM", "CorrMM_gradWeights", "CorrMM_gradInputs"]


class BaseCorrMM:
    """Settings of a correlation op; ``nd`` spatial axes, ``ops`` the
    symnet ops (forward, gradInputs, gradWeights) it builds."""

    nd = 2
    ops = (Conv2d, Conv2dGradInputs, Conv2dGradWeights)

    def __init__(self, border_mode="valid", subsample=None, filter_dilation=None,
                 num_groups=1, unshared=False):
        if unshared:
            raise NotImplementedError(f"{type(self).__name__}: unshared convolutions are "
                                      f"not supported (unshared={unshared})")
        one = (1,) * self.nd
        self.border_mode = border_mode
        self.subsample = tuple(subsample) if subsample is not None else one
        self.filter_dilation = tuple(filter_dilation) if filter_dilation is not None else one
        self.num_groups = num_groups
        self.unshared = False

    def _op(self, k):
        return self.ops[k](self.border_mode, self.subsample, False, self.filter_dilation,
                           self.num_groups)

    def _grad(self, which, first, topgrad, shape):
        """The gradient op ``which`` (1: inputs, of the filters ``first``;
        2: weights, of the images ``first``) applied with the full shape."""
        first, topgrad = as_tensor_variable(first), as_tensor_variable(topgrad)
        op = self._op(which)
        if which == 2:
            sizes = self._spatial(shape, first, topgrad, +1)
            lead = [topgrad.shape[1], first.shape[1] // op.num_groups]
        else:
            sizes = self._spatial(shape, topgrad, first, -1)
            lead = [topgrad.shape[0], first.shape[1] * op.num_groups]
        return op(first, topgrad, lead + sizes)

    def _spatial(self, shape, big, small, sign):
        """``shape``, or when None the sizes that follow from the two
        tensors' spatial sizes (``big - small + 1`` for 'valid', the
        other way for 'full'), which needs stride and dilation 1."""
        if shape is not None:
            if hasattr(shape, "owner"):
                shape = as_tensor_variable(shape)
            return [shape[i] for i in range(self.nd)]
        one = (1,) * self.nd
        name = type(self).__name__
        if self.subsample != one or self.filter_dilation != one or self.border_mode == "half":
            raise ValueError(f"{name}: shape must be given when subsample "
                             f"({self.subsample}) or filter_dilation "
                             f"({self.filter_dilation}) is not 1 or border_mode is 'half'")
        mode = self.border_mode
        pads = {"valid": (0,) * self.nd, "full": None}.get(mode, mode)
        if isinstance(pads, int):
            pads = (pads,) * self.nd
        sizes = []
        for i in range(self.nd):
            b, s = big.shape[2 + i], small.shape[2 + i]
            if pads is None:    # 'full': the result is what 'valid' would shrink
                sizes.append(sign * (s - b) + 1)
            else:
                sizes.append(b + 2 * pads[i] - s + 1 if sign > 0 else s + b - 1 - 2 * pads[i])
        return sizes


class CorrMM(BaseCorrMM):
    """``CorrMM(...)(img, kern)``: the correlation of ``img`` (batch,
    channels, rows, cols) with ``kern`` (filters, channels / num_groups,
    rows, cols)."""

    def __call__(self, img, kern):
        return self._op(0)(img, kern)


class CorrMM_gradWeights(BaseCorrMM):
    """``CorrMM_gradWeights(...)(img, topgrad, shape=None)``: the gradient
    of a correlation with respect to its filters (``shape``: their spatial
    size)."""

    def __call__(self, img, topgrad, shape=None):
        return self._grad(2, img, topgrad, shape)


class CorrMM_gradInputs(BaseCorrMM):
    """``CorrMM_gradInputs(...)(kern, topgrad, shape=None)``: the gradient
    of a correlation with respect to its input (``shape``: its spatial
    size)."""

    def __call__(self, kern, topgrad, shape=None):
        return self._grad(1, kern, topgrad, shape)
