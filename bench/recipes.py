"""Run Lasagne's Recipes (github.com/Lasagne/Recipes: the model zoo, paper
reimplementations and examples people copy from) unchanged on symnet.

    python bench/recipes.py RECIPES_DIR LASAGNE_DIR [PROGRAM ...]

RECIPES_DIR is a checkout of the Recipes (``modelzoo/vgg16.py`` must
exist); LASAGNE_DIR holds the real Lasagne package (``LASAGNE_DIR/lasagne``).
Nothing is copied from them or into them. Not part of CI: CI has neither
checkout, and the runs take minutes.

Each program runs in a fresh process per mode and backend. The modes:

``A``
    symnet as Lasagne and Theano (``symnet.compat.install()``);
``B``
    the real Lasagne package on symnet as Theano
    (``symnet.compat.install(lasagne=False)``, LASAGNE_DIR first on sys.path).

The backends are ``py`` and ``numba`` (``SYMNET_TIERED=0``, so every
function is compiled before its first call; ``SYMNET_STRICT=1``, so a
kernel that falls back fails the run); PROGRAMS marks the ones too slow on
numba for a bench run (NUMBA=all runs them too).

What a program does is one function here, calling the recipe's own
functions with small sizes: the model zoo's builders are built, their
parameters counted (and checked against the published totals where there
are some), set to random values with ``set_all_param_values`` (where the
recipe loads its pickle), and run forward once (``deterministic=True``) on
a small batch; the small nets also take training steps. Programs whose
``main`` fits small sizes (the LSTM text generator, the variational
autoencoder) run their ``main``. The recipe's text is never edited; what the
runner puts in its way is this, and only this (``install_standins``):

``lasagne.layers.dnn``
    cuDNN layers need a GPU: on a CPU, Lasagne and Theano raise ImportError
    for it (symnet does the same), so the model zoo, which imports them
    unconditionally, cannot run as is. The stand-in module holds the CPU
    layers of the running Lasagne under the cuDNN names (Conv2DDNNLayer is
    Conv2DLayer, MaxPool2DDNNLayer is MaxPool2DLayer, batch_norm_dnn is
    batch_norm...), which compute the same thing. With a GPU device in use
    (``BACKENDS=cuda THEANO_FLAGS=device=cuda``, on a GPU or with
    ``NUMBA_ENABLE_CUDASIM=1``) the real module imports (symnet's in mode A,
    Lasagne's on symnet's ``theano.gpuarray.dnn`` in mode B) and no
    stand-in is put in its way.
Python 2
    files Python 3 cannot parse (caffe_reference.py, the deep residual
    learning script) are converted in memory by the standard library's
    lib2to3 before they run; ``cPickle`` is ``pickle``; ``xrange`` is a
    builtin that truncates its float arguments as Python 2's integer
    division did; ``urllib2.urlopen`` returns the stand-in text as a
    Python 2 ``str`` (its ``decode``/``encode`` give the text back), and
    ``urllib.urlopen`` (Python 2's name, in the saliency notebook) gives
    no bytes (the image comes from the matplotlib stand-in). The
    preactivation/wide ResNet's models.py runs with Python 2's integer
    division (``a / b`` of two ints is ``a // b``, an AST rewrite in
    memory): its folder is Python 2 code, and its bottleneck net makes
    ``out_num_filters / 4`` filters.
Notebooks
    the code cells run in order in one namespace, IPython's ``%`` and ``!``
    lines left out, each converted by lib2to3 where it is Python 2; cells
    that load pretrained weights, or loop for long, are replaced by the
    runner's steps (each program's docstring says which); ``matplotlib``
    is a stand-in whose functions do nothing and whose ``imread`` gives a
    random image; ``skimage.transform.resize`` is nearest-neighbour; a
    ``theano.sandbox.cuda`` stand-in (the saliency notebook asks
    ``cuda_enabled``, as Theano before 1.0 could on a CPU) says False.
Missing packages
    ``skimage`` (imported by c3d.py for its image helpers, which are not
    run) and ``PIL.Image`` (the autoencoder saves pictures) are stubs when
    not installed; scipy (``scipy.stats.norm`` in the autoencoder) must be
    importable, e.g. from SITE.
Data
    weights are random; data sets are synthetic (CIFAR-10 batches in the
    pickled format, MNIST idx files, a short text), written where the
    program looks.

Printed per program, mode and backend: ran/failed, seconds, the checks'
numbers and the first line of any error; then whether the numba run gave
the py run's numbers, and whether mode B gave mode A's (it does when both
Lasagnes draw the same initial weights and noise; deterministic forwards on
set weights must agree).

Environment: MODES (default "A B"), BACKENDS (default "py numba"), NUMBA
("all" to run the slow programs on numba too), OUT (logs; a temp dir),
SITE (extra sys.path entries for the recipes' own needs, os.pathsep
separated), PYTHON (default: this interpreter).
"""
import ast
import builtins
import contextlib
import gzip
import io
import json
import os
import pickle
import sys
import tempfile
import time
import types

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.dl_tutorials import caught, run_fresh, same_numbers  # noqa: E402

