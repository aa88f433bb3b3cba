"""get_output records on every node it builds which layer built it
(``node.tag.layer``, what the graph viewer folds into layer blocks)."""
import numpy as np

import symnet
import symnet.tensor as T
from symnet.graph.traversal import graph_inputs, io_toposort
from symnet.layers import (Layer, InputLayer, DenseLayer, NonlinearityLayer, get_output,
                           get_all_params)
from symnet.nonlinearities import tanh


def _nodes(outputs):
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return io_toposort(graph_inputs(outputs), outputs)


def mlp():
    l_in = InputLayer((None, 5), name="in")
    h1 = DenseLayer(l_in, 4, name="h1")
    h2 = DenseLayer(h1, 3)                 # unnamed: class and position
    out = DenseLayer(h2, 2, name="out", nonlinearity=tanh)
    return l_in, h1, h2, out


def _layer_of_dot(nodes, weight):
    (dot,) = [n for n in nodes if type(n.op).__name__ == "Dot" and weight in n.inputs]
    return dot.tag.get("layer")


def test_forward_nodes_record_their_layer():
    l_in, h1, h2, out = mlp()
    y = get_output(out)
    nodes = _nodes(y)
    assert nodes and all("layer" in n.tag for n in nodes)
    assert {n.tag.layer for n in nodes} == {"h1", "DenseLayer#2", "out"}
    # each layer's product with its own weights carries that layer's name
    assert _layer_of_dot(nodes, h1.W) == "h1"
    assert _layer_of_dot(nodes, h2.W) == "DenseLayer#2"
    assert _layer_of_dot(nodes, out.W) == "out"
    assert y.owner.tag.layer == "out"
    # tagging changes nothing in what is computed
    x = np.random.RandomState(0).randn(6, 5).astype("float32")
    a1 = np.maximum(x @ h1.W.get_value() + h1.b.get_value(), 0)
    a2 = np.maximum(a1 @ h2.W.get_value() + h2.b.get_value(), 0)
    want = np.tanh(a2 @ out.W.get_value() + out.b.get_value())
    np.testing.assert_allclose(y.eval({l_in.input_var: x}, mode="py"), want, rtol=1e-5)


def test_grad_graph_keeps_forward_tags_and_adds_none():
    l_in, h1, h2, out = mlp()
    y = get_output(out)
    forward = set(_nodes(y))
    tagged_before = {n: n.tag.layer for n in forward}
    cost = T.mean(y ** 2)
    grads = symnet.grad(cost, get_all_params(out))
    everything = _nodes([cost] + grads)
    assert forward <= set(everything)
    assert {n: n.tag.get("layer") for n in forward} == tagged_before
    # the cost and the gradient were built outside get_output: no layer
    new = [n for n in everything if n not in forward]
    assert len(new) > 20 and not any("layer" in n.tag for n in new)


def test_plain_expressions_are_untagged():
    x = T.matrix("x")
    w = symnet.shared(np.ones((3, 2), dtype="float32"), name="w")
    y = T.sum(T.tanh(T.dot(x, w)) ** 2)
    g = symnet.grad(y, w)
    assert not any("layer" in n.tag for n in _nodes([y, g]))


def test_nodes_that_existed_before_are_not_tagged_or_retagged():
    x = T.matrix("x")
    pre = T.exp(x) * 2.0                       # built before any layer ran
    pre_nodes = set(_nodes(pre))
    l_in = InputLayer((None, 3), input_var=pre, name="in")
    a = DenseLayer(l_in, 3, name="a")
    # tied weights: b's weight expression is built before get_output
    b = DenseLayer(a, 3, W=a.W.T, name="b")
    y_a = get_output(a)
    assert not any("layer" in n.tag for n in pre_nodes)
    assert b.W.owner is not None and "layer" not in b.W.owner.tag

    class AddOther(Layer):
        """Adds an expression another network built (a shared sub-expression)."""
        def __init__(self, incoming, other, **kwargs):
            super().__init__(incoming, **kwargs)
            self.other = other

        def get_output_for(self, input, **kwargs):
            return input + self.other

    c = AddOther(b, y_a, name="c")
    y = get_output(NonlinearityLayer(c, tanh, name="t"))
    nodes = _nodes(y)
    by_layer = {}
    for n in nodes:
        by_layer.setdefault(n.tag.get("layer"), []).append(n)
    # the nodes of the first call keep the layer that built them first
    first_call = set(_nodes(y_a)) - pre_nodes
    assert first_call and all(n.tag.layer == "a" for n in first_call)
    assert y_a.owner.tag.layer == "a"
    assert not any("layer" in n.tag for n in pre_nodes)
    assert "layer" not in b.W.owner.tag
    # c built exactly one node (the add), t one (the tanh)
    assert [n.op.short_name() for n in by_layer["c"]] == ["add"]
    assert [n.op.short_name() for n in by_layer["t"]] == ["tanh"]
    assert set(by_layer) == {None, "a", "b", "c", "t"}
    assert set(by_layer[None]) == pre_nodes | {b.W.owner}


def test_a_layer_returning_its_input_tags_nothing():
    l_in = InputLayer((None, 3))
    d = DenseLayer(l_in, 2, name="d")

    class Identity(Layer):
        def get_output_for(self, input, **kwargs):
            return input

    y = get_output(Identity(d, name="same"))
    assert {n.tag.layer for n in _nodes(y)} == {"d"}


def test_duck_typed_layers_are_not_walked():
    # Lasagne's tests pass Mock layers: their ``params`` and outputs are not
    # graph variables, and tagging must not trip over them
    from unittest.mock import Mock
    from symnet.layers import InputLayer, Layer, get_output
    l_in = InputLayer((None, 3))
    layer = Mock(Layer(l_in), output_shape=(None, 3), get_output_kwargs=[])
    layer.input_layer = l_in
    out = get_output(layer)
    assert out is layer.get_output_for.return_value
    layer.get_output_for.assert_called_with(l_in.input_var)
