"""get_all_layers, get_output, get_output_shape, parameter collection and
set_all_param_values."""
import warnings

import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.layers import (Layer, InputLayer, DenseLayer, ConcatLayer, DropoutLayer, get_all_layers,
                           get_output, get_output_shape, get_all_params, count_params,
                           get_all_param_values, set_all_param_values)


def diamond():
    l_in = InputLayer((None, 4), name="in")
    a = DenseLayer(l_in, 3, name="a")
    b = DenseLayer(l_in, 2, name="b")
    c = ConcatLayer([a, b], name="c")
    return l_in, a, b, c


def test_get_all_layers_order():
    l_in, a, b, c = diamond()
    assert get_all_layers(c) == [l_in, a, b, c]
    assert get_all_layers([b, a]) == [l_in, b, a]
    assert get_all_layers(c, treat_as_input=[a]) == [a, l_in, b, c]
    assert get_all_layers([a, c]) == [l_in, a, b, c]


class PassThrough(Layer):
    def get_output_for(self, input, **kwargs):
        return input


def test_get_all_layers_deep_chain_without_recursion():
    l = InputLayer((None, 2))
    first = l
    for _ in range(3000):
        l = PassThrough(l)
    layers = get_all_layers(l)
    assert len(layers) == 3001 and layers[0] is first
    x = T.matrix()
    assert get_output(l, x) is x
    assert get_output_shape(l, (3, 2)) == (3, 2)


def test_get_output_variants():
    l_in, a, b, c = diamond()
    data = np.random.RandomState(0).randn(5, 4).astype("float32")
    f = symnet.function([l_in.input_var], get_output(c), mode="py")
    Wa, ba = a.W.get_value(), a.b.get_value()
    Wb, bb = b.W.get_value(), b.b.get_value()
    ref = np.concatenate([np.maximum(data @ Wa + ba, 0), np.maximum(data @ Wb + bb, 0)], 1)
    np.testing.assert_allclose(f(data), ref, rtol=1e-5, atol=1e-6)
    x = T.matrix("x")
    outs = get_output([a, c], x)
    assert isinstance(outs, list) and len(outs) == 2
    g = symnet.function([x], outs, mode="py")
    oa, oc = g(data)
    np.testing.assert_allclose(oc, ref, rtol=1e-5, atol=1e-6)
    # a numpy array as input gives a constant expression
    np.testing.assert_allclose(get_output(c, data).eval(mode="py"), ref, rtol=1e-5, atol=1e-6)
    # dict input on an intermediate layer
    h = T.matrix("h")
    out = get_output(c, {a: h})
    res = symnet.function([h, l_in.input_var], out, mode="py")(oa, data)
    np.testing.assert_allclose(res, ref, rtol=1e-5, atol=1e-6)


def test_get_output_errors_and_warnings():
    l1, l2 = InputLayer((None, 2)), InputLayer((None, 2))
    c = ConcatLayer([l1, l2])
    with pytest.raises(ValueError, match="multiple input layers"):
        get_output(c, T.matrix())
    free = DenseLayer((None, 2), 3, name="free")
    with pytest.raises(ValueError, match="free-floating DenseLayer 'free'"):
        get_output(free)
    out = get_output(free, {free: T.matrix()})
    with pytest.warns(UserWarning, match="deterministc \\(perhaps you meant deterministic\\)"):
        get_output(DenseLayer(l1, 2), deterministc=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_output(DenseLayer(l1, 2), deterministic=True)


def test_get_output_kwargs_reach_layers():
    l = DropoutLayer(InputLayer((None, 3)))
    x = T.matrix()
    assert get_output(l, x, deterministic=True) is x
    assert get_output(l, x) is not x


def test_get_output_shape():
    l_in, a, b, c = diamond()
    assert get_output_shape(c) == (None, 5)
    assert get_output_shape([a, c], (7, 4)) == [(7, 3), (7, 5)]
    assert get_output_shape(c, {l_in: (2, 4)}) == (2, 5)
    assert get_output_shape(c, {}) == (None, 5)
    with pytest.raises(ValueError, match="multiple input layers"):
        get_output_shape(ConcatLayer([InputLayer((1, 2)), InputLayer((1, 2))]), (1, 2))


def test_any_iterable_of_layers_is_a_list_of_them():
    # Lasagne takes any iterable: the style transfer recipe passes dict.values()
    l_in, a, b, c = diamond()
    layers = {"a": a, "c": c}
    x = np.arange(8, dtype="float32").reshape(2, 4)
    from_values = get_output(layers.values(), x, deterministic=True)
    from_list = get_output([a, c], x, deterministic=True)
    assert isinstance(from_values, list) and len(from_values) == 2
    for got, want in zip(from_values, from_list):
        np.testing.assert_allclose(got.eval(mode="py"), want.eval(mode="py"))
    np.testing.assert_allclose(from_values[0].eval(mode="py"),
                               np.maximum(x @ a.W.get_value() + a.b.get_value(), 0), rtol=1e-6)
    # an iterator is read once, and still answers every layer
    outs = get_output(iter([a, b]), x)
    assert len(outs) == 2 and outs[1].eval(mode="py").shape == (2, 2)
    assert get_output_shape(layers.values()) == [(None, 3), (None, 5)]
    assert get_output_shape(iter([a, c]), (7, 4)) == [(7, 3), (7, 5)]
    assert get_all_layers(layers.values()) == [l_in, a, b, c]


def test_params_collection():
    l_in, a, b, c = diamond()
    d = DenseLayer(c, 2, W=np.ones((5, 2), "float32"), name="d")
    e = DenseLayer(l_in, 3, W=a.W, name="e")  # shared weights appear once
    assert get_all_params([d, e]) == [a.W, a.b, b.W, b.b, d.W, d.b, e.b]
    assert get_all_params(d, regularizable=True) == [a.W, b.W, d.W]
    assert get_all_params(d, trainable=True, regularizable=False) == [a.b, b.b, d.b]
    assert count_params(d) == 4 * 3 + 3 + 4 * 2 + 2 + 5 * 2 + 2
    assert count_params(d, regularizable=False) == 3 + 2 + 2
    vals = get_all_param_values(d)
    assert [v.shape for v in vals] == [p.get_value().shape for p in get_all_params(d)]


def test_set_all_param_values_roundtrip_and_atomicity():
    l_in, a, b, c = diamond()
    params = get_all_params(c)
    new = [np.full(p.get_value().shape, i, "float32") for i, p in enumerate(params)]
    set_all_param_values(c, new)
    for i, p in enumerate(params):
        assert (p.get_value() == i).all()
    before = get_all_param_values(c)
    bad = [np.zeros(v.shape, "float32") for v in before]
    bad[-1] = np.zeros(7, "float32")
    with pytest.raises(ValueError, match=r"parameter b.b has shape \(2,\) but value to set "
                                         r"has shape \(7,\)"):
        set_all_param_values(c, bad)
    for p, v in zip(params, before):  # nothing changed, not even the first ones
        np.testing.assert_array_equal(p.get_value(), v)
    with pytest.raises(ValueError, match="got 3 values to set 4 parameters"):
        set_all_param_values(c, before[:3])
    set_all_param_values(c, [np.ones((4, 3)), np.ones((4, 2))], regularizable=True)
    assert (a.W.get_value() == 1).all() and a.W.dtype == "float32"