__all__ = ["PROGRAMS", "DNN_NAMES", "random_param_values", "cifar_batches_standin",
           "mnist_idx_standin", "standin_text", "py2_source"]

# -- stand-ins -------------------------------------------------------------------------

#: cuDNN layer name -> the CPU layer of lasagne.layers computing the same.
DNN_NAMES = {"Conv2DDNNLayer": "Conv2DLayer", "Conv3DDNNLayer": "Conv3DLayer",
             "Pool2DDNNLayer": "Pool2DLayer", "MaxPool2DDNNLayer": "MaxPool2DLayer",
             "Pool3DDNNLayer": "Pool3DLayer", "MaxPool3DDNNLayer": "MaxPool3DLayer",
             "SpatialPyramidPoolingDNNLayer": "SpatialPyramidPoolingLayer",
             "BatchNormDNNLayer": "BatchNormLayer", "batch_norm_dnn": "batch_norm"}


class Py2Str(str):
    """Text that answers ``decode``/``encode`` as a Python 2 ``str`` did."""

    def decode(self, *args, **kwargs):
        return self

    def encode(self, *args, **kwargs):
        return self


def standin_text(n_chars=3000, seed=0):
    """Pseudo-English text holding lstm_text_generation.py's seed phrase."""
    rng = np.random.RandomState(seed)
    words = ("the quick brown fox jumps over a lazy dog and runs to its den while "
             "birds sing in tall trees").split()
    out = ["The quick brown fox jumps over the lazy dog."]
    while sum(len(w) + 1 for w in out) < n_chars:
        sentence = " ".join(words[i] for i in rng.randint(len(words), size=rng.randint(4, 12)))
        out.append(sentence.capitalize() + ".")
    return " ".join(out)[:n_chars]


def _module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


class _Nothing:
    """What the matplotlib stand-in's functions return: calls and attributes
    of it give it back (plots are out of scope)."""

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        return self


def random_image(path, *args):
    """The matplotlib stand-in's ``imread``: a random 120x160 RGB image,
    the same for the same path (one for every file object)."""
    seed = sum(map(ord, os.path.basename(path))) if isinstance(path, str) else 0
    return np.random.RandomState(seed).randint(0, 256, (120, 160, 3)).astype(np.uint8)


def resize_nearest(image, shape, preserve_range=True, **kwargs):
    """The skimage stand-in's ``transform.resize``: nearest neighbour to
    ``shape`` (the first two axes; floats truncated as Python 2 did)."""
    image = np.asarray(image)
    rows = (np.arange(int(shape[0])) * image.shape[0]) // int(shape[0])
    cols = (np.arange(int(shape[1])) * image.shape[1]) // int(shape[1])
    return image[rows][:, cols].astype(np.float64)


def install_standins():
    """The stand-ins of the module docstring (after lasagne is importable)."""
    import lasagne.layers
    try:
        import lasagne.layers.dnn  # noqa: F401  (a GPU device in use: the real ones)
    except ImportError:
        dnn = _module("lasagne.layers.dnn", **{k: getattr(lasagne.layers, v)
                                               for k, v in DNN_NAMES.items()})
        lasagne.layers.dnn = dnn
    _module("cPickle", **vars(pickle))
    builtins.xrange = lambda *args: range(*(int(a) for a in args))
    text = standin_text()
    _module("urllib2", urlopen=lambda url, *a, **k: types.SimpleNamespace(
        read=lambda: Py2Str(text)))
    stubbed = []
    try:
        import skimage  # noqa: F401
    except ImportError:
        sk = _module("skimage", transform=_module("skimage.transform", resize=resize_nearest),
                     color=_module("skimage.color"), io=_module("skimage.io"))
        sk.__path__ = []
        stubbed.append("skimage")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        pyplot = _module("matplotlib.pyplot", imread=random_image)
        pyplot.__getattr__ = lambda name: _Nothing()
        _module("matplotlib", pyplot=pyplot, use=_Nothing(), __path__=[])
        stubbed.append("matplotlib")
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        class _Image:
            def __init__(self, mode, size):
                self.mode, self.size = mode, tuple(size)

            def save(self, *args, **kwargs):
                pass

            def paste(self, *args, **kwargs):
                pass

        def fromarray(array, mode=None):
            array = np.asarray(array)
            return _Image(mode, (array.shape[1], array.shape[0]))
        image = _module("PIL.Image", new=_Image, fromarray=fromarray, Image=_Image)
        _module("PIL", Image=image, __path__=[])
        stubbed.append("PIL.Image")
    return stubbed


