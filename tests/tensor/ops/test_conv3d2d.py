"""theano.tensor.nnet.conv3d2d.conv3d: signals (batch, time, channels, rows,
cols), filters (out, time, in, rows, cols), flipped on all three axes,
against a direct numpy convolution."""
import numpy as np
import pytest

import symnet.tensor as T
from symnet.tensor.ops.conv3d import conv3d2d
from tests.oracles import check_op, rand


def reference(signals, filters, pads):
    """Direct convolution: out[n, t, f, i, j] = sum over c and the window of
    the padded signal times the flipped filter."""
    s = np.pad(signals, [(0, 0), (pads[0],) * 2, (0, 0), (pads[1],) * 2, (pads[2],) * 2])
    w = filters[:, ::-1, :, ::-1, ::-1]
    nf, tf, _, hf, wf = w.shape
    n, ts, _, hs, ws = s.shape
    out = np.zeros((n, ts - tf + 1, nf, hs - hf + 1, ws - wf + 1))
    for t in range(out.shape[1]):
        for i in range(out.shape[3]):
            for j in range(out.shape[4]):
                win = s[:, t:t + tf, :, i:i + hf, j:j + wf]
                out[:, t, :, i, j] = np.einsum("ntcij,ftcij->nf", win, w)
    return out


@pytest.mark.parametrize("mode, pads", [("valid", (0, 0, 0)), ("full", (1, 2, 1)),
                                        ("half", (1, 1, 1)),
                                        (("full", "valid", "valid"), (1, 0, 0))])
def test_values_and_gradient(mode, pads):
    rng = np.random.default_rng(0)
    signals = rand((2, 4, 2, 5, 4), "float64", rng=rng)
    filters = rand((3, 2, 2, 3, 2), "float64", rng=rng)
    check_op(lambda s, f: conv3d2d(s, f, border_mode=mode), [signals, filters],
             ref=lambda s, f: reference(s, f, pads), grad=True)


def test_errors():
    with pytest.raises(TypeError, match="conv3d2d: filters must have 5 dims"):
        conv3d2d(T.TensorType("float64", (None,) * 5)("s"), T.tensor4("w"))
    five = T.TensorType("float64", (None,) * 5)
    with pytest.raises(ValueError, match="rows and cols alike"):
        conv3d2d(five("s"), five("w"), border_mode=("valid", "full", "valid"))


def test_theano_path(theano_shim):
    from theano.tensor.nnet.conv3d2d import conv3d
    assert conv3d is conv3d2d
