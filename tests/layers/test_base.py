"""Layer / MergeLayer: shapes, add_param, tags and get_params."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.layers import Layer, MergeLayer, InputLayer, DenseLayer


def test_layer_from_shape_and_from_layer():
    l = Layer((None, 3))
    assert l.input_shape == (None, 3) and l.input_layer is None
    l_in = InputLayer((2, 3))
    l2 = Layer(l_in, name="x")
    assert l2.input_layer is l_in and l2.input_shape == (2, 3) and l2.name == "x"
    assert l2.output_shape == (2, 3)
    with pytest.raises(NotImplementedError):
        l2.get_output_for(T.matrix())


def test_layer_rejects_bad_incoming_and_nonpositive_shape():
    with pytest.raises(TypeError, match="incoming must be a Layer or a shape"):
        Layer([2, 3])
    with pytest.raises(ValueError, match="non-positive"):
        Layer((None, 0))


def test_misspelt_keyword_suggests():
    with pytest.raises(TypeError, match="DenseLayer.*'nonlinearty' "
                                        "\\(perhaps you meant 'nonlinearity'\\)"):
        DenseLayer((None, 3), 3, nonlinearty=None)
    with pytest.raises(TypeError, match="InputLayer.*'input_vr'"):
        InputLayer((None, 3), input_vr=None)


def test_add_param_tags_and_get_params_filtering():
    l = Layer((None, 3), name="lay")
    a = l.add_param(np.zeros((3, 2), "float32"), (3, 2), name="a")
    b = l.add_param(np.zeros(2, "float32"), (2,), name="b", regularizable=False)
    c = l.add_param(np.zeros(2, "float32"), (2,), name="c", trainable=False, custom=True)
    assert a.name == "lay.a"
    assert l.params[a] == {"trainable", "regularizable"}
    assert l.params[c] == {"regularizable", "custom"}
    assert l.get_params() == [a, b, c]
    assert l.get_params(trainable=True) == [a, b]
    assert l.get_params(regularizable=False) == [b]
    assert l.get_params(trainable=True, regularizable=True) == [a]
    assert l.get_params(custom=True) == [c]
    assert l.get_params(trainable=False) == [c]


def test_add_param_expression_unwraps_shared():
    w = symnet.shared(np.ones((4, 3), "float32"), name="w")
    l = Layer((None, 3))
    p = l.add_param(w.T * 2, (3, 4), name="W")
    assert l.get_params() == [w]
    assert l.get_params(unwrap_shared=False) == [p]
    with pytest.raises(ValueError, match=r"Layer: .*W.*\(3, 4\)"):
        l.add_param(w * 2, (3, 4), name="W")


def test_add_param_error_names_layer():
    l = Layer((None, 3), name="mine")
    with pytest.raises(ValueError, match="Layer 'mine'.*mine.W.*"
                                         "shape \\(2, 2\\), should be \\(3, 2\\)"):
        l.add_param(np.ones((2, 2)), (3, 2), name="W")


def test_merge_layer():
    class Add(MergeLayer):
        def get_output_shape_for(self, input_shapes):
            return input_shapes[0]

        def get_output_for(self, inputs, **kwargs):
            return inputs[0] + inputs[1]
    l1, l2 = InputLayer((2, 3)), InputLayer((2, 3))
    m = Add([l1, l2], name="add")
    assert m.input_layers == [l1, l2] and m.input_shapes == [(2, 3), (2, 3)]
    assert m.output_shape == (2, 3)
    m2 = Add([(None, 2), l1])
    assert m2.input_layers == [None, l1]
    with pytest.raises(NotImplementedError):
        MergeLayer([l1]).output_shape


def test_symbolic_output_shape_rejected():
    class Bad(Layer):
        def get_output_shape_for(self, input_shape):
            return (T.iscalar(),)
    with pytest.raises(ValueError, match="Bad"):
        Bad((3,)).output_shape
