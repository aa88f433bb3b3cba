"""``theano.tensor.nnet.corr3d``: ``Corr3dMM`` and its two gradients, the
3-D forms of :mod:`symnet.tensor.nnet.corr` (filters not flipped; images
``(batch, channels, depth, rows, cols)``).

Examples
--------
>>> import numpy as np
>>> from symnet.tensor.nnet.corr3d import Corr3dMM
>>> img = np.ones((1, 1, 3, 3, 3), 'float32')
>>> Corr3dMM(subsample=(2, 2, 2))(img, np.ones((1, 1, 1, 1, 1), 'float32')).eval(mode='py').shape
(1, 1, 2, 2, 2)
"""
from ..ops.conv3d import Conv3d, Conv3dGradInputs, Conv3dGradWeights
from .corr import BaseCorrMM, CorrMM, CorrMM_gradInputs, CorrMM_gradWeights

__all__ = ["Corr3dMM", "Corr3dMM_gradWeights", "Corr3dMM_gradInputs"]


class BaseCorr3dMM(BaseCorrMM):
    nd = 3
    ops = (Conv3d, Conv3dGradInputs, Conv3dGradWeights)


class Corr3dMM(BaseCorr3dMM, CorrMM):
    """``Corr3dMM(...)(img, kern)``: the 3-D correlation."""


class Corr3dMM_gradWeights(BaseCorr3dMM, CorrMM_gradWeights):
    """``Corr3dMM_gradWeights(...)(img, topgrad, shape=None)``."""


class Corr3dMM_gradInputs(BaseCorr3dMM, CorrMM_gradInputs):
    """``Corr3dMM_gradInputs(...)(kern, topgrad, shape=None)``."""
