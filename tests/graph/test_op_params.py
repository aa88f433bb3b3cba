"""Theano's op params (extending/using_params.txt): an op with
``get_params(node)`` whose perform takes ``params`` gets them, on every
backend; other ops are untouched."""
import contextlib

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.backend import registry
from symnet.graph.basic import Apply
from symnet.graph.op import Op
from symnet.graph.type import Generic


class Mix(Op):
    """alpha * x + beta * y, the weights given as params (the doc's Mix)."""
    params_type = Generic()
    __props__ = ("alpha", "beta")

    def __init__(self, alpha, beta):
        self.alpha, self.beta = alpha, beta

    def get_params(self, node):
        return {"alpha": self.alpha, "beta": self.beta}

    def make_node(self, x, y):
        x, y = T.as_tensor_variable(x), T.as_tensor_variable(y)
        return Apply(self, [x, y], [x.type()])

    def perform(self, node, inputs, output_storage, params):
        x, y = inputs
        output_storage[0][0] = params["alpha"] * x + params["beta"] * y

    def infer_shape(self, node, shapes):
        return [shapes[0]]


class Plain(Op):
    """An op with a get_params of its own meaning and a three-argument perform."""
    __props__ = ()

    def get_params(self, node):
        raise AssertionError("not called for a three-argument perform")

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = inputs[0] + 1


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_perform_gets_the_params_of_get_params(mode):
    x, y = T.dvector("x"), T.dvector("y")
    for name in ("Mix", "Plain"):   # warned once per process: the [py] case on a
        registry._WARNED.discard(("numba", name))   # forced numba backend warns too
    with pytest.warns(RuntimeWarning, match="no kernel") if mode == "numba" \
            else contextlib.nullcontext():
        f = symnet.function([x, y], Plain()(Mix(2.0, -1.0)(x, y)), mode=mode)
    np.testing.assert_allclose(f(np.array([1.0, 2.0]), np.array([4.0, 1.0])), [-1.0, 4.0])


def test_params_given_explicitly_win():
    x, y = T.dvector("x"), T.dvector("y")
    node = Mix(2.0, 3.0)(x, y).owner
    out = [[None]]
    node.op.perform(node, [np.ones(1), np.ones(1)], out, {"alpha": 0.0, "beta": 1.0})
    assert out[0][0][0] == 1.0
    node.op.perform(node, [np.ones(1), np.ones(1)], out)
    assert out[0][0][0] == 5.0

