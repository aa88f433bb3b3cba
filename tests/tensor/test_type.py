"""TensorType: broadcastable vs shape spellings, filter errors, upcast."""
import numpy as np
import pytest

from symnet.tensor.type import TensorType, upcast


def test_spellings_and_equality():
    a = TensorType("float32", (False, True))
    b = TensorType("float32", shape=(None, 1))
    assert a == b and hash(a) == hash(b) and a.broadcastable == (False, True)
    assert TensorType("float32", shape=(3, 1)) != b
    assert b.is_compatible(TensorType("float32", shape=(None, 1)))
    assert TensorType("float32", shape=(3,)).is_compatible(TensorType("float32", shape=(None,)))
    assert not TensorType("float32", shape=(3,)).is_compatible(TensorType("float32", shape=(4,)))
    assert str(TensorType("int8", shape=(None,))) == "TensorType(int8, vector)"  # Theano's
    assert str(TensorType("int8", shape=(None, 1, None))) == "TensorType(int8, (False, True, False))"
    assert str(TensorType("int8", shape=(None,) * 3)) == "TensorType(int8, 3D)"
    assert str(TensorType("int8", shape=(3, None))) == "TensorType(int8, (3, ?))"  # sizes shown
    with pytest.raises(TypeError):
        TensorType("float32")
    with pytest.raises(TypeError, match="unsupported dtype"):
        TensorType("object", shape=())
    with pytest.raises(ValueError, match="negative"):
        TensorType("float32", shape=(-1,))


def test_typed_constructors_are_types():
    # Theano's T.dscalar is a TensorType: calling it makes a variable of that
    # very type; its tutorial prints `x.type is T.dscalar` -> True.
    import symnet.tensor as T
    x = T.dscalar("x")
    assert isinstance(T.dscalar, TensorType) and x.type is T.dscalar and x.name == "x"
    assert TensorType("float64", (False,) * 2) == T.dmatrix
    assert T.fmatrix().type == TensorType("float32", (False, False))
    assert T.lrow("r").broadcastable == (True, False) and T.bcol().dtype == "int8"
    w = T.dmatrix("w", shape=(3, 4))
    assert w.type.shape == (3, 4) and T.dmatrix.shape == (None, None)  # no change to the type
    with pytest.raises(ValueError, match=r"shape=\(3,\)\): 1 sizes for a type of 2 dim"):
        T.dmatrix("m", shape=(3,))
    assert [v.name for v in T.iscalars("ab")] == ["a", "b"]


def test_floatx_dtype():
    from symnet.configdefaults import config
    config.floatX = "float64"
    assert TensorType("floatX", shape=()).dtype == "float64"


def test_upcast_is_numpy2():
    assert upcast("int32", "float32") == "float64"
    assert upcast("int8", "int16") == "int16"
    assert upcast("float32") == "float32"
    assert upcast("uint8", "int8") == "int16"
    assert upcast("bool", "int8") == "int8"


def test_filter():
    t = TensorType("float32", shape=(None, 3))
    a = np.zeros((2, 3), "float32")
    assert t.filter(a) is a
    assert t.filter([[1, 2, 3]]).dtype == np.float32  # exact list conversion
    with pytest.raises(TypeError, match="dimensions for x"):
        t.filter(np.zeros(3, "float32"), name="x")
    with pytest.raises(ValueError, match=r"wrong shape for x.*axis 1 should have size 3"):
        t.filter(np.zeros((2, 4), "float32"), name="x")
    with pytest.raises(TypeError, match="allow_input_downcast"):
        t.filter(np.zeros((2, 3)))
    assert t.filter(np.zeros((2, 3)), allow_downcast=True).dtype == np.float32
    with pytest.raises(TypeError):
        t.filter([[0.1, 0.2, 0.3]])  # not exact in float32
    with pytest.raises(TypeError, match="expected a numpy array"):
        t.filter([[1, 2, 3]], strict=True)
    i = TensorType("int8", shape=())
    assert i.filter(5).dtype == np.int8
    with pytest.raises(TypeError, match="without loss"):
        i.filter(300)
    with pytest.raises(TypeError):
        i.filter(1.5)


def test_sparse_grad_flag_is_accepted_and_kept():
    # AgentNet's get_type: T.TensorType(x.dtype, x.broadcastable,
    # sparse_grad=getattr(x.type, "sparse_grad", False)), then
    # filter_variable to cast a scan step's state to it
    import symnet
    import symnet.tensor as T
    x = T.matrix("x")
    t = TensorType(x.dtype, x.broadcastable, sparse_grad=getattr(x.type, "sparse_grad", False))
    assert t.sparse_grad is False and x.type.sparse_grad is False
    assert t == x.type and hash(t) == hash(x.type)
    assert TensorType("float64", (False,), sparse_grad=True).sparse_grad is True
    y = t.filter_variable(x * 2)
    f = symnet.function([x], y, mode="py")
    a = np.arange(6, dtype=x.dtype).reshape(2, 3)
    np.testing.assert_array_equal(f(a), 2 * a)
    with pytest.raises(TypeError):
        TensorType("float32", (False,), sparse_grad=True).filter_variable(T.matrix())


def test_convert_variable_follows_theano():
    import symnet
    import symnet.tensor as T
    m = TensorType("float32", (False, False))
    row = T.row("r")  # broadcastable (True, False): holds matrix values
    conv = m.convert_variable(row)
    assert conv is not None and conv.type == m
    a = np.arange(3, dtype="float32").reshape(1, 3)
    np.testing.assert_array_equal(symnet.function([row], conv * 2, mode="py")(a), 2 * a)
    x = T.matrix("x", dtype="float32")
    assert m.convert_variable(x) is x
    # a matrix is not a row, another dtype or ndim is not this type: None
    assert TensorType("float32", (True, False)).convert_variable(x) is None
    assert m.convert_variable(T.dmatrix()) is None
    assert m.convert_variable(T.vector(dtype="float32")) is None
    with pytest.raises(TypeError, match=r"Cannot convert Type .*float64.* into Type"):
        m.filter_variable(T.dmatrix("d"))
    with pytest.raises(TypeError):
        m.filter_variable(row, allow_convert=False)
    assert m.filter_variable(row).type == m
