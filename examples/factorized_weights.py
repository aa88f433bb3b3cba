"""Factorized weights: a low-rank weight matrix W = w1 . w2.

From the founding post "expressions as layer parameters": passing
``W=T.dot(w1, w2)`` to a DenseLayer makes its weight matrix the product of
two thin matrices, which cuts its parameter count; gradients flow through
the product to ``w1`` and ``w2``.

Scaled to the bundled 8x8 digits: 64 inputs, a hidden layer of 32 units of
rank 8 (the post has 784 -> 500 of rank 100), then a softmax over the 10
digits. Run ``python examples/factorized_weights.py [--quick]``.
"""
import numpy as np

import symnet
import symnet.tensor as T
from symnet.init import GlorotUniform
from symnet.layers import InputLayer, DenseLayer, count_params
from symnet.nonlinearities import softmax
from symnet.utils import floatX

from _digits_common import parse_args_and_load, train_classifier


def main(argv=None):
    args, data = parse_args_and_load(__doc__, argv)

    l1 = InputLayer((None, 64))
    w_init = GlorotUniform()
    w1 = symnet.shared(floatX(w_init((64, 8))), name="w1")
    w2 = symnet.shared(floatX(w_init((8, 32))), name="w2")
    l2 = DenseLayer(l1, num_units=32, W=T.dot(w1, w2))
    full = DenseLayer(l1, num_units=32)
    out = DenseLayer(l2, num_units=10, nonlinearity=softmax)

    n_factored = count_params(l2, regularizable=True)
    n_full = count_params(full, regularizable=True)
    print(f"hidden layer weights: {n_factored} factorized (64x8 + 8x32) instead of "
          f"{n_full} (64x32)")
    print(f"parameters of the hidden layer: {[str(p) for p in l2.get_params()]}")
    w2_before = w2.get_value()
    acc = train_classifier(out, l1.input_var, data, 3 if args.quick else 30, args.mode)
    print(f"w2 was trained through the product: "
          f"{not np.allclose(w2.get_value(), w2_before)}")
    print(f"test accuracy: {100 * acc:.2f} %")
    return acc > 0.5


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
