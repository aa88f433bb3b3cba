"""Reduction rewrites: nested sums, reductions over no axis."""
import numpy as np

import symnet.tensor as T
from symnet.tensor.ops.reduction import Reduce

from ._helpers import compare, op_names

X = np.random.default_rng(1).standard_normal((2, 3, 4))


def test_sum_of_sum_is_one_sum():
    x = T.dtensor3("x")
    f = compare([x], x.sum(axis=1).sum(axis=1), [X])
    nodes = f.fgraph.toposort()
    assert op_names(f) == ["Reduce"] and nodes[0].op.axis == (1, 2)
    assert f.rewrite_stats["local_sum_sum"] == 1
    f = compare([x], x.sum(axis=2).sum(axis=0).sum(), [X])
    assert op_names(f) == ["Reduce"] and f.fgraph.toposort()[0].op.axis == (0, 1, 2)


def test_max_of_max_and_int_sums():
    x = T.dtensor3("x")
    f = compare([x], x.max(axis=0).max(axis=0), [X])
    assert op_names(f) == ["Reduce"]
    i = T.itensor3("i")
    f = compare([i], i.sum(axis=0).sum(axis=0), [(X * 10).astype("int32")])
    assert op_names(f) == ["Reduce"]


def test_inner_sum_used_elsewhere_is_kept():
    x = T.dtensor3("x")
    s = x.sum(axis=0)
    f = compare([x], [s.sum(axis=0), s], [X])
    assert op_names(f).count("Reduce") == 2


def test_reduce_over_no_axis_is_identity():
    x = T.dmatrix("x")
    f = compare([x], Reduce("sum", ())(x) * 2.0, [X[0]])
    assert "Reduce" not in op_names(f) and f.rewrite_stats["local_reduce_no_axis"] == 1
    i = T.imatrix("i")
    f = compare([i], Reduce("sum", ())(i), [np.ones((2, 2), "int32")])
    assert op_names(f) == ["cast"]
