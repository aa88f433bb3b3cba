"""Shape rewrites: static sizes as constants, Shape_i lifting, reshapes."""
import numpy as np

import symnet.tensor as T

from ._helpers import compare, op_names

X = np.random.default_rng(2).standard_normal((3, 4))


def test_static_shapes_become_constants():
    x = T.dmatrix("x", shape=(3, 4))
    f = compare([x], [T.shape(x), x.shape[1] * 2], [X])
    assert op_names(f) == []


def test_shape_subscript_does_not_compute_the_value():
    x = T.dmatrix("x")
    y = T.exp(T.tanh(x) + 1.0).T
    f = compare([x], [y.shape[0], y.shape[-1]], [X])
    # only the sizes of x are read: none of exp, tanh, add or the transpose
    assert op_names(f) == ["Shape_i", "Shape_i"]
    # y.shape[i] is Shape_i(i)(y) directly, or an item of [Shape_i(0)(y), ...]
    stats = f.rewrite_stats
    assert stats.get("local_shape_subtensor", 0) + stats.get("local_subtensor_make_vector",
                                                             0) == 2
    assert f.rewrite_stats["local_shape_i_lift"] >= 2


def test_shape_through_reduction():
    x = T.dtensor3("x")
    f = compare([x], x.sum(axis=1).shape[1], [np.zeros((2, 3, 5))])
    assert op_names(f) == ["Shape_i"]
    assert f.fgraph.toposort()[0].op.i == 2


def test_reshape_of_reshape_is_one_reshape():
    x = T.dmatrix("x")
    f = compare([x], x.reshape((2, 6)).reshape((4, 3)), [X])
    assert op_names(f) == ["Reshape"] and f.rewrite_stats["local_reshape_reshape"] == 1


def test_reshape_to_own_shape_is_removed():
    x = T.dmatrix("x")
    f = compare([x], T.exp(x).reshape(x.shape), [X])
    assert op_names(f) == ["exp"]
    f = compare([x], x.reshape((x.shape[0], x.shape[1])) * 2.0, [X])
    assert op_names(f) == ["mul"]
    s = T.dmatrix("s", shape=(3, 4))
    f = compare([s], s.reshape((3, 4)) + 1.0, [X])
    assert op_names(f) == ["add"]
    f = compare([s], s.reshape((4, 3)) + 1.0, [X])
    assert op_names(f) == ["Reshape", "add"]


def test_shape_of_an_elementwise_result_does_not_compute_it():
    # Theano's shape tutorial: (x ** 2).shape is read from x's sizes
    x = T.dmatrix("x")
    f = compare([x], (T.exp(x) ** 2).sum(axis=0).shape, [np.ones((3, 4))])
    assert f.rewrite_stats["local_shape_to_shape_i"] == 1
    assert sorted(op_names(f)) == ["MakeVector", "Shape_i"]
    g = compare([x], T.specify_shape(x, (2, None)).shape, [np.ones((2, 5))])
    assert "local_shape_to_shape_i" not in g.rewrite_stats  # not an op it lifts through
