"""Tensor rewrites, one module per op family (same names as ``tensor/ops``).

Importing this package registers every rewrite in
``symnet.graph.rewriting.REGISTRY``; ``symnet.tensor`` imports it, so the
rewrites are registered whenever tensors exist (graph/ does not import tensor/).
"""
from . import elemwise, reduction, shape, nnet, slices, pool  # noqa: F401
# after elemwise: its global pass runs after fuse_elemwise (registration order)
from . import conv_fuse, pool_fuse  # noqa: F401

__all__ = ["elemwise", "reduction", "shape", "nnet", "pool", "conv_fuse"]
