"""Reduction rewrites: nested sums, reductions over no axis, over a reversed axis."""
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


def test_reduce_over_a_reversed_axis_reads_the_unreversed_value():
    x = T.dtensor3("x")
    for kind, expr in (("sum", x[::-1].sum(axis=(0, 2))), ("max", x[::-1].max(axis=0)),
                       ("min", x[::-1].min()), ("prod", x[::-1].prod(axis=(0, 1)))):
        f = compare([x], expr, [X])
        assert op_names(f) == ["Reduce"], (kind, op_names(f))
        assert f.fgraph.toposort()[0].inputs[0] is f.fgraph.inputs[0]
        assert f.rewrite_stats["local_reduce_reversed"] == 1


def test_reduce_keeping_the_reversed_axis_or_over_another_slice_is_kept():
    x = T.dtensor3("x")
    f = compare([x], x[::-1].sum(axis=1), [X])          # axis 0 stays: order matters
    assert "local_reduce_reversed" not in f.rewrite_stats and "Subtensor" in op_names(f)
    f = compare([x], x[::2].sum(axis=0), [X])           # not a reversal
    assert "local_reduce_reversed" not in f.rewrite_stats and "Subtensor" in op_names(f)
