"""Positive weights: learn the logarithm, use W = exp(w).

From the founding post "expressions as layer parameters": ``W=T.exp(w)``
keeps every weight of the layer positive however ``w`` is trained (the post
also suggests ``T.nnet.softplus(w)``; ``T.maximum(w, 0)`` would get stuck,
as its gradient is zero for negative ``w``).

Scaled to the bundled 8x8 digits: 64 inputs, 32 hidden units with positive
weights, then a softmax. Run ``python examples/positive_weights.py [--quick]``.
"""
import numpy as np

import symnet
import symnet.tensor as T
from symnet.init import Normal
from symnet.layers import InputLayer, DenseLayer
from symnet.nonlinearities import softmax
from symnet.utils import floatX

from _digits_common import parse_args_and_load, train_classifier


def main(argv=None):
    args, data = parse_args_and_load(__doc__, argv)

    l1 = InputLayer((None, 64))
    # The post's Normal(0.01, mean=-10) makes exp(w) ~ 5e-5: positive but so
    # small that a short run barely moves; mean -3 and std 0.5 start around
    # 0.05, with enough spread for the hidden units to differ.
    w = symnet.shared(floatX(Normal(0.5, mean=-3)((64, 32))), name="w")
    l2 = DenseLayer(l1, num_units=32, W=T.exp(w))
    out = DenseLayer(l2, num_units=10, nonlinearity=softmax)
    print(f"parameters of the positive layer: {[str(p) for p in l2.get_params()]}")
    w_before = w.get_value()
    acc = train_classifier(out, l1.input_var, data, 3 if args.quick else 30, args.mode)
    W = np.asarray(l2.W.eval())
    print(f"w moved by up to {np.abs(w.get_value() - w_before).max():.4f} in training")
    print(f"smallest weight of W = exp(w): {W.min():.3g} (all positive: {bool(W.min() > 0)})")
    print(f"test accuracy: {100 * acc:.2f} %")
    return bool(W.min() > 0)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
