"""Shared variables: borrow semantics, set_value checks naming the variable,
static shapes, static_shape=False, broadcastable."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T


def test_value_is_copied_unless_borrowed():
    a = np.zeros(3)
    w = symnet.shared(a, name="w")
    a[0] = 1
    assert w.get_value()[0] == 0
    v = w.get_value()
    v[1] = 5
    assert w.get_value()[1] == 0
    assert w.get_value(borrow=True) is w.get_value(borrow=True)
    b = np.zeros(3)
    wb = symnet.shared(b, borrow=True)
    b[0] = 7
    assert wb.get_value()[0] == 7


def test_set_value_borrow():
    w = symnet.shared(np.zeros(3), name="w")
    new = np.ones(3)
    w.set_value(new)
    new[0] = 9
    assert w.get_value()[0] == 1
    w.set_value(new, borrow=True)
    new[1] = 8
    assert w.get_value()[1] == 8


def test_type_records_shape_and_dtype():
    w = symnet.shared(np.zeros((3, 4), "float32"), name="w")
    assert w.type.shape == (3, 4) and w.dtype == "float32" and w.ndim == 2
    assert symnet.shared(1.5).dtype == "float64"
    assert symnet.shared(np.float32(1.5)).dtype == "float32"
    assert symnet.shared(3).dtype == "int64"
    assert str(w) == "w"


def test_set_value_errors_name_the_variable():
    w = symnet.shared(np.zeros((3, 4), "float32"), name="weights")
    with pytest.raises(ValueError, match=r"set_value on weights.*expected \(3, 4\), got \(2, 4\)"
                                         r".*static_shape=False"):
        w.set_value(np.zeros((2, 4), "float32"))
    with pytest.raises(TypeError, match=r"set_value on weights.*dimensions.*expected 2"):
        w.set_value(np.zeros(12, "float32"))
    with pytest.raises(TypeError, match=r"set_value on weights.*float64.*float32"):
        w.set_value(np.zeros((3, 4), "float64"))
    np.testing.assert_array_equal(w.get_value(), np.zeros((3, 4)))
    w.set_value(np.ones((3, 4), "float32"))
    assert w.get_value().sum() == 12


def test_static_shape_false():
    d = symnet.shared(np.zeros((3, 4)), name="data", static_shape=False)
    assert d.type.shape == (None, None)
    d.set_value(np.ones((5, 2)))
    f = symnet.function([], d.sum() + d.shape[0], mode="py")
    assert float(f()) == 15.0
    with pytest.raises(TypeError):
        d.set_value(np.ones(5))


def test_static_shape_catches_build_time_errors():
    w1 = symnet.shared(np.zeros((3, 4)), name="w1")
    w2 = symnet.shared(np.zeros((5, 2)), name="w2")
    with pytest.raises(ValueError, match=r"w1 has shape \(3, 4\) and w2 has shape \(5, 2\)"):
        T.dot(w1, w2)


def test_broadcastable():
    b = symnet.shared(np.zeros((1, 4)), broadcastable=(True, False), name="b")
    assert b.broadcastable == (True, False)
    x = T.dmatrix("x")
    f = symnet.function([x], x + b, mode="py")
    assert f(np.ones((3, 4))).shape == (3, 4)
    with pytest.raises(ValueError, match="broadcastable"):
        symnet.shared(np.zeros((2, 4)), broadcastable=(True, False))
    with pytest.raises(ValueError):
        symnet.shared(np.zeros((2, 4)), broadcastable=(True,))
    # static_shape=False keeps only the pattern
    c = symnet.shared(np.zeros((1, 4)), broadcastable=(True, False), static_shape=False)
    assert c.type.shape == (1, None)
    c.set_value(np.zeros((1, 7)))


def test_shared_rejects_symbolic_and_objects():
    with pytest.raises(TypeError):
        symnet.shared(T.dvector())
    with pytest.raises(TypeError):
        symnet.shared(np.array([object()]))


def test_shared_operators_and_clone():
    w = symnet.shared(np.arange(3.0), name="w")
    np.testing.assert_array_equal((w * 2 + 1).eval(mode="py"), [1, 3, 5])
    c = w.clone()
    assert c is not w and c.name == "w"
    # Theano's clone: the same storage under a new variable
    w.set_value(np.array([5.0, 6.0, 7.0]))
    np.testing.assert_array_equal(c.get_value(), [5.0, 6.0, 7.0])
    symnet.function([], [], updates=[(c, c * 2)], mode="py")()
    np.testing.assert_array_equal(w.get_value(), [10.0, 12.0, 14.0])


def test_set_value_keeps_strict_and_allow_downcast():
    # Theano's rule: the flags given to shared() check every new value too
    b = symnet.shared(np.float64(7.2), strict=True)
    with pytest.raises(TypeError, match="expected a numpy array of dtype float64"):
        b.set_value(8)
    b.set_value(np.array(8.0))
    assert b.get_value() == 8.0
    i = symnet.shared(np.int64(7), allow_downcast=True)
    i.set_value(8.23)
    assert i.get_value() == 8 and i.get_value().dtype == np.int64
    j = symnet.shared(np.int64(7))
    with pytest.raises(TypeError, match="without loss"):
        j.set_value(8.23)
    f = symnet.shared(np.zeros(3, 'float32'), allow_downcast=True)
    f.set_value(np.ones(3))                     # float64 data, downcast allowed
    assert f.get_value().dtype == np.float32


def test_a_pickle_naming_theanos_load_shared_variable_loads(theano_shim):
    # Theano's pickles of 2011 name theano.tensor.sharedvar.load_shared_variable
    # as the constructor of a shared variable
    import pickle
    from symnet.compile.sharedvalue import load_shared_variable

    class Old:
        def __reduce__(self):
            return load_shared_variable, (np.arange(4.0).reshape(2, 2),)
    data = pickle.dumps(Old(), protocol=2)
    assert b"symnet.compile.sharedvalue\nload_shared_variable" in data
    v = pickle.loads(data.replace(b"symnet.compile.sharedvalue\n", b"theano.tensor.sharedvar\n"))
    assert isinstance(v, symnet.compile.sharedvalue.TensorSharedVariable)
    np.testing.assert_array_equal(v.get_value(), [[0.0, 1.0], [2.0, 3.0]])
