"""Data-parallel training over MPI (``pip install symnet[mpi]``).

Every rank holds the whole network and a shard of the data; each step
computes local gradients, averages them across ranks with ONE fused
``Allreduce`` over a flat buffer and applies the same update everywhere.

>>> from symnet import distributed
>>> world = distributed.init()     # rank/size from MPI.COMM_WORLD; init(seed=S) seeds
>>> # network = build(...); distributed.broadcast_params(network)
>>> # step = distributed.distributed_function([x, y], loss, params, update_fn)

``symnet train --workers N`` runs the command-line job this way (see
:mod:`symnet.distributed.launch` and :mod:`symnet.distributed.job`).
"""
from .comm import (World, init, world, CollectiveTimeout, DistributedError,  # noqa: F401
                   broadcast_params, assert_synchronized, launched_size)
from .optimizer import (distributed_function, DistributedFunction,  # noqa: F401
                        seed_random_streams, running_averages)

__all__ = ["World", "init", "world", "CollectiveTimeout", "DistributedError",
           "broadcast_params", "assert_synchronized", "launched_size",
           "distributed_function", "DistributedFunction", "seed_random_streams",
           "running_averages"]
