"""Real-input FFTs over every axis but the first (a batch of ``m`` signals
of shape ``(..., n)``), with the complex half-spectrum stored as a last axis
of two floats (real, imaginary), as ``theano.tensor.fft`` does.

Both ops are unnormalized (numpy's ``rfftn``, and ``irfftn`` times the
signal size ``N``); ``symnet.tensor.fft`` applies the norms.  Each is the
other's gradient, with the last frequency axis scaled because the half
spectrum stands for both halves: its interior entries (``1 <= k <= (n-1)
// 2``) count twice in the inverse transform.

- ``Y = rfft(x)``: ``dx = irfft(dY with the interior halved)``;
- ``x = irfft(Y)``: ``dY = rfft(dx with nothing changed)``, the interior doubled.
"""
import numpy as np

from ...graph.basic import Apply
from ...graph.op import Op
from ..basic import as_tensor_variable
from ..type import TensorType
from .elemwise import SCALAR_OPS, elemwise
from .shape import arange

__all__ = ["RFFT", "IRFFT", "rfft_unnormalized", "irfft_unnormalized"]


def _float(who, x, min_ndim):
    x = as_tensor_variable(x)
    if x.ndim < min_ndim:
        raise TypeError(f"{who}: the input must have at least {min_ndim} dims, got {x} "
                        f"with {x.ndim}")
    if not x.dtype.startswith("float"):
        raise TypeError(f"{who}: the input must be float, got {x} of dtype {x.dtype}")
    return x


def _interior_scale(spectrum, n, factor):
    """``spectrum`` (``(..., n//2 + 1, 2)``) with its interior frequencies
    multiplied by ``factor``."""
    k = arange(spectrum.shape[spectrum.ndim - 2])
    inside = elemwise(SCALAR_OPS["and_"], elemwise(SCALAR_OPS["ge"], k, 1),
                      elemwise(SCALAR_OPS["le"], k, (n - 1) // 2))
    scale = 1 + (factor - 1) * inside.astype(spectrum.dtype)
    pattern = ("x",) * (spectrum.ndim - 2) + (0, "x")
    return spectrum * scale.dimshuffle(*pattern)


class RFFT(Op):
    """``(m, ..., n)`` -> ``(m, ..., n//2 + 1, 2)``, unnormalized."""

    __props__ = ()

    def make_node(self, x):
        x = _float("rfft", x, 2)
        n = x.type.shape[-1]
        shape = x.type.shape[:-1] + (None if n is None else n // 2 + 1, 2)
        return Apply(self, [x], [TensorType(x.dtype, shape=shape)()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        spec = np.fft.rfftn(x, axes=tuple(range(1, x.ndim)))
        output_storage[0][0] = np.stack([spec.real, spec.imag], axis=-1).astype(
            node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        (s,) = input_shapes
        return [tuple(s[:-1]) + (s[-1] // 2 + 1, 2)]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (g,) = output_grads
        n = x.shape[x.ndim - 1]
        return [IRFFT(None)(_interior_scale(g, n, 0.5), n)]


class IRFFT(Op):
    """``(m, ..., k, 2)`` -> ``(m, ..., n)`` with ``n = 2 (k - 1) + is_odd``,
    unnormalized (``N`` times numpy's ``irfftn``).  ``is_odd`` None: the
    length comes as a second input (the gradient of ``RFFT`` knows it only
    at run time)."""

    __props__ = ("is_odd",)

    def __init__(self, is_odd=False):
        self.is_odd = is_odd

    def make_node(self, spectrum, n=None):
        spectrum = _float("irfft", spectrum, 3)
        if spectrum.type.shape[-1] not in (None, 2):
            raise ValueError(f"irfft: the last axis holds (real, imaginary) and must have "
                             f"size 2, {spectrum} has shape {spectrum.type.shape}")
        inputs = [spectrum]
        k = spectrum.type.shape[-2]
        if self.is_odd is None:
            inputs.append(as_tensor_variable(n))
            last = None
        else:
            last = None if k is None else 2 * (k - 1) + int(self.is_odd)
        shape = spectrum.type.shape[:-2] + (last,)
        return Apply(self, inputs, [TensorType(spectrum.dtype, shape=shape)()])

    def _length(self, spectrum, n=None):
        return int(n) if self.is_odd is None else 2 * (spectrum.shape[-2] - 1) + int(self.is_odd)

    def perform(self, node, inputs, output_storage):
        spectrum = inputs[0]
        n = self._length(*inputs)
        shape = spectrum.shape[1:-2] + (n,)
        axes = tuple(range(1, spectrum.ndim - 1))
        out = np.fft.irfftn(spectrum[..., 0] + 1j * spectrum[..., 1], s=shape, axes=axes)
        output_storage[0][0] = (out * np.prod(shape)).astype(node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        s = input_shapes[0]
        last = node.inputs[1] if self.is_odd is None else 2 * (s[-2] - 1) + int(self.is_odd)
        return [tuple(s[:-2]) + (last,)]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def L_op(self, inputs, outputs, output_grads):
        (g,) = output_grads
        (x,) = outputs
        grads = [_interior_scale(RFFT()(g), x.shape[x.ndim - 1], 2.0)]
        if len(inputs) == 2:
            from ...graph.op import grad_undefined
            grads.append(grad_undefined(self, 1, inputs[1], "a length"))
        return grads


def rfft_unnormalized(x):
    return RFFT()(x)


def irfft_unnormalized(spectrum, is_odd=False):
    return IRFFT(bool(is_odd))(spectrum)
