"""Run public Theano and Lasagne programs from the wild unchanged on symnet,
through the compat shim: the classic intro scripts (Newmu/Theano-Tutorials,
benanne/theano-tutorial, marekrei/theano-tutorial) and larger programs with
custom layers and scan (snipsco/ntm-lasagne, ...), libraries' own test
suites (deep_q_rl's unittest cases, nolearn's pytest suite: entry
``pytest``) and notebooks (a ``.ipynb`` script runs its code cells as one
program).

    python bench/wild_programs.py SRC_DIR [PROGRAM ...]

SRC_DIR holds one checkout per repository, named ``owner+name``
(``Newmu+Theano-Tutorials/0_multiply.py`` ...). Nothing is copied from
them into symnet and no program file is edited. Not part of CI: CI has no
checkouts.

Each program runs in a fresh process per backend: ``py`` and ``numba``
(``SYMNET_TIERED=0``, ``SYMNET_STRICT=1`` by default, so a kernel that
falls back fails the run), with ``symnet.compat.install()`` done before the
program imports ``theano`` / ``lasagne``, the program's folder first on
sys.path, and its own working directory. What the runner puts between the
program and Python 3:

Python 2
    The programs are Python 2 (``print x``, ``xrange``, ``cPickle``,
    implicit relative imports). Their files are translated in memory by
    Python's own 2to3 (lib2to3, its default fixers; ``fix_import`` only for
    files inside a package) as they are imported; integer ``/`` keeps
    Python 3's meaning (2to3 does not change it).
Data
    The machine has no network, so each program's data loader gets a
    stand-in with the loader's name and signature (``load.mnist``,
    ``load.cifar10``) that returns symnet's bundled 8x8 digits, enlarged,
    in the loader's types, with few examples; text data sets are written as
    files in the program's format (see ``STANDINS``).
NumPy 1
    ``np.cast[dtype](x)``, removed in NumPy 2.0, is put back (``numpy1_names``).
GPU layers
    ``lasagne.layers.dnn`` and ``lasagne.layers.cuda_convnet`` (GPU-only)
    hold the CPU layers for programs that list ``gpu_layers``
    (``gpu_layer_modules``).
Other libraries
    nolearn's suite needs scikit-learn, tabulate and mock (and matplotlib
    for its plot tests) on PYTHONPATH; scikit-learn's modules removed since
    0.17 are stand-ins (``old_sklearn_modules``). sknn's suite needs nose
    and pandas too; AgentNet's six, nose-parameterized and pandas; kfkd
    pandas (pandas with python-dateutil, which the matplotlib folder has).
Plots
    ``matplotlib`` is stubbed when it is not installed (every attribute of
    ``matplotlib.pyplot`` is a no-op): the plots are out of scope.
Length
    Programs that train for hours are stopped after they have printed
    ``stop`` result lines (a ``StopProgram`` raised from their print): the
    run counts as ran, and the result lines are compared across backends.
    A program that logs its results (``logging.StreamHandler()``) has its
    stderr read too (``stderr=True``).

Printed per program and backend: ran/stopped/failed, seconds, the last
numbers printed, the first line of any error; then whether the numba run
printed the same numbers as the py run. Environment: BACKENDS (default
"py numba"), STRICT (default 1), FLOATX (float64 runs the programs as
Theano's default floatX would; symnet's default is float32), LASAGNE_SRC
(a folder holding the real ``lasagne`` package: the programs then run it on
symnet-as-theano, ``compat.install(lasagne=False)``), OUT (logs; a temp
dir), PYTHON.
"""
import contextlib
import functools
import io
import json
import os
import re
import sys
import tempfile
import time
import types

import numpy as np

if __name__ == "__main__":  # run as a script: bench.* from this checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench.dl_tutorials import (compare_to_py, failure, run_fresh,  # noqa: E402
                                same_numbers)

__all__ = ["PROGRAMS", "py2to3", "printed_numbers", "same_numbers", "StopProgram", "run_tests",
           "stub_module", "digits_images", "one_hot", "sentiment_standin"]


# name -> repository folder, script, argv, stand-in loaders, the regex of a
# result line, how many result lines to wait for before stopping (None: run
# to the end).
def _p(repo, script, argv=(), standins=(), result=r".", stop=None, lasagne=True, stubs=None,
       entry=None, path=(), floatx=None, stderr=False):
    # stderr: the result lines come there too (a program that reports
    # through logging.StreamHandler())
    return dict(repo=repo, script=script, argv=list(argv), standins=list(standins),
                result=result, stop=stop, lasagne=lasagne, stubs=stubs or {}, entry=entry,
                path=list(path), floatx=floatx, stderr=stderr)


NEWMU, BENANNE, MAREKREI = "Newmu+Theano-Tutorials", "benanne+theano-tutorial", "marekrei+theano-tutorial"
PROGRAMS = {
    "newmu/0_multiply": _p(NEWMU, "0_multiply.py"),
    "newmu/1_linear_regression": _p(NEWMU, "1_linear_regression.py"),
    # each epoch prints the test accuracy
    "newmu/2_logistic_regression": _p(NEWMU, "2_logistic_regression.py", standins=["newmu_mnist"],
                                      stop=3),
    # imports (and never calls) Newmu's unpublished foxhound and scipy.misc.imsave
    # (gone from SciPy since 1.2): no-op stand-ins
    "newmu/3_net": _p(NEWMU, "3_net.py", standins=["newmu_mnist"], stop=3,
                      stubs={"foxhound.utils.vis": ["grayscale_grid_vis", "unit_scale"],
                             "scipy.misc": ["imsave"]}),
    "newmu/4_modern_net": _p(NEWMU, "4_modern_net.py", standins=["newmu_mnist"], stop=3),
    "newmu/5_convolutional_net": _p(NEWMU, "5_convolutional_net.py", standins=["newmu_mnist"],
                                    stop=2),
    "benanne/1_multiply": _p(BENANNE, "1_multiply.py"),
    # feeds NumPy float64 scalars to T.scalar(): floatX float32 (symnet's
    # default, API.md) refuses them, as Theano with floatX=float32 does; run
    # with Theano's default, float64 (a flag, not an edit)
    "benanne/2_linear_regression": _p(BENANNE, "2_linear_regression.py", result="w =", stop=5,
                                      floatx="float64"),
    "benanne/3_logistic_regression": _p(BENANNE, "3_logistic_regression.py",
                                        standins=["cifar10"], result="accuracy", stop=3),
    "benanne/4_net": _p(BENANNE, "4_net.py", standins=["cifar10"], result="accuracy", stop=3),
    "benanne/5_fancy_net": _p(BENANNE, "5_fancy_net.py", standins=["cifar10"],
                              result="accuracy", stop=3),
    "benanne/6_convnet": _p(BENANNE, "6_convnet.py", standins=["cifar10"], result="accuracy",
                            stop=2),
    "benanne/6_convnet_dropout": _p(BENANNE, "6_convnet_dropout.py", standins=["cifar10"],
                                    result="accuracy", stop=2),
    "benanne/6_convnet_color": _p(BENANNE, "6_convnet_color.py", standins=["cifar10"],
                                  result="accuracy", stop=2),
    # written for Lasagne before 0.1 (MaxPool2DLayer(ds=), objectives.Objective,
    # layer.get_output()): Lasagne 0.2's API (the contract) has none of them
    "benanne/7_convnet_lasagne": _p(BENANNE, "7_convnet_lasagne.py", standins=["cifar10"],
                                    result="accuracy", stop=2),
    "marekrei/minimal_working_example": _p(MAREKREI, "minimal_working_example.py"),
    "marekrei/minimal_training_example": _p(MAREKREI, "minimal_training_example.py"),
    # the countries data set ships with the repository
    "marekrei/classifier": _p(MAREKREI, "classifier.py",
                              argv=["{repo}/data/countries-classify-gdp-normalised.train.txt",
                                    "{repo}/data/countries-classify-gdp-normalised.test.txt"]),
    # float32: a training prediction of 240 flips between py and numba in
    # the last epoch (near-tie argmax; costs agree to 3e-7); FLOATX=float64
    # prints the same numbers on both
    "marekrei/rnnclassifier": _p(MAREKREI, "rnnclassifier.py",
                                 argv=["{data}/sentiment.train.txt", "{data}/sentiment.test.txt"],
                                 standins=["sentiment"]),
    # trains for a million sequences, printing every 500: stopped after the first
    # (its Dashboard, never reached, plots with pandas)
    "ntm/copy-task": _p("snipsco+ntm-lasagne", "examples/copy-task.py", result="Batch", stop=1,
                        stubs={"pandas": []}),
    # main() reads CoNLL files with Python 2 strings (`line.decode('utf-8')`
    # on a str): the file's own test() of the CRF loss and accuracy runs
    # instead; gensim (word2vec embeddings, not used) is a stand-in
    "lasagnenlp/crf_test": _p("XuezheMax+LasagneNLP", "bi_lstm_cnn_crf.py", entry="test",
                              stubs={"gensim.models.word2vec": ["Word2Vec"]}),
    "lasagnenlp/bi_lstm_cnn_crf": _p("XuezheMax+LasagneNLP", "bi_lstm_cnn_crf.py",
                                     entry="train_bilstm_cnn_crf",
                                     stubs={"gensim.models.word2vec": ["Word2Vec"]}),
}
PROGRAMS["ntm/copy-task"]["path"] = [""]  # `from ntm.layers import ...`: the repository root
# the same training loop on other tasks; associative-recall trains with
# lasagne.updates.adam and a theano.shared(1e-4) learning rate, a float64
# scalar: on the real Lasagne its float32 parameters get float64 updates,
# refused as Theano refused them (it runs at floatX=float64); symnet's adam
# keeps the parameters' dtype
for _task in ("reversed-copy", "repeat-copy", "associative-recall", "dyck-words", "sort",
              "upsidedown-copy"):
    PROGRAMS[f"ntm/{_task}-task"] = dict(PROGRAMS["ntm/copy-task"],
                                         script=f"examples/{_task}-task.py")
