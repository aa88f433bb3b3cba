"""The mistakes users make (``errors_catalogue.py``) against API.md "Errors".

Every entry runs on py and numba under ``SYMNET_STRICT``: the exception type,
the names and values its message must carry, for errors inside a compiled
function the node and the user line that built it, and shared variables
unchanged by the call that raised.  Then a few entries through the Theano
and Lasagne names (``import theano`` / ``import lasagne``), where programs
catch Theano's and Lasagne's own exception classes, and the CLI's.
"""
import linecache
import warnings

import numpy as np
import pytest

import symnet
from symnet import cli, compat
from symnet.configdefaults import config

import errors_catalogue as C

MODES = ["py", "numba"]
_FILE = C.__file__


@pytest.fixture(autouse=True)
def strict():
    old, config.strict = config.strict, True
    yield
    config.strict = old


def _raised(build, mode, exc):
    C.STATE.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # a mistake must not pass with a warning
        with pytest.raises(exc) as info:
            build(mode)
    return str(info.value)


def _line_of(build, marker):
    """The catalogue line carrying ``marker`` (the user line of the node)."""
    import inspect
    lines, first = inspect.getsourcelines(build)
    hits = [first + k for k, text in enumerate(lines) if text.rstrip().endswith(marker)]
    assert len(hits) == 1, marker
    assert linecache.getline(_FILE, hits[0]).rstrip().endswith(marker)
    return hits[0]


def test_the_catalogue_is_large():
    assert len(C.BUILD) + len(C.RUNTIME) + len(C.LASAGNE) >= 60


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name, build, exc, words", C.BUILD + C.LASAGNE,
                         ids=[e[0] for e in C.BUILD + C.LASAGNE])
def test_mistake_before_running(name, build, exc, words, mode):
    msg = _raised(build, mode, exc)
    for word in words:
        assert word in msg, (word, msg)
    assert "numba" not in msg.lower() and "llvm" not in msg.lower(), msg


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name, build, exc, words, marker", C.RUNTIME,
                         ids=[e[0] for e in C.RUNTIME])
def test_mistake_while_running(name, build, exc, words, marker, mode):
    msg = _raised(build, mode, exc)
    for word in words:
        assert word in msg, (word, msg)
    if marker:      # the node and the user line that built it
        assert f"{_FILE}:{_line_of(build, marker)}" in msg, msg
        assert "node" in msg
    assert "numba" not in msg.lower() and "llvm" not in msg.lower(), msg
    # nothing was mutated: every shared variable made by the entry keeps its value
    assert C.STATE["shared"]
    for var, before in zip(C.STATE["shared"], C.STATE["before"]):
        np.testing.assert_array_equal(var.get_value(), before, err_msg=var.name)


# -- classes programs catch ------------------------------------------------------------

@pytest.mark.parametrize("build, classes", [
    (C.compile_unused_input, (C.UnusedInputError, ValueError)),
    (C.compile_missing_input, (C.MissingInputError, ValueError)),
    (C.grad_disconnected, (C.DisconnectedInputError, ValueError)),
    # Theano's RuntimeError for a given that replaces an input, and API.md's ValueError
    (C.compile_givens_replaces_an_input, (RuntimeError, ValueError)),
    # Lasagne's ValueErrors, and API.md's TypeErrors
    (C.sgd_params_not_shared, (ValueError, TypeError)),
    (C.conv2d_layer_on_2d_input, (ValueError, TypeError)),
    (C.input_layer_var_of_wrong_ndim, (ValueError, TypeError)),
    # numpy's AxisError: a ValueError and an IndexError
    (C.concatenate_axis_out_of_range, (ValueError, IndexError)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_error_is_each_class_programs_catch(build, classes):
    for cls in classes:
        _raised(build, "py", cls)


# -- through `import theano` / `import lasagne` ------------------------------------------

@pytest.fixture
def shim():
    compat.install()
    import lasagne
    import theano
    yield theano, lasagne
    compat.uninstall()


def test_theano_function_errors(shim):
    theano, _ = shim
    T = theano.tensor
    x, y = T.fvector("x"), T.fvector("y")
    with pytest.raises(theano.compile.UnusedInputError, match="input y is not used"):
        theano.function([x, y], x * 2)
    with pytest.raises(theano.gof.MissingInputError, match="variable y"):
        theano.function([x], x + y)
    f = theano.function([x], x * 2)
    with pytest.raises(TypeError, match=r"float64 data to float32 for input 0 \(x\)"):
        f(np.ones(3))
    g = theano.function([x], x * 2, allow_input_downcast=True)
    np.testing.assert_array_equal(g(np.ones(3)), np.full(3, 2, "float32"))
    with pytest.raises(TypeError, match=r"'abc'"):
        g("abc")
    with pytest.raises(theano.gradient.DisconnectedInputError, match="y is not part"):
        theano.grad((x * 2).sum(), y)


def test_theano_runtime_error_names_node_and_line_and_keeps_state(shim):
    theano, _ = shim
    T = theano.tensor
    w = theano.shared(np.arange(3, dtype="float32"), name="w")
    x = T.fvector("x")
    new_w = w * x; line = _this_line()   # noqa: E702  (the node and its line)
    for mode in MODES:
        f = theano.function([x], [], updates=[(w, new_w)], mode=mode)
        with pytest.raises(ValueError) as info:
            f(np.ones(4, "float32"))
        msg = str(info.value)
        assert "mul(w, x)" in msg and "(3,), (4,)" in msg and f"{__file__}:{line}" in msg
        np.testing.assert_array_equal(w.get_value(), [0, 1, 2])


def test_lasagne_errors(shim):
    theano, lasagne = shim
    L = lasagne.layers
    with pytest.raises(ValueError, match="ElemwiseSumLayer 'sum'"):
        L.ElemwiseSumLayer([L.InputLayer((None, 3)), L.InputLayer((None, 4))], name="sum")
    with pytest.raises(TypeError, match="shared variables only"):
        lasagne.updates.adam(theano.tensor.fvector("x").sum(), [theano.tensor.fvector("x")])
    net = L.DenseLayer(L.InputLayer((None, 4)), 3)
    with pytest.raises(ValueError, match="got 1 values to set 2 parameters"):
        L.set_all_param_values(net, [np.zeros((4, 3), "float32")])
    with pytest.raises(TypeError, match="must be a dict"):
        lasagne.regularization.regularize_layer_params_weighted([net], lasagne.regularization.l2)


def _this_line():
    import sys
    return sys._getframe(1).f_lineno


# -- the CLI: one line on stderr, exit status 2 ---------------------------------------

@pytest.mark.parametrize("argv, fragment", [
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["train", "--epochs", "-3"], "--epochs: expected a positive integer, got -3"),
    (["train", "--batch-size", "x"], "--batch-size: expected a positive integer, got 'x'"),
    (["train", "--mode", "gpu"], "invalid choice: 'gpu'"),
    (["train", "--momentum", "2"], "--momentum: expected a probability in [0, 1), got 2.0"),
    (["train", "--data", "mnist:"], "--data mnist:DIR needs a directory"),
])
def test_cli_bad_flags(argv, fragment, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and fragment in err, err


def test_cli_missing_data_file(tmp_path, capsys):
    assert cli.main(["train", "--data", f"mnist:{tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert "'train-images-idx3-ubyte' not found" in err and str(tmp_path) in err, err
    assert len(err.strip().splitlines()) == 1, err
