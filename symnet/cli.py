"""The ``symnet`` command line: ``symnet train`` trains Lasagne's MNIST MLP.

``symnet train`` (or ``python -m symnet train``) builds the multi-layer
perceptron of Lasagne's ``mnist.py`` example (dropout, two ReLU layers,
softmax), trains it with Nesterov momentum on the handwritten digits bundled
with symnet (or on MNIST from a directory), prints the training loss,
validation loss and validation accuracy of every epoch (with the tier that
ran its steps), and ends with the line ``test accuracy: XX.XX %``. The parameters are saved to
``OUT/params.npz`` (``numpy.savez``, no pickle) and, when matplotlib is
installed, the learning curve to ``OUT/learning_curve.png``. The same
``--seed`` gives the same numbers: with ``--mode numba`` the step is
compiled before training starts, not tiered (``symnet.compile.tiered``),
unless ``SYMNET_TIERED`` asks for tiering; a tiered run's first steps run on
py, whose results differ from numba's in the last digits, for as many steps
as the compile happens to take.

Examples
--------
>>> from symnet.cli import build_parser
>>> args = build_parser().parse_args(['train', '--epochs', '3'])
>>> args.model, args.epochs, args.data
('mlp', 3, 'digits')
"""
import argparse
import os
import sys
import time
import warnings

import numpy as np

from ._io import atomic_write
from .distributed import DistributedError, launched_size

__all__ = ["main", "build_parser", "build_mlp", "build_custom_mlp", "build_cnn",
           "iterate_minibatches",
           "save_params", "load_data", "limit_blas_threads", "train", "CLIError"]

# Defaults scaled to the 8x8 digits (64 inputs, 1,258 training examples):
# Lasagne's batches of 500 would give 2 updates per epoch, so batches of 32;
# 384 units (not 800) with lr 0.02 for 60 epochs reach ~99 % test accuracy
# in well under a minute on two cores.
DEFAULTS = dict(model="mlp", epochs=60, batch_size=32, lr=0.02, momentum=0.9, seed=0,
                width=384, depth=2, drop_input=0.2, drop_hidden=0.5, mode="numba",
                out="symnet-out", data="digits")


class CLIError(Exception):
    """A user error: printed as one line on stderr, exit status 2."""


# -- the model (Lasagne's mnist.py, written against symnet's Lasagne API) -----------

def build_mlp(input_shape, num_classes=10, width=800, input_var=None):
    """Lasagne's classic MLP: dropout 0.2, two ReLU layers with dropout 0.5, softmax.

    Parameters
    ----------
    input_shape : tuple
        Shape of one input batch, with ``None`` for the batch size.
    num_classes : int
    width : int
        Units of each hidden layer (800 in Lasagne's example).
    input_var : Variable, optional

    Returns
    -------
    Layer
        The softmax output layer.
    """
    from . import layers, nonlinearities, init
    net = layers.InputLayer(shape=input_shape, input_var=input_var)
    net = layers.DropoutLayer(net, p=0.2)
    net = layers.DenseLayer(net, num_units=width, nonlinearity=nonlinearities.rectify,
                            W=init.GlorotUniform())
    net = layers.DropoutLayer(net, p=0.5)
    net = layers.DenseLayer(net, num_units=width, nonlinearity=nonlinearities.rectify)
    net = layers.DropoutLayer(net, p=0.5)
    return layers.DenseLayer(net, num_units=num_classes,
                             nonlinearity=nonlinearities.softmax)


def build_custom_mlp(input_shape, num_classes=10, depth=2, width=800, drop_input=0.2,
                     drop_hidden=0.5, input_var=None):
    """Lasagne's ``build_custom_mlp``: ``depth`` ReLU layers of ``width`` units.

    A dropout probability of 0 leaves the dropout layer out.

    Returns
    -------
    Layer
        The softmax output layer.
    """
    from . import layers, nonlinearities
    net = layers.InputLayer(shape=input_shape, input_var=input_var)
    if drop_input:
        net = layers.DropoutLayer(net, p=drop_input)
    for _ in range(depth):
        net = layers.DenseLayer(net, width, nonlinearity=nonlinearities.rectify)
        if drop_hidden:
            net = layers.DropoutLayer(net, p=drop_hidden)
    return layers.DenseLayer(net, num_classes, nonlinearity=nonlinearities.softmax)