def py2_source(source):
    """``source`` converted to Python 3 by lib2to3 when it does not parse as
    Python 3, else unchanged."""
    try:
        compile(source, "<recipe>", "exec")
        return source
    except SyntaxError:
        pass
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lib2to3 is deprecated; Python 3.11 still has it
        from lib2to3 import refactor
        tool = refactor.RefactoringTool(refactor.get_fixers_from_package("lib2to3.fixes"))
    return str(tool.refactor_string(source if source.endswith("\n") else source + "\n",
                                    "<recipe>"))


def py2_div(a, b):
    """``a / b`` as Python 2 computed it: floor division for two integers."""
    if isinstance(a, int) and isinstance(b, int):
        return a // b
    return a / b


class Py2Division(ast.NodeTransformer):
    """Turns each ``a / b`` (and ``a /= b``) into ``py2_div(a, b)``."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, ast.Div):
            return node
        return ast.copy_location(ast.Call(ast.Name("py2_div", ast.Load()),
                                          [node.left, node.right], []), node)

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, ast.Div) or not isinstance(node.target, ast.Name):
            return node
        value = ast.Call(ast.Name("py2_div", ast.Load()),
                         [ast.Name(node.target.id, ast.Load()), node.value], [])
        return ast.copy_location(ast.Assign([node.target], value), node)


def load(path, name=None, division=False):
    """Import the recipe at ``path`` as a module (its folder first on
    sys.path, for its own imports); ``division``: with Python 2's integer
    division (for recipes written for Python 2 that parse as Python 3)."""
    name = name or os.path.splitext(os.path.basename(path))[0]
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    with open(path) as f:
        tree = ast.parse(py2_source(f.read()), path)
    module = types.ModuleType(name)
    module.__file__ = path
    if division:
        tree = ast.fix_missing_locations(Py2Division().visit(tree))
        module.py2_div = py2_div
    sys.modules[name] = module
    exec(compile(tree, path, "exec"), module.__dict__)
    return module


# -- synthetic data --------------------------------------------------------------------

def cifar_batches_standin(folder, per_batch=10, seed=0):
    """cifar-10-batches-py/data_batch_1..5 and test_batch as the CIFAR-10
    python pickles hold them: {'data': uint8 rows of 3072 (R, G, B planes),
    'labels': list of ints}; a label's class shifts its images' colour."""
    rng = np.random.RandomState(seed)
    os.makedirs(folder, exist_ok=True)
    for name in [f"data_batch_{j}" for j in range(1, 6)] + ["test_batch"]:
        labels = rng.randint(10, size=per_batch)
        data = rng.randint(0, 128, size=(per_batch, 3072)) + 12 * labels[:, None]
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump({"data": data.astype(np.uint8), "labels": [int(v) for v in labels]},
                        f, protocol=2)


def mnist_idx_standin(path, n, seed=0):
    """An MNIST images file (gzip, 16-byte header, uint8 28x28 images):
    symnet's 8x8 digits enlarged 3x and centred, cycled to ``n`` images."""
    from symnet.datasets import load_digits
    X, _ = load_digits()
    X = np.asarray(X, np.float64).reshape(-1, 8, 8)
    X = np.kron(X / X.max(), np.ones((3, 3)))
    images = np.zeros((n, 28, 28), np.uint8)
    images[:, 2:26, 2:26] = (255 * X[np.arange(n) % len(X)]).astype(np.uint8)
    header = np.array([2051, n, 28, 28], ">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + images.tobytes())


def random_param_values(params, seed=0):
    """Random values for ``params`` (shared variables named as Lasagne names
    them) that keep activations of order one through a deep net: weights
    scaled by 1/sqrt(fan in), BatchNorm's gamma and inv_std near 1, small
    biases, betas and means."""
    rng = np.random.RandomState(seed)
    out = []
    for p in params:
        v = p.get_value()
        shape, name = v.shape, (p.name or "").rsplit(".", 1)[-1]
        if name in ("gamma", "inv_std"):
            new = rng.uniform(0.8, 1.2, shape)
        elif v.ndim >= 2:
            fan_in = shape[0] if v.ndim == 2 else int(np.prod(shape[1:]))
            new = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        else:
            new = 0.01 * rng.standard_normal(shape)
        out.append(new.astype(v.dtype))
    return out


# -- notebooks -------------------------------------------------------------------------

def notebook_cells(path):
    """[(index, source)] of a notebook's code cells, IPython's lines (``%``
    magics, ``!`` shell commands) left out."""
    with open(path) as f:
        nb = json.load(f)
    out = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = cell["source"]
        source = "".join(source) if isinstance(source, list) else source
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        out.append((i, "\n".join(lines) + "\n"))
    return out


def run_notebook(path, replace=(), after=()):
    """Run a notebook's code cells in one namespace, in order; ``replace``
    maps a cell's index to the runner's function run instead (None: the
    cell is skipped), ``after`` to one run after it (to shrink sizes)."""
    replace, after = dict(replace), dict(after)
    ns = {"__name__": "__main__"}
    for i, source in notebook_cells(path):
        if i in replace:
            if replace[i] is not None:
                replace[i](ns)
        else:
            exec(compile(py2_source(source), f"{os.path.basename(path)} cell {i}", "exec"), ns)
        if i in after:
            after[i](ns)
    return ns


# -- the programs ----------------------------------------------------------------------

def _floatx(x):
    import theano
    return np.asarray(x, dtype=theano.config.floatX)


def zoo_checks(net, out_key, batch, known=None, input_key="input"):
    """Count, set random weights, forward once; numbers and facts."""
    import lasagne
    import theano
    out = net[out_key]
    numbers = [("params", lasagne.layers.count_params(out)),
               ("trainable", lasagne.layers.count_params(out, trainable=True))]
    if known is not None and numbers[0][1] != known:
        raise AssertionError(f"{numbers[0][1]} parameters, the published total is {known}")
    params = lasagne.layers.get_all_params(out)
    values = random_param_values(params)
    lasagne.layers.set_all_param_values(out, values)
    back = lasagne.layers.get_all_param_values(out)
    assert all(np.array_equal(a, b) for a, b in zip(back, values)), "values not set"
    x = _floatx(np.random.RandomState(1).standard_normal(batch))
    f = theano.function([net[input_key].input_var],
                        lasagne.layers.get_output(out, deterministic=True))
    y = f(x)
    assert np.all(np.isfinite(y)), "forward output not finite"
    print(f"output shape {y.shape}, sum {float(y.sum()):.6g}, first {float(y.flat[0]):.6g}")
    numbers += [("out sum", float(y.sum())), ("out first", float(y.flat[0])),
                ("out absmax", float(np.abs(y).max()))]
    return numbers, list(y.shape)


def train_steps(out, input_var, x, y, steps=3, lr=0.01, extra_loss=None):
    """``steps`` Nesterov steps on one batch; the losses (finite)."""
    import lasagne
    import theano
    import theano.tensor as T
    target = T.ivector("targets")
    pred = lasagne.layers.get_output(out)
    loss = lasagne.objectives.categorical_crossentropy(pred, target).mean()
    if extra_loss is not None:
        loss = loss + extra_loss
    params = lasagne.layers.get_all_params(out, trainable=True)
    updates = lasagne.updates.nesterov_momentum(loss, params, learning_rate=lr, momentum=0.9)
    fn = theano.function([input_var, target], loss, updates=updates)
    losses = [float(fn(_floatx(x), np.asarray(y, np.int32))) for _ in range(steps)]
    print("losses", " ".join(f"{v:.6g}" for v in losses))
    assert np.all(np.isfinite(losses)), f"losses not finite: {losses}"
    return [(f"loss {i}", v) for i, v in enumerate(losses)]


def _cifar_batch(n=4, seed=2, size=32):
    rng = np.random.RandomState(seed)
    return rng.standard_normal((n, 3, size, size)), rng.randint(10, size=n)


def zoo(file, builder, out_key, batch, known=None, kwargs=None, train=None, input_key="input"):
    """A model zoo program: build, count, random weights, forward [, train]."""
    def run(recipes, work):
        module = load(os.path.join(recipes, "modelzoo", file))
        net = getattr(module, builder)(**(kwargs or {}))
        numbers, shape = zoo_checks(net, out_key, batch, known, input_key)
        if train:
            import lasagne
            x, y = train(net)
            out = net[out_key]
            if getattr(out, "nonlinearity", None) is not lasagne.nonlinearities.softmax:
                # cifar10_nin ends in its scores (relu, average pooled): the
                # cross-entropy needs probabilities
                out = lasagne.layers.NonlinearityLayer(out, lasagne.nonlinearities.softmax)
            numbers += train_steps(out, net["input"].input_var, x, y)
        return numbers, {"output shape": shape}
    return run


def unet_batch(net):
    # the segmentation output is one softmax row per pixel: targets per pixel
    rng = np.random.RandomState(2)
    return rng.standard_normal((2, 1, 32, 32)), rng.randint(2, size=2 * 32 * 32)


def deep_residual(recipes, work):
    """The deep residual learning script's main, step by step at n=1: its
    load_data on small CIFAR-10 pickles, its loss (with L2) and momentum
    updates, two training steps on its augmenting minibatches, its
    validation function, and the npz save/load of its model option."""
    import lasagne
    import theano
    import theano.tensor as T
    cifar_batches_standin(os.path.join(work, "cifar-10-batches-py"))
    m = load(os.path.join(recipes, "papers", "deep_residual_learning",
                          "Deep_Residual_Learning_CIFAR-10.py"), "deep_residual")
    data = m.load_data()
    assert data["X_train"].shape == (120, 3, 32, 32), data["X_train"].shape  # 60 + mirrored
    input_var, target_var = T.tensor4("inputs"), T.ivector("targets")
    network = m.build_cnn(input_var, n=1)
    numbers = [("params", lasagne.layers.count_params(network, trainable=True))]
    prediction = lasagne.layers.get_output(network)
    loss = lasagne.objectives.categorical_crossentropy(prediction, target_var).mean()
    all_layers = lasagne.layers.get_all_layers(network)
    loss = loss + lasagne.regularization.regularize_layer_params(
        all_layers, lasagne.regularization.l2) * 0.0001
    params = lasagne.layers.get_all_params(network, trainable=True)
    sh_lr = theano.shared(lasagne.utils.floatX(0.1))
    updates = lasagne.updates.momentum(loss, params, learning_rate=sh_lr, momentum=0.9)
    train_fn = theano.function([input_var, target_var], loss, updates=updates)
    test_prediction = lasagne.layers.get_output(network, deterministic=True)
    test_loss = lasagne.objectives.categorical_crossentropy(test_prediction, target_var).mean()
    test_acc = T.mean(T.eq(T.argmax(test_prediction, axis=1), target_var),
                      dtype=theano.config.floatX)
    val_fn = theano.function([input_var, target_var], [test_loss, test_acc])
    np.random.seed(3)
    X, Y = data["X_train"][:16], data["Y_train"][:16]
    for i, (inputs, targets) in enumerate(m.iterate_minibatches(X, Y, 8, shuffle=True,
                                                                augment=True)):
        numbers.append((f"train loss {i}", float(train_fn(inputs, targets))))
    err, acc = val_fn(X[:8], Y[:8])
    numbers += [("val loss", float(err)), ("val acc", float(acc))]
    np.savez("model.npz", *lasagne.layers.get_all_param_values(network))
    with np.load("model.npz") as f:
        lasagne.layers.set_all_param_values(network, [f[f"arr_{i}"]
                                                      for i in range(len(f.files))])
    assert np.isclose(val_fn(X[:8], Y[:8])[0], err, rtol=1e-5)
    print(numbers)
    return numbers, {}


def densenet(file):
    def run(recipes, work):
        import lasagne
        import theano.tensor as T
        m = load(os.path.join(recipes, "papers", "densenet", file))
        input_var = T.tensor4("inputs")
        net = m.build_densenet(input_var=input_var, depth=7, first_output=8, growth_rate=4,
                               dropout=0.2)
        numbers = [("params", lasagne.layers.count_params(net, trainable=True))]
        x, y = _cifar_batch()
        numbers += train_steps(net, input_var, x, y)
        return numbers, {}
    return run


def preact(builder, **kwargs):
    # models.py's folder is Python 2 (its utils.py and train_nn.py do not
    # parse as Python 3); the bottleneck net computes out_num_filters / 4
    def run(recipes, work):
        import lasagne
        import theano.tensor as T
        m = load(os.path.join(recipes, "papers", "preactivation_and_wide_resnet", "models.py"),
                 division=True)
        input_var = T.tensor4("inputs")
        net = getattr(m, builder)(input_var, **kwargs)
        numbers = [("params", lasagne.layers.count_params(net, trainable=True))]
        x, y = _cifar_batch()
        numbers += train_steps(net, input_var, x, y)
        return numbers, {}
    return run


@contextlib.contextmanager
def printed(numbers, patterns):
    """Appends to ``numbers`` each (label, value) the block prints in a line
    matching one of ``patterns`` (regexes, the value their last group)."""
    import re
    buf = io.StringIO()

    class Tee(io.TextIOBase):
        def write(self, s):
            buf.write(s)
            return sys.__stdout__.write(s)
    with contextlib.redirect_stdout(Tee()):
        yield
    for line in buf.getvalue().splitlines():
        for label, pattern in patterns:
            m = re.search(pattern, line)
            if m:
                numbers.append((label, float(m.group(m.lastindex))))


def lstm_text(recipes, work):
    """main() of lstm_text_generation.py on the stand-in text, with 32
    units, 3 updates between its text generations and a third of an epoch."""
    m = load(os.path.join(recipes, "examples", "lstm_text_generation.py"))
    m.N_HIDDEN, m.PRINT_FREQ = 32, 3  # read by main() when it runs
    numbers = []
    with printed(numbers, [("average loss", r"average loss = (\S+)")]):
        m.main(num_epochs=0.3)
    assert len(numbers) == 7 and np.all(np.isfinite([v for _, v in numbers])), numbers
    return numbers, {}


def vae(recipes, work):
    """main() of variational_autoencoder.py on MNIST idx files made here
    (600 training, 10,000 validation as it splits them, 200 test images),
    one epoch, 64 hidden units: train, test, the saved pictures and
    parameters, and the 2-d latent space's 19x19 generated images."""
    n_train = 600
    mnist_idx_standin("train-images-idx3-ubyte.gz", n_train + 10000)
    mnist_idx_standin("t10k-images-idx3-ubyte.gz", 200, seed=1)
    m = load(os.path.join(recipes, "examples", "variational_autoencoder",
                          "variational_autoencoder.py"))
    numbers = []
    with printed(numbers, [(k, rf"{k}:\s+(\S+)") for k in ("training loss", "validation loss",
                                                          "test loss")]):
        m.main(L=2, z_dim=2, n_hid=64, num_epochs=1, binary=True)
    assert len(numbers) == 3 and np.all(np.isfinite([v for _, v in numbers])), numbers
    saved = [f for f in os.listdir(".") if f.startswith("params_") and f.endswith(".npz")]
    assert len(saved) == 1, saved
    return numbers, {}


def cluttered_mnist_standin(path, sizes=(128, 32, 32), dim=60, seed=0):
    """mnist_cluttered_60x60_6distortions.npz as the spatial transformer
    notebook loads it: x_train/x_valid/x_test rows of dim*dim float32 in
    [0, 1], y_* one-hot rows of 10. Each image holds one of symnet's 8x8
    digits enlarged 3x at a random place, over four 6x6 bits of others."""
    from symnet.datasets import load_digits
    X, y = load_digits()
    X = np.asarray(X, np.float32).reshape(-1, 8, 8) / 16.0
    rng = np.random.RandomState(seed)
    arrays = {}
    for split, n in zip(("train", "valid", "test"), sizes):
        images = np.zeros((n, dim, dim), np.float32)
        pick = rng.randint(len(X), size=n)
        for k, i in enumerate(pick):
            for _ in range(4):
                r, c = rng.randint(dim - 6, size=2)
                images[k, r:r + 6, c:c + 6] = np.kron(X[rng.randint(len(X))], np.ones((3, 3)))[:6, :6]
            r, c = rng.randint(dim - 24, size=2)
            images[k, r:r + 24, c:c + 24] = np.kron(X[i], np.ones((3, 3), np.float32))
        arrays[f"x_{split}"] = images.reshape(n, -1)
        arrays[f"y_{split}"] = np.eye(10, dtype=np.float32)[np.asarray(y)[pick]]
    np.savez(path, **arrays)


def spatial_transformer(recipes, work):
    """The spatial transformer notebook on a stand-in cluttered MNIST (128
    training images: cell 4 shows the 102nd), two epochs of batches of 32;
    its plots are stubs."""
    cluttered_mnist_standin("mnist_cluttered_60x60_6distortions.npz")

    def small(ns):  # cell 0 defines the sizes every later cell reads
        ns["NUM_EPOCHS"], ns["BATCH_SIZE"] = 2, 32
    numbers = []
    with printed(numbers, [("train cost", r"Train cost (\S+),"), ("test acc", r"test acc (\S+)")]):
        ns = run_notebook(os.path.join(recipes, "examples", "spatial_transformer_network.ipynb"),
                          after={0: small})
    assert len(numbers) == 4 and np.all(np.isfinite([v for _, v in numbers])), numbers
    shape = list(ns["test_transform"].shape)
    assert shape == [32, 1, 20, 20], shape  # downsample_factor 3 of 60x60
    return numbers, {"transform shape": shape}


def style_transfer(recipes, work):
    """The art style transfer notebook at IMAGE_W 32 (the VGG-19 features
    down to pool5's 1x1), random weights and random photo and painting:
    cell 4 opens the weights' pickle in text mode (Python 2), so the runner
    takes its steps (build_model, set_all_param_values with random values);
    cell 15's 8 x 40 L-BFGS evaluations become the gradient against central
    differences along a random direction and one L-BFGS run of 5."""
    import lasagne
    import scipy.optimize

    def small(ns):
        ns["IMAGE_W"] = 32

    def weights(ns):
        net = ns["net"] = ns["build_model"]()
        params = lasagne.layers.get_all_params(net["pool5"])
        lasagne.layers.set_all_param_values(net["pool5"], random_param_values(params))

    numbers = []

    def optimise(ns):
        x0 = ns["generated_image"].get_value().astype("float64")
        d = np.random.RandomState(5).standard_normal(x0.shape)
        d /= np.linalg.norm(d)
        h = 2.0
        fd = (ns["eval_loss"](x0 + h * d) - ns["eval_loss"](x0 - h * d)) / (2 * h)
        analytic = float(ns["eval_grad"](x0) @ d.ravel())
        numbers.extend([("loss", float(ns["eval_loss"](x0))), ("directional grad", analytic)])
        print(f"directional derivative {analytic:.6g}, central difference {fd:.6g}")
        assert np.isclose(analytic, fd, rtol=0.02), (analytic, fd)
        x, loss, _ = scipy.optimize.fmin_l_bfgs_b(ns["eval_loss"], x0.flatten(),
                                                  fprime=ns["eval_grad"], maxfun=5)
        numbers.append(("loss after 5", float(loss)))
        assert loss < numbers[0][1], (loss, numbers[0][1])
        ns["xs"] = [x0] + [x.reshape(x0.shape)] * 8  # cell 17 plots nine
    run_notebook(os.path.join(recipes, "examples", "styletransfer", "Art Style Transfer.ipynb"),
                 replace={4: weights, 15: optimise}, after={2: small})
    return numbers, {}


def saliency(recipes, work):
    """The saliency maps and guided backpropagation notebook, all of it
    (default gradient, guided backprop, deconvnet on two images) with
    random VGG-16 weights: cell 3 loads the weights' pickle, so the runner
    sets ``weights``, ``classes`` and ``mean_pixel`` instead (the values
    from the shapes of the model zoo's vgg16.py, the recipe's same net).
    The images come through Python 2's ``urllib.urlopen`` (a stand-in
    giving no bytes) and the matplotlib stand-in's imread; cell 17 asks
    ``theano.sandbox.cuda.cuda_enabled`` (Theano before 1.0 had the module
    on a CPU too): a stand-in module answers False."""
    import urllib
    import lasagne
    import theano
    urllib.urlopen = lambda url, *a, **k: io.BytesIO(b"")
    theano.sandbox.cuda = _module("theano.sandbox.cuda", cuda_enabled=False)

    def weights(ns):
        zoo_vgg16 = load(os.path.join(recipes, "modelzoo", "vgg16.py"), "vgg16")
        params = lasagne.layers.get_all_params(zoo_vgg16.build_model()["prob"])
        ns["weights"] = random_param_values(params)
        ns["classes"] = [f"class {i}" for i in range(1000)]
        ns["mean_pixel"] = np.array([103.939, 116.779, 123.68])

    numbers = []
    maps = []

    def keep(ns):  # after each cell computing a saliency map
        sal, cls = ns["saliency_fn"](ns["img"])
        assert sal.shape == (1, 3, 224, 224) and np.all(np.isfinite(sal)), sal.shape
        maps.append(sal)
        numbers.append((f"saliency {len(maps)} abs sum", float(np.abs(sal).sum())))
        print(numbers[-1], "class", int(cls[0]))
    ns = run_notebook(os.path.join(recipes, "examples",
                                   "Saliency Maps and Guided Backpropagation.ipynb"),
                      replace={3: weights}, after={15: keep, 23: keep, 27: keep})
    # guided backprop passes only positive gradients through positive inputs:
    # its map differs from the plain gradient's, and the relus were swapped
    assert not np.allclose(maps[0], maps[1]) and not np.allclose(maps[1], maps[2])
    assert len(ns["relu_layers"]) == 15  # 13 convolutions and fc6, fc7
    return numbers, {}


# program -> (function, runs on numba in a bench run). Published totals:
# VGG16 138,357,544 and VGG19 143,667,240 parameters (the ILSVRC models);
# cifar10_nin's 966,986 is its layers' sum (conv 3*192*25+192, ...).
PROGRAMS = {
    "cifar10_nin": (zoo("cifar10_nin.py", "build_model", "output", (4, 3, 32, 32), 966986,
                        train=lambda net: _cifar_batch()), True),
    "vgg16": (zoo("vgg16.py", "build_model", "prob", (1, 3, 224, 224), 138357544), True),
    "vgg19": (zoo("vgg19.py", "build_model", "prob", (1, 3, 224, 224), 143667240), True),
    "googlenet": (zoo("googlenet.py", "build_model", "prob", (1, 3, 224, 224)), True),
    "inception_v3": (zoo("inception_v3.py", "build_network", "softmax", (1, 3, 299, 299)),
                     True),
    "resnet50": (zoo("resnet50.py", "build_model", "prob", (1, 3, 224, 224)), True),
    "caffe_reference": (zoo("caffe_reference.py", "build_model", "fc8", (1, 3, 227, 227),
                            input_key="data"), True),
    "vgg_cnn_s": (zoo("vgg_cnn_s.py", "build_model", "prob", (1, 3, 224, 224)), True),
    "c3d": (zoo("c3d.py", "build_model", "prob", (1, 3, 16, 112, 112)), True),
    "Unet": (zoo("Unet.py", "build_UNet", "output_flattened", (2, 1, 32, 32),
                 kwargs=dict(input_dim=(32, 32), base_n_filters=4), train=unet_batch), True),
    "deep_residual": (deep_residual, True),
    "densenet": (densenet("densenet.py"), True),
    "densenet_fast": (densenet("densenet_fast.py"), True),
    "preact_resnet": (preact("ResNet_FullPreActivation", n=1), True),
    "preact_bottleneck": (preact("ResNet_BottleNeck_FullPreActivation", n=1), True),
    "wide_resnet": (preact("ResNet_FullPre_Wide", n=1, k=1), True),
    "lstm_text_generation": (lstm_text, True),
    "variational_autoencoder": (vae, True),
    "spatial_transformer": (spatial_transformer, True),
    "style_transfer": (style_transfer, True),
    # five VGG-16 gradients at 224x224: 111 s on numba (the py run's numbers)
    "saliency": (saliency, False),
}


# -- one program in this process -------------------------------------------------------

def run_program(name, mode, recipes, lasagne_dir, work):
    import symnet.compat
    if mode == "B":
        sys.path.insert(0, os.path.abspath(lasagne_dir))
        symnet.compat.install(lasagne=False)
    else:
        symnet.compat.install()
    for entry in filter(None, os.environ.get("SITE", "").split(os.pathsep)):
        sys.path.append(entry)
    import lasagne
    result = {"program": name, "mode": mode, "backend": os.environ.get("SYMNET_MODE", "default"),
              "lasagne": os.path.dirname(lasagne.__file__), "error": None, "numbers": [],
              "facts": {}}
    result["stubbed"] = install_standins()
    lasagne.random.set_rng(np.random.RandomState(1234))
    np.random.seed(1234)
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    t0 = time.time()
    with caught(result):
        numbers, result["facts"] = PROGRAMS[name][0](os.path.abspath(recipes), work)
        result["numbers"] = [(label, float(v)) for label, v in numbers]
    result["seconds"] = round(time.time() - t0, 1)
    return result


# -- the driver ------------------------------------------------------------------------

def main(argv):
    if argv and argv[0] == "run":
        name, mode, recipes, lasagne_dir, work, out_json = argv[1:7]
        result = run_program(name, mode, recipes, lasagne_dir, work)
        with open(out_json, "w") as f:
            json.dump(result, f)
        return 0 if result["error"] is None else 1
    if (len(argv) < 2 or not os.path.isfile(os.path.join(argv[0], "modelzoo", "vgg16.py"))
            or not os.path.isfile(os.path.join(argv[1], "lasagne", "__init__.py"))):
        print(f"usage: {sys.argv[0]} RECIPES_DIR LASAGNE_DIR [PROGRAM ...]  "
              "(RECIPES_DIR/modelzoo/vgg16.py and LASAGNE_DIR/lasagne/ must exist)",
              file=sys.stderr)
        return 2
    recipes, lasagne_dir = (os.path.abspath(a) for a in argv[:2])
    names = argv[2:] or list(PROGRAMS)
    unknown = [n for n in names if n not in PROGRAMS]
    if unknown:
        print(f"unknown program(s) {unknown}; known: {' '.join(PROGRAMS)}", file=sys.stderr)
        return 2
    out = os.environ.get("OUT") or tempfile.mkdtemp(prefix="recipes.")
    os.makedirs(out, exist_ok=True)
    modes = os.environ.get("MODES", "A B").split()
    backends = os.environ.get("BACKENDS", "py numba").split()
    status = 0
    for name in names:
        results = {}
        for mode in modes:
            for backend in backends:
                if backend != "py" and not PROGRAMS[name][1] and os.environ.get("NUMBA") != "all":
                    continue
                tag = f"{name}.{mode}.{backend}"
                log, out_json = (os.path.join(out, f"{tag}.{ext}") for ext in ("log", "json"))
                r = run_fresh(os.path.abspath(__file__), [name, mode, recipes, lasagne_dir,
                                                          os.path.join(out, "work", tag)],
                              backend, log, out_json, facts={})
                results[mode, backend] = r
                shown = ", ".join(f"{k} {v:.6g}" for k, v in r["numbers"][:4])
                line = (f"{name:24s} {mode} {backend:5s} {'ran' if r['error'] is None else 'FAILED':6s}"
                        f" {r['seconds']:7.1f} s  {shown}")
                if r["error"]:
                    status = 1
                    line += f"\n{'':38s}error: {r['error']}"
                print(line, flush=True)
        ran = {k: r for k, r in results.items() if r["error"] is None}
        first = next(iter(ran), None)
        for key, r in ran.items():
            if key != first:
                diff = same_numbers(ran[first]["numbers"], r["numbers"])
                print(f"{'':38s}{'/'.join(key)} vs {'/'.join(first)}: "
                      + ("same numbers" if diff is None else diff), flush=True)
    print(f"logs: {out}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
