"""symnet.utils: create_param in all its forms and the small helpers."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import utils
from symnet.compile.sharedvalue import SharedVariable


def test_floatX_and_shared_empty():
    assert utils.floatX([1, 2]).dtype == np.dtype(symnet.config.floatX)
    s = utils.shared_empty(3, dtype="int32")
    assert s.get_value().shape == (0, 0, 0) and s.dtype == "int32"
    s.set_value(np.ones((2, 2, 2), "int32"))  # size not fixed


def test_as_tuple():
    assert utils.as_tuple(2, 3) == (2, 2, 2)
    assert utils.as_tuple([1, 2], 2, int) == (1, 2)
    with pytest.raises(ValueError, match="length 3"):
        utils.as_tuple([1, 2], 3)
    with pytest.raises(TypeError):
        utils.as_tuple([1, "a"], 2, int)


def test_unique_and_inspect_kwargs():
    assert utils.unique([3, 1, 3, 2, 1, 2]) == [3, 1, 2]

    def f(a, b=1, *args, c=2, **kw):
        pass
    assert utils.inspect_kwargs(f) == ["b", "c"]


def test_compute_norms():
    a = np.random.RandomState(0).randn(3, 4)
    np.testing.assert_allclose(utils.compute_norms(a), np.sqrt((a ** 2).sum(0)))
    b = np.random.RandomState(1).randn(2, 3, 4, 5)
    np.testing.assert_allclose(utils.compute_norms(b), np.sqrt((b ** 2).sum((1, 2, 3))))
    np.testing.assert_allclose(utils.compute_norms(b, norm_axes=(0,)),
                               np.sqrt((b ** 2).sum(0)))
    with pytest.raises(ValueError, match="norm_axes"):
        utils.compute_norms(np.ones((1,) * 6))


def test_one_hot():
    x = T.ivector("x")
    f = symnet.function([x], utils.one_hot(x), mode="py")
    out = f(np.array([2, 0, 1], "int32"))
    np.testing.assert_array_equal(out, np.eye(3)[[2, 0, 1]])
    g = symnet.function([x], utils.one_hot(x, 5), mode="py")
    assert g(np.array([1], "int32")).shape == (1, 5)


def test_collect_shared_vars_and_as_theano_expression():
    a = symnet.shared(np.ones(2, "float32"), name="a")
    b = symnet.shared(np.ones(2, "float32"), name="b")
    x = T.vector()
    assert utils.collect_shared_vars([a * x + b, a]) == [a, b]
    assert utils.collect_shared_vars(b) == [b]
    assert utils.as_theano_expression(x) is x
    c = utils.as_theano_expression(np.ones((2, 3), "float32"))
    assert c.type.shape == (2, 3)
    with pytest.raises(TypeError):
        utils.as_theano_expression(object())


def test_create_param_shared_identity():
    w = symnet.shared(np.ones((2, 3), "float64"))
    assert utils.create_param(w, (2, 3), "W") is w
    assert w.name == "W"  # unnamed variables get the name
    named = symnet.shared(np.ones(3, "float32"), name="mine")
    assert utils.create_param(named, (3,), "b").name == "mine"
    with pytest.raises(ValueError, match="W.*1 dimensions, should be 2"):
        utils.create_param(symnet.shared(np.ones(3)), (2, 3), "W")
    with pytest.raises(ValueError, match=r"W.*\(2, 3\), should be \(3, 2\)"):
        utils.create_param(w, (3, 2), "W")


def test_create_param_array_keeps_dtype_and_broadcastable():
    arr = np.arange(3, dtype="float64").reshape(1, 3)
    p = utils.create_param(arr, (1, 3), "b")
    assert isinstance(p, SharedVariable) and p.dtype == "float64"
    assert p.broadcastable == (True, False)
    arr[0, 0] = 100  # copied
    assert p.get_value()[0, 0] == 0
    with pytest.raises(ValueError, match=r"parameter b: .* has shape \(1, 3\), should be \(3,\)"):
        utils.create_param(arr, (3,), "b")


def test_create_param_callable():
    p = utils.create_param(lambda shp: np.full(shp, 2.0, "float32"), (2, 2), "W")
    np.testing.assert_array_equal(p.get_value(), np.full((2, 2), 2.0))
    with pytest.raises(ValueError, match="returned by the provided callable"):
        utils.create_param(lambda shp: np.ones((5,)), (2, 2), "W")
    with pytest.raises(TypeError, match="returned by the provided callable"):
        utils.create_param(lambda shp: "nope", (2, 2), "W")
    # a callable may return an expression too
    w = symnet.shared(np.ones((2, 2), "float32"))
    assert utils.create_param(lambda shp: w, (2, 2)) is w


def test_create_param_expression():
    w = symnet.shared(np.ones((3, 4), "float32"))
    e = w.T
    assert utils.create_param(e, (4, 3), "W") is e
    with pytest.raises(ValueError, match=r"W.*\(4, 3\), should be \(3, 4\)"):
        utils.create_param(w.T, (3, 4), "W")
    # an expression without a static shape is only checked for ndim
    x = T.matrix()
    assert utils.create_param(x * 2, (5, 5), "V") is not None
    with pytest.raises(ValueError, match="V.*2 dimensions, should be 1"):
        utils.create_param(x, (5,), "V")


def test_create_param_number_and_errors():
    p = utils.create_param(np.float32(1.5), (), "s")
    assert p.get_value() == np.float32(1.5)
    with pytest.raises(TypeError, match="not a numpy array, a symbolic expression, or a callable"):
        utils.create_param(None, (2,), "b")
    with pytest.raises(TypeError):
        utils.create_param("x", (2,), "b")
    with pytest.raises(ValueError, match="non-positive"):
        utils.create_param(np.ones(0), (0,), "b")
