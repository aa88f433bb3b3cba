"""Positive semi-definite weights: W = w . w^T.

From the founding post "expressions as layer parameters": ``W=T.dot(w, w.T)``
constrains a square weight matrix to be symmetric positive semi-definite,
whatever values training gives ``w``.

Scaled to the bundled 8x8 digits: 64 inputs, a dense layer of 32 units,
a layer of 32 units with PSD weights, then a softmax (the post has 500
units). Run ``python examples/psd_weights.py [--quick]``.
"""
import numpy as np

import symnet
import symnet.tensor as T
from symnet.init import GlorotUniform
from symnet.layers import InputLayer, DenseLayer
from symnet.nonlinearities import softmax
from symnet.utils import floatX

from _digits_common import parse_args_and_load, train_classifier


def main(argv=None):
    args, data = parse_args_and_load(__doc__, argv)

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
