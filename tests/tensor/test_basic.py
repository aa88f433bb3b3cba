"""as_tensor_variable, constant dtypes and typed constructors."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.configdefaults import config
from symnet.tensor.basic import get_scalar_constant_value, NotScalarConstantError


def test_constant_dtypes():
    assert T.constant(1).dtype == "int8"
    assert T.constant(200).dtype == "int16"
    assert T.constant(2 ** 40).dtype == "int64"
    assert T.constant(1.5).dtype == config.floatX
    assert T.constant(True).dtype == "bool"
    assert T.constant(np.float64(1)).dtype == "float64"
    assert T.constant(np.int32(1)).dtype == "int32"
    assert T.constant([1, 2]).dtype == "int8"
    assert T.constant([1.0, 2.0]).dtype == config.floatX
    assert T.constant(np.zeros(3, "float16")).dtype == "float16"
    assert T.constant(3, dtype="float64").dtype == "float64"
    c = T.constant(np.ones((2, 3)))
    assert c.type.shape == (2, 3)
    assert T.constant(1.0, ndim=2).type.shape == (1, 1)
    with pytest.raises(ValueError):
        T.constant(np.ones((2, 2)), ndim=1)


def test_constant_is_read_only():
    c = T.constant(np.ones(3))
    with pytest.raises(ValueError):
        c.data[0] = 5


def test_as_tensor_variable():
    x = T.dmatrix("x")
    assert T.as_tensor_variable(x) is x
    assert T.as_tensor_variable(2.0).dtype == config.floatX
    assert T.as_tensor_variable([x[0, 0], 1.0]).ndim == 1
    assert T.as_tensor_variable(T.row(), ndim=1).ndim == 1
    with pytest.raises(TypeError, match="dimensions"):
        T.as_tensor_variable(x, ndim=3)
    with pytest.raises(TypeError, match="cannot convert"):
        T.as_tensor_variable(object())

    class FakeLayer:
        output_shape = (None, 3)
    with pytest.raises(TypeError, match="get_output"):
        T.as_tensor_variable(FakeLayer())


def test_typed_constructors():
    assert T.fmatrix().dtype == "float32" and T.fmatrix().ndim == 2
    assert T.ivector().dtype == "int32" and T.lscalar().dtype == "int64"
    assert T.btensor3().dtype == "int8" and T.dtensor4().ndim == 4
    assert T.row().broadcastable == (True, False)
    assert T.col().broadcastable == (False, True)
    assert T.matrix(shape=(2, None)).type.shape == (2, None)
    assert T.tensor("float64", (False, True)).broadcastable == (False, True)
    assert T.tensor(dtype="int8", ndim=3).ndim == 3
    a, b = T.scalars("a", "b")
    assert (a.name, b.name) == ("a", "b")
    assert [v.name for v in T.dmatrices("p q r")] == ["p", "q", "r"]
    assert [v.name for v in T.fvectors("u", "v")] == ["u", "v"]
    assert len(T.vectors(3)) == 3
    config.floatX = "float64"
    assert T.matrix().dtype == "float64" and T.scalar().dtype == "float64"


def test_get_scalar_constant_value():
    assert int(get_scalar_constant_value(T.constant(3))) == 3
    assert int(get_scalar_constant_value(T.matrix(shape=(4, None)).shape[0])) == 4
    with pytest.raises(NotScalarConstantError):
        get_scalar_constant_value(T.matrix().shape[0])
    with pytest.raises(NotScalarConstantError):
        get_scalar_constant_value(T.scalar())


def test_stacklists_nests_into_leading_axes():
    a, b, c, d = T.matrices("abcd", dtype="float64")
    f = symnet.function([a, b, c, d], T.stacklists([[a, b], [c, d]]), mode="py")
    vals = [np.full((2, 3), k, dtype="float64") for k in range(4)]
    np.testing.assert_array_equal(f(*vals), np.array(vals).reshape(2, 2, 2, 3))
    x = T.lscalar("x")
    np.testing.assert_array_equal(T.stacklists([[1, 2], [3, x]]).eval({x: 4}), [[1, 2], [3, 4]])
    assert T.stacklists(x) is x


@pytest.mark.parametrize("key", [(slice(0, 5), slice(0, 3)), (slice(2, 9, 3),),
                                 (slice(1, 4), slice(0, 2), slice(-2, 2, 2))])
def test_mgrid_and_ogrid_are_numpys(key):
    for ours, theirs in ((T.mgrid, np.mgrid), (T.ogrid, np.ogrid)):
        got = [v.eval() for v in ours[key]]
        want = list(theirs[key])  # (mgrid gives one stacked array)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.dtype == "int64" and g.shape == w.shape
            np.testing.assert_array_equal(g, w)


def test_grids_reject_what_they_cannot_do():
    with pytest.raises(NotImplementedError, match="complex step"):
        T.mgrid[0:1:5j]
    with pytest.raises(TypeError, match=r"slices with a stop, like \[0:5, 0:3\], got 3"):
        T.ogrid[3]


def test_as_tensor_variable_of_an_apply_node_is_its_default_output():
    from symnet.graph.basic import Apply
    from symnet.graph.op import Op

    class Two(Op):
        def __init__(self, default_output=None):
            self.default_output = default_output

        def make_node(self, x):
            x = T.as_tensor_variable(x)
            return Apply(self, [x], [x.type(), x.type()])

    x = T.scalar("x")
    node = Two(1).make_node(x)
    assert T.as_tensor_variable(node) is node.outputs[1]
    for bad, msg in [(Two(), "2 outputs and no default_output"), (Two(2), "out of range"),
                     (Two(-1), "out of range"), (Two([0, 1]), "should be an int")]:
        with pytest.raises(AttributeError, match=msg):
            T.as_tensor_variable(bad.make_node(x))
    one = T.exp(x).owner
    assert T.as_tensor_variable(one) is one.outputs[0]


def test_get_scalar_constant_value_of_an_element_of_a_stack_of_scalars():
    a = T.stack([1, 2, 3])
    assert [int(get_scalar_constant_value(a[i])) for i in (0, 1, 2, -1)] == [1, 2, 3, 3]
    b = T.iscalar("b")
    a = T.stack([b, 2, 3])
    with pytest.raises(NotScalarConstantError):
        get_scalar_constant_value(a[0])
    assert get_scalar_constant_value(a[1]) == 2 and get_scalar_constant_value(a[1]).dtype == a.dtype


def test_get_scalar_constant_value_returns_a_copy():
    c = T.constant(3)
    d = get_scalar_constant_value(c)
    d += 1                      # the constant's data is read-only: no error, no change
    assert int(get_scalar_constant_value(c)) == 3 and int(c.data) == 3
    a = np.array([5])
    e = get_scalar_constant_value(a)
    e += 1
    assert a.tolist() == [5]
    assert int(T.extract_constant(c)) == 3
