"""``SparseBlockGemv``/``SparseBlockOuter`` in the numba backend's driver:
the op's own numpy ``compute`` (a per-example einsum over gathered blocks,
``np.add.at`` for repeated blocks) on the whole arrays."""
from .dispatch import method_driver
from ...tensor.ops.blocksparse import SparseBlockGemv, SparseBlockOuter

__all__ = []

method_driver(SparseBlockGemv, "compute")
method_driver(SparseBlockOuter, "compute")
