"""``theano.tensor.nnet.blocksparse``: block-sparse products
(``sparse_block_dot`` and the ops under it); they live in
``symnet/tensor/ops/blocksparse.py``."""
from ..ops.blocksparse import (SparseBlockGemv, SparseBlockOuter, sparse_block_dot,  # noqa: F401
                               sparse_block_gemv, sparse_block_outer)
from ..ops.blocksparse import __all__  # noqa: F401
