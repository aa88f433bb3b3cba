"""Autoencoder with tied weights: the decoder's W is the encoder's W.T.

From the founding post "expressions as layer parameters": a layer parameter
may be any expression of the right shape, so ``W=l2.W.T`` ties the decoder
to the encoder. The tied network has one weight matrix, not two, and
training it updates that one matrix through both layers.

Scaled to the bundled 8x8 digits: 64 inputs, 32 hidden units (the post has
784 and 500). Run ``python examples/tied_autoencoder.py [--quick]``.
"""
import numpy as np

import symnet
from symnet.layers import InputLayer, DenseLayer, get_output, get_all_params, count_params
from symnet.nonlinearities import sigmoid
from symnet.objectives import squared_error
from symnet.updates import nesterov_momentum

from _digits_common import parse_args_and_load


def main(argv=None):
    args, data = parse_args_and_load(__doc__, argv)
    X = data["train"][0]

    l1 = InputLayer((None, 64))
    l2 = DenseLayer(l1, num_units=32)
    l3 = DenseLayer(l2, num_units=64, W=l2.W.T, nonlinearity=sigmoid)
    untied = DenseLayer(l2, num_units=64, nonlinearity=sigmoid)
    params = get_all_params(l3, trainable=True)
    print(f"tied autoencoder: {len(params)} parameter arrays "
          f"({', '.join(str(p) for p in params)}), {count_params(l3)} weights; "
          f"untied it would have {count_params(untied)}")

    x = l1.input_var
    loss = squared_error(get_output(l3, x), x).mean()
    train = symnet.function([x], loss, updates=nesterov_momentum(loss, params, 0.5),
                            mode=args.mode)
    cost = symnet.function([x], loss, mode=args.mode)
    before = float(cost(X))
    W_before = l2.W.get_value()
    for epoch in range(5 if args.quick else 30):
        for start in range(0, len(X) - 31, 32):
            train(X[start:start + 32])
    after = float(cost(X))
    print(f"reconstruction error: {before:.4f} before training, {after:.4f} after")
    print(f"the shared W moved by {np.abs(l2.W.get_value() - W_before).max():.4f}; "
          f"decoder weights are still its transpose: "
          f"{np.allclose(l3.W.eval(), l2.W.get_value().T)}")
    return after < before


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
