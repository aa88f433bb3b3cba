"""The in-place rewrite decides from the ops' declarations alone.

An output its op declares a view of an input (``view_map``) is never
overwritten; any other output computed in the graph, with one client, may
be -- whatever the op's class.  (tests/test_op_declarations.py checks that
the declarations are true.)
"""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.graph.basic import Apply
from symnet.graph.op import Op

from ._helpers import PY

X = np.random.default_rng(1).standard_normal((3, 4))


class _EveryOther(Op):
    """x[:, ::2]; a view in perform, declared or not by the subclasses."""

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [T.TensorType(x.dtype, (None, None))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0][:, ::2]


class _EveryOtherView(_EveryOther):
    view_map = {0: [0]}


class _EveryOtherCopy(_EveryOther):
    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0][:, ::2].copy()


def _compile(op):
    x = T.dmatrix("x")
    y = T.exp(x)            # fresh: the view's base may be destroyed by no one else
    v = op(y)
    return symnet.function([x], [T.tanh(v), y], mode=PY.excluding("fusion"))


def _destroyed_producers(f):
    return [type(n.inputs[i].owner.op) for n in f.fgraph.toposort()
            for ins in n.op.destroy_map.values() for i in ins]


@pytest.mark.perform_fallback   # _EveryOther* have no numba kernel
def test_declared_view_is_never_destroyed():
    f = _compile(_EveryOtherView())
    assert _EveryOtherView not in _destroyed_producers(f)
    got_v, got_y = f(X.copy())
    np.testing.assert_allclose(got_y, np.exp(X))        # the view's base is intact
    np.testing.assert_allclose(got_v, np.tanh(np.exp(X)[:, ::2]))


@pytest.mark.perform_fallback   # _EveryOther* have no numba kernel
def test_fresh_output_of_any_op_class_may_be_destroyed():
    f = _compile(_EveryOtherCopy())
    assert _EveryOtherCopy in _destroyed_producers(f)
    got_v, got_y = f(X.copy())
    np.testing.assert_allclose(got_y, np.exp(X))
    np.testing.assert_allclose(got_v, np.tanh(np.exp(X)[:, ::2]))


@pytest.mark.parametrize("build, producer", [
    (lambda x: T.exp(T.nnet.softmax(x)), "Softmax"),
    (lambda x: T.exp(T.sort(x)), "Sort"),
    (lambda x: T.exp(T.reshape(T.exp(x), (4, 3))), None),   # Reshape: a view, never
])
def test_library_ops_follow_their_declarations(build, producer):
    x = T.dmatrix("x")
    f = symnet.function([x], build(x), mode=PY.excluding("fusion"))
    names = [c.__name__ for c in _destroyed_producers(f)]
    if producer is None:
        assert "Reshape" not in names
    else:
        assert producer in names
    ref = symnet.function([x], build(x), mode=PY.excluding("fusion", "inplace"))
    xv = X.copy()
    np.testing.assert_allclose(f(xv), ref(X.copy()))
    np.testing.assert_array_equal(xv, X)
