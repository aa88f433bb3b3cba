"""InputLayer."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.layers import InputLayer


def test_default_input_var():
    l = InputLayer((None, 1, 5), name="data")
    v = l.input_var
    assert v.ndim == 3 and v.dtype == symnet.config.floatX
    assert v.broadcastable == (False, True, False)
    assert l.shape == (None, 1, 5) and l.output_shape == (None, 1, 5)
    assert l.get_params() == []
    # Lasagne's InputLayer has neither input_layer nor input_shape
    assert not hasattr(l, "input_layer") and not hasattr(l, "input_shape")


def test_walk_down_to_the_input_by_input_layer_links():
    # sknn's backend collects a network's parameters this way: the loop
    # must end at the InputLayer, not step on to None
    from symnet.layers import DenseLayer, get_all_params, get_output
    l_in = InputLayer((None, 3), name="in")
    top = DenseLayer(DenseLayer(l_in, 4, name="h"), 2, name="out")
    layer, params, names = top, [], []
    while hasattr(layer, "input_layer"):
        names.append(layer.name)
        params.extend(layer.get_params())
        layer = layer.input_layer
    assert layer is l_in and names == ["out", "h"]
    assert set(params) == set(get_all_params(top)) and len(params) == 4
    x = np.random.RandomState(0).rand(5, 3).astype(symnet.config.floatX)
    f = symnet.function([l_in.input_var], get_output(top), mode="py")
    W1, b1, W2, b2 = (p.get_value() for p in get_all_params(top))
    want = np.maximum(np.maximum(x @ W1 + b1, 0) @ W2 + b2, 0)
    np.testing.assert_allclose(f(x), want, rtol=1e-5)


def test_floatX_read_at_build_time():
    symnet.config.floatX = "float64"
    assert InputLayer((2,)).input_var.dtype == "float64"


def test_given_input_var():
    x = T.imatrix("x")
    l = InputLayer((None, 3), input_var=x)
    assert l.input_var is x
    with pytest.raises(ValueError, match=r"shape \(None, 3, 4\) has 3 dimensions.*x has 2"):
        InputLayer((None, 3, 4), input_var=x)
    with pytest.raises(TypeError):
        InputLayer((None, 3), input_var="x")


def test_bad_shapes():
    with pytest.raises(ValueError, match="non-positive"):
        InputLayer((None, -1))
    with pytest.raises(TypeError):
        InputLayer(5)
