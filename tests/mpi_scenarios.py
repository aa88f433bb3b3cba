"""Programs that tests/test_distributed_mpi.py runs under ``mpiexec -n 2``.

``python tests/mpi_scenarios.py NAME OUTDIR``: every rank writes what it
ends with to ``OUTDIR/NAME-rank<R>.npz``; the test process compares the
ranks' files with each other and with a single-process computation
(:func:`build_equivalence`, shared with the test so both build the same
graph).
"""
import functools
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import symnet  # noqa: E402
import symnet.tensor as T  # noqa: E402
from symnet import distributed, layers, objectives, updates  # noqa: E402

MODE = "py"


def build_net(seed, dropout, batch_norm, dtype="float32"):
    """A small classifier: 6 inputs -> 5 (batch norm) -> 3 softmax."""
    distributed.init(seed=seed)
    x = T.TensorType(dtype, (False, False))("x")
    y = T.ivector("y")
    net = layers.InputLayer((None, 6), input_var=x)
    if dropout:
        net = layers.DropoutLayer(net, p=0.3)
    net = layers.DenseLayer(net, 5)
    if batch_norm:
        net = layers.BatchNormLayer(net)
    net = layers.DenseLayer(net, 3, nonlinearity=symnet.nonlinearities.softmax)
    loss = objectives.categorical_crossentropy(layers.get_output(net), y).mean()
    return net, x, y, loss


def global_batches(steps, per_rank, size, dtype):
    """The batches of every step, the same on every rank (rank r takes its slice)."""
    rng = np.random.RandomState(1234)
    return [(rng.randn(per_rank * size, 6).astype(dtype),
             rng.randint(0, 3, per_rank * size).astype("int32")) for _ in range(steps)]


UPDATE = functools.partial(updates.nesterov_momentum, learning_rate=0.1, momentum=0.9)


def build_equivalence(batch_norm=False):
    """float64 network without dropout, for comparisons with one process.

    Without batch norm a step on two halves equals a step on the whole
    batch; with it the halves normalize by their own statistics, so only
    the running averages are compared (``running``)."""
    symnet.config.floatX = "float64"
    return build_net(seed=5, dropout=False, batch_norm=batch_norm, dtype="float64")


def identical(out):
    """Ranks start from different weights; broadcast_params, then steps on
    different data with per-rank dropout: the parameters stay bit-identical."""
    world = distributed.init()
    net, x, y, loss = build_net(seed=100 + world.rank, dropout=True, batch_norm=True)
    params = layers.get_all_params(net, trainable=True)
    step = distributed.distributed_function([x, y], loss, params, UPDATE, mode=MODE)
    distributed.broadcast_params(net)
    batches = global_batches(6, 8, world.size, "float32")
    losses = []
    for xb, yb in batches:
        mine = slice(world.rank * 8, (world.rank + 1) * 8)
        losses.append(float(step(xb[mine], yb[mine])))
    distributed.assert_synchronized(net)
    states = [v.get_value() for v in symnet.graph.traversal.ancestors([loss])
              if isinstance(v, symnet.SharedVariable) and v.name == "rng_state"]
    return dict(losses=np.array(losses), rng=np.array(states), allreduces=world.allreduce_calls,
                **{f"p{i}": v for i, v in enumerate(layers.get_all_param_values(net))})


def equivalence(out):
    world = distributed.init()
    net, x, y, loss = build_equivalence()
    params = layers.get_all_params(net, trainable=True)
    step = distributed.distributed_function([x, y], loss, params, UPDATE, mode=MODE)
    per_rank = 10
    losses = []
    for xb, yb in global_batches(3, per_rank, world.size, "float64"):
        mine = slice(world.rank * per_rank, (world.rank + 1) * per_rank)
        losses.append(float(step(xb[mine], yb[mine])))
    return dict(losses=np.array(losses), allreduces=world.allreduce_calls,
                **{f"p{i}": v for i, v in enumerate(layers.get_all_param_values(net))})


def running(out):
    """One step with batch norm: the running averages are the mean of the
    ranks' own updates (the test recomputes each rank's in one process)."""
    world = distributed.init()
    net, x, y, loss = build_equivalence(batch_norm=True)
    params = layers.get_all_params(net, trainable=True)
    step = distributed.distributed_function([x, y], loss, params, UPDATE, mode=MODE)
    (xb, yb), = global_batches(1, 10, world.size, "float64")
    mine = slice(world.rank * 10, (world.rank + 1) * 10)
    step(xb[mine], yb[mine])
    return {f"{i}_{p.name}": p.get_value() for i, p in enumerate(layers.get_all_params(net))}


def mismatch(out):
    """Rank 1 builds a wider layer: broadcast_params names the parameter."""
    world = distributed.init()
    x = T.matrix("x")
    net = layers.DenseLayer(layers.InputLayer((None, 4), input_var=x), 3 + world.rank,
                            name="dense")
    try:
        distributed.broadcast_params(net)
    except distributed.DistributedError as exc:
        return dict(error=str(exc))
    return dict(error="")


def main():
    name, out = sys.argv[1], sys.argv[2]
    result = globals()[name](out)
    rank = distributed.world().rank
    np.savez(os.path.join(out, f"{name}-rank{rank}.npz"), **result)


if __name__ == "__main__":
    main()
