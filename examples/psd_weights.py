"""Positive semi-definite weights: W = w . w^T.

From the founding post "expressions as layer parameters": ``W=T.dot(w, w.T)``
constrains a square weight matrix to be symmetric positive semi-definite,
whatever values training gives ``w``.

Scaled to the bundled 8x8 digits: 64 inputs, a dense layer of 32 units,
a layer of 32 units with PSD weights, then a softmax (the post has 500
units). Run ``python examples/psd_weights.py [--quick]``.
"""
import argparse

import numpy as np

import symnet
import symnet.tensor as T
from symnet.datasets import load_digits, split
from symnet.init import GlorotUniform
from symnet.layers import InputLayer, DenseLayer, get_output, get_all_params
from symnet.nonlinearities import softmax
from symnet.objectives import categorical_crossentropy
from symnet.random import set_rng
from symnet.updates import nesterov_momentum
from symnet.utils import floatX


def train_classifier(output_layer, x, data, epochs, mode, lr=0.05):
    """Train with Nesterov momentum on minibatches of 32; return test accuracy."""
    y = T.ivector("y")
    loss = categorical_crossentropy(get_output(output_layer), y).mean()
    params = get_all_params(output_layer, trainable=True)
    train = symnet.function([x, y], loss, updates=nesterov_momentum(loss, params, lr),
                            mode=mode)
    pred = T.argmax(get_output(output_layer, deterministic=True), axis=1)
    accuracy = symnet.function([x, y], T.mean(T.eq(pred, y)), mode=mode)
    X, Y = data["train"]
    order = np.random.RandomState(0)
    for epoch in range(epochs):
        idx = order.permutation(len(X))
        for start in range(0, len(X) - 31, 32):
            train(X[idx[start:start + 32]], Y[idx[start:start + 32]])
    return float(accuracy(*data["test"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few epochs only")
    parser.add_argument("--mode", default="py", help="backend: py or numba")
    args = parser.parse_args(argv)
    set_rng(np.random.RandomState(0))
    data = split(*load_digits())

    l1 = InputLayer((None, 64))
    l2 = DenseLayer(l1, num_units=32)
    w_init = GlorotUniform()
    w = symnet.shared(floatX(w_init((32, 32))), name="w")
    w_psd = T.dot(w, w.T)
    l3 = DenseLayer(l2, num_units=32, W=w_psd)
    out = DenseLayer(l3, num_units=10, nonlinearity=softmax)
    print(f"parameters of the PSD layer: {[str(p) for p in l3.get_params()]}")
    acc = train_classifier(out, l1.input_var, data, 3 if args.quick else 30, args.mode)
    W = np.asarray(l3.W.eval(), dtype=np.float64)
    eig = np.linalg.eigvalsh(W)
    # float32 rounding in w.w^T can leave an eigenvalue a hair below zero.
    tol = 1e-5 * max(1.0, float(eig.max()))
    print(f"W is symmetric: {bool(np.allclose(W, W.T, atol=1e-6))}")
    print(f"smallest eigenvalue of W = w w^T: {eig.min():.3g} (>= 0: {bool(eig.min() >= -tol)})")
    print(f"test accuracy: {100 * acc:.2f} %")
    return bool(eig.min() >= -tol)


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
