"""CUDA kernels of ``Conv3d`` and its two gradients: the im2col + GEMM
machinery of ``conv.py`` over three spatial axes (grouped convolutions,
every border mode, stride, dilation and ``filter_flip`` as there)."""
from ...tensor.ops.conv3d import Conv3d, Conv3dGradInputs, Conv3dGradWeights, _pads
from .conv import register_conv

__all__ = []


def _pads_of(op):
    return lambda ksizes: _pads(op.border_mode, ksizes, op.filter_dilation)


conv3d_impl = register_conv("conv3d", _pads_of, Conv3d, Conv3dGradInputs, Conv3dGradWeights)
