"""symnet as ``lasagne`` (mode A of the compat shim): the modules and names
that Lasagne code imports by their Lasagne paths."""
import importlib
import sys

import numpy as np
import pytest

from symnet import compat


@pytest.fixture
def shim():
    compat.install()
    yield
    compat.uninstall()


@pytest.mark.parametrize("alias, target", [
    ("lasagne.theano_extensions", "symnet.theano_extensions"),
    ("lasagne.theano_extensions.conv", "symnet.theano_extensions.conv"),
    ("lasagne.theano_extensions.padding", "symnet.theano_extensions.padding"),
    ("lasagne.layers.local", "symnet.layers.local"),
    ("lasagne.layers.special", "symnet.layers.special"),
])
def test_lasagne_module_paths(shim, alias, target):
    assert importlib.import_module(alias) is importlib.import_module(target)
    assert sys.modules[alias] is sys.modules[target]


def test_lasagne_names(shim):
    import lasagne
    import lasagne.theano_extensions.conv
    from lasagne.layers import LocallyConnected2DLayer, TPSTransformerLayer, TransformerLayer
    from lasagne.layers.special import TPSTransformerLayer as special_tps
    from lasagne.theano_extensions.padding import pad
    assert special_tps is TPSTransformerLayer
    assert lasagne.layers.local.LocallyConnected2DLayer is LocallyConnected2DLayer
    assert lasagne.layers.TransformerLayer is TransformerLayer
    for name in ("conv1d_sc", "conv1d_mc0", "conv1d_mc1", "conv1d_unstrided", "conv1d_sd",
                 "conv1d_md"):
        assert callable(getattr(lasagne.theano_extensions.conv, name))
    import theano.tensor as T
    x = T.tensor3()
    out = pad(x, 1, val=2, batch_ndim=2).eval({x: np.zeros((1, 1, 2), "float32")}, mode="py")
    np.testing.assert_array_equal(out, [[[2, 0, 0, 2]]])
