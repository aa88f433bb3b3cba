"""Shared start-up and training loop of the digit examples.

Not an example itself: the scripts in this folder import it by its bare name
(``from _digits_common import ...``), which works because Python puts the
running script's directory first on ``sys.path``.
"""
import argparse

import numpy as np

import symnet
import symnet.tensor as T
from symnet.datasets import load_digits, split
from symnet.layers import get_output, get_all_params
from symnet.objectives import categorical_crossentropy
from symnet.random import set_rng
from symnet.updates import nesterov_momentum

__all__ = ["parse_args_and_load", "train_classifier"]


def parse_args_and_load(doc, argv=None):
    """Parse ``--quick``/``--mode``, seed symnet's RNG and load the digits.

    Parameters
    ----------
    doc : str
        The script's module docstring; its first line describes the script.
    argv : list of str, optional
        Command line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    args : argparse.Namespace
        With ``quick`` (bool) and ``mode`` (backend name).
    data : dict
        The digits split by ``symnet.datasets.split``: ``"train"``, ``"val"``
        and ``"test"`` ``(X, y)`` pairs.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few epochs only")
    parser.add_argument("--mode", default="py", help="backend: py or numba")
    args = parser.parse_args(argv)
    set_rng(np.random.RandomState(0))
    return args, split(*load_digits())


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
        for first in range(0, len(X) - 31, 32):
            train(X[idx[first:first + 32]], Y[idx[first:first + 32]])
    return float(accuracy(*data["test"]))
