"""Theano's local rewrites: @gof.local_optimizer([op]) registered with
symnet.tensor.opt.register_* (theano doc extending/fibby.txt), run by
function() with symnet's own rewrites, on py and numba."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.compile.mode import Mode
from symnet.graph.basic import Apply
from symnet.graph.op import Op
from symnet.graph.rewriting.local_optimizer import LocalOptimizer, local_optimizer
from symnet.tensor.opt import register_canonicalize, register_specialize


class Twice(Op):
    """2 * x, an op of this test only (so its rewrites touch nothing else)."""
    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = 2 * inputs[0]

    def infer_shape(self, node, shapes):
        return shapes


twice = Twice()
SEEN = []


@register_specialize
@local_optimizer([twice])
def twice_of_zeros(node):
    SEEN.append(node)
    try:
        if np.all(T.get_scalar_constant_value(node.inputs[0]) == 0):
            return [node.inputs[0]]
    except T.NotScalarConstantError:
        pass
    return False


@register_canonicalize("fast_run", name="twice_twice_is_four_times")
@local_optimizer([Twice])
def _four(node):
    x = node.inputs[0]
    if x.owner is not None and x.owner.op == twice:
        return [x.owner.inputs[0] * 4]


def _ops(f):
    return [type(n.op).__name__ for n in f.maker.fgraph.toposort()]


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_registered_rewrites_run_when_they_apply(mode):
    x = T.dvector("x")
    f = symnet.function([x], twice(x), mode=mode)
    assert _ops(f) == ["Twice"] and f.rewrite_stats.get("twice_of_zeros") is None
    assert SEEN and all(n.op == twice for n in SEEN)      # it looked, and declined
    np.testing.assert_array_equal(f(np.arange(3.0)), [0, 2, 4])
    z = symnet.function([], twice(T.zeros([5])), mode=mode)
    assert "Twice" not in _ops(z) and z.rewrite_stats["twice_of_zeros"] == 1
    np.testing.assert_array_equal(z(), np.zeros(5))
    g = symnet.function([x], twice(twice(x)), mode=mode)
    assert "Twice" not in _ops(g) and g.rewrite_stats["twice_twice_is_four_times"] == 1
    np.testing.assert_array_equal(g(np.arange(3.0)), [0, 4, 8])


def test_a_registered_rewrite_is_excluded_by_name():
    f = symnet.function([], twice(T.zeros([2])), mode=Mode("py").excluding("twice_of_zeros"))
    assert _ops(f)[-1] == "Twice"


def test_local_optimizer_forms_and_errors():
    assert isinstance(twice_of_zeros, LocalOptimizer) and twice_of_zeros.tracks() == [twice]
    assert str(twice_of_zeros) == "twice_of_zeros"
    assert twice_of_zeros.transform(twice(T.dvector()).owner) is False
    with pytest.raises(TypeError, match="tracks must be ops or Op classes, got \\['twice'\\]"):
        local_optimizer(["twice"])
    with pytest.raises(TypeError, match="register_specialize: expected a LocalOptimizer"):
        register_specialize(lambda node: None)

    class Subclassed(LocalOptimizer):
        def transform(self, node):
            return False
    lopt = Subclassed()
    assert register_specialize(lopt, name="test_subclassed_lopt") is lopt
    assert register_specialize(lopt, name="test_subclassed_lopt") is lopt   # once
    with pytest.raises(ValueError, match="already registered"):
        register_specialize(Subclassed(), name="test_subclassed_lopt")
