"""Anything with an ``output_shape`` is an ``incoming``, as in Lasagne.

Lasagne's layers take any object with an ``output_shape`` as their input
layer (code and tests pass stand-ins); symnet's layers, merge layers and
network helpers must too, and still reject what has no shape.
"""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.layers import (ConcatLayer, DenseLayer, ElemwiseSumLayer, InputLayer, Layer,
                           MergeLayer, ReshapeLayer, get_all_layers, get_output)


class Stub:
    """A stand-in layer: only what Lasagne's duck typing reads."""

    def __init__(self, output_shape, input_layer=None):
        self.output_shape = output_shape
        self.input_layer = input_layer


class Double(Layer):
    def get_output_for(self, input, **kwargs):
        return 2 * input


def test_layer_accepts_object_with_output_shape():
    stub = Stub((None, 3))
    layer = DenseLayer(stub, 4)
    assert layer.input_layer is stub
    assert layer.input_shape == (None, 3)
    assert layer.output_shape == (None, 4)


@pytest.mark.parametrize("bad", [[2, 3], 5, "abc", None])
def test_layer_rejects_objects_without_output_shape(bad):
    with pytest.raises(TypeError, match=r"Double: incoming must be a Layer or a shape tuple "
                                        r"\(or any object with an output_shape\), got"):
        Double(bad)


def test_merge_layers_accept_stubs_and_defer_shape_checks():
    # A stub whose output_shape is not a tuple (a placeholder) cannot be
    # checked when the layer is built; the check runs on real shapes later.
    placeholder = object()
    layer = ConcatLayer([Stub(placeholder), Stub(placeholder)], axis=1)
    assert layer.get_output_shape_for([(3, 2), (3, 5)]) == (3, 7)
    with pytest.raises(ValueError, match="Mismatch"):
        layer.get_output_shape_for([(4, 2), (3, 5)])
    s = ElemwiseSumLayer([Stub(placeholder), Stub(placeholder)], coeffs=[2, -1])
    a, b = np.ones((2, 2), "float32"), np.full((2, 2), 3, "float32")
    out = s.get_output_for([T.constant(a), T.constant(b)]).eval(mode="py")
    np.testing.assert_array_equal(out, 2 * a - b)
    # known shapes are still checked at construction
    with pytest.raises(ValueError, match="Mismatch"):
        ConcatLayer([Stub((4, 2)), Stub((3, 5))], axis=1)
    with pytest.raises(TypeError, match="each incoming must be a Layer"):
        MergeLayer([Stub((2,)), 7])


def test_get_output_through_stub_chain():
    l_in = InputLayer((None, 2))
    middle = Double(l_in)
    stub = Stub(middle.output_shape, input_layer=middle)
    stub.get_output_for = lambda x, **kw: x + 1
    top = Double(stub)
    assert get_all_layers(top) == [l_in, middle, stub, top]
    x = np.array([[1.0, 2.0]], "float32")
    f = symnet.function([l_in.input_var], get_output(top), mode="py")
    np.testing.assert_array_equal(f(x), 2 * (2 * x + 1))


def test_input_layers_are_never_followed():
    # An InputLayer has no inputs, whatever attributes it carries (a mock
    # made from one answers every attribute).
    l_in = InputLayer((None, 2))
    l_in.input_layer = InputLayer((None, 5))
    assert get_all_layers(Double(l_in))[0] is l_in
    assert len(get_all_layers(Double(l_in))) == 2


def test_concat_never_crops_the_concatenation_axis():
    a, b = InputLayer((3, 2)), InputLayer((4, 5))
    rows = ConcatLayer([a, b], axis=0, cropping=["lower", "lower"])
    cols = ConcatLayer([a, b], axis=1, cropping=["lower", "lower"])
    assert rows.output_shape == (7, 2)
    assert cols.output_shape == (3, 7)
    x0 = np.arange(6, dtype="float32").reshape(3, 2)
    x1 = np.arange(20, dtype="float32").reshape(4, 5)
    f = symnet.function([a.input_var, b.input_var], get_output([rows, cols]), mode="py")
    r, c = f(x0, x1)
    np.testing.assert_array_equal(r, np.concatenate([x0, x1[:, :2]], axis=0))
    np.testing.assert_array_equal(c, np.concatenate([x0, x1[:3]], axis=1))


def test_reshape_with_symbolic_sizes():
    x = T.tensor3("x")
    batch, steps, feats = x.shape
    l_in = InputLayer((None, None, None))
    layer = ReshapeLayer(l_in, (batch * steps, [2]))
    # symbolic sizes are unknown when shapes are computed
    assert layer.get_output_shape_for((batch, steps, feats)) == (None, None)
    assert layer.get_output_shape_for((3, 4, feats)) == (None, None)
    out = get_output(layer, x)
    f = symnet.function([x], out, mode="py")
    assert f(np.ones((3, 5, 6), "float32")).shape == (15, 6)
    assert f(np.ones((4, 5, 7), "float32")).shape == (20, 7)


@pytest.mark.parametrize("spec", [(-16, 3), (-2, -1)])
def test_reshape_rejects_negative_sizes_other_than_minus_one(spec):
    with pytest.raises(ValueError, match="sizes must be positive"):
        ReshapeLayer((None, 48), spec)


def test_get_output_input_keys_must_be_layers():
    # Stand-ins are followed as layers, but a dictionary of inputs is keyed
    # by real layers (or None for the input of a layer built from a shape).
    layer = Double((None, 2))
    x = T.matrix("x")
    with pytest.raises(TypeError, match=r"get_output\(\): the keys of the inputs dictionary "
                                        r"must be Layer instances \(or None\), got Stub"):
        get_output(layer, {Stub((None, 2)): x})
    out = get_output(layer, {None: x})
    f = symnet.function([x], out, mode="py")
    np.testing.assert_array_equal(f(np.ones((1, 2), "float32")), [[2.0, 2.0]])
