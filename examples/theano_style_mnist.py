"""A Theano + Lasagne training script, run unchanged on symnet.

Written the way Lasagne's ``examples/mnist.py`` is written, against
``import theano``, ``import theano.tensor as T`` and ``import lasagne``. The
two lines at the top are the only symnet-specific ones: they make those
imports give symnet's modules. The data is the 8x8 digits bundled with
symnet instead of MNIST, so the input layer is (None, 64) and the hidden
layers are narrower than Lasagne's 800 units.

Run ``python examples/theano_style_mnist.py [mlp|custom:DEPTH,WIDTH,DROP_IN,DROP_HID]
[EPOCHS]``; ``--quick`` trains for two epochs.
"""
import symnet.compat
symnet.compat.install()

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import theano  # noqa: E402
import theano.tensor as T  # noqa: E402
import lasagne  # noqa: E402


def load_dataset():
    """(X_train, y_train, X_val, y_val, X_test, y_test) of the bundled digits."""
    from symnet.datasets import load_digits, split
    parts = split(*load_digits(), seed=0)
    return parts["train"] + parts["val"] + parts["test"]


def build_mlp(input_var=None, width=128):
    l_in = lasagne.layers.InputLayer(shape=(None, 64), input_var=input_var)
    l_in_drop = lasagne.layers.DropoutLayer(l_in, p=0.2)
    l_hid1 = lasagne.layers.DenseLayer(
        l_in_drop, num_units=width, nonlinearity=lasagne.nonlinearities.rectify,
        W=lasagne.init.GlorotUniform())
    l_hid1_drop = lasagne.layers.DropoutLayer(l_hid1, p=0.5)
    l_hid2 = lasagne.layers.DenseLayer(
        l_hid1_drop, num_units=width, nonlinearity=lasagne.nonlinearities.rectify)
    l_hid2_drop = lasagne.layers.DropoutLayer(l_hid2, p=0.5)
    return lasagne.layers.DenseLayer(
        l_hid2_drop, num_units=10, nonlinearity=lasagne.nonlinearities.softmax)


def build_custom_mlp(input_var=None, depth=2, width=128, drop_input=.2, drop_hidden=.5):
    network = lasagne.layers.InputLayer(shape=(None, 64), input_var=input_var)
    if drop_input:
        network = lasagne.layers.dropout(network, p=drop_input)
    nonlin = lasagne.nonlinearities.rectify
    for _ in range(depth):
        network = lasagne.layers.DenseLayer(network, width, nonlinearity=nonlin)
        if drop_hidden:
            network = lasagne.layers.dropout(network, p=drop_hidden)
    softmax = lasagne.nonlinearities.softmax
    return lasagne.layers.DenseLayer(network, 10, nonlinearity=softmax)


def iterate_minibatches(inputs, targets, batchsize, shuffle=False):
    assert len(inputs) == len(targets)
    if shuffle:
        indices = np.arange(len(inputs))
        np.random.shuffle(indices)
    for start_idx in range(0, len(inputs) - batchsize + 1, batchsize):
        if shuffle:
            excerpt = indices[start_idx:start_idx + batchsize]
        else:
            excerpt = slice(start_idx, start_idx + batchsize)
        yield inputs[excerpt], targets[excerpt]


def main(model="mlp", num_epochs=30):
    np.random.seed(0)
    lasagne.random.set_rng(np.random.RandomState(0))
    print("Loading data...")
    X_train, y_train, X_val, y_val, X_test, y_test = load_dataset()

    input_var = T.matrix("inputs")
    target_var = T.ivector("targets")

    print("Building model and compiling functions...")
    if model == "mlp":
        network = build_mlp(input_var)
    elif model.startswith("custom:"):
        depth, width, drop_in, drop_hid = model.split(":", 1)[1].split(",")
        network = build_custom_mlp(input_var, int(depth), int(width),
                                   float(drop_in), float(drop_hid))
    else:
        print(f"Unrecognized model type {model!r}.")
        return None

    prediction = lasagne.layers.get_output(network)
    loss = lasagne.objectives.categorical_crossentropy(prediction, target_var)
    loss = loss.mean()
    params = lasagne.layers.get_all_params(network, trainable=True)
    updates = lasagne.updates.nesterov_momentum(
        loss, params, learning_rate=0.05, momentum=0.9)

    test_prediction = lasagne.layers.get_output(network, deterministic=True)
    test_loss = lasagne.objectives.categorical_crossentropy(test_prediction, target_var)
    test_loss = test_loss.mean()
    test_acc = T.mean(T.eq(T.argmax(test_prediction, axis=1), target_var),
                      dtype=theano.config.floatX)

    train_fn = theano.function([input_var, target_var], loss, updates=updates)
    val_fn = theano.function([input_var, target_var], [test_loss, test_acc])

    print("Starting training...")
    for epoch in range(num_epochs):
        train_err = 0
        train_batches = 0
        start_time = time.time()
        for inputs, targets in iterate_minibatches(X_train, y_train, 32, shuffle=True):
            train_err += train_fn(inputs, targets)
            train_batches += 1

        val_err = val_acc = 0
        val_batches = 0
        for inputs, targets in iterate_minibatches(X_val, y_val, 30, shuffle=False):
            err, acc = val_fn(inputs, targets)
            val_err += err
            val_acc += acc
            val_batches += 1

        print(f"Epoch {epoch + 1} of {num_epochs} took {time.time() - start_time:.3f}s")
        print(f"  training loss:\t\t{train_err / train_batches:.6f}")
        print(f"  validation loss:\t\t{val_err / val_batches:.6f}")
        print(f"  validation accuracy:\t\t{val_acc / val_batches * 100:.2f} %")

    err, acc = val_fn(X_test, y_test)
    print("Final results:")
    print(f"  test loss:\t\t\t{float(err):.6f}")
    print(f"  test accuracy:\t\t{float(acc) * 100:.2f} %")
    return float(acc)


if __name__ == "__main__":
    argv = [a for a in sys.argv[1:] if a != "--quick"]
    if "--help" in argv or "-h" in argv:
        print(__doc__)
        sys.exit(0)
    kwargs = {}
    if argv:
        kwargs["model"] = argv[0]
    if len(argv) > 1:
        kwargs["num_epochs"] = int(argv[1])
    if "--quick" in sys.argv:
        kwargs["num_epochs"] = 2
    sys.exit(0 if main(**kwargs) is not None else 1)
