"""config.compute_test_value: nodes run on test values as the graph is built."""
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.testvalue import TestValueError, get_test_value
from symnet.graph.op import BUILD_HOOKS

F32 = "float32"


@pytest.fixture
def test_values():
    symnet.config.compute_test_value = "raise"
    try:
        yield
    finally:
        symnet.config.compute_test_value = "off"


def test_values_propagate(test_values):
    x = T.matrix("x")
    x.tag.test_value = np.arange(12, dtype=F32).reshape(3, 4)
    W = symnet.shared(np.ones((4, 2), F32) / 4, name="W")
    h = T.tanh(T.dot(x, W) + 1)
    assert h.tag.test_value.shape == (3, 2)
    np.testing.assert_allclose(h.tag.test_value,
                               np.tanh(np.arange(12).reshape(3, 4) @ np.ones((4, 2)) / 4 + 1),
                               rtol=1e-6)
    assert get_test_value(T.sum(h)).shape == ()


def test_shape_error_at_build_time_with_real_shapes(test_values):
    x = T.matrix("x")
    x.tag.test_value = np.ones((3, 4), F32)
    W = T.matrix("W")
    W.tag.test_value = np.ones((5, 2), F32)
    with pytest.raises(ValueError) as info:
        T.dot(x, W)  # MARK-dot
    msg = str(info.value)
    assert "(3, 4)" in msg and "(5, 2)" in msg and "Dot(x, W)" in msg
    with open(__file__) as f:
        line = next(k for k, text in enumerate(f, 1) if "MARK-dot" in text and "with" not in text)
    assert f"{__file__}:{line}" in msg


def test_test_value_is_checked_against_the_type(test_values):
    x = T.matrix("x")
    x.tag.test_value = np.ones(3, F32)     # a vector for a matrix
    with pytest.raises(TypeError, match="test value of x"):
        x * 2


def test_missing_test_value(test_values):
    z = T.vector("z")
    with pytest.raises(TestValueError, match=r"input 0 \(z\) has no test value"):
        T.exp(z)
    symnet.config.compute_test_value = "warn"
    with pytest.warns(UserWarning, match="has no test value"):
        y = T.exp(z)
    assert "test_value" not in y.tag
    symnet.config.compute_test_value = "ignore"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = T.exp(z)
    assert "test_value" not in y.tag
    with pytest.raises(TestValueError, match="z has no test value"):
        get_test_value(z)


def test_off_installs_nothing_and_bad_values_raise():
    assert symnet.config.compute_test_value == "off"
    assert not BUILD_HOOKS
    x = T.vector("x")
    assert "test_value" not in (x + 1).tag
    with pytest.raises(ValueError, match="compute_test_value must be one of"):
        symnet.config.compute_test_value = "sometimes"