def build_cnn(input_shape, num_classes=10, width=256, input_var=None):
    """Lasagne's ``build_cnn`` for small images (flat square inputs become one
    channel): two 'same' 3x3 ReLU convolutions (32, 64 filters) each with 2x2
    max pooling, dropout 0.5, ``width`` ReLU units, dropout 0.5, softmax."""
    from . import layers, nonlinearities
    net = layers.InputLayer(shape=input_shape, input_var=input_var)
    if len(input_shape) == 2:
        side = int(round(np.sqrt(input_shape[1])))
        if side * side != input_shape[1]:
            raise CLIError(f"--model cnn needs square images; inputs have "
                           f"{input_shape[1]} features")
        net = layers.ReshapeLayer(net, ([0], 1, side, side))
    for filters in (32, 64):
        net = layers.Conv2DLayer(net, filters, (3, 3), pad="same",
                                 nonlinearity=nonlinearities.rectify)
        net = layers.MaxPool2DLayer(net, (2, 2), ignore_border=False)
    net = layers.DenseLayer(layers.DropoutLayer(net, p=0.5), width,
                            nonlinearity=nonlinearities.rectify)
    return layers.DenseLayer(layers.DropoutLayer(net, p=0.5), num_classes,
                             nonlinearity=nonlinearities.softmax)


def iterate_minibatches(inputs, targets, batch_size, shuffle=False, rng=None):
    """Yield ``(inputs, targets)`` minibatches; the last partial batch is dropped.

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [b[1].tolist() for b in iterate_minibatches(X, y, 2)]
    [[0, 1], [2, 3]]
    """
    if len(inputs) != len(targets):
        raise ValueError(f"inputs and targets differ in length: {len(inputs)} and "
                         f"{len(targets)}")
    idx = np.arange(len(inputs))
    if shuffle:
        (rng or np.random).shuffle(idx)
    for start in range(0, len(inputs) - batch_size + 1, batch_size):
        sel = idx[start:start + batch_size]
        yield inputs[sel], targets[sel]


# -- input, output -------------------------------------------------------------------

def load_data(spec):
    """The train/val/test dict for ``--data`` (``digits`` or ``mnist:DIR``).

    The digits are always split with ``datasets.split(..., seed=0)``, so runs
    with different ``--seed`` values are scored on the same test set.
    """
    from . import datasets
    if spec == "digits":
        return datasets.split(*datasets.load_digits(), seed=0)
    if spec.startswith("mnist:"):
        directory = spec[len("mnist:"):]
        if not directory:
            raise CLIError("--data mnist:DIR needs a directory, e.g. mnist:~/data/mnist")
        directory = os.path.expanduser(directory)
        if not os.path.isdir(directory):
            raise CLIError(f"--data {spec}: {directory!r} is not a directory")
        try:
            return datasets.load_mnist(directory)
        except (OSError, ValueError) as exc:
            raise CLIError(f"--data {spec}: cannot read MNIST: {exc}") from None
    raise CLIError(f"--data must be 'digits' or 'mnist:DIR', got {spec!r}")


def save_params(path, values):
    """Write ``values`` (a list of arrays) to ``path`` with ``numpy.savez``.

    The file is written to a temporary name in the same directory and then
    moved into place with ``os.replace``, which is atomic: an interrupted
    run leaves either the old file or the new one, never half of one.
    The arrays are stored as ``arr_0``, ``arr_1``, ... in
    ``get_all_param_values`` order.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), 'params.npz')
    >>> save_params(path, [np.ones(2), np.zeros((1, 1))])
    >>> sorted(np.load(path).files)
    ['arr_0', 'arr_1']
    """
    from ._train_io import PARAMS_TMP, umask
    # readable as any file the user writes (0644 under umask 022), not 0600
    atomic_write(path, lambda fh: np.savez(fh, *values), binary=True,
                 prefix=PARAMS_TMP[0], suffix=PARAMS_TMP[1], mode=0o666 & ~umask())


