"""FFTs in the numba backend's driver: numpy's pocketfft on whole arrays
(tensor/ops/fft.py's perform as driver lines; a kernel would only wrap it)."""
from .dispatch import driver_op
from ...tensor.ops.fft import IRFFT, RFFT

__all__ = []


@driver_op(RFFT)
def rfft_driver(node, ins, outs):
    (x,) = ins
    o, dt = outs[0], node.outputs[0].type.dtype
    return [f"{o}_c = _np.fft.rfftn({x}, axes=tuple(range(1, {x}.ndim)))",
            f"{o} = _np.stack([{o}_c.real, {o}_c.imag], axis=-1).astype(_np.{dt})"], True


@driver_op(IRFFT)
def irfft_driver(node, ins, outs):
    spec = ins[0]
    o, dt = outs[0], node.outputs[0].type.dtype
    n = f"int({ins[1]})" if node.op.is_odd is None else \
        f"2 * ({spec}.shape[-2] - 1) + {int(node.op.is_odd)}"
    return [f"{o}_s = {spec}.shape[1:-2] + ({n},)",
            f"{o} = _np.fft.irfftn({spec}[..., 0] + 1j * {spec}[..., 1], s={o}_s, "
            f"axes=tuple(range(1, {spec}.ndim - 1)))",
            f"{o} = ({o} * _np.prod({o}_s)).astype(_np.{dt})"], True
