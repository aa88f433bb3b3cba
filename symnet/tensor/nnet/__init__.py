"""``theano.tensor.nnet``: activations, softmax, crossentropies.

The ops and functions live in ``symnet/tensor/ops/nnet.py``; this is the
user-facing namespace (``T.nnet``).
"""
from ..ops.nnet import *  # noqa: F401,F403
from ..ops.nnet import __all__  # noqa: F401
from ..ops.conv import conv2d, conv2d_transpose, conv2d_grad_wrt_inputs  # noqa: F401,E501
from ..ops.conv3d import conv3d  # noqa: F401,E402
