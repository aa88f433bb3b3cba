"""DropoutLayer (and shortcuts) and GaussianNoiseLayer."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet.layers import (InputLayer, DropoutLayer, dropout, dropout_channels,
                           spatial_dropout, dropout_locations, GaussianNoiseLayer, get_output)
from symnet.random import get_rng, set_rng


def compile_(layer, **kwargs):
    return symnet.function([layer.input_layer.input_var], get_output(layer, **kwargs),
                           mode="py")


def test_dropout_deterministic_is_identity():
    l = DropoutLayer(InputLayer((None, 100)), p=0.5)
    x = T.matrix()
    assert get_output(l, x, deterministic=True) is x
    assert dropout is DropoutLayer
    assert get_output(DropoutLayer(InputLayer((None, 3)), p=0), x) is x


def test_dropout_mask_and_rescale():
    l = DropoutLayer(InputLayer((None, 1000)), p=0.25)
    f = compile_(l)
    x = np.ones((4, 1000), "float32")
    out = f(x)
    assert out.dtype == np.float32
    vals = set(np.unique(out).tolist())
    assert vals <= {0.0, np.float32(1 / 0.75)}
    kept = (out != 0).mean()
    assert 0.70 < kept < 0.80
    out2 = f(x)
    assert not np.array_equal(out, out2)  # fresh mask each call
    lr = DropoutLayer(InputLayer((None, 1000)), p=0.25, rescale=False)
    assert set(np.unique(compile_(lr)(x)).tolist()) == {0.0, 1.0}


def test_dropout_int_input_keeps_dtype():
    x = T.imatrix("x")
    l = DropoutLayer(InputLayer((None, 50), input_var=x), p=0.5, rescale=False)
    out = get_output(l)
    assert out.dtype == "int32"
    res = symnet.function([x], out, mode="py")(np.full((2, 50), 3, "int32"))
    assert res.dtype == np.int32 and set(np.unique(res).tolist()) <= {0, 3}


def test_dropout_shared_axes():
    l = DropoutLayer(InputLayer((None, 20, 5, 5)), p=0.5, shared_axes=(2, 3))
    out = compile_(l)(np.ones((3, 20, 5, 5), "float32"))
    # each feature map is kept or dropped as a whole
    per_map = out.reshape(3, 20, 25)
    assert (per_map.min(-1) == per_map.max(-1)).all()
    assert dropout_channels((None, 3, 4, 4)).shared_axes == (2, 3)
    assert spatial_dropout is dropout_channels
    assert dropout_locations((None, 3, 4, 4)).shared_axes == (1,)


def test_dropout_reproducible_from_rng():
    old = get_rng()
    try:
        set_rng(np.random.RandomState(5))
        a = compile_(DropoutLayer(InputLayer((None, 50))))(np.ones((2, 50), "float32"))
        set_rng(np.random.RandomState(5))
        b = compile_(DropoutLayer(InputLayer((None, 50))))(np.ones((2, 50), "float32"))
    finally:
        set_rng(old)
    np.testing.assert_array_equal(a, b)


def test_dropout_bad_p():
    with pytest.raises(ValueError, match="p must be in"):
        DropoutLayer((None, 3), p=1.0)


def test_gaussian_noise():
    l = GaussianNoiseLayer(InputLayer((None, 2000)), sigma=0.5)
    x = T.matrix()
    assert get_output(l, x, deterministic=True) is x
    out = compile_(l)(np.zeros((2, 2000), "float32"))
    assert out.dtype == np.float32
    assert abs(out.std() - 0.5) < 0.05 and abs(out.mean()) < 0.05


def test_dropout_symbolic_p():
    p = symnet.shared(np.float32(0.0))
    l = DropoutLayer(InputLayer((None, 500)), p=p)
    f = compile_(l)
    x = np.ones((2, 500), "float32")
    np.testing.assert_array_equal(f(x), x)  # p = 0: everything kept
    p.set_value(np.float32(0.5))
    out = f(x)
    assert set(np.unique(out).tolist()) == {0.0, 2.0}
