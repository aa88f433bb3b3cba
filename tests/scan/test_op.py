"""The Scan op itself: types, shapes, identity, errors."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.scan import Scan


def test_output_types_and_static_shapes():
    x = T.TensorType("float32", shape=(7, 3))("x")
    h, _ = symnet.scan(lambda v, h: h + v, sequences=x,
                       outputs_info=T.zeros((3,), dtype="float32"))
    assert h.type.shape == (7, 3) and h.dtype == "float32"
    assert isinstance(h.owner.op, Scan)


def test_infer_shape_matches_runtime():
    x = T.dmatrix("x")
    h, _ = symnet.scan(lambda v, h: [h + v, T.concatenate([v, v])], sequences=x,
                       outputs_info=[T.zeros_like(x[0]), None])
    node = h[0].owner
    in_shapes = [tuple(i.shape[d] for d in range(i.ndim)) for i in node.inputs]
    shapes = node.op.infer_shape(node, in_shapes)
    f = symnet.function([x], [T.stack(list(s)) for s in shapes] + list(node.outputs),
                        mode="py")
    xv = np.ones((4, 3))
    s0, s1, o0, o1 = f(xv)
    assert tuple(s0) == o0.shape == (4, 3)
    assert tuple(s1) == o1.shape == (4, 6)


def test_each_op_is_distinct():
    x = T.dvector("x")
    a, _ = symnet.map(lambda v: v * 2, x)
    b, _ = symnet.map(lambda v: v * 2, x)
    assert a.owner.op != b.owner.op and a.owner.op == a.owner.op


def test_make_node_checks_types():
    x = T.dvector("x")
    y, _ = symnet.map(lambda v: v * 2, x)
    op = y.owner.op
    with pytest.raises(TypeError, match="sequence 0"):
        op.make_node(T.constant(2), T.fmatrix())
    with pytest.raises(ValueError, match="outer inputs"):
        op.make_node(T.constant(2))
    with pytest.raises(TypeError, match="n_steps"):
        op.make_node(T.dscalar(), x)


def test_state_shape_change_is_reported():
    h0 = T.dvector("h0")
    h, _ = symnet.scan(lambda h: T.concatenate([h, h]), outputs_info=h0, n_steps=2)
    f = symnet.function([h0], h, mode="py")
    with pytest.raises(ValueError, match="keep the shape"):
        f(np.ones(2))


def test_zero_steps():
    x = T.dmatrix("x")
    y, _ = symnet.map(lambda v: v * 2, x)
    out = symnet.function([x], y, mode="py")(np.zeros((0, 3)))
    assert out.shape[0] == 0