# ntm's own unit tests feed float64 arrays to T.tensor3() and friends: they
# were written for Theano's default floatX, float64; symnet's float32
# refuses the float64 data (as Theano with floatX=float32 does).
# test_sharpening's NumPy reference stores a (1,)-array into an element,
# which NumPy 2 refuses ("setting an array element with a sequence")
for _test in ("similarities", "heads", "layers"):
    PROGRAMS[f"ntm/test_{_test}"] = _p("snipsco+ntm-lasagne", f"ntm/test/test_{_test}.py",
                                       path=[""], entry="run_tests", floatx="float64")

# Newmu's DCGAN: its lib/ops.py deconvolves with Theano's cuDNN ops
# (theano.sandbox.cuda.dnn: GPU internals symnet does not provide, a clear
# ImportError); tqdm and sklearn's joblib, imported first, are stand-ins
PROGRAMS["dcgan/mnist_cond"] = _p("Newmu+dcgan_code", "mnist/train_cond_dcgan.py", path=[""],
                                  stubs={"tqdm": ["tqdm"], "sklearn.externals.joblib": ["dump"]})
# Lasagne's Recipes: a variational autoencoder on MNIST's idx files (the
# runner writes stand-ins into its working directory: 10,600 training
# images, of which the last 10,000 validate, and 500 test images), two
# epochs of 64 hidden units (its defaults: 300 and 1,024); PIL (it saves
# pictures) and scipy.stats.norm (the inverse normal CDF, from the standard
# library here) are stand-ins
PROGRAMS["recipes/variational_autoencoder"] = _p(
    "Lasagne+Recipes", "examples/variational_autoencoder/variational_autoencoder.py",
    argv=["--num_epochs", "2", "--n_hid", "64"], standins=["mnist_idx", "pil", "scipy_norm"])
# the RNN tutorials' finite differences need float64, Theano's default floatX
PROGRAMS["wildml/rnnlm"] = _p("dennybritz+rnn-tutorial-rnnlm", "rnn_theano.py",
                              entry="check_and_train_rnn", floatx="float64")
PROGRAMS["wildml/gru"] = _p("dennybritz+rnn-tutorial-gru-lstm", "utils.py",
                            entry="check_and_train_rnn", floatx="float64",
                            stubs={"nltk": []})  # it tokenizes the CSV, not read here
PROGRAMS["seq2seq/model"] = _p("nicolas-ivanov+lasagne_seq2seq", "lib/nn_model/model.py", path=[""],
                                entry="train_seq2seq")

# pixel-rnn-lasagne (Python 3 already): its layer files test themselves when
# run; colorlog (coloured logging) is a stand-in whose info() prints
PIXELRNN, COLORLOG = "taimir+pixel-rnn-lasagne", {"colorlog": ["basicConfig", "debug", "print:info"]}
for _name in ("skew", "convs", "diag_lstm"):
    PROGRAMS[f"pixelrnn/{_name}"] = _p(PIXELRNN, f"layers/{_name}.py", path=[""], stubs=COLORLOG)
# main.py only samples from a saved model (its train_model() call is
# commented out): the runner trains a small PixelRNN with main.py's own
# train_model() (see train_pixelrnn). It fails by API.md's contract:
# DiagLSTMLayer hands its (1,)-shaped bias to a Conv1DLayer of 4h filters;
# Lasagne checks only the number of dimensions, and Theano broadcast the
# length-1 axis at run time; symnet's shared variables know their shape and
# refuse it when the layer is built, naming layer, parameter and both shapes.
# On the real Lasagne (LASAGNE_SRC), which checks only the number of
# dimensions, it trains (a static size of 1 broadcasts)
PROGRAMS["pixelrnn/train"] = _p(PIXELRNN, "main.py", path=[""], entry="train_pixelrnn",
                                stubs=dict(COLORLOG, scipy=[]))

# deep_q_rl (Nathan Sprague's DQN): its unit tests (a linear Q-learner on
# a chain MDP, against the Q-values worked out by hand) and the convnets'
# training step (see train_dqn); the convnets are built from cuDNN and
# cuda-convnet layers, GPU-only: stand-ins hold the CPU layers
# (gpu_layer_modules)
DQN = "spragunr+deep_q_rl"
PROGRAMS["dqn/test_q_network"] = _p(DQN, "deep_q_rl/test/test_q_network.py", path=[""],
                                    entry="run_tests")
PROGRAMS["dqn/train"] = _p(DQN, "deep_q_rl/q_network.py", entry="train_dqn",
                           standins=["gpu_layers"])

# OpenAI's improved-gan (Salimans et al. 2016): semi-supervised GANs with
# its own layers (nn.py: weight norm, mean-only batch norm, minibatch
# discrimination, Gaussian noise from MRG_RandomStreams); nn.py imports
# lasagne.layers.dnn, GPU-only: the gpu_layers stand-in. MNIST: 500
# training digits (100 labelled, 10 a class as its --count), minibatches of 50
GAN = "openai+improved-gan"
PROGRAMS["improvedgan/mnist_feature_matching"] = _p(
    GAN, "mnist_svhn_cifar10/train_mnist_feature_matching.py", argv=["--batch_size", "50"],
    standins=["gpu_layers", "mnist_npz"], result="Iteration", stop=2, floatx="float64")
# float64: in float32 the first minibatch's losses agree between py and
# numba to rounding (2.746207 and 2.746206), the GAN's adam steps grow the
# difference to 1e-3 within ten minibatches; float64 prints the same numbers

# nolearn (Daniel Nouri's scikit-learn-style NeuralNet over Lasagne): its
# own pytest suite (nolearn/lasagne/tests: 109 tests), on scikit-learn 1.x
# with stand-ins for the modules and data sets scikit-learn has removed
# since 0.17 (old_sklearn_modules); needs scikit-learn, tabulate and mock
# importable (PYTHONPATH), and matplotlib for the plot tests. Left out, for
# reasons outside symnet (the 18 tests these names select):
# - clone (scikit-learn >= 0.24 clones only estimators whose constructor
#   stores every argument unchanged; NeuralNet does not): the 7 tests that
#   clone a net or grid-search it
# - np.vstack(generator), refused since NumPy 1.24: test_simple_x_and_y,
#   test_X_is_dict (4)
# - DenseLayer on a (None,) input: Lasagne since num_leading_axes (2016)
#   refuses it, as symnet does: test_print_layer_info_with_empty_shape
# - pydotplus (and Graphviz) and IPython, not installed: the 4 draw_to_* tests
NOLEARN_LEFT_OUT = ("test_load_params_from_net test_load_params_from_params_values "
                    "test_save_params_to_path test_load_params_from_message test_partial_fit "
                    "test_lasagne_functional_grid_search test_clone test_simple_x_and_y "
                    "test_X_is_dict test_print_layer_info_with_empty_shape test_draw_to_").split()
PROGRAMS["nolearn/tests"] = _p("dnouri+nolearn", "nolearn/lasagne/tests/conftest.py", path=[""],
                               entry="pytest", standins=["old_sklearn"], result=r"^pytest:",
                               argv=["-k", "not (" + " or ".join(NOLEARN_LEFT_OUT) + ")"])

