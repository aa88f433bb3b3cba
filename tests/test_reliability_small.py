"""The smaller items of issue 15: what used to be cast, computed or raised
silently or obscurely now is checked, consistent between backends, and
says what is wrong."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import layers
from symnet.compile.mode import Mode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# -- set_all_param_values refuses lossy casts ---------------------------------------------

def _dense():
    return layers.DenseLayer(layers.InputLayer((None, 2)), 2, name="d")


def test_set_all_param_values_refuses_complex_values():
    net = _dense()
    before = layers.get_all_param_values(net)
    with pytest.raises(TypeError, match=r"parameter d\.W \(float32\).*complex.*imaginary"):
        layers.set_all_param_values(net, [np.ones((2, 2)) * (1 + 1j), np.zeros(2)])
    for a, b in zip(layers.get_all_param_values(net), before):
        np.testing.assert_array_equal(a, b)


def test_set_all_param_values_refuses_overflow_to_inf():
    net = _dense()
    with pytest.raises(ValueError, match=r"parameter d\.b .*overflow float32.*1e\+300"):
        layers.set_all_param_values(net, [np.zeros((2, 2)), np.array([1e300, 0.0])])
    np.testing.assert_array_equal(net.b.get_value(), [0, 0])


def test_set_all_param_values_still_casts_float64_and_keeps_inf():
    net = _dense()
    layers.set_all_param_values(net, [np.full((2, 2), 0.1), np.array([np.inf, 2.0])])
    assert net.W.get_value().dtype == np.float32
    np.testing.assert_allclose(net.W.get_value(), np.float32(0.1))
    np.testing.assert_array_equal(net.b.get_value(), [np.inf, 2.0])


# -- np.matrix input --------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["py", "numba"])
def test_matrix_input_is_an_array(mode):
    x = T.dmatrix("x")
    f = symnet.function([x], [x + 1, T.sum(x * x, axis=1)], mode=mode)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)   # numpy's own notice
        m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    a, b = f(m)
    assert type(a) is np.ndarray and type(b) is np.ndarray
    np.testing.assert_array_equal(a, np.asarray(m) + 1)
    np.testing.assert_array_equal(b, [5.0, 25.0])


# -- softmax: py and numba agree on the edge cases -----------------------------------------

@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("value", [
    [[np.inf, 0.0], [0.0, 1.0]],
    [[np.inf, np.inf], [-np.inf, -np.inf]],
    [[np.nan, 0.0], [-np.inf, 0.0]],
    np.zeros((2, 0)),
], ids=["inf", "inf-rows", "nan", "2x0"])
def test_softmax_edge_cases_agree(op, value):
    x = T.dmatrix("x")
    out = getattr(T.nnet, op)(x)
    value = np.asarray(value, dtype="float64")
    got = {m: symnet.function([x], out, mode=Mode(m, None))(value) for m in ("py", "numba")}
    assert got["py"].shape == got["numba"].shape == value.shape
    # NaN, +-inf in the same places; finite values to rounding
    np.testing.assert_allclose(got["py"], got["numba"], rtol=1e-12, equal_nan=True)
    if op == "softmax" and value.size and np.isfinite(value[0, 1]) and value[0, 0] == np.inf:
        assert got["py"][0, 1] == 0.0     # a finite entry beside +inf gets nothing
        np.testing.assert_allclose(got["py"][1], np.exp([0, 1]) / np.exp([0, 1]).sum())


def test_softmax_of_finite_rows_is_unchanged():
    x = T.dmatrix("x")
    v = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 1000.0]])
    want = np.exp(v - v.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    for m in ("py", "numba"):
        np.testing.assert_allclose(symnet.function([x], T.nnet.softmax(x), mode=m)(v), want)


# -- layers say what is wrong -------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [dict(pool_size=0), dict(pool_size=2, stride=0),
                                    dict(pool_size=(2, -1))])
def test_pool_size_zero_is_a_clear_error(kwargs):
    what = "stride" if kwargs.get("stride") == 0 else "pool_size"
    with pytest.raises(ValueError, match=rf"MaxPool2DLayer: {what} must be positive"):
        layers.MaxPool2DLayer(layers.InputLayer((None, 1, 4, 4)), **kwargs)
    with pytest.raises(ValueError, match=r"MaxPool1DLayer: pool_size must be positive"):
        layers.MaxPool1DLayer(layers.InputLayer((None, 1, 4)), pool_size=0)


def test_conv_filter_larger_than_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"Conv2DLayer: the filter \(size 5\) is larger "
                                         r"than the input \(size 4"):
        layers.Conv2DLayer(layers.InputLayer((None, 1, 4, 4)), 2, 5)
    with pytest.raises(ValueError, match=r"filter_size must be positive"):
        layers.Conv2DLayer(layers.InputLayer((None, 1, 4, 4)), 2, 0)
    # what fits still builds: exact fit, padding, unknown sizes
    assert layers.Conv2DLayer(layers.InputLayer((None, 1, 4, 4)), 2, 4).output_shape == \
        (None, 2, 1, 1)
    assert layers.Conv2DLayer(layers.InputLayer((None, 1, 4, 4)), 2, 5,
                              pad="full").output_shape == (None, 2, 8, 8)
    assert layers.Conv2DLayer(layers.InputLayer((None, 1, None, 4)), 2, 3,
                              ).output_shape == (None, 2, None, 2)


# -- TensorType's second argument ---------------------------------------------------------

def test_tensortype_with_sizes_as_broadcastable_warns():
    with pytest.warns(UserWarning, match=r"broadcastable pattern.*shape=\(3,\)"):
        t = T.TensorType("float32", (3,))
    assert t.shape == (1,)   # Theano's meaning, as documented
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert T.TensorType("float32", (False, True)).shape == (None, 1)
        assert T.TensorType("float32", (0, 1)).shape == (None, 1)
        assert T.TensorType("float32", shape=(3,)).shape == (3,)


# -- the tests' kernel cache goes away --------------------------------------------------------

def test_test_cache_folder_is_removed_at_exit():
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from tests.backend.numba_cpu.helpers import use_tmp_cache; "
            "d = use_tmp_cache(); open(d + '/k.py', 'w').close(); print(d)")
    res = subprocess.run([sys.executable, "-c", code, ROOT], capture_output=True, text=True,
                         env={**{k: v for k, v in os.environ.items()
                                 if k != "SYMNET_TEST_CACHE_DIR"},     # CI keeps its folder
                              "PYTHONPATH": ROOT}, timeout=120)
    assert res.returncode == 0, res.stderr
    folder = res.stdout.strip().splitlines()[-1]
    assert folder and not os.path.exists(folder)
