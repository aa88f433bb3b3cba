"""InputLayer."""
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
    assert l.get_params() == [] and l.input_layer is None


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
