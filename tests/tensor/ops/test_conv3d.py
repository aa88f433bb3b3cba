"""conv3d against a direct loop over output positions (tests/conv3d_oracle.py),
grouped (``num_groups``) too, its two gradient ops (finite differences to
second order through the oracle, and the loop oracle's gradients), the
errors of a bad ``num_groups``, and Theano's AbstractConv3d ops as
Lasagne's TransposedConv3DLayer calls them."""
import numpy as np
import pytest

import symnet
import symnet.tensor as T
from symnet import compat
from tests.conv3d_oracle import conv3d_loops
from tests.oracles import check_op, rand


CASES = [  # border_mode, stride, dilation, flip
    ("valid", (1, 1, 1), (1, 1, 1), True),
    ("full", (1, 2, 1), (1, 1, 1), False),
    ("half", (2, 1, 1), (1, 1, 1), True),
    ((1, 0, 2), (1, 1, 2), (1, 2, 1), False),
]


@pytest.mark.parametrize("border_mode, stride, dil, flip", CASES)
def test_conv3d_values_and_gradients(border_mode, stride, dil, flip):
    x = rand((2, 3, 4, 6, 5), rng=np.random.default_rng(0))
    w = rand((2, 3, 2, 3, 2), rng=np.random.default_rng(1))
    kw = dict(border_mode=border_mode, subsample=stride, filter_dilation=dil, filter_flip=flip)
    check_op(lambda a, b: T.nnet.conv3d(a, b, **kw), [x, w],
             ref=lambda a, b: conv3d_loops(a, b, **kw), grad=True,
             grad2=border_mode == "valid")


def test_conv3d_static_shape_and_errors():
    x = T.TensorType("float64", shape=(None, 3, 5, 5, 5))("x")
    w = T.TensorType("float64", shape=(4, 3, 3, 3, 3))("w")
    assert T.nnet.conv3d(x, w, subsample=2).type.shape == (None, 4, 2, 2, 2)
    with pytest.raises(ValueError, match="has 2 channels .* expect 3"):
        T.nnet.conv3d(T.TensorType("float64", shape=(1, 2, 5, 5, 5))("y"), w)
    with pytest.raises(TypeError, match="5-D input"):
        T.nnet.conv3d(T.dtensor4("z"), w)
    with pytest.raises(ValueError, match="border_mode"):
        T.nnet.conv3d(x, w, border_mode="wide")


GROUPED = [  # conv3d keywords, groups; every border mode, strides, dilations, flips
    dict(border_mode="valid", num_groups=2),
    dict(border_mode="full", subsample=(1, 2, 1), filter_flip=False, num_groups=3),
    dict(border_mode="half", subsample=(2, 1, 1), filter_dilation=(1, 1, 2), num_groups=2),
    dict(border_mode=(1, 0, 2), subsample=(1, 1, 2), filter_dilation=(2, 1, 1),
         filter_flip=False, num_groups=3),
]


@pytest.mark.parametrize("kw", GROUPED)
def test_grouped_conv3d_and_its_gradients_against_loops(kw):
    """The output and both gradients of a quadratic loss against the loop
    oracle on every backend, and finite differences of the output."""
    g = kw["num_groups"]
    x = rand((2, 2 * g, 4, 5, 4), rng=np.random.default_rng(5))
    w = rand((2 * g, 2, 2, 3, 2), rng=np.random.default_rng(6))

    def ref(a, b):
        y = conv3d_loops(a, b, **kw)
        return [y, *conv3d_loops(a, b, **kw, gy=2 * y)]
    check_op(lambda a, b: [y := T.nnet.conv3d(a, b, **kw), *symnet.grad(T.sum(y * y), [a, b])],
             [x, w], ref=ref, static_shapes=True)
    check_op(lambda a, b: T.nnet.conv3d(a, b, **kw), [x, w], ref=lambda a, b: conv3d_loops(
        a, b, **kw), grad=True, grad2=kw["border_mode"] == "valid")


def test_grouped_conv3d_static_shapes():
    x = T.TensorType("float64", shape=(None, 4, 5, 5, 5))("x")
    w = T.TensorType("float64", shape=(6, 2, 3, 3, 3))("w")
    y = T.nnet.conv3d(x, w, num_groups=2)
    assert y.type.shape == (None, 6, 3, 3, 3)
    gx, gw = symnet.grad(T.sum(y), [x, w])
    assert gx.type.shape[1] == 4 and gw.type.shape[:2] == (6, 2)


def test_grouped_conv3d_errors_name_variables_and_sizes():
    x = T.TensorType("float64", shape=(None, 4, 5, 5, 5))("x")
    w = T.TensorType("float64", shape=(6, 3, 3, 3, 3))("w")
    with pytest.raises(ValueError, match=r"input x has 4 channels .*filters w expect 3 .*"
                                         r"per group, 6 in all"):
        T.nnet.conv3d(x, w, num_groups=2)
    w5 = T.TensorType("float64", shape=(5, 2, 3, 3, 3))("w5")
    with pytest.raises(ValueError, match=r"5 filters w5 .*do not split into num_groups=2"):
        T.nnet.conv3d(x, w5, num_groups=2)
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ValueError, match="num_groups must be a positive integer, got"):
            T.nnet.conv3d(x, w, num_groups=bad)


@pytest.mark.parametrize("mode", ["py", "numba"])
def test_grouped_conv3d_runtime_mismatch_is_named(mode):
    """Shapes unknown when the graph is built: the run names both shapes."""
    x, w = T.dtensor5("x"), T.dtensor5("w")
    f = symnet.function([x, w], T.nnet.conv3d(x, w, num_groups=2), mode=mode)
    xv = np.zeros((1, 4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"4 channels, filters expect 3 .*\(6, 3, 2, 2, 2\)"
                                         r".*per group of num_groups=2"):
        f(xv, np.zeros((6, 3, 2, 2, 2)))
    with pytest.raises(ValueError, match=r"4 input channels and 3 filters .*do not split "
                                         r"into num_groups=2"):
        f(xv, np.zeros((3, 2, 2, 2, 2)))


@pytest.mark.parametrize("groups", [1, 2])
def test_abstract_conv3d_grad_inputs_is_the_transposed_convolution(groups):
    compat.install(lasagne=False)
    try:
        from theano.tensor.nnet import abstract_conv as ac
        kw = dict(subsample=(2, 1, 1), border_mode="half", num_groups=groups)
        x, w, g = T.dtensor5("x"), T.dtensor5("w"), T.dtensor5("g")
        out = ac.AbstractConv3d(**kw)(x, w)
        gx = symnet.grad((out * g).sum(), x)
        mine = ac.AbstractConv3d_gradInputs(**kw)(w, g, x.shape[2:])
        gw = ac.AbstractConv3d_gradWeights(**kw)(x, g, [3, 1, 3])
        xv = rand((1, 2 * groups, 5, 4, 4), rng=np.random.default_rng(2))
        wv = rand((3 * groups, 2, 3, 1, 3), rng=np.random.default_rng(3))
        gv = rand((1, 3 * groups, 3, 4, 4), rng=np.random.default_rng(4))
        f = symnet.function([x, w, g], [gx, mine, symnet.grad((out * g).sum(), w), gw],
                            mode="py")
        ref_x, got_x, ref_w, got_w = f(xv, wv, gv)
        np.testing.assert_allclose(got_x, ref_x, rtol=1e-10)
        np.testing.assert_allclose(got_w, ref_w, rtol=1e-10)
    finally:
        compat.uninstall()
