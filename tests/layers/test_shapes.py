"""For every layer: the compiled output's shape and static type agree with
``output_shape`` / ``get_output_shape``, and floatX flows through."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import layers as L

B = 3  # batch size filled in for None

BUILDERS = {
    "dense": lambda l: L.DenseLayer(l, 7),
    "dense2": lambda l: L.DenseLayer(l, 7, num_leading_axes=2),
    "nin": lambda l: L.NINLayer(l, 5),
    "nonlin": lambda l: L.NonlinearityLayer(l),
    "bias": lambda l: L.BiasLayer(l),
    "scale": lambda l: L.ScaleLayer(l, shared_axes=(0,)),
    "expr": lambda l: L.ExpressionLayer(l, lambda x: x.sum(2), output_shape="auto"),
    "reshape": lambda l: L.ReshapeLayer(l, ([0], -1, 2)),
    "flatten": lambda l: L.FlattenLayer(l),
    "dimshuffle": lambda l: L.DimshuffleLayer(l, (2, "x", 0, 1)),
    "pad": lambda l: L.PadLayer(l, 2, batch_ndim=1),
    "slice": lambda l: L.SliceLayer(l, slice(1, 3), axis=1),
    "concat": lambda l: L.ConcatLayer([l, L.DenseLayer(l, 2, num_leading_axes=2)], axis=2),
    "sum": lambda l: L.ElemwiseSumLayer([l, L.NonlinearityLayer(l)], coeffs=0.5),
    "dropout": lambda l: L.DropoutLayer(l),
    "noise": lambda l: L.GaussianNoiseLayer(l),
    "batchnorm": lambda l: L.BatchNormLayer(l),
    "prelu": lambda l: L.ParametricRectifierLayer(l),
    "rrelu": lambda l: L.RandomizedRectifierLayer(l),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_compiled_shape_matches_output_shape(name):
    l_in = L.InputLayer((None, 4, 6))
    layer = BUILDERS[name](l_in)
    shape = L.get_output_shape(layer, (B, 4, 6))
    # with an unknown batch size, output_shape has None where the batch goes
    static = layer.output_shape
    assert len(static) == len(shape) and None in static
    assert all(a is None or a == b for a, b in zip(static, shape))
    out = L.get_output(layer)
    assert out.ndim == len(shape)
    for static, want in zip(out.type.shape, shape):
        assert static is None or static == want
    f = symnet.function([l_in.input_var], out, mode="py")
    res = f(np.random.RandomState(0).randn(B, 4, 6).astype("float32"))
    assert res.shape == shape
    assert res.dtype == np.float32


def test_float64_networks():
    symnet.config.floatX = "float64"
    l_in = L.InputLayer((None, 4))
    l = L.DenseLayer(L.BatchNormLayer(l_in), 3)
    assert l.W.dtype == "float64"
    out = L.get_output(l, deterministic=True)
    assert out.dtype == "float64"
    res = symnet.function([l_in.input_var], out, mode="py")(np.ones((2, 4)))
    assert res.dtype == np.float64