# Eben Olson's PyData 2015 tutorial (Theano and Lasagne, notebooks of Python
# 2): the notebooks' code cells run as one program; mnist.pkl.gz (the
# notebook downloads it with !wget) is bench/dl_tutorials.py's stand-in;
# IPython.display (pictures of graphs) is a stand-in that shows nothing
PYDATA15 = "ebenolson+pydata2015"
IPYTHON = {"IPython.display": ["SVG", "Image", "display"]}
PROGRAMS["pydata2015/theano_basics"] = _p(PYDATA15, "1 - Theano Basics/Theano Basics.ipynb",
                                          stubs=IPYTHON)
PROGRAMS["pydata2015/digit_recognizer"] = _p(PYDATA15, "2 - Lasagne Basics/Digit Recognizer.ipynb",
                                             standins=["mnist_pkl"], result="^Epoch", stop=2)
PROGRAMS["pydata2015/custom_layer"] = _p(PYDATA15, "5 - Extending Lasagne/Custom Layer Class.ipynb",
                                         standins=["mnist_pkl"])
PROGRAMS["pydata2015/conv_digit_recognizer"] = _p(
    PYDATA15, "3 - Convolutional Networks/Convolutional Digit Recognizer.ipynb",
    standins=["mnist_pkl"], result="^Epoch", stop=1)

# aigamedev/scikit-neuralnetwork (sknn: scikit-learn estimators over
# Lasagne): its own test suite (sknn/tests: 247 tests, 10 of which sknn
# skips), on scikit-learn 1.x (old_sklearn also gives it the module
# sklearn.preprocessing.label); needs nose, scikit-learn and pandas (with
# dateutil) on PYTHONPATH. Its tests read sknn's debug log, which nose's
# log capture let through (--log-level=DEBUG), and want softmax rows
# summing to 1 within 1e-9: Theano's default floatX, float64. Left out, for
# reasons outside symnet (the names select 52 tests, 49 of which fail):
# - sknn's get_params reads a `parameters` attribute its constructor does
#   not store: scikit-learn >= 0.24's clone, get_params, grid search,
#   cross-validation and voting fail (39)
# - scikit-learn 1.x: Pipeline.predict's check_is_fitted finds no fitted
#   attribute (4); score() returns float, not numpy.float64 (1)
# - SciPy 1.17: a sparse matrix refuses a 4-d reshape with ValueError, not
#   the NotImplementedError test_FitError expects (1)
# - sknn.platform imports theano.sandbox.cuda (CPU-only Theano imported
#   it): symnet raises ImportError without device=cuda (4)
SKNN_LEFT_OUT = ("TestClassifierClone TestClassifierInterface test_ClonePredictEquals "
                 "TestNestedParameters test_sklearn test_pipeline test_CalculateScore "
                 "test_FitError test_platform").split()
PROGRAMS["sknn/tests"] = _p("aigamedev+scikit-neuralnetwork", "sknn/tests/__init__.py", path=[""],
                            entry="pytest", standins=["old_sklearn"], result=r"^pytest:",
                            argv=["--log-level=DEBUG",
                                  "-k", "not (" + " or ".join(SKNN_LEFT_OUT) + ")"],
                            floatx="float64")

# yandexdataschool/AgentNet (reinforcement learning agents over Lasagne:
# recurrent memory cells, attention, sessions built by scan, Q-learning):
# its own tests (16 run, from 6 of its 10 files); needs six, nose-parameterized and pandas
# (with dateutil) on PYTHONPATH. Its tests feed float64 arrays to floatX
# inputs: Theano's default floatX, float64 (with float32, symnet's, 6 of
# them refuse the data, as Theano with floatX=float32 did). Left out:
# - test_gym, test_learning, test_memory: OpenAI Gym's Atari games (gym,
#   the Arcade Learning Environment and its ROMs; no network here)
# - test_convergence: nose_parameterized's generator tests (pytest 9 does
#   not collect `yield` tests), 5,000 training epochs each
# - test_scan: its boolean-reasoning environment keeps its data in a
#   shared uint8 matrix of 10 rows, then set_value()s 25 rows: symnet's
#   shared variables know their shape (API.md) and refuse it, naming
#   both shapes; Theano fixed only the broadcastable pattern
PROGRAMS["agentnet/tests"] = _p("yandexdataschool+AgentNet", "tests/test_scan.py", path=[""],
                                entry="pytest", result=r"^pytest:", floatx="float64",
                                argv=[f"--ignore={{repo}}/tests/test_{name}.py"
                                      for name in ("gym", "learning", "memory", "convergence")]
                                + ["-k", "not test_scan"])

# skaae/recurrent-spatial-transformer-code (Sønderby et al. 2015): an RNN
# (and a feed-forward net) that steers Lasagne's TransformerLayer over a
# 100x100 canvas of three digits, its own Repeat layer; cuDNN convolutions
# (the gpu_layers stand-in). The data set is a stand-in written as its npz
# (write_mnist_sequence); each epoch's accuracies are logged to stderr
# (stderr=True); stopped after the first epoch (one minibatch of 100; its
# training accuracy is nan: the program scores the training set in chunks
# of 1,000 images, of which the stand-in has none)
for _net in ("rnn", "ffn"):
    PROGRAMS[f"spn/{_net}_spn"] = _p("skaae+recurrent-spatial-transformer-code", f"{_net}_spn.py",
                                     standins=["gpu_layers", "mnist_sequence"], result="Epoch",
                                     stop=1, stderr=True)

# dnouri/kfkd-tutorial (Daniel Nouri's facial keypoints tutorial: nolearn's
# NeuralNet, a convnet of 96x96 faces regressing 30 coordinates, a batch
# iterator that flips faces, learning rate and momentum adjusted each
# epoch): its fit(), on the nolearn checkout next to it, stopped after the
# first epoch's line of nolearn's log table. The data is a stand-in
# training.csv of 64 faces (kfkd_csv: written under a HOME of the run's own;
# the program reads ~/data/kaggle-facial-keypoint-detection/). Needs
# scikit-learn and pandas (with dateutil) on PYTHONPATH
PROGRAMS["kfkd/fit"] = _p("dnouri+kfkd-tutorial", "kfkd.py", entry="fit",
                          path=["../dnouri+nolearn"],
                          standins=["old_sklearn", "kfkd_csv"], stop=1,
                          result=r"^\s+1\s+(\x1b\[\d+m)?\d+\.\d")  # (losses in colour)

# Looked at and not added (round 18):
# - Britefury/deep-learning-tutorial-pydata2016: the snapshot's notebooks
#   are the PyTorch rewrite (torch, torchvision, cv2); no Theano left
# - ebenolson/pydata2015's other notebooks: Introduction to Lasagne holds
#   only a Jupyter slideshow cell; Exercises leaves `f` to the reader (its
#   solutions are %load lines); RNN Character Model reads claims.txt.gz
#   (not shipped) as a Python 2 str (`corpus.split('\n')` on bytes);
#   Finetuning and the COCO notebooks need pretrained VGG/GoogLeNet weights
# - improved-gan's CIFAR-10 and SVHN scripts: the same nn.py as the MNIST
#   entry, with 96- and 192-channel discriminator convnets on 32x32 images
#   (tens of GFLOP a training step): too slow for the py backend here


# -- Python 2 --------------------------------------------------------------------------

def classic_div(a, b):
    """Python 2's `a / b`: floor division when both sides are integers
    (Python ints, NumPy integers or arrays, integer symbolic variables, as
    Theano's `__div__` did), true division otherwise."""
    def integer(x):
        if isinstance(x, (bool, int, np.integer)):
            return True
        return str(getattr(x, "dtype", "float")).startswith(("int", "uint"))
    return a // b if integer(a) and integer(b) else a / b


def _classic_div_fixer():
    """A lib2to3 fixer module (RefactoringTool loads fixers by module
    name): `a / b` -> `__classic_div__(a, b)`, the rest of a `*`, `/`, `%`
    chain kept left to right; `/=` likewise."""
    name = "wild_fixes.fix_classic_div"
    if name in sys.modules:
        return name
    from lib2to3 import fixer_base, pytree
    from lib2to3.fixer_util import Call, Comma, Name
    from lib2to3.pgen2 import token
    from lib2to3.pygram import python_symbols as syms

    def div(left, right):
        left, right = left.clone(), right.clone()
        left.prefix = ""
        right.prefix = " "
        return Call(Name("__classic_div__"), [left, Comma(), right])

    class FixClassicDiv(fixer_base.BaseFix):
        BM_compatible = False
        PATTERN = "term< any+ > | expr_stmt< any '/=' any >"

        def transform(self, node, results):
            kids = node.children
            if node.type == syms.expr_stmt:  # x /= y -> x = __classic_div__(x, y)
                target = kids[0].clone()
                new = pytree.Node(syms.expr_stmt, [target, pytree.Leaf(token.EQUAL, "=", prefix=" "),
                                                   div(kids[0], kids[2])])
                new.children[2].prefix = " "
                new.prefix = node.prefix
                return new
            if not any(op.type == token.SLASH for op in kids[1::2]):
                return None
            expr = kids[0].clone()
            for op, right in zip(kids[1::2], kids[2::2]):
                if op.type == token.SLASH:
                    expr = div(expr, right)
                else:
                    expr = pytree.Node(syms.term, [expr, op.clone(), right.clone()])
            expr.prefix = node.prefix
            return expr
    package = types.ModuleType("wild_fixes")
    module = types.ModuleType(name)
    module.FixClassicDiv = FixClassicDiv
    package.fix_classic_div = module
    sys.modules["wild_fixes"], sys.modules[name] = package, module
    return name


