"""``get_scalar_constant_value`` on elements of constant vectors, and
``_allclose``, the dtype-aware comparison of ``theano.tensor.basic``."""
import numpy as np
import pytest

import symnet.tensor as T
from symnet.tensor.basic import _allclose


def test_element_of_a_constant_vector():
    c = T.as_tensor_variable([3, 2, 7, 5])
    assert [int(T.get_scalar_constant_value(v)) for v in c] == [3, 2, 7, 5]
    assert T.get_scalar_constant_value(c[-1]).dtype == c.dtype
    m = T.constant(np.arange(6.).reshape(2, 3))
    assert T.get_scalar_constant_value(m[1, 2]) == 5.0
    with pytest.raises(T.NotScalarConstantError):
        T.get_scalar_constant_value(c[T.iscalar("i")])
    with pytest.raises(T.NotScalarConstantError):
        T.get_scalar_constant_value(c[1:3])


def test_scalar_constant_value_of_a_filled_array_is_its_fill():
    # Theano's answer for alloc/zeros/ones (its fibby doc rewrite relies on it)
    assert T.get_scalar_constant_value(T.zeros([5])) == 0.0
    assert T.get_scalar_constant_value(T.alloc(np.float32(2.5), 3, 4)) == 2.5
    with pytest.raises(T.NotScalarConstantError):
        T.get_scalar_constant_value(T.alloc(T.dscalar("x"), 3))


def test_allclose_tolerance_follows_the_less_precise_dtype():
    a = np.float64(1.0)
    assert _allclose(a, np.float32(1 + 5e-6))          # float32: rtol 1e-5
    assert not _allclose(a, np.float64(1 + 5e-5))      # float64: numpy's defaults
    assert _allclose(np.float16(1), np.float16(1.0009765))   # float16: 1e-3
    assert not _allclose(np.float32(1), np.float32(1.001))
    assert _allclose(np.float32(1), np.float32(1.001), rtol=1e-2)
    assert _allclose([1.0, 2.0], [1.0, 2.0]) is True