def limit_blas_threads(n):
    """Ask numpy's OpenBLAS to use ``n`` threads; True if it could be told.

    The environment variable ``OPENBLAS_NUM_THREADS`` only works before numpy
    is imported, which ``symnet`` itself has already done; so, like
    threadpoolctl, we find the loaded OpenBLAS and call its setter. For the
    small matrices of this job one thread is faster than several, and far
    faster on a busy machine, where BLAS threads spin against each other.
    Any other BLAS (or none found) is left alone.
    """
    import ctypes
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:  # not Linux
        return False
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                     "openblas_set_num_threads64_", "openblas_set_num_threads"):
            setter = getattr(lib, name, None)
            if setter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                setter(int(n))
                return True
    return False


def _plot(path, history):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    epochs = np.arange(1, len(history) + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, [h[0] for h in history], label="training loss")
    ax.plot(epochs, [h[1] for h in history], label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax2 = ax.twinx()
    ax2.plot(epochs, [100 * h[2] for h in history], "g--", label="validation accuracy")
    ax2.set_ylabel("validation accuracy (%)")
    ax.legend(loc="center right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


class _PlainBar:
    """A minimal progress bar on stderr, used when tqdm is not installed."""

    def __init__(self, total, desc, file=sys.stderr, width=30):
        self.total, self.desc, self.file, self.width, self.n = total, desc, file, width, 0
        self._draw()

    def update(self, n=1):
        self.n += n
        self._draw()

    def _draw(self):
        filled = self.width * self.n // max(self.total, 1)
        self.file.write(f"\r{self.desc} [{'#' * filled}{'.' * (self.width - filled)}] "
                        f"{self.n}/{self.total}")
        self.file.flush()

    def close(self):
        # Erase the bar so that the per-epoch line printed next stands alone.
        self.file.write("\r" + " " * (len(self.desc) + self.width + 20) + "\r")
        self.file.flush()


def _progress(total, desc, enabled):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        # Carriage-return redraws only make sense on a terminal; in a log
        # file they would be a wall of text, and the epoch lines suffice.
        return _PlainBar(total, desc) if sys.stderr.isatty() else None
    return tqdm(total=total, desc=desc, leave=False, file=sys.stderr, unit="batch")


# -- training --------------------------------------------------------------------------

def train(args, out=None):
    """Run the training job described by parsed ``args``; returns the test accuracy.

    Progress goes to ``out`` (default: ``sys.stdout`` at call time).
    """
    out = sys.stdout if out is None else out
    # The per-op "no numba kernel" notice is for developers; a training run
    # states its mode and compile time instead.
    warnings.filterwarnings("ignore", message="the numba backend has no kernel")
    import symnet
    import symnet.tensor as T
    from . import layers, objectives, updates, random as srandom
    from .distributed.job import make_job
    from .compile.tiered import describe_tiers, tier_counts

    try:
        # Before training, so a bad --out costs seconds, not a whole run.
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise CLIError(f"--out {args.out}: cannot create the directory ({exc.strerror})") \
            from None
    from ._train_io import check_writable, remove_stale_temps
    try:
        check_writable(args.out)   # a probe file: fail now, not after training
    except OSError as exc:
        raise CLIError(f"--out {args.out}: {exc.strerror}") from None
    remove_stale_temps(args.out)   # left by a run killed with SIGKILL
    job = make_job(args)      # one process, or one rank of --workers N
    out = job.output(out)
    threads = args.threads
    if threads is None and not any(os.environ.get(v) for v in (
            "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")):
        threads = 1
    if threads:
        limit_blas_threads(threads)
    np.random.seed(args.seed)
    srandom.set_rng(np.random.RandomState(args.seed))
    data = load_data(args.data)
    X_train, y_train = data["train"]
    X_val, y_val = data["val"]
    X_test, y_test = data["test"]
    if len(X_train) < args.batch_size:
        raise CLIError(f"--batch-size {args.batch_size} is larger than the training set "
                       f"({len(X_train)} examples)")
    X_train, X_val, X_test = (np.asarray(a, dtype=symnet.config.floatX)
                              for a in (X_train, X_val, X_test))
    y_train, y_val, y_test = (np.asarray(a, dtype="int32") for a in (y_train, y_val, y_test))
    num_classes = int(max(y_train.max(), y_val.max(), y_test.max())) + 1
    input_shape = (None,) + X_train.shape[1:]

    input_var = T.TensorType(symnet.config.floatX, (False,) * X_train.ndim)("inputs")
    target_var = T.ivector("targets")
    if args.model == "mlp":
        network = build_mlp(input_shape, num_classes, args.width, input_var)
    elif args.model == "cnn":
        network = build_cnn(input_shape, num_classes, input_var=input_var)
    else:
        network = build_custom_mlp(input_shape, num_classes, args.depth, args.width,
                                   args.drop_input, args.drop_hidden, input_var)

    prediction = layers.get_output(network)
    loss = objectives.categorical_crossentropy(prediction, target_var).mean()
    params = layers.get_all_params(network, trainable=True)

    def update_fn(loss_or_grads, params):
        return updates.nesterov_momentum(loss_or_grads, params, learning_rate=args.lr,
                                         momentum=args.momentum)
    test_prediction = layers.get_output(network, deterministic=True)
    test_loss = objectives.categorical_crossentropy(test_prediction, target_var).mean()
    test_acc = T.mean(T.eq(T.argmax(test_prediction, axis=1), target_var),
                      dtype=symnet.config.floatX)
    mode = args.mode
    if mode == "numba" and "SYMNET_TIERED" not in os.environ:
        # Compile before the first step instead of tiering: a tiered run
        # switches from py to numba at a step that depends on how long the
        # compile took, and the two tiers differ in the last digits, so the
        # same --seed gave different numbers.  Measured on the default job
        # (2 cores, cold and warm cache): tiering saved no wall time either
        # (15.8 s tiered against 15.5 s cold, 5.9 against 5.4 warm), since
        # its py steps are slower than the compile they hide.
        mode = symnet.Mode("numba", tiered=False)
    t0 = time.perf_counter()
    train_fn = job.train_function([input_var, target_var], loss, params, update_fn, mode,
                                  profile=getattr(args, "profile", False), name="train_fn")
    val_fn = symnet.function([input_var, target_var], [test_loss, test_acc], mode=mode)
    print(f"model {args.model}: {layers.count_params(network, trainable=True)} parameters; "
          f"{len(X_train)} training, {len(X_val)} validation, {len(X_test)} test examples; "
          f"compiled in {time.perf_counter() - t0:.1f} s (mode {args.mode})", file=out)

    def evaluate(X, y):
        # Whole-set evaluation in chunks, so memory stays bounded on MNIST.
        loss_sum = acc_sum = 0.0
        for start in range(0, len(X), 500):
            xb, yb = X[start:start + 500], y[start:start + 500]
            err, acc = val_fn(xb, yb)
            loss_sum += float(err) * len(xb)
            acc_sum += float(acc) * len(xb)
        return loss_sum / len(X), acc_sum / len(X)

    X_train, y_train = job.shard(X_train, y_train)
    n_batches = len(X_train) // args.batch_size
    first_epoch, history = job.start(network, out)
    # a data-parallel step is two functions and an Allreduce: no one profile
    profiling = getattr(args, "profile", False) and \
        getattr(train_fn, "profile", None) is not None
    if getattr(args, "profile", False) and not profiling:
        print("--profile: not available with --workers (a data-parallel step is two "
              "compiled functions around an Allreduce); profile one worker instead",
              file=sys.stderr)
    profile_warmup = profiling
    start = time.perf_counter()
    for epoch in range(first_epoch, args.epochs + 1):
        t_epoch = time.perf_counter()
        calls = tier_counts(train_fn)     # which tier (py while compiling) ran
        shuffle_rng = job.begin_epoch(epoch)
        bar = _progress(n_batches, f"epoch {epoch}/{args.epochs}", args.progress and job.is_root)
        train_err = 0.0
        for xb, yb in iterate_minibatches(X_train, y_train, args.batch_size, shuffle=True,
                                          rng=shuffle_rng):
            train_err += float(train_fn(xb, yb))
            if profile_warmup:
                profile_warmup = False
                train_fn.profile.reset()   # the first call also loads the kernels
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        val_err, val_acc = evaluate(X_val, y_val)
        history.append((train_err / n_batches, val_err, val_acc))
        print(f"epoch {epoch}/{args.epochs}  training loss {train_err / n_batches:.6f}  "
              f"validation loss {val_err:.6f}  validation accuracy {100 * val_acc:.2f} %  "
              f"({time.perf_counter() - t_epoch:.2f} s, "
              f"{describe_tiers(train_fn, calls)})", file=out, flush=True)
        if epoch == first_epoch and profiling:
            print("(profile of the training step; its first call, which also loads the "
                  "kernels, is left out)", file=out)
            train_fn.profile.summary(file=out)
        if not np.isfinite(train_err):
            raise CLIError(f"training diverged at epoch {epoch} (loss is {train_err}); "
                           f"try a smaller --lr than {args.lr}")
        job.end_epoch(epoch, history)
    _, acc = evaluate(X_test, y_test)
    print(f"trained {args.epochs} epochs in {time.perf_counter() - start:.1f} s", file=out)

    path = os.path.join(args.out, "params.npz")
    if job.is_root:
        try:
            save_params(path, layers.get_all_param_values(network))
        except OSError as exc:
            raise OSError(exc.errno, f"cannot save the parameters to {path} "
                                     f"({exc.strerror})") from None
    print(f"parameters saved to {path}", file=out)
    png = os.path.join(args.out, "learning_curve.png")
    if job.is_root and _plot(png, history):
        print(f"learning curve saved to {png}", file=out)
    else:
        print("learning curve skipped (matplotlib is not installed)", file=out)
    print(f"test accuracy: {100 * acc:.2f} %", file=out, flush=True)
    return acc


# -- argument parsing ----------------------------------------------------------------

def _int_at_least(low, expected):
    """An argparse ``type``: an integer >= ``low``; errors say 'expected <expected>'."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value
    return parse


_positive_int = _int_at_least(1, "a positive integer")
_count = _int_at_least(0, "a whole number >= 0")


def _seed(text):
    # numpy's RandomState takes 0 .. 2**32 - 1; say so instead of its traceback
    value = _int_at_least(0, "a seed from 0 to 4294967295")(text)
    if value >= 2 ** 32:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to 4294967295, got {value}")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _probability(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability, got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a probability in [0, 1), got {value}")
    return value


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except the meaningless ones (None, flags' True/False)."""

    def _get_help_string(self, action):
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage dump) and exit status 2."""

    def error(self, message):
        raise CLIError(f"{self.prog}: {message}")


def build_parser():
    """The ``symnet`` argument parser (subcommand ``train``)."""
    d = DEFAULTS
    parser = _Parser(
        prog="symnet",
        description="symnet: a symbolic expression compiler with a Lasagne-compatible "
                    "network API. Run 'symnet train --help' for the training job.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    p = sub.add_parser(
        "train", help="train Lasagne's MNIST MLP on the bundled digits (or MNIST)",
        description="Train the multi-layer perceptron of Lasagne's mnist.py example "
                    "(dropout 0.2, dense ReLU layers with dropout 0.5, softmax) with "
                    "Nesterov momentum. Every epoch prints the training loss, validation "
                    "loss and validation accuracy; the run ends with the line "
                    "'test accuracy: XX.XX %'. Parameters are saved to OUT/params.npz "
                    "(numpy.savez arrays arr_0, arr_1, ... in get_all_param_values "
                    "order) and the learning curve to OUT/learning_curve.png when "
                    "matplotlib is installed. The same --seed gives the same numbers (the "
                    "numba step is compiled before the first one; with SYMNET_TIERED=1 "
                    "the first steps run on py while it compiles, and then it does not).",
        formatter_class=_Formatter)
    p.add_argument("--model", choices=("mlp", "custom", "cnn"), default=d["model"],
                   help="'mlp': Lasagne's build_mlp (two hidden layers of --width units); "
                        "'custom': build_custom_mlp with --depth, --width, --drop-input, "
                        "--drop-hidden; 'cnn': build_cnn (two 3x3 conv + max-pool "
                        "layers, a dense layer of 256 units)")
    p.add_argument("--depth", type=_positive_int, default=d["depth"],
                   help="hidden layers of the custom model")
    p.add_argument("--width", type=_positive_int, default=d["width"],
                   help="units per hidden layer (Lasagne's example uses 800 for MNIST)")
    p.add_argument("--drop-input", type=_probability, default=d["drop_input"],
                   help="input dropout probability of the custom model (0: none)")
    p.add_argument("--drop-hidden", type=_probability, default=d["drop_hidden"],
                   help="hidden dropout probability of the custom model (0: none)")
    p.add_argument("--epochs", type=_positive_int, default=d["epochs"],
                   help="passes over the training set")
    p.add_argument("--batch-size", type=_positive_int, default=d["batch_size"],
                   help="examples per update")
    p.add_argument("--lr", type=_positive_float, default=d["lr"],
                   help="learning rate of nesterov_momentum")
    p.add_argument("--momentum", type=_probability, default=d["momentum"],
                   help="momentum of nesterov_momentum")
    p.add_argument("--seed", type=_seed, default=d["seed"],
                   help="seed of the initial weights, dropout masks and minibatch order "
                        "(the digits' train/val/test split is fixed)")
    p.add_argument("--mode", choices=("py", "numba", "cuda"), default=d["mode"],
                   help="backend: 'py' (numpy reference interpreter), 'numba' "
                        "(generated code compiled by Numba, the default; the first run "
                        "compiles its kernels, about 10 s, later runs load them from the "
                        "disk cache) or 'cuda' (an NVIDIA GPU, pip install 'symnet[cuda]')")
    p.add_argument("--out", default=d["out"], metavar="DIR",
                   help="directory for params.npz and learning_curve.png")
    p.add_argument("--data", default=d["data"], metavar="digits|mnist:DIR",
                   help="'digits' (8x8 digits bundled with symnet) or 'mnist:DIR' (the "
                        "four MNIST idx files, gzipped or not, in DIR)")
    p.add_argument("--threads", type=_count, default=None, metavar="N",
                   help="BLAS threads for numpy's matrix products (default: 1 unless "
                        "OPENBLAS_NUM_THREADS or OMP_NUM_THREADS is set; 0 keeps the BLAS "
                        "library's own choice); one is fastest for the digits' small "
                        "matrices, more may help on MNIST with --width 800")
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                   help="train data-parallel on N MPI ranks (needs 'pip install "
                        "symnet[mpi]'): re-launches under 'mpiexec -n N', or runs as a rank "
                        "when started by mpiexec/srun; --batch-size is per worker; rank 0 "
                        "prints and writes OUT/checkpoint.npz after every epoch")
    p.add_argument("--resume", action="store_true",
                   help="with --workers: continue from OUT/checkpoint.npz")
    p.add_argument("--timeout", type=_positive_float, default=120.0, metavar="SECONDS",
                   help="with --workers: how long a rank waits for the others in a step "
                        "before the job ends with an error (a rank died or hangs); the "
                        "wait for ranks still compiling is not counted")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="do not draw the per-epoch progress bar on stderr")
    p.add_argument("--profile", action="store_true",
                   help="time every node of the training step and print the profile "
                        "(slowest steps, op classes, compile times) after the first epoch")
    return parser


def main(argv=None):
    """Entry point of the ``symnet`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        from ._train_io import sigterm_raises
        with sigterm_raises():   # SIGTERM unwinds: temporary files are removed
            if args.workers is not None or launched_size() > 1:
                from .distributed.launch import run_workers
                return run_workers(args, sys.argv[1:] if argv is None else list(argv), train,
                                   user_errors=(CLIError, DistributedError))
            if args.resume:
                raise CLIError("--resume needs --workers N (checkpoints are written by "
                               "data-parallel runs)")
            train(args)
    except (CLIError, DistributedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # e.g. --out in a read-only place: the message names the path.
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0