def py2to3(source, in_package=False, path="<program>"):
    """`source` (Python 2) as Python 3, by lib2to3's default fixers and
    one for Python 2's `/` (`classic_div`). fix_import (implicit relative
    imports made explicit) only in a package: a script's `import load` is
    a top-level module, not a relative one; it looks for the imported
    module next to `path`."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lib2to3.refactor import RefactoringTool, get_fixers_from_package
        fixers = [f for f in get_fixers_from_package("lib2to3.fixes")
                  if in_package or not f.endswith(".fix_import")] + [_classic_div_fixer()]
    if not source.endswith("\n"):
        source += "\n"
    if re.search(r"^from __future__ import [^#\n]*\bdivision\b", source, re.M):
        fixers = fixers[:-1]
    return str(RefactoringTool(fixers).refactor_string(source, path))


class _NumpyCast:
    """NumPy 1's `np.cast[dtype](x)` (removed in NumPy 2.0): x as an array
    of dtype."""

    def __getitem__(self, dtype):
        return lambda x: np.asarray(x).astype(dtype)


def numpy1_names():
    """Names the programs use that NumPy 2 (`np.cast`, in improved-gan's
    nn.py; `np.product`, in sknn) and Python 3.10 (`collections.Iterable`
    and the other ABCs, in nolearn) removed, put back for the program's run."""
    import collections
    import collections.abc
    if "cast" not in np.__dict__:
        np.cast = _NumpyCast()
    if "product" not in np.__dict__:  # sknn's backend: np.product(shape)
        np.product = np.prod
    for name in collections.abc.__all__:
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))


def install_py2_importer(root):
    """Modules imported from under `root` are translated by py2to3 first."""
    import importlib.machinery as machinery

    class Loader(machinery.SourceFileLoader):
        def source_to_code(self, data, path, *, _optimize=-1):
            in_package = os.path.exists(os.path.join(os.path.dirname(path), "__init__.py"))
            text = py2to3(data.decode("utf-8"), in_package, path)
            return compile(text, path, "exec", dont_inherit=True)

    ours = machinery.FileFinder.path_hook((Loader, machinery.SOURCE_SUFFIXES))

    def hook(path):
        if os.path.abspath(path or ".").startswith(root):
            return ours(path)
        raise ImportError  # the next hook handles it
    sys.path_hooks.insert(0, hook)
    sys.path_importer_cache.clear()
    sys.dont_write_bytecode = True  # nothing written into the checkouts
    numpy1_names()
    builtin = sys.modules["builtins"]
    # names 2to3 leaves to the program's run time (it renames the calls it sees)
    for name, value in (("xrange", range), ("unicode", str), ("long", int),
                        ("raw_input", input), ("__classic_div__", classic_div)):
        if not hasattr(builtin, name):
            setattr(builtin, name, value)


# -- stand-ins --------------------------------------------------------------------------

