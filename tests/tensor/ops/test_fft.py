"""theano.tensor.fft's rfft/irfft: values against numpy's rfftn/irfftn for
each norm, even and odd lengths, 1-d and 2-d signals, the round trip, and
gradients (each transform's is the other's with the half spectrum's
interior scaled)."""
import numpy as np
import pytest

import symnet.tensor as T
from symnet.tensor import fft
from tests.oracles import check_op, rand

NUMPY_NORM = {None: "backward", "ortho": "ortho", "no_norm": "backward"}


def packed(spec):
    return np.stack([spec.real, spec.imag], axis=-1)


@pytest.mark.parametrize("shape", [(2, 6), (2, 5), (2, 3, 4), (1, 3, 5)])
@pytest.mark.parametrize("norm", [None, "ortho", "no_norm"])
def test_rfft(shape, norm):
    x = rand(shape, "float64", rng=np.random.default_rng(0))
    axes = tuple(range(1, len(shape)))
    check_op(lambda v: fft.rfft(v, norm), [x], grad=True,
             ref=lambda a: packed(np.fft.rfftn(a, axes=axes, norm=NUMPY_NORM[norm])))


@pytest.mark.parametrize("shape", [(2, 6), (2, 5), (2, 3, 4), (1, 3, 5)])
@pytest.mark.parametrize("norm", [None, "ortho", "no_norm"])
def test_irfft(shape, norm):
    axes = tuple(range(1, len(shape)))
    signal = rand(shape, "float64", rng=np.random.default_rng(1))
    spec = packed(np.fft.rfftn(signal, axes=axes))
    odd = shape[-1] % 2 == 1
    scale = np.prod(shape[1:]) if norm == "no_norm" else 1.0

    def ref(s):
        return scale * np.fft.irfftn(s[..., 0] + 1j * s[..., 1], s=shape[1:], axes=axes,
                                     norm=NUMPY_NORM[norm])
    check_op(lambda s: fft.irfft(s, norm, is_odd=odd), [spec], ref=ref, grad=True)


def test_round_trip_float32():
    x = T.fmatrix("x")
    a = rand((3, 7), "float32", rng=np.random.default_rng(2))
    back = fft.irfft(fft.rfft(x, "ortho"), "ortho", is_odd=True).eval({x: a})
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, a, rtol=1e-5, atol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="norm must be one of"):
        fft.rfft(T.dmatrix(), norm="forward")
    with pytest.raises(TypeError, match="rfft: the input must have at least 2 dims"):
        fft.rfft(T.dvector("v"))
    with pytest.raises(TypeError, match="irfft: the input must be float"):
        fft.irfft(T.itensor3("s"))
    with pytest.raises(ValueError, match="is_odd must be True or False"):
        fft.irfft(T.dtensor3(), is_odd=1.5)
    with pytest.raises(ValueError, match="must have size 2"):
        fft.irfft(T.TensorType("float64", shape=(None, None, 3))("s"))
