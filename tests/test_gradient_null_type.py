"""Gradients given as NullType / DisconnectedType variables (Theano's way)
and known_grads of the cost itself."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.gradient import DisconnectedInputError, DisconnectedType, NullTypeGradError
from symnet.graph.basic import Apply
from symnet.graph.null_type import NullType
from symnet.graph.op import Op


class _TwoIn(Op):
    """out = 2 * a + b; the gradient of b is given as ``kind``."""

    def __init__(self, kind):
        self.kind = kind

    __props__ = ("kind",)

    def make_node(self, a, b):
        a, b = T.as_tensor_variable(a), T.as_tensor_variable(b)
        return Apply(self, [a, b], [a.type()])

    def perform(self, node, inputs, out):
        out[0][0] = 2 * inputs[0] + inputs[1]

    def connection_pattern(self, node):
        # an op that gives DisconnectedType says so here too, as in Theano
        return [[True], [self.kind != "disconnected"]]

    def grad(self, inputs, g):
        other = NullType("b is a hyper-parameter")() if self.kind == "null" \
            else DisconnectedType()()
        return [2 * g[0], other]


@pytest.mark.parametrize("kind", ["null", "disconnected"])
def test_special_grad_of_an_input(kind):
    a, b = T.dscalars('a', 'b')
    out = _TwoIn(kind)(a, b)
    ga = symnet.grad(out, a)              # a's gradient is fine either way
    assert float(ga.eval({a: 1.0, b: 2.0})) == 2.0
    if kind == "null":
        with pytest.raises(NullTypeGradError, match="b is a hyper-parameter"):
            symnet.grad(out, b)
    else:
        with pytest.raises(DisconnectedInputError):
            symnet.grad(out, b)
        gb = symnet.grad(out, b, disconnected_inputs='ignore')
        assert float(gb.eval({b: 1.0})) == 0.0


def test_known_grads_of_the_cost_replace_its_one():
    x = T.dscalar('x')
    cost = x ** 2
    g = symnet.grad(cost, x, known_grads={cost: T.constant(np.float64(3.0))})
    assert float(g.eval({x: 2.0})) == 12.0        # 3 * 2x, not (1 + 3) * 2x
    y = T.iscalar('y')
    icost = y + y
    with pytest.raises(NullTypeGradError):
        symnet.grad(icost, y, known_grads={icost: NullType()()})
    with pytest.raises(DisconnectedInputError):
        symnet.grad(icost, y, known_grads={icost: DisconnectedType()()})


def test_null_type_holds_no_value():
    with pytest.raises(ValueError, match="no value"):
        NullType("why").filter(1.0)
    assert NullType("a") == NullType("b") and hash(NullType()) == hash(NullType("c"))
    assert DisconnectedType() == DisconnectedType() and DisconnectedType() != NullType()