def digits_images(size, copies=1):
    """(images, labels): symnet's bundled 8x8 digits (1,797), enlarged to
    size x size by repeating pixels and centring, scaled to [0, 1], float64;
    `copies` > 1 adds copies moved by a pixel."""
    from symnet.datasets import load_digits
    X, y = load_digits()
    X = np.asarray(X, dtype=np.float64).reshape(-1, 8, 8)
    k = size // 8 if size % 8 == 0 else (size - 4) // 8
    big = np.kron(X / X.max(), np.ones((k, k)))
    off = (size - 8 * k) // 2
    out = np.zeros((copies, len(X), size, size))
    for c in range(copies):
        top = max(0, min(size - 8 * k, off + (c % 2) - (c // 2)))
        out[c, :, top:top + 8 * k, off:off + 8 * k] = big
    order = np.random.RandomState(0).permutation(len(X))
    return out[:, order].reshape(-1, size, size), np.tile(np.asarray(y, np.int64)[order], copies)


def one_hot(labels, n):
    return np.eye(n)[labels]


def newmu_mnist_module(n_train=512, n_test=256):
    """Newmu's load.py reads MNIST's idx files from /media/datasets/ (60,000
    images): `load.mnist(ntrain, ntest, onehot)` here returns 512 train and
    256 test digits, 28x28 rows of float64 in [0, 1], labels one-hot float64
    (or int) as load.py's do."""
    module = types.ModuleType("load")

    def mnist(ntrain=60000, ntest=10000, onehot=True):
        X, y = digits_images(28)
        X = X.reshape(len(X), 784)
        trX, trY = X[:min(ntrain, n_train)], y[:min(ntrain, n_train)]
        teX, teY = X[n_train:n_train + min(ntest, n_test)], y[n_train:n_train + min(ntest, n_test)]
        if onehot:
            trY, teY = one_hot(trY, 10), one_hot(teY, 10)
        return trX, teX, trY, teY
    module.mnist, module.one_hot = mnist, lambda x, n: one_hot(np.asarray(x).ravel(), n)
    return module


def cifar10_module(n_train=500, n_test=250):
    """benanne's load.py unpickles CIFAR batches with np.load (refused by
    NumPy 2 without allow_pickle) and Python 2's cPickle:
    `load.cifar10(dtype, grayscale)` here returns 500 train and 250 test
    digits as 32x32 images (the three colour planes equal), rows of 1,024
    (grayscale) or 3,072 values in [0, 1], one-hot labels, as load.py's."""
    module = types.ModuleType("load")

    def cifar10(dtype="float64", grayscale=True):
        X, y = digits_images(32)
        X = X.reshape(len(X), 1024)
        if not grayscale:
            X = np.concatenate([X, X, X], axis=1)
        T = one_hot(y, 10)
        return (X[:n_train].astype(dtype), T[:n_train].astype(dtype),
                X[n_train:n_train + n_test].astype(dtype),
                T[n_train:n_train + n_test].astype(dtype))
    module.cifar10 = cifar10
    module.one_hot = lambda x, n: one_hot(np.asarray(x), n)
    module.class_names_cifar10 = {"label_names": [str(i) for i in range(10)]}
    return module


def sentiment_standin(n=300, seed=0):
    """Lines "score<TAB>sentence" as stanford_sentiment_extractor.py writes
    them: words w0-w9 are negative, w10-w19 positive, w20-w39 neutral; the
    score is the share of positive words among the non-neutral ones."""
    rng = np.random.RandomState(seed)
    lines = []
    for _ in range(n):
        words = rng.randint(0, 40, rng.randint(4, 10))
        polar = words[words < 20]
        score = float(np.mean(polar >= 10)) if len(polar) else 0.5
        lines.append(f"{score:.4f}\t" + " ".join(f"W{w}" for w in words))
    return lines


def write_mnist_idx(folder, n_train=10600, n_test=500):
    """MNIST's gzipped idx files (train-images-idx3-ubyte.gz, ...) of the
    enlarged digits, 28x28 uint8; the images are stored transposed, as
    MNIST's row-major pixels read by a loader that transposes them."""
    import gzip
    import struct
    X, y = digits_images(28, copies=6)
    X = (X * 255).astype(np.uint8).transpose(0, 2, 1)
    for name, images, labels in (("train", X[:n_train], y[:n_train]),
                                 ("t10k", X[n_train:n_train + n_test], y[n_train:n_train + n_test])):
        with gzip.open(os.path.join(folder, f"{name}-images-idx3-ubyte.gz"), "wb") as f:
            f.write(struct.pack(">IIII", 2051, len(images), 28, 28) + images.tobytes())
        with gzip.open(os.path.join(folder, f"{name}-labels-idx1-ubyte.gz"), "wb") as f:
            f.write(struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes())


def write_mnist_npz(folder, n_train=400, n_valid=100, n_test=200):
    """improved-gan's mnist.npz (x_train, x_valid, x_test: rows of 784
    float32 in [0, 1]; y_*: int labels) of the enlarged digits."""
    X, y = digits_images(28)
    X = X.reshape(len(X), 784).astype(np.float32)
    cut = np.cumsum([n_train, n_valid, n_test])
    np.savez(os.path.join(folder, "mnist.npz"), x_train=X[:cut[0]], y_train=y[:cut[0]],
             x_valid=X[cut[0]:cut[1]], y_valid=y[cut[0]:cut[1]],
             x_test=X[cut[1]:cut[2]], y_test=y[cut[1]:cut[2]])


def write_mnist_sequence(folder, n=100):
    """skaae/recurrent-spatial-transformer-code's
    mnist_sequence3_sample_8distortions_9x9.npz: X_train, X_valid, X_test
    (rows of 100x100 float32 canvases in [0, 1], three enlarged digits side
    by side at a random height) and y_* (int32, the three labels), n each."""
    X, y = digits_images(28)
    rng = np.random.RandomState(0)
    parts = {}
    for k, name in enumerate(("train", "valid", "test")):
        canvas = np.zeros((n, 100, 100), np.float32)
        labels = np.zeros((n, 3), np.int32)
        for i in range(n):
            top = rng.randint(0, 72)
            for j in range(3):
                d = (k * n + i) * 3 + j
                canvas[i, top:top + 28, 4 + 32 * j:32 + 32 * j] = X[d % len(X)]
                labels[i, j] = y[d % len(X)]
        parts[f"X_{name}"], parts[f"y_{name}"] = canvas.reshape(n, -1), labels
    np.savez(os.path.join(folder, "mnist_sequence3_sample_8distortions_9x9.npz"), **parts)


KFKD_COLUMNS = [f"{part}_{xy}" for part in (
    "left_eye_center", "right_eye_center", "left_eye_inner_corner", "left_eye_outer_corner",
    "right_eye_inner_corner", "right_eye_outer_corner", "left_eyebrow_inner_end",
    "left_eyebrow_outer_end", "right_eyebrow_inner_end", "right_eyebrow_outer_end", "nose_tip",
    "mouth_left_corner", "mouth_right_corner", "mouth_center_top_lip",
    "mouth_center_bottom_lip") for xy in "xy"]


def write_kfkd_csv(path, n=64):
    """Kaggle's facial keypoints training.csv: the 30 keypoint columns
    (pixel coordinates in [0, 96]) and Image (96x96 grey levels 0-255,
    space-separated), as kfkd.py reads it; the faces are enlarged digits
    whose keypoints move with the digit."""
    X, y = digits_images(96)
    rows = [",".join(KFKD_COLUMNS + ["Image"])]
    base = np.linspace(20, 76, len(KFKD_COLUMNS))
    for i in range(n):
        points = base + 2.0 * y[i] - 9
        pixels = " ".join(str(v) for v in (X[i] * 255).astype(int).ravel())
        rows.append(",".join(f"{v:.4f}" for v in points) + "," + pixels)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(rows) + "\n")


class OldKFold:
    """scikit-learn 0.17's `cross_validation.KFold(n, n_folds, shuffle,
    random_state)` (gone in 0.20): an iterable of (train, test) index
    arrays, by model_selection.KFold."""

    def __init__(self, n, n_folds=3, shuffle=False, random_state=None):
        from sklearn import model_selection
        self.n, self.n_folds = n, int(n_folds)
        self._folds = list(model_selection.KFold(self.n_folds, shuffle=shuffle,
                                                 random_state=random_state).split(np.zeros(n)))

    def __iter__(self):
        return iter(self._folds)

    def __len__(self):
        return self.n_folds


class OldStratifiedKFold(OldKFold):
    """scikit-learn 0.17's `cross_validation.StratifiedKFold(y, n_folds,
    shuffle, random_state)`."""

    def __init__(self, y, n_folds=3, shuffle=False, random_state=None):
        from sklearn import model_selection
        self.y, self.n, self.n_folds = np.asarray(y), len(y), int(n_folds)
        self._folds = list(model_selection.StratifiedKFold(
            self.n_folds, shuffle=shuffle, random_state=random_state).split(np.zeros(self.n), self.y))


class _OldLabelModule(types.ModuleType):
    """sklearn.preprocessing.label as 0.17 had it: sklearn.preprocessing._label,
    whose `type_of_target` a program may replace by a function of one
    argument (sknn's `lambda _: "multiclass"`): LabelBinarizer calls it with
    `input_name=` since 1.1, which the replacement is spared."""

    def __init__(self):
        super().__init__("sklearn.preprocessing.label")

    def __getattr__(self, name):
        import sklearn.preprocessing._label as label
        return getattr(label, name)

    def __setattr__(self, name, value):
        import sklearn.preprocessing._label as label
        import sklearn.utils.multiclass as multiclass
        if name == "type_of_target" and value is not multiclass.type_of_target:
            value = functools.partial(lambda fn, y, input_name="": fn(y), value)
        setattr(label, name, value)


def old_sklearn_modules():
    """What nolearn and its tests import from scikit-learn 0.17 and today's
    scikit-learn has removed: the modules cross_validation and grid_search
    (their classes from model_selection; KFold/StratifiedKFold keep the old
    signatures), and the data sets load_boston (a synthetic regression of
    its shape, 506 x 13) and fetch_mldata("mnist-original") (70,000 enlarged
    digits, 28x28 rows of uint8, float labels, as mldata.org's)."""
    import sklearn.datasets
    import sklearn.preprocessing._label
    from sklearn import model_selection
    from sklearn.utils import Bunch
    cv = types.ModuleType("sklearn.cross_validation")
    gs = types.ModuleType("sklearn.grid_search")
    for module in (cv, gs):  # train_test_split, cross_val_score, GridSearchCV, ...
        module.__dict__.update({n: getattr(model_selection, n) for n in model_selection.__all__
                                if not n.startswith("Halving")})  # experimental, import-gated
    cv.KFold, cv.StratifiedKFold = OldKFold, OldStratifiedKFold
    for module in (cv, gs):
        sys.modules[module.__name__] = module
        setattr(sklearn, module.__name__.split(".")[-1], module)
    # sknn patches `sklearn.preprocessing.label.type_of_target` around its
    # fits, for LabelBinarizer: the module, private (_label) since 0.22
    sys.modules["sklearn.preprocessing.label"] = sklearn.preprocessing.label = _OldLabelModule()

    def load_boston():
        X, y = sklearn.datasets.make_regression(506, 13, n_informative=8, noise=5.0, random_state=0)
        return Bunch(data=X, target=y / 10 + 22)

    def fetch_mldata(name, *args, **kwargs):
        if name != "mnist-original":
            raise ValueError(f"fetch_mldata stand-in: only mnist-original, not {name!r}")
        X, y = digits_images(28, copies=39)
        return Bunch(data=(X[:70000] * 255).astype(np.uint8).reshape(-1, 784),
                     target=y[:70000].astype(np.float64))
    sklearn.datasets.load_boston, sklearn.datasets.fetch_mldata = load_boston, fetch_mldata


def pil_module():
    """PIL.Image whose images know their size and draw and save nothing."""
    class Picture:
        def __init__(self, size):
            self.size = tuple(size)

        def paste(self, *args, **kwargs):
            pass

        def save(self, *args, **kwargs):
            pass
    image = types.ModuleType("PIL.Image")
    image.fromarray = lambda a, mode=None: Picture(np.shape(a)[1::-1])
    image.new = lambda mode, size, color=0: Picture(size)
    pil = types.ModuleType("PIL")
    pil.Image = image
    return pil, image


def write_sentiment(data_dir):
    lines = sentiment_standin()
    for name, part in (("train", lines[:240]), ("test", lines[240:])):
        with open(os.path.join(data_dir, f"sentiment.{name}.txt"), "w") as f:
            f.write("\n".join(part) + "\n")


def stub_module(dotted, names):
    """Modules `dotted` (and its parents) whose `names` are no-ops."""
    parts = dotted.split(".")
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
            if i > 1:
                setattr(sys.modules[".".join(parts[:i - 1])], parts[i - 1], sys.modules[name])
    for n in names:
        if n.startswith("print:"):  # a logging call that prints its message
            setattr(sys.modules[dotted], n[6:], lambda msg, *args, **kwargs: print(msg % args if args else msg))
        else:
            setattr(sys.modules[dotted], n, lambda *args, **kwargs: None)


def imread_standin(path, *args, **kwargs):
    """The matplotlib stand-in's `imread`: a random picture, as
    matplotlib reads a PNG (float32 RGBA in [0, 1]), 64x64 (pydata2015's
    custom layer notebook reads a 64px picture that the tutorial does not
    ship), the same for the same name."""
    seed = sum(map(ord, os.path.basename(str(path))))
    return np.random.RandomState(seed).rand(64, 64, 4).astype(np.float32)


def stub_matplotlib():
    """A matplotlib whose pyplot does nothing. True when stubbed."""
    try:
        import matplotlib  # noqa: F401
        return False
    except ImportError:
        pass
    class NoOp:
        """Any attribute, any call: itself (plt.cm.gray, fig.add_subplot(1)...)."""

        def __call__(self, *args, **kwargs):
            return self

        def __getattr__(self, name):
            return self
    mpl, pyplot = types.ModuleType("matplotlib"), types.ModuleType("matplotlib.pyplot")
    pyplot.__getattr__ = mpl.__getattr__ = lambda name: NoOp()
    pyplot.imread = imread_standin
    mpl.pyplot = pyplot
    sys.modules["matplotlib"], sys.modules["matplotlib.pyplot"] = mpl, pyplot
    return True


DRIVERS = {}  # entry -> the runner's function that drives the program's module


def run_tests(module):
    """A test file's test_* functions (without fixtures) and the test_*
    methods of its unittest.TestCase classes (setUp/tearDown around each),
    one by one: "passed NAME" or the failure printed for each; fails if
    one failed."""
    import unittest
    failed = []
    for name, fn in list(vars(module).items()):
        cases = []
        if isinstance(fn, type) and issubclass(fn, unittest.TestCase) and \
                fn.__module__ == module.__name__:
            cases = [(f"{name}.{m}", fn(m)) for m in unittest.TestLoader().getTestCaseNames(fn)]
        elif name.startswith("test_") and callable(fn):
            cases = [(name, None)]
        for label, case in cases:
            try:
                if case is None:
                    fn()
                else:
                    result = unittest.TestResult()
                    case.run(result)
                    for _, trace in result.errors + result.failures:
                        raise AssertionError(trace.strip().splitlines()[-1])
                    if result.skipped:
                        print(f"skipped {label}: {result.skipped[0][1]}")
                        continue
                print(f"passed {label}")
            except Exception as e:
                print(f"FAILED {label}: {type(e).__name__}: {e}")
                failed.append(label)
    if failed:
        raise AssertionError(f"{len(failed)} test(s) failed: {', '.join(failed)}")


DRIVERS["run_tests"] = run_tests


def run_pytest(module):
    """The pytest suite in the folder of `module` (its conftest.py, run as
    the program), in this process: the compat shim and stand-ins are in
    place; the program's argv are pytest's extra arguments. pytest's own
    report goes to the log only (its times differ run to run); the
    program prints "pytest: N passed, M failed" and fails if a test failed."""
    import pytest

    class Outcomes:
        passed = failed = 0

        def pytest_runtest_logreport(self, report):
            if report.failed:
                self.failed += 1
            elif report.passed and report.when == "call":
                self.passed += 1
    outcomes = Outcomes()
    folder = os.path.dirname(os.path.abspath(module.__file__))
    # -o addopts=: the checkout's setup.cfg asks for coverage and pep8 plugins
    with contextlib.redirect_stdout(sys.__stdout__):
        code = pytest.main([folder, "-q", "-rfE", "--capture=sys", "-p", "no:cacheprovider",
                            "-o", "addopts=", "--rootdir", folder, "--import-mode=importlib"]
                           + sys.argv[1:], plugins=[outcomes])
    print(f"pytest: {outcomes.passed} passed, {outcomes.failed} failed")
    if code != 0:
        raise AssertionError(f"pytest exit code {int(code)}")


DRIVERS["pytest"] = run_pytest


def train_dqn(module):
    """spragunr/deep_q_rl: its DeepQLearner (q_network.py) with the Nature
    network (cuda-convnet layers), deepmind_rmsprop and a target network
    refreshed every 2 steps, then the NIPS network (cuDNN layers) with
    Lasagne's rmsprop and momentum, as run_nature.py / run_nips.py
    configure them, smaller (36x36 frames, 4 actions, minibatches of 8;
    84x84 and 32 there): each trains 3 minibatches drawn by ale_data_set's
    DataSet from 60 random frames (no emulator: ALE is a C++ library),
    printing the loss, then picks an action greedily."""
    from ale_data_set import DataSet
    rng = np.random.RandomState(123456)
    size, actions, frames = 36, 4, 4
    for network_type, update_rule, freeze, momentum in (("nature_cuda", "deepmind_rmsprop", 2, 0),
                                                         ("nips_dnn", "rmsprop", -1, 0.9)):
        net = module.DeepQLearner(size, size, actions, frames, 0.99, 0.00025, 0.95, 0.01,
                                  momentum, 1.0, freeze, 8, network_type, update_rule, "mean", rng)
        data = DataSet(size, size, rng, max_steps=100, phi_length=frames)
        for t in range(60):
            data.add_sample(rng.randint(0, 256, (size, size)).astype(np.uint8), rng.randint(actions),
                            float(rng.randint(-1, 2)), t % 20 == 19)
        for step in range(3):
            loss = net.train(*data.random_batch(8))
            print(f"{network_type} step {step} loss {float(np.ravel(loss)[0]):.6f}")
        q = net.q_vals(data.phi(rng.randint(0, 256, (size, size))))
        print(f"{network_type} q shape {q.shape[0]} greedy action {net.choose_action(data.last_phi(), 0.0)} "
              f"max q {float(q.max()):.6f}")


DRIVERS["train_dqn"] = train_dqn


def gpu_layer_modules():
    """lasagne.layers.dnn and lasagne.layers.cuda_convnet as the running
    Lasagne's CPU layers under the GPU names (bench/recipes.py's DNN_NAMES),
    with the GPU layers' defaults: no filter flipping; Conv2DCCLayer only
    for bc01 input (dimshuffle=True), as deep_q_rl uses it."""
    import lasagne.layers
    from bench.recipes import DNN_NAMES
    made = {}
    for gpu, cpu in DNN_NAMES.items():
        layer = getattr(lasagne.layers, cpu)
        if gpu.startswith("Conv"):
            def layer(*args, _cpu=layer, flip_filters=False, **kwargs):
                return _cpu(*args, flip_filters=flip_filters, **kwargs)
        made[gpu] = layer

    def conv2d_cc(incoming, num_filters, filter_size, stride=(1, 1), pad=0, untie_biases=False,
                  W=None, b=None, nonlinearity=None, dimshuffle=True, flip_filters=False,
                  partial_sum=1, **kwargs):
        if not dimshuffle:
            raise NotImplementedError("Conv2DCCLayer stand-in: c01b input (dimshuffle=False)")
        extra = {k: v for k, v in (("W", W), ("b", b)) if v is not None}
        if nonlinearity is not None:
            extra["nonlinearity"] = nonlinearity
        return lasagne.layers.Conv2DLayer(incoming, num_filters, filter_size, stride=stride, pad=pad,
                                          untie_biases=untie_biases, flip_filters=flip_filters,
                                          **extra, **kwargs)
    # the names dnn.py imports, which programs read from it (improved-gan's
    # nn.py: lasagne.layers.dnn.as_tuple)
    import lasagne.utils
    made.update(as_tuple=lasagne.utils.as_tuple, Layer=lasagne.layers.Layer)
    modules = []
    for name, attrs in (("dnn", made), ("cuda_convnet", {"Conv2DCCLayer": conv2d_cc,
                                                         "MaxPool2DCCLayer": lasagne.layers.MaxPool2DLayer})):
        module = types.ModuleType(f"lasagne.layers.{name}")
        module.__dict__.update(attrs)
        sys.modules[module.__name__] = module
        setattr(lasagne.layers, name, module)
        modules.append(module)
    return modules


def train_pixelrnn(main):
    """pixel-rnn-lasagne: main.py's train_model() (10 epochs, the
    validation loss logged at each epoch's first minibatch) on 8 training
    and 4 validation digits, binarised as its mnist.py does, with a PixelRNN
    of main.py's depth and 8 hidden units (main.py: 64) in minibatches of 4
    (16); the model monitor, which saves the best parameters into the
    checkout, is a stand-in that keeps nothing."""
    from network.pixel_rnn import PixelRNN
    X, _ = digits_images(28)
    X = (X[:12, None] > 0.5).astype(np.int32)
    model = PixelRNN(batch_size=4, image_shape=(1, 28, 28), n_hidden=8)

    class Monitor:
        def save_model(self, msg=""):
            pass
    main.train_model(model=model, model_monitor=Monitor(), X=X[:8].astype(np.float32), y=X[:8],
                     X_valid=X[8:].astype(np.float32), y_valid=X[8:], batch_size=4)


DRIVERS["train_pixelrnn"] = train_pixelrnn


def train_seq2seq(model_module):
    """lasagne_seq2seq: bin/train.py needs a 50 MB dialog corpus, nltk and a
    gensim word2vec model; the runner builds its model with model.py's
    get_nn_model() at configs/config.py's sizes (GRU encoder and decoder of
    512 units, 200-wide embeddings) for 60 words, and takes three adadelta
    steps of its train function on 8 answers that repeat their question's
    first 20 tokens after the start token; then its predict function."""
    rng = np.random.RandomState(0)
    model = model_module.get_nn_model(vocab_size=60)
    x = rng.randint(3, 60, (8, 25)).astype(np.int32)
    y = np.concatenate([np.ones((8, 1), np.int32), x[:, :20]], axis=1)
    for step in range(3):
        print(f"step {step} cost {float(model.train(x, y)):.6f}")
    probs = model.predict(x, y)
    print(f"predict shape {probs.shape[0]} x {probs.shape[1]} row sums {probs.sum(1).mean():.6f}")


DRIVERS["train_seq2seq"] = train_seq2seq


def train_bilstm_cnn_crf(program):
    """LasagneNLP's bi_lstm_cnn_crf.py: main() reads its CoNLL files with
    Python 2 strings (`line.decode` on a str), so the runner takes main()'s
    steps after the reading, with the program's own functions, as
    run_bi-lstm-cnn-crf.sh configures them (fine-tuned embeddings,
    momentum 0.9, gradient clipping 5, dropout), smaller (30 units, 10
    filters; 16 sentences of up to 8 words whose tag is their word's index
    mod 4, 6 characters a word): three training steps, then main()'s
    evaluation of the same sentences."""
    import lasagne
    import theano
    import theano.tensor as T
    from lasagne_nlp.networks.networks import build_BiLSTM_CNN_CRF
    from lasagne_nlp.utils import utils
    floatx = theano.config.floatX
    rng = np.random.RandomState(0)
    n, length, n_chars, n_words, n_labels, char_vocab = 16, 8, 6, 30, 4, 12
    words = rng.randint(1, n_words, (n, length)).astype(np.int32)
    masks = (np.arange(length) < rng.randint(4, length + 1, (n, 1))).astype(floatx)
    targets = (words % n_labels * masks).astype(np.int32)
    chars = ((words[:, :, None] * 7 + np.arange(n_chars)) % char_vocab).astype(np.int32)
    embedd_table = rng.uniform(-0.3, 0.3, (n_words, 20)).astype(floatx)
    char_embedd_table = rng.uniform(-0.3, 0.3, (char_vocab, 30)).astype(floatx)

    input_var, target_var = T.imatrix(name="inputs"), T.imatrix(name="targets")
    mask_var, char_input_var = T.matrix(name="masks", dtype=floatx), T.itensor3(name="char-inputs")
    layer_char = lasagne.layers.InputLayer(shape=(None, length, n_chars), input_var=char_input_var)
    layer_char = lasagne.layers.reshape(layer_char, (-1, [2]))
    layer_char = lasagne.layers.EmbeddingLayer(layer_char, input_size=char_vocab, output_size=30,
                                               W=char_embedd_table)
    layer_char = lasagne.layers.DimshuffleLayer(layer_char, pattern=(0, 2, 1))
    layer_input = lasagne.layers.InputLayer(shape=(None, length), input_var=input_var)
    layer_input = lasagne.layers.EmbeddingLayer(layer_input, input_size=n_words, output_size=20,
                                                W=embedd_table)
    layer_mask = lasagne.layers.InputLayer(shape=(None, length), input_var=mask_var)
    network = build_BiLSTM_CNN_CRF(layer_char, layer_input, 30, n_labels, mask=layer_mask,
                                   grad_clipping=5, peepholes=False, num_filters=10, dropout=True)
    num_tokens = mask_var.sum(dtype=floatx)
    energies_train = lasagne.layers.get_output(network)
    energies_eval = lasagne.layers.get_output(network, deterministic=True)
    loss_train = program.crf_loss(energies_train, target_var, mask_var).mean()
    loss_eval = program.crf_loss(energies_eval, target_var, mask_var).mean()
    _, corr_train = program.crf_accuracy(energies_train, target_var)
    corr_train = (corr_train * mask_var).sum(dtype=floatx)
    prediction_eval, corr_eval = program.crf_accuracy(energies_eval, target_var)
    corr_eval = (corr_eval * mask_var).sum(dtype=floatx)
    params = lasagne.layers.get_all_params(network, trainable=True)
    updates = utils.create_updates(loss_train, params, "momentum", 0.01, momentum=0.9)
    train_fn = theano.function([input_var, target_var, mask_var, char_input_var],
                               [loss_train, corr_train, num_tokens], updates=updates)
    eval_fn = theano.function([input_var, target_var, mask_var, char_input_var],
                              [loss_eval, corr_eval, num_tokens, prediction_eval])
    for step in range(3):
        err, corr, num = train_fn(words, targets, masks, chars)
        print(f"train step {step} loss: {float(err):.4f}, acc: {float(corr) * 100 / float(num):.2f}%")
    err, corr, num, predictions = eval_fn(words, targets, masks, chars)
    print(f"dev loss: {float(err):.4f}, corr: {int(corr)}, total: {int(num)}, "
          f"predictions {predictions.shape[0]} x {predictions.shape[1]}")


DRIVERS["train_bilstm_cnn_crf"] = train_bilstm_cnn_crf


def check_and_train_rnn(module):
    """WildML's RNN tutorials (dennybritz/rnn-tutorial-rnnlm, -gru-lstm):
    their training scripts read a Reddit CSV with Python 2 strings
    (`x[0].decode`) into ragged NumPy arrays (which NumPy 2 refuses), so the
    runner takes their steps after the reading with the tutorials' own
    model class and functions: the tutorial's gradient_check_theano (every
    parameter element's backprop gradient against central differences), as
    its notebook calls it on [0, 1, 2, 3] -> [1, 2, 3, 4], then SGD over
    20 stand-in sentences in which a word is mostly followed by the next
    one, printing the loss per epoch."""
    model_class = getattr(module, "GRUTheano", None) or module.RNNTheano
    rng = np.random.RandomState(0)
    vocab = 12
    sentences = []
    for _ in range(20):
        words = [int(rng.randint(vocab))]
        while len(words) < rng.randint(5, 10):
            words.append((words[-1] + 1) % vocab if rng.rand() < 0.9 else int(rng.randint(vocab)))
        sentences.append(words)
    X, Y = [w[:-1] for w in sentences], [w[1:] for w in sentences]
    np.random.seed(10)
    model = model_class(vocab, hidden_dim=6, bptt_truncate=1000)  # tutorials: 8000/2000, 100/128
    module.gradient_check_theano(model, [0, 1, 2, 3], [1, 2, 3, 4])
    print(f"loss before training {model.calculate_loss(X, Y):.6f}")
    for epoch in range(3):
        for i in np.random.permutation(len(Y)):
            model.sgd_step(X[i], Y[i], 0.01 if model_class.__name__ == "GRUTheano" else 0.05)
        print(f"epoch {epoch} loss {model.calculate_loss(X, Y):.6f}")


DRIVERS["check_and_train_rnn"] = check_and_train_rnn


# -- one program in this process --------------------------------------------------------

class StopProgram(BaseException):
    """Raised from a program's print once it has printed enough results;
    a BaseException so that the program's `except Exception` lets it by."""


class Tee(io.TextIOBase):
    """Writes to the real stdout, keeps a copy, and stops the program after
    `stop` lines matching `result`."""

    def __init__(self, out, result, stop):
        self.out, self.buf = out, io.StringIO()
        self.result, self.stop, self.seen, self.pending = re.compile(result), stop, 0, ""

    def write(self, s):
        self.buf.write(s)
        self.out.write(s)
        self.pending += s
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if line.strip() and self.result.search(line):
                self.seen += 1
                if self.stop is not None and self.seen >= self.stop:
                    raise StopProgram(f"stopped after {self.seen} result lines")
        return len(s)

    def flush(self):
        self.out.flush()


def program_source(script):
    """The program's text; a notebook's code cells, in order, one after the
    other (bench/recipes.py's notebook_cells: IPython's `%` and `!` lines
    left out)."""
    if script.endswith(".ipynb"):
        from bench.recipes import notebook_cells
        return "\n".join(source for _, source in notebook_cells(script))
    with open(script, encoding="utf-8") as f:
        return f.read()


def run_program(name, src_dir, data_dir, work_dir):
    """Run one program here; a dict of what happened."""
    import runpy
    import symnet.compat
    spec = PROGRAMS[name]
    if os.environ.get("LASAGNE_SRC"):  # the real Lasagne on symnet-as-theano
        symnet.compat.install(lasagne=False)
        sys.path.insert(0, os.environ["LASAGNE_SRC"])
    else:
        symnet.compat.install(lasagne=spec["lasagne"])
    repo = os.path.join(src_dir, spec["repo"])
    script = os.path.join(repo, spec["script"])
    install_py2_importer(os.path.abspath(repo))
    uses_matplotlib = "matplotlib" in program_source(script)
    stubbed = ["matplotlib"] if stub_matplotlib() and uses_matplotlib else []
    import numba  # noqa: F401  (numba reads scipy.__version__ when scipy is imported)
    for dotted, names in spec["stubs"].items():
        stub_module(dotted, names)
        stubbed.append(dotted)
    for standin in spec["standins"]:
        if standin == "newmu_mnist":
            sys.modules["load"] = newmu_mnist_module()
        elif standin == "cifar10":
            sys.modules["load"] = cifar10_module()
        elif standin == "sentiment":
            write_sentiment(data_dir)
        elif standin == "mnist_idx":
            os.makedirs(work_dir, exist_ok=True)
            write_mnist_idx(work_dir)
        elif standin == "pil":
            sys.modules["PIL"], sys.modules["PIL.Image"] = pil_module()
        elif standin == "mnist_npz":
            os.makedirs(work_dir, exist_ok=True)
            write_mnist_npz(work_dir)
        elif standin == "old_sklearn":
            old_sklearn_modules()
        elif standin == "mnist_pkl":
            import gzip
            import pickle
            from bench.dl_tutorials import mnist_standin
            os.makedirs(work_dir, exist_ok=True)
            with gzip.open(os.path.join(work_dir, "mnist.pkl.gz"), "wb") as f:
                pickle.dump(mnist_standin(), f, protocol=2)
        elif standin == "gpu_layers":
            gpu_layer_modules()
        elif standin == "kfkd_csv":
            os.environ["HOME"] = os.path.join(work_dir, "home")
            write_kfkd_csv(os.path.join(work_dir, "home", "data",
                                        "kaggle-facial-keypoint-detection", "training.csv"))
        elif standin == "mnist_sequence":
            os.makedirs(work_dir, exist_ok=True)
            write_mnist_sequence(work_dir)
        elif standin == "scipy_norm":
            from statistics import NormalDist
            stub_module("scipy.stats", [])
            sys.modules["scipy.stats"].norm = types.SimpleNamespace(ppf=NormalDist().inv_cdf)
        stubbed.append(standin)
    for extra in spec.get("path", []):
        sys.path.insert(0, os.path.join(repo, extra))
    sys.path.insert(0, os.path.dirname(script))
    os.makedirs(work_dir, exist_ok=True)
    os.chdir(work_dir)
    sys.argv = [script] + [a.format(repo=repo, data=data_dir) for a in spec["argv"]]
    np.random.seed(1234)
    import random
    random.seed(1234)
    result = {"program": name, "backend": os.environ.get("SYMNET_MODE", "default"),
              "stubbed": stubbed, "error": None, "stopped": False}
    tee = Tee(sys.stdout, spec["result"], spec["stop"])
    if spec["stderr"]:
        # not the program's, and different between backends: numba's debug
        # log (bytecode dumps) under a program that logs at DEBUG on the root
        # logger (skaae's), and symnet's "still compiling" note
        import logging
        import symnet.compile.tiered
        logging.getLogger("numba").setLevel(logging.WARNING)
        symnet.compile.tiered.PROGRESS_AFTER_S = None
    t0 = time.time()
    try:
        with contextlib.redirect_stdout(tee), \
                contextlib.redirect_stderr(tee if spec["stderr"] else sys.stderr):
            code = compile(py2to3(program_source(script), False, script), script, "exec",
                           dont_inherit=True)
            # with an entry, the file is a module whose function runs
            module = types.ModuleType("__main__" if spec["entry"] is None else "program")
            module.__file__ = script
            saved = sys.modules["__main__"]
            sys.modules["__main__"] = module
            try:
                exec(code, module.__dict__)
                if spec["entry"] in DRIVERS:
                    DRIVERS[spec["entry"]](module)
                elif spec["entry"] is not None:
                    getattr(module, spec["entry"])()
            finally:
                sys.modules["__main__"] = saved
    except StopProgram:
        result["stopped"] = True
    except BaseException as e:  # SystemExit too: a program's exit is a failure here
        result["error"] = failure(e)
    result["seconds"] = round(time.time() - t0, 1)
    result["numbers"] = printed_numbers(tee.buf.getvalue())
    lasagne_file = getattr(sys.modules.get("lasagne"), "__file__", None) or ""
    if os.environ.get("LASAGNE_SRC") and lasagne_file.startswith(os.environ["LASAGNE_SRC"]):
        result["stubbed"].append("real lasagne")  # proof that it was the one imported
    return result


# -- reading what a program printed -----------------------------------------------------

# a number is not part of a word: "13.4s" (a time, which differs run to
# run) is none, nor is its prefix "13"
NUMBER = re.compile(r"(?<![\w.])(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)(?!\w|\.\d)")


def printed_numbers(text):
    """[(label, value)] of every number printed, in order; a number's label
    is the words before it on its line back to the previous number
    ("accuracy: 0.61" -> ("accuracy", 0.61); a bare "0.61" -> ("", 0.61))."""
    found = []
    for line in text.replace("\r", "\n").splitlines():
        start = 0
        for m in NUMBER.finditer(line):
            words = re.findall(r"[A-Za-z_#]+", line[start:m.start()])
            found.append((" ".join(words[-3:]), float(m.group(1))))
            start = m.end()
    return found


@contextlib.contextmanager
def _environ(**values):
    """os.environ with `values` set (None: left as is) for the block."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: v for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# -- the driver -------------------------------------------------------------------------

def main(argv):
    if argv and argv[0] == "run":
        name, src_dir, data_dir, work_dir, out_json = argv[1:6]
        result = run_program(name, src_dir, data_dir, work_dir)
        with open(out_json, "w") as f:
            json.dump(result, f)
        return 0 if result["error"] is None else 1
    if not argv or not os.path.isdir(argv[0]):
        print(f"usage: {sys.argv[0]} SRC_DIR [PROGRAM ...]  (SRC_DIR/owner+name/ checkouts)",
              file=sys.stderr)
        return 2
    src_dir = os.path.abspath(argv[0])
    names = []
    for pattern in argv[1:] or list(PROGRAMS):
        hits = [n for n in PROGRAMS if n == pattern or n.startswith(pattern.rstrip("/") + "/")]
        if not hits:
            print(f"unknown program {pattern!r}; known: {' '.join(PROGRAMS)}", file=sys.stderr)
            return 2
        names += hits
    out = os.environ.get("OUT") or tempfile.mkdtemp(prefix="wild_programs.")
    backends = os.environ.get("BACKENDS", "py numba").split()
    data_dir = os.path.join(out, "data")
    os.makedirs(data_dir, exist_ok=True)
    status = 0
    for name in names:
        if not os.path.isfile(os.path.join(src_dir, PROGRAMS[name]["repo"], PROGRAMS[name]["script"])):
            print(f"{name:34s} no checkout in {src_dir}")
            status = 1
            continue
        results = {}
        for backend in backends:
            safe = name.replace("/", "__")
            log, out_json = (os.path.join(out, f"{safe}.{backend}.{ext}") for ext in ("log", "json"))
            # run_fresh sets the child's floatX from FLOATX; the user's wins
            floatx = os.environ.get("FLOATX") or PROGRAMS[name]["floatx"]
            with _environ(FLOATX=floatx):
                r = run_fresh(os.path.abspath(__file__),
                              [name, src_dir, data_dir, os.path.join(out, "work", f"{safe}.{backend}")],
                              backend, log, out_json, stopped=False)
            if PROGRAMS[name]["floatx"] and not os.environ.get("FLOATX"):
                r["stubbed"].append(f"floatX={PROGRAMS[name]['floatx']}")
            results[backend] = r
            state = "FAILED" if r["error"] else "ran" + (" (stopped)" if r["stopped"] else "")
            last = ", ".join(f"{lab} {v:g}".strip() for lab, v in r["numbers"][-2:]) or "-"
            line = f"{name:34s} {backend:6s} {state:13s} {r['seconds']:7.1f} s  last: {last}"
            if r["error"]:
                status = 1
                line += f"\n{'':42s}error: {r['error']}"
            if r["stubbed"]:
                line += f"  (stand-ins: {', '.join(r['stubbed'])})"
            print(line, flush=True)
        ran = [b for b in backends if results[b]["error"] is None]
        status |= compare_to_py(results, ran, 42)
    print(f"logs: {out}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
