"""``theano.tensor.nnet``: activations, softmax, crossentropies.

The ops and functions live in ``symnet/tensor/ops/nnet.py``; this is the
user-facing namespace (``T.nnet``).
"""
from ..ops.nnet import *  # noqa: F401,F403
from ..ops.nnet import __all__  # noqa: F401
from ..ops.conv import conv2d, conv2d_transpose, conv2d_grad_wrt_inputs  # noqa: F401,E501
from ..ops.conv3d import conv3d  # noqa: F401,E402
# Theano's T.nnet also holds the compositions of theano.tensor.nnet.nnet and
# batch_normalization (from theano.tensor.nnet.bn).
from .nnet import (softmax_op, logsoftmax_op, softmax_graph, softmax_with_bias,  # noqa: F401,E402
                   softsign, crossentropy_softmax_1hot_with_bias,
                   crossentropy_softmax_argmax_1hot_with_bias,
                   crossentropy_softmax_max_and_argmax_1hot,
                   crossentropy_softmax_max_and_argmax_1hot_with_bias,
                   prepend_scalar_to_each_row, prepend_0_to_each_row, prepend_1_to_each_row,
                   h_softmax)
from .nnet import crossentropy_softmax_1hot_with_bias_dx, confusion_matrix  # noqa: F401,E402
from .bn import batch_normalization  # noqa: F401,E402
