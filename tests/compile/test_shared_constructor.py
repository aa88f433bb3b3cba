"""shared_constructor (Theano's registry of shared() constructors) and
theano.tensor.sharedvar's tensor_constructor / scalar_constructor."""
import numpy as np
import pytest

import symnet
import symnet.compat
from symnet.compile.sharedvalue import (ScalarSharedVariable, TensorSharedVariable,
                                        scalar_constructor, shared, shared_constructor,
                                        tensor_constructor)


@pytest.fixture
def registry():
    before = list(shared.constructors)
    yield shared.constructors
    shared.constructors[:] = before


def test_decorator_registers_and_shared_tries_newest_first(registry):
    calls = []

    @shared_constructor
    def lists(value, name=None, strict=False, allow_downcast=None, **kwargs):
        calls.append(("lists", kwargs))
        if not isinstance(value, list):
            raise TypeError("lists only")
        return shared(np.asarray(value, dtype="float32"), name=name)

    @shared_constructor
    def tuples(value, name=None, strict=False, allow_downcast=None, **kwargs):
        calls.append(("tuples", kwargs))
        if not isinstance(value, tuple):
            raise TypeError("tuples only")
        return shared(np.asarray(value, dtype="int32") * 10, name=name)

    assert lists in registry and tuples in registry
    a = symnet.shared([1, 2], name="a", borrow=True)
    assert a.dtype == "float32" and a.name == "a"
    np.testing.assert_array_equal(a.get_value(), [1.0, 2.0])
    # newest first; only the arguments the caller gave are passed on
    assert calls[:2] == [("tuples", {"borrow": True}), ("lists", {"borrow": True})]
    b = symnet.shared((1, 2))
    np.testing.assert_array_equal(b.get_value(), [10, 20])
    # neither handles an array: symnet's own constructor does
    c = symnet.shared(np.eye(2))
    assert isinstance(c, TensorSharedVariable) and c.type.shape == (2, 2)
    # the variables compute as any shared variable, on py and numba
    for mode in ("py", "numba"):
        f = symnet.function([], (a * 2).sum() + b.sum(), mode=mode)
        assert float(f()) == 36.0
    assert shared_constructor(tuples, remove=True) is tuples
    assert tuples not in registry
    assert symnet.shared((1, 2)).get_value().tolist() == [1, 2]


def test_other_errors_of_a_constructor_propagate(registry):
    @shared_constructor
    def broken(value, **kwargs):
        raise ValueError("broken constructor")
    with pytest.raises(ValueError, match="broken constructor"):
        symnet.shared(np.ones(2))


def test_tensor_constructor():
    v = tensor_constructor(np.arange(3.0), name="v")
    assert isinstance(v, TensorSharedVariable) and v.name == "v"
    assert v.type.shape == (3,) and v.dtype == "float64"
    with pytest.raises(TypeError, match="needs a numpy.ndarray, got list"):
        tensor_constructor([1.0, 2.0])
    with pytest.raises(TypeError, match="only 'cpu'"):
        tensor_constructor(np.ones(2), target="dev0")
    w = tensor_constructor(np.ones((2, 3)), static_shape=False)
    w.set_value(np.zeros((4, 3)))
    assert w.get_value().shape == (4, 3)


@pytest.mark.parametrize("value, dtype", [(2.5, "float64"), (3, "int64"),
                                          (np.float32(1.5), "float32"), (1j, "complex128")])
def test_scalar_constructor(value, dtype):
    s = scalar_constructor(value, name="s")
    assert s.ndim == 0 and s.dtype == dtype and s.get_value() == value
    assert isinstance(s, ScalarSharedVariable) and isinstance(s, TensorSharedVariable)
    s.set_value(np.asarray(value) * 3)
    assert s.get_value() == value * 3
    s.set_value(np.asarray(value))
    f = symnet.function([], s * 2, mode="py")
    assert f() == value * 2


@pytest.mark.parametrize("value", [np.ones(2), [1.0], "a", True])
def test_scalar_constructor_rejects_non_numbers(value):
    with pytest.raises(TypeError, match="needs a number"):
        scalar_constructor(value)


def test_theano_names():
    symnet.compat.install()
    try:
        import theano
        import theano.tensor as T
        from theano.tensor.sharedvar import (TensorSharedVariable as TSV, scalar_constructor as sc,
                                             tensor_constructor as tc, ScalarSharedVariable as SSV)
        assert SSV is ScalarSharedVariable
        from theano.compile import shared_constructor as reg
        assert T.TensorSharedVariable is TSV is TensorSharedVariable
        assert (sc, tc, reg) == (scalar_constructor, tensor_constructor, shared_constructor)
        assert theano.shared is shared and theano.shared.constructors is shared.constructors
        assert isinstance(theano.shared(np.zeros(2)), T.TensorSharedVariable)
    finally:
        symnet.compat.uninstall()
